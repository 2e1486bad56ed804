//! The fault matrix: every fault a network, a proxy or a server produces,
//! against every kind of request (GET, PUT, DELETE, POST create, POST
//! action), through a local server that injects it. Each cell records what
//! reached the server, how often the client retried and how long it waited,
//! and how the call ended; the table it makes is TESTING.md's (this test
//! fails when they differ; `UPDATE_TESTING_MD=1` rewrites it).
//!
//! What every cell must show, whatever the fault:
//! - no panic;
//! - a POST is sent again only after an answer that says it was not acted
//!   on (401, 429, a 307 redirect), or when it never reached the server;
//! - an idempotent call is sent at most `max_attempts` times, and its waits
//!   fit `max_elapsed`;
//! - an error names the operation, and the request id when the server
//!   answered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openstack_backups::block_storage::Client;
use openstack_backups::block_storage::types;
use openstack_backups::retry::RetryPolicy;
use openstack_backups::{ClientConfig, Microversion};
use openstack_backups_runtime::{Secret, TokenFuture, TokenSource};
use openstack_backups_tests::NoWait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const REQUEST_ID: &str = "req-4b1c9a0e-fault";
/// The request timeout of every cell: long enough that a loaded two-core
/// machine answers every request that is not meant to time out within it.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Cells run at once. All 90 at once starve each other on two cores (a
/// cell whose server answered in time would record a timeout).
const CELLS_AT_ONCE: usize = 6;

mod self_signed;

/// A token that has expired until it is renewed (a Keystone session whose
/// token the service revoked).
#[derive(Debug, Default)]
struct Expiring(AtomicBool);

impl TokenSource for Expiring {
    fn token(&self, renew: bool) -> TokenFuture<'_> {
        if renew {
            self.0.store(true, Ordering::SeqCst);
        }
        let token = if self.0.load(Ordering::SeqCst) { "fresh-token" } else { "expired-token" };
        Box::pin(async move { Ok(Secret::new(token.to_owned())) })
    }

    fn renewable(&self) -> bool {
        true
    }
}

/// The faults, in the table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Refused,
    ResetBeforeResponse,
    ResetMidBody,
    ShortBody,
    SlowHeaders,
    TricklingBody,
    Status500,
    Status502Html,
    Status503,
    Status503RetryAfter,
    Status504,
    Status429,
    Status413Quota,
    Status413RateLimit,
    Status401Expired,
    HtmlBody200,
    Redirect307,
    WrongCertificate,
}

const FAULTS: [Fault; 18] = [
    Fault::Refused,
    Fault::ResetBeforeResponse,
    Fault::ResetMidBody,
    Fault::ShortBody,
    Fault::SlowHeaders,
    Fault::TricklingBody,
    Fault::Status500,
    Fault::Status502Html,
    Fault::Status503,
    Fault::Status503RetryAfter,
    Fault::Status504,
    Fault::Status429,
    Fault::Status413Quota,
    Fault::Status413RateLimit,
    Fault::Status401Expired,
    Fault::HtmlBody200,
    Fault::Redirect307,
    Fault::WrongCertificate,
];

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::Refused => "connection refused",
            Fault::ResetBeforeResponse => "reset before the response",
            Fault::ResetMidBody => "reset mid-body",
            Fault::ShortBody => "body short of its Content-Length",
            Fault::SlowHeaders => "headers slower than the timeout",
            Fault::TricklingBody => "body trickling past the timeout",
            Fault::Status500 => "500",
            Fault::Status502Html => "502 (proxy HTML page)",
            Fault::Status503 => "503",
            Fault::Status503RetryAfter => "503 + Retry-After: 1",
            Fault::Status504 => "504",
            Fault::Status429 => "429 + Retry-After: 1",
            Fault::Status413Quota => "413 quota (Retry-After: 0)",
            Fault::Status413RateLimit => "413 rate limit (Retry-After: 1)",
            Fault::Status401Expired => "401, token expired",
            Fault::HtmlBody200 => "200/202 with an HTML body",
            Fault::Redirect307 => "307 redirect",
            Fault::WrongCertificate => "TLS, wrong certificate",
        }
    }
}

/// The request kinds, in the table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Get,
    Put,
    Delete,
    PostCreate,
    PostAction,
}

const KINDS: [Kind; 5] = [Kind::Get, Kind::Put, Kind::Delete, Kind::PostCreate, Kind::PostAction];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Get => "GET (show)",
            Kind::Put => "PUT (update)",
            Kind::Delete => "DELETE",
            Kind::PostCreate => "POST create",
            Kind::PostAction => "POST action",
        }
    }

    fn is_post(self) -> bool {
        matches!(self, Kind::PostCreate | Kind::PostAction)
    }

    /// The server's answer when nothing goes wrong.
    fn normal(self) -> (u16, &'static str) {
        const BACKUP: &str = r#"{"backup": {"id": "b1", "name": "nightly", "links": []}}"#;
        const DETAIL: &str = r#"{"backup": {"id": "b1", "status": "available", "created_at": "2026-11-29T10:00:00.000000", "volume_id": "v1", "is_incremental": false, "has_dependent_backups": false}}"#;
        match self {
            Kind::Get => (200, DETAIL),
            Kind::Put => (200, BACKUP),
            Kind::PostCreate => (202, BACKUP),
            Kind::Delete | Kind::PostAction => (202, ""),
        }
    }
}

/// One request as the server saw it, and what it answered (0: no answer).
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    answered: u16,
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn head(status: u16, content_type: &str, length: usize, extra: &str) -> String {
    format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {length}\r\nx-openstack-request-id: {REQUEST_ID}\r\nconnection: close\r\n{extra}\r\n",
        reason(status)
    )
}

fn fault_body(status: u16, name: &str, message: &str) -> String {
    format!(r#"{{"{name}": {{"code": {status}, "message": "{message}"}}}}"#)
}

/// Reads one request (head and `Content-Length` body): its method, path and
/// token.
async fn read_request(stream: &mut TcpStream) -> Option<(String, String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let header = |name: &str| {
        text.split("\r\n")
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
            .map(str::to_owned)
    };
    let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((method, path, header("x-auth-token").unwrap_or_default()))
}

/// Closes with a TCP reset instead of a FIN.
fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// What the server answers when it does not inject the fault: the status
/// and body for a request path.
type Normal = Arc<dyn Fn(&str) -> (u16, String) + Send + Sync>;
/// Whether the server injects the fault into request number `n` (from 0)
/// for a path.
type Faulty = Arc<dyn Fn(usize, &str) -> bool + Send + Sync>;

/// A server that answers every request of `kind` with `fault`.
async fn fault_server(fault: Fault, kind: Kind, log: Log) -> String {
    let (status, body) = kind.normal();
    serve(fault, Arc::new(move |_| (status, body.to_owned())), Arc::new(|_, _| true), log).await
}

/// A server that injects `fault` where `faulty` says, and answers `normal`
/// elsewhere.
async fn serve(fault: Fault, normal: Normal, faulty: Faulty, log: Log) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let (log, normal, faulty) = (log.clone(), normal.clone(), faulty.clone());
            tokio::spawn(async move {
                let Some((method, path, token)) = read_request(&mut stream).await else { return };
                let index = {
                    let mut log = log.lock().unwrap();
                    log.push(Seen { method, answered: 0 });
                    log.len() - 1
                };
                let normal = normal(&path);
                let answered = if faulty(index, &path) {
                    answer(fault, normal, &path, &token, stream).await
                } else {
                    answer_normally(normal, stream).await
                };
                log.lock().unwrap()[index].answered = answered;
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

async fn answer_normally((status, body): (u16, String), mut stream: TcpStream) -> u16 {
    let text = format!("{}{body}", head(status, "application/json", body.len(), ""));
    let _ = stream.write_all(text.as_bytes()).await;
    let _ = stream.shutdown().await;
    status
}

/// Does `fault` to one request; returns the status answered (0: none).
async fn answer(fault: Fault, normal: (u16, String), path: &str, token: &str, mut stream: TcpStream) -> u16 {
    let json = "application/json";
    let mut send = async |status: u16, content_type: &str, body: &str, extra: &str| {
        let text = format!("{}{body}", head(status, content_type, body.len(), extra));
        let _ = stream.write_all(text.as_bytes()).await;
        let _ = stream.shutdown().await;
        status
    };
    let (normal_status, normal_body) = (normal.0, normal.1.as_str());
    match fault {
        Fault::Refused | Fault::WrongCertificate => unreachable!("no HTTP server for these"),
        Fault::ResetBeforeResponse => {
            reset(stream);
            0
        }
        Fault::ResetMidBody => {
            let body = r#"{"backup": {"id": "b1", "name": "nightly", "links": []}}"#;
            let head = head(normal_status, json, body.len(), "");
            let _ = stream.write_all(format!("{head}{}", &body[..12]).as_bytes()).await;
            let _ = stream.flush().await;
            // Time for the client to read the head (a reset discards what
            // it has not read yet), then the reset.
            tokio::time::sleep(TIMEOUT / 4).await;
            reset(stream);
            normal_status
        }
        Fault::ShortBody => {
            let body = r#"{"backup": {"id": "b1""#;
            let _ = stream.write_all(format!("{}{body}", head(normal_status, json, 100, "")).as_bytes()).await;
            let _ = stream.shutdown().await;
            normal_status
        }
        Fault::SlowHeaders => {
            tokio::time::sleep(TIMEOUT * 5).await;
            send(normal_status, json, normal_body, "").await
        }
        Fault::TricklingBody => {
            let body = r#"{"backup": {"id": "b1", "name": "nightly", "links": []}}"#;
            let _ = stream.write_all(head(normal_status, json, body.len(), "").as_bytes()).await;
            for byte in body.as_bytes() {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                let _ = stream.flush().await;
                tokio::time::sleep(TIMEOUT / 8).await;
            }
            normal_status
        }
        Fault::Status500 => send(500, json, &fault_body(500, "computeFault", "The server has either erred"), "").await,
        Fault::Status502Html => send(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>", "").await,
        Fault::Status503 => send(503, json, &fault_body(503, "serviceUnavailable", "busy"), "").await,
        Fault::Status503RetryAfter => {
            send(503, json, &fault_body(503, "serviceUnavailable", "busy"), "retry-after: 1\r\n").await
        }
        Fault::Status504 => send(504, "text/html", "<html>Gateway Timeout</html>", "").await,
        Fault::Status429 => {
            send(429, json, &fault_body(429, "overLimit", "Too many requests"), "retry-after: 1\r\n").await
        }
        Fault::Status413Quota => {
            let body = fault_body(413, "overLimit", "VolumeBackupSizeExceedsAvailableQuota");
            send(413, json, &body, "retry-after: 0\r\n").await
        }
        Fault::Status413RateLimit => {
            send(413, json, &fault_body(413, "overLimit", "This request was rate-limited."), "retry-after: 1\r\n").await
        }
        Fault::Status401Expired if token == "expired-token" => {
            send(401, json, &fault_body(401, "unauthorized", "The request you have made requires authentication."), "")
                .await
        }
        Fault::Status401Expired => send(normal_status, json, normal_body, "").await,
        Fault::HtmlBody200 => {
            send(normal_status, "text/html", "<html><body>Maintenance: back soon</body></html>", "").await
        }
        Fault::Redirect307 if !path.starts_with("/moved") => {
            send(307, json, "", &format!("location: /moved{path}\r\n")).await
        }
        Fault::Redirect307 => send(normal_status, json, normal_body, "").await,
    }
}

/// An https server whose certificate no root signs; counts handshakes.
async fn untrusted_tls_server(handshakes: Arc<Mutex<u32>>) -> String {
    let (acceptor, _) = self_signed::acceptor(&["127.0.0.1"]);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            *handshakes.lock().unwrap() += 1;
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

/// The outcome of one cell.
#[derive(Debug)]
struct Cell {
    fault: Fault,
    kind: Kind,
    seen: Vec<Seen>,
    waits: Vec<Duration>,
    handshakes: u32,
    outcome: Result<u16, openstack_backups::Error>,
}

impl Cell {
    /// The requests of the call's method the server received.
    fn sent(&self) -> usize {
        self.seen.len()
    }

    fn render(&self) -> String {
        let mut parts = Vec::new();
        if self.fault == Fault::WrongCertificate {
            let s = if self.handshakes == 1 { "" } else { "s" };
            parts.push(format!("0 sent ({} handshake{s})", self.handshakes));
        } else {
            parts.push(format!("{} sent", self.sent()));
        }
        if !self.waits.is_empty() {
            let total: Duration = self.waits.iter().sum();
            parts.push(format!("{} retries ({:.1} s)", self.waits.len(), total.as_secs_f64()));
        }
        parts.push(match &self.outcome {
            Ok(status) => format!("ok {status}"),
            Err(e) => match e.status() {
                Some(s) => format!("{:?} {}", e.kind(), s.as_u16()),
                None => format!("{:?}", e.kind()),
            },
        });
        parts.join(", ")
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy { jitter: false, ..RetryPolicy::default() }
}

async fn call(client: &Client, kind: Kind) -> Result<u16, openstack_backups::Error> {
    Ok(match kind {
        Kind::Get => client.show_backup().backup_id("b1").send().await?.status().as_u16(),
        Kind::Put => {
            let body = types::BackupUpdateRequest {
                backup: types::BackupUpdate { name: Some("renamed".to_owned()), ..Default::default() },
            };
            client.update_backup().backup_id("b1").body(body).send().await?.status().as_u16()
        }
        Kind::Delete => client.delete_backup().backup_id("b1").send().await?.status().as_u16(),
        Kind::PostCreate => {
            let backup = types::builder::BackupCreate::default().volume_id("v1").name("nightly".to_owned());
            let body = types::BackupCreateRequest { backup: backup.try_into().unwrap() };
            client.create_backup().body(body).send().await?.status().as_u16()
        }
        Kind::PostAction => client
            .reset_backup_status("b1", types::BackupResetStatus { status: types::BackupResetStatusStatus::Available })
            .await?
            .status()
            .as_u16(),
    })
}

fn operation(kind: Kind) -> &'static str {
    match kind {
        Kind::Get => "show_backup",
        Kind::Put => "update_backup",
        Kind::Delete => "delete_backup",
        Kind::PostCreate => "create_backup",
        Kind::PostAction => "reset_backup_status",
    }
}

async fn run_cell(fault: Fault, kind: Kind) -> Cell {
    let log: Log = Arc::default();
    let handshakes = Arc::new(Mutex::new(0));
    // A port bound for the whole cell but never listening: connections to
    // it are refused, and no other cell can take it meanwhile.
    let unlistened = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let base = match fault {
        Fault::Refused => {
            unlistened.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
            let port = unlistened.local_addr().unwrap().as_socket().unwrap().port();
            format!("http://127.0.0.1:{port}")
        }
        Fault::WrongCertificate => untrusted_tls_server(handshakes.clone()).await,
        _ => fault_server(fault, kind, log.clone()).await,
    };
    let clock = Arc::new(NoWait::default());
    let config = ClientConfig::new()
        .with_token_source(Arc::new(Expiring::default()))
        .with_microversion(Microversion::new(3, 71))
        .with_retry(policy())
        .with_timeout(TIMEOUT)
        .with_clock(clock.clone());
    let client = Client::new(&format!("{base}/v3/p"), config);
    let outcome = tokio::time::timeout(Duration::from_secs(60), call(&client, kind)).await.expect("the call ends");
    // Let the server record what it answered to the last request.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let seen = log.lock().unwrap().clone();
    let waits = clock.0.lock().unwrap().clone();
    let handshakes = *handshakes.lock().unwrap();
    drop(unlistened);
    Cell { fault, kind, seen, waits, handshakes, outcome }
}

/// What every cell must show, whatever the fault.
fn check_invariants(cell: &Cell) {
    let at = format!("{} × {}", cell.fault.label(), cell.kind.label());
    let policy = policy();
    if cell.kind.is_post() {
        for earlier in &cell.seen[..cell.seen.len().saturating_sub(1)] {
            assert!(
                matches!(earlier.answered, 307 | 401 | 429),
                "{at}: a POST was sent again after an answer ({}) that does not say it was not acted on: {:?}",
                earlier.answered,
                cell.seen
            );
        }
    }
    assert!(cell.sent() <= policy.max_attempts as usize, "{at}: {} sent", cell.sent());
    assert!(cell.waits.len() < policy.max_attempts as usize, "{at}: {:?}", cell.waits);
    assert!(cell.waits.iter().sum::<Duration>() <= policy.max_elapsed, "{at}: {:?}", cell.waits);
    for s in &cell.seen {
        assert_eq!(s.method, if cell.kind.is_post() { "POST" } else { &cell.seen[0].method }, "{at}");
    }
    if let Err(e) = &cell.outcome {
        let shown = e.to_string();
        assert_eq!(e.operation(), Some(operation(cell.kind)), "{at}: {shown}");
        for secret in ["expired-token", "fresh-token"] {
            assert!(!shown.contains(secret) && !format!("{e:?}").contains(secret), "{at}: the token leaked");
        }
        if e.status().is_some() {
            assert_eq!(e.request_id(), Some(REQUEST_ID), "{at}: {shown}");
        }
    }
}

fn render(cells: &[Cell]) -> String {
    let mut out = String::from("| fault |");
    for kind in KINDS {
        out.push_str(&format!(" {} |", kind.label()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(KINDS.len()));
    out.push('\n');
    for fault in FAULTS {
        out.push_str(&format!("| {} |", fault.label()));
        for kind in KINDS {
            let cell = cells.iter().find(|c| c.fault == fault && c.kind == kind).unwrap();
            out.push_str(&format!(" {} |", cell.render()));
        }
        out.push('\n');
    }
    out
}

const BEGIN: &str = "<!-- fault-matrix:begin (written by tests/tests/fault_matrix.rs) -->\n";
const END: &str = "<!-- fault-matrix:end -->";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_matrix() {
    let permits = Arc::new(tokio::sync::Semaphore::new(CELLS_AT_ONCE));
    let mut tasks = Vec::new();
    for fault in FAULTS {
        for kind in KINDS {
            let permits = permits.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.expect("the semaphore stays open");
                run_cell(fault, kind).await
            }));
        }
    }
    let mut cells = Vec::new();
    for t in tasks {
        cells.push(t.await.expect("no cell panics"));
    }
    for cell in &cells {
        check_invariants(cell);
    }
    let table = render(&cells);

    let path = openstack_backups_tests::workspace_root().join("TESTING.md");
    let doc = std::fs::read_to_string(&path).expect("TESTING.md");
    let (before, rest) = doc.split_once(BEGIN).expect("TESTING.md has the fault-matrix markers");
    let (current, after) = rest.split_once(END).expect("TESTING.md has the fault-matrix end marker");
    if current != table {
        if std::env::var_os("UPDATE_TESTING_MD").is_some() {
            std::fs::write(&path, format!("{before}{BEGIN}{table}{END}{after}")).unwrap();
        } else {
            panic!(
                "the fault matrix differs from TESTING.md (run with UPDATE_TESTING_MD=1 to rewrite it after review):\n{table}"
            );
        }
    }
}

/// A fault that passes: every call the matrix retries succeeds on its
/// second attempt when the fault hits the first one only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_on_the_first_attempt_only_is_ridden_out_by_the_retry() {
    let retried = [
        Fault::ResetBeforeResponse,
        Fault::SlowHeaders,
        Fault::Status502Html,
        Fault::Status503,
        Fault::Status503RetryAfter,
        Fault::Status504,
        Fault::Status429,
        Fault::Status413RateLimit,
    ];
    for fault in retried {
        for kind in KINDS {
            if kind.is_post() && fault != Fault::Status429 {
                continue;
            }
            let log: Log = Arc::default();
            let (status, body) = kind.normal();
            let base =
                serve(fault, Arc::new(move |_| (status, body.to_owned())), Arc::new(|n, _| n == 0), log.clone()).await;
            let clock = Arc::new(NoWait::default());
            let config = ClientConfig::new()
                .with_token("t")
                .with_microversion(Microversion::new(3, 71))
                .with_retry(policy())
                .with_timeout(TIMEOUT)
                .with_clock(clock.clone());
            let client = Client::new(&format!("{base}/v3/p"), config);
            let got = call(&client, kind).await;
            let at = format!("{} × {}", fault.label(), kind.label());
            assert_eq!(got.map_err(|e| e.to_string()), Ok(status), "{at}");
            assert_eq!(log.lock().unwrap().len(), 2, "{at}");
            assert_eq!(clock.0.lock().unwrap().len(), 1, "{at}");
        }
    }
}

/// A listing of `PAGES` pages of two backups whose page `k` meets a fault:
/// the stream yields the first `k − 1` pages' items, then the error, then
/// ends; never a silently short list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_on_page_k_yields_the_pages_before_it_then_the_error() {
    use futures_util::StreamExt;
    const PAGES: usize = 4;
    // Page i (from 0) holds b{2i+1}, b{2i+2}; it is asked for with the
    // marker of the page before.
    fn page_of(path: &str) -> usize {
        path.split_once("marker=b")
            .and_then(|(_, m)| m.split('&').next()?.parse::<usize>().ok())
            .map_or(0, |last| last / 2)
    }
    let normal: Normal = Arc::new(|path: &str| {
        let i = page_of(path);
        let ids = [2 * i + 1, 2 * i + 2];
        let items: Vec<String> =
            ids.iter().map(|n| format!(r#"{{"id": "b{n}", "name": null, "links": []}}"#)).collect();
        let links = if i + 1 < PAGES {
            format!(
                r#", "backups_links": [{{"rel": "next", "href": "http://cinder.example/v3/p/backups?limit=2&marker=b{}"}}]"#,
                ids[1]
            )
        } else {
            String::new()
        };
        (200, format!(r#"{{"backups": [{}]{links}}}"#, items.join(", ")))
    });
    let faults = [
        Fault::ResetBeforeResponse,
        Fault::ResetMidBody,
        Fault::ShortBody,
        Fault::Status500,
        Fault::Status503,
        Fault::HtmlBody200,
        Fault::TricklingBody,
    ];
    for fault in faults {
        for k in 1..=PAGES {
            let log: Log = Arc::default();
            let faulty: Faulty = Arc::new(move |_, path: &str| page_of(path) == k - 1);
            let base = serve(fault, normal.clone(), faulty, log.clone()).await;
            let config = ClientConfig::new()
                .with_token("t")
                .with_microversion(Microversion::new(3, 71))
                .with_retry(policy())
                .with_timeout(TIMEOUT)
                .with_clock(Arc::new(NoWait::default()));
            let client = Client::new(&format!("{base}/v3/p"), config);
            let results: Vec<_> = client.list_backups().limit(2u64).stream().collect().await;
            let at = format!("{} on page {k} of {PAGES}", fault.label());
            let items: Vec<String> = results.iter().filter_map(|r| r.as_ref().ok().map(|b| b.id.clone())).collect();
            let expected: Vec<String> = (1..=2 * (k - 1)).map(|n| format!("b{n}")).collect();
            assert_eq!(items, expected, "{at}");
            assert_eq!(results.len(), expected.len() + 1, "{at}: one error, then the end");
            let err = results.last().unwrap().as_ref().unwrap_err();
            assert_eq!(err.operation(), Some("list_backups"), "{at}: {err}");
        }
    }
}

/// A server that holds each request 20 ms and records the most it held
/// at once: the version document at the service root, a backup anywhere
/// else. Returns its port and the record.
async fn counting_server() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::AtomicUsize;
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let record = most.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let (now, most) = (now.clone(), most.clone());
            tokio::spawn(async move {
                while let Some((_, path, _)) = read_request(&mut stream).await {
                    let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(at_once, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    let (status, body) = if path.contains("/backups") {
                        Kind::Get.normal()
                    } else {
                        (
                            200,
                            r#"{"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0", "links": []}]}"#,
                        )
                    };
                    let head = head(status, "application/json", body.len(), "").replace("connection: close\r\n", "");
                    if stream.write_all(format!("{head}{body}").as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, record)
}

/// 60 concurrent `show_backup` calls through two clients; all must succeed.
async fn burst(a: &Client, b: &Client) {
    let calls = (0..60).map(|i| {
        let client = if i % 2 == 0 { a } else { b };
        async move { client.show_backup().backup_id("b1").send().await.map(|r| r.status().as_u16()) }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(|r| matches!(r, Ok(200))), "{results:?}");
}

/// A limit on requests in flight holds under a burst: 60 concurrent
/// calls through two clients cloned from one configuration never have
/// more than 4 requests at the server at once, and all succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_on_requests_in_flight_holds_under_a_burst() {
    let (port, most) = counting_server().await;
    let config = ClientConfig::new().with_token("t").with_microversion(Microversion::new(3, 71)).with_max_in_flight(4);
    assert_eq!(config.in_flight(), Some((4, 4)));
    let base = format!("http://127.0.0.1:{port}/v3/p");
    burst(&Client::new(&base, config.clone()), &Client::new(&base, config.clone())).await;
    assert_eq!(most.load(Ordering::SeqCst), 4, "at most 4 at the server at once, and the limit is used");
    assert_eq!(config.in_flight(), Some((4, 4)), "every place given back");
}

/// A session's `max_in_flight` is one limit shared by every client it
/// hands out (each made with its own version-document probe).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_limit_on_requests_in_flight_is_shared_by_its_clients() {
    let (port, most) = counting_server().await;
    let session = openstack_backups::Session::builder()
        .token("t", None)
        .endpoint_override("block_storage", format!("http://127.0.0.1:{port}/v3/p"))
        .max_in_flight(3)
        .build()
        .unwrap();
    let (a, b) = (session.block_storage().await.unwrap(), session.block_storage().await.unwrap());
    assert_eq!(a.microversion(), Some(Microversion::new(3, 71)), "negotiated with the server");
    burst(&a, &b).await;
    assert_eq!(most.load(Ordering::SeqCst), 3, "at most 3 at the server at once, and the limit is used");
}
