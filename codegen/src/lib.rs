//! The generator: hand-written OpenAPI specs in `spec/` → the checked-in
//! client in `generated/`.
//!
//! ```text
//! spec/*.yaml ──load──▶ LoadedSpec ──validate──▶ Model ──emit (progenitor + extras)──▶ files
//! ```
//!
//! [`generate`] is a pure function from spec text to files; [`regenerate`]
//! writes them into a workspace or, in check mode, reports a diff when the
//! checked-in files are stale. Nothing here panics on bad input: a bad spec is
//! an [`Error`] that names the file, the operation and the JSON pointer.

#![deny(missing_docs)]

mod emit;
mod error;
mod extras;
mod fresh;
mod load;
pub mod model;
mod validate;

pub use emit::{GeneratedFile, PROGENITOR_VERSION};
pub use error::{Error, Location, Result};
pub use fresh::{Mode, Outcome, regenerate};
pub use load::{LoadedSpec, load};
pub use validate::validate;

/// One service: its spec and where its generated module goes.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSpec {
    /// The spec, relative to the workspace root.
    pub spec_path: &'static str,
    /// The module under `generated/src/`.
    pub module: &'static str,
    /// The catalog service type.
    pub service_type: &'static str,
    /// The service name in `OpenStack-API-Version` (`volume`), if the
    /// service has microversions.
    pub microversion_service: Option<&'static str>,
    /// The default request timeout of the generated `Client::new`, in
    /// seconds (a restore to a new volume blocks until the volume exists).
    pub timeout_seconds: u64,
}

/// Every service the workspace generates.
pub const SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        spec_path: "spec/block-storage-v3.yaml",
        module: "block_storage",
        service_type: "block-storage",
        microversion_service: Some("volume"),
        timeout_seconds: 120,
    },
    ServiceSpec {
        spec_path: "spec/database-v1.yaml",
        module: "database",
        service_type: "database",
        microversion_service: None,
        timeout_seconds: 60,
    },
    ServiceSpec {
        spec_path: "spec/identity-v3.yaml",
        module: "identity",
        service_type: "identity",
        microversion_service: None,
        timeout_seconds: 60,
    },
];

/// Generates the files of `service` from its spec text.
pub fn generate(service: &ServiceSpec, spec_text: &str) -> Result<Vec<GeneratedFile>> {
    let spec = load(service.spec_path, spec_text)?;
    let model = validate(&spec)?;
    emit::emit(service, &spec, &model, spec_text)
}

/// One row of the operation table, as a reviewer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, with `#<action>` for an action.
    pub path: String,
    /// The `operationId` (the action's own id for an action).
    pub operation_id: String,
    /// The tag.
    pub tag: String,
    /// The minimum microversion, `-` when none.
    pub min_microversion: String,
}

/// The operation table of a spec, in spec order.
pub fn operation_table(file: &str, spec_text: &str) -> Result<Vec<OperationRow>> {
    let spec = load(file, spec_text)?;
    let model = validate(&spec)?;
    Ok(model
        .operations
        .iter()
        .map(|op| OperationRow {
            method: op.method.clone(),
            path: match &op.kind {
                model::Kind::Action(a) => format!("{}#{}", op.path, a.key),
                _ => op.path.clone(),
            },
            operation_id: op.operation_id.clone(),
            tag: op.tag.clone(),
            min_microversion: op.min_microversion.map_or_else(|| "-".to_owned(), |v| v.to_string()),
        })
        .collect())
}
