//! Backup policies: every chosen volume backed up on a cadence, old backups
//! pruned, failures explained, and a report of what is protected.
//!
//! A policy file holds named policies (YAML, read with the same library as
//! `clouds.yaml`; [`PolicyFile`]). [`plan()`] decides, for each volume a
//! policy selects, whether it needs a full backup, an incremental one, or
//! nothing yet, and why; [`run()`] carries the plan out against Cinder with
//! bounded concurrency, then prunes the policy's own backups with its keep
//! rules ([`crate::retention`]); [`report()`] says which volumes are
//! protected. `osbackup backup run --policy FILE` and `osbackup backup
//! report` are these three calls.
//!
//! ```yaml
//! policies:
//!   nightly:
//!     select: {metadata: {backup: nightly}}   # or names: [db1, db2], name-glob: "prod-*", all: true
//!     every: 24h
//!     full-every: 7
//!     in-use: snapshot
//!     keep: {daily: 7, weekly: 4}
//!     concurrency: 4
//! ```
//!
//! # The policy file, field by field
//!
//! The file has one key, `policies`, a map from policy name to policy. A
//! name is 1 to 64 letters, digits, `-`, `_` or `.`, starting with a letter
//! or a digit; it is written on every backup the policy makes, so renaming
//! a policy starts it afresh. Every key below may also be written in
//! `snake_case` (`full_every`, `in_use`, …). Unknown keys are errors, each
//! naming the file, the line and the field.
//!
//! - `select` (required): which volumes. Each key given narrows the choice
//!   (a volume must match all of them):
//!   - `names`: volume names or ids. A name that matches no volume, or
//!     several, is reported as a failure of the run (nothing is backed up
//!     for it);
//!   - `name-glob` (alias `glob`): a glob on the volume name (`prod-*`,
//!     `db-[0-9]*`);
//!   - `metadata`: key/value pairs the volume's metadata must hold (the
//!     list is filtered by the server, and again here);
//!   - `all: true`: every volume (alone: not with the keys above);
//!   - `project: ID` or `all-projects: true` (administrators): the volumes
//!     of another project, or of every project. The backups are made by,
//!     and belong to, the caller's project (Cinder records a backup under
//!     the project of the token that made it);
//!   - `group: NAME` (alone): the volumes of a generic volume group,
//!     backed up together: when any of them is due, a run takes one group
//!     snapshot of them all and backs up every volume from its member
//!     snapshot ([`crate::group::backup_group`]), so that the policy's
//!     backups hold the volumes as they were at one point. They are
//!     incremental only when every volume's would be (else all are full),
//!     a volume over quota holds the whole group back, and `in-use` does
//!     not apply (the group snapshot takes attached volumes as they are).
//!     The group snapshot is deleted once every backup is made; one an
//!     interrupted run left (its description, `backup policy <name>`,
//!     names the policy) is deleted by the next run once no backup reads
//!     its members. All of the group's backups are made at once
//!     (`concurrency` does not apply), and `timeout` bounds each step of
//!     the group backup (the group snapshot, the backups, the members
//!     settling, the deletion) rather than the whole. The run reports the
//!     group snapshots in [`RunReport::group_snapshots`].
//! - `every` (required): a duration (`24h`, `90m`, `7d`, `1h 30m`;
//!   `m` is minutes here). A volume whose newest available backup made by
//!   this policy is younger than `every` less `slack` is skipped.
//! - `slack`: how much earlier than `every` a volume is due again, so that
//!   a nightly job whose runs start seconds apart still backs up every
//!   night (default: a tenth of `every`, so `every: 24h` takes a volume
//!   whose last backup is 21 h 36 min old or older). The report counts a
//!   volume as stale once its newest backup is older than `every` plus
//!   `slack`.
//! - `full-every`: an incremental chain is at most this many backups long,
//!   the full one included; then a full backup starts a new chain
//!   (default 1: full backups only). An incremental is made only when the
//!   backup Cinder would take as its parent (the volume's newest available
//!   backup, whoever made it) is this policy's own; otherwise a full one.
//! - `in-use`: what to do with a volume attached to a server:
//!   - `snapshot` (default): snapshot the volume (Cinder takes it while
//!     attached: from microversion 3.66 as it is, below with `force`),
//!     back up the snapshot (the volume stays `in-use` and usable), then
//!     delete the snapshot. The backup holds the volume as it was at one
//!     instant (crash-consistent), and no `--force` backup is needed;
//!   - `force`: a backup with `force: true`. Cinder copies the attached
//!     volume while it is written to (the backup service clones it, or
//!     reads it live, depending on the driver), and the volume shows
//!     `backing-up` for the duration;
//!   - `skip`: leave attached volumes alone (they become stale, and the
//!     report says so).
//! - `keep`: the retention rules of `osbackup backup prune`, applied after
//!   the run to this policy's own backups (each volume a group) and to
//!   nothing else: `last`, `hourly`, `daily`, `weekly`, `monthly`, `yearly`
//!   (numbers), `within` (restic's form, `2y5m7d3h`, where `m` is a
//!   month), `tags` (`KEY` or `KEY=VALUE` of backup properties),
//!   `utc-offset` (`+02:00`, for calendar periods). Absent: the policy
//!   deletes nothing. Present but empty: an error.
//! - `concurrency`: backups in flight at once (default 4).
//! - `timeout`: the longest a backup may take (default 6h); past it the run
//!   reports it as failed and stops waiting, and the next run picks it up.
//! - `poll-interval`: the longest pause between two looks at the backups in
//!   flight (default 10s; the first looks come sooner). One list call looks
//!   at every backup in flight, however many there are.
//! - `container`, `availability-zone`: passed to Cinder's backup create.
//! - `properties`: backup properties (metadata) to set, beside the marker.
//!
//! # What a policy marks, and microversions
//!
//! Every backup a policy makes carries the property
//! [`MARKER`]` = <policy name>` (backup metadata needs microversion 3.43),
//! and so does every temporary snapshot (with [`TEMPORARY`]` = true`).
//! Retention and reports look only at backups with the marker: a hand-made
//! backup is never deleted by a policy, nor does it count as protection.
//! Below 3.43 a backup cannot carry the marker, and the run is refused
//! before anything is sent ([`Error::MicroversionUnsupported`](crate::Error)).
//!
//! # Safe to run twice, safe to kill
//!
//! A run plans from what the cloud holds: a volume with a fresh backup of
//! the policy is skipped, one whose policy backup is still `creating`
//! (from a run that was killed) is waited for rather than backed up again,
//! and a temporary snapshot left behind (found by its marker) is deleted
//! once no backup in flight reads it. Two runs of one policy on one host
//! are kept apart by [`RunLock`]; across hosts, Cinder itself refuses a
//! second backup of a volume that is `backing-up`, and for snapshot-based
//! backups nothing stops two hosts (run a policy from one place).

mod file;
mod lock;
mod plan;
mod run;

pub use file::{PolicyFile, PolicyFileError};
pub use lock::{LockError, RunLock};
pub use plan::{
    Action, BackupView, Plan, Problem, Protection, Reason, Source, Standard, State, VolumePlan, VolumeView, age_text,
    assess, plan, prune_plans,
};
pub use run::{Event, EventFn, Outcome, PruneGroup, RunOptions, RunReport, VolumeOutcome, newest_message, report, run};

use std::collections::BTreeMap;
use std::time::Duration;

/// The backup (and temporary snapshot) property that names the policy that
/// made it.
pub const MARKER: &str = "osbackup-policy";

/// The snapshot property that marks a policy's temporary snapshot.
pub const TEMPORARY: &str = "osbackup-temporary";

/// One policy: which volumes, how often, how, and how long backups stay.
/// See the [module docs](self) for each field's meaning in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The policy's name (the [`MARKER`] value of its backups).
    pub name: String,
    /// Which volumes.
    pub select: Selection,
    /// How often a volume is backed up.
    pub every: Duration,
    /// How much earlier than `every` a volume is due.
    pub slack: Duration,
    /// The longest incremental chain, the full backup included (1: full
    /// backups only).
    pub full_every: u32,
    /// What to do with attached volumes.
    pub in_use: InUse,
    /// Retention of the policy's own backups (`None`: delete nothing).
    pub keep: Option<crate::retention::Policy>,
    /// Backups in flight at once.
    pub concurrency: usize,
    /// The longest a backup may take.
    pub timeout: Duration,
    /// The longest pause between two looks at the backups in flight.
    pub poll_interval: Duration,
    /// Cinder's `container` for the backups.
    pub container: Option<String>,
    /// Cinder's `availability_zone` for the backups.
    pub availability_zone: Option<String>,
    /// Backup properties to set (the marker is added).
    pub properties: BTreeMap<String, String>,
}

impl Policy {
    /// A policy with the file's defaults: full backups only, attached
    /// volumes through a snapshot, nothing deleted, 4 in flight, 6 hours
    /// per backup, looks at most every 10 seconds, `slack` a tenth of
    /// `every`.
    ///
    /// # Errors
    ///
    /// A name that is not 1 to 64 letters, digits, `-`, `_` or `.`
    /// (starting with a letter or digit), or an `every` of zero.
    pub fn new(name: &str, select: Selection, every: Duration) -> Result<Policy, String> {
        file::check_name(name)?;
        if every.is_zero() {
            return Err("every must be longer than zero".to_owned());
        }
        Ok(Policy {
            name: name.to_owned(),
            select,
            every,
            slack: every / 10,
            full_every: 1,
            in_use: InUse::Snapshot,
            keep: None,
            concurrency: 4,
            timeout: Duration::from_secs(6 * 3600),
            poll_interval: Duration::from_secs(10),
            container: None,
            availability_zone: None,
            properties: BTreeMap::new(),
        })
    }

    /// The standard its report holds volumes to: this policy's backups, no
    /// older than `every` plus `slack`.
    pub fn standard(&self) -> Standard {
        Standard { policy: Some(self.name.clone()), max_age: self.every + self.slack }
    }
}

/// What a policy does with a volume attached to a server (`in-use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InUse {
    /// Snapshot it, back up the snapshot, delete the snapshot.
    Snapshot,
    /// Back it up with `force: true`.
    Force,
    /// Leave it alone.
    Skip,
}

/// Whose volumes a selection looks at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Projects {
    /// The caller's project.
    #[default]
    Own,
    /// Another project (administrators).
    Project(String),
    /// Every project (administrators).
    All,
}

/// Which volumes a policy backs up: every criterion given must match.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Volume names or ids.
    pub names: Vec<String>,
    /// A glob on the volume name.
    pub name_glob: Option<NameGlob>,
    /// Metadata pairs the volume must hold.
    pub metadata: BTreeMap<String, String>,
    /// Every volume.
    pub all: bool,
    /// Whose volumes.
    pub projects: Projects,
    /// A generic volume group of the caller's project (name or id): its
    /// volumes, backed up together from one group snapshot. Alone: with
    /// it, the other criteria are empty.
    pub group: Option<String>,
}

impl PartialEq for Selection {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names
            && self.name_glob.as_ref().map(NameGlob::pattern) == other.name_glob.as_ref().map(NameGlob::pattern)
            && self.metadata == other.metadata
            && self.all == other.all
            && self.projects == other.projects
            && self.group == other.group
    }
}

impl Selection {
    /// Whether `volume` matches every criterion but `names` (which the
    /// planner resolves against the whole list, to report names that match
    /// no volume or several).
    pub fn matches_filters(&self, volume: &VolumeView) -> bool {
        let glob = self.name_glob.as_ref().is_none_or(|g| volume.name.as_deref().is_some_and(|n| g.is_match(n)));
        let metadata = self.metadata.iter().all(|(k, v)| volume.metadata(k) == Some(v.as_str()));
        glob && metadata
    }
}

/// A compiled `name-glob`.
#[derive(Debug, Clone)]
pub struct NameGlob {
    pattern: String,
    matcher: globset::GlobMatcher,
}

impl NameGlob {
    /// Compiles a glob (`*`, `?`, `[a-z]`, `{a,b}`).
    ///
    /// # Errors
    ///
    /// The glob's syntax error.
    pub fn new(pattern: &str) -> Result<NameGlob, String> {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .build()
            .map_err(|e| format!("not a glob: {e}"))?;
        Ok(NameGlob { pattern: pattern.to_owned(), matcher: glob.compile_matcher() })
    }

    /// The glob as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether `name` matches.
    pub fn is_match(&self, name: &str) -> bool {
        self.matcher.is_match(name)
    }
}
