//! Backup policies without a cloud: the policy file (every error names the
//! file, the line and the field), and the planner's properties over
//! generated clouds (never a volume outside the selection, never a chain
//! longer than `full-every`, never a delete of a backup the policy did not
//! make).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openstack_backups::policy::{InUse, PolicyFile, Projects};

fn parse(text: &str) -> Result<PolicyFile, String> {
    PolicyFile::parse(Path::new("policies.yaml"), text).map_err(|e| e.to_string())
}

#[test]
fn the_example_of_the_docs_reads_as_written() {
    let file = parse(
        "policies:
  nightly:
    select: {metadata: {backup: nightly}}   # or names: [db1, db2], name-glob: \"prod-*\", all: true
    every: 24h
    full-every: 7
    in-use: snapshot
    keep: {daily: 7, weekly: 4}
    concurrency: 4
",
    )
    .unwrap();
    let p = &file.policies["nightly"];
    assert_eq!(p.name, "nightly");
    assert_eq!(p.select.metadata, BTreeMap::from([("backup".to_owned(), "nightly".to_owned())]));
    assert_eq!(p.every, Duration::from_secs(86400));
    assert_eq!(p.slack, Duration::from_secs(8640), "a tenth of every");
    assert_eq!(p.full_every, 7);
    assert_eq!(p.in_use, InUse::Snapshot);
    let keep = p.keep.as_ref().unwrap();
    assert_eq!((keep.keep_daily, keep.keep_weekly, keep.keep_last), (7, 4, 0));
    assert_eq!(p.concurrency, 4);
    assert_eq!(p.timeout, Duration::from_secs(6 * 3600));
    assert_eq!(p.poll_interval, Duration::from_secs(10));
}

#[test]
fn every_field_and_its_aliases() {
    let file = parse(
        "policies:
  prod:
    select: {name_glob: \"prod-*\", all_projects: true}
    every: 1h 30m
    slack: 0s
    full_every: 3
    in_use: force
    keep: {last: 3, within: 2w, tags: [hold, tier=gold], utc-offset: \"+02:00\"}
    timeout: 2h
    poll_interval: 30s
    container: nightly
    availability_zone: nova
    properties: {owner: ops}
  db.daily:
    select: {names: [db1, 9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11], project: 6b2c0f4e}
    every: 24h
    in-use: skip
",
    )
    .unwrap();
    let p = &file.policies["prod"];
    assert_eq!(p.select.name_glob.as_ref().unwrap().pattern(), "prod-*");
    assert!(p.select.name_glob.as_ref().unwrap().is_match("prod-db-1"));
    assert_eq!(p.select.projects, Projects::All);
    assert_eq!(
        (p.every, p.slack, p.full_every, p.in_use),
        (Duration::from_secs(5400), Duration::ZERO, 3, InUse::Force)
    );
    let keep = p.keep.as_ref().unwrap();
    assert_eq!(keep.keep_within, Some(chrono::TimeDelta::days(14)));
    assert_eq!(keep.keep_tags, [("hold".to_owned(), None), ("tier".to_owned(), Some("gold".to_owned()))]);
    assert_eq!((p.timeout, p.poll_interval), (Duration::from_secs(7200), Duration::from_secs(30)));
    assert_eq!((p.container.as_deref(), p.availability_zone.as_deref()), (Some("nightly"), Some("nova")));
    assert_eq!(p.properties["owner"], "ops");
    let d = &file.policies["db.daily"];
    assert_eq!(d.select.projects, Projects::Project("6b2c0f4e".into()));
    assert_eq!((d.full_every, d.in_use, d.keep.is_none()), (1, InUse::Skip, true), "defaults");
    assert_eq!(file.chosen(&["db.daily".into()]).unwrap()[0].name, "db.daily");
    let unknown = file.chosen(&["weekly".into()]).unwrap_err().to_string();
    assert!(unknown.contains("no policy named \"weekly\" (the file has: db.daily, prod)"), "{unknown}");
}

/// Each broken file, and the start of the error it must give
/// (`file:line:column: field: message`).
#[test]
fn errors_name_the_file_the_line_and_the_field() {
    let base = "policies:\n  nightly:\n    select: {all: true}\n    every: 24h\n";
    let cases: &[(&str, &str)] = &[
        (
            &format!("{base}    evry: 2h\n"),
            "policies.yaml:5:5: policies.nightly.evry: unknown field `evry`, expected one of `select`, `every`",
        ),
        (
            "policies:\n  nightly:\n    select: {all: true}\n    every: 24\n",
            "policies.yaml:4:12: policies.nightly.every: expected a duration like 24h",
        ),
        (
            "policies:\n  nightly:\n    select: {all: true}\n    every: 0s\n",
            "policies.yaml:4:12: policies.nightly.every: must be longer than zero",
        ),
        (
            &format!("{base}    in-use: detach\n"),
            "policies.yaml:5:13: policies.nightly.in-use: unknown variant `detach`",
        ),
        (
            &format!("{base}    full-every: 0\n"),
            "policies.yaml:5:17: policies.nightly.full-every: invalid value: integer `0`",
        ),
        (
            &format!("{base}    concurrency: -1\n"),
            "policies.yaml:5:18: policies.nightly.concurrency: invalid type: integer `-1`, expected a nonzero usize",
        ),
        (&format!("{base}    keep: {{}}\n"), "policies.yaml:5:11: policies.nightly.keep: keep has no rule"),
        (
            &format!("{base}    keep: {{dayly: 7}}\n"),
            "policies.yaml:5:12: policies.nightly.keep.dayly: unknown field `dayly`",
        ),
        (
            &format!("{base}    keep: {{within: 7x}}\n"),
            "policies.yaml:5:11: policies.nightly.keep: within: unknown unit",
        ),
        (
            &format!("{base}    keep: {{last: 1, utc-offset: 2h}}\n"),
            "policies.yaml:5:11: policies.nightly.keep: utc-offset must look like +02:00, not \"2h\"",
        ),
        (
            &format!("{base}    properties: {{osbackup-policy: other}}\n"),
            "policies.yaml:5:17: policies.nightly.properties: osbackup-policy is set by the policy itself",
        ),
        (
            "policies:\n  nightly:\n    select: {all: true, names: [db1]}\n    every: 24h\n",
            "policies.yaml:3:13: policies.nightly.select: all: true selects every volume",
        ),
        (
            "policies:\n  nightly:\n    select: {}\n    every: 24h\n",
            "policies.yaml:3:13: policies.nightly.select: selects no volume",
        ),
        (
            "policies:\n  nightly:\n    select: {name-glob: \"[\"}\n    every: 24h\n",
            "policies.yaml:3:13: policies.nightly.select: not a glob",
        ),
        (
            "policies:\n  nightly:\n    select: {all: true, project: p, all-projects: true}\n    every: 24h\n",
            "policies.yaml:3:13: policies.nightly.select: give project or all-projects, not both",
        ),
        ("policies:\n  nightly:\n    every: 24h\n", "policies.yaml:3:5: policies.nightly: missing field `select`"),
        (
            "policies:\n  \"night ly\":\n    select: {all: true}\n    every: 24h\n",
            "policies.yaml:2:3: policies.night ly: \"night ly\" is not a policy name",
        ),
        (
            "policies:\n  nightly:\n    select: {metadata: {backup: [a]}}\n    every: 24h\n",
            "policies.yaml:3:33: policies.nightly.select.metadata.backup: invalid type: sequence",
        ),
        (
            "policies:\n  nightly:\n    select: {all: true}\n    every: [24h]\n",
            "policies.yaml:4:12: policies.nightly.every: invalid type: sequence, expected a duration like 24h",
        ),
        (
            "policies:\n  nightly:\n    select: [db1]\n    every: 24h\n",
            "policies.yaml:3:13: policies.nightly.select: invalid type: sequence, expected a selection (names, name-glob, metadata, all, group)",
        ),
        ("polices: {}\n", "policies.yaml:1:1: polices: unknown field `polices`, expected `policies`"),
        ("policies: [\n", "policies.yaml:1:11: policies: invalid type: sequence, expected a map"),
    ];
    let mut wrong = Vec::new();
    for (text, want) in cases {
        match parse(text) {
            Ok(_) => wrong.push(format!("accepted:\n{text}")),
            Err(got) if !got.starts_with(want) => wrong.push(format!("{text}\n  want: {want}…\n  got:  {got}")),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n\n"));
    let missing = PolicyFile::read(Path::new("/nonexistent/policies.yaml")).unwrap_err().to_string();
    assert!(missing.starts_with("/nonexistent/policies.yaml: cannot read it: "), "{missing}");
}

/// Two selections are equal when every criterion is, the glob by its
/// pattern; each criterion alone makes them differ.
#[test]
fn selections_compare_criterion_by_criterion() {
    let base = || Selection {
        names: vec!["db1".to_owned()],
        name_glob: Some(NameGlob::new("prod-*").unwrap()),
        metadata: BTreeMap::from([("backup".to_owned(), "nightly".to_owned())]),
        all: false,
        projects: Projects::Own,
        group: None,
    };
    assert_eq!(base(), base());
    type Change = fn(&mut Selection);
    let changes: [(&str, Change); 6] = [
        ("names", |s| s.names.push("db2".to_owned())),
        ("name_glob", |s| s.name_glob = Some(NameGlob::new("db-*").unwrap())),
        ("metadata", |s| s.metadata.clear()),
        ("all", |s| s.all = true),
        ("projects", |s| s.projects = Projects::All),
        ("group", |s| s.group = Some("db".to_owned())),
    ];
    for (field, change) in changes {
        let mut other = base();
        change(&mut other);
        assert_ne!(base(), other, "{field} differs");
    }
}

// ------------------------------------------------------------ the planner

use chrono::{DateTime, TimeZone, Utc};
use openstack_backups::block_storage::types::BackupStatus;
use openstack_backups::policy::{
    Action, BackupView, NameGlob, Policy, Reason, Selection, Standard, State, VolumeView, assess, plan, prune_plans,
};
use openstack_backups::quota::BackupHeadroom;
use proptest::prelude::*;

const POLICY: &str = "nightly";
const NAMES: [&str; 5] = ["db1", "db2", "prod-web", "prod-db", "scratch"];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0).unwrap()
}

fn volume(i: usize, name: Option<&str>, status: &str, tagged: bool, size: u64) -> Arc<VolumeView> {
    Arc::new(VolumeView {
        id: format!("vol-{i:02}"),
        name: name.map(str::to_owned),
        status: status.to_owned(),
        size,
        metadata: if tagged { vec![("backup".to_owned(), "nightly".to_owned())] } else { Vec::new() },
        project_id: None,
    })
}

fn backup(
    id: String,
    volume: &str,
    at: DateTime<Utc>,
    incremental: bool,
    status: &str,
    policy: Option<&str>,
) -> BackupView {
    BackupView {
        id,
        volume_id: volume.to_owned(),
        name: None,
        status: BackupStatus::from(status),
        created: at,
        data_timestamp: at,
        is_incremental: incremental,
        has_dependents: false,
        size: Some(1),
        snapshot_id: None,
        policy: policy.map(str::to_owned),
        fail_reason: None,
    }
}

/// A cloud: volumes (names from a small pool, so some repeat), and a
/// history of backups of them, by this policy, another one, or by hand.
fn cloud() -> impl Strategy<Value = (Vec<Arc<VolumeView>>, Vec<BackupView>)> {
    let volumes = proptest::collection::vec(
        (
            proptest::option::weighted(0.9, 0usize..NAMES.len()),
            prop_oneof![4 => Just("available"), 2 => Just("in-use"), 1 => Just("error"), 1 => Just("backing-up")],
            any::<bool>(),
            1u64..5,
        ),
        0..12,
    );
    let history = proptest::collection::vec(
        (
            0usize..12,
            0i64..24 * 40,
            any::<bool>(),
            prop_oneof![6 => Just("available"), 1 => Just("error"), 1 => Just("creating")],
            0u8..4,
        ),
        0..40,
    );
    (volumes, history).prop_map(|(vs, hist)| {
        let volumes: Vec<Arc<VolumeView>> = vs
            .iter()
            .enumerate()
            .map(|(i, (name, status, tagged, size))| volume(i, name.map(|n| NAMES[n]), status, *tagged, *size))
            .collect();
        let mut backups = Vec::new();
        for (k, (v, hours, incremental, status, by)) in hist.into_iter().enumerate() {
            if volumes.is_empty() {
                break;
            }
            let v = &volumes[v % volumes.len()];
            let by = match by {
                0 | 1 => Some(POLICY),
                2 => Some("weekly"),
                _ => None,
            };
            let at = t0() - chrono::Duration::hours(hours);
            backups.push(backup(format!("b{k:02}"), &v.id, at, incremental, status, by));
        }
        (volumes, backups)
    })
}

fn selection() -> impl Strategy<Value = Selection> {
    prop_oneof![
        Just(Selection { all: true, ..Selection::default() }),
        proptest::collection::vec(
            prop_oneof![
                (0usize..NAMES.len()).prop_map(|n| NAMES[n].to_owned()),
                Just("vol-03".to_owned()),
                Just("gone".to_owned())
            ],
            1..4
        )
        .prop_map(|names| Selection { names, ..Selection::default() }),
        Just(Selection { name_glob: Some(NameGlob::new("prod-*").unwrap()), ..Selection::default() }),
        Just(Selection {
            metadata: BTreeMap::from([("backup".to_owned(), "nightly".to_owned())]),
            ..Selection::default()
        }),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        selection(),
        1u64..48,
        1u32..6,
        prop_oneof![Just(InUse::Snapshot), Just(InUse::Force), Just(InUse::Skip)],
        any::<bool>(),
    )
        .prop_map(|(select, hours, full_every, in_use, keep)| {
            let mut p = Policy::new(POLICY, select, Duration::from_secs(hours * 3600)).unwrap();
            p.full_every = full_every;
            p.in_use = in_use;
            if keep {
                p.keep =
                    Some(openstack_backups::retention::Policy { keep_last: 2, keep_daily: 3, ..Default::default() });
            }
            p
        })
}

fn headroom() -> impl Strategy<Value = Option<BackupHeadroom>> {
    proptest::option::of((proptest::option::of(0u64..6), proptest::option::of(0u64..12)).prop_map(|(count, gib)| {
        let limits = openstack_backups::block_storage::types::AbsoluteLimits {
            max_total_backups: Some(count.map_or(-1, |c| c as i64 + 10)),
            total_backups_used: Some(10),
            max_total_backup_gigabytes: Some(gib.map_or(-1, |g| g as i64 + 100)),
            total_backup_gigabytes_used: Some(100),
            ..Default::default()
        };
        BackupHeadroom::from_limits(&limits)
    }))
}

/// The selection, computed plainly: every criterion given must match; a
/// name picks the volume with that id, else the one volume with that name.
fn oracle(policy: &Policy, volumes: &[Arc<VolumeView>]) -> Vec<String> {
    let s = &policy.select;
    let mut out: Vec<String> = volumes
        .iter()
        // The one glob generated, matched plainly (not with the code under test).
        .filter(|v| {
            s.name_glob.as_ref().is_none_or(|g| {
                assert_eq!(g.pattern(), "prod-*");
                v.name.as_deref().is_some_and(|n| n.starts_with("prod-"))
            })
        })
        .filter(|v| s.metadata.iter().all(|(k, val)| v.metadata.iter().any(|(vk, vv)| vk == k && vv == val)))
        .filter(|v| {
            s.names.is_empty()
                || s.names.iter().any(|n| {
                    *n == v.id
                        || (v.name.as_deref() == Some(n.as_str())
                            && volumes.iter().filter(|o| o.name.as_deref() == Some(n.as_str())).count() == 1
                            && !volumes.iter().any(|o| o.id == *n))
                })
        })
        .map(|v| v.id.clone())
        .collect();
    out.sort();
    out
}

/// The parent Cinder takes for a new incremental of `volume` (its newest
/// available backup), and the chain length of an existing backup, walking
/// the parents recorded when each was made.
fn cinder_parent<'a>(backups: &'a [BackupView], volume: &str) -> Option<&'a BackupView> {
    backups
        .iter()
        .filter(|b| b.volume_id == volume && b.status == BackupStatus::Available)
        .max_by_key(|b| (b.data_timestamp, b.created))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: openstack_backups_tests::proptest_cases(256), ..ProptestConfig::default() })]

    #[test]
    fn plans_select_exactly_the_selection_and_respect_quota(
        (volumes, backups) in cloud(), policy in policy(), room in headroom(), hours in 0i64..72,
    ) {
        let now = t0() + chrono::Duration::hours(hours);
        let p = plan(&policy, now, &volumes, &backups, room.as_ref());
        let mut planned: Vec<String> = p.volumes.iter().map(|v| v.volume.id.clone()).collect();
        planned.sort();
        prop_assert_eq!(&planned, &oracle(&policy, &volumes), "the plan's volumes are the selection, once each");
        for v in &p.volumes {
            let ours: Vec<&BackupView> = backups.iter().filter(|b| b.volume_id == v.volume.id && b.policy.as_deref() == Some(POLICY)).collect();
            // A backup of the policy in flight is waited for, never doubled.
            if let Some(flying) = ours.iter().find(|b| b.status == BackupStatus::Creating) {
                prop_assert!(matches!(&v.action, Action::Adopt(id) if ours.iter().any(|b| &b.id == id)), "{flying:?} in flight, yet {:?}", v.action);
                continue;
            }
            let newest = ours.iter().filter(|b| b.status == BackupStatus::Available).map(|b| b.data_timestamp).max();
            let fresh = newest.is_some_and(|n| (now - n).to_std().unwrap_or_default() + policy.slack < policy.every);
            if fresh {
                prop_assert_eq!(&v.action, &Action::Skip);
            }
            if v.action.creates() {
                prop_assert!(!fresh);
                prop_assert!(v.volume.status == "available" || (v.volume.status == "in-use" && policy.in_use != InUse::Skip));
            }
            // An incremental only on the policy's own newest backup.
            if matches!(v.action, Action::Incremental(_)) {
                let parent = cinder_parent(&backups, &v.volume.id);
                prop_assert!(parent.is_some_and(|b| b.policy.as_deref() == Some(POLICY)), "{v:?}");
                prop_assert!(policy.full_every > 1);
            }
        }
        if let Some(room) = &room {
            let creating: Vec<&VolumeView> = p.volumes.iter().filter(|v| v.action.creates()).map(|v| &*v.volume).collect();
            let count = creating.len() as u64;
            let gib: u64 = creating.iter().map(|v| v.size).sum();
            prop_assert!(room.backups.fits(count) != Some(false), "{count} backups over {:?}", room.backups);
            prop_assert!(room.gigabytes.fits(gib) != Some(false), "{gib} GiB over {:?}", room.gigabytes);
            for v in p.volumes.iter().filter(|v| matches!(v.reason, Reason::OverQuota(_))) {
                prop_assert_eq!(&v.action, &Action::Skip);
            }
        }
    }

    /// Nightly runs for a month on a generated cloud, each backup made as the
    /// plan says (Cinder choosing each incremental's parent): no chain of the
    /// policy ever grows past `full-every`, and retention deletes only the
    /// policy's own backups.
    #[test]
    fn runs_never_grow_a_chain_past_full_every_nor_prune_what_others_made(
        (volumes, mut backups) in cloud(), policy in policy(),
    ) {
        // The chain length of each backup, as Cinder chained it; the
        // generated history counts as full backups.
        let mut length: BTreeMap<String, u32> = backups.iter().map(|b| (b.id.clone(), 1)).collect();
        let mut made = 0;
        for night in 0..30 {
            let now = t0() + chrono::Duration::hours(24 * night) + chrono::Duration::minutes(night * 7 % 50);
            // What was in flight is done by now.
            for b in backups.iter_mut().filter(|b| b.status == BackupStatus::Creating) {
                b.status = BackupStatus::Available;
            }
            let p = plan(&policy, now, &volumes, &backups, None);
            for v in &p.volumes {
                let incremental = match v.action {
                    Action::Full(_) => false,
                    Action::Incremental(_) => true,
                    _ => continue,
                };
                let chain = if incremental {
                    let parent = cinder_parent(&backups, &v.volume.id).expect("an incremental has a parent");
                    length[&parent.id] + 1
                } else {
                    1
                };
                prop_assert!(chain <= policy.full_every, "night {night}: a chain of {chain} on {} (full-every {})", v.volume.id, policy.full_every);
                made += 1;
                let id = format!("new-{made}");
                length.insert(id.clone(), chain);
                backups.push(backup(id, &v.volume.id, now, incremental, "available", Some(POLICY)));
            }
            if let Some(plans) = prune_plans(&policy, &backups) {
                let mut gone = BTreeSet::new();
                for (_, group) in &plans {
                    for id in group.delete_order() {
                        let b = backups.iter().find(|b| b.id == id).unwrap();
                        prop_assert_eq!(b.policy.as_deref(), Some(POLICY), "{} is not the policy's, yet pruned", id);
                        prop_assert_eq!(&b.status, &BackupStatus::Available);
                        gone.insert(id.to_owned());
                    }
                }
                backups.retain(|b| !gone.contains(&b.id));
            }
        }
    }
}

use std::collections::BTreeSet;

#[test]
fn a_nightly_policy_skips_fresh_volumes_adopts_flying_ones_and_chains_on_its_own_backups() {
    let mut p =
        Policy::new(POLICY, Selection { all: true, ..Selection::default() }, Duration::from_secs(86400)).unwrap();
    p.full_every = 3;
    let volumes = vec![
        volume(1, Some("fresh"), "available", false, 1),
        volume(2, Some("due"), "available", false, 1),
        volume(3, Some("flying"), "available", false, 1),
        volume(4, Some("attached"), "in-use", false, 2),
        volume(5, Some("hand-made-newest"), "available", false, 1),
        volume(6, Some("long-chain"), "available", false, 1),
        volume(7, Some("broken"), "error", false, 1),
    ];
    let now = t0();
    let h = |n: i64| now - chrono::Duration::hours(n);
    let backups = vec![
        // 23 h is fresh with the default slack (2.4 h): a cron drifting by
        // minutes still backs up every night.
        backup("f1".into(), "vol-01", h(20), false, "available", Some(POLICY)),
        backup("d1".into(), "vol-02", h(23), false, "available", Some(POLICY)),
        backup("d0".into(), "vol-02", h(47), false, "error", Some(POLICY)),
        backup("x1".into(), "vol-03", h(1), false, "creating", Some(POLICY)),
        backup("h1".into(), "vol-05", h(30), false, "available", Some(POLICY)),
        backup("h2".into(), "vol-05", h(2), false, "available", None),
        backup("c1".into(), "vol-06", h(72), false, "available", Some(POLICY)),
        backup("c2".into(), "vol-06", h(48), true, "available", Some(POLICY)),
        backup("c3".into(), "vol-06", h(24), true, "available", Some(POLICY)),
    ];
    let plan = plan(&p, now, &volumes, &backups, None);
    let by: BTreeMap<&str, (&Action, String)> =
        plan.volumes.iter().map(|v| (v.volume.label(), (&v.action, v.reason.to_string()))).collect();
    assert_eq!(by["fresh"], (&Action::Skip, "newest backup is 20h old".to_owned()));
    assert_eq!(
        by["due"],
        (&Action::Incremental(openstack_backups::policy::Source::Volume), "backup 2 of its chain".to_owned())
    );
    assert_eq!(by["flying"], (&Action::Adopt("x1".into()), "this policy's backup is still creating".to_owned()));
    assert_eq!(by["attached"].0, &Action::Full(openstack_backups::policy::Source::Snapshot));
    assert_eq!(by["hand-made-newest"].1, "the volume's newest backup (h2) is not this policy's");
    assert_eq!(
        by["long-chain"],
        (&Action::Full(openstack_backups::policy::Source::Volume), "the chain has 3 backups (full-every)".to_owned())
    );
    assert_eq!(by["broken"], (&Action::Skip, "volume is error".to_owned()));
    // The earlier run's backup first, then the most at risk: never backed
    // up, then the oldest.
    let order: Vec<&str> = plan.work().iter().map(|v| v.volume.label()).collect();
    assert_eq!(order, ["flying", "attached", "hand-made-newest", "long-chain", "due"]);

    // The report's states.
    let standard = p.standard();
    let state = |v: usize| assess(&standard, now, &volumes[v], &backups).state;
    assert_eq!((state(0), state(1), state(3)), (State::Protected, State::Protected, State::NeverBackedUp));
    let later = assess(&standard, now + chrono::Duration::hours(6), &volumes[1], &backups);
    assert_eq!(later.state, State::Stale, "29 h > every + slack");
    let chain = assess(&standard, now, &volumes[5], &backups);
    assert_eq!((chain.chain_length, chain.backups, chain.size_gib), (3, 3, 3));
    let mut failing = backups.clone();
    failing.push(backup("e1".into(), "vol-01", h(1), false, "error", Some(POLICY)));
    assert_eq!(assess(&standard, now, &volumes[0], &failing).state, State::Failing, "the newest attempt failed");
    let any = Standard { policy: None, max_age: Duration::from_secs(3 * 3600) };
    assert_eq!(
        assess(&any, now, &volumes[4], &backups).state,
        State::Protected,
        "a hand-made backup counts without a policy"
    );
}

/// A full and an incremental of one snapshot share its data timestamp:
/// the incremental's parent is the backup before the snapshot, not its
/// twin (Cinder takes backups whose data is strictly older than the
/// snapshot), so the twin can go while the older full stays as the base.
#[test]
fn an_incremental_of_a_snapshot_is_not_the_child_of_its_twin() {
    let now = t0();
    let h = |n: i64| now - chrono::Duration::hours(n);
    let mut twin = backup("twin".into(), "vol-01", h(2), false, "available", Some(POLICY));
    let mut inc = backup("inc".into(), "vol-01", h(1), true, "available", Some(POLICY));
    (twin.data_timestamp, inc.data_timestamp) = (h(3), h(3));
    let backups = vec![backup("before".into(), "vol-01", h(30), false, "available", Some(POLICY)), twin, inc];
    let mut p =
        Policy::new(POLICY, Selection { all: true, ..Selection::default() }, Duration::from_secs(86400)).unwrap();
    p.keep = Some(openstack_backups::retention::Policy { keep_last: 1, ..Default::default() });
    let plans = prune_plans(&p, &backups).expect("a keep rule");
    let plan = &plans[0].1;
    let inc = plan.decisions.iter().find(|d| d.item.id == "inc").expect("the incremental");
    assert_eq!(inc.item.parent.as_deref(), Some("before"), "{plan:?}");
    assert_eq!(plan.delete_order(), ["twin"], "{plan:?}");
}

/// What a backup reads, as the run's table shows it after the action
/// (`full (via snapshot)`).
#[test]
fn sources_read_as_the_table_shows_them() {
    use openstack_backups::policy::Source;
    let shown: Vec<String> = [Source::Volume, Source::Force, Source::Snapshot, Source::GroupSnapshot]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(shown, ["volume", "forced", "via snapshot", "group snapshot"]);
}

/// A policy naming a group reads as written, and alone: with another
/// criterion, or with `in-use` (which a group snapshot makes moot), it is
/// an error at the place it is written.
#[test]
fn a_group_selection_stands_alone() {
    let file = parse("policies:\n  db:\n    select: {group: orders-db}\n    every: 24h\n    full-every: 7\n").unwrap();
    assert_eq!(file.policies["db"].select, Selection { group: Some("orders-db".into()), ..Selection::default() });
    let refused = |text: &str| parse(text).unwrap_err();
    let with_all = refused("policies:\n  db:\n    select: {group: orders-db, all: true}\n    every: 24h\n");
    assert!(
        with_all.starts_with("policies.yaml:3:13: policies.db.select: group selects the volumes of one volume group"),
        "{with_all}"
    );
    let with_project = refused("policies:\n  db:\n    select: {group: orders-db, project: p1}\n    every: 24h\n");
    assert!(
        with_project.contains("cannot be combined with names, name-glob, metadata, all, project or all-projects"),
        "{with_project}"
    );
    let empty = refused("policies:\n  db:\n    select: {group: ''}\n    every: 24h\n");
    assert!(empty.contains("group: give the volume group's name or id"), "{empty}");
    let in_use = refused("policies:\n  db:\n    select: {group: orders-db}\n    every: 24h\n    in-use: force\n");
    assert!(in_use.starts_with("policies.yaml:3:5: policies.db: in-use does not apply to a group"), "{in_use}");
    let nothing = refused("policies:\n  db:\n    select: {}\n    every: 24h\n");
    assert!(nothing.contains("give names, name-glob, metadata, group, or all: true"), "{nothing}");
}

/// A group's volumes planned as one: all backed up when one is due, from
/// one group snapshot whatever their status; incremental only if all can
/// be; held back whole by a backup in flight, a volume's status, or the
/// quota (a fresh volume of a held group is then fresh, as if never pulled
/// in).
#[test]
fn a_group_policy_backs_up_every_volume_when_one_is_due() {
    use openstack_backups::policy::Source::GroupSnapshot;
    let mut p = Policy::new(
        "db",
        Selection { group: Some("orders-db".into()), ..Selection::default() },
        Duration::from_secs(86400),
    )
    .unwrap();
    p.full_every = 3;
    let now = t0();
    let h = |n: i64| now - chrono::Duration::hours(n);
    let volumes = vec![
        volume(1, Some("data"), "available", false, 10),
        volume(2, Some("log"), "in-use", false, 2),
        volume(3, Some("wal"), "available", false, 1),
    ];
    let ours = |id: &str, volume: &str, hours: i64| backup(id.into(), volume, h(hours), false, "available", Some("db"));
    let base = vec![ours("d1", "vol-01", 30), ours("l1", "vol-02", 20), ours("w1", "vol-03", 20)];
    let table = |backups: &[BackupView], volumes: &[Arc<VolumeView>], room: Option<&BackupHeadroom>| {
        plan(&p, now, volumes, backups, room)
            .volumes
            .iter()
            .map(|v| (v.volume.label().to_owned(), v.action.clone(), v.reason.to_string()))
            .collect::<Vec<_>>()
    };
    let row = |name: &str, action: Action, reason: &str| (name.to_owned(), action, reason.to_owned());

    // data is due: log and wal (fresh, one attached) come along, incremental.
    assert_eq!(
        table(&base, &volumes, None),
        [
            row("data", Action::Incremental(GroupSnapshot), "backup 2 of its chain"),
            row("log", Action::Incremental(GroupSnapshot), "volume data of its group is due"),
            row("wal", Action::Incremental(GroupSnapshot), "volume data of its group is due"),
        ]
    );
    // Nothing due: nothing.
    let fresh = vec![ours("d1", "vol-01", 20), ours("l1", "vol-02", 20), ours("w1", "vol-03", 20)];
    assert!(
        table(&fresh, &volumes, None).iter().all(|(_, a, r)| *a == Action::Skip && r.starts_with("newest backup is"))
    );
    // wal's newest backup is hand-made: wal needs a full one, so all do.
    let mut hand = base.clone();
    hand.push(backup("x1".into(), "vol-03", h(1), false, "available", None));
    assert_eq!(
        table(&hand, &volumes, None),
        [
            row("data", Action::Full(GroupSnapshot), "volume wal of its group needs a full backup"),
            row("log", Action::Full(GroupSnapshot), "volume wal of its group needs a full backup"),
            row("wal", Action::Full(GroupSnapshot), "the volume's newest backup (x1) is not this policy's"),
        ]
    );
    // An earlier run's backup of log is still being made: it is waited
    // for, and the group waits.
    let mut flying = base.clone();
    flying.push(backup("f1".into(), "vol-02", h(1), false, "creating", Some("db")));
    let held = table(&flying, &volumes, None);
    assert_eq!(held[1], row("log", Action::Adopt("f1".into()), "this policy's backup is still creating"));
    assert_eq!(held[0], row("data", Action::Skip, "the group waits: a backup of volume log is still being made"));
    assert_eq!(held[2].1, Action::Skip, "wal is fresh");
    // A volume whose status allows no backup (although fresh) holds the group.
    let mut broken = volumes.clone();
    broken[2] = volume(3, Some("wal"), "error", false, 1);
    let held = table(&base, &broken, None);
    assert_eq!(held[0], row("data", Action::Skip, "the group waits: volume wal is error"));
    assert_eq!(held[1], row("log", Action::Skip, "newest backup is 20h old"), "fresh: only pulled in");
    assert_eq!(held[2], row("wal", Action::Skip, "volume is error"));
    // A member due on its own, at the edge (its age plus the slack, a tenth
    // of the cadence, equal to the cadence), is held, not fresh.
    let mut at_edge = base.clone();
    at_edge[1] =
        backup("l1".into(), "vol-02", now - chrono::Duration::seconds(86400 - 8640), false, "available", Some("db"));
    let held = table(&at_edge, &broken, None);
    assert_eq!(held[1], row("log", Action::Skip, "the group waits: volume wal is error"));
    // Room for two backups of three: none is made.
    let room = BackupHeadroom::from_limits(&openstack_backups::block_storage::types::AbsoluteLimits {
        max_total_backups: Some(2),
        total_backups_used: Some(0),
        max_total_backup_gigabytes: Some(-1),
        total_backup_gigabytes_used: Some(0),
        ..Default::default()
    });
    let held = table(&base, &volumes, Some(&room));
    let why = "the group waits: volume wal is over quota: backups: 2 left, taken by volumes more at risk";
    assert_eq!(
        held,
        [
            row("data", Action::Skip, why),
            row("log", Action::Skip, "newest backup is 20h old"),
            row("wal", Action::Skip, "over quota: backups: 2 left, taken by volumes more at risk"),
        ]
    );
}

/// The report's states, as its table, json and Prometheus labels write
/// them.
#[test]
fn states_read_as_the_report_writes_them() {
    let states = [State::Protected, State::Stale, State::NeverBackedUp, State::Failing, State::Missing];
    let written: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    assert_eq!(written, ["protected", "stale", "never backed up", "failing", "missing"]);
    let shown: Vec<String> = states.iter().map(ToString::to_string).collect();
    assert_eq!(shown, written);
}

/// A selection's name that picks no volume, or several, as the run's
/// report says it.
#[test]
fn problems_read_as_the_report_says_them() {
    use openstack_backups::policy::Problem;
    assert_eq!(Problem::NotFound("db9".into()).to_string(), "no volume is named \"db9\"");
    let twice = Problem::Ambiguous("db".into(), vec!["vol-01".into(), "vol-02".into()]);
    assert_eq!(twice.to_string(), "2 volumes are named \"db\": vol-01, vol-02");
}

/// Ages in whole units as an operator reads them, at each unit's edges.
#[test]
fn ages_read_in_whole_units() {
    use openstack_backups::policy::age_text;
    let age = |s: u64| age_text(Duration::from_secs(s));
    assert_eq!([age(0), age(45), age(119)], ["0s", "45s", "119s"]);
    assert_eq!([age(120), age(7199)], ["2m", "119m"]);
    assert_eq!([age(7200), age(25 * 3600), age(2 * 86400 - 1)], ["2h", "25h", "47h"]);
    assert_eq!([age(2 * 86400), age(3 * 86400 + 2 * 3600 + 59)], ["2d 0h", "3d 2h"]);
}

/// Another project's policy (an administrator's) selects that project's
/// volumes only, by filter and by id alike: a volume of a third project
/// named by its id is not backed up (a volume whose project the listing
/// does not show is taken as the project's).
#[test]
fn a_project_policy_selects_that_projects_volumes_only() {
    use openstack_backups::policy::Projects;
    let in_project = |i: usize, project: Option<&str>| {
        let mut v = (*volume(i, Some(&format!("v{i}")), "available", false, 1)).clone();
        v.project_id = project.map(str::to_owned);
        Arc::new(v)
    };
    let volumes =
        vec![in_project(1, Some("p1")), in_project(2, Some("p2")), in_project(3, None), in_project(4, Some("p1"))];
    let chosen = |select: Selection| -> Vec<String> {
        let p = Policy::new(POLICY, select, Duration::from_secs(86400)).unwrap();
        let mut ids: Vec<String> =
            plan(&p, t0(), &volumes, &[], None).volumes.iter().map(|v| v.volume.id.clone()).collect();
        ids.sort();
        ids
    };
    let p1 = || Projects::Project("p1".into());
    assert_eq!(chosen(Selection { all: true, projects: p1(), ..Selection::default() }), ["vol-01", "vol-03", "vol-04"]);
    assert_eq!(
        chosen(Selection { names: vec!["vol-02".into()], projects: p1(), ..Selection::default() }),
        Vec::<String>::new()
    );
    assert_eq!(chosen(Selection { names: vec!["vol-04".into()], projects: p1(), ..Selection::default() }), ["vol-04"]);
    assert_eq!(
        chosen(Selection { names: vec!["v2".into()], projects: p1(), ..Selection::default() }),
        Vec::<String>::new()
    );
    assert_eq!(chosen(Selection { all: true, projects: Projects::All, ..Selection::default() }).len(), 4);
}

/// Over quota, the reason says what the server reported left and whether
/// volumes more at risk (here the one with the lower id: both were never
/// backed up) took some of it.
#[test]
fn over_quota_reasons_say_what_was_left_and_who_took_it() {
    let volumes =
        vec![volume(1, Some("first"), "available", false, 2), volume(2, Some("second"), "available", false, 2)];
    let p = Policy::new(POLICY, Selection { all: true, ..Selection::default() }, Duration::from_secs(86400)).unwrap();
    let reasons = |count: i64, gib: i64| -> Vec<String> {
        let limits = openstack_backups::block_storage::types::AbsoluteLimits {
            max_total_backups: Some(count),
            total_backups_used: Some(0),
            max_total_backup_gigabytes: Some(gib),
            total_backup_gigabytes_used: Some(0),
            ..Default::default()
        };
        let room = BackupHeadroom::from_limits(&limits);
        plan(&p, t0(), &volumes, &[], Some(&room)).volumes.iter().map(|v| v.reason.to_string()).collect()
    };
    assert_eq!(
        reasons(-1, 3),
        [
            "full backups only",
            "over quota: backup_gigabytes: 2 GiB needed, 3 GiB left, 2 GiB of it taken by volumes more at risk"
        ]
    );
    assert_eq!(
        reasons(-1, 1),
        [
            "over quota: backup_gigabytes: 2 GiB needed, 1 GiB left",
            "over quota: backup_gigabytes: 2 GiB needed, 1 GiB left"
        ]
    );
    assert_eq!(reasons(1, -1), ["full backups only", "over quota: backups: 1 left, taken by volumes more at risk"]);
    assert_eq!(reasons(0, -1), ["over quota: backups: 0 left", "over quota: backups: 0 left"]);
}

/// A volume is due once its newest backup's age plus the slack reaches
/// the cadence: at exactly that age a backup is made, a second younger it
/// is fresh.
#[test]
fn due_at_the_cadence_less_the_slack_to_the_second() {
    let mut p =
        Policy::new(POLICY, Selection { all: true, ..Selection::default() }, Duration::from_secs(86400)).unwrap();
    p.slack = Duration::from_secs(3600);
    let volumes = vec![volume(1, Some("db"), "available", false, 1)];
    let action = |age_secs: i64| {
        let b =
            backup("b".into(), "vol-01", t0() - chrono::Duration::seconds(age_secs), false, "available", Some(POLICY));
        plan(&p, t0(), &volumes, &[b], None).volumes[0].action.clone()
    };
    assert_ne!(action(23 * 3600), Action::Skip, "23 h + 1 h of slack is the day");
    assert_eq!(action(23 * 3600 - 1), Action::Skip);
}

/// `run` and `report` can be spawned on a multi-threaded runtime.
#[test]
fn runs_and_reports_are_send() {
    fn send<T: Send>(_: &T) {}
    let c = openstack_backups::block_storage::Client::new("http://127.0.0.1:9", openstack_backups::ClientConfig::new());
    let p = Policy::new(POLICY, Selection { all: true, ..Selection::default() }, Duration::from_secs(3600)).unwrap();
    let o = openstack_backups::policy::RunOptions::default();
    send(&openstack_backups::policy::run(&c, &p, &o));
    send(&openstack_backups::policy::report(&c, Some(&p), &p.standard(), t0()));
}

/// One run of a policy at a time: the second is told who holds the lock;
/// the lock goes with its holder.
#[test]
fn the_run_lock_keeps_a_second_run_out() {
    use openstack_backups::policy::{LockError, RunLock};
    let dir = std::env::temp_dir().join(format!("osbackup-lock-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nightly.lock");
    let held = RunLock::acquire(&path).unwrap();
    match RunLock::acquire(&path) {
        Err(LockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("a second lock was taken: {other:?}"),
    }
    let message = RunLock::acquire(&path).unwrap_err().to_string();
    assert!(
        message.starts_with("another run of this policy holds ")
            && message.ends_with(&format!("(pid {})", std::process::id())),
        "{message}"
    );
    drop(held);
    let again = RunLock::acquire(&path).unwrap();
    assert_eq!(again.path(), path);
    let p = RunLock::path_for("http://127.0.0.1:8776/v3/6b2c0f4e", "nightly");
    assert!(
        p.file_name().unwrap().to_str().unwrap() == "osbackup-nightly-http___127.0.0.1_8776_v3_6b2c0f4e.lock",
        "{p:?}"
    );
    drop(again);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ------------------------------------------------------------ the runner, on typed mocks

/// A value of the client's own types, from JSON (what the mocks answer).
fn typed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

/// A Block Storage client of the mock `server`'s project `p1` at
/// `version`, without retries.
fn mock_cinder(
    server: &openstack_backups::mock::MockServer,
    version: openstack_backups::Microversion,
) -> openstack_backups::block_storage::Client {
    let config = openstack_backups::ClientConfig::new()
        .with_token("t")
        .with_microversion(version)
        .with_retry(openstack_backups::retry::RetryPolicy::none());
    openstack_backups::block_storage::Client::new(&format!("{}/v3/p1", server.uri()), config)
}

/// The policy `nightly` of a policy file with that one policy, without
/// `keep` (the mocks serve no retention).
fn nightly_of(file: &str) -> Policy {
    let mut policy = parse(file).unwrap().policies.remove("nightly").unwrap();
    policy.keep = None;
    policy
}

/// Runs `policy` on a clock standing at 2026-12-05 02:00 UTC whose sleeps
/// move it at once, so the run's waits time out without taking time (a
/// wait on any other clock trips the 20 s guard); the report, and the
/// clock.
async fn run_on_fake_clock(
    cinder: &openstack_backups::block_storage::Client,
    policy: &Policy,
) -> (openstack_backups::policy::RunReport, Arc<openstack_backups_fake::FakeClock>) {
    use openstack_backups::policy::{RunOptions, run};
    let clock = openstack_backups_fake::FakeClock::at("2026-12-05T02:00:00Z".parse().unwrap());
    let options = RunOptions { clock: clock.clone(), ..RunOptions::default() };
    let report = tokio::time::timeout(Duration::from_secs(20), run(cinder, policy, &options))
        .await
        .expect("the waits are on the run's clock, which moves as they sleep")
        .unwrap();
    (report, clock)
}

/// What a run's options show in `Debug`: whether it is a dry run (the
/// clock and the event callback have no useful `Debug`).
#[test]
fn run_options_show_whether_the_run_is_dry() {
    use openstack_backups::policy::RunOptions;
    let options = RunOptions { dry_run: true, ..RunOptions::default() };
    assert_eq!(format!("{options:?}"), "RunOptions { dry_run: true, .. }");
}

/// A policy selecting by metadata has the server filter the volumes (the
/// list asks for the policy's metadata: only its volumes cross the wire)
/// and the policy's temporary snapshots; the wait for an attached
/// volume's temporary snapshot is bounded by the policy's `timeout`, on
/// the run's clock; the snapshot that never became available is waited
/// for once more (as long again) and then left to the next run, as Cinder
/// deletes no snapshot while it is `creating`. At 3.66, the first microversion that snapshots an attached
/// volume as it is, the snapshot is asked for without `force`. (The mocks
/// answer only the filtered lists: an unfiltered one
/// is a 404 and fails the run.)
#[tokio::test]
async fn a_run_filters_on_the_server_and_bounds_a_snapshot_wait_by_the_policy() {
    use openstack_backups::Microversion;
    use openstack_backups::block_storage::{mock, types};
    use openstack_backups::clock::Clock;
    use openstack_backups::mock::MockServer;
    use openstack_backups::policy::{InUse, Outcome};
    use serde_json::json;
    let server = MockServer::start().await;
    let volumes = typed::<types::VolumeDetailList>(json!({"volumes": [{"id": "v1", "status": "in-use", "size": 1,
        "name": "db", "metadata": {"backup": "nightly"}, "attachments": [{"server_id": "s", "attachment_id": "a",
        "volume_id": "v1", "id": "v1"}]}]}));
    mock::list_volumes_detail(|when, then| {
        when.metadata(r#"{"backup":"nightly"}"#);
        then.ok(&volumes);
    })
    .expect(1)
    .mount(&server)
    .await;
    let no_backups = typed::<types::BackupDetailList>(json!({"backups": []}));
    mock::list_backups_detail(|_, then| {
        then.ok(&no_backups);
    })
    .mount(&server)
    .await;
    let no_snapshots = typed::<types::SnapshotDetailList>(json!({"snapshots": []}));
    mock::list_snapshots_detail(|when, then| {
        when.metadata(r#"{"osbackup-policy":"nightly","osbackup-temporary":"true"}"#);
        then.ok(&no_snapshots);
    })
    .expect(1)
    .mount(&server)
    .await;
    let creating = typed::<types::SnapshotResponse>(json!({"snapshot": {"id": "s1", "status": "creating",
        "volume_id": "v1", "size": 1, "created_at": "2026-12-05T02:00:00.000000"}}));
    // Exactly this: from 3.66 an attached volume is snapshotted without `force`.
    let body = typed::<types::SnapshotCreateRequest>(json!({"snapshot": {"volume_id": "v1",
        "name": "nightly-20261205T020000Z", "description": "temporary snapshot of backup policy nightly",
        "metadata": {"osbackup-policy": "nightly", "osbackup-temporary": "true"}}}));
    mock::create_snapshot(|when, then| {
        when.body(&body);
        then.accepted(&creating);
    })
    .expect(1)
    .mount(&server)
    .await;
    mock::show_snapshot(|when, then| {
        when.snapshot_id("s1");
        then.ok(&creating);
    })
    .mount(&server)
    .await;
    mock::delete_snapshot(|when, then| {
        when.snapshot_id("s1");
        then.accepted();
    })
    .expect(0)
    .mount(&server)
    .await;

    let policy = nightly_of(
        "policies:
  nightly:
    select: {metadata: {backup: nightly}}
    every: 24h
    in-use: snapshot
    timeout: 10m
    poll-interval: 30s
",
    );
    assert_eq!(policy.in_use, InUse::Snapshot);
    let (report, clock) = run_on_fake_clock(&mock_cinder(&server, Microversion::new(3, 66)), &policy).await;
    assert_eq!(report.volumes.len(), 1);
    assert_eq!(
        report.volumes[0].outcome,
        Outcome::Failed(
            "snapshot: gave up waiting after 600.0 s for snapshot s1 to be available; last status: creating".to_owned()
        )
    );
    let start: DateTime<Utc> = "2026-12-05T02:00:00Z".parse().unwrap();
    assert_eq!(
        clock.now() - start,
        chrono::Duration::minutes(20),
        "the snapshot's wait, then the wait before its deletion"
    );
    server.verify().await;
}

/// Cinder's newest user message about a resource: asked for from 3.5, the
/// first microversion whose message list takes the resource filter, and
/// not at all below it.
#[tokio::test]
async fn the_newest_user_message_is_read_from_3_5() {
    use openstack_backups::Microversion;
    use openstack_backups::block_storage::{mock, types};
    use openstack_backups::mock::MockServer;
    use openstack_backups::policy::newest_message;
    let server = MockServer::start().await;
    let messages = typed::<types::MessageList>(serde_json::json!({"messages": [{"id": "m1",
        "event_id": "VOLUME_BACKUP_001_002", "user_message": "create backup: Backup driver failed to create backup.",
        "message_level": "ERROR", "resource_type": "VOLUME_BACKUP", "resource_uuid": "b1",
        "created_at": "2026-12-05T02:00:00.000000", "links": []}]}));
    mock::list_messages(|when, then| {
        when.resource_uuid("b1").sort("created_at:desc").limit(1u64);
        then.ok(&messages);
    })
    .expect(1)
    .mount(&server)
    .await;
    let at = |version: Microversion| mock_cinder(&server, version);
    assert_eq!(
        newest_message(&at(Microversion::new(3, 5)), "b1").await.as_deref(),
        Some("create backup: Backup driver failed to create backup.")
    );
    assert_eq!(newest_message(&at(Microversion::new(3, 4)), "b1").await, None);
    server.verify().await;
}

/// The run watches its backups with a list call (newest first, a page of
/// ten more than it watches), not one call per backup: a newer backup of
/// someone else's ahead of its own is read past (not a reason to look at
/// each backup on its own), no backup is shown one by one, and once every
/// watched backup is seen the next page is not asked for.
#[tokio::test]
async fn a_list_call_watches_the_backups_in_flight() {
    use openstack_backups::Microversion;
    use openstack_backups::block_storage::{mock, types};
    use openstack_backups::mock::MockServer;
    use openstack_backups::policy::Outcome;
    use serde_json::json;
    let server = MockServer::start().await;
    let volumes = typed::<types::VolumeDetailList>(json!({"volumes": [{"id": "v1", "status": "available",
        "size": 1, "name": "db"}]}));
    mock::list_volumes_detail(|_, then| {
        then.ok(&volumes);
    })
    .mount(&server)
    .await;
    let none = typed::<types::BackupDetailList>(json!({"backups": []}));
    mock::list_backups_detail(|when, then| {
        when.sort(None);
        then.ok(&none);
    })
    .mount(&server)
    .await;
    let no_snapshots = typed::<types::SnapshotDetailList>(json!({"snapshots": []}));
    mock::list_snapshots_detail(|_, then| {
        then.ok(&no_snapshots);
    })
    .mount(&server)
    .await;
    let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": "b1", "name": "nightly"}}));
    mock::create_backup(|_, then| {
        then.accepted(&made);
    })
    .expect(1)
    .mount(&server)
    .await;
    let backup = |id: &str, volume: &str, created: &str| {
        json!({"id": id, "status": "available", "volume_id": volume, "created_at": created,
            "is_incremental": false, "has_dependent_backups": false})
    };
    let looked = typed::<types::BackupDetailList>(json!({"backups": [
        backup("other", "v9", "2026-12-05T02:05:00.000000"), backup("b1", "v1", "2026-12-05T02:00:00.000000")]}));
    mock::list_backups_detail(|when, then| {
        when.sort("created_at:desc").limit(11u64).marker(None);
        then.ok(&looked).next_page("b1");
    })
    .expect(1..)
    .mount(&server)
    .await;
    // Once its own backup is seen, a look reads no further.
    mock::list_backups_detail(|when, then| {
        when.marker("b1");
        then.ok(&none);
    })
    .expect(0)
    .with_priority(1)
    .mount(&server)
    .await;
    mock::show_backup(|_, then| {
        then.fault(500, "computeFault", "not to be asked");
    })
    .expect(0)
    .mount(&server)
    .await;

    let policy = nightly_of("policies:\n  nightly:\n    select: {names: [db]}\n    every: 24h\n    timeout: 10m\n");
    let (report, _) = run_on_fake_clock(&mock_cinder(&server, Microversion::new(3, 71)), &policy).await;
    assert_eq!(report.volumes[0].outcome, Outcome::Done, "{report:#?}");
    server.verify().await;
}

/// A backup the look's list does not show (a list that lags, or one
/// deleted meanwhile; the look stops reading at backups older than the
/// ones it watches) is shown on its own: it ends when it has left
/// `creating` (not while it is still in it), is gone on a 404, and is
/// looked at again after any other failure.
#[tokio::test]
async fn a_backup_missing_from_the_list_is_shown_on_its_own() {
    use openstack_backups::Microversion;
    use openstack_backups::block_storage::{mock, types};
    use openstack_backups::mock::MockServer;
    use openstack_backups::policy::Outcome;
    use serde_json::json;
    let server = MockServer::start().await;
    let volumes = typed::<types::VolumeDetailList>(json!({"volumes": [
        {"id": "v1", "status": "available", "size": 1, "name": "db1"},
        {"id": "v2", "status": "available", "size": 1, "name": "db2"}]}));
    mock::list_volumes_detail(|_, then| {
        then.ok(&volumes);
    })
    .mount(&server)
    .await;
    let none = typed::<types::BackupDetailList>(json!({"backups": []}));
    mock::list_backups_detail(|when, then| {
        when.sort(None);
        then.ok(&none);
    })
    .mount(&server)
    .await;
    // The look's list: a full page (two watched, ten more) of backups
    // made days before, and a next page the look must not ask for: past
    // backups older than the ones it watches, it stops reading.
    let old: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            json!({"id": format!("old{i}"), "status": "available", "volume_id": "v9",
                "created_at": format!("2026-12-01T{:02}:00:00.000000", 23 - i), "is_incremental": false,
                "has_dependent_backups": false})
        })
        .collect();
    let old = typed::<types::BackupDetailList>(json!({ "backups": old }));
    mock::list_backups_detail(|when, then| {
        when.sort("created_at:desc").marker(None);
        then.ok(&old).next_page("old11");
    })
    .expect(1..)
    .mount(&server)
    .await;
    mock::list_backups_detail(|when, then| {
        when.marker("old11");
        then.ok(&none);
    })
    .expect(0)
    .with_priority(1)
    .mount(&server)
    .await;
    let no_snapshots = typed::<types::SnapshotDetailList>(json!({"snapshots": []}));
    mock::list_snapshots_detail(|_, then| {
        then.ok(&no_snapshots);
    })
    .mount(&server)
    .await;
    for (id, volume) in [("b1", "v1"), ("b2", "v2")] {
        let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": id, "name": "nightly"}}));
        let body = typed::<types::BackupCreateRequest>(json!({"backup": {"volume_id": volume,
            "name": "nightly-20261205T020000Z", "description": "backup policy nightly",
            "metadata": {"osbackup-policy": "nightly"}}}));
        mock::create_backup(|when, then| {
            when.body(&body);
            then.accepted(&made);
        })
        .expect(1)
        .mount(&server)
        .await;
    }
    mock::show_backup(|when, then| {
        when.backup_id("b1");
        then.fault(500, "computeFault", "The server has either erred or is incapable.");
    })
    .up_to_n_times(1)
    .with_priority(1)
    .mount(&server)
    .await;
    let creating = typed::<types::BackupResponse>(json!({"backup": {"id": "b1", "status": "creating",
        "volume_id": "v1", "created_at": "2026-12-05T02:00:00.000000", "is_incremental": false,
        "has_dependent_backups": false}}));
    mock::show_backup(|when, then| {
        when.backup_id("b1");
        then.ok(&creating);
    })
    .up_to_n_times(1)
    .with_priority(2)
    .mount(&server)
    .await;
    let done = typed::<types::BackupResponse>(json!({"backup": {"id": "b1", "status": "available", "volume_id": "v1",
        "created_at": "2026-12-05T02:00:00.000000", "is_incremental": false, "has_dependent_backups": false}}));
    mock::show_backup(|when, then| {
        when.backup_id("b1");
        then.ok(&done);
    })
    .mount(&server)
    .await;
    mock::show_backup(|when, then| {
        when.backup_id("b2");
        then.fault(404, "itemNotFound", "Backup b2 could not be found.");
    })
    .mount(&server)
    .await;

    let policy =
        nightly_of("policies:\n  nightly:\n    select: {names: [db1, db2]}\n    every: 24h\n    timeout: 10m\n");
    let (report, _) = run_on_fake_clock(&mock_cinder(&server, Microversion::new(3, 71)), &policy).await;
    let mut outcomes: Vec<(&str, &Outcome)> =
        report.volumes.iter().map(|v| (v.volume.id.as_str(), &v.outcome)).collect();
    outcomes.sort_by_key(|(id, _)| *id);
    assert_eq!(
        outcomes,
        [("v1", &Outcome::Done), ("v2", &Outcome::Failed("backup b2 is gone (deleted)".to_owned()))],
        "b1 was looked at again after Cinder's 500, and while it was creating"
    );
    server.verify().await;
}
