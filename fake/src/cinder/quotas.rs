//! Limits and quota sets: Cinder's default quotas, the project's own
//! limits (set by an administrator), usage counted from what the project
//! holds, and the 413s of a create over quota.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Cinder, bad_request, forbidden};
use crate::{PROJECT, Reply, typed};
use openstack_backups::block_storage::types;

/// Cinder's configured defaults (`quota_volumes`, …), in the order Cinder
/// lists its quotas, and the one volume type's keys.
const DEFAULTS: &[(&str, i64)] = &[
    ("volumes", 10),
    ("snapshots", 10),
    ("gigabytes", 1000),
    ("backups", 10),
    ("backup_gigabytes", 1000),
    ("per_volume_gigabytes", -1),
    ("groups", 10),
    ("volumes___DEFAULT__", -1),
    ("gigabytes___DEFAULT__", -1),
    ("snapshots___DEFAULT__", -1),
];

/// A quota's effective limit for the project: its own, else the default
/// (every key asked for is one of [`DEFAULTS`]'s).
pub(super) fn limit(own: &BTreeMap<String, i64>, key: &str) -> i64 {
    own.get(key).copied().or_else(|| DEFAULTS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)).unwrap_or_default()
}

/// Whether `used + more` goes over `limit` (`-1`: unlimited).
fn over(limit: i64, used: i64, more: i64) -> bool {
    limit >= 0 && used + more > limit
}

/// A 413 `overLimit` with `Retry-After: 0`, as Cinder's quota refusals are.
fn over_limit(message: &str) -> Reply {
    let mut reply = Reply::fault(413, "overLimit", message).header("retry-after", "0");
    if let Some(Value::Object(fault)) = reply.body.as_mut().and_then(|b| b.get_mut("overLimit")) {
        fault.insert("retryAfter".into(), json!("0"));
    }
    reply
}

/// Reads `usage` as oslo's `bool_from_string` does (strict: anything else is a 400).
fn usage_flag(value: Option<&str>) -> Result<bool, Reply> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(false),
        Some("1" | "t" | "true" | "on" | "y" | "yes") => Ok(true),
        Some("0" | "f" | "false" | "off" | "n" | "no") => Ok(false),
        Some(_) => Err(bad_request(&format!("Value '{}' for 'usage' is not a boolean.", value.unwrap_or_default()))),
    }
}

impl Cinder {
    /// What the project uses of each quota.
    fn usage(&self) -> BTreeMap<&'static str, i64> {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let volume_gb: i64 = self.volumes.iter().filter_map(|v| v.size).sum();
        let backup_gb: i64 = self.backups.iter().filter_map(|b| b.shown.size).sum();
        BTreeMap::from([
            ("volumes", count(self.volumes.len())),
            ("snapshots", count(self.snapshots.len())),
            ("gigabytes", volume_gb + self.snapshots.iter().filter_map(|s| s.size).sum::<i64>()),
            ("backups", count(self.backups.len())),
            ("backup_gigabytes", backup_gb),
            ("volumes___DEFAULT__", count(self.volumes.len())),
            ("gigabytes___DEFAULT__", volume_gb + self.snapshots.iter().filter_map(|s| s.size).sum::<i64>()),
            ("snapshots___DEFAULT__", count(self.snapshots.len())),
        ])
    }

    /// The refusal of a new volume of `size` GiB over the `volumes` or
    /// `gigabytes` quota.
    pub(super) fn volume_quota(&self, size: i64) -> Result<(), Reply> {
        let used = self.usage();
        let volumes = limit(&self.quotas, "volumes");
        if over(volumes, used["volumes"], 1) {
            return Err(over_limit(&format!(
                "VolumeLimitExceeded: Maximum number of volumes allowed ({volumes}) exceeded for quota 'volumes'."
            )));
        }
        self.gigabytes_quota(size)
    }

    fn gigabytes_quota(&self, size: i64) -> Result<(), Reply> {
        let used = self.usage()["gigabytes"];
        let gigabytes = limit(&self.quotas, "gigabytes");
        if over(gigabytes, used, size) {
            return Err(over_limit(&format!(
                "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. \
                 Requested {size}G, quota is {gigabytes}G and {used}G has been consumed."
            )));
        }
        Ok(())
    }

    /// The refusal of a new snapshot of `size` GiB over the `snapshots` or
    /// `gigabytes` quota.
    pub(super) fn snapshot_quota(&self, size: i64) -> Result<(), Reply> {
        let snapshots = limit(&self.quotas, "snapshots");
        if over(snapshots, self.usage()["snapshots"], 1) {
            return Err(over_limit(&format!(
                "SnapshotLimitExceeded: Maximum number of snapshots allowed ({snapshots}) exceeded"
            )));
        }
        self.gigabytes_quota(size)
    }

    /// The refusal of a new backup of `size` GiB over the `backups` or
    /// `backup_gigabytes` quota.
    pub(super) fn backup_quota(&self, size: i64) -> Result<(), Reply> {
        let used = self.usage();
        let backups = limit(&self.quotas, "backups");
        if over(backups, used["backups"], 1) {
            return Err(over_limit(&format!(
                "BackupLimitExceeded: Maximum number of backups allowed ({backups}) exceeded"
            )));
        }
        let gigabytes = limit(&self.quotas, "backup_gigabytes");
        if over(gigabytes, used["backup_gigabytes"], size) {
            return Err(over_limit(&format!(
                "VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. \
                 Requested {size}G, quota is {gigabytes}G and {}G has been consumed.",
                used["backup_gigabytes"]
            )));
        }
        Ok(())
    }

    /// `GET /limits`: the five global quotas and their usage.
    pub(super) fn show_limits(&self) -> Reply {
        let used = self.usage();
        let body = json!({"limits": {"rate": [], "absolute": {
            "maxTotalVolumes": limit(&self.quotas, "volumes"),
            "maxTotalSnapshots": limit(&self.quotas, "snapshots"),
            "maxTotalVolumeGigabytes": limit(&self.quotas, "gigabytes"),
            "maxTotalBackups": limit(&self.quotas, "backups"),
            "maxTotalBackupGigabytes": limit(&self.quotas, "backup_gigabytes"),
            "totalVolumesUsed": used["volumes"],
            "totalGigabytesUsed": used["gigabytes"],
            "totalSnapshotsUsed": used["snapshots"],
            "totalBackupsUsed": used["backups"],
            "totalBackupGigabytesUsed": used["backup_gigabytes"],
        }}});
        typed::<types::LimitsResponse>(200, body)
    }

    /// `GET /os-quota-sets/{target}` (`usage`), and `…/defaults`. Another
    /// project's quotas are an administrator's; an unknown project has the
    /// defaults and no usage.
    pub(super) fn show_quota_set(
        &self,
        target: &str,
        admin: bool,
        usage: Option<&str>,
        defaults: bool,
    ) -> Result<Reply, Reply> {
        if target != PROJECT && !admin {
            return Err(forbidden("volume_extension:quotas:show"));
        }
        let with_usage = if defaults { false } else { usage_flag(usage)? };
        let none = BTreeMap::new();
        let own = if defaults || target != PROJECT { &none } else { &self.quotas };
        let used = if target == PROJECT { self.usage() } else { BTreeMap::new() };
        let mut set = serde_json::Map::new();
        set.insert("id".into(), json!(target));
        for (key, _) in DEFAULTS {
            let value = limit(own, key);
            let shown = if with_usage {
                json!({"limit": value, "in_use": used.get(key).copied().unwrap_or(0), "reserved": 0})
            } else {
                json!(value)
            };
            set.insert((*key).to_owned(), shown);
        }
        Ok(typed::<types::QuotaSetResponse>(200, json!({ "quota_set": set })))
    }

    /// `PUT /os-quota-sets/{target}` (administrators): every key checked,
    /// then written; the full set back, without `id`.
    pub(super) fn update_quota_set(&mut self, target: &str, admin: bool, body: &Value) -> Result<Reply, Reply> {
        if !admin {
            return Err(forbidden("volume_extension:quotas:update"));
        }
        let Some(set) = body["quota_set"].as_object().filter(|s| !s.is_empty()) else {
            return Err(bad_request(
                "Invalid input for field/attribute quota_set. Value: None. None is not of type 'object'",
            ));
        };
        let bad: Vec<&str> = set
            .keys()
            .map(String::as_str)
            .filter(|k| !DEFAULTS.iter().any(|(d, _)| d == k) && *k != "id" && *k != "tenant_id")
            .collect();
        if !bad.is_empty() {
            return Err(bad_request(&format!("Invalid input received: Bad key(s) in quota set: {}", bad.join(","))));
        }
        let mut values = Vec::new();
        for (key, value) in set.iter().filter(|(k, _)| *k != "id" && *k != "tenant_id") {
            let Some(v) = value.as_i64() else { return Err(bad_request(&format!("{key} must be an integer"))) };
            if v < -1 {
                return Err(bad_request(&format!("{key} must be >= -1")));
            }
            if v > 2_147_483_647 {
                return Err(bad_request(&format!("{key} must be <= 2147483647")));
            }
            values.push((key.clone(), v));
        }
        // Only the project's quotas are kept; another project's update is
        // accepted and shows its defaults after it (as for a project with
        // no usage).
        if target == PROJECT {
            let used = self.usage();
            for (key, v) in &values {
                let in_use = used.get(key.as_str()).copied().unwrap_or(0);
                if self.quotas.contains_key(key) && *v != -1 && key != "per_volume_gigabytes" && *v < in_use {
                    return Err(bad_request(&format!(
                        "Quota {key} limit must be equal or greater than existing resources. Current usage is \
                         {in_use} and the requested limit is {v}."
                    )));
                }
            }
            self.quotas.extend(values);
        }
        let own = if target == PROJECT { self.quotas.clone() } else { BTreeMap::new() };
        let set: serde_json::Map<String, Value> =
            DEFAULTS.iter().map(|(k, _)| ((*k).to_owned(), json!(limit(&own, k)))).collect();
        Ok(typed::<types::QuotaSetResponse>(200, json!({ "quota_set": set })))
    }

    /// `DELETE /os-quota-sets/{target}` (administrators): back to the defaults.
    pub(super) fn delete_quota_set(&mut self, target: &str, admin: bool) -> Result<Reply, Reply> {
        if !admin {
            return Err(forbidden("volume_extension:quotas:delete"));
        }
        if target == PROJECT {
            self.quotas.clear();
        }
        Ok(Reply::empty(200))
    }
}
