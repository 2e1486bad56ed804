//! `osbackup` against the fake cloud (`openstack-backups-fake`), for what
//! is the tool's own logic rather than the server's truth: `backup prune`'s
//! keep rules and chain order over backups a week apart. The fake's clock
//! runs 100 times faster than real time, so `--wait` returns as soon as
//! the tool looks, and a day is moved by hand. (The same scenario ran
//! against the real Cinder, with its database rewritten to spread the
//! dates; it lives here now.)

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use openstack_backups_fake::FakeCloud;
use serde_json::{Value, json};

struct Tool<'c>(&'c FakeCloud);

impl Tool<'_> {
    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_osbackup"));
        c.args(args).env_remove("OS_CLOUD").env("COLUMNS", "200");
        for (k, v) in self.0.environment() {
            c.env(k, v);
        }
        c.output().expect("osbackup runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "osbackup {} failed ({}): {stderr}", args.join(" "), out.status);
        assert!(
            !stdout.contains(openstack_backups_fake::PASSWORD) && !stderr.contains(openstack_backups_fake::PASSWORD)
        );
        stdout.into_owned()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-f", "json"]);
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("osbackup {}: not json ({e}): {text}", args.join(" ")))
    }

    fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "osbackup {}: {stderr}", args.join(" "));
        stderr
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

const DAY: Duration = Duration::from_secs(24 * 3600);

/// `backup prune --keep-daily 2` over two chains a week apart: the plan
/// keeps the newest chain and the base of its kept incremental, a dry run
/// deletes nothing, the run deletes exactly the plan, children first, and
/// `--keep-none` empties the volume.
#[tokio::test(flavor = "multi_thread")]
async fn prune_keeps_the_newest_days_and_their_bases() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool(&cloud);
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

/// A `--wait` that ends in a failure says so (exit 1) with the backup's
/// status and reason, and then Cinder's user message about it.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_wait_prints_cinders_message() {
    let cloud = FakeCloud::start_scaled(100.0).await;
    let tool = Tool(&cloud);
    let v = tool.json(&["volume", "create", "doomed", "--size", "1", "--wait"]);
    cloud.fail_backups_of(s(&v["id"]), "the backup driver failed");
    let stderr = tool.fails(1, &["backup", "create", "doomed", "--name", "by-hand", "--wait"]);
    assert!(stderr.contains("went to error: the backup driver failed"), "{stderr}");
    assert!(stderr.contains("Cinder's message: create backup:Backup driver failed to create backup."), "{stderr}");
}
