//! The runtime of the generated OpenStack clients: everything the generated
//! code binds to, written by hand and tested on its own. It never depends
//! on generated code.
//!
//! - the request pipeline (`request`): token, `OpenStack-API-Version`,
//!   microversion checks against the generated operation table
//!   (`operation`), timeouts, retries ([`retry`]), token renewal, tracing;
//! - the one error type, [`Error`], with [`ErrorKind`] and its parts
//!   (`error`), and [`ResponseValue`] (`response`);
//! - paging over `marker` + `*_links` (`paging`), the engine of the
//!   generated waiters ([`wait`]) and finders ([`find`]), the injectable
//!   [`clock`];
//! - the types the specs' formats map to: [`Timestamp`], [`Secret`],
//!   [`IntBool`], open enums' [`UnknownValue`], the error body [`Fault`];
//! - the HTTP client and its lazy TLS (`tls`);
//! - with the `mock` feature, the engine of the generated typed mocks
//!   (`mock`).
//!
//! What only generated code uses is public in the hidden [`__private`]
//! module; it is not part of the API users program against.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod clock;
mod config;
mod decode;
mod error;
mod fault;
pub mod find;
mod flag;
mod microversion;
#[cfg(feature = "mock")]
pub mod mock;
mod operation;
mod paging;
mod request;
mod response;
pub mod retry;
mod secret;
mod timestamp;
mod tls;
mod unknown;
pub mod wait;

pub use config::{ClientConfig, StaticToken, TokenFuture, TokenSource};
pub use error::{
    AuthenticationError, BodyError, DecodeError, Error, ErrorKind, FindError, Gated, InvalidPayload, MicroversionError,
    PagingError, PagingProblem, Requirement, TransportError, UnexpectedResponse, WaitError,
};
pub use fault::Fault;
pub use flag::IntBool;
pub use microversion::{Microversion, ParseMicroversionError};
pub use operation::{BodyGate, OperationMeta, ServiceClient, ServiceInfo};
pub use response::ResponseValue;
pub use secret::Secret;
pub use timestamp::{ParseTimestampError, Timestamp};
pub use tls::HttpOptions;
#[doc(hidden)]
pub use tls::system_root_loads;
pub use unknown::UnknownValue;

/// What generated code needs from the runtime and users do not: the
/// operation table's types, the hooks progenitor's output calls, paging.
/// Not part of the API; it changes with the generator.
#[doc(hidden)]
pub mod __private {
    pub use crate::operation::{OperationInfo, SetProperty, effective_microversion};
    pub use crate::paging::{Page, collect, items, marker_of};
    pub use crate::request::{
        ByteStream, ClientHooks, ClientInfo, DEFAULT_CONNECT_TIMEOUT, RequestBuilderExt, Service, encode_path,
        get_service_root, http_client, request_build_error, service_root,
    };

    /// The items of `stream` for which `keep` holds, all pages read, one
    /// page in memory besides the matches.
    pub async fn collect_where<T>(
        stream: impl futures_core::Stream<Item = Result<T, crate::Error>> + Unpin,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>, crate::Error> {
        use futures_util::StreamExt;
        let mut stream = stream;
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            let item = item?;
            if keep(&item) {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// The `Unknown` payload of an open enum for `value` (decoding only).
    pub fn unknown_value(value: &str) -> crate::UnknownValue {
        crate::UnknownValue::new(value)
    }

    /// Decodes an open enum from a string through `from`.
    pub fn deserialize_open<'de, D, T>(deserializer: D, from: fn(&str) -> T) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        crate::UnknownValue::deserialize_open(deserializer, from)
    }
}
