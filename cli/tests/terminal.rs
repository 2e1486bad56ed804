//! What an operator sees on a terminal and what a script sees in a pipe,
//! against a mock cloud: the `--wait` progress line (on a terminal only),
//! Ctrl-C while waiting (exit 130, the operation goes on), and secrets
//! (password, token) absent from every output, `--debug` included.

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PROJECT: &str = "6b2c0f4e9a1d4c3b8e7f0a1b2c3d4e5f";
const ID: &str = "6a122f4b-d2f6-448f-aeb5-68bae5ff8358";

fn backup(status: &str) -> Value {
    let file = openstack_backups_tests::workspace_root()
        .join("spec/examples/cinder-v3/backups/v3.43/backup-show-response.json");
    let mut b: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    b["backup"]["id"] = json!(ID);
    b["backup"]["status"] = json!(status);
    b
}

fn versions() -> Value {
    json!({"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0",
        "updated": "2023-08-31T00:00:00Z", "links": [], "media-types": []}]})
}

/// A cloud whose backup never leaves `creating`.
async fn stuck_cloud() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(versions()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/backups/{ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(backup("creating")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v3/{PROJECT}/backups/{ID}/action")))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    server
}

fn cloud_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("OS_AUTH_TYPE", "admin_token".to_owned()),
        ("OS_TOKEN", "tok-admin-SECRET".to_owned()),
        ("OS_PROJECT_ID", PROJECT.to_owned()),
        ("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", format!("{}/v3/%(project_id)s", server.uri())),
    ]
}

/// What a pseudo-terminal shows, read for 30 s at most until `done`
/// holds; `step` sees the text so far after each read (to type a key, and
/// note it in the text).
fn read_terminal(
    mut reader: Box<dyn Read + Send>,
    done: impl Fn(&str) -> bool,
    mut step: impl FnMut(&mut String),
) -> String {
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let Ok(n) = reader.read(&mut buf) else { break };
        if n == 0 {
            break;
        }
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        step(&mut seen);
        if done(&seen) {
            break;
        }
    }
    seen
}

/// In a pseudo-terminal: a live line while waiting, then Ctrl-C stops the
/// waiting with exit 130 and says the operation goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_shows_progress_on_a_terminal_and_ctrl_c_stops_waiting() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};

    let server = stuck_cloud().await;
    let pty = native_pty_system().openpty(PtySize { rows: 24, cols: 120, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_osbackup"));
    cmd.args(["backup", "set", ID, "--state", "error", "--wait"]);
    cmd.env_remove("OS_CLOUD");
    for (k, v) in cloud_env(&server) {
        cmd.env(k, v);
    }
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let reader = pty.master.try_clone_reader().unwrap();
    let mut writer = pty.master.take_writer().unwrap();
    let seen = tokio::task::spawn_blocking(move || {
        read_terminal(
            reader,
            |seen| seen.contains("goes on in the cloud"),
            |seen| {
                if seen.contains(&format!("backup {ID}: creating")) && !seen.contains("Stopped waiting") {
                    // The line is up: press Ctrl-C (once).
                    if !seen.contains("\u{3}sent") {
                        writer.write_all(b"\x03").unwrap();
                        writer.flush().unwrap();
                        seen.push_str("\u{3}sent");
                    }
                }
            },
        )
    })
    .await
    .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(seen.contains(&format!("backup {ID}: creating")), "no progress line on the terminal: {seen:?}");
    assert!(seen.contains("Stopped waiting: the state of backup"), "{seen:?}");
    assert_eq!(status.exit_code(), 130, "{seen:?}");
}

/// In a pipe: no progress line, no escape codes; a timeout is an error
/// with the last status seen.
#[tokio::test]
async fn wait_in_a_pipe_prints_nothing_extra_and_times_out_clearly() {
    let server = stuck_cloud().await;
    let out = Command::new(env!("CARGO_BIN_EXE_osbackup"))
        .args(["backup", "set", ID, "--state", "error", "--wait", "--wait-timeout", "1"])
        .env_remove("OS_CLOUD")
        .envs(cloud_env(&server))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(!stderr.contains('\u{1b}'), "escape codes in a pipe: {stderr:?}");
    assert!(stderr.contains("gave up waiting after") && stderr.contains("last status: creating"), "{stderr}");
}

/// A password session with `--debug`: the requests are printed, the
/// password and the token never are.
#[tokio::test]
async fn secrets_stay_out_of_every_output() {
    const PASSWORD: &str = "pw-SECRET-4711";
    const TOKEN: &str = "gAAAAAB-tok-SECRET-0815";
    let server = MockServer::start().await;
    let catalog = json!([{"type": "block-storage", "endpoints": [
        {"interface": "public", "region": "RegionOne", "url": format!("{}/v3/%(project_id)s", server.uri())}]}]);
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-subject-token", TOKEN).set_body_json(json!({"token": {
            "expires_at": "2099-01-01T00:00:00.000000Z", "project": {"id": PROJECT}, "catalog": catalog,
            "methods": ["password"], "user": {"id": "u", "name": "demo", "domain": {"id": "default", "name": "Default"}},
            "issued_at": "2026-11-29T00:00:00.000000Z", "audit_ids": ["a"]
        }})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(versions()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/backups/detail")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"backups": [backup("available")["backup"]]})))
        .mount(&server)
        .await;
    let env = [
        ("OS_AUTH_URL", format!("{}/identity", server.uri())),
        ("OS_USERNAME", "demo".to_owned()),
        ("OS_PASSWORD", PASSWORD.to_owned()),
        ("OS_PROJECT_NAME", "demo".to_owned()),
        ("OS_USER_DOMAIN_NAME", "Default".to_owned()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".to_owned()),
    ];
    for args in [
        &["--debug", "backup", "list"][..],
        &["--debug", "backup", "list", "-f", "json"],
        &["backup", "show", ID, "-f", "yaml"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_osbackup"))
            .args(args)
            .env_remove("OS_CLOUD")
            .envs(env.clone())
            .output()
            .unwrap();
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains(PASSWORD) && !all.contains(TOKEN), "a secret leaked from {args:?}: {all}");
        if args[0] == "--debug" {
            assert!(out.status.success(), "{all}");
            assert!(
                all.contains("issue_token") && all.contains("list_backups_detail"),
                "--debug shows the requests: {all}"
            );
        }
    }
    // A refused password: the error, not the password.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})))
        .mount(&server)
        .await;
    let out = Command::new(env!("CARGO_BIN_EXE_osbackup"))
        .args(["--debug", "backup", "list"])
        .env_remove("OS_CLOUD")
        .envs(env)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("authentication failed") && !stderr.contains(PASSWORD), "{stderr}");
}

/// A cloud with one volume whose policy backup never leaves `creating`.
async fn slow_backup_cloud() -> MockServer {
    let server = stuck_cloud().await;
    let get = |p: String, body: Value| {
        Mock::given(method("GET")).and(path(p)).respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    get(
        format!("/v3/{PROJECT}/volumes/detail"),
        json!({"volumes": [{"id": "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11", "name": "vol-1", "status": "available", "size": 1, "metadata": {}}]}),
    )
    .mount(&server)
    .await;
    get(format!("/v3/{PROJECT}/backups/detail"), json!({"backups": []})).mount(&server).await;
    get(format!("/v3/{PROJECT}/snapshots/detail"), json!({"snapshots": []})).mount(&server).await;
    get(format!("/v3/{PROJECT}/limits"), json!({"limits": {"rate": [], "absolute": {}}})).mount(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("/v3/{PROJECT}/backups")))
        .respond_with(
            ResponseTemplate::new(202).set_body_json(json!({"backup": {"id": ID, "name": "nightly-x", "links": []}})),
        )
        .mount(&server)
        .await;
    server
}

fn slow_policy() -> std::path::PathBuf {
    let file = std::env::temp_dir().join(format!("osbackup-terminal-{}.yaml", std::process::id()));
    std::fs::write(
        &file,
        "policies:\n  nightly:\n    select: {all: true}\n    every: 24h\n    timeout: 3s\n    poll-interval: 1s\n",
    )
    .unwrap();
    file
}

/// `backup run` on a terminal: a progress bar (policy, done of all, the
/// latest event), cleared at the end; in a pipe: timestamped lines, no
/// escape codes. The backup outlasts the policy's timeout: exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_run_shows_a_progress_bar_on_a_terminal_and_log_lines_in_a_pipe() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};

    let server = slow_backup_cloud().await;
    let policy = slow_policy();
    let dir = std::env::temp_dir();
    let pty = native_pty_system().openpty(PtySize { rows: 24, cols: 160, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_osbackup"));
    cmd.args(["backup", "run", "--policy", policy.to_str().unwrap()]);
    cmd.env_remove("OS_CLOUD");
    cmd.env("XDG_RUNTIME_DIR", &dir);
    for (k, v) in cloud_env(&server) {
        cmd.env(k, v);
    }
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let reader = pty.master.try_clone_reader().unwrap();
    let seen = tokio::task::spawn_blocking(move || read_terminal(reader, |seen| seen.contains("timed out"), |_| {}))
        .await
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(seen.contains("nightly [") && seen.contains("0/1"), "no progress bar on the terminal: {seen:?}");
    assert!(seen.contains(&format!("vol-1: full backup {ID} started")), "{seen:?}");
    assert!(seen.contains("timed out (still being made)"), "the result table: {seen:?}");
    assert_eq!(status.exit_code(), 1, "{seen:?}");

    let out = Command::new(env!("CARGO_BIN_EXE_osbackup"))
        .args(["backup", "run", "--policy", policy.to_str().unwrap(), "-f", "value", "-c", "Outcome"])
        .env_remove("OS_CLOUD")
        .env("XDG_RUNTIME_DIR", &dir)
        .envs(cloud_env(&server))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "timed out (still being made)\n");
    assert!(!stderr.contains('\u{1b}'), "escape codes in a pipe: {stderr:?}");
    let started = stderr.lines().find(|l| l.contains("vol-1: full backup")).unwrap_or_default();
    let (stamp, rest) = started.split_once(' ').unwrap_or_default();
    assert!(stamp.len() == 20 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T', "a UTC time first: {stderr}");
    assert_eq!(rest, format!("nightly: vol-1: full backup {ID} started"));
    assert!(stderr.contains("policy nightly: 1 of 1 volumes are not protected"), "{stderr}");
    let _ = std::fs::remove_file(policy);
}
