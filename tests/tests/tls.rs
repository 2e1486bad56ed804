//! TLS costs nothing until it is used: building clients and talking to
//! `http://` endpoints reads no certificate; the first `https://` handshake
//! reads the system's roots once for the process (once more per `cacert`
//! bundle). Certificates are checked, `cacert` adds roots, `verify: false`
//! (insecure) accepts any. One test in its own process: it counts the
//! process's root-certificate loads.

use openstack_backups::block_storage::Client;
use openstack_backups::retry::RetryPolicy;
use openstack_backups::{ClientConfig, ErrorKind, Session};
use openstack_backups_runtime::system_root_loads;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

mod self_signed;

/// An https server on 127.0.0.1 with a self-signed certificate for
/// `127.0.0.1` and `localhost`, answering every request with an empty
/// backup list. Returns its URL and the certificate's PEM.
async fn https_server() -> (String, String) {
    let (acceptor, pem) = self_signed::acceptor(&["127.0.0.1", "localhost"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let service = hyper::service::service_fn(|_req| async {
                    let body = http_body_util::Full::new(bytes::Bytes::from_static(br#"{"backups": []}"#));
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder().header("content-type", "application/json").body(body).unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (format!("https://127.0.0.1:{port}"), pem)
}

fn config() -> ClientConfig {
    ClientConfig::new().with_token("t").with_retry(RetryPolicy::none())
}

#[tokio::test]
async fn tls_is_loaded_on_the_first_https_handshake_only() {
    assert_eq!(system_root_loads(), 0);

    // http: clients, a session, calls; no certificate is read.
    let plain = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"backups": []})))
        .mount(&plain)
        .await;
    Client::new(&format!("{}/v3", plain.uri()), config()).list_backups().send().await.unwrap();
    let session = Session::builder()
        .token("t", Some("p".into()))
        .endpoint_override("block_storage", format!("{}/v3/%(project_id)s", plain.uri()))
        .build()
        .unwrap();
    let endpoint = session.endpoint("block_storage", &[]).await.unwrap();
    Client::new(&endpoint, config()).list_backups().send().await.unwrap();
    assert_eq!(system_root_loads(), 0, "no https, no certificates read");

    // https with the system's roots: the self-signed certificate is refused,
    // and the roots were read once, for every client of the process.
    let (https, pem) = https_server().await;
    for _ in 0..2 {
        let err = Client::new(&format!("{https}/v3"), config()).list_backups().send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
        assert!(err.to_string().starts_with("list_backups failed:"), "{err}");
        assert!(format!("{err:?}").contains("UnknownIssuer") || err.to_string().contains("certificate"), "{err}");
    }
    assert_eq!(system_root_loads(), 1, "the system's roots are read once per process");

    // `cacert` adds the server's certificate as a root.
    let dir = std::env::temp_dir().join(format!("openstack-backups-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cacert = dir.join("ca.pem");
    std::fs::write(&cacert, &pem).unwrap();
    let trusted = Session::builder()
        .token("t", Some("p".into()))
        .endpoint_override("database", format!("{https}/v1.0/%(project_id)s"))
        .cacert(&cacert)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    trusted.database().await.unwrap().list_database_backups().send().await.unwrap();
    assert_eq!(system_root_loads(), 2, "one more load, for the cacert bundle's verifier");

    // `verify: false` accepts the certificate without reading any root.
    let insecure = Session::builder()
        .token("t", Some("p".into()))
        .endpoint_override("database", format!("{https}/v1.0/%(project_id)s"))
        .insecure(true)
        .build()
        .unwrap();
    insecure.database().await.unwrap().list_database_backups().send().await.unwrap();
    assert_eq!(system_root_loads(), 2);

    // A cacert that holds no certificate fails the session's build, naming the file.
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = Session::builder().token("t", None).cacert(&junk).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("junk.pem"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
