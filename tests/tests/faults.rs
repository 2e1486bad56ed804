//! What a call makes of a server that misbehaves: headers it cannot use,
//! connections that close or never answer, redirect loops, unusable URLs.
//! Every error names the operation and its path template, never the token,
//! and nothing panics.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use openstack_backups::block_storage::Client;
use openstack_backups::retry::RetryPolicy;
use openstack_backups::{ClientConfig, ErrorKind, Microversion};
use openstack_backups_tests::NoWait;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{any, method, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "gAAAAAB-faults-token";

fn config() -> ClientConfig {
    ClientConfig::new().with_token(TOKEN).with_microversion(Microversion::new(3, 71))
}

fn client(base: &str, config: ClientConfig) -> Client {
    Client::new(&format!("{base}/v3/p"), config)
}

/// A server that accepts connections and then does `what` with each.
async fn raw_server(what: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf).await;
                match what {
                    "close" => drop(stream),
                    "silent" => {
                        tokio::time::sleep(Duration::from_secs(600)).await;
                        drop(stream);
                    }
                    "half" => {
                        let _ = stream
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"back")
                            .await;
                        drop(stream);
                    }
                    _ => unreachable!(),
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn assert_names(err: &openstack_backups::Error, text: &[&str]) {
    let shown = err.to_string();
    for t in text {
        assert!(shown.contains(t), "{t:?} missing from: {shown}");
    }
    assert!(!shown.contains(TOKEN) && !format!("{err:?}").contains(TOKEN), "the token leaked: {shown}");
    assert_eq!(err.operation(), Some("show_backup"), "{shown}");
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_names_the_operation() {
    let base = raw_server("close").await;
    let c = client(&base, config().with_retry(RetryPolicy::none()));
    let err = c.show_backup().backup_id("b1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_names(&err, &["show_backup failed: the connection failed", "GET /backups/{backup_id}", "127.0.0.1"]);

    // Retried as a GET may be, and the attempts are counted.
    let clock = Arc::new(NoWait::default());
    let c = client(&base, config().with_clock(clock.clone()));
    let err = c.show_backup().backup_id("b1").send().await.unwrap_err();
    assert_names(&err, &["4 attempts"]);
    assert_eq!(clock.0.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_request_timeout() {
    let base = raw_server("silent").await;
    let c = client(&base, config().with_retry(RetryPolicy::none()).with_timeout(Duration::from_millis(300)));
    let call = c.show_backup().backup_id("b1").send();
    let err = tokio::time::timeout(Duration::from_secs(30), call).await.expect("the timeout applies").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_names(&err, &["show_backup failed: timed out (GET /backups/{backup_id}"]);
}

#[tokio::test]
async fn a_body_cut_short_names_the_operation() {
    let base = raw_server("half").await;
    let c = client(&base, config().with_retry(RetryPolicy::none()));
    let err = c.show_backup().backup_id("b1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndecodableResponse);
    assert_names(&err, &["show_backup: reading the HTTP 200 response body failed"]);
}

#[tokio::test]
async fn a_refused_connection_names_the_operation() {
    // A port nobody listens on.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let c = client(&format!("http://127.0.0.1:{port}"), config().with_retry(RetryPolicy::none()));
    let err = c.show_backup().backup_id("b1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_names(&err, &["show_backup failed: could not connect (GET /backups/{backup_id} on 127.0.0.1"]);
}

#[tokio::test]
async fn a_redirect_loop_names_the_operation() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/v3/p/backups/b1"))
        .mount(&server)
        .await;
    let c = client(&server.uri(), config().with_retry(RetryPolicy::none()));
    let err = c.show_backup().backup_id("b1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_names(&err, &["show_backup failed: too many redirects (GET /backups/{backup_id}"]);
}

#[tokio::test]
async fn an_unusable_endpoint_names_the_operation_and_sends_nothing() {
    let c = Client::new("not a url", config());
    let err = c.show_backup().backup_id("b1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string().starts_with("invalid request (nothing was sent): show_backup: the request could not be built"),
        "{err}"
    );
}

/// `Retry-After: 1e30` (and other junk) on any status: no panic; a wait
/// beyond the retry budget ends the retries with the server's answer.
#[tokio::test]
async fn retry_after_values_beyond_reason_never_panic() {
    for value in ["1e30", "-5", "NaN", "99999999999999999999999", "Thu, 01 Jan 1970 00:00:00 GMT", "soon"] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(503)
                    .insert_header("retry-after", value)
                    .set_body_json(json!({"serviceUnavailable": {"code": 503, "message": "busy"}})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(202)
                    .insert_header("retry-after", value)
                    .set_body_json(json!({"backup": {"id": "b", "name": null, "links": []}})),
            )
            .mount(&server)
            .await;
        let clock = Arc::new(NoWait::default());
        let c = client(&server.uri(), config().with_clock(clock.clone()));
        let err = c.show_backup().backup_id("b1").send().await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{value}: {err}");
        let sent = server.received_requests().await.unwrap().len();
        let waits = clock.0.lock().unwrap().clone();
        if value == "1e30" || value.starts_with("9999") {
            assert_eq!(sent, 1, "{value}: beyond the budget, no retry");
        } else {
            assert_eq!(sent, 4, "{value}: unusable values fall back to the backoff");
            assert!(waits.iter().all(|w| *w <= Duration::from_secs(20)), "{value}: {waits:?}");
        }
        let body = openstack_backups::block_storage::types::builder::BackupCreate::default().volume_id("v");
        let created = c
            .create_backup()
            .body(openstack_backups::block_storage::types::BackupCreateRequest { backup: body.try_into().unwrap() });
        assert_eq!(created.send().await.unwrap().status().as_u16(), 202, "{value}");
    }
}

/// A 413 whose fault is a quota (`Retry-After: 0`) is the answer; one with
/// a positive `Retry-After` is a rate limit and is retried.
#[tokio::test]
async fn quota_faults_are_not_retried_rate_limits_are() {
    let server = MockServer::start().await;
    let over = json!({"overLimit": {"code": 413, "message": "BackupLimitExceeded: Maximum number of backups allowed (10) exceeded", "retryAfter": "0"}});
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(413).insert_header("retry-after", "0").set_body_json(&over))
        .mount(&server)
        .await;
    let clock = Arc::new(NoWait::default());
    let c = client(&server.uri(), config().with_clock(clock.clone()));
    let err = c.delete_backup().backup_id("b1").send().await.unwrap_err();
    assert_eq!(err.fault().and_then(|f| f.name()), Some("overLimit"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "a quota fault is never retried");

    server.reset().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(413).insert_header("retry-after", "2").set_body_json(&over))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(202)).mount(&server).await;
    c.delete_backup().backup_id("b1").send().await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(*clock.0.lock().unwrap(), [Duration::from_secs(2)]);
}

/// A classifier of the user's own is asked about failures only (no
/// response, or a status other than 2xx/3xx), as `Classifier` promises: a
/// classifier that always says "retry" leaves successes and version
/// discovery's 300 alone, and is asked once per failed attempt.
#[tokio::test]
async fn a_classifier_of_ones_own_is_asked_about_failures_only() {
    use openstack_backups::retry::{Attempt, Classifier, Decision};
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    struct AlwaysRetry(Arc<AtomicU32>);
    impl Classifier for AlwaysRetry {
        fn classify(&self, _: &Attempt<'_>) -> Decision {
            self.0.fetch_add(1, Ordering::SeqCst);
            Decision::Retry
        }
    }

    let server = MockServer::start().await;
    let asked = Arc::new(AtomicU32::new(0));
    let retry = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() }.with_classifier(AlwaysRetry(asked.clone()));
    let c = client(&server.uri(), config().with_retry(retry).with_clock(Arc::new(NoWait::default())));
    for status in [202, 300] {
        server.reset().await;
        let answer = ResponseTemplate::new(status);
        if status == 202 {
            Mock::given(any()).respond_with(answer).mount(&server).await;
            c.delete_backup().backup_id("b1").send().await.unwrap();
        } else {
            Mock::given(any()).respond_with(answer.set_body_json(json!({"versions": []}))).mount(&server).await;
            c.list_api_versions().await.unwrap();
        }
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "HTTP {status} was sent again");
        assert_eq!(asked.load(Ordering::SeqCst), 0, "the classifier was asked about HTTP {status}");
    }

    server.reset().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    c.show_backup().backup_id("b1").send().await.unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(asked.load(Ordering::SeqCst), 3, "asked once per failed attempt");
}

/// A stream applies the request timeout to each page: a page that never
/// comes ends the stream with a timeout after the items already read.
#[tokio::test]
async fn a_stream_times_out_per_page() {
    let server = MockServer::start().await;
    let next = format!("{}/v3/p/backups?limit=1&marker=b1", server.uri());
    Mock::given(method("GET"))
        .and(query_param_is_missing("marker"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "backups": [{"id": "b1", "name": null, "links": []}],
            "backups_links": [{"rel": "next", "href": next}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("marker", "b1"))
        .respond_with(
            ResponseTemplate::new(200).set_delay(Duration::from_secs(30)).set_body_json(json!({"backups": []})),
        )
        .mount(&server)
        .await;
    let c = client(&server.uri(), config().with_retry(RetryPolicy::none()).with_timeout(Duration::from_secs(2)));
    let items: Vec<_> = tokio::time::timeout(Duration::from_secs(20), c.list_backups().limit(1u64).stream().collect())
        .await
        .expect("the per-page timeout applies");
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().id, "b1");
    let err = items[1].as_ref().unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().starts_with("list_backups failed: timed out (GET /backups"), "{err}");
}

/// The connect timeout of `ClientConfig` reaches the HTTP client that
/// `Client::new` builds: a listener whose accept queue is full drops the
/// SYN, so the connection never opens.
#[tokio::test]
async fn the_connect_timeout_is_the_configs() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let _listener = socket.listen(0).unwrap();
    // Fill the accept queue (nobody accepts).
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(addr)).await
        {
            fillers.push(s);
        }
    }
    let c = client(
        &format!("http://{addr}"),
        config().with_retry(RetryPolicy::none()).with_connect_timeout(Duration::from_millis(300)),
    );
    let call = c.show_backup().backup_id("b1").send();
    // Well below the 10 s default, so only the configured timeout can end it.
    let err =
        tokio::time::timeout(Duration::from_secs(5), call).await.expect("the connect timeout applies").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_names(&err, &["show_backup failed: timed out (GET /backups/{backup_id}"]);
}

/// A call that changes something says whether the server may have acted:
/// a connection closed after the request went out (it may have), a
/// connection refused (nothing reached it). A GET says neither.
#[tokio::test]
async fn a_failed_change_says_whether_the_server_may_have_acted() {
    use openstack_backups::block_storage::types;
    let body = || types::BackupCreateRequest::builder().backup(types::BackupCreate::builder().volume_id("v1"));
    let base = raw_server("close").await;
    let c = client(&base, config().with_retry(RetryPolicy::none()));
    let err = c.create_backup().body(body()).send().await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("the request may have reached the server, which may have acted on it"), "{shown}");
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let c = client(&format!("http://127.0.0.1:{gone}"), config().with_retry(RetryPolicy::none()));
    let err = c.create_backup().body(body()).send().await.unwrap_err();
    assert!(err.to_string().contains("(nothing reached the server)"), "{err}");
    let err = c.show_backup().backup_id("b1").send().await.unwrap_err();
    assert!(!err.to_string().contains("reached the server"), "{err}");
}
