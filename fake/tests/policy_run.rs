//! A backup policy run by the library against the fake cloud, on the
//! fake's standing clock (each wait moves it, so a run of days takes no
//! time): what each run makes, adopts, cleans, prunes and reports, and
//! what it says when a volume fails, times out, or has no quota left.
//! The same runs against the real Cinder are in `tests/real_cinder.rs`;
//! here the paths the real server cannot be made to take on demand.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use openstack_backups::block_storage::{Client, types};
use openstack_backups::clock::Clock;
use openstack_backups::policy::{
    Action, Event, InUse, MARKER, Outcome, Policy, Reason, RunOptions, RunReport, Selection, Source, State, TEMPORARY,
    report, run,
};
use openstack_backups::{ErrorKind, Microversion, retention};
use openstack_backups_fake::FakeCloud;

const DAY: Duration = Duration::from_secs(86400);

async fn volume(cinder: &Client, name: &str, tag: Option<&str>) -> String {
    let mut create = types::VolumeCreate::builder().size(std::num::NonZeroU64::new(1)).name(name.to_owned());
    if let Some(tag) = tag {
        create = create.metadata(BTreeMap::from([("backup".to_owned(), tag.to_owned())]));
    }
    let created = cinder.create_volume().body(types::VolumeCreateRequest::builder().volume(create)).send().await;
    let id = created.unwrap().volume.id.clone();
    cinder.wait_for_volume(&id, types::VolumeStatus::Available).await.unwrap();
    id
}

fn nightly(select: Selection) -> Policy {
    Policy::new("nightly", select, DAY).unwrap()
}

fn tagged(tag: &str) -> Selection {
    Selection { metadata: BTreeMap::from([("backup".to_owned(), tag.to_owned())]), ..Selection::default() }
}

/// The options of a run on the fake's clock, and every event it sent, as
/// text.
fn options(cloud: &FakeCloud) -> (RunOptions, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let on_event: openstack_backups::policy::EventFn = Arc::new(move |e: &Event<'_>| {
        let line = match e {
            Event::Planned(p) => format!("planned {}", p.volumes.len()),
            Event::QuotaUnknown(e) => format!("quota unknown: {e}"),
            Event::SnapshotTaken { volume, .. } => format!("snapshot {}", volume.label()),
            Event::Started { volume, action, .. } => format!("started {} {}", volume.label(), action.as_str()),
            Event::Finished(o) => format!("finished {} {}", o.volume.label(), o.outcome.describe()),
            Event::Cleaned { snapshot_id, result } => format!("cleaned {snapshot_id} {}", result.is_ok()),
            Event::Pruned { backup_id, outcome, .. } => format!("pruned {backup_id} {outcome:?}"),
            _ => "other".to_owned(),
        };
        log.lock().unwrap().push(line);
    });
    (RunOptions { dry_run: false, clock: cloud.clock(), on_event: Some(on_event) }, seen)
}

async fn backups(cinder: &Client) -> Vec<types::Backup> {
    cinder.list_backups_detail().stream().try_collect().await.unwrap()
}

async fn snapshots(cinder: &Client) -> Vec<types::Snapshot> {
    cinder.list_snapshots_detail().stream().try_collect().await.unwrap()
}

/// A snapshot of `volume` with `marks` as its metadata, once `available`.
async fn marked_snapshot(cinder: &Client, volume: &str, marks: &[(&str, &str)]) -> String {
    let metadata: BTreeMap<String, String> = marks.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let body = types::SnapshotCreateRequest {
        snapshot: types::SnapshotCreate {
            volume_id: volume.to_owned(),
            name: None,
            description: None,
            force: None,
            metadata: Some(metadata),
        },
    };
    let id = cinder.create_snapshot().body(body).send().await.unwrap().into_inner().snapshot.id;
    cinder.wait_for_snapshot(&id, types::SnapshotStatus::Available).await.unwrap();
    id
}

fn by_label(report: &RunReport) -> BTreeMap<String, &openstack_backups::policy::VolumeOutcome> {
    report.volumes.iter().map(|v| (v.volume.label().to_owned(), v)).collect()
}

/// Three nights of a policy with chains of two and `keep: {last: 1}`: the
/// first night makes full backups (the attached volume through a marked
/// snapshot that is gone afterwards), the second incrementals, the third
/// full ones again, and its retention deletes the older chain, the
/// incremental before its base.
#[tokio::test]
async fn three_nights_make_chains_of_two_and_keep_the_newest() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    volume(&cinder, "loose", Some("nightly")).await;
    let attached = volume(&cinder, "attached", Some("nightly")).await;
    volume(&cinder, "untagged", None).await;
    assert!(cloud.attach_volume(&attached, "server-1"));
    let mut policy = nightly(tagged("nightly"));
    policy.full_every = 2;
    policy.keep = Some(retention::Policy { keep_last: 1, ..retention::Policy::default() });
    policy.properties = BTreeMap::from([("team".to_owned(), "db".to_owned())]);
    policy.container = Some("nightly-backups".to_owned());
    // No timeout at all: a deadline past the end of time never runs out.
    policy.timeout = Duration::MAX;

    let (options, seen) = options(&cloud);
    let first = run(&cinder, &policy, &options).await.unwrap();
    assert!(first.succeeded(), "{first:#?}");
    let by = by_label(&first);
    assert_eq!(by.keys().collect::<Vec<_>>(), ["attached", "loose"], "the untagged volume is not selected");
    assert_eq!((&by["loose"].action, &by["loose"].reason), (&Action::Full(Source::Volume), &Reason::Never));
    assert_eq!(by["attached"].action, Action::Full(Source::Snapshot));
    assert!(first.volumes.iter().all(|v| v.outcome == Outcome::Done && v.protected && v.size_gib == Some(1)));
    assert!(first.volumes.iter().all(|v| v.elapsed.is_some_and(|e| e >= Duration::from_secs(3))), "{first:#?}");
    let made = backups(&cinder).await;
    assert_eq!(made.len(), 2);
    for b in &made {
        assert_eq!(b.metadata.get(MARKER).map(String::as_str), Some("nightly"));
        assert_eq!(b.metadata.get("team").map(String::as_str), Some("db"));
        assert_eq!(b.container.as_deref(), Some("nightly-backups"));
        assert!(b.name.as_deref().is_some_and(|n| n.starts_with("nightly-2026")), "{:?}", b.name);
        assert_eq!(
            b.snapshot_id.is_some(),
            b.volume_id == attached,
            "only the attached volume is read from a snapshot"
        );
        assert_eq!(first.volumes.iter().find(|v| v.volume.id == b.volume_id).unwrap().backup_id.as_ref(), Some(&b.id));
    }
    assert!(snapshots(&cinder).await.is_empty(), "the temporary snapshot is deleted");
    assert_eq!(first.pruned.len(), 2, "each volume is a group");
    assert!(first.pruned.iter().all(|g| g.outcomes.as_ref().is_some_and(Vec::is_empty)), "nothing to delete yet");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0], "planned 2");
        for line in ["snapshot attached", "started attached full", "started loose full", "finished loose done"] {
            assert!(seen.contains(&line.to_owned()), "{line}: {seen:#?}");
        }
    }

    // The same night again: nothing to do.
    let again = run(&cinder, &policy, &options).await.unwrap();
    assert!(again.succeeded());
    assert!(
        again
            .volumes
            .iter()
            .all(|v| v.outcome == Outcome::Fresh && v.protected && matches!(v.reason, Reason::Fresh(_)))
    );
    assert_eq!(backups(&cinder).await.len(), 2);

    cloud.clock().advance(DAY);
    let second = run(&cinder, &policy, &options).await.unwrap();
    assert!(second.succeeded(), "{second:#?}");
    let by = by_label(&second);
    assert_eq!(
        (&by["loose"].action, &by["loose"].reason),
        (&Action::Incremental(Source::Volume), &Reason::ChainRoom(2))
    );
    assert!(matches!(by["attached"].action, Action::Incremental(Source::Snapshot)));
    let incrementals = backups(&cinder).await.into_iter().filter(|b| b.is_incremental).count();
    assert_eq!(incrementals, 2);

    cloud.clock().advance(DAY);
    seen.lock().unwrap().clear();
    let third = run(&cinder, &policy, &options).await.unwrap();
    assert!(third.succeeded(), "{third:#?}");
    assert!(by_label(&third).values().all(|v| matches!(v.reason, Reason::ChainComplete(2))), "{third:#?}");
    let left = backups(&cinder).await;
    assert_eq!(left.len(), 2, "the older chains are deleted: {left:#?}");
    assert!(left.iter().all(|b| !b.is_incremental
        && Some(&b.id) == third.volumes.iter().find(|v| v.volume.id == b.volume_id).unwrap().backup_id.as_ref()));
    for group in &third.pruned {
        let outcomes = group.outcomes.as_ref().unwrap();
        assert_eq!(outcomes.len(), 2, "{group:#?}");
        assert!(outcomes.iter().all(|(_, o)| *o == retention::Outcome::Deleted), "{group:#?}");
    }
    let pruned = seen.lock().unwrap().iter().filter(|l| l.starts_with("pruned ")).count();
    assert_eq!(pruned, 4);
}

/// A dry run plans and sends no change: no backup, no snapshot, no
/// delete; its retention counts the backups it would make.
#[tokio::test]
async fn a_dry_run_changes_nothing() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let id = volume(&cinder, "db", Some("nightly")).await;
    let mut policy = nightly(tagged("nightly"));
    policy.keep = Some(retention::Policy { keep_last: 1, ..retention::Policy::default() });
    let (mut options, _) = options(&cloud);
    run(&cinder, &policy, &options).await.unwrap();
    cloud.clock().advance(DAY);
    options.dry_run = true;
    let ids = |list: Vec<types::Backup>| list.into_iter().map(|b| (b.id, b.status)).collect::<Vec<_>>();
    let before = ids(backups(&cinder).await);
    let requests = cloud.requests();
    let dry = run(&cinder, &policy, &options).await.unwrap();
    let sent = cloud.requests() - requests;
    assert_eq!(sent, 3, "the volumes, the backups and the quota are read, nothing more");
    assert_eq!(ids(backups(&cinder).await), before, "nothing made or deleted");
    assert!(snapshots(&cinder).await.is_empty());
    assert_eq!(dry.volumes.len(), 1);
    assert_eq!((&dry.volumes[0].outcome, &dry.volumes[0].action), (&Outcome::Planned, &Action::Full(Source::Volume)));
    assert!(
        dry.volumes[0].protected,
        "a day old, the newest backup is due and yet within the slack (24 h + 2.4 h): still protecting"
    );
    assert!(dry.succeeded(), "a plan alone is not a failure");
    assert_eq!(dry.pruned.len(), 1);
    assert_eq!(dry.pruned[0].volume_id, id);
    assert_eq!(dry.pruned[0].outcomes, None);
    assert_eq!(dry.pruned[0].plan.delete_order(), [before[0].0.as_str()], "the planned backup would be the one kept");
}

/// A volume whose backups fail is reported with Cinder's reason and its
/// user message, and the run goes on with the others; the report calls it
/// failing.
#[tokio::test]
async fn a_failing_volume_names_cinders_reason_and_the_others_go_on() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let bad = volume(&cinder, "bad", Some("nightly")).await;
    volume(&cinder, "good", Some("nightly")).await;
    cloud.fail_backups_of(&bad, "disk full");
    let policy = nightly(tagged("nightly"));
    let (options, _) = options(&cloud);
    let done = run(&cinder, &policy, &options).await.unwrap();
    assert!(!done.succeeded());
    let by = by_label(&done);
    assert_eq!(
        by["bad"].outcome,
        Outcome::Failed("disk full (Cinder: create backup:Backup driver failed to create backup.)".to_owned())
    );
    assert!(!by["bad"].protected && by["bad"].backup_id.is_some());
    assert!(by["good"].outcome == Outcome::Done && by["good"].protected);
    let now = cloud.clock().now();
    let states: BTreeMap<String, State> = report(&cinder, Some(&policy), &policy.standard(), now)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.volume.label().to_owned(), p.state))
        .collect();
    assert_eq!(states, BTreeMap::from([("bad".to_owned(), State::Failing), ("good".to_owned(), State::Protected)]));
}

/// A backup that outlasts the policy's `timeout` is reported as timed out
/// and left to go on; the next run adopts it rather than making another,
/// and its time counts from the backup's creation.
#[tokio::test]
async fn a_timed_out_backup_is_adopted_by_the_next_run() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    volume(&cinder, "slow", Some("nightly")).await;
    let mut policy = nightly(tagged("nightly"));
    policy.timeout = Duration::from_secs(2);
    policy.poll_interval = Duration::from_secs(1);
    let (options, _) = options(&cloud);
    let first = run(&cinder, &policy, &options).await.unwrap();
    assert_eq!(first.volumes[0].outcome, Outcome::TimedOut, "{first:#?}");
    assert!(!first.succeeded() && !first.volumes[0].protected);
    let made = backups(&cinder).await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].status, types::BackupStatus::Creating, "the run stopped waiting before the fake's 3 s");

    policy.timeout = Duration::from_secs(60);
    let second = run(&cinder, &policy, &options).await.unwrap();
    assert!(second.succeeded(), "{second:#?}");
    let v = &second.volumes[0];
    assert_eq!(v.action, Action::Adopt(made[0].id.clone()));
    assert_eq!(v.backup_id.as_ref(), Some(&made[0].id));
    assert_eq!(v.outcome, Outcome::Done);
    assert!(v.elapsed.is_some_and(|e| e >= Duration::from_secs(3)), "from the backup's creation: {v:#?}");
    assert_eq!(backups(&cinder).await.len(), 1, "adopted, not made again");
}

/// An attached volume's backup that times out keeps its temporary
/// snapshot (the backup still reads it); the next run leaves the snapshot
/// while it adopts the backup, and deletes it once the backup ends.
#[tokio::test]
async fn an_adopted_backups_temporary_snapshot_goes_when_it_ends() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let id = volume(&cinder, "attached", Some("nightly")).await;
    assert!(cloud.attach_volume(&id, "server-1"));
    let mut policy = nightly(tagged("nightly"));
    policy.in_use = InUse::Snapshot;
    policy.timeout = Duration::from_secs(2);
    policy.poll_interval = Duration::from_secs(1);
    let (options, _) = options(&cloud);
    let first = run(&cinder, &policy, &options).await.unwrap();
    assert_eq!(first.volumes[0].outcome, Outcome::TimedOut, "{first:#?}");
    let left = snapshots(&cinder).await;
    assert_eq!(left.len(), 1, "the backup still reads its snapshot");
    let made = backups(&cinder).await;
    assert_eq!(made[0].snapshot_id.as_ref(), Some(&left[0].id));

    policy.timeout = Duration::from_secs(60);
    let second = run(&cinder, &policy, &options).await.unwrap();
    assert_eq!(second.volumes[0].action, Action::Adopt(made[0].id.clone()));
    assert_eq!(second.volumes[0].outcome, Outcome::Done, "{second:#?}");
    assert!(second.cleaned.is_empty(), "not cleaned up front, under the backup: {:?}", second.cleaned);
    assert!(snapshots(&cinder).await.is_empty(), "deleted once the adopted backup ended");
}

/// A temporary snapshot an earlier run left behind is deleted; snapshots
/// of another policy, or without the temporary mark, are not.
#[tokio::test]
async fn left_behind_temporary_snapshots_of_the_policy_are_cleaned() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder, "db", None).await;
    let left = marked_snapshot(&cinder, &v, &[(MARKER, "nightly"), (TEMPORARY, "true")]).await;
    let other_policy = marked_snapshot(&cinder, &v, &[(MARKER, "weekly"), (TEMPORARY, "true")]).await;
    let kept_by_hand = marked_snapshot(&cinder, &v, &[(MARKER, "nightly")]).await;
    let (options, seen) = options(&cloud);
    let done = run(&cinder, &nightly(tagged("none")), &options).await.unwrap();
    assert_eq!(done.cleaned, [(left.clone(), Ok(()))]);
    assert!(seen.lock().unwrap().contains(&format!("cleaned {left} true")));
    let mut ids: Vec<String> = snapshots(&cinder).await.into_iter().map(|s| s.id).collect();
    ids.sort();
    let mut expected = vec![other_policy, kept_by_hand];
    expected.sort();
    assert_eq!(ids, expected);
}

/// Leftover temporary snapshots as Cinder may answer for them: one in
/// `error` is deleted all the same; one gone meanwhile (a 404 to the look
/// and to the delete) counts as cleaned; a refused look or delete is
/// reported with the snapshot, and the run calls itself failed.
#[tokio::test]
async fn leftover_snapshots_are_cleaned_whatever_state_cinder_leaves_them_in() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let admin = cloud.admin_session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder, "db", None).await;
    let policy = nightly(tagged("none"));
    let (options, _) = options(&cloud);

    let errored = marked_snapshot(&cinder, &v, &[(MARKER, "nightly"), (TEMPORARY, "true")]).await;
    let error = types::SnapshotResetStatus { status: types::SnapshotResetStatusStatus::Error };
    admin.reset_snapshot_status(&errored, error).await.unwrap();
    let done = run(&cinder, &policy, &options).await.unwrap();
    assert_eq!(done.cleaned, [(errored, Ok(()))], "an `error` snapshot can be deleted");
    assert!(snapshots(&cinder).await.is_empty());

    // Gone between the list and the wait: the waiter says `deleted`, and
    // the delete's 404 counts as done. (The fake's 404s are a pretence:
    // the snapshot stays for the cases below.)
    let vanished = marked_snapshot(&cinder, &v, &[(MARKER, "nightly"), (TEMPORARY, "true")]).await;
    cloud.fail("show_snapshot", 1, 404, "itemNotFound", "Snapshot could not be found.");
    cloud.fail("delete_snapshot", 1, 404, "itemNotFound", "Snapshot could not be found.");
    let done = run(&cinder, &policy, &options).await.unwrap();
    assert_eq!(done.cleaned, [(vanished.clone(), Ok(()))], "gone: nothing left to delete");
    assert!(done.succeeded());
    assert_eq!(snapshots(&cinder).await.len(), 1);

    cloud.fail("show_snapshot", 1, 403, "forbidden", "Policy doesn't allow it.");
    let done = run(&cinder, &policy, &options).await.unwrap();
    assert!(
        matches!(&done.cleaned[..], [(id, Err(why))] if id == &vanished && why.starts_with(&format!("snapshot {vanished}: "))
            && why.contains("403")),
        "{:?}",
        done.cleaned
    );
    assert!(!done.succeeded());
    cloud.fail("delete_snapshot", 1, 403, "forbidden", "Policy doesn't allow it.");
    let done = run(&cinder, &policy, &options).await.unwrap();
    assert!(
        matches!(&done.cleaned[..], [(id, Err(why))] if why.starts_with(&format!("deleting snapshot {id}: "))),
        "{:?}",
        done.cleaned
    );
    assert!(!done.succeeded());
    assert_eq!(snapshots(&cinder).await.len(), 1, "still there after two refusals");
}

/// With room for one more backup, the volume most at risk gets it; the
/// other is not attempted, with the quota as its reason.
#[tokio::test]
async fn the_quota_goes_to_the_volume_most_at_risk() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    volume(&cinder, "older", Some("nightly")).await;
    let policy = nightly(Selection { names: vec!["older".to_owned()], ..tagged("nightly") });
    let (options, _) = options(&cloud);
    run(&cinder, &policy, &options).await.unwrap();
    volume(&cinder, "newer", Some("nightly")).await;
    cloud.clock().advance(2 * DAY);
    cloud.set_backup_quota(2);
    let all = nightly(tagged("nightly"));
    let done = run(&cinder, &all, &options).await.unwrap();
    let by = by_label(&done);
    assert_eq!(by["newer"].outcome, Outcome::Done, "never backed up: the most at risk");
    assert_eq!(by["older"].outcome, Outcome::NotAttempted);
    assert_eq!(by["older"].reason, Reason::OverQuota("backups: 1 left, taken by volumes more at risk".to_owned()));
    assert!(!by["older"].protected, "its backup is two days old");
    assert!(!done.succeeded());
}

/// `in-use: force` backs an attached volume up with `force`; `in-use:
/// skip` leaves it, and says why; `in-use: snapshot` below 3.66 asks for
/// its temporary snapshot with `force`, as Cinder needs there.
#[tokio::test]
async fn attached_volumes_are_forced_or_skipped_as_the_policy_says() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let id = volume(&cinder, "attached", Some("nightly")).await;
    assert!(cloud.attach_volume(&id, "server-1"));
    let (options, _) = options(&cloud);
    let mut policy = nightly(tagged("nightly"));
    policy.in_use = InUse::Skip;
    let skipped = run(&cinder, &policy, &options).await.unwrap();
    assert_eq!((&skipped.volumes[0].outcome, &skipped.volumes[0].reason), (&Outcome::NotAttempted, &Reason::InUse));
    assert!(backups(&cinder).await.is_empty());
    policy.in_use = InUse::Force;
    let forced = run(&cinder, &policy, &options).await.unwrap();
    assert_eq!((&forced.volumes[0].action, &forced.volumes[0].outcome), (&Action::Full(Source::Force), &Outcome::Done));
    let made = backups(&cinder).await;
    assert_eq!((made.len(), made[0].snapshot_id.as_deref()), (1, None), "from the volume itself");
    assert!(snapshots(&cinder).await.is_empty());

    // Below 3.66 Cinder snapshots an attached volume only with `force`.
    let old = cloud.session_builder().microversion("block-storage", Microversion::new(3, 65)).build().unwrap();
    let old = old.block_storage().await.unwrap();
    policy.in_use = InUse::Snapshot;
    policy.full_every = 1;
    cloud.clock().advance(DAY);
    let snapped = run(&old, &policy, &options).await.unwrap();
    assert_eq!(
        (&snapped.volumes[0].action, &snapped.volumes[0].outcome),
        (&Action::Full(Source::Snapshot), &Outcome::Done),
        "{snapped:#?}"
    );
}

/// Names that match no volume are problems of the run and `missing` rows
/// of the report; below microversion 3.43 the marker cannot be written,
/// and the run is refused before any request.
#[tokio::test]
async fn missing_names_and_an_old_microversion_are_reported() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    volume(&cinder, "db", None).await;
    let policy = nightly(Selection { names: vec!["db".to_owned(), "gone".to_owned()], ..Selection::default() });
    let (options, _) = options(&cloud);
    let done = run(&cinder, &policy, &options).await.unwrap();
    assert!(!done.succeeded());
    assert_eq!(done.problems(), [openstack_backups::policy::Problem::NotFound("gone".to_owned())]);
    assert_eq!(done.volumes.len(), 1);
    let rows = report(&cinder, Some(&policy), &policy.standard(), cloud.clock().now()).await.unwrap();
    let states: Vec<(String, State)> = rows.iter().map(|r| (r.volume.label().to_owned(), r.state)).collect();
    assert_eq!(states, [("db".to_owned(), State::Protected), ("gone".to_owned(), State::Missing)]);

    let old = cloud.session_builder().microversion("block-storage", Microversion::new(3, 42)).build().unwrap();
    let old = old.block_storage().await.unwrap();
    let before = cloud.requests();
    let refused = run(&old, &policy, &options).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::MicroversionUnsupported);
    assert_eq!(cloud.requests(), before, "nothing sent");

    let least = cloud.session_builder().microversion("block-storage", Microversion::new(3, 43)).build().unwrap();
    let least = least.block_storage().await.unwrap();
    let done = run(&least, &policy, &options).await.unwrap();
    assert_eq!(done.volumes.len(), 1, "3.43 carries the marker: the run goes ahead");
}
