//! The checks of a spec's schemas: every `$ref` resolves, the formats the
//! crate maps to its own types sit on named schemas, every `type` is one of
//! OpenAPI 3.0's, and response schemas stay open (no `enum`, no
//! `additionalProperties: false`) so that a newer server cannot break
//! decoding.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Checker, METHODS};
use crate::error::{Result, pointer};
use crate::ext::open_enum::EXTENSIBLE_ENUM;
use crate::rt::{INT_BOOL, Rt, SECRET, TIMESTAMP};

/// The string format of OpenStack's zone-less timestamps.
pub const NAIVE_DATE_TIME: &str = "naive-date-time";

/// The string format of secrets (passwords, tokens): mapped to the crate's
/// `Secret`, whose `Debug` hides the value.
pub const PASSWORD: &str = "password";

/// The integer format of flags a server wants as 0 or 1.
pub const BOOLEAN_AS_INTEGER: &str = "boolean-as-integer";

/// Named schemas of these `(type, format)` become hand-written types of the
/// crate (they may only appear as named schemas, referenced where used).
pub(crate) const FORMAT_TYPES: [(&str, &str, Rt); 4] = [
    ("string", NAIVE_DATE_TIME, TIMESTAMP),
    ("string", "date-time", TIMESTAMP),
    ("string", PASSWORD, SECRET),
    ("integer", BOOLEAN_AS_INTEGER, INT_BOOL),
];

pub(crate) fn format_type(format: &str) -> Option<(&'static str, Rt)> {
    FORMAT_TYPES.iter().find(|(_, f, _)| *f == format).map(|(ty, _, rust)| (*ty, *rust))
}
/// Every `$ref` in the document must resolve.
pub(crate) fn check_refs(c: &Checker<'_>, node: &Value, at: &str) -> Result<()> {
    match node {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref") {
                let op = crate::load::operation_at(c.raw, at);
                if !r.is_string() {
                    return Err(c.err(op.as_deref(), at, "`$ref` must be a string"));
                }
                c.resolve(node, at, op.as_deref())?;
            }
            for (k, v) in map {
                if k == "examples" || k == "example" {
                    continue;
                }
                check_refs(c, v, &format!("{at}/{}", crate::error::escape_pointer_token(k)))?;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_refs(c, v, &format!("{at}/{i}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `format: naive-date-time` only on named component schemas, so that the
/// generator can map the name to the crate's timestamp type.
pub(crate) fn check_formats(c: &Checker<'_>, node: &Value, at: &str) -> Result<()> {
    match node {
        Value::Object(map) => {
            if let Some(format) = map.get("format").and_then(Value::as_str).filter(|f| format_type(f).is_some()) {
                let depth = at.matches('/').count();
                let named = at.starts_with("/components/schemas/") && depth == 3;
                if !named {
                    let op = crate::load::operation_at(c.raw, at);
                    return Err(c.err(
                        op.as_deref(),
                        at,
                        format!("`format: {format}` must sit on a named schema in #/components/schemas; reference that schema here"),
                    ));
                }
            }
            for (k, v) in map {
                if k == "examples" || k == "example" {
                    continue;
                }
                check_formats(c, v, &format!("{at}/{}", crate::error::escape_pointer_token(k)))?;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_formats(c, v, &format!("{at}/{i}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The `type` of every schema (components, parameters, bodies, responses,
/// and everything inside them) is one of OpenAPI 3.0's six: openapiv3
/// reads any other string as "any type" and progenitor then stops.
pub(crate) fn check_schema_types(c: &Checker<'_>) -> Result<()> {
    const TYPES: [&str; 6] = ["string", "number", "integer", "boolean", "array", "object"];
    fn walk(c: &Checker<'_>, node: &Value, at: &str) -> Result<()> {
        let Some(map) = node.as_object() else { return Ok(()) };
        if map.contains_key("$ref") {
            return Ok(());
        }
        if let Some(ty) = map.get("type")
            && !ty.as_str().is_some_and(|t| TYPES.contains(&t))
        {
            let op = crate::load::operation_at(c.raw, at);
            return Err(c.err(
                op.as_deref(),
                &format!("{at}/type"),
                format!(
                    "`type: {ty}` is not an OpenAPI 3.0 type (one of {}; `nullable: true` for null)",
                    TYPES.join(", ")
                ),
            ));
        }
        // `enum` values and a `default` must be of the schema's type.
        if let Some(ty) = map.get("type").and_then(Value::as_str) {
            let nullable = map.get("nullable") == Some(&Value::Bool(true));
            let fits = |v: &Value| match v {
                Value::Null => nullable,
                Value::String(_) => ty == "string",
                Value::Bool(_) => ty == "boolean",
                Value::Number(n) => ty == "number" || (ty == "integer" && (n.is_i64() || n.is_u64())),
                Value::Array(_) => ty == "array",
                Value::Object(_) => ty == "object",
            };
            let values = map.get("enum").and_then(Value::as_array).into_iter().flatten().enumerate();
            let found = values
                .map(|(i, v)| (format!("{at}/enum/{i}"), v))
                .chain(map.get("default").map(|v| (format!("{at}/default"), v)))
                .find(|(_, v)| !fits(v));
            if let Some((value_at, v)) = found {
                let op = crate::load::operation_at(c.raw, at);
                return Err(c.err(op.as_deref(), &value_at, format!("{v} is not a value of `type: {ty}`")));
            }
        }
        // Without a type (nor `allOf`/`oneOf`/`anyOf`/`not`), a schema is
        // "any value": keywords of a particular type make no sense there.
        let composed = ["allOf", "oneOf", "anyOf", "not"].iter().any(|k| map.contains_key(*k));
        if !map.contains_key("type") && !composed {
            const TYPED: [&str; 17] = [
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "multipleOf",
                "minLength",
                "maxLength",
                "pattern",
                "format",
                "enum",
                "items",
                "minItems",
                "maxItems",
                "uniqueItems",
                "properties",
                "required",
                "additionalProperties",
            ];
            if let Some(key) = TYPED.iter().find(|k| map.contains_key(**k)) {
                let op = crate::load::operation_at(c.raw, at);
                return Err(c.err(op.as_deref(), &format!("{at}/{key}"), format!("`{key}` needs a `type` beside it")));
            }
        }
        for key in ["items", "additionalProperties", "not"] {
            if let Some(v) = map.get(key) {
                walk(c, v, &format!("{at}/{key}"))?;
            }
        }
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                walk(c, v, &format!("{at}/properties/{}", crate::error::escape_pointer_token(k)))?;
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for (i, v) in map.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
                walk(c, v, &format!("{at}/{key}/{i}"))?;
            }
        }
        Ok(())
    }
    use crate::load::each;
    // Schemas of a response or request body: under `content/*/schema`;
    // a body without one has no type to generate.
    let content = |node: &Value, at: &str| -> Result<()> {
        for (media, media_at) in each(node.get("content"), &format!("{at}/content")) {
            match media.get("schema").filter(|s| !s.is_null()) {
                Some(schema) => walk(c, schema, &format!("{media_at}/schema"))?,
                None => {
                    let op = crate::load::operation_at(c.raw, &media_at);
                    return Err(c.err(
                        op.as_deref(),
                        &media_at,
                        "a body needs a `schema` (a `$ref` to a named schema); leave `content` out for no body",
                    ));
                }
            }
        }
        Ok(())
    };
    let raw = c.raw;
    for (schema, at) in each(raw.pointer("/components/schemas"), "/components/schemas") {
        walk(c, schema, &at)?;
    }
    for (param, at) in each(raw.pointer("/components/parameters"), "/components/parameters") {
        if let Some(schema) = param.get("schema") {
            walk(c, schema, &format!("{at}/schema"))?;
        }
    }
    for (response, at) in each(raw.pointer("/components/responses"), "/components/responses") {
        content(response, &at)?;
    }
    for (body, at) in each(raw.pointer("/components/requestBodies"), "/components/requestBodies") {
        content(body, &at)?;
    }
    for (item, item_at) in each(raw.get("paths"), "/paths") {
        for (param, at) in each(item.get("parameters"), &format!("{item_at}/parameters")) {
            if let Some(schema) = param.get("schema") {
                walk(c, schema, &format!("{at}/schema"))?;
            }
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let op_at = format!("{item_at}/{method}");
            for (param, at) in each(op.get("parameters"), &format!("{op_at}/parameters")) {
                if let Some(schema) = param.get("schema") {
                    walk(c, schema, &format!("{at}/schema"))?;
                }
            }
            if let Some(body) = op.get("requestBody") {
                content(body, &format!("{op_at}/requestBody"))?;
            }
            for (response, at) in each(op.get("responses"), &format!("{op_at}/responses")) {
                content(response, &at)?;
            }
        }
    }
    Ok(())
}

/// Response types are tolerant readers: nothing reachable from a response
/// may close a value set (`enum`) or an object (`additionalProperties: false`),
/// or a newer server's new value or field would fail to decode.
pub(crate) fn check_response_schemas(c: &Checker<'_>, roots: &[(String, String, Option<String>)]) -> Result<()> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<(String, Option<String>)> =
        roots.iter().map(|(name, _, op)| (name.clone(), op.clone())).collect();
    while let Some((name, op)) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let at = pointer(["components", "schemas", &name]);
        let Some(schema) = c.raw.pointer(&at) else { continue };
        walk_response_schema(c, schema, &at, op.as_deref(), &mut |r| {
            if let Some(n) = r.strip_prefix("#/components/schemas/") {
                stack.push((n.to_owned(), op.clone()));
            }
        })?;
    }
    Ok(())
}

pub(crate) fn walk_response_schema(
    c: &Checker<'_>,
    node: &Value,
    at: &str,
    op: Option<&str>,
    refs: &mut dyn FnMut(&str),
) -> Result<()> {
    let Value::Object(map) = node else { return Ok(()) };
    if let Some(r) = map.get("$ref").and_then(Value::as_str) {
        refs(r);
        return Ok(());
    }
    if map.contains_key("enum") {
        return Err(c.err(
            op,
            &format!("{at}/enum"),
            format!("a response schema may not close its values with `enum` (a newer server may send others): use `{EXTENSIBLE_ENUM}`"),
        ));
    }
    if map.get("additionalProperties") == Some(&Value::Bool(false)) {
        return Err(c.err(
            op,
            &format!("{at}/additionalProperties"),
            "a response schema may not forbid unknown properties (a newer server may add some)",
        ));
    }
    for key in ["properties"] {
        if let Some(props) = map.get(key).and_then(Value::as_object) {
            for (k, v) in props {
                walk_response_schema(c, v, &format!("{at}/{key}/{}", crate::error::escape_pointer_token(k)), op, refs)?;
            }
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(v) = map.get(key) {
            walk_response_schema(c, v, &format!("{at}/{key}"), op, refs)?;
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(list) = map.get(key).and_then(Value::as_array) {
            for (i, v) in list.iter().enumerate() {
                walk_response_schema(c, v, &format!("{at}/{key}/{i}"), op, refs)?;
            }
        }
    }
    Ok(())
}
