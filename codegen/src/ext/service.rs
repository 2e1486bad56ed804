//! `info.x-openstack-service`: who the service is (its Rust module, catalog
//! type and aliases, microversion header, request timeout, version
//! document). Emits the service's `SERVICE` table, its `ServiceClient`
//! implementation (what the session needs: catalog types, microversion
//! range, version discovery) and `Client::new`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::diff::{Changes, Level};
use crate::error::{Result, pointer};
use crate::ext::microversion::opt_mv;
use crate::model::{Kind, Model, Operation, snake_case};
use crate::rt::{CLIENT_CONFIG, EFFECTIVE_MICROVERSION, HTTP_CLIENT, MICROVERSION, SERVICE_CLIENT, SERVICE_INFO};
use crate::validate::Checker;

/// Who the service is (`info.x-openstack-service`): what the catalog calls
/// it, how its microversions are named, where its module goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIdentity {
    /// The Rust module under `generated/src/`, also the key of endpoint
    /// overrides and microversion pins (`block_storage`).
    pub module: String,
    /// The catalog service type (`block-storage`).
    pub service_type: String,
    /// Older catalog types, in order of preference (`volumev3`, `volume`).
    pub aliases: Vec<String>,
    /// The service's name in `OpenStack-API-Version` (`volume`); `None`
    /// for a service without microversions.
    pub microversion_header: Option<String>,
    /// The default request timeout of the generated `Client::new`, seconds.
    pub request_timeout: u64,
    /// The `operationId` of the version document the session negotiates
    /// from (a service-root operation whose body has `versions[]` with
    /// `status`, `version` and `min_version`).
    pub version_discovery: Option<String>,
}

// Parse.

/// The service's identity, on `info`.
pub const SERVICE: &str = "x-openstack-service";

/// `info.x-openstack-service`: `module`, `type`, `aliases`,
/// `microversion-header`, `request-timeout`.
pub(crate) fn service_identity(c: &Checker<'_>) -> Result<ServiceIdentity> {
    let at = format!("/info/{SERVICE}");
    let node = c.raw.pointer(&at).and_then(Value::as_object).ok_or_else(|| {
        c.err(
            None,
            "/info",
            format!("`{SERVICE}` is missing: {{module, type, aliases, microversion-header, request-timeout}}"),
        )
    })?;
    for key in node.keys() {
        if !["module", "type", "aliases", "microversion-header", "request-timeout", "version-discovery"]
            .contains(&key.as_str())
        {
            return Err(c.err(None, &format!("{at}/{key}"), format!("unknown key `{key}` in `{SERVICE}`")));
        }
    }
    let text = |key: &str| -> Result<Option<String>> {
        match node.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(other) => {
                Err(c.err(None, &format!("{at}/{key}"), format!("expected a non-empty string, found {other}")))
            }
        }
    };
    let module = text("module")?.ok_or_else(|| c.err(None, &at, "`module` (the Rust module name) is missing"))?;
    if syn::parse_str::<syn::Ident>(&module).is_err() || module != snake_case(&module) {
        return Err(c.err(None, &format!("{at}/module"), format!("`{module}` is not a snake_case Rust identifier")));
    }
    let service_type = text("type")?.ok_or_else(|| c.err(None, &at, "`type` (the catalog service type) is missing"))?;
    let aliases = match node.get("aliases") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    c.err(None, &format!("{at}/aliases/{i}"), format!("expected a catalog type, found {v}"))
                })
            })
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(c.err(
                None,
                &format!("{at}/aliases"),
                format!("expected a list of catalog types, found {other}"),
            ));
        }
    };
    let request_timeout = match node.get("request-timeout") {
        Some(v) => v.as_u64().filter(|s| *s > 0).ok_or_else(|| {
            c.err(None, &format!("{at}/request-timeout"), format!("expected a positive number of seconds, found {v}"))
        })?,
        None => 60,
    };
    let microversion_header = text("microversion-header")?;
    let version_discovery = text("version-discovery")?;
    if version_discovery.is_some() && microversion_header.is_none() {
        return Err(c.err(
            None,
            &format!("{at}/version-discovery"),
            "version discovery is for a service with microversions: `microversion-header` is missing",
        ));
    }
    Ok(ServiceIdentity { module, service_type, aliases, microversion_header, request_timeout, version_discovery })
}

/// The version-discovery operation exists, is served from the service root,
/// and answers a document with `versions[]` holding `status`, `version` and
/// `min_version` (what the session negotiates from).
pub(crate) fn version_document(c: &Checker<'_>, id: &str, operations: &[Operation]) -> Result<()> {
    let at = format!("/info/{SERVICE}/version-discovery");
    let op = operations
        .iter()
        .find(|o| o.operation_id == id)
        .ok_or_else(|| c.err(None, &at, format!("no operation has the operationId `{id}`")))?;
    let Kind::Root { schema, .. } = &op.kind else {
        return Err(c.err(
            Some(id),
            &at,
            "the version-discovery operation must be served from the service root (its own `servers`)",
        ));
    };
    let list_at = pointer(["components", "schemas", schema]);
    let item = c
        .raw
        .pointer(&format!("{list_at}/properties/versions/items"))
        .ok_or_else(|| c.err(Some(id), &list_at, "a version document needs `versions`, an array"))?;
    let (item, item_at) = c.resolve(item, &format!("{list_at}/properties/versions/items"), Some(id))?;
    for field in ["status", "version", "min_version"] {
        let required = item.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|v| v == field));
        if item.pointer(&format!("/properties/{field}")).is_none() || !required {
            return Err(c.err(Some(id), &item_at, format!("a version needs the required property `{field}`")));
        }
    }
    Ok(())
}

// Emit.

/// The service's `SERVICE` table (identity and the `OPERATIONS` the
/// operations module defines), its `Service` and `ServiceClient`
/// implementations (version discovery from the spec's version document),
/// and `Client::new` / `Client::microversion`.
pub(crate) fn emit(model: &Model) -> TokenStream {
    let service = &model.service;
    let service_type = &service.service_type;
    let name = &service.module;
    let catalog_types = std::iter::once(&service.service_type).chain(&service.aliases);
    let header = match &service.microversion_header {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let max = opt_mv(model.max_microversion.filter(|_| service.microversion_header.is_some()));

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
         (see [`ClientConfig::with_timeout`]({}::with_timeout); without one, {} s \
         per request).\n\nPanics only where `reqwest::Client::new` does: when the TLS backend \
         cannot be initialised.",
        CLIENT_CONFIG.full(),
        service.request_timeout
    );

    quote! {
        /// This service's identity and operation table.
        pub static SERVICE: #SERVICE_INFO = #SERVICE_INFO {
            name: #name,
            service_type: #service_type,
            catalog_types: &[#(#catalog_types),*],
            microversion_service: #header,
            max_microversion: #max,
            operations: OPERATIONS,
        };

        impl #SERVICE_CLIENT for super::Client {
            fn service() -> &'static #SERVICE_INFO {
                &SERVICE
            }

            fn with_parts(endpoint: &str, http: reqwest::Client, config: #CLIENT_CONFIG) -> Self {
                Self::new_with_client(endpoint, http, config)
            }

            async fn server_microversions(
                &self,
            ) -> ::std::result::Result<::std::option::Option<(::std::string::String, ::std::string::String)>, Error> {
                #discovery
            }
        }

        impl super::Client {
            #[doc = #new_doc]
            pub fn new(baseurl: &str, inner: #CLIENT_CONFIG) -> Self {
                let http = #HTTP_CLIENT(&inner, ::std::time::Duration::from_secs(#timeout));
                Self::new_with_client(baseurl, http, inner)
            }

            /// The microversion every request of this client carries in
            /// `OpenStack-API-Version`: the configured one (pinned, or
            /// negotiated by the session), else the service's base version
            /// (`3.0`). `None` for a service without microversions.
            pub fn microversion(&self) -> ::std::option::Option<#MICROVERSION> {
                #EFFECTIVE_MICROVERSION(&self.inner, &SERVICE)
            }
        }

    }
}

// Change rules.

/// The service's module renamed (breaking: every path of the generated API
/// moves); any other change to its identity (catalog type, header,
/// defaults) a warning to review.
pub(crate) fn diff(d: &mut Changes, old: &Model, new: &Model) {
    let (a, b) = (&old.service.module, &new.service.module);
    if a != b {
        let written = |m: &Model| m.service_source.get("module").cloned();
        let at = format!("/info/{SERVICE}/module");
        d.push(Level::Breaking, "info", &at, "the service's module changed", format!("module {a} renamed to {b}"))
            .values(written(old), written(new));
    }
    let without_module = |m: &Model| {
        let mut v = m.service_source.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("module");
        }
        v
    };
    let rest = |m: &Model| ServiceIdentity { module: String::new(), ..m.service.clone() };
    if rest(old) != rest(new) {
        let at = format!("/info/{SERVICE}");
        d.push(
            Level::Warning,
            "info",
            &at,
            format!("{{\"op\": \"replace\", \"path\": \"{at}\"}}"),
            "the service's catalog type, header or defaults change: review the regenerated diff",
        )
        .values(Some(without_module(old)), Some(without_module(new)));
    }
}
