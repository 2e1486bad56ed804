//! The fake Trove: database instances a test adds, their backups (full and
//! incremental, with parents) and backup strategies, as Trove 26 answers
//! (offset paging with `https` next links under `links`, newest `updated`
//! first; its fault names and status codes).

use chrono::{DateTime, Utc};
use openstack_backups::database::types;
use serde_json::{Value, json};

use crate::{PROJECT, Reply, typed};

/// How long a backup takes on the fake clock, seconds: `NEW` →
/// `BUILDING` after `BACKUP_BUILDING`, `COMPLETED` (or `FAILED`) after
/// `BACKUP_DONE`; a deleted backup is gone after `DELETE`.
const BACKUP_BUILDING: i64 = 1;
const BACKUP_DONE: i64 = 3;
const DELETE: i64 = 1;

/// Trove's `backups_page_size`: the page size without `limit` (not a cap).
const PAGE_SIZE: usize = 20;

/// Trove's `max_backups_per_tenant`.
const BACKUP_QUOTA: usize = 50;

/// The container of a backup made without one and without a strategy
/// (Trove's `backup_swift_container`).
const DEFAULT_CONTAINER: &str = "database_backups";

/// The datastore every fake instance runs: its name, its version's name
/// and id, and the datastore's id (what the list's `datastore` filter takes
/// beside the name).
const DATASTORE: (&str, &str, &str, &str) =
    ("mysql", "5.7.29", "00000000-0000-4000-8000-00000000d5d5", "00000000-0000-4000-8000-00000000d5d0");

/// What a request is: the client method it answers, and the id in its path.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) operation: &'static str,
    id: Option<String>,
    /// The project segment of the path, when it is not the token's.
    foreign: Option<String>,
}

/// The route of `method` `path` (`/v1.0/<project>/backups/<id>`).
pub(crate) fn route(method: &str, path: &str) -> Route {
    let Some(rest) = path.strip_prefix("/v1.0/") else {
        return Route { operation: "unknown", id: None, foreign: None };
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let Some((project, segments)) = segments.split_first() else {
        return Route { operation: "unknown", id: None, foreign: None };
    };
    let foreign = (*project != PROJECT).then(|| (*project).to_owned());
    let (operation, id) = match (method, segments) {
        ("GET", ["backups"]) => ("list_database_backups", None),
        ("POST", ["backups"]) => ("create_database_backup", None),
        ("GET", ["backups", id]) => ("show_database_backup", Some(*id)),
        ("DELETE", ["backups", id]) => ("delete_database_backup", Some(*id)),
        ("GET", ["instances", id, "backups"]) => ("list_instance_backups", Some(*id)),
        ("GET", ["backup_strategies"]) => ("list_backup_strategies", None),
        ("POST", ["backup_strategies"]) => ("create_backup_strategy", None),
        ("DELETE", ["backup_strategies"]) => ("delete_backup_strategy", None),
        _ => ("unknown", None),
    };
    Route { operation, id: id.map(str::to_owned), foreign }
}

/// A change due at a time of the fake clock.
#[derive(Debug, Clone)]
enum Event {
    Building(String),
    Done(String),
    Gone(String),
}

/// A backup, and the reason it will fail with, if it will.
#[derive(Debug, Clone)]
struct Backup {
    shown: types::Backup,
    fails: Option<String>,
    container: String,
}

/// The project's instances, backups (in creation order) and strategies.
#[derive(Debug, Default)]
pub(crate) struct Trove {
    next: u64,
    /// The ids of the instances (all `ACTIVE`).
    instances: Vec<String>,
    backups: Vec<Backup>,
    strategies: Vec<types::BackupStrategy>,
    due: Vec<(DateTime<Utc>, Event)>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn fault(status: u16, name: &str, message: &str) -> Reply {
    Reply::fault(status, name, message)
}

fn not_found(id: &str) -> Reply {
    fault(404, "itemNotFound", &format!("Resource {id} cannot be found."))
}

fn internal() -> Reply {
    fault(
        500,
        "instanceFault",
        "Internal Server Error. Please keep this ID to help us figure out what went wrong: (fake).",
    )
}

/// Whether `s` has a letter or digit (Trove's name and container pattern).
fn has_alnum(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_alphanumeric())
}

/// Whether `s` is a UUID with its hyphens (Trove's pattern).
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Trove {
    fn new_id(&mut self, kind: u64) -> String {
        self.next += 1;
        format!("00000000-0000-4000-{kind:04x}-{:012x}", self.next)
    }

    /// Adds an `ACTIVE` instance; its id.
    pub(crate) fn add_instance(&mut self) -> String {
        let id = self.new_id(0x9000);
        self.instances.push(id.clone());
        id
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

    fn backup(&mut self, id: &str) -> Option<&mut Backup> {
        self.backups.iter_mut().find(|b| b.shown.id == id)
    }

    fn apply(&mut self, at: DateTime<Utc>, event: Event) {
        // Trove writes whole seconds, without a zone.
        let updated = stamp(at).parse::<openstack_backups::Timestamp>().ok();
        match event {
            Event::Building(id) => {
                if let Some(b) = self.backup(&id) {
                    b.shown.status = types::BackupStatus::Building;
                    b.shown.updated = updated;
                }
            }
            Event::Done(id) => {
                if let Some(b) = self.backup(&id) {
                    b.shown.updated = updated;
                    if b.fails.is_some() {
                        b.shown.status = types::BackupStatus::Failed;
                    } else {
                        b.shown.status = types::BackupStatus::Completed;
                        b.shown.size = Some(0.12);
                        b.shown.location_ref = Some(format!(
                            "http://127.0.0.1:8080/v1/AUTH_{PROJECT}/{}/{}.xbstream.gz.enc",
                            b.container, b.shown.id
                        ));
                    }
                }
            }
            Event::Gone(id) => self.backups.retain(|b| b.shown.id != id),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn handle(
        &mut self,
        route: &Route,
        admin: bool,
        query: &[(String, String)],
        body: &Value,
        now: DateTime<Utc>,
        base: &str,
        failing: &std::collections::BTreeMap<String, String>,
    ) -> Reply {
        if let Some(project) = &route.foreign {
            return fault(
                403,
                "forbidden",
                &format!("User with tenant id {PROJECT} cannot access this resource ({project})."),
            );
        }
        let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let id = route.id.as_deref().unwrap_or_default();
        let result = match route.operation {
            "list_database_backups" => match (get("project_id"), get("all_projects")) {
                (Some(p), _) if p != PROJECT && !admin => {
                    Err(fault(403, "forbidden", &format!("User with tenant id {PROJECT} cannot access this resource.")))
                }
                (_, Some(_)) if !admin => {
                    Err(fault(403, "forbidden", "Policy doesn't allow backup:index:all_projects to be performed."))
                }
                _ => self.list(get("instance_id"), get("datastore"), query, base, "backups"),
            },
            "list_instance_backups" => {
                if self.instances.iter().any(|i| i == id) {
                    self.list(Some(id), None, query, base, &format!("instances/{id}/backups"))
                } else {
                    Err(not_found(id))
                }
            }
            "create_database_backup" => self.create(body, now, failing),
            "show_database_backup" => self
                .backups
                .iter()
                .find(|b| b.shown.id == id)
                .map(|b| typed::<types::BackupResponse>(200, json!({ "backup": b.shown })))
                .ok_or_else(|| not_found(id)),
            "delete_database_backup" => self.delete(id, now),
            "list_backup_strategies" => self.list_strategies(get("instance_id"), get("project_id"), admin),
            "create_backup_strategy" => self.create_strategy(body),
            "delete_backup_strategy" => {
                let instance = get("instance_id").unwrap_or_default();
                self.strategies.retain(|s| s.instance_id != instance);
                Ok(Reply::empty(202))
            }
            _ => Ok(Reply::json(
                404,
                json!({"itemNotFound": {"code": 404, "message": "The resource could not be found."}}),
            )),
        };
        result.unwrap_or_else(|refusal| refusal)
    }

    /// A page of backups, newest `updated` first: `marker` is the number of
    /// backups to skip; a next link (scheme `https`) whenever the page is
    /// full.
    fn list(
        &self,
        instance: Option<&str>,
        datastore: Option<&str>,
        query: &[(String, String)],
        base: &str,
        path: &str,
    ) -> Result<Reply, Reply> {
        if let Some(d) = datastore
            && d != DATASTORE.0
            && d != DATASTORE.3
        {
            return Err(fault(404, "itemNotFound", &format!("Datastore '{d}' cannot be found.")));
        }
        let number = |name: &str, default: usize| -> Result<usize, Reply> {
            match query.iter().find(|(k, _)| k == name) {
                None => Ok(default),
                // Trove reads both with int(): anything else is a 500.
                Some((_, v)) => v.parse::<usize>().map_err(|_| internal()),
            }
        };
        let limit = number("limit", PAGE_SIZE)?;
        let offset = number("marker", 0)?;
        let mut rows: Vec<&types::Backup> = self
            .backups
            .iter()
            .map(|b| &b.shown)
            .filter(|b| instance.is_none_or(|i| b.instance_id.as_deref() == Some(i)))
            .collect();
        rows.sort_by(|a, b| b.updated.as_ref().map(|t| t.to_utc()).cmp(&a.updated.as_ref().map(|t| t.to_utc())));
        let page: Vec<&types::Backup> = rows.into_iter().skip(offset).take(limit).collect();
        let mut body = json!({ "backups": page });
        if limit > 0 && page.len() == limit {
            let base = base.replacen("http://", "https://", 1);
            if let Ok(mut href) = wiremock::http::Url::parse(&format!("{base}/v1.0/{PROJECT}/{path}")) {
                href.query_pairs_mut()
                    .extend_pairs(query.iter().filter(|(k, _)| k != "marker"))
                    .append_pair("marker", &(offset + limit).to_string());
                body["links"] = json!([{"rel": "next", "href": href.as_str()}]);
            }
        }
        Ok(typed::<types::BackupList>(200, body))
    }

    fn create(
        &mut self,
        body: &Value,
        now: DateTime<Utc>,
        failing: &std::collections::BTreeMap<String, String>,
    ) -> Result<Reply, Reply> {
        let request = &body["backup"];
        let Some(name) = request["name"].as_str().filter(|n| has_alnum(n)) else {
            return Err(fault(400, "badRequest", "Validation error: backup['name'] is not a valid name."));
        };
        if !matches!(request["incremental"], Value::Null) && request["incremental"].as_u64().is_none_or(|i| i > 1) {
            return Err(fault(400, "badRequest", "Validation error: backup['incremental'] is not of type 'integer'"));
        }
        let Some(instance) = request["instance"].as_str() else {
            return Err(fault(400, "badRequest", "Backup creation error: instance is missing."));
        };
        if !is_uuid(instance) {
            return Err(fault(
                400,
                "badRequest",
                "Validation error: backup['instance'] does not match the UUID pattern.",
            ));
        }
        if !self.instances.iter().any(|i| i == instance) {
            return Err(not_found(instance));
        }
        let running = |s: &types::BackupStatus| {
            matches!(s, types::BackupStatus::New | types::BackupStatus::Building | types::BackupStatus::Saving)
        };
        if self.backups.iter().any(|b| b.shown.instance_id.as_deref() == Some(instance) && running(&b.shown.status)) {
            return Err(fault(
                422,
                "unprocessableEntity",
                &format!("Instance {instance} is not ready. (Status is BACKUP)."),
            ));
        }
        for field in ["description", "swift_container"] {
            match &request[field] {
                Value::Null if request.get(field).is_none() => {}
                Value::String(v) if (1..=255).contains(&v.len()) && has_alnum(v) => {}
                other => {
                    return Err(fault(
                        400,
                        "badRequest",
                        &format!("Validation error: backup['{field}'] {other} is not valid."),
                    ));
                }
            }
        }
        if let Some(p) = request["parent_id"].as_str()
            && !is_uuid(p)
        {
            return Err(fault(
                400,
                "badRequest",
                &format!("Validation error: backup['parent_id'] '{p}' does not match the UUID pattern."),
            ));
        }
        let parent = match request["parent_id"].as_str() {
            Some(p) => {
                self.backups.iter().find(|b| b.shown.id == p).ok_or_else(|| not_found(p))?;
                Some(p.to_owned())
            }
            None if request["incremental"].as_u64() == Some(1) => self
                .backups
                .iter()
                .filter(|b| {
                    b.shown.instance_id.as_deref() == Some(instance) && b.shown.status == types::BackupStatus::Completed
                })
                .max_by_key(|b| b.shown.created.to_utc())
                .map(|b| b.shown.id.clone()),
            None => None,
        };
        if self.backups.len() >= BACKUP_QUOTA {
            return Err(
                fault(413, "overLimit", "Quota exceeded for resources: ['backups'].").header("retry-after", "0")
            );
        }
        let container = match request["swift_container"].as_str() {
            Some(c) => c.to_owned(),
            None => self.container_for(instance),
        };
        let id = self.new_id(0xb000);
        let shown = serde_json::from_value::<types::Backup>(json!({
            "id": id, "name": name, "description": request["description"], "locationRef": null,
            "instance_id": instance, "created": stamp(now), "updated": stamp(now), "size": null,
            "status": "NEW", "parent_id": parent, "project_id": PROJECT,
            "datastore": {"type": DATASTORE.0, "version": DATASTORE.1, "version_id": DATASTORE.2}
        }))
        .map_err(|e| fault(500, "instanceFault", &format!("the fake's own state: {e}")))?;
        let fails = failing.get(instance).cloned();
        self.backups.push(Backup { shown: shown.clone(), fails, container });
        self.at(now, BACKUP_BUILDING, Event::Building(id.clone()));
        self.at(now, BACKUP_DONE, Event::Done(id));
        Ok(typed::<types::BackupResponse>(202, json!({ "backup": shown })))
    }

    /// The container of a backup of `instance` made without one: its
    /// strategy's, else the project's, else Trove's default.
    fn container_for(&self, instance: &str) -> String {
        let of = |i: &str| self.strategies.iter().find(|s| s.instance_id == i).map(|s| s.swift_container.clone());
        of(instance).or_else(|| of("")).unwrap_or_else(|| DEFAULT_CONTAINER.to_owned())
    }

    /// Deletes `id` and, first, its incremental children (recursively). A
    /// running backup cannot be: Trove 26 answers 500 `instanceFault` (its
    /// age check fails before the 422 it means).
    fn delete(&mut self, id: &str, now: DateTime<Utc>) -> Result<Reply, Reply> {
        self.backups.iter().find(|b| b.shown.id == id).ok_or_else(|| not_found(id))?;
        let mut doomed = vec![id.to_owned()];
        let mut i = 0;
        while let Some(parent) = doomed.get(i).cloned() {
            doomed.extend(
                self.backups
                    .iter()
                    .filter(|b| b.shown.parent_id.as_deref() == Some(&parent))
                    .map(|b| b.shown.id.clone()),
            );
            i += 1;
        }
        // Each backup of the chain is refused while it runs (Trove deletes
        // the children first, each through the same check).
        let running = |b: &Backup| {
            matches!(
                b.shown.status,
                types::BackupStatus::New | types::BackupStatus::Building | types::BackupStatus::Saving
            )
        };
        if self.backups.iter().any(|b| doomed.contains(&b.shown.id) && running(b)) {
            return Err(internal());
        }
        for id in doomed {
            self.at(now, DELETE, Event::Gone(id));
        }
        Ok(Reply::empty(202))
    }

    fn list_strategies(&self, instance: Option<&str>, project: Option<&str>, admin: bool) -> Result<Reply, Reply> {
        match project {
            Some(p) if p != PROJECT && !admin => {
                return Err(fault(403, "forbidden", &format!("Operation not allowed for tenant {PROJECT}.")));
            }
            Some(p) if p != PROJECT => {
                return Ok(typed::<types::BackupStrategyList>(200, json!({"backup_strategies": []})));
            }
            _ => {}
        }
        let shown: Vec<&types::BackupStrategy> =
            self.strategies.iter().filter(|s| instance.is_none_or(|i| i.is_empty() || s.instance_id == i)).collect();
        Ok(typed::<types::BackupStrategyList>(200, json!({ "backup_strategies": shown })))
    }

    fn create_strategy(&mut self, body: &Value) -> Result<Reply, Reply> {
        let request = &body["backup_strategy"];
        match request {
            Value::Object(_) => {}
            // No `backup_strategy` at all: Trove 26's 500 (its validator's
            // path is empty); one that is not an object: its 400.
            Value::Null if body.get("backup_strategy").is_none() => return Err(internal()),
            other => {
                return Err(fault(
                    400,
                    "badRequest",
                    &format!("Validation error: backup_strategy {other} is not of type 'object'"),
                ));
            }
        }
        if let Some(extra) =
            request.as_object().and_then(|o| o.keys().find(|k| *k != "instance_id" && *k != "swift_container"))
        {
            return Err(fault(
                400,
                "badRequest",
                &format!(
                    "Validation error: backup_strategy Additional properties are not allowed ('{extra}' was unexpected)"
                ),
            ));
        }
        let Some(container) = request["swift_container"].as_str() else {
            return Err(fault(
                400,
                "badRequest",
                "Validation error: backup_strategy 'swift_container' is a required property",
            ));
        };
        if container.is_empty() || container.len() > 255 || !has_alnum(container) {
            return Err(fault(400, "badRequest", "Validation error: backup_strategy['swift_container'] is not valid."));
        }
        let instance = match &request["instance_id"] {
            Value::Null if request.get("instance_id").is_none() => String::new(),
            Value::String(i) if is_uuid(i) => i.clone(),
            _ => {
                return Err(fault(
                    400,
                    "badRequest",
                    "Validation error: backup_strategy['instance_id'] is not a UUID.",
                ));
            }
        };
        let strategy = types::BackupStrategy {
            backend: Some("swift".into()),
            instance_id: instance.clone(),
            project_id: Some(PROJECT.into()),
            swift_container: container.to_owned(),
        };
        self.strategies.retain(|s| s.instance_id != instance);
        self.strategies.push(strategy.clone());
        Ok(typed::<types::BackupStrategyResponse>(202, json!({ "backup_strategy": strategy })))
    }
}
