//! OpenStack API microversions: `major.minor`, ordered, parsed strictly.

use std::fmt;
use std::str::FromStr;

/// An OpenStack API microversion, `major.minor` (`3.64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    major: u16,
    minor: u16,
}

impl Microversion {
    /// `Microversion::new(3, 64)` is `3.64`.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// The major version.
    pub const fn major(self) -> u16 {
        self.major
    }

    /// The minor version.
    pub const fn minor(self) -> u16 {
        self.minor
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A string that is not a microversion like `3.64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMicroversionError(String);

impl fmt::Display for ParseMicroversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected a microversion like \"3.64\", found {:?}", self.0)
    }
}

impl std::error::Error for ParseMicroversionError {}

impl FromStr for Microversion {
    type Err = ParseMicroversionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // The text kept is short: it can be a server's (a version document).
        let err = || ParseMicroversionError(crate::response::clip(text, 100));
        let (major, minor) = text.split_once('.').ok_or_else(err)?;
        let number = |s: &str| -> Result<u16, ParseMicroversionError> {
            let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
            if canonical { s.parse().map_err(|_| err()) } else { Err(err()) }
        };
        Ok(Self::new(number(major)?, number(minor)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_microversions() {
        let v: Microversion = "3.64".parse().unwrap();
        assert_eq!(v, Microversion::new(3, 64));
        assert_eq!((v.major(), v.minor()), (3, 64));
        assert!(Microversion::new(3, 9) < Microversion::new(3, 43));
        assert_eq!(v.to_string(), "3.64");
        for bad in ["3", "3.", "3.064", "latest", "3.1.2", "-3.1"] {
            let err = bad.parse::<Microversion>().unwrap_err();
            assert!(err.to_string().contains("expected a microversion"), "{bad}");
        }
    }
}
