//! Operations of two models, by route (path and method): added, removed,
//! moved (the same `operationId` on another route), renamed; then, for a
//! route on both sides, its parameters, request body and responses here,
//! and each extension by its own module's rules.

use std::collections::BTreeMap;

use serde_json::Value;

use super::schema::{Components, Side, Walk, ref_name, rust_type, type_key};
use super::{Changes, Level};
use crate::ext::microversion::diff_bounds;
use crate::ext::open_enum::diff_values;
use crate::ext::{ON_OPERATION, ON_PARAMETER, actions, find, paging, waiter};
use crate::model::{Kind, Model, Operation, Parameter, pascal_case, snake_case};

/// One route: its operation and, for an `…/action` endpoint, its actions.
struct Route<'m> {
    op: &'m Operation,
    actions: Vec<&'m Operation>,
}

impl Route<'_> {
    fn id(&self) -> &str {
        &self.op.operation_id
    }

    fn scope(&self) -> String {
        format!("{} {} {}", self.op.method, self.op.path, self.id())
    }

    fn route(&self) -> String {
        format!("{} {}", self.op.method, self.op.path)
    }

    /// The client methods the route makes: its own, its actions', and what
    /// its finder and waiter generate (`method show_backup (with
    /// find_backup, wait_for_backup, wait_for_backup_deleted)`).
    fn methods(&self) -> String {
        let mut more: Vec<String> = self.actions.iter().map(|a| a.method_name.clone()).collect();
        if let Some(f) = &self.op.finder {
            more.push(format!("find_{}", snake_case(&f.item)));
        }
        if let Some(w) = &self.op.waiter {
            let item = snake_case(&w.item);
            more.extend([format!("wait_for_{item}"), format!("wait_for_{item}_deleted")]);
        }
        match more.is_empty() {
            true => format!("method {}", self.op.method_name),
            false => format!("method {} (with {})", self.op.method_name, more.join(", ")),
        }
    }
}

fn routes(model: &Model) -> BTreeMap<(String, String), Route<'_>> {
    let mut out: BTreeMap<(String, String), Route<'_>> = BTreeMap::new();
    for op in &model.operations {
        let key = (op.path.clone(), op.method.to_lowercase());
        match op.kind {
            Kind::Action(_) => out.get_mut(&key).expect("an action follows its endpoint").actions.push(op),
            _ => {
                out.insert(key, Route { op, actions: Vec::new() });
            }
        }
    }
    out
}

pub(super) fn compare(d: &mut Changes, old: &Model, new: &Model) {
    let (old_routes, new_routes) = (routes(old), routes(new));
    let by_id = |r: &BTreeMap<(String, String), Route<'_>>| -> BTreeMap<String, (String, String)> {
        r.iter().map(|(k, v)| (v.id().to_owned(), k.clone())).collect()
    };
    let (old_ids, new_ids) = (by_id(&old_routes), by_id(&new_routes));
    let walk =
        Walk { old: &old.components, new: &new.components, action_bodies: super::schema::action_bodies(old, new) };
    for (key, o) in &old_routes {
        let (scope, at, method) = (o.scope(), o.op.spec.pointer.clone(), &o.op.method_name);
        match new_routes.get(key) {
            Some(n) => operation(d, &walk, o, n),
            None => match new_ids.get(o.id()).and_then(|k| new_routes.get(k)) {
                Some(n) => d
                    .push(
                        Level::Warning,
                        &scope,
                        &at,
                        format!("the operation moves to {}", n.route()),
                        format!("method {method} keeps its name and calls the new route"),
                    )
                    .values(Some(Value::String(o.route())), Some(Value::String(n.route()))),
                None => d
                    .push(Level::Breaking, &scope, &at, "operation removed", format!("{} removed", o.methods()))
                    .values(Some(Value::String(o.id().to_owned())), None),
            },
        }
    }
    for (key, n) in &new_routes {
        if !old_routes.contains_key(key) && !old_ids.contains_key(n.id()) {
            d.push(Level::Info, &n.scope(), &n.op.spec.pointer, "operation added", format!("{} added", n.methods()))
                .values(None, Some(Value::String(n.id().to_owned())));
        }
    }
}

/// One route on both sides.
fn operation(d: &mut Changes, walk: &Walk<'_>, o: &Route<'_>, n: &Route<'_>) {
    let (scope, at) = (n.scope(), n.op.spec.pointer.clone());
    let method = &n.op.method_name;
    if o.id() != n.id() {
        d.push(
            Level::Breaking,
            &scope,
            &format!("{at}/operationId"),
            "operationId changed",
            format!("method {} renamed to {method}", o.op.method_name),
        )
        .values(Some(Value::String(o.id().to_owned())), Some(Value::String(n.id().to_owned())));
    }
    diff_bounds(d, &scope, &at, o.op.spec.bounds, n.op.spec.bounds, &format!("method {method}"));
    parameters(d, walk, &scope, method, o.op, n.op);
    body(d, walk, &scope, &at, o.op, n.op);
    responses(d, walk, &scope, &at, o.op, n.op);
    actions::diff(d, &scope, &o.actions, &n.actions);
    paging::diff(d, &scope, &at, o.op, n.op);
    find::diff(d, &scope, &at, o.op, n.op);
    waiter::diff(d, &scope, &at, o.op, n.op);
    d.unknown_extensions(&scope, &at, &o.op.spec.extensions, &n.op.spec.extensions, ON_OPERATION);
}

/// The request body: needed, gone, another schema, or an inline body's
/// own changes (compared like a named schema).
fn body(d: &mut Changes, walk: &Walk<'_>, scope: &str, at: &str, o: &Operation, n: &Operation) {
    let method = &n.method_name;
    let schema_at = format!("{at}/requestBody/content/application~1json/schema");
    match (&o.spec.body, &n.spec.body) {
        (None, Some(b)) => d
            .push(
                Level::Breaking,
                scope,
                &format!("{at}/requestBody"),
                "a request body is now needed",
                format!("{method}'s builder needs .body(…)"),
            )
            .values(None, Some(b.clone())),
        (Some(a), None) => d
            .push(
                Level::Breaking,
                scope,
                &format!("{at}/requestBody"),
                "the request body is gone",
                format!("{method}'s builder loses .body(…)"),
            )
            .values(Some(a.clone()), None),
        (Some(a), Some(b)) if ref_name(a) != ref_name(b) => d
            .push(
                Level::Breaking,
                scope,
                &schema_at,
                "the request body's schema changed",
                format!("{method}'s body: {} → {}", rust_type(walk.old, a, false), rust_type(walk.new, b, false)),
            )
            .values(Some(a.clone()), Some(b.clone())),
        (Some(a), Some(b)) if ref_name(a).is_none() && a != b => {
            let ty = format!("{}Body", pascal_case(&n.operation_id));
            walk.schema_at(d, scope, &schema_at, &ty, a, b, Side::Request);
        }
        _ => {}
    }
}

/// Success responses by status: one removed is breaking (the server's
/// status becomes an error), one added a warning; a body of another schema
/// is breaking. (Errors are `4XX` and `5XX` with the shared fault on every
/// operation, and bodies are named schemas: the generator refuses anything
/// else, so neither can change here.)
fn responses(d: &mut Changes, walk: &Walk<'_>, scope: &str, at: &str, o: &Operation, n: &Operation) {
    let method = &n.method_name;
    let success = |code: &&String| code.starts_with('2') || code.starts_with('3');
    let (oc, nc) = (&o.spec.responses, &n.spec.responses);
    for (code, r) in oc.iter().filter(|(c, _)| success(c)) {
        if !nc.contains_key(code) {
            d.push(
                Level::Breaking,
                scope,
                &format!("{at}/responses/{code}"),
                format!("response {code} removed"),
                format!("{method} no longer succeeds with {code}: the server's {code} becomes an error"),
            )
            .values(Some(r.source.clone()), None);
        }
    }
    for (code, r) in nc.iter().filter(|(c, _)| success(c)) {
        let r_at = format!("{at}/responses/{code}");
        let Some(old_r) = oc.get(code) else {
            d.push(
                Level::Warning,
                scope,
                &r_at,
                format!("response {code} added"),
                format!("{method} also succeeds with {code}"),
            )
            .values(None, Some(r.source.clone()));
            continue;
        };
        let (a, b) = (old_r.schema.as_ref(), r.schema.as_ref());
        if a.map(ref_name) != b.map(ref_name) {
            let shown = |c: &Components, s: Option<&Value>| s.map_or("()".to_owned(), |s| rust_type(c, s, false));
            d.push(
                Level::Breaking,
                scope,
                &format!("{r_at}/content/application~1json/schema"),
                format!("the {code} response's schema changed"),
                format!("{method} returns {} instead of {}", shown(walk.new, b), shown(walk.old, a)),
            )
            .values(a.cloned(), b.cloned());
        }
    }
}

/// Parameters by place and name (an operation's own override the path
/// item's): removed, added, required or optional now, another type, their
/// enum values, bounds and other extensions.
fn parameters(d: &mut Changes, walk: &Walk<'_>, scope: &str, method: &str, o: &Operation, n: &Operation) {
    let by_name = |op: &Operation| -> BTreeMap<(String, String), Parameter> {
        op.spec.parameters.iter().map(|p| ((p.place.clone(), p.name.clone()), p.clone())).collect()
    };
    let (op_, np) = (by_name(o), by_name(n));
    for ((place, name), p) in &op_ {
        let arg = snake_case(name);
        let Some(q) = np.get(&(place.clone(), name.clone())) else {
            d.push(
                Level::Breaking,
                scope,
                &p.pointer,
                format!("{place} parameter {name} removed"),
                format!("{method}'s builder loses .{arg}(…)"),
            )
            .values(Some(p.source.clone()), None);
            continue;
        };
        let at = &q.pointer;
        match (p.required, q.required) {
            (false, true) => d
                .push(
                    Level::Breaking,
                    scope,
                    &format!("{at}/required"),
                    format!("{place} parameter {name} became required"),
                    format!("{method} fails unless .{arg}(…) is set"),
                )
                .values(Some(Value::Bool(false)), Some(Value::Bool(true))),
            (true, false) => d
                .push(
                    Level::Info,
                    scope,
                    &format!("{at}/required"),
                    format!("{place} parameter {name} became optional"),
                    format!("{method} no longer needs .{arg}(…)"),
                )
                .values(Some(Value::Bool(true)), Some(Value::Bool(false))),
            _ => {}
        }
        let (a, b) = (&p.schema, &q.schema);
        let (ka, kb) = (type_key(walk.old, a), type_key(walk.new, b));
        if ka != kb {
            d.push(
                Level::Breaking,
                scope,
                &format!("{at}/schema"),
                format!("{place} parameter {name}'s type changed"),
                format!("{method}'s .{arg}(…): {} → {}", rust_type(walk.old, a, false), rust_type(walk.new, b, false)),
            )
            .values(Some(ka), Some(kb));
        }
        // A named schema's values are reported once, with the schema.
        if ref_name(a).is_none() && ref_name(b).is_none() {
            diff_values(d, scope, &format!("{at}/schema"), a, b, Side::Request, &format!("{method}'s .{arg}(…)"));
        }
        diff_bounds(d, scope, at, p.bounds, q.bounds, &format!("{method}'s .{arg}(…)"));
        let ext = |p: &Parameter| crate::model::extensions_of(&p.source);
        d.unknown_extensions(scope, at, &ext(p), &ext(q), ON_PARAMETER);
    }
    for ((place, name), q) in &np {
        if op_.contains_key(&(place.clone(), name.clone())) {
            continue;
        }
        let arg = snake_case(name);
        let from = q.bounds.min.map(|v| format!(" (from microversion {v})")).unwrap_or_default();
        let (level, what, rust) = match q.required {
            true => (
                Level::Breaking,
                format!("required {place} parameter {name} added"),
                format!("{method} fails unless the new .{arg}(…) is set"),
            ),
            false => (
                Level::Info,
                format!("{place} parameter {name} added"),
                format!("{method}'s builder gains .{arg}(…){from}"),
            ),
        };
        d.push(level, scope, &q.pointer, what, rust).values(None, Some(q.source.clone()));
    }
}
