//! Database (Trove) backups against a real Trove 26 API (fake mode, sqlite),
//! through one `Session` and the recording proxy, every response checked
//! against `spec/database-v1.yaml`.
//!
//! Trove creates a backup only for an ACTIVE instance (a compute server and
//! a guest agent, which fake mode does not provide in working order), so the
//! harness writes backup records into Trove's database and everything that
//! reads them runs against the real API code: list, show, filters, offset
//! paging with its https next links, the waiter's reading of statuses, the
//! error bodies, and a restore into a new instance with the refusals Trove
//! makes before it builds one. Create goes to the real request validator (the
//! `incremental` integer passes it, the instance check refuses); completion
//! of create and delete is tested on the wire (`tests/database.rs`).
//!
//! Own harness (like `real_cinder`): one Trove, scenarios one after the
//! other, each in its own project; then the conformance verdict.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use openstack_backups::database::types;
use openstack_backups::retry::RetryPolicy;
use openstack_backups::wait::Waiter;
use openstack_backups::{ErrorKind, IntBool, Session};
use openstack_backups_harness::{Cinder, TROVE_POST_RATE, Trove};
use openstack_backups_tests::conformance::Conformance;
use openstack_backups_tests::proxy::Proxy;
use openstack_backups_tests::{ensure, random_hex};
use serde_json::{Value, json};

type Outcome = Result<(), String>;

struct World {
    trove: Trove,
    proxy: Proxy,
}

/// One scenario's project (Trove's fake Keystone: the token is the project)
/// and a session whose `database` endpoint goes through the proxy.
struct Ctx {
    project: String,
    session: Session,
}

impl Ctx {
    fn new(world: &World) -> Ctx {
        Self::with_token(world, &random_hex())
    }

    fn with_token(world: &World, project: &str) -> Ctx {
        let session = Session::builder()
            .token(project, Some(project.to_owned()))
            .endpoint_override("database", format!("{}/v1.0/%(project_id)s", world.proxy.url()))
            .retry(RetryPolicy::none())
            .build()
            .expect("session");
        Ctx { project: project.to_owned(), session }
    }

    async fn client(&self) -> Result<openstack_backups::database::Client, String> {
        self.session.database().await.map_err(|e| format!("database client: {e}"))
    }
}

fn uuid() -> String {
    let h = random_hex();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A backup record as Trove would have written it.
fn record(project: &str, name: &str, status: &str, minute: u32) -> Value {
    json!({
        "id": uuid(), "name": name, "project_id": project, "status": status,
        "instance_id": uuid(), "size": 0.25, "location": format!("http://swift.example/backups/{name}.xbstream.gz.enc"),
        "checksum": "9f8c7ba6e3d1", "created": format!("2026-11-23 08:{minute:02}:00"),
        "updated": format!("2026-11-23 08:{minute:02}:30"),
    })
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("seeded id").to_owned()
}

/// List and show: every field as the records hold it, timestamps without
/// zone or fraction, a null size, an incremental's parent, the datastore.
async fn list_and_show(world: &World) -> Outcome {
    let ctx = Ctx::new(world);
    let full = record(&ctx.project, "full", "COMPLETED", 1);
    let mut incremental = record(&ctx.project, "incremental", "COMPLETED", 2);
    incremental["parent_id"] = full["id"].clone();
    incremental["description"] = json!("after the nightly load");
    let mut running = record(&ctx.project, "running", "BUILDING", 3);
    running["size"] = Value::Null;
    world.trove.insert_backups(&[full.clone(), incremental.clone(), running.clone()]).map_err(|e| e.to_string())?;

    let c = ctx.client().await?;
    let list = c.list_database_backups().send().await.map_err(|e| format!("list: {e}"))?;
    ensure!(list.request_id().is_some(), "Trove answers with a request id");
    let list = list.into_inner();
    let names: Vec<&str> = list.backups.iter().filter_map(|b| b.name.as_deref()).collect();
    ensure!(names == ["running", "incremental", "full"], "newest first: {names:?}");
    ensure!(list.links.is_empty(), "one page, no next link: {:?}", list.links);

    let b = c.show_database_backup().backup_id(id_of(&incremental)).send().await.map_err(|e| format!("show: {e}"))?;
    let b = b.into_inner().backup;
    ensure!(b.parent_id.as_deref() == Some(id_of(&full).as_str()), "parent: {:?}", b.parent_id);
    ensure!(b.description.as_deref() == Some("after the nightly load"), "description: {:?}", b.description);
    ensure!(b.status == types::BackupStatus::Completed, "status: {}", b.status);
    ensure!(b.size == Some(0.25), "size: {:?}", b.size);
    ensure!(b.created.to_string().starts_with("2026-11-23T08:02:00"), "created: {}", b.created);
    ensure!(b.project_id.as_deref() == Some(ctx.project.as_str()), "project: {:?}", b.project_id);
    ensure!(b.instance_id == incremental["instance_id"].as_str().map(str::to_owned), "instance: {:?}", b.instance_id);
    ensure!(
        b.location_ref.as_deref().is_some_and(|l| l.ends_with("incremental.xbstream.gz.enc")),
        "{:?}",
        b.location_ref
    );
    let ds = b.datastore.ok_or("no datastore")?;
    ensure!(ds.type_.as_deref() == Some("mysql") && ds.version.as_deref() == Some("5.7"), "datastore: {ds:?}");

    let r = c.show_database_backup().backup_id(id_of(&running)).send().await.map_err(|e| format!("show: {e}"))?;
    let r = r.into_inner().backup;
    ensure!(r.size.is_none() && r.status == types::BackupStatus::Building, "running: {:?} {}", r.size, r.status);
    Ok(())
}

/// 25 backups in pages of 4: the stream follows Trove's next links (which
/// say https although the server speaks http) by their integer offset
/// markers, through the session's own base URL.
async fn paging_with_https_next_links(world: &World) -> Outcome {
    let ctx = Ctx::new(world);
    let records: Vec<Value> = (0..25).map(|i| record(&ctx.project, &format!("b{i:02}"), "COMPLETED", i)).collect();
    world.trove.insert_backups(&records).map_err(|e| e.to_string())?;
    let c = ctx.client().await?;

    let first = c.list_database_backups().limit(4u64).send().await.map_err(|e| format!("first page: {e}"))?;
    let next = first.links.iter().find(|l| l.rel == "next").ok_or("no next link on a full page")?;
    ensure!(next.href.starts_with("https://"), "Trove forces https on next links: {}", next.href);
    ensure!(next.href.contains("marker=4"), "the marker is an offset: {}", next.href);

    let before =
        world.proxy.count(|x| x.method == "GET" && x.path.starts_with(&format!("/v1.0/{}/backups", ctx.project)));
    let names: Vec<String> = c
        .list_database_backups()
        .limit(4u64)
        .stream()
        .map_ok(|b| b.name.unwrap_or_default())
        .try_collect()
        .await
        .map_err(|e| format!("stream: {e}"))?;
    let expected: Vec<String> = (0..25).rev().map(|i| format!("b{i:02}")).collect();
    ensure!(names == expected, "streamed {names:?}");
    let pages =
        world.proxy.count(|x| x.method == "GET" && x.path.starts_with(&format!("/v1.0/{}/backups", ctx.project)))
            - before;
    ensure!(pages == 7, "25 items in pages of 4 are 7 requests, not {pages}");
    let all = c.list_database_backups().limit(10u64).all().await.map_err(|e| format!("all: {e}"))?;
    ensure!(all.len() == 25, "all() collected {}", all.len());
    Ok(())
}

/// Filters as Trove applies them: `instance_id`, `datastore`, and an
/// administrator's `all_projects` with `project_id`.
async fn filters(world: &World) -> Outcome {
    let ctx = Ctx::new(world);
    let other = random_hex();
    let mine = record(&ctx.project, "mine", "COMPLETED", 1);
    let theirs = record(&other, "theirs", "COMPLETED", 2);
    world
        .trove
        .insert_backups(&[mine.clone(), record(&ctx.project, "mine-too", "COMPLETED", 3), theirs.clone()])
        .map_err(|e| e.to_string())?;
    let c = ctx.client().await?;

    let by_instance = c
        .list_database_backups()
        .instance_id(mine["instance_id"].as_str().unwrap())
        .send()
        .await
        .map_err(|e| format!("instance_id filter: {e}"))?;
    let names: Vec<&str> = by_instance.backups.iter().filter_map(|b| b.name.as_deref()).collect();
    ensure!(names == ["mine"], "instance_id filter: {names:?}");
    let mysql = c.list_database_backups().datastore("mysql").send().await.map_err(|e| format!("datastore: {e}"))?;
    ensure!(mysql.backups.len() == 2, "datastore filter: {}", mysql.backups.len());
    let unknown = c.list_database_backups().datastore("postgresql").send().await;
    ensure!(unknown.as_ref().is_err_and(|e| e.is_not_found()), "a datastore Trove does not know is a 404: {unknown:?}");

    // Another project's backups stay hidden from a member ...
    ensure!(
        c.show_database_backup().backup_id(id_of(&theirs)).send().await.is_err_and(|e| e.is_not_found()),
        "another project's backup is not found"
    );
    // ... and an administrator sees them with all_projects.
    let admin = Ctx::with_token(world, &format!("admin{}", &random_hex()[..8]));
    let a = admin.client().await?;
    let seen = a
        .list_database_backups()
        .all_projects(true)
        .project_id(&other)
        .send()
        .await
        .map_err(|e| format!("all_projects: {e}"))?;
    let names: Vec<&str> = seen.backups.iter().filter_map(|b| b.name.as_deref()).collect();
    ensure!(names == ["theirs"], "all_projects + project_id: {names:?}");
    Ok(())
}

/// The waiter reads real statuses: COMPLETED returns at once, FAILED fails
/// fast with the status, a backup that never existed counts as deleted.
async fn waiter_on_real_statuses(world: &World) -> Outcome {
    let ctx = Ctx::new(world);
    let done = record(&ctx.project, "done", "COMPLETED", 1);
    let failed = record(&ctx.project, "failed", "FAILED", 2);
    world.trove.insert_backups(&[done.clone(), failed.clone()]).map_err(|e| e.to_string())?;
    let c = ctx.client().await?;
    let waiter =
        Waiter::new().timeout(Duration::from_secs(10)).delays(Duration::from_millis(50), Duration::from_millis(200));

    let b = c
        .wait_for_backup(&id_of(&done), openstack_backups::database::types::BackupStatus::Completed)
        .with(&waiter)
        .await
        .map_err(|e| format!("waiting for COMPLETED: {e}"))?;
    ensure!(b.name.as_deref() == Some("done"), "{:?}", b.name);
    let t = Instant::now();
    let err = c
        .wait_for_backup(&id_of(&failed), openstack_backups::database::types::BackupStatus::Completed)
        .with(&waiter)
        .await
        .err()
        .ok_or("a FAILED backup did not fail the wait")?;
    ensure!(t.elapsed() < Duration::from_secs(5), "failing fast took {:?}", t.elapsed());
    ensure!(err.to_string().contains("FAILED"), "the error names the status: {err}");
    c.wait_for_backup_deleted(&uuid()).with(&waiter).await.map_err(|e| format!("404 counts as deleted: {e}"))?;
    Ok(())
}

/// Trove's error bodies, from the real server, in the crate's one error type.
async fn errors(world: &World) -> Outcome {
    let ctx = Ctx::new(world);
    let running = record(&ctx.project, "running", "BUILDING", 1);
    let done = record(&ctx.project, "done", "COMPLETED", 2);
    world.trove.insert_backups(&[running.clone(), done.clone()]).map_err(|e| e.to_string())?;
    let c = ctx.client().await?;

    // 404 itemNotFound, with the operation and the request id.
    let e = c.show_database_backup().backup_id(uuid()).send().await.err().ok_or("show of a missing backup")?;
    ensure!(e.is_not_found() && e.kind() == ErrorKind::Server, "{e}");
    ensure!(e.fault().and_then(|f| f.name()) == Some("itemNotFound"), "fault: {:?}", e.fault());
    ensure!(e.request_id().is_some_and(|r| r.starts_with("req-")), "request id: {:?}", e.request_id());
    ensure!(e.operation() == Some("show_database_backup"), "operation: {:?}", e.operation());
    let e = c.list_instance_backups().instance_id(uuid()).send().await.err().ok_or("backups of a missing instance")?;
    ensure!(e.is_not_found(), "{e}");

    // Create: the body (with `incremental` as the integer 1) passes Trove's
    // request validator, which refuses `true` with 400; the instance check
    // then refuses the missing instance.
    let body = |instance: String| types::BackupCreateRequest {
        backup: types::BackupCreate {
            name: "nightly".into(),
            instance: Some(instance),
            description: Some("refused: no such instance".into()),
            parent_id: None,
            incremental: Some(IntBool(true)),
            swift_container: None,
            storage_driver: None,
            restore_from: None,
            copy_to: None,
            source: None,
        },
    };
    let e = c.create_database_backup().body(body(uuid())).send().await.err().ok_or("create for a missing instance")?;
    ensure!(e.status().map(|s| s.as_u16()) != Some(400), "the validator refused the body: {e}");
    ensure!(e.is_not_found(), "a missing instance: {e}");

    // Delete of a running backup is refused. Trove 26 means to answer 422
    // unprocessableEntity, but its age check compares an aware with a naive
    // datetime and fails with 500 instanceFault first: either way an error
    // with the fault's name, and the backup stays.
    let e =
        c.delete_database_backup().backup_id(id_of(&running)).send().await.err().ok_or("delete of a running backup")?;
    let name = e.fault().and_then(|f| f.name()).unwrap_or_default().to_owned();
    ensure!(matches!(name.as_str(), "unprocessableEntity" | "instanceFault"), "fault {name}: {e}");
    let still = c.show_database_backup().backup_id(id_of(&running)).send().await.map_err(|e| format!("show: {e}"))?;
    ensure!(still.backup.status == types::BackupStatus::Building, "{}", still.backup.status);

    // Delete of a finished backup is accepted (202, empty body); the fake
    // task manager then cannot finish it, so completion is a wire test.
    let d = c.delete_database_backup().backup_id(id_of(&done)).send().await.map_err(|e| format!("delete: {e}"))?;
    ensure!(d.status().as_u16() == 202, "delete answered {}", d.status());

    // Rate limits: past TROVE_POST_RATE POSTs a minute, 413 overLimit with
    // `retryAfter`; a POST is not replayed.
    let limited = Ctx::new(world);
    let c = limited.client().await?;
    let mut last = None;
    for _ in 0..=TROVE_POST_RATE {
        last = c.create_database_backup().body(body(uuid())).send().await.err();
    }
    let e = last.ok_or("the last POST succeeded")?;
    ensure!(e.status().map(|s| s.as_u16()) == Some(413), "{e}");
    let f = e.fault().ok_or("no fault")?;
    ensure!(f.name() == Some("overLimit"), "fault {:?}", f.name());
    ensure!(f.retry_after().is_some_and(|s| s.parse::<u32>().is_ok()), "retryAfter: {:?}", f.retry_after());
    Ok(())
}

/// A status this client does not list (a newer Trove's) decodes, and the
/// conformance check, which is strict where the client is tolerant, names
/// it. Through a proxy of its own, so the suite's verdict stays clean.
async fn unknown_status_is_read_and_flagged(world: &World) -> Outcome {
    let proxy = Proxy::start(world.trove.root_url()).await;
    let project = random_hex();
    let session = Session::builder()
        .token(&project, Some(project.clone()))
        .endpoint_override("database", format!("{}/v1.0/%(project_id)s", proxy.url()))
        .build()
        .map_err(|e| e.to_string())?;
    let archived = record(&project, "archived", "ARCHIVED", 1);
    world.trove.insert_backups(std::slice::from_ref(&archived)).map_err(|e| e.to_string())?;
    let c = session.database().await.map_err(|e| e.to_string())?;
    let b = c.show_database_backup().backup_id(id_of(&archived)).send().await.map_err(|e| format!("show: {e}"))?;
    ensure!(b.backup.status.as_str() == "ARCHIVED", "status: {}", b.backup.status);
    ensure!(matches!(b.backup.status, types::BackupStatus::Unknown(_)), "not one of the seven: {:?}", b.backup.status);
    let spec = Conformance::load("spec/database-v1.yaml");
    let exchanges = proxy.take();
    ensure!(exchanges.len() == 1, "{} exchanges", exchanges.len());
    let verdict = spec.check(&exchanges[0], &project);
    ensure!(
        verdict.as_ref().is_err_and(|e| e.iter().any(|m| m.contains("ARCHIVED") && m.contains("/backup/status"))),
        "the conformance check should name the status and its pointer: {verdict:?}"
    );
    Ok(())
}

/// One session, two real services: Cinder's `block-storage` (negotiating
/// its microversion) and Trove's `database`, with the same token.
async fn one_session_serves_cinder_and_trove(world: &World) -> Outcome {
    let cinder = Cinder::start().map_err(|e| format!("Cinder: {e}"))?;
    let project = random_hex();
    world.trove.insert_backups(&[record(&project, "db", "COMPLETED", 1)]).map_err(|e| e.to_string())?;
    // Cinder's noauth takes a token without a colon as both user and
    // project; Trove's fake Keystone takes it as the project.
    let session = Session::builder()
        .token(&project, Some(project.clone()))
        .endpoint_override("block_storage", format!("{}/v3/%(project_id)s", cinder.root_url()))
        .endpoint_override("database", format!("{}/v1.0/%(project_id)s", world.proxy.url()))
        .build()
        .map_err(|e| e.to_string())?;
    let cinder_client = session.block_storage().await.map_err(|e| format!("block storage: {e}"))?;
    let volumes = cinder_client.list_backups_detail().all().await.map_err(|e| format!("Cinder backups: {e}"))?;
    ensure!(volumes.is_empty(), "a new project has no volume backups");
    let trove_client = session.database().await.map_err(|e| format!("database: {e}"))?;
    let db = trove_client.list_database_backups().all().await.map_err(|e| format!("Trove backups: {e}"))?;
    ensure!(db.len() == 1 && db[0].name.as_deref() == Some("db"), "{db:?}");
    Ok(())
}

/// Backup strategies: created (and replaced: a second create for the same
/// scope is an update), listed with and without filters, listed by an
/// administrator for the project and refused to anyone else, deleted (a
/// missing one too), and a container Trove refuses. At most three POSTs per
/// project: the harness's rate limit.
async fn backup_strategies(world: &World) -> Outcome {
    let ctx = Ctx::new(world);
    let c = ctx.client().await?;
    let empty = c.list_backup_strategies().send().await.map_err(|e| format!("list: {e}"))?;
    ensure!(empty.backup_strategies.is_empty(), "{:?}", empty.backup_strategies);

    let create = |instance: Option<String>, container: &str| types::BackupStrategyCreateRequest {
        backup_strategy: types::BackupStrategyCreate { instance_id: instance, swift_container: container.to_owned() },
    };
    let wide =
        c.create_backup_strategy().body(create(None, "nightly")).send().await.map_err(|e| format!("create: {e}"))?;
    ensure!(wide.status().as_u16() == 202, "create answered {}", wide.status());
    let wide = wide.into_inner().backup_strategy;
    ensure!(wide.instance_id.is_empty() && wide.swift_container == "nightly", "{wide:?}");
    ensure!(wide.project_id.as_deref() == Some(ctx.project.as_str()), "{wide:?}");
    ensure!(wide.backend.as_deref() == Some("swift"), "{wide:?}");
    let instance = uuid();
    c.create_backup_strategy()
        .body(create(Some(instance.clone()), "orders-db"))
        .send()
        .await
        .map_err(|e| format!("create for an instance: {e}"))?;
    let replaced =
        c.create_backup_strategy().body(create(None, "nightly-2")).send().await.map_err(|e| format!("replace: {e}"))?;
    ensure!(replaced.backup_strategy.swift_container == "nightly-2", "{:?}", replaced.backup_strategy);

    let all = c.list_backup_strategies().send().await.map_err(|e| format!("list: {e}"))?.into_inner();
    let mut seen: Vec<(String, String)> =
        all.backup_strategies.iter().map(|s| (s.instance_id.clone(), s.swift_container.clone())).collect();
    seen.sort();
    ensure!(seen == [(String::new(), "nightly-2".to_owned()), (instance.clone(), "orders-db".to_owned())], "{seen:?}");
    let one = c.list_backup_strategies().instance_id(&instance).send().await.map_err(|e| format!("filter: {e}"))?;
    ensure!(one.backup_strategies.len() == 1 && one.backup_strategies[0].instance_id == instance, "{one:?}");

    // Another project's strategies: an administrator may list them, a
    // member of a third project may not (403).
    let admin = Ctx::with_token(world, &format!("admin{}", random_hex()));
    let theirs = admin
        .client()
        .await?
        .list_backup_strategies()
        .project_id(&ctx.project)
        .send()
        .await
        .map_err(|e| format!("admin list: {e}"))?;
    ensure!(theirs.backup_strategies.len() == 2, "{theirs:?}");
    let stranger = Ctx::new(world);
    let err = stranger
        .client()
        .await?
        .list_backup_strategies()
        .project_id(&ctx.project)
        .send()
        .await
        .err()
        .ok_or("another project's strategies were listed")?;
    ensure!(err.status().map(|s| s.as_u16()) == Some(403), "{err}");
    // A container without a letter or digit is a 400 (a POST of the
    // stranger's project, not this one's).
    let err = stranger
        .client()
        .await?
        .create_backup_strategy()
        .body(create(None, "---"))
        .send()
        .await
        .err()
        .ok_or("the container `---` was accepted")?;
    ensure!(err.status().map(|s| s.as_u16()) == Some(400), "{err}");

    // Delete the instance's, then the project-wide one, then a missing one.
    let d = c.delete_backup_strategy().instance_id(&instance).send().await.map_err(|e| format!("delete: {e}"))?;
    ensure!(d.status().as_u16() == 202, "delete answered {}", d.status());
    c.delete_backup_strategy().send().await.map_err(|e| format!("delete project-wide: {e}"))?;
    c.delete_backup_strategy().instance_id(uuid()).send().await.map_err(|e| format!("delete a missing one: {e}"))?;
    let left = c.list_backup_strategies().send().await.map_err(|e| format!("list: {e}"))?;
    ensure!(left.backup_strategies.is_empty(), "{:?}", left.backup_strategies);
    Ok(())
}

/// A backup Trove will restore: fake mode's object store answers every
/// HEAD with the checksum `fake-md5-sum`, and Trove compares it with the
/// backup's before it accepts a restore.
fn restorable(project: &str, name: &str, status: &str) -> Value {
    let mut r = record(project, name, status, 1);
    r["checksum"] = json!("fake-md5-sum");
    r
}

/// Restore into a new instance: the one restore Trove accepts, shown and
/// waited for where fake mode leaves it (`BUILD`), an administrator's view
/// of it; then each refusal Trove makes before it makes an instance, met
/// for real. Each refusal in its own project: the harness allows 3 POSTs a
/// minute, and Trove keeps a project's backups from other projects.
async fn restore(world: &World) -> Outcome {
    use openstack_backups::restore::{RestoreError, RestoreOptions, restore_database_backup, restore_request};
    let ctx = Ctx::new(world);
    let good = restorable(&ctx.project, "restorable", "COMPLETED");
    world.trove.insert_backups(std::slice::from_ref(&good)).map_err(|e| e.to_string())?;
    let c = ctx.client().await?;
    let restored = restore_database_backup(&c, "restorable", &RestoreOptions::new("restored", "2"))
        .await
        .map_err(|e| format!("restore: {e}"))?;
    let i = &restored.instance;
    ensure!(i.status == types::InstanceStatus::Build && i.name.as_deref() == Some("restored"), "{i:?}");
    ensure!(i.flavor.as_ref().map(|f| f.id.as_str()) == Some("2"), "flavor: {:?}", i.flavor);
    ensure!(i.volume.as_ref().and_then(|v| v.size) == Some(1), "0.25 GB rounds up to 1: {:?}", i.volume);
    let ds = i.datastore.as_ref().ok_or("no datastore")?;
    ensure!(ds.type_.as_deref() == Some("mysql") && ds.version.as_deref() == Some("5.7"), "the backup's: {ds:?}");

    let shown = c.show_database_instance().instance_id(&i.id).send().await.map_err(|e| format!("show: {e}"))?;
    ensure!(shown.request_id().is_some(), "Trove answers with a request id");
    ensure!(shown.instance.id == i.id && shown.instance.status == types::InstanceStatus::Build, "{:?}", shown.instance);
    ensure!(shown.instance.tenant_id.is_none(), "an administrator's field: {:?}", shown.instance.tenant_id);
    // Fake mode's task manager fails before it builds: the waiter reads
    // BUILD until its timeout, and says so.
    let brief =
        Waiter::new().delays(Duration::from_millis(50), Duration::from_millis(200)).timeout(Duration::from_secs(1));
    let e = c
        .wait_for_instance(&i.id, types::InstanceStatus::Active)
        .with(&brief)
        .await
        .err()
        .ok_or("fake mode's instance left BUILD")?;
    ensure!(e.kind() == ErrorKind::WaitTimedOut && e.to_string().contains("last status: BUILD"), "{e}");
    // An administrator sees another project's instance, with its project.
    let admin = Ctx::with_token(world, &format!("admin{}", random_hex()));
    let theirs = admin.client().await?.show_database_instance().instance_id(&i.id).send().await;
    let theirs = theirs.map_err(|e| format!("admin show: {e}"))?.into_inner().instance;
    ensure!(theirs.tenant_id.as_deref() == Some(ctx.project.as_str()), "{:?}", theirs.tenant_id);
    // Another project does not.
    let other = Ctx::new(world).client().await?;
    let e = other.show_database_instance().instance_id(&i.id).send().await.err().ok_or("another project's instance")?;
    ensure!(e.is_not_found(), "{e}");

    // Refusals, each with Trove's status and the start of its message.
    // `backup` is the seeded record (status, size, checksum as Trove
    // reads them); `options` what the restore asks for.
    struct Refusal {
        what: &'static str,
        status: &'static str,
        size: f64,
        checksum: &'static str,
        options: fn(RestoreOptions) -> RestoreOptions,
        answer: (u16, &'static str, &'static str),
    }
    let same = |o: RestoreOptions| o;
    let refusals = [
        Refusal {
            what: "a running backup",
            status: "BUILDING",
            size: 0.25,
            checksum: "fake-md5-sum",
            options: same,
            answer: (409, "conflict", "Unable to create instance because backup"),
        },
        Refusal {
            what: "a backup larger than the volume",
            status: "COMPLETED",
            size: 5.5,
            checksum: "fake-md5-sum",
            options: |mut o| {
                o.size = std::num::NonZeroU64::new(1);
                o
            },
            answer: (403, "forbidden", "Backup is too large for given flavor or volume."),
        },
        Refusal {
            what: "a stored object whose checksum changed",
            status: "COMPLETED",
            size: 0.25,
            checksum: "9f8c7ba6e3d1",
            options: same,
            answer: (409, "conflict", "Current Swift object checksum does not match"),
        },
        Refusal {
            what: "an unknown flavor",
            status: "COMPLETED",
            size: 0.25,
            checksum: "fake-md5-sum",
            options: |mut o| {
                o.flavor = "no-such-flavor".into();
                o
            },
            answer: (400, "badRequest", "Resource no-such-flavor cannot be found."),
        },
        Refusal {
            what: "a volume above the operator's maximum",
            status: "COMPLETED",
            size: 0.25,
            checksum: "fake-md5-sum",
            options: |mut o| {
                o.size = std::num::NonZeroU64::new(11);
                o
            },
            answer: (413, "overLimit", "Volume 'size' cannot exceed maximum of 10 GB"),
        },
        Refusal {
            what: "an unknown datastore",
            status: "COMPLETED",
            size: 0.25,
            checksum: "fake-md5-sum",
            options: |mut o| {
                o.datastore = Some("postgresql".into());
                o
            },
            answer: (404, "itemNotFound", "Datastore 'postgresql' cannot be found."),
        },
        Refusal {
            what: "an unknown datastore version",
            status: "COMPLETED",
            size: 0.25,
            checksum: "fake-md5-sum",
            options: |mut o| {
                o.datastore_version = Some("9.9".into());
                o
            },
            answer: (400, "badRequest", "Datastore version '9.9' cannot be found."),
        },
    ];
    for r in refusals {
        let ctx = Ctx::new(world);
        let mut seeded = restorable(&ctx.project, "refused", r.status);
        seeded["size"] = json!(r.size);
        seeded["checksum"] = json!(r.checksum);
        world.trove.insert_backups(std::slice::from_ref(&seeded)).map_err(|e| e.to_string())?;
        let options = (r.options)(RestoreOptions::new("refused", "2"));
        let err = restore_database_backup(&ctx.client().await?, "refused", &options)
            .await
            .err()
            .ok_or_else(|| format!("{}: accepted", r.what))?;
        let RestoreError::Restore(e) = &err else { return Err(format!("{}: {err}", r.what)) };
        let fault = e.fault().ok_or_else(|| format!("{}: no fault: {e}", r.what))?;
        let got = (e.status().map_or(0, |s| s.as_u16()), fault.name().unwrap_or_default());
        ensure!(got == (r.answer.0, r.answer.1), "{}: {got:?} {e}", r.what);
        ensure!(fault.message().is_some_and(|m| m.starts_with(r.answer.2)), "{}: {:?}", r.what, fault.message());
        ensure!(e.request_id().is_some(), "{}: no request id", r.what);
    }

    // Another project's backup, by its id: Trove says it does not exist.
    let stranger = Ctx::new(world).client().await?;
    let request = restore_request(&restored.backup, &RestoreOptions::new("theirs", "2")).map_err(|e| e.to_string())?;
    let e = stranger.restore_database_backup().body(request).send().await.err().ok_or("another project's backup")?;
    ensure!(e.is_not_found(), "{e}");
    // A backup that is not a UUID fails Trove's request schema.
    let mut request = restore_request(&restored.backup, &RestoreOptions::new("bad", "2")).map_err(|e| e.to_string())?;
    request.instance.restore_point.backup_ref = format!("http://trove.example/backups/{}", restored.backup.id);
    let e = stranger.restore_database_backup().body(request).send().await.err().ok_or("an href")?;
    ensure!(e.status().map(|s| s.as_u16()) == Some(400) && e.to_string().contains("Validation error"), "{e}");
    Ok(())
}

/// The fake cloud stays honest for Trove: the shared Trove lifecycle
/// observes the same against this real Trove 26 (backups written into its
/// database) as against `openstack-backups-fake` (backups made through its
/// API). A difference is a line of each, side by side.
async fn the_fake_cloud_agrees(world: &World) -> Outcome {
    use openstack_backups_tests::lifecycle::{Seeded, database, seed_database};
    let ctx = Ctx::new(world);
    let full = record(&ctx.project, "full", "COMPLETED", 1);
    let mut incremental = record(&ctx.project, "incremental", "COMPLETED", 2);
    incremental["parent_id"] = full["id"].clone();
    let mut running = record(&ctx.project, "running", "BUILDING", 3);
    running["size"] = Value::Null;
    running["location"] = Value::Null;
    world.trove.insert_backups(&[full.clone(), incremental.clone(), running.clone()]).map_err(|e| e.to_string())?;
    let seeded = Seeded { full: id_of(&full), incremental: id_of(&incremental), running: id_of(&running) };
    let real = database(&ctx.client().await?, &seeded).await.map_err(|e| format!("real Trove: {e}"))?;

    let cloud = openstack_backups_fake::FakeCloud::start().await;
    // The real side's session does not retry (`RetryPolicy::none`): nor
    // does the fake's (a retry's backoff would move its clock).
    let session = cloud.session_builder().retry(RetryPolicy::none()).build().map_err(|e| format!("fake: {e}"))?;
    let trove = session.database().await.map_err(|e| format!("fake: {e}"))?;
    let instance = cloud.add_database_instance();
    let clock = cloud.clock();
    let seeded = seed_database(&trove, &instance, &Waiter::new(), |d| clock.advance(d)).await?;
    let fake = database(&trove, &seeded).await.map_err(|e| format!("fake: {e}"))?;
    openstack_backups_tests::lifecycle::agree("Trove 26", &real, &fake)?;
    Ok(())
}

const NAMES: [&str; 10] = [
    "list_and_show",
    "restore",
    "backup_strategies",
    "paging_with_https_next_links",
    "filters",
    "waiter_on_real_statuses",
    "errors",
    "unknown_status_is_read_and_flagged",
    "one_session_serves_cinder_and_trove",
    "the_fake_cloud_agrees",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for n in NAMES {
            println!("{n}: test");
        }
        println!("database_responses_conform: test");
        return ExitCode::SUCCESS;
    }
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let chosen: Vec<&str> =
        NAMES.iter().copied().filter(|n| filter.as_ref().is_none_or(|f| n.contains(f.as_str()))).collect();
    println!("\nrunning {} tests", chosen.len() + 1);
    let mut results: Vec<(String, Outcome)> = Vec::new();
    runtime.block_on(async {
        let boot = Instant::now();
        let trove = match Trove::start() {
            Ok(t) => t,
            Err(e) => {
                results.push(("real_trove_server".into(), Err(e.to_string())));
                return;
            }
        };
        eprintln!("real Trove up in {:.1} s", boot.elapsed().as_secs_f64());
        let proxy = Proxy::start(trove.root_url()).await;
        let world = World { trove, proxy };
        for name in &chosen {
            let t = Instant::now();
            let outcome = match *name {
                "list_and_show" => list_and_show(&world).await,
                "paging_with_https_next_links" => paging_with_https_next_links(&world).await,
                "filters" => filters(&world).await,
                "waiter_on_real_statuses" => waiter_on_real_statuses(&world).await,
                "errors" => errors(&world).await,
                "unknown_status_is_read_and_flagged" => unknown_status_is_read_and_flagged(&world).await,
                "backup_strategies" => backup_strategies(&world).await,
                "restore" => restore(&world).await,
                "the_fake_cloud_agrees" => the_fake_cloud_agrees(&world).await,
                _ => one_session_serves_cinder_and_trove(&world).await,
            };
            println!(
                "test {name} ... {} ({:.1} s)",
                if outcome.is_ok() { "ok" } else { "FAILED" },
                t.elapsed().as_secs_f64()
            );
            results.push(((*name).to_owned(), outcome));
        }
        // Every response Trove sent, checked against the spec. The paths
        // carry each scenario's project; the checker strips any of them.
        let spec = Conformance::load("spec/database-v1.yaml");
        let mut errors = Vec::new();
        let mut checked = std::collections::BTreeSet::new();
        for ex in world.proxy.take() {
            let project = ex.path.split('/').nth(2).unwrap_or("").to_owned();
            match spec.check(&ex, &project) {
                Ok(c) => {
                    checked.insert(c.operation_id);
                }
                Err(e) => errors.extend(e),
            }
        }
        let text = std::fs::read_to_string(openstack_backups_tests::workspace_root().join("spec/database-v1.yaml"))
            .expect("spec");
        let all: std::collections::BTreeSet<String> =
            openstack_backups_codegen::operation_table("spec/database-v1.yaml", &text)
                .expect("operation table")
                .into_iter()
                .map(|row| row.operation_id)
                .collect();
        let missing: Vec<_> = all.difference(&checked).collect();
        let outcome = if !errors.is_empty() {
            Err(errors.join("\n"))
        } else if filter.is_none() && !missing.is_empty() {
            Err(format!("no response of these operations was validated against the spec: {missing:?}"))
        } else {
            Ok(())
        };
        println!(
            "test database_responses_conform ... {} ({} operations)",
            if outcome.is_ok() { "ok" } else { "FAILED" },
            checked.len()
        );
        results.push(("database_responses_conform".into(), outcome));
    });
    let failed: Vec<_> = results.iter().filter(|(_, o)| o.is_err()).collect();
    if !failed.is_empty() {
        println!("\nfailures:\n");
        for (name, o) in &failed {
            println!("---- {name} ----\n{}\n", o.as_ref().unwrap_err());
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        results.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    drop(runtime);
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
