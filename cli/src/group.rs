//! `osbackup volume group …`: OSC's generic volume group, group snapshot
//! and group type commands (3.11 to 3.25), with `--wait`, and `volume
//! group backup`: every volume of a group backed up from one group
//! snapshot (the library's `group::backup_group`).

use std::collections::BTreeMap;

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::block_storage::{Client, types};
use openstack_backups::group::{GroupBackupOptions, backup_group};
use serde_json::{Value, json};

use clap::{Args, Subcommand};

use crate::args::{ListOutput, Paging, ShowOutput, WaitArgs};
use crate::output::{Cell, Rows, show};
use crate::{Failure, waiting};

// The command line.

/// `volume group …`
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a volume group of a group type and volume types (needs 3.13)
    Create(GroupCreate),
    /// List volume groups
    List {
        /// Every project's (administrators)
        #[arg(long)]
        all_projects: bool,
        #[command(flatten)]
        paging: Paging,
        #[command(flatten)]
        output: ListOutput,
    },
    /// Show a volume group
    Show {
        /// The group (name or ID)
        group: String,
        /// Show the ids of its volumes (needs 3.25)
        #[arg(long, overrides_with = "no_volumes")]
        volumes: bool,
        /// Do not show its volumes (the default)
        #[arg(long)]
        no_volumes: bool,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Rename a volume group or change its description
    Set {
        /// The group (name or ID)
        group: String,
        /// A new name
        #[arg(long)]
        name: Option<String>,
        /// A new description
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete a volume group (it must have no group snapshots)
    Delete {
        /// The group (name or ID)
        group: String,
        /// Delete its volumes too (none may be attached or have snapshots)
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Add volumes to a volume group
    #[command(subcommand)]
    Add(AddCommand),
    /// Remove volumes from a volume group
    #[command(subcommand)]
    Remove(RemoveCommand),
    /// Back up every volume of a group from one group snapshot, then delete
    /// the group snapshot
    ///
    /// The group snapshot holds the volumes as they were at one point; each
    /// backup is made of a volume's member snapshot. The command waits for
    /// every backup (the group snapshot is deleted only when none reads it
    /// any more), prints one row per volume, and exits 1 when a backup
    /// failed, a volume of the group had no member snapshot, or the group
    /// snapshot had to be left.
    Backup(GroupBackupArgs),
    /// Volume group snapshots
    #[command(subcommand)]
    Snapshot(GroupSnapshotCommand),
    /// Volume group types
    #[command(subcommand)]
    Type(GroupTypeCommand),
}

/// `volume group add …`
#[derive(Debug, Subcommand)]
pub enum AddCommand {
    /// Add volumes to a volume group (available or in-use, of one of its volume types)
    Volume(Membership),
}

/// `volume group remove …`
#[derive(Debug, Subcommand)]
pub enum RemoveCommand {
    /// Remove volumes from a volume group
    Volume(Membership),
}

#[derive(Debug, Args)]
pub struct Membership {
    /// The group (name or ID)
    pub group: String,
    /// The volumes (names or IDs)
    #[arg(required = true)]
    pub volumes: Vec<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct GroupCreate {
    /// The group type (name or ID; OSC's older positional form of --volume-group-type)
    #[arg(value_name = "GROUP_TYPE", conflicts_with = "volume_group_type")]
    pub group_type_positional: Option<String>,
    /// Volume types (names or IDs; OSC's older positional form of --volume-type)
    #[arg(value_name = "VOLUME_TYPE")]
    pub volume_types_positional: Vec<String>,
    /// The group type (name or ID)
    #[arg(long)]
    pub volume_group_type: Option<String>,
    /// A volume type of the group's volumes (name or ID; repeatable)
    #[arg(long = "volume-type", value_name = "VOLUME_TYPE")]
    pub volume_types: Vec<String>,
    /// The group's name
    #[arg(long)]
    pub name: Option<String>,
    /// The group's description
    #[arg(long)]
    pub description: Option<String>,
    /// The availability zone
    #[arg(long)]
    pub availability_zone: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: ShowOutput,
}

#[derive(Debug, Args)]
pub struct GroupBackupArgs {
    /// The group (name or ID)
    pub group: String,
    /// The name of the group snapshot and of every backup (default: the group's name and the UTC time)
    #[arg(long)]
    pub name: Option<String>,
    /// The description of the group snapshot and of every backup
    #[arg(long)]
    pub description: Option<String>,
    /// Back up what changed since each volume's latest backup
    #[arg(long)]
    pub incremental: bool,
    /// The longest to wait for the group snapshot, then for the backups, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub wait_timeout: u64,
    #[command(flatten)]
    pub output: ListOutput,
}

/// `volume group snapshot …`
#[derive(Debug, Subcommand)]
pub enum GroupSnapshotCommand {
    /// Snapshot every volume of a volume group (needs 3.14)
    Create {
        /// The group (name or ID)
        volume_group: String,
        /// The group snapshot's name (its member snapshots take it too)
        #[arg(long)]
        name: Option<String>,
        /// The group snapshot's description
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// List volume group snapshots
    List {
        /// Every project's (administrators)
        #[arg(long)]
        all_projects: bool,
        #[command(flatten)]
        paging: Paging,
        #[command(flatten)]
        output: ListOutput,
    },
    /// Show a volume group snapshot
    Show {
        /// The group snapshot (name or ID)
        snapshot: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete a volume group snapshot and its member snapshots
    Delete {
        /// The group snapshot (name or ID)
        snapshot: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

/// `volume group type …`
#[derive(Debug, Subcommand)]
pub enum GroupTypeCommand {
    /// Create a volume group type (administrators; needs 3.11)
    Create {
        /// The type's name
        name: String,
        /// The type's description
        #[arg(long)]
        description: Option<String>,
        /// Every project may use it (the default)
        #[arg(long, overrides_with = "private")]
        public: bool,
        /// Only projects given access may use it
        #[arg(long)]
        private: bool,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// List volume group types
    List {
        /// Only the cloud's default group type
        #[arg(long)]
        default: bool,
        #[command(flatten)]
        output: ListOutput,
    },
    /// Show a volume group type
    Show {
        /// The group type (name or ID)
        group_type: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete a volume group type (administrators; no group may use it)
    Delete {
        /// The group type (name or ID)
        group_type: String,
    },
}

// What it does.

/// `volume group show` fields as python-openstackclient shows them: its
/// column names, in its order; `Volumes` null unless asked for.
fn group_fields(g: &types::Group, volumes: bool) -> Vec<(String, Cell)> {
    let list = |items: &[String]| Cell::new(json!(items));
    vec![
        ("ID".to_owned(), Cell::new(g.id.clone())),
        ("Status".to_owned(), Cell::new(g.status.as_str())),
        ("Name".to_owned(), Cell::new(json!(g.name))),
        ("Description".to_owned(), Cell::new(json!(g.description))),
        ("Group Type".to_owned(), Cell::new(json!(g.group_type))),
        ("Volume Types".to_owned(), list(&g.volume_types)),
        ("Availability Zone".to_owned(), Cell::new(json!(g.availability_zone))),
        ("Created At".to_owned(), Cell::new(json!(g.created_at.as_ref().map(ToString::to_string)))),
        ("Volumes".to_owned(), if volumes { list(&g.volumes) } else { Cell::new(Value::Null) }),
        ("Group Snapshot ID".to_owned(), Cell::new(json!(g.group_snapshot_id))),
        ("Source Group ID".to_owned(), Cell::new(json!(g.source_group_id))),
    ]
}

/// `volume group snapshot show` fields as python-openstackclient shows them.
fn group_snapshot_fields(s: &types::GroupSnapshot) -> Vec<(String, Cell)> {
    vec![
        ("ID".to_owned(), Cell::new(s.id.clone())),
        ("Status".to_owned(), Cell::new(s.status.as_str())),
        ("Name".to_owned(), Cell::new(json!(s.name))),
        ("Description".to_owned(), Cell::new(json!(s.description))),
        ("Group".to_owned(), Cell::new(s.group_id.clone())),
        ("Group Type".to_owned(), Cell::new(json!(s.group_type_id))),
    ]
}

/// A group type's specs, `{}` when there are none: Cinder shows them to
/// administrators only, and python-openstackclient prints the absent key
/// as an empty map too.
fn group_specs(t: &types::GroupType) -> Cell {
    Cell::new(json!(t.group_specs))
}

/// `volume group type show` fields as python-openstackclient shows them
/// (the specs as `Properties`).
fn group_type_fields(t: &types::GroupType) -> Vec<(String, Cell)> {
    vec![
        ("ID".to_owned(), Cell::new(t.id.clone())),
        ("Name".to_owned(), Cell::new(t.name.clone())),
        ("Description".to_owned(), Cell::new(json!(t.description))),
        ("Is Public".to_owned(), Cell::new(json!(t.is_public))),
        ("Properties".to_owned(), group_specs(t)),
    ]
}

pub async fn run(cinder: &Client, command: GroupCommand) -> Result<(), Failure> {
    match command {
        GroupCommand::Create(args) => create(cinder, args).await,
        GroupCommand::List { all_projects, paging, output } => {
            let mut rows = Rows::new(&["ID", "Status", "Name"], &output)?;
            let mut request = cinder.list_groups_detail();
            if all_projects {
                request = request.all_tenants(true);
            }
            if let Some(limit) = paging.limit {
                request = request.limit(limit);
            }
            if let Some(marker) = &paging.marker {
                request = request.marker(marker.clone());
            }
            let mut stream = request.stream().take(paging.max_items.unwrap_or(usize::MAX));
            while let Some(g) = stream.try_next().await? {
                rows.push(vec![Cell::new(g.id), Cell::new(g.status.as_str()), Cell::new(json!(g.name))])?;
            }
            rows.finish()
        }
        GroupCommand::Show { group, volumes, no_volumes: _, output } => {
            let g = cinder.find_group(&group).await?;
            let g = if volumes {
                cinder.show_group().group_id(&g.id).list_volume(true).send().await?.into_inner().group
            } else {
                g
            };
            show(group_fields(&g, volumes), &output, &[])
        }
        GroupCommand::Set { group, name, description, output } => {
            let g = cinder.find_group(&group).await?;
            // Without a change, OSC shows the group as it is.
            if name.is_some() || description.is_some() {
                let update = types::GroupUpdate { name, description, add_volumes: None, remove_volumes: None };
                let body = types::GroupUpdateRequest { group: update };
                cinder.update_group().group_id(&g.id).body(body).send().await?;
            }
            let g = cinder.show_group().group_id(&g.id).send().await?.into_inner().group;
            show(group_fields(&g, false), &output, &[])
        }
        GroupCommand::Delete { group, force, wait } => {
            let g = cinder.find_group(&group).await?;
            cinder.delete_group(&g.id, types::GroupDelete { delete_volumes: force.then_some(true) }).await?;
            if wait.wait {
                let (waiter, bar) = waiting::policy(&wait);
                let what = format!("the deletion of group {}", g.id);
                waiting::run(cinder.wait_for_group_deleted(&g.id).with(&waiter), bar, &what).await?;
            }
            Ok(())
        }
        GroupCommand::Add(AddCommand::Volume(args)) => membership(cinder, args, true).await,
        GroupCommand::Remove(RemoveCommand::Volume(args)) => membership(cinder, args, false).await,
        GroupCommand::Backup(args) => backup(cinder, args).await,
        GroupCommand::Snapshot(command) => snapshot(cinder, command).await,
        GroupCommand::Type(command) => group_type(cinder, command).await,
    }
}

async fn create(cinder: &Client, args: GroupCreate) -> Result<(), Failure> {
    let Some(group_type) = args.volume_group_type.or(args.group_type_positional) else {
        return Err(Failure::Usage("expected --volume-group-type GROUP_TYPE".to_owned()));
    };
    let mut volume_types = args.volume_types;
    volume_types.extend(args.volume_types_positional);
    if volume_types.is_empty() {
        return Err(Failure::Usage("expected at least one --volume-type VOLUME_TYPE".to_owned()));
    }
    // Cinder takes names or ids for both; a group type's name is checked
    // here so that an unknown one says so before anything is made.
    let group_type = cinder.find_group_type(&group_type).await?;
    let create = types::GroupCreate {
        group_type: group_type.id,
        volume_types,
        name: args.name,
        description: args.description,
        availability_zone: args.availability_zone,
    };
    let made = cinder.create_group().body(types::GroupCreateRequest { group: create }).send().await?.into_inner();
    let id = made.group.id;
    let g = if args.wait.wait {
        let (waiter, bar) = waiting::policy(&args.wait);
        let what = format!("group {id}");
        waiting::run(cinder.wait_for_group(&id, types::GroupStatus::Available).with(&waiter), bar, &what).await?
    } else {
        cinder.show_group().group_id(&id).send().await?.into_inner().group
    };
    show(group_fields(&g, false), &args.output, &[])
}

/// `add volume` and `remove volume`: one update with the volumes' ids.
async fn membership(cinder: &Client, args: Membership, add: bool) -> Result<(), Failure> {
    let g = cinder.find_group(&args.group).await?;
    let mut ids = Vec::new();
    for v in &args.volumes {
        ids.push(cinder.find_volume(v).await?.id);
    }
    let ids = Some(ids.join(","));
    let (add_volumes, remove_volumes) = if add { (ids, None) } else { (None, ids) };
    let update = types::GroupUpdate { name: None, description: None, add_volumes, remove_volumes };
    cinder.update_group().group_id(&g.id).body(types::GroupUpdateRequest { group: update }).send().await?;
    if args.wait.wait {
        let (waiter, bar) = waiting::policy(&args.wait);
        let what = format!("the update of group {}", g.id);
        waiting::run(cinder.wait_for_group(&g.id, types::GroupStatus::Available).with(&waiter), bar, &what).await?;
    }
    Ok(())
}

async fn backup(cinder: &Client, args: GroupBackupArgs) -> Result<(), Failure> {
    let wait = WaitArgs { wait: true, wait_timeout: args.wait_timeout };
    let (waiter, bar) = waiting::policy(&wait);
    let options = GroupBackupOptions {
        name: args.name,
        description: args.description,
        incremental: args.incremental,
        waiter,
        ..Default::default()
    };
    let mut rows = Rows::new(&["Volume", "Snapshot", "Backup", "Status", "Fail Reason"], &args.output)?;
    let done = tokio::select! {
        done = backup_group(cinder, &args.group, &options) => done,
        _ = tokio::signal::ctrl_c() => {
            return Err(Failure::Interrupted(format!(
                "Stopped waiting: the backup of group {} goes on in the cloud; its group snapshot is left.",
                args.group
            )));
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let done = done.map_err(|e| match e {
        openstack_backups::group::GroupBackupError::NotStarted(e) => Failure::Api(e),
        other => Failure::Other(other.to_string()),
    })?;
    // Names are for the table only: the report of work done is printed
    // without them rather than lost.
    let names: BTreeMap<String, String> = if args.output.format == crate::args::ListFormat::Table {
        crate::backup::volume_names(cinder).await.unwrap_or_default()
    } else {
        BTreeMap::new()
    };
    let mut failed = Vec::new();
    for m in &done.members {
        let volume = match names.get(&m.volume_id) {
            Some(name) => Cell::new(m.volume_id.clone()).shown_as(name.clone()),
            None => Cell::new(m.volume_id.clone()),
        };
        let (backup, status, reason) = match &m.outcome {
            Ok(b) => (json!(b.id), json!(b.status.as_str()), Value::Null),
            Err(e) => {
                failed.push(m.volume_id.clone());
                let id = e.wait_error().map(|w| json!(w.id()));
                let status = match e.wait_error() {
                    Some(openstack_backups::WaitError::Failed { status, .. }) => json!(status),
                    Some(openstack_backups::WaitError::TimedOut { last_status, .. }) => json!(last_status),
                    _ => Value::Null,
                };
                (id.unwrap_or(Value::Null), status, json!(crate::cloud::explain(e)))
            }
        };
        rows.push(vec![
            volume,
            Cell::new(m.snapshot_id.clone()),
            Cell::new(backup),
            Cell::new(status),
            Cell::new(reason),
        ])?;
    }
    rows.finish()?;
    let mut problems = Vec::new();
    if !failed.is_empty() {
        problems.push(format!("{} of {} volumes of the group failed to back up.", failed.len(), done.members.len()));
    }
    if !done.missing.is_empty() {
        problems.push(format!(
            "{} volumes of the group have no member snapshot and were not backed up: {}",
            done.missing.len(),
            done.missing.join(", ")
        ));
    }
    if let Err(left) = &done.cleanup {
        problems.push(format!("The {left}"));
    }
    if problems.is_empty() { Ok(()) } else { Err(Failure::Partial(problems.join("\n"))) }
}

async fn snapshot(cinder: &Client, command: GroupSnapshotCommand) -> Result<(), Failure> {
    match command {
        GroupSnapshotCommand::Create { volume_group, name, description, wait, output } => {
            let g = cinder.find_group(&volume_group).await?;
            let create = types::GroupSnapshotCreate { group_id: g.id, name, description };
            let made = cinder
                .create_group_snapshot()
                .body(types::GroupSnapshotCreateRequest { group_snapshot: create })
                .send()
                .await?
                .into_inner()
                .group_snapshot;
            let done = if wait.wait {
                let (waiter, bar) = waiting::policy(&wait);
                let what = format!("group snapshot {}", made.id);
                let waited =
                    cinder.wait_for_group_snapshot(&made.id, types::GroupSnapshotStatus::Available).with(&waiter);
                waiting::run(waited, bar, &what).await?
            } else {
                cinder.show_group_snapshot().group_snapshot_id(&made.id).send().await?.into_inner().group_snapshot
            };
            show(group_snapshot_fields(&done), &output, &[])
        }
        GroupSnapshotCommand::List { all_projects, paging, output } => {
            let mut rows = Rows::new(&["ID", "Status", "Name"], &output)?;
            let mut request = cinder.list_group_snapshots_detail();
            if all_projects {
                request = request.all_tenants(true);
            }
            if let Some(limit) = paging.limit {
                request = request.limit(limit);
            }
            if let Some(marker) = &paging.marker {
                request = request.marker(marker.clone());
            }
            let mut stream = request.stream().take(paging.max_items.unwrap_or(usize::MAX));
            while let Some(s) = stream.try_next().await? {
                rows.push(vec![Cell::new(s.id), Cell::new(s.status.as_str()), Cell::new(json!(s.name))])?;
            }
            rows.finish()
        }
        GroupSnapshotCommand::Show { snapshot, output } => {
            let s = cinder.find_group_snapshot(&snapshot).await?;
            show(group_snapshot_fields(&s), &output, &[])
        }
        GroupSnapshotCommand::Delete { snapshot, wait } => {
            let s = cinder.find_group_snapshot(&snapshot).await?;
            cinder.delete_group_snapshot().group_snapshot_id(&s.id).send().await?;
            if wait.wait {
                let (waiter, bar) = waiting::policy(&wait);
                let what = format!("the deletion of group snapshot {}", s.id);
                waiting::run(cinder.wait_for_group_snapshot_deleted(&s.id).with(&waiter), bar, &what).await?;
            }
            Ok(())
        }
    }
}

async fn group_type(cinder: &Client, command: GroupTypeCommand) -> Result<(), Failure> {
    match command {
        GroupTypeCommand::Create { name, description, public: _, private, output } => {
            let create = types::GroupTypeCreate { name, description, is_public: Some(!private), group_specs: None };
            let made = cinder.create_group_type().body(types::GroupTypeCreateRequest { group_type: create }).send();
            show(group_type_fields(&made.await?.into_inner().group_type), &output, &[])
        }
        GroupTypeCommand::List { default, output } => {
            let mut rows = Rows::new(&["ID", "Name", "Is Public", "Group Specs"], &output)?;
            let found: Vec<types::GroupType> = if default {
                vec![cinder.show_group_type().group_type_id("default").send().await?.into_inner().group_type]
            } else {
                cinder.list_group_types().stream().try_collect().await?
            };
            for t in found {
                let specs = group_specs(&t);
                rows.push(vec![Cell::new(t.id), Cell::new(t.name), Cell::new(json!(t.is_public)), specs])?;
            }
            rows.finish()
        }
        GroupTypeCommand::Show { group_type, output } => {
            let t = cinder.find_group_type(&group_type).await?;
            show(group_type_fields(&t), &output, &[])
        }
        GroupTypeCommand::Delete { group_type } => {
            let t = cinder.find_group_type(&group_type).await?;
            cinder.delete_group_type().group_type_id(&t.id).send().await?;
            Ok(())
        }
    }
}
