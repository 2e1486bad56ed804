//! A static Cinder-like server on 127.0.0.1: N backup-detail objects in
//! pages of 1000 with `backups_links`, pre-rendered so that serving costs
//! next to nothing; `GET /backups/<id>` answers one backup. For the user's
//! whole path it is Keystone too (`POST /identity/v3/auth/tokens` issues a
//! token whose catalog points back here), and serves the version documents
//! clients discover (`GET /`, `/v3/`, `/identity`, `/identity/v3`). `GET /stats` tells how many connections were
//! accepted and when the first request after the last `GET /mark` arrived
//! (Unix nanoseconds), and how many requests it answered. `GET
//! /backups/wait-<n>` answers a backup that is `creating` on its first two
//! polls and `available` from the third (for waiters under load). Prints
//! its port, then serves until stdin closes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const PAGE: usize = 1000;

struct Pages {
    /// Page bodies, keyed by the marker that asks for them ("" = first).
    by_marker: HashMap<String, Bytes>,
    show: Bytes,
    /// The backup of `show` while it is still `creating`.
    creating: Bytes,
    /// Polls so far of each `wait-<n>` backup.
    polls: std::sync::Mutex<HashMap<String, u32>>,
    requests: AtomicUsize,
    token: Bytes,
    versions: Bytes,
    /// Keystone's `GET /v3` and `GET /` (what keystoneauth discovers).
    identity_version: Bytes,
    identity_versions: Bytes,
    connections: AtomicUsize,
    /// Set by `/mark`: the next request records its arrival time.
    marked: std::sync::atomic::AtomicBool,
    first_request_ns: std::sync::atomic::AtomicU64,
}

fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

fn main() {
    use std::io::Write as _;
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).expect("usage: bench-server <N>");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}/v3/p");
        let mut by_marker = HashMap::new();
        let mut marker = String::new();
        for start in (0..n).step_by(PAGE) {
            let end = (start + PAGE).min(n);
            let items: Vec<String> = (start..end).map(|i| openstack_backups_bench::backup_json(i, &base)).collect();
            let last = openstack_backups_bench::backup_id(end - 1);
            // Like Cinder: a full page gets a next link, even the last one.
            let links = if end - start == PAGE {
                format!(
                    r#","backups_links":[{{"href":"{base}/backups/detail?limit={PAGE}&marker={last}","rel":"next"}}]"#
                )
            } else {
                String::new()
            };
            by_marker.insert(
                std::mem::replace(&mut marker, last),
                Bytes::from(format!(r#"{{"backups":[{}]{links}}}"#, items.join(","))),
            );
        }
        by_marker.entry(marker).or_insert_with(|| Bytes::from_static(br#"{"backups":[]}"#));
        let show = Bytes::from(format!(r#"{{"backup":{}}}"#, openstack_backups_bench::backup_json(7, &base)));
        // Backup 10 is `creating` (every tenth is).
        let creating = Bytes::from(format!(r#"{{"backup":{}}}"#, openstack_backups_bench::backup_json(10, &base)));
        let root = format!("http://127.0.0.1:{port}");
        let token = Bytes::from(
            serde_json::json!({"token": {
                "methods": ["password"], "audit_ids": ["a"], "expires_at": "2099-01-01T00:00:00.000000Z",
                "issued_at": "2026-01-01T00:00:00.000000Z",
                "user": {"id": "u", "name": "bench", "domain": {"id": "default", "name": "Default"}},
                "project": {"id": "p", "name": "bench", "domain": {"id": "default", "name": "Default"}},
                "catalog": [
                    {"type": "identity", "endpoints": [{"interface": "public", "region": "RegionOne", "url": format!("{root}/identity")}]},
                    // Keystone fills in the project, as a real one does.
                    {"type": "block-storage", "endpoints": [{"interface": "public", "region": "RegionOne", "url": format!("{root}/v3/p")}]}
                ]
            }})
            .to_string(),
        );
        let versions = Bytes::from(
            serde_json::json!({"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0",
                "updated": "2023-08-31T00:00:00Z", "links": [{"rel": "self", "href": format!("{root}/v3/")}],
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}]}]})
            .to_string(),
        );
        let identity = serde_json::json!({"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": format!("{root}/identity/v3/")}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]});
        let identity_version = Bytes::from(serde_json::json!({"version": identity}).to_string());
        let identity_versions = Bytes::from(serde_json::json!({"versions": {"values": [identity]}}).to_string());
        let pages = Arc::new(Pages {
            by_marker,
            show,
            creating,
            polls: Default::default(),
            requests: AtomicUsize::new(0),
            token,
            versions,
            identity_version,
            identity_versions,
            connections: AtomicUsize::new(0),
            marked: Default::default(),
            first_request_ns: Default::default(),
        });
        println!("{port}");
        std::io::stdout().flush().unwrap();
        std::thread::spawn(|| {
            // Serve until the parent closes our stdin.
            let _ = std::io::Read::read(&mut std::io::stdin(), &mut [0u8; 1]);
            std::process::exit(0);
        });
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            pages.connections.fetch_add(1, Ordering::Relaxed);
            let pages = pages.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let pages = pages.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(&pages, &req)) }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}

fn answer(pages: &Pages, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if path != "/stats" && path != "/mark" && pages.marked.swap(false, Ordering::Relaxed) {
        pages.first_request_ns.store(now_ns(), Ordering::Relaxed);
    }
    if path != "/stats" && path != "/mark" {
        pages.requests.fetch_add(1, Ordering::Relaxed);
    }
    let body = if path == "/stats" {
        Some(Bytes::from(format!(
            r#"{{"connections":{},"first_request_ns":{},"requests":{}}}"#,
            pages.connections.load(Ordering::Relaxed),
            pages.first_request_ns.load(Ordering::Relaxed),
            pages.requests.load(Ordering::Relaxed)
        )))
    } else if path == "/mark" {
        pages.marked.store(true, Ordering::Relaxed);
        Some(Bytes::from_static(b"{}"))
    } else if path == "/identity/v3/auth/tokens" {
        return Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .header("x-subject-token", "gAAAAAB-bench-token")
            .body(Full::new(pages.token.clone()))
            .unwrap();
    } else if path == "/v3/" || path == "/" {
        Some(pages.versions.clone())
    } else if path == "/identity/v3" || path == "/identity/v3/" {
        Some(pages.identity_version.clone())
    } else if path == "/identity" || path == "/identity/" {
        Some(pages.identity_versions.clone())
    } else if path.ends_with("/backups/detail") {
        let marker =
            req.uri().query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("marker="))).unwrap_or("");
        pages.by_marker.get(marker).cloned()
    } else if let Some((_, id)) = path.split_once("/backups/wait-") {
        let mut polls = pages.polls.lock().unwrap();
        let seen = polls.entry(id.to_owned()).or_insert(0);
        *seen += 1;
        Some(if *seen < 3 { pages.creating.clone() } else { pages.show.clone() })
    } else if path.contains("/backups/") {
        Some(pages.show.clone())
    } else {
        None
    };
    match body {
        Some(b) => Response::builder()
            .header("content-type", "application/json")
            .header("x-openstack-request-id", "req-bench")
            .body(Full::new(b))
            .unwrap(),
        None => Response::builder().status(404).body(Full::new(Bytes::from_static(b"{}"))).unwrap(),
    }
}
