//! Lists every backup of the bench server and reports its own cost.
//!
//! `bench-list generated <endpoint>`: the generated client's paged stream.
//! `bench-list floor <endpoint>`: a minimal hand-written reqwest + serde_json
//! program that decodes the same pages into typed structs (the floor).

use std::time::Instant;

use futures_util::StreamExt;
use serde::Deserialize;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, endpoint) = (args.get(1).expect("mode"), args.get(2).expect("endpoint"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let items = rt.block_on(async {
        match mode.as_str() {
            "generated" => generated(endpoint).await,
            "floor" => floor(endpoint).await,
            other => panic!("unknown mode {other}"),
        }
    });
    openstack_backups_bench::report(items, started.elapsed().as_secs_f64());
}

async fn generated(endpoint: &str) -> usize {
    use openstack_backups::{ClientConfig, Microversion, block_storage::Client};
    let client = Client::new(endpoint, ClientConfig::new().with_token("t").with_microversion(Microversion::new(3, 64)));
    let mut stream = client.list_backups_detail().limit(1000u64).stream();
    let mut n = 0;
    while let Some(item) = stream.next().await {
        let backup = item.expect("a backup");
        std::hint::black_box(&backup);
        n += 1;
    }
    n
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Link {
    href: String,
    rel: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Backup {
    id: String,
    status: String,
    size: Option<i64>,
    object_count: Option<i64>,
    availability_zone: Option<String>,
    container: Option<String>,
    created_at: String,
    updated_at: Option<String>,
    name: Option<String>,
    description: Option<String>,
    fail_reason: Option<String>,
    volume_id: String,
    links: Vec<Link>,
    is_incremental: bool,
    has_dependent_backups: bool,
    snapshot_id: Option<String>,
    data_timestamp: Option<String>,
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, String>,
    #[serde(rename = "os-backup-project-attr:project_id")]
    project_id: Option<String>,
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    backups: Vec<Backup>,
    #[serde(default)]
    backups_links: Vec<Link>,
}

async fn floor(endpoint: &str) -> usize {
    let http = reqwest::Client::new();
    let mut marker: Option<String> = None;
    let mut n = 0;
    loop {
        let mut req = http
            .get(format!("{endpoint}/backups/detail"))
            .header("x-auth-token", "t")
            .header("openstack-api-version", "volume 3.64")
            .header("accept", "application/json")
            .query(&[("limit", "1000")]);
        if let Some(m) = &marker {
            req = req.query(&[("marker", m)]);
        }
        let body = req.send().await.expect("send").bytes().await.expect("body");
        let page: Page = serde_json::from_slice(&body).expect("decode");
        if page.backups.is_empty() {
            return n;
        }
        n += page.backups.len();
        std::hint::black_box(&page.backups);
        marker = page
            .backups_links
            .iter()
            .find(|l| l.rel == "next")
            .and_then(|l| l.href.split("marker=").nth(1).map(|m| m.split('&').next().unwrap_or(m).to_owned()));
        if marker.is_none() {
            return n;
        }
    }
}
