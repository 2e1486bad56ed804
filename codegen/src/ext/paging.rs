//! `x-openstack-pagination` on a list operation: the item array and the
//! next-link array of its response. Emits a `Page` implementation per list
//! type and `stream()` / `all()` on the list's builder; the engine is the
//! runtime's `paging` module.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::diff::{Changes, Level};
use crate::error::{Result, pointer};
use crate::model::{Kind, Model, Operation, pascal_case, snake_case};
use crate::rt::{COLLECT, ITEMS, PAGE};
use crate::validate::{Op, Parameters};

/// Paging facts of a list operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// The list response's component name (`BackupList`).
    pub list_schema: String,
    /// The item array's property (`backups`).
    pub items: String,
    /// The item component's name (`BackupSummary`).
    pub item_schema: String,
    /// The next-link array's property (`backups_links`).
    pub links: String,
    /// Whether the list takes an `offset` query parameter (sent with the
    /// first page only).
    pub offset: bool,
}

// Parse.

/// The vendor extension for paged lists.
pub const PAGINATION: &str = "x-openstack-pagination";

/// `x-openstack-pagination`: the list's item array and next-link array.
pub(crate) fn paged(
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
    const KEYS: [&str; 2] = ["items", "links"];
    if let Some(key) = paging.as_object().and_then(|m| m.keys().find(|k| !KEYS.contains(&k.as_str()))) {
        return Err(op.err(&format!("{p_at}/{key}"), format!("unknown key `{key}` (known: {})", KEYS.join(", "))));
    }
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

// Emit.

pub(crate) fn page_impl(p: &Paging) -> TokenStream {
    let list = format_ident!("{}", p.list_schema);
    let item = format_ident!("{}", p.item_schema);
    let items = format_ident!("{}", snake_case(&p.items));
    let links = format_ident!("{}", snake_case(&p.links));
    quote! {
        impl #PAGE for super::types::#list {
            type Item = super::types::#item;

            fn into_items(self) -> ::std::vec::Vec<Self::Item> {
                self.#items
            }

            fn len(&self) -> usize {
                self.#items.len()
            }

            fn next_link(&self) -> ::std::option::Option<&str> {
                self.#links.iter().find(|link| link.rel == "next").map(|link| link.href.as_str())
            }
        }
    }
}

/// `stream()` and `all()` on the builders of paged lists; emitted into the
/// `builder` module, where they can reset the builder's own fields.
pub(crate) fn builder_paging(model: &Model) -> TokenStream {
    model
        .operations
        .iter()
        .map(|op| match &op.kind {
            Kind::Paged(p) => paging(op, p),
            _ => TokenStream::new(),
        })
        .collect()
}

pub(crate) fn paging(op: &Operation, p: &Paging) -> TokenStream {
    let item = format_ident!("{}", p.item_schema);
    let builder = format_ident!("{}", pascal_case(&op.operation_id));
    let (offset_doc, reset_offset) = if p.offset {
        (
            " The caller's `offset` applies to the first request only: the marker of each next \
             link already stands after the skipped items.",
            quote!(builder.offset = Ok(None);),
        )
    } else {
        ("", quote!())
    };
    let doc = format!(
        "Every item of [`Client::{}`](super::Client::{}), page after page: follows the \
         `next` link in `{}` (taking its marker, with the caller's other parameters) and stops \
         on a page without one or on an empty page. Holds one page at a time; the request \
         timeout applies to each page.{offset_doc}",
        op.method_name, op.method_name, p.links
    );
    let all_doc = format!(
        "Every item of [`Client::{}`](super::Client::{}), all pages collected (see \
         [`stream`](Self::stream), which holds one page at a time).",
        op.method_name, op.method_name
    );
    quote! {
        impl<'a> #builder<'a> {
            #[doc = #doc]
            pub fn stream(
                self,
            ) -> impl ::futures_core::Stream<Item = ::std::result::Result<super::types::#item, Error>> + Unpin + 'a {
                #ITEMS(self, |builder, marker| async move {
                    let builder = match marker {
                        Some(marker) => {
                            #[allow(unused_mut)]
                            let mut builder = builder.marker(marker);
                            #reset_offset
                            builder
                        }
                        None => builder,
                    };
                    builder.send().await
                })
            }

            #[doc = #all_doc]
            pub async fn all(self) -> ::std::result::Result<::std::vec::Vec<super::types::#item>, Error> {
                #COLLECT(self.stream()).await
            }
        }
    }
}

/// One `Page` implementation per list type, however many operations return it.
pub(crate) fn pages(model: &Model) -> TokenStream {
    let mut paged_types = std::collections::BTreeSet::new();
    model
        .operations
        .iter()
        .filter_map(|op| match &op.kind {
            Kind::Paged(p) if paged_types.insert(p.list_schema.clone()) => Some(page_impl(p)),
            _ => None,
        })
        .collect()
}

// Change rules.

fn paging_of(op: &Operation) -> Option<&Paging> {
    match &op.kind {
        Kind::Paged(p) => Some(p),
        _ => None,
    }
}

/// Pagination described anew (or added, or removed): `stream()` and
/// `all()` follow it; a warning to review.
pub(crate) fn diff(d: &mut Changes, scope: &str, at: &str, old: &Operation, new: &Operation) {
    if paging_of(old) != paging_of(new) {
        d.push(
            Level::Warning,
            scope,
            &format!("{at}/{PAGINATION}"),
            "pagination changed",
            format!("{}'s stream() and all() follow the new description", new.method_name),
        )
        .values(old.spec.extensions.get(PAGINATION).cloned(), new.spec.extensions.get(PAGINATION).cloned());
    }
}
