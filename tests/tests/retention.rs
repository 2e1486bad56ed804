//! The retention planner: restic's `forget` semantics on examples, and
//! properties over generated histories (times, chains, metadata): nothing a
//! rule keeps is deleted, no kept incremental loses a base, deletes run
//! children first, the same input gives the same plan, and a failed delete
//! stops its group.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use openstack_backups::retention::{Item, Outcome, Plan, Policy, Reason, execute, parse_within, plan};
use proptest::prelude::*;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn item(id: &str, created: DateTime<Utc>) -> Item {
    Item {
        id: id.to_owned(),
        name: None,
        created,
        parent: None,
        has_dependents: false,
        finished: true,
        managed: true,
        status: "available".to_owned(),
        metadata: BTreeMap::new(),
    }
}

/// A backup still being made: not weighed by the rules.
fn creating(id: &str, created: DateTime<Utc>) -> Item {
    Item { finished: false, status: "creating".to_owned(), ..item(id, created) }
}

/// A Cinder backup as the server shows it (`has_dependent_backups` for
/// the one named `full`; a name and metadata from its id).
fn cinder_backup(
    id: &str,
    volume: &str,
    created: &str,
    data: Option<&str>,
    incremental: bool,
    status: &str,
) -> openstack_backups::block_storage::types::Backup {
    serde_json::from_value(serde_json::json!({
        "id": id, "status": status, "created_at": created, "data_timestamp": data, "volume_id": volume,
        "is_incremental": incremental, "has_dependent_backups": id == "full", "name": format!("n-{id}"),
        "metadata": {"k": id},
    }))
    .unwrap()
}

fn kept(p: &Plan) -> Vec<&str> {
    p.decisions.iter().filter(|d| d.keep()).map(|d| d.item.id.as_str()).collect()
}

#[test]
fn keep_last_and_calendar_periods_as_restic_counts_them() {
    let items = vec![
        item("d1-09", at(1, 9)),
        item("d1-10", at(1, 10)),
        item("d2-10", at(2, 10)),
        item("d3-08", at(3, 8)),
        item("d3-10", at(3, 10)),
    ];
    let p = plan(&Policy { keep_last: 2, ..Policy::default() }, items.clone());
    assert_eq!(kept(&p), ["d3-10", "d3-08"], "the two newest, newest first");
    assert_eq!(p.delete_order(), ["d2-10", "d1-10", "d1-09"], "newest first: children before parents");

    // The newest of each of the last two days that have a backup.
    let p = plan(&Policy { keep_daily: 2, ..Policy::default() }, items.clone());
    assert_eq!(kept(&p), ["d3-10", "d2-10"]);
    assert_eq!(p.decisions[0].reasons, [Reason::Period("daily", "2026-11-03".to_owned())]);

    // Rules add up; a backup kept twice has both reasons.
    let p = plan(&Policy { keep_last: 1, keep_daily: 3, ..Policy::default() }, items.clone());
    assert_eq!(kept(&p), ["d3-10", "d2-10", "d1-10"]);
    assert_eq!(p.decisions[0].reasons.len(), 2);

    // Days in the policy's zone: at UTC+12, 3 Nov 08:00 UTC is 3 Nov 20:00,
    // 2 Nov 10:00 UTC is 2 Nov 22:00, and 1 Nov 09:00/10:00 UTC are 1 Nov.
    let east = Policy { keep_daily: 3, offset: FixedOffset::east_opt(12 * 3600), ..Policy::default() };
    assert_eq!(kept(&plan(&east, items.clone())), ["d3-10", "d2-10", "d1-10"]);
    // At UTC-10, 3 Nov 08:00 UTC is still 2 Nov.
    let west = Policy { keep_daily: 2, offset: FixedOffset::west_opt(10 * 3600), ..Policy::default() };
    assert_eq!(kept(&plan(&west, items)), ["d3-10", "d3-08"], "2026-11-03T00 and 2026-11-02T22 local");
}

#[test]
fn weeks_are_iso_weeks_months_and_years_are_calendar_ones() {
    let sunday = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap(); // ISO week 48
    let monday = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap(); // ISO week 49
    let items = vec![item("sun", sunday), item("sat", sunday - Duration::days(1)), item("mon", monday)];
    assert_eq!(kept(&plan(&Policy { keep_weekly: 2, ..Policy::default() }, items.clone())), ["mon", "sun"]);
    let new_year = vec![
        item("dec31", Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap()),
        item("jan1", Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap()),
        item("jan2", Utc.with_ymd_and_hms(2026, 1, 2, 1, 0, 0).unwrap()),
    ];
    assert_eq!(kept(&plan(&Policy { keep_monthly: 2, ..Policy::default() }, new_year.clone())), ["jan2", "dec31"]);
    assert_eq!(kept(&plan(&Policy { keep_yearly: 5, ..Policy::default() }, new_year)), ["jan2", "dec31"]);
    let autumn = vec![item("nov", at(2, 0)), item("nov-1", at(1, 0)), item("oct", at(1, 0) - Duration::days(3))];
    let p = plan(&Policy { keep_monthly: 2, ..Policy::default() }, autumn);
    assert_eq!(kept(&p), ["nov", "oct"], "two months of one year");
    assert_eq!(p.decisions[0].reasons, [Reason::Period("monthly", "2026-11".to_owned())]);
}

#[test]
fn within_tags_and_unfinished_backups() {
    let mut tagged = item("tagged", at(1, 0));
    tagged.metadata.insert("hold".into(), "legal".into());
    let creating = creating("creating", at(5, 0));
    let items = vec![item("new", at(4, 0)), item("2d", at(2, 0)), item("3d", at(1, 12)), tagged, creating];
    let p = plan(&Policy { keep_within: Some(Duration::days(2)), ..Policy::default() }, items.clone());
    assert_eq!(kept(&p), ["creating", "new", "2d"], "within 2 days of the newest finished one; unfinished left alone");
    let p =
        plan(&Policy { keep_tags: vec![("hold".into(), Some("legal".into()))], ..Policy::default() }, items.clone());
    assert_eq!(kept(&p), ["creating", "tagged"]);
    let p = plan(&Policy { keep_tags: vec![("hold".into(), Some("other".into()))], ..Policy::default() }, items);
    assert_eq!(kept(&p), ["creating"]);
}

#[test]
fn chains_keep_their_bases_and_delete_children_first() {
    let full = item("full", at(1, 0));
    let mut inc1 = item("inc1", at(2, 0));
    inc1.parent = Some("full".into());
    let mut inc2 = item("inc2", at(3, 0));
    inc2.parent = Some("inc1".into());
    let mut full_b = item("full-b", at(4, 0));
    full_b.has_dependents = true; // the server says so; no child is known here
    let items = vec![full.clone(), inc1.clone(), inc2.clone(), full_b];
    let p = plan(&Policy { keep_last: 1, ..Policy::default() }, items.clone());
    assert_eq!(kept(&p), ["full-b"], "full-b kept (newest, and its dependents are unknown)");
    assert_eq!(p.delete_order(), ["inc2", "inc1", "full"]);

    let p = plan(&Policy { keep_last: 2, ..Policy::default() }, items);
    let reasons: BTreeMap<&str, &Vec<Reason>> = p.decisions.iter().map(|d| (d.item.id.as_str(), &d.reasons)).collect();
    assert_eq!(kept(&p), ["full-b", "inc2", "inc1", "full"]);
    assert_eq!(reasons["inc1"], &vec![Reason::BaseOf("inc2".into())]);
    assert_eq!(reasons["full"], &vec![Reason::BaseOf("inc1".into())]);
    assert_eq!(reasons["inc1"][0].to_string(), "base of a kept incremental (inc2)");
}

#[test]
fn durations_as_restic_writes_them() {
    assert_eq!(parse_within("7d").unwrap(), Duration::days(7));
    assert_eq!(parse_within("1y2m3w4d5h").unwrap(), Duration::hours(365 * 24 + 60 * 24 + 21 * 24 + 4 * 24 + 5));
    for bad in ["", "7", "d", "7x", "-1d", "99999999999999999999y"] {
        assert!(parse_within(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn unmanaged_backups_are_kept_and_not_counted_but_hold_their_bases() {
    // A policy's own backups on days 1-3, a hand-made one on day 3 (newer
    // than the policy's), and a hand-made incremental of the day-1 backup.
    let mut hand = item("hand-d3", at(3, 12));
    hand.managed = false;
    let mut hand_inc = item("hand-inc", at(1, 18));
    hand_inc.managed = false;
    hand_inc.parent = Some("d1".into());
    let mut d1 = item("d1", at(1, 10));
    d1.has_dependents = true;
    let items = vec![d1, item("d2", at(2, 10)), item("d3", at(3, 10)), hand, hand_inc];
    let p = plan(&Policy { keep_daily: 1, ..Policy::default() }, items);
    // The day-3 slot is the policy's d3, not the newer hand-made backup.
    assert_eq!(
        p.decisions.iter().find(|d| d.item.id == "d3").unwrap().reasons[0],
        Reason::Period("daily", "2026-11-03".into())
    );
    assert!(p.kept().contains("hand-d3") && p.kept().contains("hand-inc"), "hand-made backups stay");
    assert_eq!(p.decisions.iter().find(|d| d.item.id == "hand-d3").unwrap().reasons, [Reason::Unmanaged]);
    // d1 is the base of a kept (hand-made) incremental.
    assert!(p.kept().contains("d1"), "{p:?}");
    assert_eq!(p.delete_order(), ["d2"]);
}

/// A history: each backup a day offset (hours), maybe an incremental of an
/// older one, maybe tagged, maybe unfinished, maybe not the caller's.
fn history() -> impl Strategy<Value = Vec<Item>> {
    proptest::collection::vec((0u32..2000, any::<bool>(), 0u8..4, any::<bool>()), 0..40).prop_map(|raw| {
        let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut items: Vec<Item> = raw
            .iter()
            .enumerate()
            .map(|(i, (hours, incremental, tag, unfinished))| {
                let mut it = item(&format!("b{i:02}"), base + Duration::hours(i64::from(*hours) * 7));
                if *tag == 0 {
                    it.metadata.insert("hold".into(), "yes".into());
                }
                if *unfinished && i % 5 == 0 {
                    it.finished = false;
                    it.status = "creating".into();
                }
                if *tag == 3 && i % 3 == 1 {
                    it.managed = false;
                }
                it.has_dependents = *incremental; // sometimes without a known child
                it
            })
            .collect();
        // Incrementals: the parent is an older backup.
        let snapshot = items.clone();
        for (i, (_, incremental, _, _)) in raw.iter().enumerate() {
            if *incremental {
                items[i].parent = snapshot
                    .iter()
                    .filter(|o| o.created < snapshot[i].created)
                    .max_by_key(|o| o.created)
                    .map(|o| o.id.clone());
            }
        }
        items
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    (0usize..4, 0usize..4, 0usize..4, 0usize..3, proptest::option::of(0i64..500), any::<bool>()).prop_map(
        |(last, daily, weekly, monthly, within, tag)| Policy {
            keep_last: last,
            keep_daily: daily,
            keep_weekly: weekly,
            keep_monthly: monthly,
            keep_within: within.map(Duration::hours),
            keep_tags: if tag { vec![("hold".into(), None)] } else { Vec::new() },
            ..Policy::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: openstack_backups_tests::proptest_cases(256), ..ProptestConfig::default() })]

    #[test]
    fn plans_keep_what_rules_keep_and_chains_whole(items in history(), policy in policy()) {
        let p = plan(&policy, items.clone());
        let kept: BTreeSet<&str> = p.kept();
        // What the rules keep, recomputed plainly.
        let mut finished: Vec<&Item> = items.iter().filter(|i| i.finished && i.managed).collect();
        finished.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        let mut must: BTreeSet<&str> = finished.iter().take(policy.keep_last).map(|i| i.id.as_str()).collect();
        if let (Some(w), Some(newest)) = (policy.keep_within, finished.first()) {
            must.extend(finished.iter().filter(|i| newest.created - i.created <= w).map(|i| i.id.as_str()));
        }
        if !policy.keep_tags.is_empty() {
            must.extend(finished.iter().filter(|i| i.metadata.contains_key("hold")).map(|i| i.id.as_str()));
        }
        let mut days = BTreeSet::new();
        for i in &finished {
            if days.len() < policy.keep_daily && days.insert(i.created.format("%F").to_string()) {
                must.insert(i.id.as_str());
            }
        }
        must.extend(items.iter().filter(|i| !i.finished || !i.managed).map(|i| i.id.as_str()));
        for id in &must {
            prop_assert!(kept.contains(id), "{id} is kept by a rule but the plan deletes it");
        }
        // No kept backup loses an ancestor.
        let parent: BTreeMap<&str, &str> = items.iter().filter_map(|i| i.parent.as_deref().map(|p| (i.id.as_str(), p))).collect();
        for id in &kept {
            let mut at = *id;
            while let Some(p) = parent.get(at) {
                prop_assert!(kept.contains(p), "{p} is deleted, but kept {id} depends on it");
                at = p;
            }
        }
        // Deleting in order: every child goes before its parent.
        let order = p.delete_order();
        for (pos, id) in order.iter().enumerate() {
            for (child, _) in parent.iter().filter(|(_, p)| *p == id) {
                if let Some(c) = order.iter().position(|x| x == child) {
                    prop_assert!(c < pos, "{id} is deleted before its child {child}");
                }
            }
        }
        // A backup the server says has dependents goes only after all its known children do.
        for d in &p.decisions {
            if !d.keep() && d.item.has_dependents {
                prop_assert!(parent.values().any(|p| *p == d.item.id), "{} has unknown dependents", d.item.id);
            }
        }
        // Same input, any order: the same plan.
        let mut shuffled = items.clone();
        shuffled.reverse();
        prop_assert_eq!(plan(&policy, shuffled), p);
    }

    #[test]
    fn execution_goes_children_first_and_stops_a_group_on_failure(items in history(), policy in policy(), fail_at in 0usize..10) {
        let p = plan(&policy, items);
        let done: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let outcomes = runtime.block_on(execute(&p, 3, |id| {
            let done = &done;
            async move {
                let mut d = done.lock().unwrap();
                if d.len() == fail_at {
                    d.push(format!("!{id}"));
                    return Err("refused".to_owned());
                }
                d.push(id);
                Ok(())
            }
        }));
        let done = done.into_inner().unwrap();
        let parent: BTreeMap<&str, &str> = p.decisions.iter().filter_map(|d| d.item.parent.as_deref().map(|x| (d.item.id.as_str(), x))).collect();
        for (pos, id) in done.iter().enumerate() {
            let id = id.trim_start_matches('!');
            for (child, _) in parent.iter().filter(|(_, x)| **x == id) {
                if p.delete_order().contains(child) {
                    prop_assert!(done[..pos].iter().any(|d| d == child), "{id} was deleted before its child {child}");
                }
            }
        }
        prop_assert_eq!(outcomes.len(), p.delete_order().len());
        if let Some(failed) = done.iter().position(|d| d.starts_with('!')) {
            // Nothing starts after the round of the failure: the group stops.
            let skipped = outcomes.iter().filter(|(_, o)| *o == Outcome::Skipped).count();
            prop_assert_eq!(done.len() + skipped, outcomes.len(), "after a failure the rest is skipped");
            // Each one tried is reported as it went, each other one skipped.
            let refused = done[failed].trim_start_matches('!');
            for (id, outcome) in &outcomes {
                let expected = if id == refused {
                    Outcome::Failed("refused".to_owned())
                } else if done.contains(id) {
                    Outcome::Deleted
                } else {
                    Outcome::Skipped
                };
                prop_assert_eq!(outcome, &expected, "{}", id);
            }
        } else {
            prop_assert!(outcomes.iter().all(|(_, o)| *o == Outcome::Deleted));
        }
    }
}

#[test]
fn a_policy_without_rules_is_empty() {
    assert!(Policy::default().is_empty());
    let one_rule = [
        Policy { keep_last: 1, ..Policy::default() },
        Policy { keep_hourly: 1, ..Policy::default() },
        Policy { keep_daily: 1, ..Policy::default() },
        Policy { keep_weekly: 1, ..Policy::default() },
        Policy { keep_monthly: 1, ..Policy::default() },
        Policy { keep_yearly: 1, ..Policy::default() },
        Policy { keep_within: Some(Duration::hours(1)), ..Policy::default() },
        Policy { keep_tags: vec![("hold".into(), None)], ..Policy::default() },
    ];
    for policy in one_rule {
        assert!(!policy.is_empty(), "{policy:?}");
    }
    let zone_only = Policy { offset: FixedOffset::east_opt(3600), ..Policy::default() };
    assert!(zone_only.is_empty(), "a time zone keeps nothing");
}

#[test]
fn hours_tags_by_key_and_reasons_as_reports_show_them() {
    let mut tagged = item("tagged", at(1, 0));
    tagged.metadata.insert("hold".into(), "anything".into());
    let creating = creating("creating", at(3, 0));
    let mut hand = item("hand", at(3, 1));
    hand.managed = false;
    let items = vec![
        item("h10", at(2, 10)),
        item("h10b", at(2, 10) + Duration::minutes(30)),
        item("h11", at(2, 11)),
        tagged,
        creating,
        hand,
    ];
    let p = plan(
        &Policy {
            keep_hourly: 2,
            keep_within: Some(Duration::minutes(45)),
            keep_tags: vec![("hold".into(), None)],
            ..Policy::default()
        },
        items,
    );
    let shown: BTreeMap<&str, Vec<String>> =
        p.decisions.iter().map(|d| (d.item.id.as_str(), d.reasons.iter().map(ToString::to_string).collect())).collect();
    assert_eq!(shown["h11"], ["hourly 2026-11-02T11", "within"]);
    assert_eq!(shown["h10b"], ["hourly 2026-11-02T10", "within"], "the newest of its hour");
    assert_eq!(shown["h10"], Vec::<String>::new());
    assert_eq!(shown["tagged"], ["tag hold"], "a key alone matches any value");
    assert_eq!(shown["creating"], ["status creating: not weighed"]);
    assert_eq!(shown["hand"], ["not made by this policy"]);
    assert_eq!(p.delete_order(), ["h10"]);
    assert_eq!(p.kept(), BTreeSet::from(["h11", "h10b", "tagged", "creating", "hand"]));
    for (reason, text) in [
        (Reason::Last(2), "last 2"),
        (Reason::Tag("hold=legal".into()), "tag hold=legal"),
        (Reason::HasDependents, "has dependent backups"),
        (Reason::Period("weekly", "2026-W48".into()), "weekly 2026-W48"),
    ] {
        assert_eq!(reason.to_string(), text);
    }
    let mut with_value = item("v", at(1, 0));
    with_value.metadata.insert("hold".into(), "legal".into());
    let p =
        plan(&Policy { keep_tags: vec![("hold".into(), Some("legal".into()))], ..Policy::default() }, vec![with_value]);
    assert_eq!(p.decisions[0].reasons, [Reason::Tag("hold=legal".into())]);
}

/// A deleted child of a deleted parent must be gone first; a child whose
/// parent stays need not.
#[test]
fn a_parent_deleted_with_its_child() {
    let mut inc = item("inc", at(2, 0));
    inc.parent = Some("full".into());
    let mut kept_inc = item("inc-kept", at(4, 0));
    kept_inc.parent = Some("full2".into());
    let items = vec![item("full", at(1, 0)), inc, item("full2", at(3, 0)), kept_inc];
    let p = plan(&Policy { keep_last: 1, ..Policy::default() }, items);
    assert_eq!(p.delete_order(), ["inc", "full"]);
    assert!(p.parent_deleted("inc"));
    assert!(!p.parent_deleted("inc-kept") && !p.parent_deleted("full") && !p.parent_deleted("unknown"));
}

#[test]
fn tags_and_zones_as_people_write_them() {
    use openstack_backups::retention::{parse_tag, parse_utc_offset};
    assert_eq!(parse_tag("hold"), ("hold".to_owned(), None));
    assert_eq!(parse_tag("hold=legal=2"), ("hold".to_owned(), Some("legal=2".to_owned())));
    assert_eq!(parse_tag("hold="), ("hold".to_owned(), Some(String::new())));
    assert_eq!(parse_utc_offset("+02:00").unwrap(), FixedOffset::east_opt(7200).unwrap());
    assert_eq!(parse_utc_offset("-05:30").unwrap(), FixedOffset::west_opt(5 * 3600 + 1800).unwrap());
    assert_eq!(parse_utc_offset("CET").unwrap_err(), "must look like +02:00, not \"CET\"");
    assert_eq!(parse_within("1w").unwrap(), Duration::weeks(1));
    assert_eq!(parse_within("2m").unwrap(), Duration::days(60));
    assert_eq!(parse_within("1y").unwrap(), Duration::days(365));
    assert_eq!(parse_within("3h").unwrap(), Duration::hours(3));
    assert_eq!(parse_within("7x").unwrap_err(), "unknown unit 'x' in \"7x\" (y, m, w, d, h)");
    assert_eq!(parse_within("d").unwrap_err(), "expected a duration like 7d or 1y2m, found \"d\"");
    assert_eq!(parse_within("99999999999999999y").unwrap_err(), "\"99999999999999999y\" is too long");
}

/// Cinder does not name an incremental's parent: the planner takes the
/// volume's backup with the latest data before the incremental's own,
/// leaving out other volumes and failed backups.
#[test]
fn cinder_backups_as_the_planner_sees_them() {
    use openstack_backups::retention::cinder_items;
    let backup = cinder_backup;
    let backups = vec![
        backup("full", "v1", "2026-11-01T00:00:00", None, false, "available"),
        backup("older", "v1", "2026-10-01T00:00:00", None, false, "available"),
        backup("other-volume", "v2", "2026-11-02T00:00:00", None, false, "available"),
        backup("failed", "v1", "2026-11-02T00:00:00", None, false, "error"),
        backup("later", "v1", "2026-11-05T00:00:00", None, false, "available"),
        // made on 3 Nov from a snapshot of 1 Nov 12:00: its data is older than `later`'s creation
        backup("inc", "v1", "2026-11-06T00:00:00", Some("2026-11-01T12:00:00"), true, "creating"),
    ];
    let items = cinder_items(&backups);
    let by_id: BTreeMap<&str, &Item> = items.iter().map(|i| (i.id.as_str(), i)).collect();
    let inc = by_id["inc"];
    assert_eq!(inc.parent.as_deref(), Some("full"), "the latest data of the volume before the snapshot's, not failed");
    assert!(!inc.finished && inc.managed && inc.status == "creating");
    assert_eq!((inc.name.as_deref(), inc.metadata.get("k").map(String::as_str)), (Some("n-inc"), Some("inc")));
    assert_eq!(inc.created, Utc.with_ymd_and_hms(2026, 11, 6, 0, 0, 0).unwrap(), "created, not the data's time");
    assert!(by_id["full"].has_dependents && by_id["full"].finished && by_id["full"].parent.is_none());
    assert!(!by_id["later"].has_dependents);
    assert!(by_id.values().all(|i| i.id == "inc" || i.parent.is_none()), "only incrementals have a parent");
    let alone = cinder_items(&[backup("inc", "v9", "2026-11-06T00:00:00", None, true, "available")]);
    assert_eq!(alone[0].parent, None, "no earlier backup of its volume");
    let tie = cinder_items(&[
        backup("a", "v1", "2026-11-01T00:00:00", Some("2026-11-01T00:00:00"), false, "available"),
        backup("b", "v1", "2026-11-01T06:00:00", Some("2026-11-01T00:00:00"), false, "available"),
        backup("inc", "v1", "2026-11-02T00:00:00", None, true, "available"),
    ]);
    assert_eq!(tie[2].parent.as_deref(), Some("b"), "the same data: the one made last");
}

#[test]
fn trove_backups_as_the_planner_sees_them() {
    use openstack_backups::database::types::Backup;
    use openstack_backups::retention::trove_items;
    let backup = |id: &str, parent: Option<&str>, status: &str| {
        serde_json::from_value::<Backup>(serde_json::json!({
            "id": id, "status": status, "created": "2026-11-01T10:00:00", "instance_id": "i1", "parent_id": parent,
            "name": id,
        }))
        .unwrap()
    };
    let items = trove_items(&[backup("full", None, "COMPLETED"), backup("inc", Some("full"), "BUILDING")]);
    assert_eq!(items[0].id, "full");
    assert!(items[0].has_dependents && items[0].finished && items[0].managed && items[0].parent.is_none());
    assert!(!items[1].has_dependents && !items[1].finished);
    assert_eq!(
        (items[1].parent.as_deref(), items[1].status.as_str(), items[1].name.as_deref()),
        (Some("full"), "BUILDING", Some("inc"))
    );
    assert_eq!(items[1].created, Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap());
}

/// A backup the server says has dependents goes when every dependent
/// it is known to have goes too, and stays when one of them stays.
#[test]
fn dependents_known_and_all_deleted_free_their_base() {
    let mut full = item("full", at(1, 0));
    full.has_dependents = true;
    let mut inc = item("inc", at(2, 0));
    inc.parent = Some("full".into());
    let items = vec![full.clone(), inc.clone(), item("new", at(5, 0))];
    let p = plan(&Policy { keep_last: 1, ..Policy::default() }, items);
    assert_eq!(kept(&p), ["new"]);
    assert_eq!(p.decisions[0].reasons, [Reason::Last(1)], "ranks count from 1");
    assert_eq!(p.decisions[0].reasons[0].to_string(), "last 1");
    assert_eq!(p.delete_order(), ["inc", "full"]);

    let mut tagged = inc;
    tagged.metadata.insert("hold".into(), String::new());
    let p = plan(
        &Policy { keep_tags: vec![("hold".into(), None)], ..Policy::default() },
        vec![full, tagged, item("new", at(5, 0))],
    );
    assert_eq!(p.delete_order(), ["new"]);
}

/// Chains stay whole whatever the clock says: a base made after its
/// incremental (Cinder's parent is the latest data before the
/// incremental's, which a backup of an old snapshot can have) is kept
/// like any other, and so is its own base.
#[test]
fn chains_stay_whole_when_bases_are_newer_than_their_incrementals() {
    let mut inc = item("inc", at(2, 0));
    inc.parent = Some("base".into());
    inc.metadata.insert("hold".into(), String::new());
    let mut base = item("base", at(3, 0));
    base.parent = Some("base-of-base".into());
    let items = vec![inc, base, item("base-of-base", at(4, 0))];
    let p = plan(&Policy { keep_tags: vec![("hold".into(), None)], ..Policy::default() }, items);
    assert_eq!(p.delete_order(), Vec::<&str>::new(), "{p:?}");
}

/// A full and an incremental of the same snapshot have the same data
/// time: the incremental's parent is the backup before it, not its twin
/// (Cinder takes backups with data strictly older than the snapshot).
#[test]
fn an_incremental_is_not_the_child_of_its_twin() {
    let backup =
        |id, created, data, incremental| cinder_backup(id, "v1", created, Some(data), incremental, "available");
    let items = openstack_backups::retention::cinder_items(&[
        backup("before", "2026-11-01T00:00:00", "2026-11-01T00:00:00", false),
        backup("twin", "2026-11-02T01:00:00", "2026-11-02T00:00:00", false),
        backup("inc", "2026-11-02T02:00:00", "2026-11-02T00:00:00", true),
    ]);
    assert_eq!(items[2].parent.as_deref(), Some("before"));
}

/// The first failure stops the group: nothing starts after its round, so
/// the failed incremental's bases stay; and a base never starts while one
/// of its incrementals is still being deleted.
#[test]
fn deletes_wait_for_incrementals_and_stop_at_a_failure() {
    let mut inc1 = item("inc1", at(2, 0));
    inc1.parent = Some("full".into());
    let mut inc2 = item("inc2", at(3, 0));
    inc2.parent = Some("inc1".into());
    let p = plan(&Policy::default(), vec![item("full", at(1, 0)), inc1, inc2, item("other", at(4, 0))]);
    assert_eq!(p.delete_order(), ["other", "inc2", "inc1", "full"]);
    let parent = BTreeMap::from([("inc2", "inc1"), ("inc1", "full")]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let run = |fail: Option<&'static str>| {
        let gone: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        let outcomes = runtime.block_on(execute(&p, 4, |id| {
            let gone = &gone;
            let parent = &parent;
            async move {
                for (child, base) in parent {
                    if *base == id {
                        assert!(gone.lock().unwrap().contains(*child), "{id} started before {child} was gone");
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                if fail == Some(id.as_str()) {
                    return Err("refused".to_owned());
                }
                gone.lock().unwrap().insert(id);
                Ok(())
            }
        }));
        outcomes.into_iter().map(|(id, o)| format!("{id} {o:?}")).collect::<Vec<_>>()
    };
    assert_eq!(run(None), ["other Deleted", "inc2 Deleted", "inc1 Deleted", "full Deleted"]);
    assert_eq!(run(Some("inc2")), ["other Deleted", "inc2 Failed(\"refused\")", "inc1 Skipped", "full Skipped"]);
}

/// Snapshots as `snapshot prune` plans them: held (kept whatever the rules
/// say, and not counted by them) are a group snapshot's members, those a
/// volume was made from and backup policies' temporary snapshots; the
/// rules weigh the rest, newest first.
#[test]
fn snapshots_held_by_groups_volumes_and_policies_stay_out_of_the_rules() {
    use openstack_backups::block_storage::types::{Snapshot, Volume};
    use openstack_backups::retention::{cinder_snapshot_items, plan_holding};
    let snapshot = |id: &str, created: &str, extra: serde_json::Value| {
        let mut s = serde_json::json!({"id": id, "status": "available", "created_at": created, "volume_id": "v1",
            "name": format!("n-{id}"), "size": 1, "metadata": {}});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        serde_json::from_value::<Snapshot>(s).unwrap()
    };
    let snapshots = vec![
        snapshot("old", "2026-11-01T00:00:00", serde_json::json!({})),
        snapshot("source", "2026-11-02T00:00:00", serde_json::json!({})),
        snapshot("member", "2026-11-08T00:00:00", serde_json::json!({"group_snapshot_id": "gs1"})),
        snapshot("cinders", "2026-11-03T00:00:00", serde_json::json!({"name": "backup-snap-v1"})),
        snapshot("uncounted", "2026-11-03T01:00:00", serde_json::json!({"consumes_quota": false})),
        snapshot(
            "temporary",
            "2026-11-04T00:00:00",
            serde_json::json!({"metadata": {"osbackup-temporary": "true", "osbackup-policy": "nightly"}}),
        ),
        snapshot("middle", "2026-11-05T00:00:00", serde_json::json!({})),
        snapshot("newest", "2026-11-06T00:00:00", serde_json::json!({})),
        snapshot("making", "2026-11-07T00:00:00", serde_json::json!({"status": "creating"})),
    ];
    let volume: Volume = serde_json::from_value(serde_json::json!({"id": "v2", "status": "available", "size": 1,
        "snapshot_id": "source", "created_at": "2026-11-03T00:00:00", "attachments": []}))
    .unwrap();
    let (items, held) = cinder_snapshot_items(&snapshots, &[volume]);
    assert_eq!(items.len(), 9);
    assert!(items.iter().all(|i| i.parent.is_none() && i.managed && !i.has_dependents));
    assert_eq!(held["member"], "in group snapshot gs1");
    assert_eq!(held["source"], "volumes were made from it (v2)");
    assert_eq!(held["temporary"], "temporary snapshot of nightly: its runs delete it");
    assert_eq!(held["cinders"], "Cinder's temporary snapshot for a backup");
    assert_eq!(held["uncounted"], "Cinder's temporary snapshot for a backup");
    assert_eq!(held.len(), 5);

    let p = plan_holding(&Policy { keep_last: 2, ..Policy::default() }, items, &held);
    let decided: Vec<(&str, Vec<String>)> =
        p.decisions.iter().map(|d| (d.item.id.as_str(), d.reasons.iter().map(ToString::to_string).collect())).collect();
    assert_eq!(
        decided,
        [
            ("member", vec!["in group snapshot gs1".to_owned()]),
            ("making", vec!["status creating: not weighed".to_owned()]),
            ("newest", vec!["last 1".to_owned()]),
            ("middle", vec!["last 2".to_owned()]),
            ("temporary", vec!["temporary snapshot of nightly: its runs delete it".to_owned()]),
            ("uncounted", vec!["Cinder's temporary snapshot for a backup".to_owned()]),
            ("cinders", vec!["Cinder's temporary snapshot for a backup".to_owned()]),
            ("source", vec!["volumes were made from it (v2)".to_owned()]),
            ("old", vec![]),
        ],
        "newest first; the held ones (the newest among them) are not among the last two"
    );
    assert_eq!(p.delete_order(), ["old"]);
    assert_eq!(p.decisions[4].reasons, [Reason::Held("temporary snapshot of nightly: its runs delete it".into())]);
}
