//! Consistent backups of a generic volume group: one group snapshot of all
//! its volumes, a backup of each volume from its member snapshot, then the
//! group snapshot deleted.
//!
//! A database on several volumes (data, log, WAL) needs its volumes copied
//! at one point; backing them up one after the other copies each at a
//! different moment. Cinder's group snapshot (`createGroupSnapshot`, 3.14)
//! snapshots every volume of a generic volume group together, and a backup
//! can be made of a snapshot (`createBackup` with `snapshot_id`), so the
//! backups of one [`backup_group`] call hold the group's volumes as they
//! were at one point. With a volume driver that has no group support of
//! its own, Cinder takes the member snapshots one after the other (its
//! "generic" group code), so they are not crash-consistent across volumes;
//! quiesce the application for the moment of the group snapshot there.
//!
//! ```no_run
//! # async fn example(session: openstack_backups::Session) -> Result<(), Box<dyn std::error::Error>> {
//! use openstack_backups::group::{GroupBackupOptions, backup_group};
//!
//! let cinder = session.block_storage().await?;
//! let done = backup_group(&cinder, "db", &GroupBackupOptions::default()).await?;
//! for member in &done.members {
//!     match &member.outcome {
//!         Ok(backup) => println!("{}: backup {} {}", member.volume_id, backup.id, backup.status),
//!         Err(e) => println!("{}: failed: {e}", member.volume_id),
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use futures_util::TryStreamExt;
use futures_util::future::join_all;

use crate::block_storage::{Client, types};
use crate::clock::{Clock, SystemClock};
use crate::wait::Waiter;
use crate::{Error, ErrorKind};

/// How to back up a group.
#[derive(Debug, Clone, Default)]
pub struct GroupBackupOptions {
    /// The name of the group snapshot, of its member snapshots (Cinder
    /// copies it) and of every backup. Default: `<group name or id>-<UTC
    /// time as YYYYMMDDTHHMMSSZ>`.
    pub name: Option<String>,
    /// The description of the group snapshot and of every backup.
    pub description: Option<String>,
    /// Make each backup incremental on its volume's latest backup. A
    /// volume without a full backup is refused by Cinder (400 "No backups
    /// available to do an incremental backup."): that member fails, the
    /// others go on.
    pub incremental: bool,
    /// How to wait for the group snapshot, the backups and the deletion
    /// (timeouts in seconds of wall time; [`Waiter::default`]: 30 minutes).
    pub waiter: Waiter,
    /// Backup properties (metadata, 3.43) to set on every backup, beside
    /// `group_id` and `group_snapshot_id` (which the call sets, over
    /// properties of those names). Below 3.43 they are refused before
    /// sending (each backup fails).
    pub properties: BTreeMap<String, String>,
    /// Cinder's `container` for the backups.
    pub container: Option<String>,
    /// Cinder's `availability_zone` for the backups.
    pub availability_zone: Option<String>,
}

/// One volume's part of a group backup.
#[derive(Debug)]
pub struct MemberBackup {
    /// The member volume.
    pub volume_id: String,
    /// Its snapshot in the group snapshot.
    pub snapshot_id: String,
    /// The backup, `available`; or why there is none (Cinder's refusal,
    /// the backup's `error` with its `fail_reason`, a timeout).
    pub outcome: Result<types::Backup, Error>,
}

/// What [`backup_group`] did.
#[derive(Debug)]
pub struct GroupBackup {
    /// The group, as it was found.
    pub group: types::Group,
    /// The group snapshot the backups were made from (`available` when it
    /// was read).
    pub group_snapshot: types::GroupSnapshot,
    /// One entry per member snapshot, in the order of the volumes' ids.
    pub members: Vec<MemberBackup>,
    /// Volumes the group lists (from 3.25) that have no member snapshot in
    /// the group snapshot (added to the group meanwhile): not backed up.
    pub missing: Vec<String>,
    /// Whether the group snapshot (with its member snapshots) is gone:
    /// `Err` says why it was left (a backup that may still be reading a
    /// member would lose its source, or the deletion failed).
    pub cleanup: Result<(), LeftBehind>,
}

impl GroupBackup {
    /// Whether every volume has its backup and nothing was left behind.
    pub fn succeeded(&self) -> bool {
        self.members.iter().all(|m| m.outcome.is_ok()) && self.missing.is_empty() && self.cleanup.is_ok()
    }
}

/// A group snapshot [`backup_group`] made and could not delete.
#[derive(Debug)]
pub struct LeftBehind {
    /// The group snapshot's id: delete it with `deleteGroupSnapshot` once
    /// nothing reads its members.
    pub group_snapshot_id: String,
    /// Why it was left.
    pub reason: String,
}

impl fmt::Display for LeftBehind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "group snapshot {} was left behind: {}", self.group_snapshot_id, self.reason)
    }
}

/// Why [`backup_group`] made no backup.
#[derive(Debug)]
#[non_exhaustive]
pub enum GroupBackupError {
    /// No backup was made: the group was not found (or the name is
    /// ambiguous), or the group snapshot's create failed (a microversion
    /// below 3.14 is refused before sending). When that create's answer was
    /// lost after sending ([`Error::kind`] `Transport` or `Timeout`), Cinder
    /// may have made the group snapshot all the same: look for it by name.
    NotStarted(Error),
    /// Nothing was made: the group has no volumes (seen from 3.25, where
    /// `showGroup` lists them), so its group snapshot would be empty.
    EmptyGroup {
        /// The group's id.
        group_id: String,
    },
    /// The group snapshot was made but did not become `available` (it went
    /// to `error`, or the wait timed out), or its members could not be
    /// listed. `cleanup` says whether it was deleted again.
    GroupSnapshot {
        /// The group snapshot's id.
        id: String,
        /// What went wrong.
        error: Error,
        /// Whether it is gone again.
        cleanup: Result<(), LeftBehind>,
    },
    /// The group snapshot has no member snapshots (an empty group, below
    /// 3.25). `cleanup` says whether it was deleted again.
    NoMembers {
        /// The group snapshot's id.
        id: String,
        /// Whether it is gone again.
        cleanup: Result<(), LeftBehind>,
    },
}

impl fmt::Display for GroupBackupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gone = |f: &mut fmt::Formatter<'_>, cleanup: &Result<(), LeftBehind>| match cleanup {
            Ok(()) => f.write_str("it was deleted again, and no backup was made"),
            Err(left) => write!(f, "no backup was made, and {left}"),
        };
        match self {
            GroupBackupError::NotStarted(e) => write!(f, "nothing was made: {e}"),
            GroupBackupError::EmptyGroup { group_id } => {
                write!(f, "nothing was made: group {group_id} has no volumes")
            }
            GroupBackupError::GroupSnapshot { id, error, cleanup } => {
                write!(f, "group snapshot {id} failed: {error}; ")?;
                gone(f, cleanup)
            }
            GroupBackupError::NoMembers { id, cleanup } => {
                write!(f, "group snapshot {id} has no member snapshots (the group has no volumes); ")?;
                gone(f, cleanup)
            }
        }
    }
}

impl std::error::Error for GroupBackupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GroupBackupError::NotStarted(e) | GroupBackupError::GroupSnapshot { error: e, .. } => Some(e),
            GroupBackupError::EmptyGroup { .. } | GroupBackupError::NoMembers { .. } => None,
        }
    }
}

/// Backs up every volume of the group `group` (an id, or a unique name)
/// from one group snapshot, then deletes the group snapshot.
///
/// The steps: find the group (`showGroup`, else `listGroupsDetail` by
/// name); refuse an empty group when the microversion shows its volumes
/// (3.25, `list_volume`); `createGroupSnapshot` and wait for `available`;
/// find its member snapshots (`listSnapshotsDetail` by name, those whose
/// `group_snapshot_id` is the group snapshot's); `createBackup` of each
/// member volume from its snapshot (with `metadata` `group_id` and
/// `group_snapshot_id` from 3.43, so the set can be found again); wait
/// for every backup; wait for each member snapshot to be `available` again
/// (a member still `backing-up` keeps the group snapshot);
/// `deleteGroupSnapshot` and wait until it is gone. Cinder's delete checks
/// only the group snapshot's own status and would delete a member under a
/// running backup, so the group snapshot is kept (and said to be left
/// behind) unless every backup is known to be done with its member: made
/// and `available`, failed (`error`), or refused by Cinder with a 4xx (or
/// before sending). A wait that timed out, or could not read the backup,
/// or a create whose answer was lost, keeps it.
///
/// # Errors
///
/// [`GroupBackupError`] when no backup was made. Once the backups are
/// started, each member's failure is in its [`MemberBackup::outcome`] and
/// the call returns `Ok`: check [`GroupBackup::succeeded`].
pub async fn backup_group(
    cinder: &Client,
    group: &str,
    options: &GroupBackupOptions,
) -> Result<GroupBackup, GroupBackupError> {
    let found = cinder.find_group(group).await.map_err(GroupBackupError::NotStarted)?;
    let list_volume = cinder.microversion().is_none_or(|v| v >= crate::Microversion::new(3, 25));
    let group = if list_volume {
        let shown = cinder.show_group().group_id(&found.id).list_volume(true).send().await;
        let shown = shown.map_err(GroupBackupError::NotStarted)?.into_inner().group;
        if shown.volumes.is_empty() {
            return Err(GroupBackupError::EmptyGroup { group_id: shown.id });
        }
        shown
    } else {
        found
    };
    let name = options.name.clone().unwrap_or_else(|| {
        let who = group.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&group.id);
        format!("{who}-{}", SystemClock.now().format("%Y%m%dT%H%M%SZ"))
    });

    let create = types::GroupSnapshotCreate {
        group_id: group.id.clone(),
        name: Some(name.clone()),
        description: options.description.clone(),
    };
    let made = cinder
        .create_group_snapshot()
        .body(types::GroupSnapshotCreateRequest { group_snapshot: create })
        .send()
        .await
        .map_err(GroupBackupError::NotStarted)?
        .into_inner()
        .group_snapshot;
    let waited =
        cinder.wait_for_group_snapshot(&made.id, types::GroupSnapshotStatus::Available).with(&options.waiter).await;
    let group_snapshot = match waited {
        Ok(gs) => gs,
        Err(error) => {
            // A timeout leaves it to Cinder: it may still become available.
            let cleanup = if error.kind() == ErrorKind::WaitTimedOut {
                Err(LeftBehind { group_snapshot_id: made.id.clone(), reason: "it was still being made".into() })
            } else {
                delete_group_snapshot(cinder, &made.id, &options.waiter).await
            };
            return Err(GroupBackupError::GroupSnapshot { id: made.id, error, cleanup });
        }
    };
    let members = match member_snapshots(cinder, &group_snapshot.id, &name).await {
        Ok(members) if !members.is_empty() => members,
        Ok(_) => {
            let cleanup = delete_group_snapshot(cinder, &group_snapshot.id, &options.waiter).await;
            return Err(GroupBackupError::NoMembers { id: group_snapshot.id, cleanup });
        }
        Err(error) => {
            let cleanup = delete_group_snapshot(cinder, &group_snapshot.id, &options.waiter).await;
            return Err(GroupBackupError::GroupSnapshot { id: group_snapshot.id, error, cleanup });
        }
    };

    let tagged = cinder.microversion().is_none_or(|v| v >= crate::Microversion::new(3, 43));
    let mut started = Vec::new();
    for snapshot in &members {
        let mut metadata = options.properties.clone();
        if tagged {
            metadata.insert("group_id".to_owned(), group.id.clone());
            metadata.insert("group_snapshot_id".to_owned(), group_snapshot.id.clone());
        }
        let body = types::BackupCreate {
            volume_id: snapshot.volume_id.clone(),
            snapshot_id: Some(snapshot.id.clone()),
            name: Some(name.clone()),
            description: options.description.clone(),
            incremental: options.incremental.then_some(true),
            metadata: (!metadata.is_empty()).then_some(metadata),
            availability_zone: options.availability_zone.clone(),
            container: options.container.clone(),
            force: None,
        };
        let sent = cinder.create_backup().body(types::BackupCreateRequest { backup: body }).send().await;
        started.push(sent.map(|made| made.into_inner().backup.id));
    }
    let outcomes = join_all(started.into_iter().map(|made| async move {
        let id = made?;
        cinder.wait_for_backup(&id, types::BackupStatus::Available).with(&options.waiter).await
    }))
    .await;
    let members: Vec<MemberBackup> = members
        .into_iter()
        .zip(outcomes)
        .map(|(s, outcome)| MemberBackup { volume_id: s.volume_id, snapshot_id: s.id, outcome })
        .collect();

    let missing: Vec<String> = if list_volume {
        group.volumes.iter().filter(|v| !members.iter().any(|m| m.volume_id == **v)).cloned().collect()
    } else {
        Vec::new()
    };

    let unsure: Vec<&str> =
        members.iter().filter(|m| !done_reading(&m.outcome)).map(|m| m.volume_id.as_str()).collect();
    let cleanup = if !unsure.is_empty() {
        Err(LeftBehind {
            group_snapshot_id: group_snapshot.id.clone(),
            reason: format!("a backup may still be reading a member snapshot (volumes {})", unsure.join(", ")),
        })
    } else {
        let busy = busy_members(cinder, &members, &options.waiter).await;
        if busy.is_empty() {
            delete_group_snapshot(cinder, &group_snapshot.id, &options.waiter).await
        } else {
            Err(LeftBehind {
                group_snapshot_id: group_snapshot.id.clone(),
                reason: format!("member snapshots did not come back from being read ({})", busy.join(", ")),
            })
        }
    };
    Ok(GroupBackup { group, group_snapshot, members, missing, cleanup })
}

/// Whether a member's backup is known to be done with its snapshot: made
/// and `available`, failed (the waiter saw `error`), or never started
/// (refused with a 4xx, or before sending). Anything else (a timeout, a
/// wait that could not read the backup, a create whose answer was lost)
/// may still be reading it.
fn done_reading(outcome: &Result<types::Backup, Error>) -> bool {
    match outcome {
        Ok(_) => true,
        Err(e) => match e.kind() {
            ErrorKind::WaitFailed
            | ErrorKind::MicroversionUnsupported
            | ErrorKind::InvalidRequest
            | ErrorKind::Configuration => true,
            ErrorKind::Server => e.status().is_some_and(|s| s.is_client_error()),
            _ => false,
        },
    }
}

/// The member snapshots of a group snapshot, by the volume's id. Members
/// carry the group snapshot's name, which non-administrators may filter on.
async fn member_snapshots(cinder: &Client, group_snapshot: &str, name: &str) -> Result<Vec<types::Snapshot>, Error> {
    let named: Vec<types::Snapshot> = cinder.list_snapshots_detail().name(name).stream().try_collect().await?;
    let mut members: Vec<types::Snapshot> =
        named.into_iter().filter(|s| s.group_snapshot_id.as_deref() == Some(group_snapshot)).collect();
    members.sort_by(|a, b| a.volume_id.cmp(&b.volume_id));
    Ok(members)
}

/// Waits, for all members at once, until each member snapshot is
/// `available` again; returns those that did not get there (still
/// `backing-up` at the timeout, or unreadable). One in `error`, or gone, is
/// read by nothing.
async fn busy_members(cinder: &Client, members: &[MemberBackup], waiter: &Waiter) -> Vec<String> {
    let looks = join_all(members.iter().map(|m| async move {
        let seen = cinder.wait_for_snapshot(&m.snapshot_id, types::SnapshotStatus::Available).with(waiter).await;
        match seen {
            Ok(_) => None,
            Err(e) if e.kind() == ErrorKind::WaitFailed || e.is_not_found() => None,
            Err(_) => Some(m.snapshot_id.clone()),
        }
    }))
    .await;
    looks.into_iter().flatten().collect()
}

/// Deletes a group snapshot (and so its members) and waits until it is
/// gone.
pub(crate) async fn delete_group_snapshot(cinder: &Client, id: &str, waiter: &Waiter) -> Result<(), LeftBehind> {
    let left = |e: Error| LeftBehind { group_snapshot_id: id.to_owned(), reason: e.to_string() };
    match cinder.delete_group_snapshot().group_snapshot_id(id).send().await {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(left(e)),
    }
    cinder.wait_for_group_snapshot_deleted(id).with(waiter).await.map_err(left)
}
