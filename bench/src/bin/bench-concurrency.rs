//! `bench-concurrency <endpoint> <requests> <concurrency>`: shows one backup
//! `requests` times through one client with at most `concurrency` in flight,
//! and reports requests per second.

use std::time::Instant;

use futures_util::StreamExt;
use openstack_backups::{ClientConfig, Microversion, block_storage::Client};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let endpoint = args[1].clone();
    let requests: usize = args[2].parse().unwrap();
    let concurrency: usize = args[3].parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    rt.block_on(async {
        let client =
            Client::new(&endpoint, ClientConfig::new().with_token("t").with_microversion(Microversion::new(3, 64)));
        let client = &client;
        let done = futures_util::stream::iter(0..requests)
            .map(|i| async move { client.show_backup().backup_id(format!("b{i}")).send().await.expect("show") })
            .buffer_unordered(concurrency)
            .count()
            .await;
        assert_eq!(done, requests);
    });
    openstack_backups_bench::report(requests, started.elapsed().as_secs_f64());
}
