//! The help of every command, locked by insta snapshots: what an operator
//! reads is reviewed like code. The commands are found by walking the help
//! itself, so a new command without a snapshot fails here.

use std::process::Command;

fn help(path: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_osbackup"))
        .args(path)
        .arg("--help")
        .env("COLUMNS", "100")
        .env_remove("CLIFF_MAX_TERM_WIDTH")
        .env_remove("CLIFF_FIT_WIDTH")
        .output()
        .expect("osbackup runs");
    assert!(out.status.success(), "{path:?} --help: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

/// The subcommands a help text lists under "Commands:".
fn subcommands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line == "Commands:" {
            inside = true;
            continue;
        }
        if inside {
            match line.strip_prefix("  ").and_then(|l| l.split_whitespace().next()) {
                Some(name) if !line.starts_with("   ") => {
                    if name != "help" {
                        out.push(name.to_owned());
                    }
                }
                Some(_) => {}
                None => inside = false,
            }
        }
    }
    out
}

#[test]
fn every_commands_help() {
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut names = Vec::new();
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        let name = if path.is_empty() { "osbackup".to_owned() } else { format!("osbackup-{}", path.join("-")) };
        insta::assert_snapshot!(name.clone(), text);
        names.push((name, text.lines().next().unwrap_or_default().to_owned()));
        seen += 1;
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
    }
    assert!(seen >= 25, "walked {seen} commands");
    man_pages_are_the_commands(&names);
}

/// `osbackup man --dir` writes one page per command the help walk found,
/// each named after it, with its synopsis; a directory it cannot
/// make is an error (exit 1) that names it.
fn man_pages_are_the_commands(names: &[(String, String)]) {
    let dir = std::env::temp_dir().join(format!("osbackup-man-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_osbackup")).args(["man", "--dir"]).arg(&dir).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert_eq!(said, format!("{} manual pages written to {}\n", names.len(), dir.display()));
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap().trim_end_matches(".1").to_owned())
        .collect();
    pages.sort();
    let mut expected: Vec<String> = names.iter().map(|(name, _)| name.clone()).collect();
    expected.sort();
    assert_eq!(pages, expected);
    for (name, about) in names {
        let page = std::fs::read_to_string(dir.join(format!("{name}.1"))).unwrap();
        // roff escapes '-' as '\-' and quotes as '\*(Aq': the description's
        // first letters are compared, not all of it.
        let heading = format!(
            ".SH NAME\n{} \\- {}",
            name.replace('-', "\\-"),
            about.split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default()
        );
        assert!(page.contains(&heading), "{name}.1 lacks {heading:?}:\n{page}");
    }
    let file = dir.join("osbackup.1");
    let out = Command::new(env!("CARGO_BIN_EXE_osbackup")).args(["man", "--dir"]).arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("osbackup: cannot write the manual pages into {}", file.display())),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--version` names the crate version, the commit and the API versions the
/// tool speaks, the microversion range from the generated client's table;
/// `-V` the first line alone.
#[test]
fn the_version_names_the_commit_and_the_microversion_range() {
    let run = |flag: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_osbackup")).arg(flag).output().expect("osbackup runs");
        assert!(out.status.success(), "{flag}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let long = run("--version");
    let lines: Vec<&str> = long.lines().collect();
    let first = format!("osbackup {} (commit ", env!("CARGO_PKG_VERSION"));
    let commit = lines[0].strip_prefix(&first).and_then(|rest| rest.strip_suffix(')')).unwrap_or_default();
    // The checkout's commit; outside a checkout (a source package, or the
    // copy cargo-mutants builds) the build cannot know it.
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map_or_else(|| "unknown".to_owned(), |out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    assert_eq!(commit, head, "{long}");
    let max = openstack_backups::block_storage::operations::SERVICE.max_microversion.unwrap();
    assert_eq!(
        &lines[1..],
        [format!("block-storage API v3, microversions 3.0 to {max}").as_str(), "database API v1.0 (no microversions)"]
    );
    assert_eq!(run("-V"), format!("{}\n", lines[0]));
}
