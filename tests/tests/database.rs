//! Database (Trove) backups on the wire: every call, `incremental` as an
//! integer, offset paging whose next links say https, Trove's error bodies
//! in the crate's one error type, the Rackspace dialect's responses, the
//! waiter, a restore into a new instance and the instance's waiter, and one
//! session serving both Cinder and Trove.

use futures_util::TryStreamExt;
use openstack_backups::database::{Client, types};
use openstack_backups::retry::RetryPolicy;
use openstack_backups::wait::Waiter;
use openstack_backups::{ClientConfig, ErrorKind, IntBool, Session};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PROJECT: &str = "9f8dd5eacb074c9f87d2d822c9092aa5";
const INSTANCE: &str = "44b277eb-39be-4921-be31-3d61b43651d7";

fn sample(file: &str) -> Value {
    let p = openstack_backups_tests::workspace_root().join("spec/examples/trove-v1").join(file);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn client(server: &MockServer) -> Client {
    Client::new(
        &format!("{}/v1.0/{PROJECT}", server.uri()),
        ClientConfig::new().with_token("tok").with_retry(RetryPolicy::none()),
    )
}

fn reply(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("x-openstack-request-id", "req-trove").set_body_json(body)
}

async fn only(server: &MockServer) -> Request {
    let mut r = server.received_requests().await.unwrap();
    assert_eq!(r.len(), 1, "{r:?}");
    let r = r.pop().unwrap();
    assert_eq!(r.headers.get("x-auth-token").unwrap(), "tok");
    assert_eq!(r.headers.get("accept").unwrap(), "application/json");
    assert!(r.headers.get("openstack-api-version").is_none(), "Trove has no microversions");
    r
}

fn backup(id: &str, status: &str) -> Value {
    json!({"id": id, "name": "b", "description": null, "locationRef": null, "instance_id": INSTANCE,
        "created": "2026-11-22T12:05:53", "updated": "2026-11-22T12:05:53", "size": null,
        "status": status, "parent_id": null, "project_id": PROJECT,
        "datastore": {"type": "mysql", "version": "5.7", "version_id": "v57"}})
}

#[tokio::test]
async fn every_call_on_the_wire() {
    let server = MockServer::start().await;
    let c = client(&server);
    let base = format!("/v1.0/{PROJECT}");

    // list, with every filter
    Mock::given(any()).respond_with(reply(200, &sample("backup-list-response.json"))).mount(&server).await;
    let list = c
        .list_database_backups()
        .datastore("mysql")
        .instance_id(INSTANCE)
        .project_id(PROJECT)
        .all_projects(true)
        .limit(2u64)
        .marker("4")
        .send()
        .await
        .unwrap();
    assert_eq!(list.backups.len(), 2);
    assert_eq!(list.backups[1].parent_id.as_deref(), Some("a9832168-7541-4536-b8d9-a8a9b79cf1b4"));
    assert_eq!(list.backups[0].size, Some(0.14));
    let r = only(&server).await;
    assert_eq!(r.url.path(), format!("{base}/backups"));
    let mut q: Vec<(String, String)> = r.url.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    q.sort();
    assert_eq!(
        q,
        [
            ("all_projects", "true"),
            ("datastore", "mysql"),
            ("instance_id", INSTANCE),
            ("limit", "2"),
            ("marker", "4"),
            ("project_id", PROJECT)
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );

    // create: incremental goes as the integer 1, not `true`
    server.reset().await;
    Mock::given(any()).respond_with(reply(202, &sample("backup-create-response.json"))).mount(&server).await;
    let created = c
        .create_database_backup()
        .body(types::BackupCreateRequest {
            backup: types::BackupCreate {
                name: "nightly".into(),
                instance: Some(INSTANCE.into()),
                description: None,
                parent_id: None,
                incremental: Some(IntBool(true)),
                swift_container: None,
                storage_driver: None,
                restore_from: None,
                copy_to: None,
                source: None,
            },
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 202);
    assert_eq!(created.backup.status, types::BackupStatus::New);
    let r = only(&server).await;
    assert_eq!((r.method.as_str(), r.url.path()), ("POST", format!("{base}/backups").as_str()));
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap(),
        json!({"backup": {"name": "nightly", "instance": INSTANCE, "incremental": 1}})
    );

    // show
    server.reset().await;
    Mock::given(any()).respond_with(reply(200, &sample("backup-get-response.json"))).mount(&server).await;
    let b = c.show_database_backup().backup_id("a9832168").send().await.unwrap();
    assert_eq!(b.backup.created.to_string(), "2014-10-30T12:30:00");
    assert_eq!(only(&server).await.url.path(), format!("{base}/backups/a9832168"));

    // delete (202, empty body)
    server.reset().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(202)).mount(&server).await;
    let d = c.delete_database_backup().backup_id("a9832168").send().await.unwrap();
    assert_eq!(d.status().as_u16(), 202);
    let r = only(&server).await;
    assert_eq!((r.method.as_str(), r.url.path()), ("DELETE", format!("{base}/backups/a9832168").as_str()));

    // an instance's backups
    server.reset().await;
    Mock::given(any()).respond_with(reply(200, &sample("instance-backup-list-response.json"))).mount(&server).await;
    let list = c.list_instance_backups().instance_id(INSTANCE).limit(1u64).send().await.unwrap();
    assert_eq!(list.backups[0].name.as_deref(), Some("backup-full"));
    assert_eq!(only(&server).await.url.path(), format!("{base}/instances/{INSTANCE}/backups"));

    // backup strategies: list with both filters, create (project-wide: no
    // instance_id key at all), delete with and without the instance
    let strategy = json!({"project_id": PROJECT, "instance_id": "", "backend": "swift", "swift_container": "nightly"});
    server.reset().await;
    Mock::given(any()).respond_with(reply(200, &json!({"backup_strategies": [strategy]}))).mount(&server).await;
    let list = c.list_backup_strategies().instance_id(INSTANCE).project_id("other").send().await.unwrap();
    assert_eq!(list.backup_strategies[0].instance_id, "");
    let r = only(&server).await;
    assert_eq!((r.method.as_str(), r.url.path()), ("GET", format!("{base}/backup_strategies").as_str()));
    assert_eq!(r.url.query(), Some(format!("instance_id={INSTANCE}&project_id=other").as_str()));

    server.reset().await;
    Mock::given(any()).respond_with(reply(202, &json!({"backup_strategy": strategy}))).mount(&server).await;
    let created = c
        .create_backup_strategy()
        .body(types::BackupStrategyCreateRequest {
            backup_strategy: types::BackupStrategyCreate { instance_id: None, swift_container: "nightly".into() },
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.backup_strategy.swift_container, "nightly");
    let r = only(&server).await;
    assert_eq!((r.method.as_str(), r.url.path()), ("POST", format!("{base}/backup_strategies").as_str()));
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap(),
        json!({"backup_strategy": {"swift_container": "nightly"}})
    );

    for (instance, query) in [(Some(INSTANCE), Some(format!("instance_id={INSTANCE}"))), (None, None)] {
        server.reset().await;
        Mock::given(any()).respond_with(ResponseTemplate::new(202)).mount(&server).await;
        let mut call = c.delete_backup_strategy();
        if let Some(i) = instance {
            call = call.instance_id(i);
        }
        assert_eq!(call.send().await.unwrap().status().as_u16(), 202);
        let r = only(&server).await;
        assert_eq!((r.method.as_str(), r.url.path()), ("DELETE", format!("{base}/backup_strategies").as_str()));
        assert_eq!(r.url.query().map(str::to_owned), query);
    }
}

#[tokio::test]
async fn offset_paging_takes_only_the_marker_from_https_links_and_stops_on_an_empty_page() {
    let server = MockServer::start().await;
    // Next links name another server: Trove's say https on an http
    // endpoint; here the second one is a live server that must not be
    // asked anything.
    let elsewhere = MockServer::start().await;
    Mock::given(any()).respond_with(reply(200, &json!({"backups": []}))).mount(&elsewhere).await;
    let list = format!("/v1.0/{PROJECT}/backups");
    let other = elsewhere.uri();
    let next = |m: u32| {
        let host = if m == 2 { "https://trove.example".to_owned() } else { other.clone() };
        json!([{"rel": "next", "href": format!("{host}/v1.0/{PROJECT}/backups?limit=2&marker={m}")}])
    };
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param_is_missing("marker"))
        .respond_with(reply(
            200,
            &json!({"backups": [backup("b1", "COMPLETED"), backup("b2", "COMPLETED")], "links": next(2)}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param("marker", "2"))
        .respond_with(reply(
            200,
            &json!({"backups": [backup("b3", "COMPLETED"), backup("b4", "FAILED")], "links": next(4)}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param("marker", "4"))
        .respond_with(reply(200, &json!({"backups": []})))
        .mount(&server)
        .await;
    let ids: Vec<String> =
        client(&server).list_database_backups().limit(2u64).stream().map_ok(|b| b.id).try_collect().await.unwrap();
    assert_eq!(ids, ["b1", "b2", "b3", "b4"]);
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 3);
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the client's base URL is kept, not the link's host"
    );

    // all(): the same items collected; a failing page fails the whole call
    // (no partial list passes for a complete one).
    let all = client(&server).list_database_backups().limit(2u64).all().await.unwrap();
    assert_eq!(all.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["b1", "b2", "b3", "b4"]);
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param_is_missing("marker"))
        .respond_with(reply(200, &json!({"backups": [backup("b1", "COMPLETED")], "links": next(1)})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param("marker", "1"))
        .respond_with(reply(503, &json!({"serviceUnavailable": {"code": 503, "message": "busy"}})))
        .mount(&server)
        .await;
    let err = client(&server).list_database_backups().limit(1u64).all().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
}

#[tokio::test]
async fn trove_faults_land_in_the_crates_error_type() {
    let server = MockServer::start().await;
    let c = client(&server);
    let cases = [
        (404, json!({"itemNotFound": {"code": 404, "message": "Resource x cannot be found."}}), "itemNotFound"),
        (
            422,
            json!({"unprocessableEntity": {"code": 422, "message": "Backup b1 cannot be deleted because it is running."}}),
            "unprocessableEntity",
        ),
        (
            413,
            json!({"overLimit": {"code": 413, "message": "This request was rate-limited.", "details": "Only 200 POST request(s) can be made to * every minute.", "retryAfter": "59"}}),
            "overLimit",
        ),
        (
            500,
            json!({"instanceFault": {"code": 500, "message": "Internal Server Error. Please keep this ID to help us figure out what went wrong: (x)."}}),
            "instanceFault",
        ),
    ];
    for (status, body, name) in cases {
        server.reset().await;
        Mock::given(any()).respond_with(reply(status, &body)).mount(&server).await;
        let err = c.delete_database_backup().backup_id("b1").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.fault().and_then(|f| f.name()), Some(name));
        assert_eq!(err.request_id(), Some("req-trove"));
        assert!(
            err.to_string().starts_with(&format!("delete_database_backup failed: HTTP {status} {name}: ")),
            "{err}"
        );
        if name == "overLimit" {
            assert_eq!(err.fault().unwrap().retry_after(), Some("59"));
        }
    }
}

#[tokio::test]
async fn rackspace_responses_decode() {
    let server = MockServer::start().await;
    let mut b = backup("r1", "DELETE_FAILED");
    b["created"] = json!("2015-09-01T03:23:36Z");
    b["updated"] = json!("2015-09-01T03:24:01Z");
    b.as_object_mut().unwrap().remove("project_id");
    for (k, v) in [
        ("is_automated", json!(1)),
        ("flavor_ram", json!(1024)),
        ("type", json!("InnoBackupEx")),
        ("volume_size", json!(2)),
        ("source", json!({"type": "ha", "id": "h1"})),
    ] {
        b[k] = v;
    }
    Mock::given(any()).respond_with(reply(200, &json!({"backup": b}))).mount(&server).await;
    let got = client(&server).show_database_backup().backup_id("r1").send().await.unwrap().into_inner().backup;
    assert_eq!(got.status, types::BackupStatus::DeleteFailed);
    assert_eq!(got.created.to_string(), "2015-09-01T03:23:36");
    assert_eq!((got.is_automated, got.flavor_ram, got.volume_size), (Some(1), Some(1024), Some(2)));
    assert_eq!(got.type_.as_deref(), Some("InnoBackupEx"));
    assert_eq!(got.source.and_then(|s| s.type_).as_deref(), Some("ha"));
    assert_eq!(got.project_id, None);
}

#[tokio::test]
async fn the_waiter_follows_new_building_completed_and_fails_fast() {
    let server = MockServer::start().await;
    let show = format!("/v1.0/{PROJECT}/backups/b1");
    for status in ["NEW", "BUILDING"] {
        Mock::given(method("GET"))
            .and(path(show.clone()))
            .respond_with(reply(200, &json!({"backup": backup("b1", status)})))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(show.clone()))
        .respond_with(reply(200, &json!({"backup": backup("b1", "COMPLETED")})))
        .mount(&server)
        .await;
    let c = client(&server);
    // A short timeout: a waiter that missed its target fails the test
    // instead of polling for the default 30 minutes.
    let fast = Waiter::new()
        .delays(std::time::Duration::from_millis(1), std::time::Duration::from_millis(5))
        .timeout(std::time::Duration::from_secs(10));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let watched = fast.clone().on_progress(move |p| log.lock().unwrap().push(p.status.unwrap_or("-").to_owned()));
    let done = c.wait_for_backup("b1", types::BackupStatus::Completed).with(&watched).await.unwrap();
    assert_eq!(done.status, types::BackupStatus::Completed);
    assert_eq!(*seen.lock().unwrap(), ["NEW", "BUILDING", "COMPLETED"]);

    server.reset().await;
    Mock::given(any()).respond_with(reply(200, &json!({"backup": backup("b1", "FAILED")}))).mount(&server).await;
    let err = c.wait_for_backup("b1", types::BackupStatus::Completed).with(&fast).await.unwrap_err();
    assert_eq!(err.to_string(), "database backup b1 went to FAILED");

    server.reset().await;
    Mock::given(any())
        .respond_with(reply(404, &json!({"itemNotFound": {"code": 404, "message": "gone"}})))
        .mount(&server)
        .await;
    c.wait_for_backup_deleted("b1").with(&fast).await.unwrap();
}

#[tokio::test]
async fn one_session_serves_cinder_and_trove() {
    let server = MockServer::start().await;
    let catalog = json!([
        {"type": "block-storage", "endpoints": [{"interface": "public", "region": "R", "url": format!("{}/v3/%(project_id)s", server.uri())}]},
        {"type": "database", "endpoints": [{"interface": "public", "region": "R", "url": format!("{}/v1.0/%(project_id)s", server.uri())}]}
    ]);
    Mock::given(method("POST")).and(path("/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-subject-token", "tok-s").set_body_json(json!({"token": {
            "methods": ["password"], "audit_ids": [], "expires_at": "2999-01-01T00:00:00.000000Z", "issued_at": "2026-11-22T00:00:00.000000Z",
            "user": {"id": "u", "name": "u", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": PROJECT, "name": "p", "domain": {"id": "default", "name": "Default"}}, "catalog": catalog}})))
        .mount(&server).await;
    Mock::given(method("GET")).and(path("/v3/")).respond_with(reply(200, &json!({"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0", "updated": "x", "links": [], "media-types": []}]}))).mount(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{PROJECT}/backups")))
        .respond_with(reply(200, &json!({"backups": [backup("t1", "COMPLETED")]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/backups")))
        .respond_with(reply(200, &json!({"backups": []})))
        .mount(&server)
        .await;

    let session = Session::builder()
        .auth_url(server.uri())
        .auth(openstack_backups::auth::AuthMethod::Password {
            user: openstack_backups::auth::User::Id("u".into()),
            password: openstack_backups::Secret::new("p"),
        })
        .build()
        .unwrap();
    let trove = session.database().await.unwrap();
    let cinder = session.block_storage().await.unwrap();
    assert_eq!(trove.list_database_backups().send().await.unwrap().backups[0].id, "t1");
    assert!(cinder.list_backups().send().await.unwrap().backups.is_empty());
    let tokens: Vec<_> =
        server.received_requests().await.unwrap().into_iter().filter(|r| r.url.path() == "/v3/auth/tokens").collect();
    assert_eq!(tokens.len(), 1, "one token for both services");
}

/// Trove's backup list has no name filter: `find_backup` reads every page
/// (integer markers) and matches the name here.
#[tokio::test]
async fn find_reads_every_page_when_the_list_has_no_name_filter() {
    let server = MockServer::start().await;
    let named = |id: &str, name: &str| {
        let mut b = backup(id, "COMPLETED");
        b["name"] = json!(name);
        b
    };
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"/backups/(nightly|weekly)$"))
        .respond_with(reply(404, &json!({"itemNotFound": {"code": 404, "message": "not found"}})))
        .mount(&server)
        .await;
    let next = format!("{}/v1.0/{PROJECT}/backups?marker=2", server.uri());
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{PROJECT}/backups")))
        .and(wiremock::matchers::query_param_is_missing("marker"))
        .respond_with(reply(
            200,
            &json!({"backups": [named("b1", "daily"), named("b2", "hourly")], "links": [{"rel": "next", "href": next}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{PROJECT}/backups")))
        .and(wiremock::matchers::query_param("marker", "2"))
        .respond_with(reply(200, &json!({"backups": [named("b3", "nightly")]})))
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(c.find_backup("nightly").await.unwrap().id, "b3", "found on the second page");
    let err = c.find_backup("weekly").await.unwrap_err();
    assert_eq!(err.to_string(), "no database backup has the id or the name \"weekly\"");
}

/// The bodies of the POSTs the server received.
async fn posted(server: &MockServer) -> Vec<Value> {
    let sent = server.received_requests().await.unwrap();
    sent.iter().filter(|r| r.method.as_str() == "POST").map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
}

fn instance(id: &str, status: &str) -> Value {
    json!({"id": id, "name": "restored", "status": status, "operating_status": "", "links": [],
        "flavor": {"id": "2", "links": []}, "datastore": {"type": "mysql", "version": "5.7", "version_number": "5.7"},
        "region": "RegionOne", "access": {}, "volume": {"size": 2},
        "created": "2026-12-05T03:36:14", "updated": "2026-12-05T03:36:14"})
}

/// The library's restore: the backup found, the datastore and the volume
/// size taken from it (rounded up to whole GB) unless given, the body
/// exactly so; nothing sent without a size to go by; Trove's refusal kept
/// whole.
#[tokio::test]
async fn a_restore_takes_the_datastore_and_size_from_the_backup() {
    use openstack_backups::restore::{RestoreError, RestoreOptions, restore_database_backup, volume_size_for};
    let server = MockServer::start().await;
    let base = format!("/v1.0/{PROJECT}");
    let mut done = backup("b1", "COMPLETED");
    done["size"] = json!(1.2);
    Mock::given(method("GET"))
        .and(path(format!("{base}/backups/b1")))
        .respond_with(reply(200, &json!({"backup": done})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/instances")))
        .respond_with(reply(200, &json!({"instance": instance("i1", "BUILD")})))
        .mount(&server)
        .await;
    let c = client(&server);

    let restored = restore_database_backup(&c, "b1", &RestoreOptions::new("restored", "2")).await.unwrap();
    assert_eq!((restored.instance.id.as_str(), &restored.instance.status), ("i1", &types::InstanceStatus::Build));
    assert_eq!(restored.backup.id, "b1");
    assert_eq!(
        posted(&server).await,
        [json!({"instance": {"name": "restored", "flavorRef": "2", "volume": {"size": 2},
            "datastore": {"type": "mysql", "version": "5.7"}, "restorePoint": {"backupRef": "b1"}}})]
    );

    // Everything given: nothing taken from the backup but its id; another
    // datastore does not borrow the backup's version.
    server.reset().await;
    Mock::given(method("GET")).respond_with(reply(200, &json!({"backup": done}))).mount(&server).await;
    Mock::given(method("POST"))
        .respond_with(reply(200, &json!({"instance": instance("i2", "BUILD")})))
        .mount(&server)
        .await;
    let mut options = RestoreOptions::new("restored", "7");
    options.size = std::num::NonZeroU64::new(5);
    options.volume_type = Some("fast".into());
    options.datastore = Some("mariadb".into());
    options.nic = Some(types::InstanceNic { network_id: Some("n1".into()), subnet_id: None, ip_address: None });
    options.availability_zone = Some("az1".into());
    restore_database_backup(&c, "b1", &options).await.unwrap();
    assert_eq!(
        posted(&server).await,
        [json!({"instance": {"name": "restored", "flavorRef": "7", "volume": {"size": 5, "type": "fast"},
            "datastore": {"type": "mariadb"}, "restorePoint": {"backupRef": "b1"},
            "nics": [{"network_id": "n1"}], "availability_zone": "az1"}})]
    );

    // A backup without a size yet: nothing is sent, and the error says why.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(reply(200, &json!({"backup": backup("b1", "BUILDING")})))
        .mount(&server)
        .await;
    let err = restore_database_backup(&c, "b1", &RestoreOptions::new("r", "2")).await.unwrap_err();
    assert!(
        matches!(&err, RestoreError::NoSize { backup, status } if backup == "b1" && *status == types::BackupStatus::Building)
    );
    assert_eq!(
        err.to_string(),
        "database backup b1 has no size yet (it is BUILDING), so the new volume's cannot be worked out: give one"
    );
    assert!(std::error::Error::source(&err).is_none(), "nothing was sent: no cause below");
    assert!(posted(&server).await.is_empty());

    // A version without a datastore, from a backup that names none:
    // nothing is sent (Trove's datastore needs its type).
    server.reset().await;
    let mut bare = done.clone();
    bare["datastore"] = Value::Null;
    Mock::given(method("GET")).respond_with(reply(200, &json!({"backup": bare}))).mount(&server).await;
    let mut versioned = RestoreOptions::new("r", "2");
    versioned.datastore_version = Some("8.0".into());
    let err = restore_database_backup(&c, "b1", &versioned).await.unwrap_err();
    assert!(matches!(&err, RestoreError::NoDatastore { backup } if backup == "b1"), "{err:?}");
    assert!(posted(&server).await.is_empty());

    // Trove's refusal, whole: status, fault, request id; sent once.
    server.reset().await;
    Mock::given(method("GET")).respond_with(reply(200, &json!({"backup": done}))).mount(&server).await;
    let fault = json!({"forbidden": {"code": 403, "message": "Backup is too large for given flavor or volume."}});
    Mock::given(method("POST")).respond_with(reply(403, &fault)).mount(&server).await;
    let err = restore_database_backup(&c, "b1", &RestoreOptions::new("r", "2")).await.unwrap_err();
    let RestoreError::Restore(e) = &err else { panic!("{err:?}") };
    assert_eq!(e.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(e.request_id(), Some("req-trove"));
    assert!(err.to_string().contains("Backup is too large"), "{err}");
    let source = std::error::Error::source(&err).expect("Trove's error is the source");
    assert_eq!(source.to_string(), e.to_string(), "an error reporter walks to Trove's answer");
    assert_eq!(posted(&server).await.len(), 1);

    // An unknown backup: found by neither id nor name, nothing sent.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/backups/nope")))
        .respond_with(reply(404, &json!({"itemNotFound": {"code": 404, "message": "gone"}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/backups")))
        .respond_with(reply(200, &json!({"backups": []})))
        .mount(&server)
        .await;
    let err = restore_database_backup(&c, "nope", &RestoreOptions::new("r", "2")).await.unwrap_err();
    assert!(matches!(err, RestoreError::Backup(_)), "{err:?}");
    assert!(posted(&server).await.is_empty());

    // Whole GB, at least one; nothing for what is not a size.
    let gb = |s: f64| volume_size_for(s).map(std::num::NonZeroU64::get);
    assert_eq!([gb(0.0), gb(0.25), gb(1.0), gb(1.2), gb(9.99)], [Some(1), Some(1), Some(1), Some(2), Some(10)]);
    assert_eq!([gb(f64::NAN), gb(-1.0), gb(f64::INFINITY)], [None, None, None]);
}

/// The instance waiter: through `BUILD` to `ACTIVE`; `ERROR` fails fast
/// with Trove's `fault.message` (a reason nested in the instance).
#[tokio::test]
async fn the_instance_waiter_reads_the_fault_of_a_failed_restore() {
    let server = MockServer::start().await;
    let show = format!("/v1.0/{PROJECT}/instances/i1");
    Mock::given(method("GET"))
        .and(path(show.clone()))
        .respond_with(reply(200, &json!({"instance": instance("i1", "BUILD")})))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(show.clone()))
        .respond_with(reply(200, &json!({"instance": instance("i1", "ACTIVE")})))
        .mount(&server)
        .await;
    let c = client(&server);
    let fast = Waiter::new()
        .delays(std::time::Duration::from_millis(1), std::time::Duration::from_millis(5))
        .timeout(std::time::Duration::from_secs(10));
    let ready = c.wait_for_instance("i1", types::InstanceStatus::Active).with(&fast).await.unwrap();
    assert_eq!(ready.status, types::InstanceStatus::Active);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    server.reset().await;
    let mut failed = instance("i1", "ERROR");
    failed["fault"] =
        json!({"message": "Polling request timed out.", "created": "2026-12-05T04:36:20", "details": null});
    Mock::given(any()).respond_with(reply(200, &json!({"instance": failed}))).mount(&server).await;
    let err = c.wait_for_instance("i1", types::InstanceStatus::Active).with(&fast).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitFailed);
    assert_eq!(err.to_string(), "database instance i1 went to ERROR: Polling request timed out.");

    // ERROR without a fault: the status alone.
    server.reset().await;
    Mock::given(any()).respond_with(reply(200, &json!({"instance": instance("i1", "ERROR")}))).mount(&server).await;
    let err = c.wait_for_instance("i1", types::InstanceStatus::Active).with(&fast).await.unwrap_err();
    assert_eq!(err.to_string(), "database instance i1 went to ERROR");
}
