//! The I/O half of a policy: read the cloud, plan, back up with bounded
//! concurrency while one shared poll watches every backup in flight, clean
//! up, prune; and the report.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::oneshot;

use super::plan::{
    self, Action, BackupView, Plan, Problem, Protection, Reason, Source, Standard, VolumePlan, VolumeView,
};
use super::{MARKER, Policy, Projects, TEMPORARY};
use crate::block_storage::{Client, types};
use crate::clock::{Clock, SystemClock};
use crate::retention;
use crate::wait::Waiter;
use crate::{Error, Microversion};

/// A run's event callback.
pub type EventFn = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// How to run a policy.
#[derive(Clone)]
pub struct RunOptions {
    /// Plan and report only: nothing is created or deleted.
    pub dry_run: bool,
    /// Where the time comes from (and how the run sleeps between looks).
    /// A clock whose sleeps move it at once (the fake cloud's standing
    /// clock) works too: the backups in flight are waited for by one loop of
    /// looks, so each backup's timeout is a deadline rather than a sleep of
    /// its own (the waits of temporary snapshots and deletes sleep on it
    /// too, and move such a clock as they go).
    pub clock: Arc<dyn Clock>,
    /// Called as the run goes (for a progress display or a log).
    pub on_event: Option<EventFn>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { dry_run: false, clock: Arc::new(SystemClock), on_event: None }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions").field("dry_run", &self.dry_run).finish_non_exhaustive()
    }
}

/// What happens during a run, as it happens.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The plan is made.
    Planned(&'a Plan),
    /// The quota could not be read: every due volume is tried.
    QuotaUnknown(&'a Error),
    /// A temporary snapshot is taken of an attached volume.
    SnapshotTaken {
        /// The volume.
        volume: &'a VolumeView,
        /// The snapshot.
        snapshot_id: &'a str,
    },
    /// A backup is under way (made now, or adopted from an earlier run).
    Started {
        /// The volume.
        volume: &'a VolumeView,
        /// What is done.
        action: &'a Action,
        /// The backup.
        backup_id: &'a str,
    },
    /// A volume is done with.
    Finished(&'a VolumeOutcome),
    /// A temporary snapshot an earlier run left behind was deleted (or not:
    /// why).
    Cleaned {
        /// The snapshot.
        snapshot_id: &'a str,
        /// Whether it went.
        result: &'a Result<(), String>,
    },
    /// A group snapshot of the policy (a `group` selection's) was deleted,
    /// or had to stay (why): one an earlier run left, or this run's own
    /// when `backup_group` could not delete it.
    GroupSnapshotCleaned {
        /// The group snapshot.
        group_snapshot_id: &'a str,
        /// Whether it went.
        result: &'a Result<(), String>,
    },
    /// A backup the retention rules do not keep was deleted (or not).
    Pruned {
        /// Its volume.
        volume_id: &'a str,
        /// The backup.
        backup_id: &'a str,
        /// What became of it.
        outcome: &'a retention::Outcome,
    },
}

/// What became of one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing was needed: a fresh backup exists.
    Fresh,
    /// The backup was made and is `available`.
    Done,
    /// Not backed up (in-use with `in-use: skip`, a status that allows no
    /// backup, no quota left): why is the plan's reason.
    NotAttempted,
    /// The backup failed: Cinder's reason, and its user message when it
    /// wrote one.
    Failed(String),
    /// The backup took longer than the policy's `timeout`; it goes on in
    /// the cloud and the next run picks it up.
    TimedOut,
    /// A dry run: nothing was done.
    Planned,
}

impl Outcome {
    /// A short word or phrase for tables and logs.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Fresh => "protected".to_owned(),
            Outcome::Done => "done".to_owned(),
            Outcome::NotAttempted => "not attempted".to_owned(),
            Outcome::Failed(why) => format!("failed: {why}"),
            Outcome::TimedOut => "timed out (still being made)".to_owned(),
            Outcome::Planned => "planned".to_owned(),
        }
    }
}

/// One volume's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeOutcome {
    /// The volume.
    pub volume: Arc<VolumeView>,
    /// What the plan said to do.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// The backup made or adopted (or the fresh one).
    pub backup_id: Option<String>,
    /// Its size in GiB.
    pub size_gib: Option<u64>,
    /// How long it took, from the create request (or from the start of the
    /// run, for an adopted backup) to the backup's end seen.
    pub elapsed: Option<Duration>,
    /// What became of it.
    pub outcome: Outcome,
    /// Whether the volume is protected after the run: a backup of the
    /// policy no older than `every` plus `slack`.
    pub protected: bool,
}

/// The retention of one volume's backups, and what became of the deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneGroup {
    /// The volume.
    pub volume_id: String,
    /// The plan.
    pub plan: retention::Plan,
    /// Each delete's outcome (`None`: a dry run).
    pub outcomes: Option<Vec<(String, retention::Outcome)>>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// The plan it followed.
    pub plan: Plan,
    /// Each selected volume's result, in the plan's order.
    pub volumes: Vec<VolumeOutcome>,
    /// Temporary snapshots of earlier runs, and whether they went.
    pub cleaned: Vec<(String, Result<(), String>)>,
    /// The policy's group snapshots (a `group` selection's): those earlier
    /// runs left, and this run's own when it could not be deleted; whether
    /// each went, or why it stays.
    pub group_snapshots: Vec<(String, Result<(), String>)>,
    /// Retention, per volume (empty without `keep`).
    pub pruned: Vec<PruneGroup>,
}

impl RunReport {
    /// Whether the run did everything: every selected volume protected,
    /// every name of the selection found, no failed delete or clean-up.
    pub fn succeeded(&self) -> bool {
        self.plan.problems.is_empty()
            && self.volumes.iter().all(|v| v.protected || v.outcome == Outcome::Planned)
            && self.cleaned.iter().all(|(_, r)| r.is_ok())
            && self.group_snapshots.iter().all(|(_, r)| r.is_ok())
            && self.pruned.iter().all(|g| {
                g.outcomes.as_ref().is_none_or(|o| !o.iter().any(|(_, x)| matches!(x, retention::Outcome::Failed(_))))
            })
    }

    /// The names of the selection that pick no volume or several.
    pub fn problems(&self) -> &[Problem] {
        &self.plan.problems
    }
}

/// The backups of the caller's project, as views.
async fn project_backups(cinder: &Client) -> Result<Vec<BackupView>, Error> {
    let mut out = Vec::new();
    let mut stream = cinder.list_backups_detail().stream();
    while let Some(b) = stream.try_next().await? {
        out.push(BackupView::from(&b));
    }
    Ok(out)
}

/// A `group` selection's group: its id and its volumes' ids (`showGroup`
/// with `list_volume`, 3.25).
struct GroupMembers {
    id: String,
    volumes: BTreeSet<String>,
}

async fn group_members(cinder: &Client, policy: Option<&Policy>) -> Result<Option<GroupMembers>, Error> {
    let Some(group) = policy.and_then(|p| p.select.group.as_deref()) else { return Ok(None) };
    let found = cinder.find_group(group).await?;
    let shown = cinder.show_group().group_id(&found.id).list_volume(true).send().await?.into_inner().group;
    Ok(Some(GroupMembers { id: shown.id, volumes: shown.volumes.into_iter().collect() }))
}

/// The description that marks the group snapshots a policy makes (and a
/// run finds again when an earlier one was interrupted).
fn group_snapshot_description(policy: &Policy) -> String {
    format!("backup policy {}", policy.name)
}

/// The group snapshots of `group` that `policy` made (by their
/// description).
async fn policy_group_snapshots(cinder: &Client, policy: &Policy, group: &str) -> Result<Vec<String>, Error> {
    let description = group_snapshot_description(policy);
    let mut out = Vec::new();
    let mut stream = cinder.list_group_snapshots_detail().stream();
    while let Some(gs) = stream.try_next().await? {
        if gs.group_id == group && gs.description.as_deref() == Some(description.as_str()) {
            out.push(gs.id);
        }
    }
    Ok(out)
}

/// Why group snapshot `id` cannot be deleted yet: a member snapshot that
/// is not settled (`backing-up`, …), or one a backup being made reads
/// (Cinder would delete it under the backup). `None`: nothing reads it.
async fn group_snapshot_in_use(cinder: &Client, id: &str) -> Result<Option<String>, Error> {
    let mut members = BTreeMap::new();
    let mut stream = cinder.list_snapshots_detail().stream();
    while let Some(s) = stream.try_next().await? {
        if s.group_snapshot_id.as_deref() == Some(id) {
            members.insert(s.id, s.status);
        }
    }
    let settled = [types::SnapshotStatus::Available, types::SnapshotStatus::Error];
    if let Some((member, status)) = members.iter().find(|(_, status)| !settled.contains(status)) {
        return Ok(Some(format!("member snapshot {member} is {status}")));
    }
    let mut creating = cinder.list_backups_detail().status(types::BackupStatus::Creating).stream();
    while let Some(b) = creating.try_next().await? {
        if let Some(member) = b.snapshot_id.as_ref().filter(|s| members.contains_key(*s)) {
            return Ok(Some(format!("backup {} is still reading member snapshot {member}", b.id)));
        }
    }
    Ok(None)
}

/// The volumes `policy`'s selection may pick, as views (the server filters
/// by metadata and project; the planner applies the rest; for a `group`
/// selection, the group's volumes).
async fn candidate_volumes(
    cinder: &Client,
    policy: Option<&Policy>,
    group: Option<&GroupMembers>,
) -> Result<Vec<Arc<VolumeView>>, Error> {
    let mut request = cinder.list_volumes_detail();
    if let Some(policy) = policy {
        if !policy.select.metadata.is_empty() {
            // A Python dict literal; JSON's string syntax is one.
            let literal = serde_json::to_string(&policy.select.metadata).unwrap_or_default();
            request = request.metadata(literal);
        }
        match &policy.select.projects {
            Projects::Own => {}
            Projects::Project(p) => request = request.all_tenants(true).project_id(p.clone()),
            Projects::All => request = request.all_tenants(true),
        }
    }
    let mut out = Vec::new();
    let mut stream = request.stream();
    while let Some(v) = stream.try_next().await? {
        if group.is_none_or(|g| g.volumes.contains(&v.id)) {
            out.push(Arc::new(VolumeView::from(&v)));
        }
    }
    Ok(out)
}

/// The microversion the marker needs (the spec's gate on
/// `/backup/metadata` of `createBackup`), refused before anything is sent.
fn check_marker_microversion(cinder: &Client) -> Result<(), Error> {
    let op = crate::block_storage::operations::SERVICE.operation("create_backup");
    let needed = op.and_then(|op| op.gated_body.iter().find(|g| g.pointer == "/backup/metadata")).and_then(|g| g.min);
    match (needed, cinder.microversion()) {
        (Some(needed), Some(configured)) if configured < needed => Err(crate::MicroversionError::new(
            crate::block_storage::operations::SERVICE.service_type,
            "create_backup",
            crate::Gated::BodyProperty { pointer: "/backup/metadata".to_owned(), value: None },
            crate::Requirement::AtLeast(needed),
            configured,
        )
        .into()),
        _ => Ok(()),
    }
}

/// Runs `policy` against `cinder`: plans from what the cloud holds now,
/// cleans up temporary snapshots earlier runs left, makes the backups (at
/// most `concurrency` in flight; one list call per look watches them all),
/// then prunes the policy's own backups with its `keep` rules. A `group`
/// selection's backups are made by one [`crate::group::backup_group`]
/// (their events come when it ends), and the group snapshots an
/// interrupted run left are deleted.
///
/// Failures of single volumes do not stop the run: they are in the
/// report ([`RunReport::succeeded`]).
///
/// # Errors
///
/// A microversion below the one backup metadata needs (3.43: the marker
/// cannot be written), and the errors of the calls that read the cloud
/// (finding a `group`, listing volumes, backups, snapshots and group
/// snapshots): nothing is created then.
pub async fn run(cinder: &Client, policy: &Policy, options: &RunOptions) -> Result<RunReport, Error> {
    check_marker_microversion(cinder)?;
    let emit = |event: Event<'_>| {
        if let Some(f) = &options.on_event {
            f(&event);
        }
    };
    let started = options.clock.now();
    let group = group_members(cinder, Some(policy)).await?;
    let volumes = candidate_volumes(cinder, Some(policy), group.as_ref()).await?;
    let backups = project_backups(cinder).await?;
    let headroom = match crate::quota::BackupHeadroom::of(cinder).await {
        Ok(room) => Some(room),
        Err(e) => {
            emit(Event::QuotaUnknown(&e));
            None
        }
    };
    let plan = plan::plan(policy, started, &volumes, &backups, headroom.as_ref());
    drop(volumes);
    emit(Event::Planned(&plan));

    if options.dry_run {
        let mut simulated = backups;
        for v in plan.volumes.iter().filter(|v| v.action.creates()) {
            simulated.push(BackupView {
                id: "(planned)".to_owned(),
                volume_id: v.volume.id.clone(),
                name: None,
                status: types::BackupStatus::Available,
                created: started,
                data_timestamp: started,
                is_incremental: matches!(v.action, Action::Incremental(_)),
                has_dependents: false,
                size: Some(v.volume.size),
                snapshot_id: None,
                policy: Some(policy.name.clone()),
                fail_reason: None,
            });
        }
        let pruned = plan::prune_plans(policy, &simulated)
            .unwrap_or_default()
            .into_iter()
            .map(|(volume_id, plan)| PruneGroup { volume_id, plan, outcomes: None })
            .collect();
        let volumes = plan.volumes.iter().map(|v| planned_outcome(policy, started, v, Outcome::Planned)).collect();
        return Ok(RunReport { plan, volumes, cleaned: Vec::new(), group_snapshots: Vec::new(), pruned });
    }

    // Temporary snapshots of earlier runs: the ones an adopted backup still
    // reads go when it ends; the others go now.
    let adopted: BTreeSet<&str> = plan
        .volumes
        .iter()
        .filter_map(|v| match &v.action {
            Action::Adopt(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let read_by_adopted: BTreeSet<String> =
        backups.iter().filter(|b| adopted.contains(b.id.as_str())).filter_map(|b| b.snapshot_id.clone()).collect();
    let adopted_started: BTreeMap<String, DateTime<Utc>> =
        backups.iter().filter(|b| adopted.contains(b.id.as_str())).map(|b| (b.id.clone(), b.created)).collect();
    drop(backups);
    let runner = Runner { cinder, policy, clock: options.clock.clone(), poller: Poller::new(cinder, policy, options) };
    let mut cleaned = Vec::new();
    for snapshot in temporary_snapshots(cinder, policy).await? {
        if read_by_adopted.contains(&snapshot.id) {
            continue;
        }
        let result = runner.remove_snapshot(&snapshot.id).await;
        emit(Event::Cleaned { snapshot_id: &snapshot.id, result: &result });
        cleaned.push((snapshot.id, result));
    }
    // Group snapshots of earlier runs: they go now, unless a member is
    // still read by a backup (an adopted one, or anyone's); those are
    // looked at again once this run's backups end.
    let mut group_snapshots = Vec::new();
    let mut deferred = Vec::new();
    if let Some(g) = &group {
        for id in policy_group_snapshots(cinder, policy, &g.id).await? {
            match group_snapshot_in_use(cinder, &id).await {
                Ok(None) => {
                    let result = runner.remove_group_snapshot(&id).await;
                    emit(Event::GroupSnapshotCleaned { group_snapshot_id: &id, result: &result });
                    group_snapshots.push((id, result));
                }
                Ok(Some(_)) => deferred.push(id),
                Err(e) => {
                    let result = Err(format!("group snapshot {id} stays: its members could not be read: {e}"));
                    emit(Event::GroupSnapshotCleaned { group_snapshot_id: &id, result: &result });
                    group_snapshots.push((id, result));
                }
            }
        }
    }

    // The backups, most at risk first, `concurrency` at a time, while the
    // poll watches the ones in flight.
    let work = plan.work();
    let group_work = group.as_ref().filter(|_| work.iter().any(|e| e.action.creates()));
    let done = if let Some(g) = group_work {
        let (outcomes, left) = runner.back_up_group(&g.id, &work, &emit).await;
        for (id, result) in left {
            emit(Event::GroupSnapshotCleaned { group_snapshot_id: &id, result: &result });
            group_snapshots.push((id, result));
        }
        outcomes
    } else {
        // Each volume's future is made when a place frees up (not all up
        // front: a run over thousands of volumes holds `concurrency` of
        // them). By index: a closure over `&VolumePlan` would not be Send.
        let (runner, emit, adopted_started) = (&runner, &emit, &adopted_started);
        let jobs = futures_util::stream::iter(0..work.len())
            .map(|i| {
                let entry = work[i];
                let since = match &entry.action {
                    Action::Adopt(id) => adopted_started.get(id).copied().unwrap_or(started),
                    _ => started,
                };
                runner.job(entry, since, emit)
            })
            .buffer_unordered(policy.concurrency.max(1))
            .collect::<Vec<VolumeOutcome>>();
        let polling = runner.poller.drive();
        futures_util::pin_mut!(jobs);
        futures_util::pin_mut!(polling);
        match futures_util::future::select(jobs, polling).await {
            futures_util::future::Either::Left((done, _)) => done,
            futures_util::future::Either::Right((never, _)) => match never {},
        }
    };
    // The group snapshots a backup was reading: they go if nothing reads
    // them now (else the next run looks again).
    for id in deferred {
        let result = match group_snapshot_in_use(cinder, &id).await {
            Ok(None) => runner.remove_group_snapshot(&id).await,
            Ok(Some(why)) => Err(format!("group snapshot {id} stays: {why}")),
            Err(e) => Err(format!("group snapshot {id} stays: its members could not be read: {e}")),
        };
        emit(Event::GroupSnapshotCleaned { group_snapshot_id: &id, result: &result });
        group_snapshots.push((id, result));
    }
    let mut by_volume: BTreeMap<String, VolumeOutcome> = done.into_iter().map(|o| (o.volume.id.clone(), o)).collect();
    let mut volumes: Vec<VolumeOutcome> = plan
        .volumes
        .iter()
        .map(|v| {
            by_volume.remove(&v.volume.id).unwrap_or_else(|| {
                let outcome = if matches!(v.reason, Reason::Fresh(_)) { Outcome::Fresh } else { Outcome::NotAttempted };
                planned_outcome(policy, started, v, outcome)
            })
        })
        .collect();
    // A volume that joined the group after the plan was backed up with it.
    volumes.extend(by_volume.into_values());

    // Retention, from what the cloud holds now.
    let mut pruned = Vec::new();
    if policy.keep.is_some() {
        let backups = project_backups(cinder).await?;
        for (volume_id, group) in plan::prune_plans(policy, &backups).unwrap_or_default() {
            let outcomes = retention::execute(&group, policy.concurrency, |id| runner.delete_backup(id)).await;
            for (backup_id, outcome) in &outcomes {
                emit(Event::Pruned { volume_id: &volume_id, backup_id, outcome });
            }
            pruned.push(PruneGroup { volume_id, plan: group, outcomes: Some(outcomes) });
        }
    }
    Ok(RunReport { plan, volumes, cleaned, group_snapshots, pruned })
}

/// The outcome of a volume the run did not work on.
fn planned_outcome(policy: &Policy, now: DateTime<Utc>, v: &VolumePlan, outcome: Outcome) -> VolumeOutcome {
    VolumeOutcome {
        volume: v.volume.clone(),
        action: v.action.clone(),
        reason: v.reason.clone(),
        backup_id: v.newest.as_ref().map(|b| b.id.clone()),
        size_gib: v.newest.as_ref().and_then(|b| b.size),
        elapsed: None,
        protected: still_fresh(policy, now, v.newest.as_ref()),
        outcome,
    }
}

/// Whether `newest` still protects its volume at `now`.
fn still_fresh(policy: &Policy, now: DateTime<Utc>, newest: Option<&BackupView>) -> bool {
    newest.is_some_and(|b| (now - b.data_timestamp).to_std().unwrap_or_default() <= policy.every + policy.slack)
}

/// A policy's temporary snapshot.
struct TempSnapshot {
    id: String,
}

/// The temporary snapshots of `policy` (by their marker; the server
/// filters by metadata from 3.22, and the marker is checked here again).
async fn temporary_snapshots(cinder: &Client, policy: &Policy) -> Result<Vec<TempSnapshot>, Error> {
    let mut request = cinder.list_snapshots_detail();
    if cinder.microversion().is_some_and(|v| v >= Microversion::new(3, 22)) {
        let filter: BTreeMap<&str, &str> = [(MARKER, policy.name.as_str()), (TEMPORARY, "true")].into();
        request = request.metadata(serde_json::to_string(&filter).unwrap_or_default());
    }
    let mut out = Vec::new();
    let mut stream = request.stream();
    while let Some(s) = stream.try_next().await? {
        let ours =
            s.metadata.get(MARKER) == Some(&policy.name) && s.metadata.get(TEMPORARY).is_some_and(|t| t == "true");
        if ours {
            out.push(TempSnapshot { id: s.id });
        }
    }
    Ok(out)
}

struct Runner<'a> {
    cinder: &'a Client,
    policy: &'a Policy,
    clock: Arc<dyn Clock>,
    poller: Poller<'a>,
}

impl Runner<'_> {
    fn waiter(&self) -> Waiter {
        Waiter::new()
            .timeout(self.policy.timeout)
            .delays(Duration::from_secs(1).min(self.policy.poll_interval), self.policy.poll_interval)
            .clock(self.clock.clone())
    }

    /// One volume's backup, then its `Finished` event.
    async fn job(&self, entry: &VolumePlan, since: DateTime<Utc>, emit: &(dyn Fn(Event<'_>) + Sync)) -> VolumeOutcome {
        let outcome = self.back_up(entry, since, emit).await;
        emit(Event::Finished(&outcome));
        outcome
    }

    async fn back_up(
        &self,
        entry: &VolumePlan,
        since: DateTime<Utc>,
        emit: &(dyn Fn(Event<'_>) + Sync),
    ) -> VolumeOutcome {
        let mut result = VolumeOutcome {
            volume: entry.volume.clone(),
            action: entry.action.clone(),
            reason: entry.reason.clone(),
            backup_id: None,
            size_gib: None,
            elapsed: None,
            outcome: Outcome::NotAttempted,
            protected: false,
        };
        let (backup_id, snapshot, began) = match &entry.action {
            Action::Adopt(id) => {
                emit(Event::Started { volume: &entry.volume, action: &entry.action, backup_id: id });
                (id.clone(), None, since)
            }
            Action::Full(source) | Action::Incremental(source) => match self.create(entry, *source, emit).await {
                Ok((id, snapshot, began)) => (id, snapshot, began),
                Err(why) => {
                    result.outcome = Outcome::Failed(why);
                    result.protected = still_fresh(self.policy, self.clock.now(), entry.newest.as_ref());
                    return result;
                }
            },
            Action::Skip => return result,
        };
        result.backup_id = Some(backup_id.clone());
        let ended = self.poller.wait(&backup_id, since, self.policy.timeout).await;
        let now = self.clock.now();
        result.elapsed = Some((now - began).to_std().unwrap_or_default());
        match &ended {
            Watched::Ended(b) => {
                result.size_gib = b.size;
                if b.status == types::BackupStatus::Available {
                    result.outcome = Outcome::Done;
                } else {
                    let reason = b.fail_reason.clone().unwrap_or_else(|| format!("status {}", b.status));
                    let told = self.user_message(&b.id).await;
                    result.outcome = Outcome::Failed(match told {
                        Some(m) => format!("{reason} (Cinder: {m})"),
                        None => reason,
                    });
                }
            }
            Watched::Gone => result.outcome = Outcome::Failed(format!("backup {backup_id} is gone (deleted)")),
            Watched::TimedOut => result.outcome = Outcome::TimedOut,
        }
        // The temporary snapshot goes once the backup no longer reads it (a
        // backup that timed out still does: the next run removes it). An
        // adopted backup's snapshot is found by the backup's `snapshot_id`
        // (a group's member snapshot goes with its group snapshot instead).
        let snapshot = match (snapshot, &ended) {
            (Some(s), _) => Some(s),
            (None, Watched::Ended(b))
                if matches!(entry.action, Action::Adopt(_)) && self.policy.select.group.is_none() =>
            {
                b.snapshot_id.clone()
            }
            _ => None,
        };
        let backed_up = result.outcome == Outcome::Done;
        if let Some(snapshot) = snapshot.filter(|_| !matches!(ended, Watched::TimedOut))
            && let Err(why) = self.remove_snapshot(&snapshot).await
            && backed_up
        {
            result.outcome = Outcome::Failed(format!("backed up, but the temporary snapshot stays: {why}"));
        }
        result.protected = backed_up || still_fresh(self.policy, now, entry.newest.as_ref());
        result
    }

    /// Takes the temporary snapshot (for an attached volume), then asks for
    /// the backup. Returns the backup's id, the snapshot's, and when the
    /// backup was asked for.
    async fn create(
        &self,
        entry: &VolumePlan,
        source: Source,
        emit: &(dyn Fn(Event<'_>) + Sync),
    ) -> Result<(String, Option<String>, DateTime<Utc>), String> {
        let explain = |what: &str, e: Error| format!("{what}: {e}");
        let stamp = self.clock.now().format("%Y%m%dT%H%M%SZ");
        let name = format!("{}-{stamp}", self.policy.name);
        let mut snapshot = None;
        if source == Source::Snapshot {
            // Cinder snapshots an attached volume as it is from 3.66; below,
            // only with `force`.
            let force = self.cinder.microversion().is_some_and(|v| v < Microversion::new(3, 66)).then_some(true);
            let metadata: BTreeMap<String, String> =
                [(MARKER.to_owned(), self.policy.name.clone()), (TEMPORARY.to_owned(), "true".to_owned())].into();
            let body = types::SnapshotCreateRequest {
                snapshot: types::SnapshotCreate {
                    volume_id: entry.volume.id.clone(),
                    name: Some(name.clone()),
                    description: Some(format!("temporary snapshot of backup policy {}", self.policy.name)),
                    force,
                    metadata: Some(metadata),
                },
            };
            let made = self
                .cinder
                .create_snapshot()
                .body(body)
                .send()
                .await
                .map_err(|e| explain("snapshot", e))?
                .into_inner()
                .snapshot;
            emit(Event::SnapshotTaken { volume: &entry.volume, snapshot_id: &made.id });
            if let Err(e) =
                self.cinder.wait_for_snapshot(&made.id, types::SnapshotStatus::Available).with(&self.waiter()).await
            {
                let why = explain("snapshot", e);
                let told = self.user_message(&made.id).await.map(|m| format!(" (Cinder: {m})")).unwrap_or_default();
                let _ = self.remove_snapshot(&made.id).await;
                return Err(format!("{why}{told}"));
            }
            snapshot = Some(made.id);
        }
        let mut metadata = self.policy.properties.clone();
        metadata.insert(MARKER.to_owned(), self.policy.name.clone());
        let body = types::BackupCreate {
            volume_id: entry.volume.id.clone(),
            name: Some(name),
            description: Some(format!("backup policy {}", self.policy.name)),
            container: self.policy.container.clone(),
            availability_zone: self.policy.availability_zone.clone(),
            snapshot_id: snapshot.clone(),
            force: (source == Source::Force).then_some(true),
            incremental: matches!(entry.action, Action::Incremental(_)).then_some(true),
            metadata: Some(metadata),
        };
        let began = self.clock.now();
        match self.cinder.create_backup().body(types::BackupCreateRequest { backup: body }).send().await {
            Ok(made) => {
                let id = made.into_inner().backup.id;
                emit(Event::Started { volume: &entry.volume, action: &entry.action, backup_id: &id });
                Ok((id, snapshot, began))
            }
            Err(e) => {
                if let Some(s) = &snapshot {
                    let _ = self.remove_snapshot(s).await;
                }
                Err(explain("backup", e))
            }
        }
    }

    /// Backs up a group's volumes (`work`'s new backups) from one group
    /// snapshot; returns each volume's outcome, and the group snapshot when
    /// it had to be left.
    async fn back_up_group(
        &self,
        group: &str,
        work: &[&VolumePlan],
        emit: &(dyn Fn(Event<'_>) + Sync),
    ) -> (Vec<VolumeOutcome>, Vec<(String, Result<(), String>)>) {
        use crate::group::{GroupBackupError, GroupBackupOptions, backup_group};
        let entries: Vec<&VolumePlan> = work.iter().copied().filter(|e| e.action.creates()).collect();
        let mut properties = self.policy.properties.clone();
        properties.insert(MARKER.to_owned(), self.policy.name.clone());
        let options = GroupBackupOptions {
            name: Some(format!("{}-{}", self.policy.name, self.clock.now().format("%Y%m%dT%H%M%SZ"))),
            description: Some(group_snapshot_description(self.policy)),
            incremental: entries.iter().all(|e| matches!(e.action, Action::Incremental(_))),
            waiter: self.waiter(),
            properties,
            container: self.policy.container.clone(),
            availability_zone: self.policy.availability_zone.clone(),
        };
        let began = self.clock.now();
        let result = backup_group(self.cinder, group, &options).await;
        let now = self.clock.now();
        let mut left = Vec::new();
        let mut outcomes = Vec::new();
        for entry in entries {
            let mut o = VolumeOutcome {
                volume: entry.volume.clone(),
                action: entry.action.clone(),
                reason: entry.reason.clone(),
                backup_id: None,
                size_gib: None,
                elapsed: None,
                outcome: Outcome::NotAttempted,
                protected: false,
            };
            o.outcome = match &result {
                Ok(done) => match done.members.iter().find(|m| m.volume_id == entry.volume.id) {
                    Some(m) => match &m.outcome {
                        Ok(b) => {
                            o.backup_id = Some(b.id.clone());
                            o.size_gib = b.size.and_then(|s| u64::try_from(s).ok());
                            o.elapsed = Some((now - began).to_std().unwrap_or_default());
                            emit(Event::Started { volume: &entry.volume, action: &entry.action, backup_id: &b.id });
                            Outcome::Done
                        }
                        Err(e) => {
                            let id = e.wait_error().map(|w| w.id().to_owned());
                            o.backup_id = id.clone();
                            if e.kind() == crate::ErrorKind::WaitTimedOut {
                                Outcome::TimedOut
                            } else {
                                let told = match &id {
                                    Some(id) => self.user_message(id).await.map(|m| format!(" (Cinder: {m})")),
                                    None => None,
                                };
                                Outcome::Failed(format!("backup: {e}{}", told.unwrap_or_default()))
                            }
                        }
                    },
                    None => Outcome::Failed(format!(
                        "group snapshot {} has no snapshot of it (it left the group meanwhile)",
                        done.group_snapshot.id
                    )),
                },
                Err(e) => Outcome::Failed(format!("group backup: {e}")),
            };
            o.protected = o.outcome == Outcome::Done || still_fresh(self.policy, now, entry.newest.as_ref());
            emit(Event::Finished(&o));
            outcomes.push(o);
        }
        // Volumes that joined the group after the plan: backed up with it.
        if let Ok(done) = &result {
            for m in done.members.iter().filter(|m| !work.iter().any(|e| e.volume.id == m.volume_id)) {
                let volume = Arc::new(VolumeView {
                    id: m.volume_id.clone(),
                    name: None,
                    status: String::new(),
                    size: 0,
                    metadata: Vec::new(),
                    project_id: None,
                });
                let (outcome, backup_id, size_gib) = match &m.outcome {
                    Ok(b) => (Outcome::Done, Some(b.id.clone()), b.size.and_then(|s| u64::try_from(s).ok())),
                    Err(e) if e.kind() == crate::ErrorKind::WaitTimedOut => {
                        (Outcome::TimedOut, e.wait_error().map(|w| w.id().to_owned()), None)
                    }
                    Err(e) => {
                        (Outcome::Failed(format!("backup: {e}")), e.wait_error().map(|w| w.id().to_owned()), None)
                    }
                };
                let o = VolumeOutcome {
                    volume,
                    action: if options.incremental {
                        Action::Incremental(Source::GroupSnapshot)
                    } else {
                        Action::Full(Source::GroupSnapshot)
                    },
                    reason: Reason::GroupJoined,
                    protected: outcome == Outcome::Done,
                    elapsed: Some((now - began).to_std().unwrap_or_default()),
                    backup_id,
                    size_gib,
                    outcome,
                };
                emit(Event::Finished(&o));
                outcomes.push(o);
            }
        }
        let stays = match &result {
            Ok(done) => done.cleanup.as_ref().err(),
            Err(GroupBackupError::GroupSnapshot { cleanup, .. } | GroupBackupError::NoMembers { cleanup, .. }) => {
                cleanup.as_ref().err()
            }
            Err(_) => None,
        };
        if let Some(l) = stays {
            left.push((l.group_snapshot_id.clone(), Err(l.to_string())));
        }
        (outcomes, left)
    }

    /// Deletes a group snapshot (with its member snapshots) and waits until
    /// it is gone.
    async fn remove_group_snapshot(&self, id: &str) -> Result<(), String> {
        crate::group::delete_group_snapshot(self.cinder, id, &self.waiter()).await.map_err(|l| l.to_string())
    }

    /// Deletes a temporary snapshot once it is `available` again (a backup
    /// that read it leaves it `backing-up` for a moment), and waits until it
    /// is gone.
    async fn remove_snapshot(&self, id: &str) -> Result<(), String> {
        let waiter = self.waiter();
        match self.cinder.wait_for_snapshot(id, types::SnapshotStatus::Available).with(&waiter).await {
            Ok(_) => {}
            // An `error` snapshot can be deleted too; one gone meanwhile
            // (the snapshot waiter's `deleted`: a 404 means gone) gets a
            // 404 from the delete, which counts as done.
            Err(e) if e.kind() == crate::ErrorKind::WaitFailed => {}
            Err(e) => return Err(format!("snapshot {id}: {e}")),
        }
        match self.cinder.delete_snapshot().snapshot_id(id).send().await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(format!("deleting snapshot {id}: {e}")),
        }
        self.cinder
            .wait_for_snapshot_deleted(id)
            .with(&waiter)
            .await
            .map(|_| ())
            .map_err(|e| format!("snapshot {id}: {e}"))
    }

    /// A retention delete, waited for until the backup is gone: Cinder
    /// deletes asynchronously and may fail (`error_deleting`), and a parent
    /// can go only once its children are gone.
    async fn delete_backup(&self, id: String) -> Result<(), String> {
        self.cinder.delete_backup().backup_id(&id).send().await.map_err(|e| e.to_string())?;
        self.cinder.wait_for_backup_deleted(&id).with(&self.waiter()).await.map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Cinder's newest user message about a resource (3.5: by its id), as
    /// its text.
    async fn user_message(&self, resource: &str) -> Option<String> {
        newest_message(self.cinder, resource).await
    }
}

/// Cinder's newest user message about `resource` (a backup's, snapshot's or
/// volume's id), as its text: `None` below microversion 3.5 (the list
/// takes no filter there), when there is none, or when the list fails.
pub async fn newest_message(cinder: &Client, resource: &str) -> Option<String> {
    if cinder.microversion().is_none_or(|v| v < Microversion::new(3, 5)) {
        return None;
    }
    let page = cinder
        .list_messages()
        .resource_uuid(resource.to_owned())
        .sort("created_at:desc")
        .limit(1u64)
        .send()
        .await
        .ok()?;
    page.into_inner().messages.into_iter().next().map(|m| m.user_message)
}

/// How a watched backup ended.
#[derive(Debug, Clone)]
enum Watched {
    /// It left `creating` (for `available`, `error`, …).
    Ended(Box<BackupView>),
    /// It is gone.
    Gone,
    /// The policy's timeout ran out.
    TimedOut,
}

/// A watched backup: created around then, the time its wait runs out, and
/// the waiting task's end.
struct Watch {
    since: DateTime<Utc>,
    deadline: DateTime<Utc>,
    tx: oneshot::Sender<Watched>,
}

/// One look, shared by every backup in flight: a list of the project's
/// backups, newest first, read until each one watched is seen.
///
/// Every wait of the run is on this one loop: the timeouts are deadlines
/// it checks after each look, not sleeps of their own, so that a clock
/// whose sleeps move it (a test's fake clock) moves once per look rather
/// than once per backup in flight.
struct Poller<'a> {
    cinder: &'a Client,
    clock: Arc<dyn Clock>,
    first: Duration,
    max: Duration,
    /// Each backup watched: since when, until when, and whom to tell.
    watched: Mutex<BTreeMap<String, Watch>>,
    /// Told when a backup is first watched (the loop sleeps on it while
    /// nothing is).
    added: tokio::sync::Notify,
}

impl<'a> Poller<'a> {
    fn new(cinder: &'a Client, policy: &Policy, options: &RunOptions) -> Self {
        Poller {
            cinder,
            clock: options.clock.clone(),
            first: Duration::from_secs(1).min(policy.poll_interval),
            max: policy.poll_interval,
            watched: Mutex::new(BTreeMap::new()),
            added: tokio::sync::Notify::new(),
        }
    }

    /// Waits until the backup `id` (created around `since`) leaves
    /// `creating`, is gone, or `timeout` runs out (seen at the first look
    /// after it).
    async fn wait(&self, id: &str, since: DateTime<Utc>, timeout: Duration) -> Watched {
        let (tx, rx) = oneshot::channel();
        // A timeout past the end of time (`Duration::MAX`, `timeout: 1000000y`)
        // never runs out.
        let deadline = chrono::Duration::from_std(timeout)
            .ok()
            .and_then(|t| self.clock.now().checked_add_signed(t))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.watched.lock().expect("poller lock").insert(id.to_owned(), Watch { since, deadline, tx });
        self.added.notify_one();
        // `settle` removes the watch and sends; the sender is never
        // dropped unsent while the run lasts.
        rx.await.unwrap_or(Watched::TimedOut)
    }

    /// Looks at the watched backups from time to time, forever (the caller
    /// drops it when the work is done): after `first`, then 1.5 times later
    /// each time, at most every `max`, and never past the nearest deadline;
    /// while nothing is watched, it waits for something to be, and starts
    /// again from `first`. Deadlines are checked before and after each look
    /// (a look can take long while Cinder is unreachable).
    async fn drive(&self) -> std::convert::Infallible {
        let mut pause = self.first;
        loop {
            if self.watched.lock().expect("poller lock").is_empty() {
                self.added.notified().await;
                pause = self.first;
                continue;
            }
            let nearest = self.watched.lock().expect("poller lock").values().map(|w| w.deadline).min();
            let to_nearest = nearest.map_or(pause, |d| (d - self.clock.now()).to_std().unwrap_or_default());
            self.clock.sleep(pause.min(to_nearest)).await;
            pause = pause.mul_f64(1.5).min(self.max);
            self.expire();
            let watched: BTreeMap<String, DateTime<Utc>> =
                self.watched.lock().expect("poller lock").iter().map(|(id, w)| (id.clone(), w.since)).collect();
            if !watched.is_empty() {
                self.look(&watched).await;
            }
            self.expire();
        }
    }

    /// Ends the waits whose deadline has come.
    fn expire(&self) {
        let now = self.clock.now();
        let expired: Vec<String> = self
            .watched
            .lock()
            .expect("poller lock")
            .iter()
            .filter(|(_, w)| w.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.settle(&id, Watched::TimedOut);
        }
    }

    async fn look(&self, watched: &BTreeMap<String, DateTime<Utc>>) {
        // Newest first: the backups in flight are the project's newest,
        // unless others were made meanwhile; read on until each is seen, or
        // the list reaches backups older than the oldest watched (with ten
        // minutes for the clocks of client and server to differ).
        let oldest =
            watched.values().min().copied().unwrap_or_else(|| self.clock.now()) - chrono::Duration::minutes(10);
        let page = (watched.len() + 10).min(1000) as u64;
        let mut stream = self.cinder.list_backups_detail().sort("created_at:desc").limit(page).stream();
        let mut unseen: BTreeSet<&str> = watched.keys().map(String::as_str).collect();
        loop {
            match stream.try_next().await {
                Ok(Some(b)) => {
                    if unseen.remove(b.id.as_str()) && b.status != types::BackupStatus::Creating {
                        self.settle(&b.id, Watched::Ended(Box::new(BackupView::from(&b))));
                    }
                    if unseen.is_empty() || b.created_at.to_utc() < oldest {
                        break;
                    }
                }
                Ok(None) => break,
                // A failed look is tried again at the next one (the
                // client's retries have run already).
                Err(_) => return,
            }
        }
        // Not in the list: look at each one.
        for id in unseen {
            match self.cinder.show_backup().backup_id(id).send().await {
                Ok(b) if b.backup.status != types::BackupStatus::Creating => {
                    let view = BackupView::from(&b.into_inner().backup);
                    self.settle(id, Watched::Ended(Box::new(view)));
                }
                Ok(_) => {}
                Err(e) if e.is_not_found() => self.settle(id, Watched::Gone),
                Err(_) => {}
            }
        }
    }

    fn settle(&self, id: &str, how: Watched) {
        if let Some(watch) = self.watched.lock().expect("poller lock").remove(id) {
            let _ = watch.tx.send(how);
        }
    }
}

/// The row of a name (or a group) that picks no volume.
fn missing(name: String) -> Protection {
    Protection {
        volume: Arc::new(VolumeView {
            id: String::new(),
            name: Some(name),
            status: String::new(),
            size: 0,
            metadata: Vec::new(),
            project_id: None,
        }),
        newest: None,
        age: None,
        chain_length: 0,
        backups: 0,
        size_gib: 0,
        failure: None,
        state: super::State::Missing,
    }
}

/// The protection of every volume `policy` selects (or, with no policy,
/// every volume of the caller's project) under `standard`, at `now`: one
/// list of the volumes, one of the project's backups. A name of the
/// selection that picks no volume, or several, is a [`State::Missing`](super::State::Missing)
/// row named after it. A `group` selection is looked up first (its
/// volumes, from 3.25); a group no longer found is one `Missing` row named
/// after it.
///
/// # Errors
///
/// The errors of the two list calls, and of reading a `group` (other than
/// its absence).
pub async fn report(
    cinder: &Client,
    policy: Option<&Policy>,
    standard: &Standard,
    now: DateTime<Utc>,
) -> Result<Vec<Protection>, Error> {
    let group = match group_members(cinder, policy).await {
        Ok(group) => group,
        // A group that is gone is a row, like a name that picks no volume.
        Err(e) if e.kind() == crate::ErrorKind::NotFound => {
            return Ok(vec![missing(policy.and_then(|p| p.select.group.clone()).unwrap_or_default())]);
        }
        Err(e) => return Err(e),
    };
    let volumes = candidate_volumes(cinder, policy, group.as_ref()).await?;
    let backups = project_backups(cinder).await?;
    let (selected, problems) = match policy {
        Some(p) => plan::select(p, &volumes),
        None => (volumes.iter().collect(), Vec::new()),
    };
    let mut by_volume: BTreeMap<String, Vec<BackupView>> = BTreeMap::new();
    for b in backups {
        by_volume.entry(b.volume_id.clone()).or_default().push(b);
    }
    let mut out: Vec<Protection> = selected
        .into_iter()
        .map(|v| plan::assess(standard, now, v, by_volume.get(&v.id).map_or(&[][..], Vec::as_slice)))
        .collect();
    for problem in problems {
        let name = match problem {
            Problem::NotFound(n) | Problem::Ambiguous(n, _) => n,
        };
        out.push(missing(name));
    }
    out.sort_by(|a, b| a.volume.label().cmp(b.volume.label()).then_with(|| a.volume.id.cmp(&b.volume.id)));
    Ok(out)
}
