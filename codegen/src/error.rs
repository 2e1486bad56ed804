//! Errors of the generator: every one names the spec file and, where it has
//! one, the operation and the JSON pointer of the offending spec node.

use std::fmt;
use std::path::PathBuf;

/// Where in a spec a problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The spec file, relative to the workspace (`spec/block-storage-v3.yaml`).
    pub file: String,
    /// The `operationId` concerned, when the problem is inside an operation.
    pub operation: Option<String>,
    /// A JSON pointer (RFC 6901) into the spec, e.g. `/paths/~1backups/get`.
    pub pointer: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(op) = &self.operation {
            write!(f, ", operation `{op}`")?;
        }
        write!(f, ", at {}", if self.pointer.is_empty() { "/" } else { &self.pointer })
    }
}

/// A failure of [`crate::generate`] or [`crate::regenerate`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec is not well-formed YAML.
    #[error("{file}: not valid YAML: {message}")]
    Yaml {
        /// The spec file.
        file: String,
        /// What the YAML parser said, with line and column.
        message: String,
    },
    /// The spec is YAML but not an OpenAPI 3.0 document, or uses something
    /// the generator does not handle.
    #[error("{location}: {message}")]
    Spec {
        /// Where.
        location: Location,
        /// What is wrong and, where it helps, what to write instead.
        message: String,
    },
    /// progenitor rejected a spec that passed validation.
    #[error("{file}: the client generator failed: {message}")]
    Generator {
        /// The spec file.
        file: String,
        /// progenitor's message.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `regenerate --check` found `generated/` out of date.
    #[error("{0}")]
    Stale(String),
}

impl Error {
    pub(crate) fn spec(
        file: &str,
        operation: Option<&str>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Spec {
            location: Location {
                file: file.to_owned(),
                operation: operation.map(str::to_owned),
                pointer: pointer.into(),
            },
            message: message.into(),
        }
    }
}

/// The generator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Escapes one JSON-pointer token (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from tokens.
pub fn pointer<I, S>(tokens: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    tokens.into_iter().map(|t| format!("/{}", escape_pointer_token(t.as_ref()))).collect()
}
