//! The generator's own output, for what progenitor has no notion of:
//! open status enums, the operation table with minimum microversions, one
//! typed call per action, paging over `*_links`, and version discovery on the
//! service root.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::model::{
    Action, FindSpec, Kind, Microversion, Model, OpenEnum, Operation, Paging, WaiterSpec, pascal_case, snake_case,
};

fn mv(v: Microversion) -> TokenStream {
    let (major, minor) = (Literal::u16_unsuffixed(v.major), Literal::u16_unsuffixed(v.minor));
    quote!(::openstack_backups_runtime::Microversion::new(#major, #minor))
}

fn opt_mv(v: Option<Microversion>) -> TokenStream {
    match v {
        Some(v) => {
            let v = mv(v);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}

/// Open enums, appended to the `types` module.
pub(crate) fn open_enums(model: &Model) -> TokenStream {
    model.open_enums.iter().map(open_enum).collect()
}

fn open_enum(e: &OpenEnum) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let doc = format!(
        "{}\n\nServer-controlled and open: a value this client does not know decodes as \
         [`{}::Unknown`] and is kept, so a newer server cannot break decoding.",
        e.description.as_deref().unwrap_or(&e.name).trim_end(),
        e.name
    );
    let variants: Vec<_> = e.values.iter().map(|v| format_ident!("{}", pascal_case(v))).collect();
    let values = &e.values;
    let variant_docs = values.iter().map(|v| format!("`{v}`"));
    let count = values.len();
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #variant_docs] #variants, )*
            /// A value this client does not know, kept as the server sent it.
            Unknown(::openstack_backups_runtime::UnknownValue),
        }

        impl #name {
            /// The values this client knows, as the server spells them.
            pub const KNOWN: [&'static str; #count] = [#(#values),*];

            /// The value as the server spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value the client does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Unknown(::openstack_backups_runtime::__private::unknown_value(other)),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                ::openstack_backups_runtime::__private::deserialize_open(deserializer, |value: &str| Self::from(value))
            }
        }
    }
}

/// The `operations` module.
pub(crate) fn operations(model: &Model) -> TokenStream {
    let mut table: Vec<&Operation> = model.operations.iter().collect();
    table.sort_by(|a, b| a.method_name.cmp(&b.method_name));
    let rows = table.iter().map(|op| {
        let method_name = &op.method_name;
        let operation_id = &op.operation_id;
        let method = &op.method;
        let path = &op.path;
        let tag = &op.tag;
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
                ::openstack_backups_runtime::BodyGate { pointer: #pointer, min: #min, max: #max, max_values: &[#(#values),*] }
            }
        });
        let action = match &op.kind {
            Kind::Action(a) => {
                let key = &a.key;
                quote!(Some(#key))
            }
            _ => quote!(None),
        };
        quote! {
            ::openstack_backups_runtime::OperationMeta {
                method_name: #method_name,
                operation_id: #operation_id,
                method: #method,
                path: #path,
                tag: #tag,
                action: #action,
                min_microversion: #min,
                gated_query: &[#(#gated),*],
                gated_body: &[#(#gated_body),*],
            }
        }
    });
    let service = &model.service;
    let service_type = &service.service_type;
    let name = &service.module;
    let catalog_types = std::iter::once(&service.service_type).chain(&service.aliases);
    let header = match &service.microversion_header {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let max = opt_mv(model.max_microversion.filter(|_| service.microversion_header.is_some()));

    // One `Page` impl per list type, however many operations return it.
    let mut paged_types = std::collections::BTreeSet::new();
    let pages: Vec<TokenStream> = model
        .operations
        .iter()
        .filter_map(|op| match &op.kind {
            Kind::Paged(p) if paged_types.insert(p.list_schema.clone()) => Some(page_impl(p)),
            _ => None,
        })
        .collect();
    let resources = resources(model);
    let calls = model.operations.iter().map(|op| match &op.kind {
        Kind::Action(a) => action_call(op, a),
        Kind::Root { status, schema } => root_call(op, *status, schema),
        Kind::Plain | Kind::ActionEndpoint | Kind::Paged(_) => TokenStream::new(),
    });
    let timeout = Literal::u64_unsuffixed(service.request_timeout);
    let discovery =
        match model.operations.iter().find(|op| Some(&op.operation_id) == service.version_discovery.as_ref()) {
            Some(op) => {
                let call = format_ident!("{}", op.method_name);
                let what = format!("{}: the version document lists no version", op.method_name);
                quote! {
                    let document = self.#call().await?.into_inner();
                    let version = document
                        .versions
                        .iter()
                        .find(|v| v.status == "CURRENT")
                        .or_else(|| document.versions.first())
                        .ok_or_else(|| Error::Configuration(#what.to_owned()))?;
                    Ok(Some((version.min_version.clone(), version.version.clone())))
                }
            }
            None => quote!(Ok(None)),
        };
    let new_doc = format!(
        "A client of the endpoint `baseurl` (the catalog URL, with or without the project) with an \
         HTTP connection pool of its own, whose connect and request timeouts are those of `inner` \
         (see [`ClientConfig::with_timeout`](::openstack_backups_runtime::ClientConfig::with_timeout); without one, {} s \
         per request).\n\nPanics only where `reqwest::Client::new` does: when the TLS backend \
         cannot be initialised.",
        service.request_timeout
    );

    quote! {
        #[allow(unused_imports)]
        use super::{ClientInfo, Error, OperationInfo, ResponseValue};

        /// Every call of this service, sorted by method name: what the
        /// session checks before it sends anything.
        pub static OPERATIONS: &[::openstack_backups_runtime::OperationMeta] = &[#(#rows),*];

        /// This service's identity and operation table.
        pub static SERVICE: ::openstack_backups_runtime::ServiceInfo = ::openstack_backups_runtime::ServiceInfo {
            name: #name,
            service_type: #service_type,
            catalog_types: &[#(#catalog_types),*],
            microversion_service: #header,
            max_microversion: #max,
            operations: OPERATIONS,
        };

        impl ::openstack_backups_runtime::__private::Service for super::Client {
            fn service_info(&self) -> &'static ::openstack_backups_runtime::ServiceInfo {
                &SERVICE
            }
        }

        impl ::openstack_backups_runtime::ServiceClient for super::Client {
            fn service() -> &'static ::openstack_backups_runtime::ServiceInfo {
                &SERVICE
            }

            fn with_parts(endpoint: &str, http: reqwest::Client, config: ::openstack_backups_runtime::ClientConfig) -> Self {
                Self::new_with_client(endpoint, http, config)
            }

            async fn server_microversions(
                &self,
            ) -> ::std::result::Result<::std::option::Option<(::std::string::String, ::std::string::String)>, Error<::openstack_backups_runtime::Fault>> {
                #discovery
            }
        }

        impl super::Client {
            #[doc = #new_doc]
            pub fn new(baseurl: &str, inner: ::openstack_backups_runtime::ClientConfig) -> Self {
                let http = ::openstack_backups_runtime::__private::http_client(&inner, ::std::time::Duration::from_secs(#timeout));
                Self::new_with_client(baseurl, http, inner)
            }

            /// The microversion every request of this client carries in
            /// `OpenStack-API-Version`: the configured one (pinned, or
            /// negotiated by the session), else the service's base version
            /// (`3.0`). `None` for a service without microversions.
            pub fn microversion(&self) -> ::std::option::Option<::openstack_backups_runtime::Microversion> {
                ::openstack_backups_runtime::__private::effective_microversion(&self.inner, &SERVICE)
            }
        }

        #(#pages)*

        #(#calls)*

        #resources
    }
}

/// The resources whose show operations carry `x-openstack-waiter` or
/// `x-openstack-find`: a marker type each (in `resources`), implementing the
/// runtime's `Waitable` and `Findable`, and the client's `wait_for_<item>`,
/// `wait_for_<item>_deleted` and `find_<item>` calls.
fn resources(model: &Model) -> TokenStream {
    let mut markers = std::collections::BTreeMap::new();
    for op in &model.operations {
        let names =
            op.waiter.iter().map(|w| (&w.item, &w.resource)).chain(op.finder.iter().map(|f| (&f.item, &f.resource)));
        for (item, resource) in names {
            markers.entry(pascal_case(item)).or_insert_with(|| {
                format!(
                    "A {resource} as [`Client::{}`](super::super::Client::{}) shows it.",
                    op.method_name, op.method_name
                )
            });
        }
    }
    if markers.is_empty() {
        return TokenStream::new();
    }
    let markers = markers.iter().map(|(name, doc)| {
        let name = format_ident!("{}", name);
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, Copy)]
            pub struct #name;
        }
    });
    let waiters = model.operations.iter().filter_map(|op| op.waiter.as_ref().map(|w| waiter_impl(op, w)));
    let finders = model.operations.iter().filter_map(|op| op.finder.as_ref().map(|f| finder_impl(op, f)));
    quote! {
        /// Marker types of this service's resources that can be waited for
        /// or found by name (see the client's `wait_for_*` and `find_*`).
        pub mod resources {
            #(#markers)*
        }

        #(#waiters)*

        #(#finders)*
    }
}

fn finder_impl(op: &Operation, f: &FindSpec) -> TokenStream {
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
         `Error::NameNotFound` when none has that id or name, `Error::AmbiguousName` (with their \
         ids) when several have the name, and the calls' own errors. Generated from \
         `x-openstack-find` on `{}`.",
        op.operation_id
    );
    quote! {
        impl ::openstack_backups_runtime::find::Findable for resources::#marker {
            type Client = super::Client;
            type Item = super::types::#item_type;
            const RESOURCE: &'static str = #resource;

            fn show<'a>(
                client: &'a super::Client,
                id: &'a str,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<Self::Item, Error<::openstack_backups_runtime::Fault>>> + Send + 'a {
                async move { Ok(client.#show().#id_setter(id).send().await?.into_inner().#item_field) }
            }

            fn named<'a>(
                client: &'a super::Client,
                name: &'a str,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<::std::vec::Vec<Self::Item>, Error<::openstack_backups_runtime::Fault>>> + Send + 'a {
                async move {
                    ::openstack_backups_runtime::__private::collect_where(#named, |item: &Self::Item| {
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
            pub async fn #find(&self, name_or_id: &str) -> ::std::result::Result<super::types::#item_type, Error<::openstack_backups_runtime::Fault>> {
                ::openstack_backups_runtime::find::find::<resources::#marker>(self, name_or_id).await
            }
        }
    }
}

fn waiter_impl(op: &Operation, w: &WaiterSpec) -> TokenStream {
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
    let reason = match &w.reason {
        Some((field, true)) => {
            let field = format_ident!("{}", snake_case(field));
            quote!(item.#field.clone())
        }
        Some((field, false)) => {
            let field = format_ident!("{}", snake_case(field));
            quote!(::std::option::Option::Some(item.#field.clone()))
        }
        None => quote! {{
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
        w.reason.as_ref().map(|(r, _)| format!(" (with the server's `{r}`)")).unwrap_or_default(),
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
        impl ::openstack_backups_runtime::wait::Waitable for resources::#marker {
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
            ) -> impl ::std::future::Future<Output = ::std::result::Result<Self::Item, Error<::openstack_backups_runtime::Fault>>> + Send + 'a {
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
            ) -> ::openstack_backups_runtime::wait::Wait<'a, resources::#marker> {
                ::openstack_backups_runtime::wait::Wait::new(self, id, target)
            }

            #[doc = #gone_doc]
            pub fn #wait_gone<'a>(&'a self, id: &'a str) -> ::openstack_backups_runtime::wait::WaitGone<'a, resources::#marker> {
                ::openstack_backups_runtime::wait::WaitGone::new(self, id)
            }
        }
    }
}

fn action_call(op: &Operation, a: &Action) -> TokenStream {
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
            ) -> ::std::result::Result<ResponseValue<()>, Error<::openstack_backups_runtime::Fault>> {
                self.#endpoint()
                    #(.#params(#params))*
                    .body(super::types::#body::#variant(#value))
                    .send()
                    .await
            }
        }
    }
}

fn page_impl(p: &Paging) -> TokenStream {
    let list = format_ident!("{}", p.list_schema);
    let item = format_ident!("{}", p.item_schema);
    let items = format_ident!("{}", snake_case(&p.items));
    let links = format_ident!("{}", snake_case(&p.links));
    quote! {
        impl ::openstack_backups_runtime::__private::Page for super::types::#list {
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

fn paging(op: &Operation, p: &Paging) -> TokenStream {
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
            ) -> impl ::futures_core::Stream<Item = ::std::result::Result<super::types::#item, Error<::openstack_backups_runtime::Fault>>> + Unpin + 'a {
                ::openstack_backups_runtime::__private::items(self, |builder, marker| async move {
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
            pub async fn all(self) -> ::std::result::Result<::std::vec::Vec<super::types::#item>, Error<::openstack_backups_runtime::Fault>> {
                ::openstack_backups_runtime::__private::collect(self.stream()).await
            }
        }
    }
}

fn root_call(op: &Operation, status: u16, schema: &str) -> TokenStream {
    let name = format_ident!("{}", op.method_name);
    let ty = format_ident!("{}", schema);
    let path = &op.path;
    let method_name = &op.method_name;
    let doc = format!(
        "{}\n\nSends `GET {path}` to the service root (the endpoint without its \
         version and project segments); success is `{status}`.",
        op.summary
    );
    quote! {
        impl super::Client {
            #[doc = #doc]
            pub async fn #name(&self) -> ::std::result::Result<ResponseValue<super::types::#ty>, Error<::openstack_backups_runtime::Fault>> {
                ::openstack_backups_runtime::__private::get_service_root(
                    self,
                    #path,
                    #status,
                    &OperationInfo { operation_id: #method_name },
                )
                .await
            }
        }
    }
}
