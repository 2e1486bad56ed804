//! `x-openstack-min-microversion`, `x-openstack-max-microversion` and
//! `x-openstack-max-microversion-values`: the microversions an operation, a
//! query parameter, an action or a request-body property needs. They
//! become the operation table's minimums and gates, which the runtime
//! checks before anything is sent.

use std::collections::BTreeSet;

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use serde_json::Value;

use crate::diff::{Changes, Level};
use crate::error::Result;
use crate::model::{Bounds, Microversion, Operation};
use crate::rt::{BODY_GATE, MICROVERSION};
use crate::validate::Checker;

/// A request-body property (or some of its values) that only a range of
/// microversions accepts: `x-openstack-min-microversion`,
/// `x-openstack-max-microversion` and `x-openstack-max-microversion-values`
/// on a property of a request body schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BodyGate {
    /// Where the property sits in the body, as a JSON pointer; `*` stands
    /// for every element of an array or every value of a map
    /// (`/backup/metadata`).
    pub pointer: String,
    /// The lowest microversion that accepts it (`None`: the operation's).
    pub min: Option<Microversion>,
    /// The highest microversion that accepts it (`None`: no upper bound).
    pub max: Option<Microversion>,
    /// The values the upper bound applies to, as JSON text (`false`);
    /// empty: every value.
    pub max_values: Vec<String>,
}

// Parse.

/// The vendor extension for minimum microversions.
pub const MIN_MICROVERSION: &str = "x-openstack-min-microversion";

/// The vendor extension for maximum microversions (a request-body property
/// the server refuses above it).
pub const MAX_MICROVERSION: &str = "x-openstack-max-microversion";

/// Limits [`MAX_MICROVERSION`] to these values of the property.
pub const MAX_MICROVERSION_VALUES: &str = "x-openstack-max-microversion-values";

/// The microversion gates of a request body: every property (at any depth,
/// through `$ref`s, arrays, maps and compositions) that carries
/// `x-openstack-min-microversion` above the operation's minimum, or
/// `x-openstack-max-microversion` (optionally limited to the values in
/// `x-openstack-max-microversion-values`), with its JSON pointer in the body.
pub(crate) fn body_gates(
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
impl Checker<'_> {
    /// The node's `x-openstack-min-microversion`.
    pub(crate) fn min_microversion(&self, node: &Value, at: &str, op: Option<&str>) -> Result<Option<Microversion>> {
        self.microversion_extension(node, MIN_MICROVERSION, at, op)
    }

    /// A microversion extension of the node (`key`).
    pub(crate) fn microversion_extension(
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
}

// Emit.

pub(crate) fn mv(v: Microversion) -> TokenStream {
    let (major, minor) = (Literal::u16_unsuffixed(v.major), Literal::u16_unsuffixed(v.minor));
    quote!(#MICROVERSION::new(#major, #minor))
}

pub(crate) fn opt_mv(v: Option<Microversion>) -> TokenStream {
    match v {
        Some(v) => {
            let v = mv(v);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}

/// The operation table's microversion fields of `op`: `min_microversion`,
/// `gated_query` and `gated_body`.
pub(crate) fn table_fields(op: &Operation) -> TokenStream {
    let min = opt_mv(op.min_microversion);
    let gated = op.gated_query.iter().map(|(name, v)| {
        let v = mv(*v);
        quote!((#name, #v))
    });
    let gated_body = op.gated_body.iter().map(|g| {
        let pointer = &g.pointer;
        let (min, max) = (opt_mv(g.min), opt_mv(g.max));
        let values = &g.max_values;
        quote! {
            #BODY_GATE { pointer: #pointer, min: #min, max: #max, max_values: &[#(#values),*] }
        }
    });
    quote! {
        min_microversion: #min,
        gated_query: &[#(#gated),*],
        gated_body: &[#(#gated_body),*],
    }
}

// Change rules.

/// The bounds written on a schema node, read leniently (a node that does
/// not parse has none: validation reports it).
pub(crate) fn bounds_of(node: &Value) -> Bounds {
    let read = |key: &str| node.get(key).and_then(Value::as_str).and_then(Microversion::parse);
    Bounds { min: read(MIN_MICROVERSION), max: read(MAX_MICROVERSION) }
}

/// A raised minimum or a lowered maximum refuses a call (or a field) its
/// users make today: breaking; the opposite widens it. `what` names the
/// call or field in Rust words.
pub(crate) fn diff_bounds(d: &mut Changes, scope: &str, at: &str, old: Bounds, new: Bounds, what: &str) {
    let value = |v: Option<Microversion>| v.map(|v| Value::String(v.to_string()));
    let (a, b) = (old.min, new.min);
    if a != b {
        let show = |v: Option<Microversion>| v.map_or_else(|| "the base".to_owned(), |v| v.to_string());
        let raised = b > a;
        let (level, verb, rust) = match raised {
            true => {
                (Level::Breaking, "raised", format!("{what} is refused below {} (it worked from {})", show(b), show(a)))
            }
            false => (Level::Info, "lowered", format!("{what} works from {} (was {})", show(b), show(a))),
        };
        d.push(
            level,
            scope,
            &format!("{at}/{MIN_MICROVERSION}"),
            format!("{MIN_MICROVERSION} {verb} from {} to {}", show(a), show(b)),
            rust,
        )
        .values(value(a), value(b));
    }
    let (a, b) = (old.max, new.max);
    if a != b {
        // No maximum is the highest of all.
        let narrowed = match (a, b) {
            (None, Some(_)) => true,
            (Some(a), Some(b)) => b < a,
            _ => false,
        };
        let show = |v: Option<Microversion>| v.map_or_else(|| "the latest".to_owned(), |v| v.to_string());
        let (level, verb, rust) = match narrowed {
            true => (
                Level::Breaking,
                "lowered",
                format!("{what} is refused above {} (it worked up to {})", show(b), show(a)),
            ),
            false => (Level::Info, "raised", format!("{what} works up to {} (was {})", show(b), show(a))),
        };
        d.push(
            level,
            scope,
            &format!("{at}/{MAX_MICROVERSION}"),
            format!("{MAX_MICROVERSION} {verb} from {} to {}", show(a), show(b)),
            rust,
        )
        .values(value(a), value(b));
    }
}
