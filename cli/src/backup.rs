//! `osbackup backup …`: OSC's `volume backup` commands, with `--wait`.

use std::collections::BTreeMap;

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::Session;
use openstack_backups::block_storage::{Client, types};
use serde_json::json;

use crate::args::{BackupCommand, BackupCreate, BackupList, BackupSet, RecordCommand, ShowOutput};
use crate::output::{Cell, Rows, fixed_fields, show};
use crate::{Failure, delete_each, waiting};

/// `backup show` fields as python-openstackclient shows them: always these
/// twenty, in its order, null where Cinder sent nothing (or hides the
/// field from this user, as `project_id` and `user_id` from members).
fn backup_fields(b: &types::Backup) -> Vec<(String, Cell)> {
    fixed_fields(
        b,
        &[
            ("availability_zone", "availability_zone"),
            ("container", "container"),
            ("created_at", "created_at"),
            ("data_timestamp", "data_timestamp"),
            ("description", "description"),
            ("encryption_key_id", "encryption_key_id"),
            ("fail_reason", "fail_reason"),
            ("has_dependent_backups", "has_dependent_backups"),
            ("id", "id"),
            ("is_incremental", "is_incremental"),
            ("metadata", "metadata"),
            ("name", "name"),
            ("object_count", "object_count"),
            ("project_id", "os-backup-project-attr:project_id"),
            ("size", "size"),
            ("snapshot_id", "snapshot_id"),
            ("status", "status"),
            ("updated_at", "updated_at"),
            ("user_id", "user_id"),
            ("volume_id", "volume_id"),
        ],
        &[("metadata", json!({}))],
    )
}

pub async fn run(session: &Session, command: BackupCommand) -> Result<(), Failure> {
    // Policies make their own client (and read their file first).
    let command = match command {
        BackupCommand::Run(args) => return crate::policy::run(session, args).await,
        BackupCommand::Report(args) => return crate::policy::report(session, args).await,
        other => other,
    };
    let cinder = session.block_storage().await?;
    match command {
        BackupCommand::Create(args) => create(&cinder, args).await,
        BackupCommand::List(args) => list(&cinder, args).await,
        BackupCommand::Show { backup, output } => {
            let b = cinder.find_backup(&backup).await?;
            show(backup_fields(&b), &output, &[])
        }
        BackupCommand::Set(args) => set(&cinder, args).await,
        BackupCommand::Unset { backup, properties } => {
            let b = cinder.find_backup(&backup).await?;
            let mut metadata = b.metadata.clone();
            for key in &properties {
                metadata.remove(key);
            }
            update_metadata(&cinder, &b.id, metadata).await
        }
        BackupCommand::Delete { backups, force, wait } => {
            delete_each(&backups, "backups", |name| {
                let (cinder, wait) = (&cinder, &wait);
                async move {
                    let b = cinder.find_backup(&name).await?;
                    if force {
                        cinder.force_delete_backup(&b.id).await?;
                    } else {
                        cinder.delete_backup().backup_id(&b.id).send().await?;
                    }
                    if wait.wait {
                        let (waiter, bar) = waiting::policy(wait);
                        let what = format!("the deletion of backup {}", b.id);
                        waiting::run(cinder.wait_for_backup_deleted(&b.id).with(&waiter), bar, &what).await?;
                    }
                    Ok(())
                }
            })
            .await
        }
        BackupCommand::Restore { backup, volume, force, wait, output } => {
            restore(&cinder, &backup, volume, force, &wait, &output).await
        }
        BackupCommand::Prune { volumes, all_volumes, group_by, policy, output } => {
            prune(&cinder, volumes, all_volumes, &group_by, &policy, &output).await
        }
        // (Taken before the client is made, above.)
        BackupCommand::Run(args) => crate::policy::run(session, args).await,
        BackupCommand::Report(args) => crate::policy::report(session, args).await,
        BackupCommand::Record(RecordCommand::Export { backup, output }) => {
            let b = cinder.find_backup(&backup).await?;
            let record = cinder.export_backup_record().backup_id(&b.id).send().await?.into_inner().backup_record;
            let fields = vec![
                ("backup_service".to_owned(), Cell::new(record.backup_service)),
                ("backup_url".to_owned(), Cell::new(record.backup_url)),
            ];
            show(fields, &output, &[("backup_service", "Backup Service"), ("backup_url", "Metadata")])
        }
        BackupCommand::Record(RecordCommand::Import { backup_service, backup_metadata, wait, output }) => {
            let record = types::BackupRecord { backup_service, backup_url: backup_metadata };
            let body = types::BackupRecordRequest { backup_record: record };
            let made = cinder.import_backup_record().body(body).send().await?.into_inner().backup;
            let b = if wait.wait {
                let (waiter, bar) = waiting::policy(&wait);
                let what = format!("the import of backup {}", made.id);
                waiting::run(cinder.wait_for_backup(&made.id, types::BackupStatus::Available).with(&waiter), bar, &what)
                    .await?
            } else {
                cinder.show_backup().backup_id(&made.id).send().await?.into_inner().backup
            };
            show(backup_fields(&b), &output, &[])
        }
    }
}

async fn create(cinder: &Client, args: BackupCreate) -> Result<(), Failure> {
    let volume = cinder.find_volume(&args.volume).await?;
    let snapshot = match &args.snapshot {
        Some(s) => Some(cinder.find_snapshot(s).await?.id),
        None => None,
    };
    let body = types::BackupCreate {
        volume_id: volume.id.clone(),
        name: args.name.clone(),
        description: args.description.clone(),
        container: args.container.clone(),
        snapshot_id: snapshot,
        force: args.force.then_some(true),
        incremental: args.incremental.then_some(true),
        metadata: (!args.properties.is_empty()).then(|| args.properties.iter().cloned().collect()),
        availability_zone: args.availability_zone.clone(),
    };
    let made =
        cinder.create_backup().body(types::BackupCreateRequest { backup: body }).send().await?.into_inner().backup;
    if !args.wait.wait {
        let fields = vec![
            ("id".to_owned(), Cell::new(made.id)),
            ("name".to_owned(), Cell::new(json!(made.name))),
            ("volume_id".to_owned(), Cell::new(volume.id)),
        ];
        return show(fields, &args.output, &[]);
    }
    let (waiter, bar) = waiting::policy(&args.wait);
    let what = format!("backup {}", made.id);
    let done = waiting::run(cinder.wait_for_backup(&made.id, types::BackupStatus::Available).with(&waiter), bar, &what)
        .await?;
    show(backup_fields(&done), &args.output, &[])
}

async fn list(cinder: &Client, args: BackupList) -> Result<(), Failure> {
    let mut headers = vec!["ID", "Name", "Description", "Status", "Size", "Incremental", "Created At"];
    if args.long {
        headers.extend(["Availability Zone", "Volume", "Container"]);
    }
    let mut rows = Rows::new(&headers, &args.output)?;
    // A table shows volume names (one list of the volumes); the machine
    // formats keep their ids.
    let names = if args.long && args.output.format == crate::args::ListFormat::Table {
        volume_names(cinder).await?
    } else {
        BTreeMap::new()
    };
    let mut request = cinder.list_backups_detail();
    if let Some(name) = &args.name {
        request = request.name(name.clone());
    }
    if let Some(status) = &args.status {
        request = request.status(types::BackupStatus::from(status.as_str()));
    }
    if let Some(volume) = &args.volume {
        // A volume that is gone still has backups: an unknown name is taken as an id.
        let id = match cinder.find_volume(volume).await {
            Ok(v) => v.id,
            Err(e) if e.is_not_found() => volume.clone(),
            Err(e) => return Err(e.into()),
        };
        request = request.volume_id(id);
    }
    if args.projects.all_projects || args.projects.project.is_some() {
        request = request.all_tenants(true);
    }
    if let Some(project) = &args.projects.project {
        request = request.project_id(project.clone());
    }
    if let Some(limit) = args.paging.limit {
        request = request.limit(limit);
    }
    if let Some(marker) = &args.paging.marker {
        request = request.marker(marker.clone());
    }
    let mut stream = request.stream().take(args.paging.max_items.unwrap_or(usize::MAX));
    while let Some(b) = stream.try_next().await? {
        let mut cells = vec![
            Cell::new(b.id),
            Cell::new(json!(b.name)),
            Cell::new(json!(b.description)),
            Cell::new(b.status.as_str()),
            Cell::new(json!(b.size)),
            Cell::new(b.is_incremental),
            Cell::new(b.created_at.to_string()),
        ];
        if args.long {
            let volume = match names.get(&b.volume_id) {
                Some(name) => Cell::new(b.volume_id.clone()).shown_as(name.clone()),
                None => Cell::new(b.volume_id.clone()),
            };
            cells.extend([Cell::new(json!(b.availability_zone)), volume, Cell::new(json!(b.container))]);
        }
        rows.push(cells)?;
    }
    rows.finish()
}

/// Every volume's name by id (for tables that show names).
pub async fn volume_names(cinder: &Client) -> Result<BTreeMap<String, String>, Failure> {
    let mut names = BTreeMap::new();
    let mut stream = cinder.list_volumes_detail().stream();
    while let Some(v) = stream.try_next().await? {
        if let Some(name) = v.name.filter(|n| !n.is_empty()) {
            names.insert(v.id, name);
        }
    }
    Ok(names)
}

async fn set(cinder: &Client, args: BackupSet) -> Result<(), Failure> {
    let b = cinder.find_backup(&args.backup).await?;
    let mut failed = Vec::new();
    if args.name.is_some() || args.description.is_some() || !args.properties.is_empty() || args.no_property {
        let mut update = types::BackupUpdate {
            name: args.name.clone(),
            description: args.description.clone(),
            ..Default::default()
        };
        if !args.properties.is_empty() || args.no_property {
            let mut metadata = if args.no_property { BTreeMap::new() } else { b.metadata.clone() };
            metadata.extend(args.properties.iter().cloned());
            update.metadata = metadata;
        }
        let sent =
            cinder.update_backup().backup_id(&b.id).body(types::BackupUpdateRequest { backup: update }).send().await;
        if let Err(e) = sent {
            failed.push(format!("Failed to update backup {}: {}", b.id, crate::cloud::explain(&e)));
        }
    }
    if let Some(state) = &args.state {
        let status: types::BackupResetStatusStatus =
            state.parse().map_err(|_| Failure::Usage(format!("--state must be available or error, not {state:?}")))?;
        match cinder.reset_backup_status(&b.id, types::BackupResetStatus { status }).await {
            Ok(_) if args.wait.wait => {
                let (waiter, bar) = waiting::policy(&args.wait);
                let target = types::BackupStatus::from(state.as_str());
                let what = format!("the state of backup {}", b.id);
                waiting::run(cinder.wait_for_backup(&b.id, target).with(&waiter), bar, &what).await?;
            }
            Ok(_) => {}
            Err(e) => failed.push(format!("Failed to set the state of backup {}: {}", b.id, crate::cloud::explain(&e))),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        for f in &failed {
            eprintln!("{f}");
        }
        Err(Failure::Partial("One or more of the set operations failed".to_owned()))
    }
}

async fn update_metadata(cinder: &Client, id: &str, metadata: BTreeMap<String, String>) -> Result<(), Failure> {
    let update = types::BackupUpdate { metadata, ..Default::default() };
    cinder.update_backup().backup_id(id).body(types::BackupUpdateRequest { backup: update }).send().await?;
    Ok(())
}

async fn restore(
    cinder: &Client,
    backup: &str,
    volume: Option<String>,
    force: bool,
    wait: &crate::args::WaitArgs,
    output: &ShowOutput,
) -> Result<(), Failure> {
    let b = cinder.find_backup(backup).await?;
    // The volume argument names an existing volume (overwritten only with
    // --force) or the volume to create.
    let (existing, new_name) = match &volume {
        None => (None, None),
        Some(v) => match cinder.find_volume(v).await {
            Ok(found) if force => (Some(found.id), None),
            Ok(found) => {
                return Err(Failure::Other(format!(
                    "volume {v} exists ({}): use --force to restore into it and overwrite its data",
                    found.id
                )));
            }
            Err(e) if e.is_not_found() => (None, Some(v.clone())),
            Err(e) => return Err(e.into()),
        },
    };
    let body = types::BackupRestoreRequest { restore: types::BackupRestore { name: new_name, volume_id: existing } };
    let result = cinder.restore_backup().backup_id(&b.id).body(body).send().await?.into_inner().restore;
    if wait.wait {
        let what = format!("the restore of backup {} into volume {}", b.id, result.volume_id);
        let (waiter, bar) = waiting::policy(wait);
        waiting::run(cinder.wait_for_backup(&b.id, types::BackupStatus::Available).with(&waiter), bar, &what).await?;
        let (waiter, bar) = waiting::policy(wait);
        waiting::run(
            cinder.wait_for_volume(&result.volume_id, types::VolumeStatus::Available).with(&waiter),
            bar,
            &what,
        )
        .await?;
    }
    let fields = vec![
        // OSC calls the backup's id `id`.
        ("id".to_owned(), Cell::new(json!(result.backup_id))),
        ("volume_id".to_owned(), Cell::new(result.volume_id)),
        ("volume_name".to_owned(), Cell::new(json!(result.volume_name))),
    ];
    show(fields, output, &[])
}

async fn prune(
    cinder: &Client,
    volumes: Vec<String>,
    all_volumes: bool,
    group_by: &str,
    args: &crate::args::RetentionArgs,
    output: &crate::args::ListOutput,
) -> Result<(), Failure> {
    use openstack_backups::retention;

    let policy = crate::prune::policy(args)?;
    let key = match group_by {
        "volume" => None,
        other => Some(
            other
                .strip_prefix("metadata:")
                .filter(|k| !k.is_empty())
                .ok_or_else(|| Failure::Usage(format!("--group-by is volume or metadata:KEY, not {other:?}")))?
                .to_owned(),
        ),
    };
    if volumes.is_empty() && !all_volumes {
        return Err(Failure::Usage("name the volumes (--volume, repeatable) or give --all-volumes".to_owned()));
    }
    // Every backup in scope.
    let mut backups = Vec::new();
    if all_volumes {
        backups = cinder.list_backups_detail().all().await?;
    } else {
        for v in &volumes {
            // A volume that is gone may still have backups: an unknown name is an id.
            let id = match cinder.find_volume(v).await {
                Ok(found) => found.id,
                Err(e) if e.is_not_found() => v.clone(),
                Err(e) => return Err(e.into()),
            };
            backups.extend(cinder.list_backups_detail().volume_id(id).all().await?);
        }
    }
    // Groups; chains live within a volume, so a metadata group is planned
    // per volume inside it too.
    let mut groups: BTreeMap<(String, String), Vec<types::Backup>> = BTreeMap::new();
    for b in backups {
        let group = match &key {
            None => b.volume_id.clone(),
            Some(k) => format!("{k}={}", b.metadata.get(k).map_or("(none)", String::as_str)),
        };
        groups.entry((group, b.volume_id.clone())).or_default().push(b);
    }
    let mut rows = Rows::new(&crate::prune::headers(args.dry_run), output)?;
    let mut failed_groups = Vec::new();
    for ((group, _volume), backups) in &groups {
        let plan = retention::plan(&policy, retention::cinder_items(backups));
        if args.dry_run {
            crate::prune::report(&mut rows, group, &plan, None)?;
            continue;
        }
        let timeout = std::time::Duration::from_secs(args.wait_timeout);
        let outcomes = retention::execute(&plan, args.concurrency, |id| {
            // A parent is deleted only once this child is gone.
            let must_wait = args.wait || plan.parent_deleted(&id);
            async move {
                cinder.delete_backup().backup_id(&id).send().await.map_err(|e| crate::cloud::explain(&e))?;
                if must_wait {
                    let waiter = openstack_backups::wait::Waiter::new().timeout(timeout);
                    cinder.wait_for_backup_deleted(&id).with(&waiter).await.map_err(|e| crate::cloud::explain(&e))?;
                }
                Ok(())
            }
        })
        .await;
        crate::prune::report(&mut rows, group, &plan, Some(&outcomes))?;
        if crate::prune::any_failed(&outcomes) {
            failed_groups.push(group.clone());
        }
    }
    rows.finish()?;
    if failed_groups.is_empty() {
        Ok(())
    } else {
        Err(Failure::Partial(format!(
            "a delete failed in {} of {} groups ({})",
            failed_groups.len(),
            groups.len(),
            failed_groups.join(", ")
        )))
    }
}
