//! The Rust half of an API review: cargo-semver-checks on the published
//! library crates against a base revision, beside spec-diff's report of the
//! spec. A spec change can be additive for the API and still break Rust
//! users: a new optional property of a request body is a new public field
//! of a generated struct, and code that builds that struct with a literal
//! no longer compiles.

use std::path::Path;
use std::process::Command;

/// The crates whose public Rust API users program against (the command
/// line has none).
pub const CRATES: [&str; 4] =
    ["openstack-backups-runtime", "openstack-backups-api", "openstack-backups", "openstack-backups-fake"];

/// cargo-semver-checks' major version: installed on first use, with
/// `cargo install --locked`.
const VERSION: &str = "^0.51";

/// What cargo-semver-checks said about the crates since `base`.
#[derive(Debug)]
pub struct Report {
    /// Whether it found a change that needs a new major version (for these
    /// 0.x crates: a new minor one), or could not compare.
    pub breaking: bool,
    /// Its output, as it wrote it.
    pub text: String,
}

/// Runs cargo-semver-checks on [`CRATES`] in the workspace at `root`,
/// against git revision `base`, with their default features, and `mock`
/// where a crate has it (the typed mocks are API users' tests build on).
///
/// # Errors
/// cargo-semver-checks cannot be installed or run.
pub fn check(root: &Path, base: &str) -> Result<Report, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    crate::install(&cargo, "semver-checks", "cargo-semver-checks", VERSION)?;
    let (mut text, mut succeeded) = (String::new(), Vec::new());
    // One run per feature set: a feature is asked of every crate of a run.
    for (crates, features) in [(&CRATES[..3], Some("mock")), (&CRATES[3..], None)] {
        let mut command = Command::new(&cargo);
        command.current_dir(root).args(["semver-checks", "check-release", "--baseline-rev", base]);
        for krate in crates {
            command.args(["--package", krate]);
        }
        // The question is whether users break, not which version comes
        // next: as if the next release were a patch release (for these 0.y.z
        // crates Cargo reads z as the compatible part, so only changes that
        // break a user's build or behaviour are reported).
        command.args(["--release-type", "patch", "--default-features", "--color", "never"]);
        if let Some(features) = features {
            command.args(["--features", features]);
        }
        let out = command.output().map_err(|e| format!("could not run cargo semver-checks: {e}"))?;
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        succeeded.push(out.status.success());
    }
    Ok(Report { breaking: breaking(&succeeded), text })
}

/// Whether the crates break users, from whether each cargo-semver-checks
/// run succeeded: it fails on a break, or when it cannot compare.
fn breaking(runs_succeeded: &[bool]) -> bool {
    runs_succeeded.contains(&false)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    use openstack_backups_codegen::diff::Level;

    use crate::spec_diff::tests::git;

    /// A worktree of this repository's HEAD, removed when dropped (also
    /// when an assertion fails first).
    struct Worktree(PathBuf);

    impl Drop for Worktree {
        fn drop(&mut self) {
            let root = crate::workspace_root();
            let _ =
                Command::new("git").arg("-C").arg(&root).args(["worktree", "remove", "--force"]).arg(&self.0).output();
        }
    }

    /// The change the report exists for, made on purpose: a new optional
    /// property of a request body is additive for the API (spec-diff says
    /// so), yet a new public field of a generated struct, which breaks code
    /// that builds the struct with a literal; cargo-semver-checks names it.
    #[test]
    fn an_additive_spec_change_that_breaks_rust_users_is_caught() {
        let root = crate::workspace_root();
        let dir = std::env::temp_dir().join(format!("semver-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // A worktree of an earlier run that was killed is forgotten.
        git(&root, &["worktree", "prune"]);
        git(&root, &["worktree", "add", "--detach", "--quiet", dir.to_str().unwrap(), "HEAD"]);
        let tree = Worktree(dir);
        let spec = tree.0.join("spec/block-storage-v3.yaml");
        let text = std::fs::read_to_string(&spec).unwrap();
        let anchor = "    BackupUpdate:\n      type: object\n      additionalProperties: false\n      properties:\n";
        assert!(text.contains(anchor), "the spec's BackupUpdate moved; update this test");
        let added = format!("{anchor}        label: {{type: string, description: A property added on purpose.}}\n");
        std::fs::write(&spec, text.replace(anchor, &added)).unwrap();
        openstack_backups_codegen::regenerate(&tree.0, openstack_backups_codegen::Mode::Write).unwrap();
        git(&tree.0, &["commit", "--quiet", "--all", "-m", "an optional request property"]);

        let changes = crate::spec_diff::diff_revision(&tree.0, "HEAD~1").unwrap();
        assert!(!changes.is_empty() && changes.iter().all(|c| c.level == Level::Info), "additive: {changes:#?}");
        let report = super::check(&tree.0, "HEAD~1").unwrap();
        assert!(report.breaking, "{}", report.text);
        assert!(
            report.text.contains("constructible_struct_adds_field") && report.text.contains("BackupUpdate"),
            "{}",
            report.text
        );
    }

    /// One failed run of the two makes the report breaking; two that
    /// succeed do not.
    #[test]
    fn any_failed_run_is_breaking() {
        assert!(!super::breaking(&[true, true]));
        assert!(super::breaking(&[false, true]));
        assert!(super::breaking(&[true, false]));
    }
}
