//! The schema walk of spec-diff: component schemas removed, renamed or
//! changed, and inline schemas under a body or response, property by
//! property. A schema's change is levelled by the side it is used on
//! ([`Side`]): reached from a request body or parameter, a response, or
//! both, through `$ref`s at any depth.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Changes, Level};
use crate::error::escape_pointer_token;
use crate::ext::ON_SCHEMA;
use crate::ext::microversion::{bounds_of, diff_bounds};
use crate::ext::open_enum::{EXTENSIBLE_ENUM, diff_values};
use crate::model::{Kind, Model, extensions_of, pascal_case, snake_case};
use crate::validate::FORMAT_TYPES;

/// The component schemas of one side, by name.
pub(crate) type Components = BTreeMap<String, Value>;

/// Which side a schema is used on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Request,
    Response,
    Both,
}

/// Follows `$ref`s to component schemas (and a single-member `allOf`) to
/// the schema itself.
pub(crate) fn resolve<'v>(components: &'v Components, node: &'v Value) -> &'v Value {
    let mut node = node;
    for _ in 0..16 {
        if let Some(name) = ref_target(node) {
            match components.get(name) {
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

fn ref_target(node: &Value) -> Option<&str> {
    node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// The component a node names, through a single-member `allOf`.
pub(crate) fn ref_name(node: &Value) -> Option<&str> {
    let node = match node.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) => only,
        _ => node,
    };
    ref_target(node)
}

/// A schema's Rust type, as the generator makes it (near enough to read).
pub(crate) fn rust_type(components: &Components, node: &Value, optional: bool) -> String {
    let nullable = resolve(components, node).get("nullable") == Some(&Value::Bool(true))
        || node.get("nullable") == Some(&Value::Bool(true));
    let inner = match ref_name(node) {
        Some(name) => {
            let target = resolve(components, node);
            let (ty, format) =
                (target.get("type").and_then(Value::as_str), target.get("format").and_then(Value::as_str));
            match FORMAT_TYPES.iter().find(|(t, f, _)| Some(*t) == ty && Some(*f) == format) {
                Some((_, _, rust)) => rust.full().rsplit("::").next().unwrap_or_default().to_owned(),
                None => pascal_case(name),
            }
        }
        None => {
            let n = resolve(components, node);
            match n.get("type").and_then(Value::as_str) {
                // The formats of `FORMAT_TYPES` sit on named schemas only
                // (the generator refuses them inline), so they come through
                // a `$ref`, above.
                Some("string") => match n.get("format").and_then(Value::as_str) {
                    Some("uuid") => "Uuid".to_owned(),
                    Some("date") => "NaiveDate".to_owned(),
                    _ => "String".to_owned(),
                },
                Some("boolean") => "bool".to_owned(),
                Some("number") => "f64".to_owned(),
                Some("integer") if n.get("minimum").and_then(Value::as_f64).is_some_and(|m| m >= 0.0) => {
                    "u64".to_owned()
                }
                Some("integer") => "i64".to_owned(),
                Some("array") => {
                    format!("Vec<{}>", n.get("items").map_or("Value".to_owned(), |i| rust_type(components, i, false)))
                }
                Some("object") => match n.get("additionalProperties") {
                    Some(ap) if ap.is_object() && n.get("properties").is_none() => {
                        format!("BTreeMap<String, {}>", rust_type(components, ap, false))
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
pub(crate) fn type_key(components: &Components, node: &Value) -> Value {
    match ref_name(node) {
        Some(name) => Value::String(format!("$ref:{name}")),
        None => {
            let n = resolve(components, node);
            json!({"type": n.get("type"), "format": n.get("format"), "items": n.get("items").map(|i| type_key(components, i))})
        }
    }
}

/// The two sides' component schemas, for the rules that compare schema
/// nodes.
pub(crate) struct Walk<'m> {
    pub(crate) old: &'m Components,
    pub(crate) new: &'m Components,
    /// The Rust names of the `…/action` bodies (`x-openstack-actions`),
    /// whose `oneOf` branches are actions, compared by the actions' rules.
    pub(crate) action_bodies: BTreeSet<String>,
}

/// The Rust names of both sides' action bodies: the request body schemas of
/// the operations that carry `x-openstack-actions`.
pub(crate) fn action_bodies(old: &Model, new: &Model) -> BTreeSet<String> {
    old.operations
        .iter()
        .chain(&new.operations)
        .filter(|op| op.spec.extensions.contains_key("x-openstack-actions"))
        .filter_map(|op| op.spec.body.as_ref().and_then(ref_name))
        .map(pascal_case)
        .collect()
}

/// Component schemas: removed, renamed, and their changes.
pub(super) fn compare(d: &mut Changes, old: &Model, new: &Model) {
    let (os, ns) = (&old.components, &new.components);
    let (old_sides, new_sides) = (sides(old), sides(new));
    let removed: Vec<&String> = os.keys().filter(|k| !ns.contains_key(*k)).collect();
    let added: Vec<&String> = ns.keys().filter(|k| !os.contains_key(*k)).collect();
    let mut renamed_to = BTreeSet::new();
    for name in &removed {
        let (scope, at) = (format!("schema {name}"), format!("/components/schemas/{}", escape_pointer_token(name)));
        let twin = added.iter().find(|a| ns[a.as_str()] == os[name.as_str()] && !renamed_to.contains(**a));
        match twin {
            Some(to) => {
                renamed_to.insert((*to).clone());
                d.push(
                    Level::Breaking,
                    &scope,
                    &at,
                    format!("schema renamed to {to}"),
                    format!("type {} renamed to {}", pascal_case(name), pascal_case(to)),
                )
                .values(Some(Value::String((*name).clone())), Some(Value::String((*to).clone())));
            }
            None => d
                .push(Level::Breaking, &scope, &at, "schema removed", format!("type {} removed", pascal_case(name)))
                .values(Some(os[*name].clone()), None),
        }
    }
    for name in added.iter().filter(|a| !renamed_to.contains(**a)) {
        let at = format!("/components/schemas/{}", escape_pointer_token(name));
        d.push(
            Level::Info,
            &format!("schema {name}"),
            &at,
            "schema added",
            format!("type {} added", pascal_case(name)),
        );
    }
    let walk = Walk { old: os, new: ns, action_bodies: action_bodies(old, new) };
    for (name, a) in os {
        let Some(b) = ns.get(name) else { continue };
        if a == b {
            continue;
        }
        let side = match (old_sides.get(name).copied().or(new_sides.get(name).copied()), new_sides.get(name).copied()) {
            (Some(x), Some(y)) if x != y => Side::Both,
            (_, Some(y)) => y,
            (Some(x), None) => x,
            (None, None) => Side::Both,
        };
        let at = format!("/components/schemas/{}", escape_pointer_token(name));
        walk.schema_at(d, &format!("schema {name}"), &at, &pascal_case(name), a, b, side);
    }
}

impl Walk<'_> {
    /// One schema node at `at`, whose Rust type is `ty`: its type, enum
    /// values and properties, and inline object schemas below it (which the
    /// generator turns into types of their own, named after the parent).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn schema_at(&self, d: &mut Changes, scope: &str, at: &str, ty: &str, a: &Value, b: &Value, side: Side) {
        let side_word = match side {
            Side::Request => "request",
            Side::Response => "response",
            Side::Both => "request and response",
        };
        if a.get("type") != b.get("type") || a.get("format") != b.get("format") {
            d.push(
                Level::Breaking,
                scope,
                &format!("{at}/type"),
                "type or format changed",
                format!("type {ty} changes shape"),
            )
            .values(
                Some(json!({"type": a.get("type"), "format": a.get("format")})),
                Some(json!({"type": b.get("type"), "format": b.get("format")})),
            );
        }
        diff_values(d, scope, at, a, b, side, &format!("type {ty}"));
        self.compositions(d, scope, at, ty, a, b, side);
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
                d.push(
                    Level::Breaking,
                    scope,
                    &p_at,
                    format!("{side_word} property {p} removed"),
                    format!("field {field} removed"),
                )
                .values(Some(old.clone()), None);
                continue;
            };
            if old == new && ra.contains(p) == rb.contains(p) {
                continue;
            }
            self.property(d, scope, &p_at, ty, p, (old, ra.contains(p)), (new, rb.contains(p)), side, side_word);
        }
        for (p, new) in &pb {
            if pa.contains_key(p) {
                continue;
            }
            let p_at = format!("{at}/properties/{}", escape_pointer_token(p));
            let field = format!("{ty}::{}", snake_case(p));
            let t = rust_type(self.new, new, !rb.contains(p));
            let from = bounds_of(new).min.map(|v| format!(", from microversion {v}")).unwrap_or_default();
            let (level, what, rust) = match (rb.contains(p), side) {
                (true, Side::Request | Side::Both) => (
                    Level::Breaking,
                    format!("required {side_word} property {p} added"),
                    format!("{ty} gains required field {} ({t}{from})", snake_case(p)),
                ),
                (true, Side::Response) => (
                    Level::Info,
                    format!("required response property {p} added"),
                    format!("field {field} added ({t}{from}); struct literals of {ty} need it"),
                ),
                (false, _) => {
                    (Level::Info, format!("{side_word} property {p} added"), format!("field {field} added ({t}{from})"))
                }
            };
            d.push(level, scope, &p_at, what, rust).values(None, Some(new.clone()));
        }
        d.unknown_extensions(scope, at, &extensions_of(a), &extensions_of(b), ON_SCHEMA);
        diff_bounds(d, scope, at, bounds_of(a), bounds_of(b), &format!("type {ty}"));
    }

    /// `oneOf`, `anyOf` and `allOf` on both sides: a branch added or
    /// removed, or a branch whose type changed, changes the type the
    /// generator makes of them (an enum's variants, a merged struct's
    /// fields); inline object branches are compared like schemas.
    #[allow(clippy::too_many_arguments)]
    fn compositions(&self, d: &mut Changes, scope: &str, at: &str, ty: &str, a: &Value, b: &Value, side: Side) {
        if self.action_bodies.contains(ty) {
            return;
        }
        let empty = Vec::new();
        for keyword in ["oneOf", "anyOf", "allOf"] {
            let branches = |s: &Value| s.get(keyword).and_then(Value::as_array).unwrap_or(&empty).clone();
            let (ba, bb) = (branches(a), branches(b));
            if ba == bb {
                continue;
            }
            let k_at = format!("{at}/{keyword}");
            if ba.len() != bb.len() {
                d.push(
                    Level::Breaking,
                    scope,
                    &k_at,
                    format!("{keyword} has {} branches, had {}", bb.len(), ba.len()),
                    format!("type {ty} changes shape"),
                )
                .values(Some(Value::Array(ba)), Some(Value::Array(bb)));
                continue;
            }
            for (i, (x, y)) in ba.iter().zip(&bb).enumerate() {
                let b_at = format!("{k_at}/{i}");
                let (kx, ky) = (type_key(self.old, x), type_key(self.new, y));
                let (tx, ty_) = (rust_type(self.old, x, false), rust_type(self.new, y, false));
                if kx != ky || tx != ty_ {
                    d.push(
                        Level::Breaking,
                        scope,
                        &b_at,
                        format!("{keyword} branch {i}'s type changed"),
                        format!("type {ty} changes shape"),
                    )
                    .values(Some(json!({"type": kx, "rust": tx})), Some(json!({"type": ky, "rust": ty_})));
                } else if x != y && ref_name(x).is_none() {
                    // allOf merges its branches into the one type; oneOf
                    // and anyOf make a variant of each.
                    let branch_ty = if keyword == "allOf" { ty.to_owned() } else { format!("{ty}Variant{i}") };
                    self.schema_at(d, scope, &b_at, &branch_ty, x, y, side);
                }
            }
        }
    }

    /// A property on both sides: its type, requiredness and nullability,
    /// the inline schemas below it, its bounds and other extensions.
    #[allow(clippy::too_many_arguments)]
    fn property(
        &self,
        d: &mut Changes,
        scope: &str,
        p_at: &str,
        ty: &str,
        p: &str,
        (old, was_required): (&Value, bool),
        (new, is_required): (&Value, bool),
        side: Side,
        side_word: &str,
    ) {
        let field = format!("{ty}::{}", snake_case(p));
        let (t_old, t_new) = (rust_type(self.old, old, !was_required), rust_type(self.new, new, !is_required));
        if type_key(self.old, old) != type_key(self.new, new) {
            d.push(
                Level::Breaking,
                scope,
                p_at,
                format!("{side_word} property {p}'s type changed"),
                format!("field {field}: {t_old} → {t_new}"),
            )
            .values(Some(type_key(self.old, old)), Some(type_key(self.new, new)));
        } else if t_old != t_new {
            let became = match (was_required, is_required) {
                (true, false) => "became optional",
                (false, true) => "became required",
                _ => "changed nullability",
            };
            d.push(
                Level::Breaking,
                scope,
                p_at,
                format!("{side_word} property {p} {became}"),
                format!("field {field}: {t_old} → {t_new}"),
            )
            .values(Some(Value::String(t_old)), Some(Value::String(t_new)));
        } else if !was_required && is_required && side != Side::Response {
            // A required Vec or map: the type stays, but a request now
            // needs it.
            d.push(
                Level::Breaking,
                scope,
                p_at,
                format!("{side_word} property {p} became required"),
                format!("{ty} needs {}", snake_case(p)),
            );
        }
        if ref_name(old).is_none() && ref_name(new).is_none() {
            let (ro, rn) = (resolve(self.old, old), resolve(self.new, new));
            let inline_ty = format!("{ty}{}", pascal_case(p));
            if ro.get("properties").is_some() || rn.get("properties").is_some() {
                self.schema_at(d, scope, p_at, &inline_ty, ro, rn, side);
            } else {
                diff_values(d, scope, p_at, ro, rn, side, &format!("field {field}"));
                self.compositions(d, scope, p_at, &inline_ty, ro, rn, side);
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
                self.schema_at(d, scope, &format!("{p_at}/items"), &format!("{inline_ty}Item"), io, in_, side);
            }
        }
        diff_bounds(d, scope, p_at, bounds_of(old), bounds_of(new), &format!("field {field}"));
        d.unknown_extensions(scope, p_at, &extensions_of(old), &extensions_of(new), ON_SCHEMA);
    }
}

/// Each component schema's side: reached from a request body or a
/// parameter, a response, or both (through `$ref`s at any depth).
fn sides(model: &Model) -> BTreeMap<String, Side> {
    let mut out: BTreeMap<String, Side> = BTreeMap::new();
    let mut walk = |start: &Value, side: Side| {
        let mut stack = vec![start];
        let mut seen = BTreeSet::new();
        while let Some(node) = stack.pop() {
            match node {
                Value::Object(map) => {
                    if let Some(name) = ref_target(node)
                        && seen.insert(name.to_owned())
                    {
                        let entry = out.entry(name.to_owned()).or_insert(side);
                        if *entry != side {
                            *entry = Side::Both;
                        }
                        stack.extend(model.components.get(name));
                    }
                    stack.extend(
                        map.iter().filter(|(k, _)| !matches!(k.as_str(), "examples" | "example")).map(|(_, v)| v),
                    );
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    };
    for op in model.operations.iter().filter(|op| !matches!(op.kind, Kind::Action(_))) {
        if let Some(body) = &op.spec.body {
            walk(body, Side::Request);
        }
        for r in op.spec.responses.values() {
            if let Some(s) = &r.schema {
                walk(s, Side::Response);
            }
        }
        for p in &op.spec.parameters {
            walk(&p.source, Side::Request);
        }
    }
    out
}
