//! Retention: which backups a policy keeps and which it deletes, and why;
//! then the deletes, children before parents.
//!
//! The policy has restic's `forget` semantics: backups newest first;
//! `keep_last` keeps the N newest; `keep_hourly`/`daily`/`weekly`/
//! `monthly`/`yearly` keep the newest backup of each of the last N periods
//! that have one (periods counted back from the newest backup, calendar
//! periods in the policy's time zone, UTC by default, weeks as ISO weeks);
//! `keep_within` keeps every backup within that long of the newest;
//! `keep_tags` keeps every backup whose metadata has the key (and value).
//! A backup kept by any rule is kept. Only finished backups (`available`,
//! `COMPLETED`) that the caller manages are weighed; the others are left
//! alone (a backup policy manages only the backups it made: see
//! [`Item::managed`]).
//!
//! Incremental chains are never broken: the base of a kept incremental is
//! kept too ("base of a kept incremental"), and a backup the server says
//! has dependents is kept unless every dependent goes first. [`plan`] is
//! pure and deterministic; [`Plan::delete_order`] lists children before
//! their parents.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike, Utc};

/// What to keep. Every count of 0 is off; a policy with no rule at all
/// keeps nothing, which [`Policy::is_empty`] lets a caller refuse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The N newest backups.
    pub keep_last: usize,
    /// The newest backup of each of the last N hours that have one.
    pub keep_hourly: usize,
    /// … of each of the last N days.
    pub keep_daily: usize,
    /// … of each of the last N ISO weeks.
    pub keep_weekly: usize,
    /// … of each of the last N months.
    pub keep_monthly: usize,
    /// … of each of the last N years.
    pub keep_yearly: usize,
    /// Every backup made within this long of the newest.
    pub keep_within: Option<TimeDelta>,
    /// Every backup whose metadata has this key (with this value, when one
    /// is given).
    pub keep_tags: Vec<(String, Option<String>)>,
    /// The time zone of calendar periods (UTC when `None`).
    pub offset: Option<FixedOffset>,
}

impl Policy {
    /// Whether no rule keeps anything (every backup would be deleted).
    pub fn is_empty(&self) -> bool {
        self.keep_last == 0
            && self.keep_hourly == 0
            && self.keep_daily == 0
            && self.keep_weekly == 0
            && self.keep_monthly == 0
            && self.keep_yearly == 0
            && self.keep_within.is_none()
            && self.keep_tags.is_empty()
    }
}

/// One backup, as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its id.
    pub id: String,
    /// Its name, for reports.
    pub name: Option<String>,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// The backup it depends on (an incremental's parent), when known.
    pub parent: Option<String>,
    /// Whether the server says other backups depend on it.
    pub has_dependents: bool,
    /// Whether it is finished (`available`, `COMPLETED`): only those are
    /// weighed by the rules; the others are left alone.
    pub finished: bool,
    /// Whether the caller manages it: only managed backups are weighed by
    /// the rules and may be deleted; the others are kept ([`Reason::Unmanaged`])
    /// but still count in incremental chains (a managed backup that an
    /// unmanaged incremental depends on is kept as its base).
    pub managed: bool,
    /// Its status, for reports.
    pub status: String,
    /// Its metadata (for `keep_tags`).
    pub metadata: BTreeMap<String, String>,
}

/// Why a backup is kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// One of the N newest (its rank, 1 for the newest).
    Last(usize),
    /// The newest of its hour, day, week, month or year (the period).
    Period(&'static str, String),
    /// Made within `keep_within` of the newest.
    Within,
    /// Its metadata has this key (and value).
    Tag(String),
    /// A kept incremental depends on it (that incremental's id).
    BaseOf(String),
    /// The server says backups depend on it, and they are not all deleted.
    HasDependents,
    /// Not finished (its status); prune leaves it alone.
    Unfinished(String),
    /// Not the caller's to delete (a backup a policy did not make).
    Unmanaged,
    /// Kept whatever the rules say, for a reason outside them (a snapshot
    /// in a group snapshot, one that volumes were made from, a backup
    /// policy's temporary snapshot): the text says which.
    Held(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Last(n) => write!(f, "last {n}"),
            Reason::Period(rule, period) => write!(f, "{rule} {period}"),
            Reason::Within => f.write_str("within"),
            Reason::Tag(tag) => write!(f, "tag {tag}"),
            Reason::BaseOf(id) => write!(f, "base of a kept incremental ({id})"),
            Reason::HasDependents => f.write_str("has dependent backups"),
            Reason::Unfinished(status) => write!(f, "status {status}: not weighed"),
            Reason::Unmanaged => f.write_str("not made by this policy"),
            Reason::Held(why) => f.write_str(why),
        }
    }
}

/// What the plan does with one backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The backup.
    pub item: Item,
    /// Why it is kept; empty when it is deleted.
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// Whether the plan keeps it.
    pub fn keep(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// The plan of one group of backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Every backup, newest first, with its decision.
    pub decisions: Vec<Decision>,
}

impl Plan {
    /// The ids to delete, children before their parents (newest first).
    pub fn delete_order(&self) -> Vec<&str> {
        self.decisions.iter().filter(|d| !d.keep()).map(|d| d.item.id.as_str()).collect()
    }

    /// Whether the plan deletes `id`'s parent too: then `id` must be gone
    /// (not only deleting) before that delete is sent, or the server
    /// refuses it for its dependents.
    pub fn parent_deleted(&self, id: &str) -> bool {
        let deleted = self.delete_order();
        self.decisions.iter().any(|d| d.item.id == id && d.item.parent.as_deref().is_some_and(|p| deleted.contains(&p)))
    }

    /// The ids kept.
    pub fn kept(&self) -> BTreeSet<&str> {
        self.decisions.iter().filter(|d| d.keep()).map(|d| d.item.id.as_str()).collect()
    }
}

/// The bucket of `at` for a calendar rule.
fn period(rule: &str, at: DateTime<FixedOffset>) -> String {
    match rule {
        "hourly" => format!("{:04}-{:02}-{:02}T{:02}", at.year(), at.month(), at.day(), at.hour()),
        "daily" => format!("{:04}-{:02}-{:02}", at.year(), at.month(), at.day()),
        "weekly" => {
            let w = at.iso_week();
            format!("{:04}-W{:02}", w.year(), w.week())
        }
        "monthly" => format!("{:04}-{:02}", at.year(), at.month()),
        _ => format!("{:04}", at.year()),
    }
}

/// Plans one group: each backup kept with its reasons, or deleted.
pub fn plan(policy: &Policy, items: Vec<Item>) -> Plan {
    let offset = policy.offset.unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
    let mut items = items;
    // Newest first; ties by id, so the same input always gives the same plan.
    items.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    let mut reasons: Vec<Vec<Reason>> = vec![Vec::new(); items.len()];

    let finished: Vec<usize> = (0..items.len()).filter(|i| items[*i].finished && items[*i].managed).collect();
    let newest = finished.first().map(|i| items[*i].created);
    let rules = [
        ("hourly", policy.keep_hourly),
        ("daily", policy.keep_daily),
        ("weekly", policy.keep_weekly),
        ("monthly", policy.keep_monthly),
        ("yearly", policy.keep_yearly),
    ];
    let mut left: Vec<usize> = rules.iter().map(|(_, n)| *n).collect();
    let mut last_period: Vec<Option<String>> = vec![None; rules.len()];
    for (rank, i) in finished.iter().enumerate() {
        let item = &items[*i];
        if rank < policy.keep_last {
            reasons[*i].push(Reason::Last(rank + 1));
        }
        let local = item.created.with_timezone(&offset);
        for (r, (rule, _)) in rules.iter().enumerate() {
            if left[r] == 0 {
                continue;
            }
            let p = period(rule, local);
            if last_period[r].as_ref() != Some(&p) {
                reasons[*i].push(Reason::Period(rule, p.clone()));
                last_period[r] = Some(p);
                left[r] -= 1;
            }
        }
        if let (Some(within), Some(newest)) = (policy.keep_within, newest)
            && newest - item.created <= within
        {
            reasons[*i].push(Reason::Within);
        }
        for (key, value) in &policy.keep_tags {
            let has = match value {
                Some(v) => item.metadata.get(key) == Some(v),
                None => item.metadata.contains_key(key),
            };
            if has {
                reasons[*i].push(Reason::Tag(match value {
                    Some(v) => format!("{key}={v}"),
                    None => key.clone(),
                }));
            }
        }
    }
    for (i, item) in items.iter().enumerate() {
        if !item.managed {
            reasons[i].push(Reason::Unmanaged);
        } else if !item.finished {
            reasons[i].push(Reason::Unfinished(item.status.clone()));
        }
    }

    // Chains: a kept backup keeps its ancestors; repeat until nothing moves.
    let index: BTreeMap<&str, usize> = items.iter().enumerate().map(|(i, it)| (it.id.as_str(), i)).collect();
    loop {
        let mut changed = false;
        for i in 0..items.len() {
            if reasons[i].is_empty() {
                continue;
            }
            if let Some(p) = items[i].parent.as_deref().and_then(|p| index.get(p).copied())
                && !reasons[p].iter().any(|r| matches!(r, Reason::BaseOf(_)))
            {
                let first_base = reasons[p].is_empty();
                reasons[p].push(Reason::BaseOf(items[i].id.clone()));
                changed |= first_base;
            }
        }
        // A backup with dependents the server knows of is kept unless every
        // one of its known children goes, and it has known children at all.
        for i in 0..items.len() {
            if !reasons[i].is_empty() || !items[i].has_dependents {
                continue;
            }
            let children: Vec<usize> =
                (0..items.len()).filter(|c| items[*c].parent.as_deref() == Some(items[i].id.as_str())).collect();
            if children.is_empty() || children.iter().any(|c| !reasons[*c].is_empty()) {
                reasons[i].push(Reason::HasDependents);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let decisions = items.into_iter().zip(reasons).map(|(item, reasons)| Decision { item, reasons }).collect();
    Plan { decisions }
}

/// Parses restic's duration form, `2y5m7d3h` (years, months as 30 days,
/// weeks, days, hours).
pub fn parse_within(text: &str) -> Result<TimeDelta, String> {
    let mut total = TimeDelta::zero();
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| format!("expected a duration like 7d or 1y2m, found {text:?}"))?;
        digits.clear();
        let hours = match c {
            'y' => 365 * 24,
            'm' => 30 * 24,
            'w' => 7 * 24,
            'd' => 24,
            'h' => 1,
            _ => return Err(format!("unknown unit {c:?} in {text:?} (y, m, w, d, h)")),
        };
        total += n.checked_mul(hours).and_then(TimeDelta::try_hours).ok_or_else(|| format!("{text:?} is too long"))?;
    }
    if !digits.is_empty() || text.is_empty() {
        return Err(format!("expected a duration like 7d or 1y2m, found {text:?}"));
    }
    Ok(total)
}

/// A `keep_tags` entry as people write it: `KEY` (the key with any value)
/// or `KEY=VALUE`.
pub fn parse_tag(text: &str) -> (String, Option<String>) {
    match text.split_once('=') {
        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
        None => (text.to_owned(), None),
    }
}

/// The time zone of calendar periods as people write it: `+02:00`,
/// `-05:30`.
///
/// # Errors
///
/// Anything else, with what was expected.
pub fn parse_utc_offset(text: &str) -> Result<FixedOffset, String> {
    text.parse::<FixedOffset>().map_err(|_| format!("must look like +02:00, not {text:?}"))
}

/// What became of one planned delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Deleted (and gone, when the delete waits).
    Deleted,
    /// The delete failed: why.
    Failed(String),
    /// Not tried: an earlier delete of the group failed, and going on could
    /// leave an incremental without its base.
    Skipped,
}

/// Runs the deletes of `plan` with `delete` (which should return once the
/// backup is gone), at most `concurrency` at a time, never a parent before
/// all its children are gone. The first failure stops the group: what is
/// left is skipped. Returns each planned delete's outcome, in plan order.
pub async fn execute<F, Fut>(plan: &Plan, concurrency: usize, delete: F) -> Vec<(String, Outcome)>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    use futures_util::StreamExt;

    let order: Vec<String> = plan.delete_order().into_iter().map(str::to_owned).collect();
    let parent: BTreeMap<&str, &str> =
        plan.decisions.iter().filter_map(|d| d.item.parent.as_deref().map(|p| (d.item.id.as_str(), p))).collect();
    let mut outcome: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut failed = false;
    // Rounds until a failure, or until nothing is ready (all done).
    while !failed {
        // Ready: not done, and none of its planned children is still waiting.
        let ready: Vec<String> = order
            .iter()
            .filter(|id| !outcome.contains_key(*id))
            .filter(|id| {
                !order.iter().any(|c| parent.get(c.as_str()) == Some(&id.as_str()) && !outcome.contains_key(c))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            break;
        }
        let results: Vec<(String, Result<(), String>)> = futures_util::stream::iter(ready)
            .map(|id| {
                let call = delete(id.clone());
                async move { (id, call.await) }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for (id, result) in results {
            match result {
                Ok(()) => outcome.insert(id, Outcome::Deleted),
                Err(e) => {
                    failed = true;
                    outcome.insert(id, Outcome::Failed(e))
                }
            };
        }
    }
    order
        .into_iter()
        .map(|id| {
            let o = outcome.remove(&id).unwrap_or(Outcome::Skipped);
            (id, o)
        })
        .collect()
}

/// The planner's view of Cinder backups (all of one group), every one
/// managed. Cinder does not
/// show an incremental's parent; it chose the volume's backup with the
/// latest `data_timestamp` before the incremental's own (for a backup of a
/// snapshot, the latest before the snapshot), so that one is taken as the
/// parent; `has_dependent_backups` is the server's word on the rest.
pub fn cinder_items(backups: &[crate::block_storage::types::Backup]) -> Vec<Item> {
    let stamp = |b: &crate::block_storage::types::Backup| b.data_timestamp.as_ref().unwrap_or(&b.created_at).to_utc();
    backups
        .iter()
        .map(|b| {
            let parent = if b.is_incremental {
                backups
                    .iter()
                    .filter(|o| o.id != b.id && o.volume_id == b.volume_id && stamp(o) < stamp(b))
                    .filter(|o| !o.status.as_str().starts_with("error"))
                    .max_by_key(|o| (stamp(o), o.created_at.to_utc()))
                    .map(|o| o.id.clone())
            } else {
                None
            };
            Item {
                id: b.id.clone(),
                name: b.name.clone(),
                created: b.created_at.to_utc(),
                parent,
                has_dependents: b.has_dependent_backups,
                finished: b.status == crate::block_storage::types::BackupStatus::Available,
                managed: true,
                status: b.status.to_string(),
                metadata: b.metadata.clone(),
            }
        })
        .collect()
}

/// The planner's view of Trove backups (all of one group): Trove shows
/// each incremental's `parent_id`.
pub fn trove_items(backups: &[crate::database::types::Backup]) -> Vec<Item> {
    backups
        .iter()
        .map(|b| Item {
            id: b.id.clone(),
            name: b.name.clone(),
            created: b.created.to_utc(),
            parent: b.parent_id.clone(),
            has_dependents: backups.iter().any(|o| o.parent_id.as_deref() == Some(b.id.as_str())),
            finished: b.status == crate::database::types::BackupStatus::Completed,
            managed: true,
            status: b.status.to_string(),
            metadata: BTreeMap::new(),
        })
        .collect()
}

/// Plans `items` with `policy` as [`plan`] does, except for the items that
/// `held` names (id to why): they stay out of the rules (`keep_last` does
/// not count them, nor is one the newest of its period) and are kept with
/// [`Reason::Held`]. For snapshots, whose keeping can depend on more than
/// their age ([`cinder_snapshot_items`]).
pub fn plan_holding(policy: &Policy, items: Vec<Item>, held: &BTreeMap<String, String>) -> Plan {
    let (kept, free): (Vec<Item>, Vec<Item>) = items.into_iter().partition(|i| held.contains_key(&i.id));
    let mut plan = plan(policy, free);
    plan.decisions.extend(kept.into_iter().map(|item| {
        let why = held.get(&item.id).cloned().unwrap_or_default();
        Decision { item, reasons: vec![Reason::Held(why)] }
    }));
    plan.decisions.sort_by(|a, b| b.item.created.cmp(&a.item.created).then_with(|| a.item.id.cmp(&b.item.id)));
    plan
}

/// The planner's view of Cinder snapshots (all of one volume), every one
/// managed and none a parent of another, and the ones to hold whatever the
/// rules say, with why:
/// - a member of a group snapshot: Cinder refuses to delete it alone (400
///   "… must not be part of a group."); delete its group snapshot instead;
/// - a snapshot that volumes among `volumes` were made from (their
///   `snapshot_id`): with drivers that clone from snapshots (RBD, LVM
///   thin), those volumes still need it;
/// - Cinder's own temporary snapshot for a backup of an attached volume
///   (named `backup-snap-<volume id>`, not counted in the quota: from 3.65
///   `consumes_quota` false): the backup reads it while it is `available`;
/// - a backup policy's temporary snapshot (its [`TEMPORARY`] property):
///   the policy's run deletes it once its backup has read it, and the next
///   run deletes one a killed run left.
///
/// [`TEMPORARY`]: crate::policy::TEMPORARY
pub fn cinder_snapshot_items(
    snapshots: &[crate::block_storage::types::Snapshot],
    volumes: &[crate::block_storage::types::Volume],
) -> (Vec<Item>, BTreeMap<String, String>) {
    let mut held = BTreeMap::new();
    let items = snapshots
        .iter()
        .map(|s| {
            let made_from: Vec<&str> = volumes
                .iter()
                .filter(|v| v.snapshot_id.as_deref() == Some(s.id.as_str()))
                .map(|v| v.id.as_str())
                .collect();
            let why = if let Some(group_snapshot) = &s.group_snapshot_id {
                Some(format!("in group snapshot {group_snapshot}"))
            } else if !made_from.is_empty() {
                Some(format!("volumes were made from it ({})", made_from.join(", ")))
            } else if s.consumes_quota == Some(false)
                || s.name.as_deref().is_some_and(|n| n == format!("backup-snap-{}", s.volume_id))
            {
                Some("Cinder's temporary snapshot for a backup".to_owned())
            } else if s.metadata.get(crate::policy::TEMPORARY).is_some_and(|t| t == "true") {
                let policy = s.metadata.get(crate::policy::MARKER).map_or("a backup policy", String::as_str);
                Some(format!("temporary snapshot of {policy}: its runs delete it"))
            } else {
                None
            };
            if let Some(why) = why {
                held.insert(s.id.clone(), why);
            }
            Item {
                id: s.id.clone(),
                name: s.name.clone(),
                created: s.created_at.to_utc(),
                parent: None,
                has_dependents: false,
                finished: s.status == crate::block_storage::types::SnapshotStatus::Available,
                managed: true,
                status: s.status.to_string(),
                metadata: s.metadata.clone(),
            }
        })
        .collect();
    (items, held)
}
