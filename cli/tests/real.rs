//! `osbackup` against a real Cinder 29 and Trove 26, as an operator uses
//! it: a whole lifecycle from the shell (volume → backups → restore →
//! record export/import → snapshots → deletes), in every output format,
//! with the errors an operator meets (unknown and ambiguous names, a flag
//! above the microversion in use, bad arguments) and their exit statuses.
//!
//! Its own harness: it starts the servers, runs the steps in order, and
//! stops them.

use std::collections::BTreeMap;
use std::process::{Command, ExitCode};
use std::time::Instant;

use openstack_backups_harness::{Cinder, Trove};
use openstack_backups_tests::random_hex;
use serde_json::{Value, json};

#[macro_use]
#[allow(dead_code)]
mod scenarios;

use scenarios::{Cloud, Outcome, cinder_lifecycle, s};

/// An admin-token cloud of a new project of `cinder` (noauth takes the
/// token as it is), and the project.
fn admin_cloud(cinder: &Cinder) -> (Cloud, String) {
    let project = random_hex();
    let cloud = Cloud::admin_token(
        "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE",
        format!("{}/v3/%(project_id)s", cinder.root_url()),
        format!("admin:{project}"),
        &project,
    );
    (cloud, project)
}

/// `backup prune` on a volume with two chains spread over simulated days
/// (the API cannot set a backup's creation time: the harness writes it,
/// and the data timestamp Cinder chains by, into Cinder's database).
fn trove(trove: &Trove) -> Outcome {
    let project = random_hex();
    let instance = "4d9b1b6c-3e2a-4c5d-9f80-0c3a9a7e1b22";
    let record = |name: &str, minute: u32| {
        json!({"id": format!("00000000-0000-4000-8000-0000000000{minute:02}"), "name": name, "project_id": project,
            "status": "COMPLETED", "instance_id": instance, "size": 0.25,
            "created": format!("2026-11-23 08:{minute:02}:00"), "updated": format!("2026-11-23 08:{minute:02}:30")})
    };
    trove.insert_backups(&[record("nightly", 1), record("weekly", 2)]).map_err(|e| e.to_string())?;
    let mut c =
        Cloud::admin_token("OS_DATABASE_ENDPOINT_OVERRIDE", trove.endpoint(&project), project.clone(), &project);
    c.secret.clear();
    let list = c.json(&["database", "backup", "list"])?;
    let names: Vec<&str> = list.as_array().ok_or("a list")?.iter().map(|b| s(&b["Name"])).collect();
    ensure!(names == ["weekly", "nightly"], "{list}");
    ensure!(s(&list[0]["Instance ID"]) == instance && list[0].get("Parent ID").is_some(), "{}", list[0]);
    let by_instance = c.ok(&["database", "backup", "list", "--instance", instance, "-f", "value", "-c", "Name"])?;
    ensure!(by_instance == "weekly\nnightly\n", "{by_instance}");
    let shown = c.json(&["database", "backup", "show", "nightly"])?;
    ensure!(s(&shown["status"]) == "COMPLETED" && shown.get("datastore").is_some(), "{shown}");
    let missing = c.fails(1, &["database", "backup", "show", "monthly"])?;
    ensure!(missing.contains("no database backup has the id or the name \"monthly\""), "{missing}");

    // Prune's plan on Trove's own parent ids: a chain on another instance.
    let other = "7a1e2f3c-0000-4000-8000-00000000abcd";
    let mut chain = vec![record("base", 10), record("child", 11), record("fresh", 20)];
    for r in &mut chain {
        r["instance_id"] = json!(other);
    }
    chain[1]["parent_id"] = chain[0]["id"].clone();
    trove.insert_backups(&chain).map_err(|e| e.to_string())?;
    let plan = c.json(&["database", "backup", "prune", "--instance", other, "--keep-last", "1", "--dry-run"])?;
    let actions: Vec<(String, String)> = plan
        .as_array()
        .ok_or("a json list")?
        .iter()
        .map(|r| (s(&r["Name"]).to_owned(), s(&r["Action"]).to_owned()))
        .collect();
    let want: Vec<(String, String)> = [("fresh", "keep"), ("child", "delete"), ("base", "delete")]
        .iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect();
    ensure!(actions == want, "{actions:?}");
    let plan = c.json(&[
        "database",
        "backup",
        "prune",
        "--instance",
        other,
        "--keep-tag",
        "x",
        "--keep-last",
        "2",
        "--dry-run",
    ])?;
    ensure!(s(&plan[2]["Reason"]).contains("base of a kept incremental"), "{plan}");

    // Backup strategies: the project's and an instance's, listed, replaced, deleted.
    let made = c.json(&["database", "backup", "strategy", "create", "--swift-container", "nightly"])?;
    ensure!(
        made == json!({"backend": "swift", "instance_id": "", "project_id": project, "swift_container": "nightly"}),
        "{made}"
    );
    c.ok(&["database", "backup", "strategy", "create", "--swift-container", "orders", "--instance-id", instance])?;
    let listed = c.ok(&["database", "backup", "strategy", "list", "-f", "value", "--instance-id", instance])?;
    ensure!(listed == format!("{project} {instance} orders\n"), "{listed:?}");
    let all = c.json(&["database", "backup", "strategy", "list"])?;
    ensure!(all.as_array().is_some_and(|a| a.len() == 2), "{all}");
    c.ok(&["database", "backup", "strategy", "delete", "--instance-id", instance])?;
    c.ok(&["database", "backup", "strategy", "delete"])?;
    let none = c.ok(&["database", "backup", "strategy", "list", "-f", "value"])?;
    ensure!(none.is_empty(), "{none:?}");
    // Optional, as in python-troveclient; Trove needs it: said before sending (exit 1).
    let refused = c.fails(1, &["database", "backup", "strategy", "create"])?;
    ensure!(refused.contains("give --swift-container"), "{refused}");

    // Restore into a new instance, in a project of its own (the harness
    // allows 3 POSTs a minute). The seeded backup carries the checksum fake
    // mode's object store answers with; Trove compares them.
    let project = random_hex();
    let mut c =
        Cloud::admin_token("OS_DATABASE_ENDPOINT_OVERRIDE", trove.endpoint(&project), project.clone(), &project);
    c.secret.clear();
    let mut restorable = record("restorable", 30);
    restorable["project_id"] = json!(project);
    restorable["checksum"] = json!("fake-md5-sum");
    restorable["location"] = json!("http://swift.example/backups/restorable.xbstream.gz.enc");
    trove.insert_backups(&[restorable]).map_err(|e| e.to_string())?;
    let made = c.json(&["database", "backup", "restore", "restorable", "--name", "restored", "--flavor", "2"])?;
    ensure!(s(&made["status"]) == "BUILD" && s(&made["name"]) == "restored", "{made}");
    ensure!(made["volume"] == json!(1) && s(&made["flavor"]) == "2", "size and flavor: {made}");
    ensure!(s(&made["datastore"]) == "mysql" && s(&made["datastore_version"]) == "5.7", "{made}");
    // --wait follows it; fake mode leaves it in BUILD, so the wait times out
    // naming the last status (exit 1).
    let waited = c.fails(
        1,
        &[
            "database",
            "backup",
            "restore",
            "restorable",
            "--name",
            "r2",
            "--flavor",
            "2",
            "--wait",
            "--wait-timeout",
            "1",
        ],
    )?;
    ensure!(waited.contains("database instance") && waited.contains("last status: BUILD"), "{waited}");
    // Trove's refusal, with its message and request id (exit 1).
    let over =
        c.fails(1, &["database", "backup", "restore", "restorable", "--name", "r3", "--flavor", "2", "--size", "11"])?;
    ensure!(over.contains("Volume 'size' cannot exceed maximum of 10 GB") && over.contains("req-"), "{over}");
    // A bad --nic is a usage error, and nothing is sent (exit 2).
    let nic =
        c.fails(2, &["database", "backup", "restore", "restorable", "--name", "r4", "--flavor", "2", "--nic", "x"])?;
    ensure!(nic.contains("expected net-id=<network id>"), "{nic}");
    Ok(())
}

/// Quotas and limits as an operator reads them before backing up, a revert
/// to the latest snapshot, and a snapshot unmanaged then adopted again.
fn cinder_quotas_and_revert(c: &Cloud) -> Outcome {
    c.ok(&["volume", "create", "qr-vol", "--size", "1", "--wait"])?;

    let defaults = c.json(&["quota", "show", "--default"])?;
    let backups = defaults.as_array().ok_or("a list")?.iter().find(|r| s(&r["Resource"]) == "backups");
    ensure!(backups.is_some_and(|r| r["Limit"] == json!(-1)), "{defaults}");
    let usage = c.json(&["quota", "show", "--usage"])?;
    let volumes = usage.as_array().ok_or("a list")?.iter().find(|r| s(&r["Resource"]) == "volumes").cloned();
    ensure!(volumes == Some(json!({"Resource": "volumes", "Limit": -1, "In Use": 1, "Reserved": 0})), "{usage}");
    let limits = c.json(&["limits", "show", "--absolute"])?;
    let used = limits.as_array().ok_or("a list")?.iter().find(|r| s(&r["Name"]) == "total_volumes_used").cloned();
    ensure!(used == Some(json!({"Name": "total_volumes_used", "Value": 1})), "{limits}");
    // python-openstackclient's no-ops for block storage are taken.
    let same = c.json(&["limits", "show", "--absolute", "--reserved", "--project-domain", "Default"])?;
    ensure!(same == limits, "{same}");
    ensure!(c.json(&["quota", "show", "--volume", "--usage"])? == usage, "quota show --volume");
    let rate = c.ok(&["limits", "show", "--rate", "-f", "csv"])?;
    ensure!(rate == "\"Verb\",\"URI\",\"Value\",\"Remain\",\"Unit\",\"Next Available\"\n", "{rate:?}");
    let usage_error = c.fails(2, &["limits", "show"])?;
    ensure!(usage_error.contains("--absolute"), "{usage_error}");

    c.ok(&["snapshot", "create", "qr-old", "--volume", "qr-vol", "--wait"])?;
    c.ok(&["snapshot", "create", "qr-new", "--volume", "qr-vol", "--wait"])?;
    let refused = c.fails(1, &["volume", "revert", "qr-old"])?;
    ensure!(refused.contains("not the latest"), "{refused}");
    c.ok(&["volume", "revert", "qr-new", "--wait"])?;
    let shown = c.json(&["volume", "show", "qr-vol"])?;
    ensure!(s(&shown["status"]) == "available", "{shown}");

    // Unmanage the older snapshot (the backend keeps it), adopt it again.
    let old = c.json(&["snapshot", "show", "qr-old"])?;
    let old_id = s(&old["id"]).to_owned();
    c.ok(&["snapshot", "delete", "--remote", "qr-old", "--wait"])?;
    let source = format!("source-name=snapshot-{old_id}");
    let adopted =
        c.json(&["snapshot", "create", "qr-adopted", "--volume", "qr-vol", "--remote-source", &source, "--wait"])?;
    ensure!(s(&adopted["status"]) == "available" && s(&adopted["name"]) == "qr-adopted", "{adopted}");

    c.ok(&["snapshot", "delete", "qr-adopted", "qr-new", "--wait"])?;
    c.ok(&["volume", "delete", "qr-vol", "--wait"])?;
    Ok(())
}

/// The cloud as the library sees it, for what the command line does not
/// show (backup properties, temporary snapshots).
struct Peek {
    client: openstack_backups::block_storage::Client,
    rt: tokio::runtime::Runtime,
}

impl Peek {
    fn new(cinder: &Cinder, project: &str) -> Peek {
        let config = openstack_backups::ClientConfig::new()
            .with_token(format!("admin:{project}"))
            .with_microversion(openstack_backups::Microversion::new(3, 71));
        let client = openstack_backups::block_storage::Client::new(&cinder.endpoint(project), config);
        Peek { client, rt: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime") }
    }

    /// The backups a policy made, by volume name.
    fn backups_of(&self, policy: &str) -> Result<Vec<openstack_backups::block_storage::types::Backup>, String> {
        let all = self.rt.block_on(self.client.list_backups_detail().all()).map_err(|e| e.to_string())?;
        Ok(all.into_iter().filter(|b| b.metadata.get("osbackup-policy").is_some_and(|p| p == policy)).collect())
    }

    /// The temporary snapshots of policies.
    fn temporary_snapshots(&self) -> Result<usize, String> {
        let all = self.rt.block_on(self.client.list_snapshots_detail().all()).map_err(|e| e.to_string())?;
        Ok(all.iter().filter(|s| s.metadata.contains_key("osbackup-temporary")).count())
    }

    /// Waits (30 s at most) until `ready` holds.
    fn until(&self, what: &str, ready: impl Fn(&Peek) -> Result<bool, String>) -> Outcome {
        let started = Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(30) {
            if ready(self)? {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Err(format!("{what}: not within 30 s"))
    }
}

/// Reads Prometheus' text format with Prometheus' own Python parser; returns
/// each sample as `name{labels} value` (labels sorted), one per line.
fn parse_prometheus(text: &str) -> Result<Vec<String>, String> {
    let venv = openstack_backups_harness::ensure_tools_venv().map_err(|e| e.to_string())?;
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\nfor f in text_string_to_metric_families(sys.stdin.read()):\n    for s in f.samples:\n        print(s.name + '{' + ','.join(k + '=' + v for k, v in sorted(s.labels.items())) + '} ' + repr(s.value))\n";
    let mut child = Command::new(venv.join("bin/python"))
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    use std::io::Write;
    child.stdin.take().expect("piped").write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("the parser refused the text: {}\n{text}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
}

/// Backup policies from the shell: the README's ten-line policy run,
/// re-run, reported (read back by Prometheus' parser); a failing volume
/// (Cinder's reason and user message), a missing one and a stale one;
/// policy-file errors. (A run killed twice and run again, and two runs at
/// once, are the tool's own logic: `tests/fake.rs`.)
fn cinder_policies(c: &Cloud, cinder: &Cinder, project: &str) -> Outcome {
    let peek = Peek::new(cinder, project);
    for name in ["pa-attached", "pb", "pc"] {
        c.ok(&["volume", "create", name, "--size", "1", "--property", "backup=nightly", "--wait"])?;
    }
    c.ok(&["volume", "create", "pd-untagged", "--size", "1", "--wait"])?;
    let attached = s(&c.json(&["volume", "show", "pa-attached"])?["id"]).to_owned();
    peek.rt.block_on(openstack_backups_tests::attach_volume(&cinder.root_url(), project, &attached))?;
    peek.until("pa-attached in-use", |p| {
        let v = p.rt.block_on(p.client.show_volume().volume_id(&attached).send()).map_err(|e| e.to_string())?;
        Ok(v.volume.status.as_str() == "in-use")
    })?;
    c.ok(&["backup", "create", "pb", "--name", "by-hand", "--wait"])?;

    let dir = cinder.dir().join(format!("policies-{project}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("policies.yaml");
    std::fs::write(
        &file,
        "policies:
  nightly:
    select: {metadata: {backup: nightly}}   # or names: [db1, db2], name-glob: \"prod-*\", all: true
    every: 24h
    full-every: 7
    in-use: snapshot
    keep: {daily: 7, weekly: 4}
    concurrency: 4
  fragile:
    select: {names: [pe-doomed]}
    every: 1h
  ghost:
    select: {names: [no-such-volume]}
    every: 1h
",
    )
    .map_err(|e| e.to_string())?;
    let policy = file.to_str().ok_or("a path")?;

    // Policy-file errors are usage errors, with the file, the line and the field.
    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, "policies:\n  x:\n    select: {all: true}\n    every: 24\n").map_err(|e| e.to_string())?;
    let err = c.fails(2, &["backup", "run", "--policy", broken.to_str().ok_or("a path")?])?;
    ensure!(err.contains("broken.yaml:4:12: policies.x.every: expected a duration like 24h"), "{err}");
    let err = c.fails(2, &["backup", "report", "--policy", policy, "--only", "weekly"])?;
    ensure!(err.contains("no policy named \"weekly\""), "{err}");

    // The plan, then the run: three full backups, the attached volume's
    // through a temporary snapshot that is gone afterwards.
    let plan = c.json(&["backup", "run", "--policy", policy, "--only", "nightly", "--dry-run"])?;
    let rows = plan.as_array().ok_or("rows")?;
    let actions: BTreeMap<&str, &str> = rows.iter().map(|r| (s(&r["Volume"]), s(&r["Action"]))).collect();
    ensure!(
        actions == BTreeMap::from([("pa-attached", "full (via snapshot)"), ("pb", "full"), ("pc", "full")]),
        "dry run: {plan}"
    );
    ensure!(rows.iter().all(|r| s(&r["Outcome"]) == "planned") && peek.backups_of("nightly")?.is_empty(), "{plan}");
    let first = c.json(&["backup", "run", "--policy", policy, "--only", "nightly"])?;
    ensure!(first.as_array().is_some_and(|r| r.len() == 3 && r.iter().all(|r| s(&r["Outcome"]) == "done")), "{first}");
    ensure!(peek.backups_of("nightly")?.len() == 3 && peek.temporary_snapshots()? == 0, "first run: {first}");
    let second = c.json(&["backup", "run", "--policy", policy, "--only", "nightly"])?;
    ensure!(second.as_array().is_some_and(|r| r.iter().all(|r| s(&r["Outcome"]) == "protected")), "{second}");
    ensure!(peek.backups_of("nightly")?.len() == 3, "nothing made twice");

    // The report, as monitoring reads it.
    let report = c.json(&["backup", "report", "--policy", policy, "--only", "nightly"])?;
    ensure!(
        report
            .as_array()
            .is_some_and(|r| r.len() == 3 && r.iter().all(|r| s(&r["State"]) == "protected" && r["Chain"] == json!(1))),
        "{report}"
    );
    let text = c.ok(&["backup", "report", "--policy", policy, "--only", "nightly", "-f", "prometheus"])?;
    let samples = parse_prometheus(&text)?;
    let protected: Vec<&String> = samples.iter().filter(|l| l.starts_with("osbackup_volume_protected{")).collect();
    ensure!(
        protected.len() == 3 && protected.iter().all(|l| l.contains("state=protected") && l.ends_with(" 1.0")),
        "{samples:#?}"
    );
    ensure!(
        samples.iter().any(|l| l.starts_with("osbackup_volume_backups_size_bytes{")
            && l.contains("volume_name=pb")
            && l.ends_with(" 1073741824.0")),
        "{samples:#?}"
    );
    ensure!(
        samples.iter().filter(|l| l.starts_with("osbackup_volume_last_backup_timestamp_seconds{")).count() == 3,
        "{samples:#?}"
    );
    ensure!(samples.iter().any(|l| l.starts_with("osbackup_report_timestamp_seconds{} ")), "{samples:#?}");

    // A volume whose backup fails: exit 1, Cinder's reason and its message;
    // the report says failing. A name that matches no volume: missing.
    let doomed = c.json(&["volume", "create", "pe-doomed", "--size", "1", "--wait"])?;
    let path = cinder.dir().join("volumes").join(format!("volume-{}", s(&doomed["id"])));
    std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let out = c.run(&["backup", "run", "--policy", policy, "--only", "fragile", "-f", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.code() == Some(1), "a failed backup exits 1: {stdout}");
    ensure!(
        stdout.contains("No such file or directory")
            && stdout.contains("(Cinder: create backup:Backup driver failed to create backup.)"),
        "{stdout}"
    );
    ensure!(
        String::from_utf8_lossy(&out.stderr).contains("policy fragile: 1 of 1 volumes are not protected"),
        "{out:?}"
    );
    let rows: Value = serde_json::from_str(&stdout).map_err(|e| format!("{e}: {stdout}"))?;
    let failed = s(&rows[0]["Backup ID"]).to_owned();

    // Its message, with OSC's columns and fields; deleted once, then not found.
    let listed = c.json(&["message", "list", "--resource-uuid", &failed])?;
    ensure!(listed.as_array().is_some_and(|m| m.len() == 1), "{listed}");
    ensure!(
        s(&listed[0]["Event ID"]) == "VOLUME_VOLUME_BACKUP_013_020"
            && s(&listed[0]["Resource Type"]) == "VOLUME_BACKUP"
            && s(&listed[0]["Message Level"]) == "ERROR",
        "{listed}"
    );
    let message = s(&listed[0]["ID"]).to_owned();
    let shown = c.json(&["message", "show", &message])?;
    let keys: Vec<&str> = shown.as_object().ok_or("an object")?.keys().map(String::as_str).collect();
    ensure!(
        keys == [
            "created_at",
            "event_id",
            "guaranteed_until",
            "id",
            "message_level",
            "request_id",
            "resource_type",
            "resource_uuid",
            "user_message"
        ],
        "{shown}"
    );
    c.ok(&["message", "delete", &message])?;
    let again = c.fails(1, &["message", "delete", &message])?;
    ensure!(again.contains("Failed to delete 1 of 1 messages."), "{again}");
    // A --wait that ends in a failure prints Cinder's message too.
    let waited = c.fails(1, &["backup", "create", "pe-doomed", "--name", "by-hand-doomed", "--wait"])?;
    ensure!(waited.contains("Cinder's message: create backup:Backup driver failed to create backup."), "{waited}");
    let out = c.run(&[
        "backup", "report", "--policy", policy, "--only", "fragile", "--only", "ghost", "-f", "value", "-c", "Volume",
        "-c", "State",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.code() == Some(1) && stdout == "pe-doomed failing\nno-such-volume missing\n", "{out:?}");
    let ghost = c.fails(1, &["backup", "run", "--policy", policy, "--only", "ghost"])?;
    ensure!(ghost.contains("no volume is named \"no-such-volume\""), "{ghost}");
    // Without a policy: every volume, any backup counting.
    let out = c.run(&["backup", "report", "--older-than", "1h", "-f", "value", "-c", "Volume", "-c", "State"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.code() == Some(1)
            && stdout.contains("pd-untagged never backed up\n")
            && stdout.contains("pb protected\n"),
        "{out:?}"
    );

    // Two days on (the backups aged in the database): stale,
    // exit 1; the next run chains incrementals on its own backups, except on
    // pb, whose newest backup is now the hand-made one (Cinder would chain
    // on it; so a full one).
    cinder
        .sql("UPDATE backups SET created_at = datetime(created_at, '-2 days'), data_timestamp = datetime(data_timestamp, '-2 days') WHERE display_name LIKE 'nightly-%';")
        .map_err(|e| e.to_string())?;
    let out = c.run(&["backup", "report", "--policy", policy, "--only", "nightly", "-f", "value", "-c", "State"]);
    ensure!(out.status.code() == Some(1) && String::from_utf8_lossy(&out.stdout) == "stale\nstale\nstale\n", "{out:?}");
    let third = c.json(&["backup", "run", "--policy", policy, "--only", "nightly"])?;
    let actions: BTreeMap<&str, (&str, &str)> = third
        .as_array()
        .ok_or("rows")?
        .iter()
        .map(|r| (s(&r["Volume"]), (s(&r["Action"]), s(&r["Outcome"]))))
        .collect();
    ensure!(
        actions
            == BTreeMap::from([
                ("pa-attached", ("incremental (via snapshot)", "done")),
                ("pb", ("full", "done")),
                ("pc", ("incremental", "done"))
            ]),
        "{third}"
    );
    c.ok(&["backup", "report", "--policy", policy, "--only", "nightly"])?;
    ensure!(peek.temporary_snapshots()? == 0, "no temporary snapshot is left");
    Ok(())
}

/// Starts `osbackup args` without waiting for it (stdout and stderr kept).
fn spawn(c: &Cloud, args: &[&str]) -> Result<std::process::Child, String> {
    c.command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("osbackup {args:?}: {e}"))
}

/// The end of a spawned `osbackup`: its exit code, stdout and stderr (the
/// token checked absent, as [`Cloud::run`] does).
fn finish(c: &Cloud, child: std::process::Child) -> Result<(Option<i32>, String, String), String> {
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    ensure!(!stdout.contains(&c.secret) && !stderr.contains(&c.secret), "the token leaked");
    Ok((out.status.code(), stdout, stderr))
}

/// One value of Cinder's own database (what reached the server).
fn row(cinder: &Cinder, sql: &str) -> Result<String, String> {
    Ok(cinder.query(sql).map_err(|e| e.to_string())?.trim().to_owned())
}

/// Polls Cinder's database (every 20 ms, 60 s at most) until `sql` gives
/// `want`.
fn until_row(cinder: &Cinder, sql: &str, want: impl Fn(&str) -> bool) -> Result<String, String> {
    let started = Instant::now();
    loop {
        let got = row(cinder, sql)?;
        if want(&got) {
            return Ok(got);
        }
        ensure!(started.elapsed() < std::time::Duration::from_secs(60), "{sql}: still {got:?} after 60 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Kills the whole Cinder (SIGKILL: API, scheduler, volume and backup
/// services) and starts it again on the same database; the time it was
/// away.
fn kill_and_restart(cinder: &mut Cinder) -> Result<f64, String> {
    let t = Instant::now();
    cinder.kill();
    cinder.restart().map_err(|e| format!("Cinder did not start again: {e}"))?;
    Ok(t.elapsed().as_secs_f64())
}

/// The command line across a restart of the whole Cinder (a SIGKILL, then
/// a start on the same database, about 10 s away):
/// - `backup create --wait` killed after the backup is `available` but
///   before the tool saw it: the wait rides out the outage and ends well,
///   one backup made;
/// - with Cinder down, a listing and a create fail at once with the
///   operation, "could not connect" and, for the create, "nothing reached
///   the server"; run again after the restart, they work;
/// - `backup prune --wait` killed after its first deletion: it completes,
///   or fails naming the call; a second run leaves exactly the backups the
///   rule keeps;
/// - `backup run` of a policy killed while its backup is `creating`:
///   Cinder resets the backup to `error` as it starts again, the run says
///   so with Cinder's reason and exits 1; a second run makes the backup,
///   once.
fn cli_across_a_restart(c: &Cloud, cinder: &mut Cinder, project: &str) -> Outcome {
    let volume = s(&c.json(&["volume", "create", "rs-vol", "--size", "1", "--wait"])?["id"]).to_owned();
    let in_project = format!("project_id = '{project}' AND deleted = 0");

    // A wait that rides out the outage. The kill comes when Cinder's own
    // database says `available`; if the tool saw it first (it looks every
    // few seconds), that round proves nothing and another is made.
    let mut ridden = false;
    let mut rounds = 0;
    for round in 0..3 {
        rounds += 1;
        let name = format!("across-{round}");
        let mut child = spawn(c, &["backup", "create", "rs-vol", "--name", &name, "--wait", "-f", "json"])?;
        until_row(
            cinder,
            &format!("SELECT status FROM backups WHERE display_name = '{name}' AND {in_project}"),
            |s| s == "available",
        )?;
        let raced = child.try_wait().map_err(|e| e.to_string())?.is_some();
        let away = kill_and_restart(cinder)?;
        let (code, stdout, stderr) = finish(c, child)?;
        ensure!(code == Some(0), "backup create --wait across the restart exited {code:?}: {stderr}");
        let shown: Value = serde_json::from_str(&stdout).map_err(|e| format!("{e}: {stdout}"))?;
        ensure!(s(&shown["status"]) == "available", "{shown}");
        if !raced {
            eprintln!("  backup create --wait rode out {away:.1} s without Cinder");
            ridden = true;
            break;
        }
    }
    ensure!(ridden, "in three rounds the tool saw `available` before Cinder could be killed");
    let made = row(cinder, &format!("SELECT count(*) FROM backups WHERE volume_id = '{volume}' AND {in_project}"))?;
    ensure!(made == rounds.to_string(), "one backup per command, none twice: {made} for {rounds} commands");

    // Cinder down: each command fails after the session's retries, naming
    // the call that met the outage (the microversion discovery every
    // command starts with, so a create never reached the point of sending).
    cinder.kill();
    for args in [&["backup", "list"][..], &["volume", "create", "rs-never", "--size", "1"]] {
        let err = c.fails(1, args)?;
        ensure!(
            err.contains("show_api_v3_version failed: could not connect") && err.contains("4 attempts"),
            "{args:?}: {err}"
        );
    }
    cinder.restart().map_err(|e| format!("Cinder did not start again: {e}"))?;
    let never = row(cinder, &format!("SELECT count(*) FROM volumes WHERE display_name = 'rs-never' AND {in_project}"))?;
    ensure!(never == "0", "a create that reached no server made {never} volumes");
    let listed = c.json(&["backup", "list"])?;
    ensure!(listed.as_array().is_some_and(|rows| !rows.is_empty()), "{listed}");

    // Prune across a restart: four more backups, keep the last two.
    for i in 0..4 {
        c.ok(&["backup", "create", "rs-vol", "--name", &format!("prune-{i}"), "--wait"])?;
    }
    let backups_of = |cinder: &Cinder| -> Result<Vec<String>, String> {
        let rows = cinder
            .query(&format!(
                "SELECT display_name FROM backups WHERE volume_id = '{volume}' AND {in_project} ORDER BY created_at"
            ))
            .map_err(|e| e.to_string())?;
        Ok(rows.lines().map(str::to_owned).collect())
    };
    let before = backups_of(cinder)?;
    let keep: Vec<String> = before.iter().rev().take(2).rev().cloned().collect();
    let child = spawn(c, &["backup", "prune", "--volume", "rs-vol", "--keep-last", "2", "--wait", "-f", "json"])?;
    let total = before.len();
    until_row(cinder, &format!("SELECT count(*) FROM backups WHERE volume_id = '{volume}' AND {in_project}"), |n| {
        n.parse::<usize>().is_ok_and(|n| n < total)
    })?;
    let away = kill_and_restart(cinder)?;
    let (code, _, stderr) = finish(c, child)?;
    eprintln!(
        "  backup prune across {away:.1} s without Cinder: exit {code:?} {}",
        stderr.lines().last().unwrap_or("")
    );
    match code {
        Some(0) => {}
        Some(1) => ensure!(stderr.contains("delete_backup") || stderr.contains("show_backup"), "{stderr}"),
        other => return Err(format!("backup prune exited {other:?}: {stderr}")),
    }
    c.ok(&["backup", "prune", "--volume", "rs-vol", "--keep-last", "2", "--wait"])?;
    let after = backups_of(cinder)?;
    ensure!(after == keep, "after the second prune: {after:?} (wanted {keep:?} of {before:?})");

    // A policy run across a restart.
    let file = cinder.dir().join(format!("restart-{project}.yaml"));
    std::fs::write(&file, "policies:\n  across:\n    select: {names: [rs-vol]}\n    every: 1h\n")
        .map_err(|e| e.to_string())?;
    let policy = file.to_str().ok_or("a path")?;
    let child = spawn(c, &["backup", "run", "--policy", policy])?;
    let running = format!(
        "SELECT count(*) FROM backups WHERE volume_id = '{volume}' AND {in_project} AND status = 'creating' \
         AND host IS NOT NULL AND host != ''"
    );
    until_row(cinder, &running, |n| n == "1")?;
    let away = kill_and_restart(cinder)?;
    let (code, stdout, stderr) = finish(c, child)?;
    eprintln!("  backup run across {away:.1} s without Cinder: exit {code:?}");
    ensure!(code == Some(1), "a run whose backup Cinder reset: exit {code:?}\n{stdout}\n{stderr}");
    let said = format!("{stdout}{stderr}");
    let reason = said
        .lines()
        .find(|l| l.contains("across") && l.contains("failed: incomplete backup reset on manager restart"))
        .ok_or(format!("Cinder's reason: {said}"))?;
    eprintln!("  it said: {}", reason.trim());
    c.ok(&["backup", "run", "--policy", policy])?;
    let states = cinder
        .query(&format!(
            "SELECT status FROM backups WHERE volume_id = '{volume}' AND {in_project} \
             AND id IN (SELECT backup_id FROM backup_metadata WHERE key = 'osbackup-policy' AND deleted = 0)"
        ))
        .map_err(|e| e.to_string())?;
    eprintln!("  the policy's backups after the second run: {:?}", states.lines().collect::<Vec<_>>());
    let available = states.lines().filter(|s| *s == "available").count();
    ensure!(available == 1, "the policy's backups after the second run: {states:?}");
    Ok(())
}

/// A three-volume group from the shell: its type, the group, its volumes
/// (two made in it, one added), a group snapshot by hand, the group's
/// backup from one group snapshot (and an incremental one), then
/// everything deleted; with the refusals an operator meets.
fn cinder_groups(c: &Cloud, project: &str) -> Outcome {
    let type_name = format!("cli-consistent-{project}");
    let t = c.json(&["volume", "group", "type", "create", &type_name, "--description", "db volumes"])?;
    ensure!(t["Name"] == json!(type_name) && t["Is Public"] == json!(true), "group type create: {t}");
    let shown = c.json(&["volume", "group", "type", "show", &type_name])?;
    ensure!(shown["ID"] == t["ID"], "group type show by name: {shown}");
    let types = c.ok(&["volume", "group", "type", "list", "-f", "value", "-c", "Name"])?;
    ensure!(types.lines().any(|l| l == type_name), "group type list: {types}");
    let none = c.fails(1, &["volume", "group", "type", "list", "--default"])?;
    ensure!(none.contains("Default group type can not be found"), "no default group type: {none}");

    let g = c.json(&[
        "volume",
        "group",
        "create",
        "--volume-group-type",
        &type_name,
        "--volume-type",
        "__DEFAULT__",
        "--name",
        "cli-db",
        "--wait",
    ])?;
    ensure!(g["Status"] == json!("available") && g["Group Type"] == t["ID"], "group create --wait: {g}");
    let usage = c.fails(2, &["volume", "group", "create", "--name", "x"])?;
    ensure!(usage.contains("--volume-group-type"), "a group needs a type: {usage}");
    for name in ["cli-data", "cli-log", "cli-wal"] {
        c.ok(&["volume", "create", name, "--size", "1", "--wait"])?;
    }
    c.ok(&["volume", "group", "add", "volume", "cli-db", "cli-data", "cli-log", "cli-wal", "--wait"])?;
    let members = c.json(&["volume", "group", "show", "cli-db", "--volumes"])?;
    ensure!(members["Volumes"].as_array().map(Vec::len) == Some(3), "three volumes: {members}");
    let plain = c.json(&["volume", "group", "show", "cli-db"])?;
    ensure!(plain["Volumes"].is_null(), "volumes only when asked: {plain}");
    let listed = c.ok(&["volume", "group", "list", "-f", "csv"])?;
    ensure!(listed.starts_with("\"ID\",\"Status\",\"Name\"\n") && listed.contains("\"cli-db\""), "{listed}");
    let refused = c.fails(1, &["volume", "delete", "cli-wal"])?;
    ensure!(refused.contains("belong to a group"), "a member volume cannot be deleted: {refused}");

    // A group snapshot by hand.
    let gs = c.json(&["volume", "group", "snapshot", "create", "cli-db", "--name", "cli-point", "--wait"])?;
    ensure!(gs["Status"] == json!("available") && gs["Group"] == g["ID"], "group snapshot create: {gs}");
    let members = c.ok(&["snapshot", "list", "--name", "cli-point", "-f", "value", "-c", "Status"])?;
    ensure!(members == "available\navailable\navailable\n", "three member snapshots: {members:?}");
    let busy = c.fails(1, &["volume", "group", "delete", "cli-db", "--force"])?;
    ensure!(busy.contains("Group has existing snapshots"), "{busy}");
    let listed = c.ok(&["volume", "group", "snapshot", "list", "-f", "value"])?;
    ensure!(listed.contains("available cli-point"), "group snapshot list: {listed}");

    // `snapshot prune` beside it: the oldest plain snapshot goes; the newest
    // plain one is kept by the rule; the one a volume was made from (the
    // newest of all) and the group snapshot's member are held and not
    // counted.
    for name in ["cli-s0", "cli-s2", "cli-s1"] {
        c.ok(&["snapshot", "create", name, "--volume", "cli-data", "--wait"])?;
    }
    c.ok(&["volume", "create", "cli-from-s1", "--snapshot", "cli-s1", "--wait"])?;
    let plan = c.json(&["snapshot", "prune", "--volume", "cli-data", "--keep-last", "1", "--dry-run"])?;
    let rows = plan.as_array().ok_or("a json list")?;
    let decided = |name: &str| {
        rows.iter().find(|r| r["Name"] == json!(name)).map(|r| (s(&r["Action"]).to_owned(), s(&r["Reason"]).to_owned()))
    };
    ensure!(decided("cli-s2") == Some(("keep".into(), "last 1".into())), "{plan}");
    ensure!(decided("cli-s0").is_some_and(|(a, _)| a == "delete"), "{plan}");
    ensure!(
        decided("cli-s1").is_some_and(|(a, r)| a == "keep" && r.starts_with("volumes were made from it")),
        "{plan}"
    );
    ensure!(decided("cli-point").is_some_and(|(a, r)| a == "keep" && r.starts_with("in group snapshot")), "{plan}");
    let done = c.json(&["snapshot", "prune", "--volume", "cli-data", "--keep-last", "1", "--wait"])?;
    let deleted: Vec<&str> = done
        .as_array()
        .ok_or("a json list")?
        .iter()
        .filter(|r| r["Outcome"] == json!("deleted"))
        .map(|r| s(&r["Name"]))
        .collect();
    ensure!(deleted == ["cli-s0"], "only the oldest plain snapshot: {done}");
    let usage = c.fails(2, &["snapshot", "prune", "--volume", "cli-data"])?;
    ensure!(usage.contains("no keep rule"), "{usage}");
    c.ok(&["volume", "delete", "cli-from-s1", "--wait"])?;
    c.ok(&["snapshot", "delete", "cli-s1", "cli-s2", "--wait"])?;

    c.ok(&["volume", "group", "snapshot", "delete", "cli-point", "--wait"])?;
    let gone = c.fails(1, &["volume", "group", "snapshot", "show", "cli-point"])?;
    ensure!(gone.contains("cli-point"), "{gone}");

    // The group's backup: one group snapshot, a backup per volume, the group snapshot gone.
    let done = c.json(&["volume", "group", "backup", "cli-db", "--name", "cli-set"])?;
    let rows = done.as_array().ok_or("a json list")?;
    ensure!(
        rows.len() == 3 && rows.iter().all(|r| r["Status"] == json!("available") && r["Fail Reason"].is_null()),
        "three backups: {done}"
    );
    let backups = c.ok(&["backup", "list", "--name", "cli-set", "-f", "value", "-c", "Status"])?;
    ensure!(backups == "available\navailable\navailable\n", "{backups:?}");
    let left = c.ok(&["volume", "group", "snapshot", "list", "-f", "value"])?;
    ensure!(left.is_empty(), "no group snapshot left: {left:?}");
    let table = c.ok(&["volume", "group", "backup", "cli-db", "--incremental", "--name", "cli-inc"])?;
    ensure!(table.contains("cli-data") && table.contains("Fail Reason"), "volume names in the table: {table}");
    let incs = c.json(&["backup", "list", "--name", "cli-inc"])?;
    ensure!(
        incs.as_array().is_some_and(|l| l.len() == 3 && l.iter().all(|b| b["Incremental"] == json!(true))),
        "{incs}"
    );
    let missing = c.fails(1, &["volume", "group", "backup", "no-such-group"])?;
    ensure!(missing.contains("no-such-group"), "{missing}");

    // Everything deleted: the backups (incrementals first), the group with its volumes, the type.
    for name in ["cli-inc", "cli-set"] {
        let ids = c.ok(&["backup", "list", "--name", name, "-f", "value", "-c", "ID"])?;
        for id in ids.lines() {
            c.ok(&["backup", "delete", id, "--wait"])?;
        }
    }
    c.ok(&["volume", "group", "delete", "cli-db", "--force", "--wait"])?;
    let volumes = c.ok(&["volume", "list", "-f", "value", "-c", "Name"])?;
    ensure!(!volumes.contains("cli-wal"), "the group's volumes are gone: {volumes}");
    c.ok(&["volume", "group", "type", "delete", &type_name])?;
    Ok(())
}

/// A failed assertion (an insta snapshot's) must not leave the servers running.
fn caught(f: impl FnOnce() -> Outcome) -> Outcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|panic| Err(panic.downcast_ref::<String>().cloned().unwrap_or_else(|| "panicked".to_owned())))
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!(
            "cinder_lifecycle: test\ncinder_quotas_and_revert: test\ncinder_policies: test\ncinder_groups: test\ncli_across_a_restart: test\ntrove: test"
        );
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    println!("\nrunning 6 tests");
    let mut failures = Vec::new();
    match Cinder::start() {
        Ok(mut cinder) => {
            type Scenario = fn(&Cloud, &Cinder, &str) -> Outcome;
            // (`backup prune`'s rules run against the fake cloud:
            // tests/fake.rs.)
            let scenarios: [(&str, Scenario); 4] = [
                ("cinder_lifecycle", |c, _, _| cinder_lifecycle(c)),
                ("cinder_quotas_and_revert", |c, _, _| cinder_quotas_and_revert(c)),
                ("cinder_policies", cinder_policies),
                ("cinder_groups", |c, _, project| cinder_groups(c, project)),
            ];
            for (name, scenario) in scenarios {
                let (cloud, project) = admin_cloud(&cinder);
                let t = Instant::now();
                let outcome = caught(|| scenario(&cloud, &cinder, &project));
                println!(
                    "test {name} ... {} ({:.1} s)",
                    if outcome.is_ok() { "ok" } else { "FAILED" },
                    t.elapsed().as_secs_f64()
                );
                if let Err(e) = outcome {
                    failures.push((name, e));
                }
            }
            // Last: it kills and restarts the server.
            let (cloud, project) = admin_cloud(&cinder);
            let t = Instant::now();
            let outcome = caught(|| cli_across_a_restart(&cloud, &mut cinder, &project));
            println!(
                "test cli_across_a_restart ... {} ({:.1} s)",
                if outcome.is_ok() { "ok" } else { "FAILED" },
                t.elapsed().as_secs_f64()
            );
            if let Err(e) = outcome {
                failures.push(("cli_across_a_restart", e));
            }
            cinder.stop();
        }
        Err(e) => failures.push(("cinder_lifecycle", format!("Cinder did not start: {e}"))),
    }
    match Trove::start() {
        Ok(mut server) => {
            let outcome = caught(|| trove(&server));
            println!("test trove ... {}", if outcome.is_ok() { "ok" } else { "FAILED" });
            if let Err(e) = outcome {
                failures.push(("trove", e));
            }
            server.stop();
        }
        Err(e) => failures.push(("trove", format!("Trove did not start: {e}"))),
    }
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, e) in &failures {
            println!("---- {name} ----\n{e}\n");
        }
    }
    let verdict = if failures.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        6 - failures.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
