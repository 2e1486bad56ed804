//! Room left for backups under the project's quotas, read from Cinder's
//! `showLimits` (`GET /limits`): how many more backups, and how many more
//! GiB of backups, the project may make before the server answers 413
//! `overLimit`.
//!
//! ```no_run
//! # async fn example(session: openstack_backups::Session) -> Result<(), openstack_backups::Error> {
//! let room = session.backup_headroom().await?;
//! match room.fits(1, 40) {
//!     Some(true) => println!("a 40 GiB backup fits"),
//!     Some(false) => println!("over quota: {room}"),
//!     None => println!("the cloud does not report usage to this user"),
//! }
//! # Ok(()) }
//! ```
//!
//! The numbers are a snapshot: backups made or deleted meanwhile, and
//! amounts reserved by backups still being created (which `showLimits` does
//! not count), change them. A backup's size in GiB is its volume's size.

use std::fmt;

use crate::block_storage::types::AbsoluteLimits;

/// How much of one quota is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remaining {
    /// The quota is `-1`: no limit.
    Unlimited,
    /// This much is left (0 when usage has reached or passed the limit).
    Left(u64),
    /// The server did not report the usage (policy
    /// `limits_extension:used_limits` hides it from this user), or not the
    /// limit.
    Unknown,
}

impl fmt::Display for Remaining {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remaining::Unlimited => f.write_str("unlimited"),
            Remaining::Left(n) => write!(f, "{n}"),
            Remaining::Unknown => f.write_str("unknown"),
        }
    }
}

/// One quota and its usage as `showLimits` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    /// The limit; `None` when it is `-1` (unlimited) or not reported.
    pub limit: Option<u64>,
    /// Whether the server reported the limit at all.
    pub limit_reported: bool,
    /// The usage (`in_use`; reservations are not included); `None` when
    /// not reported.
    pub used: Option<u64>,
}

impl Allowance {
    /// Reads a `max*` and a `total*Used` value of the absolute limits.
    fn from_values(max: Option<i64>, used: Option<i64>) -> Allowance {
        Allowance {
            limit: max.and_then(|m| u64::try_from(m).ok()),
            limit_reported: max.is_some(),
            used: used.map(|u| u64::try_from(u).unwrap_or(0)),
        }
    }

    /// What is left of the quota.
    pub fn remaining(&self) -> Remaining {
        match (self.limit_reported, self.limit, self.used) {
            (false, _, _) => Remaining::Unknown,
            (true, None, _) => Remaining::Unlimited,
            (true, Some(limit), Some(used)) => Remaining::Left(limit.saturating_sub(used)),
            (true, Some(_), None) => Remaining::Unknown,
        }
    }

    /// Whether `amount` more fits: `None` when the usage is unknown.
    pub fn fits(&self, amount: u64) -> Option<bool> {
        match self.remaining() {
            Remaining::Unlimited => Some(true),
            Remaining::Left(left) => Some(amount <= left),
            Remaining::Unknown => None,
        }
    }
}

/// The room left for backups: their count and their GiB (the `backups` and
/// `backup_gigabytes` quotas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupHeadroom {
    /// The `backups` quota: a number of backups.
    pub backups: Allowance,
    /// The `backup_gigabytes` quota, in GiB.
    pub gigabytes: Allowance,
}

impl BackupHeadroom {
    /// Reads the backup quotas out of `showLimits`' absolute limits.
    pub fn from_limits(absolute: &AbsoluteLimits) -> BackupHeadroom {
        BackupHeadroom {
            backups: Allowance::from_values(absolute.max_total_backups, absolute.total_backups_used),
            gigabytes: Allowance::from_values(
                absolute.max_total_backup_gigabytes,
                absolute.total_backup_gigabytes_used,
            ),
        }
    }

    /// Asks the block-storage service (`showLimits`) for the room left.
    ///
    /// # Errors
    ///
    /// Those of `showLimits`: transport, authentication and server errors.
    pub async fn of(client: &crate::block_storage::Client) -> Result<BackupHeadroom, crate::Error> {
        let limits = client.show_limits().send().await?.into_inner().limits;
        Ok(BackupHeadroom::from_limits(&limits.absolute))
    }

    /// Whether `count` more backups totalling `gib` GiB fit both quotas:
    /// `None` when a quota that limits them has unknown usage.
    pub fn fits(&self, count: u64, gib: u64) -> Option<bool> {
        match (self.backups.fits(count), self.gigabytes.fits(gib)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        }
    }
}

impl fmt::Display for BackupHeadroom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} more backups, {} more GiB", self.backups.remaining(), self.gigabytes.remaining())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_backups: i64, used: Option<i64>, max_gib: i64, used_gib: Option<i64>) -> AbsoluteLimits {
        AbsoluteLimits {
            max_total_backups: Some(max_backups),
            total_backups_used: used,
            max_total_backup_gigabytes: Some(max_gib),
            total_backup_gigabytes_used: used_gib,
            ..Default::default()
        }
    }

    #[test]
    fn remaining_and_fits() {
        let room = BackupHeadroom::from_limits(&limits(5, Some(1), 20, Some(1)));
        assert_eq!(room.backups.remaining(), Remaining::Left(4));
        assert_eq!(room.gigabytes.remaining(), Remaining::Left(19));
        assert_eq!(room.fits(4, 19), Some(true));
        assert_eq!(room.fits(5, 1), Some(false));
        assert_eq!(room.fits(1, 20), Some(false));
        assert_eq!(room.to_string(), "4 more backups, 19 more GiB");
    }

    #[test]
    fn unlimited_unknown_and_over_quota() {
        let room = BackupHeadroom::from_limits(&limits(-1, Some(7), -1, None));
        assert_eq!(room.backups.remaining(), Remaining::Unlimited);
        assert_eq!(room.gigabytes.remaining(), Remaining::Unlimited);
        assert_eq!(room.fits(1000, 1_000_000), Some(true));

        // A limit lowered below the usage leaves nothing, not a negative.
        let room = BackupHeadroom::from_limits(&limits(2, Some(3), 10, None));
        assert_eq!(room.backups.remaining(), Remaining::Left(0));
        assert_eq!(room.gigabytes.remaining(), Remaining::Unknown);
        assert_eq!(room.fits(1, 1), Some(false), "the count alone refuses it");
        let room = BackupHeadroom::from_limits(&limits(5, Some(0), 10, None));
        assert_eq!(room.fits(1, 1), None);
        assert_eq!(BackupHeadroom::from_limits(&AbsoluteLimits::default()).backups.remaining(), Remaining::Unknown);
    }
}
