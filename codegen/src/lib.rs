//! The generator: hand-written OpenAPI specs in `spec/` → the checked-in
//! client in `generated/`.
//!
//! ```text
//! spec/*.yaml ──load──▶ LoadedSpec ──validate──▶ Model ──emit (progenitor + extras)──▶ files
//!                                                   └──diff (two models)──▶ changes
//! ```
//!
//! [`generate`] is a pure function from spec text to files; [`regenerate`]
//! writes them into a workspace or, in check mode, reports a diff when the
//! checked-in files are stale. Nothing here panics on bad input: a bad spec is
//! an [`Error`] that names the file, the operation and the JSON pointer.

#![deny(missing_docs)]

pub mod diff;
mod emit;
mod error;
mod ext;
mod fresh;
mod load;
pub mod model;
mod rt;
mod validate;

pub use emit::GeneratedFile;
pub use error::{Error, Location, Result};
pub use fresh::{Mode, Outcome, regenerate};
pub use load::{LoadedSpec, load};
pub use validate::validate;

/// The model of a spec's text: [`load`], then [`validate`]. `file` names it
/// in errors.
pub fn model_of(file: &str, spec_text: &str) -> Result<model::Model> {
    validate(&load(file, spec_text)?)
}

/// One service: its spec. Everything else (module, catalog type,
/// microversion header, timeout) the spec says in `info.x-openstack-service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The spec, relative to the workspace root (`spec/block-storage-v3.yaml`).
    pub spec_path: String,
}

/// Every service the workspace generates: each `spec/*.yaml`, by name.
/// Adding a service is adding its spec.
pub fn services(root: &std::path::Path) -> Result<Vec<ServiceSpec>> {
    let dir = root.join("spec");
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io { path: dir.clone(), source })?;
    let mut out: Vec<ServiceSpec> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml") && e.path().is_file())
        .map(|e| ServiceSpec { spec_path: format!("spec/{}", e.file_name().to_string_lossy()) })
        .collect();
    out.sort_by(|a, b| a.spec_path.cmp(&b.spec_path));
    Ok(out)
}

/// Generates the files of `service` from its spec text.
pub fn generate(service: &ServiceSpec, spec_text: &str) -> Result<Vec<GeneratedFile>> {
    Ok(generate_service(service, spec_text)?.files)
}

/// Generates the whole crate under `generated/` from the specs of
/// `services` (path and text each): every service's module, the crate
/// root and the manifest.
pub fn generate_crate(services: &[(ServiceSpec, String)]) -> Result<Vec<GeneratedFile>> {
    let mut files = Vec::new();
    let mut crate_services = Vec::new();
    for (service, text) in services {
        let out = generate_service(service, text)?;
        files.extend(out.files);
        crate_services.push(out.summary);
    }
    if let Some(clash) = crate_services.windows(2).find(|w| w[0].module == w[1].module) {
        return Err(Error::Generator {
            file: clash[1].spec_file.clone(),
            message: format!("module `{}` is also the module of {}", clash[1].module, clash[0].spec_file),
        });
    }
    files.extend(emit::crate_files(&crate_services));
    Ok(files)
}

struct ServiceOutput {
    files: Vec<GeneratedFile>,
    summary: emit::CrateService,
}

fn generate_service(service: &ServiceSpec, spec_text: &str) -> Result<ServiceOutput> {
    let spec = load(&service.spec_path, spec_text)?;
    let model = validate(&spec)?;
    let files = emit::emit(&spec, &model, spec_text)?;
    let summary = emit::CrateService {
        module: model.service.module.clone(),
        title: model.title.clone(),
        spec_file: spec.file.clone(),
        hash: emit::hex(&sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), spec_text))),
    };
    Ok(ServiceOutput { files, summary })
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
