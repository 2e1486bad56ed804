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
use crate::ext::actions::{ACTIONS, actions};
use crate::ext::always_sent::always_sent;
use crate::ext::find::{FIND, finder, resolve_finders};
use crate::ext::microversion::MAX_MICROVERSION;
use crate::ext::microversion::body_gates;
use crate::ext::open_enum::{self, EXTENSIBLE_ENUM};
use crate::ext::paging::{PAGINATION, paged};
use crate::ext::service::SERVICE;
use crate::ext::service::{service_identity, version_document};
use crate::ext::waiter::{WAITER, waiter};
use crate::load::LoadedSpec;
use crate::model::{
    Bounds, ExtensionSite, Kind, Microversion, Model, Operation, Parameter, Response, SpecOperation, extensions_of,
    snake_case,
};

pub(crate) mod schema;

pub(crate) use schema::FORMAT_TYPES;
use schema::{check_formats, check_refs, check_response_schemas, check_schema_types, format_type};

/// The shared error schema every operation must use for `4XX` and `5XX`.
pub const FAULT_SCHEMA: &str = "Fault";

pub(crate) const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The spec being checked, for the checks and their errors.
pub(crate) struct Checker<'a> {
    pub(crate) file: &'a str,
    pub(crate) raw: &'a Value,
}

impl<'a> Checker<'a> {
    pub(crate) fn err(&self, op: Option<&str>, ptr: &str, msg: impl Into<String>) -> Error {
        Error::spec(self.file, op, ptr, msg)
    }

    /// Follows a local `$ref`, returning the target and its pointer.
    pub(crate) fn resolve<'v>(&'v self, value: &'v Value, at: &str, op: Option<&str>) -> Result<(&'v Value, String)> {
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

    /// The component name a `$ref` value points at (`#/components/schemas/X`).
    pub(crate) fn schema_ref_name(&self, schema: &Value, at: &str, op: Option<&str>, what: &str) -> Result<String> {
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
    validate_document(&spec.file, &spec.raw)
}

/// [`validate`] of a raw document (`file` names it in errors).
pub(crate) fn validate_document(file: &str, raw: &Value) -> Result<Model> {
    let c = Checker { file, raw };

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
            open_enums.push(open_enum::parse(&c, name, schema, values, &at)?);
        }
        if let Some((format, (ty, rust))) =
            schema.get("format").and_then(Value::as_str).and_then(|f| format_type(f).map(|t| (f, t)))
        {
            if schema.get("type").and_then(Value::as_str) != Some(ty) {
                return Err(c.err(None, &at, format!("`format: {format}` needs `type: {ty}`")));
            }
            replacements.push((name.clone(), rust.full()));
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
    let mut info_extensions = extensions_of(raw.get("info").unwrap_or(&Value::Null));
    let service_source = info_extensions.remove(SERVICE).unwrap_or(Value::Null);
    let mut extension_sites = vec![
        ExtensionSite { scope: "document".to_owned(), pointer: String::new(), extensions: extensions_of(raw) },
        ExtensionSite { scope: "info".to_owned(), pointer: "/info".to_owned(), extensions: info_extensions },
    ];
    extension_sites.extend(paths.iter().map(|(path, item)| ExtensionSite {
        scope: path.clone(),
        pointer: pointer(["paths", path]),
        extensions: extensions_of(item),
    }));
    Ok(Model {
        service,
        title,
        max_microversion,
        operations,
        open_enums,
        replacements,
        fault: FAULT_SCHEMA.to_owned(),
        service_source,
        components: schemas.into_iter().collect(),
        extension_sites,
    })
}

/// Where an operation sits, for its checks and their errors.
pub(crate) struct Op<'a> {
    pub(crate) c: &'a Checker<'a>,
    /// The operation's node.
    pub(crate) node: &'a Value,
    /// Its JSON pointer (`/paths/~1backups/get`).
    pub(crate) at: String,
    /// Its `operationId`.
    pub(crate) id: String,
}

impl Op<'_> {
    pub(crate) fn err(&self, ptr: &str, msg: impl Into<String>) -> Error {
        self.c.err(Some(&self.id), ptr, msg)
    }

    pub(crate) fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// The operation's parameters: path parameters (they must cover the path
/// template) and query parameters with their own minimum microversion.
pub(crate) struct Parameters {
    pub(crate) path: Vec<String>,
    pub(crate) query: BTreeMap<String, Option<Microversion>>,
    /// Every parameter as written, for the model's [`SpecOperation`].
    pub(crate) written: Vec<Parameter>,
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
    let mut written_responses = BTreeMap::new();
    let success = responses(&op, response_roots, &mut written_responses)?;
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
        spec: SpecOperation {
            pointer: at.to_owned(),
            bounds: Bounds {
                min: min_microversion,
                max: c.microversion_extension(node, MAX_MICROVERSION, at, op.id())?,
            },
            parameters: params.written.clone(),
            body: node.pointer("/requestBody/content/application~1json/schema").cloned(),
            responses: written_responses,
            extensions: extensions_of(node),
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
    let mut out = Parameters { path: Vec::new(), query: BTreeMap::new(), written: Vec::new() };
    let item_params = item.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let op_params = op.node.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let all = item_params
        .iter()
        .enumerate()
        .map(|(i, p)| (p, pointer(["paths", path, "parameters"]) + &format!("/{i}")))
        .chain(op_params.iter().enumerate().map(|(i, p)| (p, format!("{}/parameters/{i}", op.at))));
    for (p, written_at) in all {
        let (p, p_at) = op.c.resolve(p, &written_at, op.id())?;
        let name = p.get("name").and_then(Value::as_str).ok_or_else(|| op.err(&p_at, "parameter without a name"))?;
        out.written.push(Parameter {
            place: p.get("in").and_then(Value::as_str).unwrap_or_default().to_owned(),
            name: name.to_owned(),
            pointer: written_at.clone(),
            required: p.get("required") == Some(&Value::Bool(true)),
            schema: p.get("schema").cloned().unwrap_or(Value::Null),
            bounds: Bounds {
                min: op.c.min_microversion(p, &p_at, op.id())?,
                max: op.c.microversion_extension(p, MAX_MICROVERSION, &p_at, op.id())?,
            },
            source: p.clone(),
        });
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
    written: &mut BTreeMap<String, Response>,
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
        written.insert(
            code.clone(),
            Response { pointer: format!("{at}/responses/{code}"), schema: schema.cloned(), source: resp.clone() },
        );
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

fn template_params(path: &str) -> Vec<String> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(name, _)| name.to_owned())).collect()
}
