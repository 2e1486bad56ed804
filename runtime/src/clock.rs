//! Time, injectable: the session's token expiry, retries and waiters read the
//! clock and sleep through a [`Clock`], so tests can run them in no time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

/// A boxed future that sleeps.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the client gets the time and how it waits.
pub trait Clock: fmt::Debug + Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: the system time and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from(SystemTime::now())
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Time elapsed on `clock` since `start` (zero if the clock went backwards).
pub fn since(clock: &dyn Clock, start: DateTime<Utc>) -> Duration {
    (clock.now() - start).to_std().unwrap_or_default()
}
