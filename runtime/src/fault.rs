//! The error body of OpenStack services, decoded leniently.

use serde_json::Value;

/// An error body as the server sent it.
///
/// Cinder (and Trove) send `{"<faultName>": {"code": 404, "message": "…"}}`;
/// Keystone's middleware `{"error": {"code", "title", "message"}}`; an
/// unknown route `{"message", "code": "404 Not Found", "title"}`. Every shape
/// decodes, nothing is dropped: the accessors read what is there and
/// [`body`](Self::body) keeps the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    body: Value,
}

impl Fault {
    /// A fault from a JSON body.
    pub fn new(body: Value) -> Self {
        Self { body }
    }

    /// The inner object of the one-key shape, if the body has that shape.
    fn detail(&self) -> Option<&serde_json::Map<String, Value>> {
        let map = self.body.as_object()?;
        if map.len() != 1 {
            return None;
        }
        map.values().next()?.as_object()
    }

    /// The fault name: `itemNotFound`, `badRequest`, `overLimit`, … (the
    /// body's one key); for Keystone's `{"error": {…}}` the `title` inside
    /// (`Unauthorized`); for the flat shape its `title`.
    pub fn name(&self) -> Option<&str> {
        match self.detail() {
            Some(detail) => {
                let key = self.body.as_object()?.keys().next().map(String::as_str)?;
                match detail.get("title").and_then(Value::as_str) {
                    Some(title) if key == "error" => Some(title),
                    _ => Some(key),
                }
            }
            None => self.body.get("title")?.as_str(),
        }
    }

    /// The server's message.
    pub fn message(&self) -> Option<&str> {
        match self.detail() {
            Some(detail) => detail.get("message")?.as_str(),
            None => self.body.get("message")?.as_str(),
        }
    }

    /// The HTTP status the body states (`404`, or the leading number of
    /// `"404 Not Found"`).
    pub fn code(&self) -> Option<u16> {
        let code = match self.detail() {
            Some(detail) => detail.get("code")?,
            None => self.body.get("code")?,
        };
        match code {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.split_whitespace().next()?.parse().ok(),
            _ => None,
        }
    }

    /// `retryAfter` (seconds) of an `overLimit` fault.
    pub fn retry_after(&self) -> Option<&str> {
        self.detail()?.get("retryAfter")?.as_str()
    }

    /// The whole body.
    pub fn body(&self) -> &Value {
        &self.body
    }
}

impl serde::Serialize for Fault {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_cinder_shape() {
        let f =
            Fault::new(json!({"overLimit": {"code": 413, "message": "SnapshotLimitExceeded: …", "retryAfter": "0"}}));
        assert_eq!(f.name(), Some("overLimit"));
        assert_eq!(f.code(), Some(413));
        assert_eq!(f.message(), Some("SnapshotLimitExceeded: …"));
        assert_eq!(f.retry_after(), Some("0"));
    }

    /// Only Keystone's `error` key gives way to the `title` inside; a
    /// Cinder fault that carries a title keeps its key as its name. The
    /// body is kept whole.
    #[test]
    fn a_title_names_only_keystones_error_shape() {
        let body =
            json!({"badRequest": {"code": 400, "title": "Bad Request", "message": "Invalid input.", "extra": 1}});
        let f = Fault::new(body.clone());
        assert_eq!(f.name(), Some("badRequest"));
        assert_eq!(f.body(), &body);
        let f = Fault::new(json!({"error": {"code": 401, "title": "Unauthorized", "message": "…"}}));
        assert_eq!(f.name(), Some("Unauthorized"));
    }

    #[test]
    fn reads_the_flat_shape_of_unknown_routes() {
        let f = Fault::new(
            json!({"message": "The resource could not be found.", "code": "404 Not Found", "title": "Not Found"}),
        );
        assert_eq!(f.name(), Some("Not Found"));
        assert_eq!(f.code(), Some(404));
        assert_eq!(f.message(), Some("The resource could not be found."));
    }

    #[test]
    fn reads_keystones_shape_with_its_title_as_the_name() {
        let f = Fault::new(json!({"error": {
            "code": 401,
            "title": "Unauthorized",
            "message": "The request you have made requires authentication."
        }}));
        assert_eq!(f.name(), Some("Unauthorized"));
        assert_eq!(f.code(), Some(401));
        assert_eq!(f.message(), Some("The request you have made requires authentication."));
        // Without a title, the key is all there is.
        assert_eq!(Fault::new(json!({"error": {"code": 500, "message": "x"}})).name(), Some("error"));
    }

    #[test]
    fn keeps_anything_else() {
        let f: Fault = serde_json::from_str("[1, 2]").unwrap();
        assert_eq!(f.name(), None);
        assert_eq!(serde_json::to_string(&f).unwrap(), "[1,2]");
    }
}
