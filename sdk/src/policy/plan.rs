//! The pure half of a policy: what a run does with each volume and why,
//! what its retention deletes, and how protected each volume is. No I/O:
//! the same volumes, backups and time always give the same answer.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{InUse, MARKER, Policy, Projects};
use crate::block_storage::types;
use crate::quota::BackupHeadroom;
use crate::retention;

/// A volume, as a policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeView {
    /// Its id.
    pub id: String,
    /// Its name (`None` when it has none).
    pub name: Option<String>,
    /// Its status (`available`, `in-use`, …).
    pub status: String,
    /// Its size in GiB (what a backup of it counts against
    /// `backup_gigabytes`).
    pub size: u64,
    /// Its metadata, as pairs sorted by key (a list, not a map: a run
    /// keeps a view of every volume it selects, and a map of one pair costs
    /// ten times the memory). [`metadata`](Self::metadata) looks a key up.
    pub metadata: Vec<(String, String)>,
    /// Its project, when the server shows it (administrators).
    pub project_id: Option<String>,
}

impl From<&types::Volume> for VolumeView {
    fn from(v: &types::Volume) -> Self {
        VolumeView {
            id: v.id.clone(),
            name: v.name.clone().filter(|n| !n.is_empty()),
            status: v.status.to_string(),
            size: v.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
            // Sorted: the generated type is an ordered map.
            metadata: v.metadata.iter().map(|(k, val)| (k.clone(), val.clone())).collect(),
            project_id: v.os_vol_tenant_attr_tenant_id.clone(),
        }
    }
}

impl VolumeView {
    /// The value of the metadata key `key`.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| self.metadata[i].1.as_str())
    }

    /// Its name, or its id when it has none.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// A backup, as a policy sees it: what planning, retention and reports
/// read, and no more (a run over thousands of backups keeps these only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupView {
    /// Its id.
    pub id: String,
    /// The volume it is of.
    pub volume_id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its status.
    pub status: types::BackupStatus,
    /// When Cinder created it.
    pub created: DateTime<Utc>,
    /// When its data was current (`data_timestamp`: the snapshot's time for
    /// a backup of a snapshot; the creation time otherwise).
    pub data_timestamp: DateTime<Utc>,
    /// Whether it is incremental.
    pub is_incremental: bool,
    /// Whether Cinder says other backups depend on it.
    pub has_dependents: bool,
    /// Its size in GiB (its volume's size).
    pub size: Option<u64>,
    /// The snapshot it was made from.
    pub snapshot_id: Option<String>,
    /// The policy that made it (its [`MARKER`] property).
    pub policy: Option<String>,
    /// Why it failed, when it did.
    pub fail_reason: Option<String>,
}

impl From<&types::Backup> for BackupView {
    fn from(b: &types::Backup) -> Self {
        BackupView {
            id: b.id.clone(),
            volume_id: b.volume_id.clone(),
            name: b.name.clone(),
            status: b.status.clone(),
            created: b.created_at.to_utc(),
            data_timestamp: b.data_timestamp.as_ref().unwrap_or(&b.created_at).to_utc(),
            is_incremental: b.is_incremental,
            has_dependents: b.has_dependent_backups,
            size: b.size.and_then(|s| u64::try_from(s).ok()),
            snapshot_id: b.snapshot_id.clone(),
            policy: b.metadata.get(MARKER).cloned(),
            fail_reason: b.fail_reason.clone(),
        }
    }
}

impl BackupView {
    fn available(&self) -> bool {
        self.status == types::BackupStatus::Available
    }

    fn failed(&self) -> bool {
        self.status.as_str().starts_with("error")
    }

    fn ours(&self, policy: &str) -> bool {
        self.policy.as_deref() == Some(policy)
    }
}

/// The parent Cinder chose for an incremental backup: the volume's backup
/// with the latest data timestamp before its own (Cinder does not show
/// it). `backups` are the volume's.
fn parent_of<'a>(backups: &'a [&'a BackupView], b: &BackupView) -> Option<&'a BackupView> {
    if !b.is_incremental {
        return None;
    }
    backups
        .iter()
        .copied()
        .filter(|o| o.id != b.id && o.data_timestamp < b.data_timestamp && !o.failed())
        .max_by_key(|o| (o.data_timestamp, o.created))
}

/// The length of the chain that ends at `head`: `head`, its parent, …, down
/// to the full backup.
fn chain_length(backups: &[&BackupView], head: &BackupView) -> usize {
    let mut length = 1;
    let mut at = head;
    let mut seen = BTreeSet::from([head.id.as_str()]);
    while let Some(parent) = parent_of(backups, at) {
        if !seen.insert(parent.id.as_str()) {
            break;
        }
        length += 1;
        at = parent;
    }
    length
}

/// How a backup reads the volume's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The volume itself (it is `available`).
    Volume,
    /// The attached volume, with `force: true`.
    Force,
    /// A temporary snapshot of the attached volume.
    Snapshot,
    /// The volume's member snapshot in one group snapshot of its group (a
    /// `group` selection).
    GroupSnapshot,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Volume => "volume",
            Source::Force => "forced",
            Source::Snapshot => "via snapshot",
            Source::GroupSnapshot => "group snapshot",
        })
    }
}

/// What a run does with one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A full backup.
    Full(Source),
    /// An incremental backup.
    Incremental(Source),
    /// Wait for this policy's backup that is still being made (an earlier
    /// run's).
    Adopt(String),
    /// Nothing.
    Skip,
}

impl Action {
    /// `full`, `incremental`, `adopt` or `skip`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Full(_) => "full",
            Action::Incremental(_) => "incremental",
            Action::Adopt(_) => "adopt",
            Action::Skip => "skip",
        }
    }

    /// Whether it makes a new backup.
    pub fn creates(&self) -> bool {
        matches!(self, Action::Full(_) | Action::Incremental(_))
    }
}

/// Why a run does what it does with a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The policy has no available backup of it.
    Never,
    /// Its newest backup is due (its age).
    Due(Duration),
    /// Its newest backup is younger than `every` less `slack` (its age).
    Fresh(Duration),
    /// The chain ending in its newest backup is `full-every` long.
    ChainComplete(usize),
    /// The policy makes full backups only (`full-every: 1`).
    FullOnly,
    /// The backup Cinder would take as the parent is not this policy's
    /// (its id).
    NewestNotOurs(String),
    /// The chain has room (its length, with this backup).
    ChainRoom(usize),
    /// This policy's backup is still being made (its status).
    InFlight(String),
    /// The volume is attached and the policy skips attached volumes.
    InUse,
    /// The volume's status does not allow a backup.
    VolumeStatus(String),
    /// The backup quota has no room for it.
    OverQuota(String),
    /// Its backup is fresh, but another volume of its group is due (that
    /// volume's name or id): the group is backed up together.
    GroupDue(String),
    /// Another volume of its group needs a full backup (that volume's
    /// name or id), so every volume of the group gets one.
    GroupFull(String),
    /// The group is not backed up this run, because of another volume of
    /// it (what stands in the way).
    GroupHeld(String),
    /// The volume joined the group after the plan was made and was backed
    /// up with it.
    GroupJoined,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Never => f.write_str("never backed up by this policy"),
            Reason::Due(age) => write!(f, "newest backup is {} old", age_text(*age)),
            Reason::Fresh(age) => write!(f, "newest backup is {} old", age_text(*age)),
            Reason::ChainComplete(n) => write!(f, "the chain has {n} backups (full-every)"),
            Reason::FullOnly => f.write_str("full backups only"),
            Reason::NewestNotOurs(id) => write!(f, "the volume's newest backup ({id}) is not this policy's"),
            Reason::ChainRoom(n) => write!(f, "backup {n} of its chain"),
            Reason::InFlight(status) => write!(f, "this policy's backup is still {status}"),
            Reason::InUse => f.write_str("in-use (in-use: skip)"),
            Reason::VolumeStatus(s) => write!(f, "volume is {s}"),
            Reason::OverQuota(what) => write!(f, "over quota: {what}"),
            Reason::GroupDue(other) => write!(f, "volume {other} of its group is due"),
            Reason::GroupFull(other) => write!(f, "volume {other} of its group needs a full backup"),
            Reason::GroupHeld(why) => write!(f, "the group waits: {why}"),
            Reason::GroupJoined => f.write_str("joined the group after the plan; backed up with it"),
        }
    }
}

/// A duration in whole units, as an operator reads it: seconds below two
/// minutes, minutes below two hours, hours below two days, then days and
/// hours (`45s`, `25h`, `3d 2h`).
pub fn age_text(age: Duration) -> String {
    let s = age.as_secs();
    if s < 120 {
        format!("{s}s")
    } else if s < 2 * 3600 {
        format!("{}m", s / 60)
    } else if s < 2 * 86400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d {}h", s / 86400, (s % 86400) / 3600)
    }
}

/// What a run does with one volume, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumePlan {
    /// The volume (shared with the run's result: one copy per volume).
    pub volume: Arc<VolumeView>,
    /// What to do.
    pub action: Action,
    /// Why (for a new backup: why this kind).
    pub reason: Reason,
    /// The age reason when a new backup is made (`Never` or `Due`).
    pub due: Option<Reason>,
    /// The policy's newest available backup of it, if any.
    pub newest: Option<BackupView>,
}

/// A name of the selection that does not pick exactly one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No volume has this name or id.
    NotFound(String),
    /// Several volumes have this name (their ids).
    Ambiguous(String, Vec<String>),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotFound(name) => write!(f, "no volume is named {name:?}"),
            Problem::Ambiguous(name, ids) => write!(f, "{} volumes are named {name:?}: {}", ids.len(), ids.join(", ")),
        }
    }
}

/// A run's plan for one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The policy's name.
    pub policy: String,
    /// The time the plan was made for.
    pub at: DateTime<Utc>,
    /// Each selected volume, by name then id.
    pub volumes: Vec<VolumePlan>,
    /// Names of the selection that pick no volume, or several.
    pub problems: Vec<Problem>,
}

impl Plan {
    /// The volumes to back up or wait for: the backups of earlier runs
    /// still being made first (they take no new room), then the most at
    /// risk (never backed up, then the oldest newest backup).
    pub fn work(&self) -> Vec<&VolumePlan> {
        let mut work: Vec<&VolumePlan> = self.volumes.iter().filter(|v| v.action != Action::Skip).collect();
        work.sort_by_key(|v| {
            (
                !matches!(v.action, Action::Adopt(_)),
                v.newest.as_ref().map(|b| b.data_timestamp),
                v.volume.label().to_owned(),
            )
        });
        work
    }
}

/// The volumes `policy` selects out of `volumes`, and the names that pick
/// none or several.
pub fn select<'a>(policy: &Policy, volumes: &'a [Arc<VolumeView>]) -> (Vec<&'a Arc<VolumeView>>, Vec<Problem>) {
    let filtered: Vec<&Arc<VolumeView>> = volumes
        .iter()
        .filter(|v| match &policy.select.projects {
            Projects::Project(p) => v.project_id.as_deref().is_none_or(|own| own == p),
            _ => true,
        })
        .filter(|v| policy.select.matches_filters(v))
        .collect();
    if policy.select.names.is_empty() {
        return (filtered, Vec::new());
    }
    let mut chosen: BTreeMap<&str, &Arc<VolumeView>> = BTreeMap::new();
    let mut problems = Vec::new();
    for name in &policy.select.names {
        // An id first, then an exact name, as `find_volume` does.
        if let Some(v) = volumes.iter().find(|v| &v.id == name) {
            if filtered.iter().any(|f| f.id == v.id) {
                chosen.insert(&v.id, v);
            }
            continue;
        }
        let named: Vec<&Arc<VolumeView>> = volumes.iter().filter(|v| v.name.as_deref() == Some(name)).collect();
        match named.as_slice() {
            [] => problems.push(Problem::NotFound(name.clone())),
            [v] => {
                if filtered.iter().any(|f| f.id == v.id) {
                    chosen.insert(&v.id, v);
                }
            }
            many => problems.push(Problem::Ambiguous(name.clone(), many.iter().map(|v| v.id.clone()).collect())),
        }
    }
    (chosen.into_values().collect(), problems)
}

/// Plans a run of `policy` at `now`: `volumes` as listed (the planner
/// applies the selection; for a `group` selection, the group's volumes),
/// `backups` every backup of the caller's project
/// of those volumes (the policy's and others: Cinder chains incrementals
/// on any of them), `headroom` the backup quota left (`None`: unknown).
///
/// A volume is skipped when the policy's newest available backup of it is
/// younger than `every` less `slack`, when a backup of the policy is still
/// being made (then it is adopted: waited for, not made again), when it is
/// attached and the policy skips attached volumes, when its status allows
/// no backup, or when the quota has no room left (volumes most at risk get
/// the room first). Otherwise it gets an incremental backup when the
/// backup Cinder would chain it on is the policy's own and its chain is
/// shorter than `full-every`, else a full one.
///
/// A `group` selection plans the group as one: when any of its volumes is
/// due, every volume is backed up (from one group snapshot), incremental
/// only if every volume's backup would be; the group waits as a whole
/// while a backup of it is still being made, while a volume's status
/// allows no backup, or while the quota has no room for all of it.
pub fn plan(
    policy: &Policy,
    now: DateTime<Utc>,
    volumes: &[Arc<VolumeView>],
    backups: &[BackupView],
    headroom: Option<&BackupHeadroom>,
) -> Plan {
    let (selected, problems) = select(policy, volumes);
    let mut by_volume: BTreeMap<&str, Vec<&BackupView>> = BTreeMap::new();
    for b in backups {
        by_volume.entry(b.volume_id.as_str()).or_default().push(b);
    }
    let empty = Vec::new();
    let mut entries: Vec<VolumePlan> = selected
        .into_iter()
        .map(|v| plan_volume(policy, now, v, by_volume.get(v.id.as_str()).unwrap_or(&empty), false))
        .collect();
    let group = policy.select.group.is_some();
    if group {
        entries = plan_group(policy, now, entries, &by_volume);
    }

    // The quota: the most at risk first.
    if let Some(room) = headroom {
        let (mut count, mut gib) = (0u64, 0u64);
        let mut order: Vec<usize> = (0..entries.len()).filter(|i| entries[*i].action.creates()).collect();
        order.sort_by_key(|i| (entries[*i].newest.as_ref().map(|b| b.data_timestamp), entries[*i].volume.id.clone()));
        for i in order {
            let size = entries[i].volume.size;
            let fits_count = room.backups.fits(count + 1) != Some(false);
            let fits_gib = room.gigabytes.fits(gib + size) != Some(false);
            if fits_count && fits_gib {
                count += 1;
                gib += size;
            } else {
                // What the server reported left, and how much of it this
                // run gave to volumes more at risk.
                let what = if fits_count {
                    let taken = if gib > 0 {
                        format!(", {gib} GiB of it taken by volumes more at risk")
                    } else {
                        String::new()
                    };
                    format!("backup_gigabytes: {size} GiB needed, {} GiB left{taken}", room.gigabytes.remaining())
                } else {
                    let taken = if count > 0 { ", taken by volumes more at risk" } else { "" };
                    format!("backups: {} left{taken}", room.backups.remaining())
                };
                let entry = &mut entries[i];
                entry.action = Action::Skip;
                entry.reason = Reason::OverQuota(what);
            }
        }
        // A group is backed up whole or not at all.
        let over = entries.iter().find_map(|e| match &e.reason {
            Reason::OverQuota(what) => Some(format!("volume {} is over quota: {what}", e.volume.label())),
            _ => None,
        });
        if group && let Some(why) = over {
            for e in entries.iter_mut().filter(|e| e.action.creates()) {
                hold_member(policy, now, e, &why);
            }
        }
    }
    entries.sort_by(|a, b| a.volume.label().cmp(b.volume.label()).then_with(|| a.volume.id.cmp(&b.volume.id)));
    Plan { policy: policy.name.clone(), at: now, volumes: entries, problems }
}

/// A group's volumes planned as one (see [`plan`]): `entries` planned
/// volume by volume, `by_volume` the backups of each.
fn plan_group(
    policy: &Policy,
    now: DateTime<Utc>,
    entries: Vec<VolumePlan>,
    by_volume: &BTreeMap<&str, Vec<&BackupView>>,
) -> Vec<VolumePlan> {
    let hold = |mut entries: Vec<VolumePlan>, why: String| {
        for e in entries.iter_mut().filter(|e| e.action.creates()) {
            hold_member(policy, now, e, &why);
        }
        entries
    };
    let Some(due) = entries.iter().find(|e| e.action.creates()) else { return entries };
    let due = due.volume.label().to_owned();
    if let Some(flying) = entries.iter().find(|e| matches!(e.action, Action::Adopt(_))) {
        let why = format!("a backup of volume {} is still being made", flying.volume.label());
        return hold(entries, why);
    }
    let empty = Vec::new();
    let mut entries: Vec<VolumePlan> = entries
        .into_iter()
        .map(|e| {
            if e.action.creates() {
                return e;
            }
            let backups = by_volume.get(e.volume.id.as_str()).unwrap_or(&empty);
            let mut pulled = plan_volume(policy, now, &e.volume, backups, true);
            // Why it is backed up at all; a full backup it needs for a
            // reason of its own (which makes the whole group's full) says so.
            let own_full = matches!(pulled.action, Action::Full(_)) && pulled.reason != Reason::FullOnly;
            if pulled.action.creates() && !own_full {
                pulled.reason = Reason::GroupDue(due.clone());
            }
            pulled
        })
        .collect();
    if let Some(blocked) = entries.iter().find(|e| matches!(e.reason, Reason::VolumeStatus(_))) {
        let why = format!("volume {} is {}", blocked.volume.label(), blocked.volume.status);
        return hold(entries, why);
    }
    if let Some(full) = entries.iter().find(|e| matches!(e.action, Action::Full(_))) {
        let full = full.volume.label().to_owned();
        for e in &mut entries {
            if let Action::Incremental(source) = e.action {
                e.action = Action::Full(source);
                e.reason = Reason::GroupFull(full.clone());
            }
        }
    }
    entries
}

/// A member of a group that waits: skipped, as fresh when its newest
/// backup is (it was only pulled in), else with what holds the group.
fn hold_member(policy: &Policy, now: DateTime<Utc>, e: &mut VolumePlan, why: &str) {
    e.action = Action::Skip;
    let age = e.newest.as_ref().map(|b| (now - b.data_timestamp).to_std().unwrap_or_default());
    e.reason = match age {
        Some(age) if age + policy.slack < policy.every => Reason::Fresh(age),
        _ => Reason::GroupHeld(why.to_owned()),
    };
    if matches!(e.reason, Reason::Fresh(_)) {
        e.due = None;
    }
}

/// One volume's plan; `pulled_in`: backed up although fresh (its group is
/// due).
fn plan_volume(
    policy: &Policy,
    now: DateTime<Utc>,
    volume: &Arc<VolumeView>,
    backups: &[&BackupView],
    pulled_in: bool,
) -> VolumePlan {
    let ours: Vec<&BackupView> = backups.iter().copied().filter(|b| b.ours(&policy.name)).collect();
    let newest = ours.iter().filter(|b| b.available()).max_by_key(|b| (b.data_timestamp, b.created)).copied();
    let entry =
        |action, reason, due| VolumePlan { volume: volume.clone(), action, reason, due, newest: newest.cloned() };

    if let Some(flying) = ours.iter().filter(|b| b.status == types::BackupStatus::Creating).max_by_key(|b| b.created) {
        return entry(Action::Adopt(flying.id.clone()), Reason::InFlight(flying.status.to_string()), None);
    }
    let age = newest.map(|b| (now - b.data_timestamp).to_std().unwrap_or_default());
    let due = match age {
        Some(age) if age + policy.slack < policy.every && !pulled_in => {
            return entry(Action::Skip, Reason::Fresh(age), None);
        }
        Some(age) => Reason::Due(age),
        None => Reason::Never,
    };
    let group = policy.select.group.is_some();
    let source = match (volume.status.as_str(), policy.in_use) {
        ("available" | "in-use", _) if group => Source::GroupSnapshot,
        ("available", _) => Source::Volume,
        ("in-use", InUse::Snapshot) => Source::Snapshot,
        ("in-use", InUse::Force) => Source::Force,
        ("in-use", InUse::Skip) => return entry(Action::Skip, Reason::InUse, Some(due)),
        (other, _) => return entry(Action::Skip, Reason::VolumeStatus(other.to_owned()), Some(due)),
    };
    if policy.full_every <= 1 {
        return entry(Action::Full(source), Reason::FullOnly, Some(due));
    }
    // The parent Cinder will choose: the volume's newest available backup.
    let parent = backups.iter().copied().filter(|b| b.available()).max_by_key(|b| (b.data_timestamp, b.created));
    let (action, reason) = match parent {
        None => (Action::Full(source), Reason::Never),
        Some(p) if !p.ours(&policy.name) => (Action::Full(source), Reason::NewestNotOurs(p.id.clone())),
        Some(p) => {
            let length = chain_length(backups, p);
            if length >= policy.full_every as usize {
                (Action::Full(source), Reason::ChainComplete(length))
            } else {
                (Action::Incremental(source), Reason::ChainRoom(length + 1))
            }
        }
    };
    entry(action, reason, Some(due))
}

/// The retention plans of `policy` over `backups` (every backup of the
/// caller's project): one per volume that has a backup of the policy. Only
/// the policy's own backups are weighed and may be deleted; the others
/// count in chains. `None` when the policy has no `keep`.
pub fn prune_plans(policy: &Policy, backups: &[BackupView]) -> Option<Vec<(String, retention::Plan)>> {
    let keep = policy.keep.as_ref()?;
    let mut by_volume: BTreeMap<&str, Vec<&BackupView>> = BTreeMap::new();
    for b in backups {
        by_volume.entry(b.volume_id.as_str()).or_default().push(b);
    }
    let mut plans = Vec::new();
    for (volume, group) in by_volume {
        if !group.iter().any(|b| b.ours(&policy.name)) {
            continue;
        }
        let items = group
            .iter()
            .map(|b| retention::Item {
                id: b.id.clone(),
                name: b.name.clone(),
                created: b.created,
                parent: parent_of(&group, b).map(|p| p.id.clone()),
                has_dependents: b.has_dependents,
                finished: b.available(),
                managed: b.ours(&policy.name),
                status: b.status.to_string(),
                metadata: BTreeMap::new(),
            })
            .collect();
        plans.push((volume.to_owned(), retention::plan(keep, items)));
    }
    Some(plans)
}

/// What a report holds a volume to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    /// Only this policy's backups count (`None`: every backup).
    pub policy: Option<String>,
    /// The newest available backup may be at most this old.
    pub max_age: Duration,
}

/// How protected a volume is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Its newest available backup is young enough.
    Protected,
    /// Its newest available backup is too old.
    Stale,
    /// It has no available backup.
    NeverBackedUp,
    /// Its newest backup attempt failed (`error`).
    Failing,
    /// The policy names it, and no volume has that name (or several do).
    Missing,
}

impl State {
    /// `protected`, `stale`, `never backed up`, `failing`, `missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Protected => "protected",
            State::Stale => "stale",
            State::NeverBackedUp => "never backed up",
            State::Failing => "failing",
            State::Missing => "missing",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A volume's protection: its newest backup, its chain, its backups, its
/// state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    /// The volume (for a missing one: its name as the policy gives it, no id).
    pub volume: Arc<VolumeView>,
    /// The newest available backup that counts.
    pub newest: Option<BackupView>,
    /// Its age at the time of the report.
    pub age: Option<Duration>,
    /// The length of the chain that ends in it (1 for a full backup).
    pub chain_length: usize,
    /// The backups that count, in any status.
    pub backups: usize,
    /// Their total size in GiB.
    pub size_gib: u64,
    /// The newest attempt, when it failed.
    pub failure: Option<BackupView>,
    /// The state.
    pub state: State,
}

/// The protection of `volume` at `now` under `standard`, from `backups`
/// (the volume's, any of the project's will do: others are ignored).
/// `Failing` when the newest backup that counts is in an error status;
/// else `Protected` or `Stale` by the age of the newest available one;
/// `NeverBackedUp` when there is none.
pub fn assess(standard: &Standard, now: DateTime<Utc>, volume: &Arc<VolumeView>, backups: &[BackupView]) -> Protection {
    let all: Vec<&BackupView> = backups.iter().filter(|b| b.volume_id == volume.id).collect();
    let counted: Vec<&BackupView> =
        all.iter().copied().filter(|b| standard.policy.as_deref().is_none_or(|p| b.ours(p))).collect();
    let newest = counted.iter().filter(|b| b.available()).max_by_key(|b| (b.data_timestamp, b.created)).copied();
    let latest_attempt = counted.iter().max_by_key(|b| b.created).copied();
    let failure = latest_attempt.filter(|b| b.failed()).cloned();
    let age = newest.map(|b| (now - b.data_timestamp).to_std().unwrap_or_default());
    let state = match (&failure, age) {
        (Some(_), _) => State::Failing,
        (None, None) => State::NeverBackedUp,
        (None, Some(age)) if age <= standard.max_age => State::Protected,
        (None, Some(_)) => State::Stale,
    };
    Protection {
        volume: volume.clone(),
        newest: newest.cloned(),
        age,
        chain_length: newest.map_or(0, |b| chain_length(&all, b)),
        backups: counted.len(),
        size_gib: counted.iter().filter_map(|b| b.size).sum(),
        failure,
        state,
    }
}
