//! The generated typed mocks (the `mock` feature) against the generated
//! clients: each mock matches the request its operation's call sends, and
//! only that (path parameters, query, exact body, action key, microversion,
//! the more specific route of the same method left alone), and answers in
//! the types the client reads: success bodies, faults, the microversion
//! header, and next links a paged stream follows.

use futures_util::TryStreamExt;
use openstack_backups::block_storage::{Client, mock, types};
use openstack_backups::mock::MockServer;
use openstack_backups::retry::RetryPolicy;
use openstack_backups::{ClientConfig, Microversion};
use serde_json::{Value, json};

fn sample<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = openstack_backups_tests::workspace_root().join("spec/examples").join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn cinder(server: &MockServer, version: Microversion) -> Client {
    let config = ClientConfig::new().with_token("t").with_microversion(version).with_retry(RetryPolicy::none());
    Client::new(&format!("{}/v3/p1", server.uri()), config)
}

fn summary(id: &str) -> Value {
    json!({"id": id, "name": format!("n-{id}"), "links": []})
}

fn detail(id: &str) -> types::Backup {
    let mut shown: Value = sample("cinder-v3/backups/v3.43/backup-show-response.json");
    shown["backup"]["id"] = json!(id);
    serde_json::from_value(shown["backup"].clone()).unwrap()
}

/// A typed success body, a fault, and a route of the same method that a
/// show mock without an id leaves to the list.
#[tokio::test]
async fn show_answers_typed_bodies_and_faults() {
    let server = MockServer::start().await;
    let shown = types::BackupResponse { backup: detail("b1") };
    mock::show_backup(|when, then| {
        when.backup_id("b1");
        then.ok(&shown).request_id("req-1");
    })
    .expect(1)
    .mount(&server)
    .await;
    mock::show_backup(|when, then| {
        when.backup_id("gone");
        then.fault(404, "itemNotFound", "Backup gone could not be found.");
    })
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 64));

    let got = c.show_backup().backup_id("b1").send().await.unwrap();
    assert_eq!(got.backup.id, "b1");
    assert_eq!(got.request_id(), Some("req-1"));
    let err = c.show_backup().backup_id("gone").send().await.unwrap_err();
    assert_eq!(err.fault().and_then(|f| f.name()), Some("itemNotFound"));
    assert_eq!(err.to_string(), "show_backup failed: HTTP 404 itemNotFound: Backup gone could not be found.");

    // A show mock for any id does not take `GET …/backups/detail`.
    let any = MockServer::start().await;
    mock::show_backup(|_, then| {
        then.ok(&shown);
    })
    .mount(&any)
    .await;
    mock::list_backups_detail(|_, then| {
        then.ok(&types::BackupDetailList { backups: vec![detail("b2")], backups_links: Vec::new(), count: None });
    })
    .mount(&any)
    .await;
    let list = cinder(&any, Microversion::new(3, 64)).list_backups_detail().send().await.unwrap();
    assert_eq!(list.backups[0].id, "b2");
    server.verify().await;
}

/// A next link on the first page: the stream asks for the page after its
/// marker (with the caller's parameters, which the second mock requires)
/// and stops on the page without one. (The link's whole URL is checked in
/// the runtime's unit tests.)
#[tokio::test]
async fn paged_lists_link_their_next_page() {
    let server = MockServer::start().await;
    let page = |ids: &[&str]| -> types::BackupList {
        serde_json::from_value(json!({"backups": ids.iter().map(|id| summary(id)).collect::<Vec<_>>()})).unwrap()
    };
    mock::list_backups(|when, then| {
        when.marker(None).limit(2u64).sort("name:asc");
        then.ok(&page(&["a", "b"])).next_page("b");
    })
    .expect(1)
    .mount(&server)
    .await;
    mock::list_backups(|when, then| {
        when.marker("b").limit(2u64).sort("name:asc");
        then.ok(&page(&["c"]));
    })
    .expect(1)
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 64));
    let all: Vec<_> = c.list_backups().limit(2u64).sort("name:asc").stream().try_collect().await.unwrap();
    let ids: Vec<&str> = all.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    server.verify().await;
}

/// Typed query values (an enum, a boolean) and a parameter that must be
/// absent.
#[tokio::test]
async fn query_parameters_match_typed_values_and_absence() {
    let server = MockServer::start().await;
    mock::list_backups(|when, then| {
        when.status(types::BackupStatus::Available).all_tenants(None);
        then.ok(&serde_json::from_value(json!({"backups": [summary("a")]})).unwrap());
    })
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 64));
    let listed = c.list_backups().status(types::BackupStatus::Available).send().await.unwrap();
    assert_eq!(listed.backups.len(), 1);
    let missed = c.list_backups().status(types::BackupStatus::Available).all_tenants(true).send().await.unwrap_err();
    assert_eq!(missed.status().map(|s| s.as_u16()), Some(404), "all_tenants must be absent");
    let missed = c.list_backups().status(types::BackupStatus::Error).send().await.unwrap_err();
    assert_eq!(missed.status().map(|s| s.as_u16()), Some(404), "another status");
}

/// An action mock matches its own action key and typed argument, at the
/// microversion the test names, and answers with the microversion header.
#[tokio::test]
async fn actions_match_their_key_argument_and_microversion() {
    let server = MockServer::start().await;
    let reset = types::BackupResetStatus { status: types::BackupResetStatusStatus::Available };
    mock::reset_backup_status(|when, then| {
        when.microversion("3.64").backup_id("b1").body(&reset);
        then.request_id("req-reset").accepted().microversion("3.64");
    })
    .expect(1)
    .mount(&server)
    .await;
    let c = cinder(&server, Microversion::new(3, 64));
    let done = c.reset_backup_status("b1", reset.clone()).await.unwrap();
    assert_eq!(done.status().as_u16(), 202);
    assert_eq!(done.microversion(), Some(Microversion::new(3, 64)));
    assert_eq!(done.request_id(), Some("req-reset"));

    // Another action on the same route, another argument, another
    // microversion: not this mock.
    let err = c.force_delete_backup("b1").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    let error = types::BackupResetStatus { status: types::BackupResetStatusStatus::Error };
    assert_eq!(c.reset_backup_status("b1", error).await.unwrap_err().status().map(|s| s.as_u16()), Some(404));
    let older = cinder(&server, Microversion::new(3, 60));
    assert_eq!(older.reset_backup_status("b1", reset).await.unwrap_err().status().map(|s| s.as_u16()), Some(404));
    server.verify().await;
}

/// Request bodies match exactly, and Trove's mocks work the same way.
#[tokio::test]
async fn bodies_match_exactly_and_trove_has_mocks_too() {
    use openstack_backups::database;
    let server = MockServer::start().await;
    let request: database::types::BackupCreateRequest = sample("trove-v1/backup-create-request.json");
    let created: database::types::BackupResponse = sample("trove-v1/backup-create-response.json");
    database::mock::create_database_backup(|when, then| {
        when.body(&request);
        then.accepted(&created);
    })
    .expect(1)
    .mount(&server)
    .await;
    let config = ClientConfig::new().with_token("t").with_retry(RetryPolicy::none());
    let trove = database::Client::new(&format!("{}/v1.0/p1", server.uri()), config);
    let got = trove.create_database_backup().body(request.clone()).send().await.unwrap();
    assert_eq!(got.backup.id, created.backup.id);
    let mut other = request;
    other.backup.description = Some("another".into());
    assert_eq!(
        trove.create_database_backup().body(other).send().await.unwrap_err().status().map(|s| s.as_u16()),
        Some(404)
    );
    server.verify().await;
}

/// Routes that overlap: Trove's `GET …/backups` mock does not take
/// `GET …/instances/{id}/backups`; the service root's mocks match behind
/// an endpoint with a path (`https://cloud/volume/v3/…`).
#[tokio::test]
async fn overlapping_routes_and_root_routes_behind_a_path() {
    use openstack_backups::database;
    let server = MockServer::start().await;
    let list: database::types::BackupList = sample("trove-v1/backup-list-response.json");
    let of_instance: database::types::BackupList = sample("trove-v1/instance-backup-list-response.json");
    database::mock::list_database_backups(|_, then| {
        then.ok(&list);
    })
    .mount(&server)
    .await;
    let config = ClientConfig::new().with_token("t").with_retry(RetryPolicy::none());
    let trove = database::Client::new(&format!("{}/v1.0/p1", server.uri()), config);
    let err = trove.list_instance_backups().instance_id("i1").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "the instance's list is not the project's");
    database::mock::list_instance_backups(|when, then| {
        when.instance_id("i1");
        then.ok(&of_instance);
    })
    .mount(&server)
    .await;
    let got = trove.list_instance_backups().instance_id("i1").send().await.unwrap();
    assert_eq!(got.backups.len(), of_instance.backups.len());
    assert_eq!(trove.list_database_backups().send().await.unwrap().backups.len(), list.backups.len());

    let cinder_server = MockServer::start().await;
    let versions = json!({"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0",
        "updated": "2023-08-31T00:00:00Z", "links": [], "media-types": []}]});
    mock::list_api_versions(|_, then| {
        then.multiple_choices(&serde_json::from_value(versions).unwrap());
    })
    .expect(1)
    .mount(&cinder_server)
    .await;
    let behind = Client::new(&format!("{}/volume/v3/p1", cinder_server.uri()), ClientConfig::new().with_token("t"));
    let listed = behind.list_api_versions().await.unwrap();
    assert_eq!(listed.versions[0].version, "3.71");
    cinder_server.verify().await;
}

/// The README's example, as a user's test file holds it.
mod readme {
    use super::available_backup;

    use openstack_backups::ClientConfig;
    use openstack_backups::block_storage::{Client, mock, types};
    use openstack_backups::mock::MockServer;
    use serde_json::json;

    // README: begin
    use openstack_backups::Error;

    /// Backs up a volume (incrementally) and waits until the backup is
    /// available: the code under test.
    async fn back_up(cinder: &Client, volume_id: &str) -> Result<types::Backup, Error> {
        let backup = types::BackupCreate::builder().volume_id(volume_id).incremental(true);
        let created = cinder.create_backup().body(types::BackupCreateRequest::builder().backup(backup)).send().await?;
        cinder.wait_for_backup(&created.backup.id, types::BackupStatus::Available).await
    }

    #[tokio::test]
    async fn back_up_creates_an_incremental_backup_and_waits_for_it() {
        let server = MockServer::start().await;
        mock::create_backup(|when, then| {
            when.body(&serde_json::from_value(json!({"backup": {"volume_id": "v1", "incremental": true}})).unwrap());
            then.accepted(&serde_json::from_value(json!({"backup": {"id": "b1", "links": [], "name": null}})).unwrap());
        })
        .expect(1)
        .mount(&server)
        .await;
        mock::show_backup(|when, then| {
            when.backup_id("b1");
            then.ok(&types::BackupResponse { backup: available_backup("b1") });
        })
        .mount(&server)
        .await;

        let cinder = Client::new(&format!("{}/v3/my-project", server.uri()), ClientConfig::new().with_token("t"));
        let backup = back_up(&cinder, "v1").await.unwrap();
        assert_eq!(backup.status, types::BackupStatus::Available);
    }
    // README: end
}

/// A backup as Cinder shows it once it is available (the spec's sample).
fn available_backup(id: &str) -> types::Backup {
    let mut backup = detail(id);
    backup.status = types::BackupStatus::Available;
    backup
}
