//! A small Cinder for backup-policy runs on 127.0.0.1: N volumes (all
//! `available`, tagged `backup: bench`), backups that take a set time each
//! (`creating` until then, `available` after), and the calls a policy run
//! makes: the version document, volume and backup lists (newest first,
//! `limit` and `marker`), backup create and show, limits, an empty snapshot
//! list. `GET /stats` tells the requests by kind, each backup's duration in
//! the order they were made, and the lag of each backup: the time from its
//! becoming `available` to the first response that showed it so.
//!
//! `bench-cloud <volumes> <backup ms> [jitter %]`: backup k takes the
//! given time times a factor in [1 - jitter, 1 + jitter] (a low-discrepancy
//! sequence, the same every run). Prints its port, then serves until stdin
//! closes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

struct Backup {
    id: String,
    volume_id: String,
    name: String,
    metadata: Value,
    created: SystemTime,
    ready: Instant,
    seen: bool,
}

#[derive(Default)]
struct State {
    backups: Vec<Backup>,
    requests: BTreeMap<&'static str, u64>,
    durations_ms: Vec<f64>,
    lags_ms: Vec<f64>,
}

struct Cloud {
    volumes: usize,
    backup: Duration,
    jitter: f64,
    root: String,
    state: Mutex<State>,
}

fn stamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let at = chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos()).unwrap_or_default();
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn volume_id(i: usize) -> String {
    format!("5f0c1f4e-7a3b-4c2d-9e8f-{i:012}")
}

fn query<'a>(query: Option<&'a str>, key: &str) -> Option<&'a str> {
    query?.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

impl Cloud {
    fn volume(&self, i: usize) -> Value {
        let id = volume_id(i);
        json!({"id": id, "name": format!("vol-{i:06}"), "status": "available", "size": 1 + i % 20,
            "availability_zone": "nova", "created_at": "2026-11-01T00:00:00.000000", "updated_at": null,
            "description": null, "volume_type": "__DEFAULT__", "snapshot_id": null, "source_volid": null,
            "metadata": {"backup": "bench"}, "links": [], "user_id": "u", "bootable": "false",
            "encrypted": false, "multiattach": false, "attachments": [], "replication_status": null,
            "consistencygroup_id": null})
    }

    fn backup(b: &Backup, now: Instant) -> Value {
        let done = now >= b.ready;
        json!({"id": b.id, "name": b.name, "status": if done { "available" } else { "creating" },
            "volume_id": b.volume_id, "created_at": stamp(b.created), "data_timestamp": stamp(b.created),
            "updated_at": null, "is_incremental": false, "has_dependent_backups": false, "size": 1,
            "object_count": 0, "availability_zone": "nova", "container": null, "description": null,
            "fail_reason": null, "snapshot_id": null, "links": [], "metadata": b.metadata})
    }

    /// Records the lag of every backup `shown` that is available and shown
    /// so for the first time.
    fn shown(state: &mut State, index: usize, now: Instant) {
        let b = &mut state.backups[index];
        if !b.seen && now >= b.ready {
            b.seen = true;
            let lag = (now - b.ready).as_secs_f64() * 1000.0;
            state.lags_ms.push(lag);
        }
    }

    fn answer(&self, method: &Method, path: &str, q: Option<&str>, body: &[u8]) -> (u16, Value) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap();
        let kind = match (method, path) {
            (&Method::GET, "/stats") => {
                return (
                    200,
                    json!({"requests": state.requests, "durations_ms": state.durations_ms, "lags_ms": state.lags_ms}),
                );
            }
            (&Method::GET, "/" | "/v3/") => "version",
            (&Method::GET, "/v3/p/volumes/detail") => "list volumes",
            (&Method::GET, "/v3/p/backups/detail") => "list backups",
            (&Method::POST, "/v3/p/backups") => "create backup",
            (&Method::GET, p) if p.starts_with("/v3/p/backups/") => "show backup",
            (&Method::GET, "/v3/p/limits") => "limits",
            (&Method::GET, "/v3/p/snapshots/detail") => "list snapshots",
            _ => "other",
        };
        *state.requests.entry(kind).or_default() += 1;
        match kind {
            // `GET /` lists the versions with 300, `GET /v3/` with 200.
            "version" => (
                if path == "/" { 300 } else { 200 },
                json!({"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0",
                    "updated": "2023-08-31T00:00:00Z", "links": [{"rel": "self", "href": format!("{}/v3/", self.root)}],
                    "media-types": []}]}),
            ),
            "list volumes" => {
                let start = query(q, "marker")
                    .and_then(|m| (0..self.volumes).find(|i| volume_id(*i) == m).map(|i| i + 1))
                    .unwrap_or(0);
                let end = (start + 1000).min(self.volumes);
                let items: Vec<Value> = (start..end).map(|i| self.volume(i)).collect();
                let mut page = json!({"volumes": items});
                if end - start == 1000 {
                    page["volumes_links"] = json!([{"rel": "next",
                        "href": format!("{}/v3/p/volumes/detail?marker={}", self.root, volume_id(end - 1))}]);
                }
                (200, page)
            }
            "list backups" => {
                // Newest first.
                let limit = query(q, "limit").and_then(|l| l.parse().ok()).unwrap_or(1000usize).min(1000);
                let order: Vec<usize> = (0..state.backups.len()).rev().collect();
                let start = query(q, "marker")
                    .and_then(|m| order.iter().position(|i| state.backups[*i].id == m).map(|p| p + 1))
                    .unwrap_or(0);
                let end = (start + limit).min(order.len());
                let mut items = Vec::new();
                for i in &order[start..end] {
                    Self::shown(&mut state, *i, now);
                    items.push(Self::backup(&state.backups[*i], now));
                }
                let mut page = json!({"backups": items});
                if end - start == limit && end > start {
                    let last = &state.backups[order[end - 1]].id;
                    page["backups_links"] = json!([{"rel": "next",
                        "href": format!("{}/v3/p/backups/detail?limit={limit}&marker={last}", self.root)}]);
                }
                (200, page)
            }
            "create backup" => {
                let request: Value = serde_json::from_slice(body).unwrap_or_default();
                let k = state.backups.len();
                // A low-discrepancy factor in [1 - jitter, 1 + jitter].
                let spread = ((k as f64) * 0.618_033_988_749_895).fract() * 2.0 - 1.0;
                let took = self.backup.mul_f64(1.0 + self.jitter * spread);
                state.durations_ms.push(took.as_secs_f64() * 1000.0);
                let id = format!("b0c1d2e3-0000-4000-8000-{k:012}");
                let name = request["backup"]["name"].as_str().unwrap_or("").to_owned();
                state.backups.push(Backup {
                    id: id.clone(),
                    volume_id: request["backup"]["volume_id"].as_str().unwrap_or("").to_owned(),
                    name: name.clone(),
                    metadata: request["backup"]["metadata"].clone(),
                    created: SystemTime::now(),
                    ready: now + took,
                    seen: false,
                });
                (202, json!({"backup": {"id": id, "name": name, "links": []}}))
            }
            "show backup" => {
                let id = path.trim_start_matches("/v3/p/backups/");
                match state.backups.iter().position(|b| b.id == id) {
                    Some(i) => {
                        Self::shown(&mut state, i, now);
                        (200, json!({"backup": Self::backup(&state.backups[i], now)}))
                    }
                    None => (404, json!({"itemNotFound": {"code": 404, "message": "no such backup"}})),
                }
            }
            "limits" => (
                200,
                json!({"limits": {"rate": [], "absolute": {"maxTotalBackups": -1,
                "maxTotalBackupGigabytes": -1, "totalBackupsUsed": 0, "totalBackupGigabytesUsed": 0}}}),
            ),
            "list snapshots" => (200, json!({"snapshots": []})),
            _ => (404, json!({"itemNotFound": {"code": 404, "message": "not here"}})),
        }
    }
}

fn main() {
    use std::io::Write as _;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<f64>().ok());
    let (Some(volumes), Some(ms)) = (number(0), number(1)) else {
        eprintln!("usage: bench-cloud <volumes> <backup ms> [jitter %]");
        std::process::exit(2);
    };
    let jitter = number(2).unwrap_or(0.0) / 100.0;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cloud = Arc::new(Cloud {
            volumes: volumes as usize,
            backup: Duration::from_secs_f64(ms / 1000.0),
            jitter,
            root: format!("http://127.0.0.1:{port}"),
            state: Mutex::new(State::default()),
        });
        println!("{port}");
        std::io::stdout().flush().unwrap();
        std::thread::spawn(|| {
            let _ = std::io::Read::read(&mut std::io::stdin(), &mut [0u8; 1]);
            std::process::exit(0);
        });
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let cloud = cloud.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let cloud = cloud.clone();
                    async move {
                        let method = req.method().clone();
                        let path = req.uri().path().to_owned();
                        let query = req.uri().query().map(str::to_owned);
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let (status, value) = cloud.answer(&method, &path, query.as_deref(), &body);
                        Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .header("x-openstack-request-id", "req-bench")
                                .header("openstack-api-version", "volume 3.71")
                                .body(Full::new(Bytes::from(value.to_string())))
                                .unwrap(),
                        )
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}
