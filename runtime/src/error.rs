//! The one error type of every call, and its parts.

use std::fmt;

use crate::response::{ResponseValue, clip, request_id};
use crate::{Fault, Microversion};

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

/// What the decoder said, short: serde quotes the offending value whole
/// (a megabyte string from a broken server), so a long message is cut and
/// keeps its position.
fn decoder_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.chars().count() <= 300 {
        return text;
    }
    format!("{} at line {} column {}", clip(&text, 300), e.line(), e.column())
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
    ErrorResponse(Box<ResponseValue<E>>),
    /// The response body could not be read.
    ResponseBodyError(Box<BodyError>),
    /// The response body did not decode.
    InvalidResponsePayload(Box<InvalidPayload>),
    /// A status the spec does not list for the operation.
    UnexpectedResponse(Box<UnexpectedResponse>),
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
    /// No resource has this id or this name (a `find_<item>` call).
    NameNotFound {
        /// `backup`, `snapshot`, `volume`, …
        resource: &'static str,
        /// The name or id looked for.
        name: String,
    },
    /// Several resources have this name (a `find_<item>` call): use an id.
    AmbiguousName {
        /// `backup`, `snapshot`, `volume`, …
        resource: &'static str,
        /// The name looked for.
        name: String,
        /// The ids of the resources that have it.
        ids: Vec<String>,
    },
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
#[derive(Debug)]
#[non_exhaustive]
pub struct UnexpectedResponse {
    /// The operation (method name) it answers.
    pub operation: &'static str,
    /// The response, its body unread.
    pub response: reqwest::Response,
}

impl<E> Error<E> {
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
            Error::Configuration(_) => ErrorKind::Configuration,
            Error::Authentication { .. } => ErrorKind::Authentication,
            Error::WaitFailed { .. } => ErrorKind::WaitFailed,
            Error::WaitTimedOut { .. } => ErrorKind::WaitTimedOut,
            Error::MicroversionUnsupported(_) => ErrorKind::MicroversionUnsupported,
            Error::NameNotFound { .. } => ErrorKind::NotFound,
            Error::AmbiguousName { .. } => ErrorKind::AmbiguousName,
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
            Error::UnexpectedResponse(r) => Some(r.response.status()),
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
            Error::NameNotFound { resource, name } => Error::NameNotFound { resource, name },
            Error::AmbiguousName { resource, name, ids } => Error::AmbiguousName { resource, name, ids },
        }
    }

    /// The server's request id, when it answered with one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::ErrorResponse(rv) => rv.request_id(),
            Error::ResponseBodyError(e) => e.request_id.as_deref(),
            Error::InvalidResponsePayload(e) => e.request_id.as_deref(),
            Error::UnexpectedResponse(r) => request_id(r.response.headers()),
            _ => None,
        }
    }

    /// The operation that failed, when known.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::ErrorResponse(rv) => Some(rv.operation()),
            Error::ResponseBodyError(e) => Some(e.operation),
            Error::InvalidResponsePayload(e) => Some(e.operation),
            Error::UnexpectedResponse(r) => Some(r.operation),
            Error::CommunicationError(e) => Some(e.operation),
            Error::MicroversionUnsupported(e) => Some(e.operation),
            _ => None,
        }
    }

    /// The server answered 404, or no resource has the name or id a
    /// `find_<item>` call looked for.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(reqwest::StatusCode::NOT_FOUND) || matches!(self, Error::NameNotFound { .. })
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
                decoder_message(&e.source),
                if e.excerpt.is_empty() { "(empty)" } else { &e.excerpt }
            ),
            Error::UnexpectedResponse(r) => {
                let (status, headers) = (r.response.status(), r.response.headers());
                write!(f, "{}: unexpected HTTP {}{}", r.operation, status.as_u16(), rid(request_id(headers)))
            }
            Error::Configuration(message) => write!(f, "configuration: {message} (nothing was sent)"),
            Error::Authentication { message, status, request_id } => {
                write!(f, "authentication failed: {}", clip(message, 1000))?;
                if let Some(s) = status {
                    write!(f, " (HTTP {})", s.as_u16())?;
                }
                write!(f, "{}", rid(request_id.as_deref()))
            }
            Error::WaitFailed { resource, id, status, reason } => {
                write!(f, "{resource} {id} went to {status}")?;
                match reason {
                    Some(r) => write!(f, ": {}", clip(r, 1000)),
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
            Error::NameNotFound { resource, name } => write!(f, "no {resource} has the id or the name {name:?}"),
            Error::AmbiguousName { resource, name, ids } => {
                write!(f, "{} {resource}s have the name {name:?}: use one of their ids ({})", ids.len(), ids.join(", "))
            }
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

    /// Small enough that callers' `Result<T, Error>` pass clippy's
    /// `result_large_err` (128 bytes) without an allowance.
    #[test]
    fn the_error_stays_small() {
        let size = std::mem::size_of::<Error>();
        assert!(size < 128, "Error is {size} bytes");
    }

    /// A server quoting a megabyte back (a bad value, a long fault
    /// message) makes a short error message that keeps the position.
    #[test]
    fn server_text_in_messages_is_clipped() {
        let huge = format!("{{\"backup\": {}}}", serde_json::to_string(&"x".repeat(1_000_000)).unwrap());
        let source = serde_json::from_str::<std::collections::BTreeMap<String, u32>>(&huge).unwrap_err();
        let message = decoder_message(&source);
        assert!(message.len() < 400, "{} bytes", message.len());
        assert!(message.ends_with("at line 1 column 1000013"), "{message}");
        let short = serde_json::from_str::<u32>("true").unwrap_err();
        assert_eq!(decoder_message(&short), short.to_string());
    }
}
