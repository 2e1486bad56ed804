//! Typed clients for the OpenStack Block Storage (Cinder) v3 backup and
//! snapshot API (with the volume calls their workflows need) and the
//! Database (Trove) v1.0 backup API, generated from hand-written OpenAPI
//! specs, with a session that authenticates with Keystone, reads
//! `clouds.yaml`, finds endpoints in the catalog and negotiates
//! microversions.
//!
//! ```no_run
//! # async fn example() -> Result<(), openstack_backups::Error> {
//! use futures_util::TryStreamExt;
//! use openstack_backups::{Session, block_storage::types};
//!
//! let cinder = Session::from_env().await?.block_storage().await?; // OS_CLOUD or OS_*
//! let backups: Vec<types::Backup> = cinder.list_backups_detail().stream().try_collect().await?;
//! # Ok(()) }
//! ```
//!
//! Or a client of one endpoint with a token:
//!
//! ```no_run
//! use openstack_backups::{ClientConfig, Microversion, block_storage::Client};
//!
//! # async fn example() -> Result<(), openstack_backups::Error> {
//! let config = ClientConfig::new().with_token("gAAAAAB…").with_microversion(Microversion::new(3, 64));
//! let client = Client::new("https://cloud.example:8776/v3/6b2c0f4e", config);
//! let page = client.list_backups_detail().limit(50u64).send().await?;
//! for backup in &page.backups {
//!     println!("{} {} {}", backup.id, backup.status, backup.size.unwrap_or(0));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Versions
//!
//! This release's specs cover the block-storage API v3 from microversion
//! 3.0 to 3.71 (a session negotiates the highest both sides know, within
//! that range), the database API v1.0 (no microversions), and the identity
//! API v3's token issue. The generated service tables say the same at run
//! time, and `osbackup --version` prints them:
//!
//! ```
//! use openstack_backups::{Microversion, block_storage, database};
//!
//! let cinder = &block_storage::operations::SERVICE;
//! assert_eq!(cinder.base_microversion(), Some(Microversion::new(3, 0)));
//! assert_eq!(cinder.max_microversion, Some(Microversion::new(3, 71)));
//! assert_eq!(database::operations::SERVICE.max_microversion, None);
//! ```
//!
//! This crate is the front door: the session ([`Session`], [`auth`],
//! [`cloud`]) and waiting ([`wait`]) are written here; the clients
//! ([`block_storage`], [`database`], [`identity`]) are generated into
//! `openstack-backups-api`, and the request pipeline, errors, retries and
//! the types the specs' formats map to are `openstack-backups-runtime`'s;
//! both are re-exported here at their usual paths.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod cloud;
pub mod group;
pub mod policy;
pub mod quota;
pub mod restore;
pub mod retention;
mod session;

pub use openstack_backups_api::{block_storage, database, identity};
/// The engine of the typed mocks (`block_storage::mock`,
/// `database::mock`) and the mock server they mount on (the `mock`
/// feature).
#[cfg(feature = "mock")]
pub use openstack_backups_runtime::mock;
pub use openstack_backups_runtime::{
    AuthenticationError, BodyError, ClientConfig, DecodeError, Error, ErrorKind, Fault, FindError, Gated, HttpOptions,
    IntBool, InvalidPayload, Microversion, MicroversionError, PagingError, PagingProblem, ParseMicroversionError,
    ParseTimestampError, Requirement, ResponseValue, Secret, StaticToken, Timestamp, TokenFuture, TokenSource,
    TransportError, UnexpectedResponse, UnknownValue, WaitError,
};
pub use openstack_backups_runtime::{ServiceClient, ServiceInfo};
pub use openstack_backups_runtime::{clock, retry, wait};
pub use session::{Session, SessionBuilder};
