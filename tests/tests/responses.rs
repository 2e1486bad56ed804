//! Response bodies generated from the specs' schemas, for every operation
//! of every spec:
//! - valid bodies decode into the generated type and encode back to the
//!   same JSON (nulls and empty optional lists aside: to the client an
//!   absent optional field, a null one and an empty one are the same);
//! - valid bodies with fields no schema knows still decode (tolerant
//!   reader);
//! - mutated bodies (a field of the wrong type, a null where none is
//!   allowed, truncated JSON, deep nesting, huge strings and numbers,
//!   non-UTF-8 bytes, an HTML page, nothing) never panic;
//! - through the client, an undecodable body is an error that names the
//!   operation, the status and the request id.
//!
//! Cases per property: `PROPTEST_CASES` (256 by default; `cargo xtask
//! fuzz` runs many more).

use std::collections::BTreeMap;

use openstack_backups_tests::{proptest_cases, spec};
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union, ValueTree};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// `value` without nulls and without empty lists and maps inside objects:
/// an absent optional field, a null one and an empty one are the same to
/// the client (generated types leave empty optional lists out).
fn normal(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normal(v)))
                .filter(|(_, v)| {
                    !(v.is_null()
                        || v.as_array().is_some_and(Vec::is_empty)
                        || v.as_object().is_some_and(serde_json::Map::is_empty))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normal).collect()),
        other => other.clone(),
    }
}

/// Whether every field of `small` is in `big` with the same value (lists
/// item by item).
fn within(small: &Value, big: &Value) -> bool {
    match (small, big) {
        (Value::Object(a), Value::Object(b)) => a.iter().all(|(k, v)| b.get(k).is_some_and(|w| within(v, w))),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(v, w)| within(v, w)),
        (a, b) => a == b,
    }
}

/// Decodes a body into the generated type of a response schema, and
/// encodes the result back to JSON.
type Decode = fn(&[u8]) -> Result<Value, serde_json::Error>;

fn decode<T: serde::de::DeserializeOwned + serde::Serialize>(body: &[u8]) -> Result<Value, serde_json::Error> {
    let value: T = serde_json::from_slice(body)?;
    Ok(serde_json::to_value(value).expect("a decoded value encodes"))
}

/// The generated type of each response schema. A schema missing here fails
/// `every_response_schema_has_its_decoder`.
fn decoder(file: &str, schema: &str) -> Option<Decode> {
    macro_rules! table {
        ($module:ident: $($name:ident),* $(,)?) => {
            match schema {
                $(stringify!($name) => Some(decode::<openstack_backups::$module::types::$name> as Decode),)*
                _ => None,
            }
        };
    }
    // The error body of every operation is the runtime's `Fault`.
    if schema == "Fault" {
        return Some(decode::<openstack_backups::Fault> as Decode);
    }
    match file {
        "spec/block-storage-v3.yaml" => table!(block_storage:
            VersionList, BackupList, BackupSummaryResponse, BackupDetailList, BackupResponse,
            BackupRestoreResponse, BackupRecordResponse, SnapshotList, SnapshotResponse, SnapshotDetailList,
            Metadata, MetadataItem, VolumeList, VolumeResponse, VolumeDetailList, LimitsResponse,
            QuotaSetResponse, ManageableSnapshotList, ManagedSnapshotResponse, ManageableSnapshotDetailList,
            ResourceFilterList,
            MessageList,
            MessageResponse,
            GroupTypeList, GroupTypeResponse, GroupList, GroupSummaryResponse, GroupDetailList, GroupResponse,
            GroupSnapshotList, GroupSnapshotSummaryResponse, GroupSnapshotDetailList, GroupSnapshotResponse,
        ),
        "spec/database-v1.yaml" => table!(database:
            BackupList, BackupResponse, BackupStrategyList, BackupStrategyResponse, InstanceResponse,
        ),
        "spec/identity-v3.yaml" => table!(identity: TokenResponse),
        _ => None,
    }
}

const SPECS: [&str; 3] = ["spec/block-storage-v3.yaml", "spec/database-v1.yaml", "spec/identity-v3.yaml"];

/// Every `(operationId, status, schema name)` of a spec's JSON responses.
fn responses(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                let response = resolve(doc, response);
                let Some(schema) = response.pointer("/content/application~1json/schema") else { continue };
                let name = schema["$ref"].as_str().expect("response schemas are $refs").rsplit('/').next().unwrap();
                out.push((op["operationId"].as_str().unwrap().to_owned(), status.clone(), name.to_owned()));
            }
        }
    }
    out
}

fn resolve<'v>(doc: &'v Value, node: &'v Value) -> &'v Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, doc.pointer(r.trim_start_matches('#')).expect("the $ref target exists")),
        None => node,
    }
}

/// A timestamp the way Cinder writes it (the form the client encodes).
fn timestamp() -> BoxedStrategy<Value> {
    (2000i32..2100, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, 0u32..60, 0u32..1_000_000)
        .prop_map(|(y, mo, d, h, mi, s, us)| json!(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}")))
        .boxed()
}

/// Values valid against `schema` (a node of `doc`).
fn valid(doc: &Value, schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    generate(doc, schema, depth, false)
}

/// Values valid against `schema`; with `unknown`, objects also carry
/// fields no schema knows (named `zz_…`).
fn generate(doc: &Value, schema: &Value, depth: u32, unknown: bool) -> BoxedStrategy<Value> {
    assert!(depth < 32, "schema nesting beyond 32: a recursive schema?");
    let inner = non_null(doc, schema, depth, unknown);
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        prop_oneof![3 => inner, 1 => Just(Value::Null)].boxed()
    } else {
        inner
    }
}

fn non_null(doc: &Value, schema: &Value, depth: u32, unknown: bool) -> BoxedStrategy<Value> {
    if schema.get("$ref").is_some() {
        return generate(doc, resolve(doc, schema), depth + 1, unknown);
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let parts: Vec<_> = parts.iter().map(|p| generate(doc, p, depth + 1, unknown)).collect();
        return parts
            .prop_map(|values| {
                let mut merged = values[0].clone();
                for v in &values[1..] {
                    if let (Some(m), Some(o)) = (merged.as_object_mut(), v.as_object()) {
                        m.extend(o.clone());
                    }
                }
                merged
            })
            .boxed();
    }
    if let Some(parts) = schema.get("oneOf").and_then(Value::as_array) {
        return Union::new(parts.iter().map(|p| generate(doc, p, depth + 1, unknown))).boxed();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return proptest::sample::select(values.clone()).boxed();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => object(doc, schema, depth, unknown),
        Some("array") => {
            let items = generate(doc, schema.get("items").unwrap_or(&json!({})), depth + 1, unknown);
            prop::collection::vec(items, 0..4).prop_map(Value::Array).boxed()
        }
        Some("string") => {
            let format = schema.get("format").and_then(Value::as_str);
            if let Some(known) = schema.get("x-extensible-enum").and_then(Value::as_array) {
                let known = proptest::sample::select(known.clone());
                return prop_oneof![3 => known, 1 => "[a-z_-]{1,12}".prop_map(Value::from)].boxed();
            }
            match format {
                Some("naive-date-time" | "date-time") => timestamp(),
                _ => any::<String>().prop_map(Value::from).boxed(),
            }
        }
        Some("integer") if schema.get("format").and_then(Value::as_str) == Some("boolean-as-integer") => {
            prop_oneof![Just(json!(0)), Just(json!(1))].boxed()
        }
        Some("integer") => {
            let min = schema.get("minimum").and_then(Value::as_i64).unwrap_or(-1_000_000_000);
            let max = schema.get("maximum").and_then(Value::as_i64).unwrap_or(1_000_000_000_000);
            (min..=max).prop_map(Value::from).boxed()
        }
        Some("number") => (-4_000_000i64..4_000_000).prop_map(|n| json!(n as f64 / 4.0)).boxed(),
        Some("boolean") => any::<bool>().prop_map(Value::from).boxed(),
        // No type: any JSON value.
        _ => prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            ".{0,8}".prop_map(Value::from),
        ]
        .boxed(),
    }
}

fn object(doc: &Value, schema: &Value, depth: u32, unknown: bool) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map_or(Vec::new(), |r| r.iter().filter_map(Value::as_str).collect());
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (name, property) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
        let value = generate(doc, property, depth + 1, unknown);
        let name = name.clone();
        if required.contains(&name.as_str()) {
            fields.push(value.prop_map(move |v| Some((name.clone(), v))).boxed());
        } else {
            fields.push(prop::option::of(value.prop_map(move |v| (name.clone(), v))).boxed());
        }
    }
    let extra = match schema.get("additionalProperties") {
        Some(Value::Object(_)) => {
            let values = generate(doc, &schema["additionalProperties"], depth + 1, unknown);
            prop::collection::btree_map("x-[a-z0-9_]{1,8}", values, 0..3).boxed()
        }
        _ if unknown && schema.get("properties").is_some() => {
            let any = prop_oneof![
                Just(Value::Null),
                Just(json!({"nested": [1, {"deeper": true}]})),
                ".{0,8}".prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
            ];
            prop::collection::btree_map("zz_[a-z:-]{1,8}", any, 0..3).boxed()
        }
        _ => Just(BTreeMap::new()).boxed(),
    };
    (fields, extra)
        .prop_map(|(fields, extra)| {
            let mut map: serde_json::Map<String, Value> = extra.into_iter().collect();
            map.extend(fields.into_iter().flatten());
            Value::Object(map)
        })
        .boxed()
}

/// Every node of `value` with its JSON pointer.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Ways to break a valid body.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace node `n` (modulo the node count) with this value.
    Replace(usize, Value),
    /// Cut the encoded body after this fraction of its bytes.
    Truncate(f64),
    /// Put a value nested this deep at node `n`.
    Nest(usize, usize),
    /// Put a string of this many bytes at node `n`.
    Huge(usize, usize),
    /// Put raw bytes (not UTF-8) inside the first string.
    NotUtf8,
    /// Another body altogether.
    Body(&'static [u8]),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let wrong = prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(-1)),
        Just(json!(1e300)),
        Just(json!(u64::MAX)),
        Just(json!("a string")),
        Just(json!([])),
        Just(json!({})),
        Just(json!([{"id": null}])),
    ];
    prop_oneof![
        4 => (any::<usize>(), wrong).prop_map(|(n, v)| Mutation::Replace(n, v)),
        2 => (0.0f64..1.0).prop_map(Mutation::Truncate),
        1 => (any::<usize>(), 100usize..5000).prop_map(|(n, d)| Mutation::Nest(n, d)),
        1 => (any::<usize>(), 65_536usize..400_000).prop_map(|(n, len)| Mutation::Huge(n, len)),
        1 => Just(Mutation::NotUtf8),
        1 => prop_oneof![
            Just(&b""[..]),
            Just(&b"<html><body><h1>200 OK</h1></body></html>"[..]),
            Just(&b"null"[..]),
            Just(&b"[]"[..]),
            Just(&b"1e999999"[..]),
            Just(&b"123456789012345678901234567890"[..]),
        ]
        .prop_map(Mutation::Body),
    ]
}

fn apply(valid: &Value, mutation: &Mutation) -> Vec<u8> {
    let mut value = valid.clone();
    let mut nodes = Vec::new();
    pointers(&value, String::new(), &mut nodes);
    let at = |n: usize| nodes[n % nodes.len()].clone();
    match mutation {
        Mutation::Replace(n, v) => {
            *value.pointer_mut(&at(*n)).unwrap() = v.clone();
            serde_json::to_vec(&value).unwrap()
        }
        Mutation::Truncate(fraction) => {
            let bytes = serde_json::to_vec(&value).unwrap();
            let cut = (bytes.len() as f64 * fraction) as usize;
            bytes[..cut].to_vec()
        }
        Mutation::Nest(n, depth) => {
            // A placeholder string replaced in the text by `[[[…1…]]]`.
            *value.pointer_mut(&at(*n)).unwrap() = json!("\u{1}nested");
            let text = serde_json::to_string(&value).unwrap();
            let deep = format!("{}1{}", "[".repeat(*depth), "]".repeat(*depth));
            text.replacen("\"\\u0001nested\"", &deep, 1).into_bytes()
        }
        Mutation::Huge(n, len) => {
            *value.pointer_mut(&at(*n)).unwrap() = json!("x".repeat(*len));
            serde_json::to_vec(&value).unwrap()
        }
        Mutation::NotUtf8 => {
            let mut bytes = serde_json::to_vec(&value).unwrap();
            if let Some(quote) = bytes.iter().position(|b| *b == b'"') {
                bytes.splice(quote + 1..quote + 1, [0xff, 0xfe, 0xc3]);
            }
            bytes
        }
        Mutation::Body(body) => body.to_vec(),
    }
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: proptest_cases(256), failure_persistence: None, ..Config::default() })
}

/// Each response schema, with the operations that answer with it.
fn schemas() -> Vec<(&'static str, Value, String, Vec<String>)> {
    let mut out: Vec<(&'static str, Value, String, Vec<String>)> = Vec::new();
    for file in SPECS {
        let doc = spec(file);
        for (op, status, name) in responses(&doc) {
            match out.iter_mut().find(|(f, _, n, _)| *f == file && *n == name) {
                Some(entry) => entry.3.push(format!("{op} {status}")),
                None => out.push((file, doc.clone(), name, vec![format!("{op} {status}")])),
            }
        }
    }
    out
}

#[test]
fn every_response_schema_has_its_decoder() {
    let schemas = schemas();
    // 39 response types and each spec's Fault: a change here is a change
    // of the specs' responses (update the count and the decoder table).
    assert_eq!(schemas.len(), 42, "{:?}", schemas.iter().map(|s| (s.0, &s.2)).collect::<Vec<_>>());
    for (file, _, name, ops) in &schemas {
        assert!(decoder(file, name).is_some(), "{file}: add {name} (the response of {ops:?}) to the decoder table");
    }
}

#[test]
fn valid_bodies_decode_and_encode_back_to_the_same_json() {
    for (file, doc, name, ops) in schemas() {
        let decode = decoder(file, &name).unwrap();
        let strategy = valid(&doc, &doc["components"]["schemas"][&name], 0);
        runner()
            .run(&strategy, |value| {
                let body = serde_json::to_vec(&value).unwrap();
                let decoded = decode(&body).map_err(|e| TestCaseError::fail(format!("{e}: {value}")))?;
                prop_assert_eq!(normal(&decoded), normal(&value));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{file} {name} ({ops:?}): {e}"));
    }
}

#[test]
fn mutated_bodies_never_panic() {
    for (file, doc, name, ops) in schemas() {
        let decode = decoder(file, &name).unwrap();
        let strategy = (valid(&doc, &doc["components"]["schemas"][&name], 0), mutation());
        runner()
            .run(&strategy, |(value, mutation)| {
                let body = apply(&value, &mutation);
                let decoded = decode(&body);
                if let (Mutation::Body(b"<html><body><h1>200 OK</h1></body></html>" | b""), Ok(v)) =
                    (&mutation, decoded)
                {
                    return Err(TestCaseError::fail(format!("decoded from nothing: {v}")));
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{file} {name} ({ops:?}): {e}"));
    }
}

/// The body without the fields named `zz_…` (the unknown ones).
fn known(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter().filter(|(k, _)| !k.starts_with("zz_")).map(|(k, v)| (k.clone(), known(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(known).collect()),
        other => other.clone(),
    }
}

/// A tolerant reader: fields no schema knows are read past; nothing known
/// is lost, and an unknown field is kept only where the schema keeps any
/// (open maps, faults).
#[test]
fn unknown_fields_are_read_past() {
    for (file, doc, name, ops) in schemas() {
        let decode = decoder(file, &name).unwrap();
        let strategy = generate(&doc, &doc["components"]["schemas"][&name], 0, true);
        runner()
            .run(&strategy, |value| {
                let body = serde_json::to_vec(&value).unwrap();
                let decoded = decode(&body).map_err(|e| TestCaseError::fail(format!("refused: {e}: {value}")))?;
                prop_assert!(within(&normal(&known(&value)), &normal(&decoded)), "lost: {} → {}", value, decoded);
                prop_assert!(within(&normal(&decoded), &normal(&value)), "invented: {} → {}", value, decoded);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{file} {name} ({ops:?}): {e}"));
    }
}

/// Through the client: whatever a 200 carries, the call ends with the
/// decoded value or an error naming the operation, the status and the
/// request id, and showing the start of the body.
#[tokio::test]
async fn undecodable_bodies_through_the_client_name_operation_status_and_request_id() {
    use openstack_backups::block_storage::Client;
    use openstack_backups::{ClientConfig, ErrorKind, Microversion};
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let doc = spec("spec/block-storage-v3.yaml");
    let strategy = (valid(&doc, &doc["components"]["schemas"]["BackupResponse"], 0), mutation());
    let mut runner =
        TestRunner::new(Config { cases: proptest_cases(64), failure_persistence: None, ..Config::default() });
    let server = MockServer::start().await;
    let client = Client::new(
        &format!("{}/v3/p", server.uri()),
        ClientConfig::new().with_token("t").with_microversion(Microversion::new(3, 71)),
    );
    for _ in 0..runner.config().cases {
        let (value, mutation) = strategy.new_tree(&mut runner).unwrap().current();
        let body = apply(&value, &mutation);
        server.reset().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-openstack-request-id", "req-mutated")
                    .set_body_raw(body.clone(), "application/json"),
            )
            .mount(&server)
            .await;
        match client.show_backup().backup_id("b1").send().await {
            Ok(b) => assert_eq!(b.request_id(), Some("req-mutated")),
            Err(e) => {
                let shown = e.to_string();
                assert_eq!(e.kind(), ErrorKind::UndecodableResponse, "{shown}");
                assert_eq!(e.operation(), Some("show_backup"), "{shown}");
                assert_eq!(e.status().map(|s| s.as_u16()), Some(200), "{shown}");
                assert_eq!(e.request_id(), Some("req-mutated"), "{shown}");
                assert!(
                    shown.contains("show_backup") && shown.contains("200") && shown.contains("req-mutated"),
                    "{shown}"
                );
                assert!(shown.len() < 2_000, "the message stays short for a huge body: {} bytes", shown.len());
            }
        }
    }
}
