//! Writing the generated files, or checking that the checked-in ones are
//! current: one code path with a mode.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::{GeneratedFile, generate_crate, services};

/// What [`regenerate`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write every file that differs, remove stale ones.
    Write,
    /// Change nothing; fail with a diff when anything differs.
    Check,
}

/// What [`regenerate`] found or did.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Files whose contents were (or would be) written.
    pub changed: Vec<PathBuf>,
    /// Files removed (or that would be) because no spec produces them.
    pub removed: Vec<PathBuf>,
    /// Files that were already current.
    pub unchanged: Vec<PathBuf>,
}

/// Regenerates the crate under `generated/` from every `spec/*.yaml` of
/// `root` (the workspace): each service's module, the crate root and its
/// manifest. Every other file under `generated/` is stale.
pub fn regenerate(root: &Path, mode: Mode) -> Result<Outcome> {
    let mut inputs = Vec::new();
    for service in services(root)? {
        let spec_path = root.join(&service.spec_path);
        let text =
            std::fs::read_to_string(&spec_path).map_err(|source| Error::Io { path: spec_path.clone(), source })?;
        inputs.push((service, text));
    }
    let wanted: Vec<GeneratedFile> = generate_crate(&inputs)?;

    let mut outcome = Outcome::default();
    let mut report = String::new();
    let wanted_paths: BTreeSet<&str> = wanted.iter().map(|f| f.path.as_str()).collect();
    for file in &wanted {
        let path = root.join(&file.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(file.contents.as_str()) {
            outcome.unchanged.push(path);
            continue;
        }
        match mode {
            Mode::Write => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
                }
                std::fs::write(&path, &file.contents).map_err(|source| Error::Io { path: path.clone(), source })?;
            }
            Mode::Check => {
                let old = current.as_deref().unwrap_or("");
                let diff = similar::TextDiff::from_lines(old, &file.contents);
                let _ = write!(
                    report,
                    "{}",
                    diff.unified_diff()
                        .context_radius(3)
                        .header(&format!("a/{}", file.path), &format!("b/{}", file.path))
                );
            }
        }
        outcome.changed.push(path);
    }

    // Files under generated/ that nothing produces any more.
    for path in files_under(&root.join("generated"))? {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if wanted_paths.contains(rel.as_str()) {
            continue;
        }
        if mode == Mode::Write {
            std::fs::remove_file(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        } else {
            let _ = writeln!(report, "--- a/{rel}\n+++ /dev/null (the generator does not produce this file)");
        }
        outcome.removed.push(path);
    }

    if mode == Mode::Check && (!outcome.changed.is_empty() || !outcome.removed.is_empty()) {
        return Err(Error::Stale(format!(
            "generated/ is stale against spec/ ({} file(s) differ):\n\n{report}\n\
             Run `cargo xtask regenerate` and commit the result.",
            outcome.changed.len() + outcome.removed.len()
        )));
    }
    Ok(outcome)
}

/// Every file below `dir` (none when it does not exist).
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io { path: d.clone(), source })?;
            let path = entry.path();
            if path.is_dir() { stack.push(path) } else { out.push(path) }
        }
    }
    out.sort();
    Ok(out)
}
