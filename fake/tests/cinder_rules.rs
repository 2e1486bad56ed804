//! The fake Cinder's rules at their edges, on the wire (raw requests, for
//! what the typed client would refuse to send): what a microversion changes
//! of a request, the headers of scripted faults. Each is a rule of Cinder 29
//! a user's code can meet; the mutation run of the fake
//! (`cargo xtask mutants -f fake/src/cinder.rs`) found them untested.

mod common;

use openstack_backups_fake::FakeCloud;
use serde_json::{Value, json};

/// Raw requests to the fake Cinder, as its user.
struct Wire {
    http: reqwest::Client,
    token: String,
    endpoint: String,
}

impl Wire {
    async fn new(cloud: &FakeCloud) -> Wire {
        Wire::as_user(cloud, openstack_backups_fake::USER, openstack_backups_fake::PASSWORD).await
    }

    async fn as_user(cloud: &FakeCloud, user: &str, password: &str) -> Wire {
        let token = common::token(cloud, user, password).await;
        Wire { http: reqwest::Client::new(), token, endpoint: cloud.block_storage_endpoint() }
    }

    /// `method path` at `version` ("3.N") with an optional body: the
    /// status, the body (JSON, or `null`) and the response's headers.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        version: &str,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.endpoint))
            .header("x-auth-token", &self.token)
            .header("openstack-api-version", format!("volume {version}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        (status, response.json().await.unwrap_or(Value::Null), headers)
    }

    async fn get(&self, path: &str, version: &str) -> u16 {
        self.call(reqwest::Method::GET, path, version, None).await.0
    }

    /// `method path` at 3.71 with `body`: the status and Cinder's fault
    /// message (or the body, when it is not a fault).
    async fn send(&self, method: &str, path: &str, body: Value) -> (u16, String) {
        let method = method.parse().unwrap();
        let (status, body, _) = self.call(method, path, "3.71", Some(body)).await;
        let message = body.as_object().and_then(|o| o.values().next()).and_then(|f| f["message"].as_str());
        (status, message.map_or_else(|| body.to_string(), str::to_owned))
    }

    /// A backup's `has_dependent_backups`.
    async fn has_dependents(&self, backup: &str) -> bool {
        let (_, body, _) = self.call(reqwest::Method::GET, &format!("/backups/{backup}"), "3.71", None).await;
        body["backup"]["has_dependent_backups"].as_bool().unwrap()
    }

    /// Creates a 1 GiB volume and returns its id once `available`.
    async fn volume(&self, cloud: &FakeCloud) -> String {
        let (_, body, _) = self
            .call(reqwest::Method::POST, "/volumes", "3.71", Some(json!({"volume": {"size": 1, "name": "w"}})))
            .await;
        cloud.clock().advance(std::time::Duration::from_secs(1));
        body["volume"]["id"].as_str().unwrap().to_owned()
    }

    /// Creates what `path` makes (`/snapshots`, `/backups`) of `volume` and
    /// returns its id once made.
    async fn of(&self, cloud: &FakeCloud, path: &str, key: &str, volume: &str) -> String {
        let (status, body, _) =
            self.call(reqwest::Method::POST, path, "3.71", Some(json!({ key: {"volume_id": volume} }))).await;
        assert_eq!(status, 202, "{body}");
        cloud.clock().advance(std::time::Duration::from_secs(3));
        body[key]["id"].as_str().unwrap().to_owned()
    }
}

/// From 3.31 a list filter outside the resource's defaults is a 400 (below,
/// it is ignored); each resource has its own defaults.
#[tokio::test]
async fn unknown_filters_are_refused_from_3_31() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    for list in ["/volumes", "/volumes/detail", "/snapshots", "/snapshots/detail", "/backups", "/backups/detail"] {
        assert_eq!(wire.get(&format!("{list}?bogus=1"), "3.30").await, 200, "{list} at 3.30");
        assert_eq!(wire.get(&format!("{list}?bogus=1"), "3.31").await, 400, "{list} at 3.31");
        assert_eq!(wire.get(&format!("{list}?status=available&limit=5"), "3.31").await, 200, "{list}");
    }
    // Each resource's own: a snapshot's `consumes_quota`, a volume's `bootable`.
    assert_eq!(wire.get("/snapshots?consumes_quota=true", "3.31").await, 200);
    assert_eq!(wire.get("/volumes?bootable=true", "3.31").await, 200);
    assert_eq!(wire.get("/backups?bootable=true", "3.31").await, 400);
    // Messages: their own filters, from 3.5.
    assert_eq!(wire.get("/messages?bogus=1", "3.31").await, 400);
    assert_eq!(wire.get("/messages?resource_uuid=x", "3.31").await, 200);
    // `with_count` is a parameter from 3.45 (below, an unknown filter), and
    // never one of messages.
    assert_eq!(wire.get("/backups/detail?with_count=true", "3.44").await, 400);
    assert_eq!(wire.get("/backups/detail?with_count=true", "3.45").await, 200);
    assert_eq!(wire.get("/volumes/detail?with_count=true", "3.45").await, 200);
    assert_eq!(wire.get("/messages?with_count=true", "3.45").await, 400);
}

/// A backup's `metadata` needs 3.43: below it, a create that carries one is
/// a 400 and one without is accepted.
#[tokio::test]
async fn backup_metadata_needs_3_43() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    let post = reqwest::Method::POST;
    let (status, volume, _) =
        wire.call(post.clone(), "/volumes", "3.43", Some(json!({"volume": {"size": 1, "name": "m"}}))).await;
    assert_eq!(status, 202, "{volume}");
    let id = volume["volume"]["id"].as_str().unwrap().to_owned();
    cloud.clock().advance(std::time::Duration::from_secs(1));
    let with = json!({"backup": {"volume_id": id, "metadata": {"k": "v"}}});
    let (status, refused, _) = wire.call(post.clone(), "/backups", "3.42", Some(with.clone())).await;
    assert_eq!((status, refused["badRequest"]["code"].as_u64()), (400, Some(400)), "{refused}");
    let (status, made, _) =
        wire.call(post.clone(), "/backups", "3.42", Some(json!({"backup": {"volume_id": id}}))).await;
    assert_eq!(status, 202, "{made}");
    cloud.clock().advance(std::time::Duration::from_secs(3));
    let (status, made, _) = wire.call(post, "/backups", "3.43", Some(with)).await;
    assert_eq!(status, 202, "{made}");
}

/// A scripted 503 or 413 says `Retry-After: 0`, as Cinder's rate and quota
/// refusals let a client retry at once; other statuses carry none. A
/// failure scripted for one operation leaves the others alone.
#[tokio::test]
async fn scripted_faults_carry_retry_after_where_cinder_does() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    for (status, retry_after) in [(503, Some("0")), (413, Some("0")), (500, None), (429, None)] {
        cloud.fail("show_limits", 1, status, "fault", "scripted");
        cloud.fail("create_backup", 1, 500, "computeFault", "not this one");
        let (got, body, headers) = wire.call(reqwest::Method::GET, "/limits", "3.0", None).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(headers.get("retry-after").map(|v| v.to_str().unwrap()), retry_after, "{status}");
        assert_eq!(body["fault"]["message"], "scripted");
        assert_eq!(wire.get("/limits", "3.0").await, 200, "once only");
    }
}

/// Every operation a test can script a failure for ([`OPERATIONS`]) is
/// the request the generated client sends for it: the method, the path
/// and, for an action, the body's key, all read from the specs' operation
/// tables. A failure scripted for `show_snapshot_metadata` fires when the
/// user's code calls `show_snapshot_metadata`, and only then.
///
/// [`OPERATIONS`]: openstack_backups_fake::OPERATIONS
#[tokio::test]
async fn each_scriptable_operation_is_the_specs_request() {
    use openstack_backups::{block_storage, database, identity};
    let cloud = FakeCloud::start().await;
    let root =
        cloud.block_storage_endpoint().trim_end_matches(&format!("/v3/{}", openstack_backups_fake::PROJECT)).to_owned();
    let http = reqwest::Client::new();
    let services = [
        (block_storage::operations::OPERATIONS, cloud.block_storage_endpoint()),
        (database::operations::OPERATIONS, cloud.database_endpoint()),
        (identity::operations::OPERATIONS, format!("{}/v3", cloud.auth_url())),
    ];
    for name in openstack_backups_fake::OPERATIONS {
        let (meta, endpoint) = services
            .iter()
            .find_map(|(table, endpoint)| table.iter().find(|m| m.method_name == *name).map(|m| (m, endpoint)))
            .unwrap_or_else(|| panic!("{name} is in no spec"));
        let mut path = meta.path.to_owned();
        while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
            path.replace_range(open..=close, "p1");
        }
        let url = if meta.tag == "versions" { format!("{root}{path}") } else { format!("{endpoint}{path}") };
        cloud.fail(name, 1, 418, "scripted", name);
        let mut request = http.request(meta.method.parse().unwrap(), &url);
        if let Some(action) = meta.action {
            request = request.json(&json!({ action: null }));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!((status, body["scripted"]["message"].as_str()), (418, Some(*name)), "{} {url}", meta.method);
    }
}

/// The checks of Cinder 29 on updates, metadata, export, import and revert
/// that the typed client lets through or cannot send, with their messages.
#[tokio::test]
async fn changes_are_checked_as_cinder_checks_them() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    let admin = Wire::as_user(&cloud, openstack_backups_fake::ADMIN_USER, openstack_backups_fake::ADMIN_PASSWORD).await;
    let v = wire.volume(&cloud).await;
    let snap = wire.of(&cloud, "/snapshots", "snapshot", &v).await;
    let backup = wire.of(&cloud, "/backups", "backup", &v).await;
    let (s, b) = (format!("/snapshots/{snap}"), format!("/backups/{backup}"));

    // A backup's update: `metadata` from 3.43 only, nothing unknown.
    let with_metadata = json!({"backup": {"name": "n", "metadata": {"k": "v"}}});
    let (status, _, _) = wire.call(reqwest::Method::PUT, &b, "3.42", Some(with_metadata.clone())).await;
    assert_eq!(status, 400);
    assert_eq!(wire.send("PUT", &b, with_metadata).await.0, 200);
    assert_eq!(wire.send("PUT", &b, json!({"backup": {"size": 2}})).await.0, 400);
    let (status, _, _) =
        wire.call(reqwest::Method::PUT, &b, "3.42", Some(json!({"backup": {"description": " d "}}))).await;
    assert_eq!(status, 200);
    let (_, shown, _) = wire.call(reqwest::Method::GET, &b, "3.71", None).await;
    assert_eq!((shown["backup"]["name"].as_str(), shown["backup"]["description"].as_str()), (Some("n"), Some("d")));
    assert_eq!(shown["backup"]["metadata"], json!({"k": "v"}));

    // A snapshot's update: something to change, nothing unknown; the old
    // `display_` names are read too; values trimmed.
    let (status, said) = wire.send("PUT", &s, json!({"snapshot": {}})).await;
    assert_eq!(status, 400, "{said}");
    assert!(said.contains("is not valid under any of the given schemas"), "{said}");
    let (status, said) = wire.send("PUT", &s, json!({"snapshot": {"size": 3}})).await;
    assert!(status == 400 && said.contains("'size' was unexpected"), "{said}");
    let (status, said) =
        wire.send("PUT", &s, json!({"snapshot": {"display_name": " old ", "display_description": "x"}})).await;
    assert_eq!(status, 200, "{said}");
    let (_, shown, _) = wire.call(reqwest::Method::GET, &s, "3.71", None).await;
    assert_eq!(
        (shown["snapshot"]["name"].as_str(), shown["snapshot"]["description"].as_str()),
        (Some("old"), Some("x"))
    );
    let (status, said) = wire.send("PUT", &s, json!({"snapshot": {"description": "y"}})).await;
    assert_eq!(status, 200, "{said}");
    let (_, shown, _) = wire.call(reqwest::Method::GET, &s, "3.71", None).await;
    assert_eq!(
        (shown["snapshot"]["name"].as_str(), shown["snapshot"]["description"].as_str()),
        (Some("old"), Some("y"))
    );

    // Metadata keys: 1 to 255 of letters, digits and `-_:. `; a key's
    // update carries that key alone; an unknown key is a 404.
    let m = format!("{s}/metadata");
    for (key, ok) in [("a-b_c:d. e", true), ("", false), ("a/b", false), ("ä", false)] {
        let (status, said) = wire.send("POST", &m, json!({"metadata": { key: "1" }})).await;
        assert_eq!(status == 200, ok, "{key:?}: {status} {said}");
    }
    assert_eq!(wire.send("POST", &m, json!({"metadata": { "k".repeat(255): "1" }})).await.0, 200);
    assert_eq!(wire.send("POST", &m, json!({"metadata": { "k".repeat(256): "1" }})).await.0, 400);
    assert_eq!(wire.send("POST", &m, json!({"metadata": ["a"]})).await.0, 400);
    // Values: strings of at most 255 characters.
    assert_eq!(wire.send("POST", &m, json!({"metadata": { "v": "v".repeat(255) }})).await.0, 200);
    assert_eq!(wire.send("POST", &m, json!({"metadata": { "v": "v".repeat(256) }})).await.0, 400);
    assert_eq!(wire.send("POST", &m, json!({"metadata": { "v": 1 }})).await.0, 400);
    let (status, said) = wire.send("PUT", &format!("{m}/a"), json!({"meta": {"a": "1", "b": "2"}})).await;
    assert!(status == 400 && said.contains("too many items"), "{said}");
    assert_eq!(wire.send("PUT", &format!("{m}/a"), json!({"meta": {"a": "2"}})).await.0, 200);
    let (status, said) = wire.send("DELETE", &format!("{m}/nope"), json!(null)).await;
    assert!(status == 404 && said.contains("has no metadata with key nope"), "{said}");

    // Export needs an `available` backup; import a readable record of a
    // known backup service, for an id that is not there.
    admin.send("POST", &format!("{b}/action"), json!({"os-reset_status": {"status": "error"}})).await;
    let (status, said) = admin.send("GET", &format!("{b}/export_record"), json!(null)).await;
    assert!(status == 400 && said.contains("must be available"), "{said}");
    let (status, said) =
        admin.send("POST", &format!("{b}/action"), json!({"os-reset_status": {"status": "creating"}})).await;
    assert!(status == 400 && said.contains("valid statuses are"), "{said}");
    let (status, said) = admin.send("POST", &format!("{b}/action"), json!({"os-bogus": {}})).await;
    assert!(status == 400 && said.contains("names no backup action"), "{said}");
    let (status, said) = admin.send("POST", &format!("{s}/action"), json!({"os-bogus": {}})).await;
    assert!(status == 400 && said.contains("names no snapshot action"), "{said}");
    let import = |record: Value| admin.send("POST", "/backups/import_record", json!({ "backup-record": record }));
    let (status, said) = import(json!({"backup_url": "eA=="})).await;
    assert!(status == 400 && said.contains("'backup_service' is a required property"), "{said}");
    let (status, said) = import(json!({"backup_service": "cinder.backup.drivers.nfs", "backup_url": "eA=="})).await;
    assert!(status == 503 && said.contains("could not be found"), "{said}");
    admin.send("POST", &format!("{b}/action"), json!({"os-reset_status": {"status": "available"}})).await;
    let (status, record, _) = admin.call(reqwest::Method::GET, &format!("{b}/export_record"), "3.71", None).await;
    assert_eq!(status, 200, "{record}");
    let service = record["backup-record"]["backup_service"].clone();
    let (status, said) = import(json!({"backup_service": service, "backup_url": "not base64"})).await;
    assert!(status == 400 && said.contains("Can't parse backup record"), "{said}");
    let (status, said) = import(record["backup-record"].clone()).await;
    assert!(status == 400 && said.contains("already exists"), "{said}");

    // Revert (3.40): not there below; a volume without snapshots, one in
    // use, a latest snapshot that is not `available`.
    let r = format!("/volumes/{v}/action");
    let revert = json!({"revert": {"snapshot_id": snap}});
    let (status, _, _) = wire.call(reqwest::Method::POST, &r, "3.39", Some(revert.clone())).await;
    assert_eq!(status, 404);
    let bare = wire.volume(&cloud).await;
    let (status, body, _) =
        wire.call(reqwest::Method::POST, &format!("/volumes/{bare}/action"), "3.40", Some(revert.clone())).await;
    assert_eq!(status, 400, "from 3.40: {body}");
    assert!(body["badRequest"]["message"].as_str().unwrap().contains("doesn't have any snapshot"), "{body}");
    assert!(cloud.attach_volume(&v, "server-1"));
    let (status, said) = wire.send("POST", &r, revert.clone()).await;
    assert!(status == 409 && said.contains("the volume's status must be available"), "{said}");
    assert!(cloud.detach_volume(&v));
    admin.send("POST", &format!("{s}/action"), json!({"os-reset_status": {"status": "error"}})).await;
    let (status, said) = wire.send("POST", &r, revert.clone()).await;
    assert!(status == 409 && said.contains("the snapshot's status must be available"), "{said}");
    let (status, said) = wire.send("POST", &r, json!({"os-extend": {"new_size": 2}})).await;
    assert!(status == 400 && said.contains("names no volume action"), "{said}");
}

/// `force` is read as Cinder reads a boolean: `true`, or a string such as
/// `"True"`, `"yes"`, `"on"`, `"1"`; `"no"`, `"off"`, `"0"` are false.
#[tokio::test]
async fn force_is_read_as_cinder_reads_booleans() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    let v = wire.volume(&cloud).await;
    assert!(cloud.attach_volume(&v, "server-1"));
    let post = |path: &'static str, version: &'static str, body: Value| {
        let wire = &wire;
        async move { wire.call(reqwest::Method::POST, path, version, Some(body)).await.0 }
    };
    let snapshot = |force: Value| json!({"snapshot": {"volume_id": v, "force": force}});
    for (force, made) in
        [(json!("True"), true), (json!("yes"), true), (json!("1"), true), (json!("no"), false), (json!("0"), false)]
    {
        assert_eq!(post("/snapshots", "3.65", snapshot(force.clone())).await == 202, made, "3.65, force {force}");
    }
    // From 3.66 an in-use volume needs no `force`, and a false one is a 400.
    assert_eq!(post("/snapshots", "3.66", snapshot(json!("off"))).await, 400);
    assert_eq!(post("/snapshots", "3.66", snapshot(json!("f"))).await, 400);
    assert_eq!(post("/snapshots", "3.66", snapshot(json!("on"))).await, 202);
    let backup = |force: Value| json!({"backup": {"volume_id": v, "force": force}});
    assert_eq!(post("/backups", "3.71", backup(json!("n"))).await, 400);
    assert_eq!(post("/backups", "3.71", backup(json!("y"))).await, 202);
}

/// Where routes begin: the version document at the root (300, as Cinder
/// answers `GET /`), messages from 3.3, backup updates from 3.9.
#[tokio::test]
async fn routes_begin_at_their_microversions() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    let root =
        cloud.block_storage_endpoint().trim_end_matches(&format!("/v3/{}", openstack_backups_fake::PROJECT)).to_owned();
    let versions = reqwest::get(format!("{root}/")).await.unwrap();
    assert_eq!(versions.status().as_u16(), 300);
    let versions: Value = versions.json().await.unwrap();
    assert!(versions["versions"].as_array().is_some_and(|v| !v.is_empty()), "{versions}");
    // Only a GET is the version document.
    for path in ["/", "/v3/"] {
        let posted = reqwest::Client::new().post(format!("{root}{path}")).send().await.unwrap();
        assert!(posted.status().is_client_error(), "POST {path}: {}", posted.status());
    }
    assert_eq!(reqwest::get(format!("{root}/v3/")).await.unwrap().status().as_u16(), 200);

    assert_eq!(wire.get("/messages", "3.2").await, 404);
    assert_eq!(wire.get("/messages", "3.3").await, 200);
    let v = wire.volume(&cloud).await;
    let b = format!("/backups/{}", wire.of(&cloud, "/backups", "backup", &v).await);
    let rename = || Some(json!({"backup": {"name": "renamed"}}));
    assert_eq!(wire.call(reqwest::Method::PUT, &b, "3.8", rename()).await.0, 404);
    assert_eq!(wire.call(reqwest::Method::PUT, &b, "3.9", rename()).await.0, 200);
}

/// `has_dependent_backups` as Cinder shows it: true once an incremental
/// of the backup is `available`; a `creating` one does not show yet (it
/// still refuses the deletion), another backup's never does.
#[tokio::test]
async fn dependents_show_once_an_incremental_is_made() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    let (v, w) = (wire.volume(&cloud).await, wire.volume(&cloud).await);
    let full = wire.of(&cloud, "/backups", "backup", &v).await;
    let other = wire.of(&cloud, "/backups", "backup", &w).await;
    assert!(!wire.has_dependents(&full).await);
    let (status, body, _) = wire
        .call(reqwest::Method::POST, "/backups", "3.71", Some(json!({"backup": {"volume_id": v, "incremental": true}})))
        .await;
    assert_eq!(status, 202, "{body}");
    assert!(!wire.has_dependents(&full).await, "the incremental is still creating");
    let (status, said) = wire.send("DELETE", &format!("/backups/{full}"), json!(null)).await;
    assert!(status == 400 && said.contains("Incremental backups exist"), "{said}");
    cloud.clock().advance(std::time::Duration::from_secs(3));
    assert!(wire.has_dependents(&full).await);
    assert!(!wire.has_dependents(&other).await, "another volume's backup");
}

/// List filters narrow by every parameter given (all must match); creates
/// check what they are made from: a volume of at least 1 GiB, a backup of
/// an `available` or `in-use` volume, an incremental of the volume's own
/// backups.
#[tokio::test]
async fn filters_narrow_and_creates_check_their_sources() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    let names = |path: String| {
        let wire = &wire;
        async move {
            let (status, body, _) = wire.call(reqwest::Method::GET, &path, "3.71", None).await;
            assert_eq!(status, 200, "{path}: {body}");
            let list = body.as_object().and_then(|o| o.values().next()).and_then(Value::as_array).unwrap();
            list.iter().map(|i| i["name"].as_str().unwrap_or("-").to_owned()).collect::<Vec<_>>()
        }
    };
    let (status, said) = wire.send("POST", "/volumes", json!({"volume": {"size": 0}})).await;
    assert_eq!(status, 400, "{said}");
    let named = |name: &'static str| {
        let wire = &wire;
        async move {
            let (_, body, _) = wire
                .call(reqwest::Method::POST, "/volumes", "3.71", Some(json!({"volume": {"size": 1, "name": name}})))
                .await;
            body["volume"]["id"].as_str().unwrap().to_owned()
        }
    };
    let a = named("a").await;
    // A volume still `creating` cannot be backed up.
    let (status, said) = wire.send("POST", "/backups", json!({"backup": {"volume_id": a}})).await;
    assert!(status == 400 && said.contains("must be available or in-use"), "{said}");
    let b = named("b").await;
    cloud.clock().advance(std::time::Duration::from_secs(1));
    assert_eq!(names("/volumes?name=a".into()).await, ["a"]);
    assert_eq!(names("/volumes/detail?status=available&name=b".into()).await, ["b"]);
    assert!(names("/volumes?status=creating&name=b".into()).await.is_empty());

    for (volume, name) in [(&a, "sa"), (&b, "sb")] {
        let body = json!({"snapshot": {"volume_id": volume, "name": name}});
        assert_eq!(wire.call(reqwest::Method::POST, "/snapshots", "3.71", Some(body)).await.0, 202);
    }
    assert_eq!(names(format!("/snapshots?volume_id={a}")).await, ["sa"]);
    assert_eq!(names("/snapshots/detail?name=sb".into()).await, ["sb"]);
    assert!(names(format!("/snapshots?volume_id={a}&name=sb")).await.is_empty());
    assert!(names("/snapshots?status=available&name=sa".into()).await.is_empty(), "still creating");
    cloud.clock().advance(std::time::Duration::from_secs(1));
    assert_eq!(names("/snapshots?status=available&name=sa".into()).await, ["sa"]);

    // An incremental of `a` cannot build on `b`'s backup.
    wire.of(&cloud, "/backups", "backup", &b).await;
    let (status, said) = wire.send("POST", "/backups", json!({"backup": {"volume_id": a, "incremental": true}})).await;
    assert!(status == 400 && said.contains("No backups available"), "{said}");
}

/// An incremental from a snapshot builds on the volume's newest backup
/// whose data is older than the snapshot, as Cinder 29 picks its parent;
/// with none older, it is refused.
#[tokio::test]
async fn an_incremental_from_a_snapshot_builds_on_older_data() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    let v = wire.volume(&cloud).await;
    let early = wire.of(&cloud, "/snapshots", "snapshot", &v).await;
    let before = wire.of(&cloud, "/backups", "backup", &v).await;
    let snap = wire.of(&cloud, "/snapshots", "snapshot", &v).await;
    let after = wire.of(&cloud, "/backups", "backup", &v).await;
    let from = |snapshot: &str| json!({"backup": {"volume_id": v, "snapshot_id": snapshot, "incremental": true}});
    let (status, said) = wire.send("POST", "/backups", from(&early)).await;
    assert!(status == 400 && said.contains("No backups available"), "{said}");
    let (status, said) = wire.send("POST", "/backups", from(&snap)).await;
    assert_eq!(status, 202, "{said}");
    cloud.clock().advance(std::time::Duration::from_secs(3));
    assert!(wire.has_dependents(&before).await, "the parent: the newest backup older than the snapshot");
    assert!(!wire.has_dependents(&after).await);

    // A full backup from a snapshot holds the snapshot's data, not older
    // data: an incremental from that snapshot has no parent.
    let w = wire.volume(&cloud).await;
    let sw = wire.of(&cloud, "/snapshots", "snapshot", &w).await;
    let (status, said) = wire.send("POST", "/backups", json!({"backup": {"volume_id": w, "snapshot_id": sw}})).await;
    assert_eq!(status, 202, "{said}");
    cloud.clock().advance(std::time::Duration::from_secs(3));
    let (status, said) = wire
        .send("POST", "/backups", json!({"backup": {"volume_id": w, "snapshot_id": sw, "incremental": true}}))
        .await;
    assert!(status == 400 && said.contains("No backups available"), "{said}");
}

/// A restore as Cinder 29 checks and runs it: the backup `available`, a
/// target volume `available` and at least the backup's size; the answer
/// names the target; a new volume is `restoring-backup` until the restore
/// ends, and other volumes being made are not held up. Backup lists filter
/// by every parameter given.
#[tokio::test]
async fn restores_check_their_target() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    let sized = |size: u64, name: &'static str| {
        let wire = &wire;
        async move {
            let body = json!({"volume": {"size": size, "name": name}});
            let (_, body, _) = wire.call(reqwest::Method::POST, "/volumes", "3.71", Some(body)).await;
            body["volume"]["id"].as_str().unwrap().to_owned()
        }
    };
    let status = |kind: &'static str, id: String| {
        let wire = &wire;
        async move {
            let (_, body, _) = wire.call(reqwest::Method::GET, &format!("/{kind}s/{id}"), "3.71", None).await;
            body[kind]["status"].as_str().unwrap().to_owned()
        }
    };
    let (small, big, bigger) = (sized(1, "small").await, sized(2, "big").await, sized(3, "bigger").await);
    cloud.clock().advance(std::time::Duration::from_secs(1));
    let small_backup = wire.of(&cloud, "/backups", "backup", &small).await;
    let big_backup = wire.of(&cloud, "/backups", "backup", &big).await;
    let restore = |backup: &str, body: Value| {
        let (wire, path) = (&wire, format!("/backups/{backup}/restore"));
        async move { wire.send("POST", &path, body).await }
    };

    // The names and filters of the backup list.
    let listed = |query: String| {
        let wire = &wire;
        async move {
            let (_, body, _) = wire.call(reqwest::Method::GET, &format!("/backups{query}"), "3.71", None).await;
            body["backups"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(format!("?volume_id={big}")).await, [big_backup.as_str()]);
    assert_eq!(listed(format!("?volume_id={big}&status=available")).await, [big_backup.as_str()]);
    assert!(listed(format!("?volume_id={big}&status=error")).await.is_empty());

    // Too small a target, then one large enough: named in the answer.
    let (status_code, said) = restore(&big_backup, json!({"restore": {"volume_id": small}})).await;
    assert!(status_code == 400 && said.contains("smaller than backup size 2"), "{said}");
    let (status_code, said) = restore(&big_backup, json!({"restore": {"volume_id": bigger}})).await;
    assert_eq!(status_code, 202, "{said}");
    let answer: Value = serde_json::from_str(&said).unwrap();
    assert_eq!(answer["restore"]["volume_name"], "bigger", "{answer}");
    assert_eq!(status("volume", bigger.clone()).await, "restoring-backup");
    // A target that is busy; a backup that is.
    let (status_code, said) = restore(&small_backup, json!({"restore": {"volume_id": bigger}})).await;
    assert!(status_code == 400 && said.contains("must be available"), "{said}");
    let (status_code, said) = restore(&big_backup, json!({"restore": {"volume_id": big}})).await;
    assert!(status_code == 400 && said.contains("Backup status must be available"), "{said}");
    cloud.clock().advance(std::time::Duration::from_secs(3));

    // To a new volume of the backup's size, while another volume is made.
    let other = sized(1, "other").await;
    let (status_code, said) = restore(&big_backup, json!({"restore": {"name": "fresh"}})).await;
    assert_eq!(status_code, 202, "{said}");
    let fresh = serde_json::from_str::<Value>(&said).unwrap()["restore"]["volume_id"].as_str().unwrap().to_owned();
    cloud.clock().advance(std::time::Duration::from_secs(1));
    assert_eq!(status("volume", other).await, "available", "the other volume is not held up");
    assert_eq!(status("volume", fresh.clone()).await, "restoring-backup");
    let name = |id: String| {
        let wire = &wire;
        async move {
            let (_, shown, _) = wire.call(reqwest::Method::GET, &format!("/volumes/{id}"), "3.71", None).await;
            (shown["volume"]["size"].as_u64(), shown["volume"]["name"].clone(), shown["volume"]["description"].clone())
        }
    };
    let restoring = json!("auto-created_from_restore_from_backup");
    assert_eq!(name(fresh.clone()).await, (Some(2), json!("fresh"), restoring.clone()));
    cloud.clock().advance(std::time::Duration::from_secs(2));
    assert_eq!(status("volume", fresh.clone()).await, "available");
    // As Cinder 29 (tests/tests/real_cinder.rs): a restored volume names its
    // backup in its metadata; a new one made with a name, and a target,
    // keep their names; a new one made without takes the backed-up
    // volume's name and description.
    assert_eq!(name(fresh.clone()).await, (Some(2), json!("fresh"), restoring));
    assert_eq!(name(bigger.clone()).await, (Some(3), json!("bigger"), Value::Null));
    let (status_code, said) = restore(&big_backup, json!({"restore": {}})).await;
    assert_eq!(status_code, 202, "{said}");
    let unnamed = serde_json::from_str::<Value>(&said).unwrap()["restore"]["volume_id"].as_str().unwrap().to_owned();
    assert_eq!(name(unnamed.clone()).await.1, json!(format!("restore_backup_{big_backup}")));
    cloud.clock().advance(std::time::Duration::from_secs(3));
    assert_eq!(name(unnamed.clone()).await, (Some(2), json!("big"), Value::Null));
    for volume in [fresh, bigger, unnamed] {
        let (_, shown, _) = wire.call(reqwest::Method::GET, &format!("/volumes/{volume}"), "3.71", None).await;
        assert_eq!(shown["volume"]["metadata"], json!({"src_backup_id": big_backup}), "{shown}");
    }
}

/// Paging parameters as Cinder reads them, and its next links: a page
/// fuller than `limit` allows links on, a partial one does not, except
/// that with `with_count` a page links on while `limit` is within the
/// count (as Cinder 29's view builder does).
#[tokio::test]
async fn pages_link_on_as_cinders_do() {
    let cloud = FakeCloud::start().await;
    let wire = Wire::new(&cloud).await;
    for _ in 0..3 {
        wire.volume(&cloud).await;
    }
    let page = |query: String| {
        let wire = &wire;
        async move {
            let (status, body, _) = wire.call(reqwest::Method::GET, &format!("/volumes{query}"), "3.71", None).await;
            assert_eq!(status, 200, "{query}: {body}");
            let ids: Vec<String> =
                body["volumes"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect();
            (ids, body.get("volumes_links").is_some())
        }
    };
    let (first, linked) = page("?limit=2".into()).await;
    assert!(linked && first.len() == 2);
    let (second, linked) = page(format!("?limit=2&marker={}", first[1])).await;
    assert!(!linked && second.len() == 1, "a partial page is the last");
    let (_, linked) = page("?limit=5".into()).await;
    assert!(!linked);
    let (counted, linked) = page(format!("?limit=2&with_count=true&marker={}", first[1])).await;
    assert!(linked && counted.len() == 1, "with a count, 2 is within 3");
    let (_, linked) = page(format!("?limit=2&with_count=false&marker={}", first[1])).await;
    assert!(!linked);
    let (rest, linked) = page(format!("?limit=2&with_count=true&marker={}", second[0])).await;
    assert!(!linked && rest.is_empty());
    for bad in ["?limit=-1", "?offset=-1", "?limit=two"] {
        assert_eq!(wire.get(&format!("/volumes{bad}"), "3.71").await, 400, "{bad}");
    }
    assert_eq!(wire.get("/volumes?limit=0", "3.71").await, 200);

    // A next link stays on its list: the detail's on the detail.
    let v = first[0].clone();
    for _ in 0..2 {
        wire.of(&cloud, "/snapshots", "snapshot", &v).await;
    }
    for list in ["/snapshots", "/snapshots/detail", "/volumes", "/volumes/detail"] {
        let (_, body, _) = wire.call(reqwest::Method::GET, &format!("{list}?limit=1"), "3.71", None).await;
        let links = body.as_object().unwrap().iter().find(|(k, _)| k.ends_with("_links")).unwrap().1;
        let href = links[0]["href"].as_str().unwrap();
        assert!(href.contains(&format!("{list}?")), "{list}: {href}");
    }
}
