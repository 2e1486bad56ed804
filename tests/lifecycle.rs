//! One backup lifecycle, run against any Cinder: the fake cloud of
//! `openstack-backups-fake` and the real Cinder 29 of the harness. It
//! returns what a client observes at each step (statuses reached, HTTP
//! statuses and fault names of refusals, fields that tell the lifecycle),
//! so that the two runs can be compared line by line: a difference is the
//! fake telling a user's test something Cinder would not.

use futures_util::TryStreamExt;
use openstack_backups::Error;
use openstack_backups::block_storage::{Client, types};
use openstack_backups::wait::Waiter;

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
    let body = types::VolumeCreateRequest::builder().volume(types::VolumeCreate::builder().size(std::num::NonZeroU64::new(1)).name(name.to_owned()));
    let created = c.create_volume().body(body).send().await.map_err(ctx("create a volume"))?;
    c.wait_for_volume(&created.volume.id, types::VolumeStatus::Available).with(w).await.map_err(ctx("wait for a volume"))?;
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

/// Runs the lifecycle through `c`, waiting with `w`; every resource it
/// makes is gone at the end. The lines name each step and what was seen.
///
/// # Errors
/// A step that failed where both clouds succeed (a client error, a wait
/// that did not end), with the step named.
pub async fn lifecycle(c: &Client, w: &Waiter) -> Result<Vec<String>, String> {
    let mut seen = Vec::new();
    let v1 = volume(c, w, "lifecycle-1").await?;
    seen.push("volume: available".to_owned());

    let full = backup(c, w, &v1, false, None).await.map_err(ctx("full backup"))?;
    seen.push(format!("full backup: {}, incremental {}", full.status, full.is_incremental));
    let incremental = backup(c, w, &v1, true, None).await.map_err(ctx("incremental backup"))?;
    seen.push(format!("incremental backup: {}, incremental {}", incremental.status, incremental.is_incremental));
    let parent = c.show_backup().backup_id(&full.id).send().await.map_err(ctx("show the full backup"))?;
    seen.push(format!("full backup has dependents: {}", parent.backup.has_dependent_backups));
    seen.push(format!("delete a backup with an incremental: {}", refusal(c.delete_backup().backup_id(&full.id).send().await)));

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

    let restore = types::BackupRestoreRequest { restore: types::BackupRestore { name: None, volume_id: None } };
    let restored =
        c.restore_backup().backup_id(&incremental.id).body(restore).send().await.map_err(ctx("restore to a new volume"))?;
    let v3 = restored.restore.volume_id.clone();
    c.wait_for_volume(&v3, types::VolumeStatus::Available).with(w).await.map_err(ctx("wait for the restored volume"))?;
    c.wait_for_backup(&incremental.id, types::BackupStatus::Available).with(w).await.map_err(ctx("the restored backup"))?;
    seen.push(format!("restore to a new volume: available, named {}", restored.restore.volume_name.is_some()));
    let into = types::BackupRestoreRequest { restore: types::BackupRestore { name: None, volume_id: Some(v2.clone()) } };
    c.restore_backup().backup_id(&full.id).body(into).send().await.map_err(ctx("restore into a volume"))?;
    c.wait_for_volume(&v2, types::VolumeStatus::Available).with(w).await.map_err(ctx("wait for the volume restored into"))?;
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
    let full_page =
        c.list_backups_detail().volume_id(&v1).limit(3u64).send().await.map_err(ctx("a full last page"))?;
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
