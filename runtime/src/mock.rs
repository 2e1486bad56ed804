//! The engine of the generated typed mocks (feature `mock`): what each
//! generated `<service>::mock::<operation>` function builds on. A test
//! mounts the [`Mock`] it returns on a [`MockServer`] (both wiremock's)
//! and points a client at the server.
//!
//! A [`When`] matches one operation of the operation table: its HTTP
//! method, its path template (after whatever prefix the endpoint has: the
//! `/v3/<project>` of a Cinder endpoint; a service-root route after a
//! prefix without a version segment), the action key of an action call,
//! and what the test adds: path parameters, query parameters (present with
//! a value, or absent), the exact JSON body, the microversion header. A
//! request that a more specific route of the service also matches
//! (`/backups/detail` for `/backups/{backup_id}`, Trove's
//! `/instances/{id}/backups` for `/backups`) is left to that route. Mount
//! each service's mocks on a server of its own: routes are told apart
//! within a service's table, not across services.
//!
//! A [`Then`] answers: the operation's success status (by default, without
//! a body), a typed body, a fault in the OpenStack shape
//! (`{"itemNotFound": {"code": 404, "message": …}}`), the microversion and
//! request-id headers, a delay, and for a paged list the next link, made
//! from the request's own URL with the marker replaced.

use std::time::Duration;

use serde_json::Value;
use wiremock::{Match, Request, Respond, ResponseTemplate};

pub use wiremock::{Mock, MockGuard, MockServer};

use crate::{OperationMeta, ServiceInfo};

/// What a request must be to match a mocked operation.
#[derive(Clone)]
pub struct When {
    service: &'static ServiceInfo,
    operation: &'static OperationMeta,
    path: Vec<(&'static str, String)>,
    query: Vec<(&'static str, Option<String>)>,
    body: Option<Value>,
    microversion: Option<String>,
    headers: Vec<(String, String)>,
}

impl When {
    /// A match of `operation`, a row of `service`'s table. Generated
    /// code's constructor.
    #[doc(hidden)]
    pub fn new(service: &'static ServiceInfo, operation: &'static OperationMeta) -> Self {
        Self {
            service,
            operation,
            path: Vec::new(),
            query: Vec::new(),
            body: None,
            microversion: None,
            headers: Vec::new(),
        }
    }

    /// The path parameter `name` must be `value` (compared decoded).
    #[doc(hidden)]
    pub fn path_param(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.path.retain(|(n, _)| *n != name);
        self.path.push((name, value.to_owned()));
        self
    }

    /// The query parameter `name` must be `value`, or absent for `None`.
    #[doc(hidden)]
    pub fn query_param(&mut self, name: &'static str, value: Option<String>) -> &mut Self {
        self.query.retain(|(n, _)| *n != name);
        self.query.push((name, value));
        self
    }

    /// The request body must be this JSON (for an action: its argument,
    /// under the action key).
    #[doc(hidden)]
    ///
    /// # Panics
    /// When `value` does not serialise (a test's own mistake), naming the
    /// operation.
    pub fn json_body<T: serde::Serialize>(&mut self, value: &T) -> &mut Self {
        let value = to_json(value, self.operation.method_name);
        self.body = Some(match self.operation.action {
            Some(key) => serde_json::json!({ key: value }),
            None => value,
        });
        self
    }

    /// The request must carry `OpenStack-API-Version: <service> <version>`
    /// (`"3.64"`).
    ///
    /// # Panics
    /// For a service without microversions (Trove, Keystone): no request
    /// of its could match.
    pub fn microversion(&mut self, version: impl std::fmt::Display) -> &mut Self {
        assert!(
            self.service.microversion_service.is_some(),
            "{}: the {} service has no microversions, so no request can match one",
            self.operation.method_name,
            self.service.service_type
        );
        self.microversion = Some(version.to_string());
        self
    }

    /// The request must carry the header `name` with `value`.
    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        self.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Whether `request` is a call of this operation as the test
    /// described it.
    fn matches(&self, request: &Request) -> bool {
        let op = self.operation;
        if request.method.as_str() != op.method {
            return false;
        }
        let path = request.url.path();
        let Some(values) = route_values(path, op.path) else { return false };
        let body: Option<Value> = serde_json::from_slice(&request.body).ok();
        if let Some(key) = op.action {
            let one_key = body.as_ref().and_then(Value::as_object).filter(|o| o.len() == 1);
            if !one_key.is_some_and(|o| o.contains_key(key)) {
                return false;
            }
        }
        // A more specific route of the service takes the request.
        let specificity = |route: &str| {
            let segments: Vec<&str> = route.trim_end_matches('/').split('/').skip(1).collect();
            (segments.len(), segments.iter().filter(|s| !s.starts_with('{')).count())
        };
        let mine = specificity(op.path);
        let taken = self.service.operations.iter().any(|other| {
            other.method == op.method
                && other.path != op.path
                && specificity(other.path) > mine
                && route_values(path, other.path).is_some()
        });
        if taken {
            return false;
        }
        if !self.path.iter().all(|(name, want)| values.iter().any(|(n, v)| n == name && v == want)) {
            return false;
        }
        let pairs: Vec<(String, String)> =
            request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let query_ok = self.query.iter().all(|(name, want)| match want {
            Some(want) => pairs.iter().any(|(k, v)| k == name && v == want),
            None => !pairs.iter().any(|(k, _)| k == name),
        });
        if !query_ok {
            return false;
        }
        if let Some(want) = &self.body
            && body.as_ref() != Some(want)
        {
            return false;
        }
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        if let (Some(version), Some(service)) = (&self.microversion, self.service.microversion_service) {
            let want = format!("{service} {version}");
            if header("openstack-api-version") != Some(want.as_str()) {
                return false;
            }
        }
        self.headers.iter().all(|(name, value)| header(name) == Some(value.as_str()))
    }
}

/// The values of a route's parameters in `path` (percent-decoded), when
/// `path` is the route after any prefix. A service-root route (`/`,
/// `/v3/`: it ends with `/`) is matched after a prefix without a version
/// segment only (`/volume/` for the endpoint `https://cloud/volume/v3/…`).
fn route_values(path: &str, route: &str) -> Option<Vec<(String, String)>> {
    if route.ends_with('/') {
        let prefix = path.strip_suffix(route)?;
        let versioned = prefix
            .split('/')
            .any(|s| s.strip_prefix('v').is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit())));
        return (!versioned).then(Vec::new);
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let template: Vec<&str> = route.split('/').skip(1).collect();
    if template.len() >= segments.len() {
        return None;
    }
    let tail = &segments[segments.len() - template.len()..];
    let mut values = Vec::new();
    for (t, s) in template.iter().zip(tail) {
        let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) => values.push((name.to_owned(), decoded.into_owned())),
            None if *t == decoded => {}
            None => return None,
        }
    }
    Some(values)
}

/// `value` as JSON; a value that does not serialise is the test's own
/// mistake, said with the operation.
fn to_json<T: serde::Serialize>(value: &T, operation: &str) -> Value {
    match serde_json::to_value(value) {
        Ok(v) => v,
        Err(e) => panic!("mock of {operation}: the value does not serialise as JSON: {e}"),
    }
}

/// Names and whether set, never values: a body or a header may hold a
/// password or a token.
impl std::fmt::Debug for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("When")
            .field("operation", &self.operation.method_name)
            .field("path", &self.path.iter().map(|(n, _)| *n).collect::<Vec<_>>())
            .field("query", &self.query.iter().map(|(n, _)| *n).collect::<Vec<_>>())
            .field("body", &self.body.is_some())
            .field("microversion", &self.microversion)
            .field("headers", &self.headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

/// How a mocked operation answers.
#[derive(Clone)]
pub struct Then {
    operation: &'static str,
    microversion_service: Option<&'static str>,
    status: u16,
    body: Option<Value>,
    headers: Vec<(String, String)>,
    delay: Option<Duration>,
    /// For a paged list: the next-link array's property, and the marker
    /// of the next page.
    next: Option<(&'static str, String)>,
}

impl Then {
    /// An answer of `operation` of `service` with `status` and no body
    /// (the operation's success status is the generated default).
    /// Generated code's constructor.
    #[doc(hidden)]
    pub fn new(service: &'static ServiceInfo, operation: &'static OperationMeta, status: u16) -> Self {
        Self {
            operation: operation.method_name,
            microversion_service: service.microversion_service,
            status,
            body: None,
            headers: Vec::new(),
            delay: None,
            next: None,
        }
    }

    /// Answers `status` with `value` as JSON.
    #[doc(hidden)]
    pub fn json<T: serde::Serialize>(&mut self, status: u16, value: &T) -> &mut Self {
        self.status = status;
        self.body = Some(to_json(value, self.operation));
        self
    }

    /// Answers a paged list with a next link to the page after `marker`:
    /// the request's URL with `marker` set, in the `links` property of the
    /// body (set the body first: `ok(&list)`, then `next_page`).
    #[doc(hidden)]
    pub fn next_page_in(&mut self, links: &'static str, marker: &str) -> &mut Self {
        self.next = Some((links, marker.to_owned()));
        self
    }

    /// Answers `status` without a body.
    pub fn status(&mut self, status: u16) -> &mut Self {
        self.status = status;
        self.body = None;
        self
    }

    /// Answers `status` with an OpenStack fault body:
    /// `{"<name>": {"code": <status>, "message": "<message>"}}` (the shape
    /// Cinder and Trove send: `itemNotFound`, `badRequest`, `overLimit`,
    /// …).
    pub fn fault(&mut self, status: u16, name: &str, message: &str) -> &mut Self {
        self.status = status;
        self.body = Some(serde_json::json!({ name: { "code": status, "message": message } }));
        self
    }

    /// Answers with `OpenStack-API-Version: <service> <version>` (`"3.64"`;
    /// the service's name in the header is the operation's).
    ///
    /// # Panics
    /// For a service without microversions (Trove, Keystone).
    pub fn microversion(&mut self, version: impl std::fmt::Display) -> &mut Self {
        let Some(service) = self.microversion_service else {
            panic!("{}: the service has no microversions to answer with", self.operation)
        };
        self.header("openstack-api-version", &format!("{service} {version}"))
    }

    /// Answers with `X-OpenStack-Request-Id: <id>`.
    pub fn request_id(&mut self, id: &str) -> &mut Self {
        self.header("x-openstack-request-id", id)
    }

    /// Answers with the header `name`: `value`.
    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answers after `delay`.
    pub fn delay(&mut self, delay: Duration) -> &mut Self {
        self.delay = Some(delay);
        self
    }
}

/// Status and header names, never values or the body.
impl std::fmt::Debug for Then {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Then")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("body", &self.body.is_some())
            .field("headers", &self.headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
            .field("delay", &self.delay)
            .field("next_page", &self.next.is_some())
            .finish()
    }
}

struct Matcher(When);

impl Match for Matcher {
    fn matches(&self, request: &Request) -> bool {
        self.0.matches(request)
    }
}

struct Responder(Then);

impl Responder {
    /// The body for `request`: the set body, with the next link made from
    /// the request's URL.
    fn body(&self, request: &Request) -> Option<Value> {
        let mut body = self.0.body.clone();
        if let (Some((links, marker)), Some(Value::Object(map))) = (&self.0.next, body.as_mut()) {
            let mut next = request.url.clone();
            // The request's URL names the host without its port: the
            // `Host` header has both.
            if let Some(host) = request.headers.get("host").and_then(|h| h.to_str().ok()) {
                match host.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
                    Some((h, Ok(port))) => {
                        let _ = next.set_host(Some(h));
                        let _ = next.set_port(Some(port));
                    }
                    _ => {
                        let _ = next.set_host(Some(host));
                    }
                }
            }
            let kept: Vec<(String, String)> = next
                .query_pairs()
                .filter(|(k, _)| k != "marker")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            next.query_pairs_mut().clear().extend_pairs(kept).append_pair("marker", marker);
            map.insert((*links).to_owned(), serde_json::json!([{"rel": "next", "href": next.as_str()}]));
        }
        body
    }
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let then = &self.0;
        let mut template = ResponseTemplate::new(then.status);
        for (name, value) in &then.headers {
            template = template.insert_header(name.as_str(), value.as_str());
        }
        if let Some(delay) = then.delay {
            template = template.set_delay(delay);
        }
        match self.body(request) {
            Some(body) => template.set_body_raw(body.to_string(), "application/json"),
            None => template,
        }
    }
}

/// The mock of `when` answered by `then`, named for its operation (so
/// that `verify` says which mock's expectation failed). Generated code's
/// last step.
#[doc(hidden)]
pub fn mock(when: When, then: Then) -> Mock {
    let name = when.operation.method_name;
    Mock::given(Matcher(when)).respond_with(Responder(then)).named(name)
}

/// A query value as the client sends it: a string as is, any other value
/// (number, boolean) as its JSON text.
#[doc(hidden)]
pub fn query_text<T: serde::Serialize>(value: &T) -> String {
    match to_json(value, "a query parameter") {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_after_any_prefix_and_decode_their_values() {
        let values =
            route_values("/v3/p1/snapshots/s1/metadata/a%20key%2Fx", "/snapshots/{snapshot_id}/metadata/{key}");
        let values = values.unwrap();
        assert_eq!(values, [("snapshot_id".to_owned(), "s1".to_owned()), ("key".to_owned(), "a key/x".to_owned())]);
        assert!(route_values("/v3/p1/backups", "/backups/{backup_id}").is_none());
        assert!(route_values("/v3/p1/volumes/v1", "/backups/{backup_id}").is_none());
        assert!(route_values("/backups/b1", "/backups/{backup_id}").is_some(), "an endpoint without a path");
        assert!(route_values("/v3/p1/backups/%FF", "/backups/{backup_id}").is_none(), "not UTF-8");
    }

    /// Service-root routes: after a prefix without a version segment only.
    #[test]
    fn root_routes_match_after_an_unversioned_prefix() {
        assert_eq!(route_values("/", "/"), Some(Vec::new()));
        assert_eq!(route_values("/volume/", "/"), Some(Vec::new()));
        assert_eq!(route_values("/volume/v3/", "/v3/"), Some(Vec::new()));
        assert!(route_values("/v3/", "/").is_none());
        assert!(route_values("/v3/p1/backups/", "/").is_none());
        assert!(route_values("/v3", "/v3/").is_none());
    }

    #[test]
    fn query_values_read_as_the_client_writes_them() {
        assert_eq!(query_text(&"name:asc"), "name:asc");
        assert_eq!(query_text(&10u64), "10");
        assert_eq!(query_text(&true), "true");
    }

    static LIST: OperationMeta = OperationMeta {
        method_name: "list_things",
        operation_id: "listThings",
        method: "GET",
        path: "/things",
        tag: "things",
        action: None,
        min_microversion: None,
        gated_query: &[],
        gated_body: &[],
    };
    static SERVICE: ServiceInfo = ServiceInfo {
        name: "things",
        service_type: "things",
        catalog_types: &["things"],
        microversion_service: Some("thing"),
        max_microversion: None,
        operations: std::slice::from_ref(&LIST),
    };

    const fn get(method_name: &'static str, path: &'static str) -> OperationMeta {
        OperationMeta {
            method_name,
            operation_id: method_name,
            method: "GET",
            path,
            tag: "things",
            action: None,
            min_microversion: None,
            gated_query: &[],
            gated_body: &[],
        }
    }
    static ROUTES: [OperationMeta; 3] = [
        get("show_thing", "/things/{thing_id}"),
        get("list_things_detail", "/things/detail"),
        get("latest", "/{kind}/latest"),
    ];
    static ROUTED: ServiceInfo = ServiceInfo {
        name: "things",
        service_type: "things",
        catalog_types: &["things"],
        microversion_service: None,
        max_microversion: None,
        operations: &ROUTES,
    };

    fn get_request(path: &str) -> Request {
        Request {
            url: format!("http://localhost/v1/p1{path}").parse().unwrap(),
            method: wiremock::http::Method::GET,
            headers: wiremock::http::HeaderMap::new(),
            body: Vec::new(),
        }
    }

    /// A route with more static segments takes its requests from a route
    /// with a parameter there; two routes as specific as each other both
    /// match (neither is the other's special case).
    #[test]
    fn the_more_specific_route_takes_the_request() {
        let [show, detail, latest] = &ROUTES;
        let matches = |op: &'static OperationMeta, path: &str| When::new(&ROUTED, op).matches(&get_request(path));
        assert!(matches(detail, "/things/detail") && !matches(show, "/things/detail"));
        assert!(matches(show, "/things/t1") && !matches(detail, "/things/t1"));
        assert!(matches(show, "/things/latest") && matches(latest, "/things/latest"), "as specific as each other");
    }

    /// A header the test asks for must be on the request with that value.
    #[test]
    fn a_header_must_be_sent_with_its_value() {
        let mut when = When::new(&ROUTED, &ROUTES[0]);
        when.header("X-Trace", "t1");
        let mut request = get_request("/things/t1");
        assert!(!when.matches(&request), "no header");
        request.headers.insert("x-trace", "t2".parse().unwrap());
        assert!(!when.matches(&request), "another value");
        request.headers.insert("x-trace", "t1".parse().unwrap());
        assert!(when.matches(&request));
    }

    /// `Debug` of a mock names what is set, and no query, body or header
    /// value: a body or a header may hold a password or a token.
    #[test]
    fn debug_names_what_is_set_and_no_value() {
        let mut when = When::new(&SERVICE, &LIST);
        when.query_param("name", Some("q-VALUE".to_owned()))
            .json_body(&serde_json::json!({"auth": {"password": "p-SECRET"}}))
            .microversion("3.60")
            .header("X-Auth-Token", "t-SECRET");
        assert_eq!(
            format!("{when:?}"),
            r#"When { operation: "list_things", path: [], query: ["name"], body: true, microversion: Some("3.60"), headers: ["x-auth-token"] }"#
        );
        let mut then = Then::new(&SERVICE, &LIST, 200);
        then.json(201, &serde_json::json!({"token": "t-SECRET"}))
            .header("X-Subject-Token", "t-SECRET")
            .delay(Duration::from_millis(5))
            .next_page_in("things_links", "m-VALUE");
        assert_eq!(
            format!("{then:?}"),
            r#"Then { operation: "list_things", status: 201, body: true, headers: ["X-Subject-Token"], delay: Some(5ms), next_page: true }"#
        );
    }

    /// The next link is the request's own URL (host and port from `Host`,
    /// its other parameters kept) with the marker replaced.
    #[test]
    fn next_links_are_the_requests_url_with_the_next_marker() {
        let mut then = Then::new(&SERVICE, &LIST, 200);
        then.json(200, &serde_json::json!({"things": []})).next_page_in("things_links", "m2");
        let mut headers = wiremock::http::HeaderMap::new();
        headers.insert("host", "127.0.0.1:4321".parse().unwrap());
        let request = Request {
            url: "http://localhost/v1/p1/things?limit=2&marker=m1&sort=name%20x".parse().unwrap(),
            method: wiremock::http::Method::GET,
            headers,
            body: Vec::new(),
        };
        let body = Responder(then).body(&request).unwrap();
        assert_eq!(
            body["things_links"],
            serde_json::json!([{"rel": "next", "href": "http://127.0.0.1:4321/v1/p1/things?limit=2&sort=name+x&marker=m2"}])
        );
    }
}
