//! Errors stay small whatever a server says: a megabyte in a bad value, a
//! fault message, a backup's `fail_reason` or status, Keystone's refusal, a
//! next link's marker, or thousands of resources with one name. For each,
//! the error's `Display`, `Debug`, `{:#?}`, its payload's `Debug` and every
//! error of its source chain stay under a few kilobytes.

use std::error::Error as _;

use openstack_backups::block_storage::{Client, types};
use openstack_backups::wait::Waiter;
use openstack_backups::{ClientConfig, Error, Microversion};
use openstack_backups_tests::proptest_cases;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The most bytes any rendering of an error may take. Clipped fields keep
/// 1,000 characters, which `Debug` escapes (`\u{0}` is six bytes).
const MOST: usize = 8_000;

/// Every rendering of `e` and of its payload and source chain.
fn renderings(e: &Error) -> Vec<(String, usize)> {
    let mut out = vec![
        ("Display".to_owned(), e.to_string().len()),
        ("Debug".to_owned(), format!("{e:?}").len()),
        ("Debug {:#?}".to_owned(), format!("{e:#?}").len()),
    ];
    let payload = match e {
        Error::InvalidResponsePayload(p) => Some(format!("{p:?}")),
        Error::Wait(w) => Some(format!("{w:?}")),
        Error::Find(f) => Some(format!("{f:?}")),
        Error::Paging(p) => Some(format!("{p:?}")),
        Error::Authentication(a) => Some(format!("{a:?}")),
        Error::UnexpectedResponse(u) => Some(format!("{u:?}")),
        _ => None,
    };
    if let Some(p) = payload {
        out.push(("payload Debug".to_owned(), p.len()));
    }
    let mut source = e.source();
    let mut depth = 0;
    while let Some(s) = source {
        depth += 1;
        out.push((format!("source {depth} Display"), s.to_string().len()));
        out.push((format!("source {depth} Debug"), format!("{s:?}").len()));
        source = s.source();
    }
    out
}

fn assert_small(what: &str, e: &Error) {
    for (how, len) in renderings(e) {
        assert!(
            len < MOST,
            "{what}: the error's {how} is {len} bytes: {}",
            e.to_string().chars().take(300).collect::<String>()
        );
    }
}

/// A huge server text: `n` characters of one kind (plain, multibyte,
/// quotes and control characters that `Debug` escapes).
fn huge() -> impl Strategy<Value = String> {
    (prop::sample::select(vec![20_000usize, 200_000, 1_000_000]), prop::sample::select(vec!["x", "é", "\"", "\u{0}"]))
        .prop_map(|(n, c)| c.repeat(n))
}

fn client(server: &MockServer) -> Client {
    Client::new(
        &format!("{}/v3/p", server.uri()),
        ClientConfig::new()
            .with_token("t")
            .with_microversion(Microversion::new(3, 71))
            .with_retry(openstack_backups::retry::RetryPolicy::none()),
    )
}

fn backup(id: &str, name: &str, status: &str, reason: Option<&str>) -> serde_json::Value {
    json!({"id": id, "name": name, "status": status, "volume_id": "v1", "size": 1, "fail_reason": reason,
        "created_at": "2026-01-01T00:00:00.000000", "availability_zone": "nova", "is_incremental": false,
        "has_dependent_backups": false, "object_count": 0, "container": null, "description": null,
        "links": [], "metadata": {}, "data_timestamp": "2026-01-01T00:00:00.000000", "snapshot_id": null,
        "updated_at": null, "encryption_key_id": null})
}

#[tokio::test]
async fn errors_stay_small_whatever_the_server_says() {
    let mut runner =
        TestRunner::new(Config { cases: proptest_cases(6), failure_persistence: None, ..Config::default() });
    let server = MockServer::start().await;
    let c = client(&server);
    for _ in 0..runner.config().cases {
        let text = huge().new_tree(&mut runner).unwrap().current();
        let json_text = serde_json::to_string(&text).unwrap();

        // A bad value: a huge string where a number belongs.
        server.reset().await;
        let body = format!("{{\"backup\": {{\"id\": \"b1\", \"size\": {json_text}}}}}");
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
        let e = c.show_backup().backup_id("b1").send().await.unwrap_err();
        assert_small("an undecodable body", &e);

        // A fault whose message is huge.
        server.reset().await;
        let fault = json!({"itemNotFound": {"code": 404, "message": text}});
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(404).set_body_json(&fault)).mount(&server).await;
        let e = c.show_backup().backup_id("b1").send().await.unwrap_err();
        assert_small("a fault message", &e);

        // A backup that failed with a huge reason, and one whose status is huge.
        server.reset().await;
        let failed = json!({"backup": backup("b1", "n", "error", Some(&text))});
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(&failed)).mount(&server).await;
        let e = c.wait_for_backup("b1", types::BackupStatus::Available).await.unwrap_err();
        assert_small("a fail_reason", &e);
        server.reset().await;
        let odd = json!({"backup": backup("b1", "n", &text, None)});
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(&odd)).mount(&server).await;
        let waiter = Waiter::new()
            .timeout(std::time::Duration::from_millis(30))
            .delays(std::time::Duration::from_millis(10), std::time::Duration::from_millis(10));
        let e = c.wait_for_backup("b1", types::BackupStatus::Available).with(&waiter).await.unwrap_err();
        assert_small("an unknown status", &e);

        // A next link whose huge marker comes back.
        server.reset().await;
        let href = format!("{}/v3/p/backups/detail?marker={}", server.uri(), "m".repeat(text.len().min(200_000)));
        let page = json!({"backups": [backup("b1", "n", "available", None)], "backups_links": [{"rel": "next", "href": href}]});
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(&page)).mount(&server).await;
        let e = c.list_backups_detail().all().await.unwrap_err();
        assert_small("a marker that comes back", &e);

        // An unexpected status with a huge request id.
        server.reset().await;
        let request_id: String = text.chars().filter(char::is_ascii_alphanumeric).take(4_000).collect();
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(302).insert_header("x-openstack-request-id", request_id.as_str()))
            .mount(&server)
            .await;
        if let Err(e) = c.show_backup().backup_id("b1").send().await {
            assert_small("an unexpected response", &e);
        }
    }
}

/// Thousands of backups with one name: the finder's error keeps 20 ids
/// and their number.
#[tokio::test]
async fn an_ambiguous_name_keeps_twenty_ids() {
    let server = MockServer::start().await;
    let c = client(&server);
    Mock::given(method("GET"))
        .and(path("/v3/p/backups/same"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"itemNotFound": {"code": 404, "message": "no"}})))
        .mount(&server)
        .await;
    let many: Vec<serde_json::Value> =
        (0..5_000).map(|i| backup(&format!("b{i:05}"), "same", "available", None)).collect();
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"backups": many})))
        .mount(&server)
        .await;
    let e = c.find_backup("same").await.unwrap_err();
    assert_small("5,000 backups named alike", &e);
    match e.find_error() {
        Some(openstack_backups::FindError::Ambiguous { ids, count, .. }) => {
            assert_eq!((ids.len(), *count), (20, 5_000));
            assert!(e.to_string().contains("and 4980 more"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

/// Keystone refusing with a megabyte of message.
#[tokio::test]
async fn a_keystone_refusal_stays_small() {
    use openstack_backups::auth::{AuthMethod, Domain, Project, Scope, User};
    let server = MockServer::start().await;
    let message = "k".repeat(1_000_000);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"code": 401, "title": "Unauthorized", "message": message}})),
        )
        .mount(&server)
        .await;
    let session = openstack_backups::Session::builder()
        .auth_url(server.uri())
        .auth(AuthMethod::Password {
            user: User::Name { name: "u".into(), domain: Domain::Name("Default".into()) },
            password: openstack_backups::Secret::new("p"),
        })
        .scope(Scope::Project(Project::Name { name: "p".into(), domain: Domain::Id("default".into()) }))
        .retry(openstack_backups::retry::RetryPolicy::none())
        .build()
        .unwrap();
    let e = session.block_storage().await.unwrap_err();
    assert_small("Keystone's refusal", &e);
}
