//! A decoded response, with what the server said about it: status,
//! headers, request id, microversion, and the operation it answers. (How a
//! `reqwest::Response` becomes one, or an error, is the `decode` module's.)

use std::fmt;

use reqwest::header::HeaderMap;

use crate::Microversion;

/// The request-id header every OpenStack service answers with.
pub const REQUEST_ID: &str = "x-openstack-request-id";
/// The legacy request-id header (same value) some responses carry instead.
const COMPUTE_REQUEST_ID: &str = "x-compute-request-id";

/// A successful (or error) response with its decoded body.
pub struct ResponseValue<T> {
    inner: T,
    status: reqwest::StatusCode,
    headers: HeaderMap,
    operation: &'static str,
}

impl<T> ResponseValue<T> {
    /// A value as if received; for tests and mocks.
    pub fn new(inner: T, status: reqwest::StatusCode, headers: HeaderMap) -> Self {
        Self { inner, status, headers, operation: "(constructed)" }
    }

    /// A value received as the answer of `operation`.
    pub(crate) fn received(inner: T, status: reqwest::StatusCode, headers: HeaderMap, operation: &'static str) -> Self {
        Self { inner, status, headers, operation }
    }

    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The HTTP status.
    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The server's request id (`req-…`), for support tickets and logs.
    pub fn request_id(&self) -> Option<&str> {
        request_id(&self.headers)
    }

    /// The operation (method name) this is the response of.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The microversion the server used, from `OpenStack-API-Version`.
    pub fn microversion(&self) -> Option<Microversion> {
        let value = self.headers.get("openstack-api-version")?.to_str().ok()?;
        value.split_whitespace().last()?.parse().ok()
    }
}

impl<T> std::ops::Deref for ResponseValue<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> std::ops::DerefMut for ResponseValue<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for ResponseValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(REQUEST_ID).or_else(|| headers.get(COMPUTE_REQUEST_ID))?.to_str().ok()
}

/// The first bytes of a body, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    clip(&String::from_utf8_lossy(body), 200)
}

/// `text` cut to `max` characters (with `…` when cut): server-controlled
/// text (a fault's name and message, a decoder's quote of a bad value, a
/// waiter's fail reason, Keystone's refusal, a request id) stays short in
/// an error whatever the server sends: errors keep it cut from the start,
/// and `Display` cuts what it reads of a kept response (the fault).
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    /// Whatever a server puts in the headers the client reads: no panic.
    #[test]
    fn response_headers_are_read_without_panics() {
        let with = |name: &'static str, value: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_bytes(value).unwrap());
            ResponseValue::new((), reqwest::StatusCode::OK, headers)
        };
        let version = |value: &[u8]| with("openstack-api-version", value).microversion();
        assert_eq!(version(b"volume 3.64"), Some(Microversion::new(3, 64)));
        assert_eq!(version(b"3.5"), Some(Microversion::new(3, 5)));
        for odd in [
            &b"volume 3.99999999"[..],
            b"volume",
            b"",
            b"volume 3.64 extra",
            b"volume -3.1",
            b"\xff 3.1",
            b"volume 1e9",
        ] {
            assert_eq!(version(odd), None, "{odd:?}");
        }
        assert_eq!(with(REQUEST_ID, b"req-1").request_id(), Some("req-1"));
        assert_eq!(with(REQUEST_ID, b"req-\xff").request_id(), None);
        assert_eq!(with(COMPUTE_REQUEST_ID, b"req-2").request_id(), Some("req-2"));
    }

    /// A response shows in `Debug` as the body it derefs to, and keeps its
    /// status and headers for the caller.
    #[test]
    fn a_response_shows_as_its_body_and_keeps_its_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("req-1"));
        let value = ResponseValue::new(vec!["b1"], reqwest::StatusCode::ACCEPTED, headers);
        assert_eq!(format!("{value:?}"), r#"["b1"]"#);
        assert_eq!(value.headers().get(REQUEST_ID).map(HeaderValue::as_bytes), Some(&b"req-1"[..]));
        assert_eq!(value.status(), reqwest::StatusCode::ACCEPTED);
    }

    #[test]
    fn excerpts_are_short_and_char_safe() {
        let long = "é".repeat(500);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), 201);
        assert_eq!(excerpt(b"<html>"), "<html>");
        assert_eq!(clip("ééé", 2), "éé…");
        assert_eq!(clip("ab", 2), "ab");
    }
}
