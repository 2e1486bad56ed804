//! A fake OpenStack cloud in the test's own process, for testing code that
//! uses `openstack-backups` in milliseconds and without a cloud.
//!
//! [`FakeCloud::start`] serves, on a loopback port:
//! - **Keystone** (`/identity/v3/auth/tokens`): password, application
//!   credential and token authentication for one project and two users, a
//!   member ([`USER`], [`PASSWORD`], [`APPLICATION_CREDENTIAL`]) and an
//!   administrator ([`ADMIN_USER`]), a catalog with `block-storage` and
//!   `database`, and tokens that expire when the test says
//!   ([`FakeCloud::expire_tokens`]);
//! - **Cinder** (`/v3/<project>/…`): the version document (3.0 to 3.71, as
//!   Cinder 29), volumes, snapshots and backups (full, incremental, from a
//!   snapshot), restore to a new or an existing volume (as Cinder 29: the
//!   volume's `src_backup_id` metadata, and a new volume made without a
//!   name takes the backed-up volume's name and description), backup updates
//!   (3.9), snapshot updates and metadata, a volume's revert to its latest
//!   snapshot (3.40), limits and quota sets (usage counted from what the
//!   project holds), and what the default policy keeps to administrators
//!   (quota updates, reset status, force delete, unmanage, backup export
//!   and import: 403 `forbidden` for the member). Statuses move as
//!   Cinder's do (`creating` → `available`, `deleting` → gone,
//!   `backing-up`, `restoring-backup`, `reverting`, `error` with
//!   `fail_reason`) on a clock the test controls ([`FakeClock`], which the
//!   session's waiters sleep on, so a wait takes no time). Cinder's
//!   refusals come with its status codes and fault names: a backup with
//!   incrementals or a volume with snapshots cannot be deleted, an
//!   incremental needs an available full backup, an attached volume
//!   ([`FakeCloud::attach_volume`]) needs `force` for a backup (and for a
//!   snapshot below 3.66), a resource in the wrong status cannot be backed
//!   up, deleted or restored, the quotas give 413 `overLimit` with
//!   `Retry-After: 0`, an unknown id 404 `itemNotFound`. Lists page with
//!   `limit` and `marker`, newest first, with next links as Cinder writes
//!   them;
//! - Cinder's **user messages** (3.3; filters and paging from 3.5): a backup that
//!   fails leaves Cinder's message (`VOLUME_VOLUME_BACKUP_013_020`, "create
//!   backup:Backup driver failed to create backup.") for 30 days;
//! - **Trove** (`/v1.0/<project>/…`): backups of the instances a test adds
//!   ([`FakeCloud::add_database_instance`]), full or incremental (with
//!   `parent_id`), `NEW` → `BUILDING` → `COMPLETED`; one running backup per
//!   instance (422), deletion that takes the incrementals along (a running
//!   backup's is Trove 26's 500), offset paging with `https` next links,
//!   the backups of one instance, and backup strategies that choose the
//!   container of a backup made without one.
//!
//! Faults a test scripts: [`FakeCloud::fail`] (the next N calls of an
//! operation answer a fault: a refused create, a 503 burst), and
//! [`FakeCloud::fail_backups_of`] (a volume's backups end in `error`, with
//! the user message Cinder writes; an instance's in `FAILED`).
//!
//! Responses are the generated types of the spec (`types::Backup`, …),
//! serialised: a spec change reaches the fake through them. The suite
//! holds it against the real Cinder 29 and Trove 26 of the test harness:
//! one lifecycle (`tests/lifecycle.rs`) runs against both and what a
//! client observes must agree (`tests/tests/real_cinder.rs`,
//! `the_fake_cloud_agrees`; `tests/tests/real_trove.rs`, the same for
//! Trove).
//!
//! Microversions: `OpenStack-API-Version` is read as Cinder reads it (400
//! malformed, 406 outside 3.0 to 3.71) and every `/v3` response says the
//! version it was made at; `with_count` counts from 3.45, a filter outside
//! Cinder's defaults is a 400 from 3.31, a backup's `metadata` needs 3.43.
//! Timings are [`TIMINGS`].
//!
//! Not served (a 404 that is not a Cinder fault): volume metadata and
//! updates, volume actions other than `revert`, attachments through the
//! API (attach with [`FakeCloud::attach_volume`]), manageable snapshots,
//! resource filters, group types, volume groups and group snapshots, the
//! project-less endpoint form; Trove's instances
//! (and so restore), a database backup's `restore_from` and the `cinder`
//! storage driver. Lists are always newest first: `sort`, `sort_key`
//! and `sort_dir` are not honoured. Responses carry the same fields at
//! every microversion, the member's view (admin-only fields such as
//! `os-backup-project-attr:project_id` are absent).

#![deny(missing_docs)]

mod cinder;
mod keystone;
mod trove;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use openstack_backups::auth::{AuthMethod, Domain, Project, Scope, User};
use openstack_backups::clock::{Clock, Sleep};
use openstack_backups::retry::RetryPolicy;
use openstack_backups::{Error, Secret, Session, SessionBuilder};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The fake Keystone's user (in the `Default` domain).
pub const USER: &str = "demo";
/// The user's password.
pub const PASSWORD: &str = "demo-password";
/// The project the user's tokens are scoped to (its name and its id).
pub const PROJECT: &str = "demo";
/// An application credential of the user: its id and its secret.
pub const APPLICATION_CREDENTIAL: (&str, &str) = ("demo-app-cred", "demo-app-secret");
/// The project's administrator (roles `admin`, `member` and `reader`, in
/// the `Default` domain): what Cinder's default policy keeps to
/// administrators (quota updates and deletes, another project's quotas,
/// reset status, force delete, unmanage, backup export and import) is
/// refused to [`USER`] with 403 `forbidden`, before the resource is looked
/// up (an unknown id is a 403 too, for the member).
pub const ADMIN_USER: &str = "admin";
/// The administrator's password.
pub const ADMIN_PASSWORD: &str = "admin-password";

/// The operations the fake serves (client method names), for
/// [`FakeCloud::fail`].
pub const OPERATIONS: &[&str] = &[
    "issue_token",
    "list_api_versions",
    "show_api_v3_version",
    "create_volume",
    "list_volumes",
    "list_volumes_detail",
    "show_volume",
    "delete_volume",
    "create_snapshot",
    "list_snapshots",
    "list_snapshots_detail",
    "show_snapshot",
    "delete_snapshot",
    "create_backup",
    "list_backups",
    "list_backups_detail",
    "show_backup",
    "delete_backup",
    "restore_backup",
    "list_messages",
    "show_message",
    "delete_message",
    "update_backup",
    "export_backup_record",
    "import_backup_record",
    "reset_backup_status",
    "force_delete_backup",
    "update_snapshot",
    "reset_snapshot_status",
    "force_delete_snapshot",
    "update_snapshot_status",
    "unmanage_snapshot",
    "show_snapshot_metadata",
    "merge_snapshot_metadata",
    "replace_snapshot_metadata",
    "show_snapshot_metadata_key",
    "update_snapshot_metadata_key",
    "delete_snapshot_metadata_key",
    "revert_volume_to_snapshot",
    "show_limits",
    "show_quota_set",
    "update_quota_set",
    "delete_quota_set",
    "show_quota_set_defaults",
    "list_database_backups",
    "create_database_backup",
    "show_database_backup",
    "delete_database_backup",
    "list_instance_backups",
    "list_backup_strategies",
    "create_backup_strategy",
    "delete_backup_strategy",
];

/// How long each change takes on the fake clock: a volume or a snapshot
/// becomes `available` 1 s after its create, a backup 3 s after, a restore,
/// an import or a revert ends 3 s after it started, a deleted resource is
/// gone 1 s after; a database backup is `BUILDING` 1 s after its create
/// and `COMPLETED` 3 s after, and gone 1 s after its deletion.
pub const TIMINGS: &str = "volume 1 s, snapshot 1 s, backup 3 s, restore 3 s, delete 1 s; \
     database backup: BUILDING 1 s, COMPLETED 3 s, delete 1 s";

/// The fake cloud's clock: its statuses move on it.
///
/// Made by [`FakeCloud::start`], it stands still unless moved: each sleep
/// on it (a session's waiter, a retry's backoff) moves it forward at once,
/// and [`advance`](Self::advance) moves it by hand, so a test's waits take
/// no time. Made by [`FakeCloud::start_scaled`], it also runs on its own,
/// `scale` times faster than real time, for programs that wait on the real
/// clock (a command-line tool in another process): at 100, a backup's three
/// seconds pass in 30 ms. A sleep on a scaled clock sleeps the scaled
/// duration.
#[derive(Debug)]
pub struct FakeClock {
    state: Mutex<ClockState>,
}

#[derive(Debug)]
struct ClockState {
    /// The time at `started`, plus every move by hand or by sleep.
    base: DateTime<Utc>,
    /// When the clock was made, and how much faster than real time it
    /// runs (`None`: it stands still).
    running: Option<(std::time::Instant, f64)>,
}

impl FakeClock {
    /// A clock at `start` that stands still unless moved.
    pub fn at(start: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self { state: Mutex::new(ClockState { base: start, running: None }) })
    }

    /// A clock at `start` that runs `scale` times faster than real time
    /// (a `scale` that is not a positive number is 1).
    pub fn scaled(start: DateTime<Utc>, scale: f64) -> Arc<Self> {
        let scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
        Arc::new(Self {
            state: Mutex::new(ClockState { base: start, running: Some((std::time::Instant::now(), scale)) }),
        })
    }

    /// Moves the time forward by `by` (up to the largest time there is).
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut state = lock(&self.state);
        state.base = state.base.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        let state = lock(&self.state);
        match state.running {
            None => state.base,
            Some((started, scale)) => {
                let ran = started.elapsed().mul_f64(scale);
                let ran = chrono::Duration::from_std(ran).unwrap_or(chrono::Duration::MAX);
                state.base.checked_add_signed(ran).unwrap_or(DateTime::<Utc>::MAX_UTC)
            }
        }
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let running = lock(&self.state).running;
        match running {
            None => {
                self.advance(duration);
                Box::pin(std::future::ready(()))
            }
            Some((_, scale)) => Box::pin(tokio::time::sleep(duration.div_f64(scale))),
        }
    }
}

/// A mutex's guard, also after a panic elsewhere poisoned it (the state
/// stays usable for the rest of the test).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A scripted failure: the next `times` calls of `operation` answer
/// `status` with the fault `name` and `message`.
#[derive(Debug, Clone)]
struct Failure {
    operation: String,
    times: usize,
    status: u16,
    name: String,
    message: String,
}

/// The cloud's state, behind one lock.
#[derive(Debug)]
struct Cloud {
    base: String,
    clock: Arc<FakeClock>,
    keystone: keystone::Keystone,
    cinder: cinder::Cinder,
    trove: trove::Trove,
    failures: Vec<Failure>,
    requests: u64,
}

/// A running fake cloud. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeCloud {
    server: MockServer,
    cloud: Arc<Mutex<Cloud>>,
    clock: Arc<FakeClock>,
}

impl FakeCloud {
    /// Starts the fake on a free loopback port, its clock at
    /// 2026-01-01T00:00:00Z, standing still unless moved (see [`FakeClock`]).
    pub async fn start() -> FakeCloud {
        Self::start_with(FakeClock::at(Self::epoch())).await
    }

    /// Starts the fake with a clock that starts at the real time now and
    /// runs `scale` times faster than real time: for programs in another
    /// process, which wait on the real clock (`osbackup … --wait`) and
    /// compare the fake's timestamps with it (a backup policy's age of a
    /// backup): with a `scale` of 1 or more, the fake's times are never
    /// behind theirs.
    pub async fn start_scaled(scale: f64) -> FakeCloud {
        Self::start_with(FakeClock::scaled(DateTime::<Utc>::from(std::time::SystemTime::now()), scale)).await
    }

    fn epoch() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default()
    }

    async fn start_with(clock: Arc<FakeClock>) -> FakeCloud {
        let server = MockServer::start().await;
        let cloud = Arc::new(Mutex::new(Cloud {
            base: server.uri(),
            clock: clock.clone(),
            keystone: keystone::Keystone::default(),
            cinder: cinder::Cinder::default(),
            trove: trove::Trove::default(),
            failures: Vec::new(),
            requests: 0,
        }));
        Mock::given(wiremock::matchers::any()).respond_with(Responder(cloud.clone())).mount(&server).await;
        FakeCloud { server, cloud, clock }
    }

    /// The environment of a program that authenticates to the fake as its
    /// user (`OS_AUTH_URL`, `OS_USERNAME`, `OS_PASSWORD`, the project and
    /// domains), as `clouds.yaml`'s environment variables say it.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OS_AUTH_URL", self.auth_url()),
            ("OS_AUTH_TYPE", "password".to_owned()),
            ("OS_USERNAME", USER.to_owned()),
            ("OS_PASSWORD", PASSWORD.to_owned()),
            ("OS_USER_DOMAIN_NAME", "Default".to_owned()),
            ("OS_PROJECT_NAME", PROJECT.to_owned()),
            ("OS_PROJECT_DOMAIN_ID", "default".to_owned()),
        ]
    }

    /// Keystone's URL, the session's `auth_url` (`http://127.0.0.1:…/identity`).
    pub fn auth_url(&self) -> String {
        format!("{}/identity", self.server.uri())
    }

    /// Cinder's endpoint for the project (`http://127.0.0.1:…/v3/demo`), as
    /// the catalog gives it.
    pub fn block_storage_endpoint(&self) -> String {
        format!("{}/v3/{PROJECT}", self.server.uri())
    }

    /// Trove's endpoint for the project (`http://127.0.0.1:…/v1.0/demo`),
    /// as the catalog gives it.
    pub fn database_endpoint(&self) -> String {
        format!("{}/v1.0/{PROJECT}", self.server.uri())
    }

    /// The clock the cloud's statuses move on; give it to clients made by
    /// hand (`ClientConfig::with_clock`) so that their waits take no time.
    pub fn clock(&self) -> Arc<FakeClock> {
        self.clock.clone()
    }

    /// A session that authenticates with the user's password, scoped to
    /// the project, on the fake's clock, retrying without jitter.
    ///
    /// # Errors
    /// What [`SessionBuilder::build`](openstack_backups::SessionBuilder::build)
    /// returns (nothing is sent yet).
    pub fn session(&self) -> Result<Session, Error> {
        self.session_as(USER, PASSWORD)
    }

    /// A session as [`session`](Self::session) makes, for the project's
    /// administrator ([`ADMIN_USER`]).
    ///
    /// # Errors
    /// What [`SessionBuilder::build`](openstack_backups::SessionBuilder::build)
    /// returns (nothing is sent yet).
    pub fn admin_session(&self) -> Result<Session, Error> {
        self.session_as(ADMIN_USER, ADMIN_PASSWORD)
    }

    fn session_as(&self, user: &str, password: &str) -> Result<Session, Error> {
        self.builder_as(user, password).build()
    }

    /// The builder of [`session`](Self::session)'s session (the user's
    /// password, the project, the fake's clock, retries without jitter),
    /// for a test that sets more: a retry policy (a retry's backoff moves
    /// the fake clock, so statuses move between attempts; a test of a
    /// refusal may want [`RetryPolicy::none`]), a pinned microversion.
    pub fn session_builder(&self) -> SessionBuilder {
        self.builder_as(USER, PASSWORD)
    }

    fn builder_as(&self, user: &str, password: &str) -> SessionBuilder {
        Session::builder()
            .auth_url(self.auth_url())
            .auth(AuthMethod::Password {
                user: User::Name { name: user.into(), domain: Domain::Name("Default".into()) },
                password: Secret::new(password),
            })
            .scope(Scope::Project(Project::Name { name: PROJECT.into(), domain: Domain::Id("default".into()) }))
            .clock(self.clock.clone())
            .retry(RetryPolicy { jitter: false, ..RetryPolicy::default() })
    }

    /// Makes every token issued so far invalid: the next call with one
    /// gets a 401 (and a session authenticates again).
    pub fn expire_tokens(&self) {
        lock(&self.cloud).keystone.expire_all();
    }

    /// The next `times` requests of `operation` (one of [`OPERATIONS`]: a
    /// client method name, `create_backup`, `show_volume`, …;
    /// `issue_token` for Keystone) answer `status` with the fault
    /// `{"<name>": {"code", "message"}}` instead of doing anything. Each
    /// request counts: a client's retries, each page of a stream. A 503
    /// burst is `fail("list_backups_detail", 3, 503, "serviceUnavailable",
    /// "…")` (a 503 or 413 carries `Retry-After: 0`).
    ///
    /// # Panics
    /// For an operation the fake does not serve, or a status outside
    /// 100 to 599: a failure that could never happen.
    pub fn fail(&self, operation: &str, times: usize, status: u16, name: &str, message: &str) {
        assert!(
            OPERATIONS.contains(&operation),
            "the fake serves no operation `{operation}`; it serves {OPERATIONS:?}"
        );
        assert!((100..600).contains(&status), "HTTP status {status} is not one a server can answer");
        lock(&self.cloud).failures.push(Failure {
            operation: operation.to_owned(),
            times,
            status,
            name: name.to_owned(),
            message: message.to_owned(),
        });
    }

    /// Backups of `volume_id` (a Cinder volume or a database instance)
    /// made from now on fail: a volume's end in `error`, with `reason` as
    /// their `fail_reason` and Cinder's user message; an instance's end in
    /// `FAILED`. Those already being made are not touched.
    /// [`FakeCloud::heal_backups_of`] undoes it.
    pub fn fail_backups_of(&self, volume_id: &str, reason: &str) {
        lock(&self.cloud).cinder.failing_volumes.insert(volume_id.to_owned(), reason.to_owned());
    }

    /// Backups of `volume_id` made from now on succeed again.
    pub fn heal_backups_of(&self, volume_id: &str) {
        lock(&self.cloud).cinder.failing_volumes.remove(volume_id);
    }

    /// Attaches an `available` volume to a server, as Nova would: it is
    /// `in-use` (a backup then needs `force`, a snapshot `force` below
    /// microversion 3.66; it cannot be deleted). False for an unknown
    /// volume or one that is not `available`.
    pub fn attach_volume(&self, volume_id: &str, server_id: &str) -> bool {
        let mut cloud = lock(&self.cloud);
        let now = cloud.clock.now();
        cloud.cinder.advance(now);
        cloud.cinder.attach(volume_id, server_id, now)
    }

    /// Detaches an `in-use` volume: `available` again. False for an
    /// unknown volume or one that is not `in-use`.
    pub fn detach_volume(&self, volume_id: &str) -> bool {
        let mut cloud = lock(&self.cloud);
        let now = cloud.clock.now();
        cloud.cinder.advance(now);
        cloud.cinder.detach(volume_id)
    }

    /// Adds a database instance, `ACTIVE` (MySQL 5.7.29), that Trove
    /// backups can be made of; its id.
    pub fn add_database_instance(&self) -> String {
        lock(&self.cloud).trove.add_instance()
    }

    /// How many tokens Keystone has issued.
    pub fn tokens_issued(&self) -> u64 {
        lock(&self.cloud).keystone.issued()
    }

    /// The most backups the project may hold (Cinder's `backups` quota;
    /// default 10), as an administrator's quota update sets it.
    pub fn set_backup_quota(&self, backups: usize) {
        let limit = i64::try_from(backups).unwrap_or(i64::MAX);
        lock(&self.cloud).cinder.quotas.insert("backups".to_owned(), limit);
    }

    /// How many requests the fake has answered.
    pub fn requests(&self) -> u64 {
        lock(&self.cloud).requests
    }
}

/// The one responder: routes each request to Keystone or Cinder, after
/// the scripted failures, with the statuses brought up to the clock.
struct Responder(Arc<Mutex<Cloud>>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut cloud = lock(&self.0);
        cloud.requests += 1;
        let id = format!("req-{:08x}-0000-4000-8000-000000000000", cloud.requests);
        let reply = cloud.handle(request);
        let mut template = ResponseTemplate::new(reply.status).insert_header("x-openstack-request-id", id.as_str());
        for (name, value) in &reply.headers {
            template = template.insert_header(name.as_str(), value.as_str());
        }
        match reply.body {
            Some(body) => template.set_body_raw(body.to_string(), "application/json"),
            None => template,
        }
    }
}

/// An answer: status, extra headers, JSON body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply { status, headers: Vec::new(), body: Some(body) }
    }

    fn empty(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: None }
    }

    /// An OpenStack fault: `{"<name>": {"code": status, "message": …}}`.
    fn fault(status: u16, name: &str, message: &str) -> Reply {
        Reply::json(status, json!({ name: { "code": status, "message": message } }))
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// The body as the type the spec gives it, serialised (a shape the
/// generated type cannot carry is the fake's own bug: a 500 that says so).
fn typed<T: serde::Serialize + serde::de::DeserializeOwned>(status: u16, body: Value) -> Reply {
    match serde_json::from_value::<T>(body).and_then(|t| serde_json::to_value(&t)) {
        Ok(body) => Reply::json(status, body),
        Err(e) => Reply::fault(500, "computeFault", &format!("the fake made a body its spec type refuses: {e}")),
    }
}

impl Cloud {
    fn handle(&mut self, request: &Request) -> Reply {
        let now = self.clock.now();
        self.cinder.advance(now);
        self.trove.advance(now);
        let path = request.url.path().to_owned();
        let method = request.method.as_str().to_owned();
        let body: Value = if request.body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&request.body) {
                Ok(v) => v,
                Err(e) => return Reply::fault(400, "badRequest", &format!("Malformed request body: {e}")),
            }
        };

        if let Some(rest) = path.strip_prefix("/identity") {
            let operation = keystone::operation(&method, rest);
            if let Some(reply) = self.scripted(operation) {
                return reply;
            }
            return self.keystone.handle(operation, &body, now, &self.base);
        }
        let query: Vec<(String, String)> =
            request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let token = request.headers.get("x-auth-token").and_then(|v| v.to_str().ok());
        let admin = token.and_then(|t| self.keystone.valid(t, now));
        let unauthorized = || {
            Reply::json(
                401,
                json!({"error": {"code": 401, "title": "Unauthorized",
                    "message": "The request you have made requires authentication."}}),
            )
        };
        if path.starts_with("/v1.0/") {
            let route = trove::route(&method, &path);
            if let Some(reply) = self.scripted(route.operation) {
                return reply;
            }
            let Some(admin) = admin else { return unauthorized() };
            let failing = &self.cinder.failing_volumes;
            return self.trove.handle(&route, admin, &query, &body, now, &self.base, failing);
        }
        let route = cinder::route(&method, &path, &body);
        if let Some(reply) = self.scripted(route.operation) {
            return reply;
        }
        if route.needs_token && admin.is_none() {
            return unauthorized();
        }
        // Every response on `/v3` says the microversion it was made at.
        let header = request.headers.get("openstack-api-version").and_then(|v| v.to_str().ok());
        let version = match cinder::microversion(header) {
            Ok(v) => v,
            Err(refusal) => return refusal,
        };
        let request_id = format!("req-{:08x}-0000-4000-8000-000000000000", self.requests);
        let admin = admin.unwrap_or(false);
        let reply =
            self.cinder.handle(&route, admin, version, cinder::Query(query), &body, now, &self.base, &request_id);
        if path.starts_with("/v3") {
            reply
                .header("openstack-api-version", &format!("volume {}.{}", version.0, version.1))
                .header("vary", "OpenStack-API-Version")
        } else {
            reply
        }
    }

    /// The scripted failure of `operation`, if one is due.
    fn scripted(&mut self, operation: &str) -> Option<Reply> {
        let failure = self.failures.iter_mut().find(|f| f.operation == operation && f.times > 0)?;
        failure.times -= 1;
        let reply = Reply::fault(failure.status, &failure.name, &failure.message);
        Some(if failure.status == 503 || failure.status == 413 { reply.header("retry-after", "0") } else { reply })
    }
}
