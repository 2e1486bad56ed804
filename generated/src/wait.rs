//! Waiting for backups, snapshots and volumes to reach a status, or to be
//! gone: bounded by a timeout, with backoff, failing fast on a failure status
//! (with the server's `fail_reason` where it gives one), treating 404 as
//! success when waiting for deletion, with an optional progress callback.
//! The clock is the client's, so tests run without real sleeps.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::block_storage::{Client, types};
use crate::clock::{Clock, since};
use crate::{ClientConfig, Error};
use openstack_backups_runtime::__private::ClientInfo;

/// One observation of a waiter.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    /// `backup`, `snapshot`, `volume`.
    pub resource: &'static str,
    /// The resource's id.
    pub id: &'a str,
    /// Its status now (`None`: gone).
    pub status: Option<&'a str>,
    /// Time since the wait began.
    pub elapsed: Duration,
}

type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// How long and how often to look.
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

/// What one look found.
enum Look<T> {
    Done(T),
    Failed(String, Option<String>),
    Pending(String),
    Gone,
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

    fn clock_of<C: ClientInfo<ClientConfig>>(&self, client: &C) -> Arc<dyn Clock> {
        self.clock.clone().unwrap_or_else(|| client.inner().clock().clone())
    }

    async fn run<T, F, Fut>(
        &self,
        clock: Arc<dyn Clock>,
        resource: &'static str,
        id: &str,
        wanted: &str,
        look: F,
    ) -> Result<Option<T>, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Look<T>, Error>>,
    {
        let started = clock.now();
        let mut delay = self.initial_delay;
        loop {
            let seen = look().await?;
            let status = match &seen {
                Look::Pending(s) | Look::Failed(s, _) => Some(s.clone()),
                Look::Done(_) => Some(wanted.to_owned()),
                Look::Gone => None,
            };
            if let Some(progress) = &self.progress {
                progress(&Progress { resource, id, status: status.as_deref(), elapsed: since(&*clock, started) });
            }
            match seen {
                Look::Done(t) => return Ok(Some(t)),
                Look::Gone => return Ok(None),
                Look::Failed(status, reason) => {
                    return Err(Error::WaitFailed { resource, id: id.to_owned(), status, reason });
                }
                Look::Pending(_) => {}
            }
            let waited = since(&*clock, started);
            if waited >= self.timeout {
                return Err(Error::WaitTimedOut {
                    resource,
                    id: id.to_owned(),
                    wanted: wanted.to_owned(),
                    last_status: status,
                    waited,
                });
            }
            clock.sleep(delay.min(self.timeout - waited)).await;
            delay = delay.mul_f64(1.5).min(self.max_delay);
        }
    }

    /// Waits until backup `id` is `target`; a status starting with `error`
    /// (other than `target`) fails at once, with the backup's `fail_reason`.
    pub async fn backup(&self, client: &Client, id: &str, target: types::BackupStatus) -> Result<types::Backup, Error> {
        let wanted = target.to_string();
        let found = self
            .run(self.clock_of(client), "backup", id, &wanted, || async {
                match client.show_backup().backup_id(id).send().await {
                    Ok(b) => {
                        Ok(classify(b.into_inner().backup, |b| b.status.as_str(), |b| b.fail_reason.clone(), &wanted))
                    }
                    Err(e) => Err(e),
                }
            })
            .await?;
        found.ok_or_else(|| gone("backup", id, &wanted))
    }

    /// Waits until backup `id` is gone (404, or `deleted`).
    pub async fn backup_deleted(&self, client: &Client, id: &str) -> Result<(), Error> {
        self.run(self.clock_of(client), "backup", id, "deleted", || async {
            match client.show_backup().backup_id(id).send().await {
                Ok(b) => Ok(deleting(b.into_inner().backup, |b| b.status.as_str(), |b| b.fail_reason.clone())),
                Err(e) if e.is_not_found() => Ok(Look::Gone),
                Err(e) => Err(e),
            }
        })
        .await
        .map(drop)
    }

    /// Waits until snapshot `id` is `target`.
    pub async fn snapshot(
        &self,
        client: &Client,
        id: &str,
        target: types::SnapshotStatus,
    ) -> Result<types::Snapshot, Error> {
        let wanted = target.to_string();
        let found = self
            .run(self.clock_of(client), "snapshot", id, &wanted, || async {
                let s = client.show_snapshot().snapshot_id(id).send().await?.into_inner().snapshot;
                Ok(classify(s, |s| s.status.as_str(), |_| None, &wanted))
            })
            .await?;
        found.ok_or_else(|| gone("snapshot", id, &wanted))
    }

    /// Waits until snapshot `id` is gone.
    pub async fn snapshot_deleted(&self, client: &Client, id: &str) -> Result<(), Error> {
        self.run(self.clock_of(client), "snapshot", id, "deleted", || async {
            match client.show_snapshot().snapshot_id(id).send().await {
                Ok(s) => Ok(deleting(s.into_inner().snapshot, |s| s.status.as_str(), |_| None)),
                Err(e) if e.is_not_found() => Ok(Look::Gone),
                Err(e) => Err(e),
            }
        })
        .await
        .map(drop)
    }

    /// Waits until volume `id` is `target`.
    pub async fn volume(&self, client: &Client, id: &str, target: types::VolumeStatus) -> Result<types::Volume, Error> {
        let wanted = target.to_string();
        let found = self
            .run(self.clock_of(client), "volume", id, &wanted, || async {
                let v = client.show_volume().volume_id(id).send().await?.into_inner().volume;
                Ok(classify(v, |v| v.status.as_str(), |_| None, &wanted))
            })
            .await?;
        found.ok_or_else(|| gone("volume", id, &wanted))
    }

    /// Waits until volume `id` is gone.
    pub async fn volume_deleted(&self, client: &Client, id: &str) -> Result<(), Error> {
        self.run(self.clock_of(client), "volume", id, "deleted", || async {
            match client.show_volume().volume_id(id).send().await {
                Ok(v) => Ok(deleting(v.into_inner().volume, |v| v.status.as_str(), |_| None)),
                Err(e) if e.is_not_found() => Ok(Look::Gone),
                Err(e) => Err(e),
            }
        })
        .await
        .map(drop)
    }
}

impl Waiter {
    /// Waits until database backup `id` is `COMPLETED`; `FAILED` and
    /// `DELETE_FAILED` fail at once.
    pub async fn database_backup(
        &self,
        client: &crate::database::Client,
        id: &str,
    ) -> Result<crate::database::types::Backup, Error> {
        let found = self
            .run(self.clock_of(client), "database backup", id, "COMPLETED", || async {
                let b = client.show_database_backup().backup_id(id).send().await?.into_inner().backup;
                Ok(match b.status.as_str() {
                    "COMPLETED" => Look::Done(b),
                    s @ ("FAILED" | "DELETE_FAILED") => Look::Failed(s.to_owned(), None),
                    s => Look::Pending(s.to_owned()),
                })
            })
            .await?;
        found.ok_or_else(|| gone("database backup", id, "COMPLETED"))
    }

    /// Waits until database backup `id` is gone (404).
    pub async fn database_backup_deleted(&self, client: &crate::database::Client, id: &str) -> Result<(), Error> {
        self.run(self.clock_of(client), "database backup", id, "deleted", || async {
            match client.show_database_backup().backup_id(id).send().await {
                Ok(b) => Ok(match b.into_inner().backup.status.as_str() {
                    "DELETE_FAILED" => Look::<()>::Failed("DELETE_FAILED".to_owned(), None),
                    s => Look::Pending(s.to_owned()),
                }),
                Err(e) if e.is_not_found() => Ok(Look::Gone),
                Err(e) => Err(e),
            }
        })
        .await
        .map(drop)
    }
}

fn gone(resource: &'static str, id: &str, wanted: &str) -> Error {
    Error::WaitFailed {
        resource,
        id: id.to_owned(),
        status: "deleted".to_owned(),
        reason: Some(format!("it disappeared while waiting for {wanted}")),
    }
}

fn classify<T>(item: T, status: impl Fn(&T) -> &str, reason: impl Fn(&T) -> Option<String>, wanted: &str) -> Look<T> {
    let s = status(&item);
    if s == wanted {
        Look::Done(item)
    } else if s.starts_with("error") {
        Look::Failed(s.to_owned(), reason(&item))
    } else {
        Look::Pending(s.to_owned())
    }
}

fn deleting<T>(item: T, status: impl Fn(&T) -> &str, reason: impl Fn(&T) -> Option<String>) -> Look<()> {
    match status(&item) {
        "deleted" => Look::Gone,
        s if s.starts_with("error") => Look::Failed(s.to_owned(), reason(&item)),
        s => Look::Pending(s.to_owned()),
    }
}
