//! A session: authenticates with Keystone (or uses a given token), finds
//! service endpoints in the catalog, negotiates microversions, and hands out
//! generated clients that share its connection pool, token, retry policy and
//! clock.
//!
//! ```no_run
//! # async fn example() -> Result<(), openstack_backups::Error> {
//! use futures_util::TryStreamExt;
//! let session = openstack_backups::Session::from_env().await?; // OS_CLOUD or OS_*
//! let cinder = session.block_storage().await?;
//! let backups: Vec<_> = cinder.list_backups_detail().stream().try_collect().await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AuthMethod, KeystoneAuth, Scope};
use crate::clock::{Clock, SystemClock};
use crate::cloud::{CloudConfig, Interface};
use crate::identity::types::CatalogEntry;
use crate::retry::RetryPolicy;
use crate::{ClientConfig, Error, Microversion, Secret, TokenSource};
use openstack_backups_runtime::__private::DEFAULT_CONNECT_TIMEOUT;
use openstack_backups_runtime::HttpOptions;
use openstack_backups_runtime::{ServiceClient, ServiceInfo, StaticToken};

/// Builds a [`Session`].
#[derive(Debug, Default)]
pub struct SessionBuilder {
    auth_url: Option<String>,
    method: Option<AuthMethod>,
    scope: Option<Scope>,
    token: Option<(Secret, Option<String>)>,
    region: Option<String>,
    interface: Interface,
    overrides: BTreeMap<String, String>,
    cacert: Option<std::path::PathBuf>,
    insecure: bool,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    clock: Option<Arc<dyn Clock>>,
    pins: BTreeMap<String, Microversion>,
    renew_before: Option<Duration>,
    max_in_flight: Option<usize>,
    /// Service names given to [`endpoint_override`](Self::endpoint_override)
    /// or [`microversion`](Self::microversion) that no service has.
    unknown_services: Vec<String>,
}

/// The services this crate has clients for.
fn services() -> [&'static ServiceInfo; 3] {
    [
        <crate::block_storage::Client as ServiceClient>::service(),
        <crate::database::Client as ServiceClient>::service(),
        <crate::identity::Client as ServiceClient>::service(),
    ]
}

/// The module name (`block_storage`) of a service named by its module
/// name or one of its catalog types (`block-storage`, `volumev3`).
fn service_name(name: &str) -> Option<&'static str> {
    let snake = name.replace('-', "_");
    services().into_iter().find(|s| s.name == snake || s.catalog_types.contains(&name)).map(|s| s.name)
}

impl SessionBuilder {
    /// Keystone's URL (`https://keystone:5000` or `…/v3`).
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth_url = Some(url.into());
        self
    }

    /// How to authenticate.
    pub fn auth(mut self, method: AuthMethod) -> Self {
        self.method = Some(method);
        self
    }

    /// What to scope the token to.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Uses a token as it is, without Keystone; every service then needs an
    /// endpoint override. `project_id` fills `%(project_id)s` in overrides.
    pub fn token(mut self, token: impl Into<String>, project_id: Option<String>) -> Self {
        self.token = Some((Secret::new(token.into()), project_id));
        self
    }

    /// `region_name`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// `interface` (public by default).
    pub fn interface(mut self, interface: Interface) -> Self {
        self.interface = interface;
        self
    }

    /// Uses `url` for `service` (`block_storage`, `database`) instead of the
    /// catalog. `%(project_id)s` and `$(project_id)s` are filled in.
    ///
    /// `service` is a module name or a catalog type of one of this crate's
    /// services (`block_storage`, `block-storage`, `volumev3`, `database`,
    /// `identity`); any other name makes [`build`](Self::build) fail.
    pub fn endpoint_override(mut self, service: &str, url: impl Into<String>) -> Self {
        match service_name(service) {
            Some(name) => {
                self.overrides.insert(name.to_owned(), url.into());
            }
            None => self.unknown_services.push(service.to_owned()),
        }
        self
    }

    /// Extra trusted root certificates (PEM).
    pub fn cacert(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.cacert = Some(path.into());
        self
    }

    /// Skips certificate checks (`verify: false`).
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// How long before its expiry a Keystone token is replaced (default
    /// two minutes): a long job that must not meet an expired token in the
    /// middle of a call sets it to its longest call.
    pub fn renew_before(mut self, margin: Duration) -> Self {
        self.renew_before = Some(margin);
        self
    }

    /// The TCP connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The timeout of a whole request (default 120 s: a restore to a new
    /// volume answers only once the volume exists).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How requests are retried: the budget, and which failures are sent
    /// again (the policy's classifier, and the POST operations it names
    /// idempotent; [`build`](Self::build) refuses an unknown name).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// At most `n` requests in flight at once across every client of the
    /// session (Keystone's included); the others wait their turn before
    /// sending. Bounds the connections a burst opens: 10,000 concurrent
    /// `show` calls with a limit of 64 use about 64 connections (see
    /// BENCHMARKS.md). Default: no limit. See
    /// [`ClientConfig::with_max_in_flight`].
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n);
        self
    }

    /// The clock (tests inject one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Uses `microversion` for `service` instead of negotiating.
    ///
    /// `service` is named as for [`endpoint_override`](Self::endpoint_override);
    /// any other name makes [`build`](Self::build) fail.
    pub fn microversion(mut self, service: &str, microversion: Microversion) -> Self {
        match service_name(service) {
            Some(name) => {
                self.pins.insert(name.to_owned(), microversion);
            }
            None => self.unknown_services.push(service.to_owned()),
        }
        self
    }

    /// Settings from a [`CloudConfig`].
    pub fn cloud(mut self, cloud: CloudConfig) -> Result<Self, Error> {
        if let Some(url) = cloud.auth_url {
            self = self.auth_url(url);
        }
        self.method = cloud.auth;
        self.scope = cloud.scope;
        self.token = cloud.fixed_token;
        self.region = cloud.region;
        self.interface = cloud.interface;
        // clouds.yaml names services by catalog type too (`volumev3_…`);
        // overrides of services this crate has no client for are not used.
        for (key, url) in cloud.endpoint_overrides {
            if let Some(name) = service_name(&key) {
                self.overrides.insert(name.to_owned(), url);
            }
        }
        if let Some(url) = cloud.endpoint {
            for service in services() {
                self.overrides.entry(service.name.to_owned()).or_insert_with(|| url.clone());
            }
        }
        self.cacert = cloud.cacert;
        self.insecure = cloud.insecure;
        if let Some(v) = cloud.block_storage_microversion.filter(|v| v.contains('.')) {
            let v = v.parse().map_err(|e| Error::Configuration(format!("block_storage_api_version: {e}")))?;
            self.pins.insert("block_storage".to_owned(), v);
        }
        Ok(self)
    }

    /// Builds the session (no request is sent yet).
    ///
    /// # Errors
    /// [`Error::Configuration`] for a service name no service has (given to
    /// `endpoint_override` or `microversion`), for an operation no
    /// service's table has (named idempotent in the retry policy), and for
    /// an unreadable `cacert`.
    pub fn build(self) -> Result<Session, Error> {
        if let Some(name) = self.unknown_services.first() {
            let known: Vec<String> =
                services().iter().map(|s| format!("{} ({})", s.name, s.catalog_types.join(", "))).collect();
            return Err(Error::Configuration(format!("no service is named `{name}`; known: {}", known.join("; "))));
        }
        if let Some(retry) = &self.retry
            && let Some(name) =
                retry.idempotent.iter().find(|name| !services().iter().any(|s| s.operation(name).is_some()))
        {
            return Err(Error::Configuration(format!(
                "retry policy: no operation is named `{name}` (operations are named as their client methods, \
                 `reset_backup_status`)"
            )));
        }
        let mut options = HttpOptions::new(
            self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            self.timeout.unwrap_or(Duration::from_secs(120)),
        )
        .insecure(self.insecure);
        if let Some(path) = &self.cacert {
            options = options.cacert(path)?;
        }
        let http = options.build()?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let retry = self.retry.unwrap_or_default();
        let mut base = ClientConfig::new().with_retry(retry).with_clock(clock);
        if let Some(timeout) = self.timeout {
            base = base.with_timeout(timeout);
        }
        if let Some(n) = self.max_in_flight {
            base = base.with_max_in_flight(n);
        }
        let auth = match (self.token, self.method) {
            (Some((token, project)), _) => Auth::Fixed { token, project_id: project },
            (None, Some(method)) => {
                let url = self.auth_url.ok_or_else(|| Error::Configuration("auth_url is missing".to_owned()))?;
                let mut auth = KeystoneAuth::new(&url, http.clone(), method, self.scope, base.clone())?;
                if let Some(margin) = self.renew_before {
                    auth = auth.renew_before(margin);
                }
                Auth::Keystone(Arc::new(auth))
            }
            (None, None) => {
                return Err(Error::Configuration(
                    "no credentials: set a cloud (OS_CLOUD), OS_* variables, an auth method or a token".to_owned(),
                ));
            }
        };
        Ok(Session {
            inner: Arc::new(Inner {
                http,
                auth,
                region: self.region,
                interface: self.interface,
                overrides: self.overrides,
                base,
                pins: self.pins,
            }),
        })
    }
}

enum Auth {
    Fixed { token: Secret, project_id: Option<String> },
    Keystone(Arc<KeystoneAuth>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Fixed { project_id, .. } => {
                f.debug_struct("Fixed").field("token", &"<redacted>").field("project_id", project_id).finish()
            }
            Auth::Keystone(k) => k.fmt(f),
        }
    }
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    auth: Auth,
    region: Option<String>,
    interface: Interface,
    overrides: BTreeMap<String, String>,
    base: ClientConfig,
    pins: BTreeMap<String, Microversion>,
}

/// An authenticated connection to one cloud; cheap to clone.
#[derive(Debug, Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl Session {
    /// A builder.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::default()
    }

    /// The cloud named by `OS_CLOUD` (from `clouds.yaml`), or the `OS_*`
    /// variables; authenticates at once, so bad credentials fail here.
    pub async fn from_env() -> Result<Session, Error> {
        Self::connect(CloudConfig::from_env()?).await
    }

    /// The cloud `name` of `clouds.yaml`; authenticates at once.
    pub async fn from_cloud(name: &str) -> Result<Session, Error> {
        Self::connect(CloudConfig::named(name)?).await
    }

    /// A session for `cloud`; authenticates at once.
    pub async fn connect(cloud: CloudConfig) -> Result<Session, Error> {
        let session = Session::builder().cloud(cloud)?.build()?;
        session.authenticate().await?;
        Ok(session)
    }

    /// Gets a token now (otherwise the first call does).
    pub async fn authenticate(&self) -> Result<(), Error> {
        if let Auth::Keystone(k) = &self.inner.auth {
            k.token_info(false).await?;
        }
        Ok(())
    }

    /// The project of the token (or the one given with a fixed token).
    pub async fn project_id(&self) -> Result<Option<String>, Error> {
        match &self.inner.auth {
            Auth::Fixed { project_id, .. } => Ok(project_id.clone()),
            Auth::Keystone(k) => Ok(k.token_info(false).await?.project_id.clone()),
        }
    }

    fn token_source(&self) -> Arc<dyn TokenSource> {
        match &self.inner.auth {
            Auth::Fixed { token, .. } => Arc::new(StaticToken::new(token.clone())),
            Auth::Keystone(k) => k.clone(),
        }
    }

    /// The endpoint of the first of `types` (catalog service types) that
    /// the override or the catalog has, for the session's region and
    /// interface.
    pub async fn endpoint(&self, service: &str, types: &[&str]) -> Result<String, Error> {
        let project = self.project_id().await?;
        if let Some(url) = self.inner.overrides.get(&service.replace('-', "_")) {
            return fill_project(url, project.as_deref());
        }
        let catalog = match &self.inner.auth {
            Auth::Keystone(k) => k.token_info(false).await?.catalog.clone(),
            Auth::Fixed { .. } => {
                return Err(Error::Configuration(format!(
                    "no catalog with a fixed token: set an endpoint override for {service}"
                )));
            }
        };
        let url = select_endpoint(&catalog, types, self.inner.region.as_deref(), self.inner.interface)?;
        fill_project(&url, project.as_deref())
    }

    /// A client of the service `C` (any generated client): its endpoint
    /// from the override or the catalog (the catalog types its spec
    /// declares, for the session's region and interface), and, for a
    /// service with microversions, the highest microversion both the
    /// client and the server know, or the pinned one when the server has
    /// it. Shares the session's connection pool, token, retry policy and
    /// clock.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the catalog has no such endpoint or the
    /// pin is outside the server's range; the version document's errors.
    pub async fn client<C: ServiceClient>(&self) -> Result<C, Error> {
        let info = C::service();
        let endpoint = self.endpoint(info.name, info.catalog_types).await?;
        let config = self.inner.base.clone().with_token_source(self.token_source());
        let pin = self.inner.pins.get(info.name).copied();
        if info.microversion_service.is_none() {
            return Ok(C::with_parts(&endpoint, self.inner.http.clone(), config));
        }
        let probe = C::with_parts(&endpoint, self.inner.http.clone(), config.clone());
        let chosen = match probe.server_microversions().await? {
            Some((min, max)) => Some(negotiate(info, &min, &max, pin)?),
            None => pin,
        };
        let config = match chosen {
            Some(version) => config.with_microversion(version),
            None => config,
        };
        Ok(C::with_parts(&endpoint, self.inner.http.clone(), config))
    }

    /// A block-storage client: endpoint from the catalog (`block-storage`,
    /// `volumev3` or `volume`), microversion negotiated with the server
    /// (the highest both know) unless pinned. See [`client`](Self::client).
    ///
    /// # Errors
    /// As [`client`](Self::client).
    pub async fn block_storage(&self) -> Result<crate::block_storage::Client, Error> {
        self.client().await
    }

    /// A database (Trove) client: endpoint from the catalog (`database`)
    /// or the `database` override. Trove has no microversions.
    ///
    /// # Errors
    /// As [`client`](Self::client).
    pub async fn database(&self) -> Result<crate::database::Client, Error> {
        self.client().await
    }

    /// The room the project's quotas leave for backups (their count and
    /// their GiB), from the block-storage service's `showLimits`. See
    /// [`crate::quota`].
    ///
    /// # Errors
    /// As [`block_storage`](Self::block_storage), then those of
    /// `showLimits`.
    pub async fn backup_headroom(&self) -> Result<crate::quota::BackupHeadroom, Error> {
        crate::quota::BackupHeadroom::of(&self.block_storage().await?).await
    }
}

/// The microversion to use: the pin if the server has it, else the highest
/// both the client and the server know.
pub(crate) fn negotiate(
    service: &ServiceInfo,
    server_min: &str,
    server_max: &str,
    pin: Option<Microversion>,
) -> Result<Microversion, Error> {
    let parse = |v: &str| {
        v.parse::<Microversion>()
            .map_err(|e| Error::Configuration(format!("{}: the server's version document: {e}", service.service_type)))
    };
    let (min, max) = (parse(server_min)?, parse(server_max)?);
    if min > max {
        return Err(Error::Configuration(format!(
            "{}: the server's version document is inconsistent: min_version {min} is above version {max}",
            service.service_type
        )));
    }
    let ours = service.max_microversion.unwrap_or(max);
    match pin {
        Some(pin) if pin < min || pin > max => Err(Error::Configuration(format!(
            "{}: microversion {pin} is outside the server's range {min}–{max}",
            service.service_type
        ))),
        Some(pin) => Ok(pin),
        None if ours < min => Err(Error::Configuration(format!(
            "{}: the server needs at least {min}, this client knows up to {ours}",
            service.service_type
        ))),
        None => Ok(ours.min(max)),
    }
}

/// Picks the endpoint of the first service type found, for `interface` and
/// (when given) `region`.
pub(crate) fn select_endpoint(
    catalog: &[CatalogEntry],
    types: &[&str],
    region: Option<&str>,
    interface: Interface,
) -> Result<String, Error> {
    for wanted in types {
        for entry in catalog.iter().filter(|e| e.type_ == *wanted) {
            let found = entry.endpoints.iter().find(|e| {
                e.interface == interface.as_str()
                    && region.is_none_or(|r| e.region.as_deref() == Some(r) || e.region_id.as_deref() == Some(r))
            });
            if let Some(endpoint) = found {
                return Ok(endpoint.url.clone());
            }
        }
    }
    let offered: Vec<String> = catalog
        .iter()
        .flat_map(|e| {
            e.endpoints.iter().map(move |p| {
                format!("{} {} {}", e.type_, p.interface, p.region.as_deref().or(p.region_id.as_deref()).unwrap_or("-"))
            })
        })
        .collect();
    Err(Error::Configuration(format!(
        "the catalog has no {} endpoint of {:?}{} (it offers: {})",
        interface.as_str(),
        types,
        region.map(|r| format!(" in region {r}")).unwrap_or_default(),
        if offered.is_empty() { "nothing".to_owned() } else { listed(&offered) }
    )))
}

/// The first 20 of `items`, each at most 200 characters, and how many more:
/// a catalog is the server's and can be any size; an error stays short.
fn listed(items: &[String]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(20)
        .map(|i| {
            if i.chars().count() > 200 { format!("{}…", i.chars().take(200).collect::<String>()) } else { i.clone() }
        })
        .collect();
    let more = items.len().saturating_sub(shown.len());
    if more > 0 { format!("{}; and {more} more", shown.join("; ")) } else { shown.join("; ") }
}

fn fill_project(url: &str, project: Option<&str>) -> Result<String, Error> {
    let needs = url.contains("%(project_id)s") || url.contains("$(project_id)s");
    match (needs, project) {
        (false, _) => Ok(url.trim_end_matches('/').to_owned()),
        (true, Some(p)) => {
            Ok(url.replace("%(project_id)s", p).replace("$(project_id)s", p).trim_end_matches('/').to_owned())
        }
        (true, None) => Err(Error::Configuration(format!("{url} needs a project, and the token has none"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorKind;

    #[test]
    fn catalog_selection_by_alias_region_and_interface() {
        let catalog: Vec<CatalogEntry> = serde_json::from_value(json!([
            {"type": "volume", "endpoints": [{"interface": "public", "region": "R1", "url": "http://legacy"}]},
            {"type": "volumev3", "endpoints": [
                {"interface": "public", "region": "R1", "url": "http://r1-public"},
                {"interface": "internal", "region": "R1", "url": "http://r1-internal"},
                {"interface": "public", "region_id": "R2", "region": null, "url": "http://r2-public"}
            ]}
        ]))
        .unwrap();
        let types = crate::block_storage::operations::SERVICE.catalog_types;
        assert_eq!(types, ["block-storage", "volumev3", "volume"], "from the spec's x-openstack-service");
        assert_eq!(
            select_endpoint(&catalog, types, Some("R1"), Interface::Public).unwrap(),
            "http://r1-public",
            "volumev3 beats volume"
        );
        assert_eq!(select_endpoint(&catalog, types, Some("R1"), Interface::Internal).unwrap(), "http://r1-internal");
        assert_eq!(select_endpoint(&catalog, types, Some("R2"), Interface::Public).unwrap(), "http://r2-public");
        assert_eq!(select_endpoint(&catalog, &["volume"], None, Interface::Public).unwrap(), "http://legacy");
        let err = select_endpoint(&catalog, types, Some("R3"), Interface::Admin).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration);
        assert!(
            err.to_string().contains("no admin endpoint") && err.to_string().contains("volumev3 internal R1"),
            "{err}"
        );
    }

    #[test]
    fn negotiation_takes_the_highest_common_version_or_the_pin() {
        let info = &crate::block_storage::operations::SERVICE;
        assert_eq!(negotiate(info, "3.0", "3.71", None).unwrap(), Microversion::new(3, 71));
        assert_eq!(
            negotiate(info, "3.0", "3.99", None).unwrap(),
            Microversion::new(3, 71),
            "never above what the client knows"
        );
        assert_eq!(negotiate(info, "3.0", "3.64", None).unwrap(), Microversion::new(3, 64));
        assert_eq!(negotiate(info, "3.0", "3.64", Some(Microversion::new(3, 43))).unwrap(), Microversion::new(3, 43));
        let err = negotiate(info, "3.0", "3.64", Some(Microversion::new(3, 70))).unwrap_err();
        assert!(err.to_string().contains("3.70 is outside the server's range 3.0–3.64"), "{err}");
        // The range's ends are in it; below its minimum is not.
        assert_eq!(negotiate(info, "3.27", "3.64", Some(Microversion::new(3, 27))).unwrap(), Microversion::new(3, 27));
        assert_eq!(negotiate(info, "3.27", "3.64", Some(Microversion::new(3, 64))).unwrap(), Microversion::new(3, 64));
        let err = negotiate(info, "3.27", "3.64", Some(Microversion::new(3, 26))).unwrap_err();
        assert!(err.to_string().contains("3.26 is outside the server's range 3.27–3.64"), "{err}");
        // A server whose minimum is the client's newest is still served;
        // one that needs more than the client knows is refused.
        assert_eq!(negotiate(info, "3.71", "3.80", None).unwrap(), Microversion::new(3, 71));
        let err = negotiate(info, "3.72", "3.80", None).unwrap_err();
        assert!(err.to_string().contains("the server needs at least 3.72, this client knows up to 3.71"), "{err}");
        // Found by tests/tests/session_properties.rs: a document whose
        // minimum is above its maximum gave a microversion below the minimum.
        let err = negotiate(info, "3.69", "3.2", None).unwrap_err();
        assert!(err.to_string().contains("min_version 3.69 is above version 3.2"), "{err}");
        assert_eq!(negotiate(info, "3.50", "3.50", None).unwrap(), Microversion::new(3, 50), "a one-version range");
    }

    /// A catalog's offer in an error: at most 20 entries, each at most 200
    /// characters, then how many more.
    #[test]
    fn an_offer_listed_in_an_error_stays_short() {
        let items: Vec<String> = (0..20).map(|i| format!("type{i} public R")).collect();
        assert_eq!(listed(&items), items.join("; "), "20 are all shown, with no tail");
        let mut more = items.clone();
        more.push("type20 public R".to_owned());
        assert_eq!(listed(&more), format!("{}; and 1 more", items.join("; ")));
        let (exactly, over) = ("x".repeat(200), "y".repeat(201));
        assert_eq!(listed(&[exactly.clone(), over]), format!("{exactly}; {}…", "y".repeat(200)));
    }
}
