//! Every item of `openstack-backups-runtime` that generated code names, in
//! one place. The generator spells the runtime crate's paths only here (a
//! test checks that no other file of `codegen/src` does), and the generated
//! crate root imports each of them (see [`check_module`]): a runtime item
//! renamed or removed fails the build of `generated/` at once, whichever
//! extension emits it.
//!
//! In a `quote!`, a registered item is interpolated like a variable:
//! `quote!(#FAULT)` is `::openstack_backups_runtime::Fault`.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};

/// A path inside `openstack-backups-runtime` (`wait::Waitable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rt(&'static str);

impl Rt {
    /// The path in full, as text (`::openstack_backups_runtime::wait::Waitable`).
    pub(crate) fn full(self) -> String {
        format!("::openstack_backups_runtime::{}", self.0)
    }
}

impl ToTokens for Rt {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let segments = self.0.split("::").map(|s| format_ident!("{}", s));
        tokens.extend(quote!(::openstack_backups_runtime #(:: #segments)*));
    }
}

macro_rules! registry {
    ($($(#[doc = $doc:literal])* $name:ident = $path:literal;)*) => {
        $( $(#[doc = $doc])* pub(crate) const $name: Rt = Rt($path); )*
        /// Every registered item, in the order above.
        pub(crate) const ALL: &[Rt] = &[$($name),*];
    };
}

registry! {
    /// The one error type of every call.
    ERROR = "Error";
    /// A successful response: status, headers, typed body.
    RESPONSE_VALUE = "ResponseValue";
    /// The error body every operation shares (the spec's `Fault`).
    FAULT = "Fault";
    /// The generated clients' inner state (microversion, token source, …).
    CLIENT_CONFIG = "ClientConfig";
    /// `3.N`.
    MICROVERSION = "Microversion";
    /// A request-body property's microversion range (the operation table).
    BODY_GATE = "BodyGate";
    /// One row of the operation table.
    OPERATION_META = "OperationMeta";
    /// A service's identity and operation table.
    SERVICE_INFO = "ServiceInfo";
    /// What the session needs of each generated client.
    SERVICE_CLIENT = "ServiceClient";
    /// An open enum's value this client does not know.
    UNKNOWN_VALUE = "UnknownValue";
    /// `format: naive-date-time` and `date-time`.
    TIMESTAMP = "Timestamp";
    /// `format: password`.
    SECRET = "Secret";
    /// `format: boolean-as-integer`.
    INT_BOOL = "IntBool";
    /// `x-openstack-find`'s engine: the resource trait.
    FINDABLE = "find::Findable";
    /// `x-openstack-find`'s engine: by id, then by name.
    FIND_FN = "find::find";
    /// `x-openstack-waiter`'s engine: the resource trait.
    WAITABLE = "wait::Waitable";
    /// `x-openstack-waiter`'s engine: a wait for a status.
    WAIT = "wait::Wait";
    /// `x-openstack-waiter`'s engine: a wait for deletion.
    WAIT_GONE = "wait::WaitGone";
    /// What progenitor's code expects of `progenitor_client`: path encoding.
    ENCODE_PATH = "__private::encode_path";
    /// … a streamed body.
    BYTE_STREAM = "__private::ByteStream";
    /// … the hooks around each request.
    CLIENT_HOOKS = "__private::ClientHooks";
    /// … the client's identity.
    CLIENT_INFO = "__private::ClientInfo";
    /// … the operation a request belongs to.
    OPERATION_INFO = "__private::OperationInfo";
    /// A gated body property a call's body sets (found on the typed body).
    SET_PROPERTY = "__private::SetProperty";
    /// … query-string helpers on the request builder.
    REQUEST_BUILDER_EXT = "__private::RequestBuilderExt";
    /// The request-build error, with the operation named.
    REQUEST_BUILD_ERROR = "__private::request_build_error";
    /// `x-openstack-pagination`'s engine: one page of a list.
    PAGE = "__private::Page";
    /// `x-openstack-pagination`'s engine: items, page after page.
    ITEMS = "__private::items";
    /// `x-openstack-pagination`'s engine: every item collected.
    COLLECT = "__private::collect";
    /// `x-openstack-find`'s search of a list by name.
    COLLECT_WHERE = "__private::collect_where";
    /// `x-extensible-enum`'s decoding.
    DESERIALIZE_OPEN = "__private::deserialize_open";
    /// `x-extensible-enum`'s unknown value, made.
    UNKNOWN_VALUE_OF = "__private::unknown_value";
    /// The microversion a client sends.
    EFFECTIVE_MICROVERSION = "__private::effective_microversion";
    /// A call served from the service root (version discovery).
    GET_SERVICE_ROOT = "__private::get_service_root";
    /// A client's HTTP connection pool.
    HTTP_CLIENT = "__private::http_client";
    /// The typed mocks' engine (feature `mock`): a mock to mount.
    MOCK = "mock::Mock";
    /// … a mock of an operation, made.
    MOCK_FN = "mock::mock";
    /// … what a request must be.
    MOCK_WHEN = "mock::When";
    /// … how it is answered.
    MOCK_THEN = "mock::Then";
    /// … a query value as the client writes it.
    QUERY_TEXT = "mock::query_text";
}

impl Rt {
    /// The cargo feature the item needs, if any.
    pub(crate) fn feature(self) -> Option<&'static str> {
        self.0.starts_with("mock::").then_some("mock")
    }
}

/// The text of a private module for the generated crate root: a `use` of
/// every registered item, so that building the crate checks each exists.
pub(crate) fn check_module() -> String {
    let uses: String = ALL
        .iter()
        .map(|rt| match rt.feature() {
            Some(feature) => format!("    #[cfg(feature = \"{feature}\")]\n    use {};\n", rt.full()),
            None => format!("    use {};\n", rt.full()),
        })
        .collect();
    format!(
        "/// Every item of `openstack-backups-runtime` the generator names (its registry,\n\
         /// `codegen/src/rt.rs`): building this crate checks that each exists.\n\
         #[allow(unused_imports)]\n\
         #[rustfmt::skip]\n\
         mod runtime_items {{\n{uses}}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_a_path_and_named_once() {
        let mut seen = std::collections::BTreeSet::new();
        for rt in ALL {
            assert!(syn::parse_str::<syn::Path>(&rt.full()).is_ok(), "{}", rt.0);
            assert_eq!(rt.to_token_stream().to_string().replace(' ', ""), rt.full(), "{}", rt.0);
            assert!(seen.insert(rt.0), "{} is registered twice", rt.0);
        }
    }

    /// The registry is the only place of `codegen/src` that spells the
    /// runtime crate's paths.
    #[test]
    fn no_other_file_names_the_runtime() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src.clone()];
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && path != src.join("rt.rs")
                    && std::fs::read_to_string(&path).unwrap().contains(concat!("openstack_backups", "_runtime"))
                {
                    offenders.push(path.display().to_string());
                }
            }
        }
        assert!(offenders.is_empty(), "name runtime items through crate::rt: {offenders:?}");
    }
}
