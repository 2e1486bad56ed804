//! Faults a real cloud has, on the real Cinder 29 of the harness (the fault
//! matrix has them on a mock): the whole Cinder process killed (SIGKILL)
//! and started again during a paged listing and while a backup is being
//! made, and Cinder's database held by another writer. What reached the
//! server is read from the server itself: its database, and the recording
//! proxy in front of it.
//!
//! Own harness (like `real_cinder`): one Cinder that these scenarios kill
//! and restart, one after the other; each scenario in its own project.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::block_storage::{Client, types};
use openstack_backups::retry::RetryPolicy;
use openstack_backups::wait::Waiter;
use openstack_backups::{ClientConfig, Error, ErrorKind, Microversion, WaitError};
use openstack_backups_harness::Cinder;
use openstack_backups_tests::proxy::Proxy;
use openstack_backups_tests::{ensure, random_hex};

type Outcome = Result<(), String>;

struct World {
    cinder: Arc<Mutex<Cinder>>,
}

impl World {
    fn endpoint(&self, project: &str) -> String {
        self.cinder.lock().expect("the server").endpoint(project)
    }

    /// Kills Cinder now and starts it again (blocking until it is ready).
    fn kill_and_restart(&self) -> Result<Duration, String> {
        let started = Instant::now();
        let mut cinder = self.cinder.lock().map_err(|e| e.to_string())?;
        cinder.kill();
        cinder.restart().map_err(|e| e.to_string())?;
        Ok(started.elapsed())
    }
}

/// A retry policy patient enough to ride out a restart of the harness's
/// Cinder (about 10 s): 30 attempts, backoff 0.5 s to 2 s, 3 minutes.
fn patient() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 30,
        max_elapsed: Duration::from_secs(180),
        max_backoff: Duration::from_secs(2),
        jitter: false,
        ..RetryPolicy::default()
    }
}

fn client(endpoint: &str, project: &str, retry: RetryPolicy) -> Client {
    Client::new(
        endpoint,
        ClientConfig::new()
            .with_token(format!("admin:{project}"))
            .with_microversion(Microversion::new(3, 71))
            .with_retry(retry),
    )
}

fn waiter() -> Waiter {
    Waiter::new().delays(Duration::from_millis(200), Duration::from_secs(1)).timeout(Duration::from_secs(120))
}

fn e(step: &'static str) -> impl Fn(Error) -> String {
    move |e| format!("{step}: {e}")
}

async fn volumes(c: &Client, prefix: &str, n: usize) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let body = types::VolumeCreateRequest::builder()
            .volume(types::VolumeCreate::builder().size(std::num::NonZeroU64::new(1)).name(format!("{prefix}-{i}")));
        ids.push(c.create_volume().body(body).send().await.map_err(e("create a volume"))?.volume.id.clone());
    }
    for id in &ids {
        c.wait_for_volume(id, types::VolumeStatus::Available).with(&waiter()).await.map_err(e("wait for a volume"))?;
    }
    Ok(ids)
}

/// A paged listing (one volume per page) while Cinder is killed after the
/// first page: with a patient retry policy the stream rides out the
/// restart and yields each volume once; with the default policy (4
/// attempts, 3.5 s) it ends with an error naming the operation that says
/// the server could not be reached, and the same listing run again after
/// the restart gives every volume.
async fn listing_across_a_restart(w: &World) -> Outcome {
    let project = random_hex();
    let endpoint = w.endpoint(&project);
    let c = client(&endpoint, &project, patient());
    let mut ids = volumes(&c, "listed", 4).await?;
    ids.sort();

    let mut stream = Box::pin(c.list_volumes_detail().limit(1u64).stream());
    let first = stream.next().await.ok_or("no first page")?.map_err(e("the first page"))?;
    let restart = {
        let cinder = w.cinder.clone();
        std::thread::spawn(move || {
            let mut cinder = cinder.lock().map_err(|e| e.to_string())?;
            cinder.kill();
            cinder.restart().map_err(|e| e.to_string())
        })
    };
    // Wait for the kill before the next page goes out.
    while w.cinder.try_lock().is_ok() && !restart.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rest: Vec<types::Volume> = stream.try_collect().await.map_err(e("the pages after the restart"))?;
    restart.join().map_err(|_| "the restart panicked")??;
    let mut seen: Vec<String> = std::iter::once(first).chain(rest).map(|v| v.id).collect();
    seen.sort();
    ensure!(seen == ids, "each volume once across the restart: {seen:?} (made {ids:?})");

    // The default policy gives up while Cinder is down, and says why.
    let c = client(&endpoint, &project, RetryPolicy { jitter: false, ..RetryPolicy::default() });
    let mut stream = Box::pin(c.list_volumes_detail().limit(1u64).stream());
    stream.next().await.ok_or("no first page")?.map_err(e("the first page"))?;
    w.cinder.lock().map_err(|e| e.to_string())?.kill();
    let failed = stream.next().await.ok_or("the stream ended without an error")?;
    let err = failed.err().ok_or("a page came while Cinder was down")?;
    ensure!(err.kind() == ErrorKind::Transport && err.operation() == Some("list_volumes_detail"), "{err}");
    let text = err.to_string();
    ensure!(text.contains("could not connect") && text.contains("4 attempts"), "{text}");
    ensure!(stream.next().await.is_none(), "the stream ends after its error");
    w.cinder.lock().map_err(|e| e.to_string())?.restart().map_err(|e| e.to_string())?;
    let again: Vec<types::Volume> = c.list_volumes_detail().limit(1u64).all().await.map_err(e("the listing again"))?;
    let mut again: Vec<String> = again.into_iter().map(|v| v.id).collect();
    again.sort();
    ensure!(again == ids, "the second run lists every volume: {again:?}");
    Ok(())
}

/// A backup that is `creating` on a backup host when Cinder dies:
/// Cinder's backup manager resets it to `error` as it starts again, with
/// its reason, and the waiter (its polls riding out the restart) ends with
/// that status and that reason, not with a timeout; the volume is
/// `available` again. (Killed before the scheduler gave the backup a host,
/// a backup stays `creating`: no manager owns it; seen on this server, not
/// a test, since the moment cannot be chosen. A waiter then times out with
/// the last status, `creating`.)
async fn a_backup_creating_when_cinder_dies(w: &World) -> Outcome {
    let project = random_hex();
    let endpoint = w.endpoint(&project);
    let c = client(&endpoint, &project, patient());
    let body = types::VolumeCreateRequest::builder()
        .volume(types::VolumeCreate::builder().size(std::num::NonZeroU64::new(4)).name("dies".to_owned()));
    let volume = c.create_volume().body(body).send().await.map_err(e("create a volume"))?.volume.id.clone();
    c.wait_for_volume(&volume, types::VolumeStatus::Available).with(&waiter()).await.map_err(e("the volume"))?;
    let body = types::BackupCreateRequest::builder().backup(types::BackupCreate::builder().volume_id(volume.clone()));
    let backup = c.create_backup().body(body).send().await.map_err(e("create a backup"))?.backup.id.clone();
    // Killed once a backup service has it: its host is set, its status
    // still `creating`.
    let query = format!("SELECT host, status FROM backups WHERE id = '{backup}'");
    let started = Instant::now();
    loop {
        let row = w.cinder.lock().map_err(|e| e.to_string())?.query(&query).map_err(|e| e.to_string())?;
        let mut fields = row.trim().split('\t');
        let (host, status) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
        if host != "None" && !host.is_empty() {
            ensure!(status == "creating", "the backup was {status} before Cinder could be killed");
            break;
        }
        ensure!(started.elapsed() < Duration::from_secs(30), "no backup service took the backup: {row}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = w.kill_and_restart()?;
    eprintln!("  Cinder killed and started again in {:.1} s", took.as_secs_f64());
    let err = c
        .wait_for_backup(&backup, types::BackupStatus::Available)
        .with(&waiter())
        .await
        .err()
        .ok_or("the backup became available although Cinder died while making it")?;
    match err.wait_error() {
        Some(WaitError::Failed { status, reason, .. }) => {
            ensure!(status == "error", "{err}");
            let reason = reason.as_deref().unwrap_or_default();
            ensure!(reason.contains("restart"), "Cinder's reason: {reason:?}");
            eprintln!("  the waiter: {err}");
        }
        _ => return Err(format!("not the backup's failure: {err}")),
    }
    c.wait_for_volume(&volume, types::VolumeStatus::Available).with(&waiter()).await.map_err(e("the volume"))?;
    Ok(())
}

/// Cinder's sqlite database held by another writer for 8 s: a list (GET)
/// that meets the lock is retried until it passes; a volume create (POST)
/// that meets it is sent once and fails with Cinder's 500 (the proxy saw
/// one POST, and the database has no such volume).
async fn database_locked(w: &World) -> Outcome {
    let project = random_hex();
    let root = w.cinder.lock().map_err(|e| e.to_string())?.root_url();
    let proxy = Proxy::start(root).await;
    let endpoint = format!("{}/v3/{project}", proxy.url());
    let c = client(&endpoint, &project, patient());
    volumes(&c, "before-lock", 1).await?;
    // The requests through the proxy from here on (the volume above was a POST).
    let posts_before = proxy.count(|x| x.method == "POST" && x.path.ends_with("/volumes"));
    let gets_before = proxy.count(|x| x.method == "GET" && x.path.ends_with("/volumes/detail"));

    let lock =
        w.cinder.lock().map_err(|e| e.to_string())?.lock_database(Duration::from_secs(8)).map_err(|e| e.to_string())?;
    let locked_at = Instant::now();
    let name = format!("during-lock-{}", random_hex());
    let body = types::VolumeCreateRequest::builder()
        .volume(types::VolumeCreate::builder().size(std::num::NonZeroU64::new(1)).name(name.clone()));
    let (listed, created) = tokio::join!(c.list_volumes_detail().send(), c.create_volume().body(body).send());
    drop(lock);
    let lasted = locked_at.elapsed();
    let gets = proxy.count(|x| x.method == "GET" && x.path.ends_with("/volumes/detail")) - gets_before;
    let posts = proxy.count(|x| x.method == "POST" && x.path.ends_with("/volumes")) - posts_before;
    let get_500s = proxy.count(|x| x.method == "GET" && x.path.ends_with("/volumes/detail") && x.status == 500);
    eprintln!("  lock held {:.1} s; GETs {gets} ({get_500s} answered 500); POSTs {posts}", lasted.as_secs_f64());
    match &created {
        Ok(_) => eprintln!("  the create passed the lock"),
        Err(err) => {
            ensure!(err.status().map(|s| s.as_u16()) == Some(500), "the create's error: {err}");
            ensure!(posts == 1, "a POST that met the lock is sent once: {posts}");
        }
    }
    let listed = listed.map_err(e("the list during the lock"))?;
    ensure!(!listed.volumes.is_empty(), "the list passed once the lock was gone");
    if get_500s > 0 {
        ensure!(gets > get_500s, "the GET was retried after its 500s");
    }
    let rows = w
        .cinder
        .lock()
        .map_err(|e| e.to_string())?
        .query(&format!("SELECT count(*) FROM volumes WHERE display_name = '{name}' AND deleted = 0"))
        .map_err(|e| e.to_string())?;
    let rows: usize = rows.trim().parse().map_err(|_| format!("a count: {rows}"))?;
    ensure!(rows == usize::from(created.is_ok()), "volumes in the database named {name}: {rows} (create {created:?})");
    ensure!(get_500s > 0 || created.is_err() || lasted >= Duration::from_secs(5), "the lock was met");
    Ok(())
}

const NAMES: [&str; 3] = ["listing_across_a_restart", "a_backup_creating_when_cinder_dies", "database_locked"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for n in NAMES {
            println!("{n}: test");
        }
        return ExitCode::SUCCESS;
    }
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let chosen: Vec<&str> =
        NAMES.iter().copied().filter(|n| filter.as_ref().is_none_or(|f| n.contains(f.as_str()))).collect();
    println!("\nrunning {} tests", chosen.len());
    let mut results: Vec<(String, Outcome)> = Vec::new();
    runtime.block_on(async {
        let boot = Instant::now();
        let cinder = match Cinder::start() {
            Ok(c) => c,
            Err(e) => {
                results.push(("real_cinder_server".into(), Err(e.to_string())));
                return;
            }
        };
        eprintln!("real Cinder up in {:.1} s", boot.elapsed().as_secs_f64());
        let world = World { cinder: Arc::new(Mutex::new(cinder)) };
        for name in &chosen {
            let t = Instant::now();
            let outcome = match *name {
                "listing_across_a_restart" => listing_across_a_restart(&world).await,
                "a_backup_creating_when_cinder_dies" => a_backup_creating_when_cinder_dies(&world).await,
                _ => database_locked(&world).await,
            };
            println!(
                "test {name} ... {} ({:.1} s)",
                if outcome.is_ok() { "ok" } else { "FAILED" },
                t.elapsed().as_secs_f64()
            );
            results.push(((*name).to_owned(), outcome));
        }
    });
    let failed: Vec<_> = results.iter().filter(|(_, o)| o.is_err()).collect();
    if !failed.is_empty() {
        println!("\nfailures:\n");
        for (name, o) in &failed {
            println!("---- {name} ----\n{}\n", o.as_ref().err().map_or("", String::as_str));
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s",
        if failed.is_empty() { "ok" } else { "FAILED" },
        results.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
