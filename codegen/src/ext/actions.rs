//! `x-openstack-actions` on an `…/action` endpoint: the actions its body's
//! `oneOf` carries, each with its own `operationId`, summary and minimum
//! microversion. Each becomes an operation of its own (a row of the
//! operation table, a typed call on the client).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Map, Value};

use crate::diff::{Changes, Level};
use crate::error::Result;
use crate::ext::microversion::{BodyGate, MAX_MICROVERSION, MIN_MICROVERSION, diff_bounds};
use crate::model::{Bounds, Kind, Operation, SpecOperation, extensions_of, pascal_case, snake_case};
use crate::validate::{Op, Parameters};

/// One action of an `…/action` endpoint.
#[derive(Debug, Clone)]
pub struct Action {
    /// The body key (`os-reset_status`).
    pub key: String,
    /// The `…/action` operation's method name (`backup_action`).
    pub endpoint_method: String,
    /// The action body enum's component name (`BackupAction`).
    pub body_schema: String,
    /// The argument component's name, `None` when the action takes `{}`.
    pub arguments: Option<String>,
    /// The argument component's name even when it is empty (`NoArguments`).
    pub argument_schema: String,
    /// Path parameters of the endpoint, in path order.
    pub path_params: Vec<String>,
    /// Its entry in `x-openstack-actions`, as written.
    pub source: Value,
}

// Parse.

/// The vendor extension for the actions of an `…/action` endpoint.
pub const ACTIONS: &str = "x-openstack-actions";

/// `x-openstack-actions`: the `…/action` endpoint and one operation per
/// action, each with its own minimum microversion and body gates.
pub(crate) fn actions(
    op: &Op<'_>,
    list: &Value,
    body_at: &str,
    params: &Parameters,
    base: Operation,
) -> Result<Vec<Operation>> {
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
            gated_body,
            kind: Kind::Action(Action {
                key,
                endpoint_method: snake_case(&op.id),
                body_schema: body_schema.clone(),
                arguments: (!no_args).then(|| inner.clone()),
                argument_schema: inner.clone(),
                path_params: params.path.clone(),
                source: a.clone(),
            }),
            spec: SpecOperation {
                pointer: e_at.clone(),
                bounds: Bounds {
                    min: op.c.min_microversion(a, &e_at, op.id())?,
                    max: op.c.microversion_extension(a, MAX_MICROVERSION, &e_at, op.id())?,
                },
                extensions: extensions_of(a),
                ..SpecOperation::default()
            },
            // The rest is the endpoint's: the action is sent with its
            // path, its query and the query's gates.
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
pub(crate) fn action_members(
    op: &Op<'_>,
    body: &Value,
    body_at: &str,
) -> Result<BTreeMap<String, (String, bool, String)>> {
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
        if m.get("type").is_some_and(|t| t != "object") {
            return Err(op.err(&format!("{m_at}/type"), "an action must be an object (`type: object`)"));
        }
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

// Emit.

/// The typed call of one action: `POST …/action` with `{"<key>": arguments}`.
pub(crate) fn call(op: &Operation, a: &Action) -> TokenStream {
    let name = format_ident!("{}", op.method_name);
    let endpoint = format_ident!("{}", a.endpoint_method);
    let body = format_ident!("{}", a.body_schema);
    let variant = format_ident!("{}", pascal_case(&a.key));
    let key = &a.key;
    let doc = format!("{}\n\nSends `POST {}` with the body `{{\"{key}\": …}}`.", op.summary, op.path);
    let params: Vec<_> = a.path_params.iter().map(|p| format_ident!("{}", snake_case(p))).collect();
    let (arg, value) = match &a.arguments {
        Some(args) => {
            let ty = format_ident!("{}", args);
            (quote!(arguments: super::types::#ty,), quote!(arguments))
        }
        None => {
            let ty = format_ident!("{}", a.argument_schema);
            (quote!(), quote!(super::types::#ty::default()))
        }
    };
    quote! {
        impl super::Client {
            #[doc = #doc]
            pub async fn #name(
                &self,
                #(#params: &str,)*
                #arg
            ) -> ::std::result::Result<ResponseValue<()>, Error> {
                self.#endpoint()
                    #(.#params(#params))*
                    .body(super::types::#body::#variant(#value))
                    .send()
                    .await
            }
        }
    }
}

// Change rules.

/// The actions of one `…/action` endpoint on both sides, by body key: one
/// removed or renamed is breaking (its method goes), one added is info; an
/// action's own bounds follow the microversion rules; any other change to
/// its entry is a warning to review.
pub(crate) fn diff(d: &mut Changes, scope: &str, old: &[&Operation], new: &[&Operation]) {
    let by_key = |ops: &[&Operation]| -> BTreeMap<String, (Operation, Action)> {
        ops.iter()
            .filter_map(|op| match &op.kind {
                Kind::Action(a) => Some((a.key.clone(), ((*op).clone(), a.clone()))),
                _ => None,
            })
            .collect()
    };
    let (oa, na) = (by_key(old), by_key(new));
    for (key, (o, a)) in &oa {
        let Some((n, b)) = na.get(key) else {
            d.push(
                Level::Breaking,
                scope,
                &o.spec.pointer,
                format!("action {key} removed"),
                format!("method {} removed", o.method_name),
            )
            .values(Some(a.source.clone()), None);
            continue;
        };
        let at = &n.spec.pointer;
        if o.operation_id != n.operation_id {
            d.push(
                Level::Breaking,
                scope,
                &format!("{at}/operationId"),
                format!("action {key}'s operationId changed"),
                format!("method {} renamed to {}", o.method_name, n.method_name),
            )
            .values(Some(a.source.clone()), Some(b.source.clone()));
        }
        diff_bounds(d, scope, at, o.spec.bounds, n.spec.bounds, &format!("method {}", n.method_name));
        let rest = |v: &Value| -> Value {
            let mut v = v.clone();
            if let Some(m) = v.as_object_mut() {
                for k in ["action", "operationId", "summary", "description", MIN_MICROVERSION, MAX_MICROVERSION] {
                    m.remove(k);
                }
            }
            v
        };
        if rest(&a.source) != rest(&b.source) {
            d.push(
                Level::Warning,
                scope,
                at,
                format!("{{\"op\": \"replace\", \"path\": \"{at}\"}}"),
                format!("method {} follows the new action description: review the regenerated diff", n.method_name),
            )
            .values(Some(rest(&a.source)), Some(rest(&b.source)));
        }
    }
    for (key, (n, b)) in &na {
        if !oa.contains_key(key) {
            d.push(
                Level::Info,
                scope,
                &n.spec.pointer,
                format!("action {key} added"),
                format!("method {} added", n.method_name),
            )
            .values(None, Some(b.source.clone()));
        }
    }
}
