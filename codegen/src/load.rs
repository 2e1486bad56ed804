//! Loading a spec: YAML text → JSON value → `openapiv3::OpenAPI`, with errors
//! that carry the JSON pointer of the node that failed to deserialize.

use openapiv3::OpenAPI;
use serde_json::Value;

use crate::error::{Error, Result, escape_pointer_token};

/// A spec as both the raw JSON tree (for vendor extensions and pointers) and
/// the typed OpenAPI model.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The file name used in messages and headers.
    pub file: String,
    /// The raw document.
    pub raw: Value,
    /// The typed document.
    pub openapi: OpenAPI,
}

/// Parses `text` (YAML or JSON) as an OpenAPI 3.0 document.
pub fn load(file: &str, text: &str) -> Result<LoadedSpec> {
    let raw: Value =
        serde_norway::from_str(text).map_err(|e| Error::Yaml { file: file.to_owned(), message: e.to_string() })?;
    let openapi: OpenAPI = serde_path_to_error::deserialize(&raw).map_err(|e| {
        // serde loses the path inside untagged enums (every `$ref`-or-item
        // node of OpenAPI): look for the innermost part that fails on its own.
        let (pointer, message) = refine(&raw).unwrap_or_else(|| (path_to_pointer(e.path()), e.inner().to_string()));
        let operation = operation_at(&raw, &pointer);
        Error::spec(file, operation.as_deref(), pointer, format!("not a valid OpenAPI 3.0 document here: {message}"))
    })?;
    Ok(LoadedSpec { file: file.to_owned(), raw, openapi })
}

/// Deserializes the parts of the document one by one (operations, their
/// bodies, parameters and responses, component schemas, parameters and
/// responses) and returns the first failure, at its own pointer.
fn refine(raw: &Value) -> Option<(String, String)> {
    fn check<T: serde::de::DeserializeOwned>(value: &Value, at: &str) -> Option<(String, String)> {
        if value.get("$ref").is_some() {
            return None;
        }
        serde_path_to_error::deserialize::<_, T>(value)
            .err()
            .map(|e| (format!("{at}{}", path_to_pointer(e.path())), e.inner().to_string()))
    }
    use openapiv3::{Operation, Parameter, RequestBody, Response, Schema};
    for (item, item_at) in each(raw.get("paths"), "/paths") {
        for (param, at) in each(item.get("parameters"), &format!("{item_at}/parameters")) {
            if let Some(found) = check::<Parameter>(param, &at) {
                return Some(found);
            }
        }
        for (op, op_at) in each(Some(item), &item_at) {
            if !matches!(op, Value::Object(o) if o.contains_key("responses")) {
                continue;
            }
            let found = op
                .get("requestBody")
                .and_then(|b| check::<RequestBody>(b, &format!("{op_at}/requestBody")))
                .or_else(|| {
                    each(op.get("parameters"), &format!("{op_at}/parameters"))
                        .into_iter()
                        .find_map(|(p, at)| check::<Parameter>(p, &at))
                })
                .or_else(|| {
                    each(op.get("responses"), &format!("{op_at}/responses"))
                        .into_iter()
                        .find_map(|(r, at)| check::<Response>(r, &at))
                })
                .or_else(|| check::<Operation>(op, &op_at));
            if found.is_some() {
                return found;
            }
        }
    }
    let components = raw.get("components");
    for (schema, at) in each(components.and_then(|c| c.get("schemas")), "/components/schemas") {
        if let Some(found) = check::<Schema>(schema, &at) {
            return Some(found);
        }
    }
    for (param, at) in each(components.and_then(|c| c.get("parameters")), "/components/parameters") {
        if let Some(found) = check::<Parameter>(param, &at) {
            return Some(found);
        }
    }
    for (resp, at) in each(components.and_then(|c| c.get("responses")), "/components/responses") {
        if let Some(found) = check::<Response>(resp, &at) {
            return Some(found);
        }
    }
    None
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", escape_pointer_token(key))),
            Segment::Enum { variant } => out.push_str(&format!("/{}", escape_pointer_token(variant))),
            Segment::Unknown => {}
        }
    }
    out
}

/// The `operationId` of the operation that contains `pointer`, if any.
pub fn operation_at(raw: &Value, pointer: &str) -> Option<String> {
    let mut tokens = pointer.split('/').skip(1);
    if tokens.next()? != "paths" {
        return None;
    }
    let path = tokens.next()?;
    let method = tokens.next()?;
    raw.pointer(&format!("/paths/{path}/{method}/operationId"))?.as_str().map(str::to_owned)
}

/// The children of a JSON object or array with their JSON pointers (under
/// `at`); nothing for anything else.
pub(crate) fn each<'v>(value: Option<&'v Value>, at: &str) -> Vec<(&'v Value, String)> {
    match value {
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (v, format!("{at}/{}", escape_pointer_token(k)))).collect(),
        Some(Value::Array(items)) => items.iter().enumerate().map(|(i, v)| (v, format!("{at}/{i}"))).collect(),
        _ => Vec::new(),
    }
}
