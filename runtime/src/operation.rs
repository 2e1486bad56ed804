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

impl BodyGate {
    /// The first set (present and not null) value of `body` this gate
    /// refuses at `effective`.
    fn check(
        &self,
        service: &'static str,
        operation: &'static str,
        body: &serde_json::Value,
        effective: Microversion,
    ) -> Option<MicroversionError> {
        let tokens: Vec<&str> = self.pointer.split('/').skip(1).collect();
        let mut found = Vec::new();
        values_at(body, &tokens, String::new(), &mut found);
        for (pointer, value) in found.into_iter().filter(|(_, v)| !v.is_null()) {
            let refused = |required: Requirement, value: Option<String>| MicroversionError {
                service,
                operation,
                gated: Gated::BodyProperty { pointer: pointer.clone(), value },
                required,
                configured: effective,
            };
            if let Some(min) = self.min.filter(|min| effective < *min) {
                return Some(refused(Requirement::AtLeast(min), None));
            }
            if let Some(max) = self.max.filter(|max| effective > *max) {
                let text = value.to_string();
                if self.max_values.is_empty() {
                    return Some(refused(Requirement::AtMost(max), None));
                }
                if self.max_values.contains(&text.as_str()) {
                    return Some(refused(Requirement::AtMost(max), Some(text)));
                }
            }
        }
        None
    }
}

/// Every value at `tokens` (JSON-pointer tokens, `*` for every element or
/// map value) below `value`, with its concrete pointer.
fn values_at<'v>(
    value: &'v serde_json::Value,
    tokens: &[&str],
    at: String,
    out: &mut Vec<(String, &'v serde_json::Value)>,
) {
    use serde_json::Value;
    let escape = |t: &str| t.replace('~', "~0").replace('/', "~1");
    match tokens.split_first() {
        None => out.push((at, value)),
        Some((&"*", rest)) => match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    values_at(item, rest, format!("{at}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    values_at(item, rest, format!("{at}/{}", escape(key)), out);
                }
            }
            _ => {}
        },
        Some((token, rest)) => {
            let key = token.replace("~1", "/").replace("~0", "~");
            if let Some(item) = value.as_object().and_then(|map| map.get(&key)) {
                values_at(item, rest, format!("{at}/{token}"), out);
            }
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

    /// The row of the action `key` of the `…/action` operation `endpoint`.
    pub(crate) fn action(&self, endpoint: &OperationMeta, key: &str) -> Option<&'static OperationMeta> {
        self.operations
            .iter()
            .find(|op| op.action == Some(key) && op.path == endpoint.path && op.method == endpoint.method)
    }

    /// Whether `op` is an `…/action` operation with typed actions.
    pub(crate) fn has_actions(&self, op: &OperationMeta) -> bool {
        op.action.is_none()
            && self.operations.iter().any(|a| a.action.is_some() && a.path == op.path && a.method == op.method)
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
/// itself (for an `…/action` operation, the action the body names), a query
/// parameter, or a set request-body property (or value).
pub(crate) fn check_request(
    service: &ServiceInfo,
    op: &'static OperationMeta,
    request: &reqwest::Request,
    effective: Microversion,
) -> Result<(), MicroversionError> {
    let body: Option<serde_json::Value> = if !op.gated_body.is_empty() || service.has_actions(op) {
        request.body().and_then(reqwest::Body::as_bytes).and_then(|bytes| serde_json::from_slice(bytes).ok())
    } else {
        None
    };
    // Only an `…/action` operation's one-key body names an action.
    let action_key = body
        .as_ref()
        .filter(|_| service.has_actions(op))
        .and_then(|b| b.as_object())
        .filter(|m| m.len() == 1)
        .and_then(|m| m.keys().next());
    let call = action_key.and_then(|key| service.action(op, key)).unwrap_or(op);

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
        if let Some((parameter, required)) = op.gated_query.iter().find(|(p, _)| *p == name)
            && *required > effective
        {
            return Err(refuse(Gated::QueryParameter(parameter), Requirement::AtLeast(*required)));
        }
    }
    if let Some(body) = &body {
        for gate in call.gated_body {
            if let Some(refused) = gate.check(service.service_type, call.method_name, body, effective) {
                return Err(refused);
            }
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

    fn check_body(method_name: &str, body: serde_json::Value, minor: u16) -> Result<(), MicroversionError> {
        let op = SERVICE.operation(method_name).unwrap();
        let mut request = reqwest::Request::new(reqwest::Method::POST, "http://h/v3/things".parse().unwrap());
        *request.body_mut() = Some(serde_json::to_vec(&body).unwrap().into());
        check_request(&SERVICE, op, &request, Microversion::new(3, minor))
    }

    #[test]
    fn body_gates_look_at_set_values_at_any_depth() {
        use serde_json::json;
        let refused = |method_name, body, minor| check_body(method_name, body, minor).unwrap_err().to_string();
        assert!(check_body("create_thing", json!({"thing": {"parts": [{"size": 1}, {"tier": null}]}}), 3).is_ok());
        assert_eq!(
            refused("create_thing", json!({"thing": {"parts": [{"size": 1}, {"tier": "gold"}]}}), 42),
            "create_thing: body property `/thing/parts/1/tier` needs microversion 3.43 or later; the client uses 3.42 (nothing was sent)"
        );
        assert!(check_body("create_thing", json!({"thing": {"parts": [{"tier": "gold"}]}}), 43).is_ok());
        assert!(check_body("create_thing", json!({"thing": {"force": true}}), 66).is_ok());
        assert!(check_body("create_thing", json!({"thing": {"force": false}}), 65).is_ok());
        assert_eq!(
            refused("create_thing", json!({"thing": {"force": false}}), 66),
            "create_thing: body property `/thing/force` = false needs microversion 3.65 or earlier; the client uses 3.66 (nothing was sent)"
        );
        assert_eq!(
            check_body("create_thing", json!({"thing": {"a/b": 1}}), 9).unwrap_err().gated,
            Gated::BodyProperty { pointer: "/thing/a~1b".into(), value: None }
        );
    }

    #[test]
    fn an_action_body_is_checked_as_its_action() {
        use serde_json::json;
        let err = check_body("thing_action", json!({"os-extend": {"new_size": 2}}), 19).unwrap_err();
        assert_eq!((err.operation, err.gated.clone()), ("extend_thing", Gated::Operation));
        assert_eq!(err.required, Requirement::AtLeast(Microversion::new(3, 20)));
        let err = check_body("thing_action", json!({"os-extend": {"new_size": 2, "online": true}}), 41).unwrap_err();
        assert_eq!(
            err.to_string(),
            "extend_thing: body property `/os-extend/online` needs microversion 3.42 or later; the client uses 3.41 (nothing was sent)"
        );
        assert!(check_body("thing_action", json!({"os-extend": {"new_size": 2, "online": true}}), 42).is_ok());
        // An action the table does not know is the server's to judge.
        assert!(check_body("thing_action", json!({"os-other": {}}), 3).is_ok());
    }
}
