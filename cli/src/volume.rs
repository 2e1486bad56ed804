//! `osbackup volume …`: the volume commands a backup workflow needs.

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::Session;
use openstack_backups::block_storage::{Client, types};
use serde_json::{Value, json};

use clap::{Args, Subcommand};

use crate::args::ListFilters;
use crate::args::{ListOutput, Paging, Projects, ShowOutput, WaitArgs, key_value};
use crate::output::{Cell, Rows, fixed_fields, show};
use crate::{Failure, delete_each, waiting};

// The command line.

/// `volume …`
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume (empty, or from a snapshot, a volume or a backup)
    Create(VolumeCreate),
    /// List volumes
    List(VolumeList),
    /// Show a volume
    Show {
        /// The volume (name or ID)
        volume: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete volumes
    Delete {
        /// The volumes (names or IDs)
        #[arg(required = true)]
        volumes: Vec<String>,
        /// Delete whatever the state (administrators; needs 3.23)
        #[arg(long)]
        force: bool,
        /// Delete the volumes' snapshots too (--purge: OSC's older name)
        #[arg(long, alias = "purge")]
        cascade: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Generic volume groups, their snapshots and types: volumes snapshotted together
    #[command(subcommand)]
    Group(crate::group::GroupCommand),
    /// Revert a volume in place to its latest snapshot (needs 3.40)
    ///
    /// The volume is the snapshot's; it must be available (detached), the
    /// snapshot must be its newest and available, and their sizes equal.
    Revert {
        /// The snapshot (name or ID)
        snapshot: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Debug, Args)]
pub struct VolumeCreate {
    /// The volume's name (default: none)
    pub name: Option<String>,
    /// Its size in GiB (default: the source's)
    #[arg(long, value_name = "GiB")]
    pub size: Option<i64>,
    /// Create from this snapshot (name or ID)
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Clone this volume (name or ID)
    #[arg(long)]
    pub source: Option<String>,
    /// Restore this backup into the new volume (name or ID; needs 3.47)
    #[arg(long)]
    pub backup: Option<String>,
    /// The volume's description
    #[arg(long)]
    pub description: Option<String>,
    /// The volume type
    #[arg(long = "type")]
    pub volume_type: Option<String>,
    /// The availability zone
    #[arg(long)]
    pub availability_zone: Option<String>,
    /// A property key=value (repeatable)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Create from this image (ID)
    #[arg(long, value_name = "IMAGE_ID", conflicts_with_all = ["snapshot", "source", "backup"])]
    pub image: Option<String>,
    /// The consistency group the volume joins (ID)
    #[arg(long, value_name = "GROUP_ID")]
    pub consistency_group: Option<String>,
    /// A scheduler hint key=value (repeatable; same_host and different_host gather their values)
    #[arg(long = "hint", value_name = "KEY=VALUE", value_parser = key_value)]
    pub hints: Vec<(String, String)>,
    /// Not bootable (what Cinder makes in any case)
    #[arg(long)]
    pub non_bootable: bool,
    /// Read-write access (what Cinder makes in any case)
    #[arg(long)]
    pub read_write: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: ShowOutput,
}

#[derive(Debug, Args)]
pub struct VolumeList {
    /// Show more columns
    #[arg(long)]
    pub long: bool,
    /// Only volumes with this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only volumes with this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only volumes with this property key=value (repeatable)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    #[command(flatten)]
    pub projects: Projects,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub output: ListOutput,
}

// What it does.

/// `volume show` fields as python-openstackclient shows them: always these
/// thirty, sorted, null where Cinder sent nothing (the encryption key, the
/// consistency group and image metadata only when set), `metadata` as
/// `properties`, `volume_type` as `type`, and `bootable` a boolean (Cinder
/// sends the string `"false"`).
fn volume_fields(v: &types::Volume) -> Vec<(String, Cell)> {
    let mut fields = fixed_fields(
        v,
        &[
            ("attachments", "attachments"),
            ("availability_zone", "availability_zone"),
            ("backup_id", "backup_id"),
            ("bootable", "bootable"),
            ("cluster_name", "cluster_name"),
            ("consistencygroup_id", "consistencygroup_id"),
            ("consumes_quota", "consumes_quota"),
            ("created_at", "created_at"),
            ("description", "description"),
            ("encrypted", "encrypted"),
            ("encryption_key_id", "encryption_key_id"),
            ("group_id", "group_id"),
            ("id", "id"),
            ("multiattach", "multiattach"),
            ("name", "name"),
            ("os-vol-host-attr:host", "os-vol-host-attr:host"),
            ("os-vol-mig-status-attr:migstat", "os-vol-mig-status-attr:migstat"),
            ("os-vol-mig-status-attr:name_id", "os-vol-mig-status-attr:name_id"),
            ("os-vol-tenant-attr:tenant_id", "os-vol-tenant-attr:tenant_id"),
            ("properties", "metadata"),
            ("provider_id", "provider_id"),
            ("replication_status", "replication_status"),
            ("service_uuid", "service_uuid"),
            ("shared_targets", "shared_targets"),
            ("size", "size"),
            ("snapshot_id", "snapshot_id"),
            ("source_volid", "source_volid"),
            ("status", "status"),
            ("type", "volume_type"),
            ("updated_at", "updated_at"),
            ("user_id", "user_id"),
            ("volume_image_metadata", "volume_image_metadata"),
            ("volume_type_id", "volume_type_id"),
        ],
        &[("metadata", json!({})), ("attachments", json!([]))],
    );
    // Only when set, as OSC shows them.
    fields.retain(|(name, cell)| {
        !matches!(name.as_str(), "consistencygroup_id" | "encryption_key_id" | "volume_image_metadata")
            || !cell.value.is_null()
    });
    for (name, cell) in &mut fields {
        if name == "bootable" {
            cell.value = bootable(&cell.value);
        }
    }
    fields
}

/// Cinder's `bootable` (`"true"`/`"false"`) as the boolean OSC shows.
pub fn bootable(value: &Value) -> Value {
    match value.as_str() {
        Some(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        Some(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        _ => value.clone(),
    }
}

/// "Attached to <server> on <device>" for each attachment.
fn attached(v: &types::Volume) -> String {
    v.attachments
        .iter()
        .map(|a| {
            format!("Attached to {} on {}", a.server_id.as_deref().unwrap_or("-"), a.device.as_deref().unwrap_or("-"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn run(session: &Session, command: VolumeCommand) -> Result<(), Failure> {
    let cinder = session.block_storage().await?;
    match command {
        VolumeCommand::Group(command) => crate::group::run(&cinder, command).await,
        VolumeCommand::Revert { snapshot, wait } => {
            let snap = cinder.find_snapshot(&snapshot).await?;
            cinder
                .revert_volume_to_snapshot(&snap.volume_id, types::VolumeRevert { snapshot_id: snap.id.clone() })
                .await?;
            if wait.wait {
                let (waiter, bar) = waiting::policy(&wait);
                let what = format!("the revert of volume {} to snapshot {}", snap.volume_id, snap.id);
                let waited = cinder.wait_for_volume(&snap.volume_id, types::VolumeStatus::Available).with(&waiter);
                waiting::run(waited, bar, &what).await?;
            }
            Ok(())
        }
        VolumeCommand::Create(args) => create(&cinder, args).await,
        VolumeCommand::List(args) => list(&cinder, args).await,
        VolumeCommand::Show { volume, output } => {
            let v = cinder.find_volume(&volume).await?;
            show(volume_fields(&v), &output, &[])
        }
        VolumeCommand::Delete { volumes, force, cascade, wait } => {
            delete_each(&volumes, "volumes", |name| {
                let (cinder, wait) = (&cinder, &wait);
                async move {
                    let v = cinder.find_volume(&name).await?;
                    let mut request = cinder.delete_volume().volume_id(&v.id);
                    if force {
                        request = request.force(true);
                    }
                    if cascade {
                        request = request.cascade(true);
                    }
                    request.send().await?;
                    if wait.wait {
                        let (waiter, bar) = waiting::policy(wait);
                        let what = format!("the deletion of volume {}", v.id);
                        waiting::run(cinder.wait_for_volume_deleted(&v.id).with(&waiter), bar, &what).await?;
                    }
                    Ok(())
                }
            })
            .await
        }
    }
}

/// Scheduler hints as OSC sends them: `same_host` and `different_host`
/// gather their values in a list, other keys take the last value.
fn hints(pairs: &[(String, String)]) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for (key, value) in pairs {
        if key == "same_host" || key == "different_host" {
            match out.entry(key.clone()).or_insert_with(|| Value::Array(Vec::new())) {
                Value::Array(items) => items.push(json!(value)),
                other => *other = json!([value]),
            }
        } else {
            out.insert(key.clone(), json!(value));
        }
    }
    out
}

async fn create(cinder: &Client, args: VolumeCreate) -> Result<(), Failure> {
    if args.size.is_none()
        && args.snapshot.is_none()
        && args.source.is_none()
        && args.backup.is_none()
        && args.image.is_none()
    {
        return Err(Failure::Usage(
            "--size is needed unless --snapshot, --source, --backup or --image gives one".to_owned(),
        ));
    }
    let snapshot_id = match &args.snapshot {
        Some(s) => Some(cinder.find_snapshot(s).await?.id),
        None => None,
    };
    let source_volid = match &args.source {
        Some(s) => Some(cinder.find_volume(s).await?.id),
        None => None,
    };
    let backup_id = match &args.backup {
        Some(b) => Some(cinder.find_backup(b).await?.id),
        None => None,
    };
    let size = match args.size {
        Some(gib) => {
            let size = u64::try_from(gib).ok().and_then(std::num::NonZeroU64::new);
            Some(size.ok_or_else(|| Failure::Usage(format!("--size must be at least 1 GiB, not {gib}")))?)
        }
        None => None,
    };
    let body = types::VolumeCreate {
        size,
        name: args.name.clone(),
        image_ref: args.image.clone(),
        consistencygroup_id: args.consistency_group.clone(),
        description: args.description.clone(),
        availability_zone: args.availability_zone.clone(),
        volume_type: args.volume_type.clone(),
        snapshot_id,
        source_volid,
        backup_id,
        metadata: (!args.properties.is_empty()).then(|| args.properties.iter().cloned().collect()),
        ..Default::default()
    };
    let request = types::VolumeCreateRequest {
        volume: body,
        os_sch_hnt_scheduler_hints: (!args.hints.is_empty()).then(|| hints(&args.hints)),
    };
    let made = cinder.create_volume().body(request).send().await?.into_inner().volume;
    let done = if args.wait.wait {
        let (waiter, bar) = waiting::policy(&args.wait);
        let what = format!("volume {}", made.id);
        waiting::run(cinder.wait_for_volume(&made.id, types::VolumeStatus::Available).with(&waiter), bar, &what).await?
    } else {
        made
    };
    show(volume_fields(&done), &args.output, &[])
}

async fn list(cinder: &Client, args: VolumeList) -> Result<(), Failure> {
    let headers: &[&str] = if args.long {
        &["ID", "Name", "Status", "Size", "Type", "Bootable", "Attached to", "Properties"]
    } else {
        &["ID", "Name", "Status", "Size", "Attached to"]
    };
    let mut rows = Rows::new(headers, &args.output)?;
    let mut request =
        cinder.list_volumes_detail().filtered(args.name.as_ref(), args.status.as_ref(), &args.projects, &args.paging);
    if !args.properties.is_empty() {
        // A Python dict literal (JSON's string syntax is one), as Cinder reads it.
        let filter: std::collections::BTreeMap<&str, &str> =
            args.properties.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        request = request.metadata(serde_json::to_string(&filter).unwrap_or_default());
    }
    let mut stream = request.stream().take(args.paging.max_items.unwrap_or(usize::MAX));
    while let Some(v) = stream.try_next().await? {
        let attachments = Cell::new(json!(v.attachments)).shown_as(attached(&v));
        let mut cells = vec![
            Cell::new(v.id.clone()),
            Cell::new(json!(v.name)),
            Cell::new(v.status.as_str()),
            Cell::new(json!(v.size)),
        ];
        if args.long {
            cells.extend([
                Cell::new(json!(v.volume_type)),
                Cell::new(bootable(&json!(v.bootable))),
                attachments,
                Cell::new(
                    v.metadata
                        .iter()
                        .map(|(k, x)| (k.clone(), Value::from(x.clone())))
                        .collect::<serde_json::Map<_, _>>(),
                ),
            ]);
        } else {
            cells.push(attachments);
        }
        rows.push(cells)?;
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// An in-use volume of 1 GiB with `extra`'s fields.
    fn volume(extra: Value) -> types::Volume {
        let mut v = json!({"id": "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11", "status": "in-use", "size": 1});
        if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
            v.extend(extra);
        }
        serde_json::from_value(v).expect("a volume")
    }

    fn field(fields: &[(String, Cell)], name: &str) -> Option<Value> {
        fields.iter().find(|(n, _)| n == name).map(|(_, c)| c.value.clone())
    }

    #[test]
    fn bootable_is_a_boolean_in_either_case() {
        for (sent, shown) in [
            (json!("true"), json!(true)),
            (json!("True"), json!(true)),
            (json!("false"), json!(false)),
            (json!("FALSE"), json!(false)),
            (json!("maybe"), json!("maybe")),
            (json!(true), json!(true)),
            (Value::Null, Value::Null),
        ] {
            assert_eq!(bootable(&sent), shown, "{sent}");
        }
    }

    #[test]
    fn attachments_read_as_osc_writes_them() {
        let v = volume(json!({"attachments": [{"server_id": "s-1", "device": "/dev/vdb"}, {"server_id": "s-2"}]}));
        assert_eq!(attached(&v), "Attached to s-1 on /dev/vdb\nAttached to s-2 on -");
        assert_eq!(attached(&volume(json!({}))), "");
    }

    #[test]
    fn show_has_thirty_fields_and_the_hidden_ones_when_set() {
        let bare = volume_fields(&volume(json!({"bootable": "false"})));
        assert_eq!(bare.len(), 30, "{:?}", bare.iter().map(|(n, _)| n).collect::<Vec<_>>());
        for hidden in ["consistencygroup_id", "encryption_key_id", "volume_image_metadata"] {
            assert_eq!(field(&bare, hidden), None, "{hidden} is shown only when set");
        }
        assert_eq!(field(&bare, "bootable"), Some(json!(false)));
        assert_eq!(field(&bare, "source_volid"), Some(Value::Null), "null where Cinder sent nothing");
        assert_eq!(field(&bare, "properties"), Some(json!({})));

        let set = volume_fields(&volume(json!({"consistencygroup_id": "cg-1", "encryption_key_id": "k-1",
            "volume_image_metadata": {"os_distro": "debian"}, "bootable": "true", "volume_type": "fast"})));
        // (The spec's volume has no `encryption_key_id` yet: it reads as unset.)
        assert_eq!(set.len(), 32);
        assert_eq!(field(&set, "consistencygroup_id"), Some(json!("cg-1")));
        assert_eq!(field(&set, "volume_image_metadata"), Some(json!({"os_distro": "debian"})));
        assert_eq!(field(&set, "bootable"), Some(json!(true)));
        assert_eq!(field(&set, "type"), Some(json!("fast")));
    }
}
