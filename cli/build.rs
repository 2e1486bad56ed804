//! The commit `osbackup --version` names: from the `.cargo_vcs_info.json`
//! that `cargo package` writes into a published crate (so `cargo install
//! osbackup` names it too), else from git in a checkout, else `unknown`.
//! (A version-info crate such as vergen reads git only, and reports nothing
//! for a crate built from the registry.)

use std::path::Path;
use std::process::Command;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let dir = Path::new(&manifest);
    // A packaged crate's own record first: a crate unpacked inside another
    // repository (a vendored copy) must not name that repository's commit.
    let commit = from_vcs_info(dir).or_else(|| from_git(dir));
    println!("cargo:rustc-env=OSBACKUP_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
    // Only files that exist: a missing one makes cargo run this every time.
    let mut watched = vec![dir.join(".cargo_vcs_info.json")];
    // A new commit, a checkout or a ref moved: the files git changes (in a
    // worktree, HEAD is its own and the refs are shared).
    if let Some(head) = git(dir, &["rev-parse", "--path-format=absolute", "--git-path", "HEAD"]) {
        watched.push(head.into());
    }
    if let Some(common) = git(dir, &["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
        let common = Path::new(&common);
        watched.extend([common.join("packed-refs"), common.join("refs/heads")]);
    }
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

/// The commit of the checkout this crate is part of (its build script is
/// tracked there), not of a repository it merely sits in.
fn from_git(dir: &Path) -> Option<String> {
    git(dir, &["ls-files", "--error-unmatch", "build.rs"])?;
    git(dir, &["rev-parse", "--short=12", "HEAD"])
}

/// `{"git": {"sha1": "…"}, …}`.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let info: serde_json::Value = serde_json::from_str(&text).ok()?;
    let sha = info.pointer("/git/sha1")?.as_str()?;
    sha.get(..12).filter(|s| s.chars().all(|c| c.is_ascii_hexdigit())).map(str::to_owned)
}
