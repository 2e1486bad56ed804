//! `bench-load <endpoint-root> <shows> <waiters> <max-in-flight> [all|buffered]`:
//! through one `Session` (fixed token, block-storage endpoint overridden to
//! the bench server, at most `max-in-flight` requests at once), first
//! `shows` `show_backup` calls, then `waiters` `wait_for_backup` (each
//! backup is `creating` for two polls). `all` (the default) starts every
//! call at once (`join_all`); `buffered` keeps `max-in-flight` calls
//! started (`buffer_unordered`), so that memory stays flat. Every call must
//! succeed. Prints one JSON line: the wall time of each phase, the errors,
//! and the process's CPU and peak RSS.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use openstack_backups::Session;
use openstack_backups::block_storage::types::BackupStatus;
use openstack_backups::wait::Waiter;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (root, shows, waiters, limit, buffered) = match args.as_slice() {
        [_, root, shows, waiters, limit] => (root, shows, waiters, limit, false),
        [_, root, shows, waiters, limit, mode] if mode == "all" || mode == "buffered" => {
            (root, shows, waiters, limit, mode == "buffered")
        }
        _ => panic!("usage: bench-load <endpoint-root> <shows> <waiters> <max-in-flight> [all|buffered]"),
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
        // Runs the calls all at once or `limit` at a time; each keeps only
        // whether it succeeded (the figures are the client's, not those of
        // 10,000 kept responses). Returns the errors.
        async fn run<F: std::future::Future<Output = Result<(), openstack_backups::Error>>>(
            calls: impl Iterator<Item = F>,
            buffered: bool,
            limit: usize,
        ) -> usize {
            let results: Vec<_> = if buffered {
                futures_util::stream::iter(calls).buffer_unordered(limit).collect().await
            } else {
                futures_util::future::join_all(calls).await
            };
            results.iter().filter(|r| r.as_ref().inspect_err(|e| eprintln!("{e}")).is_err()).count()
        }

        let t = Instant::now();
        let calls =
            (0..shows).map(|i| async move { client.show_backup().backup_id(format!("b{i}")).send().await.map(drop) });
        let mut errors = run(calls, buffered, limit).await;
        let shows_wall = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let waiter = Waiter::new()
            .delays(Duration::from_millis(20), Duration::from_millis(40))
            .timeout(Duration::from_secs(120));
        let waiter = &waiter;
        // Ids of this run only: the server counts polls per id.
        let run_id = std::process::id();
        let ids: Vec<String> = (0..waiters).map(|i| format!("wait-{run_id}-{i}")).collect();
        let waits = ids
            .iter()
            .map(|id| async move { client.wait_for_backup(id, BackupStatus::Available).with(waiter).await.map(drop) });
        errors += run(waits, buffered, limit).await;
        (shows_wall, t.elapsed().as_secs_f64(), errors)
    });
    let mut report = openstack_backups_bench::usage(shows + waiters, started.elapsed().as_secs_f64());
    report["shows_wall"] = shows_wall.into();
    report["waiters_wall"] = waiters_wall.into();
    report["errors"] = errors.into();
    println!("{report}");
}
