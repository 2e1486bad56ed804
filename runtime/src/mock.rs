//! The engine of the generated typed mocks (feature `mock`): what each
//! generated `<service>::mock::<operation>` function builds on. A test
//! mounts the [`Mock`] it returns on a [`MockServer`] (both wiremock's)
//! and points a client at the server.
//!
//! A [`When`] matches one operation of the operation table: its HTTP
//! method, its path template (after whatever prefix the endpoint has: the
//! `/v3/<project>` of a Cinder endpoint), the action key of an action call,
//! and what the test adds: path parameters, query parameters (present with
//! a value, or absent), the exact JSON body, the microversion header. A
//! path that a more specific route of the same method also matches
//! (`/backups/detail` for `/backups/{backup_id}`) is left to that route.
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
#[derive(Debug, Clone)]
pub struct When {
    operation: &'static OperationMeta,
    microversion_service: Option<&'static str>,
    /// Routes of the same method that also match some paths this one
    /// matches, and take them (their literal segment stands where this
    /// route has a parameter).
    shadowed_by: &'static [&'static str],
    /// The route is the service root's (`/`, `/v3/`): matched whole.
    root: bool,
    path: Vec<(&'static str, String)>,
    query: Vec<(&'static str, Option<String>)>,
    body: Option<Value>,
    microversion: Option<String>,
    headers: Vec<(String, String)>,
}

impl When {
    /// A match of `operation` (a row of `service`'s table); `shadowed_by`
    /// lists the more specific routes of the same method, `root` says the
    /// route is on the service root. Generated code's constructor.
    #[doc(hidden)]
    pub fn new(
        service: &'static ServiceInfo,
        operation: &'static OperationMeta,
        shadowed_by: &'static [&'static str],
        root: bool,
    ) -> Self {
        Self {
            operation,
            microversion_service: service.microversion_service,
            shadowed_by,
            root,
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
    pub fn json_body<T: serde::Serialize>(&mut self, value: &T) -> &mut Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.body = Some(match self.operation.action {
            Some(key) => serde_json::json!({ key: value }),
            None => value,
        });
        self
    }

    /// The request must carry `OpenStack-API-Version: <service> <version>`
    /// (`"3.64"`).
    pub fn microversion(&mut self, version: impl std::fmt::Display) -> &mut Self {
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
        let Some(values) = route_values(request.url.path(), op.path, self.root) else { return false };
        if self.shadowed_by.iter().any(|route| route_values(request.url.path(), route, false).is_some()) {
            return false;
        }
        if !self.path.iter().all(|(name, want)| values.iter().any(|(n, v)| n == name && v == want)) {
            return false;
        }
        let pairs: Vec<(String, String)> = request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let query_ok = self.query.iter().all(|(name, want)| match want {
            Some(want) => pairs.iter().any(|(k, v)| k == name && v == want),
            None => !pairs.iter().any(|(k, _)| k == name),
        });
        if !query_ok {
            return false;
        }
        if let Some(key) = op.action {
            let body: Option<Value> = serde_json::from_slice(&request.body).ok();
            let one_key = body.as_ref().and_then(Value::as_object).filter(|o| o.len() == 1);
            if !one_key.is_some_and(|o| o.contains_key(key)) {
                return false;
            }
        }
        if let Some(want) = &self.body
            && serde_json::from_slice::<Value>(&request.body).ok().as_ref() != Some(want)
        {
            return false;
        }
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(version) = &self.microversion {
            let want = match self.microversion_service {
                Some(service) => format!("{service} {version}"),
                None => version.clone(),
            };
            if header("openstack-api-version") != Some(want.as_str()) {
                return false;
            }
        }
        self.headers.iter().all(|(name, value)| header(name) == Some(value.as_str()))
    }
}

/// The values of a route's parameters in `path` (percent-decoded), when
/// `path` is the route after any prefix (or exactly the route, for a root
/// route).
fn route_values(path: &str, route: &str, root: bool) -> Option<Vec<(String, String)>> {
    if root {
        return (path == route).then(Vec::new);
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let template: Vec<&str> = route.trim_end_matches('/').split('/').skip(1).collect();
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

/// How a mocked operation answers.
#[derive(Debug, Clone)]
pub struct Then {
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
    /// An answer of an operation of `service` with `status` and no body
    /// (the operation's success status is the generated default).
    /// Generated code's constructor.
    #[doc(hidden)]
    pub fn new(service: &'static ServiceInfo, status: u16) -> Self {
        Self {
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
        self.body = Some(serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    /// Answers a paged list with a next link to the page after `marker`:
    /// the request's URL with `marker` set, in the `links` property.
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
    pub fn microversion(&mut self, version: impl std::fmt::Display) -> &mut Self {
        let value = match self.microversion_service {
            Some(service) => format!("{service} {version}"),
            None => version.to_string(),
        };
        self.header("openstack-api-version", &value)
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

struct Matcher(When);

impl Match for Matcher {
    fn matches(&self, request: &Request) -> bool {
        self.0.matches(request)
    }
}

struct Responder(Then);

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
        let mut body = then.body.clone();
        if let (Some((links, marker)), Some(Value::Object(map))) = (&then.next, body.as_mut()) {
            let mut next = request.url.clone();
            let kept: Vec<(String, String)> =
                next.query_pairs().filter(|(k, _)| k != "marker").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            next.query_pairs_mut().clear().extend_pairs(kept).append_pair("marker", marker);
            map.insert((*links).to_owned(), serde_json::json!([{"rel": "next", "href": next.as_str()}]));
        }
        match body {
            Some(body) => template.set_body_raw(body.to_string(), "application/json"),
            None => template,
        }
    }
}

/// The mock of `when` answered by `then` (generated code's last step).
#[doc(hidden)]
pub fn mock(when: When, then: Then) -> Mock {
    Mock::given(Matcher(when)).respond_with(Responder(then))
}

/// A query value as the client sends it: a string as is, any other value
/// (number, boolean) as its JSON text.
#[doc(hidden)]
pub fn query_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_after_any_prefix_and_decode_their_values() {
        let values = route_values("/v3/p1/snapshots/s1/metadata/a%20key%2Fx", "/snapshots/{snapshot_id}/metadata/{key}", false);
        let values = values.unwrap();
        assert_eq!(values, [("snapshot_id".to_owned(), "s1".to_owned()), ("key".to_owned(), "a key/x".to_owned())]);
        assert!(route_values("/v3/p1/backups", "/backups/{backup_id}", false).is_none());
        assert!(route_values("/v3/p1/volumes/v1", "/backups/{backup_id}", false).is_none());
        assert!(route_values("/backups/b1", "/backups/{backup_id}", false).is_some(), "an endpoint without a path");
        assert_eq!(route_values("/", "/", true), Some(Vec::new()));
        assert!(route_values("/v3/", "/", true).is_none());
        assert!(route_values("/v3/p1/backups/%FF", "/backups/{backup_id}", false).is_none(), "not UTF-8");
    }

    #[test]
    fn query_values_read_as_the_client_writes_them() {
        assert_eq!(query_text(&"name:asc"), "name:asc");
        assert_eq!(query_text(&10u64), "10");
        assert_eq!(query_text(&true), "true");
    }
}
