//! The fake Trove: backups of the instances a test adds, with parents,
//! statuses on the fake clock, offset paging with Trove's `https` next
//! links, deletion that takes the incrementals along, and strategies that
//! choose the container.

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
            copy_to: Vec::new(),
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
