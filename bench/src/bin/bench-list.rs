//! Lists every backup of the bench server and reports its own cost.
//!
//! `bench-list generated <endpoint>`: the generated client's paged stream.
//! `bench-list floor <endpoint>`: a minimal hand-written reqwest + serde_json
//! program that decodes the same pages into typed structs (the floor).
//! `bench-list session`: the user's whole path: `Session::from_env()` (a
//! `clouds.yaml` cloud named by `OS_CLOUD`, password authentication),
//! the catalog, version negotiation, then the paged stream.
//! `bench-list floor-session`: the same path written by hand with reqwest,
//! serde_json and serde_norway (read `clouds.yaml`, issue a token, take the
//! endpoint from the catalog, read the version document, list): the floor
//! of the user's path.
//!
//! Built with the `rustls` feature the client has its default TLS backend;
//! with `native-tls` the floor uses reqwest with native-tls; without
//! either, neither has TLS.

use std::time::Instant;

use futures_util::StreamExt;
use serde::Deserialize;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).expect("mode");
    let endpoint = args.get(2).map_or("", String::as_str);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let items = rt.block_on(async {
        match mode.as_str() {
            "generated" => generated(endpoint).await,
            "session" => session().await,
            "floor-session" => floor_session().await,
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

async fn session() -> usize {
    let session = openstack_backups::Session::from_env().await.expect("session");
    let client = session.block_storage().await.expect("block storage");
    let mut stream = client.list_backups_detail().limit(1000u64).stream();
    let mut n = 0;
    while let Some(item) = stream.next().await {
        std::hint::black_box(&item.expect("a backup"));
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

#[derive(Deserialize)]
struct Clouds {
    clouds: std::collections::BTreeMap<String, Cloud>,
}

#[derive(Deserialize)]
struct Cloud {
    auth: CloudAuth,
}

#[derive(Deserialize)]
struct CloudAuth {
    auth_url: String,
    username: String,
    password: String,
    project_name: String,
    user_domain_name: String,
    project_domain_name: String,
}

#[derive(Deserialize)]
struct TokenBody {
    token: Token,
}

#[derive(Deserialize)]
struct Token {
    catalog: Vec<Service>,
}

#[derive(Deserialize)]
struct Service {
    #[serde(rename = "type")]
    type_: String,
    endpoints: Vec<Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    interface: String,
    url: String,
}

#[derive(Deserialize)]
struct Versions {
    versions: Vec<Version>,
}

#[derive(Deserialize)]
struct Version {
    version: String,
}

async fn floor_session() -> usize {
    let file = std::env::var("OS_CLIENT_CONFIG_FILE").expect("OS_CLIENT_CONFIG_FILE");
    let name = std::env::var("OS_CLOUD").expect("OS_CLOUD");
    let clouds: Clouds = serde_norway::from_str(&std::fs::read_to_string(file).expect("clouds.yaml")).expect("yaml");
    let auth = &clouds.clouds[&name].auth;
    let http = reqwest::Client::new();
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": auth.username, "domain": {"name": auth.user_domain_name}, "password": auth.password}}},
        "scope": {"project": {"name": auth.project_name, "domain": {"name": auth.project_domain_name}}}
    }});
    let response = http.post(format!("{}/v3/auth/tokens", auth.auth_url)).json(&body).send().await.expect("token");
    let token = response.headers()["x-subject-token"].to_str().expect("token").to_owned();
    let issued: TokenBody = serde_json::from_slice(&response.bytes().await.expect("body")).expect("decode");
    let url = issued
        .token
        .catalog
        .iter()
        .filter(|s| s.type_ == "block-storage")
        .flat_map(|s| &s.endpoints)
        .find(|e| e.interface == "public")
        .expect("endpoint")
        .url
        .replace("%(project_id)s", "p");
    let root = url.split("/v3").next().expect("root");
    let body = http.get(format!("{root}/v3/")).send().await.expect("versions").bytes().await.expect("body");
    let versions: Versions = serde_json::from_slice(&body).expect("decode");
    std::hint::black_box(&versions.versions[0].version);
    list(&http, &url, &token).await
}

async fn floor(endpoint: &str) -> usize {
    list(&reqwest::Client::new(), endpoint, "t").await
}

async fn list(http: &reqwest::Client, endpoint: &str, token: &str) -> usize {
    let mut marker: Option<String> = None;
    let mut n = 0;
    loop {
        let mut req = http
            .get(format!("{endpoint}/backups/detail"))
            .header("x-auth-token", token)
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
