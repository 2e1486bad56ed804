//! The `operations` module of a service: the operation table (one row per
//! callable operation, with its microversion gates), then what each
//! extension emits beside it (the service's identity, pages, action calls,
//! waiters, finders), and the calls served from the service root.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ext::find::finder_impl;
use crate::ext::waiter::waiter_impl;
use crate::ext::{actions, microversion, paging, service};
use crate::model::{Kind, Model, Operation, pascal_case};
use crate::rt::{GET_SERVICE_ROOT, OPERATION_META};

/// The `operations` module.
pub(crate) fn operations(model: &Model) -> TokenStream {
    let rows = model.table().into_iter().map(|op| {
        let method_name = &op.method_name;
        let operation_id = &op.operation_id;
        let method = &op.method;
        let path = &op.path;
        let tag = &op.tag;
        let gates = microversion::table_fields(op);
        let action = match &op.kind {
            Kind::Action(a) => {
                let key = &a.key;
                quote!(Some(#key))
            }
            _ => quote!(None),
        };
        quote! {
            #OPERATION_META {
                method_name: #method_name,
                operation_id: #operation_id,
                method: #method,
                path: #path,
                tag: #tag,
                action: #action,
                #gates
            }
        }
    });
    let service = service::emit(model);
    let pages = paging::pages(model);
    let resources = resources(model);
    let calls = model.operations.iter().map(|op| match &op.kind {
        Kind::Action(a) => actions::call(op, a),
        Kind::Root { status, schema } => root_call(model, op, *status, schema),
        Kind::Plain | Kind::ActionEndpoint | Kind::Paged(_) => TokenStream::new(),
    });

    quote! {
        #[allow(unused_imports)]
        use super::{ClientInfo, Error, OperationInfo, ResponseValue};

        /// Every call of this service, sorted by method name: what the
        /// session checks before it sends anything.
        pub static OPERATIONS: &[#OPERATION_META] = &[#(#rows),*];

        #service

        #pages

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

fn root_call(model: &Model, op: &Operation, status: u16, schema: &str) -> TokenStream {
    let name = format_ident!("{}", op.method_name);
    let ty = format_ident!("{}", schema);
    let path = &op.path;
    let row = proc_macro2::Literal::usize_unsuffixed(
        model.table().iter().position(|o| o.method_name == op.method_name).unwrap_or_default(),
    );
    let doc = format!(
        "{}\n\nSends `GET {path}` to the service root (the endpoint without its \
         version and project segments); success is `{status}`.",
        op.summary
    );
    quote! {
        impl super::Client {
            #[doc = #doc]
            pub async fn #name(&self) -> ::std::result::Result<ResponseValue<super::types::#ty>, Error> {
                #GET_SERVICE_ROOT(
                    self,
                    #path,
                    #status,
                    &OperationInfo::new(&OPERATIONS[#row]),
                )
                .await
            }
        }
    }
}
