//! The payload of the `Unknown` variant of open enums.

use std::fmt;

/// A server-controlled value this client does not know (a newer server may
/// send statuses the spec does not list). It is kept as sent.
///
/// Only decoding creates one, so an `Unknown` never holds a known value.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(Box<str>);

impl UnknownValue {
    pub(crate) fn new(value: &str) -> Self {
        Self(value.into())
    }

    /// The value as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Deserializes a string into an open enum through `from`, without an
    /// allocation for known values.
    pub(crate) fn deserialize_open<'de, D, T>(deserializer: D, from: fn(&str) -> T) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        struct Visitor<T>(fn(&str) -> T);

        impl<T> serde::de::Visitor<'_> for Visitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
                Ok((self.0)(value))
            }
        }

        deserializer.deserialize_str(Visitor(from))
    }
}

impl fmt::Debug for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Result<UnknownValue, serde_json::Error> {
        UnknownValue::deserialize_open(&mut serde_json::Deserializer::from_str(json), UnknownValue::new)
    }

    /// A value the client does not know is kept as sent: `as_str` and
    /// `Display` give it back, `Debug` quotes it (as a `&str` would).
    #[test]
    fn an_unknown_value_is_kept_as_sent() {
        let value = decode(r#""backing-up""#).unwrap();
        assert_eq!(value.as_str(), "backing-up");
        assert_eq!(value.to_string(), "backing-up");
        assert_eq!(format!("{value:?}"), r#""backing-up""#);
    }

    /// A status that is not a string is refused, saying what was expected.
    #[test]
    fn a_value_that_is_not_a_string_says_what_was_expected() {
        let err = decode("5").unwrap_err();
        assert!(err.to_string().contains("expected a string"), "{err}");
    }
}
