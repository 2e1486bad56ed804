//! Every example in the spec (so every official sample) decodes into the
//! generated type of its operation's body; request examples re-encode to the
//! same JSON.

use openstack_backups::block_storage::types;
use openstack_backups_tests::Example;
use openstack_backups_tests::{Direction, examples, without_nulls};
use serde_json::Value;

macro_rules! dispatch {
    ($module:ident, $schema:expr, $value:expr, [$($name:ident),* $(,)?]) => {
        match $schema {
            $(stringify!($name) => serde_json::from_value::<openstack_backups::$module::types::$name>($value.clone())
                .map_err(|e| e.to_string())
                .and_then(|decoded| serde_json::to_value(&decoded).map_err(|e| e.to_string())),)*
            other => Err(format!("no generated type is wired into this test for schema `{other}`")),
        }
    };
}

/// Decodes `value` as the generated type named `schema` of the spec's
/// module and re-encodes it.
fn round_trip(spec: &str, schema: &str, value: &Value) -> Result<Value, String> {
    match spec {
        "spec/block-storage-v3.yaml" => dispatch!(
            block_storage,
            schema,
            value,
            [
                BackupAction,
                BackupCreateRequest,
                BackupDetailList,
                BackupList,
                BackupRecordRequest,
                BackupRecordResponse,
                BackupResponse,
                BackupRestoreRequest,
                BackupRestoreResponse,
                BackupSummaryResponse,
                BackupUpdateRequest,
                LimitsResponse,
                Metadata,
                MetadataItem,
                QuotaSetResponse,
                QuotaSetUpdateRequest,
                ResourceFilterList,
                SnapshotAction,
                SnapshotCreateRequest,
                SnapshotDetailList,
                SnapshotList,
                SnapshotManageRequest,
                SnapshotResponse,
                SnapshotUpdateRequest,
                VersionList,
                VolumeAction,
                VolumeCreateRequest,
                VolumeDetailList,
                VolumeResponse,
            ]
        ),
        "spec/database-v1.yaml" => {
            dispatch!(
                database,
                schema,
                value,
                [
                    BackupCreateRequest,
                    BackupList,
                    BackupResponse,
                    BackupStrategyCreateRequest,
                    BackupStrategyList,
                    InstanceRestoreRequest,
                    InstanceResponse
                ]
            )
        }
        "spec/identity-v3.yaml" => dispatch!(identity, schema, value, [AuthRequest, TokenResponse]),
        other => Err(format!("unknown spec {other}")),
    }
}

const SPECS: [(&str, usize); 3] =
    [("spec/block-storage-v3.yaml", 65), ("spec/database-v1.yaml", 11), ("spec/identity-v3.yaml", 3)];

fn label(ex: &Example) -> String {
    format!("{} / {} ({})", ex.operation_id, ex.name, ex.file.as_deref().unwrap_or("inline"))
}

#[test]
fn every_example_decodes_and_requests_re_encode_exactly() {
    let mut failures = Vec::new();
    for (spec, at_least) in SPECS {
        let all = examples(spec);
        assert!(all.len() >= at_least, "{spec}: expected at least {at_least} examples, found {}", all.len());
        for ex in &all {
            check_example(spec, ex, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{} example(s) failed:\n{}", failures.len(), failures.join("\n"));
}

fn check_example(spec: &str, ex: &Example, failures: &mut Vec<String>) {
    {
        match round_trip(spec, &ex.schema, &ex.value) {
            Err(e) => failures.push(format!("{}: does not decode as {}: {e}", label(ex), ex.schema)),
            Ok(encoded) if ex.direction == Direction::Request && encoded != without_nulls(&ex.value) => failures.push(
                format!("{}: re-encodes differently:\n  sample:    {}\n  re-encoded: {}", label(ex), ex.value, encoded),
            ),
            Ok(_) => {}
        }
    }
}

#[test]
fn every_official_sample_is_an_example() {
    check_samples("spec/block-storage-v3.yaml", "cinder-v3");
    check_samples("spec/database-v1.yaml", "trove-v1");
}

fn check_samples(spec: &str, folder: &str) {
    let root = openstack_backups_tests::workspace_root().join("spec/examples").join(folder);
    let used: std::collections::BTreeSet<String> = examples(spec).into_iter().filter_map(|ex| ex.file).collect();
    let mut missing = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let rel = format!("examples/{folder}/{}", path.strip_prefix(&root).unwrap().display());
                if !used.contains(&rel) {
                    missing.push(rel);
                }
            }
        }
    }
    missing.sort();
    assert!(missing.is_empty(), "samples not attached to any operation: {missing:#?}");
}

#[test]
fn timestamps_decode_typed_and_statuses_stay_open() {
    let body = serde_json::json!({"backup": {
        "id": "b1", "status": "frozen", "size": 1, "object_count": 0, "availability_zone": null,
        "container": null, "created_at": "2026-11-22T12:05:53.624993", "updated_at": null,
        "name": null, "description": null, "fail_reason": null, "volume_id": "v1", "links": [],
        "is_incremental": false, "has_dependent_backups": false, "snapshot_id": null,
        "data_timestamp": "2026-11-22T12:05:53.624993", "brand_new_field": {"x": 1}
    }});
    let decoded: types::BackupResponse = serde_json::from_value(body).unwrap();
    let backup = decoded.backup;
    assert_eq!(backup.created_at.to_string(), "2026-11-22T12:05:53.624993");
    assert_eq!(backup.created_at.to_utc().timestamp_subsec_micros(), 624_993);
    assert!(backup.status.is_unknown());
    assert_eq!(backup.status.as_str(), "frozen");
    assert_eq!(serde_json::to_value(&backup.status).unwrap(), "frozen");
    assert_eq!(types::BackupStatus::from("available"), types::BackupStatus::Available);
}

/// Exact writing: every request example with an unknown field added, at the
/// top or inside a wrapped object whose schema is closed
/// (`additionalProperties: false`, or an action `oneOf`), no longer decodes
/// into its request type, so a typo cannot be sent.
#[test]
fn request_types_refuse_unknown_fields() {
    let mut refused = 0;
    let mut failures = Vec::new();
    for (spec, _) in SPECS {
        let text = std::fs::read_to_string(openstack_backups_tests::workspace_root().join(spec)).unwrap();
        let raw = openstack_backups_codegen::load(spec, &text).unwrap().raw;
        let schema_of = |node: &Value| -> Option<Value> {
            let name = node.get("$ref")?.as_str()?.strip_prefix("#/components/schemas/")?;
            raw.pointer(&format!("/components/schemas/{name}")).cloned()
        };
        let closed = |s: &Value| s.get("additionalProperties") == Some(&Value::Bool(false)) || s.get("oneOf").is_some();
        for ex in examples(spec).into_iter().filter(|ex| ex.direction == Direction::Request) {
            let Some(schema) = raw.pointer(&format!("/components/schemas/{}", ex.schema)).cloned() else { continue };
            let mut cases = Vec::new();
            if closed(&schema) {
                let mut v = ex.value.clone();
                v["unexpected_field"] = Value::from(1);
                cases.push(("top", v));
            }
            for (key, inner) in ex.value.as_object().into_iter().flatten() {
                let prop = schema.pointer(&format!("/properties/{key}")).and_then(&schema_of);
                if inner.is_object() && prop.as_ref().is_some_and(closed) {
                    let mut v = ex.value.clone();
                    v[key]["unexpected_field"] = Value::from(1);
                    cases.push(("inner", v));
                }
            }
            for (place, value) in cases {
                match round_trip(spec, &ex.schema, &value) {
                    Ok(_) => failures.push(format!("{}: an unknown {place} field was accepted", label(&ex))),
                    Err(_) => refused += 1,
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(refused >= 15, "only {refused} cases: the test no longer looks at the request examples");
}
