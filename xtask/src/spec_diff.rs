//! `cargo xtask spec-diff`: reads every spec at a git revision and in the
//! working tree, builds each side's model with the generator, and prints
//! what `openstack_backups_codegen::diff` finds. Git is this driver's
//! business; the comparison is the generator's.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, ExitCode};

use openstack_backups_codegen::diff::{self, Change};
use openstack_backups_codegen::model::Model;

/// `spec-diff [BASE] [--format …] [--fail-on …]`: exit 1 when a change
/// reaches `--fail-on`, 2 on bad arguments or an unreadable spec.
pub fn run(root: &Path, args: &[&str], usage: &str) -> ExitCode {
    let usage = |message: String| {
        eprintln!("error: {message}\n\n{usage}");
        ExitCode::from(2)
    };
    let (mut base, mut format, mut fail_on) = (None, diff::Format::Text, Some(diff::Level::Breaking));
    let mut rust = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |flag: &str| rest.next().copied().ok_or_else(|| format!("{flag} needs a value"));
        let parsed = match *arg {
            "--format" => value("--format").and_then(|v| v.parse().map(|f| format = f)),
            "--fail-on" => value("--fail-on").and_then(|v| diff::parse_fail_on(v).map(|l| fail_on = l)),
            "--rust" => {
                rust = true;
                Ok(())
            }
            flag if flag.starts_with('-') => Err(format!("spec-diff has no option `{flag}`")),
            revision if base.is_none() => {
                base = Some(revision.to_owned());
                Ok(())
            }
            extra => Err(format!("spec-diff takes one revision, not also `{extra}`")),
        };
        if let Err(message) = parsed {
            return usage(message);
        }
    }
    if rust && matches!(format, diff::Format::Json) {
        return usage("--rust adds a text section, which --format json cannot carry".to_owned());
    }
    let base = base.unwrap_or_else(|| default_base(root));
    let changes = match diff_revision(root, &base) {
        Ok(changes) => changes,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", diff::report(&changes, format));
    let rust = match rust.then(|| crate::semver::check(root, &base)).transpose() {
        Ok(rust) => rust,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(report) = &rust {
        print!("{}", rust_section(&base, format, &report.text));
    }
    if fails(diff::fails(&changes, fail_on), rust.as_ref(), fail_on) { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// What `--rust` adds after the spec's report: a heading naming the crates
/// and `base`, then cargo-semver-checks' `text` (fenced in markdown).
fn rust_section(base: &str, format: diff::Format, text: &str) -> String {
    let heading = format!("Rust API of {} (cargo-semver-checks against {base})", crate::semver::CRATES.join(", "));
    match format {
        diff::Format::Markdown => format!("\n## {heading}\n\n```\n{text}```\n"),
        _ => format!("\n{heading}:\n{text}"),
    }
}

/// Whether the run fails: the spec's changes reach `--fail-on`
/// (`spec_fails`), or cargo-semver-checks found a Rust break, which is a
/// breaking change whatever the spec says (unless `--fail-on none`).
fn fails(spec_fails: bool, rust: Option<&crate::semver::Report>, fail_on: Option<diff::Level>) -> bool {
    spec_fails || rust.is_some_and(|r| r.breaking && fail_on.is_some())
}

/// The default revision to compare with: the merge base of `HEAD` and
/// `main` when there is one (a pull request's starting point), else `HEAD`.
pub fn default_base(root: &Path) -> String {
    git(root, &["merge-base", "HEAD", "main"]).map(|s| s.trim().to_owned()).unwrap_or_else(|_| "HEAD".to_owned())
}

/// Every spec of the workspace at `root` (`spec/*.yaml`) at git revision
/// `base` compared with the working tree. A spec only on one side is
/// reported as added or removed. Both sides are read into the generator's
/// model, so a spec that does not generate is an error naming its file and
/// pointer (the old side's file as `spec/x.yaml@BASE`).
pub fn diff_revision(root: &Path, base: &str) -> Result<Vec<Change>, String> {
    git(root, &["rev-parse", "--verify", "--quiet", &format!("{base}^{{commit}}")])
        .map_err(|_| format!("`{base}` is not a commit of {}", root.display()))?;
    let listed = git(root, &["ls-tree", "--name-only", base, "spec/"])?;
    let old_files: BTreeSet<String> =
        listed.lines().filter(|f| f.ends_with(".yaml") && f.matches('/').count() == 1).map(str::to_owned).collect();
    let new_files: BTreeSet<String> = openstack_backups_codegen::services(root)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|s| s.spec_path)
        .collect();
    let mut changes = Vec::new();
    for file in old_files.union(&new_files) {
        let old = match old_files.contains(file) {
            true => Some(model(&format!("{file}@{base}"), &git(root, &["show", &format!("{base}:{file}")])?)?),
            false => None,
        };
        let new = match new_files.contains(file) {
            true => {
                let text = std::fs::read_to_string(root.join(file)).map_err(|e| format!("{file}: {e}"))?;
                Some(model(file, &text)?)
            }
            false => None,
        };
        changes.extend(diff::diff_models(file, old.as_ref(), new.as_ref()));
    }
    Ok(changes)
}

fn model(file: &str, text: &str) -> Result<Model, String> {
    openstack_backups_codegen::model_of(file, text).map_err(|e| e.to_string())
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let command = args.join(" ");
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| format!("git {command}: cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!("git {command}: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("git {command}: output is not UTF-8"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use openstack_backups_codegen::diff::Level;

    /// `git args…` in `dir` as a test's committer; the test fails with
    /// git's message when git does.
    pub(crate) fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `--rust`'s section in each format, and what fails the run.
    #[test]
    fn a_rust_break_is_a_breaking_change() {
        let text = "     Summary no semver update required\n";
        let heading = "Rust API of openstack-backups-runtime, openstack-backups-api, openstack-backups, \
                       openstack-backups-fake (cargo-semver-checks against main)";
        assert_eq!(rust_section("main", diff::Format::Text, text), format!("\n{heading}:\n{text}"));
        assert_eq!(rust_section("main", diff::Format::Markdown, text), format!("\n## {heading}\n\n```\n{text}```\n"));

        let report = |breaking| crate::semver::Report { breaking, text: String::new() };
        let (broken, clean) = (report(true), report(false));
        assert!(!fails(false, None, Some(Level::Breaking)));
        assert!(fails(true, None, Some(Level::Breaking)));
        assert!(fails(true, Some(&clean), Some(Level::Breaking)));
        assert!(!fails(false, Some(&clean), Some(Level::Breaking)));
        assert!(fails(false, Some(&broken), Some(Level::Info)), "a Rust break fails at any level");
        assert!(!fails(false, Some(&broken), None), "--fail-on none");
    }

    /// A scratch repository: a spec changed, one added, one removed since
    /// the base commit; a bad revision and a spec that does not generate
    /// are errors that name what is wrong.
    #[test]
    fn revision_against_working_tree() {
        let dir = std::env::temp_dir().join(format!("spec-diff-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("spec")).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/fixtures/diff/base.yaml");
        let base = std::fs::read_to_string(fixture).unwrap();
        std::fs::write(dir.join("spec/things.yaml"), &base).unwrap();
        std::fs::write(dir.join("spec/old.yaml"), &base).unwrap();
        git(&dir, &["init", "-q", "-b", "main"]);
        git(&dir, &["add", "spec"]);
        git(&dir, &["commit", "-q", "-m", "base"]);

        std::fs::write(
            dir.join("spec/things.yaml"),
            base.replace("operationId: deleteThing", "operationId: purgeThing"),
        )
        .unwrap();
        std::fs::remove_file(dir.join("spec/old.yaml")).unwrap();
        std::fs::write(dir.join("spec/new.yaml"), &base).unwrap();
        assert_eq!(default_base(&dir).len(), 40, "the merge base with main is a commit");

        let changes = diff_revision(&dir, "HEAD").unwrap_or_else(|e| panic!("{e}"));
        let summary: Vec<(String, Level, String)> =
            changes.iter().map(|c| (c.file.clone(), c.level, c.rust.clone())).collect();
        assert_eq!(
            summary,
            vec![
                ("spec/new.yaml".to_owned(), Level::Info, "module fixture added".to_owned()),
                ("spec/old.yaml".to_owned(), Level::Breaking, "module fixture removed".to_owned()),
                (
                    "spec/things.yaml".to_owned(),
                    Level::Breaking,
                    "method delete_thing renamed to purge_thing".to_owned()
                ),
            ]
        );

        let err = diff_revision(&dir, "no-such-branch").unwrap_err();
        assert!(err.contains("`no-such-branch` is not a commit"), "{err}");

        std::fs::write(dir.join("spec/things.yaml"), base.replace("operationId: deleteThing", "operationId: [oops]"))
            .unwrap();
        let err = diff_revision(&dir, "HEAD").unwrap_err();
        assert!(err.starts_with("spec/things.yaml"), "{err}");
        assert!(err.contains("/paths/~1things~1{thing_id}/delete"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
