//! The fake Trove: backups of the instances a test adds, with parents,
//! statuses on the fake clock, offset paging with Trove's `https` next
//! links, deletion that takes the incrementals along, and strategies that
//! choose the container.

mod common;

use futures_util::TryStreamExt;
use openstack_backups::database::{Client, types};
use openstack_backups_fake::FakeCloud;

fn create(instance: &str, name: &str, incremental: bool, container: Option<&str>) -> types::BackupCreateRequest {
    types::BackupCreateRequest {
        backup: types::BackupCreate {
            name: name.to_owned(),
            instance: Some(instance.to_owned()),
            incremental: Some(incremental.into()),
            swift_container: container.map(str::to_owned),
            copy_to: None,
            description: None,
            parent_id: None,
            restore_from: None,
            source: None,
            storage_driver: None,
        },
    }
}

async fn made(trove: &Client, body: types::BackupCreateRequest) -> types::Backup {
    let created = trove.create_database_backup().body(body).send().await.unwrap().into_inner().backup;
    assert_eq!(created.status, types::BackupStatus::New);
    trove.wait_for_backup(&created.id, types::BackupStatus::Completed).await.unwrap()
}

fn fault<T: std::fmt::Debug>(result: Result<T, openstack_backups::Error>) -> String {
    match result {
        Ok(v) => format!("accepted: {v:?}"),
        Err(e) => {
            format!("HTTP {} {}", e.status().map_or(0, |s| s.as_u16()), e.fault().and_then(|f| f.name()).unwrap_or("-"))
        }
    }
}

#[tokio::test]
async fn backups_chain_page_and_cascade_as_trove_does() {
    let cloud = FakeCloud::start().await;
    // No retries: a retried 500 would move the fake clock past the running
    // backup's end (a DELETE is idempotent, and a 500 is retried).
    let session = cloud.session_builder().retry(openstack_backups::retry::RetryPolicy::none()).build().unwrap();
    let trove = session.database().await.unwrap();
    let db = cloud.add_database_instance();

    let full = made(&trove, create(&db, "full", false, None)).await;
    assert!(full.parent_id.is_none());
    assert!(full.location_ref.as_deref().is_some_and(|l| l.contains("/database_backups/")), "{full:?}");
    let incremental = made(&trove, create(&db, "incremental", true, None)).await;
    assert_eq!(incremental.parent_id.as_deref(), Some(full.id.as_str()), "chained onto the newest COMPLETED");

    // One backup at a time per instance: 422 while one runs.
    let running = trove.create_database_backup().body(create(&db, "running", false, None)).send().await.unwrap();
    assert_eq!(
        fault(trove.create_database_backup().body(create(&db, "again", false, None)).send().await),
        "HTTP 422 unprocessableEntity"
    );
    // Deleting a running backup: Trove 26's 500.
    assert_eq!(
        fault(trove.delete_database_backup().backup_id(&running.backup.id).send().await),
        "HTTP 500 instanceFault"
    );
    trove.wait_for_backup(&running.backup.id, types::BackupStatus::Completed).await.unwrap();

    // Offset paging, newest first, next links in https that the stream follows by their marker.
    let page = trove.list_database_backups().limit(2u64).send().await.unwrap().into_inner();
    assert_eq!(page.backups.len(), 2);
    assert!(
        page.links.first().is_some_and(|l| l.href.starts_with("https://") && l.href.contains("marker=2")),
        "{page:?}"
    );
    let all: Vec<types::Backup> = trove.list_database_backups().limit(1u64).stream().try_collect().await.unwrap();
    let names: Vec<&str> = all.iter().filter_map(|b| b.name.as_deref()).collect();
    assert_eq!(names, ["running", "incremental", "full"]);
    let of_instance = trove.list_instance_backups().instance_id(&db).send().await.unwrap();
    assert_eq!(of_instance.backups.len(), 3);
    assert_eq!(
        fault(trove.list_instance_backups().instance_id("00000000-0000-4000-9000-00000000ffff").send().await),
        "HTTP 404 itemNotFound"
    );

    // Trove writes whole seconds.
    let shown = trove.show_database_backup().backup_id(&incremental.id).send().await.unwrap().into_inner().backup;
    let updated = serde_json::to_value(&shown).unwrap()["updated"].as_str().unwrap_or_default().to_owned();
    assert_eq!(updated.len(), "2026-01-01T00:00:00".len(), "{updated}");

    // A running incremental refuses its chain's deletion.
    let mut body = create(&db, "more", true, None);
    body.backup.parent_id = Some(incremental.id.clone());
    let more = trove.create_database_backup().body(body).send().await.unwrap();
    assert_eq!(more.backup.parent_id.as_deref(), Some(incremental.id.as_str()));
    assert_eq!(fault(trove.delete_database_backup().backup_id(&full.id).send().await), "HTTP 500 instanceFault");
    trove.wait_for_backup(&more.backup.id, types::BackupStatus::Completed).await.unwrap();

    // Trove's validation and project checks.
    let mut bad = create(&db, "bad", false, None);
    bad.backup.description = Some("---".into());
    assert_eq!(fault(trove.create_database_backup().body(bad).send().await), "HTTP 400 badRequest");
    let mut bad = create(&db, "bad", false, None);
    bad.backup.parent_id = Some("abc".into());
    assert_eq!(fault(trove.create_database_backup().body(bad).send().await), "HTTP 400 badRequest");
    assert_eq!(fault(trove.list_database_backups().project_id("another").send().await), "HTTP 403 forbidden");

    // Deleting the full backup takes its incrementals along.
    trove.delete_database_backup().backup_id(&full.id).send().await.unwrap();
    trove.wait_for_backup_deleted(&incremental.id).await.unwrap();
    trove.wait_for_backup_deleted(&full.id).await.unwrap();
    assert_eq!(fault(trove.show_database_backup().backup_id(&full.id).send().await), "HTTP 404 itemNotFound");
}

#[tokio::test]
async fn strategies_choose_the_container_and_failures_end_failed() {
    let cloud = FakeCloud::start().await;
    let trove = cloud.session().unwrap().database().await.unwrap();
    let db = cloud.add_database_instance();
    let strategy = |instance: Option<&str>, container: &str| types::BackupStrategyCreateRequest {
        backup_strategy: types::BackupStrategyCreate {
            instance_id: instance.map(str::to_owned),
            swift_container: container.to_owned(),
        },
    };
    trove.create_backup_strategy().body(strategy(None, "project-wide")).send().await.unwrap();
    let b = made(&trove, create(&db, "one", false, None)).await;
    assert!(b.location_ref.as_deref().is_some_and(|l| l.contains("/project-wide/")), "{b:?}");
    trove.create_backup_strategy().body(strategy(Some(&db), "orders")).send().await.unwrap();
    let b = made(&trove, create(&db, "two", false, None)).await;
    assert!(b.location_ref.as_deref().is_some_and(|l| l.contains("/orders/")), "{b:?}");
    let b = made(&trove, create(&db, "three", false, Some("given"))).await;
    assert!(b.location_ref.as_deref().is_some_and(|l| l.contains("/given/")), "{b:?}");
    let listed = trove.list_backup_strategies().send().await.unwrap();
    assert_eq!(listed.backup_strategies.len(), 2);
    trove.delete_backup_strategy().instance_id(&db).send().await.unwrap();
    let listed = trove.list_backup_strategies().send().await.unwrap();
    assert_eq!(listed.backup_strategies.len(), 1);
    assert_eq!(fault(trove.list_backup_strategies().project_id("another").send().await), "HTTP 403 forbidden");

    cloud.fail_backups_of(&db, "guest agent gone");
    let failing = trove.create_database_backup().body(create(&db, "doomed", false, None)).send().await.unwrap();
    let err = trove.wait_for_backup(&failing.backup.id, types::BackupStatus::Completed).await.unwrap_err();
    assert!(err.to_string().contains("FAILED"), "{err}");
    let unknown = create("00000000-0000-4000-9000-00000000ffff", "x", false, None);
    assert_eq!(fault(trove.create_database_backup().body(unknown).send().await), "HTTP 404 itemNotFound");
}

/// The shared Trove lifecycle (the one the real Trove runs too) on the
/// fake, on backups made through its API.
#[tokio::test]
async fn the_database_lifecycle_runs_on_the_fake() {
    use openstack_backups_tests::lifecycle::{database, seed_database};
    let cloud = FakeCloud::start().await;
    // As the real side of the comparison: no retries.
    let session = cloud.session_builder().retry(openstack_backups::retry::RetryPolicy::none()).build().unwrap();
    let trove = session.database().await.unwrap();
    let db = cloud.add_database_instance();
    let clock = cloud.clock();
    let seeded = seed_database(&trove, &db, &Default::default(), |d| clock.advance(d)).await.unwrap();
    let seen = database(&trove, &seeded).await.unwrap();
    assert!(seen.contains(&r#"list: ["running", "incremental", "full"], a next link false"#.to_owned()), "{seen:#?}");
    assert!(seen.contains(&"delete a running backup: HTTP 500 instanceFault".to_owned()), "{seen:#?}");
}

/// A member's token for raw requests (bodies the typed client cannot send).
async fn member_token(cloud: &FakeCloud) -> String {
    common::token(cloud, openstack_backups_fake::USER, openstack_backups_fake::PASSWORD).await
}

/// What a member and an administrator may ask of the list calls, the
/// filters, and what deleting one backup leaves of the others.
#[tokio::test]
async fn projects_filters_and_deletion_leave_the_rest() {
    let cloud = FakeCloud::start().await;
    let trove = cloud.session().unwrap().database().await.unwrap();
    let admin = cloud.admin_session().unwrap().database().await.unwrap();
    let (a, b) = (cloud.add_database_instance(), cloud.add_database_instance());
    let project = openstack_backups_fake::PROJECT;

    // The member may name its own project, not another, and not all projects;
    // the administrator may do both.
    let own = trove.list_database_backups().project_id(project).send().await.unwrap();
    assert!(own.backups.is_empty());
    assert_eq!(fault(trove.list_database_backups().all_projects(true).send().await), "HTTP 403 forbidden");
    admin.list_database_backups().all_projects(true).send().await.unwrap();
    admin.list_database_backups().project_id("another").send().await.unwrap();

    // Incremental without a parent and without a COMPLETED backup of the
    // same instance: a full backup (another instance's does not count).
    let full_a = made(&trove, create(&a, "full-a", false, None)).await;
    let first_b = made(&trove, create(&b, "first-b", true, None)).await;
    assert_eq!(first_b.parent_id, None, "{first_b:?}");
    // An incremental onto an explicit parent that does not exist: 404.
    let mut orphan = create(&a, "orphan", true, None);
    orphan.backup.parent_id = Some("00000000-0000-4000-b000-00000000ffff".into());
    assert_eq!(fault(trove.create_database_backup().body(orphan).send().await), "HTTP 404 itemNotFound");
    let inc_a = made(&trove, create(&a, "inc-a", true, None)).await;
    assert_eq!(inc_a.parent_id.as_deref(), Some(full_a.id.as_str()));

    // The datastore filter takes the datastore's name or id; another is 404.
    let by_name = trove.list_database_backups().datastore("mysql").send().await.unwrap();
    assert_eq!(by_name.backups.len(), 3);
    let by_id = trove.list_database_backups().datastore("00000000-0000-4000-8000-00000000d5d0").send().await.unwrap();
    assert_eq!(by_id.backups.len(), 3);
    assert_eq!(fault(trove.list_database_backups().datastore("postgresql").send().await), "HTTP 404 itemNotFound");
    // A page of nothing (a raw `limit=0`; the typed client refuses it) has
    // no next link.
    let none: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/backups?limit=0", cloud.database_endpoint()))
        .header("x-auth-token", member_token(&cloud).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["backups"], serde_json::json!([]));
    assert!(none.get("links").is_none(), "{none}");

    // Deleting an unknown backup is a 404 that deletes nothing; deleting an
    // incremental leaves its parent; deleting one backup leaves another
    // instance's.
    assert_eq!(
        fault(trove.delete_database_backup().backup_id("00000000-0000-4000-8000-00000000beef").send().await),
        "HTTP 404 itemNotFound"
    );
    assert_eq!(trove.list_database_backups().send().await.unwrap().backups.len(), 3);
    trove.delete_database_backup().backup_id(&inc_a.id).send().await.unwrap();
    trove.wait_for_backup_deleted(&inc_a.id).await.unwrap();
    trove.delete_database_backup().backup_id(&first_b.id).send().await.unwrap();
    trove.wait_for_backup_deleted(&first_b.id).await.unwrap();
    let left = trove.list_database_backups().send().await.unwrap();
    let left: Vec<&str> = left.backups.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(left, [full_a.id.as_str()]);
}

/// Trove's validation of a create, where the typed client would not let a
/// caller go wrong: an omitted `incremental` is a full backup, an explicit
/// `null` description or an unreadable one is refused.
#[tokio::test]
async fn creates_are_validated_as_trove_validates_them() {
    let cloud = FakeCloud::start().await;
    let db = cloud.add_database_instance();
    let token = member_token(&cloud).await;
    let http = reqwest::Client::new();
    let post = |path: &'static str, body: serde_json::Value| {
        http.post(format!("{}/{path}", cloud.database_endpoint()))
            .header("x-auth-token", token.as_str())
            .json(&body)
            .send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();

    let plain = post("backups", serde_json::json!({"backup": {"name": "plain", "instance": db}})).await.unwrap();
    assert_eq!(status(plain), 202, "no incremental: a full backup");
    cloud.clock().advance(std::time::Duration::from_secs(10));
    for bad in [
        serde_json::json!({"name": "x", "instance": db, "incremental": 2}),
        serde_json::json!({"name": "x", "instance": db, "description": null}),
        serde_json::json!({"name": "x", "instance": db, "swift_container": "---"}),
    ] {
        let r = post("backups", serde_json::json!({ "backup": bad })).await.unwrap();
        assert_eq!(status(r), 400, "{bad}");
    }

    // Strategies: no body is Trove 26's 500, a body that is not an object
    // its 400, a container without a letter or digit its 400.
    assert_eq!(status(post("backup_strategies", serde_json::json!({})).await.unwrap()), 500);
    assert_eq!(status(post("backup_strategies", serde_json::json!({"backup_strategy": null})).await.unwrap()), 400);
    let unreadable = serde_json::json!({"backup_strategy": {"swift_container": "---"}});
    assert_eq!(status(post("backup_strategies", unreadable).await.unwrap()), 400);
    // A container of 1 to 255 characters; an instance that is a UUID, or
    // none (the project's strategy), not `null`.
    let longest = "c".repeat(255);
    for (strategy, accepted) in [
        (serde_json::json!({"swift_container": ""}), false),
        (serde_json::json!({"swift_container": longest}), true),
        (serde_json::json!({"swift_container": format!("{longest}c")}), false),
        (serde_json::json!({"swift_container": "c", "instance_id": null}), false),
        (serde_json::json!({"swift_container": "c", "instance_id": "not-a-uuid"}), false),
        (serde_json::json!({"swift_container": "c", "instance_id": db}), true),
        (serde_json::json!({"swift_container": "c", "size": 1}), false),
    ] {
        let r = post("backup_strategies", serde_json::json!({ "backup_strategy": strategy })).await.unwrap();
        assert_eq!(status(r), if accepted { 202 } else { 400 }, "{strategy}");
    }
}

/// Strategies by project and instance: the member sees its own project's,
/// the administrator another project's (none here); the instance filter
/// keeps that instance's; deleting one keeps the others.
#[tokio::test]
async fn strategies_are_listed_by_project_and_instance() {
    let cloud = FakeCloud::start().await;
    let trove = cloud.session().unwrap().database().await.unwrap();
    let admin = cloud.admin_session().unwrap().database().await.unwrap();
    let (a, b) = (cloud.add_database_instance(), cloud.add_database_instance());
    let strategy = |instance: Option<&str>, container: &str| types::BackupStrategyCreateRequest {
        backup_strategy: types::BackupStrategyCreate {
            instance_id: instance.map(str::to_owned),
            swift_container: container.to_owned(),
        },
    };
    for (instance, container) in [(None, "project-wide"), (Some(&a), "of-a"), (Some(&b), "of-b")] {
        trove.create_backup_strategy().body(strategy(instance.map(String::as_str), container)).send().await.unwrap();
    }
    let containers = |list: types::BackupStrategyList| {
        let mut c: Vec<String> = list.backup_strategies.into_iter().map(|s| s.swift_container).collect();
        c.sort();
        c
    };
    let own = trove.list_backup_strategies().project_id(openstack_backups_fake::PROJECT).send().await.unwrap();
    assert_eq!(containers(own.into_inner()), ["of-a", "of-b", "project-wide"]);
    let other = admin.list_backup_strategies().project_id("another").send().await.unwrap();
    assert!(other.backup_strategies.is_empty(), "{other:?}");
    let of_a = trove.list_backup_strategies().instance_id(&a).send().await.unwrap();
    assert_eq!(containers(of_a.into_inner()), ["of-a"]);

    trove.delete_backup_strategy().instance_id(&a).send().await.unwrap();
    let left = trove.list_backup_strategies().send().await.unwrap();
    assert_eq!(containers(left.into_inner()), ["of-b", "project-wide"]);
}
