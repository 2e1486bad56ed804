//! Scenarios of `osbackup` that run against the harness's real Cinder
//! (`real.rs`) and against the fake cloud (`fake.rs`): what an operator
//! sees must be the same from both, down to the snapshots of a table and
//! a json list, which the two share.

use std::process::{Command, Output};

use serde_json::{Value, json};

pub type Outcome = Result<(), String>;

/// `osbackup` logged in to one cloud by its environment.
pub struct Cloud {
    env: Vec<(String, String)>,
    pub secret: String,
}

impl Cloud {
    /// A cloud of the `OS_*` variables `env`; `secret` (a token or a
    /// password, empty for none) must never show in the tool's output.
    pub fn new(env: Vec<(String, String)>, secret: String) -> Self {
        Self { env, secret }
    }

    /// The admin_token cloud of one project on `endpoint` (Cinder's noauth
    /// or Trove's fake Keystone take the token as it is).
    pub fn admin_token(service_var: &str, endpoint: String, token: String, project: &str) -> Self {
        let env = vec![
            ("OS_AUTH_TYPE".to_owned(), "admin_token".to_owned()),
            ("OS_TOKEN".to_owned(), token.clone()),
            ("OS_PROJECT_ID".to_owned(), project.to_owned()),
            (service_var.to_owned(), endpoint),
        ];
        Self { env, secret: token }
    }

    /// `osbackup args…` in this cloud's environment (no `OS_CLOUD`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_osbackup"));
        c.args(args).env_remove("OS_CLOUD").env("COLUMNS", "200");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs to the end; a secret in its output fails the test.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().expect("osbackup runs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        // (Trove's fake Keystone takes the project id as the token: no secret there.)
        if !self.secret.is_empty() {
            assert!(
                !stdout.contains(&self.secret) && !stderr.contains(&self.secret),
                "a secret leaked from osbackup {args:?}"
            );
        }
        out
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> Result<String, String> {
        let out = self.run(args);
        if !out.status.success() {
            return Err(format!(
                "osbackup {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs with `-f json` and parses the output.
    pub fn json(&self, args: &[&str]) -> Result<Value, String> {
        let mut all = args.to_vec();
        all.extend(["-f", "json"]);
        let text = self.ok(&all)?;
        serde_json::from_str(&text).map_err(|e| format!("osbackup {}: not json ({e}): {text}", args.join(" ")))
    }

    /// Runs and expects failure with `code`; returns stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> Result<String, String> {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.code() != Some(code) {
            return Err(format!("osbackup {} exited {} (wanted {code}): {stderr}", args.join(" "), out.status));
        }
        Ok(stderr)
    }
}

/// Ends the scenario with an error (and the line) unless `$cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!("{} (at line {})", format!($($msg)+), line!()));
        }
    };
}

/// A json string's text, empty for anything else.
pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Ids and times replaced, for snapshots of what an operator sees.
pub fn redact(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_inclusive(|c: char| c.is_whitespace() || c == '"' || c == '|' || c == '/' || c == ',') {
        let (core, tail) = word.split_at(
            word.trim_end_matches(|c: char| c.is_whitespace() || c == '"' || c == '|' || c == '/' || c == ',').len(),
        );
        let is_id = core.len() == 36 && core.chars().filter(|c| *c == '-').count() == 4;
        let is_time = core.len() >= 19 && core.as_bytes().get(4) == Some(&b'-') && core.contains('T');
        let is_hex32 = core.len() == 32 && core.chars().all(|c| c.is_ascii_hexdigit());
        // In a table the placeholder keeps the column's width.
        let width = if tail.starts_with(' ') || tail.starts_with('|') { core.len() } else { 0 };
        let replaced = if is_id {
            format!("{:<width$}", "<id>")
        } else if is_time {
            format!("{:<width$}", "<time>")
        } else if is_hex32 {
            format!("{:<width$}", "<project>")
        } else {
            core.to_owned()
        };
        out.push_str(&replaced);
        out.push_str(tail);
    }
    out
}

/// One snapshot file for both suites (no test-file prefix in its name).
fn same_snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// A volume's whole life from the shell: backups full and incremental,
/// every list and show format, properties, restore to a new volume and
/// over the old one, a record exported and imported, snapshots, the
/// errors an operator meets, and every delete.
pub fn cinder_lifecycle(c: &Cloud) -> Outcome {
    // A volume, waited for; every list format.
    let v = c.json(&["volume", "create", "cli-vol", "--size", "1", "--wait"])?;
    ensure!(s(&v["status"]) == "available", "volume create --wait: {v}");
    let volume_id = s(&v["id"]).to_owned();
    let names = c.ok(&["volume", "list", "-f", "value", "-c", "Name"])?;
    ensure!(names.lines().any(|l| l == "cli-vol"), "volume list: {names}");

    // Backups: full, then incremental with a property (3.43, negotiated).
    let full = c.json(&["backup", "create", "cli-vol", "--name", "full", "--wait"])?;
    ensure!(s(&full["status"]) == "available" && full["is_incremental"] == json!(false), "full: {full}");
    let full_id = s(&full["id"]).to_owned();
    let inc = c.json(&[
        "backup",
        "create",
        "cli-vol",
        "--name",
        "inc",
        "--incremental",
        "--property",
        "tier=gold",
        "--wait",
    ])?;
    ensure!(inc["is_incremental"] == json!(true) && inc["metadata"] == json!({"tier": "gold"}), "inc: {inc}");
    let inc_id = s(&inc["id"]).to_owned();
    // Without --wait: the summary OSC prints.
    // (--no-incremental, the last word, makes it full.)
    let quick = c.json(&["backup", "create", "cli-vol", "--name", "quick", "--incremental", "--no-incremental"])?;
    ensure!(s(&quick["volume_id"]) == volume_id && quick.get("status").is_none(), "create: {quick}");
    let quick_id = s(&quick["id"]).to_owned();
    let full = c.ok(&["backup", "show", &quick_id, "-f", "value", "-c", "is_incremental"])?;
    ensure!(full == "False\n", "--no-incremental: {full:?}");
    c.ok(&["backup", "delete", &quick_id, "--wait"]).or_else(|_| {
        // It may still be creating: wait, then delete.
        c.ok(&["backup", "set", &quick_id, "--state", "available", "--wait"])?;
        c.ok(&["backup", "delete", &quick_id, "--wait"])
    })?;

    // Lists: paging by one (three requests), filters, totals, formats.
    let all = c.json(&["backup", "list", "--limit", "1"])?;
    let listed: Vec<&str> = all.as_array().ok_or("a json list")?.iter().map(|b| s(&b["Name"])).collect();
    ensure!(listed == ["inc", "full"], "newest first, one per page: {listed:?}");
    ensure!(all[0]["Incremental"] == json!(true) && all[0].get("Created At").is_some(), "columns: {}", all[0]);
    let one = c.ok(&["backup", "list", "--max-items", "1", "-f", "value", "-c", "Name"])?;
    ensure!(one == "inc\n", "--max-items 1: {one:?}");
    let named = c.ok(&["backup", "list", "--name", "full", "-f", "value", "-c", "ID"])?;
    ensure!(named.trim() == full_id, "--name: {named}");
    let csv = c.ok(&["backup", "list", "--status", "available", "--volume", "cli-vol", "-f", "csv"])?;
    ensure!(
        csv.starts_with("\"ID\",\"Name\",\"Description\",\"Status\",\"Size\",\"Incremental\",\"Created At\"\n"),
        "csv: {csv}"
    );
    ensure!(csv.lines().count() == 3, "a header and two rows: {csv}");
    let yaml = c.ok(&["backup", "list", "-f", "yaml"])?;
    ensure!(yaml.contains("- Created At:") && yaml.contains("Name: inc"), "yaml: {yaml}");
    let long = c.ok(&["backup", "list", "--long"])?;
    ensure!(long.contains("| Volume ") && long.contains("| cli-vol "), "--long shows the volume's name: {long}");
    let machine = c.json(&["backup", "list", "--long"])?;
    ensure!(s(&machine[0]["Volume"]) == volume_id, "machine formats keep the id: {}", machine[0]);

    // Show by name, in every format; set and unset properties (3.43).
    let shown = c.json(&["backup", "show", "inc"])?;
    ensure!(s(&shown["id"]) == inc_id, "show by name: {shown}");
    let table = c.ok(&[
        "backup",
        "show",
        "inc",
        "-c",
        "name",
        "-c",
        "status",
        "-c",
        "is_incremental",
        "-c",
        "metadata",
        "-c",
        "size",
        "-c",
        "volume_id",
        "-c",
        "created_at",
    ])?;
    same_snapshot("backup_show_table", &redact(&table));
    let list =
        c.ok(&["backup", "list", "-f", "json", "-c", "Name", "-c", "Status", "-c", "Incremental", "-c", "ID"])?;
    same_snapshot("backup_list_json", &redact(&list));
    let value = c.ok(&["backup", "show", "inc", "-f", "value", "-c", "status"])?;
    ensure!(value == "available\n", "value: {value:?}");
    let shell = c.ok(&["backup", "show", "inc", "-f", "shell", "-c", "name", "--prefix", "b_"])?;
    ensure!(shell == "b_name=\"inc\"\n", "shell: {shell:?}");
    let yaml = c.ok(&["backup", "show", "inc", "-f", "yaml", "-c", "metadata"])?;
    ensure!(yaml.contains("tier: gold"), "yaml: {yaml}");
    c.ok(&["backup", "set", "inc", "--property", "zone=a", "--name", "inc2", "--description", "nightly"])?;
    let set = c.json(&["backup", "show", "inc2"])?;
    ensure!(set["metadata"] == json!({"tier": "gold", "zone": "a"}) && s(&set["description"]) == "nightly", "{set}");
    c.ok(&["backup", "unset", "inc2", "--property", "tier"])?;
    ensure!(c.json(&["backup", "show", "inc2"])?["metadata"] == json!({"zone": "a"}), "unset");

    // Restore to a new volume, and into the existing one (with --force only).
    let restored = c.json(&["backup", "restore", "full", "--wait"])?;
    let new_volume = s(&restored["volume_id"]).to_owned();
    ensure!(s(&restored["id"]) == full_id, "restore: {restored}");
    // Cinder restores the volume's name and description with its data: the
    // new volume is named after the backed-up one.
    let shown = c.json(&["volume", "show", &new_volume])?;
    ensure!(s(&shown["status"]) == "available" && s(&shown["name"]) == "cli-vol", "the restored volume: {shown}");
    let refused = c.fails(1, &["backup", "restore", "full", &volume_id])?;
    ensure!(refused.contains("--force"), "restoring over a volume needs --force: {refused}");
    let over = c.json(&["backup", "restore", "full", &volume_id, "--force", "--wait"])?;
    ensure!(s(&over["volume_id"]) == volume_id, "restore --force: {over}");

    // Export a record, delete the backup, import it back.
    let record = c.json(&["backup", "record", "export", "inc2"])?;
    let (service, url) = (s(&record["backup_service"]).to_owned(), s(&record["backup_url"]).to_owned());
    ensure!(!service.is_empty() && !url.is_empty(), "record: {record}");
    let table = c.ok(&["backup", "record", "export", "inc2"])?;
    ensure!(table.contains("| Backup Service ") && table.contains("| Metadata "), "OSC's table names: {table}");
    c.ok(&["backup", "delete", "inc2", "--wait"])?;
    let imported = c.json(&["backup", "record", "import", &service, &url, "--wait"])?;
    ensure!(s(&imported["id"]) == inc_id && s(&imported["status"]) == "available", "import: {imported}");

    // Snapshots with properties.
    let snap = c.json(&["snapshot", "create", "snap", "--volume", &volume_id, "--property", "a=b", "--wait"])?;
    ensure!(s(&snap["status"]) == "available" && snap["properties"] == json!({"a": "b"}), "snapshot: {snap}");
    c.ok(&["snapshot", "set", "snap", "--property", "c=d", "--description", "before the upgrade"])?;
    let snap = c.json(&["snapshot", "show", "snap"])?;
    ensure!(
        snap["properties"] == json!({"a": "b", "c": "d"}) && s(&snap["description"]) == "before the upgrade",
        "set: {snap}"
    );
    c.ok(&["snapshot", "unset", "snap", "--property", "a"])?;
    ensure!(c.json(&["snapshot", "show", "snap"])?["properties"] == json!({"c": "d"}), "unset");
    let snaps = c.json(&["snapshot", "list", "--long"])?;
    ensure!(snaps[0]["Properties"] == json!({"c": "d"}) && s(&snaps[0]["Volume"]) == volume_id, "{snaps}");
    // A table names the volume; the machine formats keep its id.
    let table = c.ok(&["snapshot", "list", "--long"])?;
    ensure!(table.contains(" cli-vol ") && !table.contains(&volume_id), "{table}");
    c.ok(&["snapshot", "create", "twin", "--volume", &volume_id, "--wait"])?;
    c.ok(&["snapshot", "create", "twin", "--volume", &volume_id, "--wait"])?;
    let ambiguous = c.fails(1, &["snapshot", "show", "twin"])?;
    ensure!(ambiguous.contains("2 snapshots have the name \"twin\""), "ambiguous: {ambiguous}");
    let twins = c.ok(&["snapshot", "list", "--name", "twin", "-f", "value", "-c", "ID"])?;
    let twins: Vec<&str> = twins.lines().collect();
    c.ok(&["snapshot", "delete", "snap", twins[0], twins[1], "--wait"])?;

    // Errors an operator meets.
    let unknown = c.fails(1, &["backup", "show", "no-such-backup"])?;
    ensure!(unknown.contains("no backup has the id or the name \"no-such-backup\""), "{unknown}");
    let gated =
        c.fails(1, &["backup", "create", &volume_id, "--property", "x=y", "--os-volume-api-version", "3.40"])?;
    ensure!(gated.contains("--property needs microversion 3.43 or later") && gated.contains("3.40"), "{gated}");
    let usage = c.fails(2, &["backup", "list", "--limit", "many"])?;
    ensure!(usage.contains("invalid value 'many'"), "{usage}");
    // cliff's rules: an unknown column among known ones is ignored; only
    // unknown ones is an error (exit 1, as OSC).
    let column = c.fails(1, &["backup", "list", "-c", "Nope"])?;
    ensure!(
        column.contains("No recognized column names in ['Nope']. Recognized columns are ('ID', 'Name',"),
        "{column}"
    );
    let mixed = c.ok(&["backup", "list", "-c", "Nope", "-c", "name", "-f", "value"])?;
    ensure!(mixed == "inc2\nfull\n", "{mixed:?}");

    // --debug: each request on stderr, the token nowhere (checked by run).
    let debug = c.run(&["--debug", "backup", "list", "-f", "value", "-c", "ID"]);
    let stderr = String::from_utf8_lossy(&debug.stderr);
    ensure!(stderr.contains("list_backups_detail") && stderr.contains("status=200"), "--debug: {stderr}");

    // Delete several, one missing: the others go, and the tally is told.
    let deleted = c.fails(1, &["backup", "delete", &inc_id, "no-such-backup", "--wait"])?;
    ensure!(deleted.lines().any(|l| l == "1 of 2 backups failed to delete."), "{deleted}");
    c.ok(&["backup", "delete", "full", "--wait"])?;
    ensure!(c.json(&["backup", "list"])? == json!([]), "every backup gone");
    let ambiguous = c.fails(1, &["volume", "show", "cli-vol"])?;
    ensure!(ambiguous.contains("2 volumes have the name \"cli-vol\""), "{ambiguous}");
    c.ok(&["volume", "delete", &volume_id, &new_volume, "--purge", "--wait"])?;
    Ok(())
}
