//! One backup lifecycle, run against any Cinder: the fake cloud of
//! `openstack-backups-fake` and the real Cinder 29 of the harness; and
//! one for Trove, against the fake and the real Trove 26. Each returns
//! what a client observes at each step (statuses reached, HTTP statuses
//! and fault names of refusals, fields that tell the lifecycle), so that
//! the two runs can be compared line by line: a difference is the fake
//! telling a user's test something the real service would not.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use openstack_backups::Error;
use openstack_backups::block_storage::{Client, types};
use openstack_backups::wait::Waiter;

/// `Ok` when the real service and the fake observed the same lines, else
/// every line side by side, the differing ones marked `≠`, naming `what`
/// the fake was held against (`Cinder 29`).
///
/// # Errors
/// The side-by-side listing when any line differs.
pub fn agree(what: &str, real: &[String], fake: &[String]) -> Result<(), String> {
    if real == fake {
        return Ok(());
    }
    let lines: Vec<String> = (0..real.len().max(fake.len()))
        .map(|i| {
            let (r, f) = (real.get(i).map_or("-", String::as_str), fake.get(i).map_or("-", String::as_str));
            format!("{} real: {r}\n  fake: {f}", if r == f { " " } else { "≠" })
        })
        .collect();
    Err(format!("the fake and {what} differ:\n{}", lines.join("\n")))
}

/// What a refusal looked like: `HTTP 400 badRequest`, or what else came.
fn refusal<T>(result: Result<T, Error>) -> String {
    match result {
        Ok(_) => "accepted".to_owned(),
        Err(e) => match (e.status(), e.fault().and_then(|f| f.name())) {
            (Some(status), Some(name)) => format!("HTTP {} {name}", status.as_u16()),
            _ => format!("not a fault: {e}"),
        },
    }
}

fn ctx(step: &str) -> impl Fn(Error) -> String + '_ {
    move |e| format!("{step}: {e}")
}

async fn volume(c: &Client, w: &Waiter, name: &str) -> Result<String, String> {
    let body = types::VolumeCreateRequest::builder()
        .volume(types::VolumeCreate::builder().size(std::num::NonZeroU64::new(1)).name(name.to_owned()));
    let created = c.create_volume().body(body).send().await.map_err(ctx("create a volume"))?;
    c.wait_for_volume(&created.volume.id, types::VolumeStatus::Available)
        .with(w)
        .await
        .map_err(ctx("wait for a volume"))?;
    Ok(created.volume.id.clone())
}

async fn backup(
    c: &Client,
    w: &Waiter,
    volume_id: &str,
    incremental: bool,
    snapshot_id: Option<&str>,
) -> Result<types::Backup, Error> {
    let mut create = types::BackupCreate::builder().volume_id(volume_id).incremental(incremental);
    if let Some(s) = snapshot_id {
        create = create.snapshot_id(s.to_owned());
    }
    let created = c.create_backup().body(types::BackupCreateRequest::builder().backup(create)).send().await?;
    c.wait_for_backup(&created.backup.id, types::BackupStatus::Available).with(w).await
}

/// Runs the lifecycle through `c`, waiting with `w`, with `admin` (an
/// administrator's client of the same project, `project`) for the quota
/// update; every resource it makes is gone at the end, the quotas back to
/// the defaults. The lines name each step and what was seen.
///
/// # Errors
/// A step that failed where both clouds succeed (a client error, a wait
/// that did not end), with the step named.
pub async fn lifecycle(c: &Client, admin: &Client, project: &str, w: &Waiter) -> Result<Vec<String>, String> {
    let mut seen = Vec::new();
    let v1 = volume(c, w, "lifecycle-1").await?;
    seen.push("volume: available".to_owned());

    let full = backup(c, w, &v1, false, None).await.map_err(ctx("full backup"))?;
    seen.push(format!("full backup: {}, incremental {}", full.status, full.is_incremental));
    let incremental = backup(c, w, &v1, true, None).await.map_err(ctx("incremental backup"))?;
    seen.push(format!("incremental backup: {}, incremental {}", incremental.status, incremental.is_incremental));
    let parent = c.show_backup().backup_id(&full.id).send().await.map_err(ctx("show the full backup"))?;
    seen.push(format!("full backup has dependents: {}", parent.backup.has_dependent_backups));
    seen.push(format!(
        "delete a backup with an incremental: {}",
        refusal(c.delete_backup().backup_id(&full.id).send().await)
    ));

    let v2 = volume(c, w, "lifecycle-2").await?;
    seen.push(format!("incremental of a volume without backups: {}", refusal(backup(c, w, &v2, true, None).await)));
    seen.push(format!(
        "show an unknown backup: {}",
        refusal(c.show_backup().backup_id("00000000-0000-4000-8000-0000deadbeef").send().await)
    ));

    let snapshot_body =
        types::SnapshotCreateRequest::builder().snapshot(types::SnapshotCreate::builder().volume_id(v1.clone()));
    let snapshot = c.create_snapshot().body(snapshot_body).send().await.map_err(ctx("create a snapshot"))?;
    let sid = snapshot.snapshot.id.clone();
    c.wait_for_snapshot(&sid, types::SnapshotStatus::Available).with(w).await.map_err(ctx("wait for the snapshot"))?;
    seen.push("snapshot: available".to_owned());
    let from_snapshot = backup(c, w, &v1, false, Some(&sid)).await.map_err(ctx("backup from the snapshot"))?;
    seen.push(format!(
        "backup from a snapshot: {}, snapshot kept {}",
        from_snapshot.status,
        from_snapshot.snapshot_id.as_deref() == Some(sid.as_str())
    ));
    seen.push(format!(
        "delete a volume that has a snapshot: {}",
        refusal(c.delete_volume().volume_id(&v1).send().await)
    ));

    // The backups quota, set by the administrator to what is used: the
    // next backup is refused, then the defaults are back.
    let limits = c.show_limits().send().await.map_err(ctx("show the limits"))?.into_inner().limits.absolute;
    seen.push(format!("limits: backups used {:?}", limits.total_backups_used));
    let quotas =
        c.show_quota_set().target_project_id(project).usage(true).send().await.map_err(ctx("show the quotas"))?;
    let in_use = match quotas.quota_set.extra.get("backups") {
        Some(types::QuotaValue::QuotaUsage(u)) => u.in_use,
        other => return Err(format!("the backups quota with usage: {other:?}")),
    };
    seen.push(format!("quota set: backups in use {in_use}"));
    let at_most = types::QuotaSetUpdateRequest { quota_set: BTreeMap::from([("backups".to_owned(), in_use)]) };
    admin.update_quota_set().target_project_id(project).body(at_most).send().await.map_err(ctx("set the quota"))?;
    seen.push(format!("a backup over the backups quota: {}", refusal(backup(c, w, &v2, false, None).await)));
    admin.delete_quota_set().target_project_id(project).send().await.map_err(ctx("reset the quotas"))?;

    let restore = types::BackupRestoreRequest { restore: types::BackupRestore { name: None, volume_id: None } };
    let restored = c
        .restore_backup()
        .backup_id(&incremental.id)
        .body(restore)
        .send()
        .await
        .map_err(ctx("restore to a new volume"))?;
    let v3 = restored.restore.volume_id.clone();
    c.wait_for_volume(&v3, types::VolumeStatus::Available)
        .with(w)
        .await
        .map_err(ctx("wait for the restored volume"))?;
    c.wait_for_backup(&incremental.id, types::BackupStatus::Available)
        .with(w)
        .await
        .map_err(ctx("the restored backup"))?;
    seen.push(format!("restore to a new volume: available, named {}", restored.restore.volume_name.is_some()));
    let into =
        types::BackupRestoreRequest { restore: types::BackupRestore { name: None, volume_id: Some(v2.clone()) } };
    c.restore_backup().backup_id(&full.id).body(into).send().await.map_err(ctx("restore into a volume"))?;
    c.wait_for_volume(&v2, types::VolumeStatus::Available)
        .with(w)
        .await
        .map_err(ctx("wait for the volume restored into"))?;
    c.wait_for_backup(&full.id, types::BackupStatus::Available).with(w).await.map_err(ctx("the full backup again"))?;
    seen.push("restore into a volume: available".to_owned());

    let listed: Vec<types::Backup> = c
        .list_backups_detail()
        .volume_id(&v1)
        .limit(1u64)
        .stream()
        .try_collect()
        .await
        .map_err(ctx("list the volume's backups one per page"))?;
    let ids: Vec<&str> = listed.iter().map(|b| b.id.as_str()).collect();
    let newest_first = [from_snapshot.id.as_str(), incremental.id.as_str(), full.id.as_str()];
    seen.push(format!("backups of the volume, one per page: {}, newest first {}", ids.len(), ids == newest_first));
    let full_page = c.list_backups_detail().volume_id(&v1).limit(3u64).send().await.map_err(ctx("a full last page"))?;
    seen.push(format!(
        "a full last page: {} backups, a next link {}",
        full_page.backups.len(),
        !full_page.backups_links.is_empty()
    ));
    let unknown_marker = c.list_backups_detail().marker("00000000-0000-4000-8000-0000deadbeef").send().await;
    seen.push(format!("a list after an unknown marker: {}", refusal(unknown_marker)));

    for id in [&incremental.id, &from_snapshot.id, &full.id] {
        c.delete_backup().backup_id(id).send().await.map_err(ctx("delete a backup"))?;
        c.wait_for_backup_deleted(id).with(w).await.map_err(ctx("wait for a backup to go"))?;
    }
    c.delete_snapshot().snapshot_id(&sid).send().await.map_err(ctx("delete the snapshot"))?;
    c.wait_for_snapshot_deleted(&sid).with(w).await.map_err(ctx("wait for the snapshot to go"))?;
    for id in [&v1, &v2, &v3] {
        c.delete_volume().volume_id(id).send().await.map_err(ctx("delete a volume"))?;
        c.wait_for_volume_deleted(id).with(w).await.map_err(ctx("wait for a volume to go"))?;
    }
    seen.push("everything deleted".to_owned());
    Ok(seen)
}

/// The three backups a Trove lifecycle starts from, made in this order: a
/// full backup and its incremental (both `COMPLETED`), then one still
/// `BUILDING`. The real Trove of the harness cannot make a backup (fake
/// mode has no guest agent), so its are written into its database; the
/// fake's are made through its API.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The full backup's id.
    pub full: String,
    /// The incremental's id (its parent is `full`).
    pub incremental: String,
    /// The running backup's id.
    pub running: String,
}

/// The names of the keys of `value` whose values are not null.
fn present(value: &impl serde::Serialize) -> String {
    let value = serde_json::to_value(value).unwrap_or_default();
    let keys: Vec<&str> = value
        .as_object()
        .map(|o| o.iter().filter(|(_, v)| !v.is_null()).map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    keys.join(",")
}

/// Runs the Trove lifecycle through `c` on the backups of `seeded` (and
/// nothing else in the project): lists, paging, shows, refusals, backup
/// strategies, a deletion. The lines name each step and what was seen.
/// It sends three POSTs, what the harness's Trove takes in a minute from
/// one user (`TROVE_POST_RATE`).
///
/// # Errors
/// A step that failed where both services succeed, with the step named.
pub async fn database(c: &openstack_backups::database::Client, seeded: &Seeded) -> Result<Vec<String>, String> {
    use openstack_backups::database::types as db;
    let mut seen = Vec::new();
    let name_of = |id: &str| {
        if id == seeded.full {
            "full"
        } else if id == seeded.incremental {
            "incremental"
        } else if id == seeded.running {
            "running"
        } else {
            "other"
        }
    };

    let list = c.list_database_backups().send().await.map_err(ctx("list"))?.into_inner();
    let order: Vec<&str> = list.backups.iter().map(|b| name_of(&b.id)).collect();
    seen.push(format!("list: {order:?}, a next link {}", !list.links.is_empty()));
    let page = c.list_database_backups().limit(2u64).send().await.map_err(ctx("a page of two"))?.into_inner();
    let next = page.links.first().map(|l| l.href.as_str()).unwrap_or_default();
    seen.push(format!(
        "a page of two: {} backups, next link https {} with marker=2 {}",
        page.backups.len(),
        next.starts_with("https://"),
        next.contains("marker=2")
    ));
    let streamed: Vec<db::Backup> =
        c.list_database_backups().limit(1u64).stream().try_collect().await.map_err(ctx("stream one per page"))?;
    seen.push(format!("one per page: {} backups", streamed.len()));

    let incremental = c.show_database_backup().backup_id(&seeded.incremental).send().await.map_err(ctx("show"))?;
    let b = &incremental.backup;
    seen.push(format!(
        "the incremental: {}, parent is the full backup {}, fields {}",
        b.status,
        b.parent_id.as_deref() == Some(seeded.full.as_str()),
        present(b)
    ));
    let ds = b.datastore.as_ref().and_then(|d| d.type_.as_deref()).unwrap_or_default();
    seen.push(format!("its datastore: {ds}"));
    let running = c.show_database_backup().backup_id(&seeded.running).send().await.map_err(ctx("show running"))?;
    seen.push(format!("the running backup: {}, size {:?}", running.backup.status, running.backup.size));

    let unknown = "00000000-0000-4000-8000-0000deadbeef";
    seen.push(format!("show an unknown backup: {}", refusal(c.show_database_backup().backup_id(unknown).send().await)));
    let create = |instance: &str, name: &str| db::BackupCreateRequest {
        backup: db::BackupCreate {
            name: name.to_owned(),
            instance: Some(instance.to_owned()),
            description: None,
            parent_id: None,
            incremental: Some(openstack_backups::IntBool(true)),
            swift_container: None,
            storage_driver: None,
            restore_from: None,
            copy_to: None,
            source: None,
        },
    };
    seen.push(format!(
        "back up a missing instance: {}",
        refusal(c.create_database_backup().body(create(unknown, "nightly")).send().await)
    ));
    seen.push(format!(
        "an unknown datastore: {}",
        refusal(c.list_database_backups().datastore("no-such-datastore").send().await)
    ));
    seen.push(format!(
        "delete a running backup: {}",
        refusal(c.delete_database_backup().backup_id(&seeded.running).send().await)
    ));

    let strategy = |instance: Option<&str>, container: &str| db::BackupStrategyCreateRequest {
        backup_strategy: db::BackupStrategyCreate {
            instance_id: instance.map(str::to_owned),
            swift_container: container.to_owned(),
        },
    };
    let wide = c.create_backup_strategy().body(strategy(None, "nightly")).send().await.map_err(ctx("a strategy"))?;
    seen.push(format!(
        "a project-wide strategy: HTTP {}, instance {:?}, backend {:?}",
        wide.status().as_u16(),
        wide.backup_strategy.instance_id,
        wide.backup_strategy.backend
    ));
    let instance = "0c0ffee0-0000-4000-8000-000000000001";
    c.create_backup_strategy().body(strategy(Some(instance), "orders")).send().await.map_err(ctx("a strategy"))?;
    let all = c.list_backup_strategies().send().await.map_err(ctx("list strategies"))?.into_inner();
    let mut rows: Vec<(String, String)> =
        all.backup_strategies.iter().map(|s| (s.instance_id.clone(), s.swift_container.clone())).collect();
    rows.sort();
    seen.push(format!("strategies: {rows:?}"));
    let one = c.list_backup_strategies().instance_id(instance).send().await.map_err(ctx("filter strategies"))?;
    seen.push(format!("one instance's strategy: {}", one.backup_strategies.len()));
    seen.push(format!(
        "another project's strategies: {}",
        refusal(c.list_backup_strategies().project_id("another-project").send().await)
    ));
    for which in [Some(instance), None] {
        let mut delete = c.delete_backup_strategy();
        if let Some(i) = which {
            delete = delete.instance_id(i);
        }
        delete.send().await.map_err(ctx("delete a strategy"))?;
    }
    let left = c.list_backup_strategies().send().await.map_err(ctx("list strategies"))?;
    seen.push(format!("strategies after deleting both: {}", left.backup_strategies.len()));

    let deleted = c.delete_database_backup().backup_id(&seeded.incremental).send().await.map_err(ctx("delete"))?;
    seen.push(format!("delete a completed backup: HTTP {}", deleted.status().as_u16()));
    Ok(seen)
}

/// Makes the [`Seeded`] backups through the API, of `instance` (an
/// `ACTIVE` instance of a cloud that can back one up: the fake's), waiting
/// with `w`; `advance` moves the cloud's clock (one second makes the last
/// one `BUILDING`).
///
/// # Errors
/// A create or a wait that failed, with the step named.
pub async fn seed_database(
    c: &openstack_backups::database::Client,
    instance: &str,
    w: &Waiter,
    advance: impl Fn(std::time::Duration),
) -> Result<Seeded, String> {
    use openstack_backups::database::types as db;
    let create = |name: &str, incremental: bool| db::BackupCreateRequest {
        backup: db::BackupCreate {
            name: name.to_owned(),
            instance: Some(instance.to_owned()),
            description: None,
            parent_id: None,
            incremental: Some(openstack_backups::IntBool(incremental)),
            swift_container: None,
            storage_driver: None,
            restore_from: None,
            copy_to: None,
            source: None,
        },
    };
    let mut ids = Vec::new();
    for (name, incremental) in [("full", false), ("incremental", true)] {
        let made = c.create_database_backup().body(create(name, incremental)).send().await.map_err(ctx("seed"))?;
        c.wait_for_backup(&made.backup.id, db::BackupStatus::Completed).with(w).await.map_err(ctx("seed"))?;
        ids.push(made.backup.id.clone());
    }
    let running = c.create_database_backup().body(create("running", false)).send().await.map_err(ctx("seed"))?;
    advance(std::time::Duration::from_secs(1));
    Ok(Seeded { full: ids[0].clone(), incremental: ids[1].clone(), running: running.backup.id.clone() })
}
