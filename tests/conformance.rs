//! Response conformance: every response a real server sends during the suite
//! is checked against the spec, strictly. The client reads tolerantly; this
//! is where an undeclared field, a wrong type, a null where the spec says
//! non-null, a status value outside `x-extensible-enum`, a field sent below
//! its microversion, or an undeclared status code is caught, with the
//! operation, the JSON pointer and the offending value.

use serde_json::Value;

/// One request/response pair as it crossed the wire.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The HTTP method.
    pub method: String,
    /// The request path as sent (`/v3/<project>/backups/detail`, `/v1.0/<project>/backups`).
    pub path: String,
    /// The request body (empty when none).
    pub request_body: Vec<u8>,
    /// The response status.
    pub status: u16,
    /// The microversion the server says it used.
    pub microversion: Option<(u16, u16)>,
    /// The response body.
    pub body: Vec<u8>,
}

/// The spec, ready to check responses against.
pub struct Conformance {
    raw: Value,
}

/// What a successful check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The `operationId` (the action's own id for an action call).
    pub operation_id: String,
    /// The status checked.
    pub status: u16,
}

impl Conformance {
    /// Loads `spec/<file>`.
    pub fn load(file: &str) -> Self {
        Self { raw: crate::spec(file) }
    }

    /// Builds a checker from an already-parsed spec (for tests of the checker).
    pub fn from_value(raw: Value) -> Self {
        Self { raw }
    }

    /// Checks one exchange. `project` is stripped from the path.
    pub fn check(&self, ex: &Exchange, project: &str) -> Result<Checked, Vec<String>> {
        let (op, op_id, path_template) = self.operation(ex, project).ok_or_else(|| {
            vec![format!("{} {}: no operation of the spec has this method and path", ex.method, ex.path)]
        })?;
        let label = format!("{op_id} ({} {path_template}) HTTP {}", ex.method, ex.status);
        let responses = &op["responses"];
        let code = ex.status.to_string();
        let range = format!("{}XX", ex.status / 100);
        let Some(response) = responses.get(&code).or_else(|| responses.get(&range)) else {
            return Err(vec![format!(
                "{label}: the spec declares no response {} (body: {})",
                ex.status,
                excerpt(&ex.body)
            )]);
        };
        let response = self.resolve(response);
        let mut errors = Vec::new();
        match response.pointer("/content/application~1json/schema") {
            None => {
                if !ex.body.iter().all(u8::is_ascii_whitespace) {
                    errors.push(format!("{label}: the spec declares no body, the server sent {}", excerpt(&ex.body)));
                }
            }
            Some(schema) => match serde_json::from_slice::<Value>(&ex.body) {
                Err(e) => errors.push(format!("{label}: body is not JSON ({e}): {}", excerpt(&ex.body))),
                Ok(body) => {
                    let mut v =
                        Validator { c: self, microversion: ex.microversion, errors: &mut errors, label: &label };
                    v.validate(schema, &body, "");
                }
            },
        }
        if errors.is_empty() { Ok(Checked { operation_id: op_id, status: ex.status }) } else { Err(errors) }
    }

    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        while let Some(r) = node.get("$ref").and_then(Value::as_str) {
            node = self.raw.pointer(r.trim_start_matches('#')).unwrap_or(&Value::Null);
        }
        node
    }

    /// The operation an exchange belongs to: `(operation, operationId, path)`.
    fn operation(&self, ex: &Exchange, project: &str) -> Option<(&Value, String, String)> {
        let method = ex.method.to_ascii_lowercase();
        let full = ex.path.split('?').next().unwrap_or("");
        // The version segment (`/v3`, `/v1.0`) and the project precede the
        // spec's paths.
        let relative = full
            .strip_prefix("/v3")
            .or_else(|| full.strip_prefix("/v1.0"))
            .map(
                |rest| {
                    if project.is_empty() { rest } else { rest.strip_prefix(&format!("/{project}")).unwrap_or(rest) }
                },
            )
            .unwrap_or(full);
        let action_key = serde_json::from_slice::<Value>(&ex.request_body)
            .ok()
            .and_then(|b| b.as_object().and_then(|o| o.keys().next().cloned()));
        for (template, item) in self.raw["paths"].as_object()? {
            let Some(op) = item.get(&method) else { continue };
            let root = item.get("servers").is_some() || op.get("servers").is_some();
            let candidate = if root { full } else { relative };
            let (t, c): (Vec<_>, Vec<_>) = (template.split('/').collect(), candidate.split('/').collect());
            if t.len() != c.len() || !t.iter().zip(&c).all(|(t, c)| t.starts_with('{') || t == c) {
                continue;
            }
            let mut id = op["operationId"].as_str()?.to_owned();
            if let (Some(actions), Some(key)) = (op.get("x-openstack-actions").and_then(Value::as_array), &action_key)
                && let Some(a) = actions.iter().find(|a| a["action"] == key.as_str())
            {
                id = a["operationId"].as_str()?.to_owned();
            }
            return Some((op, id, template.clone()));
        }
        None
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text.into_owned()
    }
}

fn parse_mv(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

struct Validator<'a> {
    c: &'a Conformance,
    microversion: Option<(u16, u16)>,
    errors: &'a mut Vec<String>,
    label: &'a str,
}

impl Validator<'_> {
    fn fail(&mut self, at: &str, problem: impl AsRef<str>, value: &Value) {
        let shown = value.to_string();
        let shown = if shown.chars().count() > 200 {
            format!("{}…", shown.chars().take(200).collect::<String>())
        } else {
            shown
        };
        self.errors.push(format!(
            "{}: at {}: {}: {shown}",
            self.label,
            if at.is_empty() { "/" } else { at },
            problem.as_ref()
        ));
    }

    fn validate(&mut self, schema: &Value, value: &Value, at: &str) {
        let schema = self.c.resolve(schema);
        if value.is_null() {
            if schema.get("nullable") != Some(&Value::Bool(true)) {
                self.fail(at, "null where the spec says non-null", value);
            }
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.validate(s, value, at);
            }
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            let matching = one
                .iter()
                .filter(|s| {
                    let mut errors = Vec::new();
                    Validator { c: self.c, microversion: self.microversion, errors: &mut errors, label: "" }
                        .validate(s, value, at);
                    errors.is_empty()
                })
                .count();
            if matching != 1 {
                self.fail(at, format!("matches {matching} of the oneOf alternatives, not exactly one"), value);
            }
        }
        let ty = schema.get("type").and_then(Value::as_str);
        let ok = match ty {
            None => true,
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some(_) => false,
        };
        if !ok {
            self.fail(at, format!("expected {}", ty.unwrap_or("?")), value);
            return;
        }
        for key in ["enum", "x-extensible-enum"] {
            if let Some(list) = schema.get(key).and_then(Value::as_array)
                && !list.contains(value)
            {
                self.fail(at, format!("a value the spec does not list in `{key}`"), value);
            }
        }
        if let Some(s) = value.as_str() {
            if schema.get("format").and_then(Value::as_str) == Some("naive-date-time") && !is_naive_timestamp(s) {
                self.fail(at, "not a zone-less timestamp like 2026-11-22T12:05:53.624993", value);
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && s.chars().count() as u64 > max
            {
                self.fail(at, format!("longer than maxLength {max}"), value);
            }
        }
        if let Some(items) = value.as_array()
            && let Some(item_schema) = schema.get("items")
        {
            for (i, item) in items.iter().enumerate() {
                self.validate(item_schema, item, &format!("{at}/{i}"));
            }
        }
        if let Some(map) = value.as_object() {
            self.object(schema, map, value, at);
        }
    }

    fn object(&mut self, schema: &Value, map: &serde_json::Map<String, Value>, value: &Value, at: &str) {
        let props = schema.get("properties").and_then(Value::as_object);
        // Properties declared through allOf members count as declared.
        let mut declared: Vec<&serde_json::Map<String, Value>> = props.into_iter().collect();
        for s in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = self.c.resolve(s).get("properties").and_then(Value::as_object) {
                declared.push(p);
            }
        }
        for key in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !map.contains_key(key) {
                self.fail(at, format!("required property `{key}` is missing"), value);
            }
        }
        // What every supported server sends, though the client does not
        // need it (optional in the generated types): the servers of the
        // suite must still send it.
        let always = schema.get("x-openstack-always-sent").and_then(Value::as_array);
        for key in always.into_iter().flatten().filter_map(Value::as_str) {
            if !map.contains_key(key) {
                self.fail(at, format!("property `{key}` (x-openstack-always-sent) is missing"), value);
            }
        }
        let count = map.len() as u64;
        if schema.get("minProperties").and_then(Value::as_u64).is_some_and(|min| count < min) {
            self.fail(at, "fewer properties than minProperties", value);
        }
        if schema.get("maxProperties").and_then(Value::as_u64).is_some_and(|max| count > max) {
            self.fail(at, "more properties than maxProperties", value);
        }
        let additional = schema.get("additionalProperties");
        for (key, v) in map {
            let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
            if let Some(prop) = declared.iter().find_map(|p| p.get(key)) {
                if let (Some(min), Some(have)) = (
                    prop.get("x-openstack-min-microversion").and_then(Value::as_str).and_then(parse_mv),
                    self.microversion,
                ) && have < min
                {
                    self.fail(
                        &here,
                        format!("sent at {}.{} but declared from {}.{} on", have.0, have.1, min.0, min.1),
                        v,
                    );
                }
                self.validate(prop, v, &here);
                continue;
            }
            match additional {
                Some(Value::Bool(true)) => {}
                Some(s @ Value::Object(_)) => self.validate(s, v, &here),
                Some(Value::Bool(false)) => self.fail(&here, "a property the spec does not declare", v),
                // No additionalProperties: a schema with properties is
                // closed here; one without is a free-form object.
                _ if declared.is_empty() => {}
                _ => self.fail(&here, "a property the spec does not declare", v),
            }
        }
    }
}

fn is_naive_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let base = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    base && (b.len() == 19 || (b[19] == b'.' && b.len() > 20 && digits(20..b.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn backup_show(body: Value, status: u16, mv: (u16, u16)) -> Exchange {
        Exchange {
            method: "GET".into(),
            path: "/v3/abc/backups/b1".into(),
            request_body: vec![],
            status,
            microversion: Some(mv),
            body: body.to_string().into_bytes(),
        }
    }

    fn good_backup() -> Value {
        json!({"backup": {
            "id": "b1", "status": "available", "size": 1, "object_count": 0, "availability_zone": null,
            "container": null, "created_at": "2026-11-22T12:05:53.624993", "updated_at": null,
            "name": null, "description": null, "fail_reason": null, "volume_id": "v1", "links": [],
            "is_incremental": false, "has_dependent_backups": false, "snapshot_id": null,
            "data_timestamp": "2026-11-22T12:05:53.624993", "metadata": {}
        }})
    }

    fn errors(ex: &Exchange) -> Vec<String> {
        Conformance::load("spec/block-storage-v3.yaml").check(ex, "abc").err().unwrap_or_default()
    }

    #[test]
    fn a_conforming_response_passes() {
        assert_eq!(errors(&backup_show(good_backup(), 200, (3, 71))), Vec::<String>::new());
    }

    #[test]
    fn each_kind_of_deviation_is_reported_with_operation_pointer_and_value() {
        let mut b = good_backup();
        b["backup"]["surprise"] = json!(1);
        b["backup"]["size"] = json!("1");
        b["backup"]["id"] = Value::Null;
        b["backup"]["status"] = json!("frozen");
        b["backup"]["created_at"] = json!("2026-11-22T12:05:53Z");
        let found = errors(&backup_show(b, 200, (3, 71)));
        let expected = [
            "showBackup (GET /backups/{backup_id}) HTTP 200: at /backup/surprise: a property the spec does not declare: 1",
            "at /backup/size: expected integer: \"1\"",
            "at /backup/id: null where the spec says non-null: null",
            "at /backup/status: a value the spec does not list in `x-extensible-enum`: \"frozen\"",
            "at /backup/created_at: not a zone-less timestamp",
        ];
        for e in expected {
            assert!(found.iter().any(|f| f.contains(e)), "{e:?} not in {found:#?}");
        }
    }

    #[test]
    fn fields_below_their_microversion_and_undeclared_statuses_fail() {
        let found = errors(&backup_show(good_backup(), 200, (3, 0)));
        assert!(found[0].contains("at /backup/metadata: sent at 3.0 but declared from 3.43 on"), "{found:?}");
        let found = errors(&backup_show(json!({}), 302, (3, 71)));
        assert!(found[0].contains("the spec declares no response 302"), "{found:?}");
    }

    #[test]
    fn error_bodies_and_empty_bodies() {
        let ok = Conformance::load("spec/block-storage-v3.yaml");
        let fault = backup_show(json!({"itemNotFound": {"code": 404, "message": "gone"}}), 404, (3, 71));
        assert!(ok.check(&fault, "abc").is_ok());
        let mut del = backup_show(json!(null), 202, (3, 71));
        del.method = "DELETE".into();
        del.body = vec![];
        assert_eq!(ok.check(&del, "abc").unwrap().operation_id, "deleteBackup");
        del.body = b"{}".to_vec();
        assert!(ok.check(&del, "abc").unwrap_err()[0].contains("declares no body"));
    }

    #[test]
    fn timestamps() {
        assert!(is_naive_timestamp("2026-11-22T12:05:53.624993"));
        assert!(is_naive_timestamp("2026-11-22T12:05:53"));
        assert!(!is_naive_timestamp("2026-11-22T12:05:53Z"));
        assert!(!is_naive_timestamp("2026-11-22 12:05:53"));
        assert!(!is_naive_timestamp("2026-11-22T12:05:53."));
    }
}
