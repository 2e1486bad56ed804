//! Checks a spec against what the generator (and progenitor under it) can
//! handle, and builds the [`Model`] of the generator's own additions.
//!
//! Every rejection names the spec file, the operation when there is one, and
//! the JSON pointer of the node concerned. Anything that would make progenitor
//! panic (several success types, a `default` response, a missing `$ref`
//! target, …) is caught here.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::error::{Error, Result, pointer};
use crate::load::LoadedSpec;
use crate::model::{
    Action, BodyGate, FindSpec, Kind, Microversion, Model, OpenEnum, Operation, Paging, ServiceIdentity, WaiterSpec,
    snake_case,
};

/// The vendor extension for minimum microversions.
pub const MIN_MICROVERSION: &str = "x-openstack-min-microversion";
/// The vendor extension for maximum microversions (a request-body property
/// the server refuses above it).
pub const MAX_MICROVERSION: &str = "x-openstack-max-microversion";
/// Limits [`MAX_MICROVERSION`] to these values of the property.
pub const MAX_MICROVERSION_VALUES: &str = "x-openstack-max-microversion-values";
/// Properties every supported server sends but the client does not need:
/// optional in the generated types, required by the conformance check.
pub const ALWAYS_SENT: &str = "x-openstack-always-sent";
/// A waiter on the resource a show operation returns.
pub const WAITER: &str = "x-openstack-waiter";
/// How to find the resource a show operation returns by name.
pub const FIND: &str = "x-openstack-find";
/// The service's identity, on `info`.
pub const SERVICE: &str = "x-openstack-service";
/// The vendor extension for open enums.
pub const EXTENSIBLE_ENUM: &str = "x-extensible-enum";
/// The vendor extension for paged lists.
pub const PAGINATION: &str = "x-openstack-pagination";
/// The vendor extension for the actions of an `…/action` endpoint.
pub const ACTIONS: &str = "x-openstack-actions";
/// The string format of OpenStack's zone-less timestamps.
pub const NAIVE_DATE_TIME: &str = "naive-date-time";

/// The string format of secrets (passwords, tokens): mapped to the crate's
/// `Secret`, whose `Debug` hides the value.
pub const PASSWORD: &str = "password";
/// The integer format of flags a server wants as 0 or 1.
pub const BOOLEAN_AS_INTEGER: &str = "boolean-as-integer";

/// Named schemas of these `(type, format)` become hand-written types of the
/// crate (they may only appear as named schemas, referenced where used).
pub const FORMAT_TYPES: [(&str, &str, &str); 4] = [
    ("string", NAIVE_DATE_TIME, "::openstack_backups_runtime::Timestamp"),
    ("string", "date-time", "::openstack_backups_runtime::Timestamp"),
    ("string", PASSWORD, "::openstack_backups_runtime::Secret"),
    ("integer", BOOLEAN_AS_INTEGER, "::openstack_backups_runtime::IntBool"),
];

fn format_type(format: &str) -> Option<(&'static str, &'static str)> {
    FORMAT_TYPES.iter().find(|(_, f, _)| *f == format).map(|(ty, _, rust)| (*ty, *rust))
}
/// The shared error schema every operation must use for `4XX` and `5XX`.
pub const FAULT_SCHEMA: &str = "Fault";

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

struct Checker<'a> {
    file: &'a str,
    raw: &'a Value,
}

impl<'a> Checker<'a> {
    fn err(&self, op: Option<&str>, ptr: &str, msg: impl Into<String>) -> Error {
        Error::spec(self.file, op, ptr, msg)
    }

    /// Follows a local `$ref`, returning the target and its pointer.
    fn resolve<'v>(&'v self, value: &'v Value, at: &str, op: Option<&str>) -> Result<(&'v Value, String)> {
        let mut value = value;
        let mut at = at.to_owned();
        for _ in 0..16 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let target = r.strip_prefix('#').ok_or_else(|| {
                        self.err(op, &at, format!("only local references (`#/…`) are supported, found `{r}`"))
                    })?;
                    value = self
                        .raw
                        .pointer(target)
                        .ok_or_else(|| self.err(op, &format!("{at}/$ref"), format!("`{r}` points at nothing")))?;
                    at = target.to_owned();
                }
                None => return Ok((value, at)),
            }
        }
        Err(self.err(op, &at, "reference chain is too long (a cycle?)"))
    }

    fn min_microversion(&self, node: &Value, at: &str, op: Option<&str>) -> Result<Option<Microversion>> {
        self.microversion_extension(node, MIN_MICROVERSION, at, op)
    }

    fn microversion_extension(
        &self,
        node: &Value,
        key: &str,
        at: &str,
        op: Option<&str>,
    ) -> Result<Option<Microversion>> {
        match node.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Microversion::parse(s).map(Some).ok_or_else(|| {
                self.err(op, &format!("{at}/{key}"), format!("`{s}` is not a microversion like \"3.45\""))
            }),
            Some(other) => {
                Err(self.err(op, &format!("{at}/{key}"), format!("expected a string like \"3.45\", found {other}")))
            }
        }
    }

    /// The component name a `$ref` value points at (`#/components/schemas/X`).
    fn schema_ref_name(&self, schema: &Value, at: &str, op: Option<&str>, what: &str) -> Result<String> {
        let r = schema.get("$ref").and_then(Value::as_str).ok_or_else(|| {
            self.err(op, at, format!("{what} must be a `$ref` to a named schema in #/components/schemas"))
        })?;
        let name = r
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| self.err(op, at, format!("{what} must reference #/components/schemas/…, found `{r}`")))?;
        self.resolve(schema, at, op)?;
        Ok(name.to_owned())
    }
}

/// Validates `spec` and derives its [`Model`].
pub fn validate(spec: &LoadedSpec) -> Result<Model> {
    let c = Checker { file: &spec.file, raw: &spec.raw };
    let raw = &spec.raw;

    let version = raw.get("openapi").and_then(Value::as_str).unwrap_or_default();
    if !version.starts_with("3.0.") {
        return Err(c.err(None, "/openapi", format!("the generator reads OpenAPI 3.0.x only, found `{version}`")));
    }

    let service = service_identity(&c)?;
    check_refs(&c, raw, "")?;
    check_formats(&c, raw, "")?;
    check_schema_types(&c)?;

    let schemas = raw.pointer("/components/schemas").and_then(Value::as_object).cloned().unwrap_or_default();
    if !schemas.contains_key(FAULT_SCHEMA) {
        return Err(c.err(None, "/components/schemas", format!("the shared error schema `{FAULT_SCHEMA}` is missing")));
    }

    let mut open_enums = Vec::new();
    let mut replacements = Vec::new();
    for (name, schema) in &schemas {
        let at = pointer(["components", "schemas", name]);
        always_sent(&c, schema, &at)?;
        if let Some(values) = schema.get(EXTENSIBLE_ENUM) {
            open_enums.push(open_enum(&c, name, schema, values, &at)?);
        }
        if let Some((format, (ty, rust))) =
            schema.get("format").and_then(Value::as_str).and_then(|f| format_type(f).map(|t| (f, t)))
        {
            if schema.get("type").and_then(Value::as_str) != Some(ty) {
                return Err(c.err(None, &at, format!("`format: {format}` needs `type: {ty}`")));
            }
            replacements.push((name.clone(), rust.to_owned()));
        }
    }

    let tags: BTreeSet<String> = raw
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| tags.iter().filter_map(|t| t.get("name")?.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();

    let mut operations = Vec::new();
    let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
    let mut response_roots = Vec::new();
    let empty = Map::new();
    let paths = raw.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    for (path, item) in paths {
        let item_at = pointer(["paths", path]);
        if item.get("$ref").is_some() {
            return Err(c.err(None, &item_at, "a path item may not be a `$ref`"));
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("{item_at}/{method}");
            let mut ops = operation(&c, path, method, op, item, &tags, &mut response_roots)?;
            for o in &ops {
                if let Some(prev) = seen_ids.insert(o.method_name.clone(), at.clone()) {
                    return Err(c.err(
                        Some(&o.operation_id),
                        &at,
                        format!(
                            "operationId `{}` (method `{}`) is used twice; first at {prev}",
                            o.operation_id, o.method_name
                        ),
                    ));
                }
            }
            operations.append(&mut ops);
        }
    }

    check_response_schemas(&c, &response_roots)?;
    resolve_finders(&c, &mut operations)?;
    if let Some(id) = &service.version_discovery {
        version_document(&c, id, &operations)?;
    }

    let max_microversion = raw.pointer("/info/version").and_then(Value::as_str).and_then(Microversion::parse);

    let title = raw.pointer("/info/title").and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(Model { service, title, max_microversion, operations, open_enums, replacements, fault: FAULT_SCHEMA.to_owned() })
}

fn open_enum(c: &Checker<'_>, name: &str, schema: &Value, values: &Value, at: &str) -> Result<OpenEnum> {
    if schema.get("type").and_then(Value::as_str) != Some("string") {
        return Err(c.err(None, at, format!("`{EXTENSIBLE_ENUM}` needs `type: string`")));
    }
    if schema.get("enum").is_some() {
        return Err(c.err(
            None,
            &format!("{at}/enum"),
            format!("`enum` closes the value set; a schema with `{EXTENSIBLE_ENUM}` must not have it"),
        ));
    }
    let list = values
        .as_array()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| c.err(None, &format!("{at}/{EXTENSIBLE_ENUM}"), "expected a non-empty list of strings"))?;
    let mut out = Vec::new();
    let mut variants = BTreeSet::new();
    for (i, v) in list.iter().enumerate() {
        let s = v.as_str().ok_or_else(|| {
            c.err(None, &format!("{at}/{EXTENSIBLE_ENUM}/{i}"), format!("expected a string, found {v}"))
        })?;
        if !variants.insert(crate::model::pascal_case(s)) {
            return Err(c.err(
                None,
                &format!("{at}/{EXTENSIBLE_ENUM}/{i}"),
                format!("`{s}` repeats a value (or maps to the same Rust variant as another)"),
            ));
        }
        out.push(s.to_owned());
    }
    Ok(OpenEnum {
        name: name.to_owned(),
        description: schema.get("description").and_then(Value::as_str).map(str::to_owned),
        values: out,
    })
}

/// Where an operation sits, for its checks and their errors.
struct Op<'a> {
    c: &'a Checker<'a>,
    /// The operation's node.
    node: &'a Value,
    /// Its JSON pointer (`/paths/~1backups/get`).
    at: String,
    /// Its `operationId`.
    id: String,
}

impl Op<'_> {
    fn err(&self, ptr: &str, msg: impl Into<String>) -> Error {
        self.c.err(Some(&self.id), ptr, msg)
    }

    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// The operation's parameters: path parameters (they must cover the path
/// template) and query parameters with their own minimum microversion.
struct Parameters {
    path: Vec<String>,
    query: BTreeMap<String, Option<Microversion>>,
}

/// One operation of the spec: its checks, and the callable operations it
/// becomes (one, or an action endpoint and one per action).
fn operation(
    c: &Checker<'_>,
    path: &str,
    method: &str,
    node: &Value,
    item: &Value,
    tags: &BTreeSet<String>,
    response_roots: &mut Vec<(String, String, Option<String>)>,
) -> Result<Vec<Operation>> {
    let at = &pointer(["paths", path, method]);
    let id = node
        .get("operationId")
        .and_then(Value::as_str)
        .ok_or_else(|| c.err(None, at, format!("{} {path} has no operationId", method.to_uppercase())))?
        .to_owned();
    let op = Op { c, node, at: at.to_owned(), id };
    let text = |key: &str| -> Result<String> {
        node.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| op.err(at, format!("the operation needs a `{key}`")))
    };
    let summary = text("summary")?;
    text("description")?;
    let tag = node.pointer("/tags/0").and_then(Value::as_str).ok_or_else(|| op.err(at, "the operation needs a tag"))?;
    if !tags.contains(tag) {
        return Err(op.err(&format!("{at}/tags/0"), format!("tag `{tag}` is not declared in the top-level `tags`")));
    }
    let min_microversion = c.min_microversion(node, at, op.id())?;
    let params = parameters(&op, path, item)?;
    let body_at = format!("{at}/requestBody/content/application~1json/schema");
    let gated_body = match node.pointer("/requestBody/content/application~1json/schema") {
        Some(schema) => body_gates(c, schema, &body_at, op.id(), min_microversion)?,
        None => Vec::new(),
    };
    let success = responses(&op, response_roots)?;
    let kind = root_kind(&op, item, method, &params, &success)?;
    let waiter = match node.get(WAITER) {
        Some(w) => Some(waiter(c, w, &format!("{at}/{WAITER}"), op.id(), method, &params.path, &success)?),
        None => None,
    };
    let base = Operation {
        operation_id: op.id.clone(),
        method_name: snake_case(&op.id),
        method: method.to_uppercase(),
        path: path.to_owned(),
        tag: tag.to_owned(),
        summary,
        min_microversion,
        gated_query: params
            .query
            .iter()
            .filter_map(|(name, mv)| mv.filter(|mv| Some(*mv) > min_microversion).map(|mv| (name.clone(), mv)))
            .collect(),
        query: params.query.keys().cloned().collect(),
        gated_body,
        kind,
        waiter,
        finder: match node.get(FIND) {
            Some(f) => Some(finder(&op, f, method, &params.path, &success)?),
            None => None,
        },
    };
    if let Some(paging) = node.get(PAGINATION) {
        return Ok(vec![paged(&op, paging, &success, &params, base)?]);
    }
    if let Some(list) = node.get(ACTIONS) {
        return actions(&op, list, &body_at, &params, base);
    }
    Ok(vec![base])
}

fn parameters(op: &Op<'_>, path: &str, item: &Value) -> Result<Parameters> {
    let mut out = Parameters { path: Vec::new(), query: BTreeMap::new() };
    let item_params = item.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let op_params = op.node.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let all = item_params
        .iter()
        .enumerate()
        .map(|(i, p)| (p, pointer(["paths", path, "parameters"]) + &format!("/{i}")))
        .chain(op_params.iter().enumerate().map(|(i, p)| (p, format!("{}/parameters/{i}", op.at))));
    for (p, p_at) in all {
        let (p, p_at) = op.c.resolve(p, &p_at, op.id())?;
        let name = p.get("name").and_then(Value::as_str).ok_or_else(|| op.err(&p_at, "parameter without a name"))?;
        match p.get("in").and_then(Value::as_str) {
            Some("path") if p.get("required") != Some(&Value::Bool(true)) => {
                return Err(op.err(&p_at, format!("path parameter `{name}` needs `required: true`")));
            }
            Some("path") => out.path.push(name.to_owned()),
            Some("query") => {
                out.query.insert(name.to_owned(), op.c.min_microversion(p, &p_at, op.id())?);
            }
            Some("header") => {
                return Err(op.err(
                    &p_at,
                    format!("header parameter `{name}`: headers are the session's business (token, microversion), not the operation's"),
                ));
            }
            other => return Err(op.err(&p_at, format!("unsupported parameter location {other:?}"))),
        }
    }
    let template = template_params(path);
    if let Some(name) = template.iter().find(|name| !out.path.contains(name)) {
        return Err(op.err(&op.at, format!("path parameter `{{{name}}}` is not declared")));
    }
    out.path = template;
    Ok(out)
}

/// The success responses (status, body schema): one body type at most,
/// and errors through the shared fault as `4XX` and `5XX`.
fn responses(
    op: &Op<'_>,
    response_roots: &mut Vec<(String, String, Option<String>)>,
) -> Result<Vec<(u16, Option<String>)>> {
    let at = &op.at;
    let responses = op
        .node
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| op.err(at, "the operation has no responses"))?;
    if responses.contains_key("default") {
        return Err(op.err(
            &format!("{at}/responses/default"),
            "a `default` response counts as a success type for the client generator: declare errors as `4XX` and `5XX`",
        ));
    }
    let mut success: Vec<(u16, Option<String>)> = Vec::new();
    for (code, resp) in responses {
        let r_at = format!("{at}/responses/{}", crate::error::escape_pointer_token(code));
        // A shared response (`$ref`) is reported where it is written.
        let (resp, resolved_at) = op.c.resolve(resp, &r_at, op.id())?;
        let schema = resp.pointer("/content/application~1json/schema");
        let s_at = format!("{resolved_at}/content/application~1json/schema");
        if let Some(other) = resp
            .get("content")
            .and_then(Value::as_object)
            .and_then(|content| content.keys().find(|k| k.as_str() != "application/json"))
        {
            return Err(op.err(&r_at, format!("only application/json bodies are supported, found `{other}`")));
        }
        if code == "4XX" || code == "5XX" {
            let name = schema.map(|s| op.c.schema_ref_name(s, &s_at, op.id(), "an error body")).transpose()?;
            if name.as_deref() != Some(FAULT_SCHEMA) {
                return Err(op.err(&r_at, format!("error responses must carry the shared `{FAULT_SCHEMA}` schema")));
            }
            continue;
        }
        let status: u16 = code.parse().ok().filter(|s| (200..400).contains(s)).ok_or_else(|| {
            op.err(
                &r_at,
                format!("unsupported response code `{code}`: list successes as 2xx (or 300), errors as 4XX/5XX"),
            )
        })?;
        let name = match schema {
            Some(s) => {
                let name = op.c.schema_ref_name(s, &s_at, op.id(), "a response body")?;
                response_roots.push((name.clone(), s_at, Some(op.id.clone())));
                Some(name)
            }
            None => None,
        };
        success.push((status, name));
    }
    for code in ["4XX", "5XX"] {
        if !responses.contains_key(code) {
            return Err(op.err(
                &format!("{at}/responses"),
                format!("the operation must declare `{code}` with the shared `{FAULT_SCHEMA}`"),
            ));
        }
    }
    let distinct: BTreeSet<&Option<String>> = success.iter().map(|(_, s)| s).collect();
    if success.is_empty() {
        return Err(op.err(&format!("{at}/responses"), "the operation declares no success response"));
    }
    if distinct.len() > 1 {
        return Err(op.err(
            &format!("{at}/responses"),
            "several success responses with different bodies: the generated call can return only one type",
        ));
    }
    Ok(success)
}

/// `Root` for an operation on its own `servers` (the service root; a 300
/// is a success only there), `Plain` otherwise.
fn root_kind(
    op: &Op<'_>,
    item: &Value,
    method: &str,
    params: &Parameters,
    success: &[(u16, Option<String>)],
) -> Result<Kind> {
    if op.node.get("servers").or_else(|| item.get("servers")).is_some() {
        return match success {
            [(status, Some(schema))] if method == "get" && params.path.is_empty() && params.query.is_empty() => {
                Ok(Kind::Root { status: *status, schema: schema.clone() })
            }
            _ => Err(op.err(
                &op.at,
                "an operation on its own `servers` (the service root) must be a GET without parameters and with one JSON success body",
            )),
        };
    }
    match success.iter().find(|(s, _)| *s >= 300) {
        Some((status, _)) => Err(op.err(
            &format!("{}/responses/{status}", op.at),
            "a 3xx success is supported only on service-root operations (with their own `servers`)",
        )),
        None => Ok(Kind::Plain),
    }
}

/// `x-openstack-pagination`: the list's item array and next-link array.
fn paged(
    op: &Op<'_>,
    paging: &Value,
    success: &[(u16, Option<String>)],
    params: &Parameters,
    base: Operation,
) -> Result<Operation> {
    let p_at = format!("{}/{PAGINATION}", op.at);
    let schema = match success {
        [(200, Some(schema))] => schema.clone(),
        _ => return Err(op.err(&p_at, "a paged list needs exactly one 200 response with a JSON body")),
    };
    for needed in ["limit", "marker"] {
        if !params.query.contains_key(needed) {
            return Err(op.err(&p_at, format!("a paged list needs the `{needed}` query parameter")));
        }
    }
    let field = |key: &str| -> Result<String> {
        paging
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| op.err(&p_at, format!("`{key}` (a property of the list response) is missing")))
    };
    let (items, links) = (field("items")?, field("links")?);
    let list_at = pointer(["components", "schemas", &schema]);
    let list = op.c.raw.pointer(&list_at).expect("resolved while checking the responses");
    let prop = |name: &str| -> Result<&Value> {
        list.pointer(&format!("/properties/{}", crate::error::escape_pointer_token(name)))
            .ok_or_else(|| op.err(&p_at, format!("`{schema}` has no property `{name}`")))
    };
    let item_schema = prop(&items)?
        .get("items")
        .ok_or_else(|| op.err(&format!("{list_at}/properties/{items}"), "the item list must be an array"))?;
    let item_schema =
        op.c.schema_ref_name(item_schema, &format!("{list_at}/properties/{items}/items"), op.id(), "a paged item")?;
    if prop(&links)?.get("type").and_then(Value::as_str) != Some("array") {
        return Err(
            op.err(&format!("{list_at}/properties/{links}"), "the next-link property must be an array of links")
        );
    }
    let offset = params.query.contains_key("offset");
    Ok(Operation { kind: Kind::Paged(Paging { list_schema: schema, items, item_schema, links, offset }), ..base })
}

/// `x-openstack-actions`: the `…/action` endpoint and one operation per
/// action, each with its own minimum microversion and body gates.
fn actions(op: &Op<'_>, list: &Value, body_at: &str, params: &Parameters, base: Operation) -> Result<Vec<Operation>> {
    let a_at = format!("{}/{ACTIONS}", op.at);
    let body = op
        .node
        .pointer("/requestBody/content/application~1json/schema")
        .ok_or_else(|| op.err(&op.at, "an action endpoint needs a JSON request body"))?;
    let body_schema = op.c.schema_ref_name(body, body_at, op.id(), "an action body")?;
    let by_key = action_members(op, body, body_at)?;
    let list = list.as_array().ok_or_else(|| op.err(&a_at, "expected a list of {action, operationId, summary}"))?;
    let mut out = vec![Operation { kind: Kind::ActionEndpoint, ..base.clone() }];
    let mut listed = BTreeSet::new();
    for (i, a) in list.iter().enumerate() {
        let e_at = format!("{a_at}/{i}");
        let get = |k: &str| {
            a.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| op.err(&e_at, format!("`{k}` is missing")))
        };
        let (key, action_id, summary) = (get("action")?, get("operationId")?, get("summary")?);
        let (inner, no_args, _) = by_key.get(&key).ok_or_else(|| {
            op.err(&format!("{e_at}/action"), format!("`{key}` is not a key of any member of `{body_schema}`"))
        })?;
        listed.insert(key.clone());
        let action_min = op.c.min_microversion(a, &e_at, op.id())?.or(base.min_microversion);
        let prefix = format!("/{}", crate::error::escape_pointer_token(&key));
        let gated_body = base
            .gated_body
            .iter()
            .filter(|g| g.pointer == prefix || g.pointer.starts_with(&format!("{prefix}/")))
            .map(|g| BodyGate { min: g.min.filter(|m| Some(*m) > action_min), ..g.clone() })
            .filter(|g| g.min.is_some() || g.max.is_some())
            .collect();
        out.push(Operation {
            operation_id: action_id.clone(),
            method_name: snake_case(&action_id),
            summary: summary.trim().to_owned(),
            min_microversion: action_min,
            query: Vec::new(),
            gated_query: Vec::new(),
            gated_body,
            kind: Kind::Action(Action {
                key,
                endpoint_method: snake_case(&op.id),
                body_schema: body_schema.clone(),
                arguments: (!no_args).then(|| inner.clone()),
                argument_schema: inner.clone(),
                path_params: params.path.clone(),
            }),
            ..base.clone()
        });
    }
    if let Some((key, (_, _, m_at))) = by_key.iter().find(|(k, _)| !listed.contains(*k)) {
        return Err(op.err(m_at, format!("action `{key}` is not listed in `{ACTIONS}`")));
    }
    Ok(out)
}

/// The members of an action body's `oneOf`, by their one key: the
/// arguments' schema, whether it takes none, and the member's pointer.
fn action_members(op: &Op<'_>, body: &Value, body_at: &str) -> Result<BTreeMap<String, (String, bool, String)>> {
    let (body_def, body_def_at) = op.c.resolve(body, body_at, op.id())?;
    let members = body_def
        .get("oneOf")
        .and_then(Value::as_array)
        .ok_or_else(|| op.err(&body_def_at, "an action body must be a `oneOf` of single-key objects"))?;
    let mut by_key = BTreeMap::new();
    for (i, m) in members.iter().enumerate() {
        let (m, m_at) = op.c.resolve(m, &format!("{body_def_at}/oneOf/{i}"), op.id())?;
        let props = m.get("properties").and_then(Value::as_object);
        let required = m.get("required").and_then(Value::as_array);
        let (Some(props), Some(required)) = (props, required) else {
            return Err(op.err(&m_at, "an action must be an object with one required property"));
        };
        if props.len() != 1 || required.len() != 1 || required[0].as_str() != props.keys().next().map(String::as_str) {
            return Err(op.err(&m_at, "an action must be an object with exactly one property, required"));
        }
        let (key, inner) = props.iter().next().expect("one property");
        let inner_at = format!("{m_at}/properties/{}", crate::error::escape_pointer_token(key));
        let inner_name = op.c.schema_ref_name(inner, &inner_at, op.id(), "an action's arguments")?;
        let (inner_def, _) = op.c.resolve(inner, &inner_at, op.id())?;
        let no_args = inner_def.get("properties").and_then(Value::as_object).is_none_or(Map::is_empty);
        by_key.insert(key.clone(), (inner_name, no_args, m_at));
    }
    Ok(by_key)
}

fn template_params(path: &str) -> Vec<String> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(name, _)| name.to_owned())).collect()
}

/// Every `$ref` in the document must resolve.
fn check_refs(c: &Checker<'_>, node: &Value, at: &str) -> Result<()> {
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
fn check_formats(c: &Checker<'_>, node: &Value, at: &str) -> Result<()> {
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
fn check_schema_types(c: &Checker<'_>) -> Result<()> {
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
fn check_response_schemas(c: &Checker<'_>, roots: &[(String, String, Option<String>)]) -> Result<()> {
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

fn walk_response_schema(
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

/// The microversion gates of a request body: every property (at any depth,
/// through `$ref`s, arrays, maps and compositions) that carries
/// `x-openstack-min-microversion` above the operation's minimum, or
/// `x-openstack-max-microversion` (optionally limited to the values in
/// `x-openstack-max-microversion-values`), with its JSON pointer in the body.
fn body_gates(
    c: &Checker<'_>,
    schema: &Value,
    at: &str,
    op: Option<&str>,
    op_min: Option<Microversion>,
) -> Result<Vec<BodyGate>> {
    let mut walk = BodyWalk { c, op, op_min, stack: Vec::new(), gates: Vec::new(), probing: false };
    walk.node(schema, at, "", None)?;
    let mut gates = walk.gates;
    gates.sort();
    gates.dedup();
    Ok(gates)
}

struct BodyWalk<'c, 'a> {
    c: &'c Checker<'a>,
    op: Option<&'c str>,
    op_min: Option<Microversion>,
    /// The `$ref`s being walked (a schema that contains itself is not
    /// followed again).
    stack: Vec<String>,
    gates: Vec<BodyGate>,
    /// Looking for gates inside a recursive schema (recursion is not an
    /// error then).
    probing: bool,
}

impl BodyWalk<'_, '_> {
    /// Walks `node` (at spec pointer `at`), which describes the body value
    /// at `body` (a JSON pointer into the request body). `required` tells
    /// whether the parent object requires this property.
    fn node(&mut self, node: &Value, at: &str, body: &str, required: Option<bool>) -> Result<()> {
        self.gate(node, at, body, required)?;
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if self.stack.iter().any(|s| s == r) {
                return if self.probing { Ok(()) } else { self.recursion(r, at) };
            }
            let (target, target_at) = self.c.resolve(node, at, self.op)?;
            self.stack.push(r.to_owned());
            let result = self.node(target, &target_at, body, required);
            self.stack.pop();
            return result;
        }
        let required_keys: BTreeSet<&str> =
            node.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (key, value) in props {
                let key_at = format!("{at}/properties/{}", crate::error::escape_pointer_token(key));
                if key == "*" {
                    return Err(self.c.err(
                        self.op,
                        &key_at,
                        "a request property may not be named `*` (it stands for \"every element\" in a gate's pointer)",
                    ));
                }
                let path = format!("{body}/{}", crate::error::escape_pointer_token(key));
                self.node(value, &key_at, &path, Some(required_keys.contains(key.as_str())))?;
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(inner) = node.get(key).filter(|v| v.is_object()) {
                self.node(inner, &format!("{at}/{key}"), &format!("{body}/*"), None)?;
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for (i, member) in node.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
                self.node(member, &format!("{at}/{key}/{i}"), body, required)?;
            }
        }
        Ok(())
    }

    fn gate(&mut self, node: &Value, at: &str, body: &str, required: Option<bool>) -> Result<()> {
        let min = self.c.microversion_extension(node, MIN_MICROVERSION, at, self.op)?;
        let max = self.c.microversion_extension(node, MAX_MICROVERSION, at, self.op)?;
        let values_at = format!("{at}/{MAX_MICROVERSION_VALUES}");
        let max_values = match node.get(MAX_MICROVERSION_VALUES) {
            None => Vec::new(),
            Some(_) if max.is_none() => {
                return Err(self.c.err(
                    self.op,
                    &values_at,
                    format!("`{MAX_MICROVERSION_VALUES}` limits `{MAX_MICROVERSION}`, which is missing"),
                ));
            }
            Some(Value::Array(values)) if !values.is_empty() => {
                let mut out = Vec::new();
                for (i, v) in values.iter().enumerate() {
                    if v.is_object() || v.is_array() || v.is_null() {
                        return Err(self.c.err(
                            self.op,
                            &format!("{values_at}/{i}"),
                            format!("expected a string, number or boolean, found {v}"),
                        ));
                    }
                    out.push(v.to_string());
                }
                out
            }
            Some(other) => {
                return Err(self.c.err(
                    self.op,
                    &values_at,
                    format!("expected a non-empty list of values, found {other}"),
                ));
            }
        };
        if min.is_none() && max.is_none() {
            return Ok(());
        }
        if body.is_empty() {
            return Err(self.c.err(
                self.op,
                at,
                "a microversion on the whole request body belongs on the operation, not on its schema",
            ));
        }
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            return Err(self.c.err(self.op, at, format!("the minimum microversion {min} is above the maximum {max}")));
        }
        let min = min.filter(|m| Some(*m) > self.op_min);
        if min.is_some() && required == Some(true) {
            return Err(self.c.err(
                self.op,
                at,
                format!(
                    "`{body}` is required, so it cannot need a higher microversion than its operation: make it optional or gate the operation"
                ),
            ));
        }
        if min.is_some() || max.is_some() {
            self.gates.push(BodyGate { pointer: body.to_owned(), min, max, max_values });
        }
        Ok(())
    }

    fn recursion(&self, r: &str, at: &str) -> Result<()> {
        // A recursive schema is walked once; a gate inside it would apply at
        // every depth, which a pointer cannot say.
        let mut probe = BodyWalk {
            c: self.c,
            op: self.op,
            op_min: None,
            stack: vec![r.to_owned()],
            gates: Vec::new(),
            probing: true,
        };
        let reference = serde_json::json!({ "$ref": r });
        let (target, target_at) = self.c.resolve(&reference, at, self.op)?;
        probe.node(target, &target_at, "/_", None)?;
        if probe.gates.is_empty() {
            Ok(())
        } else {
            Err(self.c.err(
                self.op,
                at,
                format!("`{r}` contains itself and a microversion-gated property: a gate in a recursive schema cannot be checked"),
            ))
        }
    }
}

/// `x-openstack-always-sent` names declared properties that are not
/// `required` (a required property needs no second list).
fn always_sent(c: &Checker<'_>, schema: &Value, at: &str) -> Result<()> {
    let Some(list) = schema.get(ALWAYS_SENT) else { return Ok(()) };
    let list_at = format!("{at}/{ALWAYS_SENT}");
    let names = list.as_array().ok_or_else(|| c.err(None, &list_at, "expected a list of property names"))?;
    let required: BTreeSet<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    for (i, name) in names.iter().enumerate() {
        let here = format!("{list_at}/{i}");
        let name =
            name.as_str().ok_or_else(|| c.err(None, &here, format!("expected a property name, found {name}")))?;
        if schema.pointer(&format!("/properties/{}", crate::error::escape_pointer_token(name))).is_none() {
            return Err(c.err(None, &here, format!("`{name}` is not a property of this schema")));
        }
        if required.contains(name) {
            return Err(c.err(None, &here, format!("`{name}` is `required` already")));
        }
    }
    Ok(())
}

/// `info.x-openstack-service`: `module`, `type`, `aliases`,
/// `microversion-header`, `request-timeout`.
fn service_identity(c: &Checker<'_>) -> Result<ServiceIdentity> {
    let at = format!("/info/{SERVICE}");
    let node = c.raw.pointer(&at).and_then(Value::as_object).ok_or_else(|| {
        c.err(
            None,
            "/info",
            format!("`{SERVICE}` is missing: {{module, type, aliases, microversion-header, request-timeout}}"),
        )
    })?;
    for key in node.keys() {
        if !["module", "type", "aliases", "microversion-header", "request-timeout", "version-discovery"]
            .contains(&key.as_str())
        {
            return Err(c.err(None, &format!("{at}/{key}"), format!("unknown key `{key}` in `{SERVICE}`")));
        }
    }
    let text = |key: &str| -> Result<Option<String>> {
        match node.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(other) => {
                Err(c.err(None, &format!("{at}/{key}"), format!("expected a non-empty string, found {other}")))
            }
        }
    };
    let module = text("module")?.ok_or_else(|| c.err(None, &at, "`module` (the Rust module name) is missing"))?;
    if syn::parse_str::<syn::Ident>(&module).is_err() || module != snake_case(&module) {
        return Err(c.err(None, &format!("{at}/module"), format!("`{module}` is not a snake_case Rust identifier")));
    }
    let service_type = text("type")?.ok_or_else(|| c.err(None, &at, "`type` (the catalog service type) is missing"))?;
    let aliases = match node.get("aliases") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    c.err(None, &format!("{at}/aliases/{i}"), format!("expected a catalog type, found {v}"))
                })
            })
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(c.err(
                None,
                &format!("{at}/aliases"),
                format!("expected a list of catalog types, found {other}"),
            ));
        }
    };
    let request_timeout = match node.get("request-timeout") {
        Some(v) => v.as_u64().filter(|s| *s > 0).ok_or_else(|| {
            c.err(None, &format!("{at}/request-timeout"), format!("expected a positive number of seconds, found {v}"))
        })?,
        None => 60,
    };
    let microversion_header = text("microversion-header")?;
    let version_discovery = text("version-discovery")?;
    if version_discovery.is_some() && microversion_header.is_none() {
        return Err(c.err(
            None,
            &format!("{at}/version-discovery"),
            "version discovery is for a service with microversions: `microversion-header` is missing",
        ));
    }
    Ok(ServiceIdentity { module, service_type, aliases, microversion_header, request_timeout, version_discovery })
}

/// The version-discovery operation exists, is served from the service root,
/// and answers a document with `versions[]` holding `status`, `version` and
/// `min_version` (what the session negotiates from).
fn version_document(c: &Checker<'_>, id: &str, operations: &[Operation]) -> Result<()> {
    let at = format!("/info/{SERVICE}/version-discovery");
    let op = operations
        .iter()
        .find(|o| o.operation_id == id)
        .ok_or_else(|| c.err(None, &at, format!("no operation has the operationId `{id}`")))?;
    let Kind::Root { schema, .. } = &op.kind else {
        return Err(c.err(
            Some(id),
            &at,
            "the version-discovery operation must be served from the service root (its own `servers`)",
        ));
    };
    let list_at = pointer(["components", "schemas", schema]);
    let item = c
        .raw
        .pointer(&format!("{list_at}/properties/versions/items"))
        .ok_or_else(|| c.err(Some(id), &list_at, "a version document needs `versions`, an array"))?;
    let (item, item_at) = c.resolve(item, &format!("{list_at}/properties/versions/items"), Some(id))?;
    for field in ["status", "version", "min_version"] {
        let required = item.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|v| v == field));
        if item.pointer(&format!("/properties/{field}")).is_none() || !required {
            return Err(c.err(Some(id), &item_at, format!("a version needs the required property `{field}`")));
        }
    }
    Ok(())
}

/// `x-openstack-waiter` on a show operation: a GET of one resource by its
/// id, whose body holds the resource under `item`, with an open-enum
/// `status`; every status the lists name must be one of the enum's.
fn waiter(
    c: &Checker<'_>,
    node: &Value,
    at: &str,
    op: Option<&str>,
    method: &str,
    path_params: &[String],
    success: &[(u16, Option<String>)],
) -> Result<WaiterSpec> {
    let map = node.as_object().ok_or_else(|| c.err(op, at, "expected an object"))?;
    const KEYS: [&str; 10] = [
        "resource",
        "item",
        "status",
        "reason",
        "progress",
        "failure",
        "deletion-failure",
        "transitional",
        "deleted",
        "not-found-means-deleted",
    ];
    if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(c.err(op, &format!("{at}/{key}"), format!("unknown key `{key}` (known: {})", KEYS.join(", "))));
    }
    let text = |key: &str| -> Result<String> {
        map.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| c.err(op, at, format!("`{key}` (a string) is missing")))
    };
    let (resource, item, status) = (text("resource")?, text("item")?, text("status")?);
    let id_param = match (method, path_params) {
        ("get", [.., last]) => last.clone(),
        _ => return Err(c.err(op, at, "a waiter sits on a GET of one resource, by the id in its path")),
    };
    let response = match success {
        [(200, Some(schema))] => schema.clone(),
        _ => return Err(c.err(op, at, "a waiter needs the operation's one 200 response with a JSON body")),
    };
    let response_at = pointer(["components", "schemas", &response]);
    let response_def = c.raw.pointer(&response_at).expect("resolved while validating responses");
    let required = |schema: &Value, key: &str| {
        schema.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|v| v == key))
    };
    let item_node = response_def
        .pointer(&format!("/properties/{}", crate::error::escape_pointer_token(&item)))
        .filter(|_| required(response_def, &item))
        .ok_or_else(|| {
            c.err(op, &response_at, format!("`{response}` has no required property `{item}` (the waiter's `item`)"))
        })?;
    let item_schema =
        c.schema_ref_name(item_node, &format!("{response_at}/properties/{item}"), op, "a waiter's item")?;
    let item_at = pointer(["components", "schemas", &item_schema]);
    let item_def = c.raw.pointer(&item_at).expect("resolved above");
    let status_node = item_def
        .pointer(&format!("/properties/{}", crate::error::escape_pointer_token(&status)))
        .filter(|_| required(item_def, &status))
        .ok_or_else(|| {
            c.err(op, &item_at, format!("`{item_schema}` has no required property `{status}` (the waiter's `status`)"))
        })?;
    let status_schema =
        c.schema_ref_name(status_node, &format!("{item_at}/properties/{status}"), op, "a waiter's status")?;
    let known: Vec<String> = c
        .raw
        .pointer(&format!("/components/schemas/{status_schema}/{EXTENSIBLE_ENUM}"))
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .ok_or_else(|| {
            c.err(
                op,
                &format!("{item_at}/properties/{status}"),
                format!("a waiter's status must be an open enum (`{EXTENSIBLE_ENUM}`)"),
            )
        })?;
    let string_property = |key: &str| -> Result<Option<(String, bool)>> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::String(r)) => {
                let prop = item_def
                    .pointer(&format!("/properties/{}", crate::error::escape_pointer_token(r)))
                    .filter(|p| p.get("type").and_then(Value::as_str) == Some("string"))
                    .ok_or_else(|| {
                        c.err(op, &format!("{at}/{key}"), format!("`{item_schema}` has no string property `{r}`"))
                    })?;
                let optional = !required(item_def, r) || prop.get("nullable") == Some(&Value::Bool(true));
                Ok(Some((r.clone(), optional)))
            }
            Some(other) => Err(c.err(op, &format!("{at}/{key}"), format!("expected a property name, found {other}"))),
        }
    };
    let reason = string_property("reason")?;
    let progress = string_property("progress")?;
    let list = |key: &str| -> Result<Vec<String>> {
        let Some(values) = map.get(key) else { return Ok(Vec::new()) };
        let values =
            values.as_array().ok_or_else(|| c.err(op, &format!("{at}/{key}"), "expected a list of statuses"))?;
        values
            .iter()
            .enumerate()
            .map(|(i, v)| match v.as_str() {
                Some(s) if known.iter().any(|k| k == s) => Ok(s.to_owned()),
                _ => Err(c.err(
                    op,
                    &format!("{at}/{key}/{i}"),
                    format!("{v} is not a status of `{status_schema}` ({})", known.join(", ")),
                )),
            })
            .collect()
    };
    let not_found_means_deleted = match map.get("not-found-means-deleted") {
        Some(Value::Bool(b)) => *b,
        _ => return Err(c.err(op, at, "`not-found-means-deleted` (true or false) is missing")),
    };
    let (failure, deletion_failure) = (list("failure")?, list("deletion-failure")?);
    let (transitional, deleted) = (list("transitional")?, list("deleted")?);
    Ok(WaiterSpec {
        resource,
        item,
        item_schema,
        status,
        status_schema,
        reason,
        progress,
        failure,
        deletion_failure,
        transitional,
        deleted,
        not_found_means_deleted,
        id_param,
    })
}

/// `x-openstack-find` on a show operation, as written: `{resource, item,
/// list, name-filter}`; the list is resolved once every operation is known.
fn finder(
    op: &Op<'_>,
    node: &Value,
    method: &str,
    path_params: &[String],
    success: &[(u16, Option<String>)],
) -> Result<FindSpec> {
    let at = format!("{}/{FIND}", op.at);
    let map = node.as_object().ok_or_else(|| op.err(&at, "expected an object"))?;
    const KEYS: [&str; 4] = ["resource", "item", "list", "name-filter"];
    if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(op.err(&format!("{at}/{key}"), format!("unknown key `{key}` (known: {})", KEYS.join(", "))));
    }
    let text = |key: &str| -> Result<String> {
        map.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| op.err(&at, format!("`{key}` (a string) is missing")))
    };
    let (resource, item, list) = (text("resource")?, text("item")?, text("list")?);
    let name_filter = match map.get("name-filter") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(op.err(&format!("{at}/name-filter"), format!("expected a query parameter, found {other}")));
        }
    };
    let id_param = match (method, path_params) {
        ("get", [.., last]) => last.clone(),
        _ => return Err(op.err(&at, "a finder sits on a GET of one resource, by the id in its path")),
    };
    let response = match success {
        [(200, Some(schema))] => schema.clone(),
        _ => return Err(op.err(&at, "a finder needs the operation's one 200 response with a JSON body")),
    };
    let response_at = pointer(["components", "schemas", &response]);
    let response_def = op.c.raw.pointer(&response_at).expect("resolved while validating responses");
    let item_node = response_def
        .pointer(&format!("/properties/{}", crate::error::escape_pointer_token(&item)))
        .ok_or_else(|| op.err(&response_at, format!("`{response}` has no property `{item}` (the finder's `item`)")))?;
    let item_schema =
        op.c.schema_ref_name(item_node, &format!("{response_at}/properties/{item}"), op.id(), "a finder's item")?;
    let item_at = pointer(["components", "schemas", &item_schema]);
    let item_def = op.c.raw.pointer(&item_at).expect("resolved above");
    let required =
        |key: &str| item_def.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|v| v == key));
    let string_prop = |key: &str| {
        item_def
            .pointer(&format!("/properties/{key}"))
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("string"))
    };
    if string_prop("id").is_none() || !required("id") {
        return Err(op.err(&item_at, format!("a finder needs `{item_schema}` to have a required string `id`")));
    }
    let name = string_prop("name")
        .ok_or_else(|| op.err(&item_at, format!("a finder needs `{item_schema}` to have a string `name`")))?;
    let name_optional = !required("name") || name.get("nullable") == Some(&Value::Bool(true));
    Ok(FindSpec { item, item_schema, resource, list_method: list, name_filter, name_optional, id_param })
}

/// Each finder's list: a paged list of the same resource, with the name
/// filter among its query parameters.
fn resolve_finders(c: &Checker<'_>, operations: &mut [Operation]) -> Result<()> {
    let lists: Vec<(String, String, String, Vec<String>)> = operations
        .iter()
        .filter_map(|o| match &o.kind {
            Kind::Paged(p) => {
                Some((o.operation_id.clone(), o.method_name.clone(), p.item_schema.clone(), o.query.clone()))
            }
            _ => None,
        })
        .collect();
    for op in operations.iter_mut() {
        let id = op.operation_id.clone();
        let at = format!("{}/{FIND}/list", pointer(["paths", &op.path, &op.method.to_lowercase()]));
        let Some(f) = op.finder.as_mut() else { continue };
        let (_, method, item_schema, query) =
            lists.iter().find(|(list_id, ..)| *list_id == f.list_method).ok_or_else(|| {
                c.err(Some(&id), &at, format!("`{}` is not a paged list operation of this spec", f.list_method))
            })?;
        if *item_schema != f.item_schema {
            return Err(c.err(
                Some(&id),
                &at,
                format!(
                    "`{}` lists `{item_schema}`, not `{}`: a finder returns what the show operation does",
                    f.list_method, f.item_schema
                ),
            ));
        }
        if let Some(filter) = &f.name_filter
            && !query.contains(filter)
        {
            return Err(c.err(Some(&id), &at, format!("`{}` has no query parameter `{filter}`", f.list_method)));
        }
        f.list_method = method.clone();
    }
    Ok(())
}
