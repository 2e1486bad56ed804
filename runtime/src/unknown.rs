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
