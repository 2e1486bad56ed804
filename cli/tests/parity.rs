//! `osbackup` beside python-openstackclient (and python-troveclient), on
//! the same real Keystone 30 + Cinder 29 (and Trove 26 in fake mode, with
//! keystoneauth's admin_token), command by command: the exit
//! code, the keys and values of `-f json`, the table's headers, `-f value`,
//! `-f csv` byte for byte, `-f yaml` and `-f shell` parsed. What may differ
//! is listed, with its reason, in `cli/tests/parity/accepted.yaml`.
//!
//! Own harness: it provisions Keystone and Cinder, installs the pinned
//! clients (harness/osc/constraints.txt), runs the scenario, and prints
//! every difference not accepted. `PARITY_SHOW=1` prints every command's
//! two outputs.

use std::collections::BTreeMap;
use std::process::{Command, ExitCode, Output};
use std::time::Instant;

use openstack_backups_harness::Trove;
use openstack_backups_tests::world::{DEMO_PASSWORD, World, provision};
use serde_json::Value;

/// The same cloud for both tools: the demo user's password session.
fn env(w: &World) -> Vec<(String, String)> {
    [
        ("OS_AUTH_URL", w.keystone_url.as_str()),
        ("OS_AUTH_TYPE", "password"),
        ("OS_USERNAME", "demo"),
        ("OS_PASSWORD", DEMO_PASSWORD),
        ("OS_PROJECT_NAME", "demo"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ("OS_IDENTITY_API_VERSION", "3"),
        ("OS_REGION_NAME", "RegionOne"),
        ("OS_INTERFACE", "public"),
        ("OS_VOLUME_API_VERSION", "3.71"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// osbackup's words for an OSC command line.
fn osbackup_args(osc: &[&str]) -> Vec<String> {
    let rest: &[&str] = match osc {
        ["volume", "backup", rest @ ..] => &[&["backup"][..], rest].concat(),
        ["volume", "snapshot", rest @ ..] => &[&["snapshot"][..], rest].concat(),
        ["volume", "message", rest @ ..] => &[&["message"][..], rest].concat(),
        other => other,
    };
    rest.iter().map(|s| (*s).to_owned()).collect()
}

/// The two programs and the cloud each one talks to (the same one, except
/// where each tool works in a project of its own).
struct Tools {
    openstack: std::path::PathBuf,
    osc_env: Vec<(String, String)>,
    osb_env: Vec<(String, String)>,
}

impl Tools {
    fn new(openstack: std::path::PathBuf, env: Vec<(String, String)>) -> Self {
        Tools { openstack, osc_env: env.clone(), osb_env: env }
    }

    fn run(&self, program: &std::path::Path, args: &[String]) -> Output {
        let env = if program == self.openstack { &self.osc_env } else { &self.osb_env };
        Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("COLUMNS", "300")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("the program runs")
    }

    /// Runs `osc` through OSC and `osb` (osbackup's words for the same
    /// command, maybe on its own resources) through osbackup, at once.
    fn both_with(&self, osc: &[&str], osb: &[&str]) -> (Output, Output) {
        let osc: Vec<String> = osc.iter().map(|s| (*s).to_owned()).collect();
        let osb = osbackup_args(osb);
        std::thread::scope(|scope| {
            let a = scope.spawn(|| self.run(&self.openstack, &osc));
            let b = self.run(std::path::Path::new(env!("CARGO_BIN_EXE_osbackup")), &osb);
            (a.join().expect("OSC ran"), b)
        })
    }

    /// Runs `osc` through both tools.
    fn both(&self, osc: &[&str]) -> (Output, Output) {
        self.both_with(osc, osc)
    }
}

/// How a format's output is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Value,
    Csv,
    Yaml,
    Shell,
}

impl Format {
    fn flag(self) -> Option<&'static str> {
        match self {
            Format::Table => None,
            Format::Json => Some("json"),
            Format::Value => Some("value"),
            Format::Csv => Some("csv"),
            Format::Yaml => Some("yaml"),
            Format::Shell => Some("shell"),
        }
    }
}

const LIST: &[Format] = &[Format::Table, Format::Json, Format::Value, Format::Csv, Format::Yaml];
const SHOW: &[Format] = &[Format::Table, Format::Json, Format::Value, Format::Yaml, Format::Shell];

/// The table's header cells.
fn headers(text: &str) -> Vec<String> {
    text.lines()
        .find(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect())
        .unwrap_or_default()
}

fn shell(text: &str) -> BTreeMap<String, String> {
    text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// The differences between the two outputs of one command in one format.
fn differences(format: Format, osc: &Output, osb: &Output) -> Vec<String> {
    let mut out = Vec::new();
    if osc.status.code() != osb.status.code() {
        out.push(format!(
            "exit code: OSC {:?}, osbackup {:?} (stderr: OSC {:?}, osbackup {:?})",
            osc.status.code(),
            osb.status.code(),
            String::from_utf8_lossy(&osc.stderr).lines().last().unwrap_or(""),
            String::from_utf8_lossy(&osb.stderr).lines().last().unwrap_or("")
        ));
        return out;
    }
    let (a, b) = (String::from_utf8_lossy(&osc.stdout), String::from_utf8_lossy(&osb.stdout));
    match format {
        Format::Table => {
            let (ha, hb) = (headers(&a), headers(&b));
            if ha != hb {
                out.push(format!("table headers: OSC {ha:?}, osbackup {hb:?}"));
            }
        }
        Format::Json => {
            let (ja, jb): (Value, Value) =
                (serde_json::from_str(&a).unwrap_or(Value::Null), serde_json::from_str(&b).unwrap_or(Value::Null));
            json_differences("", &ja, &jb, &mut out);
        }
        Format::Value | Format::Csv => {
            if a != b {
                out.push(format!("{format:?} text:\n    OSC:      {a:?}\n    osbackup: {b:?}"));
            }
        }
        Format::Yaml => {
            let ya: Value = serde_norway::from_str(&a).unwrap_or(Value::Null);
            let yb: Value = serde_norway::from_str(&b).unwrap_or(Value::Null);
            if ya != yb {
                out.push(format!("yaml:\n    OSC:      {ya}\n    osbackup: {yb}"));
            }
        }
        Format::Shell => {
            let (sa, sb) = (shell(&a), shell(&b));
            if sa != sb {
                out.push(format!("shell:\n    OSC:      {sa:?}\n    osbackup: {sb:?}"));
            }
        }
    }
    out
}

fn json_differences(at: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            for (k, va) in ma {
                match mb.get(k) {
                    Some(vb) => json_differences(&format!("{at}/{k}"), va, vb, out),
                    None => out.push(format!("json {at}/{k}: only OSC has it ({va})")),
                }
            }
            for (k, vb) in mb {
                if !ma.contains_key(k) {
                    out.push(format!("json {at}/{k}: only osbackup has it ({vb})"));
                }
            }
        }
        (Value::Array(la), Value::Array(lb)) if la.len() == lb.len() => {
            for (i, (va, vb)) in la.iter().zip(lb).enumerate() {
                json_differences(&format!("{at}/{i}"), va, vb, out);
            }
        }
        _ if a != b => out.push(format!("json {at}: OSC {a}, osbackup {b}")),
        _ => {}
    }
}

/// One command compared in each of `formats`.
fn compare(tools: &Tools, osc: &[&str], formats: &[Format], found: &mut Vec<(String, String)>) {
    let show = std::env::var_os("PARITY_SHOW").is_some();
    for format in formats {
        let mut args: Vec<&str> = osc.to_vec();
        if let Some(f) = format.flag() {
            args.extend(["-f", f]);
        }
        let (a, b) = tools.both(&args);
        if show {
            eprintln!(
                "$ openstack {}\n{}{}--- osbackup\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&a.stdout),
                String::from_utf8_lossy(&a.stderr),
                String::from_utf8_lossy(&b.stdout),
                String::from_utf8_lossy(&b.stderr)
            );
        }
        for d in differences(*format, &a, &b) {
            found.push((args.join(" "), d));
        }
    }
}

fn osbackup(tools: &Tools, args: &[&str]) -> Result<String, String> {
    let out = tools.run(
        std::path::Path::new(env!("CARGO_BIN_EXE_osbackup")),
        &args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
    );
    if !out.status.success() {
        return Err(format!("osbackup {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The resources the read commands look at, made once (by osbackup).
fn setup(tools: &Tools) -> Result<(), String> {
    osbackup(tools, &["volume", "create", "par-vol", "--size", "1", "--property", "k=v", "--wait"])?;
    osbackup(tools, &["backup", "create", "par-vol", "--name", "par-full", "--wait"])?;
    osbackup(
        tools,
        &["backup", "create", "par-vol", "--name", "par-inc", "--incremental", "--property", "tier=gold", "--wait"],
    )?;
    osbackup(
        tools,
        &["snapshot", "create", "par-snap", "--volume", "par-vol", "--property", "purpose=test", "--wait"],
    )?;
    // A group of par-vol and a group snapshot of it; the group type is an
    // administrator's to make.
    let mut admin = tools.osb_env.clone();
    for (key, value) in [
        ("OS_USERNAME", "admin"),
        ("OS_PASSWORD", openstack_backups_harness::KEYSTONE_ADMIN_PASSWORD),
        ("OS_PROJECT_NAME", "admin"),
    ] {
        admin.retain(|(k, _)| k != key);
        admin.push((key.to_owned(), value.to_owned()));
    }
    let admin = Tools::new(tools.openstack.clone(), admin);
    osbackup(&admin, &["volume", "group", "type", "create", "par-gt", "--description", "parity"])?;
    osbackup(
        tools,
        &[
            "volume",
            "group",
            "create",
            "--volume-group-type",
            "par-gt",
            "--volume-type",
            "__DEFAULT__",
            "--name",
            "par-group",
            "--wait",
        ],
    )?;
    osbackup(tools, &["volume", "group", "add", "volume", "par-group", "par-vol", "--wait"])?;
    osbackup(tools, &["volume", "group", "snapshot", "create", "par-group", "--name", "par-gs", "--wait"])?;
    Ok(())
}

fn scenario(tools: &Tools, found: &mut Vec<(String, String)>) {
    let reads: &[(&[&str], &[Format])] = &[
        (&["volume", "backup", "list"], LIST),
        (&["volume", "backup", "list", "--long"], LIST),
        (&["volume", "backup", "list", "--name", "par-full"], LIST),
        (&["volume", "backup", "list", "--status", "available", "--volume", "par-vol"], LIST),
        (&["volume", "backup", "list", "--limit", "1"], &[Format::Json]),
        (&["volume", "backup", "list", "--sort-column", "Name", "--sort-ascending"], &[Format::Value]),
        (&["volume", "backup", "list", "-c", "name", "-c", "id", "-c", "Nope"], &[Format::Csv]),
        (&["volume", "backup", "list", "--quote", "all"], &[Format::Csv]),
        (&["volume", "backup", "list", "--quote", "minimal"], &[Format::Csv]),
        (&["volume", "backup", "list", "--quote", "none"], &[Format::Csv]),
        (&["volume", "backup", "show", "par-full", "--variable", "status", "--prefix", "b_"], &[Format::Shell]),
        (&["volume", "backup", "show", "par-full"], SHOW),
        (&["volume", "backup", "show", "par-inc"], SHOW),
        (&["volume", "snapshot", "list"], LIST),
        (&["volume", "snapshot", "list", "--long"], LIST),
        (&["volume", "snapshot", "show", "par-snap"], SHOW),
        (&["volume", "snapshot", "list", "--volume", "par-vol", "--status", "available"], LIST),
        (&["volume", "list"], LIST),
        (&["volume", "list", "--long"], LIST),
        (&["volume", "show", "par-vol"], SHOW),
        (&["volume", "message", "list"], LIST),
        (&["volume", "group", "list"], LIST),
        (&["volume", "group", "show", "par-group"], SHOW),
        (&["volume", "group", "show", "par-group", "--volumes"], &[Format::Json]),
        (&["volume", "group", "snapshot", "list"], LIST),
        (&["volume", "group", "snapshot", "show", "par-gs"], SHOW),
        (&["volume", "group", "type", "list"], LIST),
        (&["volume", "group", "type", "show", "par-gt"], SHOW),
        (&["volume", "group", "show", "nope"], &[Format::Json]),
        (&["volume", "group", "snapshot", "show", "nope"], &[Format::Json]),
        (&["limits", "show", "--absolute"], LIST),
        (&["quota", "show"], LIST),
        (&["quota", "show", "--usage"], &[Format::Json]),
        (&["quota", "show", "--default"], &[Format::Json]),
        (&["volume", "backup", "show", "nope"], &[Format::Json]),
        (&["volume", "backup", "list", "-c", "Nope"], &[Format::Json]),
        (&["volume", "backup", "show", "par-full", "-c", "fail_reason"], &[Format::Json]),
    ];
    for (args, formats) in reads {
        compare(tools, args, formats, found);
    }
}

/// `text` with every UUID as `<id>`, every ISO time as `<time>`, and each
/// of `names` as `<name>`: the outputs of the two tools about their own
/// resources, made comparable.
fn normalized(text: &str, names: &[&str]) -> String {
    let mut text = text.to_owned();
    for name in names {
        text = text.replace(name, "<name>");
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let hex = |b: u8| b.is_ascii_hexdigit();
    while i < bytes.len() {
        let rest = &bytes[i..];
        let uuid = rest.len() >= 36
            && rest[..36]
                .iter()
                .enumerate()
                .all(|(j, b)| if [8, 13, 18, 23].contains(&j) { *b == b'-' } else { hex(*b) });
        if uuid {
            out.push_str("<id>");
            i += 36;
            continue;
        }
        let time = rest.len() >= 19
            && rest[..19].iter().enumerate().all(|(j, b)| match j {
                4 | 7 => *b == b'-',
                10 => *b == b'T',
                13 | 16 => *b == b':',
                _ => b.is_ascii_digit(),
            });
        if time {
            out.push_str("<time>");
            i += 19;
            if bytes.get(i) == Some(&b'.') {
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            continue;
        }
        let c = text[i..].chars().next().expect("a char");
        out.push(c);
        i += c.len_utf8();
    }
    // A backup's container is its id's first digits, then its id.
    let mut text = out;
    while let Some(at) = text.find("/<id>") {
        let head = &text[..at];
        let is_prefix = head.len() >= 5
            && head[head.len() - 5..]
                .char_indices()
                .all(|(j, c)| if j == 2 { c == '/' } else { c.is_ascii_hexdigit() });
        if !is_prefix {
            break;
        }
        text = format!("{}<container>{}", &head[..head.len() - 5], &text[at + "/<id>".len()..]);
    }
    text
}

/// One command on each tool's own resources (`{}` in `shape` is the
/// resource's name: OSC's, then osbackup's), compared in one format after
/// normalizing ids, times and the names.
fn compare_own(
    tools: &Tools,
    shape: &[&str],
    names: (&str, &str),
    format: Option<Format>,
    found: &mut Vec<(String, String)>,
) {
    let fill = |name: &str| -> Vec<String> {
        let mut args: Vec<String> = shape.iter().map(|a| a.replace("{}", name)).collect();
        if let Some(f) = format.and_then(Format::flag) {
            args.extend(["-f".to_owned(), f.to_owned()]);
        }
        args
    };
    let (a_args, b_args) = (fill(names.0), fill(names.1));
    let a_ref: Vec<&str> = a_args.iter().map(String::as_str).collect();
    let b_ref: Vec<&str> = b_args.iter().map(String::as_str).collect();
    let (mut a, mut b) = tools.both_with(&a_ref, &b_ref);
    a.stdout = normalized(&String::from_utf8_lossy(&a.stdout), &[names.0]).into_bytes();
    b.stdout = normalized(&String::from_utf8_lossy(&b.stdout), &[names.1]).into_bytes();
    if std::env::var_os("PARITY_SHOW").is_some() {
        eprintln!(
            "$ openstack {}\n{}{}--- osbackup\n{}{}",
            a_args.join(" "),
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&b.stdout),
            String::from_utf8_lossy(&b.stderr)
        );
    }
    let label = shape.join(" ");
    match format {
        Some(f) => found.extend(differences(f, &a, &b).into_iter().map(|d| (label.clone(), d))),
        None => {
            found.extend(differences(Format::Value, &a, &b).into_iter().map(|d| (label.clone(), d)));
        }
    }
}

/// Waits (60 s at most) until osbackup shows `status` (or, with `None`,
/// until the resource is gone).
fn settle(tools: &Tools, show: &[&str], status: Option<&str>) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(60) {
        let mut args: Vec<&str> = show.to_vec();
        args.extend(["-f", "value", "-c", "status"]);
        let out = tools.run(
            std::path::Path::new(env!("CARGO_BIN_EXE_osbackup")),
            &args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
        );
        let now = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        match status {
            Some(s) if now == s => return Ok(()),
            None if out.status.code() == Some(1) => return Ok(()),
            _ => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    }
    Err(format!("{show:?} did not reach {status:?}"))
}

/// Each tool makes, changes and deletes resources of its own; the outputs
/// are compared with ids, times and names normalized.
fn mutations(tools: &Tools, found: &mut Vec<(String, String)>) -> Result<(), String> {
    let vol = ("osc-vol", "osb-vol");
    let json = Some(Format::Json);
    compare_own(tools, &["volume", "create", "{}", "--size", "1", "--property", "a=b"], vol, json, found);
    for name in [vol.0, vol.1] {
        settle(tools, &["volume", "show", name], Some("available"))?;
    }
    let backup = ("osc-backup", "osb-backup");
    compare_own(tools, &["volume", "backup", "create", "par-vol", "--name", "{}"], backup, json, found);
    for name in [backup.0, backup.1] {
        settle(tools, &["backup", "show", name], Some("available"))?;
    }
    let snap = ("osc-snap", "osb-snap");
    compare_own(
        tools,
        &["volume", "snapshot", "create", "{}", "--volume", "par-vol", "--property", "p=q"],
        snap,
        json,
        found,
    );
    for name in [snap.0, snap.1] {
        settle(tools, &["snapshot", "show", name], Some("available"))?;
    }
    compare_own(
        tools,
        &["volume", "backup", "set", "{}", "--description", "d", "--property", "k=v"],
        backup,
        None,
        found,
    );
    compare_own(tools, &["volume", "backup", "show", "{}"], backup, json, found);
    compare_own(tools, &["volume", "backup", "unset", "{}", "--property", "k"], backup, None, found);
    compare_own(
        tools,
        &["volume", "snapshot", "set", "{}", "--description", "d", "--property", "x=y"],
        snap,
        None,
        found,
    );
    compare_own(tools, &["volume", "snapshot", "unset", "{}", "--property", "x"], snap, None, found);
    compare_own(tools, &["volume", "snapshot", "show", "{}"], snap, json, found);
    compare_own(tools, &["volume", "backup", "record", "export", "{}"], backup, json, found);
    compare_own(tools, &["volume", "backup", "restore", "{}", "{}-restored"], backup, json, found);
    for name in [backup.0, backup.1] {
        settle(tools, &["volume", "show", &format!("{name}-restored")], Some("available"))?;
        settle(tools, &["backup", "show", name], Some("available"))?;
    }
    compare_own(tools, &["volume", "snapshot", "delete", "{}"], snap, None, found);
    compare_own(tools, &["volume", "backup", "delete", "{}"], backup, None, found);
    for name in [backup.0, backup.1] {
        settle(tools, &["backup", "show", name], None)?;
    }
    compare_own(tools, &["volume", "delete", "{}-restored", "{}"], backup, None, found);
    compare_own(tools, &["volume", "delete", "{}"], vol, None, found);
    // Errors: exit codes.
    for args in [
        &["volume", "backup", "delete", "nope"][..],
        &["volume", "backup", "create"],
        &["volume", "backup", "show"],
        &["volume", "snapshot", "show", "nope"],
        &["volume", "show", "nope"],
        &["volume", "backup", "list", "--limit", "many"],
    ] {
        exit_codes(tools, args, found);
    }
    Ok(())
}

/// Trove's fake Keystone takes the token as the project: keystoneauth's
/// `admin_token` with one endpoint, read the same way by both tools.
fn trove_env(trove: &Trove, project: &str) -> Vec<(String, String)> {
    [("OS_AUTH_TYPE", "admin_token"), ("OS_TOKEN", project), ("OS_ENDPOINT", trove.endpoint(project).as_str())]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The instance the seeded backups were taken of (fake mode has none).
const TROVE_INSTANCE: &str = "4d9b1b6c-3e2a-4c5d-9f80-0c3a9a7e1b22";

/// A backup record as Trove writes it (fake mode cannot make one).
fn trove_record(project: &str, n: u32, name: &str, status: &str, parent: Option<u32>) -> Value {
    let id = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    serde_json::json!({
        "id": id(n), "name": name, "project_id": project, "status": status, "instance_id": TROVE_INSTANCE,
        "size": 0.25, "parent_id": parent.map(id),
        "created": format!("2026-11-23 08:{n:02}:00"), "updated": format!("2026-11-23 08:{n:02}:30"),
    })
}

/// python-troveclient's database commands beside osbackup's on the real
/// Trove 26 (fake mode): reads of one project's seeded backups, refusals,
/// and each tool's own strategies and deletes in a project of its own
/// (Trove's rate limit counts POSTs per project).
fn trove_side_by_side(
    trove: &Trove,
    openstack: &std::path::Path,
    found: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let shared = "par-trove";
    trove
        .insert_backups(&[
            trove_record(shared, 1, "db-full", "COMPLETED", None),
            trove_record(shared, 2, "db-inc", "COMPLETED", Some(1)),
            trove_record(shared, 3, "db-failed", "FAILED", None),
            trove_record(shared, 4, "db-new", "NEW", None),
        ])
        .map_err(|e| e.to_string())?;
    let tools = Tools::new(openstack.to_owned(), trove_env(trove, shared));
    let reads: &[(&[&str], &[Format])] = &[
        (&["database", "backup", "list"], LIST),
        (&["database", "backup", "list", "--instance-id", TROVE_INSTANCE], &[Format::Json]),
        (&["database", "backup", "list", "--datastore", "mysql"], &[Format::Json]),
        (&["database", "backup", "list", "--limit", "2"], &[Format::Json]),
        (&["database", "backup", "list", "--marker", "00000000-0000-4000-8000-000000000003"], &[Format::Json]),
        (&["database", "backup", "list", "--sort-column", "Name", "--sort-descending"], &[Format::Value]),
        (&["database", "backup", "list", "-c", "Name", "-c", "Status"], &[Format::Csv]),
        (&["database", "backup", "show", "db-full"], SHOW),
        (&["database", "backup", "show", "db-inc"], &[Format::Json]),
        (&["database", "backup", "show", "00000000-0000-4000-8000-000000000003"], &[Format::Json]),
        (&["database", "backup", "show", "nope"], &[Format::Json]),
        (&["database", "backup", "strategy", "list"], LIST),
    ];
    for (args, formats) in reads {
        compare(&tools, args, formats, found);
    }
    for args in [
        &["database", "backup", "create", "x", "--instance", "22222222-2222-4222-8222-222222222222"][..],
        &["database", "backup", "create"],
        &["database", "backup", "delete", "nope"],
        &["database", "backup", "show"],
        &["database", "backup", "strategy", "delete", "--instance-id", "nope"],
    ] {
        exit_codes(&tools, args, found);
    }

    // Each tool's own project.
    let names = ("osc-trove", "osb-trove");
    trove
        .insert_backups(&[trove_record(names.0, 11, "osc-trove-b", "COMPLETED", None), {
            trove_record(names.1, 12, "osb-trove-b", "COMPLETED", None)
        }])
        .map_err(|e| e.to_string())?;
    let own = Tools {
        openstack: openstack.to_owned(),
        osc_env: trove_env(trove, names.0),
        osb_env: trove_env(trove, names.1),
    };
    let json = Some(Format::Json);
    let strategy = ["database", "backup", "strategy"];
    let with = |rest: &[&'static str]| -> Vec<&'static str> { strategy.iter().chain(rest).copied().collect() };
    compare_own(&own, &with(&["create", "--swift-container", "{}"]), names, json, found);
    compare_own(
        &own,
        &with(&["create", "--swift-container", "{}-i", "--instance-id", TROVE_INSTANCE]),
        names,
        json,
        found,
    );
    compare_own(&own, &with(&["list"]), names, json, found);
    compare_own(&own, &with(&["list", "--instance-id", TROVE_INSTANCE]), names, Some(Format::Csv), found);
    compare_own(&own, &with(&["delete", "--instance-id", TROVE_INSTANCE]), names, None, found);
    compare_own(&own, &with(&["delete"]), names, None, found);
    compare_own(&own, &with(&["list"]), names, json, found);
    compare_own(&own, &["database", "backup", "list"], names, json, found);
    compare_own(&own, &["database", "backup", "delete", "{}-b"], names, None, found);
    Ok(())
}

/// One command through both tools, compared by exit code alone (an error's
/// words are each tool's own).
fn exit_codes(tools: &Tools, args: &[&str], found: &mut Vec<(String, String)>) {
    let (a, b) = tools.both(args);
    if a.status.code() != b.status.code() {
        found.push((
            args.join(" "),
            format!(
                "exit code: OSC {:?}, osbackup {:?} ({:?} / {:?})",
                a.status.code(),
                b.status.code(),
                String::from_utf8_lossy(&a.stderr).lines().last().unwrap_or(""),
                String::from_utf8_lossy(&b.stderr).lines().last().unwrap_or("")
            ),
        ));
    }
}

/// A difference of output that may stay (`cli/tests/parity/accepted.yaml`).
#[derive(serde::Deserialize)]
struct AcceptedOutput {
    /// The command as the test writes it (`{}` for a tool's own resource).
    command: String,
    /// A part of the difference's text.
    difference: String,
    /// Why it may stay.
    reason: String,
}

fn accepted_outputs() -> Result<Vec<AcceptedOutput>, String> {
    #[derive(serde::Deserialize)]
    struct File {
        outputs: Vec<AcceptedOutput>,
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity/accepted.yaml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(a) = file.outputs.iter().find(|a| a.reason.trim().is_empty()) {
        return Err(format!("{}: the difference of {:?} needs its reason", path.display(), a.command));
    }
    Ok(file.outputs)
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("side_by_side: test");
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    println!("\nrunning 1 test");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let outcome = runtime.block_on(async {
        let venv = tokio::task::spawn_blocking(openstack_backups_harness::ensure_osc_venv)
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let trove = tokio::task::spawn_blocking(Trove::start);
        let world = provision().await?;
        let trove = trove.await.map_err(|e| e.to_string())?.map_err(|e| format!("Trove did not start: {e}"))?;
        let openstack = venv.join("bin/openstack");
        let tools = Tools::new(openstack.clone(), env(&world));
        let found = tokio::task::spawn_blocking(move || {
            setup(&tools)?;
            let mut found = Vec::new();
            scenario(&tools, &mut found);
            mutations(&tools, &mut found)?;
            trove_side_by_side(&trove, &openstack, &mut found)?;
            Ok::<_, String>(found)
        })
        .await
        .map_err(|e| e.to_string())??;
        drop(world);
        // What is listed, with its reason, may differ; a listed difference
        // that no longer shows is an error too (the list stays short).
        let accepted = accepted_outputs()?;
        let mut used = vec![false; accepted.len()];
        let unlisted: Vec<String> = found
            .iter()
            .filter(|(command, difference)| {
                match accepted.iter().position(|a| a.command == *command && difference.contains(&a.difference)) {
                    Some(i) => {
                        used[i] = true;
                        false
                    }
                    None => true,
                }
            })
            .map(|(c, d)| format!("openstack {c}: {d}"))
            .collect();
        let stale: Vec<String> = accepted
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(a, _)| format!("listed but not seen: openstack {}: {}", a.command, a.difference))
            .collect();
        let all: Vec<String> = unlisted.into_iter().chain(stale).collect();
        if all.is_empty() { Ok(()) } else { Err(all.join("\n")) }
    });
    let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
    println!("test side_by_side ... {verdict}");
    if let Err(e) = &outcome {
        println!("\nfailures:\n\n---- side_by_side ----\n{e}\n");
    }
    println!(
        "\ntest result: {verdict}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        u8::from(outcome.is_ok()),
        u8::from(outcome.is_err()),
        started.elapsed().as_secs_f64()
    );
    if outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
