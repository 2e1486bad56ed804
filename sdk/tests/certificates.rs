//! TLS with the `native-tls` feature (OpenSSL on Linux), as with rustls:
//! a certificate the client refuses ends the call at once (the fault
//! matrix's `TLS, wrong certificate` row, which runs with the default
//! features): one attempt, no retry, an error that says the connection
//! failed. `cacert` adds a root and `verify: false` accepts any
//! certificate. A TLS failure that is not about the certificate (a server
//! that does not speak TLS) is retried like a connect failure.
//!
//! Built only without rustls: `cargo test -p openstack-backups
//! --no-default-features --features native-tls --test certificates`,
//! which `cargo xtask test` runs after the workspace.
#![cfg(all(feature = "native-tls", not(feature = "rustls")))]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use openstack_backups::block_storage::Client;
use openstack_backups::retry::RetryPolicy;
use openstack_backups::{ClientConfig, ErrorKind, Microversion, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An https server on loopback whose self-signed certificate (made for the
/// run) no root signs; served with rustls (the server's TLS library does
/// not matter to the client under test). It counts the connections, one
/// per attempt, and answers each request with an empty backup list.
/// Returns its URL and its certificate's PEM.
async fn https_server(connections: Arc<AtomicU32>) -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("a certificate");
    let pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .expect("a server configuration");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            connections.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else { return };
                // One request per connection; its head is all the client sends.
                let mut buf = [0u8; 8192];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"backups": []}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://127.0.0.1:{port}"), pem)
}

fn client(base: &str, retry: RetryPolicy) -> Client {
    Client::new(
        &format!("{base}/v3/p"),
        ClientConfig::new().with_token("t").with_microversion(Microversion::new(3, 71)).with_retry(retry),
    )
}

#[tokio::test]
async fn a_refused_certificate_is_not_retried_with_native_tls() {
    let connections = Arc::new(AtomicU32::new(0));
    let (base, _) = https_server(connections.clone()).await;
    // The default retry policy: four attempts for a connect failure.
    let client = client(&base, RetryPolicy::default());
    let started = std::time::Instant::now();
    let err = client.show_backup().backup_id("b1").send().await.expect_err("the certificate is refused");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "one attempt, no retry: {err}");
    assert!(!err.to_string().contains("attempts"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "no backoff: {:?}", started.elapsed());
}

/// `cacert` and `verify: false` reach OpenSSL: the same server's
/// certificate is trusted through each, and the call is answered.
#[tokio::test]
async fn cacert_and_insecure_are_honoured_with_native_tls() {
    let (base, pem) = https_server(Arc::new(AtomicU32::new(0))).await;
    let dir = std::env::temp_dir().join(format!("openstack-backups-certificates-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let cacert = dir.join("ca.pem");
    std::fs::write(&cacert, &pem).expect("the PEM written");
    let sessions =
        [("cacert", Session::builder().cacert(&cacert)), ("verify: false", Session::builder().insecure(true))];
    for (how, builder) in sessions {
        let session = builder
            .token("t", Some("p".into()))
            .endpoint_override("database", format!("{base}/v1.0/%(project_id)s"))
            .retry(RetryPolicy::none())
            .build()
            .expect("a session");
        let page = session.database().await.expect("a client").list_database_backups().send().await;
        assert!(page.is_ok(), "{how}: {:?}", page.err());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TLS failure that is not the certificate's (the server answers the
/// handshake in plain HTTP: OpenSSL's "wrong version number", of the same
/// SSL library as a refused certificate) is retried like a connect
/// failure: every attempt made, and the error counts them.
#[tokio::test]
async fn a_tls_failure_that_is_not_the_certificate_is_retried() {
    let connections = Arc::new(AtomicU32::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let counted = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
            });
        }
    });
    let retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        jitter: false,
        ..RetryPolicy::default()
    };
    let client = client(&format!("https://127.0.0.1:{port}"), retry);
    let err = client.show_backup().backup_id("b1").send().await.expect_err("no TLS at the server");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(connections.load(Ordering::SeqCst), 3, "every attempt made: {err}");
    assert!(err.to_string().contains("3 attempts"), "{err}");
}
