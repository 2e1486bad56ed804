//! When a request is sent again, and after how long.
//!
//! A [`RetryPolicy`] holds the budget (attempts, elapsed time, backoff) and
//! a [`Classifier`], which decides from one attempt's outcome whether to
//! send again. The [`DefaultClassifier`] retries:
//! - an idempotent request on a transport error and on 500/502/503/504 (a
//!   500 too: Cinder answers `computeFault` 500 while its database is
//!   locked by another writer, seen on the real server, and sending a GET or
//!   a DELETE again is harmless);
//! - any request that could not even connect (nothing reached the server);
//! - any request the server refused with 429, and an idempotent one with a
//!   413 that carries a positive `Retry-After` (a rate limit; Cinder's quota
//!   faults say `Retry-After: 0` and are never retried);
//! - never a POST that may have reached the server, never a server
//!   certificate the client refuses (it stays refused).
//!
//! Idempotent means: the operation table's HTTP method is GET, HEAD, PUT,
//! DELETE or OPTIONS, or the policy names the operation
//! ([`RetryPolicy::with_idempotent`]: an action such as
//! `reset_backup_status`, which sets a state and may safely be sent twice).
//! A user who wants other rules implements [`Classifier`] (wrapping
//! [`DefaultClassifier`] for the cases it leaves alone).
//!
//! `Retry-After` is read as seconds or as an HTTP date; whatever else a
//! server sends there is [`RetryAfter::Unreadable`], never a panic.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderValue;

use crate::OperationMeta;

/// Bounds and backoff of retries, and which failures are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (1 disables retries).
    pub max_attempts: u32,
    /// No new attempt starts after this much time since the first.
    pub max_elapsed: Duration,
    /// The first backoff; it doubles on each retry.
    pub initial_backoff: Duration,
    /// The largest backoff, and the longest `Retry-After` honoured: a server
    /// that asks for more (or for a wait past `max_elapsed`) gets no retry,
    /// and its answer is the call's.
    pub max_backoff: Duration,
    /// Spreads each backoff randomly over [backoff/2, backoff].
    pub jitter: bool,
    /// Decides, for each failed attempt, whether to send again.
    pub classifier: Arc<dyn Classifier>,
    /// Operations (method names, `reset_backup_status`) to treat as
    /// idempotent although their HTTP method is POST. A session refuses a
    /// name no service's operation table has.
    pub idempotent: BTreeSet<&'static str>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_elapsed: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            jitter: true,
            classifier: Arc::new(DefaultClassifier),
            idempotent: BTreeSet::new(),
        }
    }
}

impl RetryPolicy {
    /// Never retries.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The same policy, deciding with `classifier`.
    pub fn with_classifier(mut self, classifier: impl Classifier + 'static) -> Self {
        self.classifier = Arc::new(classifier);
        self
    }

    /// The same policy, treating `operation` (a method name of an operation
    /// table, `reset_backup_status`) as idempotent: the default classifier
    /// then retries it like a PUT. Only for operations that are: sending
    /// one twice must do what sending it once does.
    pub fn with_idempotent(mut self, operation: &'static str) -> Self {
        self.idempotent.insert(operation);
        self
    }

    /// Whether `operation` may be sent twice: its HTTP method says so, or
    /// the policy names it.
    pub fn is_idempotent(&self, operation: &OperationMeta) -> bool {
        operation.is_idempotent() || self.idempotent.contains(operation.method_name)
    }

    /// The backoff before retry number `retry` (1 for the first retry).
    pub fn backoff(&self, retry: u32) -> Duration {
        let base = self.initial_backoff.saturating_mul(1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX));
        let base = base.min(self.max_backoff);
        if self.jitter {
            let half = base / 2;
            half + half.mul_f64(random_unit())
        } else {
            base
        }
    }

    /// The wait before retry number `retry` on `decision`, `elapsed` after
    /// the first attempt; `None` when there is no retry: the classifier
    /// said stop, the attempts or the time are spent, or the wait the
    /// server asks for is beyond the policy (more than `max_backoff`, or
    /// past `max_elapsed`): the server's answer then stands.
    pub fn wait(&self, retry: u32, decision: Decision, elapsed: Duration) -> Option<Duration> {
        if retry >= self.max_attempts || elapsed >= self.max_elapsed {
            return None;
        }
        match decision {
            Decision::Stop => None,
            Decision::Retry => Some(self.backoff(retry)),
            Decision::AsAsked(RetryAfter::Forever) => None,
            Decision::AsAsked(RetryAfter::Wait(d))
                if d > self.max_backoff || elapsed.saturating_add(d) > self.max_elapsed =>
            {
                None
            }
            Decision::AsAsked(RetryAfter::Wait(d)) if !d.is_zero() => Some(d),
            Decision::AsAsked(_) => Some(self.backoff(retry)),
        }
    }
}

/// Decides whether a failed attempt is sent again. Replace the
/// [`DefaultClassifier`] through [`RetryPolicy::with_classifier`].
pub trait Classifier: fmt::Debug + Send + Sync {
    /// What to do after `attempt`. Called for every attempt that got no
    /// response or a response other than 2xx/3xx; the policy's budget is
    /// applied after (a `Retry` on the last allowed attempt is no retry).
    fn classify(&self, attempt: &Attempt<'_>) -> Decision;
}

/// One attempt of a call, as a [`Classifier`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Attempt<'a> {
    /// The call's row of the operation table: its method name, HTTP method,
    /// path template and action.
    pub operation: &'static OperationMeta,
    /// Whether it may be sent twice: from the table's HTTP method, or named
    /// by the policy ([`RetryPolicy::is_idempotent`]).
    pub idempotent: bool,
    /// Which attempt this was (1 for the first).
    pub number: u32,
    /// What happened.
    pub outcome: Outcome<'a>,
}

impl<'a> Attempt<'a> {
    /// An attempt of `operation` (for a classifier's own tests; the request
    /// pipeline makes the real ones).
    pub fn new(operation: &'static OperationMeta, idempotent: bool, number: u32, outcome: Outcome<'a>) -> Self {
        Self { operation, idempotent, number, outcome }
    }
}

/// What one attempt got.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// No (complete) response.
    #[non_exhaustive]
    Transport {
        /// The connection was never made: nothing reached the server.
        connect: bool,
        /// A connect or request timeout ran out.
        timeout: bool,
        /// The server's certificate was refused.
        certificate: bool,
    },
    /// A response, its body unread.
    #[non_exhaustive]
    Response {
        /// Its status.
        status: StatusCode,
        /// Its `Retry-After`, read.
        retry_after: RetryAfter,
        /// Its headers.
        headers: &'a reqwest::header::HeaderMap,
    },
}

impl<'a> Outcome<'a> {
    /// No response (for a classifier's own tests).
    pub fn transport(connect: bool, timeout: bool, certificate: bool) -> Self {
        Outcome::Transport { connect, timeout, certificate }
    }

    /// A response (for a classifier's own tests).
    pub fn response(status: StatusCode, retry_after: RetryAfter, headers: &'a reqwest::header::HeaderMap) -> Self {
        Outcome::Response { status, retry_after, headers }
    }
}

/// A classifier's verdict on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Do not send again: this attempt's answer (or error) is the call's.
    Stop,
    /// Send again after the policy's backoff.
    Retry,
    /// Send again after the wait the server asked for (the policy's
    /// backoff when it asked for none, or for zero); no retry when the
    /// wait is beyond the policy.
    AsAsked(RetryAfter),
}

/// A response's `Retry-After`, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// No `Retry-After` header.
    Absent,
    /// A header that is neither delay-seconds nor an HTTP date (or is
    /// negative).
    Unreadable,
    /// This long (zero for a date in the past).
    Wait(Duration),
    /// Longer than any `Duration` (`1e30`): beyond every retry budget.
    Forever,
}

/// The rules of the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultClassifier;

impl Classifier for DefaultClassifier {
    fn classify(&self, attempt: &Attempt<'_>) -> Decision {
        let idempotent = attempt.idempotent;
        match attempt.outcome {
            Outcome::Transport { certificate: true, .. } => Decision::Stop,
            Outcome::Transport { connect, .. } if idempotent || connect => Decision::Retry,
            Outcome::Transport { .. } => Decision::Stop,
            Outcome::Response { status, retry_after, .. } => match status.as_u16() {
                500 | 502 | 504 if idempotent => Decision::Retry,
                503 if idempotent => Decision::AsAsked(retry_after),
                // A 413 is a rate limit only with a positive `Retry-After`.
                413 if idempotent => match retry_after {
                    RetryAfter::Wait(d) if !d.is_zero() => Decision::AsAsked(retry_after),
                    RetryAfter::Forever => Decision::AsAsked(retry_after),
                    _ => Decision::Stop,
                },
                // 429: the server did not act on the request.
                429 => Decision::AsAsked(retry_after),
                _ => Decision::Stop,
            },
        }
    }
}

/// The `Retry-After` of `headers`, read relative to `now`.
pub(crate) fn retry_after_of(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> RetryAfter {
    match headers.get(reqwest::header::RETRY_AFTER) {
        Some(value) => parse_retry_after(value, now),
        None => RetryAfter::Absent,
    }
}

/// `Retry-After` as delay-seconds (fractions accepted) or an HTTP date
/// (relative to `now`). Never panics: what cannot be read is `Unreadable`, a
/// delay too long for a `Duration` is `Forever`.
pub(crate) fn parse_retry_after(value: &HeaderValue, now: DateTime<Utc>) -> RetryAfter {
    let Ok(text) = value.to_str() else { return RetryAfter::Unreadable };
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().map_or(RetryAfter::Forever, |s| RetryAfter::Wait(Duration::from_secs(s)));
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return match seconds {
            s if s.is_nan() || s < 0.0 => RetryAfter::Unreadable,
            s => Duration::try_from_secs_f64(s).map_or(RetryAfter::Forever, RetryAfter::Wait),
        };
    }
    match httpdate::parse_http_date(text) {
        Ok(at) => {
            let at = DateTime::<Utc>::from(at);
            RetryAfter::Wait((at - now).to_std().unwrap_or(Duration::ZERO))
        }
        Err(_) => RetryAfter::Unreadable,
    }
}

fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().to_utc()
    }

    const fn row(method_name: &'static str, method: &'static str) -> OperationMeta {
        OperationMeta {
            method_name,
            operation_id: method_name,
            method,
            path: "/things/{id}",
            tag: "things",
            action: None,
            min_microversion: None,
            gated_query: &[],
            gated_body: &[],
        }
    }
    static GET: OperationMeta = row("show_thing", "GET");
    static DELETE: OperationMeta = row("delete_thing", "DELETE");
    static POST: OperationMeta = row("create_thing", "POST");
    static RESET: OperationMeta = row("reset_thing_status", "POST");

    fn attempt(op: &'static OperationMeta, outcome: Outcome<'_>, policy: &RetryPolicy) -> Decision {
        let attempt = Attempt { operation: op, idempotent: policy.is_idempotent(op), number: 1, outcome };
        policy.classifier.classify(&attempt)
    }

    fn status(op: &'static OperationMeta, code: StatusCode, retry_after: Option<&str>) -> Decision {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        let outcome =
            Outcome::Response { status: code, retry_after: retry_after_of(&headers, now()), headers: &headers };
        attempt(op, outcome, &RetryPolicy::default())
    }

    fn transport(op: &'static OperationMeta, connect: bool) -> Decision {
        attempt(op, Outcome::Transport { connect, timeout: false, certificate: false }, &RetryPolicy::default())
    }

    #[test]
    fn idempotent_requests_retry_on_server_errors_and_transport() {
        assert_eq!(status(&GET, StatusCode::BAD_GATEWAY, None), Decision::Retry);
        assert_eq!(status(&GET, StatusCode::GATEWAY_TIMEOUT, Some("9")), Decision::Retry);
        assert_eq!(
            status(&GET, StatusCode::SERVICE_UNAVAILABLE, Some("3")),
            Decision::AsAsked(RetryAfter::Wait(Duration::from_secs(3)))
        );
        assert_eq!(status(&GET, StatusCode::SERVICE_UNAVAILABLE, None), Decision::AsAsked(RetryAfter::Absent));
        assert_eq!(transport(&GET, false), Decision::Retry);
        assert_eq!(status(&GET, StatusCode::INTERNAL_SERVER_ERROR, None), Decision::Retry);
        assert_eq!(status(&POST, StatusCode::INTERNAL_SERVER_ERROR, None), Decision::Stop);
        assert_eq!(status(&GET, StatusCode::NOT_FOUND, None), Decision::Stop);
        assert_eq!(status(&GET, StatusCode::PAYLOAD_TOO_LARGE, None), Decision::Stop);
    }

    #[test]
    fn a_quota_413_is_never_retried_a_rate_limit_413_is() {
        assert_eq!(status(&DELETE, StatusCode::PAYLOAD_TOO_LARGE, Some("0")), Decision::Stop);
        assert_eq!(status(&DELETE, StatusCode::PAYLOAD_TOO_LARGE, None), Decision::Stop);
        assert_eq!(status(&DELETE, StatusCode::PAYLOAD_TOO_LARGE, Some("junk")), Decision::Stop);
        assert_eq!(
            status(&DELETE, StatusCode::PAYLOAD_TOO_LARGE, Some("2")),
            Decision::AsAsked(RetryAfter::Wait(Duration::from_secs(2)))
        );
        // A rate limit that asks for a wait too long to hold is read as
        // asked, as a 429's is; the policy then gives up.
        let forever = Decision::AsAsked(RetryAfter::Forever);
        assert_eq!(status(&DELETE, StatusCode::PAYLOAD_TOO_LARGE, Some("1e30")), forever);
        assert_eq!(status(&DELETE, StatusCode::TOO_MANY_REQUESTS, Some("1e30")), forever);
        assert_eq!(RetryPolicy::default().wait(1, forever, Duration::ZERO), None);
    }

    #[test]
    fn a_post_that_may_have_arrived_is_never_replayed() {
        assert_eq!(transport(&POST, false), Decision::Stop);
        assert_eq!(status(&POST, StatusCode::BAD_GATEWAY, None), Decision::Stop);
        assert_eq!(status(&POST, StatusCode::SERVICE_UNAVAILABLE, Some("1")), Decision::Stop);
        assert_eq!(status(&POST, StatusCode::PAYLOAD_TOO_LARGE, Some("5")), Decision::Stop);
        // Never connected, or explicitly not processed: safe.
        assert_eq!(transport(&POST, true), Decision::Retry);
        assert_eq!(
            status(&POST, StatusCode::TOO_MANY_REQUESTS, Some("2")),
            Decision::AsAsked(RetryAfter::Wait(Duration::from_secs(2)))
        );
    }

    /// A POST action the policy names idempotent is retried like a PUT;
    /// other POSTs are not.
    #[test]
    fn a_post_named_idempotent_is_retried() {
        let policy = RetryPolicy::default().with_idempotent("reset_thing_status");
        assert!(policy.is_idempotent(&RESET) && !policy.is_idempotent(&POST) && policy.is_idempotent(&GET));
        let lost = Outcome::Transport { connect: false, timeout: true, certificate: false };
        assert_eq!(attempt(&RESET, lost, &policy), Decision::Retry);
        assert_eq!(attempt(&POST, lost, &policy), Decision::Stop);
        assert_eq!(attempt(&RESET, lost, &RetryPolicy::default()), Decision::Stop);
    }

    /// A refused certificate stays refused, idempotent or not.
    #[test]
    fn a_refused_certificate_is_never_retried() {
        let refused = Outcome::Transport { connect: true, timeout: false, certificate: true };
        assert_eq!(attempt(&GET, refused, &RetryPolicy::default()), Decision::Stop);
    }

    /// A classifier of the user's own replaces the rules.
    #[test]
    fn a_classifier_of_ones_own_decides() {
        #[derive(Debug)]
        struct NoFiveHundreds;
        impl Classifier for NoFiveHundreds {
            fn classify(&self, attempt: &Attempt<'_>) -> Decision {
                match attempt.outcome {
                    Outcome::Response { status, .. } if status == 500 => Decision::Stop,
                    _ => DefaultClassifier.classify(attempt),
                }
            }
        }
        let policy = RetryPolicy::default().with_classifier(NoFiveHundreds);
        let headers = reqwest::header::HeaderMap::new();
        let five_hundred = Outcome::Response {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            retry_after: RetryAfter::Absent,
            headers: &headers,
        };
        assert_eq!(attempt(&GET, five_hundred, &policy), Decision::Stop);
        assert_eq!(attempt(&GET, five_hundred, &RetryPolicy::default()), Decision::Retry);
        assert_eq!(attempt(&POST, five_hundred, &RetryPolicy::default()), Decision::Stop);
    }

    /// Whatever a server or a proxy puts in `Retry-After`, on any status:
    /// no panic, and a defined reading.
    #[test]
    fn retry_after_values_never_panic() {
        let read = |v: &str| parse_retry_after(&HeaderValue::from_str(v).unwrap(), now());
        assert_eq!(read("3"), RetryAfter::Wait(Duration::from_secs(3)));
        assert_eq!(read(" 7 "), RetryAfter::Wait(Duration::from_secs(7)));
        assert_eq!(read("0"), RetryAfter::Wait(Duration::ZERO));
        assert_eq!(read("0.0"), RetryAfter::Wait(Duration::ZERO));
        assert_eq!(read("1.5"), RetryAfter::Wait(Duration::from_millis(1500)));
        assert_eq!(read("1e30"), RetryAfter::Forever);
        assert_eq!(read("99999999999999999999999"), RetryAfter::Forever);
        assert_eq!(read("18446744073709551615"), RetryAfter::Wait(Duration::from_secs(u64::MAX)));
        assert_eq!(read("inf"), RetryAfter::Forever);
        for nothing in ["-1", "-0.5", "NaN", "", "soon", "0x10", "1,5", "Wed, 99 Foo 2026 00:00:00 GMT"] {
            assert_eq!(read(nothing), RetryAfter::Unreadable, "{nothing:?}");
        }
        assert_eq!(read("Sun, 29 Nov 2026 12:00:30 GMT"), RetryAfter::Wait(Duration::from_secs(30)));
        assert_eq!(read("Sun, 29 Nov 2026 11:00:00 GMT"), RetryAfter::Wait(Duration::ZERO));
        // Not ASCII: unreadable.
        let bytes = HeaderValue::from_bytes(b"\xff\xfe 5").unwrap();
        assert_eq!(parse_retry_after(&bytes, now()), RetryAfter::Unreadable);
        // Statuses that are not retried never look at the header.
        for code in [200, 202, 204, 400, 404, 501] {
            let code = StatusCode::from_u16(code).unwrap();
            assert_eq!(status(&GET, code, Some("1e30")), Decision::Stop, "{code}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
            ..Default::default()
        })]

        /// Any bytes a header can hold: a defined reading, never a panic,
        /// and the wait a policy makes of it stays within the policy.
        #[test]
        fn any_retry_after_is_read_without_panic(bytes in proptest::collection::vec(0x20u8..0xff, 0..40), retry in 1u32..10) {
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                let asked = parse_retry_after(&value, now());
                let policy = RetryPolicy::default();
                if let Some(wait) = policy.wait(retry.min(policy.max_attempts - 1), Decision::AsAsked(asked), Duration::ZERO) {
                    proptest::prop_assert!(wait <= policy.max_backoff, "{asked:?} → {wait:?}");
                }
            }
        }

        /// Whole seconds and HTTP dates read as the wait they say.
        #[test]
        fn seconds_and_dates_read_as_their_wait(secs in 0u64..10_000_000) {
            let value = HeaderValue::from_str(&secs.to_string()).unwrap();
            proptest::prop_assert_eq!(parse_retry_after(&value, now()), RetryAfter::Wait(Duration::from_secs(secs)));
            let at = now() + chrono::Duration::seconds(secs as i64);
            let date = HeaderValue::from_str(&httpdate::fmt_http_date(at.into())).unwrap();
            proptest::prop_assert_eq!(parse_retry_after(&date, now()), RetryAfter::Wait(Duration::from_secs(secs)));
        }
    }

    #[test]
    fn a_wait_beyond_the_budget_ends_the_retries() {
        let p = RetryPolicy { jitter: false, ..RetryPolicy::default() };
        let asked = |r| Decision::AsAsked(r);
        assert_eq!(p.wait(1, asked(RetryAfter::Forever), Duration::ZERO), None);
        assert_eq!(p.wait(1, asked(RetryAfter::Wait(Duration::from_secs(21))), Duration::ZERO), None);
        assert_eq!(p.wait(1, asked(RetryAfter::Wait(Duration::from_secs(20))), Duration::from_secs(41)), None);
        assert_eq!(
            p.wait(1, asked(RetryAfter::Wait(Duration::from_secs(5))), Duration::ZERO),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            p.wait(1, asked(RetryAfter::Wait(Duration::ZERO)), Duration::ZERO),
            Some(Duration::from_millis(500))
        );
        assert_eq!(p.wait(2, asked(RetryAfter::Unreadable), Duration::ZERO), Some(Duration::from_secs(1)));
        assert_eq!(p.wait(2, Decision::Retry, Duration::ZERO), Some(Duration::from_secs(1)));
        assert_eq!(p.wait(1, Decision::Stop, Duration::ZERO), None);
        // The budget: no retry after the last attempt, nor past the time.
        assert_eq!(p.wait(p.max_attempts, Decision::Retry, Duration::ZERO), None);
        assert_eq!(p.wait(1, Decision::Retry, p.max_elapsed), None);
        // A wait of exactly the cap, or one that ends exactly at the time
        // budget, is still honoured.
        let twenty = Duration::from_secs(20);
        assert_eq!(p.wait(1, asked(RetryAfter::Wait(twenty)), Duration::ZERO), Some(twenty));
        assert_eq!(p.wait(1, asked(RetryAfter::Wait(twenty)), Duration::from_secs(40)), Some(twenty));
    }

    /// `none()` makes one attempt: nothing is retried, whatever the verdict.
    #[test]
    fn none_never_retries() {
        let none = RetryPolicy::none();
        assert_eq!(none.max_attempts, 1);
        assert_eq!(none.wait(1, Decision::Retry, Duration::ZERO), None);
        assert_eq!(none.wait(1, Decision::AsAsked(RetryAfter::Wait(Duration::ZERO)), Duration::ZERO), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy { jitter: false, ..RetryPolicy::default() };
        assert_eq!(p.backoff(1), Duration::from_millis(500));
        assert_eq!(p.backoff(2), Duration::from_secs(1));
        assert_eq!(p.backoff(3), Duration::from_secs(2));
        assert_eq!(p.backoff(40), Duration::from_secs(20));
        // Jitter spreads each backoff over [backoff/2, backoff]: within
        // it, and not one value for every client (50 draws all equal would
        // be a broken source of randomness).
        let j = RetryPolicy::default();
        let draws: Vec<Duration> = (0..50).map(|_| j.backoff(2)).collect();
        for b in &draws {
            assert!(*b >= Duration::from_millis(500) && *b <= Duration::from_secs(1), "{b:?}");
        }
        assert!(draws.iter().any(|b| *b != draws[0]), "no spread: {draws:?}");
    }
}
