//! Waiting for a resource to reach a status, or to be gone: the engine
//! behind every generated `wait_for_<resource>` call.
//!
//! A spec declares, on a resource's show operation
//! (`x-openstack-waiter`), where the status is, which statuses are
//! failures, which are on the way, which mean "deleted", and whether a 404
//! means deleted; the generator implements [`Waitable`] from that. The
//! engine looks, backs off (×1.5 per look, bounded), fails fast on a
//! failure status with the server's reason where it gives one, treats a 404
//! as gone, and gives up after a timeout with the last status seen. A look
//! that fails for a passing reason (the server cannot be reached, or
//! answers 429 or a 5xx, after the session's own retries: an API process
//! restarting) does not end the wait: it looks again until the timeout,
//! and if the time runs out while the server still fails, the wait ends
//! with that failure (which names the show operation). It sleeps on the
//! client's [`Clock`], so tests run without real sleeps.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, since};
use crate::request::ClientInfo;
use crate::{ClientConfig, Error, ErrorKind, WaitError};

/// One observation of a wait, for a progress display.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Progress<'a> {
    /// `backup`, `snapshot`, `volume`, `database backup`, …
    pub resource: &'static str,
    /// The resource's id.
    pub id: &'a str,
    /// Its status now (`None`: gone).
    pub status: Option<&'a str>,
    /// Whether the spec lists that status as one on the way (or it is the
    /// target); `false` for a status the wait does not expect, on which it
    /// keeps waiting all the same.
    pub on_the_way: bool,
    /// How far the server says the work is (a snapshot's `100%`), when it says.
    pub progress: Option<String>,
    /// Time since the wait began.
    pub elapsed: Duration,
}

type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// How long and how often to look: a policy that any number of waits can
/// share (`client.wait_for_backup(id, target).with(&waiter)`).
#[derive(Clone)]
pub struct Waiter {
    timeout: Duration,
    initial_delay: Duration,
    max_delay: Duration,
    clock: Option<Arc<dyn Clock>>,
    progress: Option<ProgressFn>,
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("timeout", &self.timeout)
            .field("initial_delay", &self.initial_delay)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

impl Default for Waiter {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30 * 60),
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            clock: None,
            progress: None,
        }
    }
}

impl Waiter {
    /// Thirty minutes at most, looking after 0.5 s, then 1.5 times later
    /// each time, at most every 10 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// The longest wait.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The first pause and the longest one.
    pub fn delays(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_delay = initial;
        self.max_delay = max.max(initial);
        self
    }

    /// A clock other than the client's.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Called after every look.
    pub fn on_progress(mut self, f: impl Fn(&Progress<'_>) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// A resource with a status that a wait can watch. Implemented by the
/// generator for every show operation with `x-openstack-waiter`.
pub trait Waitable: Send + Sync + 'static {
    /// The client that can show it.
    type Client: ClientInfo<ClientConfig> + Sync;
    /// The resource as the show operation returns it.
    type Item: Send;
    /// Its status type (an open enum).
    type Status: fmt::Display;
    /// Its name in messages (`backup`).
    const RESOURCE: &'static str;
    /// Statuses that end a wait for a status as failed.
    const FAILURE: &'static [&'static str];
    /// Statuses that end a wait for deletion as failed.
    const DELETION_FAILURE: &'static [&'static str];
    /// Statuses on the way (the wait keeps looking through any other too).
    const TRANSITIONAL: &'static [&'static str];
    /// Statuses that mean the resource is gone.
    const DELETED: &'static [&'static str];
    /// Whether a 404 from the show operation means the resource is gone.
    const NOT_FOUND_MEANS_DELETED: bool;

    /// Shows the resource once.
    fn show<'a>(client: &'a Self::Client, id: &'a str) -> impl Future<Output = Result<Self::Item, Error>> + Send + 'a;

    /// Its status, as the server spells it.
    fn status(item: &Self::Item) -> &str;

    /// Why it failed, when the server says.
    fn reason(item: &Self::Item) -> Option<String>;

    /// How far its work is, when the server says (`42%`).
    fn progress(_item: &Self::Item) -> Option<String> {
        None
    }
}

/// A wait for a resource to reach a status: `.await` it (or call
/// [`with`](Self::with) first to use a [`Waiter`] other than the default).
///
/// Resolves to the resource in its target status, or fails with
/// [`WaitError::Failed`] (a failure status, with the server's reason, or the
/// resource gone), [`WaitError::TimedOut`] (with the last status seen), both
/// as [`Error::Wait`], or the show call's own error: at once for one that
/// will not pass (401, 403, an undecodable answer), at the timeout for one
/// that may (the server unreachable, 429, 5xx; see the [module](self)).
#[must_use = "a wait does nothing until it is awaited"]
pub struct Wait<'a, W: Waitable> {
    client: &'a W::Client,
    id: &'a str,
    target: String,
    waiter: Waiter,
}

impl<'a, W: Waitable> Wait<'a, W> {
    /// A wait for `id` to reach `target` through `client` (what the
    /// generated `wait_for_<resource>` calls make).
    pub fn new(client: &'a W::Client, id: &'a str, target: W::Status) -> Self {
        Self { client, id, target: target.to_string(), waiter: Waiter::default() }
    }

    /// Waits as `waiter` says (timeout, delays, clock, progress).
    pub fn with(mut self, waiter: &Waiter) -> Self {
        self.waiter = waiter.clone();
        self
    }
}

impl<W: Waitable> fmt::Debug for Wait<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("resource", &W::RESOURCE)
            .field("id", &self.id)
            .field("target", &self.target)
            .field("waiter", &self.waiter)
            .finish()
    }
}

impl<'a, W: Waitable> IntoFuture for Wait<'a, W> {
    type Output = Result<W::Item, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let target = self.target.clone();
            let found = run::<W>(self.client, self.id, &self.waiter, Goal::Status(&target)).await?;
            found.ok_or_else(|| {
                WaitError::failed(
                    W::RESOURCE,
                    self.id,
                    "deleted",
                    Some(&format!("it disappeared while waiting for {target}")),
                )
                .into()
            })
        })
    }
}

/// A wait for a resource to be gone (a 404, or a deleted status): `.await`
/// it, or call [`with`](Self::with) first.
///
/// Fails with [`WaitError::Failed`] on a deletion failure status,
/// [`WaitError::TimedOut`] (both as [`Error::Wait`]), or the show call's own
/// error (at the timeout for one that may pass, as [`Wait`] says).
#[must_use = "a wait does nothing until it is awaited"]
pub struct WaitGone<'a, W: Waitable> {
    client: &'a W::Client,
    id: &'a str,
    waiter: Waiter,
}

impl<'a, W: Waitable> WaitGone<'a, W> {
    /// A wait for `id` to be gone (what the generated
    /// `wait_for_<resource>_deleted` calls make).
    pub fn new(client: &'a W::Client, id: &'a str) -> Self {
        Self { client, id, waiter: Waiter::default() }
    }

    /// Waits as `waiter` says (timeout, delays, clock, progress).
    pub fn with(mut self, waiter: &Waiter) -> Self {
        self.waiter = waiter.clone();
        self
    }
}

impl<W: Waitable> fmt::Debug for WaitGone<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGone")
            .field("resource", &W::RESOURCE)
            .field("id", &self.id)
            .field("waiter", &self.waiter)
            .finish()
    }
}

impl<'a, W: Waitable> IntoFuture for WaitGone<'a, W> {
    type Output = Result<(), Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { run::<W>(self.client, self.id, &self.waiter, Goal::Gone).await.map(drop) })
    }
}

#[derive(Clone, Copy)]
enum Goal<'t> {
    Status(&'t str),
    Gone,
}

/// What one look found.
enum Look<T> {
    Done(T),
    Failed(String, Option<String>),
    Pending(String),
    Gone,
}

/// Looks until the goal is met (`Some(item)` for a status, `None` for gone),
/// a failure status is seen, or the time is up.
async fn run<W: Waitable>(
    client: &W::Client,
    id: &str,
    waiter: &Waiter,
    goal: Goal<'_>,
) -> Result<Option<W::Item>, Error> {
    let clock = waiter.clock.clone().unwrap_or_else(|| client.inner().clock().clone());
    let wanted = match goal {
        Goal::Status(target) => target,
        Goal::Gone => "deleted",
    };
    let started = clock.now();
    let mut delay = waiter.initial_delay;
    loop {
        let mut done_so_far = None;
        let seen = match W::show(client, id).await {
            Ok(item) => {
                done_so_far = W::progress(&item);
                classify::<W>(item, goal)
            }
            Err(e) if e.is_not_found() && (W::NOT_FOUND_MEANS_DELETED || matches!(goal, Goal::Gone)) => Look::Gone,
            Err(e) if passing(&e) => {
                let waited = since(&*clock, started);
                if waited >= waiter.timeout {
                    return Err(e);
                }
                clock.sleep(delay.min(waiter.timeout - waited)).await;
                delay = delay.mul_f64(1.5).min(waiter.max_delay);
                continue;
            }
            Err(e) => return Err(e),
        };
        let status = match &seen {
            Look::Pending(s) | Look::Failed(s, _) => Some(s.clone()),
            Look::Done(_) => Some(wanted.to_owned()),
            Look::Gone => None,
        };
        if let Some(report) = &waiter.progress {
            let on_the_way = status.as_deref().is_none_or(|s| s == wanted || W::TRANSITIONAL.contains(&s));
            report(&Progress {
                resource: W::RESOURCE,
                id,
                status: status.as_deref(),
                on_the_way,
                progress: done_so_far,
                elapsed: since(&*clock, started),
            });
        }
        match seen {
            Look::Done(item) => return Ok(Some(item)),
            Look::Gone => return Ok(None),
            Look::Failed(status, reason) => {
                return Err(WaitError::failed(W::RESOURCE, id, &status, reason.as_deref()).into());
            }
            Look::Pending(_) => {}
        }
        let waited = since(&*clock, started);
        if waited >= waiter.timeout {
            return Err(WaitError::timed_out(W::RESOURCE, id, wanted, status.as_deref(), waited).into());
        }
        clock.sleep(delay.min(waiter.timeout - waited)).await;
        delay = delay.mul_f64(1.5).min(waiter.max_delay);
    }
}

/// Whether a failed look may pass if the wait looks again: the server
/// could not be reached or took too long, or it answered 429 or a 5xx
/// (the session has already retried as its policy allows). Anything else
/// (401, 403, a 404 that does not mean gone, an answer that cannot be
/// read) will not change by waiting.
fn passing(e: &Error) -> bool {
    match e.kind() {
        ErrorKind::Transport | ErrorKind::Timeout => true,
        ErrorKind::Server => e.status().is_some_and(|s| s.is_server_error() || s.as_u16() == 429),
        _ => false,
    }
}

fn classify<W: Waitable>(item: W::Item, goal: Goal<'_>) -> Look<W::Item> {
    let status = W::status(&item).to_owned();
    if W::DELETED.contains(&status.as_str()) {
        return Look::Gone;
    }
    match goal {
        Goal::Status(target) if status == target => Look::Done(item),
        Goal::Status(_) if W::FAILURE.contains(&status.as_str()) => Look::Failed(status, W::reason(&item)),
        Goal::Gone if W::DELETION_FAILURE.contains(&status.as_str()) => Look::Failed(status, W::reason(&item)),
        _ => Look::Pending(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Debug` shows the waiter's timing (not the clock or the progress
    /// callback, which have no useful text).
    #[test]
    fn a_waiter_shows_its_timing() {
        let text = format!("{:?}", Waiter::default());
        assert_eq!(text, "Waiter { timeout: 1800s, initial_delay: 500ms, max_delay: 10s, .. }");
    }
}
