//! Tidiness a reviewer would otherwise check by hand: every hand-written
//! Rust file opens with a `//!` doc saying what it is, and ARCHITECTURE.md
//! names every module of the crates it maps, so that the map stays true
//! when a module is added.

use std::path::{Path, PathBuf};

use openstack_backups_tests::workspace_root;

/// Every `.rs` file under `dir`, recursively, skipping build output.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if !matches!(name.to_str(), Some("target" | "snapshots" | "fixtures") | None)
                    && !name.to_string_lossy().starts_with('.')
                {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The hand-written crates (everything but `generated/`).
const CRATES: [&str; 9] = ["runtime", "sdk", "cli", "codegen", "harness", "xtask", "tests", "bench", "fake"];

#[test]
fn every_hand_written_file_opens_with_its_doc() {
    let root = workspace_root();
    let missing: Vec<String> = CRATES
        .iter()
        .flat_map(|c| rust_files(&root.join(c)))
        .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().starts_with("//!"))
        .map(|f| f.strip_prefix(&root).unwrap_or(&f).display().to_string())
        .collect();
    assert!(missing.is_empty(), "open these with a `//!` doc saying what they hold: {missing:?}");
}

/// A module is named when ARCHITECTURE.md has it in backticks, alone or
/// as a path (`emit::operations`, `ext/`).
#[test]
fn architecture_names_every_module() {
    let root = workspace_root();
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let quoted: Vec<&str> = map.split('`').skip(1).step_by(2).collect();
    let named = |module: &str| {
        quoted.iter().any(|q| q.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|part| part == module))
    };
    let mut missing = Vec::new();
    for krate in ["runtime", "sdk", "cli", "codegen", "harness", "xtask", "fake"] {
        let src = root.join(krate).join("src");
        for file in rust_files(&src) {
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            let module = match stem {
                "lib" | "main" => continue,
                "mod" => file.parent().and_then(Path::file_name).and_then(|n| n.to_str()).unwrap_or_default(),
                other => other,
            };
            if file.components().any(|c| c.as_os_str() == "bin") {
                continue;
            }
            if !named(module) {
                missing.push(format!("{krate}: {module}"));
            }
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md does not name these modules: {missing:?}");
}
