//! The project's spec extensions, one module each: its name, its parse into
//! the [`Model`](crate::model::Model) (with the JSON pointer of every
//! error), and the code it emits. Adding or changing an extension touches
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
