//! What `osbackup` sends for python-openstackclient's (and
//! python-troveclient's) options that the test servers cannot take for real
//! (an image service, a consistency group, a backup in Trove's fake mode),
//! against a mock: the request bodies and query strings, and what is
//! refused before sending.

use std::process::{Command, Output};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PROJECT: &str = "6b2c0f4e9a1d4c3b8e7f0a1b2c3d4e5f";

async fn cloud() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"versions": [{"id": "v3.0",
            "status": "CURRENT", "version": "3.71", "min_version": "3.0", "updated": "2023-08-31T00:00:00Z",
            "links": [], "media-types": []}]})))
        .mount(&server)
        .await;
    server
}

fn osbackup(server: &MockServer, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_osbackup"))
        .args(args)
        .env_remove("OS_CLOUD")
        .env("OS_AUTH_TYPE", "admin_token")
        .env("OS_TOKEN", "tok")
        .env("OS_PROJECT_ID", PROJECT)
        .env("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", format!("{}/v3/%(project_id)s", server.uri()))
        .env("OS_DATABASE_ENDPOINT_OVERRIDE", format!("{}/v1.0/%(project_id)s", server.uri()))
        .output()
        .unwrap()
}

async fn sent(server: &MockServer, m: &str, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == m && r.url.path() == p)
        .collect()
}

#[tokio::test]
async fn volume_create_sends_image_group_and_scheduler_hints_as_osc_does() {
    let server = cloud().await;
    let volume = json!({"volume": {"id": "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11", "status": "creating", "size": 1}});
    Mock::given(method("POST"))
        .and(path(format!("/v3/{PROJECT}/volumes")))
        .respond_with(ResponseTemplate::new(202).set_body_json(volume))
        .mount(&server)
        .await;
    let out = osbackup(
        &server,
        &[
            "volume",
            "create",
            "--image",
            "img-1",
            "--consistency-group",
            "cg-1",
            "--hint",
            "same_host=a",
            "--hint",
            "same_host=b",
            "--hint",
            "query=x",
            "--hint",
            "query=y",
            "--non-bootable",
            "--read-write",
            "-f",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let requests = sent(&server, "POST", &format!("/v3/{PROJECT}/volumes")).await;
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({"volume": {"imageRef": "img-1", "consistencygroup_id": "cg-1"},
               "OS-SCH-HNT:scheduler_hints": {"same_host": ["a", "b"], "query": "y"}}),
        "no name: an unnamed volume, as OSC makes one"
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["status"], "creating");
    assert_eq!(shown["bootable"], Value::Null, "OSC's fields, null where Cinder sent nothing");
}

#[tokio::test]
async fn volume_list_filters_by_property_and_delete_cascades() {
    let server = cloud().await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/volumes/detail")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"volumes": [
            {"id": "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11", "name": "db", "status": "available", "size": 1}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/volumes/9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"volume":
            {"id": "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11", "name": "db", "status": "available", "size": 1}})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v3/{PROJECT}/volumes/9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11")))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let out = osbackup(
        &server,
        &[
            "volume",
            "list",
            "--property",
            "tier=gold",
            "--property",
            "app=db",
            "--project-domain",
            "Default",
            "-f",
            "value",
            "-c",
            "Name",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "db\n");
    let listed = sent(&server, "GET", &format!("/v3/{PROJECT}/volumes/detail")).await;
    let metadata: Vec<String> =
        listed[0].url.query_pairs().filter(|(k, _)| k == "metadata").map(|(_, v)| v.into_owned()).collect();
    assert_eq!(metadata, [r#"{"app":"db","tier":"gold"}"#], "a Python dict literal");

    for flag in ["--cascade", "--purge"] {
        let out = osbackup(&server, &["volume", "delete", "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11", flag]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let deleted = sent(&server, "DELETE", &format!("/v3/{PROJECT}/volumes/9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11")).await;
    assert_eq!(deleted.len(), 2);
    assert!(
        deleted.iter().all(|r| r.url.query() == Some("cascade=true")),
        "{:?}",
        deleted.iter().map(|r| r.url.query()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn database_backup_create_takes_troveclients_options() {
    let server = cloud().await;
    let backup = json!({"backup": {"id": "b7d0a5c2-4a8f-4bd8-9d3b-0e1c2f3a4b5c", "name": "imported", "status": "NEW",
        "created": "2026-12-03T10:00:00", "updated": "2026-12-03T10:00:00", "instance_id": null, "parent_id": null}});
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{PROJECT}/backups")))
        .respond_with(ResponseTemplate::new(202).set_body_json(backup))
        .mount(&server)
        .await;
    let out = osbackup(
        &server,
        &[
            "database",
            "backup",
            "create",
            "imported",
            "--swift-container",
            "nightly",
            "--storage-driver",
            "swift",
            "--restore-from",
            "https://swift.example/v1/AUTH_x/c/b.xbstream",
            "--restore-datastore-version",
            "dsv-1",
            "--restore-size",
            "2.5",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let requests = sent(&server, "POST", &format!("/v1.0/{PROJECT}/backups")).await;
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({"backup": {"name": "imported", "swift_container": "nightly", "storage_driver": "swift",
            "restore_from": {"remote_location": "https://swift.example/v1/AUTH_x/c/b.xbstream",
                             "local_datastore_version_id": "dsv-1", "size": 2.5}}})
    );
    // The three --restore-* options go together (a usage error before any request).
    let out = osbackup(&server, &["database", "backup", "create", "x", "--restore-from", "https://swift.example/b"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // Optional, as in troveclient; Trove needs a container, said before sending.
    let out = osbackup(&server, &["database", "backup", "strategy", "create"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --swift-container"));
    assert_eq!(sent(&server, "POST", &format!("/v1.0/{PROJECT}/backup_strategies")).await.len(), 0);
}
