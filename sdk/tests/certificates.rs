//! A certificate the client refuses ends the call at once with the
//! `native-tls` feature too, as with rustls (the fault matrix's `TLS,
//! wrong certificate` row, which runs with the default features): one
//! attempt, no retry, an error that says the connection failed.
//!
//! Built only without rustls: `cargo test -p openstack-backups
//! --no-default-features --features native-tls --test certificates`,
//! which `cargo xtask test` runs after the workspace.
#![cfg(all(feature = "native-tls", not(feature = "rustls")))]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use openstack_backups::block_storage::Client;
use openstack_backups::{ClientConfig, ErrorKind, Microversion};
use tokio::net::TcpListener;

/// An https server on loopback whose self-signed certificate no root
/// signs (made for the run; served with rustls: the server's TLS library
/// does not matter to the client under test); counts the connections,
/// one per attempt.
async fn untrusted_server(connections: Arc<AtomicU32>) -> String {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("a certificate");
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
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

#[tokio::test]
async fn a_refused_certificate_is_not_retried_with_native_tls() {
    let connections = Arc::new(AtomicU32::new(0));
    let base = untrusted_server(connections.clone()).await;
    // The default retry policy: four attempts for a connect failure.
    let client = Client::new(
        &format!("{base}/v3/p"),
        ClientConfig::new().with_token("t").with_microversion(Microversion::new(3, 71)),
    );
    let started = std::time::Instant::now();
    let err = client.show_backup().backup_id("b1").send().await.expect_err("the certificate is refused");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "one attempt, no retry: {err}");
    assert!(!err.to_string().contains("attempts"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "no backoff: {:?}", started.elapsed());
}
