//! What `osbackup` sends for python-openstackclient's (and
//! python-troveclient's) options that the test servers cannot take for real
//! (an image service, a consistency group, a backup in Trove's fake mode),
//! and for the group commands, whose real-server run is slow and cannot
//! make a backup fail on demand, against a mock: the request bodies and
//! query strings, the columns printed, and what is refused before sending.

use std::process::{Command, Output};

use openstack_backups::block_storage::{mock, types};
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

// The group commands. The real Cinder runs them in real.rs's
// `cinder_groups` (slow: volumes on LVM); here every request body is
// matched exactly by a typed mock that expects it once, and every column
// python-openstackclient prints is checked.

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn json_out(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `g1` as Cinder shows it, with `volumes` only when `list_volume` is asked.
async fn mount_group(server: &MockServer, volumes: &[&str]) {
    let group = |volumes: &[&str]| -> types::GroupResponse {
        typed(json!({"group": {"id": "g1", "status": "available", "name": "db", "description": "db volumes",
            "group_type": "gt1", "volume_types": ["vt1"], "availability_zone": "nova",
            "created_at": "2026-12-05T01:00:00.000000", "volumes": volumes}}))
    };
    let plain = group(&[]);
    mock::show_group(|when, then| {
        when.group_id("g1").list_volume(None);
        then.ok(&plain);
    })
    .mount(server)
    .await;
    let listed = group(volumes);
    mock::show_group(|when, then| {
        when.group_id("g1").list_volume(true);
        then.ok(&listed);
    })
    .mount(server)
    .await;
}

/// `gs1`, made once of `g1` with `name` and `description`, shown
/// `available`, and deleted `deletes` times.
async fn mount_group_snapshot(server: &MockServer, name: &str, description: &str, deletes: u64) {
    let made = typed::<types::GroupSnapshotSummaryResponse>(
        json!({"group_snapshot": {"id": "gs1", "name": name, "group_type_id": "gt1"}}),
    );
    let create = typed::<types::GroupSnapshotCreateRequest>(
        json!({"group_snapshot": {"group_id": "g1", "name": name, "description": description}}),
    );
    mock::create_group_snapshot(|when, then| {
        when.body(&create);
        then.accepted(&made);
    })
    .expect(1)
    .mount(server)
    .await;
    let shown = typed::<types::GroupSnapshotResponse>(json!({"group_snapshot": {"id": "gs1", "status": "available",
        "group_id": "g1", "group_type_id": "gt1", "created_at": "2026-12-05T01:00:00.000000", "name": name,
        "description": description}}));
    mock::show_group_snapshot(|when, then| {
        when.group_snapshot_id("gs1");
        then.ok(&shown);
    })
    .mount(server)
    .await;
    mock::delete_group_snapshot(|when, then| {
        when.group_snapshot_id("gs1");
        then.accepted();
    })
    .expect(deletes)
    .mount(server)
    .await;
}

#[tokio::test]
async fn volume_group_commands_send_osc_bodies_and_show_osc_columns() {
    let server = cloud().await;
    mount_group(&server, &["v1", "v2"]).await;
    for id in ["v1", "v2"] {
        let volume = typed::<types::VolumeResponse>(json!({"volume": {"id": id, "status": "available", "size": 1}}));
        mock::show_volume(|when, then| {
            when.volume_id(id);
            then.ok(&volume);
        })
        .mount(&server)
        .await;
    }
    let group_type = typed::<types::GroupTypeResponse>(json!({"group_type": {"id": "gt1", "name": "db-type",
        "is_public": true, "group_specs": {"consistent_group_snapshot_enabled": "<is> True"}}}));
    mock::show_group_type(|when, then| {
        when.group_type_id("gt1");
        then.ok(&group_type);
    })
    .mount(&server)
    .await;
    let made = typed::<types::GroupSummaryResponse>(json!({"group": {"id": "g1", "name": "db"}}));
    let create = typed::<types::GroupCreateRequest>(json!({"group": {"group_type": "gt1",
        "volume_types": ["vt2", "vt1"], "name": "db", "availability_zone": "nova"}}));
    mock::create_group(|when, then| {
        when.body(&create);
        then.accepted(&made);
    })
    .expect(1)
    .mount(&server)
    .await;
    let updates = [
        json!({"group": {"name": "db2"}}),
        json!({"group": {"add_volumes": "v1,v2"}}),
        json!({"group": {"remove_volumes": "v2"}}),
    ];
    for update in &updates {
        let update = typed::<types::GroupUpdateRequest>(update.clone());
        mock::update_group(|when, then| {
            when.group_id("g1").body(&update);
            then.accepted();
        })
        .expect(1)
        .mount(&server)
        .await;
    }
    let delete = typed::<types::GroupDelete>(json!({"delete-volumes": true}));
    mock::delete_group(|when, then| {
        when.group_id("g1").body(&delete);
        then.accepted();
    })
    .expect(1)
    .mount(&server)
    .await;

    let mut shown = json_out(&osbackup(&server, &["volume", "group", "show", "g1", "-f", "json"]));
    let created = shown.as_object_mut().unwrap().remove("Created At").unwrap();
    assert!(created.as_str().is_some_and(|c| c.starts_with("2026-12-05")), "{created}");
    assert_eq!(
        shown,
        json!({"ID": "g1", "Status": "available", "Name": "db", "Description": "db volumes", "Group Type": "gt1",
            "Volume Types": ["vt1"], "Availability Zone": "nova", "Volumes": null, "Group Snapshot ID": null,
            "Source Group ID": null}),
        "OSC's columns; the volumes only when asked for"
    );
    let members = json_out(&osbackup(&server, &["volume", "group", "show", "g1", "--volumes", "-f", "json"]));
    assert_eq!(members["Volumes"], json!(["v1", "v2"]));

    // Without a change, `set` shows the group and sends nothing.
    let same = json_out(&osbackup(&server, &["volume", "group", "set", "g1", "-f", "json"]));
    assert_eq!(same["Name"], "db");
    json_out(&osbackup(&server, &["volume", "group", "set", "g1", "--name", "db2", "-f", "json"]));
    let out = osbackup(&server, &["volume", "group", "add", "volume", "g1", "v1", "v2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = osbackup(&server, &["volume", "group", "remove", "volume", "g1", "v2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The older positional form of the types, as OSC still takes it.
    let args = ["volume", "group", "create", "gt1", "vt1", "--volume-type", "vt2", "--name", "db"];
    let made = json_out(&osbackup(&server, &[&args[..], &["--availability-zone", "nova", "-f", "json"]].concat()));
    assert_eq!(made["ID"], "g1");
    let out = osbackup(&server, &["volume", "group", "create", "--volume-group-type", "gt1", "--name", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected at least one --volume-type VOLUME_TYPE"));

    let out = osbackup(&server, &["volume", "group", "delete", "g1", "--force"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    server.verify().await;
}

#[tokio::test]
async fn volume_group_snapshot_and_type_commands_send_osc_bodies_and_show_osc_columns() {
    let server = cloud().await;
    mount_group(&server, &[]).await;
    mount_group_snapshot(&server, "point", "before the upgrade", 1).await;
    for (name, public) in [("public-type", true), ("private-type", false)] {
        let create = typed::<types::GroupTypeCreateRequest>(
            json!({"group_type": {"name": name, "description": "db volumes", "is_public": public}}),
        );
        let made = typed::<types::GroupTypeResponse>(json!({"group_type": {"id": format!("id-{name}"),
            "name": name, "description": "db volumes", "is_public": public}}));
        mock::create_group_type(|when, then| {
            when.body(&create);
            then.accepted(&made);
        })
        .expect(1)
        .mount(&server)
        .await;
    }
    let types = typed::<types::GroupTypeList>(json!({"group_types": [{"id": "gt1", "name": "db-type",
        "is_public": true, "description": null, "group_specs": {"consistent_group_snapshot_enabled": "<is> True"}}]}));
    mock::list_group_types(|_, then| {
        then.ok(&types);
    })
    .mount(&server)
    .await;
    mock::show_group_type(|when, then| {
        when.group_type_id("gt1");
        then.ok(&typed::<types::GroupTypeResponse>(json!({"group_type": types.group_types[0]})));
    })
    .mount(&server)
    .await;
    mock::delete_group_type(|when, then| {
        when.group_type_id("gt1");
        then.accepted();
    })
    .expect(1)
    .mount(&server)
    .await;

    let args = ["volume", "group", "snapshot", "create", "g1", "--name", "point"];
    let made =
        json_out(&osbackup(&server, &[&args[..], &["--description", "before the upgrade", "-f", "json"]].concat()));
    let columns = json!({"ID": "gs1", "Status": "available", "Name": "point", "Description": "before the upgrade",
        "Group": "g1", "Group Type": "gt1"});
    assert_eq!(made, columns);
    assert_eq!(json_out(&osbackup(&server, &["volume", "group", "snapshot", "show", "gs1", "-f", "json"])), columns);
    let out = osbackup(&server, &["volume", "group", "snapshot", "delete", "gs1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let public = ["volume", "group", "type", "create", "public-type", "--description", "db volumes", "-f", "json"];
    assert_eq!(json_out(&osbackup(&server, &public))["Is Public"], true, "public unless --private");
    let private = [&public[..4], &["private-type", "--private", "--description", "db volumes", "-f", "json"]].concat();
    assert_eq!(
        json_out(&osbackup(&server, &private)),
        json!({"ID": "id-private-type", "Name": "private-type", "Description": "db volumes", "Is Public": false,
            "Properties": {}}),
        "no specs: an empty map, as OSC prints it"
    );
    let specs = json!({"consistent_group_snapshot_enabled": "<is> True"});
    let listed = json_out(&osbackup(&server, &["volume", "group", "type", "list", "-f", "json"]));
    assert_eq!(listed, json!([{"ID": "gt1", "Name": "db-type", "Is Public": true, "Group Specs": specs}]));
    let shown = json_out(&osbackup(&server, &["volume", "group", "type", "show", "gt1", "-f", "json"]));
    assert_eq!(shown["Properties"], specs);
    let out = osbackup(&server, &["volume", "group", "type", "delete", "gt1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    server.verify().await;
}

/// `volume group backup` where one backup fails, one is still running when
/// the wait ends and one volume has no member snapshot: every volume gets
/// its row (by name in a table), the run exits 1 saying each problem, and
/// the group snapshot a backup may still read is left.
#[tokio::test]
async fn volume_group_backup_reports_every_volume_and_each_problem() {
    let server = cloud().await;
    mount_group(&server, &["v1", "v2", "v3", "v4"]).await;
    mount_group_snapshot(&server, "set", "nightly", 0).await;
    let member = |n: u32| {
        json!({"id": format!("s{n}"), "status": "available", "volume_id": format!("v{n}"), "size": 1,
            "created_at": "2026-12-05T01:00:00.000000", "name": "set", "group_snapshot_id": "gs1"})
    };
    let members = typed::<types::SnapshotDetailList>(json!({"snapshots": [member(1), member(2), member(3)]}));
    mock::list_snapshots_detail(|when, then| {
        when.name("set");
        then.ok(&members);
    })
    .mount(&server)
    .await;
    let volumes = typed::<types::VolumeDetailList>(json!({"volumes": [
        {"id": "v1", "name": "data", "status": "in-use", "size": 1}]}));
    mock::list_volumes_detail(|_, then| {
        then.ok(&volumes);
    })
    .mount(&server)
    .await;
    for (n, status) in [(1, "available"), (2, "error"), (3, "creating")] {
        let shown = typed::<types::SnapshotResponse>(json!({"snapshot": member(n)}));
        mock::show_snapshot(|when, then| {
            when.snapshot_id(&format!("s{n}"));
            then.ok(&shown);
        })
        .mount(&server)
        .await;
        let body = typed::<types::BackupCreateRequest>(json!({"backup": {"volume_id": format!("v{n}"),
            "snapshot_id": format!("s{n}"), "name": "set", "description": "nightly", "incremental": true,
            "metadata": {"group_id": "g1", "group_snapshot_id": "gs1"}}}));
        let made = typed::<types::BackupSummaryResponse>(json!({"backup": {"id": format!("b{n}"), "name": "set"}}));
        mock::create_backup(|when, then| {
            when.body(&body);
            then.accepted(&made);
        })
        .expect(1)
        .mount(&server)
        .await;
        let backup = typed::<types::BackupResponse>(json!({"backup": {"id": format!("b{n}"), "status": status,
            "volume_id": format!("v{n}"), "snapshot_id": format!("s{n}"), "name": "set", "is_incremental": true,
            "created_at": "2026-12-05T01:00:01.000000", "has_dependent_backups": false,
            "fail_reason": (status == "error").then_some("No space left on the backup store")}}));
        mock::show_backup(|when, then| {
            when.backup_id(&format!("b{n}"));
            then.ok(&backup);
        })
        .mount(&server)
        .await;
    }

    let args = ["volume", "group", "backup", "g1", "--name", "set", "--description", "nightly", "--incremental"];
    let out = osbackup(&server, &[&args[..], &["--wait-timeout", "1"]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows[0], ["Volume", "Snapshot", "Backup", "Status", "Fail Reason"], "{stdout}");
    assert_eq!(rows[1], ["data", "s1", "b1", "available", "None"], "a volume by its name in a table: {stdout}");
    assert_eq!(rows[2][..4], ["v2", "s2", "b2", "error"], "{stdout}");
    assert!(rows[2][4].contains("No space left on the backup store"), "Cinder's reason: {stdout}");
    assert_eq!(rows[3][..4], ["v3", "s3", "b3", "creating"], "the status the wait last saw: {stdout}");
    assert_eq!(rows.len(), 4, "no row for a volume without a member snapshot: {stdout}");
    assert!(stderr.contains("2 of 3 volumes of the group failed to back up."), "{stderr}");
    assert!(stderr.contains("1 volumes of the group have no member snapshot and were not backed up: v4"), "{stderr}");
    assert!(stderr.contains("The group snapshot gs1 was left behind"), "{stderr}");
    server.verify().await;
}

/// `snapshot create --force` sends `force: true` below microversion 3.66,
/// where Cinder needs it to snapshot an in-use volume, and no `force` from
/// 3.66 on, where Cinder snapshots an in-use volume unasked (and refuses
/// `force: false`).
#[tokio::test]
async fn snapshot_create_sends_force_only_below_3_66() {
    let server = cloud().await;
    let volume = "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11";
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/volumes/{volume}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"volume": {"id": volume, "name": "db", "status": "in-use", "size": 1}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v3/{PROJECT}/snapshots")))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"snapshot": {
            "id": "3d1f2a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b", "status": "creating", "volume_id": volume,
            "name": "s", "created_at": "2026-12-06T05:00:00.000000"}})))
        .mount(&server)
        .await;
    for (version, force) in [("3.65", true), ("3.66", true), ("3.65", false)] {
        let mut args = vec!["snapshot", "create", "s", "--volume", volume, "--os-volume-api-version", version];
        if force {
            args.push("--force");
        }
        let out = osbackup(&server, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let bodies: Vec<Value> = sent(&server, "POST", &format!("/v3/{PROJECT}/snapshots"))
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0], json!({"snapshot": {"volume_id": volume, "name": "s", "force": true}}), "3.65");
    assert_eq!(bodies[1], json!({"snapshot": {"volume_id": volume, "name": "s"}}), "3.66");
    assert_eq!(bodies[2], json!({"snapshot": {"volume_id": volume, "name": "s"}}), "3.65 without --force");
}

/// `snapshot create --remote-source` adopts the backend's snapshot
/// (`manage_snapshot`, `POST /manageable_snapshots`) with the name,
/// description and properties given, then shows it as Cinder has it.
#[tokio::test]
async fn snapshot_create_with_a_remote_source_manages_it() {
    let server = cloud().await;
    let volume = "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11";
    let snapshot = "3d1f2a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b";
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/volumes/{volume}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"volume": {"id": volume, "name": "db", "status": "available", "size": 1}})),
        )
        .mount(&server)
        .await;
    let made = |status: &str| {
        json!({"snapshot": {"id": snapshot, "status": status, "volume_id": volume, "name": "adopted",
            "created_at": "2026-12-06T05:00:00.000000"}})
    };
    Mock::given(method("POST"))
        .and(path(format!("/v3/{PROJECT}/manageable_snapshots")))
        .respond_with(ResponseTemplate::new(202).set_body_json(made("creating")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/snapshots/{snapshot}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(made("available")))
        .mount(&server)
        .await;
    let args = ["snapshot", "create", "adopted", "--volume", volume, "--remote-source", "source-name=snap-1"];
    let with = [&args[..], &["--description", "from the array", "--property", "k=v", "-f", "json"]].concat();
    for args in [&args[..], &with] {
        let out = osbackup(&server, args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let shown: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if args.len() > 7 {
            assert_eq!(shown["status"], "available", "shown as Cinder has it now");
        }
    }
    assert!(sent(&server, "POST", &format!("/v3/{PROJECT}/snapshots")).await.is_empty(), "no snapshot taken");
    let bodies: Vec<Value> = sent(&server, "POST", &format!("/v3/{PROJECT}/manageable_snapshots"))
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let reference = json!({"source-name": "snap-1"});
    assert_eq!(
        bodies,
        [
            json!({"snapshot": {"volume_id": volume, "ref": reference, "name": "adopted"}}),
            json!({"snapshot": {"volume_id": volume, "ref": reference, "name": "adopted",
                "description": "from the array", "metadata": {"k": "v"}}}),
        ]
    );
}

/// `volume create`'s sources (a snapshot, a volume, a backup, each found
/// by name or id), description, zone and type go into the body by Cinder's
/// names.
#[tokio::test]
async fn volume_create_sends_its_sources_by_id() {
    let server = cloud().await;
    let (volume, snapshot, backup) = (
        "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11",
        "3d1f2a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b",
        "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716",
    );
    for (p, body) in [
        (
            format!("volumes/{volume}"),
            json!({"volume": {"id": volume, "name": "db", "status": "available", "size": 1}}),
        ),
        (
            format!("snapshots/{snapshot}"),
            json!({"snapshot": {"id": snapshot, "status": "available", "volume_id": volume,
                "created_at": "2026-12-06T05:00:00.000000"}}),
        ),
        (
            format!("backups/{backup}"),
            json!({"backup": {"id": backup, "status": "available", "volume_id": volume, "size": 1,
                "created_at": "2026-12-06T05:00:00.000000", "is_incremental": false,
                "has_dependent_backups": false, "links": []}}),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v3/{PROJECT}/{p}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    let made = json!({"volume": {"id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", "status": "creating", "size": 2}});
    Mock::given(method("POST"))
        .and(path(format!("/v3/{PROJECT}/volumes")))
        .respond_with(ResponseTemplate::new(202).set_body_json(made))
        .mount(&server)
        .await;
    let out = osbackup(
        &server,
        &[
            "volume",
            "create",
            "copy",
            "--size",
            "2",
            "--snapshot",
            snapshot,
            "--source",
            volume,
            "--backup",
            backup,
            "--description",
            "d",
            "--availability-zone",
            "az1",
            "--type",
            "fast",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let requests = sent(&server, "POST", &format!("/v3/{PROJECT}/volumes")).await;
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({"volume": {"size": 2, "name": "copy", "description": "d", "availability_zone": "az1",
            "volume_type": "fast", "snapshot_id": snapshot, "source_volid": volume, "backup_id": backup}})
    );
}

/// `database backup restore` whose request went out but whose answer never
/// came (the connection closed): Trove may have made the instance, and
/// the error says so, naming the instance to look for before trying again
/// (the POST is not retried); a restore Trove refused says what Trove said
/// and nothing more.
#[test]
fn a_restore_cut_off_says_trove_may_have_made_the_instance() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let backup = json!({"backup": {"id": "b7d0a5c2-4a8f-4bd8-9d3b-0e1c2f3a4b5c", "name": "nightly",
        "status": "COMPLETED", "created": "2026-12-03T10:00:00", "updated": "2026-12-03T10:00:00", "size": 0.25,
        "instance_id": "4d9b1b6c-3e2a-4c5d-9f80-0c3a9a7e1b22", "parent_id": null,
        "datastore": {"type": "mysql", "version": "5.7"}}})
    .to_string();
    let refusal =
        json!({"badRequest": {"code": 400, "message": "Volume 'size' cannot exceed maximum of 10 GB"}}).to_string();
    std::thread::spawn(move || {
        let mut posts = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 65536];
            let n = stream.read(&mut buf).unwrap_or(0);
            let (status, body) = if buf[..n].starts_with(b"GET") {
                ("200 OK", &backup)
            } else {
                posts += 1;
                if posts == 1 {
                    continue; // Closed unanswered.
                }
                ("400 Bad Request", &refusal)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nX-Compute-Request-Id: req-1\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let restore = || {
        Command::new(env!("CARGO_BIN_EXE_osbackup"))
            .args(["database", "backup", "restore", "nightly", "--name", "restored", "--flavor", "2"])
            .env_remove("OS_CLOUD")
            .env("OS_AUTH_TYPE", "admin_token")
            .env("OS_TOKEN", "tok")
            .env("OS_PROJECT_ID", PROJECT)
            .env("OS_DATABASE_ENDPOINT_OVERRIDE", format!("http://127.0.0.1:{port}/v1.0/%(project_id)s"))
            .output()
            .unwrap()
    };
    let cut = restore();
    let stderr = String::from_utf8_lossy(&cut.stderr);
    assert_eq!(cut.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Trove may have made the instance all the same: look for \"restored\" before trying again"),
        "{stderr}"
    );
    let refused = restore();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot exceed maximum of 10 GB") && !stderr.contains("may have made"), "{stderr}");
}
