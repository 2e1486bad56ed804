//! Per-client settings the generated calls read: where the token comes
//! from, the microversion, the retry policy, the timeouts and the clock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::retry::RetryPolicy;
use crate::{Error, Microversion, Secret};

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

/// A token used as it is, never renewed (a token from `openstack token
/// issue`, or a session's fixed token).
#[derive(Debug)]
pub struct StaticToken(Secret);

impl StaticToken {
    /// Wraps `token`.
    pub fn new(token: impl Into<Secret>) -> Self {
        Self(token.into())
    }
}

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
    in_flight: Option<InFlight>,
}

/// A limit on requests in flight, shared by clones.
#[derive(Clone, Debug)]
struct InFlight {
    places: Arc<tokio::sync::Semaphore>,
    limit: usize,
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
            in_flight: None,
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
        self.with_token_source(Arc::new(StaticToken(Secret::new(token.into()))))
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

    /// At most `n` requests in flight at once (`n` = 0 counts as 1) for this
    /// configuration and every clone of it: all the clients of one
    /// `Session` share one limit. A request takes its place before it is
    /// sent (the wait is not part of its request timeout, but counts in
    /// the retry policy's `max_elapsed`) and gives it back when
    /// its response's headers arrive or the attempt fails; a retry's
    /// backoff and a waiter's pause hold no place. Waiting requests go in
    /// the order they came. Without a limit (the default), every
    /// concurrent call opens its own connection when the pool has none
    /// idle, up to the process's file limit.
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        let limit = n.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        self.in_flight = Some(InFlight { places: Arc::new(tokio::sync::Semaphore::new(limit)), limit });
        self
    }

    /// The limit set with [`with_max_in_flight`](Self::with_max_in_flight)
    /// and the places free now, as `(free, limit)`.
    pub fn in_flight(&self) -> Option<(usize, usize)> {
        self.in_flight.as_ref().map(|f| (f.places.available_permits(), f.limit))
    }

    pub(crate) fn in_flight_places(&self) -> Option<&Arc<tokio::sync::Semaphore>> {
        self.in_flight.as_ref().map(|f| &f.places)
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
    fn debug_hides_the_token() {
        let config = ClientConfig::new().with_token("s3cr3t-token");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
