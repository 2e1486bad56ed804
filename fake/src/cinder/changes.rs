//! Changes to what exists: backup and snapshot updates, snapshot metadata,
//! the administrators' actions (reset status, force delete, unmanage),
//! backup export and import, and a volume's revert to its latest snapshot
//! (3.40).

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{Backup, Cinder, DELETE, Event, RESTORE, bad_request, forbidden, links, not_found};
use crate::{Reply, typed};
use openstack_backups::block_storage::types;

/// The backup driver the fake's records name.
const BACKUP_SERVICE: &str = "cinder.backup.drivers.posix.PosixBackupDriver";

/// The operation of a `…/action` call: the action named by the body's one
/// key (`os-reset_status` on a backup is `reset_backup_status`), else the
/// endpoint's own name (then refused as an unknown action).
pub(super) fn action(kind: &str, body: &Value) -> &'static str {
    let key = body.as_object().and_then(|o| o.keys().next()).map_or("", String::as_str);
    match (kind, key) {
        ("backup", "os-reset_status") => "reset_backup_status",
        ("backup", "os-force_delete") => "force_delete_backup",
        ("backup", _) => "backup_action",
        ("snapshot", "os-reset_status") => "reset_snapshot_status",
        ("snapshot", "os-force_delete") => "force_delete_snapshot",
        ("snapshot", "os-update_snapshot_status") => "update_snapshot_status",
        ("snapshot", "os-unmanage") => "unmanage_snapshot",
        ("snapshot", _) => "snapshot_action",
        (_, "revert") => "revert_volume_to_snapshot",
        _ => "volume_action",
    }
}

/// Cinder's metadata key rule for the metadata routes (no `/`, unlike a
/// create's metadata): 1 to 255 of letters, digits, `-_:. `.
fn metadata(value: &Value, field: &str) -> Result<Map<String, Value>, Reply> {
    let Some(map) = value.as_object() else {
        return Err(bad_request(&format!(
            "Invalid input for field/attribute {field}. Value: {value}. {value} is not of type 'object'"
        )));
    };
    for (k, v) in map {
        let key_ok =
            (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:. ".contains(&b));
        if !key_ok {
            return Err(bad_request(&format!(
                "Invalid input for field/attribute {field}. Value: {value}. '{k}' does not match any of the regexes"
            )));
        }
        if v.as_str().is_none_or(|s| s.len() > 255) {
            return Err(bad_request(&format!(
                "Invalid input for field/attribute {k}. Value: {v}. {v} is not of type 'string'"
            )));
        }
    }
    Ok(map.clone())
}

impl Cinder {
    /// `PUT /backups/{id}` (3.9): name, description, and from 3.43 the
    /// whole metadata; the summary back.
    pub(super) fn update_backup(
        &mut self,
        id: &str,
        body: &Value,
        version: (u16, u16),
        base: &str,
    ) -> Result<Reply, Reply> {
        let request = &body["backup"];
        let allowed: &[&str] =
            if version >= (3, 43) { &["name", "description", "metadata"] } else { &["name", "description"] };
        if let Some(extra) = request.as_object().and_then(|o| o.keys().find(|k| !allowed.contains(&k.as_str()))) {
            return Err(bad_request(&format!(
                "Invalid input for field/attribute backup. Value: {request}. Additional properties are not allowed ('{extra}' was unexpected)"
            )));
        }
        let replaced = match request.get("metadata") {
            Some(m) => Some(metadata(m, "metadata")?),
            None => None,
        };
        let b = self.backup(id).ok_or_else(|| not_found("Backup", id))?;
        if let Some(name) = request.get("name") {
            b.shown.name = name.as_str().map(|n| n.trim().to_owned());
        }
        if let Some(description) = request.get("description") {
            b.shown.description = description.as_str().map(|d| d.trim().to_owned());
        }
        if let Some(m) = replaced {
            b.shown.metadata = m.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_owned()))).collect();
        }
        let summary = json!({"backup": {"id": id, "name": b.shown.name, "links": links(base, "backups", id)}});
        Ok(typed::<types::BackupSummaryResponse>(200, summary))
    }

    /// `PUT /snapshots/{id}`: name and description; the snapshot back,
    /// without its extended attributes.
    pub(super) fn update_snapshot(&mut self, id: &str, body: &Value, now: DateTime<Utc>) -> Result<Reply, Reply> {
        let request = &body["snapshot"];
        let known = ["name", "display_name", "description", "display_description"];
        let fields = request.as_object().map(|o| o.keys().map(String::as_str).collect::<Vec<_>>()).unwrap_or_default();
        if let Some(extra) = fields.iter().find(|k| !known.contains(k)) {
            return Err(bad_request(&format!(
                "Invalid input for field/attribute snapshot. Value: {request}. Additional properties are not allowed ('{extra}' was unexpected)"
            )));
        }
        if fields.is_empty() {
            return Err(bad_request(&format!(
                "Invalid input for field/attribute snapshot. Value: {request}. {request} is not valid under any of the given schemas"
            )));
        }
        let s = self.snapshot(id).ok_or_else(|| not_found("Snapshot", id))?;
        for (field, alias) in [("name", "display_name"), ("description", "display_description")] {
            if let Some(value) = request.get(field).or_else(|| request.get(alias)) {
                let value = value.as_str().map(|v| v.trim().to_owned());
                if field == "name" {
                    s.name = value;
                } else {
                    s.description = value;
                }
            }
        }
        s.updated_at = Some(openstack_backups::Timestamp::from(now));
        let mut shown = json!(s);
        if let Some(fields) = shown.as_object_mut() {
            fields.retain(|k, _| !k.starts_with("os-extended-snapshot-attributes:"));
        }
        Ok(typed::<types::SnapshotResponse>(200, json!({ "snapshot": shown })))
    }

    /// The snapshot metadata routes: show, merge (`POST`), replace
    /// (`PUT`), and one key's show, update and delete.
    pub(super) fn snapshot_metadata(
        &mut self,
        operation: &str,
        id: &str,
        key: &str,
        body: &Value,
    ) -> Result<Reply, Reply> {
        let s = self.snapshot(id).ok_or_else(|| not_found("Snapshot", id))?;
        let as_values = |m: &std::collections::BTreeMap<String, String>| -> Map<String, Value> {
            m.iter().map(|(k, v)| (k.clone(), json!(v))).collect()
        };
        let strings = |m: Map<String, Value>| m.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_owned())));
        match operation {
            "show_snapshot_metadata" => {}
            "merge_snapshot_metadata" => {
                let given = metadata(&body["metadata"], "metadata")?;
                s.metadata.extend(strings(given));
            }
            "replace_snapshot_metadata" => {
                let given = metadata(&body["metadata"], "metadata")?;
                s.metadata = strings(given).collect();
            }
            "show_snapshot_metadata_key" => {
                let value = s.metadata.get(key).ok_or_else(|| {
                    Reply::fault(404, "itemNotFound", &format!("Snapshot {id} has no metadata with key {key}."))
                })?;
                return Ok(typed::<types::MetadataItem>(200, json!({"meta": {key: value}})));
            }
            "update_snapshot_metadata_key" => {
                let given = metadata(&body["meta"], "meta")?;
                if given.len() != 1 {
                    return Err(bad_request("Request body contains too many items."));
                }
                if !given.contains_key(key) {
                    return Err(bad_request("Request body and URI mismatch"));
                }
                s.metadata.extend(strings(given.clone()));
                return Ok(typed::<types::MetadataItem>(200, json!({ "meta": given })));
            }
            _ => {
                if s.metadata.remove(key).is_none() {
                    return Err(Reply::fault(
                        404,
                        "itemNotFound",
                        &format!("Snapshot {id} has no metadata with key {key}."),
                    ));
                }
                return Ok(Reply::empty(200));
            }
        }
        Ok(typed::<types::Metadata>(200, json!({ "metadata": as_values(&s.metadata) })))
    }

    /// The backup actions: `os-reset_status` to `available` or `error`,
    /// and `os-force_delete` (whatever the status, still not with
    /// incrementals); administrators only.
    pub(super) fn backup_action(
        &mut self,
        operation: &str,
        id: &str,
        body: &Value,
        admin: bool,
        now: DateTime<Utc>,
    ) -> Result<Reply, Reply> {
        match operation {
            "reset_backup_status" if !admin => {
                return Err(forbidden("volume_extension:backup_admin_actions:reset_status"));
            }
            "force_delete_backup" if !admin => {
                return Err(forbidden("volume_extension:backup_admin_actions:force_delete"));
            }
            "reset_backup_status" | "force_delete_backup" => {}
            _ => return Err(bad_request("There is no such action: the body names no backup action.")),
        }
        let dependents = self.has_dependents(id);
        let b = self.backup(id).ok_or_else(|| not_found("Backup", id))?;
        if operation == "reset_backup_status" {
            let status = body["os-reset_status"]["status"].as_str().map(str::to_ascii_lowercase);
            b.shown.status = match status.as_deref() {
                Some("available") => types::BackupStatus::Available,
                Some("error") => types::BackupStatus::Error,
                _ => {
                    return Err(bad_request(&format!(
                        "Backup status: {} is invalid, valid statuses are: ['available', 'error'].",
                        body["os-reset_status"]["status"]
                    )));
                }
            };
            return Ok(Reply::empty(202));
        }
        if dependents {
            return Err(bad_request("Invalid backup: Incremental backups exist for this backup."));
        }
        b.shown.status = types::BackupStatus::Deleting;
        self.at(now, DELETE, Event::BackupGone(id.to_owned()));
        Ok(Reply::empty(202))
    }

    /// The snapshot actions: reset status and force delete, and unmanage
    /// (administrators); a driver's status update (members) from
    /// `creating` or `deleting` only.
    pub(super) fn snapshot_action(
        &mut self,
        operation: &str,
        id: &str,
        body: &Value,
        admin: bool,
        now: DateTime<Utc>,
    ) -> Result<Reply, Reply> {
        let policy = match operation {
            "reset_snapshot_status" => Some("volume_extension:snapshot_admin_actions:reset_status"),
            "force_delete_snapshot" => Some("volume_extension:snapshot_admin_actions:force_delete"),
            "unmanage_snapshot" => Some("snapshot_extension:snapshot_unmanage"),
            "update_snapshot_status" => None,
            _ => return Err(bad_request("There is no such action: the body names no snapshot action.")),
        };
        if let Some(policy) = policy
            && !admin
        {
            return Err(forbidden(policy));
        }
        let s = self.snapshot(id).ok_or_else(|| not_found("Snapshot", id))?;
        match operation {
            "reset_snapshot_status" | "update_snapshot_status" => {
                let key =
                    if operation == "reset_snapshot_status" { "os-reset_status" } else { "os-update_snapshot_status" };
                let wanted = &body[key]["status"];
                let Some(status) =
                    wanted.as_str().and_then(|v| v.to_ascii_lowercase().parse::<types::SnapshotStatus>().ok())
                else {
                    return Err(bad_request(&format!("Snapshot status {wanted} not allowed.")));
                };
                if operation == "update_snapshot_status" {
                    use types::SnapshotStatus as S;
                    let allowed = match s.status {
                        S::Creating => matches!(status, S::Creating | S::Available | S::Error),
                        S::Deleting => matches!(status, S::Deleting | S::ErrorDeleting),
                        _ => false,
                    };
                    if !allowed {
                        return Err(bad_request(&format!("Snapshot status {} not allowed.", status)));
                    }
                }
                s.status = status;
                s.updated_at = Some(openstack_backups::Timestamp::from(now));
            }
            _ => {
                if operation == "unmanage_snapshot"
                    && !matches!(s.status, types::SnapshotStatus::Available | types::SnapshotStatus::Error)
                {
                    return Err(bad_request(
                        "Invalid snapshot: Snapshot status must be available or error and must not be part of a group.",
                    ));
                }
                s.status = if operation == "unmanage_snapshot" {
                    types::SnapshotStatus::Unmanaging
                } else {
                    types::SnapshotStatus::Deleting
                };
                self.due.retain(|(_, e)| !matches!(e, Event::SnapshotReady(s) if s == id));
                self.at(now, DELETE, Event::SnapshotGone(id.to_owned()));
            }
        }
        Ok(Reply::empty(202))
    }

    /// `GET /backups/{id}/export_record` (administrators): the record of
    /// an `available` backup, its row as base64 JSON.
    pub(super) fn export_backup_record(&mut self, id: &str, admin: bool) -> Result<Reply, Reply> {
        if !admin {
            return Err(forbidden("backup:export-import"));
        }
        let b = self.backups.iter().find(|b| b.shown.id == id).ok_or_else(|| not_found("Backup", id))?;
        if b.shown.status != types::BackupStatus::Available {
            return Err(bad_request("Invalid backup: Backup status must be available and not restoring."));
        }
        let row = json!({"backup": b.shown, "parent_id": b.parent});
        let url = base64::engine::general_purpose::STANDARD.encode(row.to_string());
        let body = json!({"backup-record": {"backup_service": BACKUP_SERVICE, "backup_url": url}});
        Ok(typed::<types::BackupRecordResponse>(200, body))
    }

    /// `POST /backups/import_record` (administrators): the backup again,
    /// with its own id, `creating` until the backup service has read it;
    /// refused while a backup with that id exists.
    pub(super) fn import_backup_record(
        &mut self,
        body: &Value,
        admin: bool,
        now: DateTime<Utc>,
        base: &str,
    ) -> Result<Reply, Reply> {
        if !admin {
            return Err(forbidden("backup:backup-import"));
        }
        let record = &body["backup-record"];
        let (Some(service), Some(url)) = (record["backup_service"].as_str(), record["backup_url"].as_str()) else {
            return Err(bad_request(&format!(
                "Invalid input for field/attribute backup-record. Value: {record}. 'backup_service' is a required property"
            )));
        };
        if service != BACKUP_SERVICE {
            return Err(Reply::fault(503, "serviceUnavailable", &format!("Service {service} could not be found.")));
        }
        let row: Value = base64::engine::general_purpose::STANDARD
            .decode(url)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| bad_request("Invalid backup: Can't parse backup record."))?;
        let mut shown: types::Backup = serde_json::from_value(row["backup"].clone())
            .map_err(|_| bad_request("Invalid backup: Can't parse backup record."))?;
        if self.backups.iter().any(|b| b.shown.id == shown.id) {
            return Err(bad_request("Invalid backup: Backup already exists in database."));
        }
        let id = shown.id.clone();
        shown.status = types::BackupStatus::Creating;
        shown.updated_at = Some(openstack_backups::Timestamp::from(now));
        shown.fail_reason = None;
        let parent = row["parent_id"].as_str().map(str::to_owned);
        self.backups.push(Backup { shown, parent, fails: None, request_id: String::new(), volume_base: None });
        self.at(now, RESTORE, Event::BackupImported(id.clone()));
        let summary = json!({"backup": {"id": id, "name": null, "links": links(base, "backups", &id)}});
        Ok(typed::<types::BackupSummaryResponse>(201, summary))
    }

    /// The volume actions: `revert` (3.40) to the volume's latest
    /// snapshot, checked in Cinder 29's order.
    pub(super) fn volume_action(
        &mut self,
        operation: &str,
        id: &str,
        body: &Value,
        version: (u16, u16),
        now: DateTime<Utc>,
    ) -> Result<Reply, Reply> {
        if operation != "revert_volume_to_snapshot" {
            return Err(bad_request("There is no such action: the body names no volume action."));
        }
        // Below its microversion the action is not there: Cinder's 404.
        if version < (3, 40) {
            return Err(Reply::fault(404, "itemNotFound", "The resource could not be found."));
        }
        let volume = self.volumes.iter().find(|v| v.id == id).ok_or_else(|| not_found("Volume", id))?;
        let (size, status) = (volume.size, volume.status.clone());
        let latest = self.snapshots.iter().filter(|s| s.volume_id == id).max_by_key(|s| s.created_at.to_utc());
        let Some(latest) = latest else {
            return Err(bad_request(&format!("Invalid volume: Volume {id} doesn't have any snapshot.")));
        };
        let wanted = body["revert"]["snapshot_id"].as_str().unwrap_or_default();
        if latest.id != wanted {
            return Err(bad_request(&format!(
                "Invalid snapshot: Specified snapshot {wanted} is None or not the latest one of volume {id}."
            )));
        }
        if latest.size != size {
            return Err(bad_request(&format!(
                "Invalid volume: Volume {id}'s size must be equal to the snapshot's size {}.",
                latest.size.unwrap_or(0)
            )));
        }
        if status != types::VolumeStatus::Available {
            return Err(Reply::fault(
                409,
                "conflictingRequest",
                &format!(
                    "Invalid volume: Cannot revert volume {id} to snapshot {wanted}: the volume's status must be available, but it is {status}."
                ),
            ));
        }
        if latest.status != types::SnapshotStatus::Available {
            return Err(Reply::fault(
                409,
                "conflictingRequest",
                &format!(
                    "Invalid snapshot: Cannot revert volume {id} to snapshot {wanted}: the snapshot's status must be available."
                ),
            ));
        }
        let snapshot = wanted.to_owned();
        if let Some(s) = self.snapshot(&snapshot) {
            s.status = types::SnapshotStatus::Restoring;
        }
        if let Some(v) = self.volume(id) {
            v.status = types::VolumeStatus::Reverting;
        }
        self.at(now, RESTORE, Event::Reverted { volume: id.to_owned(), snapshot });
        Ok(Reply::empty(202))
    }
}
