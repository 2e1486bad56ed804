//! Flags some servers want as the integers 0 and 1.

/// A boolean sent as `0` or `1` (Trove's `incremental`: a JSON `true` is a
/// 400 there). Reads `0`/`1` and `true`/`false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IntBool(pub bool);

impl From<bool> for IntBool {
    fn from(value: bool) -> Self {
        Self(value)
    }
}

impl From<IntBool> for bool {
    fn from(value: IntBool) -> Self {
        value.0
    }
}

impl serde::Serialize for IntBool {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(u8::from(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for IntBool {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(n) if n.as_u64() == Some(0) => Ok(Self(false)),
            serde_json::Value::Number(n) if n.as_u64() == Some(1) => Ok(Self(true)),
            serde_json::Value::Bool(b) => Ok(Self(b)),
            other => Err(serde::de::Error::custom(format!("expected 0 or 1, found {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_integers_and_reads_both() {
        assert_eq!(serde_json::to_string(&IntBool(true)).unwrap(), "1");
        assert_eq!(serde_json::to_string(&IntBool::from(false)).unwrap(), "0");
        assert_eq!(serde_json::from_str::<IntBool>("1").unwrap(), IntBool(true));
        assert_eq!(serde_json::from_str::<IntBool>("0").unwrap(), IntBool(false));
        assert_eq!(serde_json::from_str::<IntBool>("false").unwrap(), IntBool(false));
        assert!(serde_json::from_str::<IntBool>("2").unwrap_err().to_string().contains("expected 0 or 1"));
    }

    /// Both conversions keep the value, `true` as well as `false`.
    #[test]
    fn converts_to_and_from_bool() {
        for value in [true, false] {
            assert_eq!(IntBool::from(value), IntBool(value));
            assert_eq!(bool::from(IntBool(value)), value);
        }
    }
}
