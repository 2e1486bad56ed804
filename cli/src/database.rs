//! `osbackup database backup …`: python-troveclient's commands, with
//! `--wait`.

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::database::types;
use openstack_backups::{ErrorKind, Session};
use serde_json::json;

use clap::Subcommand;

use crate::args::{ListOutput, Paging, ShowOutput, WaitArgs};
use crate::output::{Cell, Rows, fields_of, fixed_fields, show};
use crate::prune::RetentionArgs;
use crate::{Failure, delete_each, waiting};

// The command line.

/// `database …`
#[derive(Debug, Subcommand)]
pub enum DatabaseCommand {
    /// Database backups
    #[command(subcommand)]
    Backup(DatabaseBackupCommand),
}

/// `database backup strategy …`
#[derive(Debug, Subcommand)]
pub enum StrategyCommand {
    /// List backup strategies
    List {
        /// Only this instance's strategy (ID)
        #[arg(long, value_name = "INSTANCE_ID")]
        instance_id: Option<String>,
        /// Another project's strategies (administrators)
        #[arg(long, value_name = "PROJECT_ID")]
        project_id: Option<String>,
        #[command(flatten)]
        output: ListOutput,
    },
    /// Create or replace the project's backup strategy, or an instance's
    ///
    /// Backups made without a container go to this Swift container: the
    /// instance's strategy first, then the project's, then the cloud's
    /// default. The project is always the session's.
    Create {
        /// The Swift container (at least one letter or digit; Trove refuses a strategy without one)
        #[arg(long, value_name = "CONTAINER")]
        swift_container: Option<String>,
        /// The instance (ID; default: the whole project)
        #[arg(long, value_name = "INSTANCE_ID")]
        instance_id: Option<String>,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete the project's backup strategy, or an instance's
    Delete {
        /// The instance (ID; default: the project-wide strategy)
        #[arg(long, value_name = "INSTANCE_ID")]
        instance_id: Option<String>,
        /// Another project's strategy (administrators)
        #[arg(long, value_name = "PROJECT_ID")]
        project_id: Option<String>,
    },
}

/// `database backup …`
#[derive(Debug, Subcommand)]
pub enum DatabaseBackupCommand {
    /// Where backups go when no container is given
    #[command(subcommand)]
    Strategy(StrategyCommand),
    /// Back up a database instance
    Create {
        /// The backup's name
        name: String,
        /// The instance to back up (ID; Trove needs one unless --restore-from)
        #[arg(short = 'i', long)]
        instance: Option<String>,
        /// The backup's description
        #[arg(long)]
        description: Option<String>,
        /// The parent backup of an incremental one (name or ID)
        #[arg(long)]
        parent: Option<String>,
        /// Back up what changed since the instance's latest backup
        #[arg(long)]
        incremental: bool,
        /// The Swift container to store the backup in (created if missing)
        #[arg(long, value_name = "CONTAINER")]
        swift_container: Option<String>,
        /// The storage driver: swift (the default) or cinder
        #[arg(long, value_name = "DRIVER")]
        storage_driver: Option<String>,
        /// Import a backup stored elsewhere, by its URL (no instance; with --restore-datastore-version and --restore-size)
        #[arg(long, value_name = "URL", requires_all = ["restore_datastore_version", "restore_size"])]
        restore_from: Option<String>,
        /// The datastore version of the imported backup (ID)
        #[arg(long, value_name = "VERSION_ID", requires = "restore_from")]
        restore_datastore_version: Option<String>,
        /// The size of the imported backup, in GiB
        #[arg(long, value_name = "GiB", requires = "restore_from")]
        restore_size: Option<f64>,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// List database backups
    ///
    /// `--limit N` lists up to N backups (one page), as python-troveclient
    /// does; without it every page is read.
    List {
        /// Only this instance's backups (ID)
        #[arg(short = 'i', long, visible_alias = "instance-id")]
        instance: Option<String>,
        /// Only backups of this datastore type (mysql, …)
        #[arg(long)]
        datastore: Option<String>,
        /// Every project's (administrators)
        #[arg(long)]
        all_projects: bool,
        /// Only this project's (administrators)
        #[arg(long, value_name = "PROJECT_ID")]
        project_id: Option<String>,
        #[command(flatten)]
        paging: Paging,
        #[command(flatten)]
        output: ListOutput,
    },
    /// Show a database backup
    Show {
        /// The backup (name or ID)
        backup: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete database backups
    Delete {
        /// The backups (names or IDs)
        #[arg(required = true)]
        backups: Vec<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Restore a database backup into a new instance
    ///
    /// Trove makes the instance at once (BUILD) and restores the backup's
    /// chain into it; `--wait` follows it to ACTIVE (exit 1 on ERROR, with
    /// Trove's fault). Trove allows a restore an hour: give `--wait-timeout
    /// 3600` for large backups. The datastore, its version and the volume
    /// size default to the backup's.
    Restore {
        /// The backup to restore (name or ID)
        backup: String,
        /// The new instance's name
        #[arg(long, value_name = "NAME")]
        name: String,
        /// The compute flavor (ID)
        #[arg(long, value_name = "FLAVOR")]
        flavor: String,
        /// The volume's size, in GiB (default: the backup's, rounded up)
        #[arg(long, value_name = "GiB")]
        size: Option<std::num::NonZeroU64>,
        /// The volume type
        #[arg(long, value_name = "VOLUME_TYPE")]
        volume_type: Option<String>,
        /// The datastore (default: the backup's; Trove takes no other)
        #[arg(long, value_name = "DATASTORE")]
        datastore: Option<String>,
        /// The datastore version (default: the backup's)
        #[arg(long, value_name = "DATASTORE_VERSION")]
        datastore_version: Option<String>,
        /// The network to attach: net-id=<network id>[,subnet-id=<subnet id>][,v4-fixed-ip=<address>]
        #[arg(long, value_name = "NIC", value_parser = parse_nic)]
        nic: Option<types::InstanceNic>,
        /// The availability zone
        #[arg(long, value_name = "ZONE")]
        availability_zone: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete the database backups a retention policy does not keep (see `backup prune`)
    Prune {
        /// The instances whose backups to prune (IDs; repeatable)
        #[arg(short = 'i', long = "instance", value_name = "INSTANCE")]
        instances: Vec<String>,
        /// Every backup of the project
        #[arg(long, conflicts_with = "instances")]
        all_instances: bool,
        #[command(flatten)]
        policy: RetentionArgs,
        #[command(flatten)]
        output: ListOutput,
    },
}

// What it does.

/// The keys Trove 26's backup view always writes (null when unset), which
/// python-troveclient shows as they came.
const BACKUP_KEYS: &[&str] = &[
    "created",
    "description",
    "id",
    "instance_id",
    "locationRef",
    "name",
    "parent_id",
    "project_id",
    "size",
    "status",
    "updated",
];

/// python-troveclient's backup show: every key Trove sent, sorted by name,
/// with the datastore flattened into `datastore`, `datastore_version` and
/// `datastore_version_id`.
fn backup_fields(b: &types::Backup) -> Vec<(String, Cell)> {
    let core: Vec<(&str, &str)> = BACKUP_KEYS.iter().map(|k| (*k, *k)).collect();
    let mut fields = fixed_fields(b, &core, &[]);
    fields.extend(fields_of(b, &[], &["datastore"]).into_iter().filter(|(k, _)| !BACKUP_KEYS.contains(&k.as_str())));
    if let Some(d) = &b.datastore {
        fields.push(("datastore".to_owned(), Cell::new(json!(d.type_))));
        fields.push(("datastore_version".to_owned(), Cell::new(json!(d.version))));
        fields.push(("datastore_version_id".to_owned(), Cell::new(json!(d.version_id))));
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields
}

/// python-troveclient's `--nic`: `net-id=<id>` with, optionally,
/// `subnet-id=<id>` and `v4-fixed-ip=<address>`, comma-separated.
fn parse_nic(text: &str) -> Result<types::InstanceNic, String> {
    let expected = "expected net-id=<network id>[,subnet-id=<subnet id>][,v4-fixed-ip=<address>]";
    let mut nic = types::InstanceNic { network_id: None, subnet_id: None, ip_address: None };
    for part in text.split(',') {
        let (key, value) = part.split_once('=').ok_or_else(|| format!("{expected}, not {part:?}"))?;
        let slot = match key {
            "net-id" => &mut nic.network_id,
            "subnet-id" => &mut nic.subnet_id,
            "v4-fixed-ip" => &mut nic.ip_address,
            _ => return Err(format!("{expected}: unknown key {key:?}")),
        };
        if value.is_empty() || slot.replace(value.to_owned()).is_some() {
            return Err(format!("{expected}: {key} given {}", if value.is_empty() { "empty" } else { "twice" }));
        }
    }
    if nic.network_id.is_none() {
        return Err(format!("{expected}: net-id is missing"));
    }
    Ok(nic)
}

/// python-troveclient's instance show: every key Trove sent, sorted by
/// name, with the datastore, flavor, volume and fault flattened.
fn instance_fields(i: &types::Instance) -> Vec<(String, Cell)> {
    let mut fields = fields_of(i, &[], &["datastore", "flavor", "volume", "fault", "links"]);
    if let Some(d) = &i.datastore {
        fields.push(("datastore".to_owned(), Cell::new(json!(d.type_))));
        fields.push(("datastore_version".to_owned(), Cell::new(json!(d.version))));
    }
    if let Some(f) = &i.flavor {
        fields.push(("flavor".to_owned(), Cell::new(f.id.clone())));
    }
    if let Some(v) = &i.volume {
        fields.push(("volume".to_owned(), Cell::new(json!(v.size))));
        if let Some(used) = v.used {
            fields.push(("volume_used".to_owned(), Cell::new(json!(used))));
        }
    }
    if let Some(f) = &i.fault {
        fields.push(("fault".to_owned(), Cell::new(json!(f.message))));
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields
}

pub async fn run(session: &Session, command: DatabaseBackupCommand) -> Result<(), Failure> {
    let trove = session.database().await?;
    match command {
        DatabaseBackupCommand::Create {
            name,
            instance,
            description,
            parent,
            incremental,
            swift_container,
            storage_driver,
            restore_from,
            restore_datastore_version,
            restore_size,
            wait,
            output,
        } => {
            let parent_id = match &parent {
                Some(p) => Some(trove.find_backup(p).await?.id),
                None => None,
            };
            let body = types::BackupCreate {
                name,
                instance,
                description,
                parent_id,
                incremental: incremental.then_some(true.into()),
                copy_to: None,
                // (clap makes the three --restore-* flags go together.)
                restore_from: match (restore_from, restore_datastore_version, restore_size) {
                    (Some(remote_location), Some(local_datastore_version_id), Some(size)) => {
                        Some(types::RestoreFrom { remote_location, local_datastore_version_id, size })
                    }
                    _ => None,
                },
                source: None,
                storage_driver,
                swift_container,
            };
            let made = trove.create_database_backup().body(types::BackupCreateRequest { backup: body }).send().await?;
            let made = made.into_inner().backup;
            let done = if wait.wait {
                let (waiter, bar) = waiting::policy(&wait);
                let what = format!("database backup {}", made.id);
                waiting::run(trove.wait_for_backup(&made.id, types::BackupStatus::Completed).with(&waiter), bar, &what)
                    .await?
            } else {
                made
            };
            show(backup_fields(&done), &output, &[])
        }
        DatabaseBackupCommand::List { instance, datastore, all_projects, project_id, paging, output } => {
            let headers = ["ID", "Instance ID", "Name", "Status", "Parent ID", "Updated", "Project ID"];
            let mut rows = Rows::new(&headers, &output)?;
            let mut request = trove.list_database_backups();
            if let Some(i) = instance {
                request = request.instance_id(i);
            }
            if let Some(d) = datastore {
                request = request.datastore(d);
            }
            if all_projects {
                request = request.all_projects(true);
            }
            if let Some(p) = &project_id {
                request = request.project_id(p.clone());
            }
            // python-troveclient's --limit: up to N backups, one page; 0 is
            // no limit, and is not sent (Trove's limit is at least 1).
            let limit = paging.limit.filter(|n| *n > 0);
            if let Some(limit) = limit {
                request = request.limit(limit);
            }
            if let Some(marker) = paging.marker {
                request = request.marker(marker);
            }
            let most = limit.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
            let mut stream = request.stream().take(most.min(paging.max_items.unwrap_or(usize::MAX)));
            while let Some(b) = stream.try_next().await? {
                rows.push(vec![
                    Cell::new(b.id),
                    Cell::new(json!(b.instance_id)),
                    Cell::new(json!(b.name)),
                    Cell::new(b.status.as_str()),
                    Cell::new(json!(b.parent_id)),
                    Cell::new(json!(b.updated.map(|t| t.to_string()))),
                    Cell::new(json!(b.project_id)),
                ])?;
            }
            rows.finish()
        }
        DatabaseBackupCommand::Strategy(command) => strategy(&trove, command).await,
        DatabaseBackupCommand::Show { backup, output } => {
            let b = trove.find_backup(&backup).await?;
            show(backup_fields(&b), &output, &[])
        }
        DatabaseBackupCommand::Restore {
            backup,
            name,
            flavor,
            size,
            volume_type,
            datastore,
            datastore_version,
            nic,
            availability_zone,
            wait,
            output,
        } => {
            use openstack_backups::restore::{RestoreError, RestoreOptions, restore_database_backup};
            let mut options = RestoreOptions::new(name, flavor);
            options.size = size;
            options.volume_type = volume_type;
            options.datastore = datastore;
            options.datastore_version = datastore_version;
            options.nic = nic;
            options.availability_zone = availability_zone;
            let restored = restore_database_backup(&trove, &backup, &options).await.map_err(|e| match e {
                RestoreError::Restore(e) if matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) => {
                    Failure::Other(format!(
                        "{e}\nTrove may have made the instance all the same: look for {:?} before trying again",
                        options.name
                    ))
                }
                RestoreError::Backup(e) | RestoreError::Restore(e) => Failure::Api(e),
                RestoreError::NoSize { .. } => Failure::Other(format!("{e} with --size")),
                RestoreError::NoDatastore { .. } => Failure::Other(format!("{e} with --datastore")),
                other => Failure::Other(other.to_string()),
            })?;
            let made = restored.instance;
            let done = if wait.wait {
                let (waiter, bar) = waiting::policy(&wait);
                let what = format!("database instance {}", made.id);
                waiting::run(trove.wait_for_instance(&made.id, types::InstanceStatus::Active).with(&waiter), bar, &what)
                    .await?
            } else {
                made
            };
            show(instance_fields(&done), &output, &[])
        }
        DatabaseBackupCommand::Prune { instances, all_instances, policy, output } => {
            prune(&trove, instances, all_instances, &policy, &output).await
        }
        DatabaseBackupCommand::Delete { backups, wait } => {
            delete_each(&backups, "database backups", |name| {
                let (trove, wait) = (&trove, &wait);
                async move {
                    let b = trove.find_backup(&name).await?;
                    trove.delete_database_backup().backup_id(&b.id).send().await?;
                    if wait.wait {
                        let (waiter, bar) = waiting::policy(wait);
                        let what = format!("the deletion of database backup {}", b.id);
                        waiting::run(trove.wait_for_backup_deleted(&b.id).with(&waiter), bar, &what).await?;
                    }
                    // python-troveclient's line for each accepted delete.
                    println!("Request to delete database backup {} has been accepted.", b.id);
                    Ok(())
                }
            })
            .await
        }
    }
}

async fn prune(
    trove: &openstack_backups::database::Client,
    instances: Vec<String>,
    all_instances: bool,
    args: &RetentionArgs,
    output: &crate::args::ListOutput,
) -> Result<(), Failure> {
    use std::collections::BTreeMap;

    use openstack_backups::retention;

    let policy = crate::prune::policy(args)?;
    if instances.is_empty() && !all_instances {
        return Err(Failure::Usage("name the instances (--instance, repeatable) or give --all-instances".to_owned()));
    }
    let mut backups = Vec::new();
    if all_instances {
        backups = trove.list_database_backups().all().await?;
    } else {
        for i in &instances {
            backups.extend(trove.list_database_backups().instance_id(i.clone()).all().await?);
        }
    }
    let mut groups: BTreeMap<String, Vec<types::Backup>> = BTreeMap::new();
    for b in backups {
        groups.entry(b.instance_id.clone().unwrap_or_else(|| "(none)".to_owned())).or_default().push(b);
    }
    let groups = groups
        .into_iter()
        .map(|(group, backups)| (group, retention::plan(&policy, retention::trove_items(&backups))))
        .collect();
    crate::prune::run(groups, args, output, |id, wait, timeout| async move {
        trove.delete_database_backup().backup_id(&id).send().await.map_err(|e| crate::cloud::explain(&e))?;
        if wait {
            let waiter = openstack_backups::wait::Waiter::new().timeout(timeout);
            trove.wait_for_backup_deleted(&id).with(&waiter).await.map_err(|e| crate::cloud::explain(&e))?;
        }
        Ok(())
    })
    .await
}

/// `database backup strategy …`, as python-troveclient's commands.
async fn strategy(trove: &openstack_backups::database::Client, command: StrategyCommand) -> Result<(), Failure> {
    match command {
        StrategyCommand::List { instance_id, project_id, output } => {
            let mut rows = Rows::new(&["Project ID", "Instance ID", "Swift Container"], &output)?;
            let mut request = trove.list_backup_strategies();
            if let Some(i) = instance_id {
                request = request.instance_id(i);
            }
            if let Some(p) = project_id {
                request = request.project_id(p);
            }
            for s in request.send().await?.into_inner().backup_strategies {
                rows.push(vec![
                    Cell::new(json!(s.project_id)),
                    Cell::new(s.instance_id),
                    Cell::new(s.swift_container),
                ])?;
            }
            rows.finish()
        }
        StrategyCommand::Create { swift_container, instance_id, output } => {
            // Optional as in python-troveclient; Trove refuses a strategy without one.
            let swift_container = swift_container.ok_or_else(|| {
                Failure::Other("Trove needs a container for a backup strategy: give --swift-container".to_owned())
            })?;
            let body = types::BackupStrategyCreateRequest {
                backup_strategy: types::BackupStrategyCreate { instance_id, swift_container },
            };
            let made = trove.create_backup_strategy().body(body).send().await?.into_inner().backup_strategy;
            show(fields_of(&made, &[], &[]), &output, &[])
        }
        StrategyCommand::Delete { instance_id, project_id } => {
            let mut request = trove.delete_backup_strategy();
            if let Some(i) = instance_id {
                request = request.instance_id(i);
            }
            if let Some(p) = project_id {
                request = request.project_id(p);
            }
            request.send().await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn nic_takes_python_troveclients_keys() {
        let nic = parse_nic("net-id=n-1,subnet-id=s-1,v4-fixed-ip=10.0.0.5").expect("a nic");
        assert_eq!(
            (nic.network_id.as_deref(), nic.subnet_id.as_deref(), nic.ip_address.as_deref()),
            (Some("n-1"), Some("s-1"), Some("10.0.0.5"))
        );
        let nic = parse_nic("net-id=n-1").expect("a nic");
        assert_eq!((nic.network_id.as_deref(), nic.subnet_id, nic.ip_address), (Some("n-1"), None, None));
        for (bad, says) in [
            ("subnet-id=s-1", "net-id is missing"),
            ("net-id=n-1,port-id=p", "unknown key \"port-id\""),
            ("net-id=", "net-id given empty"),
            ("net-id=a,net-id=b", "net-id given twice"),
            ("x", "not \"x\""),
        ] {
            let e = parse_nic(bad).expect_err(bad);
            assert!(e.starts_with("expected net-id=<network id>") && e.ends_with(says), "{bad}: {e}");
        }
    }

    #[test]
    fn backup_show_has_each_field_once() {
        let b: types::Backup = serde_json::from_value(json!({"id": "b-1", "name": "nightly", "status": "COMPLETED",
            "instance_id": "i-1", "created": "2026-11-23T08:01:00", "updated": "2026-11-23T08:01:30",
            "size": 0.25, "locationRef": "http://swift/b-1", "description": null, "parent_id": null,
            "project_id": "p", "datastore": {"type": "mysql", "version": "5.7", "version_id": "v-1"},
            "storage_driver": "swift"}))
        .expect("a backup");
        let fields = backup_fields(&b);
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "created",
                "datastore",
                "datastore_version",
                "datastore_version_id",
                "description",
                "id",
                "instance_id",
                "locationRef",
                "name",
                "parent_id",
                "project_id",
                "size",
                "status",
                "storage_driver",
                "updated"
            ]
        );
        let value = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, c)| c.value.clone());
        assert_eq!(value("datastore_version_id"), Some(json!("v-1")));
        assert_eq!(value("storage_driver"), Some(json!("swift")), "a key beyond the fixed ones");
    }

    #[test]
    fn instance_show_flattens_as_python_troveclient() {
        let i: types::Instance = serde_json::from_value(json!({"id": "i-1", "name": "restored", "status": "BUILD",
            "datastore": {"type": "mysql", "version": "5.7"}, "flavor": {"id": "2", "links": []},
            "volume": {"size": 1, "used": 0.1}, "fault": {"message": "boom", "created": "2026-12-03T10:00:00"},
            "links": [], "region": "RegionOne"}))
        .expect("an instance");
        let fields = instance_fields(&i);
        let shown: Vec<(&str, Value)> = fields.iter().map(|(n, c)| (n.as_str(), c.value.clone())).collect();
        assert_eq!(
            shown,
            [
                ("datastore", json!("mysql")),
                ("datastore_version", json!("5.7")),
                ("fault", json!("boom")),
                ("flavor", json!("2")),
                ("id", json!("i-1")),
                ("name", json!("restored")),
                ("region", json!("RegionOne")),
                ("status", json!("BUILD")),
                ("volume", json!(1)),
                ("volume_used", json!(0.1)),
            ]
        );
    }
}
