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
    let raw: Value = serde_norway::from_str(text).map_err(|e| Error::Yaml {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    let openapi: OpenAPI = serde_path_to_error::deserialize(&raw).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        let operation = operation_at(&raw, &pointer);
        Error::spec(
            file,
            operation.as_deref(),
            pointer,
            format!("not a valid OpenAPI 3.0 document here: {}", e.inner()),
        )
    })?;
    Ok(LoadedSpec {
        file: file.to_owned(),
        raw,
        openapi,
    })
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
    raw.pointer(&format!("/paths/{path}/{method}/operationId"))?
        .as_str()
        .map(str::to_owned)
}
