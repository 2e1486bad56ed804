//! `x-openstack-waiter` on a show operation: which statuses are on the way,
//! which fail, which mean gone, where the server's reason and progress are.
//! Emits a `Waitable` implementation and the client's `wait_for_<item>` and
//! `wait_for_<item>_deleted`; the engine is the runtime's `wait` module.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::diff::{Changes, Generated};
use crate::error::{Result, pointer};
use crate::ext::open_enum::EXTENSIBLE_ENUM;
use crate::model::{Operation, pascal_case, snake_case};
use crate::rt::{WAIT, WAIT_GONE, WAITABLE};
use crate::validate::Checker;

/// A waiter declared on a show operation (`x-openstack-waiter`): where the
/// status is and what its values mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiterSpec {
    /// The resource's name in messages (`backup`, `database backup`).
    pub resource: String,
    /// The response property holding the resource (`backup`); it names the
    /// generated calls (`wait_for_backup`).
    pub item: String,
    /// The resource's component schema (`Backup`).
    pub item_schema: String,
    /// The status property (`status`).
    pub status: String,
    /// The status property's open enum (`BackupStatus`).
    pub status_schema: String,
    /// Where the server's reason for a failure is: a string property of
    /// the item, or a path to one through nested objects (Trove's
    /// `fault.message`), each step with whether it is optional in the
    /// generated type.
    pub reason: Option<Vec<(String, bool)>>,
    /// The property with the server's progress (`42%`), and whether it is
    /// optional in the generated type.
    pub progress: Option<(String, bool)>,
    /// Statuses that fail a wait for a status.
    pub failure: Vec<String>,
    /// Statuses that fail a wait for deletion.
    pub deletion_failure: Vec<String>,
    /// Statuses on the way.
    pub transitional: Vec<String>,
    /// Statuses that mean gone.
    pub deleted: Vec<String>,
    /// Whether a 404 means gone.
    pub not_found_means_deleted: bool,
    /// The operation's path parameter that takes the id (`backup_id`).
    pub id_param: String,
}

// Parse.

/// A waiter on the resource a show operation returns.
pub const WAITER: &str = "x-openstack-waiter";

/// `x-openstack-waiter` on a show operation: a GET of one resource by its
/// id, whose body holds the resource under `item`, with an open-enum
/// `status`; every status the lists name must be one of the enum's.
pub(crate) fn waiter(
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
    let reason = match map.get("reason") {
        Some(Value::Array(steps)) => Some(reason_path(c, op, &format!("{at}/reason"), &item_schema, steps)?),
        _ => string_property("reason")?.map(|step| vec![step]),
    };
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

/// `reason` as a path, `[fault, message]`: every step but the last an
/// object property given by `$ref`, the last a string; optional wherever a
/// step is not required or is nullable.
fn reason_path(
    c: &Checker<'_>,
    op: Option<&str>,
    at: &str,
    item_schema: &str,
    steps: &[Value],
) -> Result<Vec<(String, bool)>> {
    if steps.len() < 2 {
        return Err(c.err(op, at, "a path needs two steps or more (a single property is written as a string)"));
    }
    let mut schema = item_schema.to_owned();
    let mut path = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let step_at = format!("{at}/{i}");
        let name =
            step.as_str().filter(|s| !s.is_empty()).ok_or_else(|| c.err(op, &step_at, "expected a property name"))?;
        let schema_at = pointer(["components", "schemas", &schema]);
        let def = c.raw.pointer(&schema_at).ok_or_else(|| c.err(op, &step_at, format!("no schema `{schema}`")))?;
        let prop_at = format!("{schema_at}/properties/{}", crate::error::escape_pointer_token(name));
        let prop = c
            .raw
            .pointer(&prop_at)
            .ok_or_else(|| c.err(op, &step_at, format!("`{schema}` has no property `{name}`")))?;
        let required = def.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|v| v == name));
        path.push((name.to_owned(), !required || prop.get("nullable") == Some(&Value::Bool(true))));
        if i + 1 == steps.len() {
            if prop.get("type").and_then(Value::as_str) != Some("string") {
                return Err(c.err(op, &step_at, format!("`{schema}.{name}` is not a string")));
            }
        } else {
            schema = c.schema_ref_name(prop, &prop_at, op, "a step of a waiter's reason")?;
        }
    }
    Ok(path)
}

// Emit.

pub(crate) fn waiter_impl(op: &Operation, w: &WaiterSpec) -> TokenStream {
    let marker = format_ident!("{}", pascal_case(&w.item));
    let item_type = format_ident!("{}", w.item_schema);
    let status_type = format_ident!("{}", w.status_schema);
    let show = format_ident!("{}", op.method_name);
    let id_setter = format_ident!("{}", snake_case(&w.id_param));
    let item_field = format_ident!("{}", snake_case(&w.item));
    let status_field = format_ident!("{}", snake_case(&w.status));
    let resource = &w.resource;
    let (failure, deletion_failure, transitional, deleted) =
        (&w.failure, &w.deletion_failure, &w.transitional, &w.deleted);
    let gone_on_404 = w.not_found_means_deleted;
    let reason = match w.reason.as_deref() {
        Some([(field, true)]) => {
            let field = format_ident!("{}", snake_case(field));
            quote!(item.#field.clone())
        }
        Some([(field, false)]) => {
            let field = format_ident!("{}", snake_case(field));
            quote!(::std::option::Option::Some(item.#field.clone()))
        }
        Some([(first, first_optional), rest @ ..]) => {
            // An `Option<&_>` walked step by step, cloned at the end.
            let first = format_ident!("{}", snake_case(first));
            let mut walk = if *first_optional {
                quote!(item.#first.as_ref())
            } else {
                quote!(::std::option::Option::Some(&item.#first))
            };
            for (field, optional) in rest {
                let field = format_ident!("{}", snake_case(field));
                walk = if *optional {
                    quote!(#walk.and_then(|v| v.#field.as_ref()))
                } else {
                    quote!(#walk.map(|v| &v.#field))
                };
            }
            quote!(#walk.cloned())
        }
        Some([]) | None => quote! {{
            let _ = item;
            ::std::option::Option::None
        }},
    };
    let progress = match &w.progress {
        Some((field, optional)) => {
            let field = format_ident!("{}", snake_case(field));
            let value = if *optional { quote!(item.#field.clone()) } else { quote!(Some(item.#field.clone())) };
            quote! {
                fn progress(item: &Self::Item) -> ::std::option::Option<::std::string::String> {
                    #value
                }
            }
        }
        None => TokenStream::new(),
    };
    let wait_for = format_ident!("wait_for_{}", snake_case(&w.item));
    let wait_gone = format_ident!("wait_for_{}_deleted", snake_case(&w.item));
    let list = |v: &[String]| {
        if v.is_empty() { "none".to_owned() } else { v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ") }
    };
    let wait_doc = format!(
        "Waits until {resource} `id` is `target`, showing it with [`{}`](Self::{}) after pauses that grow \
         (see `Waiter`); `.with(&waiter)` sets the timeout, pauses, clock and progress callback \
         (default: 30 minutes).\n\nOn the way: {}. Fails fast on {}{}{}; times out with the last status seen. \
         Generated from `x-openstack-waiter` on `{}`.",
        op.method_name,
        op.method_name,
        list(transitional),
        list(failure),
        w.reason
            .as_ref()
            .map(|steps| {
                let path: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
                format!(" (with the server's `{}`)", path.join("."))
            })
            .unwrap_or_default(),
        if gone_on_404 { ", and when the resource is gone (404)" } else { "" },
        op.operation_id
    );
    let gone_doc = format!(
        "Waits until {resource} `id` is gone: {}{}. Fails fast on {}. Generated from `x-openstack-waiter` on `{}`.",
        if gone_on_404 { "a 404" } else { "a 404 (the show operation's)" },
        if deleted.is_empty() { String::new() } else { format!(" or {}", list(deleted)) },
        list(deletion_failure),
        op.operation_id
    );
    quote! {
        impl #WAITABLE for resources::#marker {
            type Client = super::Client;
            type Item = super::types::#item_type;
            type Status = super::types::#status_type;
            const RESOURCE: &'static str = #resource;
            const FAILURE: &'static [&'static str] = &[#(#failure),*];
            const DELETION_FAILURE: &'static [&'static str] = &[#(#deletion_failure),*];
            const TRANSITIONAL: &'static [&'static str] = &[#(#transitional),*];
            const DELETED: &'static [&'static str] = &[#(#deleted),*];
            const NOT_FOUND_MEANS_DELETED: bool = #gone_on_404;

            fn show<'a>(
                client: &'a super::Client,
                id: &'a str,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<Self::Item, Error>> + Send + 'a {
                async move { Ok(client.#show().#id_setter(id).send().await?.into_inner().#item_field) }
            }

            fn status(item: &Self::Item) -> &str {
                item.#status_field.as_str()
            }

            fn reason(item: &Self::Item) -> ::std::option::Option<::std::string::String> {
                #reason
            }

            #progress
        }

        impl super::Client {
            #[doc = #wait_doc]
            pub fn #wait_for<'a>(
                &'a self,
                id: &'a str,
                target: super::types::#status_type,
            ) -> #WAIT<'a, resources::#marker> {
                #WAIT::new(self, id, target)
            }

            #[doc = #gone_doc]
            pub fn #wait_gone<'a>(&'a self, id: &'a str) -> #WAIT_GONE<'a, resources::#marker> {
                #WAIT_GONE::new(self, id)
            }
        }
    }
}

// Change rules.

/// `x-openstack-waiter` added, removed, renamed or described anew: its
/// `wait_for_<item>` and `wait_for_<item>_deleted` follow.
pub(crate) fn diff(d: &mut Changes, scope: &str, at: &str, old: &Operation, new: &Operation) {
    fn side(op: &Operation) -> Option<Generated<'_, WaiterSpec>> {
        op.waiter.as_ref().map(|w| {
            let item = snake_case(&w.item);
            Generated {
                spec: w,
                methods: format!("methods wait_for_{item} and wait_for_{item}_deleted"),
                written: op.spec.extensions.get(WAITER).cloned(),
            }
        })
    }
    d.generated_methods(scope, WAITER, &format!("{at}/{WAITER}"), side(old), side(new), "follow");
}
