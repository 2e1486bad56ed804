//! The fake Cinder: volumes, snapshots and backups as the generated types
//! hold them, statuses that move on the fake clock, Cinder's refusals
//! (status codes, fault names and messages as Cinder 29 writes them), and
//! lists with `limit`, `marker` and next links, newest first.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use openstack_backups::block_storage::types;
use serde_json::{Value, json};

use crate::{PROJECT, Reply, typed};

mod changes;
mod quotas;

/// How long each transition takes on the fake clock, seconds.
const VOLUME_CREATE: i64 = 1;
const SNAPSHOT_CREATE: i64 = 1;
const BACKUP_CREATE: i64 = 3;
const RESTORE: i64 = 3;
const DELETE: i64 = 1;

/// How long a user message is kept (Cinder's `message_ttl`, seconds), and
/// how long after that the scheduler's daily reaping may take.
const MESSAGE_TTL: i64 = 30 * 24 * 3600;
const MESSAGE_REAP: i64 = 24 * 3600;

/// Cinder's one refusal of a volume deletion, whatever the reason (status,
/// snapshots, group, attachment).
const VOLUME_NOT_DELETABLE: &str = "Invalid volume: Volume status must be available or error or error_restoring \
     or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, \
     awaiting a transfer, or be disassociated from snapshots after volume transfer.";

/// Cinder 29's microversions.
const MIN_VERSION: &str = "3.0";
const MAX_VERSION: &str = "3.71";

/// What a request is: the client method it answers (for scripted
/// failures), and the ids in its path.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) operation: &'static str,
    pub(crate) needs_token: bool,
    id: Option<String>,
    /// A metadata key in the path.
    key: Option<String>,
}

/// The microversion a request asks for in `OpenStack-API-Version` (the
/// entry naming `volume`; none: 3.0; `latest`: 3.71), or Cinder's
/// refusal: 400 for a malformed value or a header without `volume`, 406
/// for a version outside 3.0 to 3.71.
pub(crate) fn microversion(header: Option<&str>) -> Result<(u16, u16), Reply> {
    let Some(header) = header else { return Ok((3, 0)) };
    let Some(entry) = header.split(',').map(str::trim).find(|e| e.starts_with("volume")) else {
        return Err(bad_request(&format!("Invalid OpenStack-API-Version header: {header}")));
    };
    let value = entry.trim_start_matches("volume").trim();
    if value == "latest" {
        return Ok((3, 71));
    }
    let parsed = value.split_once('.').and_then(|(major, minor)| {
        let canonical =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
        (canonical(major) && major != "0" && canonical(minor))
            .then(|| Some((major.parse().ok()?, minor.parse().ok()?)))?
    });
    match parsed {
        None => Err(bad_request(&format!(
            "API Version String {value} is of invalid format. Must be of format MajorNum.MinorNum."
        ))),
        Some(v) if !((3, 0)..=(3, 71)).contains(&v) => Err(Reply::fault(
            406,
            "computeFault",
            &format!(
                "Version {value} is not supported by the API. Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}."
            ),
        )),
        Some(v) => Ok(v),
    }
}

/// What a microversion changes of a request: `with_count` is a parameter
/// from 3.45 (below, an ordinary filter, refused as unknown from 3.31);
/// from 3.31 a filter outside the resource's defaults is a 400; a backup's
/// `metadata` needs 3.43.
fn check_version_rules(operation: &str, version: (u16, u16), query: &Query, body: &Value) -> Result<(), Reply> {
    let filters: &[&str] = match operation {
        "list_backups" | "list_backups_detail" => &["name", "status", "volume_id"],
        "list_snapshots" | "list_snapshots_detail" => {
            &["name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"]
        }
        "list_volumes" | "list_volumes_detail" => &[
            "name",
            "status",
            "metadata",
            "bootable",
            "migration_status",
            "availability_zone",
            "group_id",
            "size",
            "created_at",
            "updated_at",
        ],
        // Messages read filters from 3.5, and unknown ones are refused from
        // 3.31 as for the rest (below, nothing is checked).
        "list_messages" => &["resource_uuid", "resource_type", "event_id", "request_id", "message_level"],
        "create_backup" if version < (3, 43) && !body["backup"]["metadata"].is_null() => {
            return Err(bad_request(
                "Invalid input for field/attribute backup. Value: the body. Additional properties are not allowed \
                 ('metadata' was unexpected)",
            ));
        }
        _ => return Ok(()),
    };
    let paging = ["limit", "marker", "offset", "sort", "sort_key", "sort_dir", "all_tenants"];
    if version < (3, 31) {
        return Ok(());
    }
    let unknown: Vec<&str> = query
        .0
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| {
            let counted = *k == "with_count" && version >= (3, 45) && operation != "list_messages";
            !(filters.contains(k) || paging.contains(k) || counted)
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(bad_request(&format!("Invalid filters {} are found in query options.", unknown.join(","))))
    }
}

/// The route of `method` `path` (`/v3/<project>/backups/<id>`); an
/// action's is the action named by the body's key.
pub(crate) fn route(method: &str, path: &str, body: &Value) -> Route {
    let plain = |operation| Route { operation, needs_token: false, id: None, key: None };
    let keyed = |operation, id: &str, key: &str| Route {
        operation,
        needs_token: true,
        id: Some(id.to_owned()),
        key: Some(key.to_owned()),
    };
    match path {
        "/" if method == "GET" => return plain("list_api_versions"),
        "/v3" | "/v3/" if method == "GET" => return plain("show_api_v3_version"),
        _ => {}
    }
    let prefix = format!("/v3/{PROJECT}/");
    let Some(rest) = path.strip_prefix(&prefix) else {
        return Route { operation: "unknown", needs_token: true, id: None, key: None };
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (operation, id) = match (method, segments.as_slice()) {
        ("POST", ["volumes"]) => ("create_volume", None),
        ("GET", ["volumes"]) => ("list_volumes", None),
        ("GET", ["volumes", "detail"]) => ("list_volumes_detail", None),
        ("GET", ["volumes", id]) => ("show_volume", Some(*id)),
        ("DELETE", ["volumes", id]) => ("delete_volume", Some(*id)),
        ("POST", ["snapshots"]) => ("create_snapshot", None),
        ("GET", ["snapshots"]) => ("list_snapshots", None),
        ("GET", ["snapshots", "detail"]) => ("list_snapshots_detail", None),
        ("GET", ["snapshots", id]) => ("show_snapshot", Some(*id)),
        ("DELETE", ["snapshots", id]) => ("delete_snapshot", Some(*id)),
        ("POST", ["backups"]) => ("create_backup", None),
        ("GET", ["backups"]) => ("list_backups", None),
        ("GET", ["backups", "detail"]) => ("list_backups_detail", None),
        ("GET", ["backups", id]) => ("show_backup", Some(*id)),
        ("DELETE", ["backups", id]) => ("delete_backup", Some(*id)),
        ("POST", ["backups", id, "restore"]) => ("restore_backup", Some(*id)),
        ("PUT", ["backups", id]) => ("update_backup", Some(*id)),
        ("GET", ["backups", id, "export_record"]) => ("export_backup_record", Some(*id)),
        ("POST", ["backups", "import_record"]) => ("import_backup_record", None),
        ("POST", ["backups", id, "action"]) => (changes::action("backup", body), Some(*id)),
        ("PUT", ["snapshots", id]) => ("update_snapshot", Some(*id)),
        ("POST", ["snapshots", id, "action"]) => (changes::action("snapshot", body), Some(*id)),
        ("GET", ["snapshots", id, "metadata"]) => ("show_snapshot_metadata", Some(*id)),
        ("POST", ["snapshots", id, "metadata"]) => ("merge_snapshot_metadata", Some(*id)),
        ("PUT", ["snapshots", id, "metadata"]) => ("replace_snapshot_metadata", Some(*id)),
        ("GET", ["snapshots", id, "metadata", key]) => return keyed("show_snapshot_metadata_key", id, key),
        ("PUT", ["snapshots", id, "metadata", key]) => return keyed("update_snapshot_metadata_key", id, key),
        ("DELETE", ["snapshots", id, "metadata", key]) => return keyed("delete_snapshot_metadata_key", id, key),
        ("POST", ["volumes", id, "action"]) => (changes::action("volume", body), Some(*id)),
        ("GET", ["limits"]) => ("show_limits", None),
        ("GET", ["os-quota-sets", project]) => ("show_quota_set", Some(*project)),
        ("PUT", ["os-quota-sets", project]) => ("update_quota_set", Some(*project)),
        ("DELETE", ["os-quota-sets", project]) => ("delete_quota_set", Some(*project)),
        ("GET", ["os-quota-sets", project, "defaults"]) => ("show_quota_set_defaults", Some(*project)),
        ("GET", ["messages"]) => ("list_messages", None),
        ("GET", ["messages", id]) => ("show_message", Some(*id)),
        ("DELETE", ["messages", id]) => ("delete_message", Some(*id)),
        _ => ("unknown", None),
    };
    Route { operation, needs_token: true, id: id.map(str::to_owned), key: None }
}

/// A change due at a time of the fake clock.
#[derive(Debug, Clone)]
enum Event {
    VolumeReady(String),
    VolumeGone(String),
    SnapshotReady(String),
    SnapshotGone(String),
    /// A backup's data is copied: the backup ends (if it is still
    /// `creating`), and its source gets its status back (whatever became
    /// of the backup meanwhile: reset, force-deleted).
    BackupDone {
        id: String,
        source: Source,
    },
    BackupGone(String),
    BackupImported(String),
    RestoreDone {
        backup: String,
        volume: String,
        /// A new volume made without a name: it takes the backed-up
        /// volume's name and description.
        renamed: bool,
    },
    Reverted {
        volume: String,
        snapshot: String,
    },
}

/// What a backup is made from, and the status its volume had before:
/// what gets its status back when the copy ends.
#[derive(Debug, Clone)]
struct Source {
    volume: String,
    snapshot: Option<String>,
    previous: types::VolumeStatus,
}

/// A backup and what Cinder keeps beside what it shows.
#[derive(Debug, Clone)]
struct Backup {
    shown: types::Backup,
    parent: Option<String>,
    /// The reason it will fail with, when its volume's backups are set to
    /// fail ([`crate::FakeCloud::fail_backups_of`]) as it is made.
    fails: Option<String>,
    /// The id of the request that made it (a user message names it).
    request_id: String,
    /// Its volume's name and description when it was made, which Cinder
    /// keeps with the data and gives to a new volume a restore makes
    /// without a name (none for an imported record).
    volume_base: Option<(Option<String>, Option<String>)>,
}

/// The project's volumes, snapshots and backups (in creation order), and
/// what is due.
#[derive(Debug, Default)]
pub(crate) struct Cinder {
    next: u64,
    volumes: Vec<types::Volume>,
    snapshots: Vec<types::Snapshot>,
    backups: Vec<Backup>,
    messages: Vec<types::Message>,
    due: Vec<(DateTime<Utc>, Event)>,
    pub(crate) failing_volumes: BTreeMap<String, String>,
    /// The project's own quota limits (the rest are Cinder's defaults).
    pub(crate) quotas: BTreeMap<String, i64>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn not_found(what: &str, id: &str) -> Reply {
    Reply::fault(404, "itemNotFound", &format!("{what} {id} could not be found."))
}

fn bad_request(message: &str) -> Reply {
    Reply::fault(400, "badRequest", message)
}

/// Cinder's policy refusal of a rule the caller's roles do not meet.
fn forbidden(rule: &str) -> Reply {
    Reply::fault(403, "forbidden", &format!("Policy doesn't allow {rule} to be performed."))
}

/// A boolean-like value as Cinder reads one (`true`, `"True"`, `"1"`,
/// `"yes"`, …); `None` when absent or not one.
fn boolish(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "on" | "y" | "yes" => Some(true),
            "0" | "f" | "false" | "off" | "n" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Reply> {
    serde_json::from_value(value).map_err(|e| Reply::fault(500, "computeFault", &format!("the fake's own state: {e}")))
}

impl Cinder {
    fn new_id(&mut self) -> String {
        self.next += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next)
    }

    fn volume(&mut self, id: &str) -> Option<&mut types::Volume> {
        self.volumes.iter_mut().find(|v| v.id == id)
    }

    fn snapshot(&mut self, id: &str) -> Option<&mut types::Snapshot> {
        self.snapshots.iter_mut().find(|s| s.id == id)
    }

    fn backup(&mut self, id: &str) -> Option<&mut Backup> {
        self.backups.iter_mut().find(|b| b.shown.id == id)
    }

    /// Attaches an `available` volume to a server (`server_id`): it is
    /// `in-use`, with one attachment. False for an unknown volume or one
    /// in another status.
    pub(crate) fn attach(&mut self, volume_id: &str, server_id: &str, now: DateTime<Utc>) -> bool {
        if self.volumes.iter().all(|v| v.id != volume_id || v.status != types::VolumeStatus::Available) {
            return false;
        }
        let attachment_id = self.new_id();
        let Some(v) = self.volume(volume_id) else { return false };
        v.status = types::VolumeStatus::InUse;
        v.attachments = vec![types::VolumeAttachment {
            attached_at: Some(openstack_backups::Timestamp::from(now)),
            attachment_id: Some(attachment_id.clone()),
            device: Some("/dev/vdb".into()),
            host_name: None,
            id: Some(volume_id.to_owned()),
            server_id: Some(server_id.to_owned()),
            volume_id: Some(volume_id.to_owned()),
        }];
        true
    }

    /// Detaches an `in-use` volume: `available`, no attachment. False
    /// for an unknown volume or one in another status.
    pub(crate) fn detach(&mut self, volume_id: &str) -> bool {
        let Some(v) = self.volume(volume_id).filter(|v| v.status == types::VolumeStatus::InUse) else { return false };
        v.status = types::VolumeStatus::Available;
        v.attachments.clear();
        true
    }

    /// Whether incrementals are based on `id` (whatever their status):
    /// what refuses its deletion.
    fn has_dependents(&self, id: &str) -> bool {
        self.backups.iter().any(|b| b.parent.as_deref() == Some(id))
    }

    /// `has_dependent_backups` as Cinder shows it: its backup manager
    /// counts an incremental once it succeeded, so a `creating` or failed
    /// child does not show (though it still refuses the deletion).
    fn shows_dependents(&self, id: &str) -> bool {
        self.backups.iter().any(|b| b.parent.as_deref() == Some(id) && b.shown.status == types::BackupStatus::Available)
    }

    fn at(&mut self, now: DateTime<Utc>, seconds: i64, event: Event) {
        self.due.push((now + chrono::Duration::seconds(seconds), event));
    }

    /// Applies every change due by `now`, in time order.
    pub(crate) fn advance(&mut self, now: DateTime<Utc>) {
        self.due.sort_by_key(|(at, _)| *at);
        while self.due.first().is_some_and(|(at, _)| *at <= now) {
            let (at, event) = self.due.remove(0);
            self.apply(at, event);
        }
    }

    fn apply(&mut self, at: DateTime<Utc>, event: Event) {
        let updated = openstack_backups::Timestamp::from(at);
        match event {
            Event::VolumeReady(id) => {
                if let Some(v) = self.volume(&id) {
                    v.status = types::VolumeStatus::Available;
                    v.updated_at = Some(updated);
                }
            }
            Event::VolumeGone(id) => self.volumes.retain(|v| v.id != id),
            Event::SnapshotReady(id) => {
                if let Some(s) = self.snapshot(&id) {
                    s.status = types::SnapshotStatus::Available;
                    s.os_extended_snapshot_attributes_progress = Some("100%".into());
                    s.updated_at = Some(updated);
                }
            }
            Event::SnapshotGone(id) => self.snapshots.retain(|s| s.id != id),
            Event::BackupDone { id, source } => {
                let copying = self.backup(&id).filter(|b| b.shown.status == types::BackupStatus::Creating);
                let made = copying.map(|b| (b.fails.clone(), b.request_id.clone()));
                if let Some((Some(_), request_id)) = &made {
                    self.message(at, &id, request_id);
                }
                if let (Some((failure, _)), Some(b)) = (made, self.backup(&id)) {
                    b.shown.updated_at = Some(updated);
                    match failure {
                        Some(reason) => {
                            b.shown.status = types::BackupStatus::Error;
                            b.shown.fail_reason = Some(reason);
                        }
                        None => {
                            b.shown.status = types::BackupStatus::Available;
                            b.shown.object_count = Some(1);
                        }
                    }
                }
                match source.snapshot {
                    Some(s) => {
                        if let Some(s) = self.snapshot(&s) {
                            s.status = types::SnapshotStatus::Available;
                        }
                    }
                    None => {
                        if let Some(v) = self.volume(&source.volume) {
                            v.status = source.previous;
                        }
                    }
                }
            }
            Event::BackupGone(id) => self.backups.retain(|b| b.shown.id != id),
            Event::BackupImported(id) => {
                if let Some(b) = self.backup(&id) {
                    b.shown.status = types::BackupStatus::Available;
                    b.shown.updated_at = Some(updated);
                }
            }
            Event::Reverted { volume, snapshot } => {
                if let Some(s) = self.snapshot(&snapshot) {
                    s.status = types::SnapshotStatus::Available;
                }
                if let Some(v) = self.volume(&volume) {
                    v.status = types::VolumeStatus::Available;
                    v.updated_at = Some(updated);
                }
            }
            Event::RestoreDone { backup, volume, renamed } => {
                let mut base = None;
                if let Some(b) = self.backup(&backup) {
                    b.shown.status = types::BackupStatus::Available;
                    base = b.volume_base.clone().filter(|_| renamed);
                }
                if let Some(v) = self.volume(&volume) {
                    v.status = types::VolumeStatus::Available;
                    v.updated_at = Some(updated);
                    // As Cinder 29 does (tests/tests/real_cinder.rs): every
                    // restored volume names its backup in its metadata, and
                    // a new one made without a name takes the backed-up
                    // volume's name and description.
                    v.metadata.insert("src_backup_id".to_owned(), backup.clone());
                    if let Some((name, description)) = base {
                        v.name = name;
                        v.description = description;
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn handle(
        &mut self,
        route: &Route,
        admin: bool,
        version: (u16, u16),
        query: Query,
        body: &Value,
        now: DateTime<Utc>,
        base: &str,
        request_id: &str,
    ) -> Reply {
        if let Err(refusal) = check_version_rules(route.operation, version, &query, body) {
            return refusal;
        }
        // User messages are a 3.3 feature: below it their routes are not
        // there.
        let messages = route.operation.ends_with("message") || route.operation == "list_messages";
        if messages && version < (3, 3) {
            return Reply::fault(404, "itemNotFound", "The resource could not be found.");
        }
        // Backup updates are a 3.9 feature, as messages are of 3.3.
        if route.operation == "update_backup" && version < (3, 9) {
            return Reply::fault(404, "itemNotFound", "The resource could not be found.");
        }
        let id = route.id.as_deref().unwrap_or_default();
        let key = route.key.as_deref().unwrap_or_default();
        let result = match route.operation {
            "list_api_versions" => Ok(versions(300, base)),
            "show_api_v3_version" => Ok(versions(200, base)),
            "create_volume" => self.create_volume(body, now, base),
            "show_volume" => self.show_volume(id),
            "list_volumes" | "list_volumes_detail" => self.list_volumes(route.operation, &query, base),
            "delete_volume" => self.delete_volume(id, now),
            "create_snapshot" => self.create_snapshot(body, version, now),
            "show_snapshot" => self.show_snapshot(id),
            "list_snapshots" | "list_snapshots_detail" => self.list_snapshots(route.operation, &query, base),
            "delete_snapshot" => self.delete_snapshot(id, now),
            "create_backup" => self.create_backup(body, now, base, request_id),
            "list_messages" => self.list_messages(version, &query, now, base),
            "show_message" => self.show_message(id, now),
            "delete_message" => self.delete_message(id, now),
            "show_backup" => self.show_backup(id),
            "list_backups" | "list_backups_detail" => self.list_backups(route.operation, &query, base),
            "delete_backup" => self.delete_backup(id, now),
            "restore_backup" => self.restore_backup(id, body, now, base),
            "update_backup" => self.update_backup(id, body, version, base),
            "export_backup_record" => self.export_backup_record(id, admin),
            "import_backup_record" => self.import_backup_record(body, admin, now, base),
            "reset_backup_status" | "force_delete_backup" | "backup_action" => {
                self.backup_action(route.operation, id, body, admin, now)
            }
            "update_snapshot" => self.update_snapshot(id, body, now),
            "show_snapshot_metadata"
            | "merge_snapshot_metadata"
            | "replace_snapshot_metadata"
            | "show_snapshot_metadata_key"
            | "update_snapshot_metadata_key"
            | "delete_snapshot_metadata_key" => self.snapshot_metadata(route.operation, id, key, body),
            "reset_snapshot_status"
            | "force_delete_snapshot"
            | "update_snapshot_status"
            | "unmanage_snapshot"
            | "snapshot_action" => self.snapshot_action(route.operation, id, body, admin, now),
            "revert_volume_to_snapshot" | "volume_action" => {
                self.volume_action(route.operation, id, body, version, now)
            }
            "show_limits" => Ok(self.show_limits()),
            "show_quota_set" => self.show_quota_set(id, admin, query.get("usage"), false),
            "show_quota_set_defaults" => self.show_quota_set(id, admin, None, true),
            "update_quota_set" => self.update_quota_set(id, admin, body),
            "delete_quota_set" => self.delete_quota_set(id, admin),
            _ => Ok(Reply::json(
                404,
                json!({"message": "The resource could not be found.", "code": "404 Not Found", "title": "Not Found"}),
            )),
        };
        result.unwrap_or_else(|refusal| refusal)
    }

    /// The user message Cinder's backup manager writes when the backup
    /// driver fails (`VOLUME_VOLUME_BACKUP_013_020`), kept 30 days.
    fn message(&mut self, at: DateTime<Utc>, backup_id: &str, request_id: &str) {
        let id = self.new_id();
        let message = serde_json::from_value::<types::Message>(json!({
            "id": id, "event_id": "VOLUME_VOLUME_BACKUP_013_020",
            "user_message": "create backup:Backup driver failed to create backup.", "message_level": "ERROR",
            "resource_type": "VOLUME_BACKUP", "resource_uuid": backup_id, "request_id": request_id,
            "created_at": stamp(at), "guaranteed_until": stamp(at + chrono::Duration::seconds(MESSAGE_TTL)),
            "links": []
        }));
        if let Ok(message) = message {
            self.messages.push(message);
        }
    }

    /// Messages past their time are gone (Cinder's scheduler reaps them
    /// once a day after `guaranteed_until`).
    fn reap_messages(&mut self, now: DateTime<Utc>) {
        let reaped = chrono::Duration::seconds(MESSAGE_REAP);
        self.messages.retain(|m| m.guaranteed_until.is_none_or(|until| until.to_utc() + reaped > now));
    }

    fn with_links(&self, m: &types::Message, base: &str) -> Value {
        let mut shown = json!(m);
        shown["links"] = links(base, "messages", &m.id);
        shown
    }

    fn list_messages(
        &mut self,
        version: (u16, u16),
        query: &Query,
        now: DateTime<Utc>,
        base: &str,
    ) -> Result<Reply, Reply> {
        self.reap_messages(now);
        let all: Vec<&types::Message> = self.messages.iter().rev().collect();
        // 3.3 and 3.4 honour no parameter.
        let ignored = Query(Vec::new());
        let query = if version < (3, 5) { &ignored } else { query };
        let keep = |m: &&types::Message| {
            query.matches("resource_uuid", m.resource_uuid.as_deref())
                && query.matches("resource_type", m.resource_type.as_ref().map(ToString::to_string).as_deref())
                && query.matches("event_id", Some(m.event_id.as_str()))
                && query.matches("request_id", m.request_id.as_deref())
                && query.matches("message_level", m.message_level.as_ref().map(ToString::to_string).as_deref())
        };
        let page = query.page(&all, keep, |m| m.id.as_str(), "Message")?;
        let shown: Vec<Value> = page.items.iter().map(|m| self.with_links(m, base)).collect();
        let body = query.listing("messages", shown, page, base, "messages");
        Ok(typed::<types::MessageList>(200, body))
    }

    fn show_message(&mut self, id: &str, now: DateTime<Utc>) -> Result<Reply, Reply> {
        self.reap_messages(now);
        let m = self.messages.iter().find(|m| m.id == id).ok_or_else(|| not_found("Message", id))?;
        let shown = json!({ "message": m });
        Ok(typed::<types::MessageResponse>(200, shown))
    }

    fn delete_message(&mut self, id: &str, now: DateTime<Utc>) -> Result<Reply, Reply> {
        self.reap_messages(now);
        let before = self.messages.len();
        self.messages.retain(|m| m.id != id);
        if self.messages.len() == before {
            return Err(not_found("Message", id));
        }
        Ok(Reply::empty(204))
    }

    // ---- volumes

    fn create_volume(&mut self, body: &Value, now: DateTime<Utc>, base: &str) -> Result<Reply, Reply> {
        let request = &body["volume"];
        let Some(size) = request["size"].as_i64().filter(|s| *s > 0) else {
            return Err(bad_request(
                "Invalid input for field/attribute size. Value: None. None is not of type 'integer'",
            ));
        };
        self.volume_quota(size)?;
        let id = self.new_id();
        let volume = decode::<types::Volume>(json!({
            "id": id, "status": "creating", "size": size, "name": request["name"], "description": request["description"],
            "availability_zone": "nova", "created_at": stamp(now), "updated_at": null, "volume_type": "__DEFAULT__",
            "snapshot_id": null, "source_volid": null, "metadata": request["metadata"].as_object().cloned().unwrap_or_default(),
            "links": links(base, "volumes", &id), "user_id": crate::USER, "bootable": "false", "encrypted": false,
            "multiattach": false, "attachments": [], "replication_status": null, "consistencygroup_id": null,
            "os-vol-tenant-attr:tenant_id": PROJECT
        }))?;
        self.volumes.push(volume.clone());
        self.at(now, VOLUME_CREATE, Event::VolumeReady(id));
        Ok(typed::<types::VolumeResponse>(202, json!({ "volume": volume })))
    }

    fn show_volume(&mut self, id: &str) -> Result<Reply, Reply> {
        let volume = self.volumes.iter().find(|v| v.id == id).ok_or_else(|| not_found("Volume", id))?;
        Ok(typed::<types::VolumeResponse>(200, json!({ "volume": volume })))
    }

    fn list_volumes(&mut self, operation: &str, query: &Query, base: &str) -> Result<Reply, Reply> {
        let all: Vec<&types::Volume> = self.volumes.iter().rev().collect();
        let keep = |v: &&types::Volume| {
            query.matches("status", Some(v.status.to_string().as_str())) && query.matches("name", v.name.as_deref())
        };
        let page = query.page(&all, keep, |v| v.id.as_str(), "Volume")?;
        let detail = operation == "list_volumes_detail";
        let shown: Vec<Value> = page
            .items
            .iter()
            .map(|v| if detail { json!(v) } else { json!({"id": v.id, "name": v.name, "links": v.links}) })
            .collect();
        let collection = if detail { "volumes/detail" } else { "volumes" };
        let body = query.listing("volumes", shown, page, base, collection);
        Ok(if detail { typed::<types::VolumeDetailList>(200, body) } else { typed::<types::VolumeList>(200, body) })
    }

    fn delete_volume(&mut self, id: &str, now: DateTime<Utc>) -> Result<Reply, Reply> {
        let snapshots = self.snapshots.iter().filter(|s| s.volume_id == id).count();
        let volume = self.volume(id).ok_or_else(|| not_found("Volume", id))?;
        let deletable = matches!(volume.status, types::VolumeStatus::Available | types::VolumeStatus::Error);
        if !deletable {
            return Err(bad_request(VOLUME_NOT_DELETABLE));
        }
        if snapshots > 0 {
            return Err(bad_request(VOLUME_NOT_DELETABLE));
        }
        volume.status = types::VolumeStatus::Deleting;
        self.at(now, DELETE, Event::VolumeGone(id.to_owned()));
        Ok(Reply::empty(202))
    }

    // ---- snapshots

    /// A snapshot of an `available` volume, or of an `in-use` one with
    /// `force` (below 3.66) or as it is (from 3.66, where `force: false`
    /// is a 400).
    fn create_snapshot(&mut self, body: &Value, version: (u16, u16), now: DateTime<Utc>) -> Result<Reply, Reply> {
        let request = &body["snapshot"];
        let volume_id = request["volume_id"].as_str().unwrap_or_default().to_owned();
        let force = boolish(&request["force"]);
        if version >= (3, 66) && force == Some(false) {
            return Err(bad_request(
                "Since microversion 3.66 the 'force' flag is invalid for this request. For backward compatibility, \
                 however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.",
            ));
        }
        let volume = self.volumes.iter().find(|v| v.id == volume_id).ok_or_else(|| not_found("Volume", &volume_id))?;
        let in_use_allowed = version >= (3, 66) || force == Some(true);
        let allowed = volume.status == types::VolumeStatus::Available
            || (volume.status == types::VolumeStatus::InUse && in_use_allowed);
        if !allowed {
            return Err(bad_request(&format!(
                "Invalid volume: Volume {volume_id} status must be available, but current status is: {}.",
                volume.status
            )));
        }
        let size = volume.size;
        self.snapshot_quota(size.unwrap_or(0))?;
        let id = self.new_id();
        let snapshot = decode::<types::Snapshot>(json!({
            "id": id, "status": "creating", "size": size, "volume_id": volume_id, "name": request["name"],
            "description": request["description"], "created_at": stamp(now), "updated_at": null,
            "metadata": request["metadata"].as_object().cloned().unwrap_or_default(),
            "os-extended-snapshot-attributes:progress": "0%",
            "os-extended-snapshot-attributes:project_id": PROJECT, "user_id": crate::USER
        }))?;
        self.snapshots.push(snapshot.clone());
        self.at(now, SNAPSHOT_CREATE, Event::SnapshotReady(id));
        // The create response is the detail without the extended attributes.
        let mut shown = json!(snapshot);
        if let Some(fields) = shown.as_object_mut() {
            fields.retain(|k, _| !k.starts_with("os-extended-snapshot-attributes:"));
        }
        Ok(typed::<types::SnapshotResponse>(202, json!({ "snapshot": shown })))
    }

    fn show_snapshot(&mut self, id: &str) -> Result<Reply, Reply> {
        let snapshot = self.snapshots.iter().find(|s| s.id == id).ok_or_else(|| not_found("Snapshot", id))?;
        Ok(typed::<types::SnapshotResponse>(200, json!({ "snapshot": snapshot })))
    }

    fn list_snapshots(&mut self, operation: &str, query: &Query, base: &str) -> Result<Reply, Reply> {
        let all: Vec<&types::Snapshot> = self.snapshots.iter().rev().collect();
        let keep = |s: &&types::Snapshot| {
            query.matches("status", Some(s.status.to_string().as_str()))
                && query.matches("volume_id", Some(s.volume_id.as_str()))
                && query.matches("name", s.name.as_deref())
        };
        let page = query.page(&all, keep, |s| s.id.as_str(), "Snapshot")?;
        let shown: Vec<Value> = page.items.iter().map(|s| json!(s)).collect();
        let path = if operation == "list_snapshots_detail" { "snapshots/detail" } else { "snapshots" };
        let body = query.listing("snapshots", shown, page, base, path);
        Ok(typed::<types::SnapshotList>(200, body))
    }

    fn delete_snapshot(&mut self, id: &str, now: DateTime<Utc>) -> Result<Reply, Reply> {
        let snapshot = self.snapshot(id).ok_or_else(|| not_found("Snapshot", id))?;
        if !matches!(snapshot.status, types::SnapshotStatus::Available | types::SnapshotStatus::Error) {
            return Err(bad_request(
                "Invalid snapshot: Snapshot status must be available or error and must not be part of a group.",
            ));
        }
        snapshot.status = types::SnapshotStatus::Deleting;
        self.at(now, DELETE, Event::SnapshotGone(id.to_owned()));
        Ok(Reply::empty(202))
    }

    // ---- backups

    fn create_backup(
        &mut self,
        body: &Value,
        now: DateTime<Utc>,
        base: &str,
        request_id: &str,
    ) -> Result<Reply, Reply> {
        let request = &body["backup"];
        let volume_id = request["volume_id"].as_str().unwrap_or_default().to_owned();
        let snapshot_id = request["snapshot_id"].as_str().map(str::to_owned);
        let incremental = request["incremental"].as_bool().unwrap_or(false);
        let volume = self.volumes.iter().find(|v| v.id == volume_id).ok_or_else(|| not_found("Volume", &volume_id))?;
        let (size, volume_status) = (volume.size, volume.status.clone());
        let volume_base = Some((volume.name.clone(), volume.description.clone()));
        match &snapshot_id {
            Some(sid) => {
                let snapshot =
                    self.snapshots.iter().find(|s| &s.id == sid).ok_or_else(|| not_found("Snapshot", sid))?;
                if snapshot.volume_id != volume_id {
                    return Err(bad_request(&format!(
                        "Invalid volume: Volume {volume_id} does not match with snapshot.volume_id {}.",
                        snapshot.volume_id
                    )));
                }
                if snapshot.status != types::SnapshotStatus::Available {
                    return Err(bad_request(&format!(
                        "Invalid snapshot: Snapshot to be backed up must be available, but the current status is \"{}\".",
                        snapshot.status
                    )));
                }
            }
            None if volume.status == types::VolumeStatus::InUse && boolish(&request["force"]) != Some(true) => {
                return Err(bad_request("Invalid volume: Backing up an in-use volume must use the force flag."));
            }
            None if !matches!(volume.status, types::VolumeStatus::Available | types::VolumeStatus::InUse) => {
                return Err(bad_request(&format!(
                    "Invalid volume: Volume to be backed up must be available or in-use, but the current status is \"{}\".",
                    volume.status
                )));
            }
            None => {}
        }
        // The point in time the backup holds: the snapshot's, or now.
        let data_timestamp = match &snapshot_id {
            Some(sid) => self.snapshots.iter().find(|s| &s.id == sid).map_or(now, |s| s.created_at.to_utc()),
            None => now,
        };
        // The parent: the available backup of the volume with the latest
        // data; for a snapshot source, only backups older than the snapshot.
        let parent = if incremental {
            let latest = self
                .backups
                .iter()
                .filter(|b| b.shown.volume_id == volume_id && b.shown.status == types::BackupStatus::Available)
                .filter_map(|b| Some((b.shown.data_timestamp.map(|t| t.to_utc())?, b)))
                .filter(|(t, _)| snapshot_id.is_none() || *t < data_timestamp)
                .max_by_key(|(t, _)| *t);
            match latest {
                Some((_, b)) => Some(b.shown.id.clone()),
                None => return Err(bad_request("Invalid backup: No backups available to do an incremental backup.")),
            }
        } else {
            None
        };
        self.backup_quota(size.unwrap_or(0))?;
        let id = self.new_id();
        let shown = decode::<types::Backup>(json!({
            "id": id, "status": "creating", "volume_id": volume_id, "snapshot_id": snapshot_id, "size": size,
            "name": request["name"], "description": request["description"], "container": request["container"],
            "availability_zone": "nova", "created_at": stamp(now), "updated_at": null,
            "data_timestamp": stamp(data_timestamp),
            "fail_reason": null, "object_count": 0, "is_incremental": parent.is_some(), "has_dependent_backups": false,
            "links": links(base, "backups", &id),
            "metadata": request["metadata"].as_object().cloned().unwrap_or_default(),
            "encryption_key_id": null
        }))?;
        let name = shown.name.clone();
        let fails = self.failing_volumes.get(&volume_id).cloned();
        self.backups.push(Backup { shown, parent, fails, request_id: request_id.to_owned(), volume_base });
        match &snapshot_id {
            Some(sid) => {
                if let Some(s) = self.snapshot(sid) {
                    s.status = types::SnapshotStatus::BackingUp;
                }
            }
            None => {
                if let Some(v) = self.volume(&volume_id) {
                    v.status = types::VolumeStatus::BackingUp;
                }
            }
        }
        let source = Source { volume: volume_id.clone(), snapshot: snapshot_id.clone(), previous: volume_status };
        self.at(now, BACKUP_CREATE, Event::BackupDone { id: id.clone(), source });
        let summary = json!({"backup": {"id": id, "name": name, "links": links(base, "backups", &id)}});
        Ok(typed::<types::BackupSummaryResponse>(202, summary))
    }

    fn shown(&self, b: &Backup) -> types::Backup {
        let mut shown = b.shown.clone();
        shown.has_dependent_backups = self.shows_dependents(&shown.id);
        shown
    }

    fn show_backup(&mut self, id: &str) -> Result<Reply, Reply> {
        let b = self.backups.iter().find(|b| b.shown.id == id).ok_or_else(|| not_found("Backup", id))?;
        Ok(typed::<types::BackupResponse>(200, json!({ "backup": self.shown(b) })))
    }

    fn list_backups(&mut self, operation: &str, query: &Query, base: &str) -> Result<Reply, Reply> {
        let all: Vec<types::Backup> = self.backups.iter().rev().map(|b| self.shown(b)).collect();
        let keep = |b: &types::Backup| {
            query.matches("status", Some(b.status.to_string().as_str()))
                && query.matches("volume_id", Some(b.volume_id.as_str()))
                && query.matches("name", b.name.as_deref())
        };
        let page = query.page(&all, keep, |b| b.id.as_str(), "Backup")?;
        let detail = operation == "list_backups_detail";
        let shown: Vec<Value> = page
            .items
            .iter()
            .map(|b| if detail { json!(b) } else { json!({"id": b.id, "name": b.name, "links": b.links}) })
            .collect();
        let path = if detail { "backups/detail" } else { "backups" };
        let body = query.listing("backups", shown, page, base, path);
        Ok(if detail { typed::<types::BackupDetailList>(200, body) } else { typed::<types::BackupList>(200, body) })
    }

    fn delete_backup(&mut self, id: &str, now: DateTime<Utc>) -> Result<Reply, Reply> {
        let dependents = self.has_dependents(id);
        let b = self.backup(id).ok_or_else(|| not_found("Backup", id))?;
        if !matches!(b.shown.status, types::BackupStatus::Available | types::BackupStatus::Error) {
            return Err(bad_request("Invalid backup: Backup status must be available or error"));
        }
        if dependents {
            return Err(bad_request("Invalid backup: Incremental backups exist for this backup."));
        }
        b.shown.status = types::BackupStatus::Deleting;
        self.at(now, DELETE, Event::BackupGone(id.to_owned()));
        Ok(Reply::empty(202))
    }

    fn restore_backup(&mut self, id: &str, body: &Value, now: DateTime<Utc>, base: &str) -> Result<Reply, Reply> {
        let request = &body["restore"];
        let b = self.backups.iter().find(|b| b.shown.id == id).ok_or_else(|| not_found("Backup", id))?;
        if b.shown.status != types::BackupStatus::Available {
            return Err(bad_request("Invalid backup: Backup status must be available"));
        }
        let size = b.shown.size.unwrap_or(1);
        let volume_id = match request["volume_id"].as_str() {
            Some(target) => {
                let volume = self.volume(target).ok_or_else(|| not_found("Volume", target))?;
                if volume.status != types::VolumeStatus::Available {
                    return Err(bad_request(&format!(
                        "Invalid volume: Volume to be restored to must be available, but the current status is \"{}\".",
                        volume.status
                    )));
                }
                if volume.size.unwrap_or(0) < size {
                    return Err(bad_request(&format!(
                        "Invalid volume: volume size {} is smaller than backup size {size}.",
                        volume.size.unwrap_or(0)
                    )));
                }
                volume.status = types::VolumeStatus::RestoringBackup;
                target.to_owned()
            }
            None => {
                let name = request["name"].as_str().map_or_else(|| format!("restore_backup_{id}"), str::to_owned);
                let new = json!({"volume": {"size": size, "name": name,
                    "description": "auto-created_from_restore_from_backup"}});
                let created = self.create_volume(&new, now, base)?;
                let Some(new_id) = created.body.as_ref().and_then(|b| b["volume"]["id"].as_str()).map(str::to_owned)
                else {
                    return Err(Reply::fault(500, "computeFault", "the fake's restore volume has no id"));
                };
                // Cinder answers once the new volume has left `creating`.
                self.due.retain(|(_, e)| !matches!(e, Event::VolumeReady(v) if *v == new_id));
                if let Some(v) = self.volume(&new_id) {
                    v.status = types::VolumeStatus::RestoringBackup;
                }
                new_id
            }
        };
        let volume_name = self.volumes.iter().find(|v| v.id == volume_id).and_then(|v| v.name.clone());
        if let Some(b) = self.backup(id) {
            b.shown.status = types::BackupStatus::Restoring;
        }
        let renamed = request["volume_id"].is_null() && request["name"].is_null();
        self.at(now, RESTORE, Event::RestoreDone { backup: id.to_owned(), volume: volume_id.clone(), renamed });
        let body = json!({"restore": {"backup_id": id, "volume_id": volume_id, "volume_name": volume_name}});
        Ok(typed::<types::BackupRestoreResponse>(202, body))
    }
}

fn links(base: &str, collection: &str, id: &str) -> Value {
    json!([
        {"rel": "self", "href": format!("{base}/v3/{PROJECT}/{collection}/{id}")},
        {"rel": "bookmark", "href": format!("{base}/{PROJECT}/{collection}/{id}")}
    ])
}

fn versions(status: u16, base: &str) -> Reply {
    let body = json!({"versions": [{"id": "v3.0", "status": "CURRENT", "version": MAX_VERSION,
        "min_version": MIN_VERSION, "updated": "2023-08-31T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}]}]});
    if status == 300 { typed::<types::VersionList>(300, body) } else { typed::<types::VersionList>(200, body) }
}

/// A call's query: filters, `limit`, `marker`, `with_count`.
pub(crate) struct Query(pub(crate) Vec<(String, String)>);

/// One page of a list: its items, the marker of the next page when Cinder
/// links one, and the count of the filtered list.
struct Page<'i, T> {
    items: Vec<&'i T>,
    next: Option<String>,
    count: usize,
}

/// Cinder's `osapi_max_limit`: the page size without `limit`, and its cap.
const MAX_LIMIT: usize = 1000;

impl Query {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Whether a filter on `name` (if given) holds for `value`.
    fn matches(&self, name: &str, value: Option<&str>) -> bool {
        self.get(name).is_none_or(|want| value == Some(want))
    }

    /// A page as Cinder makes it from `all` (newest first, unfiltered):
    /// the rows after `marker` (looked up among all rows: an unknown one
    /// is a 404 naming the `what`), filtered by `keep`, after `offset`, at
    /// most `limit` (default and cap 1000; not an integer or negative is a
    /// 400). A next link when the page is not empty and `limit` is at most
    /// its length (or, with `with_count`, the count): a full last page
    /// links to an empty one, as Cinder's does.
    fn page<'i, T>(
        &self,
        all: &'i [T],
        keep: impl Fn(&T) -> bool,
        id: impl Fn(&T) -> &str,
        what: &str,
    ) -> Result<Page<'i, T>, Reply> {
        let number = |name: &str| -> Result<Option<usize>, Reply> {
            match self.get(name) {
                None => Ok(None),
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if n < 0 => Err(bad_request(&format!("{name} param must be positive"))),
                    Ok(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
                    Err(_) => Err(bad_request(&format!("{name} param must be an integer"))),
                },
            }
        };
        let limit = number("limit")?.unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
        let offset = number("offset")?.unwrap_or(0);
        let count = all.iter().filter(|i| keep(i)).count();
        let start = match self.get("marker") {
            Some(marker) => match all.iter().position(|i| id(i) == marker) {
                Some(at) => at + 1,
                None => return Err(not_found(what, marker)),
            },
            None => 0,
        };
        let items: Vec<&T> = all[start..].iter().filter(|i| keep(i)).skip(offset).take(limit).collect();
        let with_count = self.get("with_count").is_some_and(|v| v == "true");
        let linked = !items.is_empty() && (limit <= items.len() || (with_count && limit <= count));
        let next = if linked { items.last().map(|i| id(i).to_owned()) } else { None };
        Ok(Page { items, next, count })
    }

    /// The list body: items, the next link (every parameter of the query,
    /// re-encoded, with the next marker), the count when asked for.
    fn listing<T>(&self, key: &str, items: Vec<Value>, page: Page<'_, T>, base: &str, path: &str) -> Value {
        let mut body = json!({ key: items });
        if let Some(marker) = page.next
            && let Ok(mut href) = wiremock::http::Url::parse(&format!("{base}/v3/{PROJECT}/{path}"))
        {
            href.query_pairs_mut()
                .extend_pairs(self.0.iter().filter(|(k, _)| k != "marker"))
                .append_pair("marker", &marker);
            body[format!("{key}_links")] = json!([{"rel": "next", "href": href.as_str()}]);
        }
        if self.get("with_count").is_some_and(|v| v == "true") {
            body["count"] = json!(page.count);
        }
        body
    }
}
