//! The flag census: every option and positional argument of the
//! python-openstackclient and python-troveclient commands `osbackup`
//! mirrors (`cli/tests/parity/commands.txt`), read from the installed
//! clients' own argparse parsers (`census.py`), held against `osbackup`'s
//! help. Each of their long options is taken by `osbackup`, or listed in
//! `cli/tests/parity/accepted.yaml` with its reason; optional positionals
//! stay optional, no option is required that theirs is not, and `-f` offers
//! their formats. A new OSC release shows here what changed.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use serde::Deserialize;

#[derive(Deserialize)]
struct Option_ {
    flags: Vec<String>,
    choices: Option<Vec<String>>,
    positional: bool,
    required: bool,
    dest: String,
}

#[derive(Deserialize)]
struct Accepted {
    flags: Vec<AcceptedFlags>,
}

#[derive(Deserialize)]
struct AcceptedFlags {
    command: String,
    flags: Vec<String>,
    reason: String,
}

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity")
}

/// osbackup's words for an OSC command.
fn osbackup_words(command: &str) -> Vec<&str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        ["volume", "backup", rest @ ..] => [&["backup"][..], rest].concat(),
        ["volume", "snapshot", rest @ ..] => [&["snapshot"][..], rest].concat(),
        ["volume", "message", rest @ ..] => [&["message"][..], rest].concat(),
        other => other.to_vec(),
    }
}

fn theirs() -> BTreeMap<String, Vec<Option_>> {
    let venv = openstack_backups_harness::ensure_osc_venv().expect("the OSC venv");
    let commands = std::fs::read_to_string(dir().join("commands.txt")).unwrap();
    let mut child = Command::new(venv.join("bin/python"))
        .arg(dir().join("census.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(commands.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "census.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Ours {
    long: BTreeSet<String>,
    usage: String,
    formats: BTreeSet<String>,
}

fn ours(command: &str) -> Ours {
    let out = Command::new(env!("CARGO_BIN_EXE_osbackup"))
        .args(osbackup_words(command))
        .arg("--help")
        .env("COLUMNS", "1000")
        .output()
        .unwrap();
    assert!(out.status.success(), "osbackup {command} --help: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let long = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_owned)
        .collect();
    let usage = text.lines().find(|l| l.starts_with("Usage:")).unwrap_or_default().to_owned();
    // `-f`'s "[possible values: a, b, …]", which help may wrap.
    let formats = text
        .split_once("--format <FORMAT>")
        .and_then(|(_, rest)| rest.split_once("[possible values: "))
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(values, _)| values.split(',').map(|f| f.trim().to_owned()).collect())
        .unwrap_or_default();
    Ours { long, usage, formats }
}

#[test]
fn every_option_of_openstackclient_is_taken_or_listed_with_its_reason() {
    let accepted: Accepted =
        serde_norway::from_str(&std::fs::read_to_string(dir().join("accepted.yaml")).unwrap()).unwrap();
    let mut listed: BTreeMap<(String, String), bool> = BTreeMap::new();
    for a in &accepted.flags {
        assert!(!a.reason.trim().is_empty(), "{}: a listed difference needs its reason", a.command);
        for f in &a.flags {
            listed.insert((a.command.clone(), f.clone()), false);
        }
    }
    let mut wrong = Vec::new();
    for (command, options) in theirs() {
        let ours = ours(&command);
        for o in options.iter().filter(|o| !o.positional) {
            for flag in o.flags.iter().filter(|f| f.starts_with("--")) {
                if ours.long.contains(flag) {
                    if listed.contains_key(&(command.clone(), flag.clone())) {
                        wrong.push(format!("{command}: {flag} is listed as not taken, but osbackup takes it"));
                    }
                    continue;
                }
                match listed.get_mut(&(command.clone(), flag.clone())) {
                    Some(seen) => *seen = true,
                    None => wrong.push(format!("{command}: osbackup does not take {flag} (nor is it listed)")),
                }
            }
            if o.dest == "formatter"
                && let Some(choices) = &o.choices
            {
                let missing: Vec<&String> = choices.iter().filter(|c| !ours.formats.contains(*c)).collect();
                if !missing.is_empty() {
                    wrong.push(format!("{command}: -f {missing:?} is not offered (osbackup: {:?})", ours.formats));
                }
            }
        }
        // Positionals: theirs, in order, against the usage line's.
        let our_positionals: Vec<bool> = ours
            .usage
            .split_whitespace()
            .filter(|w| w.starts_with('<') && !w.starts_with("<--") || (w.starts_with('[') && w != &"[OPTIONS]"))
            .filter(|w| !w.contains("--"))
            .map(|w| w.starts_with('<'))
            .collect();
        let their_positionals: Vec<bool> = options.iter().filter(|o| o.positional).map(|o| o.required).collect();
        if our_positionals != their_positionals {
            wrong.push(format!(
                "{command}: positionals (required?) differ: theirs {their_positionals:?}, ours {our_positionals:?} ({})",
                ours.usage
            ));
        }
        // No option required that theirs is not.
        let required: Vec<&str> =
            ours.usage.split_whitespace().filter(|w| w.starts_with("--") || w.starts_with("<--")).collect();
        if !required.is_empty() && !options.iter().any(|o| o.required && !o.positional) {
            wrong.push(format!(
                "{command}: osbackup requires {required:?}, python-openstackclient nothing ({})",
                ours.usage
            ));
        }
    }
    for ((command, flag), seen) in &listed {
        if !seen {
            wrong.push(format!("{command}: {flag} is listed, but python-openstackclient no longer has it"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
