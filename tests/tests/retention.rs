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
}

#[test]
fn within_tags_and_unfinished_backups() {
    let mut tagged = item("tagged", at(1, 0));
    tagged.metadata.insert("hold".into(), "legal".into());
    let mut creating = item("creating", at(5, 0));
    creating.finished = false;
    creating.status = "creating".into();
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
            prop_assert!(failed < outcomes.len());
        } else {
            prop_assert!(outcomes.iter().all(|(_, o)| *o == Outcome::Deleted));
        }
    }
}
