//! When a request is sent again: idempotent requests on transport errors and
//! on 502/503/504, and any request the server refused with `Retry-After`
//! (413, 429, 503) where replaying is safe. A POST that may have reached the
//! server is never replayed; one that could not even connect is.

use std::time::Duration;

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
    /// The largest backoff (and the largest `Retry-After` honoured).
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
    /// A response with this status and `Retry-After` value.
    Status(StatusCode, Option<&'a str>),
}

/// Whether to retry after `attempt`, and the least wait the server asked for.
pub(crate) fn retry_after(method: &Method, attempt: Attempt<'_>) -> Option<Option<Duration>> {
    let idempotent = matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS);
    match attempt {
        Attempt::Transport { connect } => (idempotent || connect).then_some(None),
        Attempt::Status(status, header) => {
            let asked = header.and_then(parse_retry_after);
            match status.as_u16() {
                502 | 504 if idempotent => Some(None),
                503 if idempotent => Some(asked),
                413 | 503 if idempotent && asked.is_some() => Some(asked),
                // 429: the server did not act on the request.
                429 => Some(asked),
                _ => None,
            }
        }
    }
}

/// `Retry-After` as seconds (an HTTP date is not honoured: OpenStack sends seconds).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
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

    #[test]
    fn idempotent_requests_retry_on_gateway_errors_and_transport() {
        let get = Method::GET;
        assert_eq!(retry_after(&get, Attempt::Status(StatusCode::BAD_GATEWAY, None)), Some(None));
        assert_eq!(retry_after(&get, Attempt::Status(StatusCode::GATEWAY_TIMEOUT, None)), Some(None));
        assert_eq!(
            retry_after(&get, Attempt::Status(StatusCode::SERVICE_UNAVAILABLE, Some("3"))),
            Some(Some(Duration::from_secs(3)))
        );
        assert_eq!(retry_after(&get, Attempt::Transport { connect: false }), Some(None));
        assert_eq!(retry_after(&get, Attempt::Status(StatusCode::INTERNAL_SERVER_ERROR, None)), None);
        assert_eq!(retry_after(&get, Attempt::Status(StatusCode::NOT_FOUND, None)), None);
        assert_eq!(retry_after(&get, Attempt::Status(StatusCode::PAYLOAD_TOO_LARGE, None)), None);
        assert_eq!(
            retry_after(&Method::DELETE, Attempt::Status(StatusCode::PAYLOAD_TOO_LARGE, Some("0"))),
            Some(Some(Duration::ZERO))
        );
    }

    #[test]
    fn a_post_that_may_have_arrived_is_never_replayed() {
        let post = Method::POST;
        assert_eq!(retry_after(&post, Attempt::Transport { connect: false }), None);
        assert_eq!(retry_after(&post, Attempt::Status(StatusCode::BAD_GATEWAY, None)), None);
        assert_eq!(retry_after(&post, Attempt::Status(StatusCode::SERVICE_UNAVAILABLE, Some("1"))), None);
        // Never connected, or explicitly not processed: safe.
        assert_eq!(retry_after(&post, Attempt::Transport { connect: true }), Some(None));
        assert_eq!(
            retry_after(&post, Attempt::Status(StatusCode::TOO_MANY_REQUESTS, Some("2"))),
            Some(Some(Duration::from_secs(2)))
        );
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
