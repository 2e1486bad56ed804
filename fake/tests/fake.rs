//! The fake cloud as a user's test meets it: a session that authenticates
//! and negotiates, statuses that move on the fake clock (so waits take no
//! time), Cinder's refusals, paging, tokens that expire, scripted faults.

mod common;

use std::time::Duration;

use futures_util::TryStreamExt;
use openstack_backups::block_storage::types;
use openstack_backups::{ErrorKind, Microversion, WaitError};
use openstack_backups_fake::FakeCloud;

async fn volume(cinder: &openstack_backups::block_storage::Client) -> String {
    let body = types::VolumeCreateRequest::builder()
        .volume(types::VolumeCreate::builder().size(std::num::NonZeroU64::new(1)).name("v".to_owned()));
    let created = cinder.create_volume().body(body).send().await.unwrap();
    cinder.wait_for_volume(&created.volume.id, types::VolumeStatus::Available).await.unwrap();
    created.volume.id.clone()
}

fn backup_of(volume_id: &str, incremental: bool) -> types::builder::BackupCreateRequest {
    types::BackupCreateRequest::builder()
        .backup(types::BackupCreate::builder().volume_id(volume_id).incremental(incremental))
}

/// The shared lifecycle (the one the real Cinder runs too) passes, in no
/// time on the fake clock, and its statuses took their fake seconds.
#[tokio::test]
async fn the_lifecycle_runs_in_no_time() {
    let cloud = FakeCloud::start().await;
    let session = cloud.session().unwrap();
    let cinder = session.block_storage().await.unwrap();
    assert_eq!(cinder.microversion(), Some(Microversion::new(3, 71)), "negotiated from the version document");
    let started = std::time::Instant::now();
    let clock_before = openstack_backups::clock::Clock::now(&*cloud.clock());
    let admin = cloud.admin_session().unwrap().block_storage().await.unwrap();
    let project = openstack_backups_fake::PROJECT;
    let seen =
        openstack_backups_tests::lifecycle::lifecycle(&cinder, &admin, project, &Default::default()).await.unwrap();
    assert!(seen.contains(&"delete a backup with an incremental: HTTP 400 badRequest".to_owned()), "{seen:#?}");
    assert!(seen.contains(&"a backup over the backups quota: HTTP 413 overLimit".to_owned()), "{seen:#?}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let fake_time = openstack_backups::clock::Clock::now(&*cloud.clock()) - clock_before;
    assert!(fake_time >= chrono::Duration::seconds(10), "statuses took fake time: {fake_time}");
}

/// Backups: `creating` until their fake seconds pass, the volume
/// `backing-up` meanwhile; a volume's backups that are set to fail end in
/// `error` with the reason, and the waiter says so.
#[tokio::test]
async fn statuses_move_on_the_clock_and_failures_carry_their_reason() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder).await;
    let created = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap();
    let shown = cinder.show_backup().backup_id(&created.backup.id).send().await.unwrap();
    assert_eq!(shown.backup.status, types::BackupStatus::Creating);
    let vol = cinder.show_volume().volume_id(&v).send().await.unwrap();
    assert_eq!(vol.volume.status, types::VolumeStatus::BackingUp);
    cloud.clock().advance(Duration::from_secs(3));
    let shown = cinder.show_backup().backup_id(&created.backup.id).send().await.unwrap();
    assert_eq!(shown.backup.status, types::BackupStatus::Available);

    cloud.fail_backups_of(&v, "Backup driver failed: disk full");
    let failing = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap();
    let err = cinder.wait_for_backup(&failing.backup.id, types::BackupStatus::Available).await.unwrap_err();
    match err.wait_error() {
        Some(WaitError::Failed { status, reason, .. }) => {
            assert_eq!(status, "error");
            assert_eq!(reason.as_deref(), Some("Backup driver failed: disk full"));
        }
        other => panic!("{other:?}: {err}"),
    }
    // Healed, the volume's next backup is made.
    cloud.heal_backups_of(&v);
    let healed = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap();
    cinder.wait_for_backup(&healed.backup.id, types::BackupStatus::Available).await.unwrap();
}

/// The quota: 413 `overLimit` with `Retry-After: 0`, not retried.
#[tokio::test]
async fn the_backup_quota_is_cinders_413() {
    let cloud = FakeCloud::start().await;
    cloud.set_backup_quota(1);
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder).await;
    let first = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap();
    cinder.wait_for_backup(&first.backup.id, types::BackupStatus::Available).await.unwrap();
    let before = cloud.requests();
    let err = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(413));
    assert_eq!(err.fault().and_then(|f| f.name()), Some("overLimit"));
    assert!(err.to_string().contains("BackupLimitExceeded"), "{err}");
    assert_eq!(cloud.requests(), before + 1, "a quota fault is not retried");
}

/// Lists page with `limit` and markers, newest first, with a count.
#[tokio::test]
async fn lists_page_newest_first() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(volume(&cinder).await);
    }
    let all: Vec<types::Volume> = cinder.list_volumes_detail().limit(2u64).stream().try_collect().await.unwrap();
    let ids: Vec<String> = all.iter().map(|v| v.id.clone()).collect();
    made.reverse();
    assert_eq!(ids, made);
    let first = cinder.list_volumes().limit(2u64).with_count(true).send().await.unwrap();
    assert_eq!((first.volumes.len(), first.count), (2, Some(5)));
    assert!(first.volumes_links.iter().any(|l| l.rel == "next"));
    let err = cinder.list_volumes().marker("no-such-id").send().await.unwrap_err();
    assert_eq!(err.to_string().split(':').nth(1).map(str::trim), Some("HTTP 404 itemNotFound"), "{err}");
    // A full last page links to an empty one, as Cinder's does.
    let last = cinder.list_volumes().limit(2u64).marker(made[2].as_str()).send().await.unwrap();
    assert_eq!(last.volumes.len(), 2);
    assert_eq!(last.volumes_links.len(), 1);
    let empty = cinder.list_volumes().limit(2u64).marker(made[4].as_str()).send().await.unwrap();
    assert!(empty.volumes.is_empty() && empty.volumes_links.is_empty());
    let err = cinder.list_volumes().limit(0u64).send().await;
    assert!(err.is_ok(), "limit 0 is a page of nothing");
}

/// Expired tokens: the session authenticates again, once, and the call
/// goes through; scripted faults: a refused create is not retried, a 503
/// burst on a read is.
#[tokio::test]
async fn tokens_expire_and_faults_are_scripted() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder).await;
    let issued = cloud.tokens_issued();
    cloud.expire_tokens();
    cinder.show_volume().volume_id(&v).send().await.unwrap();
    assert_eq!(cloud.tokens_issued(), issued + 1, "the session authenticated again");

    cloud.fail("create_backup", 1, 500, "computeFault", "The server has either erred or is incapable.");
    let err = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap();

    cloud.fail("list_backups_detail", 2, 503, "serviceUnavailable", "busy");
    let listed = cinder.list_backups_detail().send().await.unwrap();
    assert_eq!(listed.backups.len(), 1, "two 503s, then the list");
}

/// Application credentials and tokens authenticate too; a wrong password
/// is Keystone's 401.
#[tokio::test]
async fn keystone_takes_its_three_methods() {
    use openstack_backups::Session;
    use openstack_backups::auth::{AuthMethod, Domain, User};
    let cloud = FakeCloud::start().await;
    let (id, secret) = openstack_backups_fake::APPLICATION_CREDENTIAL;
    let by_credential = Session::builder()
        .auth_url(cloud.auth_url())
        .auth(AuthMethod::ApplicationCredential { id: Some(id.into()), name: None, user: None, secret: secret.into() })
        .clock(cloud.clock())
        .build()
        .unwrap();
    by_credential.block_storage().await.unwrap().list_volumes().send().await.unwrap();

    let wrong_secret = Session::builder()
        .auth_url(cloud.auth_url())
        .auth(AuthMethod::ApplicationCredential { id: Some(id.into()), name: None, user: None, secret: "no".into() })
        .build()
        .unwrap();
    assert!(wrong_secret.block_storage().await.unwrap_err().is_authentication());
    let token = password_token(&cloud).await;
    let by_token = Session::builder().auth_url(cloud.auth_url()).auth(AuthMethod::Token(token.into())).build().unwrap();
    by_token.block_storage().await.unwrap().list_volumes().send().await.unwrap();

    let wrong = Session::builder()
        .auth_url(cloud.auth_url())
        .auth(AuthMethod::Password {
            user: User::Name { name: "demo".into(), domain: Domain::Name("Default".into()) },
            password: "not-it".into(),
        })
        .build()
        .unwrap();
    let err = wrong.block_storage().await.unwrap_err();
    assert!(err.is_authentication(), "{err}");
}

/// `OpenStack-API-Version` as Cinder reads it: every `/v3` answer says the
/// version; a version outside 3.0 to 3.71 is a 406, a malformed one a 400;
/// a filter Cinder does not take is a 400 from 3.31.
#[tokio::test]
async fn microversions_are_read_as_cinder_reads_them() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let listed = cinder.list_backups().send().await.unwrap();
    assert_eq!(listed.microversion(), Some(Microversion::new(3, 71)));
    let token = password_token(&cloud).await;
    let http = reqwest::Client::new();
    let ask = |version: &str| {
        http.get(format!("{}/backups", cloud.block_storage_endpoint()))
            .header("x-auth-token", token.as_str())
            .header("openstack-api-version", format!("volume {version}"))
            .send()
    };
    assert_eq!(ask("3.99").await.unwrap().status().as_u16(), 406);
    assert_eq!(ask("3.07").await.unwrap().status().as_u16(), 400);
    let at = ask("3.40").await.unwrap();
    assert_eq!(at.headers()["openstack-api-version"], "volume 3.40");
    let unknown = http
        .get(format!("{}/backups?size=1", cloud.block_storage_endpoint()))
        .header("x-auth-token", token.as_str())
        .header("openstack-api-version", "volume 3.71")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 400);
}

/// Scripting a failure the fake could never answer is a test's mistake,
/// said at once.
#[tokio::test]
#[should_panic(expected = "the fake serves no operation `create_bakcup`")]
async fn a_failure_for_an_unknown_operation_is_refused() {
    FakeCloud::start().await.fail("create_bakcup", 1, 500, "computeFault", "x");
}

/// A token of the fake's user, for raw requests.
async fn password_token(cloud: &FakeCloud) -> String {
    common::token(cloud, openstack_backups_fake::USER, openstack_backups_fake::PASSWORD).await
}

/// A backup that fails leaves Cinder's user message, which the policy
/// runner's lookup finds; 3.3 and 3.4 honour no filter, below 3.3 there
/// are no messages; a message can be deleted, and is gone 31 days on.
#[tokio::test]
async fn failed_backups_leave_cinders_message() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder).await;
    let fine = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap();
    cinder.wait_for_backup(&fine.backup.id, types::BackupStatus::Available).await.unwrap();
    cloud.fail_backups_of(&v, "disk full");
    let doomed = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap();
    let request = doomed.request_id().map(str::to_owned);
    cinder.wait_for_backup(&doomed.backup.id, types::BackupStatus::Available).await.unwrap_err();
    let message = openstack_backups::policy::newest_message(&cinder, &doomed.backup.id).await;
    assert_eq!(message.as_deref(), Some("create backup:Backup driver failed to create backup."));
    assert_eq!(openstack_backups::policy::newest_message(&cinder, &fine.backup.id).await, None);
    let listed = cinder.list_messages().send().await.unwrap().into_inner().messages;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].event_id, "VOLUME_VOLUME_BACKUP_013_020");
    assert_eq!(listed[0].request_id, request, "the request that made the backup");

    let token = password_token(&cloud).await;
    let http = reqwest::Client::new();
    let at = |version: &str, query: &str| {
        http.get(format!("{}/messages{query}", cloud.block_storage_endpoint()))
            .header("x-auth-token", token.as_str())
            .header("openstack-api-version", format!("volume {version}"))
            .send()
    };
    assert_eq!(at("3.2", "").await.unwrap().status().as_u16(), 404, "no messages below 3.3");
    let unfiltered: serde_json::Value = at("3.4", "?resource_uuid=another").await.unwrap().json().await.unwrap();
    assert_eq!(unfiltered["messages"].as_array().map(Vec::len), Some(1), "3.4 honours no filter");
    let filtered: serde_json::Value = at("3.5", "?resource_uuid=another").await.unwrap().json().await.unwrap();
    assert_eq!(filtered["messages"].as_array().map(Vec::len), Some(0));

    let id = listed[0].id.clone();
    cinder.delete_message().message_id(&id).send().await.unwrap();
    let err = cinder.show_message().message_id(&id).send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));

    cloud.fail_backups_of(&v, "disk full");
    let again = cinder.create_backup().body(backup_of(&v, false)).send().await.unwrap();
    cinder.wait_for_backup(&again.backup.id, types::BackupStatus::Available).await.unwrap_err();
    let kept = cinder.list_messages().send().await.unwrap().into_inner().messages;
    assert_eq!(kept.len(), 1);
    let guaranteed = kept[0].guaranteed_until.unwrap().to_utc() - kept[0].created_at.to_utc();
    assert_eq!(guaranteed, chrono::Duration::days(30), "Cinder's message_ttl");
    // Reaped a day after that (Cinder's daily reaping): kept to the last
    // second of that day, gone at its end.
    let reaped = kept[0].guaranteed_until.unwrap().to_utc() + chrono::Duration::days(1);
    let now = openstack_backups::clock::Clock::now(&*cloud.clock());
    cloud.clock().advance((reaped - now - chrono::Duration::seconds(1)).to_std().unwrap());
    assert_eq!(cinder.show_message().message_id(&kept[0].id).send().await.unwrap().message.id, kept[0].id);
    cloud.clock().advance(Duration::from_secs(1));
    assert!(cinder.list_messages().send().await.unwrap().messages.is_empty(), "reaped after 30 days and a day");
}

/// A scaled clock runs at the pace it is given; a pace that is not a
/// positive number (zero, negative, NaN, infinite) is real time, never a
/// clock that stands still, runs backwards or jumps to the end of time.
#[test]
fn a_scaled_clock_runs_at_a_positive_pace() {
    use openstack_backups::clock::Clock;
    use openstack_backups_fake::FakeClock;
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
    let clocks = [1000.0, 0.0, -5.0, f64::NAN, f64::INFINITY].map(|scale| (scale, FakeClock::scaled(start, scale)));
    std::thread::sleep(Duration::from_millis(20));
    for (scale, clock) in clocks {
        let ran = clock.now() - start;
        if scale == 1000.0 {
            assert!(ran >= chrono::Duration::seconds(20), "{scale}: {ran}");
        } else {
            // Real time: at least the 20 ms slept, far less than an hour.
            assert!(ran >= chrono::Duration::milliseconds(20), "{scale}: {ran}");
            assert!(ran < chrono::Duration::hours(1), "{scale}: {ran}");
        }
    }
}

/// What the fake gives a program in another process (`OS_*` variables)
/// reads as a cloud, and a session made from it works.
#[tokio::test]
async fn its_environment_is_a_cloud() {
    use openstack_backups::cloud::{CloudConfig, Environment};
    struct Vars(Vec<(&'static str, String)>);
    impl Environment for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
        }
        fn read(&self, _: &std::path::Path) -> Option<String> {
            None
        }
        fn current_dir(&self) -> Option<std::path::PathBuf> {
            None
        }
    }
    let cloud = FakeCloud::start().await;
    let config = CloudConfig::from_environment(&Vars(cloud.environment())).unwrap();
    let session = openstack_backups::Session::builder().cloud(config).unwrap().clock(cloud.clock()).build().unwrap();
    session.block_storage().await.unwrap().list_volumes_detail().send().await.unwrap();
    assert_eq!(cloud.tokens_issued(), 1);
}

/// The fake's sessions retry without jitter, so a retried call moves the
/// fake clock by the policy's backoff exactly (0.5 + 1 + 2 s).
#[tokio::test]
async fn retries_move_the_clock_by_the_backoff_exactly() {
    use openstack_backups::clock::Clock;
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let before = cloud.clock().now();
    cloud.fail("list_volumes_detail", 3, 500, "computeFault", "busy");
    cinder.list_volumes_detail().send().await.unwrap();
    assert_eq!(cloud.clock().now() - before, chrono::Duration::milliseconds(3500));
}

/// A token is valid for an hour of the fake clock, to the instant: at its
/// `expires_at` it is refused.
#[tokio::test]
async fn tokens_last_an_hour_to_the_instant() {
    let cloud = FakeCloud::start().await;
    let token = password_token(&cloud).await;
    let list = || {
        reqwest::Client::new()
            .get(format!("{}/volumes", cloud.block_storage_endpoint()))
            .header("x-auth-token", token.as_str())
            .send()
    };
    cloud.clock().advance(Duration::from_secs(3599));
    assert_eq!(list().await.unwrap().status().as_u16(), 200);
    cloud.clock().advance(Duration::from_secs(1));
    assert_eq!(list().await.unwrap().status().as_u16(), 401);
}
