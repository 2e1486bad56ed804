//! When a request is sent again: idempotent requests on transport errors and
//! on 502/503/504, and any request the server refused with `Retry-After`
//! (a 413 with a positive value, 429, 503) where replaying is safe. A POST
//! that may have reached the server is never replayed; one that could not
//! even connect is; a server certificate the client refuses is never
//! retried (it stays refused). `Retry-After` is read as seconds or as an HTTP date;
//! whatever else a server sends there is ignored, never a panic.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};

/// Bounds and backoff of retries.
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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_elapsed: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Never retries.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
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
}

/// What went wrong with one attempt.
pub(crate) enum Attempt<'a> {
    /// No response: the error, and whether the connection was never made.
    Transport { connect: bool },
    /// A response with this status and `Retry-After` header.
    Status(StatusCode, Option<&'a HeaderValue>),
}

/// What the server asked for in `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asked {
    /// Nothing usable (absent, unreadable, negative, not a number or a date).
    Nothing,
    /// This long (zero for a date in the past).
    Wait(Duration),
    /// Longer than any `Duration` (`1e30`): beyond every retry budget.
    Forever,
}

impl RetryPolicy {
    /// The wait before retry number `retry` when the server asked for
    /// `asked`, `elapsed` after the first attempt; `None` when the wait
    /// the server asks for is beyond the policy (more than `max_backoff`,
    /// or past `max_elapsed`): the server's answer then stands.
    pub(crate) fn wait(&self, retry: u32, asked: Asked, elapsed: Duration) -> Option<Duration> {
        match asked {
            Asked::Forever => None,
            Asked::Wait(d) if d > self.max_backoff || elapsed.saturating_add(d) > self.max_elapsed => None,
            Asked::Wait(d) if !d.is_zero() => Some(d),
            Asked::Wait(_) | Asked::Nothing => Some(self.backoff(retry)),
        }
    }
}

/// Whether to retry after `attempt` (at time `now`), and what the server
/// asked for.
pub(crate) fn retry_after(method: &Method, attempt: Attempt<'_>, now: DateTime<Utc>) -> Option<Asked> {
    let idempotent = matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS);
    match attempt {
        Attempt::Transport { connect } => (idempotent || connect).then_some(Asked::Nothing),
        Attempt::Status(status, header) => {
            let asked = || header.map_or(Asked::Nothing, |h| parse_retry_after(h, now));
            match status.as_u16() {
                502 | 504 if idempotent => Some(Asked::Nothing),
                503 if idempotent => Some(asked()),
                // A 413 is a rate limit only with a positive `Retry-After`;
                // Cinder's quota faults say `Retry-After: 0` and never pass.
                413 if idempotent => match asked() {
                    Asked::Wait(d) if d.is_zero() => None,
                    Asked::Nothing => None,
                    other => Some(other),
                },
                // 429: the server did not act on the request.
                429 => Some(asked()),
                _ => None,
            }
        }
    }
}

/// `Retry-After` as delay-seconds (fractions accepted) or an HTTP date
/// (relative to `now`). Never panics: what cannot be read is `Nothing`, a
/// delay too long for a `Duration` is `Forever`.
pub(crate) fn parse_retry_after(value: &HeaderValue, now: DateTime<Utc>) -> Asked {
    let Ok(text) = value.to_str() else { return Asked::Nothing };
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().map_or(Asked::Forever, |s| Asked::Wait(Duration::from_secs(s)));
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return match seconds {
            s if s.is_nan() || s < 0.0 => Asked::Nothing,
            s => Duration::try_from_secs_f64(s).map_or(Asked::Forever, Asked::Wait),
        };
    }
    match httpdate::parse_http_date(text) {
        Ok(at) => {
            let at = DateTime::<Utc>::from(at);
            Asked::Wait((at - now).to_std().unwrap_or(Duration::ZERO))
        }
        Err(_) => Asked::Nothing,
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

    fn status(method: &Method, code: StatusCode, retry_after: Option<&str>) -> Option<Asked> {
        let header = retry_after.map(|v| HeaderValue::from_str(v).unwrap());
        retry_after_of(method, code, header.as_ref())
    }

    fn retry_after_of(method: &Method, code: StatusCode, header: Option<&HeaderValue>) -> Option<Asked> {
        retry_after(method, Attempt::Status(code, header), now())
    }

    #[test]
    fn idempotent_requests_retry_on_gateway_errors_and_transport() {
        let get = Method::GET;
        assert_eq!(status(&get, StatusCode::BAD_GATEWAY, None), Some(Asked::Nothing));
        assert_eq!(status(&get, StatusCode::GATEWAY_TIMEOUT, None), Some(Asked::Nothing));
        assert_eq!(status(&get, StatusCode::SERVICE_UNAVAILABLE, Some("3")), Some(Asked::Wait(Duration::from_secs(3))));
        assert_eq!(retry_after(&get, Attempt::Transport { connect: false }, now()), Some(Asked::Nothing));
        assert_eq!(status(&get, StatusCode::INTERNAL_SERVER_ERROR, None), None);
        assert_eq!(status(&get, StatusCode::NOT_FOUND, None), None);
        assert_eq!(status(&get, StatusCode::PAYLOAD_TOO_LARGE, None), None);
    }

    #[test]
    fn a_quota_413_is_never_retried_a_rate_limit_413_is() {
        let delete = Method::DELETE;
        assert_eq!(status(&delete, StatusCode::PAYLOAD_TOO_LARGE, Some("0")), None);
        assert_eq!(status(&delete, StatusCode::PAYLOAD_TOO_LARGE, None), None);
        assert_eq!(status(&delete, StatusCode::PAYLOAD_TOO_LARGE, Some("junk")), None);
        assert_eq!(
            status(&delete, StatusCode::PAYLOAD_TOO_LARGE, Some("2")),
            Some(Asked::Wait(Duration::from_secs(2)))
        );
    }

    #[test]
    fn a_post_that_may_have_arrived_is_never_replayed() {
        let post = Method::POST;
        assert_eq!(retry_after(&post, Attempt::Transport { connect: false }, now()), None);
        assert_eq!(status(&post, StatusCode::BAD_GATEWAY, None), None);
        assert_eq!(status(&post, StatusCode::SERVICE_UNAVAILABLE, Some("1")), None);
        assert_eq!(status(&post, StatusCode::PAYLOAD_TOO_LARGE, Some("5")), None);
        // Never connected, or explicitly not processed: safe.
        assert_eq!(retry_after(&post, Attempt::Transport { connect: true }, now()), Some(Asked::Nothing));
        assert_eq!(status(&post, StatusCode::TOO_MANY_REQUESTS, Some("2")), Some(Asked::Wait(Duration::from_secs(2))));
    }

    /// Whatever a server or a proxy puts in `Retry-After`, on any status:
    /// no panic, and a defined reading.
    #[test]
    fn retry_after_values_never_panic() {
        let read = |v: &str| parse_retry_after(&HeaderValue::from_str(v).unwrap(), now());
        assert_eq!(read("3"), Asked::Wait(Duration::from_secs(3)));
        assert_eq!(read(" 7 "), Asked::Wait(Duration::from_secs(7)));
        assert_eq!(read("0"), Asked::Wait(Duration::ZERO));
        assert_eq!(read("1.5"), Asked::Wait(Duration::from_millis(1500)));
        assert_eq!(read("1e30"), Asked::Forever);
        assert_eq!(read("99999999999999999999999"), Asked::Forever);
        assert_eq!(read("18446744073709551615"), Asked::Wait(Duration::from_secs(u64::MAX)));
        assert_eq!(read("inf"), Asked::Forever);
        for nothing in ["-1", "-0.5", "NaN", "", "soon", "0x10", "1,5", "Wed, 99 Foo 2026 00:00:00 GMT"] {
            assert_eq!(read(nothing), Asked::Nothing, "{nothing:?}");
        }
        assert_eq!(read("Sun, 29 Nov 2026 12:00:30 GMT"), Asked::Wait(Duration::from_secs(30)));
        assert_eq!(read("Sun, 29 Nov 2026 11:00:00 GMT"), Asked::Wait(Duration::ZERO));
        // Not ASCII: unreadable.
        let bytes = HeaderValue::from_bytes(b"\xff\xfe 5").unwrap();
        assert_eq!(parse_retry_after(&bytes, now()), Asked::Nothing);
        // Statuses that are not retried never look at the header.
        for code in [200, 202, 204, 400, 404, 500] {
            let code = StatusCode::from_u16(code).unwrap();
            assert_eq!(status(&Method::GET, code, Some("1e30")), None, "{code}");
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
                if let Some(wait) = policy.wait(retry, asked, Duration::ZERO) {
                    proptest::prop_assert!(wait <= policy.max_backoff, "{asked:?} → {wait:?}");
                }
            }
        }

        /// Whole seconds and HTTP dates read as the wait they say.
        #[test]
        fn seconds_and_dates_read_as_their_wait(secs in 0u64..10_000_000) {
            let value = HeaderValue::from_str(&secs.to_string()).unwrap();
            proptest::prop_assert_eq!(parse_retry_after(&value, now()), Asked::Wait(Duration::from_secs(secs)));
            let at = now() + chrono::Duration::seconds(secs as i64);
            let date = HeaderValue::from_str(&httpdate::fmt_http_date(at.into())).unwrap();
            proptest::prop_assert_eq!(parse_retry_after(&date, now()), Asked::Wait(Duration::from_secs(secs)));
        }
    }

    #[test]
    fn a_wait_beyond_the_budget_ends_the_retries() {
        let p = RetryPolicy { jitter: false, ..RetryPolicy::default() };
        assert_eq!(p.wait(1, Asked::Forever, Duration::ZERO), None);
        assert_eq!(p.wait(1, Asked::Wait(Duration::from_secs(21)), Duration::ZERO), None);
        assert_eq!(p.wait(1, Asked::Wait(Duration::from_secs(20)), Duration::from_secs(41)), None);
        assert_eq!(p.wait(1, Asked::Wait(Duration::from_secs(5)), Duration::ZERO), Some(Duration::from_secs(5)));
        assert_eq!(p.wait(1, Asked::Wait(Duration::ZERO), Duration::ZERO), Some(Duration::from_millis(500)));
        assert_eq!(p.wait(2, Asked::Nothing, Duration::ZERO), Some(Duration::from_secs(1)));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy { jitter: false, ..RetryPolicy::default() };
        assert_eq!(p.backoff(1), Duration::from_millis(500));
        assert_eq!(p.backoff(2), Duration::from_secs(1));
        assert_eq!(p.backoff(3), Duration::from_secs(2));
        assert_eq!(p.backoff(40), Duration::from_secs(20));
        let j = RetryPolicy::default();
        for _ in 0..50 {
            let b = j.backoff(2);
            assert!(b >= Duration::from_millis(500) && b <= Duration::from_secs(1), "{b:?}");
        }
    }
}
