//! Per-client settings the generated calls read: where the token comes
//! from, the microversion, the retry policy and the clock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::Error;
use crate::clock::{Clock, SystemClock};
use crate::retry::RetryPolicy;

/// An OpenStack API microversion, `major.minor` (`3.64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    major: u16,
    minor: u16,
}

impl Microversion {
    /// `Microversion::new(3, 64)` is `3.64`.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// The major version.
    pub const fn major(self) -> u16 {
        self.major
    }

    /// The minor version.
    pub const fn minor(self) -> u16 {
        self.minor
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A string that is not a microversion like `3.64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMicroversionError(String);

impl fmt::Display for ParseMicroversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected a microversion like \"3.64\", found {:?}", self.0)
    }
}

impl std::error::Error for ParseMicroversionError {}

impl FromStr for Microversion {
    type Err = ParseMicroversionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || ParseMicroversionError(text.to_owned());
        let (major, minor) = text.split_once('.').ok_or_else(err)?;
        let number = |s: &str| -> Result<u16, ParseMicroversionError> {
            let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
            if canonical { s.parse().map_err(|_| err()) } else { Err(err()) }
        };
        Ok(Self::new(number(major)?, number(minor)?))
    }
}

/// A secret string (password, token, credential secret): its `Debug` shows
/// `<redacted>` and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for sending it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// The future of [`TokenSource::token`].
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret, Error>> + Send + 'a>>;

/// Where a client gets its `X-Auth-Token`: a fixed token, or a Keystone
/// session that renews it.
pub trait TokenSource: fmt::Debug + Send + Sync {
    /// A token that is valid now; with `renew`, a new one even if the
    /// current one has not expired (after the server refused it with 401).
    fn token(&self, renew: bool) -> TokenFuture<'_>;

    /// Whether `token(true)` can give a different token.
    fn renewable(&self) -> bool;
}

#[derive(Debug)]
struct StaticToken(Secret);

impl TokenSource for StaticToken {
    fn token(&self, _renew: bool) -> TokenFuture<'_> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }

    fn renewable(&self) -> bool {
        false
    }
}

/// What a generated client sends with every request besides the call's own
/// parameters, and how it retries and waits.
///
/// `Debug` never shows the token.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    auth: Option<Arc<dyn TokenSource>>,
    microversion: Option<Microversion>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            auth: None,
            microversion: None,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            timeout: None,
            connect_timeout: None,
        }
    }
}

impl ClientConfig {
    /// No token, the service's base microversion, the default retry policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `token` as `X-Auth-Token`.
    pub fn with_token(self, token: impl Into<String>) -> Self {
        self.with_token_source(Arc::new(StaticToken(Secret(token.into()))))
    }

    /// Takes the token from `source` before every request, and asks it for a
    /// new one once when the server answers 401.
    pub fn with_token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.auth = Some(source);
        self
    }

    /// Sends `OpenStack-API-Version: <service> <microversion>` and refuses,
    /// before sending, any call or parameter that needs a higher one.
    pub fn with_microversion(mut self, microversion: Microversion) -> Self {
        self.microversion = Some(microversion);
        self
    }

    /// How requests are retried.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The clock retries and waiters use.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The longest one request may take, from sending to the end of its
    /// body; a paged stream applies it to each page. Retries get a timeout
    /// of their own. Without one, the HTTP client's applies (a generated
    /// `Client::new` uses 120 s for block storage, whose restore to a new
    /// volume answers only once the volume exists, and 60 s otherwise).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest a TCP (and TLS) connection may take to open, for the
    /// HTTP client a generated `Client::new` builds (default 10 s). A
    /// client made with `new_with_client` keeps its own.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The request timeout set with [`with_timeout`](Self::with_timeout).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The connect timeout set with [`with_connect_timeout`](Self::with_connect_timeout).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The microversion set with [`with_microversion`](Self::with_microversion).
    pub fn microversion(&self) -> Option<Microversion> {
        self.microversion
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn auth(&self) -> Option<&Arc<dyn TokenSource>> {
        self.auth.as_ref()
    }
}

impl AsRef<ClientConfig> for ClientConfig {
    fn as_ref(&self) -> &ClientConfig {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_microversions() {
        let v: Microversion = "3.64".parse().unwrap();
        assert_eq!(v, Microversion::new(3, 64));
        assert!(Microversion::new(3, 9) < Microversion::new(3, 43));
        assert_eq!(v.to_string(), "3.64");
        for bad in ["3", "3.", "3.064", "latest", "3.1.2", "-3.1"] {
            let err = bad.parse::<Microversion>().unwrap_err();
            assert!(err.to_string().contains("expected a microversion"), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let config = ClientConfig::new().with_token("s3cr3t-token");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
