//! `osbackup` against the fake cloud (`openstack-backups-fake`): the
//! lifecycle scenario the real Cinder runs too (`scenarios/`), which makes
//! this the quick judge of the tool's commands; and what is the tool's own
//! logic rather than the server's truth: `backup prune`'s keep rules and
//! chain order over backups a week apart, and a policy run killed and run
//! again. The fake's clock
//! runs 100 times faster than real time, so `--wait` returns as soon as
//! the tool looks, and a day is moved by hand. (The same scenario ran
//! against the real Cinder, with its database rewritten to spread the
//! dates; it lives here now.)

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use openstack_backups_fake::FakeCloud;
use scenarios::s;
use serde_json::{Value, json};

#[macro_use]
#[allow(dead_code)]
mod scenarios;

/// `osbackup` logged in to the fake as its user; each call must succeed, or
/// fail with the status said (a panic otherwise).
struct Tool(scenarios::Cloud);

/// An osbackup in the background, killed (SIGKILL) and reaped when dropped
/// (also when an assertion fails first).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The environment of `osbackup` logged in to `cloud` as its user, or as
/// the project's administrator; and the password it must never print.
fn logged_in(cloud: &FakeCloud, admin: bool) -> scenarios::Cloud {
    use openstack_backups_fake::{ADMIN_PASSWORD, ADMIN_USER, PASSWORD};
    let password = if admin { ADMIN_PASSWORD } else { PASSWORD };
    let env = cloud
        .environment()
        .into_iter()
        .map(|(k, v)| match k {
            "OS_USERNAME" if admin => (k.to_owned(), ADMIN_USER.to_owned()),
            "OS_PASSWORD" => (k.to_owned(), password.to_owned()),
            _ => (k.to_owned(), v),
        })
        .collect();
    scenarios::Cloud::new(env, password.to_owned())
}

impl Tool {
    fn of(cloud: &FakeCloud) -> Self {
        Self(logged_in(cloud, false))
    }

    /// `osbackup args…`, its output piped.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.0.command(args);
        c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        self.0.ok(args).unwrap_or_else(|e| panic!("{e}"))
    }

    fn json(&self, args: &[&str]) -> Value {
        self.0.json(args).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fails(&self, code: i32, args: &[&str]) -> String {
        self.0.fails(code, args).unwrap_or_else(|e| panic!("{e}"))
    }
}

const DAY: Duration = Duration::from_secs(24 * 3600);

/// The real Cinder's lifecycle scenario (`scenarios::cinder_lifecycle`),
/// every step and both snapshots, against the fake cloud.
#[tokio::test(flavor = "multi_thread")]
async fn the_cinder_lifecycle_as_against_the_real_cinder() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    // The project's administrator, as the real run's admin token (record
    // export and import, reset status).
    let c = logged_in(&cloud, true);
    let outcome = tokio::task::spawn_blocking(move || scenarios::cinder_lifecycle(&c)).await.expect("the scenario ran");
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

/// `backup prune --keep-daily 2` over two chains a week apart: the plan
/// keeps the newest chain and the base of its kept incremental, a dry run
/// deletes nothing, the run deletes exactly the plan, children first, and
/// `--keep-none` empties the volume.
#[tokio::test(flavor = "multi_thread")]
async fn prune_keeps_the_newest_days_and_their_bases() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool::of(&cloud);
    let v = tool.json(&["volume", "create", "prune-vol", "--size", "1", "--wait"]);
    assert_eq!(s(&v["status"]), "available", "{v}");
    let volume_id = s(&v["id"]).to_owned();
    let mut ids = BTreeMap::new();
    for (name, days_after, incremental) in
        [("a", 1, false), ("a1", 1, true), ("a2", 3, true), ("b", 1, false), ("b1", 1, true), ("b2", 1, true)]
    {
        let mut args = vec!["backup", "create", &volume_id, "--name", name, "--wait"];
        if incremental {
            args.push("--incremental");
        }
        let b = tool.json(&args);
        ids.insert(name, s(&b["id"]).to_owned());
        cloud.clock().advance(DAY * days_after);
    }
    let refused = tool.fails(2, &["backup", "prune", "--volume", "prune-vol"]);
    assert!(refused.contains("no keep rule"), "{refused}");

    let plan = tool.json(&["backup", "prune", "--volume", "prune-vol", "--keep-daily", "2", "--dry-run"]);
    let actions: BTreeMap<String, (String, String)> = plan
        .as_array()
        .expect("a json list")
        .iter()
        .map(|r| (s(&r["Name"]).to_owned(), (s(&r["Action"]).to_owned(), s(&r["Reason"]).to_owned())))
        .collect();
    let action = |name: &str| actions.get(name).map(|(a, _)| a.as_str()).unwrap_or("?");
    assert!(action("b2") == "keep" && action("b1") == "keep" && action("b") == "keep", "{actions:?}");
    assert!(actions["b"].1.contains("base of a kept incremental"), "{actions:?}");
    assert!(action("a2") == "delete" && action("a1") == "delete" && action("a") == "delete", "{actions:?}");
    assert_eq!(tool.json(&["backup", "list"]).as_array().map(Vec::len), Some(6), "a dry run deletes nothing");

    let done = tool.json(&["backup", "prune", "--volume", "prune-vol", "--keep-daily", "2"]);
    let outcome: BTreeMap<&str, &str> =
        done.as_array().expect("a json list").iter().map(|r| (s(&r["Name"]), s(&r["Outcome"]))).collect();
    for gone in ["a2", "a1", "a"] {
        assert_eq!(outcome.get(gone), Some(&"deleted"), "{outcome:?}");
    }
    assert_eq!(outcome.get("b"), Some(&"kept"), "{outcome:?}");
    cloud.clock().advance(Duration::from_secs(5));
    let mut left: Vec<String> =
        tool.ok(&["backup", "list", "-f", "value", "-c", "ID"]).lines().map(str::to_owned).collect();
    left.sort();
    let mut want = vec![ids["b"].clone(), ids["b1"].clone(), ids["b2"].clone()];
    want.sort();
    assert_eq!(left, want);

    tool.ok(&["backup", "prune", "--volume", "prune-vol", "--keep-none", "--wait"]);
    assert_eq!(tool.json(&["backup", "list"]), json!([]), "every backup gone");
    tool.ok(&["volume", "delete", &volume_id, "--wait"]);
}

/// Output into a pipe its reader has closed ends quietly with 141, as a
/// shell's `osbackup … | head -0` expects (SIGPIPE's status), not with an
/// error; a full disk is an error.
#[tokio::test(flavor = "multi_thread")]
async fn a_closed_pipe_ends_quietly() {
    let cloud = FakeCloud::start().await;
    let tool = Tool::of(&cloud);
    tool.ok(&["volume", "create", "piped", "--size", "1"]);
    let mut child = tool.command(&["volume", "list", "-f", "value"]).spawn().expect("osbackup runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("osbackup ends");
    assert_eq!(out.status.code(), Some(141), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    // Any other failure to write is an error (exit 1) that says so.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = tool.command(&["volume", "list", "-f", "value"]).stdout(full).output().expect("osbackup runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("osbackup: writing the output failed: No space left on device"), "{stderr}");
}

/// A `--wait` that ends in a failure says so (exit 1) with the backup's
/// status and reason, and then Cinder's user message about it.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_wait_prints_cinders_message() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool::of(&cloud);
    let v = tool.json(&["volume", "create", "doomed", "--size", "1", "--wait"]);
    cloud.fail_backups_of(s(&v["id"]), "the backup driver failed");
    let stderr = tool.fails(1, &["backup", "create", "doomed", "--name", "by-hand", "--wait"]);
    assert!(stderr.contains("went to error: the backup driver failed"), "{stderr}");
    assert!(stderr.contains("Cinder's message: create backup:Backup driver failed to create backup."), "{stderr}");
}

/// The cloud as the library sees it, for what the command line does not
/// show: the backups a policy made (by its marker) and the temporary
/// snapshots of policies.
struct Peek(openstack_backups::block_storage::Client);

impl Peek {
    async fn backups_of(&self, policy: &str) -> Vec<openstack_backups::block_storage::types::Backup> {
        let all = self.0.list_backups_detail().all().await.expect("list backups");
        all.into_iter().filter(|b| b.metadata.get("osbackup-policy").is_some_and(|p| p == policy)).collect()
    }

    async fn temporary_snapshots(&self) -> usize {
        let all = self.0.list_snapshots_detail().all().await.expect("list snapshots");
        all.iter().filter(|s| s.metadata.contains_key("osbackup-temporary")).count()
    }
}

/// Waits (30 s at most) until `ready` holds.
async fn until<F: std::future::Future<Output = bool>>(what: &str, ready: impl Fn() -> F) {
    let started = std::time::Instant::now();
    while !ready().await {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}: not within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A policy run killed twice (SIGKILL: at its first step, then after its
/// next backup started) and a second run refused while the first holds
/// the lock; the third run finishes the job: one backup per volume, the
/// attached volume's through a temporary snapshot that is gone, nothing
/// made twice. (This ran against the real Cinder, 10 s of the policy
/// scenario there; it is the tool's logic, not Cinder's truth.)
#[tokio::test(flavor = "multi_thread")]
async fn a_policy_run_killed_twice_finishes_the_job_on_the_third() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool::of(&cloud);
    let peek = Peek(cloud.session().unwrap().block_storage().await.unwrap());
    for name in ["pa-attached", "pb", "pc"] {
        tool.ok(&["volume", "create", name, "--size", "1", "--property", "backup=often", "--wait"]);
    }
    let attached = tool.json(&["volume", "show", "pa-attached"]);
    assert!(cloud.attach_volume(s(&attached["id"]), "server-1"));

    let dir = std::env::temp_dir().join(format!("osbackup-fake-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policies.yaml");
    std::fs::write(
        &file,
        "policies:\n  often:\n    select: {metadata: {backup: often}}\n    every: 1h\n    concurrency: 1\n    poll-interval: 1s\n",
    )
    .unwrap();
    let policy = file.to_str().unwrap();
    let run = ["backup", "run", "--policy", policy, "--only", "often"];

    let first = Running(tool.command(&run).spawn().expect("osbackup runs"));
    until("often's first step", || async {
        peek.temporary_snapshots().await > 0 || !peek.backups_of("often").await.is_empty()
    })
    .await;
    let refused = tool.fails(1, &run);
    assert!(refused.contains("policy often: another run of this policy holds"), "{refused}");
    drop(first);

    let before = peek.backups_of("often").await.len();
    let second = Running(tool.command(&run).spawn().expect("osbackup runs"));
    until("often's next backup", || async { peek.backups_of("often").await.len() > before }).await;
    drop(second);

    let last = tool.json(&run);
    let often = peek.backups_of("often").await;
    let per_volume: BTreeMap<&str, usize> = often.iter().fold(BTreeMap::new(), |mut m, b| {
        *m.entry(b.volume_id.as_str()).or_default() += 1;
        m
    });
    assert!(
        per_volume.len() == 3
            && per_volume.values().all(|n| *n == 1)
            && often.iter().all(|b| b.status.as_str() == "available"),
        "one backup per volume after two kills: {often:#?}\n{last}"
    );
    assert_eq!(peek.temporary_snapshots().await, 0, "no temporary snapshot is left: {last}");
    let report = tool.json(&["backup", "report", "--policy", policy, "--only", "often"]);
    assert!(
        report.as_array().is_some_and(|r| r.len() == 3 && r.iter().all(|r| s(&r["State"]) == "protected")),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `backup set`'s options each on their own (a name, a description, a
/// property, `--no-property`, a state without `--wait`, which reads the
/// backup no more than `backup show` does); and the volume argument of
/// `backup list --volume`, `backup restore` and `backup prune --volume`:
/// a volume that is gone is named by its id, a name two volumes share is
/// an error (never taken as an id, nor as the name of a new volume), and
/// a name no volume has is the new volume's in `restore`.
#[tokio::test(flavor = "multi_thread")]
async fn backup_options_one_at_a_time() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool(logged_in(&cloud, true));
    let v = tool.json(&["volume", "create", "opts", "--size", "1", "--wait"]);
    let volume_id = s(&v["id"]).to_owned();
    let b = tool.json(&["backup", "create", "opts", "--name", "one", "--property", "tier=gold", "--wait"]);
    let id = s(&b["id"]).to_owned();
    let shown = |field: &str| tool.json(&["backup", "show", &id])[field].clone();

    tool.ok(&["backup", "set", &id, "--description", "alone"]);
    assert_eq!((shown("description"), shown("name")), (json!("alone"), json!("one")));
    tool.ok(&["backup", "set", &id, "--name", "renamed"]);
    assert_eq!((shown("description"), shown("name")), (json!("alone"), json!("renamed")));
    tool.ok(&["backup", "set", &id, "--property", "zone=a"]);
    assert_eq!(shown("metadata"), json!({"tier": "gold", "zone": "a"}));
    tool.ok(&["backup", "set", &id, "--no-property"]);
    assert_eq!(shown("metadata"), json!({}));

    let before = cloud.requests();
    tool.ok(&["backup", "show", &id]);
    let show = cloud.requests() - before;
    let before = cloud.requests();
    tool.ok(&["backup", "set", &id, "--state", "error"]);
    assert_eq!(cloud.requests() - before, show + 1, "the reset alone, no polling without --wait");
    assert_eq!(shown("status"), json!("error"));
    tool.ok(&["backup", "set", &id, "--state", "available", "--wait"]);

    // A name two volumes share.
    for _ in 0..2 {
        tool.ok(&["volume", "create", "twin", "--size", "1", "--wait"]);
    }
    for args in [
        &["backup", "list", "--volume", "twin"][..],
        &["backup", "restore", &id, "twin"],
        &["backup", "prune", "--volume", "twin", "--keep-none"],
    ] {
        let refused = tool.fails(1, args);
        assert!(refused.contains("2 volumes have the name \"twin\""), "{args:?}: {refused}");
    }
    assert_eq!(tool.ok(&["volume", "list", "-f", "value", "-c", "Name"]).matches("twin").count(), 2);

    // A name no volume has: the restored volume's.
    let restored = tool.json(&["backup", "restore", &id, "fresh", "--wait"]);
    assert_eq!(restored["volume_name"], json!("fresh"), "{restored}");
    assert_eq!(tool.json(&["volume", "show", "fresh"])["status"], json!("available"));

    // A volume that is gone keeps its backups, named by its id.
    tool.ok(&["volume", "delete", &volume_id, "--wait"]);
    let listed = tool.ok(&["backup", "list", "--volume", &volume_id, "-f", "value", "-c", "ID"]);
    assert_eq!(listed, format!("{id}\n"));
    let refused = tool.fails(2, &["backup", "prune", "--keep-none"]);
    assert!(refused.contains("--all-volumes"), "{refused}");
    let refused = tool.fails(2, &["backup", "prune", "--all-volumes", "--keep-none", "--group-by", "metadata:"]);
    assert!(refused.contains("--group-by is volume or metadata:KEY"), "{refused}");
    let plan = tool.json(&["backup", "prune", "--all-volumes", "--keep-last", "1", "--dry-run"]);
    assert_eq!(plan.as_array().map(Vec::len), Some(1), "{plan}");
    // A delete refused: exit 1, naming the group; the next prune finishes.
    cloud.fail("delete_backup", 1, 400, "BadRequest", "Invalid backup: held for the test.");
    let refused = tool.fails(1, &["backup", "prune", "--volume", &volume_id, "--keep-none"]);
    assert_eq!(refused.trim_end(), format!("a delete failed in 1 of 1 groups ({volume_id})"));
    tool.ok(&["backup", "prune", "--volume", &volume_id, "--keep-none", "--wait"]);
    assert_eq!(tool.json(&["backup", "list"]), json!([]));
}

/// `snapshot set`'s name and description each on their own, and a state
/// polled for only with `--wait`; a table of snapshots reads the volumes'
/// names only with `--long`; and `snapshot prune` by volume and over the
/// project.
#[tokio::test(flavor = "multi_thread")]
async fn snapshot_options_one_at_a_time() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool(logged_in(&cloud, true));
    let v = tool.json(&["volume", "create", "snapped", "--size", "1", "--wait"]);
    tool.ok(&["snapshot", "create", "s", "--volume", s(&v["id"]), "--description", "first", "--wait"]);
    tool.ok(&["snapshot", "set", "s", "--name", "s2"]);
    let shown = tool.json(&["snapshot", "show", "s2"]);
    assert_eq!((shown["name"].clone(), shown["description"].clone()), (json!("s2"), json!("first")));
    tool.ok(&["snapshot", "set", "s2", "--description", "second"]);
    assert_eq!(tool.json(&["snapshot", "show", "s2"])["description"], json!("second"));

    let count = |args: &[&str]| {
        let before = cloud.requests();
        tool.ok(args);
        cloud.requests() - before
    };
    let json = count(&["snapshot", "list", "-f", "json"]);
    assert_eq!(count(&["snapshot", "list"]), json, "a short table lists the snapshots alone");
    assert_eq!(count(&["snapshot", "list", "--long", "-f", "json"]), json, "json keeps the volumes' ids");
    assert_eq!(count(&["snapshot", "list", "--long"]), json + 1, "a long table lists the volumes once");

    let show = count(&["snapshot", "show", "s2"]);
    assert_eq!(count(&["snapshot", "set", "s2", "--state", "error"]), show + 1, "no polling without --wait");
    assert_eq!(tool.json(&["snapshot", "show", "s2"])["status"], json!("error"));
    let waited = count(&["snapshot", "set", "s2", "--state", "available", "--wait"]);
    assert!(waited > show + 1, "--wait polls the snapshot ({waited} requests, {show} for a show)");
    assert_eq!(tool.json(&["snapshot", "show", "s2"])["status"], json!("available"));

    // Three snapshots a day apart; prune keeps the newest.
    for name in ["p1", "p2"] {
        cloud.clock().advance(DAY);
        tool.ok(&["snapshot", "create", name, "--volume", "snapped", "--wait"]);
    }
    let refused = tool.fails(2, &["snapshot", "prune", "--keep-last", "1"]);
    assert!(refused.contains("--all-volumes"), "{refused}");
    let plan = tool.json(&["snapshot", "prune", "--volume", "snapped", "--keep-last", "1", "--dry-run"]);
    let actions: BTreeMap<&str, &str> =
        plan.as_array().expect("a json list").iter().map(|r| (s(&r["Name"]), s(&r["Action"]))).collect();
    assert_eq!(actions, BTreeMap::from([("p2", "keep"), ("p1", "delete"), ("s2", "delete")]), "{plan}");
    tool.ok(&["snapshot", "prune", "--all-volumes", "--keep-last", "1", "--wait"]);
    assert_eq!(tool.ok(&["snapshot", "list", "-f", "value", "-c", "Name"]), "p2\n");
}

/// The database backup commands against the fake Trove (the real Trove's
/// run, `real.rs`, seeds its backups through Trove's database instead):
/// create with `--parent` and `--wait`, list by instance and with
/// `--limit`, show by name, delete with python-troveclient's line, prune by
/// instance and over the project, and backup strategies.
#[tokio::test(flavor = "multi_thread")]
async fn database_backups_against_the_fake_trove() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool::of(&cloud);
    let (db, other) = (cloud.add_database_instance(), cloud.add_database_instance());
    let made = tool.json(&["database", "backup", "create", "nightly", "--instance", &db, "--wait"]);
    assert_eq!((s(&made["status"]), s(&made["datastore"])), ("COMPLETED", "mysql"), "{made}");
    let nightly = s(&made["id"]).to_owned();
    let names: Vec<&str> = made.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    assert!(names.is_sorted() && names.contains(&"datastore_version"), "python-troveclient's fields: {names:?}");
    cloud.clock().advance(Duration::from_secs(60));
    let child =
        tool.json(&["database", "backup", "create", "child", "--instance", &db, "--parent", "nightly", "--wait"]);
    assert_eq!(s(&child["parent_id"]), nightly, "{child}");
    cloud.clock().advance(Duration::from_secs(60));
    tool.ok(&["database", "backup", "create", "elsewhere", "--instance", &other, "--wait"]);

    let names = |args: &[&str]| {
        let mut all = vec!["database", "backup", "list", "-f", "value", "-c", "Name"];
        all.extend(args);
        tool.ok(&all)
    };
    assert_eq!(names(&[]), "elsewhere\nchild\nnightly\n");
    assert_eq!(names(&["--instance", &db]), "child\nnightly\n");
    assert_eq!(names(&["--limit", "2"]), "elsewhere\nchild\n");
    assert_eq!(names(&["--limit", "0"]), "elsewhere\nchild\nnightly\n", "python-troveclient's 0: no limit");
    assert_eq!(s(&tool.json(&["database", "backup", "show", "child"])["id"]), s(&child["id"]));

    let refused = tool.fails(2, &["database", "backup", "prune", "--keep-last", "1"]);
    assert!(refused.contains("--all-instances"), "{refused}");
    let plan = tool.json(&["database", "backup", "prune", "--instance", &db, "--keep-none", "--dry-run"]);
    let planned: Vec<(&str, &str)> =
        plan.as_array().expect("a json list").iter().map(|r| (s(&r["Name"]), s(&r["Action"]))).collect();
    assert_eq!(planned, [("child", "delete"), ("nightly", "delete")], "children first: {plan}");
    let plan = tool.json(&["database", "backup", "prune", "--all-instances", "--keep-last", "1", "--dry-run"]);
    assert_eq!(plan.as_array().map(Vec::len), Some(3), "{plan}");

    let deleted = tool.ok(&["database", "backup", "delete", "elsewhere", "--wait"]);
    assert!(deleted.starts_with("Request to delete database backup ") && deleted.ends_with(" has been accepted.\n"));
    tool.ok(&["database", "backup", "prune", "--instance", &db, "--keep-none", "--wait"]);
    assert_eq!(names(&[]), "");

    let made =
        tool.json(&["database", "backup", "strategy", "create", "--swift-container", "orders", "--instance-id", &db]);
    assert_eq!((s(&made["instance_id"]), s(&made["swift_container"])), (db.as_str(), "orders"), "{made}");
    let listed = tool.ok(&["database", "backup", "strategy", "list", "-f", "value", "-c", "Swift Container"]);
    assert_eq!(listed, "orders\n");
    let refused = tool.fails(1, &["database", "backup", "strategy", "create"]);
    assert!(refused.contains("give --swift-container"), "{refused}");
    tool.ok(&["database", "backup", "strategy", "delete", "--instance-id", &db]);
    assert_eq!(tool.ok(&["database", "backup", "strategy", "list", "-f", "value"]), "");
}

/// Cinder's user messages, limits and quotas as `osbackup` shows them: a
/// failed backup's message listed by its resource, shown with every field,
/// and deleted (a second delete is counted as failed); `limits show
/// --absolute` by python-openstackclient's names; `quota show` in OSC's
/// order and names, with `--usage` and `--default`.
#[tokio::test(flavor = "multi_thread")]
async fn messages_limits_and_quotas() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool(logged_in(&cloud, true));
    let v = tool.json(&["volume", "create", "doomed", "--size", "1", "--wait"]);
    cloud.fail_backups_of(s(&v["id"]), "the backup driver failed");
    tool.fails(1, &["backup", "create", "doomed", "--name", "lost", "--wait"]);
    let backup = tool.json(&["backup", "show", "lost"]);
    let listed = tool.json(&["message", "list", "--resource-uuid", s(&backup["id"])]);
    let [m] = listed.as_array().map(Vec::as_slice).unwrap_or_default() else { panic!("one message: {listed}") };
    assert_eq!((s(&m["Resource Type"]), s(&m["Message Level"])), ("VOLUME_BACKUP", "ERROR"), "{m}");
    assert!(s(&m["Event ID"]).starts_with("VOLUME_VOLUME_BACKUP_"), "{m}");
    assert!(s(&m["User Message"]).contains("Backup driver failed"), "{m}");
    let shown = tool.json(&["message", "show", s(&m["ID"])]);
    let fields: Vec<&str> = shown.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(
        fields,
        [
            "created_at",
            "event_id",
            "guaranteed_until",
            "id",
            "message_level",
            "request_id",
            "resource_type",
            "resource_uuid",
            "user_message"
        ]
    );
    for (field, column) in [
        ("id", "ID"),
        ("event_id", "Event ID"),
        ("resource_type", "Resource Type"),
        ("resource_uuid", "Resource UUID"),
        ("message_level", "Message Level"),
        ("user_message", "User Message"),
        ("request_id", "Request ID"),
        ("created_at", "Created At"),
        ("guaranteed_until", "Guaranteed Until"),
    ] {
        assert!(!shown[field].is_null() && shown[field] == m[column], "{field}: {shown} against {m}");
    }
    // Each field its own value (not, say, the message's text).
    assert_eq!(s(&shown["resource_uuid"]), s(&backup["id"]), "{shown}");
    assert_eq!((s(&shown["resource_type"]), s(&shown["message_level"])), ("VOLUME_BACKUP", "ERROR"), "{shown}");
    assert!(s(&shown["event_id"]).starts_with("VOLUME_VOLUME_BACKUP_"), "{shown}");
    assert!(s(&shown["request_id"]).starts_with("req-"), "{shown}");
    assert!(s(&shown["user_message"]).contains("Backup driver failed"), "{shown}");
    assert_eq!(s(&shown["id"]).len(), 36, "{shown}");
    let created = s(&shown["created_at"]);
    let until = s(&shown["guaranteed_until"]);
    assert!(created.starts_with("20") && until.starts_with("20") && until > created, "{shown}");
    tool.ok(&["message", "delete", s(&m["ID"])]);
    let refused = tool.fails(1, &["message", "delete", s(&m["ID"]), s(&m["ID"])]);
    assert!(refused.trim_end().ends_with("Failed to delete 2 of 2 messages."), "{refused}");
    assert_eq!(tool.json(&["message", "list"]), json!([]));

    let limits = tool.json(&["limits", "show", "--absolute"]);
    let names: Vec<&str> = limits.as_array().expect("a json list").iter().map(|r| s(&r["Name"])).collect();
    assert!(names.is_sorted() && names.contains(&"max_total_backups") && names.contains(&"total_backups_used"));

    let quota = |args: &[&str]| {
        let mut all = vec!["quota", "show"];
        all.extend(args);
        let rows = tool.json(&all);
        rows.as_array().expect("a json list").clone()
    };
    let rows = quota(&[]);
    let names: Vec<&str> = rows.iter().map(|r| s(&r["Resource"])).collect();
    assert_eq!(names[..4], ["volumes", "snapshots", "gigabytes", "backups"], "{names:?}");
    assert_eq!(names[names.len() - 2..], ["backup-gigabytes", "per-volume-gigabytes"], "{names:?}");
    assert!(rows.iter().all(|r| r.as_object().is_some_and(|o| o.len() == 2)), "{rows:?}");
    let used = quota(&["--usage"]);
    let volumes = used.iter().find(|r| r["Resource"] == "volumes").expect("volumes");
    assert_eq!((&volumes["In Use"], &volumes["Reserved"]), (&json!(1), &json!(0)), "{volumes}");
    let backups = used.iter().find(|r| r["Resource"] == "backups").expect("backups");
    assert_eq!(backups["Limit"], json!(10), "{backups}");
    assert_eq!(quota(&["--default"]).len(), rows.len());
}

/// A cloud of `clouds.yaml` in the working directory (`--os-cloud`), with
/// a global option on top of its values (`--os-volume-api-version` wins
/// over the file's `block_storage_api_version`); and how a call the
/// microversion in use cannot make reads: the command, what it needs, what
/// is in use, and that nothing was sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_named_cloud_with_options_on_top() {
    use openstack_backups_fake::{PASSWORD, PROJECT, USER};
    let cloud = FakeCloud::start().await;
    let dir = std::env::temp_dir().join(format!("osbackup-fake-clouds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("clouds.yaml"),
        format!(
            "clouds:\n  fake:\n    auth:\n      auth_url: {}\n      username: {USER}\n      password: {PASSWORD}\n      \
             project_name: {PROJECT}\n      user_domain_name: Default\n      project_domain_id: default\n    \
             block_storage_api_version: '3.40'\n",
            cloud.auth_url()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_osbackup"));
        c.args(args).current_dir(&dir).env("HOME", &dir).env("XDG_CONFIG_HOME", &dir);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("OS_")) {
            c.env_remove(k);
        }
        c.output().expect("osbackup runs")
    };
    let out = run(&["--os-cloud", "fake", "message", "list", "-f", "value"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["--os-cloud", "fake", "--os-volume-api-version", "3.2", "message", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "this command (list messages) needs microversion 3.3 or later; the block-storage microversion in use is 3.2 (the cloud's \
         maximum, or --os-volume-api-version). Nothing was sent.\n"
    );
    // Without the option, the file's microversion.
    let out = run(&["--os-cloud", "fake", "volume", "create", "v", "--size", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["--os-cloud", "fake", "backup", "create", "v", "--property", "a=b"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "--property needs microversion 3.43 or later; the block-storage microversion in use is 3.40 (the cloud's maximum, or \
         --os-volume-api-version). Nothing was sent.\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What a policy run logs when its output is not a terminal: one
/// timestamped line per step: the plan, a quota it could not read, a
/// temporary snapshot of an earlier run removed, the snapshot of an
/// attached volume, each backup started and done, and the prune.
#[tokio::test(flavor = "multi_thread")]
async fn a_policy_run_logs_each_step() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool::of(&cloud);
    for name in ["la-attached", "lb"] {
        tool.ok(&["volume", "create", name, "--size", "1", "--property", "backup=logged", "--wait"]);
    }
    assert!(cloud.attach_volume(s(&tool.json(&["volume", "show", "la-attached"])["id"]), "server-1"));
    let leftover = tool.json(&[
        "snapshot",
        "create",
        "leftover",
        "--volume",
        "lb",
        "--property",
        "osbackup-policy=logged",
        "--property",
        "osbackup-temporary=true",
        "--wait",
    ]);
    let dir = std::env::temp_dir().join(format!("osbackup-fake-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policies.yaml");
    std::fs::write(
        &file,
        "policies:\n  logged:\n    select: {metadata: {backup: logged}}\n    every: 1h\n    in-use: snapshot\n    \
         keep: {last: 1}\n    poll-interval: 1s\n",
    )
    .unwrap();
    let run = ["backup", "run", "--policy", file.to_str().unwrap(), "-f", "value"];
    let log = |out: std::process::Output| {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.lines().all(|l| l.starts_with("20") && l.contains("Z logged: ")), "{stderr}");
        stderr
    };
    cloud.fail("show_limits", 1, 403, "Forbidden", "Policy doesn't allow limits to be shown.");
    let first = log(tool.0.run(&run));
    for line in [
        "logged: 2 volumes selected, 2 to back up or wait for\n".to_owned(),
        "logged: the backup quota is unknown (".to_owned(),
        format!("logged: removed temporary snapshot {} of an earlier run\n", s(&leftover["id"])),
        "logged: la-attached: temporary snapshot ".to_owned(),
        "logged: la-attached: full (via snapshot) backup ".to_owned(),
        "logged: lb: full backup ".to_owned(),
        "logged: lb: done after ".to_owned(),
    ] {
        assert!(first.contains(&line), "{line:?} in:\n{first}");
    }
    // A newer backup of lb with the policy's marker: keep last 1 deletes
    // the run's own.
    cloud.clock().advance(Duration::from_secs(60));
    tool.ok(&["backup", "create", "lb", "--name", "newer", "--property", "osbackup-policy=logged", "--wait"]);
    // Its delete refused once, then done by the next run.
    cloud.fail("delete_backup", 1, 400, "BadRequest", "Invalid backup: held for the test.");
    let out = tool.0.run(&run);
    let refused = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(refused.contains(": could not delete backup ") && refused.contains("held for the test"), "{refused}");
    assert_eq!((out.status.code(), refused.lines().last()), (Some(1), Some("policy logged: 1 deletes failed")));
    let out = tool.0.run(&run);
    let rows = String::from_utf8_lossy(&out.stdout).into_owned();
    let third = log(out);
    assert_eq!(third.matches(": deleted backup ").count(), 1, "keep last 1:\n{third}");
    let deleted: Vec<&str> = rows.lines().filter(|l| l.contains(" delete no keep rule keeps it ")).collect();
    assert!(deleted.len() == 1 && deleted[0].ends_with(" deleted"), "the run's row of the delete:\n{rows}");

    // A volume the policy names that is not there, and a temporary
    // snapshot that cannot be removed: each said in the run's last line.
    std::fs::write(&file, "policies:\n  named:\n    select: {names: [lb, no-such-volume]}\n    every: 1h\n").unwrap();
    tool.ok(&[
        "snapshot",
        "create",
        "stuck",
        "--volume",
        "lb",
        "--property",
        "osbackup-policy=named",
        "--property",
        "osbackup-temporary=true",
        "--wait",
    ]);
    cloud.fail("delete_snapshot", 1, 400, "BadRequest", "Invalid snapshot: held for the test.");
    let out = tool.0.run(&run);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.lines().last(),
        Some("policy named: no volume is named \"no-such-volume\"; 1 temporary snapshots could not be removed"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `backup report` after a policy run, in each format, and in Prometheus'
/// text (what monitoring alerts on): a protected volume's gauges in their
/// units (Unix seconds, bytes), a missing volume's state and nothing more.
#[tokio::test(flavor = "multi_thread")]
async fn backup_report_in_each_format() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool::of(&cloud);
    tool.ok(&["volume", "create", "rv", "--size", "1", "--wait"]);
    let dir = std::env::temp_dir().join(format!("osbackup-fake-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policies.yaml");
    std::fs::write(&file, "policies:\n  reported:\n    select: {names: [rv, no-such-volume]}\n    every: 24h\n")
        .unwrap();
    let policy = file.to_str().unwrap();
    tool.fails(1, &["backup", "run", "--policy", policy]);
    let report = |args: &[&str]| {
        let mut all = vec!["backup", "report", "--policy", policy];
        all.extend(args);
        let out = tool.0.run(&all);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };

    let (code, text) = report(&["-f", "prometheus"]);
    assert_eq!(code, Some(1), "one volume is not protected:\n{text}");
    let value = |metric: &str, volume: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(&format!("{metric}{{")) && l.contains(&format!("volume_name=\"{volume}\"")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    assert_eq!(value("osbackup_volume_protected", "rv"), Some(1.0), "{text}");
    assert!(text.contains("state=\"protected\"") && text.contains("state=\"missing\""), "{text}");
    assert_eq!(value("osbackup_volume_backups", "rv"), Some(1.0), "{text}");
    assert_eq!(value("osbackup_volume_backup_chain_length", "rv"), Some(1.0), "{text}");
    assert_eq!(value("osbackup_volume_backups_size_bytes", "rv"), Some(1073741824.0), "1 GiB in bytes: {text}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let last = value("osbackup_volume_last_backup_timestamp_seconds", "rv").expect("a last backup");
    assert!((last - now).abs() < 86400.0, "Unix seconds: {last} against {now}");
    assert_eq!(value("osbackup_volume_protected", "no-such-volume"), Some(0.0), "{text}");
    assert_eq!(value("osbackup_volume_backups", "no-such-volume"), None, "a missing volume has its state alone");
    let (code, _) = report(&["-f", "prometheus", "-c", "State"]);
    assert_eq!(code, Some(2), "-c does not go with prometheus");

    let (_, yaml) = report(&["-f", "yaml"]);
    assert!(yaml.starts_with("- Age: ") && yaml.matches("\n- ").count() == 1, "{yaml}");
    let (_, value_rows) = report(&["-f", "value", "-c", "Volume", "-c", "State"]);
    let mut rows: Vec<&str> = value_rows.lines().collect();
    rows.sort();
    assert_eq!(rows, ["no-such-volume missing", "rv protected"]);
    let (_, csv) = report(&["-f", "csv", "-c", "Volume", "-c", "State"]);
    assert!(csv.starts_with("\"Volume\",\"State\"\n") && csv.lines().count() == 3, "{csv}");
    std::fs::remove_dir_all(&dir).unwrap();
}
