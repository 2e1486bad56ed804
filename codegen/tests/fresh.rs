//! The freshness check as `cargo test` relies on it: current output passes,
//! and a changed, missing or extra file under `generated/` fails with the
//! file named; `Mode::Write` brings it back.

use std::path::{Path, PathBuf};

use openstack_backups_codegen::{Error, Mode, regenerate};

/// A scratch workspace holding one fixture spec, generated once.
fn workspace(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("fresh-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("spec")).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/resources.yaml");
    std::fs::copy(fixture, root.join("spec/fixture.yaml")).unwrap();
    let written = regenerate(&root, Mode::Write).unwrap_or_else(|e| panic!("{e}"));
    assert!(!written.changed.is_empty(), "the first run writes the crate");
    root
}

fn stale(root: &Path) -> String {
    match regenerate(root, Mode::Check) {
        Err(Error::Stale(report)) => report,
        Err(other) => panic!("not a staleness report: {other}"),
        Ok(outcome) => panic!("stale output passed the check: {outcome:?}"),
    }
}

#[test]
fn current_output_passes_and_each_kind_of_staleness_fails() {
    let root = workspace("kinds");
    let current = regenerate(&root, Mode::Check).unwrap_or_else(|e| panic!("{e}"));
    assert!(current.changed.is_empty() && current.removed.is_empty());
    let types = root.join("generated/src/fixture/types.rs");

    // One line edited by hand.
    let text = std::fs::read_to_string(&types).unwrap();
    std::fs::write(&types, text.replacen("pub struct", "pub(crate) struct", 1)).unwrap();
    let report = stale(&root);
    assert!(report.contains("a/generated/src/fixture/types.rs"), "{report}");
    assert!(report.contains("-pub(crate) struct") && report.contains("cargo xtask regenerate"), "{report}");

    // A file the generator does not make.
    std::fs::write(root.join("generated/src/fixture/extra.rs"), "// by hand\n").unwrap();
    let report = stale(&root);
    assert!(report.contains("generated/src/fixture/extra.rs") && report.contains("does not produce"), "{report}");

    // A generated file gone.
    std::fs::remove_file(root.join("generated/src/lib.rs")).unwrap();
    assert!(stale(&root).contains("b/generated/src/lib.rs"));

    // Write restores all three, and removes the extra file.
    let fixed = regenerate(&root, Mode::Write).unwrap();
    assert_eq!((fixed.changed.len(), fixed.removed.len()), (2, 1), "{fixed:?}");
    assert!(!root.join("generated/src/fixture/extra.rs").exists());
    regenerate(&root, Mode::Check).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_spec_change_makes_the_output_stale() {
    let root = workspace("spec");
    let spec = root.join("spec/fixture.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("summary: Show a thing", "summary: Show one thing")).unwrap();
    let report = stale(&root);
    assert!(report.contains("Show one thing"), "{report}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// Every `*.yaml` file directly under `spec/` is a service; other files
/// and directories are not, and two specs may not share a module.
#[test]
fn services_are_the_yaml_files_under_spec() {
    let root = workspace("services");
    std::fs::write(root.join("spec/README.md"), "notes\n").unwrap();
    std::fs::create_dir_all(root.join("spec/drafts.yaml")).unwrap();
    std::fs::write(root.join("spec/drafts.yaml/old.yaml"), "not a service\n").unwrap();
    let found = openstack_backups_codegen::services(&root).unwrap();
    let paths: Vec<&str> = found.iter().map(|s| s.spec_path.as_str()).collect();
    assert_eq!(paths, ["spec/fixture.yaml"]);
    regenerate(&root, Mode::Check).unwrap_or_else(|e| panic!("{e}"));

    let fixture = std::fs::read_to_string(root.join("spec/fixture.yaml")).unwrap();
    std::fs::write(root.join("spec/again.yaml"), &fixture).unwrap();
    let message = regenerate(&root, Mode::Check).expect_err("two specs, one module").to_string();
    assert!(
        message.contains("spec/fixture.yaml") && message.contains("also the module of spec/again.yaml"),
        "{message}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
