//! Tokens and passwords stay out of the `tracing` output.
//!
//! In a process of its own: `tracing` caches per call site whether anyone
//! listens, and a call site first reached by a concurrent test on another
//! thread (with no subscriber there) could stay silent for this test's
//! thread-local subscriber.

use std::sync::{Arc, Mutex};

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

mod mock_cloud;

use mock_cloud::*;

/// Tokens and passwords stay out of the `tracing` output too.
#[tokio::test]
async fn secrets_stay_out_of_logs() {
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || SharedWriter(writer.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    let clock = FakeClock::at(t0());
    keystone(&server, chrono::Duration::hours(1), clock.clone()).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"backups": []})))
        .mount(&server)
        .await;
    let cinder = password_session(&server, clock).block_storage().await.unwrap();
    cinder.list_backups().send().await.unwrap();

    let logs = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("openstack_request") && logs.contains("list_backups"), "spans are recorded: {logs}");
    assert!(!logs.contains(PASSWORD) && !logs.contains("tok-1"), "{logs}");
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
