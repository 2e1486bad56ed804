//! What a spec change does to the API and to the generated Rust: every
//! change between two versions of a spec, with its operation or schema,
//! JSON pointer, old and new value, level and effect in Rust words.
//!
//! Both sides are read with the generator's loader; schemas are compared
//! through their `$ref`s. Component schemas are classified by use (reached
//! from a request body, a response, or both), because the same change is
//! harmless on one side and breaking on the other. The project's extensions
//! have rules of their own: a raised `x-openstack-min-microversion` is
//! breaking for users below it, a renamed `operationId` renames a method,
//! a removed `x-extensible-enum` value is a warning (open enums still
//! decode it). Any other extension change is reported as a JSON-patch style
//! entry, so that nothing is ignored silently.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::process::Command;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result, escape_pointer_token};
use crate::ext::actions::ACTIONS;
use crate::ext::find::FIND;
use crate::ext::microversion::{MAX_MICROVERSION, MIN_MICROVERSION};
use crate::ext::open_enum::EXTENSIBLE_ENUM;
use crate::ext::paging::PAGINATION;
use crate::ext::waiter::WAITER;
use crate::model::{Microversion, pascal_case, snake_case};
use crate::validate::FORMAT_TYPES;

/// How much a change matters to users of the generated crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Code that compiles and works today may not after the change.
    Breaking,
    /// Behaviour or a contract changes; code keeps compiling.
    Warning,
    /// Additive or cosmetic.
    Info,
}

impl Level {
    /// `breaking`, `warning`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Breaking => "breaking",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The spec file.
    pub file: String,
    /// How much it matters.
    pub level: Level,
    /// The operation (`GET /backups listBackups`) or schema (`schema Backup`).
    pub scope: String,
    /// Where, as a JSON pointer into the spec.
    pub pointer: String,
    /// What changed, in the spec's words.
    pub what: String,
    /// What it does to the generated Rust API.
    pub rust: String,
    /// The value before (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The value after (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// The default revision to compare with: the merge base of `HEAD` and
/// `main` when there is one (a pull request's starting point), else `HEAD`.
pub fn default_base(root: &Path) -> String {
    git(root, &["merge-base", "HEAD", "main"]).map(|s| s.trim().to_owned()).unwrap_or_else(|_| "HEAD".to_owned())
}

/// Every spec of the workspace at `root` (`spec/*.yaml`) at git revision
/// `base` compared with the working tree. A spec only on one side is
/// reported as added or removed. Both sides are read with [`crate::load`],
/// so an unreadable spec is an error that names its file and pointer (the
/// old side's file as `spec/x.yaml@BASE`).
pub fn diff_revision(root: &Path, base: &str) -> Result<Vec<Change>> {
    git(root, &["rev-parse", "--verify", "--quiet", &format!("{base}^{{commit}}")]).map_err(|_| Error::Git {
        command: format!("rev-parse {base}"),
        message: format!("`{base}` is not a commit of {}", root.display()),
    })?;
    let listed = git(root, &["ls-tree", "--name-only", base, "spec/"])?;
    let old_files: BTreeSet<String> =
        listed.lines().filter(|f| f.ends_with(".yaml") && f.matches('/').count() == 1).map(str::to_owned).collect();
    let new_files: BTreeSet<String> = crate::services(root)?.into_iter().map(|s| s.spec_path).collect();
    let mut changes = Vec::new();
    for file in old_files.union(&new_files) {
        let old = match old_files.contains(file) {
            true => {
                Some(crate::load(&format!("{file}@{base}"), &git(root, &["show", &format!("{base}:{file}")])?)?.raw)
            }
            false => None,
        };
        let new = match new_files.contains(file) {
            true => {
                let path = root.join(file);
                let text = std::fs::read_to_string(&path).map_err(|source| Error::Io { path, source })?;
                Some(crate::load(file, &text)?.raw)
            }
            false => None,
        };
        changes.extend(diff_spec(file, old.as_ref(), new.as_ref()));
    }
    Ok(changes)
}

fn git(root: &Path, args: &[&str]) -> Result<String> {
    let command = args.join(" ");
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| Error::Git { command: command.clone(), message: format!("cannot run git: {e}") })?;
    if !out.status.success() {
        return Err(Error::Git { command, message: String::from_utf8_lossy(&out.stderr).trim().to_owned() });
    }
    String::from_utf8(out.stdout).map_err(|_| Error::Git { command, message: "output is not UTF-8".to_owned() })
}

/// Compares two versions of one spec (`None`: the file did not exist).
pub fn diff_spec(file: &str, old: Option<&Value>, new: Option<&Value>) -> Vec<Change> {
    let mut d = Diff {
        file: file.to_owned(),
        changes: Vec::new(),
        old: old.cloned().unwrap_or(Value::Null),
        new: new.cloned().unwrap_or(Value::Null),
    };
    match (old, new) {
        (None, None) => {}
        (None, Some(n)) => {
            d.push(Level::Info, "spec", "", "a new spec", format!("module {} added", module(n)), None, None)
        }
        (Some(o), None) => d.push(
            Level::Breaking,
            "spec",
            "",
            "the spec is removed",
            format!("module {} removed", module(o)),
            None,
            None,
        ),
        (Some(_), Some(_)) => d.run(),
    }
    d.changes.sort_by(|a, b| {
        a.level.cmp(&b.level).then_with(|| a.scope.cmp(&b.scope)).then_with(|| a.pointer.cmp(&b.pointer))
    });
    d.changes
}

/// The module a spec's service generates (`info.x-openstack-service.module`).
fn module(doc: &Value) -> &str {
    doc.pointer("/info/x-openstack-service/module").and_then(Value::as_str).unwrap_or("(unnamed)")
}

/// One operation, found by method and path.
struct Op<'a> {
    method: String,
    path: String,
    node: &'a Value,
    item: &'a Value,
}

impl Op<'_> {
    fn id(&self) -> &str {
        self.node.get("operationId").and_then(Value::as_str).unwrap_or("")
    }

    fn pointer(&self) -> String {
        format!("/paths/{}/{}", escape_pointer_token(&self.path), self.method)
    }

    fn scope(&self) -> String {
        format!("{} {} {}", self.method.to_uppercase(), self.path, self.id())
    }
}

fn operations(doc: &Value) -> BTreeMap<(String, String), Op<'_>> {
    let mut out = BTreeMap::new();
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if let Some(node) = item.get(method) {
                out.insert(
                    (path.clone(), method.to_owned()),
                    Op { method: method.to_owned(), path: path.clone(), node, item },
                );
            }
        }
    }
    out
}

/// Which side a component schema is used on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
    Both,
}

struct Diff {
    file: String,
    changes: Vec<Change>,
    old: Value,
    new: Value,
}

fn mv(node: &Value, key: &str) -> Option<Microversion> {
    node.get(key).and_then(Value::as_str).and_then(Microversion::parse)
}

/// Follows `$ref`s (and a single-member `allOf`) to the schema itself.
fn resolve<'v>(doc: &'v Value, node: &'v Value) -> &'v Value {
    let mut node = node;
    for _ in 0..16 {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(target) => node = target,
                None => return node,
            }
        } else if let Some([only]) = node.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            node = only;
        } else {
            return node;
        }
    }
    node
}

/// The index of `action` in an operation's `x-openstack-actions`.
fn action_index(op: &Value, action: &str) -> usize {
    op.get(ACTIONS)
        .and_then(Value::as_array)
        .and_then(|all| all.iter().position(|a| a.get("action").and_then(Value::as_str) == Some(action)))
        .unwrap_or(0)
}

fn ref_name(node: &Value) -> Option<&str> {
    let node = match node.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) => only,
        _ => node,
    };
    node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// A schema's Rust type, as the generator makes it (near enough to read).
fn rust_type(doc: &Value, node: &Value, optional: bool) -> String {
    let nullable = resolve(doc, node).get("nullable") == Some(&Value::Bool(true))
        || node.get("nullable") == Some(&Value::Bool(true));
    let inner = match ref_name(node) {
        Some(name) => {
            let target = resolve(doc, node);
            let (ty, format) =
                (target.get("type").and_then(Value::as_str), target.get("format").and_then(Value::as_str));
            match FORMAT_TYPES.iter().find(|(t, f, _)| Some(*t) == ty && Some(*f) == format) {
                Some((_, _, rust)) => rust.full().rsplit("::").next().unwrap_or_default().to_owned(),
                None => pascal_case(name),
            }
        }
        None => {
            let n = resolve(doc, node);
            match n.get("type").and_then(Value::as_str) {
                Some("string") => match n.get("format").and_then(Value::as_str) {
                    Some("uuid") => "Uuid".to_owned(),
                    Some("date") => "NaiveDate".to_owned(),
                    Some("date-time") => "DateTime<Utc>".to_owned(),
                    _ => "String".to_owned(),
                },
                Some("boolean") => "bool".to_owned(),
                Some("number") => "f64".to_owned(),
                Some("integer") => {
                    if n.get("minimum").and_then(Value::as_f64).is_some_and(|m| m >= 0.0) {
                        "u64".to_owned()
                    } else {
                        "i64".to_owned()
                    }
                }
                Some("array") => {
                    format!("Vec<{}>", n.get("items").map_or("Value".to_owned(), |i| rust_type(doc, i, false)))
                }
                Some("object") => match n.get("additionalProperties") {
                    Some(ap) if ap.is_object() && n.get("properties").is_none() => {
                        format!("BTreeMap<String, {}>", rust_type(doc, ap, false))
                    }
                    _ => "Map".to_owned(),
                },
                _ => "Value".to_owned(),
            }
        }
    };
    if (optional || nullable) && !inner.starts_with("Vec<") && !inner.starts_with("BTreeMap<") {
        format!("Option<{inner}>")
    } else {
        inner
    }
}

/// The type a schema's JSON `type`/`format`/`$ref` names, for comparison.
fn type_key(doc: &Value, node: &Value) -> Value {
    match ref_name(node) {
        Some(name) => Value::String(format!("$ref:{name}")),
        None => {
            let n = resolve(doc, node);
            serde_json::json!({"type": n.get("type"), "format": n.get("format"), "items": n.get("items").map(|i| type_key(doc, i))})
        }
    }
}

impl Diff {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        level: Level,
        scope: &str,
        pointer: &str,
        what: impl Into<String>,
        rust: impl Into<String>,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        self.changes.push(Change {
            file: self.file.clone(),
            level,
            scope: scope.to_owned(),
            pointer: pointer.to_owned(),
            what: what.into(),
            rust: rust.into(),
            old,
            new,
        });
    }

    fn run(&mut self) {
        let (old, new) = (self.old.clone(), self.new.clone());
        let (old_ops, new_ops) = (operations(&old), operations(&new));
        let old_ids: BTreeMap<&str, &Op<'_>> = old_ops.values().map(|o| (o.id(), o)).collect();
        let new_ids: BTreeMap<&str, &Op<'_>> = new_ops.values().map(|o| (o.id(), o)).collect();

        // Operations by route; an operation whose id stays but whose route
        // changed is a move, not a removal.
        for (key, o) in &old_ops {
            match new_ops.get(key) {
                Some(n) => self.operation(o, n),
                None => match new_ids.get(o.id()) {
                    Some(n) => self.push(
                        Level::Warning,
                        &o.scope(),
                        &o.pointer(),
                        format!("the operation moves to {} {}", n.method.to_uppercase(), n.path),
                        format!("method {} keeps its name and calls the new route", snake_case(o.id())),
                        Some(Value::String(format!("{} {}", o.method.to_uppercase(), o.path))),
                        Some(Value::String(format!("{} {}", n.method.to_uppercase(), n.path))),
                    ),
                    None => self.push(
                        Level::Breaking,
                        &o.scope(),
                        &o.pointer(),
                        "operation removed",
                        format!("method {} removed", snake_case(o.id())),
                        Some(Value::String(o.id().to_owned())),
                        None,
                    ),
                },
            }
        }
        for (key, n) in &new_ops {
            if !old_ops.contains_key(key) && !old_ids.contains_key(n.id()) {
                self.push(
                    Level::Info,
                    &n.scope(),
                    &n.pointer(),
                    "operation added",
                    format!("method {} added", snake_case(n.id())),
                    None,
                    Some(Value::String(n.id().to_owned())),
                );
            }
        }
        self.schemas();

        // The service itself, and extensions anywhere else.
        let service = |d: &Value| d.pointer("/info/x-openstack-service/module").cloned();
        let name = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).unwrap_or("").to_owned();
        match (service(&old), service(&new)) {
            (a, b) if a == b => {}
            (None, b) => self.push(
                Level::Warning,
                "info",
                "/info/x-openstack-service/module",
                "the spec now names its module",
                format!("the service's module is {}: review the regenerated diff", name(&b)),
                None,
                b,
            ),
            (a, b) => self.push(
                Level::Breaking,
                "info",
                "/info/x-openstack-service/module",
                "the service's module changed",
                match &b {
                    Some(_) => format!("module {} renamed to {}", name(&a), name(&b)),
                    None => format!("module {} loses its name", name(&a)),
                },
                a,
                b,
            ),
        }
        let without_module = |d: &Value| {
            let mut v = d.pointer("/info/x-openstack-service").cloned().unwrap_or(Value::Null);
            if let Some(m) = v.as_object_mut() {
                m.remove("module");
            }
            v
        };
        if old.pointer("/info/x-openstack-service").is_some() && without_module(&old) != without_module(&new) {
            let at = "/info/x-openstack-service";
            self.push(
                Level::Warning,
                "info",
                at,
                format!("{{\"op\": \"replace\", \"path\": \"{at}\"}}"),
                "the service's catalog type, header or defaults change: review the regenerated diff",
                Some(without_module(&old)),
                Some(without_module(&new)),
            );
        }
        self.extensions(
            "info",
            "/info",
            old.get("info").unwrap_or(&Value::Null),
            new.get("info").unwrap_or(&Value::Null),
            &[crate::ext::service::SERVICE],
        );
        self.extensions("document", "", &old, &new, &[]);
        for (path, item) in new.get("paths").and_then(Value::as_object).into_iter().flatten() {
            let before = old.pointer(&format!("/paths/{}", escape_pointer_token(path))).unwrap_or(&Value::Null);
            self.extensions(path, &format!("/paths/{}", escape_pointer_token(path)), before, item, &[]);
        }
    }

    fn operation(&mut self, o: &Op<'_>, n: &Op<'_>) {
        let scope = n.scope();
        let at = n.pointer();
        let (old_doc, new_doc) = (self.old.clone(), self.new.clone());
        if o.id() != n.id() {
            self.push(
                Level::Breaking,
                &scope,
                &format!("{at}/operationId"),
                "operationId changed",
                format!("method {} renamed to {}", snake_case(o.id()), snake_case(n.id())),
                Some(Value::String(o.id().to_owned())),
                Some(Value::String(n.id().to_owned())),
            );
        }
        let method = snake_case(n.id());
        self.microversion(&scope, &at, o.node, n.node, &format!("method {method}"));
        self.parameters(&scope, &method, o, n);

        // Request bodies: their schemas are compared with the schemas.
        let body = "/requestBody/content/application~1json/schema";
        match (o.node.pointer(body), n.node.pointer(body)) {
            (None, Some(b)) => self.push(
                Level::Breaking,
                &scope,
                &format!("{at}/requestBody"),
                "a request body is now needed",
                format!("{method}'s builder needs .body(…)"),
                None,
                Some(b.clone()),
            ),
            (Some(b), None) => self.push(
                Level::Breaking,
                &scope,
                &format!("{at}/requestBody"),
                "the request body is gone",
                format!("{method}'s builder loses .body(…)"),
                Some(b.clone()),
                None,
            ),
            (Some(a), Some(b)) if ref_name(a) != ref_name(b) => self.push(
                Level::Breaking,
                &scope,
                &format!("{at}{body}"),
                "the request body's schema changed",
                format!("{method}'s body: {} → {}", rust_type(&old_doc, a, false), rust_type(&new_doc, b, false)),
                Some(a.clone()),
                Some(b.clone()),
            ),
            // An inline body is a type of its own, compared like a named one.
            (Some(a), Some(b)) if ref_name(a).is_none() && a != b => self.schema_at(
                &scope,
                &format!("{at}{body}"),
                &format!("{}Body", pascal_case(n.id())),
                a,
                b,
                Side::Request,
            ),
            _ => {}
        }

        // Responses.
        let codes = |op: &Op<'_>| -> BTreeMap<String, Value> {
            op.node
                .get("responses")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let (oc, nc) = (codes(o), codes(n));
        let success = |k: &str| k.starts_with('2') || k.starts_with('3');
        for (code, r) in &oc {
            if !nc.contains_key(code) {
                let level = if success(code) { Level::Breaking } else { Level::Warning };
                self.push(
                    level,
                    &scope,
                    &format!("{at}/responses/{code}"),
                    format!("response {code} removed"),
                    if success(code) {
                        format!("{method} no longer succeeds with {code}: the server's {code} becomes an error")
                    } else {
                        "errors decode as before (the shared fault)".to_owned()
                    },
                    Some(r.clone()),
                    None,
                );
            }
        }
        for (code, r) in &nc {
            let r_at = format!("{at}/responses/{code}");
            match oc.get(code) {
                None => self.push(
                    if success(code) { Level::Warning } else { Level::Info },
                    &scope,
                    &r_at,
                    format!("response {code} added"),
                    if success(code) {
                        format!("{method} also succeeds with {code}")
                    } else {
                        "an error status more; errors decode as before".to_owned()
                    },
                    None,
                    Some(r.clone()),
                ),
                Some(old_r) => {
                    let schema = "/content/application~1json/schema";
                    let (a, b) = (resolve(&old_doc, old_r).pointer(schema), resolve(&new_doc, r).pointer(schema));
                    if a.map(ref_name) != b.map(ref_name) {
                        self.push(
                            Level::Breaking,
                            &scope,
                            &format!("{r_at}/content/application~1json/schema"),
                            format!("the {code} response's schema changed"),
                            format!(
                                "{method} returns {} instead of {}",
                                b.map_or("()".to_owned(), |b| rust_type(&new_doc, b, false)),
                                a.map_or("()".to_owned(), |a| rust_type(&old_doc, a, false))
                            ),
                            a.cloned(),
                            b.cloned(),
                        );
                    } else if let (Some(a), Some(b)) = (a, b)
                        && ref_name(a).is_none()
                        && a != b
                    {
                        let ty = format!("{}Response", pascal_case(n.id()));
                        self.schema_at(&scope, &format!("{r_at}{schema}"), &ty, a, b, Side::Response);
                    }
                }
            }
        }

        // Actions.
        let actions = |op: &Op<'_>| -> BTreeMap<String, Value> {
            op.node
                .get(ACTIONS)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| Some((a.get("action")?.as_str()?.to_owned(), a.clone())))
                .collect()
        };
        let (oa, na) = (actions(o), actions(n));
        for (key, a) in &oa {
            let id = a.get("operationId").and_then(Value::as_str).unwrap_or("");
            match na.get(key) {
                None => self.push(
                    Level::Breaking,
                    &scope,
                    &format!("{at}/{ACTIONS}/{}", action_index(o.node, key)),
                    format!("action {key} removed"),
                    format!("method {} removed", snake_case(id)),
                    Some(a.clone()),
                    None,
                ),
                Some(b) => {
                    let new_id = b.get("operationId").and_then(Value::as_str).unwrap_or("");
                    if id != new_id {
                        self.push(
                            Level::Breaking,
                            &scope,
                            &format!("{at}/{ACTIONS}/{}/operationId", action_index(n.node, key)),
                            format!("action {key}'s operationId changed"),
                            format!("method {} renamed to {}", snake_case(id), snake_case(new_id)),
                            Some(a.clone()),
                            Some(b.clone()),
                        );
                    }
                    let a_at = format!("{at}/{ACTIONS}/{}", action_index(n.node, key));
                    self.microversion(&scope, &a_at, a, b, &format!("method {}", snake_case(new_id)));
                    let rest = |v: &Value| -> Value {
                        let mut v = v.clone();
                        if let Some(m) = v.as_object_mut() {
                            for k in
                                ["action", "operationId", "summary", "description", MIN_MICROVERSION, MAX_MICROVERSION]
                            {
                                m.remove(k);
                            }
                        }
                        v
                    };
                    if rest(a) != rest(b) {
                        self.push(
                            Level::Warning,
                            &scope,
                            &a_at,
                            format!("{{\"op\": \"replace\", \"path\": \"{a_at}\"}}"),
                            format!(
                                "method {} follows the new action description: review the regenerated diff",
                                snake_case(new_id)
                            ),
                            Some(rest(a)),
                            Some(rest(b)),
                        );
                    }
                }
            }
        }
        for (key, b) in &na {
            if !oa.contains_key(key) {
                let id = b.get("operationId").and_then(Value::as_str).unwrap_or("");
                self.push(
                    Level::Info,
                    &scope,
                    &format!("{at}/{ACTIONS}/{}", action_index(n.node, key)),
                    format!("action {key} added"),
                    format!("method {} added", snake_case(id)),
                    None,
                    Some(b.clone()),
                );
            }
        }

        // Pagination, and every other extension of the operation.
        if o.node.get(PAGINATION) != n.node.get(PAGINATION) {
            self.push(
                Level::Warning,
                &scope,
                &format!("{at}/{PAGINATION}"),
                "pagination changed",
                format!("{method}'s stream() and all() follow the new description"),
                o.node.get(PAGINATION).cloned(),
                n.node.get(PAGINATION).cloned(),
            );
        }
        self.helpers(&scope, &at, o.node, n.node);
        let known = [MIN_MICROVERSION, MAX_MICROVERSION, PAGINATION, ACTIONS, FIND, WAITER];
        self.extensions(&scope, &at, o.node, n.node, &known);
    }

    /// The client methods `x-openstack-find` and `x-openstack-waiter`
    /// generate: added, removed, or described anew.
    fn helpers(&mut self, scope: &str, at: &str, old: &Value, new: &Value) {
        let methods = |key: &str, ext: &Value| -> String {
            let item = snake_case(ext.get("item").and_then(Value::as_str).unwrap_or(""));
            if key == FIND {
                format!("method find_{item}")
            } else {
                format!("methods wait_for_{item} and wait_for_{item}_deleted")
            }
        };
        for key in [FIND, WAITER] {
            let e_at = format!("{at}/{key}");
            match (old.get(key), new.get(key)) {
                (None, None) => {}
                (Some(a), Some(b)) if a == b => {}
                (None, Some(b)) => self.push(
                    Level::Info,
                    scope,
                    &e_at,
                    format!("{key} added"),
                    format!("{} added", methods(key, b)),
                    None,
                    Some(b.clone()),
                ),
                (Some(a), None) => self.push(
                    Level::Breaking,
                    scope,
                    &e_at,
                    format!("{key} removed"),
                    format!("{} removed", methods(key, a)),
                    Some(a.clone()),
                    None,
                ),
                (Some(a), Some(b)) => {
                    let (ma, mb) = (methods(key, a), methods(key, b));
                    if ma != mb {
                        self.push(
                            Level::Breaking,
                            scope,
                            &e_at,
                            format!("{key}'s item renamed"),
                            format!(
                                "{ma} renamed to {}",
                                mb.trim_start_matches("methods ").trim_start_matches("method ")
                            ),
                            Some(a.clone()),
                            Some(b.clone()),
                        );
                    } else {
                        self.push(
                            Level::Warning,
                            scope,
                            &e_at,
                            format!("{{\"op\": \"replace\", \"path\": \"{e_at}\"}}"),
                            format!(
                                "{mb} {} the new description: review the regenerated diff",
                                if key == FIND { "follows" } else { "follow" }
                            ),
                            Some(a.clone()),
                            Some(b.clone()),
                        );
                    }
                }
            }
        }
    }

    fn parameters(&mut self, scope: &str, method: &str, o: &Op<'_>, n: &Op<'_>) {
        let (old_doc, new_doc) = (self.old.clone(), self.new.clone());
        // Each parameter by place and name, with its pointer (path-level
        // parameters first; an operation's own override them).
        let params = |doc: &Value, op: &Op<'_>| -> BTreeMap<(String, String), (String, Value)> {
            let item_at = format!("/paths/{}/parameters", escape_pointer_token(&op.path));
            let op_at = format!("{}/parameters", op.pointer());
            let listed = |node: &Value, at: String| -> Vec<(String, Value)> {
                node.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, p)| (format!("{at}/{i}"), resolve(doc, p).clone()))
                    .collect()
            };
            listed(op.item, item_at)
                .into_iter()
                .chain(listed(op.node, op_at))
                .filter_map(|(at, p)| {
                    Some(((p.get("in")?.as_str()?.to_owned(), p.get("name")?.as_str()?.to_owned()), (at, p)))
                })
                .collect()
        };
        let (op_, np) = (params(&old_doc, o), params(&new_doc, n));
        for ((place, name), (old_at, p)) in &op_ {
            let arg = snake_case(name);
            match np.get(&(place.clone(), name.clone())) {
                None => self.push(
                    Level::Breaking,
                    scope,
                    old_at,
                    format!("{place} parameter {name} removed"),
                    format!("{method}'s builder loses .{arg}(…)"),
                    Some(p.clone()),
                    None,
                ),
                Some((p_at, q)) => {
                    let required = |x: &Value| x.get("required") == Some(&Value::Bool(true));
                    if !required(p) && required(q) {
                        self.push(
                            Level::Breaking,
                            scope,
                            &format!("{p_at}/required"),
                            format!("{place} parameter {name} became required"),
                            format!("{method} fails unless .{arg}(…) is set"),
                            Some(Value::Bool(false)),
                            Some(Value::Bool(true)),
                        );
                    } else if required(p) && !required(q) {
                        self.push(
                            Level::Info,
                            scope,
                            &format!("{p_at}/required"),
                            format!("{place} parameter {name} became optional"),
                            format!("{method} no longer needs .{arg}(…)"),
                            Some(Value::Bool(true)),
                            Some(Value::Bool(false)),
                        );
                    }
                    let (a, b) = (
                        p.get("schema").cloned().unwrap_or(Value::Null),
                        q.get("schema").cloned().unwrap_or(Value::Null),
                    );
                    if type_key(&old_doc, &a) != type_key(&new_doc, &b) {
                        self.push(
                            Level::Breaking,
                            scope,
                            &format!("{p_at}/schema"),
                            format!("{place} parameter {name}'s type changed"),
                            format!(
                                "{method}'s .{arg}(…): {} → {}",
                                rust_type(&old_doc, &a, false),
                                rust_type(&new_doc, &b, false)
                            ),
                            Some(type_key(&old_doc, &a)),
                            Some(type_key(&new_doc, &b)),
                        );
                    }
                    // A named schema's values are reported once, with the schema.
                    if ref_name(&a).is_none() && ref_name(&b).is_none() {
                        self.enum_values(
                            scope,
                            &format!("{p_at}/schema"),
                            &a,
                            &b,
                            Side::Request,
                            &format!("{method}'s .{arg}(…)"),
                        );
                    }
                    self.microversion(scope, p_at, p, q, &format!("{method}'s .{arg}(…)"));
                    self.extensions(scope, p_at, p, q, &[MIN_MICROVERSION, MAX_MICROVERSION]);
                }
            }
        }
        for ((place, name), (p_at, q)) in &np {
            if op_.contains_key(&(place.clone(), name.clone())) {
                continue;
            }
            let arg = snake_case(name);
            let from = mv(q, MIN_MICROVERSION).map(|v| format!(" (from microversion {v})")).unwrap_or_default();
            if q.get("required") == Some(&Value::Bool(true)) {
                self.push(
                    Level::Breaking,
                    scope,
                    p_at,
                    format!("required {place} parameter {name} added"),
                    format!("{method} fails unless the new .{arg}(…) is set"),
                    None,
                    Some(q.clone()),
                );
            } else {
                self.push(
                    Level::Info,
                    scope,
                    p_at,
                    format!("{place} parameter {name} added"),
                    format!("{method}'s builder gains .{arg}(…){from}"),
                    None,
                    Some(q.clone()),
                );
            }
        }
    }

    /// A raised minimum or a lowered maximum microversion refuses a call
    /// (or a field) its users make today; the opposite widens it.
    fn microversion(&mut self, scope: &str, at: &str, old: &Value, new: &Value, what: &str) {
        let (a, b) = (mv(old, MIN_MICROVERSION), mv(new, MIN_MICROVERSION));
        if a != b {
            let show = |v: Option<Microversion>| v.map_or_else(|| "the base".to_owned(), |v| v.to_string());
            let raised = b > a;
            self.push(
                if raised { Level::Breaking } else { Level::Info },
                scope,
                &format!("{at}/{MIN_MICROVERSION}"),
                format!(
                    "{MIN_MICROVERSION} {} from {} to {}",
                    if raised { "raised" } else { "lowered" },
                    show(a),
                    show(b)
                ),
                if raised {
                    format!("{what} is refused below {} (it worked from {})", show(b), show(a))
                } else {
                    format!("{what} works from {} (was {})", show(b), show(a))
                },
                a.map(|v| Value::String(v.to_string())),
                b.map(|v| Value::String(v.to_string())),
            );
        }
        let (a, b) = (mv(old, MAX_MICROVERSION), mv(new, MAX_MICROVERSION));
        if a != b {
            // No maximum is the highest of all.
            let narrowed = match (a, b) {
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(a), Some(b)) => b < a,
                (None, None) => false,
            };
            let show = |v: Option<Microversion>| v.map_or_else(|| "the latest".to_owned(), |v| v.to_string());
            self.push(
                if narrowed { Level::Breaking } else { Level::Info },
                scope,
                &format!("{at}/{MAX_MICROVERSION}"),
                format!(
                    "{MAX_MICROVERSION} {} from {} to {}",
                    if narrowed { "lowered" } else { "raised" },
                    show(a),
                    show(b)
                ),
                if narrowed {
                    format!("{what} is refused above {} (it worked up to {})", show(b), show(a))
                } else {
                    format!("{what} works up to {} (was {})", show(b), show(a))
                },
                a.map(|v| Value::String(v.to_string())),
                b.map(|v| Value::String(v.to_string())),
            );
        }
    }

    /// Extensions other than the ones with rules of their own, as JSON
    /// patches.
    fn extensions(&mut self, scope: &str, at: &str, old: &Value, new: &Value, known: &[&str]) {
        let keys: BTreeSet<&String> = old
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .chain(new.as_object().into_iter().flat_map(|m| m.keys()))
            .filter(|k| k.starts_with("x-") && !known.contains(&k.as_str()))
            .collect();
        for key in keys {
            let (a, b) = (old.get(key.as_str()), new.get(key.as_str()));
            if a == b {
                continue;
            }
            let op = match (a, b) {
                (None, Some(_)) => "add",
                (Some(_), None) => "remove",
                _ => "replace",
            };
            self.push(
                Level::Warning,
                scope,
                &format!("{at}/{}", escape_pointer_token(key)),
                format!("{{\"op\": \"{op}\", \"path\": \"{at}/{key}\"}}"),
                "no rule of its own here: review the regenerated diff for its effect",
                a.cloned(),
                b.cloned(),
            );
        }
    }

    /// Open and closed enum values.
    fn enum_values(&mut self, scope: &str, at: &str, old: &Value, new: &Value, side: Side, what: &str) {
        let values = |n: &Value, key: &str| -> BTreeSet<String> {
            n.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect()
        };
        let index = |n: &Value, key: &str, value: &str| -> usize {
            n.get(key)
                .and_then(Value::as_array)
                .and_then(|all| {
                    all.iter().position(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned) == value)
                })
                .unwrap_or(0)
        };
        for key in ["enum", EXTENSIBLE_ENUM] {
            let (a, b) = (values(old, key), values(new, key));
            for gone in a.difference(&b) {
                let (level, rust) = match (key, side) {
                    ("enum", _) => (Level::Breaking, format!("{what}: variant {} removed", pascal_case(gone))),
                    (_, Side::Request) => (
                        Level::Breaking,
                        format!("{what}: variant {} removed (the server no longer takes it)", pascal_case(gone)),
                    ),
                    _ => (
                        Level::Warning,
                        format!(
                            "{what}: variant {} removed; a server that still sends it decodes as Unknown",
                            pascal_case(gone)
                        ),
                    ),
                };
                self.push(
                    level,
                    scope,
                    &format!("{at}/{key}/{}", index(old, key, gone)),
                    format!("{key} value {gone} removed"),
                    rust,
                    Some(Value::String(gone.clone())),
                    None,
                );
            }
            for added in b.difference(&a) {
                let (level, rust) = match (key, side) {
                    ("enum", Side::Response | Side::Both) => (
                        Level::Breaking,
                        format!(
                            "{what}: variant {} added to a closed enum (an exhaustive match breaks)",
                            pascal_case(added)
                        ),
                    ),
                    ("enum", Side::Request) => (Level::Info, format!("{what}: variant {} added", pascal_case(added))),
                    _ => (
                        Level::Info,
                        format!(
                            "{what}: variant {} added (open enums decoded it as Unknown before)",
                            pascal_case(added)
                        ),
                    ),
                };
                self.push(
                    level,
                    scope,
                    &format!("{at}/{key}/{}", index(new, key, added)),
                    format!("{key} value {added} added"),
                    rust,
                    None,
                    Some(Value::String(added.clone())),
                );
            }
        }
    }

    /// Component schemas: removed, renamed, and their properties.
    fn schemas(&mut self) {
        let (old_doc, new_doc) = (self.old.clone(), self.new.clone());
        let get = |d: &Value| -> BTreeMap<String, Value> {
            d.pointer("/components/schemas")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let (os, ns) = (get(&old_doc), get(&new_doc));
        let (old_sides, new_sides) = (sides(&old_doc), sides(&new_doc));
        let removed: Vec<&String> = os.keys().filter(|k| !ns.contains_key(*k)).collect();
        let added: Vec<&String> = ns.keys().filter(|k| !os.contains_key(*k)).collect();
        let mut renamed_to = BTreeSet::new();
        for name in &removed {
            let at = format!("/components/schemas/{}", escape_pointer_token(name));
            let twin = added.iter().find(|a| ns[a.as_str()] == os[name.as_str()] && !renamed_to.contains(**a));
            match twin {
                Some(to) => {
                    renamed_to.insert((*to).clone());
                    self.push(
                        Level::Breaking,
                        &format!("schema {name}"),
                        &at,
                        format!("schema renamed to {to}"),
                        format!("type {} renamed to {}", pascal_case(name), pascal_case(to)),
                        Some(Value::String((*name).clone())),
                        Some(Value::String((*to).clone())),
                    );
                }
                None => self.push(
                    Level::Breaking,
                    &format!("schema {name}"),
                    &at,
                    "schema removed",
                    format!("type {} removed", pascal_case(name)),
                    Some(os[*name].clone()),
                    None,
                ),
            }
        }
        for name in added.iter().filter(|a| !renamed_to.contains(**a)) {
            let at = format!("/components/schemas/{}", escape_pointer_token(name));
            self.push(
                Level::Info,
                &format!("schema {name}"),
                &at,
                "schema added",
                format!("type {} added", pascal_case(name)),
                None,
                None,
            );
        }
        for (name, a) in &os {
            let Some(b) = ns.get(name) else { continue };
            if a == b {
                continue;
            }
            let side = match (
                old_sides.get(name.as_str()).copied().or(new_sides.get(name.as_str()).copied()),
                new_sides.get(name.as_str()).copied(),
            ) {
                (Some(x), Some(y)) if x != y => Side::Both,
                (_, Some(y)) => y,
                (Some(x), None) => x,
                (None, None) => Side::Both,
            };
            self.schema(name, a, b, side);
        }
    }

    fn schema(&mut self, name: &str, a: &Value, b: &Value, side: Side) {
        let at = format!("/components/schemas/{}", escape_pointer_token(name));
        self.schema_at(&format!("schema {name}"), &at, &pascal_case(name), a, b, side);
    }

    /// One schema node at `at`, whose Rust type is `ty`: its type, enum
    /// values and properties, and inline object schemas below it (which the
    /// generator turns into types of their own, named after the parent).
    fn schema_at(&mut self, scope: &str, at: &str, ty: &str, a: &Value, b: &Value, side: Side) {
        let (old_doc, new_doc) = (self.old.clone(), self.new.clone());
        let side_word = match side {
            Side::Request => "request",
            Side::Response => "response",
            Side::Both => "request and response",
        };
        if a.get("type") != b.get("type") || a.get("format") != b.get("format") {
            self.push(
                Level::Breaking,
                scope,
                &format!("{at}/type"),
                "type or format changed",
                format!("type {ty} changes shape"),
                Some(serde_json::json!({"type": a.get("type"), "format": a.get("format")})),
                Some(serde_json::json!({"type": b.get("type"), "format": b.get("format")})),
            );
        }
        self.enum_values(scope, at, a, b, side, &format!("type {ty}"));
        let required = |s: &Value| -> BTreeSet<String> {
            s.get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let props = |s: &Value| -> BTreeMap<String, Value> {
            s.get("properties")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let (ra, rb, pa, pb) = (required(a), required(b), props(a), props(b));
        for (p, old) in &pa {
            let p_at = format!("{at}/properties/{}", escape_pointer_token(p));
            let field = format!("{ty}::{}", snake_case(p));
            let Some(new) = pb.get(p) else {
                self.push(
                    Level::Breaking,
                    scope,
                    &p_at,
                    format!("{side_word} property {p} removed"),
                    format!("field {field} removed"),
                    Some(old.clone()),
                    None,
                );
                continue;
            };
            if old == new && ra.contains(p) == rb.contains(p) {
                continue;
            }
            let (t_old, t_new) = (rust_type(&old_doc, old, !ra.contains(p)), rust_type(&new_doc, new, !rb.contains(p)));
            if type_key(&old_doc, old) != type_key(&new_doc, new) {
                self.push(
                    Level::Breaking,
                    scope,
                    &p_at,
                    format!("{side_word} property {p}'s type changed"),
                    format!("field {field}: {t_old} → {t_new}"),
                    Some(type_key(&old_doc, old)),
                    Some(type_key(&new_doc, new)),
                );
            } else if t_old != t_new {
                let became = if ra.contains(p) && !rb.contains(p) {
                    "became optional"
                } else if !ra.contains(p) && rb.contains(p) {
                    "became required"
                } else {
                    "changed nullability"
                };
                self.push(
                    Level::Breaking,
                    scope,
                    &p_at,
                    format!("{side_word} property {p} {became}"),
                    format!("field {field}: {t_old} → {t_new}"),
                    Some(Value::String(t_old.clone())),
                    Some(Value::String(t_new.clone())),
                );
            } else if !ra.contains(p) && rb.contains(p) && side != Side::Response {
                // A required Vec or map: the type stays, but a request now
                // needs it.
                self.push(
                    Level::Breaking,
                    scope,
                    &p_at,
                    format!("{side_word} property {p} became required"),
                    format!("{ty} needs {}", snake_case(p)),
                    None,
                    None,
                );
            }
            if ref_name(old).is_none() && ref_name(new).is_none() {
                let (ro, rn) = (resolve(&old_doc, old).clone(), resolve(&new_doc, new).clone());
                let inline_ty = format!("{ty}{}", pascal_case(p));
                if ro.get("properties").is_some() || rn.get("properties").is_some() {
                    self.schema_at(scope, &p_at, &inline_ty, &ro, &rn, side);
                } else {
                    self.enum_values(scope, &p_at, &ro, &rn, side, &format!("field {field}"));
                }
                // Inline items of an array: objects or enums of their own.
                let inline = |n: &Value| {
                    ref_name(n).is_none() && ["properties", "enum", EXTENSIBLE_ENUM].iter().any(|k| n.get(k).is_some())
                };
                if let (Some(io), Some(in_)) = (ro.get("items"), rn.get("items"))
                    && (inline(io) || inline(in_))
                    && ref_name(io).is_none()
                    && ref_name(in_).is_none()
                {
                    self.schema_at(scope, &format!("{p_at}/items"), &format!("{inline_ty}Item"), io, in_, side);
                }
            }
            self.microversion(scope, &p_at, old, new, &format!("field {field}"));
            self.extensions(scope, &p_at, old, new, &[MIN_MICROVERSION, MAX_MICROVERSION, EXTENSIBLE_ENUM]);
        }
        for (p, new) in &pb {
            if pa.contains_key(p) {
                continue;
            }
            let p_at = format!("{at}/properties/{}", escape_pointer_token(p));
            let field = format!("{ty}::{}", snake_case(p));
            let t = rust_type(&new_doc, new, !rb.contains(p));
            let from = mv(new, MIN_MICROVERSION).map(|v| format!(", from microversion {v}")).unwrap_or_default();
            match (rb.contains(p), side) {
                (true, Side::Request | Side::Both) => self.push(
                    Level::Breaking,
                    scope,
                    &p_at,
                    format!("required {side_word} property {p} added"),
                    format!("{ty} gains required field {} ({t}{from})", snake_case(p)),
                    None,
                    Some(new.clone()),
                ),
                (true, Side::Response) => self.push(
                    Level::Info,
                    scope,
                    &p_at,
                    format!("required response property {p} added"),
                    format!("field {field} added ({t}{from}); struct literals of {ty} need it"),
                    None,
                    Some(new.clone()),
                ),
                (false, _) => self.push(
                    Level::Info,
                    scope,
                    &p_at,
                    format!("{side_word} property {p} added"),
                    format!("field {field} added ({t}{from})"),
                    None,
                    Some(new.clone()),
                ),
            }
        }
        self.extensions(scope, at, a, b, &[EXTENSIBLE_ENUM, MIN_MICROVERSION, MAX_MICROVERSION]);
        self.microversion(scope, at, a, b, &format!("type {ty}"));
    }
}

/// Each component schema's side: reached from a request body, a response,
/// or both (through `$ref`s at any depth).
fn sides(doc: &Value) -> BTreeMap<String, Side> {
    let mut out: BTreeMap<String, Side> = BTreeMap::new();
    let walk = |start: &Value, side: Side, out: &mut BTreeMap<String, Side>| {
        let mut stack = vec![start.clone()];
        let mut seen = BTreeSet::new();
        while let Some(node) = stack.pop() {
            match &node {
                Value::Object(map) => {
                    if let Some(name) =
                        map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
                        && seen.insert(name.to_owned())
                    {
                        let entry = out.entry(name.to_owned()).or_insert(side);
                        if *entry != side {
                            *entry = Side::Both;
                        }
                        if let Some(target) =
                            doc.pointer(&format!("/components/schemas/{}", escape_pointer_token(name)))
                        {
                            stack.push(target.clone());
                        }
                    }
                    stack.extend(
                        map.iter()
                            .filter(|(k, _)| k.as_str() != "examples" && k.as_str() != "example")
                            .map(|(_, v)| v.clone()),
                    );
                }
                Value::Array(items) => stack.extend(items.iter().cloned()),
                _ => {}
            }
        }
    };
    for (_, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for (_, op) in item.as_object().into_iter().flatten() {
            if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
                walk(body, Side::Request, &mut out);
            }
            for (_, r) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
                let r = resolve(doc, r);
                if let Some(s) = r.pointer("/content/application~1json/schema") {
                    walk(s, Side::Response, &mut out);
                }
            }
            for p in op.get("parameters").and_then(Value::as_array).into_iter().flatten() {
                walk(&resolve(doc, p).clone(), Side::Request, &mut out);
            }
        }
    }
    out
}

/// How [`report`] writes the changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per change, for a terminal.
    Text,
    /// A summary line with counts per level, then one table per level,
    /// breaking first: ready to paste as a pull-request comment.
    Markdown,
    /// The changes as a JSON array of objects (`file`, `level`, `scope`,
    /// `pointer`, `what`, `rust`, `old`, `new`).
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "text" => Ok(Format::Text),
            "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(format!("--format takes text, markdown or json, not `{other}`")),
        }
    }
}

/// Parses a `--fail-on` level: `breaking`, `warning` (or a breaking
/// change), `info` (any change) or `none` (`None`: never fail).
pub fn parse_fail_on(s: &str) -> std::result::Result<Option<Level>, String> {
    match s {
        "breaking" => Ok(Some(Level::Breaking)),
        "warning" => Ok(Some(Level::Warning)),
        "info" => Ok(Some(Level::Info)),
        "none" => Ok(None),
        other => Err(format!("--fail-on takes breaking, warning, info or none, not `{other}`")),
    }
}

/// Whether any change reaches `fail_on` (a breaking change reaches
/// `warning`, everything reaches `info`).
pub fn fails(changes: &[Change], fail_on: Option<Level>) -> bool {
    fail_on.is_some_and(|level| changes.iter().any(|c| c.level <= level))
}

/// A pointer as shown to people: the whole document is `/`, as in the
/// generator's errors; JSON keeps the exact RFC 6901 pointer (`""`).
fn shown(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

/// The changes as text, markdown or JSON.
pub fn report(changes: &[Change], format: Format) -> String {
    let count = |l: Level| changes.iter().filter(|c| c.level == l).count();
    match format {
        Format::Json => serde_json::to_string_pretty(changes).unwrap_or_default() + "\n",
        Format::Markdown => {
            if changes.is_empty() {
                return "**Spec diff**: no API changes.\n".to_owned();
            }
            let mut out = format!(
                "**Spec diff**: {} breaking, {} warning, {} info\n",
                count(Level::Breaking),
                count(Level::Warning),
                count(Level::Info)
            );
            for level in [Level::Breaking, Level::Warning, Level::Info] {
                let rows: Vec<&Change> = changes.iter().filter(|c| c.level == level).collect();
                if rows.is_empty() {
                    continue;
                }
                out.push_str(&format!(
                    "\n### {} ({})\n\n| where | change | Rust | pointer |\n|---|---|---|---|\n",
                    level,
                    rows.len()
                ));
                for c in rows {
                    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
                    out.push_str(&format!(
                        "| {} `{}` | {} | {} | `{}` |\n",
                        c.file,
                        cell(&c.scope),
                        cell(&c.what),
                        cell(&c.rust),
                        cell(shown(&c.pointer))
                    ));
                }
            }
            out
        }
        Format::Text => {
            if changes.is_empty() {
                return "no API changes\n".to_owned();
            }
            let mut out = format!(
                "{} breaking, {} warning, {} info\n",
                count(Level::Breaking),
                count(Level::Warning),
                count(Level::Info)
            );
            for c in changes {
                out.push_str(&format!(
                    "{:<8} {}: {}: {} — {} ({})\n",
                    c.level,
                    c.file,
                    c.scope,
                    c.what,
                    c.rust,
                    shown(&c.pointer)
                ));
            }
            out
        }
    }
}
