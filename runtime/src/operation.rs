//! The operation table the generator emits for each service, and the
//! checks made against it before anything is sent: the call's own
//! microversion, its query parameters' and its request body's.

use crate::error::{Gated, MicroversionError, Requirement};
use crate::{ClientConfig, Microversion};

/// One row of a service's operation table (generated from the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationMeta {
    /// The Rust method name (`list_backups_detail`).
    pub method_name: &'static str,
    /// The spec's `operationId` (`listBackupsDetail`).
    pub operation_id: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// The path template, relative to the endpoint.
    pub path: &'static str,
    /// The spec tag.
    pub tag: &'static str,
    /// For a per-action call, the action key (`os-reset_status`).
    pub action: Option<&'static str>,
    /// The lowest microversion that has the operation (`None`: the base).
    pub min_microversion: Option<Microversion>,
    /// Query parameters that need a higher microversion than the operation.
    pub gated_query: &'static [(&'static str, Microversion)],
    /// Request-body properties that only some microversions accept.
    pub gated_body: &'static [BodyGate],
}

impl OperationMeta {
    /// Whether its HTTP method makes it idempotent (GET, HEAD, PUT, DELETE,
    /// OPTIONS): sending it twice does what sending it once does. A POST
    /// action that is idempotent too is named in the
    /// [`RetryPolicy`](crate::retry::RetryPolicy).
    pub fn is_idempotent(&self) -> bool {
        matches!(self.method, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS")
    }
}

/// A request-body property (or some of its values) that only a range of
/// microversions accepts (generated from the spec's
/// `x-openstack-min-microversion`, `x-openstack-max-microversion` and
/// `x-openstack-max-microversion-values` on request-body properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyGate {
    /// The property's JSON pointer in the body; `*` matches every element
    /// of an array or every value of a map (`/backup/metadata`).
    pub pointer: &'static str,
    /// The lowest microversion that accepts it (`None`: the operation's).
    pub min: Option<Microversion>,
    /// The highest microversion that accepts it (`None`: no upper bound).
    pub max: Option<Microversion>,
    /// The values (JSON text, `false`) the upper bound applies to; empty:
    /// every value.
    pub max_values: &'static [&'static str],
}

/// What a generated call tells the hooks about itself: its row of the
/// service's operation table (the generator writes the row in place of
/// progenitor's method name, so that no call looks itself up by name), and
/// the microversion-gated body properties its typed body sets (found by
/// code the generator emits per operation, before the body is written: the
/// checks never read the JSON back).
#[derive(Debug, Clone)]
pub struct OperationInfo {
    /// The call's row: its method name, its spec `operationId`, its route
    /// and microversion gates. For an action sent through its `…/action`
    /// operation, the action's own row.
    pub operation: &'static OperationMeta,
    /// The row's gated body properties the body sets.
    pub gated: Vec<SetProperty>,
}

impl OperationInfo {
    /// A call of `operation` whose body sets no gated property.
    pub const fn new(operation: &'static OperationMeta) -> Self {
        Self { operation, gated: Vec::new() }
    }
}

/// A gated body property a call's body sets: found on the typed body by
/// the code the generator emits for the operation (the checks never read
/// the JSON body back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetProperty {
    /// Its gate: an index into the row's `gated_body`.
    pub gate: usize,
    /// Its concrete JSON pointer in the body (`/thing/parts/1/tier`).
    pub pointer: String,
    /// The value, as JSON text, when it is one of the gate's `max_values`
    /// (the values the upper bound applies to).
    pub value: Option<&'static str>,
}

impl BodyGate {
    /// Whether `set` (a property of this gate's) is refused at `effective`,
    /// and what the refusal requires.
    fn refuses(&self, set: &SetProperty, effective: Microversion) -> Option<(Requirement, Option<String>)> {
        if let Some(min) = self.min.filter(|min| effective < *min) {
            return Some((Requirement::AtLeast(min), None));
        }
        let max = self.max.filter(|max| effective > *max)?;
        match (self.max_values.is_empty(), set.value) {
            (true, _) => Some((Requirement::AtMost(max), None)),
            (false, Some(value)) => Some((Requirement::AtMost(max), Some(value.to_owned()))),
            (false, None) => None,
        }
    }
}

/// A service's identity and operation table (generated from the spec).
#[derive(Debug)]
pub struct ServiceInfo {
    /// The service's name in the crate and in configuration: its module,
    /// the key of endpoint overrides and microversion pins (`block_storage`).
    pub name: &'static str,
    /// The catalog service type (`block-storage`).
    pub service_type: &'static str,
    /// The catalog types to look for, in order of preference: the service
    /// type, then older aliases (`block-storage`, `volumev3`, `volume`).
    pub catalog_types: &'static [&'static str],
    /// The name in `OpenStack-API-Version` (`volume`), if the service has
    /// microversions.
    pub microversion_service: Option<&'static str>,
    /// The highest microversion the spec describes.
    pub max_microversion: Option<Microversion>,
    /// Every call, sorted by `method_name`.
    pub operations: &'static [OperationMeta],
}

impl ServiceInfo {
    /// The row of the call named `method_name`.
    pub fn operation(&self, method_name: &str) -> Option<&'static OperationMeta> {
        self.operations.binary_search_by(|op| op.method_name.cmp(method_name)).ok().map(|i| &self.operations[i])
    }

    /// The microversion a client sends when none is configured.
    pub fn base_microversion(&self) -> Option<Microversion> {
        self.max_microversion.map(|max| Microversion::new(max.major(), 0))
    }
}

/// Implemented by every generated client: what a session needs to make
/// one (the service's table, a constructor from parts) and the server's
/// microversion range from its version document.
pub trait ServiceClient: Sized + Send + Sync {
    /// The service's identity and operation table.
    fn service() -> &'static ServiceInfo;

    /// A client of `endpoint` (the catalog URL) over `http`, with `config`.
    fn with_parts(endpoint: &str, http: reqwest::Client, config: ClientConfig) -> Self;

    /// The server's microversion range (`min`, `max`, as the version
    /// document writes them) from the operation the spec names for version
    /// discovery; `None` for a service without microversions.
    ///
    /// # Errors
    /// The discovery call's error, or [`Error::Configuration`](crate::Error::Configuration)
    /// when the document lists no version.
    fn server_microversions(
        &self,
    ) -> impl std::future::Future<Output = Result<Option<(String, String)>, crate::Error>> + Send;
}

/// The microversion a client of `service` sends: the configured one, else
/// the service's base version (`None` for a service without microversions).
pub fn effective_microversion(config: &ClientConfig, service: &ServiceInfo) -> Option<Microversion> {
    service.microversion_service?;
    config.microversion().or_else(|| service.base_microversion())
}

/// Refuses a request the microversion `effective` cannot carry: the call
/// itself (for an action, the action's own row), a query parameter, or a
/// gated body property the call's body sets.
pub(crate) fn check_request(
    service: &ServiceInfo,
    info: &OperationInfo,
    request: &reqwest::Request,
    effective: Microversion,
) -> Result<(), MicroversionError> {
    let call = info.operation;
    let refuse = |gated, required| MicroversionError {
        service: service.service_type,
        operation: call.method_name,
        gated,
        required,
        configured: effective,
    };
    if let Some(required) = call.min_microversion.filter(|required| *required > effective) {
        return Err(refuse(Gated::Operation, Requirement::AtLeast(required)));
    }
    for (name, _) in request.url().query_pairs() {
        if let Some((parameter, required)) = call.gated_query.iter().find(|(p, _)| *p == name)
            && *required > effective
        {
            return Err(refuse(Gated::QueryParameter(parameter), Requirement::AtLeast(*required)));
        }
    }
    for set in &info.gated {
        let Some(gate) = call.gated_body.get(set.gate) else { continue };
        if let Some((required, value)) = gate.refuses(set, effective) {
            return Err(refuse(Gated::BodyProperty { pointer: set.pointer.clone(), value }, required));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    static TABLE: &[OperationMeta] = &[
        OperationMeta {
            method_name: "create_thing",
            operation_id: "createThing",
            method: "POST",
            path: "/things",
            tag: "things",
            action: None,
            min_microversion: None,
            gated_query: &[],
            gated_body: &[
                BodyGate {
                    pointer: "/thing/force",
                    min: None,
                    max: Some(Microversion::new(3, 65)),
                    max_values: &["false"],
                },
                BodyGate {
                    pointer: "/thing/parts/*/tier",
                    min: Some(Microversion::new(3, 43)),
                    max: None,
                    max_values: &[],
                },
                BodyGate { pointer: "/thing/a~1b", min: Some(Microversion::new(3, 10)), max: None, max_values: &[] },
            ],
        },
        OperationMeta {
            method_name: "extend_thing",
            operation_id: "extendThing",
            method: "POST",
            path: "/things/{id}/action",
            tag: "things",
            action: Some("os-extend"),
            min_microversion: Some(Microversion::new(3, 20)),
            gated_query: &[],
            gated_body: &[BodyGate {
                pointer: "/os-extend/online",
                min: Some(Microversion::new(3, 42)),
                max: None,
                max_values: &[],
            }],
        },
        OperationMeta {
            method_name: "thing_action",
            operation_id: "thingAction",
            method: "POST",
            path: "/things/{id}/action",
            tag: "things",
            action: None,
            min_microversion: None,
            gated_query: &[],
            gated_body: &[],
        },
    ];
    static SERVICE: ServiceInfo = ServiceInfo {
        name: "things",
        service_type: "things",
        catalog_types: &["things"],
        microversion_service: Some("volume"),
        max_microversion: Some(Microversion::new(3, 71)),
        operations: TABLE,
    };

    /// The check of a call of `method_name` whose body sets `gated`
    /// (gate index, concrete pointer, matched value), at 3.`minor`.
    fn check_set(
        method_name: &str,
        gated: &[(usize, &str, Option<&'static str>)],
        minor: u16,
    ) -> Result<(), MicroversionError> {
        let info = OperationInfo {
            operation: SERVICE.operation(method_name).unwrap(),
            gated: gated
                .iter()
                .map(|(gate, pointer, value)| SetProperty {
                    gate: *gate,
                    pointer: (*pointer).to_owned(),
                    value: *value,
                })
                .collect(),
        };
        let request = reqwest::Request::new(reqwest::Method::POST, "http://h/v3/things".parse().unwrap());
        check_request(&SERVICE, &info, &request, Microversion::new(3, minor))
    }

    #[test]
    fn set_gated_properties_are_refused_outside_their_range() {
        let refused = |method_name, gated, minor| check_set(method_name, gated, minor).unwrap_err().to_string();
        assert!(check_set("create_thing", &[], 3).is_ok());
        assert_eq!(
            refused("create_thing", &[(1, "/thing/parts/1/tier", None)], 42),
            "create_thing: body property `/thing/parts/1/tier` needs microversion 3.43 or later; the client uses 3.42 (nothing was sent)"
        );
        assert!(check_set("create_thing", &[(1, "/thing/parts/0/tier", None)], 43).is_ok());
        // The upper bound applies to the listed values only.
        assert!(check_set("create_thing", &[(0, "/thing/force", None)], 66).is_ok());
        assert!(check_set("create_thing", &[(0, "/thing/force", Some("false"))], 65).is_ok());
        assert_eq!(
            refused("create_thing", &[(0, "/thing/force", Some("false"))], 66),
            "create_thing: body property `/thing/force` = false needs microversion 3.65 or earlier; the client uses 3.66 (nothing was sent)"
        );
        assert_eq!(
            check_set("create_thing", &[(2, "/thing/a~1b", None)], 9).unwrap_err().gated,
            Gated::BodyProperty { pointer: "/thing/a~1b".into(), value: None }
        );
    }

    #[test]
    fn an_action_is_checked_against_its_own_row() {
        let err = check_set("extend_thing", &[], 19).unwrap_err();
        assert_eq!((err.operation, err.gated.clone()), ("extend_thing", Gated::Operation));
        assert_eq!(err.required, Requirement::AtLeast(Microversion::new(3, 20)));
        let err = check_set("extend_thing", &[(0, "/os-extend/online", None)], 41).unwrap_err();
        assert_eq!(
            err.to_string(),
            "extend_thing: body property `/os-extend/online` needs microversion 3.42 or later; the client uses 3.41 (nothing was sent)"
        );
        assert!(check_set("extend_thing", &[(0, "/os-extend/online", None)], 42).is_ok());
        // The endpoint's own row has no gates.
        assert!(check_set("thing_action", &[], 3).is_ok());
    }
}
