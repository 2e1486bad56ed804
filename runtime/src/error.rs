//! The one error type of every call, and its parts.

use std::fmt;

use crate::response::{ResponseValue, clip, request_id};
use crate::{Fault, Microversion};

/// A response body that did not decode into the operation's type.
#[derive(Debug)]
#[non_exhaustive]
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
    /// What the decoder said, short.
    pub source: DecodeError,
}

/// What the JSON decoder said of a response body, kept short: serde quotes
/// the offending value whole (a megabyte string from a broken server), so
/// a message over 300 characters is cut and keeps its position. It is the
/// [`source`](std::error::Error::source) of
/// [`Error::InvalidResponsePayload`], whose `Debug` and source chain then
/// stay short whatever the body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeError {
    /// The decoder's message, at most 300 characters and its position.
    pub message: String,
    /// The line of the body where decoding stopped (1-based; 0 when the
    /// decoder gave none).
    pub line: usize,
    /// The column in that line (1-based; 0 when none).
    pub column: usize,
}

impl From<&serde_json::Error> for DecodeError {
    fn from(e: &serde_json::Error) -> Self {
        let text = e.to_string();
        let message = if text.chars().count() <= 300 {
            text
        } else {
            format!("{} at line {} column {}", clip(&text, 300), e.line(), e.column())
        };
        Self { message, line: e.line(), column: e.column() }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

/// The most characters of server text an error keeps in one field (a
/// status, a marker, a reason, a message): what a server sends can be any
/// size, an error that is logged should not be.
pub(crate) const STATUS_TEXT: usize = 100;
/// See [`STATUS_TEXT`].
pub(crate) const SERVER_TEXT: usize = 1000;
/// The most candidate ids a [`FindError::Ambiguous`] keeps.
pub(crate) const AMBIGUOUS_IDS: usize = 20;

/// A response body that could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub struct BodyError {
    /// The operation.
    pub operation: &'static str,
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The request id, if the server sent one.
    pub request_id: Option<String>,
    /// The transport error (without the request's URL).
    pub source: reqwest::Error,
}

/// The error of every call: generated operations, paging, waiters, finders
/// and the session's own (authentication, catalog, configuration).
///
/// The variants read by layer: what stopped the call before anything was
/// sent (`InvalidRequest`, `Configuration`, `MicroversionUnsupported`);
/// Keystone (`Authentication`); the exchange with the service
/// (`CommunicationError`, then the response: `ErrorResponse`,
/// `ResponseBodyError`, `InvalidResponsePayload`, `UnexpectedResponse`);
/// and the helpers built on calls (`Wait`, `Find`, `Paging`). Code that handles
/// failures alike reads [`Error::kind`]; the accessors
/// ([`operation`](Error::operation), [`status`](Error::status),
/// [`request_id`](Error::request_id), [`fault`](Error::fault)) work on
/// every variant.
///
/// Not generic: every error response of every operation of the specs is
/// the `Fault` schema (the generator refuses any other), so a type
/// parameter would only ever be [`Fault`]. `Debug` prints what `Display`
/// prints (`{:#?}` gives the parts), so `fn main() -> Result<(), Error>`
/// reports the operation, status, fault and request id.
#[non_exhaustive]
pub enum Error {
    /// The request could not be built (a builder argument was missing or
    /// could not be converted); nothing was sent.
    InvalidRequest(String),
    /// The client's configuration is unusable (no `auth_url`, an unknown
    /// cloud, no endpoint in the catalog, …); nothing was sent.
    Configuration(String),
    /// The call, one of its query parameters or a set request-body property
    /// needs another microversion than the client uses; nothing was sent.
    MicroversionUnsupported(Box<MicroversionError>),
    /// Keystone did not issue a token, or the service refused it.
    Authentication(Box<AuthenticationError>),
    /// No (complete) response: the server could not be reached, the
    /// connection broke, a timeout ran out or redirects looped. Names the
    /// operation and its path template.
    CommunicationError(Box<TransportError>),
    /// The server answered with an error status and a fault body.
    ErrorResponse(Box<ResponseValue<Fault>>),
    /// The response body could not be read.
    ResponseBodyError(Box<BodyError>),
    /// The response body did not decode.
    InvalidResponsePayload(Box<InvalidPayload>),
    /// A status the spec does not list for the operation.
    UnexpectedResponse(Box<UnexpectedResponse>),
    /// A waiter (`wait_for_<status>`, `wait_for_delete`) did not see the
    /// status it waited for.
    Wait(Box<WaitError>),
    /// A finder (`find_<item>`) found no resource, or several, by the name.
    Find(Box<FindError>),
    /// A paged list's next links cannot be followed (a cycle, a link
    /// without a marker): the stream stopped.
    Paging(Box<PagingError>),
}

/// A paged list whose next links a stream cannot follow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PagingError {
    /// The list operation (`list_backups_detail`).
    pub operation: &'static str,
    /// The pages read, the last one included (its items were yielded).
    pub pages: usize,
    /// What was wrong with the last page's next link.
    pub problem: PagingProblem,
}

/// What was wrong with a next link.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagingProblem {
    /// Its marker was followed already: the links go round.
    #[non_exhaustive]
    MarkerCameBack {
        /// The marker (its first 200 characters).
        marker: String,
    },
    /// It has no `marker` to follow.
    #[non_exhaustive]
    NoMarker {
        /// The link (its first 300 characters).
        link: String,
    },
}

impl PagingProblem {
    /// The problem with `marker`, kept short.
    pub(crate) fn marker_came_back(marker: &str) -> Self {
        PagingProblem::MarkerCameBack { marker: clip(marker, 200) }
    }

    /// The problem with `link`, kept short.
    pub(crate) fn no_marker(link: &str) -> Self {
        PagingProblem::NoMarker { link: clip(link, 300) }
    }
}

impl fmt::Display for PagingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pages = if self.pages == 1 { "1 page".to_owned() } else { format!("{} pages", self.pages) };
        write!(f, "{}: paging stopped after {pages}: ", self.operation)?;
        match &self.problem {
            PagingProblem::MarkerCameBack { marker } => {
                write!(f, "the server's next link leads back to marker {marker}, followed already")
            }
            PagingProblem::NoMarker { link } => write!(f, "the server's next link has no marker ({link})"),
        }
    }
}

/// Keystone refused to issue a token (or answered in a way no token could
/// be read from).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthenticationError {
    /// What went wrong, with Keystone's message when it sent one (at most
    /// 1,000 characters of it).
    pub message: String,
    /// Keystone's HTTP status, when it answered.
    pub status: Option<reqwest::StatusCode>,
    /// Keystone's request id, when it answered.
    pub request_id: Option<String>,
}

impl AuthenticationError {
    /// A failure that got no answer from Keystone (or whose answer is not
    /// the point).
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: clip(&message.into(), SERVER_TEXT), status: None, request_id: None }
    }

    /// The same, with Keystone's answer: its status and request id.
    pub fn answered(mut self, status: reqwest::StatusCode, request_id: Option<String>) -> Self {
        self.status = Some(status);
        self.request_id = request_id.map(|id| clip(&id, STATUS_TEXT));
        self
    }
}

impl fmt::Display for AuthenticationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "authentication failed: {}", self.message)?;
        if let Some(s) = self.status {
            write!(f, " (HTTP {})", s.as_u16())?;
        }
        match &self.request_id {
            Some(id) => write!(f, ", request id {id}"),
            None => Ok(()),
        }
    }
}

/// A waiter that did not see the status it waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// The resource reached a failure status (or was deleted while the
    /// waiter waited for a status).
    #[non_exhaustive]
    Failed {
        /// `backup`, `snapshot`, `volume`, …
        resource: &'static str,
        /// The resource's id.
        id: String,
        /// The status it reached (`error`, `deleted`; at most 100
        /// characters of what the server sent).
        status: String,
        /// The server's reason (`fail_reason`), when it gives one (at most
        /// 1,000 characters of it).
        reason: Option<String>,
    },
    /// The waiter gave up: its timeout ran out first.
    #[non_exhaustive]
    TimedOut {
        /// `backup`, `snapshot`, `volume`, …
        resource: &'static str,
        /// The resource's id.
        id: String,
        /// The status it wanted (`available`, `deleted`).
        wanted: String,
        /// The last status seen (`None`: not seen yet; at most 100
        /// characters of it).
        last_status: Option<String>,
        /// How long it waited.
        waited: std::time::Duration,
    },
}

impl WaitError {
    /// A failure: `status` and `reason` as the server sent them, kept short.
    pub(crate) fn failed(resource: &'static str, id: &str, status: &str, reason: Option<&str>) -> Self {
        WaitError::Failed {
            resource,
            id: id.to_owned(),
            status: clip(status, STATUS_TEXT),
            reason: reason.map(|r| clip(r, SERVER_TEXT)),
        }
    }

    /// A timeout: `last_status` as the server sent it, kept short.
    pub(crate) fn timed_out(
        resource: &'static str,
        id: &str,
        wanted: &str,
        last_status: Option<&str>,
        waited: std::time::Duration,
    ) -> Self {
        WaitError::TimedOut {
            resource,
            id: id.to_owned(),
            wanted: wanted.to_owned(),
            last_status: last_status.map(|s| clip(s, STATUS_TEXT)),
            waited,
        }
    }

    /// The kind of resource waited for (`backup`).
    pub fn resource(&self) -> &'static str {
        match self {
            WaitError::Failed { resource, .. } | WaitError::TimedOut { resource, .. } => resource,
        }
    }

    /// The id of the resource waited for.
    pub fn id(&self) -> &str {
        match self {
            WaitError::Failed { id, .. } | WaitError::TimedOut { id, .. } => id,
        }
    }
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Failed { resource, id, status, reason } => {
                write!(f, "{resource} {id} went to {status}")?;
                match reason {
                    Some(r) => write!(f, ": {r}"),
                    None => Ok(()),
                }
            }
            WaitError::TimedOut { resource, id, wanted, last_status, waited } => write!(
                f,
                "gave up waiting after {:.1} s for {resource} {id} to be {wanted}; last status: {}",
                waited.as_secs_f64(),
                last_status.as_deref().unwrap_or("(none seen)")
            ),
        }
    }
}

/// A finder's search by id, then by name, that did not end in one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FindError {
    /// No resource has this id or this name.
    #[non_exhaustive]
    NotFound {
        /// `backup`, `snapshot`, `volume`, …
        resource: &'static str,
        /// The name or id looked for.
        name: String,
    },
    /// Several resources have this name: use an id.
    #[non_exhaustive]
    Ambiguous {
        /// `backup`, `snapshot`, `volume`, …
        resource: &'static str,
        /// The name looked for.
        name: String,
        /// The ids of the resources that have it (the first 20).
        ids: Vec<String>,
        /// How many resources have it.
        count: usize,
    },
}

impl FindError {
    /// Several resources named `name`: the first 20 of `ids` are kept,
    /// and their number.
    pub(crate) fn ambiguous(resource: &'static str, name: &str, ids: Vec<String>) -> Self {
        let count = ids.len();
        FindError::Ambiguous {
            resource,
            name: name.to_owned(),
            ids: ids.into_iter().take(AMBIGUOUS_IDS).map(|id| clip(&id, STATUS_TEXT)).collect(),
            count,
        }
    }
}

impl fmt::Display for FindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindError::NotFound { resource, name } => write!(f, "no {resource} has the id or the name {name:?}"),
            FindError::Ambiguous { resource, name, ids, count } => {
                let more = if *count > ids.len() { format!(", and {} more", count - ids.len()) } else { String::new() };
                write!(f, "{count} {resource}s have the name {name:?}: use one of their ids ({}{more})", ids.join(", "))
            }
        }
    }
}

/// A request that got no (complete) response.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// The operation (method name, `show_backup`).
    pub operation: &'static str,
    /// The HTTP method.
    pub method: reqwest::Method,
    /// The operation's path template (`/backups/{backup_id}`).
    pub path: &'static str,
    /// How many attempts were made (retries included).
    pub attempts: u32,
    /// The server's host and port (`cinder.example:8776`).
    pub host: Option<String>,
    /// What the HTTP client said (without the request's URL, whose marker
    /// or id may be any size the server chose).
    pub source: reqwest::Error,
}

impl TransportError {
    /// The failure of `operation` after `attempts`: `source` loses its URL
    /// (kept as `host`).
    pub(crate) fn new(
        operation: &'static str,
        method: reqwest::Method,
        path: &'static str,
        attempts: u32,
        source: reqwest::Error,
    ) -> Self {
        let host = source.url().and_then(|u| {
            let host = u.host_str()?;
            Some(match u.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            })
        });
        Self { operation, method, path, attempts, host, source: source.without_url() }
    }
}

impl TransportError {
    /// Whether the request may have reached the server: anything but a
    /// failure to connect (a timeout or a reset after sending, a body cut
    /// short). For a call that changes something (not `GET`), the server
    /// may then have acted on it although no answer came.
    pub fn may_have_reached_server(&self) -> bool {
        !self.source.is_connect()
    }

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
        if let Some(host) = &self.host {
            write!(f, " on {host}")?;
        }
        if self.attempts > 1 {
            write!(f, ", {} attempts", self.attempts)?;
        }
        write!(f, "): {}", error_chain(&self.source))?;
        let changes = !matches!(self.method, reqwest::Method::GET | reqwest::Method::HEAD);
        match (changes, self.may_have_reached_server()) {
            (true, true) => f.write_str(" (the request may have reached the server, which may have acted on it)"),
            (true, false) => f.write_str(" (nothing reached the server)"),
            (false, _) => Ok(()),
        }
    }
}

/// The messages of an error and its sources, without the request URL.
pub(crate) fn error_chain(error: &reqwest::Error) -> String {
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
#[non_exhaustive]
pub struct MicroversionError {
    /// The service's catalog type (`block-storage`).
    pub service: &'static str,
    /// The operation (method name; the action's own for an action).
    pub operation: &'static str,
    /// What needs another microversion.
    pub gated: Gated,
    /// Which microversions accept it.
    pub required: Requirement,
    /// The microversion the client uses.
    pub configured: Microversion,
}

impl MicroversionError {
    /// A refusal of `gated` in `operation` of `service` (its catalog type),
    /// which needs `required` while the client uses `configured`.
    pub fn new(
        service: &'static str,
        operation: &'static str,
        gated: Gated,
        required: Requirement,
        configured: Microversion,
    ) -> Self {
        Self { service, operation, gated, required, configured }
    }
}

impl fmt::Display for MicroversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { operation, gated, required, configured, .. } = self;
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
    /// No resource has the name or id looked for.
    NotFound,
    /// Several resources have the name looked for.
    AmbiguousName,
}

/// A response whose status the spec does not list for the operation.
#[non_exhaustive]
pub struct UnexpectedResponse {
    /// The operation (method name) it answers.
    pub operation: &'static str,
    /// The response, its body unread.
    pub response: reqwest::Response,
}

/// The operation, the status and the request id: not the response's
/// headers, whose size is the server's.
impl fmt::Debug for UnexpectedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnexpectedResponse")
            .field("operation", &self.operation)
            .field("status", &self.response.status().as_u16())
            .field("request_id", &request_id(self.response.headers()).map(|r| clip(r, STATUS_TEXT)))
            .finish_non_exhaustive()
    }
}

impl Error {
    /// [`Error::UnexpectedResponse`] for `response`, the answer of
    /// `operation` (generated code's constructor).
    #[doc(hidden)]
    pub fn unexpected(response: reqwest::Response, operation: &'static str) -> Self {
        Error::UnexpectedResponse(Box::new(UnexpectedResponse { operation, response }))
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Error::Configuration(_) => ErrorKind::Configuration,
            Error::MicroversionUnsupported(_) => ErrorKind::MicroversionUnsupported,
            Error::Authentication(_) => ErrorKind::Authentication,
            Error::CommunicationError(e) if e.source.is_timeout() => ErrorKind::Timeout,
            Error::CommunicationError(_) => ErrorKind::Transport,
            Error::ErrorResponse(rv) if rv.status() == reqwest::StatusCode::UNAUTHORIZED => ErrorKind::Authentication,
            Error::UnexpectedResponse(r) if r.response.status() == reqwest::StatusCode::UNAUTHORIZED => {
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
            Error::Wait(e) => match **e {
                WaitError::Failed { .. } => ErrorKind::WaitFailed,
                WaitError::TimedOut { .. } => ErrorKind::WaitTimedOut,
            },
            Error::Find(e) => match **e {
                FindError::NotFound { .. } => ErrorKind::NotFound,
                FindError::Ambiguous { .. } => ErrorKind::AmbiguousName,
            },
            // The server's answers cannot be followed.
            Error::Paging(_) => ErrorKind::Server,
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

    /// The server answered 404, or no resource has the name or id a
    /// `find_<item>` call looked for.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(reqwest::StatusCode::NOT_FOUND)
            || matches!(self, Error::Find(e) if matches!(**e, FindError::NotFound { .. }))
    }

    /// The HTTP status, when the server (or Keystone) answered (never for
    /// a [`CommunicationError`](Error::CommunicationError): no answer came).
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Error::ErrorResponse(rv) => Some(rv.status()),
            Error::ResponseBodyError(e) => Some(e.status),
            Error::InvalidResponsePayload(e) => Some(e.status),
            Error::UnexpectedResponse(r) => Some(r.response.status()),
            Error::Authentication(e) => e.status,
            _ => None,
        }
    }

    /// The server's (or Keystone's) request id, when it answered with one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::ErrorResponse(rv) => rv.request_id(),
            Error::ResponseBodyError(e) => e.request_id.as_deref(),
            Error::InvalidResponsePayload(e) => e.request_id.as_deref(),
            Error::UnexpectedResponse(r) => request_id(r.response.headers()),
            Error::Authentication(e) => e.request_id.as_deref(),
            _ => None,
        }
    }

    /// The operation (method name, `show_backup`) that failed, when the
    /// failure belongs to one call.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::ErrorResponse(rv) => Some(rv.operation()),
            Error::ResponseBodyError(e) => Some(e.operation),
            Error::InvalidResponsePayload(e) => Some(e.operation),
            Error::UnexpectedResponse(r) => Some(r.operation),
            Error::CommunicationError(e) => Some(e.operation),
            Error::MicroversionUnsupported(e) => Some(e.operation),
            Error::Paging(e) => Some(e.operation),
            _ => None,
        }
    }

    /// The decoded fault body (`{"itemNotFound": {"code": 404, "message":
    /// …}}`), for an error response.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::ErrorResponse(rv) => Some(rv),
            _ => None,
        }
    }

    /// The waiter's failure, for [`Error::Wait`].
    pub fn wait_error(&self) -> Option<&WaitError> {
        match self {
            Error::Wait(e) => Some(e),
            _ => None,
        }
    }

    /// The finder's failure, for [`Error::Find`].
    pub fn find_error(&self) -> Option<&FindError> {
        match self {
            Error::Find(e) => Some(e),
            _ => None,
        }
    }

    /// The error of a token source, as the call that needed the token
    /// reports it: Keystone's error response becomes an authentication
    /// failure (with Keystone's status and request id); the rest stands.
    pub(crate) fn into_authentication(self) -> Self {
        match self {
            Error::ErrorResponse(rv) => {
                AuthenticationError::new(format!("{} answered HTTP {}", rv.operation(), rv.status().as_u16()))
                    .answered(rv.status(), rv.request_id().map(str::to_owned))
                    .into()
            }
            other => other,
        }
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::CommunicationError(Box::new(e))
    }
}

impl From<MicroversionError> for Error {
    fn from(e: MicroversionError) -> Self {
        Error::MicroversionUnsupported(Box::new(e))
    }
}

impl From<AuthenticationError> for Error {
    fn from(e: AuthenticationError) -> Self {
        Error::Authentication(Box::new(e))
    }
}

impl From<WaitError> for Error {
    fn from(e: WaitError) -> Self {
        Error::Wait(Box::new(e))
    }
}

impl From<FindError> for Error {
    fn from(e: FindError) -> Self {
        Error::Find(Box::new(e))
    }
}

impl From<reqwest::header::InvalidHeaderValue> for Error {
    fn from(e: reqwest::header::InvalidHeaderValue) -> Self {
        Error::InvalidRequest(e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rid = |id: Option<&str>| id.map(|id| format!(", request id {}", clip(id, STATUS_TEXT))).unwrap_or_default();
        match self {
            Error::InvalidRequest(message) => write!(f, "invalid request (nothing was sent): {message}"),
            Error::Configuration(message) => write!(f, "configuration: {message} (nothing was sent)"),
            Error::MicroversionUnsupported(e) => e.fmt(f),
            Error::Authentication(e) => e.fmt(f),
            Error::CommunicationError(e) => e.fmt(f),
            Error::ErrorResponse(rv) => {
                write!(f, "{} failed: HTTP {}", rv.operation(), rv.status().as_u16())?;
                if let Some(name) = rv.name() {
                    write!(f, " {}", clip(name, 100))?;
                }
                if let Some(message) = rv.message() {
                    write!(f, ": {}", clip(message, 1000))?;
                } else {
                    write!(f, ": {}", clip(&rv.body().to_string(), 1000))?;
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
                let (status, headers) = (r.response.status(), r.response.headers());
                write!(f, "{}: unexpected HTTP {}{}", r.operation, status.as_u16(), rid(request_id(headers)))
            }
            Error::Wait(e) => e.fmt(f),
            Error::Find(e) => e.fmt(f),
            Error::Paging(e) => e.fmt(f),
        }
    }
}

/// What `Display` says: `fn main() -> Result<(), Error>` prints `Debug`,
/// and the message (operation, status, fault, request id) is what a reader
/// needs there. The alternate form (`{:#?}`) lays out the parts. Neither
/// can show a secret: the parts hold none (a token is never in a request
/// an error keeps).
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("Error")
                .field("kind", &self.kind())
                .field("operation", &self.operation())
                .field("status", &self.status().map(|s| s.as_u16()))
                .field("request_id", &self.request_id().map(|id| clip(id, STATUS_TEXT)))
                .field("message", &format_args!("{self}"))
                .finish()
        } else {
            fmt::Display::fmt(self, f)
        }
    }
}

impl std::error::Error for Error {
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

    /// Small enough that callers' `Result<T, Error>` pass clippy's
    /// `result_large_err` (128 bytes) without an allowance.
    #[test]
    fn the_error_stays_small() {
        let size = std::mem::size_of::<Error>();
        assert!(size < 128, "Error is {size} bytes");
    }

    /// `fn main() -> Result<(), Error>` prints `Debug`: it says what
    /// `Display` says (operation, status, fault name and message, request
    /// id), not the enum's insides; `{:#?}` lays the parts out.
    #[test]
    fn debug_tells_what_display_tells() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-openstack-request-id", "req-42".parse().unwrap());
        let fault =
            Fault::new(serde_json::json!({"itemNotFound": {"code": 404, "message": "Backup b1 could not be found."}}));
        let rv = ResponseValue::received(fault, reqwest::StatusCode::NOT_FOUND, headers, "show_backup");
        let error = Error::ErrorResponse(Box::new(rv));
        let shown = "show_backup failed: HTTP 404 itemNotFound: Backup b1 could not be found., request id req-42";
        assert_eq!(error.to_string(), shown);
        assert_eq!(format!("{error:?}"), shown);
        let parts = format!("{error:#?}").split_whitespace().collect::<String>();
        for part in
            ["kind:Server", "operation:Some(\"show_backup\",)", "status:Some(404,)", "request_id:Some(\"req-42\",)"]
        {
            assert!(parts.contains(part), "{part} not in {parts}");
        }

        let wait: Error = WaitError::TimedOut {
            resource: "backup",
            id: "b1".to_owned(),
            wanted: "available".to_owned(),
            last_status: Some("creating".to_owned()),
            waited: std::time::Duration::from_secs(3),
        }
        .into();
        assert_eq!(wait.kind(), ErrorKind::WaitTimedOut);
        assert_eq!(format!("{wait:?}"), wait.to_string());
        assert_eq!(wait.wait_error().map(WaitError::id), Some("b1"));
        let find: Error = FindError::NotFound { resource: "volume", name: "db".to_owned() }.into();
        assert!(find.is_not_found());
        assert_eq!(format!("{find:?}"), "no volume has the id or the name \"db\"");
    }

    /// A loopback address whose listener answers one request with
    /// `reply` and closes, or (`None`) accepts and never answers.
    fn serve_once(reply: Option<&'static str>) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            match reply {
                Some(reply) => {
                    let _ = stream.write_all(reply.as_bytes());
                }
                None => std::thread::sleep(std::time::Duration::from_secs(5)),
            }
        });
        address
    }

    /// An address nothing listens on.
    fn closed_port() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    }

    async fn send(method: reqwest::Method, url: &str) -> Result<reqwest::Response, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_millis(200)).build().unwrap();
        client.request(method, url).send().await
    }

    fn transport(method: reqwest::Method, attempts: u32, source: reqwest::Error) -> Error {
        TransportError::new("create_backup", method, "/backups", attempts, source).into()
    }

    fn fault(status: u16, name: &str) -> Error {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-openstack-request-id", "req-7".parse().unwrap());
        let fault = Fault::new(serde_json::json!({name: {"code": status, "message": "no"}}));
        let status = reqwest::StatusCode::from_u16(status).unwrap();
        Error::ErrorResponse(Box::new(ResponseValue::received(fault, status, headers, "show_backup")))
    }

    fn payload(status: u16) -> Error {
        let source = DecodeError::from(&serde_json::from_str::<u32>("true").unwrap_err());
        Error::InvalidResponsePayload(Box::new(InvalidPayload {
            operation: "list_backups",
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            request_id: Some("req-8".to_owned()),
            content_type: Some("text/html".to_owned()),
            excerpt: "<html>".to_owned(),
            source,
        }))
    }

    /// What code that handles failures reads (`kind`, `status`,
    /// `request_id`, `operation`, the `is_*` tests, the parts and the
    /// source chain), for every variant as the client makes it.
    #[tokio::test]
    async fn every_variant_answers_the_accessors() {
        use reqwest::StatusCode as S;
        let refused = send(reqwest::Method::POST, &closed_port()).await.unwrap_err();
        let timed_out = send(reqwest::Method::GET, &serve_once(None)).await.unwrap_err();
        assert!(refused.is_connect() && timed_out.is_timeout());

        let not_found = fault(404, "itemNotFound");
        assert_eq!(not_found.kind(), ErrorKind::Server);
        assert_eq!(
            (not_found.status(), not_found.request_id(), not_found.operation()),
            (Some(S::NOT_FOUND), Some("req-7"), Some("show_backup"))
        );
        assert_eq!(not_found.fault().and_then(Fault::name), Some("itemNotFound"));
        assert!(not_found.is_not_found() && !not_found.is_conflict() && !not_found.is_timeout());
        assert!(std::error::Error::source(&not_found).is_none() && not_found.find_error().is_none());
        let conflict = fault(409, "conflictingRequest");
        assert!(conflict.is_conflict() && !conflict.is_not_found() && !conflict.is_authentication());
        let unauthorized = fault(401, "unauthorized");
        assert_eq!(unauthorized.kind(), ErrorKind::Authentication);
        assert!(unauthorized.is_authentication());

        for (status, kind) in [
            (200, ErrorKind::UndecodableResponse),
            (401, ErrorKind::Authentication),
            (404, ErrorKind::Server),
            (502, ErrorKind::Server),
        ] {
            let e = payload(status);
            assert_eq!(e.kind(), kind, "undecodable HTTP {status}");
            assert_eq!(
                (e.status().map(|s| s.as_u16()), e.request_id(), e.operation()),
                (Some(status), Some("req-8"), Some("list_backups"))
            );
            let source = std::error::Error::source(&e).expect("the decoder's error");
            assert_eq!(source.to_string(), "invalid type: boolean `true`, expected u32 at line 1 column 4");
            assert!(e.fault().is_none());
        }

        for (source, kind) in [(refused, ErrorKind::UndecodableResponse), (timed_out, ErrorKind::Timeout)] {
            let e = Error::ResponseBodyError(Box::new(BodyError {
                operation: "list_backups",
                status: S::OK,
                request_id: Some("req-9".to_owned()),
                source,
            }));
            assert_eq!(e.kind(), kind);
            assert_eq!((e.status(), e.request_id(), e.operation()), (Some(S::OK), Some("req-9"), Some("list_backups")));
            assert!(std::error::Error::source(&e).is_some());
        }

        let refused =
            transport(reqwest::Method::POST, 4, send(reqwest::Method::POST, &closed_port()).await.unwrap_err());
        assert_eq!(refused.kind(), ErrorKind::Transport);
        assert!(!refused.is_timeout());
        assert_eq!((refused.status(), refused.request_id(), refused.operation()), (None, None, Some("create_backup")));
        assert!(std::error::Error::source(&refused).is_some_and(|s| s.to_string().contains("error sending request")));
        let timed_out =
            transport(reqwest::Method::GET, 1, send(reqwest::Method::GET, &serve_once(None)).await.unwrap_err());
        assert_eq!(timed_out.kind(), ErrorKind::Timeout);
        assert!(timed_out.is_timeout() && !timed_out.is_authentication());

        for (reply, kind) in [
            (
                "HTTP/1.1 401 Unauthorized\r\nx-openstack-request-id: req-1\r\ncontent-length: 0\r\n\r\n",
                ErrorKind::Authentication,
            ),
            (
                "HTTP/1.1 302 Found\r\nx-openstack-request-id: req-1\r\nx-big: 1\r\ncontent-length: 0\r\n\r\n",
                ErrorKind::Server,
            ),
        ] {
            let response = send(reqwest::Method::GET, &serve_once(Some(reply))).await.unwrap();
            let status = response.status().as_u16();
            let e = Error::unexpected(response, "show_backup");
            assert_eq!(e.kind(), kind, "unexpected HTTP {status}");
            assert_eq!((e.request_id(), e.operation()), (Some("req-1"), Some("show_backup")));
            assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
            let Error::UnexpectedResponse(r) = &e else { unreachable!() };
            assert_eq!(
                format!("{r:?}"),
                format!(
                    "UnexpectedResponse {{ operation: \"show_backup\", status: {status}, request_id: Some(\"req-1\"), .. }}"
                )
            );
        }

        let keystone: Error =
            AuthenticationError::new("no token").answered(S::UNAUTHORIZED, Some("req-k".to_owned())).into();
        assert_eq!(
            (keystone.status(), keystone.request_id(), keystone.operation()),
            (Some(S::UNAUTHORIZED), Some("req-k"), None)
        );
        assert!(keystone.is_authentication());

        let gated: Error = MicroversionError::new(
            "block-storage",
            "list_messages",
            Gated::Operation,
            Requirement::AtLeast(Microversion::new(3, 3)),
            Microversion::new(3, 0),
        )
        .into();
        assert_eq!(
            (gated.kind(), gated.operation(), gated.status()),
            (ErrorKind::MicroversionUnsupported, Some("list_messages"), None)
        );

        let paging = Error::Paging(Box::new(PagingError {
            operation: "list_backups_detail",
            pages: 2,
            problem: PagingProblem::marker_came_back("m1"),
        }));
        assert_eq!((paging.kind(), paging.operation()), (ErrorKind::Server, Some("list_backups_detail")));

        let missing: Error = FindError::NotFound { resource: "volume", name: "db".to_owned() }.into();
        let twice: Error = FindError::ambiguous("volume", "db", vec!["a".to_owned(), "b".to_owned()]).into();
        assert!(missing.is_not_found() && !twice.is_not_found());
        assert_eq!((twice.kind(), twice.operation()), (ErrorKind::AmbiguousName, None));
        assert!(matches!(twice.find_error(), Some(FindError::Ambiguous { count: 2, .. })));
        let failed: Error = WaitError::failed("backup", "b1", "error", None).into();
        assert_eq!(failed.kind(), ErrorKind::WaitFailed);
    }

    /// The messages an operator reads, part by part.
    #[tokio::test]
    async fn messages_say_what_happened() {
        let paging = |pages, problem| PagingError { operation: "list_backups_detail", pages, problem }.to_string();
        assert_eq!(
            paging(1, PagingProblem::marker_came_back("m1")),
            "list_backups_detail: paging stopped after 1 page: the server's next link leads back to marker m1, followed already"
        );
        assert_eq!(
            paging(3, PagingProblem::no_marker("http://x/backups?limit=1")),
            "list_backups_detail: paging stopped after 3 pages: the server's next link has no marker (http://x/backups?limit=1)"
        );

        let keystone = AuthenticationError::new("The request you have made requires authentication.");
        assert_eq!(keystone.to_string(), "authentication failed: The request you have made requires authentication.");
        let answered = keystone.answered(reqwest::StatusCode::UNAUTHORIZED, Some("req-k".to_owned()));
        assert_eq!(
            answered.to_string(),
            "authentication failed: The request you have made requires authentication. (HTTP 401), request id req-k"
        );

        let failed = WaitError::failed("backup", "b1", "error", Some("disk full"));
        assert_eq!((failed.resource(), failed.id()), ("backup", "b1"));
        assert_eq!(failed.to_string(), "backup b1 went to error: disk full");
        assert_eq!(WaitError::failed("snapshot", "s1", "deleted", None).to_string(), "snapshot s1 went to deleted");
        let timed_out = WaitError::timed_out("volume", "v1", "available", None, std::time::Duration::from_millis(2500));
        assert_eq!(timed_out.resource(), "volume");
        assert_eq!(
            timed_out.to_string(),
            "gave up waiting after 2.5 s for volume v1 to be available; last status: (none seen)"
        );

        let ids = |n: usize| (0..n).map(|i| format!("id{i}")).collect::<Vec<_>>();
        assert_eq!(
            FindError::ambiguous("backup", "nightly", ids(2)).to_string(),
            "2 backups have the name \"nightly\": use one of their ids (id0, id1)"
        );
        let many = FindError::ambiguous("backup", "nightly", ids(23)).to_string();
        assert!(many.starts_with("23 backups have the name \"nightly\": use one of their ids (id0, id1,"), "{many}");
        assert!(many.ends_with("id19, and 3 more)"), "{many}");

        // A failure to connect reached nothing; a timeout may have; a GET
        // changes nothing either way.
        let url = closed_port();
        let port = url.trim_start_matches("http://127.0.0.1:").trim_end_matches('/').to_owned();
        let refused = TransportError::new(
            "create_backup",
            reqwest::Method::POST,
            "/backups",
            4,
            send(reqwest::Method::POST, &url).await.unwrap_err(),
        );
        assert!(!refused.may_have_reached_server());
        let text = refused.to_string();
        let head = format!("create_backup failed: could not connect (POST /backups on 127.0.0.1:{port}, 4 attempts): ");
        assert!(text.starts_with(&head), "{text}");
        assert!(text.ends_with(" (nothing reached the server)"), "{text}");
        assert!(!text.contains("for url") && !text.contains(&url), "no URL: {text}");
        let chain = text[head.len()..].trim_end_matches(" (nothing reached the server)");
        let parts: Vec<&str> = chain.split(": ").collect();
        assert!(parts.len() > 1, "the sources are told: {chain}");
        for (i, part) in parts.iter().enumerate() {
            assert!(!parts[i + 1..].contains(part), "{part:?} told twice: {chain}");
        }

        let timed_out = TransportError::new(
            "create_backup",
            reqwest::Method::POST,
            "/backups",
            1,
            send(reqwest::Method::POST, &serve_once(None)).await.unwrap_err(),
        );
        assert!(timed_out.may_have_reached_server());
        let text = timed_out.to_string();
        assert!(text.starts_with("create_backup failed: timed out (POST /backups on 127.0.0.1:"), "{text}");
        assert!(!text.contains("attempts"), "one attempt is not counted: {text}");
        assert!(text.ends_with(" (the request may have reached the server, which may have acted on it)"), "{text}");
        let read = TransportError::new(
            "show_backup",
            reqwest::Method::GET,
            "/backups/{backup_id}",
            2,
            send(reqwest::Method::GET, &serve_once(None)).await.unwrap_err(),
        );
        let text = read.to_string();
        assert!(text.starts_with("show_backup failed: timed out (GET /backups/{backup_id} on 127.0.0.1:"), "{text}");
        assert!(text.contains(", 2 attempts): ") && text.ends_with("timed out"), "{text}");
        let closed = TransportError::new(
            "show_backup",
            reqwest::Method::GET,
            "/backups/{backup_id}",
            1,
            send(reqwest::Method::GET, &serve_once(Some(""))).await.unwrap_err(),
        );
        assert!(closed.to_string().contains("the connection failed before a complete response"), "{closed}");
    }

    /// A server quoting a megabyte back (a bad value, a long fault
    /// message) makes a short error message that keeps the position.
    #[test]
    fn server_text_in_messages_is_clipped() {
        let huge = format!("{{\"backup\": {}}}", serde_json::to_string(&"x".repeat(1_000_000)).unwrap());
        let source = serde_json::from_str::<std::collections::BTreeMap<String, u32>>(&huge).unwrap_err();
        let decoded = DecodeError::from(&source);
        let message = decoded.to_string();
        assert!(message.len() < 400, "{} bytes", message.len());
        assert!(message.ends_with("at line 1 column 1000013"), "{message}");
        assert_eq!((decoded.line, decoded.column), (1, 1_000_013));
        assert!(format!("{decoded:?}").len() < 500, "Debug is as short");
        let short = serde_json::from_str::<u32>("true").unwrap_err();
        assert_eq!(DecodeError::from(&short).to_string(), short.to_string());
    }
}
