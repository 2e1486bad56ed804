//! What the generator needs to know about a spec beyond what progenitor reads:
//! built from the raw document by [`crate::validate`], which rejects anything
//! the generator cannot handle before progenitor sees it.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

pub use crate::ext::actions::Action;
pub use crate::ext::find::FindSpec;
pub use crate::ext::microversion::BodyGate;
pub use crate::ext::open_enum::OpenEnum;
pub use crate::ext::paging::Paging;
pub use crate::ext::service::ServiceIdentity;
pub use crate::ext::waiter::WaiterSpec;

/// An OpenStack microversion, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    /// The major version (3 for Cinder v3).
    pub major: u16,
    /// The minor version.
    pub minor: u16,
}

impl Microversion {
    /// Parses `3.45`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
        if !ok(major) || !ok(minor) {
            return None;
        }
        Some(Self { major: major.parse().ok()?, minor: minor.parse().ok()? })
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One callable operation: a spec operation, or one action of an `…/action`
/// operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The spec's `operationId` (camelCase).
    pub operation_id: String,
    /// The Rust method name (snake_case).
    pub method_name: String,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as written in the spec.
    pub path: String,
    /// The first tag.
    pub tag: String,
    /// The summary.
    pub summary: String,
    /// The minimum microversion (3.0 or the spec's base when absent).
    pub min_microversion: Option<Microversion>,
    /// Every query parameter's name.
    pub query: Vec<String>,
    /// Query parameters that need a microversion above the operation's.
    pub gated_query: Vec<(String, Microversion)>,
    /// Request-body properties the server accepts only in a microversion
    /// range narrower than the operation's.
    pub gated_body: Vec<BodyGate>,
    /// How the generator treats it.
    pub kind: Kind,
    /// A waiter on the resource this operation shows (`x-openstack-waiter`).
    pub waiter: Option<WaiterSpec>,
    /// How to find the resource this operation shows by name
    /// (`x-openstack-find`).
    pub finder: Option<FindSpec>,
    /// What the spec says of it, as written: the parts spec-diff compares.
    pub spec: SpecOperation,
}

/// An operation as the spec writes it, beside what the generator derives:
/// where it sits, its declared microversion bounds, its parameters, body
/// and responses, and its extensions as written (the typed ones are parsed
/// into [`Operation`]; the raw values are what a change report shows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecOperation {
    /// Its JSON pointer: the operation (`/paths/~1backups/get`), or an
    /// action's entry (`…/x-openstack-actions/2`).
    pub pointer: String,
    /// The microversion bounds written on the node itself (an action's own,
    /// not the endpoint's it inherits).
    pub bounds: Bounds,
    /// Path-item parameters, then the operation's own (`$ref`s followed).
    pub parameters: Vec<Parameter>,
    /// The JSON request body's schema node, as written (`$ref` or inline).
    pub body: Option<Value>,
    /// Every response by status code (`200`, `4XX`), shared responses
    /// followed.
    pub responses: BTreeMap<String, Response>,
    /// Every `x-…` key of the node with its value (for an action: of its
    /// entry in `x-openstack-actions`).
    pub extensions: BTreeMap<String, Value>,
}

/// Microversion bounds written on one node: `x-openstack-min-microversion`
/// and `x-openstack-max-microversion`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    /// The lowest microversion that has it; `None`: the base.
    pub min: Option<Microversion>,
    /// The highest microversion that has it; `None`: the latest.
    pub max: Option<Microversion>,
}

/// One parameter of an operation, `$ref` followed.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// `path` or `query`.
    pub place: String,
    /// Its name on the wire (`all_tenants`).
    pub name: String,
    /// Where it is written.
    pub pointer: String,
    /// `required: true`.
    pub required: bool,
    /// Its schema node, as written.
    pub schema: Value,
    /// Its own microversion bounds.
    pub bounds: Bounds,
    /// The parameter as written (`$ref` followed).
    pub source: Value,
}

/// One response of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Where it is written.
    pub pointer: String,
    /// Its JSON body's schema node, as written, if it has one.
    pub schema: Option<Value>,
    /// The response as written (a shared response followed).
    pub source: Value,
}

/// `x-…` keys written at one place outside operations and schemas: the
/// document, `info`, a path item.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionSite {
    /// How a change report names the place (`document`, `info`, the path).
    pub scope: String,
    /// Its JSON pointer (`""` for the document).
    pub pointer: String,
    /// Its `x-…` keys and values.
    pub extensions: BTreeMap<String, Value>,
}

/// The generator's own handling of an operation.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Generated by progenitor alone.
    Plain,
    /// Served from the service root (operation-level `servers`); emitted by
    /// this generator because progenitor ignores operation servers and
    /// cannot accept a 3xx success.
    Root {
        /// The success status (200 or 300).
        status: u16,
        /// The response schema's component name.
        schema: String,
    },
    /// A paged list (`x-openstack-pagination`).
    Paged(Paging),
    /// The generic `…/action` operation (generated by progenitor, but the
    /// per-action calls below are what users call).
    ActionEndpoint,
    /// One action of an `…/action` operation.
    Action(Action),
}

/// Everything the generator derives from one spec.
#[derive(Debug, Clone)]
pub struct Model {
    /// The service's identity.
    pub service: ServiceIdentity,
    /// The spec's `info.title`.
    pub title: String,
    /// The spec's `info.version` (the maximum microversion it describes).
    pub max_microversion: Option<Microversion>,
    /// Every callable operation, in spec order (actions after their endpoint).
    pub operations: Vec<Operation>,
    /// Open enums.
    pub open_enums: Vec<OpenEnum>,
    /// Component schemas replaced by hand-written types of the crate
    /// (timestamps, secrets, integer flags), with the type's path.
    pub replacements: Vec<(String, String)>,
    /// The shared error schema's component name.
    pub fault: String,
    /// `info.x-openstack-service` as written.
    pub service_source: Value,
    /// The component schemas as written, for spec-diff's schema walk.
    pub components: BTreeMap<String, Value>,
    /// `x-…` keys of the document, `info` (but the service's) and the path
    /// items.
    pub extension_sites: Vec<ExtensionSite>,
}

impl Model {
    /// The operations in the order of the generated `OPERATIONS` table:
    /// by method name.
    pub fn table(&self) -> Vec<&Operation> {
        let mut table: Vec<&Operation> = self.operations.iter().collect();
        table.sort_by(|a, b| a.method_name.cmp(&b.method_name));
        table
    }
}

/// The `x-…` keys of a JSON object, with their values.
pub fn extensions_of(node: &Value) -> BTreeMap<String, Value> {
    node.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("x-"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `listBackupsDetail` → `list_backups_detail`, exactly as progenitor names
/// the method (and reports it in `OperationInfo`).
pub fn snake_case(name: &str) -> String {
    heck::ToSnakeCase::to_snake_case(name)
}

/// `error_backing-up` → `ErrorBackingUp`.
pub fn pascal_case(value: &str) -> String {
    let out = heck::ToUpperCamelCase::to_upper_camel_case(value);
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) { format!("V{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake_case("listBackupsDetail"), "list_backups_detail");
        assert_eq!(snake_case("showApiV3Version"), "show_api_v3_version");
        assert_eq!(pascal_case("error_backing-up"), "ErrorBackingUp");
        assert_eq!(pascal_case("in-use"), "InUse");
        assert_eq!(pascal_case("3par"), "V3par");
    }

    #[test]
    fn microversions() {
        assert_eq!(Microversion::parse("3.45"), Some(Microversion { major: 3, minor: 45 }));
        assert_eq!(Microversion::parse("3.0"), Some(Microversion { major: 3, minor: 0 }));
        for bad in ["3", "3.", ".4", "3.04", "v3.1", "3.1.1", ""] {
            assert_eq!(Microversion::parse(bad), None, "{bad}");
        }
    }
}
