//! The typed mocks of one service (the crate's `mock` feature): for each
//! operation of the model, a function `<method>(|when, then| …)` returning
//! a mock to mount on a test server, with a `When` that has one typed
//! method per path and query parameter and the body, and a `Then` that has
//! one typed method per success response (and, for a paged list, the next
//! page). Parameter and body types are the client's own, read from
//! progenitor's builders, so a mock and a call of the same operation take
//! the same values. The engine is the runtime's `mock` module.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Kind, Model, Operation, pascal_case, snake_case};
use crate::rt::{MOCK, MOCK_FN, MOCK_THEN, MOCK_WHEN, QUERY_TEXT};

/// What progenitor's builders say of each operation (by builder name).
#[derive(Default)]
struct Builders {
    /// The builder's fields (but `client`), with their types.
    fields: BTreeMap<String, Vec<(String, syn::Type)>>,
    /// The success body type of its `send`.
    bodies: BTreeMap<String, syn::Type>,
}

fn builders(items: &[syn::Item]) -> Builders {
    let mut out = Builders::default();
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                let fields = s
                    .fields
                    .iter()
                    .filter_map(|f| Some((f.ident.as_ref()?.to_string(), f.ty.clone())))
                    .filter(|(name, _)| name != "client")
                    .collect();
                out.fields.insert(s.ident.to_string(), fields);
            }
            // A builder's `send` (no trait impl has one).
            syn::Item::Impl(i) => {
                let syn::Type::Path(p) = &*i.self_ty else { continue };
                let Some(builder) = p.path.segments.last() else { continue };
                for item in &i.items {
                    if let syn::ImplItem::Fn(f) = item
                        && f.sig.ident == "send"
                        && let syn::ReturnType::Type(_, ty) = &f.sig.output
                        && let Some(result) = args_of(ty, "Result").first()
                        && let Some(body) = args_of(result, "ResponseValue").first()
                    {
                        out.bodies.insert(builder.ident.to_string(), (*body).clone());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The type arguments of `ty` when its last segment is `name` (`Result<A, B>` → `[A, B]`).
fn args_of<'t>(ty: &'t syn::Type, name: &str) -> Vec<&'t syn::Type> {
    let syn::Type::Path(p) = ty else { return Vec::new() };
    let Some(last) = p.path.segments.last().filter(|s| s.ident == name) else { return Vec::new() };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return Vec::new() };
    args.args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn is_string(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "String"))
}

/// `types::builder::X` → `types::X`: the body's type, not its builder.
fn without_builder(ty: &syn::Type) -> syn::Type {
    let mut ty = ty.clone();
    if let syn::Type::Path(p) = &mut ty {
        let kept: Vec<syn::PathSegment> = p.path.segments.iter().filter(|s| s.ident != "builder").cloned().collect();
        p.path.segments = kept.into_iter().collect();
    }
    ty
}

/// The name of the `Then` method for a success status.
fn status_method(status: u16) -> syn::Ident {
    match status {
        200 => format_ident!("ok"),
        201 => format_ident!("created"),
        202 => format_ident!("accepted"),
        204 => format_ident!("no_content"),
        300 => format_ident!("multiple_choices"),
        other => format_ident!("status_{}", other),
    }
}

/// The `mock.rs` of a service, from its model and progenitor's builders;
/// an error names the operation (its id and JSON pointer) whose builder
/// does not have the shape the mock needs.
pub(crate) fn mocks(model: &Model, builder_items: &[syn::Item]) -> Result<TokenStream, (String, String, String)> {
    let builders = builders(builder_items);
    let rows: BTreeMap<&str, usize> =
        model.table().iter().enumerate().map(|(i, op)| (op.method_name.as_str(), i)).collect();
    let mut out = TokenStream::new();
    for op in &model.operations {
        if matches!(op.kind, Kind::ActionEndpoint) {
            continue;
        }
        out.extend(
            mock(op, model, &builders, rows[op.method_name.as_str()])
                .map_err(|m| (op.operation_id.clone(), op.spec.pointer.clone(), m))?,
        );
    }
    Ok(out)
}

fn mock(op: &Operation, model: &Model, builders: &Builders, row: usize) -> Result<TokenStream, String> {
    let name = format_ident!("{}", op.method_name);
    let base = pascal_case(&op.method_name);
    let when_ty = format_ident!("{}When", base);
    let then_ty = format_ident!("{}Then", base);
    let builder = pascal_case(&op.operation_id);
    let mut when_methods = Vec::new();
    let mut then_methods = Vec::new();
    // An action answers as its `…/action` endpoint does.
    let responses = match &op.kind {
        Kind::Action(a) => model
            .operations
            .iter()
            .find(|e| e.method_name == a.endpoint_method)
            .map(|e| &e.spec.responses)
            .ok_or("the action's endpoint is not in the model")?,
        _ => &op.spec.responses,
    };
    let success: Vec<u16> =
        responses.keys().filter_map(|s| s.parse::<u16>().ok()).filter(|s| (200..400).contains(s)).collect();
    let default_status = *success.first().ok_or("the operation has no success response")?;
    let has_body = |status: u16| responses.get(&status.to_string()).is_some_and(|r| r.schema.is_some());

    match &op.kind {
        Kind::Action(a) => {
            for p in &a.path_params {
                let method = format_ident!("{}", snake_case(p));
                let doc = format!("The path parameter `{p}` must be `value`.");
                when_methods.push(quote! {
                    #[doc = #doc]
                    pub fn #method(&mut self, value: &str) -> &mut Self { self.0.path_param(#p, value); self }
                });
            }
            if let Some(args) = &a.arguments {
                let ty = format_ident!("{}", args);
                let doc = format!("The body must be `{{\"{}\": value}}`, exactly.", a.key);
                when_methods.push(quote! {
                    #[doc = #doc]
                    pub fn body(&mut self, value: &types::#ty) -> &mut Self { self.0.json_body(value); self }
                });
            }
        }
        Kind::Root { .. } => {}
        Kind::Plain | Kind::Paged(_) => {
            let fields = builders.fields.get(&builder).ok_or_else(|| format!("no builder `{builder}` for the mock"))?;
            for (field, ty) in fields {
                let method = format_ident!("{}", field);
                if field == "body" {
                    let inner = args_of(ty, "Result").first().map(|t| without_builder(t)).ok_or("an odd body field")?;
                    when_methods.push(quote! {
                        /// The body must be `value`, exactly (as JSON).
                        pub fn body(&mut self, value: &#inner) -> &mut Self { self.0.json_body(value); self }
                    });
                    continue;
                }
                let param = op
                    .spec
                    .parameters
                    .iter()
                    .find(|p| snake_case(&p.name) == *field)
                    .ok_or_else(|| format!("no parameter for the builder field `{field}`"))?;
                let api = &param.name;
                let inner = args_of(ty, "Result").first().copied().ok_or("an odd parameter field")?;
                let optional = args_of(inner, "Option").first().copied();
                let method = match (param.place.as_str(), optional) {
                    ("path", _) => {
                        let doc = format!("The path parameter `{api}` must be `value`.");
                        quote! {
                            #[doc = #doc]
                            pub fn #method(&mut self, value: &str) -> &mut Self { self.0.path_param(#api, value); self }
                        }
                    }
                    ("query", Some(t)) if is_string(t) => {
                        let doc = format!("The query parameter `{api}` must be `value`, or absent for `None`.");
                        quote! {
                            #[doc = #doc]
                            pub fn #method<'v>(&mut self, value: impl Into<Option<&'v str>>) -> &mut Self {
                                self.0.query_param(#api, value.into().map(str::to_owned)); self
                            }
                        }
                    }
                    ("query", Some(t)) => {
                        let doc = format!("The query parameter `{api}` must be `value`, or absent for `None`.");
                        quote! {
                            #[doc = #doc]
                            pub fn #method(&mut self, value: impl Into<Option<#t>>) -> &mut Self {
                                self.0.query_param(#api, value.into().map(|v| #QUERY_TEXT(&v))); self
                            }
                        }
                    }
                    ("query", None) => {
                        let doc = format!("The query parameter `{api}` must be `value`.");
                        let (arg, text) = if is_string(inner) {
                            (quote!(&str), quote!(value.to_owned()))
                        } else {
                            (quote!(#inner), quote!(#QUERY_TEXT(&value)))
                        };
                        quote! {
                            #[doc = #doc]
                            pub fn #method(&mut self, value: #arg) -> &mut Self { self.0.query_param(#api, Some(#text)); self }
                        }
                    }
                    (place, _) => return Err(format!("a `{place}` parameter has no mock")),
                };
                when_methods.push(method);
            }
        }
        Kind::ActionEndpoint => return Ok(TokenStream::new()),
    }

    let body_type: Option<syn::Type> = match &op.kind {
        Kind::Root { schema, .. } => {
            let ty = format_ident!("{}", schema);
            Some(syn::parse_quote!(types::#ty))
        }
        // (A body of `()`: no success status has a schema, so none takes a value.)
        Kind::Plain | Kind::Paged(_) => builders.bodies.get(&builder).cloned(),
        _ => None,
    };
    for status in &success {
        let method = status_method(*status);
        match (&body_type, has_body(*status)) {
            (Some(ty), true) => {
                let doc = format!("Answers {status} with `value`.");
                then_methods.push(quote! {
                    #[doc = #doc]
                    pub fn #method(&mut self, value: &#ty) -> &mut Self { self.0.json(#status, value); self }
                });
            }
            _ => {
                let doc = format!("Answers {status} without a body.");
                then_methods.push(quote! {
                    #[doc = #doc]
                    pub fn #method(&mut self) -> &mut Self { self.0.status(#status); self }
                });
            }
        }
    }
    if let Kind::Paged(p) = &op.kind {
        let links = &p.links;
        let doc = format!(
            "Adds a `next` link to `{links}`: the request's own URL with `marker` set to `marker` (its \
             other parameters kept), as Cinder and Trove link the next page."
        );
        then_methods.push(quote! {
            #[doc = #doc]
            pub fn next_page(&mut self, marker: &str) -> &mut Self { self.0.next_page_in(#links, marker); self }
        });
    }

    // The core's methods, again on the wrapper so that chains keep its
    // type (`when.microversion("3.64").backup_id(…)`).
    if model.service.microversion_header.is_some() {
        when_methods.push(quote! {
            /// The request must carry `OpenStack-API-Version` with this microversion (`"3.64"`).
            pub fn microversion(&mut self, version: impl ::std::fmt::Display) -> &mut Self { self.0.microversion(version); self }
        });
        then_methods.push(quote! {
            /// Answers with `OpenStack-API-Version` for this microversion (`"3.64"`).
            pub fn microversion(&mut self, version: impl ::std::fmt::Display) -> &mut Self { self.0.microversion(version); self }
        });
    }
    when_methods.push(quote! {
        /// The request must carry the header `name` with `value`.
        pub fn header(&mut self, name: &str, value: &str) -> &mut Self { self.0.header(name, value); self }
    });
    then_methods.push(quote! {
        /// Answers `status` with the fault `{"<name>": {"code": status, "message": message}}`.
        pub fn fault(&mut self, status: u16, name: &str, message: &str) -> &mut Self { self.0.fault(status, name, message); self }
        /// Answers with `X-OpenStack-Request-Id: <id>`.
        pub fn request_id(&mut self, id: &str) -> &mut Self { self.0.request_id(id); self }
        /// Answers with the header `name`: `value`.
        pub fn header(&mut self, name: &str, value: &str) -> &mut Self { self.0.header(name, value); self }
        /// Answers after `delay`.
        pub fn delay(&mut self, delay: ::std::time::Duration) -> &mut Self { self.0.delay(delay); self }
    });
    let route = match &op.kind {
        Kind::Action(a) => format!("`{} {}` with `{{\"{}\": …}}`", op.method, op.path, a.key),
        _ => format!("`{} {}`", op.method, op.path),
    };
    let doc = format!(
        "A mock of [`Client::{m}`](super::Client::{m}) ({route}): `when` says what the request must \
         be, `then` how it is answered ({default_status} without a body unless told). Mount the returned \
         mock on a `MockServer`. Generated from `{id}`.",
        m = op.method_name,
        id = op.operation_id,
    );
    let when_doc = format!("What a request of `{}` must be to match.", op.method_name);
    let then_doc = format!("How the mock of `{}` answers.", op.method_name);
    Ok(quote! {
        #[doc = #doc]
        pub fn #name(config: impl FnOnce(&mut #when_ty, &mut #then_ty)) -> #MOCK {
            let operation = &super::operations::OPERATIONS[#row];
            let mut when = #when_ty(#MOCK_WHEN::new(&super::operations::SERVICE, operation));
            let mut then = #then_ty(#MOCK_THEN::new(&super::operations::SERVICE, operation, #default_status));
            config(&mut when, &mut then);
            #MOCK_FN(when.0, then.0)
        }

        #[doc = #when_doc]
        pub struct #when_ty(#MOCK_WHEN);

        impl #when_ty {
            #(#when_methods)*
        }

        impl ::std::ops::Deref for #when_ty {
            type Target = #MOCK_WHEN;
            fn deref(&self) -> &#MOCK_WHEN { &self.0 }
        }

        impl ::std::ops::DerefMut for #when_ty {
            fn deref_mut(&mut self) -> &mut #MOCK_WHEN { &mut self.0 }
        }

        #[doc = #then_doc]
        pub struct #then_ty(#MOCK_THEN);

        impl #then_ty {
            #(#then_methods)*
        }

        impl ::std::ops::Deref for #then_ty {
            type Target = #MOCK_THEN;
            fn deref(&self) -> &#MOCK_THEN { &self.0 }
        }

        impl ::std::ops::DerefMut for #then_ty {
            fn deref_mut(&mut self) -> &mut #MOCK_THEN { &mut self.0 }
        }
    })
}
