//! Helpers shared by the workspace-level tests: where the workspace is, and
//! the examples of a spec.

pub mod conformance;
pub mod lifecycle;
pub mod proxy;
pub mod world;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_owned()
}

/// Reads a spec file of the workspace as JSON.
pub fn spec(path: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join(path)).expect("spec file");
    serde_norway::from_str(&text).expect("spec is YAML")
}

/// Whether an example is of a request body or of a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A request body.
    Request,
    /// A response body, with its status.
    Response(u16),
}

/// One example of a spec: where it sits, the schema it illustrates and its
/// JSON value (loaded from its `externalValue` when it has one).
#[derive(Debug, Clone)]
pub struct Example {
    /// The operation.
    pub operation_id: String,
    /// The example's name.
    pub name: String,
    /// Request or response.
    pub direction: Direction,
    /// The component schema name of the body.
    pub schema: String,
    /// The example's file, relative to the spec, if external.
    pub file: Option<String>,
    /// The example.
    pub value: Value,
}

/// Every example of every operation of the spec at `spec_path`.
pub fn examples(spec_path: &str) -> Vec<Example> {
    let doc = spec(spec_path);
    let spec_dir = workspace_root().join(spec_path).parent().unwrap().to_owned();
    let mut out = Vec::new();
    for (_, item) in doc["paths"].as_object().unwrap() {
        for (_, op) in item.as_object().unwrap() {
            let Some(operation_id) = op.get("operationId").and_then(Value::as_str) else { continue };
            let mut media = Vec::new();
            if let Some(m) = op.pointer("/requestBody/content/application~1json") {
                media.push((Direction::Request, m));
            }
            for (code, resp) in op["responses"].as_object().unwrap() {
                if let (Ok(status), Some(m)) = (code.parse::<u16>(), resp.pointer("/content/application~1json")) {
                    media.push((Direction::Response(status), m));
                }
            }
            for (direction, m) in media {
                let schema = m["schema"]["$ref"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
                for (name, ex) in m.get("examples").and_then(Value::as_object).into_iter().flatten() {
                    let (file, value) = match ex.get("externalValue").and_then(Value::as_str) {
                        Some(file) => {
                            let text = std::fs::read_to_string(spec_dir.join(file))
                                .unwrap_or_else(|e| panic!("{operation_id}/{name}: {file}: {e}"));
                            let value = serde_json::from_str(&text)
                                .unwrap_or_else(|e| panic!("{operation_id}/{name}: {file}: {e}"));
                            (Some(file.to_owned()), value)
                        }
                        None => (None, ex["value"].clone()),
                    };
                    out.push(Example {
                        operation_id: operation_id.to_owned(),
                        name: name.clone(),
                        direction,
                        schema: schema.clone(),
                        file,
                        value,
                    });
                }
            }
        }
    }
    out
}

/// Removes object entries whose value is `null`, recursively. An optional
/// nullable request field sent as `null` means the same to the server as the
/// field left out, and the generated types (plain `Option`s) send the latter.
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// A clock whose sleeps take no time and are recorded (in `.0`): retries
/// and waiters run at once, and a test reads the waits they asked for.
/// `now` is the real time.
#[derive(Debug, Default)]
pub struct NoWait(pub std::sync::Mutex<Vec<std::time::Duration>>);

impl openstack_backups::clock::Clock for NoWait {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
    }

    fn sleep(&self, duration: std::time::Duration) -> openstack_backups::clock::Sleep {
        self.0.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// The number of cases a property test runs: `default`, or the value of
/// `PROPTEST_CASES` when set (`cargo xtask fuzz` sets it for long runs).
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A random 32-digit hex string: a project id of its own for each scenario
/// (Cinder's noauth wants hex project ids).
pub fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    while out.len() < 32 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::Instant::now().elapsed().as_nanos());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(32);
    out
}

/// `ensure!(condition, "message {}", args)`: returns `Err(message (at file:line))`
/// from a scenario returning `Result<(), String>` when the condition is false.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!("{} (at {}:{})", format!($($msg)+), file!(), line!()));
        }
    };
}

/// Attaches a volume through Cinder's API, as a compute service would
/// (`os-attach` with an instance and a mount point; a noauth Cinder at
/// `root_url`, the project's admin token): the volume becomes `in-use`.
/// The spec leaves attachments out (a backup client never attaches), so
/// this is a plain request.
pub async fn attach_volume(root_url: &str, project: &str, volume: &str) -> Result<(), String> {
    let r = reqwest::Client::new()
        .post(format!("{root_url}/v3/{project}/volumes/{volume}/action"))
        .header("x-auth-token", format!("admin:{project}"))
        .header("openstack-api-version", "volume 3.71")
        .json(&serde_json::json!({"os-attach": {"instance_uuid": "3f1c9a0e-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "mountpoint": "/dev/vdb"}}))
        .send()
        .await
        .map_err(|err| format!("os-attach: {err}"))?;
    if r.status().as_u16() != 202 {
        return Err(format!("os-attach: HTTP {}", r.status()));
    }
    Ok(())
}
