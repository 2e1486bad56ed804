//! What the generator needs to know about a spec beyond what progenitor reads:
//! built from the raw document by [`crate::validate`], which rejects anything
//! the generator cannot handle before progenitor sees it.

use std::fmt;

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
}

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
    /// The property with the server's reason for a failure, and whether it
    /// is optional in the generated type.
    pub reason: Option<(String, bool)>,
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

/// A request-body property (or some of its values) that only a range of
/// microversions accepts: `x-openstack-min-microversion`,
/// `x-openstack-max-microversion` and `x-openstack-max-microversion-values`
/// on a property of a request body schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BodyGate {
    /// Where the property sits in the body, as a JSON pointer; `*` stands
    /// for every element of an array or every value of a map
    /// (`/backup/metadata`).
    pub pointer: String,
    /// The lowest microversion that accepts it (`None`: the operation's).
    pub min: Option<Microversion>,
    /// The highest microversion that accepts it (`None`: no upper bound).
    pub max: Option<Microversion>,
    /// The values the upper bound applies to, as JSON text (`false`);
    /// empty: every value.
    pub max_values: Vec<String>,
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

/// Paging facts of a list operation.
#[derive(Debug, Clone)]
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
}

/// A server-controlled string with known values (`x-extensible-enum`).
#[derive(Debug, Clone)]
pub struct OpenEnum {
    /// The component name.
    pub name: String,
    /// The schema's description.
    pub description: Option<String>,
    /// The known values, in spec order.
    pub values: Vec<String>,
}

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
