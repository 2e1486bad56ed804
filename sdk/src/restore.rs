//! Restoring a database (Trove) backup into a new instance: the backup
//! found by name or id, the new instance's datastore and volume size taken
//! from it unless given, and Trove's `restoreDatabaseBackup` sent.
//!
//! Trove answers at once with the instance in `BUILD`; it then builds the
//! instance and restores the backup's whole chain in the guest (an
//! incremental backup brings its parents). Wait for it with the generated
//! waiter, for up to an hour (Trove's own limit for a restore):
//!
//! ```no_run
//! # async fn example(session: openstack_backups::Session) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use openstack_backups::database::types::InstanceStatus;
//! use openstack_backups::restore::{RestoreOptions, restore_database_backup};
//! use openstack_backups::wait::Waiter;
//!
//! let trove = session.database().await?;
//! let options = RestoreOptions::new("orders-restored", "2");
//! let restored = restore_database_backup(&trove, "orders-nightly", &options).await?;
//! let ready = trove
//!     .wait_for_instance(&restored.instance.id, InstanceStatus::Active)
//!     .with(&Waiter::new().timeout(Duration::from_secs(3600)))
//!     .await?;
//! println!("{} is {}", ready.id, ready.status);
//! # Ok(()) }
//! ```

use std::fmt;
use std::num::NonZeroU64;

use crate::Error;
use crate::database::{Client, types};

/// What the new instance is to be. [`RestoreOptions::new`] takes the two
/// things Trove cannot guess; the rest defaults from the backup.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RestoreOptions {
    /// The new instance's name (1 to 255 characters, with a letter or digit).
    pub name: String,
    /// The compute flavor's id.
    pub flavor: String,
    /// The volume's size in GB. Default: the backup's size rounded up to
    /// a whole GB (at least 1). Trove refuses a volume smaller than the
    /// backup (403) and one above the operator's maximum (413; 10 GB by
    /// default).
    pub size: Option<NonZeroU64>,
    /// A volume type, when the datastore version names the ones it allows.
    pub volume_type: Option<String>,
    /// The datastore's name. Default: the backup's (Trove refuses any other
    /// with 400).
    pub datastore: Option<String>,
    /// The datastore version's name. Default: the backup's version when the
    /// datastore is the backup's, else the datastore's default version.
    pub datastore_version: Option<String>,
    /// The network to attach (one at most, as Trove allows): its id, and
    /// optionally a subnet of it and a fixed IPv4 address.
    pub nic: Option<types::InstanceNic>,
    /// The availability zone.
    pub availability_zone: Option<String>,
}

impl RestoreOptions {
    /// A restore into an instance named `name` on flavor `flavor` (its id),
    /// everything else from the backup.
    pub fn new(name: impl Into<String>, flavor: impl Into<String>) -> Self {
        RestoreOptions {
            name: name.into(),
            flavor: flavor.into(),
            size: None,
            volume_type: None,
            datastore: None,
            datastore_version: None,
            nic: None,
            availability_zone: None,
        }
    }
}

/// A restore Trove accepted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Restored {
    /// The backup, as it was found.
    pub backup: types::Backup,
    /// The new instance, as Trove answered (`BUILD`).
    pub instance: types::Instance,
}

/// Why a restore did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum RestoreError {
    /// The backup could not be found (unknown, ambiguous name) or read.
    Backup(Error),
    /// No size was given and the backup has none to go by (Trove writes it
    /// when the backup is `COMPLETED`): nothing was sent.
    NoSize {
        /// The backup's id.
        backup: String,
        /// Its status.
        status: types::BackupStatus,
    },
    /// A datastore version was given, but no datastore, and the backup
    /// names none (Trove's request needs the datastore with its version):
    /// nothing was sent.
    NoDatastore {
        /// The backup's id.
        backup: String,
    },
    /// Trove refused the restore (see `restoreDatabaseBackup` in the spec
    /// for its checks and their statuses), or its answer was lost. In the
    /// last case ([`Error::kind`] `Transport` or `Timeout`) the instance
    /// may exist all the same: look for it by name before trying again.
    Restore(Error),
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::Backup(e) => write!(f, "the backup to restore: {e}"),
            RestoreError::NoSize { backup, status } => write!(
                f,
                "database backup {backup} has no size yet (it is {status}), so the new volume's cannot be worked out: give one"
            ),
            RestoreError::NoDatastore { backup } => write!(
                f,
                "database backup {backup} names no datastore, so the datastore version given needs a datastore: give one"
            ),
            RestoreError::Restore(e) => write!(f, "the restore: {e}"),
        }
    }
}

impl std::error::Error for RestoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RestoreError::Backup(e) | RestoreError::Restore(e) => Some(e),
            RestoreError::NoSize { .. } | RestoreError::NoDatastore { .. } => None,
        }
    }
}

/// The smallest whole number of GB that holds `size` GB (at least 1); none
/// for a size that is negative or not a finite number.
pub fn volume_size_for(size: f64) -> Option<NonZeroU64> {
    if !size.is_finite() || size < 0.0 {
        return None;
    }
    // `as` saturates; a backup of 2^64 GB does not exist.
    NonZeroU64::new((size.ceil() as u64).max(1))
}

/// The request a restore of `backup` with `options` sends: the
/// datastore and size filled in from the backup where `options` leaves
/// them out.
///
/// # Errors
///
/// [`RestoreError::NoSize`] when neither `options.size` nor the backup's
/// size is known; [`RestoreError::NoDatastore`] when a datastore version is
/// given without a datastore and the backup names none.
pub fn restore_request(
    backup: &types::Backup,
    options: &RestoreOptions,
) -> Result<types::InstanceRestoreRequest, RestoreError> {
    let size = match options.size {
        Some(size) => size,
        None => backup
            .size
            .and_then(volume_size_for)
            .ok_or_else(|| RestoreError::NoSize { backup: backup.id.clone(), status: backup.status.clone() })?,
    };
    let from_backup = backup.datastore.as_ref();
    let datastore = options.datastore.clone().or_else(|| from_backup.and_then(|d| d.type_.clone()));
    let same_datastore = datastore.is_some() && datastore == from_backup.and_then(|d| d.type_.clone());
    let version = options
        .datastore_version
        .clone()
        .or_else(|| if same_datastore { from_backup.and_then(|d| d.version.clone()) } else { None });
    if datastore.is_none() && version.is_some() {
        return Err(RestoreError::NoDatastore { backup: backup.id.clone() });
    }
    Ok(types::InstanceRestoreRequest {
        instance: types::InstanceRestore {
            name: options.name.clone(),
            flavor_ref: options.flavor.clone(),
            volume: Some(types::InstanceVolumeRequest { size, type_: options.volume_type.clone() }),
            datastore: datastore.map(|type_| types::DatastoreRequest { type_, version }),
            restore_point: types::RestorePoint { backup_ref: backup.id.clone() },
            nics: options.nic.clone().map(|nic| vec![nic]),
            availability_zone: options.availability_zone.clone(),
        },
    })
}

/// Restores database backup `backup` (a name or an id) into a new
/// instance: finds the backup (`showDatabaseBackup`, else a search of
/// `listDatabaseBackups` by name), builds the request with
/// [`restore_request`], and sends `restoreDatabaseBackup` once (a POST is
/// never retried). Returns when Trove has accepted it; the instance is then
/// in `BUILD`: wait with `wait_for_instance`.
///
/// # Errors
///
/// [`RestoreError::Backup`] when the backup cannot be found or read,
/// [`RestoreError::NoSize`] and [`RestoreError::NoDatastore`] when the
/// request cannot be made, and
/// [`RestoreError::Restore`] when Trove refuses the restore (its status
/// says which check: 400, 403, 404, 409, 413) or the answer is lost.
pub async fn restore_database_backup(
    trove: &Client,
    backup: &str,
    options: &RestoreOptions,
) -> Result<Restored, RestoreError> {
    let backup = trove.find_backup(backup).await.map_err(RestoreError::Backup)?;
    let request = restore_request(&backup, options)?;
    let made = trove.restore_database_backup().body(request).send().await.map_err(RestoreError::Restore)?;
    Ok(Restored { backup, instance: made.into_inner().instance })
}
