//! `x-openstack-min-microversion`, `x-openstack-max-microversion` and
//! `x-openstack-max-microversion-values`: the microversions an operation, a
//! query parameter, an action or a request-body property needs. They
//! become the operation table's minimums and gates, which the runtime
//! checks before anything is sent.

use std::collections::BTreeSet;

use proc_macro2::{Literal, TokenStream};
use quote::{ToTokens, format_ident, quote};
use serde_json::Value;

use crate::diff::{Changes, Level};
use crate::error::Result;
use crate::model::{Bounds, Kind, Microversion, Model, Operation, pascal_case};
use crate::rt::{BODY_GATE, MICROVERSION, OPERATION_INFO, SET_PROPERTY};
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

/// The request and response types progenitor emitted, by name: the gate
/// walk follows a body's pointers through their fields.
pub(crate) struct Types<'a>(std::collections::BTreeMap<String, &'a syn::Item>);

impl<'a> Types<'a> {
    pub(crate) fn new(items: &'a [syn::Item]) -> Self {
        let named = items.iter().filter_map(|item| match item {
            syn::Item::Struct(s) => Some((s.ident.to_string(), item)),
            syn::Item::Enum(e) => Some((e.ident.to_string(), item)),
            _ => None,
        });
        Self(named.collect())
    }

    /// The field type of `ty` when it names a struct of one unnamed field
    /// (typify's shape for a named array or map schema).
    fn newtype(&self, ty: &syn::Type) -> Option<&'a syn::Type> {
        let Some(syn::Item::Struct(s)) = self.0.get(&type_name(ty)?) else { return None };
        let syn::Fields::Unnamed(fields) = &s.fields else { return None };
        match fields.unnamed.iter().collect::<Vec<_>>()[..] {
            [only] => Some(&only.ty),
            _ => None,
        }
    }
}

/// The string value of `#[serde(key = "…")]` on a field or variant.
fn serde_attr(attrs: &[syn::Attribute], key: &str) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(key) {
                found = Some(meta.value()?.parse::<syn::LitStr>()?.value());
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    found
}

/// The name serde writes for a field or variant: its `rename`, else its
/// identifier.
fn serde_name(attrs: &[syn::Attribute], ident: &syn::Ident) -> String {
    serde_attr(attrs, "rename").unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned())
}

/// The type argument of `Name<T>` (`Option`, `Box`, `Vec`), or the value
/// type of a map.
fn generic_arg<'t>(ty: &'t syn::Type, names: &[&str]) -> Option<&'t syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if !names.iter().any(|n| last.ident == n) {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    args.args.iter().rev().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Where the walk is in the body: a runtime pointer variable (after a `*`)
/// and the static rest.
#[derive(Clone)]
struct At {
    var: Option<syn::Ident>,
    suffix: String,
}

impl At {
    /// The pointer as an argument of `format!`: a literal when it is static.
    fn part(&self) -> TokenStream {
        let suffix = &self.suffix;
        match &self.var {
            Some(var) if suffix.is_empty() => quote!(#var),
            Some(var) => quote!(::std::format!("{}{}", #var, #suffix)),
            None => quote!(#suffix),
        }
    }

    /// The pointer as a `String`.
    fn expr(&self) -> TokenStream {
        let suffix = &self.suffix;
        match &self.var {
            Some(var) => quote!(::std::format!("{}{}", #var, #suffix)),
            None => quote!(::std::string::String::from(#suffix)),
        }
    }
}

/// Emits the statements that find one gate's set values on the typed
/// body: `value` is a place expression of type `ty` (or a reference to
/// one), `tokens` the rest of the gate's pointer, `leaf` the statement for
/// a set value.
struct Walk<'a> {
    types: &'a Types<'a>,
    fresh: usize,
}

impl Walk<'_> {
    fn ident(&mut self, prefix: &str) -> syn::Ident {
        self.fresh += 1;
        format_ident!("{prefix}{}", self.fresh)
    }

    fn walk(
        &mut self,
        ty: &syn::Type,
        tokens: &[&str],
        value: TokenStream,
        at: At,
        leaf: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
    ) -> std::result::Result<TokenStream, String> {
        if let Some(inner) = generic_arg(ty, &["Option"]) {
            let v = self.ident("_v");
            let rest = self.walk(inner, tokens, quote!(#v), at, leaf)?;
            return Ok(quote!(if let ::std::option::Option::Some(#v) = &#value { #rest }));
        }
        if let Some(inner) = generic_arg(ty, &["Box"]) {
            return self.walk(inner, tokens, value, at, leaf);
        }
        let Some((token, rest)) = tokens.split_first() else {
            if type_name(ty).as_deref() == Some("Value") {
                let set = leaf(value.clone(), at.expr());
                return Ok(quote!(if !#value.is_null() { #set }));
            }
            return Ok(leaf(value, at.expr()));
        };
        // A named array or map is a newtype struct: its one field carries
        // the rest of the pointer (a `*` as well as a name).
        if let Some(inner) = self.types.newtype(ty) {
            return self.walk(inner, tokens, quote!(#value.0), at, leaf);
        }
        if *token == "*" {
            let (v, key, p) = (self.ident("_v"), self.ident("k"), self.ident("at"));
            let here = at.part();
            let below = At { var: Some(p.clone()), suffix: String::new() };
            if let Some(item) = generic_arg(ty, &["Vec"]) {
                let inner = self.walk(item, rest, quote!(#v), below, leaf)?;
                return Ok(quote!(for (#key, #v) in #value.iter().enumerate() {
                    let #p = ::std::format!("{}/{}", #here, #key);
                    #inner
                }));
            }
            if let Some(item) = generic_arg(ty, &["BTreeMap", "HashMap"]) {
                let inner = self.walk(item, rest, quote!(#v), below, leaf)?;
                return Ok(quote!(for (#key, #v) in #value.iter() {
                    let #p = ::std::format!("{}/{}", #here, #key.replace('~', "~0").replace('/', "~1"));
                    #inner
                }));
            }
            return Err(format!("`*` needs an array or a map, found `{}`", ty.to_token_stream()));
        }
        let name = type_name(ty).unwrap_or_default();
        let key = token.replace("~1", "/").replace("~0", "~");
        let below = At { var: at.var.clone(), suffix: format!("{}/{token}", at.suffix) };
        match self.types.0.get(&name) {
            Some(syn::Item::Struct(s)) => match &s.fields {
                syn::Fields::Named(fields) => {
                    let field = fields
                        .named
                        .iter()
                        .find(|f| f.ident.as_ref().is_some_and(|i| serde_name(&f.attrs, i) == key))
                        .ok_or_else(|| format!("type `{name}` has no field `{key}`"))?;
                    let ident = field.ident.as_ref().expect("named");
                    let inner = self.walk(&field.ty, rest, quote!(#value.#ident), below, leaf)?;
                    // A field serde leaves out (an empty map, `None`) is
                    // not set.
                    let optional = generic_arg(&field.ty, &["Option"]).is_some();
                    match serde_attr(&field.attrs, "skip_serializing_if").filter(|_| !optional) {
                        Some(skip) => {
                            let skip: syn::Path = syn::parse_str(&skip).map_err(|e| format!("`{skip}`: {e}"))?;
                            Ok(quote!(if !#skip(&#value.#ident) { #inner }))
                        }
                        None => Ok(inner),
                    }
                }
                _ => Err(format!("type `{name}` has no field `{key}`")),
            },
            Some(syn::Item::Enum(e)) => {
                let variant = e
                    .variants
                    .iter()
                    .find(|v| serde_name(&v.attrs, &v.ident) == key)
                    .ok_or_else(|| format!("enum `{name}` has no variant `{key}`"))?;
                let syn::Fields::Unnamed(fields) = &variant.fields else {
                    return Err(format!("variant `{key}` of `{name}` carries no value"));
                };
                let (enum_ident, variant_ident, v) = (&e.ident, &variant.ident, self.ident("_v"));
                let inner = self.walk(&fields.unnamed[0].ty, rest, quote!(#v), below, leaf)?;
                Ok(quote!(if let types::#enum_ident::#variant_ident(#v) = &#value { #inner }))
            }
            _ => Err(format!("cannot follow `{key}` into `{}`", ty.to_token_stream())),
        }
    }
}

/// The function a call's builder uses for its `OperationInfo`, for an
/// operation whose body can set gated properties or name an action:
/// `fn <method>_info(body: &types::Body) -> OperationInfo`, which picks the
/// action's row from the body's variant and finds the set gated properties
/// on the typed body. `None` for an operation without either.
///
/// # Errors
/// A message naming the gate's pointer when the generated types do not
/// have its path (the generator's, not the spec's, to fix).
pub(crate) fn call_info(
    op: &Operation,
    model: &Model,
    types: &Types<'_>,
    table: &syn::Path,
    rows: &std::collections::BTreeMap<String, usize>,
) -> std::result::Result<Option<(syn::Ident, TokenStream)>, String> {
    let row = |method: &str| {
        let index = proc_macro2::Literal::usize_unsuffixed(rows[method]);
        quote!(&#table[#index])
    };
    // The calls this body can be: the operation itself, or one action each.
    let (body_schema, calls): (String, Vec<&Operation>) = match &op.kind {
        Kind::ActionEndpoint => {
            let actions: Vec<&Operation> = model
                .operations
                .iter()
                .filter(|a| matches!(&a.kind, Kind::Action(x) if x.endpoint_method == op.method_name))
                .collect();
            let Some(Kind::Action(first)) = actions.first().map(|a| &a.kind) else { return Ok(None) };
            (first.body_schema.clone(), actions)
        }
        // An action is sent through its endpoint's builder (above).
        Kind::Action(_) => return Ok(None),
        _ if op.gated_body.is_empty() => return Ok(None),
        _ => {
            let written = op.spec.body.as_ref().and_then(|b| b.get("$ref")).and_then(serde_json::Value::as_str);
            let name = match written.and_then(|r| r.strip_prefix("#/components/schemas/")) {
                Some(name) => name.to_owned(),
                None => format!("{}Body", pascal_case(&op.operation_id)),
            };
            (name, vec![op])
        }
    };
    let body_ty: syn::Type = syn::parse_str(&body_schema).map_err(|e| format!("`{body_schema}`: {e}"))?;
    if !types.0.contains_key(&body_schema) {
        return Err(format!("the body type `{body_schema}` is not among the generated types"));
    }
    let mut walk = Walk { types, fresh: 0 };
    let mut finds = Vec::new();
    for call in &calls {
        for (index, gate) in call.gated_body.iter().enumerate() {
            let values = &gate.max_values;
            let leaf = move |value: TokenStream, at: TokenStream| {
                let matched = if values.is_empty() {
                    quote!(::std::option::Option::None)
                } else {
                    quote!({
                        let text = ::serde_json::to_string(&#value).unwrap_or_default();
                        [#(#values),*].into_iter().find(|v| *v == text)
                    })
                };
                quote!(gated.push(#SET_PROPERTY { gate: #index, pointer: #at, value: #matched });)
            };
            let tokens: Vec<&str> = gate.pointer.split('/').skip(1).collect();
            let start = At { var: None, suffix: String::new() };
            let found = walk
                .walk(&body_ty, &tokens, quote!(body), start, &leaf)
                .map_err(|e| format!("{}: gate `{}`: {e}", call.method_name, gate.pointer))?;
            finds.push(found);
        }
    }
    let operation = match &op.kind {
        Kind::ActionEndpoint => {
            let syn::Item::Enum(e) = types.0[&body_schema] else {
                return Err(format!("the action body `{body_schema}` is not an enum"));
            };
            let arms = calls.iter().map(|call| {
                let Kind::Action(a) = &call.kind else { unreachable!("actions only") };
                let variant = e
                    .variants
                    .iter()
                    .find(|v| serde_name(&v.attrs, &v.ident) == a.key)
                    .map(|v| v.ident.clone())
                    .ok_or_else(|| format!("enum `{body_schema}` has no variant `{}`", a.key))?;
                let enum_ident = &e.ident;
                let row = row(&call.method_name);
                Ok(quote!(types::#enum_ident::#variant(..) => #row,))
            });
            let arms = arms.collect::<std::result::Result<Vec<_>, String>>()?;
            quote!(match body { #(#arms)* })
        }
        _ => row(&op.method_name),
    };
    let name = format_ident!("{}_info", op.method_name);
    let doc = format!(
        "The row of a `{}` call, and the microversion-gated body properties its typed body sets.",
        op.method_name
    );
    Ok(Some((
        name.clone(),
        quote! {
            #[doc = #doc]
            fn #name(body: &types::#body_ty) -> #OPERATION_INFO {
                #[allow(unused_mut)]
                let mut gated = ::std::vec::Vec::new();
                #(#finds)*
                #OPERATION_INFO { operation: #operation, gated }
            }
        },
    )))
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
