//! The commit `osbackup --version` names: from git in a checkout, else from
//! the `.cargo_vcs_info.json` that `cargo package` writes into a published
//! crate (so `cargo install osbackup` names it too), else `unknown`.
//! (A version-info crate such as vergen reads git only, and reports nothing
//! for a crate built from the registry.)

use std::path::Path;
use std::process::Command;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let commit = from_git(Path::new(&manifest)).or_else(|| from_vcs_info(Path::new(&manifest)));
    println!("cargo:rustc-env=OSBACKUP_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
    println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    // A new commit, a checkout or a ref moved: the files git changes.
    if let Some(git_dir) = git(Path::new(&manifest), &["rev-parse", "--git-dir"]) {
        let git_dir = Path::new(&manifest).join(git_dir);
        for file in ["HEAD", "packed-refs", "refs/heads"] {
            println!("cargo:rerun-if-changed={}", git_dir.join(file).display());
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

fn from_git(dir: &Path) -> Option<String> {
    git(dir, &["rev-parse", "--short=12", "HEAD"])
}

/// `{"git": {"sha1": "…"}, …}`.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let info: serde_json::Value = serde_json::from_str(&text).ok()?;
    let sha = info.pointer("/git/sha1")?.as_str()?;
    sha.get(..12).filter(|s| s.chars().all(|c| c.is_ascii_hexdigit())).map(str::to_owned)
}
