//! `bench-load <endpoint-root> <shows> <waiters> <max-in-flight>`: through
//! one `Session` (fixed token, block-storage endpoint overridden to the
//! bench server, at most `max-in-flight` requests at once), first `shows`
//! concurrent `show_backup` calls, then `waiters` concurrent
//! `wait_for_backup` (each backup is `creating` for two polls). Every call
//! must succeed. Prints one JSON line: the wall time of each phase, the
//! errors, and the process's CPU and peak RSS.

use std::time::{Duration, Instant};

use openstack_backups::Session;
use openstack_backups::block_storage::types::BackupStatus;
use openstack_backups::wait::Waiter;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, root, shows, waiters, limit] = args.as_slice() else {
        panic!("usage: bench-load <endpoint-root> <shows> <waiters> <max-in-flight>")
    };
    let (shows, waiters, limit): (usize, usize, usize) =
        (shows.parse().unwrap(), waiters.parse().unwrap(), limit.parse().unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let started = Instant::now();
    let (shows_wall, waiters_wall, errors) = rt.block_on(async {
        let session = Session::builder()
            .token("bench-token", Some("p".to_owned()))
            .endpoint_override("block_storage", format!("{root}/v3/p"))
            .max_in_flight(limit)
            .build()
            .expect("session");
        let client = session.block_storage().await.expect("block storage client");
        let client = &client;
        let mut errors = 0usize;

        let t = Instant::now();
        let calls = (0..shows).map(|i| async move { client.show_backup().backup_id(format!("b{i}")).send().await });
        for r in futures_util::future::join_all(calls).await {
            if let Err(e) = r {
                eprintln!("show: {e}");
                errors += 1;
            }
        }
        let shows_wall = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let waiter = Waiter::new()
            .delays(Duration::from_millis(20), Duration::from_millis(40))
            .timeout(Duration::from_secs(120));
        let waiter = &waiter;
        // Ids of this run only: the server counts polls per id.
        let run = std::process::id();
        let ids: Vec<String> = (0..waiters).map(|i| format!("wait-{run}-{i}")).collect();
        let waits =
            ids.iter().map(|id| async move { client.wait_for_backup(id, BackupStatus::Available).with(waiter).await });
        for r in futures_util::future::join_all(waits).await {
            if let Err(e) = r {
                eprintln!("wait: {e}");
                errors += 1;
            }
        }
        (shows_wall, t.elapsed().as_secs_f64(), errors)
    });
    let mut report = openstack_backups_bench::usage(shows + waiters, started.elapsed().as_secs_f64());
    report["shows_wall"] = shows_wall.into();
    report["waiters_wall"] = waiters_wall.into();
    report["errors"] = errors.into();
    println!("{report}");
}
