//! `cargo xtask dist`: the archive an operator installs `osbackup` from.
//! The program builds in release mode; its manual pages and completions
//! come from the program itself (`osbackup man`, `osbackup completion`), so
//! they are what that binary accepts.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The completion scripts an archive carries: the shell, and the file name
/// each shell looks for.
const COMPLETIONS: [(&str, &str); 3] = [("bash", "osbackup.bash"), ("zsh", "_osbackup"), ("fish", "osbackup.fish")];

/// Builds `target/dist/osbackup-<version>-<target>.tar.gz` and prints its
/// path: `bin/osbackup`, `man/man1/*.1`, `completions/`, `LICENSE` and the
/// README that says how to install them.
pub fn run(root: &Path, args: &[&str]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("dist takes no arguments, found: {}", args.join(" ")));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--release", "--locked", "-p", "osbackup"])
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("the release build failed ({status})"));
    }
    // Where cargo put it: CARGO_TARGET_DIR when set, else the workspace's target/.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = target.join("release").join(format!("osbackup{}", std::env::consts::EXE_SUFFIX));
    let version = capture(&binary, &["-V"])?;
    // `osbackup 0.1.0 (commit …)`
    let number = version.split_whitespace().nth(1).ok_or_else(|| format!("osbackup -V said {version:?}"))?.to_owned();
    let platform = host_target(&cargo)?;
    let name = format!("osbackup-{number}-{platform}");
    let stage = target.join("dist").join(&name);
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| format!("cannot clear {}: {e}", stage.display()))?;
    }
    for dir in ["bin", "man/man1", "completions"] {
        std::fs::create_dir_all(stage.join(dir)).map_err(|e| format!("cannot create {dir}: {e}"))?;
    }
    copy(&binary, &stage.join("bin").join(binary.file_name().unwrap_or_default()))?;
    copy(&root.join("LICENSE"), &stage.join("LICENSE"))?;
    let readme =
        std::fs::read_to_string(root.join("cli/dist/README.md")).map_err(|e| format!("cli/dist/README.md: {e}"))?;
    std::fs::write(stage.join("README.md"), readme.replace("{target}", &platform))
        .map_err(|e| format!("README.md: {e}"))?;
    let man = stage.join("man/man1");
    capture(&binary, &["man", "--dir", man.to_str().ok_or("a target path that is not UTF-8")?])?;
    for (shell, file) in COMPLETIONS {
        let script = capture(&binary, &["completion", shell])?;
        std::fs::write(stage.join("completions").join(file), script).map_err(|e| format!("{file}: {e}"))?;
    }
    let archive = target.join("dist").join(format!("{name}.tar.gz"));
    pack(&stage, &name, &archive)?;
    let pages = std::fs::read_dir(&man).map_err(|e| e.to_string())?.count();
    println!("{} ({pages} manual pages, completions for bash, zsh and fish)", archive.display());
    Ok(())
}

/// What `program args…` prints on stdout; its stderr on failure.
fn capture(program: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("{}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!("osbackup {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("osbackup {}: not UTF-8: {e}", args.join(" ")))
}

/// The target triple the release build is for (`rustc -vV`'s host).
fn host_target(cargo: &str) -> Result<String, String> {
    let rustc = Path::new(cargo).with_file_name("rustc");
    let rustc = if rustc.exists() { rustc } else { PathBuf::from("rustc") };
    let out = Command::new(rustc).arg("-vV").output().map_err(|e| format!("could not run rustc: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| format!("rustc -vV named no host: {text}"))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to).map(|_| ()).map_err(|e| format!("cannot copy {}: {e}", from.display()))
}

/// A gzip'd tar of `stage`, its entries under `name/` (tar and flate2: the
/// format's libraries, no `tar` program needed).
fn pack(stage: &Path, name: &str, archive: &Path) -> Result<(), String> {
    let file = std::fs::File::create(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    tar.mode(tar::HeaderMode::Deterministic);
    tar.append_dir_all(name, stage).map_err(|e| format!("packing {}: {e}", stage.display()))?;
    tar.into_inner().and_then(flate2::write::GzEncoder::finish).map_err(|e| format!("{}: {e}", archive.display()))?;
    Ok(())
}
