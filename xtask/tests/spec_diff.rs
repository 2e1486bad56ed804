//! `cargo xtask spec-diff` as maintainers run it: on this repository, and
//! with arguments it must refuse (exit 2, naming what was expected).

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().unwrap()
}

#[test]
fn runs_on_this_repository() {
    // HEAD against the working tree: whatever it finds, --fail-on none
    // passes, and the markdown report starts with its summary line.
    let out = xtask(&["spec-diff", "HEAD", "--format", "markdown", "--fail-on", "none"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("**Spec diff**: "), "{stdout}");
}

#[test]
fn json_without_rust_is_a_list_of_changes() {
    let out = xtask(&["spec-diff", "HEAD", "--format", "json", "--fail-on", "none"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with('[') && stdout.ends_with("]\n"), "{stdout}");
}

#[test]
fn bad_arguments_exit_2() {
    for (args, message) in [
        (&["spec-diff", "--format", "yaml"][..], "--format takes text, markdown or json, not `yaml`"),
        (&["spec-diff", "--fail-on"][..], "--fail-on needs a value"),
        (&["spec-diff", "--quiet"][..], "spec-diff has no option `--quiet`"),
        (&["spec-diff", "HEAD", "main"][..], "spec-diff takes one revision, not also `main`"),
        (&["spec-diff", "no-such-revision"][..], "`no-such-revision` is not a commit"),
        (
            &["spec-diff", "--rust", "--format", "json"][..],
            "--rust adds a text section, which --format json cannot carry",
        ),
    ] {
        let out = xtask(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
