//! `osbackup snapshot …`: OSC's `volume snapshot` commands, with `--wait`.

use std::collections::BTreeMap;

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::block_storage::{Client, types};
use openstack_backups::{Microversion, Session};
use serde_json::json;

use clap::{Args, Subcommand};

use crate::args::ListFilters;
use crate::args::{ListOutput, Paging, Projects, ShowOutput, WaitArgs, key_value};
use crate::output::{Cell, Rows, fixed_fields, show};
use crate::{Failure, delete_each, waiting};

// The command line.

/// `snapshot …`
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Snapshot a volume
    Create(SnapshotCreate),
    /// List snapshots
    List(SnapshotList),
    /// Show a snapshot
    Show {
        /// The snapshot (name or ID)
        snapshot: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Change a snapshot's name, description, properties or state
    Set(SnapshotSet),
    /// Remove properties of a snapshot
    Unset {
        /// The snapshot (name or ID)
        snapshot: String,
        /// A property key to remove (repeatable)
        #[arg(long = "property", value_name = "KEY")]
        properties: Vec<String>,
    },
    /// Delete old snapshots by keep rules, volume by volume
    ///
    /// The rules of `backup prune`: the N newest (--keep-last), the newest
    /// of each of the last N hours, days, weeks, months or years that have
    /// a snapshot, every snapshot within a duration of the newest, every
    /// snapshot with a property. A snapshot kept by any rule is kept. Kept
    /// whatever the rules say, and not counted by them: a member of a group
    /// snapshot (delete the group snapshot instead), a snapshot that volumes
    /// were made from, Cinder's temporary snapshot for a backup, and a backup
    /// policy's temporary snapshot (its runs delete it). Snapshots not
    /// `available` are left alone.
    Prune {
        /// The volumes whose snapshots to prune (names or IDs; repeatable)
        #[arg(long = "volume", value_name = "VOLUME")]
        volumes: Vec<String>,
        /// Every snapshot of the project
        #[arg(long, conflicts_with = "volumes")]
        all_volumes: bool,
        #[command(flatten)]
        policy: crate::prune::RetentionArgs,
        #[command(flatten)]
        output: ListOutput,
    },
    /// Delete snapshots
    Delete {
        /// The snapshots (names or IDs)
        #[arg(required = true)]
        snapshots: Vec<String>,
        /// Delete whatever the state (administrators)
        #[arg(long)]
        force: bool,
        /// Only stop managing them: the backend keeps them (administrators)
        #[arg(long, conflicts_with = "force")]
        remote: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Debug, Args)]
pub struct SnapshotCreate {
    /// The snapshot's name
    pub snapshot_name: String,
    /// The volume (name or ID; default: the snapshot's name)
    #[arg(long)]
    pub volume: Option<String>,
    /// The snapshot's description
    #[arg(long)]
    pub description: Option<String>,
    /// Snapshot an in-use volume (sent below 3.66 only: from 3.66 on the cloud allows it)
    #[arg(long)]
    pub force: bool,
    /// A property key=value (repeatable)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Adopt this snapshot of the volume's backend instead of taking one, e.g.
    /// source-name=snap-1 (repeatable; administrators; needs 3.8)
    #[arg(long = "remote-source", value_name = "KEY=VALUE", value_parser = key_value, conflicts_with = "force")]
    pub remote_source: Vec<(String, String)>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: ShowOutput,
}

#[derive(Debug, Args)]
pub struct SnapshotList {
    /// Show more columns
    #[arg(long)]
    pub long: bool,
    /// Only snapshots with this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only snapshots with this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only snapshots of this volume (name or ID)
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
pub struct SnapshotSet {
    /// The snapshot (name or ID)
    pub snapshot: String,
    /// A new name
    #[arg(long)]
    pub name: Option<String>,
    /// A new description
    #[arg(long)]
    pub description: Option<String>,
    /// Reset the state (administrators)
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// A property key=value to add or change (repeatable)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Remove every property first
    #[arg(long)]
    pub no_property: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

// What it does.

/// `snapshot show` fields as python-openstackclient shows them: always
/// these, sorted, `metadata` as `properties`, null where Cinder sent
/// nothing.
fn snapshot_fields(s: &types::Snapshot) -> Vec<(String, Cell)> {
    fixed_fields(
        s,
        &[
            ("created_at", "created_at"),
            ("description", "description"),
            ("id", "id"),
            ("name", "name"),
            ("properties", "metadata"),
            ("size", "size"),
            ("status", "status"),
            ("volume_id", "volume_id"),
        ],
        &[("metadata", json!({}))],
    )
}

pub async fn run(session: &Session, command: SnapshotCommand) -> Result<(), Failure> {
    let cinder = session.block_storage().await?;
    match command {
        SnapshotCommand::Create(args) => create(&cinder, args).await,
        SnapshotCommand::List(args) => list(&cinder, args).await,
        SnapshotCommand::Show { snapshot, output } => {
            let s = cinder.find_snapshot(&snapshot).await?;
            show(snapshot_fields(&s), &output, &[])
        }
        SnapshotCommand::Set(args) => set(&cinder, args).await,
        SnapshotCommand::Unset { snapshot, properties } => {
            let s = cinder.find_snapshot(&snapshot).await?;
            for key in &properties {
                cinder.delete_snapshot_metadata_key().snapshot_id(&s.id).key(key).send().await?;
            }
            Ok(())
        }
        SnapshotCommand::Prune { volumes, all_volumes, policy, output } => {
            prune(&cinder, volumes, all_volumes, &policy, &output).await
        }
        SnapshotCommand::Delete { snapshots, force, remote, wait } => {
            delete_each(&snapshots, "snapshots", |name| {
                let (cinder, wait) = (&cinder, &wait);
                async move {
                    let s = cinder.find_snapshot(&name).await?;
                    if force {
                        cinder.force_delete_snapshot(&s.id).await?;
                    } else if remote {
                        cinder.unmanage_snapshot(&s.id).await?;
                    } else {
                        cinder.delete_snapshot().snapshot_id(&s.id).send().await?;
                    }
                    if wait.wait {
                        let (waiter, bar) = waiting::policy(wait);
                        let what = format!("the deletion of snapshot {}", s.id);
                        waiting::run(cinder.wait_for_snapshot_deleted(&s.id).with(&waiter), bar, &what).await?;
                    }
                    Ok(())
                }
            })
            .await
        }
    }
}

async fn create(cinder: &Client, args: SnapshotCreate) -> Result<(), Failure> {
    let volume = cinder.find_volume(args.volume.as_deref().unwrap_or(&args.snapshot_name)).await?;
    // From 3.66 on the cloud snapshots in-use volumes without being asked
    // (and refuses `force: false`); below, `--force` is what allows it.
    let below_3_66 = cinder.microversion().is_some_and(|v| v < Microversion::new(3, 66));
    if !args.remote_source.is_empty() {
        return manage(cinder, &volume.id, args).await;
    }
    let body = types::SnapshotCreate {
        volume_id: volume.id.clone(),
        name: Some(args.snapshot_name.clone()),
        description: args.description.clone(),
        force: (args.force && below_3_66).then_some(true),
        metadata: (!args.properties.is_empty()).then(|| args.properties.iter().cloned().collect()),
    };
    let made = cinder
        .create_snapshot()
        .body(types::SnapshotCreateRequest { snapshot: body })
        .send()
        .await?
        .into_inner()
        .snapshot;
    let done = if args.wait.wait {
        let (waiter, bar) = waiting::policy(&args.wait);
        let what = format!("snapshot {}", made.id);
        waiting::run(cinder.wait_for_snapshot(&made.id, types::SnapshotStatus::Available).with(&waiter), bar, &what)
            .await?
    } else {
        made
    };
    show(snapshot_fields(&done), &args.output, &[])
}

/// `snapshot create --remote-source k=v`: adopt a backend snapshot
/// (`manageSnapshot`), then show it as `snapshot show` does.
async fn manage(cinder: &Client, volume_id: &str, args: SnapshotCreate) -> Result<(), Failure> {
    let reference = args.remote_source.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
    let body = types::SnapshotManage {
        volume_id: volume_id.to_owned(),
        ref_: types::BackendReference(reference),
        name: Some(args.snapshot_name.clone()),
        description: args.description.clone(),
        metadata: (!args.properties.is_empty()).then(|| args.properties.iter().cloned().collect()),
    };
    let made = cinder.manage_snapshot().body(types::SnapshotManageRequest { snapshot: body }).send().await?;
    let id = made.into_inner().snapshot.id;
    let done = if args.wait.wait {
        let (waiter, bar) = waiting::policy(&args.wait);
        let what = format!("snapshot {id}");
        waiting::run(cinder.wait_for_snapshot(&id, types::SnapshotStatus::Available).with(&waiter), bar, &what).await?
    } else {
        cinder.show_snapshot().snapshot_id(&id).send().await?.into_inner().snapshot
    };
    show(snapshot_fields(&done), &args.output, &[])
}

async fn list(cinder: &Client, args: SnapshotList) -> Result<(), Failure> {
    let mut headers = vec!["ID", "Name", "Description", "Status", "Size"];
    if args.long {
        headers.extend(["Created At", "Volume", "Properties"]);
    }
    let mut rows = Rows::new(&headers, &args.output)?;
    let names = if args.long && args.output.format == crate::args::ListFormat::Table {
        crate::backup::volume_names(cinder).await?
    } else {
        BTreeMap::new()
    };
    let mut request =
        cinder.list_snapshots_detail().filtered(args.name.as_ref(), args.status.as_ref(), &args.projects, &args.paging);
    if let Some(volume) = &args.volume {
        request = request.volume_id(cinder.find_volume(volume).await?.id);
    }
    let mut stream = request.stream().take(args.paging.max_items.unwrap_or(usize::MAX));
    while let Some(s) = stream.try_next().await? {
        let mut cells = vec![
            Cell::new(s.id),
            Cell::new(json!(s.name)),
            Cell::new(json!(s.description)),
            Cell::new(s.status.as_str()),
            Cell::new(json!(s.size)),
        ];
        if args.long {
            let volume = match names.get(&s.volume_id) {
                Some(name) => Cell::new(s.volume_id.clone()).shown_as(name.clone()),
                None => Cell::new(s.volume_id.clone()),
            };
            cells.extend([Cell::new(s.created_at.to_string()), volume, Cell::new(json!(s.metadata))]);
        }
        rows.push(cells)?;
    }
    rows.finish()
}

async fn set(cinder: &Client, args: SnapshotSet) -> Result<(), Failure> {
    let s = cinder.find_snapshot(&args.snapshot).await?;
    let mut failed = Vec::new();
    let mut note = |what: &str, e: openstack_backups::Error| {
        failed.push(format!("Failed to {what} of snapshot {}: {}", s.id, crate::cloud::explain(&e)));
    };
    if args.name.is_some() || args.description.is_some() {
        let update = types::SnapshotUpdate { name: args.name.clone(), description: args.description.clone() };
        let body = types::SnapshotUpdateRequest { snapshot: update };
        if let Err(e) = cinder.update_snapshot().snapshot_id(&s.id).body(body).send().await {
            note("update the name or description", e);
        }
    }
    if args.no_property {
        let empty = types::Metadata { metadata: BTreeMap::new() };
        if let Err(e) = cinder.replace_snapshot_metadata().snapshot_id(&s.id).body(empty).send().await {
            note("remove the properties", e);
        }
    }
    if !args.properties.is_empty() {
        let merged = types::Metadata { metadata: args.properties.iter().cloned().collect() };
        if let Err(e) = cinder.merge_snapshot_metadata().snapshot_id(&s.id).body(merged).send().await {
            note("set the properties", e);
        }
    }
    if let Some(state) = &args.state {
        let status: types::SnapshotResetStatusStatus =
            state.parse().map_err(|_| Failure::Usage(format!("--state {state:?} is not a snapshot status")))?;
        match cinder.reset_snapshot_status(&s.id, types::SnapshotResetStatus { status }).await {
            Ok(_) if args.wait.wait => {
                let (waiter, bar) = waiting::policy(&args.wait);
                let what = format!("the state of snapshot {}", s.id);
                let target = types::SnapshotStatus::from(state.as_str());
                waiting::run(cinder.wait_for_snapshot(&s.id, target).with(&waiter), bar, &what).await?;
            }
            Ok(_) => {}
            Err(e) => note("set the state", e),
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

/// `snapshot prune`: the snapshots in scope, grouped by volume, planned by
/// the library (`retention::cinder_snapshot_items`, `plan_holding`; every
/// volume of the project is read to find those made from a snapshot), and
/// the plan printed or carried out.
async fn prune(
    cinder: &Client,
    volumes: Vec<String>,
    all_volumes: bool,
    args: &crate::prune::RetentionArgs,
    output: &ListOutput,
) -> Result<(), Failure> {
    use openstack_backups::retention;

    let policy = crate::prune::policy(args)?;
    if volumes.is_empty() && !all_volumes {
        return Err(Failure::Usage("name the volumes (--volume, repeatable) or give --all-volumes".to_owned()));
    }
    let mut snapshots: Vec<types::Snapshot> = Vec::new();
    if all_volumes {
        snapshots = cinder.list_snapshots_detail().all().await?;
    } else {
        // A volume named twice (by name and by id) is listed once.
        let mut ids = std::collections::BTreeSet::new();
        for v in &volumes {
            ids.insert(cinder.find_volume(v).await?.id);
        }
        for id in ids {
            snapshots.extend(cinder.list_snapshots_detail().volume_id(id).all().await?);
        }
    }
    let every_volume: Vec<types::Volume> = cinder.list_volumes_detail().all().await?;
    let mut by_volume: BTreeMap<String, Vec<types::Snapshot>> = BTreeMap::new();
    for s in snapshots {
        by_volume.entry(s.volume_id.clone()).or_default().push(s);
    }
    let groups = by_volume
        .into_iter()
        .map(|(volume, snapshots)| {
            let (items, held) = retention::cinder_snapshot_items(&snapshots, &every_volume);
            (volume, retention::plan_holding(&policy, items, &held))
        })
        .collect();
    crate::prune::run(groups, args, output, |id, wait, timeout| async move {
        cinder.delete_snapshot().snapshot_id(&id).send().await.map_err(|e| crate::cloud::explain(&e))?;
        if wait {
            let waiter = openstack_backups::wait::Waiter::new().timeout(timeout);
            cinder.wait_for_snapshot_deleted(&id).with(&waiter).await.map_err(|e| crate::cloud::explain(&e))?;
        }
        Ok(())
    })
    .await
}
