//! The runtime the generated calls bind to: request preparation (token,
//! microversion, checks before sending), response decoding and the error type.
//!
//! The generated code uses the same names as progenitor's own client runtime
//! (`ClientInfo`, `ClientHooks`, `OperationInfo`, `ResponseValue`, `Error`);
//! these versions know the operation table, so an error can always name the
//! operation, the HTTP status and the request id.

use std::fmt;

use reqwest::header::{HeaderMap, HeaderValue};

use crate::clock::since;
use crate::config::Secret;
use crate::retry::{Attempt, retry_after};
use crate::{ClientConfig, Fault, Microversion};

pub use progenitor_client::{ByteStream, RequestBuilderExt, encode_path};

/// The request-id header every OpenStack service answers with.
pub const REQUEST_ID: &str = "x-openstack-request-id";
/// The legacy request-id header (same value) some responses carry instead.
const COMPUTE_REQUEST_ID: &str = "x-compute-request-id";

/// One row of a service's operation table (generated from the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationMeta {
    /// The Rust method name (`list_backups_detail`).
    pub method_name: &'static str,
    /// The spec's `operationId` (`listBackupsDetail`).
    pub operation_id: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// The path template, relative to the endpoint.
    pub path: &'static str,
    /// The spec tag.
    pub tag: &'static str,
    /// For a per-action call, the action key (`os-reset_status`).
    pub action: Option<&'static str>,
    /// The lowest microversion that has the operation (`None`: the base).
    pub min_microversion: Option<Microversion>,
    /// Query parameters that need a higher microversion than the operation.
    pub gated_query: &'static [(&'static str, Microversion)],
    /// Request-body properties that only some microversions accept.
    pub gated_body: &'static [BodyGate],
}

/// A request-body property (or some of its values) that only a range of
/// microversions accepts (generated from the spec's
/// `x-openstack-min-microversion`, `x-openstack-max-microversion` and
/// `x-openstack-max-microversion-values` on request-body properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyGate {
    /// The property's JSON pointer in the body; `*` matches every element
    /// of an array or every value of a map (`/backup/metadata`).
    pub pointer: &'static str,
    /// The lowest microversion that accepts it (`None`: the operation's).
    pub min: Option<Microversion>,
    /// The highest microversion that accepts it (`None`: no upper bound).
    pub max: Option<Microversion>,
    /// The values (JSON text, `false`) the upper bound applies to; empty:
    /// every value.
    pub max_values: &'static [&'static str],
}

impl BodyGate {
    /// The first set (present and not null) value of `body` this gate
    /// refuses at `effective`.
    fn check(
        &self,
        operation: &'static str,
        body: &serde_json::Value,
        effective: Microversion,
    ) -> Option<MicroversionError> {
        let tokens: Vec<&str> = self.pointer.split('/').skip(1).collect();
        let mut found = Vec::new();
        values_at(body, &tokens, String::new(), &mut found);
        for (pointer, value) in found.into_iter().filter(|(_, v)| !v.is_null()) {
            let refused = |required: Requirement, value: Option<String>| MicroversionError {
                operation,
                gated: Gated::BodyProperty { pointer: pointer.clone(), value },
                required,
                configured: effective,
            };
            if let Some(min) = self.min.filter(|min| effective < *min) {
                return Some(refused(Requirement::AtLeast(min), None));
            }
            if let Some(max) = self.max.filter(|max| effective > *max) {
                let text = value.to_string();
                if self.max_values.is_empty() {
                    return Some(refused(Requirement::AtMost(max), None));
                }
                if self.max_values.contains(&text.as_str()) {
                    return Some(refused(Requirement::AtMost(max), Some(text)));
                }
            }
        }
        None
    }
}

/// Every value at `tokens` (JSON-pointer tokens, `*` for every element or
/// map value) below `value`, with its concrete pointer.
fn values_at<'v>(
    value: &'v serde_json::Value,
    tokens: &[&str],
    at: String,
    out: &mut Vec<(String, &'v serde_json::Value)>,
) {
    use serde_json::Value;
    let escape = |t: &str| t.replace('~', "~0").replace('/', "~1");
    match tokens.split_first() {
        None => out.push((at, value)),
        Some((&"*", rest)) => match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    values_at(item, rest, format!("{at}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    values_at(item, rest, format!("{at}/{}", escape(key)), out);
                }
            }
            _ => {}
        },
        Some((token, rest)) => {
            let key = token.replace("~1", "/").replace("~0", "~");
            if let Some(item) = value.as_object().and_then(|map| map.get(&key)) {
                values_at(item, rest, format!("{at}/{token}"), out);
            }
        }
    }
}

/// A service's identity and operation table (generated from the spec).
#[derive(Debug)]
pub struct ServiceInfo {
    /// The catalog service type (`block-storage`).
    pub service_type: &'static str,
    /// The name in `OpenStack-API-Version` (`volume`), if the service has
    /// microversions.
    pub microversion_service: Option<&'static str>,
    /// The highest microversion the spec describes.
    pub max_microversion: Option<Microversion>,
    /// Every call, sorted by `method_name`.
    pub operations: &'static [OperationMeta],
}

impl ServiceInfo {
    /// The row of the call named `method_name`.
    pub fn operation(&self, method_name: &str) -> Option<&'static OperationMeta> {
        self.operations.binary_search_by(|op| op.method_name.cmp(method_name)).ok().map(|i| &self.operations[i])
    }

    /// The microversion a client sends when none is configured.
    pub fn base_microversion(&self) -> Option<Microversion> {
        self.max_microversion.map(|max| Microversion::new(max.major(), 0))
    }

    /// The row of the action `key` of the `…/action` operation `endpoint`.
    fn action(&self, endpoint: &OperationMeta, key: &str) -> Option<&'static OperationMeta> {
        self.operations
            .iter()
            .find(|op| op.action == Some(key) && op.path == endpoint.path && op.method == endpoint.method)
    }

    /// Whether `op` is an `…/action` operation with typed actions.
    fn has_actions(&self, op: &OperationMeta) -> bool {
        op.action.is_none()
            && self.operations.iter().any(|a| a.action.is_some() && a.path == op.path && a.method == op.method)
    }
}

/// The microversion a client of `service` sends: the configured one, else
/// the service's base version (`None` for a service without microversions).
pub fn effective_microversion(config: &ClientConfig, service: &ServiceInfo) -> Option<Microversion> {
    service.microversion_service?;
    config.microversion().or_else(|| service.base_microversion())
}

/// The connect timeout of clients made without one (seconds).
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The HTTP client of a generated `Client::new`: the config's connect
/// timeout (default [`DEFAULT_CONNECT_TIMEOUT`]) and request timeout
/// (default `default_timeout`, the service's).
pub fn http_client(config: &ClientConfig, default_timeout: std::time::Duration) -> reqwest::Client {
    crate::tls::http_client(
        config.connect_timeout().unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        config.timeout().unwrap_or(default_timeout),
        &crate::tls::TlsOptions::default(),
    )
    .unwrap_or_else(|_| reqwest::Client::new())
}

/// The error of a request that could not be built (an unusable URL):
/// nothing was sent.
pub fn request_build_error<E>(operation: &'static str, error: reqwest::Error) -> Error<E> {
    Error::InvalidRequest(format!("{operation}: the request could not be built: {}", error_chain(&error)))
}

/// Implemented by every generated client: which service it talks to.
pub trait Service {
    /// The service's table.
    fn service_info(&self) -> &'static ServiceInfo;
}

impl<T: Service> Service for &T {
    fn service_info(&self) -> &'static ServiceInfo {
        (*self).service_info()
    }
}

/// What a generated call tells the hooks about itself.
#[derive(Debug, Clone, Copy)]
pub struct OperationInfo {
    /// The operation's method name (`list_backups`).
    pub operation_id: &'static str,
}

/// Access to a generated client's parts.
pub trait ClientInfo<Inner> {
    /// The spec's `info.version`.
    fn api_version() -> &'static str;
    /// The endpoint the client was made with.
    fn baseurl(&self) -> &str;
    /// The HTTP client.
    fn client(&self) -> &reqwest::Client;
    /// The client's settings.
    fn inner(&self) -> &Inner;
}

impl<T: ClientInfo<Inner>, Inner> ClientInfo<Inner> for &T {
    fn api_version() -> &'static str {
        T::api_version()
    }

    fn baseurl(&self) -> &str {
        (*self).baseurl()
    }

    fn client(&self) -> &reqwest::Client {
        (*self).client()
    }

    fn inner(&self) -> &Inner {
        (*self).inner()
    }
}

/// The steps around every generated request.
#[allow(async_fn_in_trait)]
pub trait ClientHooks<Inner = ClientConfig>: ClientInfo<Inner> + Service
where
    Inner: AsRef<ClientConfig>,
{
    /// Adds the token and the microversion, and refuses a call (or a query
    /// parameter) the configured microversion does not have.
    async fn pre<E>(&self, request: &mut reqwest::Request, info: &OperationInfo) -> Result<(), Error<E>> {
        prepare(self.inner().as_ref(), self.service_info(), request, info).await
    }

    /// Runs after the response (or transport error) arrived.
    async fn post<E>(
        &self,
        _result: &Result<reqwest::Response, TransportError>,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        Ok(())
    }

    /// Sends the request: retries it as the client's [`RetryPolicy`] allows,
    /// renews the token once on a 401, records a `tracing` span, and labels
    /// the response with the operation so that errors can name it.
    async fn exec(&self, request: reqwest::Request, info: &OperationInfo) -> Result<reqwest::Response, TransportError> {
        execute(self.client(), self.inner().as_ref(), self.service_info(), request, info).await
    }
}

#[derive(Debug, Clone, Copy)]
struct CallLabel(&'static str);

fn label(response: &reqwest::Response) -> &'static str {
    response.extensions().get::<CallLabel>().map_or("(unknown operation)", |l| l.0)
}

async fn prepare<E>(
    config: &ClientConfig,
    service: &ServiceInfo,
    request: &mut reqwest::Request,
    info: &OperationInfo,
) -> Result<(), Error<E>> {
    // progenitor adds the spec's version as `api-version`; OpenStack uses its
    // own header for that.
    request.headers_mut().remove("api-version");

    let effective = effective_microversion(config, service);
    if let (Some(op), Some(effective)) = (service.operation(info.operation_id), effective) {
        check_request(service, op, request, effective).map_err(|e| Error::MicroversionUnsupported(Box::new(e)))?;
    }
    if let Some(timeout) = config.timeout() {
        *request.timeout_mut() = Some(timeout);
    }

    if let Some(auth) = config.auth() {
        let token = auth.token(false).await.map_err(Error::into_untyped_auth)?;
        set_token(request, &token)?;
    }
    if let (Some(name), Some(version)) = (service.microversion_service, effective) {
        let value = HeaderValue::from_str(&format!("{name} {version}"))
            .map_err(|_| Error::Configuration(format!("{name} {version} is not a header value")))?;
        request.headers_mut().insert("openstack-api-version", value);
    }
    Ok(())
}

/// Refuses a request the microversion `effective` cannot carry: the call
/// itself (for an `…/action` operation, the action the body names), a query
/// parameter, or a set request-body property (or value).
fn check_request(
    service: &ServiceInfo,
    op: &'static OperationMeta,
    request: &reqwest::Request,
    effective: Microversion,
) -> Result<(), MicroversionError> {
    let body: Option<serde_json::Value> = if !op.gated_body.is_empty() || service.has_actions(op) {
        request.body().and_then(reqwest::Body::as_bytes).and_then(|bytes| serde_json::from_slice(bytes).ok())
    } else {
        None
    };
    let action_key = body.as_ref().and_then(|b| b.as_object()).filter(|m| m.len() == 1).and_then(|m| m.keys().next());
    let call = action_key.and_then(|key| service.action(op, key)).unwrap_or(op);

    let refuse =
        |gated, required| MicroversionError { operation: call.method_name, gated, required, configured: effective };
    if let Some(required) = call.min_microversion.filter(|required| *required > effective) {
        return Err(refuse(Gated::Operation, Requirement::AtLeast(required)));
    }
    for (name, _) in request.url().query_pairs() {
        if let Some((parameter, required)) = op.gated_query.iter().find(|(p, _)| *p == name)
            && *required > effective
        {
            return Err(refuse(Gated::QueryParameter(parameter), Requirement::AtLeast(*required)));
        }
    }
    if let Some(body) = &body {
        for gate in call.gated_body {
            if let Some(refused) = gate.check(call.method_name, body, effective) {
                return Err(refused);
            }
        }
    }
    Ok(())
}

fn set_token<E>(request: &mut reqwest::Request, token: &Secret) -> Result<(), Error<E>> {
    let mut value = HeaderValue::from_str(token.expose())
        .map_err(|_| Error::Configuration("the token is not a valid header value".to_owned()))?;
    value.set_sensitive(true);
    request.headers_mut().insert("x-auth-token", value);
    Ok(())
}

async fn execute(
    http: &reqwest::Client,
    config: &ClientConfig,
    service: &ServiceInfo,
    request: reqwest::Request,
    info: &OperationInfo,
) -> Result<reqwest::Response, TransportError> {
    use tracing::Instrument;

    let method = request.method().clone();
    let template = service.operation(info.operation_id).map_or("", |op| op.path);
    let span = tracing::debug_span!(
        "openstack_request",
        service = service.service_type,
        operation = info.operation_id,
        method = %method,
        path = template,
        status = tracing::field::Empty,
        request_id = tracing::field::Empty,
        attempts = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    async move {
        let policy = config.retry();
        let clock = config.clock().clone();
        let started = clock.now();
        let mut renewed = false;
        let mut attempt = 1u32;
        let mut current = request;
        loop {
            let spare = current.try_clone();
            let result = http.execute(current).await;

            // A refused token is renewed once and the request sent again.
            if let (Ok(response), Some(auth), false) = (&result, config.auth(), renewed)
                && response.status() == reqwest::StatusCode::UNAUTHORIZED
                && auth.renewable()
                && let Some(mut next) = spare.as_ref().and_then(reqwest::Request::try_clone)
            {
                renewed = true;
                match auth.token(true).await {
                    Ok(token) if set_token::<()>(&mut next, &token).is_ok() => {
                        tracing::debug!("401: token renewed, sending again");
                        current = next;
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "401: renewing the token failed"),
                }
            }

            let verdict = match &result {
                Err(e) => retry_after(&method, Attempt::Transport { connect: e.is_connect() }, clock.now()),
                Ok(response) => retry_after(
                    &method,
                    Attempt::Status(response.status(), response.headers().get(reqwest::header::RETRY_AFTER)),
                    clock.now(),
                ),
            };
            let elapsed = since(&*clock, started);
            let wait = match verdict {
                Some(asked) if attempt < policy.max_attempts && elapsed < policy.max_elapsed => {
                    policy.wait(attempt, asked, elapsed)
                }
                _ => None,
            };
            match (wait, spare) {
                (Some(wait), Some(next)) => {
                    match &result {
                        Ok(r) => tracing::debug!(status = r.status().as_u16(), ?wait, attempt, "retrying"),
                        Err(e) => tracing::debug!(error = %e, ?wait, attempt, "retrying"),
                    }
                    clock.sleep(wait).await;
                    attempt += 1;
                    current = next;
                }
                _ => {
                    let span = tracing::Span::current();
                    span.record("attempts", attempt);
                    span.record("duration_ms", since(&*clock, started).as_millis() as u64);
                    return match result {
                        Ok(mut response) => {
                            span.record("status", response.status().as_u16());
                            if let Some(id) = request_id(response.headers()) {
                                span.record("request_id", id);
                            }
                            response.extensions_mut().insert(CallLabel(info.operation_id));
                            Ok(response)
                        }
                        Err(source) => Err(TransportError {
                            operation: info.operation_id,
                            method: method.clone(),
                            path: template,
                            attempts: attempt,
                            source,
                        }),
                    };
                }
            }
        }
    }
    .instrument(span)
    .await
}

/// The service root of an endpoint: `https://host:8776/v3/<project>` →
/// `https://host:8776` (everything before the last version segment).
pub fn service_root(endpoint: &str) -> &str {
    let trimmed = endpoint.trim_end_matches('/');
    let path_start = trimmed.find("://").map_or(0, |i| {
        let after = i + 3;
        trimmed[after..].find('/').map_or(trimmed.len(), |p| after + p)
    });
    let path = &trimmed[path_start..];
    let is_version = |segment: &str| {
        let rest = segment.strip_prefix('v').unwrap_or("");
        !rest.is_empty() && rest.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut offset = 0usize;
    let mut cut = None;
    for segment in path.split('/') {
        if is_version(segment) {
            cut = Some(path_start + offset.saturating_sub(1));
        }
        offset += segment.len() + 1;
    }
    match cut {
        Some(end) => &trimmed[..end],
        None => trimmed,
    }
}

/// A `GET` to the service root (version discovery), where the success status
/// may be a 300.
pub async fn get_service_root<C, T>(
    client: C,
    path: &str,
    success: u16,
    info: &OperationInfo,
) -> Result<ResponseValue<T>, Error<Fault>>
where
    C: ClientHooks<ClientConfig>,
    T: serde::de::DeserializeOwned,
{
    let url = format!("{}{}", service_root(client.baseurl()), path);
    let mut request = client
        .client()
        .get(url)
        .header(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"))
        .build()
        .map_err(|e| request_build_error(info.operation_id, e))?;
    client.pre(&mut request, info).await?;
    let result = client.exec(request, info).await;
    client.post(&result, info).await?;
    let response = result?;
    match response.status().as_u16() {
        status if status == success => ResponseValue::from_response(response).await,
        400..=599 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
        _ => Err(Error::UnexpectedResponse(response)),
    }
}

/// A successful (or error) response with its decoded body.
pub struct ResponseValue<T> {
    inner: T,
    status: reqwest::StatusCode,
    headers: HeaderMap,
    operation: &'static str,
}

impl<T: serde::de::DeserializeOwned> ResponseValue<T> {
    #[doc(hidden)]
    pub async fn from_response<E>(response: reqwest::Response) -> Result<Self, Error<E>> {
        let status = response.status();
        let headers = response.headers().clone();
        let operation = label(&response);
        let body = response.bytes().await.map_err(|source| {
            Error::ResponseBodyError(Box::new(BodyError {
                operation,
                status,
                request_id: request_id(&headers).map(str::to_owned),
                source,
            }))
        })?;
        match serde_json::from_slice(&body) {
            Ok(inner) => Ok(Self { inner, status, headers, operation }),
            Err(source) => Err(Error::InvalidResponsePayload(Box::new(InvalidPayload {
                operation,
                status,
                request_id: request_id(&headers).map(str::to_owned),
                content_type: headers
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                excerpt: excerpt(&body),
                source,
            }))),
        }
    }
}

impl ResponseValue<()> {
    #[doc(hidden)]
    pub fn empty(response: reqwest::Response) -> Self {
        Self { inner: (), status: response.status(), headers: response.headers().clone(), operation: label(&response) }
    }
}

impl<T> ResponseValue<T> {
    /// A value as if received; for tests and mocks.
    pub fn new(inner: T, status: reqwest::StatusCode, headers: HeaderMap) -> Self {
        Self { inner, status, headers, operation: "(constructed)" }
    }

    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The HTTP status.
    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The server's request id (`req-…`), for support tickets and logs.
    pub fn request_id(&self) -> Option<&str> {
        request_id(&self.headers)
    }

    /// The operation (method name) this is the response of.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The microversion the server used, from `OpenStack-API-Version`.
    pub fn microversion(&self) -> Option<Microversion> {
        let value = self.headers.get("openstack-api-version")?.to_str().ok()?;
        value.split_whitespace().last()?.parse().ok()
    }
}

impl<T> std::ops::Deref for ResponseValue<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> std::ops::DerefMut for ResponseValue<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for ResponseValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(REQUEST_ID).or_else(|| headers.get(COMPUTE_REQUEST_ID))?.to_str().ok()
}

/// The first bytes of a body, for error messages.
fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// A response body that did not decode into the operation's type.
#[derive(Debug)]
pub struct InvalidPayload {
    /// The operation.
    pub operation: &'static str,
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The request id, if the server sent one.
    pub request_id: Option<String>,
    /// The response's `Content-Type`, when it had a readable one.
    pub content_type: Option<String>,
    /// The body's first 200 characters.
    pub excerpt: String,
    /// What the decoder said.
    pub source: serde_json::Error,
}

/// A response body that could not be read.
#[derive(Debug)]
pub struct BodyError {
    /// The operation.
    pub operation: &'static str,
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The request id, if the server sent one.
    pub request_id: Option<String>,
    /// The transport error.
    pub source: reqwest::Error,
}

/// The error of every generated call.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E = Fault> {
    /// The request could not be built (a builder argument was missing or
    /// could not be converted); nothing was sent.
    InvalidRequest(String),
    /// No (complete) response: the server could not be reached, the
    /// connection broke, a timeout ran out or redirects looped. Names the
    /// operation and its path template.
    CommunicationError(Box<TransportError>),
    /// The server answered with an error status and an error body.
    ErrorResponse(ResponseValue<E>),
    /// The response body could not be read.
    ResponseBodyError(Box<BodyError>),
    /// The response body did not decode.
    InvalidResponsePayload(Box<InvalidPayload>),
    /// A status the spec does not list for the operation.
    UnexpectedResponse(reqwest::Response),
    /// The client's configuration is unusable (no `auth_url`, an unknown
    /// cloud, no endpoint in the catalog, …); nothing was sent.
    Configuration(String),
    /// Keystone did not issue a token.
    Authentication {
        /// What went wrong, with Keystone's message when it sent one.
        message: String,
        /// Keystone's HTTP status, when it answered.
        status: Option<reqwest::StatusCode>,
        /// Keystone's request id, when it answered.
        request_id: Option<String>,
    },
    /// A waiter saw the resource reach a failure status.
    WaitFailed {
        /// `backup`, `snapshot`, `volume`, …
        resource: &'static str,
        /// The resource's id.
        id: String,
        /// The status it reached.
        status: String,
        /// The server's reason (`fail_reason`), when it gives one.
        reason: Option<String>,
    },
    /// A waiter gave up.
    WaitTimedOut {
        /// `backup`, `snapshot`, `volume`, …
        resource: &'static str,
        /// The resource's id.
        id: String,
        /// The status it wanted.
        wanted: String,
        /// The last status seen (`None`: not seen yet).
        last_status: Option<String>,
        /// How long it waited.
        waited: std::time::Duration,
    },
    /// The call, one of its query parameters or a set request-body property
    /// needs another microversion than the client uses; nothing was sent.
    MicroversionUnsupported(Box<MicroversionError>),
}

/// A request that got no (complete) response.
#[derive(Debug)]
pub struct TransportError {
    /// The operation (method name, `show_backup`).
    pub operation: &'static str,
    /// The HTTP method.
    pub method: reqwest::Method,
    /// The operation's path template (`/backups/{backup_id}`).
    pub path: &'static str,
    /// How many attempts were made (retries included).
    pub attempts: u32,
    /// What the HTTP client said.
    pub source: reqwest::Error,
}

impl TransportError {
    /// A short account of what happened.
    fn what(&self) -> &'static str {
        if self.source.is_timeout() {
            "timed out"
        } else if self.source.is_connect() {
            "could not connect"
        } else if self.source.is_redirect() {
            "too many redirects"
        } else {
            "the connection failed before a complete response"
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {} ({} {}", self.operation, self.what(), self.method, self.path)?;
        if let Some(host) = self.source.url().and_then(|u| u.host_str()) {
            write!(f, " on {host}")?;
            if let Some(port) = self.source.url().and_then(reqwest::Url::port) {
                write!(f, ":{port}")?;
            }
        }
        if self.attempts > 1 {
            write!(f, ", {} attempts", self.attempts)?;
        }
        write!(f, "): {}", error_chain(&self.source))
    }
}

/// The messages of an error and its sources, without the request URL.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    let top = error.to_string();
    parts.push(match top.find(" for url (") {
        Some(cut) => top[..cut].to_owned(),
        None => top,
    });
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p == &text) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// What needs a microversion the client does not use.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Gated {
    /// The operation (or action) itself.
    Operation,
    /// A query parameter.
    QueryParameter(&'static str),
    /// A request-body property, by its JSON pointer in the body
    /// (`/backup/metadata`); with the value when only some values are
    /// refused (`false`).
    BodyProperty {
        /// The property's JSON pointer.
        pointer: String,
        /// The refused value (JSON text), for a rule on some values only.
        value: Option<String>,
    },
}

/// The microversions that accept what was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// This microversion or a later one.
    AtLeast(Microversion),
    /// This microversion or an earlier one.
    AtMost(Microversion),
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::AtLeast(v) => write!(f, "microversion {v} or later"),
            Requirement::AtMost(v) => write!(f, "microversion {v} or earlier"),
        }
    }
}

/// A request refused before sending because of its microversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicroversionError {
    /// The operation (method name; the action's own for an action).
    pub operation: &'static str,
    /// What needs another microversion.
    pub gated: Gated,
    /// Which microversions accept it.
    pub required: Requirement,
    /// The microversion the client uses.
    pub configured: Microversion,
}

impl fmt::Display for MicroversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { operation, gated, required, configured } = self;
        match gated {
            Gated::Operation => write!(f, "{operation} needs {required}")?,
            Gated::QueryParameter(p) => write!(f, "{operation}: query parameter `{p}` needs {required}")?,
            Gated::BodyProperty { pointer, value: None } => {
                write!(f, "{operation}: body property `{pointer}` needs {required}")?
            }
            Gated::BodyProperty { pointer, value: Some(value) } => {
                write!(f, "{operation}: body property `{pointer}` = {value} needs {required}")?
            }
        }
        write!(f, "; the client uses {configured} (nothing was sent)")
    }
}

/// The kind of an [`Error`], for code that handles kinds alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Unusable configuration; nothing was sent.
    Configuration,
    /// No token: Keystone refused, or the service answered 401.
    Authentication,
    /// The server could not be reached or the connection broke.
    Transport,
    /// A connect or request timeout.
    Timeout,
    /// The call needs a higher microversion; nothing was sent.
    MicroversionUnsupported,
    /// The server answered with an error status.
    Server,
    /// The response could not be read or decoded.
    UndecodableResponse,
    /// The request could not be built; nothing was sent.
    InvalidRequest,
    /// A waiter saw a failure status.
    WaitFailed,
    /// A waiter gave up.
    WaitTimedOut,
}

impl<E> Error<E> {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Error::CommunicationError(e) if e.source.is_timeout() => ErrorKind::Timeout,
            Error::CommunicationError(_) => ErrorKind::Transport,
            Error::ErrorResponse(rv) if rv.status() == reqwest::StatusCode::UNAUTHORIZED => ErrorKind::Authentication,
            Error::UnexpectedResponse(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => {
                ErrorKind::Authentication
            }
            Error::ErrorResponse(_) | Error::UnexpectedResponse(_) => ErrorKind::Server,
            Error::ResponseBodyError(e) if e.source.is_timeout() => ErrorKind::Timeout,
            // An error status whose body is not the fault JSON (an HTML page
            // from a proxy, an empty 504) is still the server's error.
            Error::InvalidResponsePayload(e) if e.status == reqwest::StatusCode::UNAUTHORIZED => {
                ErrorKind::Authentication
            }
            Error::InvalidResponsePayload(e) if e.status.is_client_error() || e.status.is_server_error() => {
                ErrorKind::Server
            }
            Error::ResponseBodyError(_) | Error::InvalidResponsePayload(_) => ErrorKind::UndecodableResponse,
            Error::Configuration(_) => ErrorKind::Configuration,
            Error::Authentication { .. } => ErrorKind::Authentication,
            Error::WaitFailed { .. } => ErrorKind::WaitFailed,
            Error::WaitTimedOut { .. } => ErrorKind::WaitTimedOut,
            Error::MicroversionUnsupported(_) => ErrorKind::MicroversionUnsupported,
        }
    }

    /// A connect or request timeout.
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// No (valid) token.
    pub fn is_authentication(&self) -> bool {
        self.kind() == ErrorKind::Authentication
    }

    /// The server answered 409 Conflict. (Cinder answers most refusals
    /// because of a resource's state with 400 `badRequest`: read
    /// [`fault`](Error::fault) for those.)
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(reqwest::StatusCode::CONFLICT)
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Error::ErrorResponse(rv) => Some(rv.status()),
            Error::ResponseBodyError(e) => Some(e.status),
            Error::InvalidResponsePayload(e) => Some(e.status),
            Error::UnexpectedResponse(r) => Some(r.status()),
            Error::CommunicationError(e) => e.source.status(),
            Error::Authentication { status, .. } => *status,
            _ => None,
        }
    }

    /// Turns an error into the same error for another body type (the body
    /// of an error response is dropped: only used for token-source errors,
    /// which never carry one).
    pub(crate) fn into_untyped_auth<F>(self) -> Error<F> {
        match self {
            Error::ErrorResponse(rv) => Error::Authentication {
                message: format!("{} answered HTTP {}", rv.operation(), rv.status().as_u16()),
                status: Some(rv.status()),
                request_id: rv.request_id().map(str::to_owned),
            },
            Error::InvalidRequest(m) => Error::InvalidRequest(m),
            Error::CommunicationError(e) => Error::CommunicationError(e),
            Error::ResponseBodyError(e) => Error::ResponseBodyError(e),
            Error::InvalidResponsePayload(e) => Error::InvalidResponsePayload(e),
            Error::UnexpectedResponse(r) => Error::UnexpectedResponse(r),
            Error::Configuration(m) => Error::Configuration(m),
            Error::Authentication { message, status, request_id } => {
                Error::Authentication { message, status, request_id }
            }
            Error::WaitFailed { resource, id, status, reason } => Error::WaitFailed { resource, id, status, reason },
            Error::WaitTimedOut { resource, id, wanted, last_status, waited } => {
                Error::WaitTimedOut { resource, id, wanted, last_status, waited }
            }
            Error::MicroversionUnsupported(e) => Error::MicroversionUnsupported(e),
        }
    }

    /// The server's request id, when it answered with one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::ErrorResponse(rv) => rv.request_id(),
            Error::ResponseBodyError(e) => e.request_id.as_deref(),
            Error::InvalidResponsePayload(e) => e.request_id.as_deref(),
            Error::UnexpectedResponse(r) => request_id(r.headers()),
            _ => None,
        }
    }

    /// The operation that failed, when known.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::ErrorResponse(rv) => Some(rv.operation()),
            Error::ResponseBodyError(e) => Some(e.operation),
            Error::InvalidResponsePayload(e) => Some(e.operation),
            Error::UnexpectedResponse(r) => Some(label(r)),
            Error::CommunicationError(e) => Some(e.operation),
            Error::MicroversionUnsupported(e) => Some(e.operation),
            _ => None,
        }
    }

    /// The server answered 404 (a waiter for deletion treats it as success).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(reqwest::StatusCode::NOT_FOUND)
    }
}

impl Error<Fault> {
    /// The decoded error body, for an error response.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::ErrorResponse(rv) => Some(rv),
            _ => None,
        }
    }
}

impl<E> From<TransportError> for Error<E> {
    fn from(e: TransportError) -> Self {
        Error::CommunicationError(Box::new(e))
    }
}

impl<E> From<reqwest::header::InvalidHeaderValue> for Error<E> {
    fn from(e: reqwest::header::InvalidHeaderValue) -> Self {
        Error::InvalidRequest(e.to_string())
    }
}

impl fmt::Display for Error<Fault> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rid = |id: Option<&str>| id.map(|id| format!(", request id {id}")).unwrap_or_default();
        match self {
            Error::InvalidRequest(message) => write!(f, "invalid request (nothing was sent): {message}"),
            Error::CommunicationError(e) => e.fmt(f),
            Error::ErrorResponse(rv) => {
                write!(f, "{} failed: HTTP {}", rv.operation(), rv.status().as_u16())?;
                if let Some(name) = rv.name() {
                    write!(f, " {name}")?;
                }
                if let Some(message) = rv.message() {
                    write!(f, ": {message}")?;
                } else {
                    write!(f, ": {}", rv.body())?;
                }
                write!(f, "{}", rid(rv.request_id()))
            }
            Error::ResponseBodyError(e) => write!(
                f,
                "{}: reading the HTTP {} response body failed{}: {}",
                e.operation,
                e.status.as_u16(),
                rid(e.request_id.as_deref()),
                e.source
            ),
            Error::InvalidResponsePayload(e) => write!(
                f,
                "{}: the HTTP {} response{} does not decode{}: {}; body: {}",
                e.operation,
                e.status.as_u16(),
                e.content_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default(),
                rid(e.request_id.as_deref()),
                e.source,
                if e.excerpt.is_empty() { "(empty)" } else { &e.excerpt }
            ),
            Error::UnexpectedResponse(r) => {
                write!(f, "{}: unexpected HTTP {}{}", label(r), r.status().as_u16(), rid(request_id(r.headers())))
            }
            Error::Configuration(message) => write!(f, "configuration: {message} (nothing was sent)"),
            Error::Authentication { message, status, request_id } => {
                write!(f, "authentication failed: {message}")?;
                if let Some(s) = status {
                    write!(f, " (HTTP {})", s.as_u16())?;
                }
                write!(f, "{}", rid(request_id.as_deref()))
            }
            Error::WaitFailed { resource, id, status, reason } => {
                write!(f, "{resource} {id} went to {status}")?;
                match reason {
                    Some(r) => write!(f, ": {r}"),
                    None => Ok(()),
                }
            }
            Error::WaitTimedOut { resource, id, wanted, last_status, waited } => write!(
                f,
                "gave up waiting after {:.1} s for {resource} {id} to be {wanted}; last status: {}",
                waited.as_secs_f64(),
                last_status.as_deref().unwrap_or("(none seen)")
            ),
            Error::MicroversionUnsupported(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error<Fault> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::CommunicationError(e) => Some(&e.source),
            Error::ResponseBodyError(e) => Some(&e.source),
            Error::InvalidResponsePayload(e) => Some(&e.source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_root_strips_version_and_project() {
        assert_eq!(service_root("http://127.0.0.1:8776/v3/abc123"), "http://127.0.0.1:8776");
        assert_eq!(service_root("http://127.0.0.1:8776/v3"), "http://127.0.0.1:8776");
        assert_eq!(service_root("http://127.0.0.1:8776/v3/"), "http://127.0.0.1:8776");
        assert_eq!(service_root("https://cloud/volume/v3/abc"), "https://cloud/volume");
        assert_eq!(service_root("https://cloud/v1.0/abc"), "https://cloud");
        assert_eq!(service_root("https://cloud:8776"), "https://cloud:8776");
    }

    static TABLE: &[OperationMeta] = &[
        OperationMeta {
            method_name: "create_thing",
            operation_id: "createThing",
            method: "POST",
            path: "/things",
            tag: "things",
            action: None,
            min_microversion: None,
            gated_query: &[],
            gated_body: &[
                BodyGate {
                    pointer: "/thing/force",
                    min: None,
                    max: Some(Microversion::new(3, 65)),
                    max_values: &["false"],
                },
                BodyGate {
                    pointer: "/thing/parts/*/tier",
                    min: Some(Microversion::new(3, 43)),
                    max: None,
                    max_values: &[],
                },
                BodyGate { pointer: "/thing/a~1b", min: Some(Microversion::new(3, 10)), max: None, max_values: &[] },
            ],
        },
        OperationMeta {
            method_name: "extend_thing",
            operation_id: "extendThing",
            method: "POST",
            path: "/things/{id}/action",
            tag: "things",
            action: Some("os-extend"),
            min_microversion: Some(Microversion::new(3, 20)),
            gated_query: &[],
            gated_body: &[BodyGate {
                pointer: "/os-extend/online",
                min: Some(Microversion::new(3, 42)),
                max: None,
                max_values: &[],
            }],
        },
        OperationMeta {
            method_name: "thing_action",
            operation_id: "thingAction",
            method: "POST",
            path: "/things/{id}/action",
            tag: "things",
            action: None,
            min_microversion: None,
            gated_query: &[],
            gated_body: &[],
        },
    ];
    static SERVICE: ServiceInfo = ServiceInfo {
        service_type: "things",
        microversion_service: Some("volume"),
        max_microversion: Some(Microversion::new(3, 71)),
        operations: TABLE,
    };

    fn check_body(method_name: &str, body: serde_json::Value, minor: u16) -> Result<(), MicroversionError> {
        let op = SERVICE.operation(method_name).unwrap();
        let mut request = reqwest::Request::new(reqwest::Method::POST, "http://h/v3/things".parse().unwrap());
        *request.body_mut() = Some(serde_json::to_vec(&body).unwrap().into());
        check_request(&SERVICE, op, &request, Microversion::new(3, minor))
    }

    #[test]
    fn body_gates_look_at_set_values_at_any_depth() {
        use serde_json::json;
        let refused = |method_name, body, minor| check_body(method_name, body, minor).unwrap_err().to_string();
        assert!(check_body("create_thing", json!({"thing": {"parts": [{"size": 1}, {"tier": null}]}}), 3).is_ok());
        assert_eq!(
            refused("create_thing", json!({"thing": {"parts": [{"size": 1}, {"tier": "gold"}]}}), 42),
            "create_thing: body property `/thing/parts/1/tier` needs microversion 3.43 or later; the client uses 3.42 (nothing was sent)"
        );
        assert!(check_body("create_thing", json!({"thing": {"parts": [{"tier": "gold"}]}}), 43).is_ok());
        assert!(check_body("create_thing", json!({"thing": {"force": true}}), 66).is_ok());
        assert!(check_body("create_thing", json!({"thing": {"force": false}}), 65).is_ok());
        assert_eq!(
            refused("create_thing", json!({"thing": {"force": false}}), 66),
            "create_thing: body property `/thing/force` = false needs microversion 3.65 or earlier; the client uses 3.66 (nothing was sent)"
        );
        assert_eq!(
            check_body("create_thing", json!({"thing": {"a/b": 1}}), 9).unwrap_err().gated,
            Gated::BodyProperty { pointer: "/thing/a~1b".into(), value: None }
        );
    }

    #[test]
    fn an_action_body_is_checked_as_its_action() {
        use serde_json::json;
        let err = check_body("thing_action", json!({"os-extend": {"new_size": 2}}), 19).unwrap_err();
        assert_eq!((err.operation, err.gated.clone()), ("extend_thing", Gated::Operation));
        assert_eq!(err.required, Requirement::AtLeast(Microversion::new(3, 20)));
        let err = check_body("thing_action", json!({"os-extend": {"new_size": 2, "online": true}}), 41).unwrap_err();
        assert_eq!(
            err.to_string(),
            "extend_thing: body property `/os-extend/online` needs microversion 3.42 or later; the client uses 3.41 (nothing was sent)"
        );
        assert!(check_body("thing_action", json!({"os-extend": {"new_size": 2, "online": true}}), 42).is_ok());
        // An action the table does not know is the server's to judge.
        assert!(check_body("thing_action", json!({"os-other": {}}), 3).is_ok());
    }

    /// Whatever a server puts in the headers the client reads: no panic.
    #[test]
    fn response_headers_are_read_without_panics() {
        let with = |name: &'static str, value: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_bytes(value).unwrap());
            ResponseValue::new((), reqwest::StatusCode::OK, headers)
        };
        let version = |value: &[u8]| with("openstack-api-version", value).microversion();
        assert_eq!(version(b"volume 3.64"), Some(Microversion::new(3, 64)));
        assert_eq!(version(b"3.5"), Some(Microversion::new(3, 5)));
        for odd in [
            &b"volume 3.99999999"[..],
            b"volume",
            b"",
            b"volume 3.64 extra",
            b"volume -3.1",
            b"\xff 3.1",
            b"volume 1e9",
        ] {
            assert_eq!(version(odd), None, "{odd:?}");
        }
        assert_eq!(with(REQUEST_ID, b"req-1").request_id(), Some("req-1"));
        assert_eq!(with(REQUEST_ID, b"req-\xff").request_id(), None);
        assert_eq!(with(COMPUTE_REQUEST_ID, b"req-2").request_id(), Some("req-2"));
    }

    #[test]
    fn excerpts_are_short_and_char_safe() {
        let long = "é".repeat(500);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), 201);
        assert_eq!(excerpt(b"<html>"), "<html>");
    }
}
