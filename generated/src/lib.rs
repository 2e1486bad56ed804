//! A typed client for the OpenStack Block Storage (Cinder) v3 backup and
//! snapshot API, generated from the hand-written OpenAPI spec in `spec/`.
//!
//! ```no_run
//! use openstack_backups::{ClientConfig, Microversion, block_storage::Client};
//!
//! # async fn example() -> Result<(), openstack_backups::Error> {
//! let config = ClientConfig::new()
//!     .with_token("gAAAAAB…")
//!     .with_microversion(Microversion::new(3, 64));
//! let client = Client::new("https://cloud.example:8776/v3/6b2c0f4e", config);
//!
//! let page = client.list_backups_detail().limit(50u64).send().await?;
//! for backup in &page.backups {
//!     println!("{} {} {}", backup.id, backup.status, backup.size.unwrap_or(0));
//! }
//! client.reset_backup_status(
//!     "6a122f4b-d2f6-448f-aeb5-68bae5ff8358",
//!     openstack_backups::block_storage::types::BackupResetStatus {
//!         status: openstack_backups::block_storage::types::BackupResetStatusStatus::Available,
//!     },
//! ).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Layout: `block_storage` is generated (never edit it: change `spec/` or the
//! generator and run `cargo xtask regenerate`); everything else in this crate
//! is hand-written runtime support that the generated code binds to.

#![deny(missing_docs)]
// `Error` has the variants the generated calls construct by value
// (`ErrorResponse(ResponseValue<E>)`, `UnexpectedResponse(reqwest::Response)`),
// so it cannot box them away; every fallible function here returns it.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod cloud;
mod session;
pub mod wait;

pub use openstack_backups_runtime::{clock, retry};

/// Block Storage (Cinder) v3: backups, snapshots and the volume calls their
/// workflows need. Generated from `spec/block-storage-v3.yaml`.
#[allow(clippy::all, missing_docs)]
#[rustfmt::skip]
pub mod block_storage;

/// Database (Trove) v1.0 backups, and the Rackspace Cloud Databases dialect.
/// Generated from `spec/database-v1.yaml`.
#[allow(clippy::all, missing_docs)]
#[rustfmt::skip]
pub mod database;

/// Identity (Keystone) v3: issuing tokens. Generated from
/// `spec/identity-v3.yaml`; the session uses it to authenticate.
#[allow(clippy::all, missing_docs)]
#[rustfmt::skip]
pub mod identity;

pub use openstack_backups_runtime::{
    BodyError, ClientConfig, Error, ErrorKind, Fault, Gated, IntBool, InvalidPayload, Microversion, MicroversionError,
    ParseMicroversionError, ParseTimestampError, Requirement, ResponseValue, Secret, Timestamp, TokenFuture,
    TokenSource, TransportError, UnknownValue,
};
pub use session::{BLOCK_STORAGE_TYPES, DATABASE_TYPES, Session, SessionBuilder, negotiate, select_endpoint};
