//! The project's spec extensions, one module each: its name, its parse into
//! the [`Model`](crate::model::Model) (with the JSON pointer of every
//! error), the code it emits, and its change rules for spec-diff. Adding or changing an extension touches
//! its module and, when it has one, its engine in the runtime.
//!
//! | extension | module | runtime engine |
//! |---|---|---|
//! | `x-openstack-min-microversion`, `x-openstack-max-microversion`, `x-openstack-max-microversion-values` | [`microversion`] | `microversion`, `operation` (the checks before sending) |
//! | `x-openstack-actions` | [`actions`] | (typed calls) |
//! | `x-openstack-pagination` | [`paging`] | `paging` |
//! | `x-openstack-waiter` | [`waiter`] | `wait` |
//! | `x-openstack-find` | [`find`] | `find` |
//! | `x-extensible-enum` | [`open_enum`] | `unknown` |
//! | `x-openstack-service` | [`service`] | `operation` (the service table); the session's catalog and negotiation |
//! | `x-openstack-always-sent` | [`always_sent`] | (the conformance check) |

pub(crate) mod actions;
pub(crate) mod always_sent;
pub(crate) mod find;
pub(crate) mod microversion;
pub(crate) mod open_enum;
pub(crate) mod paging;
pub(crate) mod service;
pub(crate) mod waiter;

use microversion::{MAX_MICROVERSION, MIN_MICROVERSION};

/// The extensions with change rules of their own on an operation; spec-diff
/// reports any other `x-…` key there as a JSON patch.
pub(crate) const ON_OPERATION: &[&str] =
    &[MIN_MICROVERSION, MAX_MICROVERSION, paging::PAGINATION, actions::ACTIONS, find::FIND, waiter::WAITER];

/// The extensions with change rules of their own on a parameter.
pub(crate) const ON_PARAMETER: &[&str] = &[MIN_MICROVERSION, MAX_MICROVERSION];

/// The extensions with change rules of their own on a schema or property.
pub(crate) const ON_SCHEMA: &[&str] = &[open_enum::EXTENSIBLE_ENUM, MIN_MICROVERSION, MAX_MICROVERSION];
