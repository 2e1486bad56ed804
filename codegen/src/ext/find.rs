//! `x-openstack-find` on a show operation: find the resource by id, then by
//! name through a paged list (with its name filter when the server has one).
//! Emits a `Findable` implementation and the client's `find_<item>`; the
//! engine is the runtime's `find` module.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::diff::{Changes, Generated};
use crate::error::{Result, pointer};
use crate::model::{Kind, Operation, pascal_case, snake_case};
use crate::rt::{COLLECT_WHERE, FIND_FN, FINDABLE};
use crate::validate::{Checker, Op};

/// `x-openstack-find` on a show operation: the list operation to search by
/// name, and its name filter when the server has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindSpec {
    /// The response property holding the resource (`backup`); it names the
    /// generated call (`find_backup`).
    pub item: String,
    /// The resource's component schema (`Backup`).
    pub item_schema: String,
    /// The resource's name in messages (`backup`).
    pub resource: String,
    /// The paged list operation's method name (`list_backups_detail`).
    pub list_method: String,
    /// The list's name filter (`name`), `None` to match names here.
    pub name_filter: Option<String>,
    /// Whether the item's `name` is optional or nullable.
    pub name_optional: bool,
    /// The show operation's path parameter that takes the id.
    pub id_param: String,
}

// Parse.

/// How to find the resource a show operation returns by name.
pub const FIND: &str = "x-openstack-find";

/// `x-openstack-find` on a show operation, as written: `{resource, item,
/// list, name-filter}`; the list is resolved once every operation is known.
pub(crate) fn finder(
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
pub(crate) fn resolve_finders(c: &Checker<'_>, operations: &mut [Operation]) -> Result<()> {
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

// Emit.

pub(crate) fn finder_impl(op: &Operation, f: &FindSpec) -> TokenStream {
    let marker = format_ident!("{}", pascal_case(&f.item));
    let item_type = format_ident!("{}", f.item_schema);
    let show = format_ident!("{}", op.method_name);
    let id_setter = format_ident!("{}", snake_case(&f.id_param));
    let item_field = format_ident!("{}", snake_case(&f.item));
    let list = format_ident!("{}", f.list_method);
    let resource = &f.resource;
    let name_of = if f.name_optional { quote!(item.name.as_deref()) } else { quote!(Some(item.name.as_str())) };
    let named = match &f.name_filter {
        Some(filter) => {
            let setter = format_ident!("{}", snake_case(filter));
            quote!(client.#list().#setter(name).stream())
        }
        None => quote!(client.#list().stream()),
    };
    let find = format_ident!("find_{}", snake_case(&f.item));
    let how = match &f.name_filter {
        Some(filter) => format!("[`{}`](Self::{}) with `{filter}`", f.list_method, f.list_method),
        None => format!("every page of [`{}`](Self::{}) (it has no name filter)", f.list_method, f.list_method),
    };
    let doc = format!(
        "The {resource} whose id is `name_or_id`, else the one {resource} named so: shows it by id, \
         then searches {how}.\n\n\
         # Errors\n\
         `FindError::NotFound` when none has that id or name, `FindError::Ambiguous` (with their \
         ids) when several have the name, and the calls' own errors. Generated from \
         `x-openstack-find` on `{}`.",
        op.operation_id
    );
    quote! {
        impl #FINDABLE for resources::#marker {
            type Client = super::Client;
            type Item = super::types::#item_type;
            const RESOURCE: &'static str = #resource;

            fn show<'a>(
                client: &'a super::Client,
                id: &'a str,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<Self::Item, Error>> + Send + 'a {
                async move { Ok(client.#show().#id_setter(id).send().await?.into_inner().#item_field) }
            }

            fn named<'a>(
                client: &'a super::Client,
                name: &'a str,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<::std::vec::Vec<Self::Item>, Error>> + Send + 'a {
                async move {
                    #COLLECT_WHERE(#named, |item: &Self::Item| {
                        let item = item;
                        #name_of == Some(name)
                    })
                    .await
                }
            }

            fn id(item: &Self::Item) -> &str {
                &item.id
            }

            fn name(item: &Self::Item) -> ::std::option::Option<&str> {
                #name_of
            }
        }

        impl super::Client {
            #[doc = #doc]
            pub async fn #find(&self, name_or_id: &str) -> ::std::result::Result<super::types::#item_type, Error> {
                #FIND_FN::<resources::#marker>(self, name_or_id).await
            }
        }
    }
}

// Change rules.

/// `x-openstack-find` added, removed, renamed or described anew: its
/// `find_<item>` method follows.
pub(crate) fn diff(d: &mut Changes, scope: &str, at: &str, old: &Operation, new: &Operation) {
    fn side(op: &Operation) -> Option<Generated<'_, FindSpec>> {
        op.finder.as_ref().map(|f| Generated {
            spec: f,
            methods: format!("method find_{}", snake_case(&f.item)),
            written: op.spec.extensions.get(FIND).cloned(),
        })
    }
    d.generated_methods(scope, FIND, &format!("{at}/{FIND}"), side(old), side(new), "follows");
}
