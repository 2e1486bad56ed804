//! `osbackup backup …`: OSC's `volume backup` commands, with `--wait`.

use std::collections::BTreeMap;

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::Session;
use openstack_backups::block_storage::{Client, types};
use serde_json::json;

use clap::{Args, Subcommand};

use crate::args::ListFilters;
use crate::args::{ListOutput, Paging, Projects, ShowOutput, WaitArgs, key_value};
use crate::output::{Cell, Rows, fixed_fields, show};
use crate::policy::{BackupReport, BackupRun};
use crate::prune::RetentionArgs;
use crate::{Failure, delete_each, waiting};

// The command line.

/// `backup …`
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back up a volume (or one of its snapshots)
    Create(BackupCreate),
    /// List backups
    List(BackupList),
    /// Show a backup
    Show {
        /// The backup (name or ID)
        backup: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Change a backup's name, description, properties or state
    Set(BackupSet),
    /// Remove properties of a backup
    Unset {
        /// The backup (name or ID)
        backup: String,
        /// A property key to remove (repeatable; needs 3.43)
        #[arg(long = "property", value_name = "KEY")]
        properties: Vec<String>,
    },
    /// Delete backups
    Delete {
        /// The backups (names or IDs)
        #[arg(required = true)]
        backups: Vec<String>,
        /// Delete whatever the state (administrators)
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Restore a backup to a new volume or, with --force, an existing one
    Restore {
        /// The backup (name or ID)
        backup: String,
        /// The volume to restore into (name or ID), or the name of the new volume
        volume: Option<String>,
        /// Restore into an existing volume, overwriting it
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Export and import backup records
    #[command(subcommand)]
    Record(RecordCommand),
    /// Back up the volumes of backup policies, then prune the policies' backups
    ///
    /// Reads the policy file (see the README, or the docs of
    /// openstack_backups::policy, for every field), plans each policy (each
    /// selected volume: a full backup, an incremental one, or nothing yet,
    /// and why), checks the backup quota (what does not fit is reported,
    /// not attempted), makes the backups with at most `concurrency` in
    /// flight, then deletes the policy's own backups its `keep` rules do
    /// not keep. Safe to run again at any time, and after a kill: a fresh
    /// backup is not made again, one still being made is waited for, and
    /// temporary snapshots left behind are removed. One run of a policy at
    /// a time on a host (a lock file).
    ///
    /// Exit status: 0 when every selected volume is protected, 1 when any
    /// is not (the others still run), 2 on a usage or policy-file error.
    Run(BackupRun),
    /// How protected the volumes of backup policies are (for monitoring)
    ///
    /// Every volume a policy selects, with its newest available backup of
    /// the policy and its age, the length of its chain, its backups and
    /// their size, and a state: protected, stale (older than `every` plus
    /// `slack`), never backed up, failing (the newest attempt failed), or
    /// missing (a volume the policy names does not exist). With
    /// --older-than and no policy: every volume of the project, any backup
    /// counting. `-f prometheus` writes the text format of node_exporter's
    /// textfile collector.
    ///
    /// Exit status: 0 when every volume is protected, 1 when any is not, 2
    /// on a usage or policy-file error.
    Report(BackupReport),
    /// Delete the backups a retention policy does not keep
    ///
    /// restic's `forget` rules: the N newest (--keep-last), the newest of
    /// each of the last N hours, days, weeks, months or years that have a
    /// backup, every backup within a duration of the newest, every backup
    /// with a property. A backup kept by any rule is kept, and so is the
    /// base of every kept incremental. Each volume is its own group (or each
    /// value of a property, with --group-by metadata:KEY). Deletes run
    /// children before parents; a failure stops its group's deletes.
    Prune {
        /// The volumes whose backups to prune (names or IDs; repeatable)
        #[arg(long = "volume", value_name = "VOLUME")]
        volumes: Vec<String>,
        /// Every backup of the project
        #[arg(long, conflicts_with = "volumes")]
        all_volumes: bool,
        /// Group by volume (default) or by a property's value: metadata:KEY
        #[arg(long, value_name = "volume|metadata:KEY", default_value = "volume")]
        group_by: String,
        #[command(flatten)]
        policy: RetentionArgs,
        #[command(flatten)]
        output: ListOutput,
    },
}

/// `backup record …`
#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Export a backup's record (administrators)
    Export {
        /// The backup (name or ID)
        backup: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Import a backup record (administrators)
    Import {
        /// The backup service of the record
        backup_service: String,
        /// The record's backup URL (its metadata)
        backup_metadata: String,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        output: ShowOutput,
    },
}

#[derive(Debug, Args)]
pub struct BackupCreate {
    /// The volume to back up (name or ID)
    pub volume: String,
    /// The backup's name
    #[arg(long)]
    pub name: Option<String>,
    /// The backup's description
    #[arg(long)]
    pub description: Option<String>,
    /// Where the backup driver stores it
    #[arg(long)]
    pub container: Option<String>,
    /// Back up this snapshot of the volume (name or ID)
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Back up an in-use volume
    #[arg(long)]
    pub force: bool,
    /// Back up what changed since the latest backup
    #[arg(long)]
    pub incremental: bool,
    /// A full backup (the default)
    #[arg(long, overrides_with = "incremental")]
    pub no_incremental: bool,
    /// A property key=value (repeatable; needs 3.43)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// The availability zone of the backup service (needs 3.51)
    #[arg(long)]
    pub availability_zone: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: ShowOutput,
}

#[derive(Debug, Args)]
pub struct BackupList {
    /// Show more columns
    #[arg(long)]
    pub long: bool,
    /// Only backups with this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only backups with this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only backups of this volume (name or ID; an unknown one is taken as an ID)
    #[arg(long)]
    pub volume: Option<String>,
    #[command(flatten)]
    pub projects: Projects,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub output: ListOutput,
}

#[derive(Debug, Args)]
pub struct BackupSet {
    /// The backup (name or ID)
    pub backup: String,
    /// A new name (needs 3.9)
    #[arg(long)]
    pub name: Option<String>,
    /// A new description (needs 3.9)
    #[arg(long)]
    pub description: Option<String>,
    /// Reset the state: available or error (administrators)
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// A property key=value to add or change (repeatable; needs 3.43)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Remove every property first
    #[arg(long)]
    pub no_property: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

// What it does.

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
    let mut request =
        cinder.list_backups_detail().filtered(args.name.as_ref(), args.status.as_ref(), &args.projects, &args.paging);
    if let Some(volume) = &args.volume {
        // A volume that is gone still has backups: an unknown name is taken as an id.
        let id = match cinder.find_volume(volume).await {
            Ok(v) => v.id,
            Err(e) if e.is_not_found() => volume.clone(),
            Err(e) => return Err(e.into()),
        };
        request = request.volume_id(id);
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
            update.metadata = Some(metadata);
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
    let update = types::BackupUpdate { metadata: Some(metadata), ..Default::default() };
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
    args: &RetentionArgs,
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
        // A volume named twice (by name and by id) is listed once.
        let mut ids = std::collections::BTreeSet::new();
        for v in &volumes {
            // A volume that is gone may still have backups: an unknown name is an id.
            let id = match cinder.find_volume(v).await {
                Ok(found) => found.id,
                Err(e) if e.is_not_found() => v.clone(),
                Err(e) => return Err(e.into()),
            };
            ids.insert(id);
        }
        for id in ids {
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
    let groups = groups
        .into_iter()
        .map(|((group, _), backups)| (group, retention::plan(&policy, retention::cinder_items(&backups))))
        .collect();
    crate::prune::run(groups, args, output, |id, wait, timeout| async move {
        cinder.delete_backup().backup_id(&id).send().await.map_err(|e| crate::cloud::explain(&e))?;
        if wait {
            let waiter = openstack_backups::wait::Waiter::new().timeout(timeout);
            cinder.wait_for_backup_deleted(&id).with(&waiter).await.map_err(|e| crate::cloud::explain(&e))?;
        }
        Ok(())
    })
    .await
}
