//! Every operation of `spec/block-storage-v3.yaml` against a real Cinder 29,
//! through the generated client, with every response checked against the
//! spec (strictly) on the way.
//!
//! This binary has its own harness: it starts one server, runs the scenarios
//! concurrently (each in its own random project), and after all of them
//! checks that the conformance check validated a response of every operation.
//! `cargo test --test real_cinder -- NAME` runs the scenarios whose name
//! contains NAME (the coverage check then is skipped).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use openstack_backups::block_storage::{Client, types};
use openstack_backups::{ClientConfig, Error, FindError, Microversion};
use openstack_backups_harness::Cinder;
use openstack_backups_tests::conformance::Conformance;
use openstack_backups_tests::proxy::Proxy;
use openstack_backups_tests::{ensure, random_hex};
use serde_json::json;

type Outcome = Result<(), String>;
type Scenario = fn(Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>>;

static CINDER: OnceLock<Cinder> = OnceLock::new();
static CONFORMANCE: OnceLock<Conformance> = OnceLock::new();
static CHECKED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

const LATEST: Microversion = Microversion::new(3, 71);

/// One scenario's world: its own project, and clients that go through a
/// recording proxy.
struct Ctx {
    project: String,
    proxy: Proxy,
    client: Client,
}

impl Ctx {
    async fn new() -> Ctx {
        let project = random_hex();
        let proxy = Proxy::start(CINDER.get().expect("server").root_url()).await;
        let client = client(&format!("{}/v3/{project}", proxy.url()), &project, LATEST);
        Ctx { project, proxy, client }
    }

    /// A client of the same project at another microversion.
    fn at(&self, version: Microversion) -> Client {
        client(&format!("{}/v3/{}", self.proxy.url(), self.project), &self.project, version)
    }

    /// A client on the project-less endpoint form.
    fn project_less(&self) -> Client {
        client(&format!("{}/v3", self.proxy.url()), &self.project, LATEST)
    }

    /// Checks every response recorded so far against the spec.
    fn verify(&self) -> Outcome {
        let conformance = CONFORMANCE.get().expect("spec");
        let mut errors = Vec::new();
        for ex in self.proxy.take() {
            match conformance.check(&ex, &self.project) {
                Ok(c) => {
                    CHECKED.lock().unwrap().insert(c.operation_id);
                }
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(format!("response conformance:\n  {}", errors.join("\n  "))) }
    }
}

fn client(endpoint: &str, project: &str, version: Microversion) -> Client {
    Client::new(endpoint, ClientConfig::new().with_token(format!("admin:{project}")).with_microversion(version))
}

/// Turns a client error into the scenario's failure message.
fn e(context: &str) -> impl Fn(Error) -> String + '_ {
    move |err| format!("{context}: {err}")
}

/// Polls `status` until it returns one of `target` (`None` stands for 404),
/// fails fast on one of `failure`, and gives up after `limit` with the last
/// status seen.
async fn wait_for<F, Fut>(what: &str, target: &[Option<&str>], failure: &[&str], limit: Duration, status: F) -> Outcome
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<String>, Error>>,
{
    let started = Instant::now();
    let mut last = String::from("(none yet)");
    let mut delay = Duration::from_millis(100);
    while started.elapsed() < limit {
        let now = status().await.map_err(|err| format!("waiting for {what}: {err}"))?;
        if target.iter().any(|t| t.map(str::to_owned) == now) {
            return Ok(());
        }
        let shown = now.clone().unwrap_or_else(|| "404 (gone)".to_owned());
        if now.as_deref().is_some_and(|s| failure.contains(&s)) {
            return Err(format!("{what} went to {shown}"));
        }
        last = shown;
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
    Err(format!("{what}: still {last} after {} s (wanted {target:?})", limit.as_secs()))
}

const LIMIT: Duration = Duration::from_secs(60);

async fn volume_status(c: &Client, id: &str) -> Result<Option<String>, Error> {
    match c.show_volume().volume_id(id).send().await {
        Ok(v) => Ok(Some(v.into_inner().volume.status.to_string())),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

async fn backup_status(c: &Client, id: &str) -> Result<Option<String>, Error> {
    match c.show_backup().backup_id(id).send().await {
        Ok(b) => Ok(Some(b.into_inner().backup.status.to_string())),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

async fn snapshot_status(c: &Client, id: &str) -> Result<Option<String>, Error> {
    match c.show_snapshot().snapshot_id(id).send().await {
        Ok(s) => Ok(Some(s.into_inner().snapshot.status.to_string())),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

async fn new_volume(c: &Client, name: &str) -> Result<String, String> {
    let body = types::VolumeCreateRequest {
        volume: types::VolumeCreate {
            size: Some(1.try_into().unwrap()),
            name: Some(name.into()),
            ..Default::default()
        },
        os_sch_hnt_scheduler_hints: Default::default(),
    };
    let v = c.create_volume().body(body).send().await.map_err(e("create volume"))?.into_inner().volume;
    wait_for(&format!("volume {name}"), &[Some("available")], &["error"], LIMIT, || volume_status(c, &v.id)).await?;
    Ok(v.id)
}

async fn new_backup(c: &Client, create: types::BackupCreate) -> Result<String, String> {
    let name = create.name.clone().unwrap_or_default();
    let b = c
        .create_backup()
        .body(types::BackupCreateRequest { backup: create })
        .send()
        .await
        .map_err(e("create backup"))?
        .into_inner()
        .backup;
    wait_for(&format!("backup {name}"), &[Some("available")], &["error"], LIMIT, || backup_status(c, &b.id)).await?;
    Ok(b.id)
}

async fn new_snapshot(c: &Client, volume: &str, name: &str) -> Result<String, String> {
    let body = types::SnapshotCreateRequest {
        snapshot: types::SnapshotCreate {
            volume_id: volume.to_owned(),
            name: Some(name.to_owned()),
            description: None,
            force: None,
            metadata: Some([("purpose".to_owned(), "test".to_owned())].into()),
        },
    };
    let s = c.create_snapshot().body(body).send().await.map_err(e("create snapshot"))?.into_inner().snapshot;
    wait_for(&format!("snapshot {name}"), &[Some("available")], &["error"], LIMIT, || snapshot_status(c, &s.id))
        .await?;
    Ok(s.id)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn backup_of(volume: &str, name: &str) -> types::BackupCreate {
    types::BackupCreate {
        volume_id: volume.to_owned(),
        name: Some(name.to_owned()),
        availability_zone: None,
        container: None,
        description: None,
        force: None,
        incremental: None,
        metadata: None,
        snapshot_id: None,
    }
}

// ------------------------------------------------------------------ scenarios

fn versions_and_both_url_forms(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        let v = ctx.client.list_api_versions().await.map_err(e("list_api_versions"))?;
        ensure!(v.status().as_u16() == 300, "GET / answered {}", v.status());
        ensure!(v.versions.iter().any(|v| v.version == "3.71" && v.min_version == "3.0"), "{:?}", v.versions);
        let v3 = ctx.client.show_api_v3_version().await.map_err(e("show_api_v3_version"))?;
        ensure!(v3.versions[0].id.as_deref() == Some("v3.0"), "{:?}", v3.versions);

        let volume = new_volume(&ctx.client, "url-forms").await?;
        let with = ctx.client.list_volumes_detail().send().await.map_err(e("list with project"))?;
        let without = ctx.project_less().list_volumes_detail().send().await.map_err(e("list without project"))?;
        ensure!(with.volumes.len() == 1 && without.volumes.len() == 1, "both forms list the one volume");
        let href =
            |v: &types::Volume| v.links.iter().find(|l| l.rel == "self").map(|l| l.href.clone()).unwrap_or_default();
        ensure!(href(&with.volumes[0]).contains(&ctx.project), "project form links carry the project");
        ensure!(
            !href(&without.volumes[0]).contains(&ctx.project),
            "project-less links omit it: {}",
            href(&without.volumes[0])
        );
        ctx.project_less().delete_volume().volume_id(&volume).send().await.map_err(e("delete"))?;
        wait_for("volume deletion", &[None], &["error_deleting"], LIMIT, || volume_status(&ctx.client, &volume))
            .await?;
        ctx.verify()
    })
}

fn backup_lifecycle(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        let c = &ctx.client;
        let volume = new_volume(c, "source").await?;
        let snapshot = new_snapshot(c, &volume, "for-backup").await?;

        // Full, incremental, and from a snapshot.
        let mut full = backup_of(&volume, "b-full");
        full.description = Some("full backup".into());
        full.metadata = Some([("tier".to_owned(), "gold".to_owned())].into());
        let full = new_backup(c, full).await?;
        let mut inc = backup_of(&volume, "b-inc");
        inc.incremental = Some(true);
        let inc = new_backup(c, inc).await?;
        let mut from_snap = backup_of(&volume, "b-snap");
        from_snap.snapshot_id = Some(snapshot.clone());
        let from_snap = new_backup(c, from_snap).await?;

        let shown = c.show_backup().backup_id(&inc).send().await.map_err(e("show inc"))?.into_inner().backup;
        ensure!(shown.is_incremental, "the incremental backup says is_incremental");
        let shown = c.show_backup().backup_id(&full).send().await.map_err(e("show full"))?.into_inner().backup;
        ensure!(shown.has_dependent_backups, "the full backup has a dependent");
        ensure!(shown.metadata.get("tier").map(String::as_str) == Some("gold"), "metadata kept: {:?}", shown.metadata);
        let shown =
            c.show_backup().backup_id(&from_snap).send().await.map_err(e("show from snapshot"))?.into_inner().backup;
        ensure!(shown.snapshot_id.as_deref() == Some(snapshot.as_str()), "backup records its snapshot");

        // Paging with limit 1 across all three, summary and detail.
        let ids: Vec<String> =
            c.list_backups_detail().limit(1u64).stream().map_ok(|b| b.id).try_collect().await.map_err(e("stream"))?;
        ensure!(ids.len() == 3, "detail stream saw {ids:?}");
        let ids: BTreeSet<String> =
            c.list_backups().limit(1u64).stream().map_ok(|b| b.id).try_collect().await.map_err(e("stream"))?;
        ensure!(ids == BTreeSet::from([full.clone(), inc.clone(), from_snap.clone()]), "summary stream saw {ids:?}");
        let page = c.list_backups().limit(1u64).with_count(true).send().await.map_err(e("with_count"))?;
        ensure!(
            page.count == Some(3) && page.backups.len() == 1 && !page.backups_links.is_empty(),
            "count/links: {page:?}"
        );
        let sorted = c.list_backups_detail().sort("name:asc").send().await.map_err(e("sorted"))?;
        let names: Vec<_> = sorted.backups.iter().filter_map(|b| b.name.clone()).collect();
        ensure!(names == ["b-full", "b-inc", "b-snap"], "sorted by name: {names:?}");
        let filtered = c.list_backups().name("b-inc").send().await.map_err(e("filter"))?;
        ensure!(filtered.backups.len() == 1 && filtered.backups[0].id == inc, "name filter");
        let by_status = c
            .list_backups_detail()
            .status(types::BackupStatus::Available)
            .volume_id(&volume)
            .send()
            .await
            .map_err(e("status filter"))?;
        ensure!(by_status.backups.len() == 3, "status filter");

        // Update (3.9) with metadata (3.43).
        let update = types::BackupUpdateRequest {
            backup: types::BackupUpdate {
                name: Some("b-full-renamed".into()),
                description: Some("renamed".into()),
                metadata: Some([("tier".to_owned(), "silver".to_owned())].into()),
            },
        };
        let updated = c.update_backup().backup_id(&full).body(update).send().await.map_err(e("update"))?;
        ensure!(updated.backup.name.as_deref() == Some("b-full-renamed"), "update answers the new name");
        let shown = c.show_backup().backup_id(&full).send().await.map_err(e("show"))?.into_inner().backup;
        ensure!(shown.metadata.get("tier").map(String::as_str) == Some("silver"), "metadata replaced");
        // An empty set is sent (not left out) and clears the metadata; the
        // name stays (the fake cloud does the same: cli/tests/fake.rs).
        let clear = types::BackupUpdateRequest {
            backup: types::BackupUpdate { metadata: Some(Default::default()), ..Default::default() },
        };
        c.update_backup().backup_id(&full).body(clear).send().await.map_err(e("clear metadata"))?;
        let shown = c.show_backup().backup_id(&full).send().await.map_err(e("show"))?.into_inner().backup;
        ensure!(
            shown.metadata.is_empty() && shown.name.as_deref() == Some("b-full-renamed"),
            "metadata cleared: {:?}",
            shown.metadata
        );

        // Restore to a new volume, then to an existing one.
        let restore = types::BackupRestoreRequest {
            restore: types::BackupRestore { name: Some("restored".into()), volume_id: None },
        };
        let r = c.restore_backup().backup_id(&full).body(restore).send().await.map_err(e("restore to new"))?;
        let restored = r.into_inner().restore.volume_id;
        wait_for("restored volume", &[Some("available")], &["error", "error_restoring"], LIMIT, || {
            volume_status(c, &restored)
        })
        .await?;
        wait_for("backup after restore", &[Some("available")], &["error"], LIMIT, || backup_status(c, &full)).await?;
        // A restored volume names its backup in its metadata; a new one
        // made with a name keeps it and Cinder's description (the fake
        // cloud does the same: fake/tests/cinder_rules.rs).
        let shown = c.show_volume().volume_id(&restored).send().await.map_err(e("show restored"))?.into_inner().volume;
        let restored_from = |v: &types::Volume| v.metadata.get("src_backup_id").cloned();
        ensure!(
            shown.name.as_deref() == Some("restored")
                && shown.description.as_deref() == Some("auto-created_from_restore_from_backup")
                && restored_from(&shown).as_ref() == Some(&full),
            "the restored volume: {shown:?}"
        );
        let target = new_volume(c, "target").await?;
        let restore = types::BackupRestoreRequest {
            restore: types::BackupRestore { name: None, volume_id: Some(target.clone()) },
        };
        let r = c.restore_backup().backup_id(&inc).body(restore).send().await.map_err(e("restore to existing"))?;
        ensure!(r.restore.volume_id == target, "restore names its target");
        wait_for("target volume", &[Some("available")], &["error", "error_restoring"], LIMIT, || {
            volume_status(c, &target)
        })
        .await?;
        wait_for("backup after restore", &[Some("available")], &["error"], LIMIT, || backup_status(c, &inc)).await?;
        // The target keeps its name; a new volume made without a name takes
        // the backed-up volume's name and description (none).
        let shown = c.show_volume().volume_id(&target).send().await.map_err(e("show target"))?.into_inner().volume;
        ensure!(
            shown.name.as_deref() == Some("target") && restored_from(&shown).as_ref() == Some(&inc),
            "the target: {shown:?}"
        );
        let body = types::BackupRestoreRequest { restore: types::BackupRestore { name: None, volume_id: None } };
        let r = c.restore_backup().backup_id(&inc).body(body).send().await.map_err(e("restore unnamed"))?;
        let unnamed = r.into_inner().restore.volume_id;
        wait_for("unnamed volume", &[Some("available")], &["error", "error_restoring"], LIMIT, || {
            volume_status(c, &unnamed)
        })
        .await?;
        wait_for("backup after restore", &[Some("available")], &["error"], LIMIT, || backup_status(c, &inc)).await?;
        let shown = c.show_volume().volume_id(&unnamed).send().await.map_err(e("show unnamed"))?.into_inner().volume;
        ensure!(
            shown.name.as_deref() == Some("source")
                && shown.description.is_none()
                && restored_from(&shown).as_ref() == Some(&inc),
            "the volume of an unnamed restore: {shown:?}"
        );

        // Export, lose the database row, import, restore from the import. The
        // import keeps the exported backup's id and is refused while a backup
        // with that id exists, so the row goes first; the backup store must
        // keep the data, so the test sets the backup's files aside across the
        // delete (what survives in a real disaster is the store).
        let record = c.export_backup_record().backup_id(&from_snap).send().await.map_err(e("export"))?.into_inner();
        let err = c
            .import_backup_record()
            .body(types::BackupRecordRequest { backup_record: record.backup_record.clone() })
            .send()
            .await
            .err()
            .ok_or("importing a backup that still exists must fail")?;
        ensure!(err.fault().and_then(|f| f.message()).is_some_and(|m| m.contains("already exists")), "{err}");
        let container =
            c.show_backup().backup_id(&from_snap).send().await.map_err(e("show"))?.into_inner().backup.container;
        let container = container.ok_or("the backup names its container")?;
        let store = CINDER.get().expect("server").dir().join("backups").join(&container);
        let aside = CINDER.get().expect("server").dir().join(format!("aside-{from_snap}"));
        copy_dir(&store, &aside).map_err(|err| format!("setting the backup files aside: {err}"))?;
        c.delete_backup().backup_id(&from_snap).send().await.map_err(e("delete before import"))?;
        wait_for("backup deletion", &[None], &["error_deleting"], LIMIT, || backup_status(c, &from_snap)).await?;
        copy_dir(&aside, &store).map_err(|err| format!("putting the backup files back: {err}"))?;
        let imported = c
            .import_backup_record()
            .body(types::BackupRecordRequest { backup_record: record.backup_record })
            .send()
            .await
            .map_err(e("import"))?;
        ensure!(imported.status().as_u16() == 201, "import answers 201");
        let imported = imported.into_inner().backup.id;
        ensure!(imported == from_snap, "the import keeps the exported id");
        wait_for("imported backup", &[Some("available")], &["error"], LIMIT, || backup_status(c, &imported)).await?;
        let restore = types::BackupRestoreRequest {
            restore: types::BackupRestore { name: Some("from-import".into()), volume_id: None },
        };
        let r = c.restore_backup().backup_id(&imported).body(restore).send().await.map_err(e("restore import"))?;
        let from_import = r.into_inner().restore.volume_id;
        wait_for("volume from import", &[Some("available")], &["error", "error_restoring"], LIMIT, || {
            volume_status(c, &from_import)
        })
        .await?;
        wait_for("imported backup after restore", &[Some("available")], &["error"], LIMIT, || {
            backup_status(c, &imported)
        })
        .await?;

        // A volume created from a backup (3.47).
        let body = types::VolumeCreateRequest {
            volume: types::VolumeCreate {
                backup_id: Some(full.clone()),
                name: Some("from-backup".into()),
                ..Default::default()
            },
            os_sch_hnt_scheduler_hints: Default::default(),
        };
        let v = c.create_volume().body(body).send().await.map_err(e("volume from backup"))?.into_inner().volume.id;
        wait_for("volume from backup", &[Some("available")], &["error", "error_restoring"], LIMIT, || {
            volume_status(c, &v)
        })
        .await?;
        wait_for("backup after volume create", &[Some("available")], &["error"], LIMIT, || backup_status(c, &full))
            .await?;

        // The full backup cannot go while the incremental depends on it.
        let err = c.delete_backup().backup_id(&full).send().await.err().ok_or("deleting a parent must fail")?;
        ensure!(err.status().map(|s| s.as_u16()) == Some(400), "parent delete: {err}");
        ensure!(err.fault().and_then(|f| f.name()) == Some("badRequest"), "{err}");

        // Reset status (asynchronous for backups), force-delete, delete.
        c.reset_backup_status(&imported, types::BackupResetStatus { status: types::BackupResetStatusStatus::Error })
            .await
            .map_err(e("reset status"))?;
        wait_for("reset backup", &[Some("error")], &[], LIMIT, || backup_status(c, &imported)).await?;
        c.force_delete_backup(&imported).await.map_err(e("force delete"))?;
        c.delete_backup().backup_id(&inc).send().await.map_err(e("delete inc"))?;
        for id in [&imported, &inc] {
            wait_for("backup deletion", &[None], &["error_deleting"], LIMIT, || backup_status(c, id)).await?;
        }
        c.delete_backup().backup_id(&full).send().await.map_err(e("delete full"))?;
        wait_for("backup deletion", &[None], &["error_deleting"], LIMIT, || backup_status(c, &full)).await?;

        for v in [&volume, &restored, &target, &unnamed, &from_import, &v] {
            c.delete_volume().volume_id(v).cascade(true).send().await.map_err(e("delete volume"))?;
        }
        for v in [&volume, &restored, &target, &unnamed, &from_import, &v] {
            wait_for("volume deletion", &[None], &["error_deleting"], LIMIT, || volume_status(c, v)).await?;
        }
        ctx.verify()
    })
}

fn snapshots_metadata_and_actions(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        let c = &ctx.client;
        let volume = new_volume(c, "snap-source").await?;
        let s1 = new_snapshot(c, &volume, "s1").await?;
        let s2 = new_snapshot(c, &volume, "s2").await?;
        let s3 = new_snapshot(c, &volume, "s3").await?;

        // Lists: summary and detail, paging, count, filters.
        let all: Vec<String> =
            c.list_snapshots().limit(1u64).stream().map_ok(|s| s.id).try_collect().await.map_err(e("stream"))?;
        ensure!(all.len() == 3, "summary stream: {all:?}");
        let all: Vec<types::Snapshot> =
            c.list_snapshots_detail().limit(2u64).stream().try_collect().await.map_err(e("stream detail"))?;
        ensure!(
            all.len() == 3 && all.iter().all(|s| s.user_id.is_some() && s.consumes_quota == Some(true)),
            "detail: {all:?}"
        );
        let page = c.list_snapshots().with_count(true).limit(2u64).send().await.map_err(e("count"))?;
        ensure!(page.count == Some(3) && page.snapshots.len() == 2, "count: {page:?}");
        let filtered = c.list_snapshots_detail().name("s2").send().await.map_err(e("name filter"))?;
        ensure!(filtered.snapshots.len() == 1 && filtered.snapshots[0].id == s2, "name filter");
        let filtered = c
            .list_snapshots()
            .metadata("{'purpose':'test'}")
            .consumes_quota(true)
            .send()
            .await
            .map_err(e("metadata filter"))?;
        ensure!(filtered.snapshots.len() == 3, "metadata filter: {}", filtered.snapshots.len());
        let sorted =
            c.list_snapshots().sort_key("name").sort_dir(types::SortDir::Desc).send().await.map_err(e("sort"))?;
        let names: Vec<_> = sorted.snapshots.iter().filter_map(|s| s.name.clone()).collect();
        ensure!(names == ["s3", "s2", "s1"], "sorted: {names:?}");

        // Update.
        let update = types::SnapshotUpdateRequest {
            snapshot: types::SnapshotUpdate { name: Some("s1-renamed".into()), description: Some("described".into()) },
        };
        let updated = c.update_snapshot().snapshot_id(&s1).body(update).send().await.map_err(e("update"))?;
        ensure!(updated.snapshot.name.as_deref() == Some("s1-renamed"), "update");

        // Metadata: show, merge, replace, key show/update/delete.
        let m = c.show_snapshot_metadata().snapshot_id(&s1).send().await.map_err(e("show metadata"))?;
        ensure!(m.metadata.get("purpose").map(String::as_str) == Some("test"), "{:?}", m.metadata);
        let merged = c
            .merge_snapshot_metadata()
            .snapshot_id(&s1)
            .body(types::Metadata { metadata: [("k1".to_owned(), "v1".to_owned())].into() })
            .send()
            .await
            .map_err(e("merge"))?;
        ensure!(merged.metadata.len() == 2, "merge keeps the other keys: {:?}", merged.metadata);
        let replaced = c
            .replace_snapshot_metadata()
            .snapshot_id(&s1)
            .body(types::Metadata { metadata: [("k2".to_owned(), "v2".to_owned())].into() })
            .send()
            .await
            .map_err(e("replace"))?;
        ensure!(replaced.metadata.len() == 1 && replaced.metadata["k2"] == "v2", "replace: {:?}", replaced.metadata);
        let item = c.show_snapshot_metadata_key().snapshot_id(&s1).key("k2").send().await.map_err(e("show key"))?;
        ensure!(item.meta["k2"] == "v2", "show key");
        let item = c
            .update_snapshot_metadata_key()
            .snapshot_id(&s1)
            .key("k2")
            .body(types::MetadataItem { meta: [("k2".to_owned(), "v3".to_owned())].into() })
            .send()
            .await
            .map_err(e("update key"))?;
        ensure!(item.meta["k2"] == "v3", "update key");
        let deleted =
            c.delete_snapshot_metadata_key().snapshot_id(&s1).key("k2").send().await.map_err(e("delete key"))?;
        ensure!(deleted.status().as_u16() == 200, "delete key answers 200");
        let err = c
            .show_snapshot_metadata_key()
            .snapshot_id(&s1)
            .key("k2")
            .send()
            .await
            .err()
            .ok_or("deleted key is gone")?;
        ensure!(err.is_not_found(), "{err}");

        // Actions: reset status (immediate), update status from creating,
        // force-delete, unmanage; then a plain delete.
        c.reset_snapshot_status(&s1, types::SnapshotResetStatus { status: types::SnapshotResetStatusStatus::Creating })
            .await
            .map_err(e("reset to creating"))?;
        c.update_snapshot_status(
            &s1,
            types::SnapshotStatusUpdate {
                status: types::SnapshotStatusUpdateStatus::Available,
                progress: Some("100%".into()),
            },
        )
        .await
        .map_err(e("update status"))?;
        let s = c.show_snapshot().snapshot_id(&s1).send().await.map_err(e("show"))?.into_inner().snapshot;
        ensure!(s.status == types::SnapshotStatus::Available, "status after update: {}", s.status);
        ensure!(
            s.os_extended_snapshot_attributes_progress.as_deref() == Some("100%"),
            "progress: {:?}",
            s.os_extended_snapshot_attributes_progress
        );
        c.reset_snapshot_status(&s2, types::SnapshotResetStatus { status: types::SnapshotResetStatusStatus::Error })
            .await
            .map_err(e("reset to error"))?;
        ensure!(snapshot_status(c, &s2).await.map_err(e("show"))?.as_deref() == Some("error"), "reset is immediate");
        c.force_delete_snapshot(&s2).await.map_err(e("force delete"))?;
        c.unmanage_snapshot(&s3).await.map_err(e("unmanage"))?;
        c.delete_snapshot().snapshot_id(&s1).send().await.map_err(e("delete"))?;
        for s in [&s1, &s2, &s3] {
            wait_for("snapshot removal", &[None], &["error_deleting"], LIMIT, || snapshot_status(c, s)).await?;
        }
        c.delete_volume().volume_id(&volume).send().await.map_err(e("delete volume"))?;
        wait_for("volume deletion", &[None], &["error_deleting"], LIMIT, || volume_status(c, &volume)).await?;
        ctx.verify()
    })
}

fn volumes_paging_and_filters(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        let c = &ctx.client;
        let mut ids = Vec::new();
        for name in ["va", "vb", "vc", "vd"] {
            ids.push(new_volume(c, name).await?);
        }
        let listed: Vec<String> = c
            .list_volumes_detail()
            .limit(1u64)
            .sort("name:asc")
            .stream()
            .map_ok(|v| v.name.unwrap_or_default())
            .try_collect()
            .await
            .map_err(e("stream"))?;
        ensure!(listed == ["va", "vb", "vc", "vd"], "paged and sorted: {listed:?}");
        let page = c.list_volumes_detail().with_count(true).limit(3u64).send().await.map_err(e("count"))?;
        ensure!(page.count == Some(4) && page.volumes.len() == 3, "count");
        let filtered = c
            .list_volumes_detail()
            .name("vc")
            .bootable(false)
            .status(types::VolumeStatus::Available)
            .send()
            .await
            .map_err(e("filters"))?;
        ensure!(filtered.volumes.len() == 1 && filtered.volumes[0].id == ids[2], "filters");
        let shown = c.show_volume().volume_id(&ids[0]).send().await.map_err(e("show"))?.into_inner().volume;
        ensure!(shown.size == Some(1) && shown.bootable.as_deref() == Some("false"), "show: {shown:?}");
        for id in &ids {
            c.delete_volume().volume_id(id).send().await.map_err(e("delete"))?;
        }
        for id in &ids {
            wait_for("volume deletion", &[None], &["error_deleting"], LIMIT, || volume_status(c, id)).await?;
        }
        ctx.verify()
    })
}

fn error_paths(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        let c = &ctx.client;
        // Unknown id: 404 itemNotFound, with message and request id.
        let err =
            c.show_backup().backup_id("00000000-0000-0000-0000-000000000000").send().await.err().ok_or("unknown id")?;
        ensure!(err.is_not_found(), "{err}");
        let fault = err.fault().ok_or("a fault body")?;
        ensure!(fault.name() == Some("itemNotFound"), "{err}");
        ensure!(fault.message().is_some_and(|m| m.contains("could not be found")), "{err}");
        ensure!(err.request_id().is_some_and(|id| id.starts_with("req-")), "{err}");
        ensure!(err.to_string().contains("show_backup failed: HTTP 404 itemNotFound"), "{err}");

        // Invalid body: a name over 255 characters (the client leaves length
        // checks to the server).
        let volume = new_volume(c, "errors").await?;
        let mut long = backup_of(&volume, &"x".repeat(256));
        long.description = None;
        let err = c
            .create_backup()
            .body(types::BackupCreateRequest { backup: long })
            .send()
            .await
            .err()
            .ok_or("invalid body")?;
        ensure!(
            err.status().map(|s| s.as_u16()) == Some(400) && err.fault().and_then(|f| f.name()) == Some("badRequest"),
            "{err}"
        );

        // Wrong state: an incremental backup with no full one.
        let mut inc = backup_of(&volume, "inc");
        inc.incremental = Some(true);
        let err = c
            .create_backup()
            .body(types::BackupCreateRequest { backup: inc })
            .send()
            .await
            .err()
            .ok_or("wrong state")?;
        ensure!(err.status().map(|s| s.as_u16()) == Some(400), "{err}");
        ensure!(err.fault().and_then(|f| f.message()).is_some_and(|m| m.contains("No backups available")), "{err}");

        // Below the operation's microversion: refused before sending.
        let err = ctx
            .at(Microversion::new(3, 8))
            .update_backup()
            .backup_id("00000000-0000-0000-0000-000000000000")
            .body(types::BackupUpdateRequest { backup: Default::default() })
            .send()
            .await
            .err()
            .ok_or("below microversion")?;
        ensure!(matches!(err, Error::MicroversionUnsupported { .. }), "{err}");
        // What the server itself answers there (sent without the client's check).
        let raw = reqwest::Client::new()
            .put(format!("{}/v3/{}/backups/00000000-0000-0000-0000-000000000000", ctx.proxy.url(), ctx.project))
            .header("X-Auth-Token", format!("admin:{}", ctx.project))
            .header("OpenStack-API-Version", "volume 3.8")
            .header("Accept", "application/json")
            .json(&json!({"backup": {"name": "x"}}))
            .send()
            .await
            .map_err(|err| err.to_string())?;
        ensure!(raw.status().as_u16() == 404, "below its microversion the server answers 404, got {}", raw.status());

        // Out of the server's range: 406 computeFault.
        let err = ctx.at(Microversion::new(3, 99)).list_backups().send().await.err().ok_or("out of range")?;
        ensure!(err.status().map(|s| s.as_u16()) == Some(406), "{err}");
        ensure!(err.fault().and_then(|f| f.name()) == Some("computeFault"), "{err}");

        c.delete_volume().volume_id(&volume).send().await.map_err(e("delete"))?;
        wait_for("volume deletion", &[None], &["error_deleting"], LIMIT, || volume_status(c, &volume)).await?;
        ctx.verify()
    })
}

/// The conformance check is not a formality: a real response checked
/// against a spec with one property removed, one nullable dropped and one
/// status value unlisted must fail, naming operation, pointer and value.
fn conformance_rejects_a_wrong_schema(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        let volume = new_volume(&ctx.client, "probe").await?;
        ctx.client.show_volume().volume_id(&volume).send().await.map_err(e("show"))?;
        let exchanges = ctx.proxy.take();
        let show =
            exchanges.iter().rev().find(|x| x.method == "GET" && x.path.ends_with(&volume)).ok_or("recorded show")?;

        let mut wrong = openstack_backups_tests::spec("spec/block-storage-v3.yaml");
        let volume_schema = &mut wrong["components"]["schemas"]["Volume"];
        volume_schema["properties"].as_object_mut().unwrap().remove("migration_status");
        volume_schema["properties"]["updated_at"].as_object_mut().unwrap().remove("nullable");
        wrong["components"]["schemas"]["VolumeStatus"]["x-extensible-enum"] = json!(["creating"]);
        let errors = Conformance::from_value(wrong).check(show, &ctx.project).err().ok_or("the wrong schema passed")?;
        let all = errors.join("\n");
        for expected in [
            "showVolume (GET /volumes/{volume_id}) HTTP 200: at /volume/migration_status: a property the spec does not declare",
            "at /volume/status: a value the spec does not list in `x-extensible-enum`: \"available\"",
        ] {
            ensure!(all.contains(expected), "{expected:?} not reported in:\n{all}");
        }
        // The right spec accepts the same bytes.
        CONFORMANCE.get().expect("spec").check(show, &ctx.project).map_err(|e| e.join("\n"))?;
        ctx.client.delete_volume().volume_id(&volume).send().await.map_err(e("delete"))?;
        wait_for("volume deletion", &[None], &["error_deleting"], LIMIT, || volume_status(&ctx.client, &volume))
            .await?;
        ctx.verify()
    })
}

/// The session layer against the real server: endpoint override with the
/// project filled in, negotiation, paging over many items with a small page
/// size, and the waiters on every lifecycle; then the ten-line example
/// program, configured by OS_CLOUD and a clouds.yaml.
fn session_paging_waiters_and_example(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        use openstack_backups::wait::Waiter;
        let session = openstack_backups::Session::builder()
            .token(format!("admin:{}", ctx.project), Some(ctx.project.clone()))
            .endpoint_override("block_storage", format!("{}/v3/%(project_id)s", ctx.proxy.url()))
            .build()
            .map_err(e("session"))?;
        let c = session.block_storage().await.map_err(e("block_storage"))?;
        let wait = Waiter::new().delays(Duration::from_millis(100), Duration::from_secs(1)).timeout(LIMIT);

        let mut volumes = Vec::new();
        for i in 0..10 {
            let body = types::VolumeCreateRequest {
                volume: types::VolumeCreate {
                    size: Some(1.try_into().unwrap()),
                    name: Some(format!("many-{i:02}")),
                    ..Default::default()
                },
                os_sch_hnt_scheduler_hints: Default::default(),
            };
            volumes.push(c.create_volume().body(body).send().await.map_err(e("create"))?.into_inner().volume.id);
        }
        for id in &volumes {
            c.wait_for_volume(id, types::VolumeStatus::Available).with(&wait).await.map_err(e("wait volume"))?;
        }
        let names: Vec<String> = c
            .list_volumes_detail()
            .limit(3u64)
            .sort("name:asc")
            .stream()
            .map_ok(|v| v.name.unwrap_or_default())
            .try_collect()
            .await
            .map_err(e("stream"))?;
        ensure!(
            names.len() == 10 && names.windows(2).all(|w| w[0] < w[1]),
            "ten volumes in four pages, in order: {names:?}"
        );
        // `offset` skips once: pages of 2 after skipping 3 hold the other
        // seven, exactly what one unpaged request returns.
        let before = ctx.proxy.count(|x| x.path.contains("/volumes/detail"));
        let skipped: Vec<String> = c
            .list_volumes_detail()
            .limit(2u64)
            .offset(3u64)
            .sort("name:asc")
            .stream()
            .map_ok(|v| v.name.unwrap_or_default())
            .try_collect()
            .await
            .map_err(e("stream with offset"))?;
        let pages = ctx.proxy.count(|x| x.path.contains("/volumes/detail")) - before;
        let unpaged: Vec<String> = c
            .list_volumes_detail()
            .offset(3u64)
            .sort("name:asc")
            .send()
            .await
            .map_err(e("unpaged with offset"))?
            .into_inner()
            .volumes
            .into_iter()
            .map(|v| v.name.unwrap_or_default())
            .collect();
        ensure!(
            skipped == unpaged && skipped == names[3..],
            "offset 3, pages of 2: {skipped:?} (unpaged: {unpaged:?})"
        );
        ensure!(pages >= 4, "seven items in pages of two take four requests, saw {pages}");

        let snap = c
            .create_snapshot()
            .body_map(|b| b.snapshot(types::builder::SnapshotCreate::default().volume_id(volumes[0].clone())))
            .send()
            .await
            .map_err(e("snapshot"))?
            .into_inner()
            .snapshot
            .id;
        c.wait_for_snapshot(&snap, types::SnapshotStatus::Available).with(&wait).await.map_err(e("wait snapshot"))?;
        let backup = c
            .create_backup()
            .body_map(|b| b.backup(types::builder::BackupCreate::default().volume_id(volumes[1].clone())))
            .send()
            .await
            .map_err(e("backup"))?
            .into_inner()
            .backup
            .id;
        let done =
            c.wait_for_backup(&backup, types::BackupStatus::Available).with(&wait).await.map_err(e("wait backup"))?;
        ensure!(done.id == backup, "the waiter returns the backup");

        // The example program, as a user runs it.
        let exe = std::env::current_exe().map_err(|err| err.to_string())?;
        let example =
            exe.parent().and_then(|d| d.parent()).map(|d| d.join("examples/backups")).ok_or("target folder")?;
        ensure!(
            example.exists(),
            "{} is missing: run the suite with `cargo xtask test` (it builds the examples)",
            example.display()
        );
        let dir = CINDER.get().expect("server").dir().join(format!("cloud-{}", ctx.project));
        std::fs::create_dir_all(&dir).map_err(|err| err.to_string())?;
        let clouds = dir.join("clouds.yaml");
        std::fs::write(
            &clouds,
            format!(
                "clouds:\n  mycloud:\n    auth_type: admin_token\n    auth:\n      token: admin:{p}\n      project_id: {p}\n    block_storage_endpoint_override: {}/v3/%(project_id)s\n",
                ctx.proxy.url(),
                p = ctx.project
            ),
        )
        .map_err(|err| err.to_string())?;
        let out = tokio::process::Command::new(&example)
            .arg(&volumes[2])
            .env("OS_CLOUD", "mycloud")
            .env("OS_CLIENT_CONFIG_FILE", &clouds)
            .output()
            .await
            .map_err(|err| err.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        ensure!(out.status.success(), "the example failed: {}{}", stdout, String::from_utf8_lossy(&out.stderr));
        ensure!(stdout.starts_with("1 backups\n") && stdout.contains(" is available"), "example printed: {stdout}");

        let all: Vec<types::Backup> = c.list_backups_detail().stream().try_collect().await.map_err(e("list"))?;
        for b in &all {
            c.delete_backup().backup_id(&b.id).send().await.map_err(e("delete backup"))?;
        }
        for b in &all {
            c.wait_for_backup_deleted(&b.id).with(&wait).await.map_err(e("wait backup deleted"))?;
        }
        c.delete_snapshot().snapshot_id(&snap).send().await.map_err(e("delete snapshot"))?;
        c.wait_for_snapshot_deleted(&snap).with(&wait).await.map_err(e("wait snapshot deleted"))?;
        for id in &volumes {
            c.delete_volume().volume_id(id).send().await.map_err(e("delete volume"))?;
        }
        for id in &volumes {
            c.wait_for_volume_deleted(id).with(&wait).await.map_err(e("wait volume deleted"))?;
        }
        ctx.verify()
    })
}

/// Limits and quota sets: a project's quotas set, shown with and without
/// usage, read back through `showLimits` and the session's backup headroom,
/// refused for an unknown key, and reset to the defaults.
fn limits_and_quotas(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        use openstack_backups::quota::{BackupHeadroom, Remaining};
        let c = &ctx.client;
        let p = ctx.project.as_str();
        let quota = |set: &types::QuotaSet, key: &str| set.extra.get(key).cloned();

        // The harness's defaults: unlimited volumes and backups.
        let defaults = c.show_quota_set_defaults().target_project_id(p).send().await.map_err(e("defaults"))?;
        ensure!(defaults.quota_set.id.as_deref() == Some(p), "defaults id: {:?}", defaults.quota_set.id);
        ensure!(matches!(quota(&defaults.quota_set, "backups"), Some(types::QuotaValue::Integer(-1))), "{defaults:?}");
        ensure!(quota(&defaults.quota_set, "volumes___DEFAULT__").is_some(), "per-type keys: {defaults:?}");

        // Set the backup quotas; the answer is every limit, without id.
        let set: std::collections::BTreeMap<String, i64> =
            [("backups".to_owned(), 5), ("backup_gigabytes".to_owned(), 20)].into();
        let updated = c
            .update_quota_set()
            .target_project_id(p)
            .body(types::QuotaSetUpdateRequest { quota_set: set })
            .send()
            .await
            .map_err(e("update quotas"))?;
        ensure!(updated.quota_set.id.is_none(), "update answers without id: {:?}", updated.quota_set.id);
        ensure!(matches!(quota(&updated.quota_set, "backups"), Some(types::QuotaValue::Integer(5))), "{updated:?}");

        // Unknown keys are refused, all named, and nothing is written.
        let bad: std::collections::BTreeMap<String, i64> =
            [("backups".to_owned(), 1), ("backup_snapshots".to_owned(), 1)].into();
        let err = c
            .update_quota_set()
            .target_project_id(p)
            .body(types::QuotaSetUpdateRequest { quota_set: bad })
            .send()
            .await
            .err()
            .ok_or("an unknown quota key was accepted")?;
        ensure!(err.status().map(|s| s.as_u16()) == Some(400), "{err}");
        ensure!(err.to_string().contains("backup_snapshots"), "the key is not named: {err}");

        // Use some of it, then read the usage three ways.
        let volume = new_volume(c, "quota-source").await?;
        let backup = new_backup(c, backup_of(&volume, "counted")).await?;
        let shown = c.show_quota_set().target_project_id(p).usage(true).send().await.map_err(e("show usage"))?;
        match quota(&shown.quota_set, "backups") {
            Some(types::QuotaValue::QuotaUsage(u)) => ensure!(u.limit == 5 && u.in_use == 1, "backups usage: {u:?}"),
            other => return Err(format!("backups with usage: {other:?}")),
        }
        let plain = c.show_quota_set().target_project_id(p).send().await.map_err(e("show"))?;
        ensure!(
            matches!(quota(&plain.quota_set, "backup_gigabytes"), Some(types::QuotaValue::Integer(20))),
            "{plain:?}"
        );

        let limits = c.show_limits().send().await.map_err(e("limits"))?.into_inner().limits;
        let a = &limits.absolute;
        ensure!(limits.rate.is_empty(), "rate: {:?}", limits.rate);
        ensure!(a.max_total_backups == Some(5) && a.total_backups_used == Some(1), "{a:?}");
        ensure!(a.max_total_backup_gigabytes == Some(20) && a.total_backup_gigabytes_used == Some(1), "{a:?}");
        ensure!(a.max_total_volumes == Some(-1), "{a:?}");
        // 3.39: an administrator asks about another project.
        let other = c.show_limits().project_id(random_hex()).send().await.map_err(e("limits of another project"))?;
        ensure!(other.limits.absolute.max_total_backups == Some(-1), "{:?}", other.limits.absolute);

        let room = BackupHeadroom::of(c).await.map_err(e("headroom"))?;
        ensure!(room.backups.remaining() == Remaining::Left(4), "{room}");
        ensure!(room.gigabytes.remaining() == Remaining::Left(19), "{room}");
        ensure!(room.fits(4, 19) == Some(true) && room.fits(5, 1) == Some(false), "{room}");

        // Reset: 200 with an empty body, and the defaults are back.
        let reset = c.delete_quota_set().target_project_id(p).send().await.map_err(e("reset quotas"))?;
        ensure!(reset.status().as_u16() == 200, "reset answered {}", reset.status());
        let back = c.show_limits().send().await.map_err(e("limits after reset"))?;
        ensure!(back.limits.absolute.max_total_backups == Some(-1), "{:?}", back.limits.absolute);

        c.delete_backup().backup_id(&backup).send().await.map_err(e("delete backup"))?;
        wait_for("backup deletion", &[None], &["error_deleting"], LIMIT, || backup_status(c, &backup)).await?;
        c.delete_volume().volume_id(&volume).send().await.map_err(e("delete volume"))?;
        ctx.verify()
    })
}

/// Revert to the latest snapshot, adopt a snapshot left on the backend by
/// `os-unmanage`, the summary volume list and the resource filters.
fn revert_manage_and_filters(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        let c = &ctx.client;
        let volume = new_volume(c, "revert-me").await?;
        let older = new_snapshot(c, &volume, "older").await?;
        let latest = new_snapshot(c, &volume, "latest").await?;

        // Only the latest snapshot will do (400), and below 3.40 the client
        // refuses before sending.
        let err = c
            .revert_volume_to_snapshot(&volume, types::VolumeRevert { snapshot_id: older.clone() })
            .await
            .err()
            .ok_or("a revert to an older snapshot was accepted")?;
        ensure!(err.status().map(|s| s.as_u16()) == Some(400), "{err}");
        ensure!(err.to_string().contains("not the latest"), "{err}");
        let err = ctx
            .at(Microversion::new(3, 39))
            .revert_volume_to_snapshot(&volume, types::VolumeRevert { snapshot_id: latest.clone() })
            .await
            .err()
            .ok_or("a revert at 3.39 was sent")?;
        ensure!(err.kind() == openstack_backups::ErrorKind::MicroversionUnsupported, "{err}");
        let reverted = c
            .revert_volume_to_snapshot(&volume, types::VolumeRevert { snapshot_id: latest.clone() })
            .await
            .map_err(e("revert"))?;
        ensure!(reverted.status().as_u16() == 202, "revert answered {}", reverted.status());
        c.wait_for_volume(&volume, types::VolumeStatus::Available).await.map_err(e("wait for the reverted volume"))?;
        wait_for("snapshot after revert", &[Some("available")], &["error"], LIMIT, || snapshot_status(c, &latest))
            .await?;

        // The summary list: id, name and links.
        let listed = c.list_volumes().name("revert-me").send().await.map_err(e("list volumes"))?;
        ensure!(listed.volumes.len() == 1 && listed.volumes[0].id == volume, "{listed:?}");
        ensure!(listed.volumes[0].links.len() == 2, "links: {:?}", listed.volumes[0].links);
        let all: Vec<String> =
            c.list_volumes().limit(1u64).stream().map_ok(|v| v.id).try_collect().await.map_err(e("stream volumes"))?;
        ensure!(all.contains(&volume), "stream: {all:?}");

        // Unmanage the older snapshot: it stays on the backend, where the
        // manageable list shows it safe to manage; adopt it again.
        c.unmanage_snapshot(&older).await.map_err(e("unmanage"))?;
        wait_for("unmanaged snapshot", &[None], &["error_deleting"], LIMIT, || snapshot_status(c, &older)).await?;
        let host = "harness@file";
        let reference = format!("snapshot-{older}");
        let listed = c.list_manageable_snapshots().host(host).send().await.map_err(e("manageable"))?;
        let entry = listed
            .manageable_snapshots
            .iter()
            .find(|m| m.reference.get("source-name").cloned().flatten().as_deref() == Some(reference.as_str()))
            .ok_or_else(|| format!("{reference} is not listed: {listed:?}"))?;
        ensure!(entry.safe_to_manage == Some(true) && entry.size == Some(1), "{entry:?}");
        let source = entry.source_reference.as_ref().and_then(|r| r.get("source-name").cloned().flatten());
        ensure!(source == Some(format!("volume-{volume}")), "source reference: {source:?}");
        let detail =
            c.list_manageable_snapshots_detail().host(host).sort("reference:asc").send().await.map_err(e("detail"))?;
        let managed = detail
            .manageable_snapshots
            .iter()
            .find(|m| m.cinder_id.as_deref() == Some(latest.as_str()))
            .ok_or("the managed snapshot is not listed with its cinder_id")?;
        ensure!(managed.safe_to_manage == Some(false) && managed.reason_not_safe.is_some(), "{managed:?}");
        let body = types::SnapshotManageRequest {
            snapshot: types::SnapshotManage {
                volume_id: volume.clone(),
                ref_: types::BackendReference([("source-name".to_owned(), Some(reference.clone()))].into()),
                name: Some("adopted".into()),
                description: None,
                metadata: None,
            },
        };
        let adopted = c.manage_snapshot().body(body).send().await.map_err(e("manage"))?.into_inner().snapshot;
        ensure!(adopted.name.as_deref() == Some("adopted"), "{adopted:?}");
        c.wait_for_snapshot(&adopted.id, types::SnapshotStatus::Available)
            .await
            .map_err(e("wait for the adopted snapshot"))?;
        // Managing needs a host or, from 3.17, a cluster; an unknown cluster is a 404.
        let err =
            c.list_manageable_snapshots().cluster("no-such-cluster").send().await.err().ok_or("unknown cluster")?;
        ensure!(err.is_not_found(), "{err}");
        let err = ctx.at(Microversion::new(3, 7)).list_manageable_snapshots().host(host).send().await.err();
        ensure!(err.is_some_and(|e| e.kind() == openstack_backups::ErrorKind::MicroversionUnsupported), "below 3.8");

        // Resource filters: the shipped configuration; an unknown resource is an empty list.
        let filters = c.list_resource_filters().resource("backup").send().await.map_err(e("filters"))?;
        ensure!(filters.resource_filters.len() == 1, "{filters:?}");
        let f = &filters.resource_filters[0];
        ensure!(f.resource == "backup" && f.filters.iter().any(|x| x == "volume_id"), "{f:?}");
        let none = c.list_resource_filters().resource("nothing").send().await.map_err(e("unknown resource"))?;
        ensure!(none.resource_filters.is_empty(), "{none:?}");
        let all = c.list_resource_filters().send().await.map_err(e("all filters"))?;
        ensure!(all.resource_filters.iter().any(|f| f.resource == "volume"), "{all:?}");

        for s in [&adopted.id, &latest] {
            c.delete_snapshot().snapshot_id(s).send().await.map_err(e("delete snapshot"))?;
        }
        for s in [&adopted.id, &latest] {
            wait_for("snapshot deletion", &[None], &["error_deleting"], LIMIT, || snapshot_status(c, s)).await?;
        }
        c.delete_volume().volume_id(&volume).send().await.map_err(e("delete volume"))?;
        ctx.verify()
    })
}

/// A backup that fails for real (its volume's file removed behind Cinder's
/// back, so the backup driver cannot read it) leaves a user message: list
/// it by resource, show it, page through, delete it; below 3.5 the filters
/// are refused before sending, and below 3.3 the call is.
fn user_messages(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        let c = &ctx.client;
        let volume = new_volume(c, "doomed").await?;
        let file = CINDER.get().expect("server").dir().join("volumes").join(format!("volume-{volume}"));
        std::fs::remove_file(&file).map_err(|err| format!("{}: {err}", file.display()))?;
        let b = c
            .create_backup()
            .body(types::BackupCreateRequest { backup: backup_of(&volume, "fails") })
            .send()
            .await
            .map_err(e("create backup"))?
            .into_inner()
            .backup;
        wait_for("the failing backup", &[Some("error")], &["available"], LIMIT, || backup_status(c, &b.id)).await?;

        // The message about it, found by its resource (3.5 filter).
        let page = c.list_messages().resource_uuid(b.id.clone()).send().await.map_err(e("list by resource"))?;
        ensure!(page.messages.len() == 1, "one message about the backup: {:?}", page.messages);
        let m = &page.messages[0];
        ensure!(m.event_id == "VOLUME_VOLUME_BACKUP_013_020", "event id: {}", m.event_id);
        ensure!(m.user_message == "create backup:Backup driver failed to create backup.", "{}", m.user_message);
        ensure!(m.resource_type == Some(types::MessageResourceType::VolumeBackup), "{:?}", m.resource_type);
        ensure!(m.message_level == Some(types::MessageLevel::Error), "{:?}", m.message_level);
        let filtered = c
            .list_messages()
            .resource_type(types::MessageResourceType::VolumeBackup)
            .message_level(types::MessageLevel::Error)
            .event_id(m.event_id.clone())
            .send()
            .await
            .map_err(e("list by type, level and event"))?;
        ensure!(filtered.messages.iter().any(|x| x.id == m.id), "filters: {:?}", filtered.messages);
        let shown = c.show_message().message_id(&m.id).send().await.map_err(e("show"))?.into_inner().message;
        ensure!(shown.id == m.id && shown.request_id == m.request_id, "show: {shown:?}");

        // Paging: one per page, every message once (the list is not limited
        // to this project, so other scenarios' messages may be there too).
        let paged: Vec<types::Message> =
            c.list_messages().limit(1u64).sort("created_at:desc").all().await.map_err(e("paged"))?;
        let ids: BTreeSet<&str> = paged.iter().map(|x| x.id.as_str()).collect();
        ensure!(ids.len() == paged.len() && ids.contains(m.id.as_str()), "paging: {paged:?}");

        // 3.3: the call is there, no parameter is.
        let old = ctx.at(Microversion::new(3, 3));
        let all = old.list_messages().send().await.map_err(e("list at 3.3"))?;
        ensure!(all.messages.iter().any(|x| x.id == m.id), "3.3 lists it: {:?}", all.messages);
        let refused = old.list_messages().resource_uuid(b.id.clone()).send().await;
        ensure!(
            matches!(&refused, Err(err) if err.kind() == openstack_backups::ErrorKind::MicroversionUnsupported),
            "a filter below 3.5 is refused: {refused:?}"
        );
        let below = ctx.at(Microversion::new(3, 2)).show_message().message_id(&m.id).send().await;
        ensure!(
            matches!(&below, Err(err) if err.kind() == openstack_backups::ErrorKind::MicroversionUnsupported),
            "messages below 3.3 are refused: {below:?}"
        );

        c.delete_message().message_id(&m.id).send().await.map_err(e("delete"))?;
        let gone = c.show_message().message_id(&m.id).send().await;
        ensure!(matches!(&gone, Err(err) if err.is_not_found()), "deleted: {gone:?}");
        let again = c.delete_message().message_id(&m.id).send().await;
        ensure!(matches!(&again, Err(err) if err.is_not_found()), "deleted twice: {again:?}");
        ctx.verify()
    })
}

/// A clock the test moves forward: the policy's notion of now (the
/// server's stays real).
#[derive(Debug, Default)]
struct AheadClock(Mutex<chrono::TimeDelta>);

impl openstack_backups::clock::Clock for AheadClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        openstack_backups::clock::SystemClock.now() + *self.0.lock().unwrap()
    }
    fn sleep(&self, duration: Duration) -> openstack_backups::clock::Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A 1 GiB volume, tagged `backup: nightly` or not, once available.
async fn tagged_volume(c: &Client, name: &str, tagged: bool) -> Result<String, String> {
    let mut create =
        types::VolumeCreate { size: Some(1.try_into().unwrap()), name: Some(name.to_owned()), ..Default::default() };
    if tagged {
        create.metadata = Some([("backup".to_owned(), "nightly".to_owned())].into());
    }
    let body = types::VolumeCreateRequest { volume: create, os_sch_hnt_scheduler_hints: Default::default() };
    let v = c.create_volume().body(body).send().await.map_err(e("create volume"))?.into_inner().volume;
    wait_for(name, &[Some("available")], &["error"], LIMIT, || volume_status(c, &v.id)).await?;
    Ok(v.id)
}

/// The backups the `nightly` policy made.
async fn policy_backups(c: &Client) -> Result<Vec<types::Backup>, String> {
    let all = c.list_backups_detail().all().await.map_err(e("list backups"))?;
    Ok(all
        .into_iter()
        .filter(|x| x.metadata.get(openstack_backups::policy::MARKER).is_some_and(|p| p == "nightly"))
        .collect())
}

/// How many temporary snapshots of a policy there are.
async fn temporary_snapshots(c: &Client) -> Result<usize, String> {
    let all = c.list_snapshots_detail().all().await.map_err(e("list snapshots"))?;
    Ok(all.iter().filter(|s| s.metadata.contains_key(openstack_backups::policy::TEMPORARY)).count())
}

/// A backup policy run by the library against Cinder 29: three volumes
/// chosen by metadata (one attached, backed up through a temporary
/// snapshot), a fourth left out and a hand-made backup left alone; runs
/// that skip, chain incrementals, start a new full after `full-every`,
/// prune the policy's own backups only, pick up what a killed run left,
/// and stop at the quota.
fn backup_policy_runs(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    use openstack_backups::clock::Clock;
    use openstack_backups::policy::{self, Action, Outcome as Done, PolicyFile, RunOptions, State};
    Box::pin(async move {
        let c = &ctx.client;
        let a = tagged_volume(c, "pol-a", true).await?;
        let b = tagged_volume(c, "pol-b", true).await?;
        let attached = tagged_volume(c, "pol-c", true).await?;
        let left_out = tagged_volume(c, "pol-untagged", false).await?;
        openstack_backups_tests::attach_volume(&CINDER.get().expect("server").root_url(), &ctx.project, &attached)
            .await?;
        wait_for("pol-c attached", &[Some("in-use")], &["error"], LIMIT, || volume_status(c, &attached)).await?;
        let hand_made = new_backup(c, backup_of(&b, "by-hand")).await?;

        let file = PolicyFile::parse(
            std::path::Path::new("policies.yaml"),
            "policies:
  nightly:
    select: {metadata: {backup: nightly}}
    every: 24h
    full-every: 3
    in-use: snapshot
    keep: {last: 1}
    concurrency: 2
    poll-interval: 1s
    timeout: 5m
    properties: {owner: ops}
",
        )
        .map_err(|err| err.to_string())?;
        let nightly = file.policies["nightly"].clone();
        let clock = Arc::new(AheadClock::default());
        let options = RunOptions { clock: clock.clone(), ..RunOptions::default() };
        let advance = |hours: i64| *clock.0.lock().unwrap() += chrono::TimeDelta::hours(hours);
        let actions = |r: &policy::RunReport| -> BTreeMap<String, String> {
            r.volumes
                .iter()
                .map(|v| (v.volume.label().to_owned(), format!("{} {}", v.action.as_str(), v.outcome.describe())))
                .collect()
        };

        // 1. Full backups of the three, the attached one from a snapshot.
        let first = policy::run(c, &nightly, &options).await.map_err(e("first run"))?;
        ensure!(first.succeeded(), "first run: {first:#?}");
        let want: BTreeMap<String, String> = [("pol-a", "full done"), ("pol-b", "full done"), ("pol-c", "full done")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ensure!(actions(&first) == want, "first run: {:?}", actions(&first));
        let c_backup = first
            .volumes
            .iter()
            .find(|v| v.volume.id == attached)
            .and_then(|v| v.backup_id.clone())
            .ok_or("pol-c's backup")?;
        let shown = c.show_backup().backup_id(&c_backup).send().await.map_err(e("show"))?.into_inner().backup;
        ensure!(
            shown.snapshot_id.is_some() && shown.metadata.get("owner").map(String::as_str) == Some("ops"),
            "{shown:?}"
        );
        ensure!(temporary_snapshots(c).await? == 0, "the temporary snapshot is gone");
        ensure!(volume_status(c, &attached).await.map_err(e("status"))?.as_deref() == Some("in-use"), "still attached");
        ensure!(!first.volumes.iter().any(|v| v.volume.id == left_out), "an untagged volume is not selected");

        // 2. At once again: nothing to do.
        let second = policy::run(c, &nightly, &options).await.map_err(e("second run"))?;
        ensure!(
            second.succeeded() && second.volumes.iter().all(|v| v.action == Action::Skip && v.outcome == Done::Fresh),
            "second run: {:?}",
            actions(&second)
        );
        ensure!(policy_backups(c).await?.len() == 3, "no backup made twice");

        // 3-4. A day later, and another: incrementals (chains of 2, then 3).
        for (night, length) in [(1, 2), (2, 3)] {
            advance(25);
            let run = policy::run(c, &nightly, &options).await.map_err(e("incremental run"))?;
            ensure!(run.succeeded(), "night {night}: {run:#?}");
            for v in &run.volumes {
                ensure!(
                    matches!(v.action, Action::Incremental(_)) && v.outcome == Done::Done,
                    "night {night}: {:?}",
                    actions(&run)
                );
                ensure!(v.reason.to_string() == format!("backup {length} of its chain"), "night {night}: {}", v.reason);
            }
            ensure!(
                run.pruned.iter().all(|g| g.plan.delete_order().is_empty()),
                "a chain's base stays: {:?}",
                run.pruned
            );
        }
        // 5. The chain is full-every long: a full one, and the old chain goes
        // (keep last 1), children first; the hand-made backup stays.
        advance(25);
        let fifth = policy::run(c, &nightly, &options).await.map_err(e("fifth run"))?;
        ensure!(fifth.succeeded(), "fifth run: {fifth:#?}");
        ensure!(fifth.volumes.iter().all(|v| matches!(v.action, Action::Full(_))), "{:?}", actions(&fifth));
        let deleted: usize = fifth.pruned.iter().map(|g| g.plan.delete_order().len()).sum();
        ensure!(deleted == 9, "three chains of three pruned: {:?}", fifth.pruned);
        let left = policy_backups(c).await?;
        ensure!(left.len() == 3 && left.iter().all(|x| !x.is_incremental), "one full each is left: {left:?}");
        ensure!(
            backup_status(c, &hand_made).await.map_err(e("hand-made"))?.as_deref() == Some("available"),
            "the hand-made backup survives"
        );
        ensure!(temporary_snapshots(c).await? == 0, "no temporary snapshot is left");

        // The report (by the server's time, which the policy's clock is ahead
        // of): every volume protected, then stale two days on.
        let real_now = openstack_backups::clock::SystemClock.now();
        let report = policy::report(c, Some(&nightly), &nightly.standard(), real_now).await.map_err(e("report"))?;
        ensure!(
            report.len() == 3 && report.iter().all(|p| p.state == State::Protected && p.chain_length == 1),
            "{report:#?}"
        );
        let later = policy::report(c, Some(&nightly), &nightly.standard(), real_now + chrono::TimeDelta::hours(48))
            .await
            .map_err(e("report"))?;
        ensure!(later.iter().all(|p| p.state == State::Stale), "{later:#?}");

        // 6. What a killed run leaves: a backup of the policy still being
        // made, and a temporary snapshot no backup reads. The next run waits
        // for the first and removes the second, and makes nothing twice.
        advance(25);
        let mut killed = backup_of(&a, "nightly-killed");
        killed.metadata = Some([(policy::MARKER.to_owned(), "nightly".to_owned())].into());
        let flying = c
            .create_backup()
            .body(types::BackupCreateRequest { backup: killed })
            .send()
            .await
            .map_err(e("killed run's backup"))?
            .into_inner()
            .backup
            .id;
        let leftover = c
            .create_snapshot()
            .body(types::SnapshotCreateRequest {
                snapshot: types::SnapshotCreate {
                    volume_id: b.clone(),
                    name: Some("nightly-left".into()),
                    description: None,
                    force: None,
                    metadata: Some(
                        [
                            (policy::MARKER.to_owned(), "nightly".to_owned()),
                            (policy::TEMPORARY.to_owned(), "true".to_owned()),
                        ]
                        .into(),
                    ),
                },
            })
            .send()
            .await
            .map_err(e("leftover snapshot"))?
            .into_inner()
            .snapshot
            .id;
        let sixth = policy::run(c, &nightly, &options).await.map_err(e("sixth run"))?;
        ensure!(sixth.succeeded(), "sixth run: {sixth:#?}");
        let adopted = sixth.volumes.iter().find(|v| v.volume.id == a).ok_or("pol-a")?;
        ensure!(adopted.action == Action::Adopt(flying.clone()) && adopted.outcome == Done::Done, "{adopted:?}");
        ensure!(sixth.cleaned == [(leftover.clone(), Ok(()))], "the leftover snapshot: {:?}", sixth.cleaned);
        ensure!(temporary_snapshots(c).await? == 0, "no temporary snapshot is left");
        let made_for_a = policy_backups(c)
            .await?
            .iter()
            .filter(|x| x.volume_id == a && x.status == types::BackupStatus::Available)
            .count();
        ensure!(made_for_a == 1, "pol-a: the adopted backup and no other after pruning ({made_for_a})");

        // 7. Room for one more backup only: the most at risk gets it, the
        // others are reported, not attempted.
        advance(25);
        let used = c
            .show_limits()
            .send()
            .await
            .map_err(e("limits"))?
            .into_inner()
            .limits
            .absolute
            .total_backups_used
            .unwrap_or(0);
        let quota: BTreeMap<String, i64> = [("backups".to_owned(), used + 1)].into();
        c.update_quota_set()
            .target_project_id(&ctx.project)
            .body(types::QuotaSetUpdateRequest { quota_set: quota })
            .send()
            .await
            .map_err(e("quota"))?;
        let tight = policy::run(c, &nightly, &options).await;
        c.delete_quota_set().target_project_id(&ctx.project).send().await.map_err(e("quota reset"))?;
        let tight = tight.map_err(e("run over quota"))?;
        ensure!(!tight.succeeded(), "over quota is not a success");
        let done = tight.volumes.iter().filter(|v| v.outcome == Done::Done).count();
        let over = tight.volumes.iter().filter(|v| v.reason.to_string().starts_with("over quota: ")).count();
        ensure!((done, over) == (1, 2), "one fits, two are reported: {:?}", actions(&tight));

        // Below 3.43 a backup cannot carry the marker: refused, nothing sent.
        let old = policy::run(&ctx.at(Microversion::new(3, 42)), &nightly, &options).await;
        ensure!(
            matches!(&old, Err(err) if err.kind() == openstack_backups::ErrorKind::MicroversionUnsupported),
            "{old:?}"
        );
        ctx.verify()
    })
}

/// Generic volume groups and group snapshots through Cinder's generic group
/// code (the file driver has no group support of its own): a group type, a
/// group of three volumes (two created in it, one added), a group snapshot
/// and the backups of its members, which cannot be deleted alone, the
/// reset-status actions and their microversions, paging and finders, and
/// the library's `backup_group` doing it all in one call.
fn groups_and_group_snapshots(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        use openstack_backups::group::{GroupBackupError, GroupBackupOptions, backup_group};
        use openstack_backups::wait::Waiter;
        let c = &ctx.client;
        let wait = Waiter::new().delays(Duration::from_millis(100), Duration::from_secs(1)).timeout(LIMIT);
        fn refused<T>(what: &str, r: &Result<T, Error>) -> Outcome {
            match r {
                Err(err) if err.kind() == openstack_backups::ErrorKind::MicroversionUnsupported => Ok(()),
                other => Err(format!("{what} is refused before sending: {:?}", other.as_ref().map(|_| ()))),
            }
        }
        let bad_request = |what: &str, r: Result<(), Error>, text: &str| -> Outcome {
            match r {
                Err(err) if err.status().map(|s| s.as_u16()) == Some(400) && err.to_string().contains(text) => Ok(()),
                other => Err(format!("{what}: wanted a 400 saying {text:?}, got {other:?}")),
            }
        };

        // A group type of this scenario's own (types are cloud-wide).
        let type_name = format!("consistent-{}", ctx.project);
        let body: types::GroupTypeCreateRequest =
            serde_json::from_value(json!({"group_type": {"name": type_name, "description": "db volumes"}}))
                .map_err(|err| err.to_string())?;
        let group_type = c.create_group_type().body(body).send().await.map_err(e("create group type"))?;
        let group_type = group_type.into_inner().group_type;
        let body: types::GroupTypeCreateRequest =
            serde_json::from_value(json!({"group_type": {"name": type_name}})).map_err(|err| err.to_string())?;
        let twice = c.create_group_type().body(body).send().await;
        ensure!(matches!(&twice, Err(err) if err.is_conflict()), "a taken group type name is a 409: {twice:?}");
        let shown = c.show_group_type().group_type_id(&group_type.id).send().await.map_err(e("show group type"))?;
        ensure!(shown.group_type.name == type_name, "{:?}", shown.group_type);
        let found = c.find_group_type(&type_name).await.map_err(e("find group type"))?;
        ensure!(found.id == group_type.id, "found by name: {found:?}");
        let default = c.show_group_type().group_type_id("default").send().await;
        ensure!(matches!(&default, Err(err) if err.is_not_found()), "no default group type: {default:?}");
        let types_paged: Vec<types::GroupType> =
            c.list_group_types().limit(1u64).all().await.map_err(e("group types, one per page"))?;
        ensure!(
            types_paged.iter().any(|t| t.id == group_type.id)
                && types_paged.iter().any(|t| t.name == "default_cgsnapshot_type"),
            "{types_paged:?}"
        );
        refused("group types at 3.10", &ctx.at(Microversion::new(3, 10)).list_group_types().send().await)?;

        // The group: by the type's name and the default volume type's.
        let create = types::GroupCreate {
            group_type: type_name.clone(),
            volume_types: vec!["__DEFAULT__".to_owned()],
            name: Some("db".to_owned()),
            description: None,
            availability_zone: None,
        };
        let made = c
            .create_group()
            .body(types::GroupCreateRequest { group: create })
            .send()
            .await
            .map_err(e("create group"))?
            .into_inner()
            .group;
        let group = c.wait_for_group(&made.id, types::GroupStatus::Available).with(&wait).await.map_err(e("wait"))?;
        ensure!(group.group_type.as_deref() == Some(group_type.id.as_str()), "the type's id: {group:?}");
        refused("a group at 3.12", &ctx.at(Microversion::new(3, 12)).show_group().group_id(&group.id).send().await)?;

        // Two volumes made in the group, a third added.
        let mut volumes = Vec::new();
        for name in ["data", "log"] {
            let body = types::VolumeCreateRequest {
                volume: types::VolumeCreate {
                    size: Some(1.try_into().unwrap()),
                    name: Some(name.into()),
                    group_id: Some(group.id.clone()),
                    volume_type: Some("__DEFAULT__".into()),
                    ..Default::default()
                },
                os_sch_hnt_scheduler_hints: Default::default(),
            };
            let v = c.create_volume().body(body).send().await.map_err(e("volume in the group"))?.into_inner().volume;
            volumes.push(v.id);
        }
        let wal = new_volume(c, "wal").await?;
        for v in &volumes {
            wait_for("a volume of the group", &[Some("available")], &["error"], LIMIT, || volume_status(c, v)).await?;
        }
        let add =
            types::GroupUpdate { add_volumes: Some(wal.clone()), name: None, description: None, remove_volumes: None };
        c.update_group()
            .group_id(&group.id)
            .body(types::GroupUpdateRequest { group: add })
            .send()
            .await
            .map_err(e("add a volume"))?;
        volumes.push(wal.clone());
        c.wait_for_group(&group.id, types::GroupStatus::Available).with(&wait).await.map_err(e("wait update"))?;
        let listed = c.show_group().group_id(&group.id).list_volume(true).send().await.map_err(e("list_volume"))?;
        let members: BTreeSet<&str> = listed.group.volumes.iter().map(String::as_str).collect();
        ensure!(members == volumes.iter().map(String::as_str).collect(), "members: {members:?}");
        let same =
            types::GroupUpdate { name: Some("db".into()), description: None, add_volumes: None, remove_volumes: None };
        let unchanged =
            c.update_group().group_id(&group.id).body(types::GroupUpdateRequest { group: same }).send().await;
        bad_request("a rename to the same name", unchanged.map(|_| ()), "no valid name")?;
        let in_group = c.delete_volume().volume_id(&wal).send().await;
        bad_request("deleting a volume of a group", in_group.map(|_| ()), "belong to a group")?;
        let by_name = c.find_group("db").await.map_err(e("find group"))?;
        ensure!(by_name.id == group.id, "found by name: {by_name:?}");
        let summaries = c.list_groups().name("db").send().await.map_err(e("list groups"))?;
        ensure!(summaries.groups.len() == 1 && summaries.groups[0].id == group.id, "{:?}", summaries.groups);
        let details: Vec<types::Group> =
            c.list_groups_detail().limit(1u64).all().await.map_err(e("groups, one per page"))?;
        ensure!(details.len() == 1 && details[0].volumes.is_empty(), "no list_volume, no volumes: {details:?}");

        // A group snapshot by hand: its members, their backups, refusals.
        let create = types::GroupSnapshotCreate {
            group_id: group.id.clone(),
            name: Some("nightly".into()),
            description: Some("one point".into()),
        };
        let gs = c
            .create_group_snapshot()
            .body(types::GroupSnapshotCreateRequest { group_snapshot: create })
            .send()
            .await
            .map_err(e("create group snapshot"))?
            .into_inner()
            .group_snapshot;
        ensure!(gs.group_type_id.as_deref() == Some(group_type.id.as_str()), "create response: {gs:?}");
        let gs = c
            .wait_for_group_snapshot(&gs.id, types::GroupSnapshotStatus::Available)
            .with(&wait)
            .await
            .map_err(e("wait group snapshot"))?;
        ensure!(gs.group_id == group.id && gs.description.as_deref() == Some("one point"), "{gs:?}");
        let snaps: Vec<types::Snapshot> =
            c.list_snapshots_detail().name("nightly").all().await.map_err(e("member snapshots"))?;
        ensure!(
            snaps.len() == 3 && snaps.iter().all(|s| s.group_snapshot_id.as_deref() == Some(gs.id.as_str())),
            "three members: {snaps:?}"
        );
        let alone = c.delete_snapshot().snapshot_id(&snaps[0].id).send().await;
        bad_request("deleting a member snapshot", alone.map(|_| ()), "must not be part of a group")?;
        let busy = c.delete_group(&group.id, types::GroupDelete { delete_volumes: Some(true) }).await;
        bad_request("deleting a group with group snapshots", busy.map(|_| ()), "Group has existing snapshots")?;
        let mut backup = backup_of(&snaps[0].volume_id, "member");
        backup.snapshot_id = Some(snaps[0].id.clone());
        let b = new_backup(c, backup).await?;
        let shown = c.show_backup().backup_id(&b).send().await.map_err(e("show backup"))?.into_inner().backup;
        ensure!(shown.snapshot_id.as_deref() == Some(snaps[0].id.as_str()), "from the member: {shown:?}");

        // Lists and finders of group snapshots; paging from 3.29 only.
        let all: Vec<types::GroupSnapshotSummary> =
            c.list_group_snapshots().group_id(group.id.clone()).limit(1u64).all().await.map_err(e("paged"))?;
        ensure!(all.len() == 1 && all[0].id == gs.id, "{all:?}");
        let old = ctx.at(Microversion::new(3, 28));
        let unpaged = old.list_group_snapshots_detail().send().await.map_err(e("list at 3.28"))?;
        ensure!(unpaged.group_snapshots.iter().any(|x| x.id == gs.id), "{:?}", unpaged.group_snapshots);
        refused("a limit at 3.28", &old.list_group_snapshots().limit(1u64).send().await)?;
        let found = c.find_group_snapshot("nightly").await.map_err(e("find group snapshot"))?;
        ensure!(found.id == gs.id, "{found:?}");

        // Reset status: 3.19 for group snapshots, 3.20 for groups.
        let to_error = || types::GroupSnapshotResetStatus { status: types::GroupSnapshotResetStatusStatus::Error };
        refused(
            "reset at 3.18",
            &ctx.at(Microversion::new(3, 18)).reset_group_snapshot_status(&gs.id, to_error()).await,
        )?;
        c.reset_group_snapshot_status(&gs.id, to_error()).await.map_err(e("reset group snapshot"))?;
        let now = c.show_group_snapshot().group_snapshot_id(&gs.id).send().await.map_err(e("show"))?;
        ensure!(now.group_snapshot.status == types::GroupSnapshotStatus::Error, "{:?}", now.group_snapshot);
        let available = || types::GroupResetStatus { status: types::GroupResetStatusStatus::Available };
        refused(
            "group reset at 3.19",
            &ctx.at(Microversion::new(3, 19)).reset_group_status(&group.id, available()).await,
        )?;
        c.reset_group_status(&group.id, available()).await.map_err(e("reset group"))?;

        // An `error` group snapshot can be deleted; it takes its members along.
        c.delete_group_snapshot().group_snapshot_id(&gs.id).send().await.map_err(e("delete group snapshot"))?;
        c.wait_for_group_snapshot_deleted(&gs.id).with(&wait).await.map_err(e("group snapshot gone"))?;
        for s in &snaps {
            wait_for("a member snapshot", &[None], &["error_deleting"], LIMIT, || snapshot_status(c, &s.id)).await?;
        }

        // The library's one call: a group snapshot, a backup of each member, the group snapshot gone.
        let options = GroupBackupOptions {
            name: Some("db-set".into()),
            description: Some("consistent".into()),
            waiter: wait.clone(),
            ..Default::default()
        };
        let done = backup_group(c, "db", &options).await.map_err(|err| format!("backup_group: {err}"))?;
        ensure!(done.succeeded() && done.members.len() == 3, "{done:?}");
        for m in &done.members {
            let b = m.outcome.as_ref().map_err(|err| format!("{}: {err}", m.volume_id))?;
            ensure!(b.status == types::BackupStatus::Available && b.name.as_deref() == Some("db-set"), "{b:?}");
            ensure!(b.snapshot_id.as_deref() == Some(m.snapshot_id.as_str()), "from its member snapshot: {b:?}");
            let meta = &b.metadata;
            ensure!(
                meta.get("group_snapshot_id") == Some(&done.group_snapshot.id)
                    && meta.get("group_id") == Some(&group.id),
                "the set is tagged: {meta:?}"
            );
            wait_for("the member snapshot gone", &[None], &["error_deleting"], LIMIT, || {
                snapshot_status(c, &m.snapshot_id)
            })
            .await?;
        }
        let gone = c.show_group_snapshot().group_snapshot_id(&done.group_snapshot.id).send().await;
        ensure!(matches!(&gone, Err(err) if err.is_not_found()), "the group snapshot is gone: {gone:?}");
        // Incremental on the backups just made.
        let incremental = GroupBackupOptions { incremental: true, waiter: wait.clone(), ..Default::default() };
        let again = backup_group(c, &group.id, &incremental).await.map_err(|err| format!("incremental: {err}"))?;
        ensure!(again.succeeded(), "{again:?}");
        ensure!(
            again.members.iter().all(|m| m.outcome.as_ref().is_ok_and(|b| b.is_incremental)),
            "incrementals: {again:?}"
        );
        // A backup policy naming the group: an interrupted run's group
        // snapshot (its description names the policy) goes first; then one
        // group snapshot, every volume backed up from it with the policy's
        // marker, the group snapshot gone; a second run finds all fresh.
        {
            use openstack_backups::policy::{self, Action, Outcome, Policy, RunOptions, Selection, Source};
            let mut p = Policy::new(
                "grouped",
                Selection { group: Some("db".into()), ..Selection::default() },
                Duration::from_secs(86400),
            )?;
            (p.full_every, p.timeout, p.poll_interval) = (2, LIMIT, Duration::from_millis(500));
            let body = types::GroupSnapshotCreateRequest {
                group_snapshot: types::GroupSnapshotCreate {
                    group_id: group.id.clone(),
                    name: Some("grouped-interrupted".into()),
                    description: Some("backup policy grouped".into()),
                },
            };
            let left = c.create_group_snapshot().body(body).send().await.map_err(e("left group snapshot"))?;
            let left = left.into_inner().group_snapshot;
            c.wait_for_group_snapshot(&left.id, types::GroupSnapshotStatus::Available)
                .with(&wait)
                .await
                .map_err(e("wait"))?;
            let report = policy::run(c, &p, &RunOptions::default()).await.map_err(e("policy run"))?;
            ensure!(report.succeeded(), "{report:?}");
            ensure!(
                report.group_snapshots == [(left.id.clone(), Ok::<(), String>(()))] && report.cleaned.is_empty(),
                "the interrupted run's: {:?}",
                report.group_snapshots
            );
            ensure!(report.volumes.len() == 3, "{:?}", report.volumes);
            for v in &report.volumes {
                // The newest backups are backup_group's, not the policy's: full ones.
                ensure!(v.action == Action::Full(Source::GroupSnapshot) && v.outcome == Outcome::Done, "{v:?}");
            }
            let made: Vec<types::Backup> = c.list_backups_detail().all().await.map_err(e("backups"))?;
            let ours: Vec<&types::Backup> =
                made.iter().filter(|b| b.metadata.get(policy::MARKER).map(String::as_str) == Some("grouped")).collect();
            ensure!(ours.len() == 3, "{ours:?}");
            let sets: BTreeSet<Option<&String>> = ours.iter().map(|b| b.metadata.get("group_snapshot_id")).collect();
            ensure!(sets.len() == 1 && !sets.contains(&None), "one group snapshot: {sets:?}");
            let set = sets.into_iter().next().flatten().cloned().unwrap_or_default();
            let gone = c.show_group_snapshot().group_snapshot_id(&set).send().await;
            ensure!(matches!(&gone, Err(err) if err.is_not_found()), "the group snapshot is gone: {gone:?}");
            let again = policy::run(c, &p, &RunOptions::default()).await.map_err(e("second run"))?;
            ensure!(again.succeeded() && again.group_snapshots.is_empty(), "{again:?}");
            ensure!(again.volumes.iter().all(|v| v.outcome == Outcome::Fresh), "{:?}", again.volumes);
            let standard = p.standard();
            let states = policy::report(c, Some(&p), &standard, chrono::Utc::now()).await.map_err(e("report"))?;
            ensure!(states.iter().all(|s| s.state == policy::State::Protected) && states.len() == 3, "{states:?}");
        }

        // An empty group makes nothing.
        let create = types::GroupCreate {
            group_type: group_type.id.clone(),
            volume_types: vec!["__DEFAULT__".to_owned()],
            name: Some("empty".to_owned()),
            description: None,
            availability_zone: None,
        };
        let empty = c.create_group().body(types::GroupCreateRequest { group: create }).send().await;
        let empty = empty.map_err(e("empty group"))?.into_inner().group;
        c.wait_for_group(&empty.id, types::GroupStatus::Available).with(&wait).await.map_err(e("wait empty"))?;
        let nothing = backup_group(c, "empty", &options).await;
        ensure!(
            matches!(&nothing, Err(GroupBackupError::EmptyGroup { group_id }) if *group_id == empty.id),
            "{nothing:?}"
        );
        let missing = backup_group(c, "no-such-group", &options).await;
        ensure!(
            matches!(&missing, Err(GroupBackupError::NotStarted(err)) if err.kind() == openstack_backups::ErrorKind::NotFound),
            "{missing:?}"
        );

        // Clean up: backups, the groups with their volumes, the type.
        let backups: Vec<types::Backup> = c.list_backups_detail().all().await.map_err(e("backups"))?;
        let mut chain: Vec<&types::Backup> = backups.iter().collect();
        chain.sort_by_key(|b| !b.is_incremental);
        for b in chain {
            c.delete_backup().backup_id(&b.id).send().await.map_err(e("delete backup"))?;
            c.wait_for_backup_deleted(&b.id).with(&wait).await.map_err(e("backup gone"))?;
        }
        c.delete_group(&group.id, types::GroupDelete { delete_volumes: Some(true) })
            .await
            .map_err(e("delete group"))?;
        c.delete_group(&empty.id, types::GroupDelete::default()).await.map_err(e("delete empty group"))?;
        for g in [&group.id, &empty.id] {
            c.wait_for_group_deleted(g).with(&wait).await.map_err(e("group gone"))?;
        }
        for v in &volumes {
            wait_for("a volume of the deleted group", &[None], &["error_deleting"], LIMIT, || volume_status(c, v))
                .await?;
        }
        c.delete_group_type().group_type_id(&group_type.id).send().await.map_err(e("delete group type"))?;
        ctx.verify()
    })
}

const SCENARIOS: &[(&str, Scenario)] = &[
    ("limits_and_quotas", limits_and_quotas),
    ("revert_manage_and_filters", revert_manage_and_filters),
    ("session_paging_waiters_and_example", session_paging_waiters_and_example),
    ("conformance_rejects_a_wrong_schema", conformance_rejects_a_wrong_schema),
    ("versions_and_both_url_forms", versions_and_both_url_forms),
    ("backup_lifecycle", backup_lifecycle),
    ("snapshots_metadata_and_actions", snapshots_metadata_and_actions),
    ("volumes_paging_and_filters", volumes_paging_and_filters),
    ("error_paths", error_paths),
    ("request_properties_follow_the_microversion", request_properties_follow_the_microversion),
    ("user_messages", user_messages),
    ("backup_policy_runs", backup_policy_runs),
    ("the_fake_cloud_agrees", the_fake_cloud_agrees),
    ("groups_and_group_snapshots", groups_and_group_snapshots),
];

/// The fake cloud stays honest: the shared lifecycle (statuses reached,
/// refusals' HTTP statuses and fault names, fields that tell the
/// lifecycle) observes the same against this real Cinder 29 as against
/// `openstack-backups-fake`. A difference is a line of each, side by side.
fn the_fake_cloud_agrees(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        use openstack_backups::wait::Waiter;
        use openstack_backups_tests::lifecycle::lifecycle;
        let waiter =
            Waiter::new().timeout(Duration::from_secs(180)).delays(Duration::from_millis(200), Duration::from_secs(1));
        let real = lifecycle(&ctx.client, &ctx.client, &ctx.project, &waiter)
            .await
            .map_err(|e| format!("real Cinder: {e}"))?;
        let cloud = openstack_backups_fake::FakeCloud::start().await;
        let session = cloud.session().map_err(|e| format!("fake: {e}"))?;
        let cinder = session.block_storage().await.map_err(|e| format!("fake: {e}"))?;
        let admin = cloud.admin_session().map_err(|e| format!("fake: {e}"))?;
        let admin = admin.block_storage().await.map_err(|e| format!("fake: {e}"))?;
        let fake = lifecycle(&cinder, &admin, openstack_backups_fake::PROJECT, &Waiter::new())
            .await
            .map_err(|e| format!("fake: {e}"))?;
        openstack_backups_tests::lifecycle::agree("Cinder 29", &real, &fake)?;
        ctx.verify()
    })
}

/// Each gated request-body property of the spec: below its microversion
/// (or, for a maximum, above it) the client refuses before sending, and the
/// proxy sees nothing; at its microversion Cinder 29 takes the same body.
fn request_properties_follow_the_microversion(ctx: Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
    Box::pin(async move {
        use openstack_backups::{Gated, Requirement};

        /// The call was refused with this pointer and requirement, and nothing was sent.
        fn refused<T>(
            ctx: &Ctx,
            result: Result<T, Error>,
            pointer: &str,
            required: Requirement,
            configured: Microversion,
        ) -> Outcome {
            let err = result.err().ok_or_else(|| format!("{pointer} at {configured} was not refused"))?;
            let Error::MicroversionUnsupported(m) = &err else { return Err(format!("{pointer}: {err}")) };
            ensure!(
                matches!(&m.gated, Gated::BodyProperty { pointer: p, .. } if p == pointer)
                    && m.required == required
                    && m.configured == configured,
                "{err}"
            );
            ensure!(err.to_string().contains(pointer), "{err}");
            let sent = ctx.proxy.take();
            ensure!(sent.is_empty(), "{pointer}: {} request(s) reached the server", sent.len());
            Ok(())
        }
        let v = |minor| Microversion::new(3, minor);
        let volume = new_volume(&ctx.client, "gates").await?;
        ctx.verify()?;

        // Backup metadata (3.43) and availability zone (3.51).
        let mut with_metadata = backup_of(&volume, "gated-metadata");
        with_metadata.metadata = Some([("csi.storage.k8s.io/pvc/name".to_owned(), "data".to_owned())].into());
        let create = |version, body: types::BackupCreate| {
            let client = ctx.at(version);
            async move { client.create_backup().body(types::BackupCreateRequest { backup: body }).send().await }
        };
        ctx.verify()?;
        refused(
            &ctx,
            create(v(42), with_metadata.clone()).await,
            "/backup/metadata",
            Requirement::AtLeast(v(43)),
            v(42),
        )?;
        let b1 = create(v(43), with_metadata).await.map_err(e("metadata at 3.43"))?.into_inner().backup.id;
        wait_for("backup b1", &[Some("available")], &["error"], LIMIT, || backup_status(&ctx.client, &b1)).await?;
        let mut with_zone = backup_of(&volume, "gated-zone");
        with_zone.availability_zone = Some("nova".into());
        ctx.verify()?;
        refused(
            &ctx,
            create(v(50), with_zone.clone()).await,
            "/backup/availability_zone",
            Requirement::AtLeast(v(51)),
            v(50),
        )?;
        let b2 = create(v(51), with_zone).await.map_err(e("availability_zone at 3.51"))?.into_inner().backup.id;
        wait_for("backup b2", &[Some("available")], &["error"], LIMIT, || backup_status(&ctx.client, &b2)).await?;

        // Backup update's metadata (3.43; the call itself is 3.9).
        let update = |version| {
            let client = ctx.at(version);
            let id = b1.clone();
            async move {
                client
                    .update_backup()
                    .backup_id(id)
                    .body_map(|b| {
                        b.backup(types::BackupUpdate {
                            metadata: Some([("k".to_owned(), "v".to_owned())].into()),
                            ..Default::default()
                        })
                    })
                    .send()
                    .await
            }
        };
        ctx.verify()?;
        refused(&ctx, update(v(42)).await, "/backup/metadata", Requirement::AtLeast(v(43)), v(42))?;
        update(v(43)).await.map_err(e("update metadata at 3.43"))?;

        // A volume from a backup (3.47); a volume in a group (3.13).
        let from_backup = |version| {
            let client = ctx.at(version);
            let backup = b2.clone();
            async move {
                let body = types::VolumeCreateRequest {
                    volume: types::VolumeCreate {
                        backup_id: Some(backup),
                        name: Some("from-backup".into()),
                        ..Default::default()
                    },
                    os_sch_hnt_scheduler_hints: Default::default(),
                };
                client.create_volume().body(body).send().await
            }
        };
        ctx.verify()?;
        refused(&ctx, from_backup(v(46)).await, "/volume/backup_id", Requirement::AtLeast(v(47)), v(46))?;
        let restored = from_backup(v(47)).await.map_err(e("backup_id at 3.47"))?.into_inner().volume.id;
        wait_for("restored volume", &[Some("available")], &["error", "error_restoring"], LIMIT, || {
            volume_status(&ctx.client, &restored)
        })
        .await?;
        let in_group = |version| {
            let client = ctx.at(version);
            async move {
                let body = types::VolumeCreateRequest {
                    volume: types::VolumeCreate {
                        size: Some(1.try_into().unwrap()),
                        group_id: Some("00000000-0000-0000-0000-000000000000".into()),
                        ..Default::default()
                    },
                    os_sch_hnt_scheduler_hints: Default::default(),
                };
                client.create_volume().body(body).send().await
            }
        };
        ctx.verify()?;
        refused(&ctx, in_group(v(12)).await, "/volume/group_id", Requirement::AtLeast(v(13)), v(12))?;
        // At 3.13 the body passes the schema; the group does not exist.
        let err = in_group(v(13)).await.err().ok_or("a volume in a group that does not exist")?;
        ensure!(
            err.is_not_found() && err.fault().and_then(|f| f.message()).is_some_and(|m| m.contains("Group")),
            "{err}"
        );

        // A snapshot's `force: false` is refused from 3.66 on; `true` is not.
        let snapshot = |version, force| {
            let client = ctx.at(version);
            let volume = volume.clone();
            async move {
                client
                    .create_snapshot()
                    .body_map(|b| {
                        b.snapshot(
                            types::builder::SnapshotCreate::default()
                                .volume_id(volume)
                                .force(force)
                                .name("twin".to_owned()),
                        )
                    })
                    .send()
                    .await
            }
        };
        ctx.verify()?;
        let err = snapshot(v(66), false).await;
        let Err(Error::MicroversionUnsupported(m)) = &err else { return Err(format!("force false at 3.66: {err:?}")) };
        ensure!(
            m.gated == Gated::BodyProperty { pointer: "/snapshot/force".into(), value: Some("false".into()) }
                && m.required == Requirement::AtMost(v(65)),
            "{m}"
        );
        ensure!(ctx.proxy.take().is_empty(), "force: false at 3.66 reached the server");
        let s1 = snapshot(v(65), false).await.map_err(e("force false at 3.65"))?.into_inner().snapshot.id;
        wait_for("snapshot s1", &[Some("available")], &["error"], LIMIT, || snapshot_status(&ctx.client, &s1)).await?;
        let s2 = snapshot(v(66), true).await.map_err(e("force true at 3.66"))?.into_inner().snapshot.id;
        wait_for("snapshot s2", &[Some("available")], &["error"], LIMIT, || snapshot_status(&ctx.client, &s2)).await?;
        // Names and ids, found through the list's name filter (every page).
        ensure!(ctx.client.find_backup("gated-metadata").await.map_err(e("find b1"))?.id == b1, "b1 by name");
        ensure!(ctx.client.find_backup(&b2).await.map_err(e("find b2"))?.id == b2, "b2 by id");
        ensure!(ctx.client.find_volume("gates").await.map_err(e("find volume"))?.id == volume, "the volume by name");
        let err = ctx.client.find_backup("gated").await.err().ok_or("a prefix is not a name")?;
        ensure!(err.kind() == openstack_backups::ErrorKind::NotFound, "{err}");
        let err = ctx.client.find_snapshot("twin").await.err().ok_or("two snapshots named twin")?;
        ensure!(
            matches!(err.find_error(), Some(FindError::Ambiguous { ids, .. }) if ids.len() == 2 && ids.contains(&s1) && ids.contains(&s2)),
            "{err}"
        );
        ctx.verify()?;
        // What the client refuses, the server refuses too: sent by hand.
        let raw = reqwest::Client::new()
            .post(format!("{}/v3/{}/snapshots", ctx.proxy.url(), ctx.project))
            .header("X-Auth-Token", format!("admin:{}", ctx.project))
            .header("OpenStack-API-Version", "volume 3.66")
            .json(&json!({"snapshot": {"volume_id": volume, "force": false}}))
            .send()
            .await
            .map_err(|err| err.to_string())?;
        ensure!(raw.status().as_u16() == 400, "force: false at 3.66 by hand: HTTP {}", raw.status());
        let raw = reqwest::Client::new()
            .post(format!("{}/v3/{}/backups", ctx.proxy.url(), ctx.project))
            .header("X-Auth-Token", format!("admin:{}", ctx.project))
            .header("OpenStack-API-Version", "volume 3.42")
            .json(&json!({"backup": {"volume_id": volume, "metadata": {"k": "v"}}}))
            .send()
            .await
            .map_err(|err| err.to_string())?;
        ensure!(raw.status().as_u16() == 400, "metadata at 3.42 by hand: HTTP {}", raw.status());
        let _ = ctx.proxy.take();

        for s in [&s1, &s2] {
            ctx.client.delete_snapshot().snapshot_id(s).send().await.map_err(e("delete snapshot"))?;
        }
        for s in [&s1, &s2] {
            wait_for("snapshot deletion", &[None], &["error_deleting"], LIMIT, || snapshot_status(&ctx.client, s))
                .await?;
        }
        for b in [&b1, &b2] {
            ctx.client.delete_backup().backup_id(b).send().await.map_err(e("delete backup"))?;
        }
        for b in [&b1, &b2] {
            wait_for("backup deletion", &[None], &["error_deleting"], LIMIT, || backup_status(&ctx.client, b)).await?;
        }
        for id in [&volume, &restored] {
            ctx.client.delete_volume().volume_id(id).send().await.map_err(e("delete volume"))?;
        }
        ctx.verify()
    })
}

/// Every operation of the spec whose responses the scenarios must have
/// validated: all of them, with each action counted on its own (the generic
/// `…/action` operations are only ever called through an action).
fn operations_to_cover() -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(openstack_backups_tests::workspace_root().join("spec/block-storage-v3.yaml")).unwrap();
    openstack_backups_codegen::operation_table("spec/block-storage-v3.yaml", &text)
        .unwrap()
        .into_iter()
        .filter(|row| !row.path.ends_with("/action"))
        .map(|row| row.operation_id)
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in SCENARIOS {
            println!("{name}: test");
        }
        println!("conformance_covers_every_operation: test");
        return ExitCode::SUCCESS;
    }
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let chosen: Vec<_> =
        SCENARIOS.iter().filter(|(name, _)| filter.as_ref().is_none_or(|f| name.contains(f.as_str()))).collect();
    let started = Instant::now();

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("\nrunning {} tests", chosen.len() + usize::from(filter.is_none()));
    let boot = Instant::now();
    match Cinder::start() {
        Ok(cinder) => {
            eprintln!("real Cinder up on port {} in {:.1} s", cinder.port(), boot.elapsed().as_secs_f64());
            let _ = CINDER.set(cinder);
        }
        Err(err) => {
            println!("test real_cinder_server ... FAILED\n\n{err}\n");
            println!("test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out");
            return ExitCode::FAILURE;
        }
    }
    let _ = CONFORMANCE.set(Conformance::load("spec/block-storage-v3.yaml"));

    let results: Arc<Mutex<Vec<(String, Outcome, Duration)>>> = Arc::default();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for (name, scenario) in chosen {
            let results = results.clone();
            let name = (*name).to_owned();
            let scenario = *scenario;
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                let ctx = Ctx::new().await;
                let outcome = match tokio::spawn(scenario(ctx)).await {
                    Ok(outcome) => outcome,
                    Err(panic) => Err(format!("panicked: {panic}")),
                };
                let ok = if outcome.is_ok() { "ok" } else { "FAILED" };
                println!("test {name} ... {ok} ({:.1} s)", t.elapsed().as_secs_f64());
                results.lock().unwrap().push((name, outcome, t.elapsed()));
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });

    let mut results = std::mem::take(&mut *results.lock().unwrap());
    if filter.is_none() {
        let checked = CHECKED.lock().unwrap().clone();
        let missing: Vec<_> = operations_to_cover().difference(&checked).cloned().collect();
        let outcome = if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("no response of these operations was validated against the spec: {missing:?}"))
        };
        println!("test conformance_covers_every_operation ... {}", if outcome.is_ok() { "ok" } else { "FAILED" });
        results.push(("conformance_covers_every_operation".into(), outcome, Duration::ZERO));
    }
    let failed: Vec<_> = results.iter().filter(|(_, o, _)| o.is_err()).collect();
    if !failed.is_empty() {
        println!("\nfailures:\n");
        for (name, outcome, _) in &failed {
            println!("---- {name} ----\n{}\n", outcome.as_ref().unwrap_err());
        }
    }
    let passed = results.len() - failed.len();
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    drop(runtime);
    if let Some(cinder) = CINDER.get() {
        openstack_backups_harness::kill_group(cinder.pid().unwrap_or(0));
    }
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
