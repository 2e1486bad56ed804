//! Wire tests against a local mock server: for every operation, what the
//! client sends (method, path, query, headers, body) and what it makes of the
//! response (success bodies, empty bodies, error bodies).
//!
//! `every_operation_on_the_wire` is a table, one row per operation of the
//! Cinder table; an operation added to the spec without a row fails it.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use openstack_backups::block_storage::operations::OPERATIONS;
use openstack_backups::block_storage::{Client, types};
use openstack_backups::retry::RetryPolicy;
use openstack_backups::{ClientConfig, Error, Microversion};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PROJECT: &str = "6b2c0f4e9a1d4c3b8e7f0a1b2c3d4e5f";
const TOKEN: &str = "gAAAAABtest-token";
const REQUEST_ID: &str = "req-0c6e4a3a-7b86-4a8e-a2f3-6c1d2e3f4a5b";

struct Harness {
    server: MockServer,
    client: Client,
    seen: Vec<Request>,
}

fn sample(file: &str) -> Value {
    let path = openstack_backups_tests::workspace_root().join("spec/examples/cinder-v3").join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn reply(status: u16, body: Option<&Value>) -> ResponseTemplate {
    let t = ResponseTemplate::new(status)
        .insert_header("x-openstack-request-id", REQUEST_ID)
        .insert_header("openstack-api-version", "volume 3.71");
    match body {
        Some(b) => t.set_body_raw(b.to_string(), "application/json"),
        // Cinder's empty 202s still claim JSON.
        None => t.set_body_raw("", "application/json"),
    }
}

impl Harness {
    async fn new() -> Self {
        let server = MockServer::start().await;
        let client = client(&server, Microversion::new(3, 71));
        Self { server, client, seen: Vec::new() }
    }

    /// Answers the next request(s) with `status` and `body`.
    async fn answer(&mut self, status: u16, body: Option<Value>) {
        self.collect().await;
        Mock::given(any()).respond_with(reply(status, body.as_ref())).mount(&self.server).await;
    }

    async fn collect(&mut self) {
        self.seen.extend(self.server.received_requests().await.unwrap_or_default());
        self.server.reset().await;
    }

    /// The one request sent since the last `answer`, checked for the headers
    /// every call carries.
    async fn sent(&self) -> Request {
        let mut requests = self.server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:?}");
        let r = requests.pop().unwrap();
        let header = |name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("x-auth-token").as_deref(), Some(TOKEN), "{} {}", r.method, r.url);
        assert_eq!(header("openstack-api-version").as_deref(), Some("volume 3.71"));
        assert_eq!(header("accept").as_deref(), Some("application/json"));
        assert_eq!(header("api-version"), None, "progenitor's api-version header must not leak");
        if r.body.is_empty() {
            assert_eq!(header("content-type"), None);
        } else {
            assert_eq!(header("content-type").as_deref(), Some("application/json"));
        }
        r
    }
}

/// A client without retries: these tests look at single exchanges (retries
/// have their own tests).
fn client(server: &MockServer, version: Microversion) -> Client {
    Client::new(
        &format!("{}/v3/{PROJECT}", server.uri()),
        ClientConfig::new().with_token(TOKEN).with_microversion(version).with_retry(RetryPolicy::none()),
    )
}

fn expect(r: &Request, m: &str, p: &str, query: &[(&str, &str)], body: Option<Value>) {
    assert_eq!(r.method.as_str(), m, "{}", r.url);
    assert_eq!(r.url.path(), p);
    // The order of query parameters carries no meaning.
    let mut got: Vec<(String, String)> = r.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut want: Vec<(String, String)> = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "query of {} {}", m, p);
    match body {
        Some(b) => assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap(), b, "body of {m} {p}"),
        None => assert!(r.body.is_empty(), "{m} {p} must have no body"),
    }
}

fn pp(rest: &str) -> String {
    format!("/v3/{PROJECT}{rest}")
}

const BID: &str = "6a122f4b-d2f6-448f-aeb5-68bae5ff8358";
const SID: &str = "b36476e5-d18b-47f9-ac69-4818cb43ee21";
const VID: &str = "49a784cf-b759-4594-acdf-5238ee50976b";
const MID: &str = "6586bb76";
const GTID: &str = "f10b1402-dbac-4a1e-b547-766f5aa74fd8";
const GID: &str = "5707d7d8-1860-4526-8e4c-dad495a5a920";
const GSID: &str = "7c98f7b0-2cfa-404e-b097-77b1c21087ef";

/// A call of one operation that checks what it decoded.
type Call = for<'a> fn(&'a Client) -> BoxFuture<'a, ()>;

/// One row of the wire table: the operation, what the mock answers, the
/// call (with its checks of the decoded response), and the one request it
/// must send.
struct Case {
    operation: &'static str,
    status: u16,
    reply: Option<Value>,
    call: Call,
    method: &'static str,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
}

/// A row for `operation`, called by `call`; answered 200 without a body
/// and expected as a `GET` of the endpoint until told otherwise.
fn op(operation: &'static str, call: Call) -> Case {
    Case { operation, status: 200, reply: None, call, method: "GET", path: pp(""), query: Vec::new(), body: None }
}

impl Case {
    fn answers(mut self, status: u16, reply: Option<Value>) -> Self {
        (self.status, self.reply) = (status, reply);
        self
    }

    /// The request: method and path (`pp` adds the endpoint's prefix).
    fn sends(mut self, method: &'static str, path: String) -> Self {
        (self.method, self.path) = (method, path);
        self
    }

    fn query(mut self, query: &[(&'static str, &str)]) -> Self {
        self.query = query.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

fn versions() -> Value {
    json!({"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0",
        "updated": "2023-08-31T00:00:00Z", "links": [{"rel": "self", "href": "http://x/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}]}]})
}

fn volume() -> Value {
    json!({"volume": {
        "id": VID, "status": "creating", "size": 1, "availability_zone": "nova",
        "created_at": "2026-11-22T12:05:53.624993", "updated_at": null, "name": "v", "description": null,
        "volume_type": "__DEFAULT__", "snapshot_id": null, "source_volid": null, "metadata": {},
        "links": [], "user_id": "u", "bootable": "false", "encrypted": false, "multiattach": false,
        "attachments": [], "replication_status": null, "consistencygroup_id": null}})
}

fn message() -> Value {
    json!({"id": "6586bb76-99ad-4b02-b588-6581bff99eea", "event_id": "VOLUME_VOLUME_BACKUP_013_020",
        "user_message": "create backup:Backup driver failed to create backup.", "message_level": "ERROR",
        "created_at": "2026-12-03T09:16:32.739813", "guaranteed_until": "2027-01-02T09:16:32.735802",
        "request_id": "req-027a8820-2855-4ef4-a9b7-a4b673295ea0", "links": [],
        "resource_type": "VOLUME_BACKUP", "resource_uuid": "86c98184-e01c-49a9-bc29-b7e27e93231e"})
}

fn group_type() -> Value {
    json!({"id": GTID, "name": "consistent", "description": "db volumes", "is_public": true, "group_specs": {}})
}

fn group() -> Value {
    json!({"id": GID, "status": "available", "availability_zone": "nova", "created_at": "2026-12-05T00:48:46.698444",
        "name": "db", "description": null, "group_type": GTID, "volume_types": ["7b6d3aeb-7a70-4a9c-a4c2-e0f81395cfe1"],
        "group_snapshot_id": null, "source_group_id": null, "volumes": [VID], "replication_status": "disabled",
        "project_id": PROJECT})
}

fn group_snapshot() -> Value {
    json!({"id": GSID, "group_id": GID, "group_type_id": GTID, "status": "available",
        "created_at": "2026-12-05T00:49:03.585928", "name": "nightly", "description": "one point"})
}

/// Every operation of the Cinder table, one row each, in the spec's order.
fn cases() -> Vec<Case> {
    let sid_action = pp(&format!("/snapshots/{SID}/action"));
    let meta = pp(&format!("/snapshots/{SID}/metadata"));
    // A level or a resource type this client does not know is kept.
    let mut newer_message = message();
    newer_message["message_level"] = json!("NOTICE");
    newer_message["resource_type"] = json!("GROUP");
    newer_message.as_object_mut().unwrap().remove("resource_uuid");
    vec![
        // ---- versions (service root, no project)
        op("list_api_versions", |c| {
            Box::pin(async move {
                let v = c.list_api_versions().await.unwrap();
                assert_eq!(v.status().as_u16(), 300);
                assert_eq!(v.versions[0].version, "3.71");
            })
        })
        .answers(300, Some(versions()))
        .sends("GET", "/".into()),
        op("show_api_v3_version", |c| {
            Box::pin(async move {
                let v = c.show_api_v3_version().await.unwrap();
                assert_eq!(v.versions[0].min_version, "3.0");
            })
        })
        .answers(200, Some(versions()))
        .sends("GET", "/v3/".into()),
        // ---- backups
        op("list_backups", |c| {
            Box::pin(async move {
                let list = c
                    .list_backups()
                    .limit(1u64)
                    .marker("m1")
                    .offset(2u64)
                    .sort("name:asc")
                    .with_count(true)
                    .all_tenants(true)
                    .name("b1")
                    .status(types::BackupStatus::Available)
                    .volume_id(VID)
                    .project_id(PROJECT)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(list.count, Some(1));
                assert_eq!(list.backups[0].name.as_deref(), Some("backup001"));
                assert_eq!(list.request_id(), Some(REQUEST_ID));
                assert_eq!(list.microversion(), Some(Microversion::new(3, 71)));
            })
        })
        .answers(200, Some(sample("backups/v3.45/backups-list-response.json")))
        .sends("GET", pp("/backups"))
        .query(&[
            ("limit", "1"),
            ("marker", "m1"),
            ("offset", "2"),
            ("sort", "name:asc"),
            ("with_count", "true"),
            ("all_tenants", "true"),
            ("name", "b1"),
            ("status", "available"),
            ("volume_id", VID),
            ("project_id", PROJECT),
        ]),
        op("list_backups_detail", |c| {
            Box::pin(async move {
                let list =
                    c.list_backups_detail().sort_key("created_at").sort_dir(types::SortDir::Asc).send().await.unwrap();
                assert_eq!(list.backups[0].status, types::BackupStatus::Creating);
                assert_eq!(list.backups[0].user_id.as_deref(), Some("c853ca26-e8ea-4797-8a52-ee124a013d0e"));
            })
        })
        .answers(200, Some(sample("backups/v3.56/backups-list-detailed-response.json")))
        .sends("GET", pp("/backups/detail"))
        .query(&[("sort_key", "created_at"), ("sort_dir", "asc")]),
        op("show_backup", |c| {
            Box::pin(async move {
                let b = c.show_backup().backup_id(BID).send().await.unwrap();
                assert_eq!(b.backup.created_at.to_string(), "2023-06-23T11:56:04.957710");
            })
        })
        .answers(200, Some(sample("backups/v3.43/backup-show-response.json")))
        .sends("GET", pp(&format!("/backups/{BID}"))),
        op("create_backup", |c| {
            Box::pin(async move {
                let body = serde_json::from_value(sample("backups/backup-create-request.json")).unwrap();
                let created = c.create_backup().body::<types::BackupCreateRequest>(body).send().await.unwrap();
                assert_eq!(created.status().as_u16(), 202);
                assert_eq!(created.backup.links.len(), 2);
            })
        })
        .answers(202, Some(sample("backups/backup-create-response.json")))
        .sends("POST", pp("/backups"))
        .body(openstack_backups_tests::without_nulls(&sample("backups/backup-create-request.json"))),
        op("update_backup", |c| {
            Box::pin(async move {
                let body = json!({"backup": {"name": "renamed", "metadata": {"k": "v"}}});
                let body: types::BackupUpdateRequest = serde_json::from_value(body).unwrap();
                c.update_backup().backup_id(BID).body(body).send().await.unwrap();
            })
        })
        .answers(200, Some(sample("backups/v3.9/backup-update-response.json")))
        .sends("PUT", pp(&format!("/backups/{BID}")))
        .body(json!({"backup": {"name": "renamed", "metadata": {"k": "v"}}})),
        op("delete_backup", |c| {
            Box::pin(async move {
                let deleted = c.delete_backup().backup_id(BID).send().await.unwrap();
                assert_eq!(deleted.status().as_u16(), 202);
                assert_eq!(deleted.request_id(), Some(REQUEST_ID));
            })
        })
        .answers(202, None)
        .sends("DELETE", pp(&format!("/backups/{BID}"))),
        op("restore_backup", |c| {
            Box::pin(async move {
                let restore = types::BackupRestore { name: None, volume_id: Some(VID.to_owned()) };
                let body = types::BackupRestoreRequest { restore };
                let restored = c.restore_backup().backup_id(BID).body(body).send().await.unwrap();
                assert_eq!(restored.restore.volume_name.as_deref(), Some("volume01"));
            })
        })
        .answers(202, Some(sample("backup-restore-response.json")))
        .sends("POST", pp(&format!("/backups/{BID}/restore")))
        .body(json!({"restore": {"volume_id": VID}})),
        op("export_backup_record", |c| {
            Box::pin(async move {
                let record = c.export_backup_record().backup_id(BID).send().await.unwrap().into_inner();
                assert_eq!(record.backup_record.backup_service, "cinder.backup.drivers.swift");
            })
        })
        .answers(200, Some(sample("backup-record-export-response.json")))
        .sends("GET", pp(&format!("/backups/{BID}/export_record"))),
        op("import_backup_record", |c| {
            Box::pin(async move {
                let body = serde_json::from_value(sample("backup-record-import-request.json")).unwrap();
                let imported = c.import_backup_record().body::<types::BackupRecordRequest>(body).send().await.unwrap();
                assert_eq!(imported.status().as_u16(), 201);
                assert_eq!(imported.backup.name, None);
            })
        })
        .answers(201, Some(sample("backup-record-import-response.json")))
        .sends("POST", pp("/backups/import_record"))
        .body(sample("backup-record-import-request.json")),
        op("reset_backup_status", |c| {
            Box::pin(async move {
                let status = types::BackupResetStatusStatus::Available;
                c.reset_backup_status(BID, types::BackupResetStatus { status }).await.unwrap();
            })
        })
        .answers(202, None)
        .sends("POST", pp(&format!("/backups/{BID}/action")))
        .body(sample("backup-reset-status-request.json")),
        op("force_delete_backup", |c| Box::pin(async move { c.force_delete_backup(BID).await.unwrap().into_inner() }))
            .answers(202, None)
            .sends("POST", pp(&format!("/backups/{BID}/action")))
            .body(json!({"os-force_delete": {}})),
        // ---- snapshots
        op("list_snapshots", |c| {
            Box::pin(async move {
                let list = c
                    .list_snapshots()
                    .metadata("{'key':'v3'}")
                    .consumes_quota(true)
                    .availability_zone("nova")
                    .status(types::SnapshotStatus::BackingUp)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(list.snapshots[0].metadata["key"], "v3");
            })
        })
        .answers(200, Some(sample("snapshots/snapshots-list-response.json")))
        .sends("GET", pp("/snapshots"))
        .query(&[
            ("status", "backing-up"),
            ("availability_zone", "nova"),
            ("metadata", "{'key':'v3'}"),
            ("consumes_quota", "true"),
        ]),
        op("list_snapshots_detail", |c| {
            Box::pin(async move {
                let list = c.list_snapshots_detail().limit(10u64).send().await.unwrap();
                assert_eq!(list.snapshots[0].consumes_quota, Some(true));
                assert_eq!(list.snapshots[0].os_extended_snapshot_attributes_progress.as_deref(), Some("0%"));
            })
        })
        .answers(200, Some(sample("snapshots/v3.65/snapshots-list-detailed-response.json")))
        .sends("GET", pp("/snapshots/detail"))
        .query(&[("limit", "10")]),
        op("show_snapshot", |c| {
            Box::pin(async move {
                let s = c.show_snapshot().snapshot_id(SID).send().await.unwrap();
                assert_eq!(s.snapshot.updated_at, None);
            })
        })
        .answers(200, Some(sample("snapshots/v3.41/snapshot-show-response.json")))
        .sends("GET", pp(&format!("/snapshots/{SID}"))),
        op("create_snapshot", |c| {
            Box::pin(async move {
                let body = serde_json::from_value(sample("snapshots/snapshot-create-request.json")).unwrap();
                c.create_snapshot().body::<types::SnapshotCreateRequest>(body).send().await.unwrap();
            })
        })
        .answers(202, Some(sample("snapshots/snapshot-create-response.json")))
        .sends("POST", pp("/snapshots"))
        .body(sample("snapshots/snapshot-create-request.json")),
        op("update_snapshot", |c| {
            Box::pin(async move {
                let body = serde_json::from_value(sample("snapshots/snapshot-update-request.json")).unwrap();
                c.update_snapshot().snapshot_id(SID).body::<types::SnapshotUpdateRequest>(body).send().await.unwrap();
            })
        })
        .answers(200, Some(sample("snapshots/snapshot-update-response.json")))
        .sends("PUT", pp(&format!("/snapshots/{SID}")))
        .body(sample("snapshots/snapshot-update-request.json")),
        op("delete_snapshot", |c| {
            Box::pin(async move { c.delete_snapshot().snapshot_id(SID).send().await.unwrap().into_inner() })
        })
        .answers(202, None)
        .sends("DELETE", pp(&format!("/snapshots/{SID}"))),
        op("reset_snapshot_status", |c| {
            Box::pin(async move {
                let status = types::SnapshotResetStatusStatus::Available;
                c.reset_snapshot_status(SID, types::SnapshotResetStatus { status }).await.unwrap();
            })
        })
        .answers(202, None)
        .sends("POST", sid_action.clone())
        .body(sample("snapshot-status-reset-request.json")),
        op("force_delete_snapshot", |c| {
            Box::pin(async move { c.force_delete_snapshot(SID).await.unwrap().into_inner() })
        })
        .answers(202, None)
        .sends("POST", sid_action.clone())
        .body(sample("snapshot-force-delete-request.json")),
        op("update_snapshot_status", |c| {
            Box::pin(async move {
                let status = types::SnapshotStatusUpdateStatus::Creating;
                let update = types::SnapshotStatusUpdate { status, progress: Some("80%".into()) };
                c.update_snapshot_status(SID, update).await.unwrap();
            })
        })
        .answers(202, None)
        .sends("POST", sid_action.clone())
        .body(sample("snapshot-status-update-request.json")),
        op("unmanage_snapshot", |c| Box::pin(async move { c.unmanage_snapshot(SID).await.unwrap().into_inner() }))
            .answers(202, None)
            .sends("POST", sid_action)
            .body(json!({"os-unmanage": {}})),
        // ---- snapshot metadata
        op("show_snapshot_metadata", |c| {
            Box::pin(async move {
                let m = c.show_snapshot_metadata().snapshot_id(SID).send().await.unwrap();
                assert_eq!(m.metadata["key"], "v3");
            })
        })
        .answers(200, Some(sample("snapshots/snapshot-metadata-show-response.json")))
        .sends("GET", meta.clone()),
        op("merge_snapshot_metadata", |c| {
            Box::pin(async move {
                let body = serde_json::from_value(sample("snapshots/snapshot-metadata-create-request.json")).unwrap();
                let merged =
                    c.merge_snapshot_metadata().snapshot_id(SID).body::<types::Metadata>(body).send().await.unwrap();
                assert_eq!(merged.metadata.len(), 2);
            })
        })
        .answers(200, Some(json!({"metadata": {"key": "v3", "other": "kept"}})))
        .sends("POST", meta.clone())
        .body(sample("snapshots/snapshot-metadata-create-request.json")),
        op("replace_snapshot_metadata", |c| {
            Box::pin(async move {
                let body = serde_json::from_value(sample("snapshots/snapshot-metadata-update-request.json")).unwrap();
                c.replace_snapshot_metadata().snapshot_id(SID).body::<types::Metadata>(body).send().await.unwrap();
            })
        })
        .answers(200, Some(sample("snapshots/snapshot-metadata-update-response.json")))
        .sends("PUT", meta.clone())
        .body(sample("snapshots/snapshot-metadata-update-request.json")),
        op("show_snapshot_metadata_key", |c| {
            Box::pin(async move {
                let item = c.show_snapshot_metadata_key().snapshot_id(SID).key("key").send().await.unwrap();
                assert_eq!(item.meta["key"], "v3");
            })
        })
        .answers(200, Some(sample("snapshots/snapshot-metadata-show-key-response.json")))
        .sends("GET", format!("{meta}/key")),
        op("update_snapshot_metadata_key", |c| {
            Box::pin(async move {
                let body = serde_json::from_value(sample("snapshots/snapshot-metadata-update-key-request.json")).unwrap();
                let call = c.update_snapshot_metadata_key().snapshot_id(SID).key("key");
                call.body::<types::MetadataItem>(body).send().await.unwrap();
            })
        })
        .answers(200, Some(sample("snapshots/snapshot-metadata-update-key-response.json")))
        .sends("PUT", format!("{meta}/key"))
        .body(sample("snapshots/snapshot-metadata-update-key-request.json")),
        // A key that needs escaping in the path.
        op("delete_snapshot_metadata_key", |c| {
            Box::pin(async move {
                let deleted = c.delete_snapshot_metadata_key().snapshot_id(SID).key("a key/x").send().await.unwrap();
                assert_eq!(deleted.status().as_u16(), 200);
            })
        })
        .answers(200, None)
        .sends("DELETE", format!("{meta}/a%20key%2Fx")),
        // ---- volumes
        op("create_volume", |c| {
            Box::pin(async move {
                let body = json!({"volume": {"size": 1, "name": "v", "backup_id": BID}});
                let body: types::VolumeCreateRequest = serde_json::from_value(body).unwrap();
                let v = c.create_volume().body(body).send().await.unwrap();
                assert_eq!(v.volume.status, types::VolumeStatus::Creating);
            })
        })
        .answers(202, Some(volume()))
        .sends("POST", pp("/volumes"))
        .body(json!({"volume": {"size": 1, "name": "v", "backup_id": BID}})),
        op("show_volume", |c| Box::pin(async move { drop(c.show_volume().volume_id(VID).send().await.unwrap()) }))
            .answers(200, Some(volume()))
            .sends("GET", pp(&format!("/volumes/{VID}"))),
        op("list_volumes_detail", |c| {
            Box::pin(async move {
                let list = c.list_volumes_detail().bootable(false).with_count(true).send().await.unwrap();
                assert_eq!(list.volumes.len(), 1);
            })
        })
        .answers(200, Some(json!({"volumes": [volume()["volume"]], "count": 1})))
        .sends("GET", pp("/volumes/detail"))
        .query(&[("with_count", "true"), ("bootable", "false")]),
        op("delete_volume", |c| {
            Box::pin(async move { c.delete_volume().volume_id(VID).cascade(true).force(true).send().await.unwrap().into_inner() })
        })
        .answers(202, None)
        .sends("DELETE", pp(&format!("/volumes/{VID}")))
        .query(&[("cascade", "true"), ("force", "true")]),
        op("list_volumes", |c| {
            Box::pin(async move {
                let list = c.list_volumes().name("v").send().await.unwrap();
                assert_eq!((list.volumes[0].id.as_str(), list.volumes[0].name.as_deref()), (VID, None));
            })
        })
        .answers(200, Some(json!({"volumes": [{"id": VID, "name": null, "links": []}], "volumes_links": []})))
        .sends("GET", pp("/volumes"))
        .query(&[("name", "v")]),
        op("revert_volume_to_snapshot", |c| {
            Box::pin(async move {
                let reverted = c.revert_volume_to_snapshot(VID, types::VolumeRevert { snapshot_id: SID.into() }).await;
                assert_eq!(reverted.unwrap().status().as_u16(), 202);
            })
        })
        .answers(202, None)
        .sends("POST", pp(&format!("/volumes/{VID}/action")))
        .body(json!({"revert": {"snapshot_id": SID}})),
        // ---- limits and quota sets
        op("show_limits", |c| {
            Box::pin(async move {
                let limits = c.show_limits().project_id("other").send().await.unwrap();
                assert_eq!(limits.limits.absolute.total_backup_gigabytes_used, Some(3));
            })
        })
        .answers(
            200,
            Some(json!({"limits": {"rate": [], "absolute": {"maxTotalBackups": 5, "maxTotalBackupGigabytes": 20,
                "totalBackupsUsed": 1, "totalBackupGigabytesUsed": 3, "maxTotalVolumes": -1, "somethingNewer": 7}}})),
        )
        .sends("GET", pp("/limits"))
        .query(&[("project_id", "other")]),
        op("show_quota_set", |c| {
            Box::pin(async move {
                let shown = c.show_quota_set().target_project_id("other").usage(true).send().await.unwrap();
                let fast = &shown.quota_set.extra["gigabytes_fast-ssd"];
                assert!(matches!(fast, types::QuotaValue::QuotaUsage(u) if u.limit == -1));
            })
        })
        .answers(
            200,
            Some(json!({"quota_set": {"id": "other", "backups": {"limit": 5, "in_use": 1, "reserved": 0},
                "gigabytes_fast-ssd": {"limit": -1, "in_use": 0, "reserved": 0}}})),
        )
        .sends("GET", pp("/os-quota-sets/other"))
        .query(&[("usage", "true")]),
        op("show_quota_set_defaults", |c| {
            Box::pin(async move {
                let defaults = c.show_quota_set_defaults().target_project_id("other").send().await.unwrap();
                assert!(matches!(defaults.quota_set.extra["backups"], types::QuotaValue::Integer(10)));
            })
        })
        .answers(200, Some(json!({"quota_set": {"id": "other", "backups": 10}})))
        .sends("GET", pp("/os-quota-sets/other/defaults")),
        op("update_quota_set", |c| {
            Box::pin(async move {
                let body = json!({"quota_set": {"backups": 5, "backup_gigabytes": 20}});
                let body: types::QuotaSetUpdateRequest = serde_json::from_value(body).unwrap();
                let updated = c.update_quota_set().target_project_id("other").body(body).send().await.unwrap();
                assert_eq!(updated.quota_set.id, None);
            })
        })
        .answers(200, Some(json!({"quota_set": {"backups": 5, "backup_gigabytes": 20, "volumes": -1}})))
        .sends("PUT", pp("/os-quota-sets/other"))
        .body(json!({"quota_set": {"backups": 5, "backup_gigabytes": 20}})),
        op("delete_quota_set", |c| {
            Box::pin(async move { c.delete_quota_set().target_project_id("other").send().await.unwrap().into_inner() })
        })
        .answers(200, None)
        .sends("DELETE", pp("/os-quota-sets/other")),
        // ---- user messages (3.3; filters and paging 3.5)
        op("list_messages", |c| {
            Box::pin(async move {
                let listed = c
                    .list_messages()
                    .resource_uuid("86c98184-e01c-49a9-bc29-b7e27e93231e")
                    .message_level(types::MessageLevel::Error)
                    .limit(1u64)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(listed.messages[0].resource_type, Some(types::MessageResourceType::VolumeBackup));
                let until = listed.messages[0].guaranteed_until.as_ref().map(ToString::to_string);
                assert_eq!(until.as_deref(), Some("2027-01-02T09:16:32.735802"));
            })
        })
        .answers(
            200,
            Some(json!({"messages": [message()], "messages_links": [{"rel": "next",
                "href": format!("http://x/v3/{PROJECT}/messages?limit=1&marker=6586bb76-99ad-4b02-b588-6581bff99eea")}]})),
        )
        .sends("GET", pp("/messages"))
        .query(&[("resource_uuid", "86c98184-e01c-49a9-bc29-b7e27e93231e"), ("message_level", "ERROR"), ("limit", "1")]),
        op("show_message", |c| {
            Box::pin(async move {
                let shown = c.show_message().message_id(MID).send().await.unwrap().into_inner().message;
                assert_eq!(shown.message_level.as_ref().map(|l| l.as_str()), Some("NOTICE"));
                assert_eq!(shown.resource_type.as_ref().map(|t| t.as_str()), Some("GROUP"));
                assert_eq!(shown.resource_uuid, None);
            })
        })
        .answers(200, Some(json!({"message": newer_message})))
        .sends("GET", pp(&format!("/messages/{MID}"))),
        op("delete_message", |c| {
            Box::pin(async move { c.delete_message().message_id(MID).send().await.unwrap().into_inner() })
        })
        .answers(204, None)
        .sends("DELETE", pp(&format!("/messages/{MID}"))),
        // ---- group types (3.11), groups (3.13), group snapshots (3.14)
        op("list_group_types", |c| {
            Box::pin(async move {
                let listed = c.list_group_types().limit(1u64).is_public("none").send().await.unwrap();
                assert_eq!(listed.group_types[0].name, "consistent");
                assert!(listed.group_types[0].group_specs.is_empty());
                assert_eq!(listed.group_type_links.len(), 1);
            })
        })
        .answers(
            200,
            Some(json!({"group_types": [group_type()], "group_type_links": [{"rel": "next",
                "href": format!("http://x/v3/{PROJECT}/group_types?limit=1&marker={GTID}")}]})),
        )
        .sends("GET", pp("/group_types"))
        .query(&[("limit", "1"), ("is_public", "none")]),
        op("create_group_type", |c| {
            Box::pin(async move {
                let body: types::GroupTypeCreateRequest =
                    serde_json::from_value(json!({"group_type": {"name": "consistent", "description": "db volumes"}}))
                        .unwrap();
                let made = c.create_group_type().body(body).send().await.unwrap();
                assert_eq!(made.group_type.id, GTID);
            })
        })
        .answers(202, Some(json!({"group_type": group_type()})))
        .sends("POST", pp("/group_types"))
        .body(json!({"group_type": {"name": "consistent", "description": "db volumes"}})),
        op("show_group_type", |c| {
            Box::pin(async move {
                let shown = c.show_group_type().group_type_id(GTID).send().await.unwrap().into_inner().group_type;
                assert_eq!(shown.description.as_deref(), Some("db volumes"));
                assert_eq!(shown.is_public, Some(true));
                // A member's view: no group specs.
                assert!(shown.group_specs.is_empty());
            })
        })
        .answers(200, Some(json!({"group_type": {"id": GTID, "name": "consistent", "description": "db volumes",
            "is_public": true}})))
        .sends("GET", pp(&format!("/group_types/{GTID}"))),
        op("delete_group_type", |c| {
            Box::pin(async move { c.delete_group_type().group_type_id(GTID).send().await.unwrap().into_inner() })
        })
        .answers(202, None)
        .sends("DELETE", pp(&format!("/group_types/{GTID}"))),
        op("list_groups", |c| {
            Box::pin(async move {
                let listed = c.list_groups().name("db").send().await.unwrap();
                assert_eq!(listed.groups[0].name.as_deref(), Some("db"));
            })
        })
        .answers(200, Some(json!({"groups": [{"id": GID, "name": "db"}]})))
        .sends("GET", pp("/groups"))
        .query(&[("name", "db")]),
        op("create_group", |c| {
            Box::pin(async move {
                let body = types::GroupCreateRequest {
                    group: types::GroupCreate {
                        group_type: "consistent".to_owned(),
                        volume_types: vec!["__DEFAULT__".to_owned()],
                        name: Some("db".to_owned()),
                        availability_zone: None,
                        description: None,
                    },
                };
                let made = c.create_group().body(body).send().await.unwrap();
                assert_eq!(made.group.id, GID);
            })
        })
        .answers(202, Some(json!({"group": {"id": GID, "name": "db"}})))
        .sends("POST", pp("/groups"))
        .body(json!({"group": {"group_type": "consistent", "volume_types": ["__DEFAULT__"], "name": "db"}})),
        op("list_groups_detail", |c| {
            Box::pin(async move {
                let listed = c.list_groups_detail().list_volume(true).limit(1u64).send().await.unwrap();
                let g = &listed.groups[0];
                assert_eq!(g.status, types::GroupStatus::Available);
                assert_eq!(g.volumes, [VID]);
                assert_eq!(g.group_type.as_deref(), Some(GTID));
            })
        })
        .answers(200, Some(json!({"groups": [group()]})))
        .sends("GET", pp("/groups/detail"))
        .query(&[("list_volume", "true"), ("limit", "1")]),
        op("show_group", |c| {
            Box::pin(async move {
                let shown = c.show_group().group_id(GID).send().await.unwrap().into_inner().group;
                // A status this client does not know is kept.
                assert_eq!(shown.status.as_str(), "replicating");
                assert!(shown.volumes.is_empty());
            })
        })
        .answers(200, Some({
            let mut g = group();
            g["status"] = json!("replicating");
            g.as_object_mut().unwrap().remove("volumes");
            json!({"group": g})
        }))
        .sends("GET", pp(&format!("/groups/{GID}"))),
        op("update_group", |c| {
            Box::pin(async move {
                let update = types::GroupUpdate {
                    add_volumes: Some(format!("{VID},{SID}")),
                    name: None,
                    description: None,
                    remove_volumes: None,
                };
                let body = types::GroupUpdateRequest { group: update };
                c.update_group().group_id(GID).body(body).send().await.unwrap().into_inner()
            })
        })
        .answers(202, None)
        .sends("PUT", pp(&format!("/groups/{GID}")))
        .body(json!({"group": {"add_volumes": format!("{VID},{SID}")}})),
        op("delete_group", |c| {
            Box::pin(async move {
                let with_volumes = types::GroupDelete { delete_volumes: Some(true) };
                c.delete_group(GID, with_volumes).await.unwrap().into_inner()
            })
        })
        .answers(202, None)
        .sends("POST", pp(&format!("/groups/{GID}/action")))
        .body(json!({"delete": {"delete-volumes": true}})),
        op("reset_group_status", |c| {
            Box::pin(async move {
                let status = types::GroupResetStatusStatus::Available;
                c.reset_group_status(GID, types::GroupResetStatus { status }).await.unwrap().into_inner()
            })
        })
        .answers(202, None)
        .sends("POST", pp(&format!("/groups/{GID}/action")))
        .body(json!({"reset_status": {"status": "available"}})),
        op("list_group_snapshots", |c| {
            Box::pin(async move {
                let listed = c.list_group_snapshots().group_id(GID).send().await.unwrap();
                assert_eq!(listed.group_snapshots[0].name.as_deref(), Some("nightly"));
                assert_eq!(listed.group_snapshots[0].group_type_id, None);
            })
        })
        .answers(200, Some(json!({"group_snapshots": [{"id": GSID, "name": "nightly"}]})))
        .sends("GET", pp("/group_snapshots"))
        .query(&[("group_id", GID)]),
        op("create_group_snapshot", |c| {
            Box::pin(async move {
                let create = types::GroupSnapshotCreate {
                    group_id: GID.to_owned(),
                    name: Some("nightly".to_owned()),
                    description: Some("one point".to_owned()),
                };
                let body = types::GroupSnapshotCreateRequest { group_snapshot: create };
                let made = c.create_group_snapshot().body(body).send().await.unwrap();
                assert_eq!(made.group_snapshot.group_type_id.as_deref(), Some(GTID));
            })
        })
        .answers(202, Some(json!({"group_snapshot": {"id": GSID, "name": "nightly", "group_type_id": GTID}})))
        .sends("POST", pp("/group_snapshots"))
        .body(json!({"group_snapshot": {"group_id": GID, "name": "nightly", "description": "one point"}})),
        op("list_group_snapshots_detail", |c| {
            Box::pin(async move {
                let listed = c
                    .list_group_snapshots_detail()
                    .status(types::GroupSnapshotStatus::Available)
                    .sort("created_at:asc")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(listed.group_snapshots[0].group_id, GID);
                assert_eq!(listed.group_snapshots[0].status, types::GroupSnapshotStatus::Available);
            })
        })
        .answers(200, Some(json!({"group_snapshots": [group_snapshot()]})))
        .sends("GET", pp("/group_snapshots/detail"))
        .query(&[("status", "available"), ("sort", "created_at:asc")]),
        op("show_group_snapshot", |c| {
            Box::pin(async move {
                let shown = c.show_group_snapshot().group_snapshot_id(GSID).send().await.unwrap();
                let created = shown.into_inner().group_snapshot.created_at.map(|t| t.to_string());
                assert_eq!(created.as_deref(), Some("2026-12-05T00:49:03.585928"));
            })
        })
        .answers(200, Some(json!({"group_snapshot": group_snapshot()})))
        .sends("GET", pp(&format!("/group_snapshots/{GSID}"))),
        op("delete_group_snapshot", |c| {
            Box::pin(async move {
                c.delete_group_snapshot().group_snapshot_id(GSID).send().await.unwrap().into_inner()
            })
        })
        .answers(202, None)
        .sends("DELETE", pp(&format!("/group_snapshots/{GSID}"))),
        op("reset_group_snapshot_status", |c| {
            Box::pin(async move {
                let status = types::GroupSnapshotResetStatusStatus::Error;
                c.reset_group_snapshot_status(GSID, types::GroupSnapshotResetStatus { status })
                    .await
                    .unwrap()
                    .into_inner()
            })
        })
        .answers(202, None)
        .sends("POST", pp(&format!("/group_snapshots/{GSID}/action")))
        .body(json!({"reset_status": {"status": "error"}})),
        // ---- manageable snapshots and resource filters
        op("list_manageable_snapshots", |c| {
            Box::pin(async move {
                let call = c.list_manageable_snapshots().host("host@backend").limit(10u64).sort("size:asc");
                assert_eq!(call.send().await.unwrap().manageable_snapshots[0].size, Some(2));
            })
        })
        .answers(
            200,
            Some(json!({"manageable-snapshots": [{"reference": {"source-name": "snap-1"}, "size": 2,
                "safe_to_manage": true, "source_reference": {"source-name": "vol-1"}}]})),
        )
        .sends("GET", pp("/manageable_snapshots"))
        .query(&[("host", "host@backend"), ("limit", "10"), ("sort", "size:asc")]),
        op("list_manageable_snapshots_detail", |c| {
            Box::pin(async move {
                let call = c.list_manageable_snapshots_detail().cluster("c1").marker(r#"{"source-name":"snap-0"}"#);
                assert_eq!(call.send().await.unwrap().manageable_snapshots[0].cinder_id.as_deref(), Some(SID));
            })
        })
        .answers(
            200,
            Some(json!({"manageable-snapshots": [{"reference": {"source-name": "snap-1"}, "size": null,
                "safe_to_manage": false, "source_reference": {"source-name": "vol-1"},
                "reason_not_safe": "already managed", "cinder_id": SID, "extra_info": {"pool": null}}]})),
        )
        .sends("GET", pp("/manageable_snapshots/detail"))
        .query(&[("cluster", "c1"), ("marker", r#"{"source-name":"snap-0"}"#)]),
        op("manage_snapshot", |c| {
            Box::pin(async move {
                let body = json!({"snapshot": {"volume_id": VID, "ref": {"source-name": "snap-1"}, "name": "adopted"}});
                let body: types::SnapshotManageRequest = serde_json::from_value(body).unwrap();
                let adopted = c.manage_snapshot().body(body).send().await.unwrap();
                assert_eq!(adopted.snapshot.status, types::SnapshotStatus::Creating);
            })
        })
        .answers(
            202,
            Some(json!({"snapshot": {"id": SID, "created_at": "2026-11-22T12:05:53.624993", "updated_at": null,
                "name": "adopted", "description": null, "volume_id": VID, "status": "creating", "size": 1,
                "metadata": {}}})),
        )
        .sends("POST", pp("/manageable_snapshots"))
        .body(json!({"snapshot": {"volume_id": VID, "ref": {"source-name": "snap-1"}, "name": "adopted"}})),
        op("list_resource_filters", |c| {
            Box::pin(async move {
                let filters = c.list_resource_filters().resource("backup").send().await.unwrap();
                assert_eq!(filters.resource_filters[0].filters, ["name", "status"]);
            })
        })
        .answers(200, Some(json!({"resource_filters": [{"resource": "backup", "filters": ["name", "status"]}]})))
        .sends("GET", pp("/resource_filters"))
        .query(&[("resource", "backup")]),
    ]
}

/// Each row: the call sends exactly its one request (method, path, query,
/// headers, body), that request is the row's operation by the table, and
/// the call decodes the answer. Every operation of the table has a row.
#[tokio::test]
async fn every_operation_on_the_wire() {
    let mut h = Harness::new().await;
    let cases = cases();
    for case in &cases {
        h.answer(case.status, case.reply.clone()).await;
        (case.call)(&h.client).await;
        let sent = h.sent().await;
        assert_eq!(operation_of(&sent), Some(case.operation), "{} {}: the row's operation", sent.method, sent.url);
        let query: Vec<(&str, &str)> = case.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        expect(&sent, case.method, &case.path, &query, case.body.clone());
    }

    let mut rows = BTreeSet::new();
    for case in &cases {
        assert!(rows.insert(case.operation), "two rows for {}", case.operation);
    }
    let all: BTreeSet<&str> = OPERATIONS
        .iter()
        .filter(|op| !op.path.ends_with("/action") || op.action.is_some())
        .map(|op| op.method_name)
        .collect();
    let missing: Vec<_> = all.difference(&rows).collect();
    assert!(missing.is_empty(), "operations without a row: {missing:?}");
}

/// User messages: below 3.5 their filters are refused before sending;
/// below 3.3 the call.
#[tokio::test]
async fn messages_below_their_microversions_are_refused_before_sending() {
    let mut h = Harness::new().await;
    h.answer(200, Some(json!({"messages": []}))).await;
    let refused = client(&h.server, Microversion::new(3, 4)).list_messages().resource_uuid("x").send().await;
    let refused = refused.unwrap_err();
    assert!(refused.to_string().contains("resource_uuid"), "{refused}");
    let refused = client(&h.server, Microversion::new(3, 2)).list_messages().send().await.unwrap_err();
    assert!(refused.to_string().contains("3.3"), "{refused}");
    assert!(h.server.received_requests().await.unwrap().is_empty(), "nothing was sent");
}

/// Groups (3.13), group snapshots (3.14), their paging (3.29), the groups'
/// volume lists (3.25) and reset-status actions (3.19, 3.20): below their
/// microversions they are refused before sending.
#[tokio::test]
async fn groups_below_their_microversions_are_refused_before_sending() {
    let mut h = Harness::new().await;
    h.answer(200, Some(json!({"group_snapshots": []}))).await;
    let at = |minor| client(&h.server, Microversion::new(3, minor));
    let refused = at(12).list_groups().send().await.unwrap_err();
    assert!(refused.to_string().contains("3.13"), "{refused}");
    let refused = at(13).list_group_snapshots().send().await.unwrap_err();
    assert!(refused.to_string().contains("3.14"), "{refused}");
    let refused = at(28).list_group_snapshots().limit(1u64).send().await.unwrap_err();
    assert!(refused.to_string().contains("limit") && refused.to_string().contains("3.29"), "{refused}");
    let refused = at(24).show_group().group_id(GID).list_volume(true).send().await.unwrap_err();
    assert!(refused.to_string().contains("list_volume"), "{refused}");
    let status = types::GroupSnapshotResetStatus { status: types::GroupSnapshotResetStatusStatus::Available };
    let refused = at(18).reset_group_snapshot_status(GSID, status).await.unwrap_err();
    assert!(refused.to_string().contains("3.19"), "{refused}");
    let status = types::GroupResetStatus { status: types::GroupResetStatusStatus::Available };
    let refused = at(19).reset_group_status(GID, status).await.unwrap_err();
    assert!(refused.to_string().contains("3.20"), "{refused}");
    let refused = at(10).list_group_types().send().await.unwrap_err();
    assert!(refused.to_string().contains("3.11"), "{refused}");
    assert!(h.server.received_requests().await.unwrap().is_empty(), "nothing was sent");
    // At 3.28 the list itself is there.
    at(28).list_group_snapshots().send().await.unwrap();
}

/// The operation a received request belongs to, by method, path template and
/// (for `…/action`) the body's key.
fn operation_of(r: &Request) -> Option<&'static str> {
    let path = r.url.path();
    let relative = path.strip_prefix(&format!("/v3/{PROJECT}")).unwrap_or(path);
    let action_key = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|b| b.as_object().and_then(|o| o.keys().next().cloned()));
    OPERATIONS
        .iter()
        .filter(|op| op.method == r.method.as_str())
        .filter(|op| match op.action {
            Some(key) => action_key.as_deref() == Some(key),
            None => !op.path.ends_with("/action"),
        })
        .find(|op| {
            let candidate = if op.path == "/" || op.path == "/v3/" { path } else { relative };
            let (t, c): (Vec<_>, Vec<_>) = (op.path.split('/').collect(), candidate.split('/').collect());
            t.len() == c.len() && t.iter().zip(&c).all(|(t, c)| t.starts_with('{') || t == c)
        })
        .map(|op| op.method_name)
}

#[tokio::test]
async fn error_bodies_name_operation_status_fault_and_request_id() {
    let mut h = Harness::new().await;
    let bid = "0000-missing";
    h.answer(404, Some(json!({"itemNotFound": {"code": 404, "message": "Backup 0000-missing could not be found."}})))
        .await;
    let err = h.client.show_backup().backup_id(bid).send().await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.request_id(), Some(REQUEST_ID));
    assert_eq!(err.operation(), Some("show_backup"));
    let fault = err.fault().unwrap();
    assert_eq!(fault.name(), Some("itemNotFound"));
    assert_eq!(fault.code(), Some(404));
    assert_eq!(
        err.to_string(),
        format!(
            "show_backup failed: HTTP 404 itemNotFound: Backup 0000-missing could not be found., request id {REQUEST_ID}"
        )
    );

    // A quota fault keeps retryAfter.
    h.answer(413, Some(json!({"overLimit": {"code": 413, "message": "BackupLimitExceeded: Maximum number of backups allowed (10) exceeded", "retryAfter": "0"}}))).await;
    let err = h
        .client
        .create_backup()
        .body(types::BackupCreateRequest { backup: types::BackupCreate::builder().volume_id("v").try_into().unwrap() })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.fault().unwrap().retry_after(), Some("0"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(413));

    // The unknown-route shape is kept too.
    h.answer(
        404,
        Some(json!({"message": "The resource could not be found.", "code": "404 Not Found", "title": "Not Found"})),
    )
    .await;
    let err = h.client.show_snapshot().snapshot_id("x").send().await.unwrap_err();
    assert_eq!(err.fault().unwrap().name(), Some("Not Found"));

    // A body that is not JSON at all: operation, status, request id and the
    // start of the body.
    h.collect().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("x-openstack-request-id", REQUEST_ID)
                .set_body_raw("<html>Service Unavailable</html>", "text/html"),
        )
        .mount(&h.server)
        .await;
    let err = h.client.list_backups().send().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::InvalidResponsePayload(_)), "{err:?}");
    for part in ["list_backups", "HTTP 503", REQUEST_ID, "<html>Service Unavailable"] {
        assert!(text.contains(part), "{part:?} missing from {text:?}");
    }

    // A success body of the wrong shape.
    h.answer(200, Some(json!({"backup": 5}))).await;
    let err = h.client.show_backup().backup_id(bid).send().await.unwrap_err();
    let text = err.to_string();
    for part in ["show_backup", "HTTP 200", REQUEST_ID, "{\"backup\":5}"] {
        assert!(text.contains(part), "{part:?} missing from {text:?}");
    }

    // Version discovery answers its own way (300 for the root) but a fault
    // is still a fault, with its status and request id.
    h.answer(500, Some(json!({"computeFault": {"code": 500, "message": "The server has either erred."}}))).await;
    let err = h.client.list_api_versions().await.unwrap_err();
    assert!(matches!(err, Error::ErrorResponse(_)), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(err.fault().unwrap().name(), Some("computeFault"));
    assert_eq!(err.request_id(), Some(REQUEST_ID));
    assert_eq!(err.operation(), Some("list_api_versions"));

    // A status the spec does not list.
    h.answer(302, None).await;
    let err = h.client.show_backup().backup_id(bid).send().await.unwrap_err();
    assert_eq!(err.to_string(), format!("show_backup: unexpected HTTP 302, request id {REQUEST_ID}"));

    // A builder argument left out: nothing is sent.
    h.answer(200, None).await;
    let err = h.client.show_backup().send().await.unwrap_err();
    assert!(err.to_string().contains("backup_id was not initialized"), "{err}");
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn calls_and_parameters_above_the_microversion_are_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(reply(200, Some(&json!({"backups": []})))).mount(&server).await;

    let old = client(&server, Microversion::new(3, 8));
    let err = old
        .update_backup()
        .backup_id("b")
        .body(types::BackupUpdateRequest { backup: Default::default() })
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "update_backup needs microversion 3.9 or later; the client uses 3.8 (nothing was sent)"
    );

    let err = client(&server, Microversion::new(3, 44)).list_backups().with_count(true).send().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "list_backups: query parameter `with_count` needs microversion 3.45 or later; the client uses 3.44 (nothing was sent)"
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    // At exactly the minimum, both go out.
    let at_min = client(&server, Microversion::new(3, 9));
    at_min
        .update_backup()
        .backup_id("b")
        .body(types::BackupUpdateRequest { backup: Default::default() })
        .send()
        .await
        .unwrap_err(); // the mock's list body is not a backup: the request was sent, that is what counts
    client(&server, Microversion::new(3, 45)).list_backups().with_count(true).send().await.unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].headers.get("openstack-api-version").unwrap(), "volume 3.9");
    assert_eq!(sent[1].url.query(), Some("with_count=true"));
    server.reset().await;
    Mock::given(any()).respond_with(reply(200, Some(&json!({"backups": []})))).mount(&server).await;

    // Without a configured microversion the client sends the base one.
    let base = Client::new(&format!("{}/v3", server.uri()), ClientConfig::new());
    base.list_backups().send().await.unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent[0].headers.get("openstack-api-version").unwrap(), "volume 3.0");
    assert_eq!(sent[0].url.path(), "/v3/backups", "the project-less endpoint form");
    assert!(sent[0].headers.get("x-auth-token").is_none());
}

fn backup(id: &str) -> Value {
    json!({"id": id, "name": null, "links": []})
}

fn page(ids: &[&str], next_marker: Option<&str>, server: &MockServer) -> Value {
    let mut body = json!({"backups": ids.iter().map(|id| backup(id)).collect::<Vec<_>>()});
    if let Some(m) = next_marker {
        body["backups_links"] =
            json!([{"rel": "next", "href": format!("{}/v3/{PROJECT}/backups?limit=2&marker={m}", server.uri())}]);
    }
    body
}

#[tokio::test]
async fn streams_follow_next_links_and_stop_on_an_empty_page() {
    let server = MockServer::start().await;
    let route = pp("/backups");
    Mock::given(method("GET"))
        .and(path(route.clone()))
        .and(query_param_is_missing("marker"))
        .respond_with(reply(200, Some(&page(&["b1", "b2"], Some("b2"), &server))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(route.clone()))
        .and(query_param("marker", "b2"))
        .respond_with(reply(200, Some(&page(&["b3", "b4"], Some("b4"), &server))))
        .mount(&server)
        .await;
    // Cinder links a full last page to an empty one.
    Mock::given(method("GET"))
        .and(path(route.clone()))
        .and(query_param("marker", "b4"))
        .respond_with(reply(200, Some(&page(&[], None, &server))))
        .mount(&server)
        .await;

    let c = client(&server, Microversion::new(3, 71));
    let ids: Vec<String> = c.list_backups().limit(2u64).stream().map_ok(|b| b.id).try_collect().await.unwrap();
    assert_eq!(ids, ["b1", "b2", "b3", "b4"]);
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter().all(|r| r.url.query_pairs().any(|(k, v)| k == "limit" && v == "2")),
        "limit is kept on every page"
    );
}

#[tokio::test]
async fn a_server_that_repeats_its_marker_ends_the_stream_with_an_error() {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(reply(200, Some(&page(&["b1"], Some("b1"), &server)))).mount(&server).await;
    let c = client(&server, Microversion::new(3, 71));
    // At most 10 items: a stream that missed the repeat would never end.
    let stream = futures_util::StreamExt::take(c.list_backups().stream(), 10);
    let results: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(stream).await;
    assert_eq!(results.len(), 3, "page 1, page 2 (same marker), then the error: {results:?}");
    let err = results.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        err.to_string(),
        "list_backups: paging stopped after 2 pages: the server's next link leads back to marker b1, followed already"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_token_stays_out_of_debug_output() {
    let server = MockServer::start().await;
    let c = client(&server, Microversion::new(3, 71));
    let shown = format!("{c:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

/// Every gated request-body property of every spec is refused below its
/// microversion (above it, for a maximum) with nothing sent, names the
/// operation, the JSON pointer and both versions, and goes out at its
/// microversion. A gate added to a spec without a case here fails the test.
#[tokio::test]
async fn every_gated_request_property_is_refused_before_sending() {
    use openstack_backups::{Gated, MicroversionError, Requirement};

    let server = MockServer::start().await;
    Mock::given(any()).respond_with(reply(202, Some(&json!({"backup": backup("b")})))).mount(&server).await;
    let at = |minor| client(&server, Microversion::new(3, minor));
    let v = |minor| Microversion::new(3, minor);
    let mut covered = BTreeSet::new();
    let mut refused = |err: Error, operation: &str, pointer: &str, required: Requirement, configured| {
        let Error::MicroversionUnsupported(m) = &err else { panic!("{operation} {pointer}: {err}") };
        let MicroversionError { service, operation: op, gated, required: r, configured: c, .. } = &**m;
        assert_eq!(*service, "block-storage", "{err}");
        assert_eq!((*op, r, c), (operation, &required, &configured), "{err}");
        let Gated::BodyProperty { pointer: p, .. } = gated else { panic!("{err}") };
        assert_eq!(p, pointer, "{err}");
        let text = err.to_string();
        assert!(text.contains(operation) && text.contains(pointer) && text.contains("nothing was sent"), "{text}");
        covered.insert((operation.to_owned(), pointer.to_owned()));
    };

    // create_backup: metadata (3.43; a key may hold `/`), availability_zone (3.51).
    let create = |metadata: bool, zone: bool| types::BackupCreateRequest {
        backup: types::BackupCreate {
            volume_id: "v".into(),
            metadata: metadata.then(|| [("csi.storage.k8s.io/pvc/name".to_owned(), "data".to_owned())].into()),
            availability_zone: zone.then(|| "nova".to_owned()),
            ..types::builder::BackupCreate::default().volume_id("v").try_into().unwrap()
        },
    };
    let err = at(42).create_backup().body(create(true, false)).send().await.unwrap_err();
    refused(err, "create_backup", "/backup/metadata", Requirement::AtLeast(v(43)), v(42));
    let err = at(50).create_backup().body(create(false, true)).send().await.unwrap_err();
    refused(err, "create_backup", "/backup/availability_zone", Requirement::AtLeast(v(51)), v(50));
    // Without a configured version the base (3.0) is what counts.
    let base = Client::new(&format!("{}/v3", server.uri()), ClientConfig::new().with_retry(RetryPolicy::none()));
    let err = base.create_backup().body(create(true, false)).send().await.unwrap_err();
    refused(err, "create_backup", "/backup/metadata", Requirement::AtLeast(v(43)), v(0));
    // update_backup: metadata (3.43; the call is 3.9).
    let update = |metadata: &[(&str, &str)]| types::BackupUpdateRequest {
        backup: types::BackupUpdate {
            metadata: Some(metadata.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()),
            ..Default::default()
        },
    };
    let err = at(42).update_backup().backup_id("b").body(update(&[("k", "v")])).send().await.unwrap_err();
    refused(err, "update_backup", "/backup/metadata", Requirement::AtLeast(v(43)), v(42));
    // An empty set is a value too (it clears the backup's metadata).
    let err = at(42).update_backup().backup_id("b").body(update(&[])).send().await.unwrap_err();
    refused(err, "update_backup", "/backup/metadata", Requirement::AtLeast(v(43)), v(42));
    // create_volume: backup_id (3.47), group_id (3.13).
    let volume = |backup: bool, group: bool| types::VolumeCreateRequest {
        volume: types::VolumeCreate {
            backup_id: backup.then(|| "b".to_owned()),
            group_id: group.then(|| "g".to_owned()),
            ..Default::default()
        },
        os_sch_hnt_scheduler_hints: Default::default(),
    };
    let err = at(46).create_volume().body(volume(true, false)).send().await.unwrap_err();
    refused(err, "create_volume", "/volume/backup_id", Requirement::AtLeast(v(47)), v(46));
    let err = at(12).create_volume().body(volume(false, true)).send().await.unwrap_err();
    refused(err, "create_volume", "/volume/group_id", Requirement::AtLeast(v(13)), v(12));
    // create_snapshot: `force: false` up to 3.65 only.
    let snapshot = |force| types::SnapshotCreateRequest {
        snapshot: types::builder::SnapshotCreate::default().volume_id("v").force(force).try_into().unwrap(),
    };
    let err = at(66).create_snapshot().body(snapshot(false)).send().await.unwrap_err();
    refused(err, "create_snapshot", "/snapshot/force", Requirement::AtMost(v(65)), v(66));
    assert!(server.received_requests().await.unwrap().is_empty(), "nothing may reach the server");

    // Every gate of every spec has its case above.
    let tables = [
        openstack_backups::block_storage::operations::OPERATIONS,
        openstack_backups::database::operations::OPERATIONS,
        openstack_backups::identity::operations::OPERATIONS,
    ];
    let gates: BTreeSet<(String, String)> = tables
        .iter()
        .flat_map(|t| t.iter())
        .filter(|op| op.action.is_some() || !op.path.ends_with("/action"))
        .flat_map(|op| op.gated_body.iter().map(|g| (op.method_name.to_owned(), g.pointer.to_owned())))
        .collect();
    assert_eq!(covered, gates, "a gated request property without a wire case");

    // At their microversions the same bodies go out, exactly as built.
    // (The mock answers every call with a backup: only the sending counts.)
    let went = |result: Result<(), Error>| {
        if let Err(err) = result {
            assert_ne!(err.kind(), openstack_backups::ErrorKind::MicroversionUnsupported, "{err}");
        }
    };
    went(at(43).create_backup().body(create(true, false)).send().await.map(drop));
    went(at(51).create_backup().body(create(false, true)).send().await.map(drop));
    went(at(47).create_volume().body(volume(true, false)).send().await.map(drop));
    went(at(65).create_snapshot().body(snapshot(false)).send().await.map(drop));
    went(at(66).create_snapshot().body(snapshot(true)).send().await.map(drop));
    // A null or absent gated property is not set: nothing to refuse.
    went(at(0).create_backup().body(create(false, false)).send().await.map(drop));
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 6);
    let first: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(first["backup"]["metadata"], json!({"csi.storage.k8s.io/pvc/name": "data"}));
    assert_eq!(sent[0].headers.get("openstack-api-version").unwrap(), "volume 3.43");
    let last: Value = serde_json::from_slice(&sent[4].body).unwrap();
    assert_eq!(last["snapshot"]["force"], json!(true));
}

/// `microversion()` tells what every request carries.
#[tokio::test]
async fn clients_tell_their_microversion() {
    let server = MockServer::start().await;
    assert_eq!(client(&server, Microversion::new(3, 44)).microversion(), Some(Microversion::new(3, 44)));
    let base = Client::new(&server.uri(), ClientConfig::new());
    assert_eq!(base.microversion(), Some(Microversion::new(3, 0)));
    let trove = openstack_backups::database::Client::new(&server.uri(), ClientConfig::new());
    assert_eq!(trove.microversion(), None, "Trove has no microversions");
}

/// `find_backup`: by id first; on a 404 by exact name through the list's
/// name filter, every page; none and several are errors of their own.
#[tokio::test]
async fn find_by_id_then_by_exact_name() {
    let server = MockServer::start().await;
    let show = sample("backups/v3.43/backup-show-response.json");
    let id = show["backup"]["id"].as_str().unwrap().to_owned();
    let detail = |name: &str, id: &str| {
        let mut b = show["backup"].clone();
        b["name"] = json!(name);
        b["id"] = json!(id);
        b
    };
    Mock::given(method("GET"))
        .and(path(pp(&format!("/backups/{id}"))))
        .respond_with(reply(200, Some(&show)))
        .mount(&server)
        .await;
    let not_found = json!({"itemNotFound": {"code": 404, "message": "Backup nightly could not be found."}});
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"/backups/(nightly|weekly|daily)$"))
        .respond_with(reply(404, Some(&not_found)))
        .mount(&server)
        .await;
    // Two pages of `name=nightly`: the server's filter may also match by
    // prefix on some deployments, so names are matched exactly here too.
    let next = format!("{}/v3/{PROJECT}/backups/detail?name=nightly&limit=1&marker=b1", server.uri());
    Mock::given(method("GET"))
        .and(path(pp("/backups/detail")))
        .and(query_param("name", "nightly"))
        .and(query_param_is_missing("marker"))
        .respond_with(reply(
            200,
            Some(&json!({"backups": [detail("nightly", "b1")], "backups_links": [{"rel": "next", "href": next}]})),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(pp("/backups/detail")))
        .and(query_param("name", "nightly"))
        .and(query_param("marker", "b1"))
        .respond_with(reply(200, Some(&json!({"backups": [detail("nightly-old", "b2")]}))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(pp("/backups/detail")))
        .and(query_param("name", "weekly"))
        .respond_with(reply(200, Some(&json!({"backups": []}))))
        .mount(&server)
        .await;
    let c = client(&server, Microversion::new(3, 71));

    let by_id = c.find_backup(&id).await.unwrap();
    assert_eq!(by_id.id, id);
    let by_name = c.find_backup("nightly").await.unwrap();
    assert_eq!(by_name.id, "b1", "the exact name, across both pages");

    let err = c.find_backup("weekly").await.unwrap_err();
    assert_eq!(err.kind(), openstack_backups::ErrorKind::NotFound);
    assert!(err.is_not_found());
    assert_eq!(err.to_string(), "no backup has the id or the name \"weekly\"");

    server.reset().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"/backups/(nightly|weekly|daily)$"))
        .respond_with(reply(404, Some(&not_found)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(pp("/backups/detail")))
        .respond_with(reply(200, Some(&json!({"backups": [detail("daily", "b1"), detail("daily", "b2")]}))))
        .mount(&server)
        .await;
    let err = c.find_backup("daily").await.unwrap_err();
    assert_eq!(err.kind(), openstack_backups::ErrorKind::AmbiguousName);
    assert_eq!(err.to_string(), "2 backups have the name \"daily\": use one of their ids (b1, b2)");

    // Other errors than 404/400 are the answer.
    server.reset().await;
    Mock::given(any())
        .respond_with(reply(403, Some(&json!({"forbidden": {"code": 403, "message": "no"}}))))
        .mount(&server)
        .await;
    let err = c.find_backup("daily").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "no list after a 403");
}

/// A wait for a status, as its caller sees it: what the progress callback
/// is told at each look, the waiter's own clock, a resource that
/// disappears, a server that keeps failing (each pause clipped to the time
/// left), and `Debug` of the waits.
#[tokio::test]
async fn status_waiters_report_progress_and_keep_to_their_waiter() {
    use openstack_backups::ErrorKind;
    use openstack_backups::wait::Waiter;
    use openstack_backups_tests::NoWait;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    let server = MockServer::start().await;
    let c = client(&server, Microversion::new(3, 71));
    let backup = |status: &str| json!({"backup": {"id": "x", "status": status, "created_at": "2026-11-22T12:05:53.624993", "volume_id": "v", "is_incremental": false, "has_dependent_backups": false}});
    let available = || types::BackupStatus::Available;

    // creating, a status the spec does not list, then available. The
    // waiter's clock (not the client's) takes the pauses.
    for status in ["creating", "resizing"] {
        Mock::given(method("GET"))
            .respond_with(reply(200, Some(&backup(status))))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET")).respond_with(reply(200, Some(&backup("available")))).mount(&server).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let clock = Arc::new(NoWait::default());
    let record = seen.clone();
    let waiter = Waiter::new()
        .delays(Duration::from_secs(2), Duration::from_secs(2))
        .on_progress(move |p| {
            record.lock().unwrap().push((p.status.map(str::to_owned), p.on_the_way, p.progress.clone()));
        })
        .clock(clock.clone());
    c.wait_for_backup("x", available()).with(&waiter).await.unwrap();
    let owned = |s: &str| Some(s.to_owned());
    assert_eq!(
        *seen.lock().unwrap(),
        [(owned("creating"), true, None), (owned("resizing"), false, None), (owned("available"), true, None)],
        "a backup has no progress figure; an unlisted status is not on the way"
    );
    assert_eq!(*clock.0.lock().unwrap(), [Duration::from_secs(2); 2], "the waiter's clock paused");

    // The resource disappears while waited for: a failure that says so,
    // not the show call's 404.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(reply(404, Some(&json!({"itemNotFound": {"code": 404, "message": "gone"}}))))
        .mount(&server)
        .await;
    let err = c.wait_for_backup("x", available()).with(&waiter).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitFailed, "{err}");
    assert!(err.to_string().contains("disappeared while waiting for available"), "{err}");

    // A server that answers 503 to every look: the wait looks again until
    // its timeout, never pausing past it, then ends with the 503.
    server.reset().await;
    let unavailable = json!({"serviceUnavailable": {"code": 503, "message": "Try again later."}});
    Mock::given(method("GET")).respond_with(reply(503, Some(&unavailable))).mount(&server).await;
    let timeout = Duration::from_millis(50);
    let clock = Arc::new(NoWait::default());
    let failing =
        Waiter::new().delays(Duration::from_secs(10), Duration::from_secs(10)).timeout(timeout).clock(clock.clone());
    let err = c.wait_for_backup("x", available()).with(&failing).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    let pauses = clock.0.lock().unwrap().clone();
    assert!(!pauses.is_empty() && pauses.iter().all(|p| *p <= timeout), "{pauses:?}");

    let shown = format!("{:?}", c.wait_for_backup("x", available()));
    assert!(shown.starts_with("Wait { resource: \"backup\", id: \"x\", target: "), "{shown}");
    assert!(shown.contains("waiter: Waiter { timeout: 1800s"), "{shown}");
    let shown = format!("{:?}", c.wait_for_backup_deleted("x"));
    assert!(shown.starts_with("WaitGone { resource: \"backup\", id: \"x\", waiter: Waiter {"), "{shown}");
}

/// The deletion waiters of every Cinder resource: a 404 is deleted, a
/// deletion-failure status fails at once (it is not "still deleting").
#[tokio::test]
async fn deletion_waiters_take_404_as_deleted_and_fail_on_error_deleting() {
    use openstack_backups::ErrorKind;
    use openstack_backups::wait::Waiter;
    use std::time::Duration;

    let server = MockServer::start().await;
    let c = client(&server, Microversion::new(3, 71));
    let fast =
        Waiter::new().delays(Duration::from_millis(1), Duration::from_millis(1)).timeout(Duration::from_secs(10));
    let bodies = [
        (
            "backups",
            json!({"backup": {"id": "x", "status": "STATUS", "created_at": "2026-11-22T12:05:53.624993", "volume_id": "v", "is_incremental": false, "has_dependent_backups": false}}),
        ),
        (
            "snapshots",
            json!({"snapshot": {"id": "x", "status": "STATUS", "created_at": "2026-11-22T12:05:53.624993", "volume_id": "v"}}),
        ),
        ("volumes", json!({"volume": {"id": "x", "status": "STATUS"}})),
    ];
    for (collection, body) in bodies {
        let with = |status: &str| serde_json::from_str::<Value>(&body.to_string().replace("STATUS", status)).unwrap();
        let wait = |c: &Client| {
            let c = c.clone();
            let fast = fast.clone();
            async move {
                match collection {
                    "backups" => c.wait_for_backup_deleted("x").with(&fast).await,
                    "snapshots" => c.wait_for_snapshot_deleted("x").with(&fast).await,
                    _ => c.wait_for_volume_deleted("x").with(&fast).await,
                }
            }
        };
        // deleting, then 404: done.
        server.reset().await;
        Mock::given(method("GET"))
            .respond_with(reply(200, Some(&with("deleting"))))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(reply(404, Some(&json!({"itemNotFound": {"code": 404, "message": "gone"}}))))
            .mount(&server)
            .await;
        wait(&c).await.unwrap_or_else(|e| panic!("{collection}: {e}"));
        assert_eq!(server.received_requests().await.unwrap().len(), 3, "{collection}");

        // deleting, then error_deleting: a failure, without waiting on.
        server.reset().await;
        Mock::given(method("GET"))
            .respond_with(reply(200, Some(&with("deleting"))))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET")).respond_with(reply(200, Some(&with("error_deleting")))).mount(&server).await;
        let err = wait(&c).await.expect_err(collection);
        assert_eq!(err.kind(), ErrorKind::WaitFailed, "{collection}: {err}");
        assert!(err.to_string().contains("error_deleting"), "{err}");
        assert_eq!(server.received_requests().await.unwrap().len(), 2, "{collection}: stopped at the failure");
    }
}

/// `stream()` yields a page's items before asking for the next page, and
/// stops on an empty page even when that page still carries a next link.
#[tokio::test]
async fn streams_yield_page_by_page_and_stop_on_an_empty_page_with_a_link() {
    use futures_util::StreamExt;
    let server = MockServer::start().await;
    let c = client(&server, Microversion::new(3, 71));
    let next = |m: &str| json!([{"rel": "next", "href": format!("{}/v3/{PROJECT}/backups?marker={m}", server.uri())}]);
    Mock::given(query_param_is_missing("marker"))
        .respond_with(reply(200, Some(&json!({"backups": [{"id": "b1"}, {"id": "b2"}], "backups_links": next("b2")}))))
        .mount(&server)
        .await;
    Mock::given(query_param("marker", "b2"))
        .respond_with(reply(200, Some(&json!({"backups": [], "backups_links": next("b2")}))))
        .mount(&server)
        .await;

    let mut stream = Box::pin(c.list_backups().limit(2u64).stream());
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.id, "b1");
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "one page asked for, one item yielded");
    let rest: Vec<String> = stream.map(|b| b.unwrap().id).collect().await;
    assert_eq!(rest, ["b2"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 2, "the empty page ends it, link or not");
}
