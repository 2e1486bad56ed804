//! A certificate the client refuses ends the call at once with the
//! `native-tls` feature too, as with rustls (the fault matrix's `TLS,
//! wrong certificate` row, which runs with the default features): one
//! handshake, no retry, an error that says the connection failed.
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
/// signs; counts the handshakes begun.
async fn untrusted_server(handshakes: Arc<AtomicU32>) -> String {
    let key = rcgen::KeyPair::generate().expect("a key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("parameters");
    let cert = params.self_signed(&key).expect("a certificate");
    let identity =
        tokio_native_tls::native_tls::Identity::from_pkcs8(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
            .expect("an identity");
    let acceptor = tokio_native_tls::TlsAcceptor::from(
        tokio_native_tls::native_tls::TlsAcceptor::new(identity).expect("an acceptor"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            handshakes.fetch_add(1, Ordering::SeqCst);
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
    let handshakes = Arc::new(AtomicU32::new(0));
    let base = untrusted_server(handshakes.clone()).await;
    // The default retry policy: four attempts for a connect failure.
    let client = Client::new(
        &format!("{base}/v3/p"),
        ClientConfig::new().with_token("t").with_microversion(Microversion::new(3, 71)),
    );
    let started = std::time::Instant::now();
    let err = client.show_backup().backup_id("b1").send().await.expect_err("the certificate is refused");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 1, "one handshake, no retry: {err}");
    assert!(!err.to_string().contains("attempts"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "no backoff: {:?}", started.elapsed());
}
