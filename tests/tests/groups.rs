//! `group::backup_group` where the real Cinder cannot be made to fail on
//! demand, with the typed mocks: a member whose backup Cinder refuses does
//! not stop the others; a backup still running when the wait times out, or
//! one the wait could not read, keeps the group snapshot (deleting it would
//! delete the member under the backup); a volume without a member snapshot
//! is reported; a group snapshot that goes to `error` is deleted again and
//! no backup is made; below 3.25 an empty group is found out by its empty
//! group snapshot, and below 3.43 the backups carry no metadata. And a
//! backup policy naming a group, whose run reports each volume of one
//! group snapshot and leaves an earlier run's group snapshot while a
//! backup reads its member.

use std::time::Duration;

use openstack_backups::block_storage::{Client, mock, types};
use openstack_backups::group::{GroupBackupError, GroupBackupOptions, backup_group};
use openstack_backups::mock::MockServer;
use openstack_backups::retry::RetryPolicy;
use openstack_backups::wait::Waiter;
use openstack_backups::{ClientConfig, Microversion};
use serde_json::{Value, json};

fn cinder(server: &MockServer, version: Microversion) -> Client {
    let config = ClientConfig::new().with_token("t").with_microversion(version).with_retry(RetryPolicy::none());
    Client::new(&format!("{}/v3/p1", server.uri()), config)
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn group(volumes: &[&str]) -> types::GroupResponse {
    typed(json!({"group": {"id": "g1", "status": "available", "name": "db", "group_type": "gt1",
        "volume_types": ["vt1"], "volumes": volumes}}))
}

fn group_snapshot(status: &str) -> types::GroupSnapshotResponse {
    typed(json!({"group_snapshot": {"id": "gs1", "status": status, "group_id": "g1", "group_type_id": "gt1",
        "created_at": "2026-12-05T01:00:00.000000", "name": "set", "description": null}}))
}

fn snapshot(id: &str, volume: &str, group_snapshot: &str) -> Value {
    json!({"id": id, "status": "available", "volume_id": volume, "created_at": "2026-12-05T01:00:00.000000",
        "name": "set", "size": 1, "group_snapshot_id": group_snapshot})
}

fn backup(id: &str, volume: &str, status: &str) -> types::BackupResponse {
    typed(
        json!({"backup": {"id": id, "status": status, "volume_id": volume, "created_at": "2026-12-05T01:00:01.000000",
        "is_incremental": false, "has_dependent_backups": false, "name": "set"}}),
    )
}

/// The group (its volumes only with `list_volume`), its group snapshot
/// (available, then gone once deleted), its two members and a snapshot of
/// the same name from another group snapshot, and the members' settling.
async fn mount_group(server: &MockServer, gs_status: &str) {
    mount_group_of(server, gs_status, &["v1", "v2"]).await;
}

async fn mount_group_of(server: &MockServer, gs_status: &str, volumes: &[&str]) {
    mount_group_only(server, volumes).await;
    mount_group_snapshot(server, gs_status).await;
}

/// The group `g1`: found by its id, its volumes listed with `list_volume`.
async fn mount_group_only(server: &MockServer, volumes: &[&str]) {
    let plain = group(&[]);
    mock::show_group(|when, then| {
        when.group_id("g1").list_volume(None);
        then.ok(&plain);
    })
    .mount(server)
    .await;
    let listed = group(volumes);
    mock::show_group(|when, then| {
        when.group_id("g1").list_volume(true);
        then.ok(&listed);
    })
    .mount(server)
    .await;
}

/// A group snapshot made of `g1` (`gs1`), its status, its two members and
/// a snapshot of the same name from another group snapshot, and the
/// members' settling.
async fn mount_group_snapshot(server: &MockServer, gs_status: &str) {
    let made = typed::<types::GroupSnapshotSummaryResponse>(
        json!({"group_snapshot": {"id": "gs1", "name": "set", "group_type_id": "gt1"}}),
    );
    mock::create_group_snapshot(|_, then| {
        then.accepted(&made);
    })
    .expect(1)
    .mount(server)
    .await;
    let status = group_snapshot(gs_status);
    mock::show_group_snapshot(|when, then| {
        when.group_snapshot_id("gs1");
        then.ok(&status);
    })
    .up_to_n_times(1)
    .with_priority(1)
    .mount(server)
    .await;
    mock::show_group_snapshot(|when, then| {
        when.group_snapshot_id("gs1");
        then.fault(404, "itemNotFound", "GroupSnapshot gs1 could not be found.");
    })
    .mount(server)
    .await;
    let members = typed::<types::SnapshotDetailList>(json!({"snapshots": [
        snapshot("s2", "v2", "gs1"), snapshot("s1", "v1", "gs1"), snapshot("s9", "v9", "gs0")]}));
    mock::list_snapshots_detail(|when, then| {
        when.name("set");
        then.ok(&members);
    })
    .mount(server)
    .await;
    for (id, volume) in [("s1", "v1"), ("s2", "v2")] {
        let shown = typed::<types::SnapshotResponse>(json!({"snapshot": snapshot(id, volume, "gs1")}));
        mock::show_snapshot(|when, then| {
            when.snapshot_id(id);
            then.ok(&shown);
        })
        .mount(server)
        .await;
    }
}

fn options(timeout: Duration) -> GroupBackupOptions {
    GroupBackupOptions {
        name: Some("set".into()),
        waiter: Waiter::new().delays(Duration::from_millis(5), Duration::from_millis(20)).timeout(timeout),
        ..Default::default()
    }
}

/// The backups' bodies, in the order they were sent.
async fn backup_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/backups"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_refused_member_does_not_stop_the_others_and_the_group_snapshot_goes() {
    let server = MockServer::start().await;
    mount_group(&server, "available").await;
    let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": "b1", "name": "set"}}));
    mock::create_backup(|_, then| {
        then.accepted(&made);
    })
    .up_to_n_times(1)
    .with_priority(1)
    .mount(&server)
    .await;
    mock::create_backup(|_, then| {
        then.fault(413, "overLimit", "Maximum number of backups allowed (1) exceeded");
    })
    .mount(&server)
    .await;
    let done = backup("b1", "v1", "available");
    mock::show_backup(|when, then| {
        when.backup_id("b1");
        then.ok(&done);
    })
    .mount(&server)
    .await;
    mock::delete_group_snapshot(|when, then| {
        when.group_snapshot_id("gs1");
        then.accepted();
    })
    .expect(1)
    .mount(&server)
    .await;

    let c = cinder(&server, Microversion::new(3, 71));
    let result = backup_group(&c, "g1", &options(Duration::from_secs(5))).await.unwrap();
    assert!(!result.succeeded());
    assert!(result.cleanup.is_ok(), "{result:?}");
    let ids: Vec<(&str, &str)> =
        result.members.iter().map(|m| (m.volume_id.as_str(), m.snapshot_id.as_str())).collect();
    assert_eq!(ids, [("v1", "s1"), ("v2", "s2")], "the members, by volume; s9 is another group snapshot's");
    assert_eq!(result.members[0].outcome.as_ref().map(|b| b.id.as_str()).ok(), Some("b1"));
    let refused = result.members[1].outcome.as_ref().unwrap_err();
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(413));
    assert_eq!(
        backup_bodies(&server).await,
        [
            json!({"backup": {"volume_id": "v1", "snapshot_id": "s1", "name": "set",
                "metadata": {"group_id": "g1", "group_snapshot_id": "gs1"}}}),
            json!({"backup": {"volume_id": "v2", "snapshot_id": "s2", "name": "set",
                "metadata": {"group_id": "g1", "group_snapshot_id": "gs1"}}}),
        ]
    );
    server.verify().await;
}

#[tokio::test]
async fn a_backup_still_running_keeps_its_group_snapshot() {
    let server = MockServer::start().await;
    mount_group(&server, "available").await;
    for (id, volume) in [("b1", "v1"), ("b2", "v2")] {
        let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": id, "name": "set"}}));
        mock::create_backup(|when, then| {
            when.body(&typed::<types::BackupCreateRequest>(json!({"backup": {"volume_id": volume,
                "snapshot_id": format!("s{}", &volume[1..]), "name": "set", "incremental": true,
                "metadata": {"group_id": "g1", "group_snapshot_id": "gs1"}}})));
            then.accepted(&made);
        })
        .mount(&server)
        .await;
        let status = backup(id, volume, if id == "b1" { "available" } else { "creating" });
        mock::show_backup(|when, then| {
            when.backup_id(id);
            then.ok(&status);
        })
        .mount(&server)
        .await;
    }
    mock::delete_group_snapshot(|_, then| {
        then.accepted();
    })
    .expect(0)
    .mount(&server)
    .await;

    let c = cinder(&server, Microversion::new(3, 71));
    let mut opts = options(Duration::from_millis(200));
    opts.incremental = true;
    let result = backup_group(&c, "g1", &opts).await.unwrap();
    assert!(result.members[0].outcome.is_ok());
    let late = result.members[1].outcome.as_ref().unwrap_err();
    assert_eq!(late.kind(), openstack_backups::ErrorKind::WaitTimedOut);
    let left = result.cleanup.as_ref().unwrap_err();
    assert_eq!(left.group_snapshot_id, "gs1");
    assert_eq!(
        left.to_string(),
        "group snapshot gs1 was left behind: a backup may still be reading a member snapshot (volumes v2)"
    );
    server.verify().await;
}

/// A backup whose wait ends because Cinder kept answering 503 may still be
/// running: the group snapshot stays. And a volume the group lists without
/// a member snapshot (added meanwhile) is reported, not dropped.
#[tokio::test]
async fn a_backup_the_wait_could_not_read_keeps_its_group_snapshot_and_missing_volumes_are_said() {
    let server = MockServer::start().await;
    mount_group_of(&server, "available", &["v1", "v2", "v3"]).await;
    for (id, volume) in [("b1", "v1"), ("b2", "v2")] {
        let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": id, "name": "set"}}));
        mock::create_backup(|when, then| {
            when.body(&typed::<types::BackupCreateRequest>(json!({"backup": {"volume_id": volume,
                "snapshot_id": format!("s{}", &volume[1..]), "name": "set",
                "metadata": {"group_id": "g1", "group_snapshot_id": "gs1"}}})));
            then.accepted(&made);
        })
        .mount(&server)
        .await;
    }
    let done = backup("b1", "v1", "available");
    mock::show_backup(|when, then| {
        when.backup_id("b1");
        then.ok(&done);
    })
    .mount(&server)
    .await;
    mock::show_backup(|when, then| {
        when.backup_id("b2");
        then.fault(503, "serviceUnavailable", "try later");
    })
    .mount(&server)
    .await;
    mock::delete_group_snapshot(|_, then| {
        then.accepted();
    })
    .expect(0)
    .mount(&server)
    .await;

    let c = cinder(&server, Microversion::new(3, 71));
    let result = backup_group(&c, "g1", &options(Duration::from_millis(300))).await.unwrap();
    assert_ne!(result.members[1].outcome.as_ref().unwrap_err().kind(), openstack_backups::ErrorKind::WaitTimedOut);
    assert_eq!(result.missing, ["v3"]);
    assert!(!result.succeeded());
    let left = result.cleanup.as_ref().unwrap_err();
    assert!(left.reason.contains("(volumes v2)"), "{left}");
    server.verify().await;
}

/// A member snapshot still `backing-up` after every backup ended keeps
/// the group snapshot.
#[tokio::test]
async fn a_member_still_being_read_keeps_its_group_snapshot() {
    let server = MockServer::start().await;
    mount_group_of(&server, "available", &["v1"]).await;
    let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": "b1", "name": "set"}}));
    mock::create_backup(|_, then| {
        then.accepted(&made);
    })
    .mount(&server)
    .await;
    let done = backup("b1", "v1", "available");
    mock::show_backup(|_, then| {
        then.ok(&done);
    })
    .mount(&server)
    .await;
    let mut reading = snapshot("s1", "v1", "gs1");
    reading["status"] = json!("backing-up");
    let reading = typed::<types::SnapshotResponse>(json!({"snapshot": reading}));
    mock::show_snapshot(|when, then| {
        when.snapshot_id("s1");
        then.ok(&reading);
    })
    .with_priority(1)
    .mount(&server)
    .await;
    mock::delete_group_snapshot(|_, then| {
        then.accepted();
    })
    .expect(0)
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 71));
    let result = backup_group(&c, "g1", &options(Duration::from_millis(200))).await.unwrap();
    assert!(result.members.iter().all(|m| m.outcome.is_ok()) && result.missing.is_empty());
    let left = result.cleanup.as_ref().unwrap_err();
    assert_eq!(left.reason, "member snapshots did not come back from being read (s1)");
    server.verify().await;
}

#[tokio::test]
async fn a_failed_group_snapshot_is_deleted_again_and_nothing_is_backed_up() {
    let server = MockServer::start().await;
    mount_group(&server, "error").await;
    mock::delete_group_snapshot(|_, then| {
        then.accepted();
    })
    .expect(1)
    .mount(&server)
    .await;
    mock::create_backup(|_, then| {
        then.fault(500, "computeFault", "not expected");
    })
    .expect(0)
    .mount(&server)
    .await;

    let c = cinder(&server, Microversion::new(3, 71));
    let err = backup_group(&c, "g1", &options(Duration::from_secs(5))).await.unwrap_err();
    let GroupBackupError::GroupSnapshot { id, error, cleanup } = &err else { panic!("{err:?}") };
    assert_eq!((id.as_str(), error.kind()), ("gs1", openstack_backups::ErrorKind::WaitFailed));
    assert!(cleanup.is_ok());
    let text = err.to_string();
    assert!(
        text.starts_with("group snapshot gs1 failed: ")
            && text.ends_with("; it was deleted again, and no backup was made"),
        "{text}"
    );
    assert!(std::error::Error::source(&err).is_some(), "the wait's error is its source");
    server.verify().await;
}

#[tokio::test]
async fn an_empty_group_makes_nothing_at_3_25_and_is_found_out_by_its_group_snapshot_below() {
    let server = MockServer::start().await;
    let empty = group(&[]);
    mock::show_group(|when, then| {
        when.group_id("g1");
        then.ok(&empty);
    })
    .mount(&server)
    .await;
    // (The group's volumes are asked for: an empty list is the group's.)
    mock::create_group_snapshot(|_, then| {
        then.fault(500, "computeFault", "not expected");
    })
    .expect(0)
    .mount(&server)
    .await;
    let err = backup_group(&cinder(&server, Microversion::new(3, 25)), "g1", &options(Duration::from_secs(5))).await;
    let err = err.unwrap_err();
    assert!(matches!(&err, GroupBackupError::EmptyGroup { group_id } if group_id == "g1"), "{err:?}");
    assert_eq!(err.to_string(), "nothing was made: group g1 has no volumes");
    assert!(std::error::Error::source(&err).is_none());
    server.verify().await;
    let asked = server.received_requests().await.unwrap();
    assert!(asked.iter().any(|r| r.url.query() == Some("list_volume=true")), "the group's volumes were asked for");

    // Below 3.25 the group does not list its volumes: the group snapshot
    // is made, has no members, and is deleted again.
    let server = MockServer::start().await;
    mount_group(&server, "available").await;
    let none = typed::<types::SnapshotDetailList>(json!({"snapshots": []}));
    mock::list_snapshots_detail(|_, then| {
        then.ok(&none);
    })
    .with_priority(1)
    .mount(&server)
    .await;
    mock::delete_group_snapshot(|_, then| {
        then.accepted();
    })
    .expect(1)
    .mount(&server)
    .await;
    let err = backup_group(&cinder(&server, Microversion::new(3, 24)), "g1", &options(Duration::from_secs(5))).await;
    let err = err.unwrap_err();
    assert!(matches!(&err, GroupBackupError::NoMembers { id, cleanup: Ok(()) } if id == "gs1"), "{err:?}");
    server.verify().await;
    let shows: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/groups/g1"))
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect();
    assert_eq!(shows, [""], "no list_volume below 3.25");
}

#[tokio::test]
async fn below_3_43_the_backups_carry_no_metadata() {
    let server = MockServer::start().await;
    mount_group(&server, "available").await;
    let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": "b1", "name": "set"}}));
    mock::create_backup(|_, then| {
        then.accepted(&made);
    })
    .mount(&server)
    .await;
    let done = backup("b1", "v1", "available");
    mock::show_backup(|_, then| {
        then.ok(&done);
    })
    .mount(&server)
    .await;
    mock::delete_group_snapshot(|_, then| {
        then.accepted();
    })
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 42));
    let result = backup_group(&c, "g1", &options(Duration::from_secs(5))).await.unwrap();
    assert!(result.succeeded(), "{result:?}");
    let bodies = backup_bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    assert!(bodies.iter().all(|b| b["backup"].get("metadata").is_none()), "{bodies:?}");
}

/// A backup policy naming a group, where one member's backup fails: the
/// other volume is done, the failed one says Cinder's reason, both come
/// from one group snapshot with the policy's marker and the group's tags,
/// and the group snapshot goes once nothing reads it. The run's own
/// listings (volumes, backups, temporary snapshots, group snapshots) see
/// an empty project otherwise.
#[tokio::test]
async fn a_group_policy_run_reports_each_volume_of_its_group_snapshot() {
    use openstack_backups::policy::{self, Action, Outcome, Policy, RunOptions, Selection, Source};
    let server = MockServer::start().await;
    mount_group(&server, "available").await;
    let volumes = typed::<types::VolumeDetailList>(json!({"volumes": [
        {"id": "v1", "status": "available", "size": 1, "name": "data"},
        {"id": "v2", "status": "in-use", "size": 1, "name": "log"},
        {"id": "v9", "status": "available", "size": 1, "name": "elsewhere"}]}));
    mock::list_volumes_detail(|_, then| {
        then.ok(&volumes);
    })
    .mount(&server)
    .await;
    let none = typed::<types::BackupDetailList>(json!({"backups": []}));
    mock::list_backups_detail(|_, then| {
        then.ok(&none);
    })
    .mount(&server)
    .await;
    let members = typed::<types::SnapshotDetailList>(json!({"snapshots": [
        snapshot("s2", "v2", "gs1"), snapshot("s1", "v1", "gs1")]}));
    mock::list_snapshots_detail(|_, then| {
        then.ok(&members);
    })
    .mount(&server)
    .await;
    let no_group_snapshots = typed::<types::GroupSnapshotDetailList>(json!({"group_snapshots": []}));
    mock::list_group_snapshots_detail(|_, then| {
        then.ok(&no_group_snapshots);
    })
    .mount(&server)
    .await;
    for (id, volume) in [("b1", "v1"), ("b2", "v2")] {
        let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": id, "name": "db"}}));
        mock::create_backup(|when, then| {
            when.body(&typed::<types::BackupCreateRequest>(json!({"backup": {"volume_id": volume,
                "snapshot_id": format!("s{}", &volume[1..]), "name": "db-20261205T020000Z",
                "description": "backup policy db", "container": "db-backups",
                "metadata": {"group_id": "g1", "group_snapshot_id": "gs1", "osbackup-policy": "db", "tier": "gold"}}})));
            then.accepted(&made);
        })
        .expect(1)
        .mount(&server)
        .await;
    }
    let done = backup("b1", "v1", "available");
    mock::show_backup(|when, then| {
        when.backup_id("b1");
        then.ok(&done);
    })
    .mount(&server)
    .await;
    let failed = typed::<types::BackupResponse>(json!({"backup": {"id": "b2", "status": "error", "volume_id": "v2",
        "created_at": "2026-12-05T02:00:01.000000", "is_incremental": false, "has_dependent_backups": false,
        "fail_reason": "the backup service is down"}}));
    mock::show_backup(|when, then| {
        when.backup_id("b2");
        then.ok(&failed);
    })
    .mount(&server)
    .await;
    mock::delete_group_snapshot(|when, then| {
        when.group_snapshot_id("gs1");
        then.accepted();
    })
    .expect(1)
    .mount(&server)
    .await;

    let mut p =
        Policy::new("db", Selection { group: Some("g1".into()), ..Selection::default() }, Duration::from_secs(86400))
            .unwrap();
    p.timeout = Duration::from_secs(5);
    p.poll_interval = Duration::from_millis(20);
    p.container = Some("db-backups".into());
    p.properties.insert("tier".into(), "gold".into());
    let options = RunOptions { clock: std::sync::Arc::new(At("2026-12-05T02:00:00Z")), ..RunOptions::default() };
    // (The clock stands still, so no wait of the run can time out: a test
    // that went wrong ends here instead.)
    let c = cinder(&server, Microversion::new(3, 71));
    let run = policy::run(&c, &p, &options);
    let report = tokio::time::timeout(Duration::from_secs(30), run).await.expect("the run ended").unwrap();
    let rows: Vec<(&str, &Action, String, Option<&str>)> = report
        .volumes
        .iter()
        .map(|v| (v.volume.id.as_str(), &v.action, v.outcome.describe(), v.backup_id.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("v1", &Action::Full(Source::GroupSnapshot), "done".to_owned(), Some("b1")),
            (
                "v2",
                &Action::Full(Source::GroupSnapshot),
                "failed: backup: backup b2 went to error: the backup service is down".to_owned(),
                Some("b2")
            ),
        ],
        "v9 is not in the group"
    );
    assert!(report.cleaned.is_empty(), "{:?}", report.cleaned);
    assert!(!report.succeeded());
    assert_eq!(report.volumes.iter().filter(|v| v.outcome == Outcome::Done).count(), 1);
    let protected: Vec<bool> = report.volumes.iter().map(|v| v.protected).collect();
    assert_eq!(protected, [true, false], "the one backed up now, not the failed one (it had no backup before)");
    server.verify().await;
}

/// A clock standing at one instant (the run's names carry it), whose
/// sleeps are short real ones.
#[derive(Debug)]
struct At(&'static str);

impl openstack_backups::clock::Clock for At {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.parse().unwrap()
    }

    fn sleep(&self, _: Duration) -> openstack_backups::clock::Sleep {
        Box::pin(tokio::time::sleep(Duration::from_millis(5)))
    }
}

/// Group snapshots an earlier run of the policy left: one whose member a
/// backup still reads stays (Cinder would delete the member under it),
/// the other goes; one of another group, or not the policy's, is not
/// touched. Nothing is due, so nothing else is made.
#[tokio::test]
async fn a_group_policy_leaves_a_group_snapshot_a_backup_still_reads() {
    use openstack_backups::policy::{self, Policy, RunOptions, Selection};
    let server = MockServer::start().await;
    mount_group_only(&server, &["v1", "v2"]).await;
    let volumes = typed::<types::VolumeDetailList>(json!({"volumes": [
        {"id": "v1", "status": "available", "size": 1}, {"id": "v2", "status": "available", "size": 1}]}));
    mock::list_volumes_detail(|_, then| {
        then.ok(&volumes);
    })
    .mount(&server)
    .await;
    let ours = |id: &str, volume: &str| {
        json!({"id": id, "status": "available", "volume_id": volume, "created_at": "2026-12-05T01:00:00.000000",
            "is_incremental": false, "has_dependent_backups": false, "metadata": {"osbackup-policy": "db"}})
    };
    let reading = json!({"id": "b0", "status": "creating", "volume_id": "v1", "snapshot_id": "s0",
        "created_at": "2026-12-05T01:30:00.000000", "is_incremental": false, "has_dependent_backups": false});
    let creating = typed::<types::BackupDetailList>(json!({"backups": [reading]}));
    mock::list_backups_detail(|when, then| {
        when.status(types::BackupStatus::Creating);
        then.ok(&creating);
    })
    .with_priority(1)
    .mount(&server)
    .await;
    let all = typed::<types::BackupDetailList>(json!({"backups": [reading, ours("p1", "v1"), ours("p2", "v2")]}));
    mock::list_backups_detail(|_, then| {
        then.ok(&all);
    })
    .mount(&server)
    .await;
    let members = typed::<types::SnapshotDetailList>(json!({"snapshots": [
        snapshot("s0", "v1", "gs0"), snapshot("s7", "v1", "gs7")]}));
    mock::list_snapshots_detail(|_, then| {
        then.ok(&members);
    })
    .mount(&server)
    .await;
    let left = |id: &str, group: &str, description: &str| json!({"id": id, "status": "available", "group_id": group, "description": description});
    let leftovers = typed::<types::GroupSnapshotDetailList>(json!({"group_snapshots": [
        left("gs0", "g1", "backup policy db"), left("gs7", "g1", "backup policy db"),
        left("gs9", "g1", "made by hand"), left("gs8", "g2", "backup policy db")]}));
    mock::list_group_snapshots_detail(|_, then| {
        then.ok(&leftovers);
    })
    .mount(&server)
    .await;
    mock::delete_group_snapshot(|when, then| {
        when.group_snapshot_id("gs7");
        then.accepted();
    })
    .expect(1)
    .mount(&server)
    .await;
    mock::show_group_snapshot(|when, then| {
        when.group_snapshot_id("gs7");
        then.fault(404, "itemNotFound", "GroupSnapshot gs7 could not be found.");
    })
    .mount(&server)
    .await;
    mock::delete_group_snapshot(|_, then| {
        then.accepted();
    })
    .expect(0)
    .mount(&server)
    .await;

    let mut p =
        Policy::new("db", Selection { group: Some("g1".into()), ..Selection::default() }, Duration::from_secs(86400))
            .unwrap();
    p.timeout = Duration::from_secs(5);
    let options = RunOptions { clock: std::sync::Arc::new(At("2026-12-05T02:00:00Z")), ..RunOptions::default() };
    let c = cinder(&server, Microversion::new(3, 71));
    let run = policy::run(&c, &p, &options);
    let report = tokio::time::timeout(Duration::from_secs(30), run).await.expect("the run ended").unwrap();
    assert!(report.volumes.iter().all(|v| v.outcome == policy::Outcome::Fresh), "{:?}", report.volumes);
    assert_eq!(
        report.group_snapshots,
        [
            ("gs7".to_owned(), Ok(())),
            (
                "gs0".to_owned(),
                Err("group snapshot gs0 stays: backup b0 is still reading member snapshot s0".to_owned())
            ),
        ]
    );
    assert!(!report.succeeded());
    server.verify().await;
}

/// Without a name, the group snapshot (and every backup) is named after
/// the group and the UTC time: `db-YYYYMMDDTHHMMSSZ`.
#[tokio::test]
async fn the_default_name_is_the_groups_and_the_time() {
    let server = MockServer::start().await;
    mount_group(&server, "error").await;
    let c = cinder(&server, Microversion::new(3, 71));
    let mut opts = options(Duration::from_secs(5));
    opts.name = None;
    let result = backup_group(&c, "g1", &opts).await;
    // (Its delete answers 404: it is gone already, which is what was wanted.)
    assert!(matches!(result, Err(GroupBackupError::GroupSnapshot { cleanup: Ok(()), .. })), "{result:?}");
    let sent: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/group_snapshots"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let name = sent[0]["group_snapshot"]["name"].as_str().unwrap().to_owned();
    let stamp = name.strip_prefix("db-").unwrap_or_else(|| panic!("{name}"));
    assert!(chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").is_ok(), "{name}");
}

/// A member snapshot that went to `error`, or is gone, is read by nothing:
/// once every backup is made the group snapshot goes.
#[tokio::test]
async fn members_in_error_or_gone_do_not_keep_the_group_snapshot() {
    let server = MockServer::start().await;
    mount_group(&server, "available").await;
    let broken = typed::<types::SnapshotResponse>(json!({"snapshot": {"id": "s2", "status": "error",
        "volume_id": "v2", "created_at": "2026-12-05T01:00:00.000000", "size": 1, "group_snapshot_id": "gs1"}}));
    mock::show_snapshot(|when, then| {
        when.snapshot_id("s2");
        then.ok(&broken);
    })
    .with_priority(1)
    .mount(&server)
    .await;
    mock::show_snapshot(|when, then| {
        when.snapshot_id("s1");
        then.fault(404, "itemNotFound", "Snapshot s1 could not be found.");
    })
    .with_priority(1)
    .mount(&server)
    .await;
    for (id, volume) in [("b1", "v1"), ("b2", "v2")] {
        let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": id, "name": "set"}}));
        mock::create_backup(|when, then| {
            when.body(&typed::<types::BackupCreateRequest>(json!({"backup": {"volume_id": volume,
                "snapshot_id": format!("s{}", &volume[1..]), "name": "set",
                "metadata": {"group_id": "g1", "group_snapshot_id": "gs1"}}})));
            then.accepted(&made);
        })
        .mount(&server)
        .await;
        let done = backup(id, volume, "available");
        mock::show_backup(|when, then| {
            when.backup_id(id);
            then.ok(&done);
        })
        .mount(&server)
        .await;
    }
    mock::delete_group_snapshot(|when, then| {
        when.group_snapshot_id("gs1");
        then.accepted();
    })
    .expect(1)
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 71));
    let result = backup_group(&c, "g1", &options(Duration::from_secs(5))).await.unwrap();
    assert!(result.succeeded(), "{result:?}");
    server.verify().await;
}

/// A group snapshot whose delete Cinder refuses is reported as left, with
/// Cinder's reason; nothing says it went.
#[tokio::test]
async fn a_refused_delete_leaves_the_group_snapshot_and_says_why() {
    let server = MockServer::start().await;
    mount_group(&server, "error").await;
    mock::delete_group_snapshot(|when, then| {
        when.group_snapshot_id("gs1");
        then.fault(400, "badRequest", "Invalid GroupSnapshot: status must be available or error.");
    })
    .expect(1)
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 71));
    let result = backup_group(&c, "g1", &options(Duration::from_secs(5))).await;
    let Err(GroupBackupError::GroupSnapshot { cleanup: Err(left), .. }) = &result else { panic!("{result:?}") };
    assert_eq!(left.group_snapshot_id, "gs1");
    assert!(left.reason.contains("status must be available or error"), "{left}");
    server.verify().await;
}

/// A group policy's backup still being made when the next run starts is
/// adopted (the group waits for it); when it ends, the member snapshot it
/// read is left to its group snapshot: Cinder refuses to delete a member
/// alone, and a policy's run deletes only its own temporary snapshots.
#[tokio::test]
async fn an_adopted_group_backup_leaves_its_member_snapshot() {
    use openstack_backups::policy::{self, Action, Outcome, Policy, RunOptions, Selection};
    let server = MockServer::start().await;
    mount_group_only(&server, &["v1", "v2"]).await;
    let volumes = typed::<types::VolumeDetailList>(json!({"volumes": [
        {"id": "v1", "status": "backing-up", "size": 1}, {"id": "v2", "status": "available", "size": 1}]}));
    mock::list_volumes_detail(|_, then| {
        then.ok(&volumes);
    })
    .mount(&server)
    .await;
    let ours = |id: &str, volume: &str, status: &str, created: &str| {
        json!({"id": id, "status": status, "volume_id": volume, "snapshot_id": format!("s{}", &volume[1..]),
            "created_at": created, "is_incremental": false, "has_dependent_backups": false,
            "metadata": {"osbackup-policy": "db", "group_id": "g1"}})
    };
    let fresh = ours("p2", "v2", "available", "2026-12-05T01:00:00.000000");
    let flying = typed::<types::BackupDetailList>(json!({"backups": [
        ours("b1", "v1", "creating", "2026-12-05T01:00:00.000000"), fresh]}));
    mock::list_backups_detail(|when, then| {
        when.sort(None);
        then.ok(&flying);
    })
    .mount(&server)
    .await;
    let ended = typed::<types::BackupDetailList>(json!({"backups": [
        ours("b1", "v1", "available", "2026-12-05T01:00:00.000000"), fresh]}));
    mock::list_backups_detail(|when, then| {
        when.sort("created_at:desc");
        then.ok(&ended);
    })
    .mount(&server)
    .await;
    let none = typed::<types::SnapshotDetailList>(json!({"snapshots": []}));
    mock::list_snapshots_detail(|_, then| {
        then.ok(&none);
    })
    .mount(&server)
    .await;
    let no_group_snapshots = typed::<types::GroupSnapshotDetailList>(json!({"group_snapshots": []}));
    mock::list_group_snapshots_detail(|_, then| {
        then.ok(&no_group_snapshots);
    })
    .mount(&server)
    .await;
    let member = typed::<types::SnapshotResponse>(json!({"snapshot": snapshot("s1", "v1", "gs0")}));
    mock::show_snapshot(|when, then| {
        when.snapshot_id("s1");
        then.ok(&member);
    })
    .mount(&server)
    .await;
    mock::delete_snapshot(|_, then| {
        then.accepted();
    })
    .expect(0)
    .mount(&server)
    .await;

    let mut p =
        Policy::new("db", Selection { group: Some("g1".into()), ..Selection::default() }, Duration::from_secs(86400))
            .unwrap();
    p.timeout = Duration::from_secs(5);
    p.poll_interval = Duration::from_millis(20);
    let options = RunOptions { clock: std::sync::Arc::new(At("2026-12-05T02:00:00Z")), ..RunOptions::default() };
    let c = cinder(&server, Microversion::new(3, 71));
    let run = policy::run(&c, &p, &options);
    let report = tokio::time::timeout(Duration::from_secs(30), run).await.expect("the run ended").unwrap();
    let rows: Vec<(&str, &Action, &Outcome)> =
        report.volumes.iter().map(|v| (v.volume.id.as_str(), &v.action, &v.outcome)).collect();
    assert_eq!(rows, [("v1", &Action::Adopt("b1".to_owned()), &Outcome::Done), ("v2", &Action::Skip, &Outcome::Fresh)]);
    assert!(report.succeeded(), "{report:#?}");
    server.verify().await;
}

/// Volumes that joined the group between the plan and the group snapshot
/// are backed up with the others and get rows of their own: a backup
/// that outlasts the policy's `timeout` (on the run's clock) is reported
/// as timed out, not failed, and the group snapshot stays under it; one
/// that goes to `error` is failed. The
/// planned volume is done and protected.
#[tokio::test]
async fn a_group_policy_run_reports_a_volume_that_joined_meanwhile() {
    use openstack_backups::policy::{self, Action, Outcome, Policy, Reason, RunOptions, Selection, Source};
    let server = MockServer::start().await;
    mount_group_of(&server, "available", &["v1"]).await;
    let volumes = typed::<types::VolumeDetailList>(json!({"volumes": [
        {"id": "v1", "status": "available", "size": 1}, {"id": "v2", "status": "available", "size": 1}]}));
    mock::list_volumes_detail(|_, then| {
        then.ok(&volumes);
    })
    .mount(&server)
    .await;
    let none = typed::<types::BackupDetailList>(json!({"backups": []}));
    mock::list_backups_detail(|_, then| {
        then.ok(&none);
    })
    .mount(&server)
    .await;
    let members = typed::<types::SnapshotDetailList>(json!({"snapshots": [
        snapshot("s3", "v3", "gs1"), snapshot("s2", "v2", "gs1"), snapshot("s1", "v1", "gs1")]}));
    let third = typed::<types::SnapshotResponse>(json!({"snapshot": snapshot("s3", "v3", "gs1")}));
    mock::show_snapshot(|when, then| {
        when.snapshot_id("s3");
        then.ok(&third);
    })
    .mount(&server)
    .await;
    mock::list_snapshots_detail(|_, then| {
        then.ok(&members);
    })
    .mount(&server)
    .await;
    let no_group_snapshots = typed::<types::GroupSnapshotDetailList>(json!({"group_snapshots": []}));
    mock::list_group_snapshots_detail(|_, then| {
        then.ok(&no_group_snapshots);
    })
    .mount(&server)
    .await;
    for (id, volume, status) in [("b1", "v1", "available"), ("b2", "v2", "creating"), ("b3", "v3", "error")] {
        let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": id, "name": "db"}}));
        mock::create_backup(|when, then| {
            when.body(&typed::<types::BackupCreateRequest>(json!({"backup": {"volume_id": volume,
                "snapshot_id": format!("s{}", &volume[1..]), "name": "db-20261205T020000Z",
                "description": "backup policy db",
                "metadata": {"group_id": "g1", "group_snapshot_id": "gs1", "osbackup-policy": "db"}}})));
            then.accepted(&made);
        })
        .expect(1)
        .mount(&server)
        .await;
        let shown = backup(id, volume, status);
        mock::show_backup(|when, then| {
            when.backup_id(id);
            then.ok(&shown);
        })
        .mount(&server)
        .await;
    }
    mock::delete_group_snapshot(|_, then| {
        then.accepted();
    })
    .expect(0)
    .mount(&server)
    .await;

    let mut p =
        Policy::new("db", Selection { group: Some("g1".into()), ..Selection::default() }, Duration::from_secs(86400))
            .unwrap();
    p.timeout = Duration::from_secs(600);
    p.poll_interval = Duration::from_secs(30);
    let clock = openstack_backups_fake::FakeClock::at("2026-12-05T02:00:00Z".parse().unwrap());
    let options = RunOptions { clock, ..RunOptions::default() };
    let c = cinder(&server, Microversion::new(3, 71));
    let run = policy::run(&c, &p, &options);
    let report = tokio::time::timeout(Duration::from_secs(30), run).await.expect("the run ended").unwrap();
    type Row<'a> = (&'a str, &'a Action, &'a Reason, &'a Outcome, Option<&'a str>, bool);
    let rows: Vec<Row<'_>> = report
        .volumes
        .iter()
        .map(|v| (v.volume.id.as_str(), &v.action, &v.reason, &v.outcome, v.backup_id.as_deref(), v.protected))
        .collect();
    let full = Action::Full(Source::GroupSnapshot);
    assert_eq!(
        rows,
        [
            ("v1", &full, &Reason::FullOnly, &Outcome::Done, Some("b1"), true),
            ("v2", &full, &Reason::GroupJoined, &Outcome::TimedOut, Some("b2"), false),
            (
                "v3",
                &full,
                &Reason::GroupJoined,
                &Outcome::Failed("backup: backup b3 went to error".to_owned()),
                Some("b3"),
                false
            ),
        ]
    );
    assert_eq!(report.group_snapshots.len(), 1, "{:?}", report.group_snapshots);
    assert_eq!(report.group_snapshots[0].0, "gs1", "left under the running backup");
    server.verify().await;
}

/// The protection report of a policy whose group is gone is one `Missing`
/// row named after the group; any other failure to read the group is the
/// report's error.
#[tokio::test]
async fn a_report_names_a_group_that_is_gone_and_fails_on_other_errors() {
    use openstack_backups::policy::{self, Policy, Selection, State};
    let p = Policy::new(
        "db",
        Selection { group: Some("db-set".into()), ..Selection::default() },
        Duration::from_secs(86400),
    )
    .unwrap();
    let now: chrono::DateTime<chrono::Utc> = "2026-12-05T02:00:00Z".parse().unwrap();

    let server = MockServer::start().await;
    mock::show_group(|_, then| {
        then.fault(404, "itemNotFound", "Group db-set could not be found.");
    })
    .mount(&server)
    .await;
    let none = typed::<types::GroupDetailList>(json!({"groups": []}));
    mock::list_groups_detail(|_, then| {
        then.ok(&none);
    })
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 71));
    let rows = policy::report(&c, Some(&p), &p.standard(), now).await.unwrap();
    let rows: Vec<(&str, State)> = rows.iter().map(|r| (r.volume.label(), r.state)).collect();
    assert_eq!(rows, [("db-set", State::Missing)]);

    let server = MockServer::start().await;
    mock::show_group(|_, then| {
        then.fault(500, "computeFault", "The server has either erred or is incapable.");
    })
    .mount(&server)
    .await;
    mock::list_groups_detail(|_, then| {
        then.fault(500, "computeFault", "The server has either erred or is incapable.");
    })
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 71));
    let failed = policy::report(&c, Some(&p), &p.standard(), now).await.unwrap_err();
    assert_eq!(failed.status().map(|s| s.as_u16()), Some(500), "{failed}");
}
