//! A real Cinder on 127.0.0.1 for the test suite: installs Cinder 29 from
//! PyPI into `.harness/cinder-venv` (pinned by `harness/cinder/constraints.txt`,
//! reused while the pins are unchanged), writes a configuration, creates the
//! database, starts the single-process launcher on a free port and waits
//! until the API answers and the volume, backup and scheduler services are up.
//!
//! The server runs in its own process group. Dropping [`Cinder`] ends that
//! group; if the test process dies first, the launcher notices within a
//! second and ends the group itself.
//!
//! Beside it, [`Keystone`] (30, sqlite, fernet tokens, under gunicorn) and
//! [`Trove`] (26, the API in fake mode with sqlite), each installed into its
//! own venv under `.harness/` from its own pins, each in its own process group.

#![deny(missing_docs)]

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Cinder release the harness runs.
pub const CINDER_VERSION: &str = "29.0.0";

/// Why the harness could not provide a server.
#[derive(Debug)]
pub struct HarnessError(String);

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

type Result<T> = std::result::Result<T, HarnessError>;

fn fail(message: impl Into<String>) -> HarnessError {
    HarnessError(message.into())
}

/// The workspace root (the harness crate sits in it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("harness/ sits in the workspace").to_owned()
}

/// Where the test servers' venvs and state live: `.harness/` at the
/// workspace root (ignored by git).
fn state_dir() -> PathBuf {
    workspace_root().join(".harness")
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| fail(format!("{what}: could not start: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(fail(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

/// A Python environment the harness installs from PyPI.
struct VenvSpec {
    folder: &'static str,
    constraints: &'static str,
    packages: &'static [&'static str],
}

const CINDER_VENV: VenvSpec =
    VenvSpec { folder: "cinder-venv", constraints: "harness/cinder/constraints.txt", packages: &["cinder==29.0.0"] };
const KEYSTONE_VENV: VenvSpec = VenvSpec {
    folder: "keystone-venv",
    constraints: "harness/keystone/constraints.txt",
    packages: &["keystone==30.0.0", "gunicorn"],
};
const TROVE_VENV: VenvSpec =
    VenvSpec { folder: "trove-venv", constraints: "harness/trove/constraints.txt", packages: &["trove==26.0.0"] };

const TOOLS_VENV: VenvSpec =
    VenvSpec { folder: "tools-venv", constraints: "harness/tools/constraints.txt", packages: &["prometheus-client"] };

const OSC_VENV: VenvSpec = VenvSpec {
    folder: "osc-venv",
    constraints: "harness/osc/constraints.txt",
    packages: &["python-openstackclient==10.5.0", "python-troveclient==8.11.0"],
};

/// Makes sure `.harness/osc-venv` holds python-openstackclient and
/// python-troveclient (pinned), the clients `osbackup` is compared with
/// and measured against; returns the venv's path (`bin/openstack`).
pub fn ensure_osc_venv() -> Result<PathBuf> {
    ensure(&OSC_VENV)
}

/// Makes sure `.harness/tools-venv` holds the Python tools the tests read
/// the project's output with (Prometheus' own client library and its
/// parser of the text format), and returns its path.
pub fn ensure_tools_venv() -> Result<PathBuf> {
    ensure(&TOOLS_VENV)
}

/// Makes sure `.harness/cinder-venv` holds Cinder with the pinned dependencies and
/// returns its path. Safe to call from several processes at once.
pub fn ensure_venv() -> Result<PathBuf> {
    ensure(&CINDER_VENV)
}

fn ensure(spec: &VenvSpec) -> Result<PathBuf> {
    let dir = state_dir();
    std::fs::create_dir_all(&dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    let lock = std::fs::File::create(dir.join("install.lock")).map_err(|e| fail(format!("install lock: {e}")))?;
    lock.lock().map_err(|e| fail(format!("install lock: {e}")))?;

    let venv = dir.join(spec.folder);
    let constraints = workspace_root().join(spec.constraints);
    let pins = std::fs::read_to_string(&constraints).map_err(|e| fail(format!("{}: {e}", constraints.display())))?;
    let stamp = format!("{}\n{pins}", spec.packages.join("\n"));
    let stamp_file = venv.join("harness-installed.txt");
    if std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(venv);
    }

    eprintln!("harness: installing {} into {} (about a minute)", spec.packages.join(" "), venv.display());
    let started = Instant::now();
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| fail(format!("removing the old venv: {e}")))?;
    }
    let python = std::env::var("HARNESS_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv), "python3 -m venv")?;
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-c"])
            .arg(&constraints)
            .args(spec.packages),
        &format!("pip install {}", spec.packages.join(" ")),
    )?;
    std::fs::write(&stamp_file, stamp).map_err(|e| fail(format!("{}: {e}", stamp_file.display())))?;
    eprintln!("harness: installed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(venv)
}

/// One server process the harness started: its process group, port and
/// run folder, with the log files worth showing when it fails. Stopped (the
/// whole group) when dropped, unless detached.
struct ServerProcess {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    /// Log files under `dir`, shown (their last lines) when the server fails.
    logs: &'static [&'static str],
}

impl ServerProcess {
    /// The process group id, while it runs.
    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The exit status, if the process has ended.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// The last `lines` lines of each log file.
    fn log_tail(&self, lines: usize) -> String {
        let mut text = String::new();
        for name in self.logs {
            if let Ok(content) = std::fs::read_to_string(self.dir.join(name)) {
                let all: Vec<&str> = content.lines().collect();
                text.push_str(&all[all.len().saturating_sub(lines)..].join("\n"));
                text.push('\n');
            }
        }
        text
    }

    /// Ends the process group.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(child.id());
            let _ = child.wait();
        }
    }

    /// Leaves the process running when this value is dropped.
    fn detach(&mut self) {
        self.child = None;
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running Cinder.
pub struct Cinder {
    process: ServerProcess,
    /// Its configuration file, to start it again.
    conf: PathBuf,
    /// A token and its project for the readiness checks.
    ready_with: (String, String),
}

/// How [`Cinder::start_with`] starts the server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep running after the starting process exits (`cargo xtask cinder up`).
    pub detached: bool,
    /// Validate tokens with this Keystone instead of `noauth`.
    pub keystone: Option<KeystoneAuthtoken>,
    /// Listen on this port (a free one when `None`).
    pub port: Option<u16>,
}

/// What Cinder's `[keystone_authtoken]` needs, and an administrator's
/// token for the readiness checks.
#[derive(Debug, Clone)]
pub struct KeystoneAuthtoken {
    /// Keystone's `/v3` URL.
    pub auth_url: String,
    /// The service user Cinder validates tokens with.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Its project (in the `default` domain).
    pub project_name: String,
    /// An administrator's token, for the readiness checks.
    pub admin_token: String,
    /// That token's project.
    pub admin_project: String,
}

impl Cinder {
    /// Starts a server for the calling test process.
    pub fn start() -> Result<Cinder> {
        Self::start_with(Options::default())
    }

    /// Starts a server.
    pub fn start_with(options: Options) -> Result<Cinder> {
        let venv = ensure_venv()?;
        remove_stale_runs();
        let port = match options.port {
            Some(port) => port,
            None => free_port()?,
        };
        let dir = state_dir().join("runs").join(format!("{port}-{}", std::process::id()));
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        for sub in ["state", "log", "volumes", "backups", "locks", "coordination"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        }
        let conf = dir.join("cinder.conf");
        let mut text = config(&venv, &dir, &conf, port);
        if let Some(k) = &options.keystone {
            text = text.replace("auth_strategy = noauth", "auth_strategy = keystone");
            text.push_str(&format!(
                "\n[keystone_authtoken]\nwww_authenticate_uri = {url}\nauth_url = {url}\nauth_type = password\nusername = {}\npassword = {}\nuser_domain_id = default\nproject_name = {}\nproject_domain_id = default\ninterface = public\nregion_name = RegionOne\n# The default 300 s cache let a revoked token keep working.\ntoken_cache_time = -1\n",
                k.username,
                k.password,
                k.project_name,
                url = k.auth_url,
            ));
        }
        std::fs::write(&conf, text).map_err(|e| fail(format!("{}: {e}", conf.display())))?;

        run(
            Command::new(venv.join("bin/cinder-manage")).arg("--config-file").arg(&conf).args(["db", "sync"]),
            "cinder-manage db sync",
        )?;

        let child = launch(&venv, &dir, &conf, options.detached)?;
        let logs = &["log/launcher.out", "log/harness_launcher.py.log"];
        let ready_with = match &options.keystone {
            Some(k) => (k.admin_token.clone(), k.admin_project.clone()),
            None => {
                ("admin:0123456789abcdef0123456789abcdef".to_owned(), "0123456789abcdef0123456789abcdef".to_owned())
            }
        };
        let mut cinder = Cinder { process: ServerProcess { child: Some(child), port, dir, logs }, conf, ready_with };
        cinder.ready()?;
        Ok(cinder)
    }

    /// Waits (two minutes at most) until the server answers and its
    /// services are up; stops it and says why otherwise.
    fn ready(&mut self) -> Result<()> {
        let (token, project) = self.ready_with.clone();
        if let Err(e) = self.wait_ready(Duration::from_secs(120), &token, &project) {
            let tail = self.process.log_tail(40);
            self.stop();
            return Err(fail(format!("{e}\n--- last lines of the server log ---\n{tail}")));
        }
        Ok(())
    }

    /// Kills the whole server at once (SIGKILL to its process group, as a
    /// crash or an OOM kill would): the API, the scheduler and the volume
    /// and backup services, mid-request and mid-backup.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.process.child.take() {
            if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
                // SAFETY: killpg only sends a signal; a stale group id fails with ESRCH.
                unsafe {
                    libc::killpg(pgid, libc::SIGKILL);
                }
            }
            let _ = child.wait();
        }
    }

    /// Starts the killed (or stopped) server again on the same port, with
    /// the same database, volumes and backups, and waits until it is ready.
    /// Cinder's managers clean up as they start (the backup manager resets a
    /// backup that was `creating` to `error`).
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        let child = launch(&ensure_venv()?, &self.process.dir, &self.conf, false)?;
        self.process.child = Some(child);
        self.ready()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn root_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.process.port)
    }

    /// The endpoint as a catalog would list it, with the project.
    pub fn endpoint(&self, project: &str) -> String {
        format!("{}/v3/{project}", self.root_url())
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// The process group id (= the launcher's pid).
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The run's folder (configuration, database, logs, volume files).
    pub fn dir(&self) -> &Path {
        &self.process.dir
    }

    /// Runs SQL statements on the server's sqlite database, for what the
    /// API cannot set (a backup's creation time, in retention tests).
    pub fn sql(&self, statements: &str) -> Result<()> {
        let python = ensure_venv()?.join("bin/python");
        let mut child = Command::new(python)
            .arg("-c")
            .arg("import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.executescript(sys.stdin.read())\nc.commit()")
            .arg(self.process.dir.join("cinder.sqlite"))
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("sqlite: {e}")))?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(statements.as_bytes())
            .map_err(|e| fail(format!("sqlite: {e}")))?;
        let out = child.wait_with_output().map_err(|e| fail(format!("sqlite: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!("sqlite failed: {}", String::from_utf8_lossy(&out.stderr))));
        }
        Ok(())
    }

    /// The rows of one SQL query on the server's sqlite database, a line
    /// each, columns separated by tabs (what a test reads of what reached
    /// the server).
    pub fn query(&self, statement: &str) -> Result<String> {
        let python = ensure_venv()?.join("bin/python");
        let out = Command::new(python)
            .arg("-c")
            .arg("import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nfor row in c.execute(sys.argv[2]):\n    print('\\t'.join(str(v) for v in row))")
            .arg(self.process.dir.join("cinder.sqlite"))
            .arg(statement)
            .output()
            .map_err(|e| fail(format!("sqlite: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!("sqlite failed: {}", String::from_utf8_lossy(&out.stderr))));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Holds an exclusive lock on the server's sqlite database for `hold`
    /// (another writer, as a backup of the database file or a stuck
    /// migration would): returns once the lock is taken; the lock goes
    /// when `hold` is over or when the returned value is dropped.
    pub fn lock_database(&self, hold: Duration) -> Result<DatabaseLock> {
        use std::io::BufRead;
        let python = ensure_venv()?.join("bin/python");
        let mut child = Command::new(python)
            .arg("-c")
            .arg("import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(float(sys.argv[2]))\nc.execute('COMMIT')")
            .arg(self.process.dir.join("cinder.sqlite"))
            .arg(hold.as_secs_f64().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("sqlite: {e}")))?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        std::io::BufReader::new(stdout).read_line(&mut line).map_err(|e| fail(format!("sqlite: {e}")))?;
        if line.trim() != "locked" {
            let _ = child.kill();
            let out = child.wait_with_output().map_err(|e| fail(format!("sqlite: {e}")))?;
            return Err(fail(format!("the lock was not taken: {}", String::from_utf8_lossy(&out.stderr))));
        }
        Ok(DatabaseLock(child))
    }

    /// Leaves the server running (for `cargo xtask cinder up`).
    pub fn detach(mut self) {
        self.process.detach();
    }

    fn wait_ready(&mut self, limit: Duration, token: &str, project: &str) -> Result<()> {
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < limit {
            if let Some(status) = self.process.exited() {
                return Err(fail(format!("the Cinder launcher exited early ({status})")));
            }
            match self.ready_step(token, project) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(fail(format!("Cinder was not ready after {} s: {last}", limit.as_secs())))
    }

    /// Readiness in order: the root answers 300, the three services are up,
    /// the scheduler knows a pool.
    fn ready_step(&self, token: &str, project: &str) -> std::result::Result<bool, String> {
        let port = self.process.port;
        let (status, _) = http_get(port, "/", None)?;
        if status != 300 {
            return Err(format!("GET / answered {status}"));
        }
        let (status, body) = http_get(port, &format!("/v3/{project}/os-services"), Some(token))?;
        if status != 200 {
            return Err(format!("os-services answered {status}"));
        }
        let services: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        let up = |binary: &str| {
            services["services"]
                .as_array()
                .is_some_and(|all| all.iter().any(|s| s["binary"] == binary && s["state"] == "up"))
        };
        for binary in ["cinder-scheduler", "cinder-volume", "cinder-backup"] {
            if !up(binary) {
                return Err(format!("{binary} is not up yet"));
            }
        }
        let (status, body) = http_get(port, &format!("/v3/{project}/scheduler-stats/get_pools"), Some(token))?;
        let pools: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        if status != 200 || pools["pools"].as_array().is_none_or(Vec::is_empty) {
            return Err("the scheduler knows no pool yet".to_owned());
        }
        Ok(true)
    }

    /// Ends the server's process group.
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// An exclusive lock on Cinder's database, held by another process
/// ([`Cinder::lock_database`]); released when dropped.
pub struct DatabaseLock(Child);

impl Drop for DatabaseLock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Cinder's single-process launcher on `conf` (its output appended
/// to `log/launcher.out` of `dir`).
fn launch(venv: &Path, dir: &Path, conf: &Path, detached: bool) -> Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("log/launcher.out"))
        .map_err(|e| fail(format!("launcher log: {e}")))?;
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg(workspace_root().join("harness/cinder/python/harness_launcher.py"))
        .arg("--config-file")
        .arg(conf)
        .env("PYTHONPATH", workspace_root().join("harness/cinder/python"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| fail(e.to_string()))?)
        .stderr(log)
        .process_group(0);
    if detached {
        cmd.env("HARNESS_DETACHED", "1");
    }
    cmd.spawn().map_err(|e| fail(format!("starting the launcher: {e}")))
}

/// A running Keystone (sqlite, fernet tokens, gunicorn with one worker).
pub struct Keystone {
    process: ServerProcess,
}

/// The bootstrap administrator's password.
pub const KEYSTONE_ADMIN_PASSWORD: &str = "harness-admin-secret";

impl Keystone {
    /// Installs (first time), configures, bootstraps and starts Keystone.
    pub fn start() -> Result<Keystone> {
        let venv = ensure(&KEYSTONE_VENV)?;
        remove_stale_runs();
        let port = free_port()?;
        let dir = state_dir().join("runs").join(format!("keystone-{port}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["log", "fernet-keys", "credential-keys"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        }
        let conf = dir.join("keystone.conf");
        let url = format!("http://127.0.0.1:{port}/v3");
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\nlog_dir = {d}/log\n\n[database]\nconnection = sqlite:///{d}/keystone.sqlite\n\n[token]\nprovider = fernet\nexpiration = 3600\n\n[fernet_tokens]\nkey_repository = {d}/fernet-keys\n\n[credential]\nkey_repository = {d}/credential-keys\n\n[identity]\n# bcrypt's default cost makes each password check take a third of a second.\npassword_hash_rounds = 4\n\n[cache]\nenabled = true\nbackend = dogpile.cache.memory\n",
                d = dir.display()
            ),
        )
        .map_err(|e| fail(format!("{}: {e}", conf.display())))?;
        let manage = |args: &[&str], what: &str| {
            run(Command::new(venv.join("bin/keystone-manage")).arg("--config-file").arg(&conf).args(args), what)
        };
        manage(&["db_sync"], "keystone-manage db_sync")?;
        manage(
            &["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
            "keystone-manage fernet_setup",
        )?;
        manage(
            &["credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
            "keystone-manage credential_setup",
        )?;
        manage(
            &[
                "bootstrap",
                "--bootstrap-password",
                KEYSTONE_ADMIN_PASSWORD,
                "--bootstrap-admin-url",
                &url,
                "--bootstrap-public-url",
                &url,
                "--bootstrap-internal-url",
                &url,
                "--bootstrap-region-id",
                "RegionOne",
            ],
            "keystone-manage bootstrap",
        )?;
        let mut keystone = Keystone { process: ServerProcess { child: None, port, dir, logs: &["log/gunicorn.out"] } };
        keystone.serve(&venv)?;
        Ok(keystone)
    }

    /// Stops Keystone and starts it again on the same port with the same
    /// database and keys (a deployment's restart): tokens issued before
    /// stay valid.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let venv = ensure(&KEYSTONE_VENV)?;
        self.serve(&venv)
    }

    /// Starts gunicorn on the run's folder and port, and waits until
    /// Keystone answers.
    fn serve(&mut self, venv: &Path) -> Result<()> {
        let (port, dir) = (self.process.port, self.process.dir.clone());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("log/gunicorn.out"))
            .map_err(|e| fail(format!("gunicorn log: {e}")))?;
        let child = Command::new(venv.join("bin/gunicorn"))
            .args([
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "1",
                "--threads",
                "1",
                "--no-control-socket",
                "--preload",
            ])
            .arg("harness_keystone_wsgi:application")
            .env("PYTHONPATH", workspace_root().join("harness/keystone/python"))
            .env("OS_KEYSTONE_CONFIG_DIR", &dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| fail(e.to_string()))?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| fail(format!("starting gunicorn: {e}")))?;
        self.process.child = Some(child);
        let started = Instant::now();
        loop {
            if let Some(status) = self.process.exited() {
                let tail = self.process.log_tail(200);
                return Err(fail(format!("gunicorn exited early ({status}):\n{tail}")));
            }
            if let Ok((200, _)) = http_get(port, "/v3", None) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(60) {
                self.stop();
                return Err(fail("Keystone was not ready after 60 s"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `http://127.0.0.1:<port>/v3`.
    pub fn auth_url(&self) -> String {
        format!("http://127.0.0.1:{}/v3", self.process.port)
    }

    /// The run's folder.
    pub fn dir(&self) -> &Path {
        &self.process.dir
    }

    /// Ends the server's process group.
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// The process group id.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }
}

/// A running Trove API in fake mode (sqlite, in-process messaging, Trove's
/// fake Keystone filter: the token names the project, and a token starting
/// with `admin` is an administrator's).
pub struct Trove {
    process: ServerProcess,
    venv: PathBuf,
}

/// The Trove release the harness runs.
pub const TROVE_VERSION: &str = "26.0.0";

/// POSTs a user may send per minute before the harness Trove answers
/// `overLimit` (Trove's rate-limit middleware; its default is 200).
pub const TROVE_POST_RATE: u32 = 3;

impl Trove {
    /// Installs (first time), configures and starts Trove's API.
    pub fn start() -> Result<Trove> {
        let venv = ensure(&TROVE_VENV)?;
        remove_stale_runs();
        let port = free_port()?;
        let dir = state_dir().join("runs").join(format!("trove-{port}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("log")).map_err(|e| fail(format!("{}: {e}", dir.display())))?;

        // The shipped pipeline, with Trove's fake Keystone filter in place of
        // keystonemiddleware.
        let shipped = venv.join("etc/trove/api-paste.ini");
        let paste = std::fs::read_to_string(&shipped).map_err(|e| fail(format!("{}: {e}", shipped.display())))?;
        let real_auth = "keystonemiddleware.auth_token:filter_factory";
        if !paste.contains(real_auth) {
            return Err(fail(format!("{}: no `{real_auth}` to replace", shipped.display())));
        }
        let paste_file = dir.join("api-paste.ini");
        std::fs::write(&paste_file, paste.replace(real_auth, "trove.tests.fakes.keystone:filter_factory"))
            .map_err(|e| fail(format!("{}: {e}", paste_file.display())))?;

        let conf = dir.join("trove.conf");
        std::fs::write(&conf, trove_config(&dir, &paste_file, port))
            .map_err(|e| fail(format!("{}: {e}", conf.display())))?;
        let manage = |args: &[&str]| {
            Command::new(venv.join("bin/trove-manage"))
                .arg("--config-file")
                .arg(&conf)
                .args(args)
                .output()
                .map_err(|e| fail(format!("trove-manage: could not start: {e}")))
        };
        // db_sync creates the schema, then fails in a last step that tags
        // Nova servers (there is no Nova): the schema is complete by then.
        let out = manage(&["db_sync"])?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if !out.status.success() && !text.contains("Setting nova tags") {
            return Err(fail(format!("trove-manage db_sync failed ({}):\n{text}", out.status)));
        }
        for args in [
            &["datastore_update", "mysql", ""][..],
            &["datastore_version_update", "mysql", "5.7", "mysql", "", "", "1"],
            &["datastore_update", "mysql", "5.7"],
        ] {
            let out = manage(args)?;
            if !out.status.success() {
                return Err(fail(format!(
                    "trove-manage {} failed ({}):\n{}",
                    args.join(" "),
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
        }

        let log =
            std::fs::File::create(dir.join("log/launcher.out")).map_err(|e| fail(format!("launcher log: {e}")))?;
        let child = Command::new(venv.join("bin/python"))
            .arg(workspace_root().join("harness/trove/python/harness_trove_launcher.py"))
            .arg("--config-file")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| fail(e.to_string()))?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| fail(format!("starting Trove: {e}")))?;
        let logs = &["log/launcher.out", "log/trove.log"];
        let mut trove = Trove { process: ServerProcess { child: Some(child), port, dir, logs }, venv };
        let started = Instant::now();
        loop {
            if let Some(status) = trove.process.exited() {
                let tail = trove.process.log_tail(40);
                return Err(fail(format!("Trove exited early ({status}):\n{tail}")));
            }
            if let Ok((200, _)) = http_get(port, "/v1.0/0ready/backups", Some("0ready")) {
                return Ok(trove);
            }
            if started.elapsed() > Duration::from_secs(60) {
                let tail = trove.process.log_tail(40);
                trove.stop();
                return Err(fail(format!("Trove was not ready after 60 s:\n{tail}")));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn root_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.process.port)
    }

    /// The endpoint as a catalog would list it, with the project.
    pub fn endpoint(&self, project: &str) -> String {
        format!("{}/v1.0/{project}", self.root_url())
    }

    /// The run's folder (configuration, database, logs).
    pub fn dir(&self) -> &Path {
        &self.process.dir
    }

    /// Writes backup records straight into Trove's database (see
    /// `harness/trove/python/harness_trove_seed.py`). Each is an object with
    /// `id`, `name`, `project_id`, `status`, `created`, `updated` (naive
    /// UTC, `YYYY-MM-DD HH:MM:SS`) and optionally `description`,
    /// `instance_id`, `parent_id`, `size`, `location`, `checksum`.
    pub fn insert_backups(&self, backups: &[serde_json::Value]) -> Result<()> {
        let mut child = Command::new(self.venv.join("bin/python"))
            .arg(workspace_root().join("harness/trove/python/harness_trove_seed.py"))
            .arg(self.process.dir.join("trove.sqlite"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("seeding Trove: {e}")))?;
        let body = serde_json::to_vec(backups).map_err(|e| fail(e.to_string()))?;
        child.stdin.take().expect("piped").write_all(&body).map_err(|e| fail(format!("seeding Trove: {e}")))?;
        let out = child.wait_with_output().map_err(|e| fail(format!("seeding Trove: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!(
                "seeding Trove failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Ends the server's process group.
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

fn trove_config(dir: &Path, paste: &Path, port: u16) -> String {
    format!(
        "[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
trove_api_workers = 1
api_paste_config = {paste}
transport_url = fake:/
remote_nova_client = trove.tests.fakes.nova.fake_create_nova_client
remote_guest_client = trove.tests.fakes.guestagent.fake_create_guest_client
remote_swift_client = trove.tests.fakes.swift.fake_create_swift_client
remote_cinder_client = trove.tests.fakes.nova.fake_create_cinder_client
remote_neutron_client = trove.tests.fakes.neutron.fake_create_neutron_client
log_dir = {dir}/log
log_file = trove.log
http_post_rate = {TROVE_POST_RATE}

[database]
connection = sqlite:///{dir}/trove.sqlite

[oslo_messaging_notifications]
driver = noop
",
        paste = paste.display(),
        dir = dir.display(),
    )
}

/// A free TCP port on 127.0.0.1 (for a server started later).
pub fn pick_port() -> Result<u16> {
    free_port()
}

/// Ends the process group `pgid`: SIGTERM, then SIGKILL after five seconds.
pub fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else { return };
    // SAFETY: killpg only sends a signal; a stale group id fails with ESRCH.
    unsafe {
        libc::killpg(pgid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        // SAFETY: signal 0 only checks whether the group still exists.
        if unsafe { libc::killpg(pgid, 0) } != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: as above.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Removes the folders of runs whose process is gone (a failed run's folder
/// stays for inspection until the next start).
fn remove_stale_runs() {
    let Ok(entries) = std::fs::read_dir(state_dir().join("runs")) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.rsplit('-').next().and_then(|p| p.parse::<libc::pid_t>().ok()) else { continue };
        // SAFETY: signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        let up = std::fs::read_to_string(state_dir().join("up.pid")).unwrap_or_default();
        let is_up = up.split_whitespace().nth(1).is_some_and(|port| name.starts_with(&format!("{port}-")));
        if !alive && !is_up {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| fail(format!("finding a free port: {e}")))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| fail(e.to_string()))
}

/// A minimal HTTP GET on loopback, for readiness checks before any client
/// of the project is involved.
fn http_get(port: u16, path: &str, token: Option<&str>) -> std::result::Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let auth = token.map(|t| format!("X-Auth-Token: {t}\r\n")).unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n{auth}Connection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {response:.80}"))?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

fn config(venv: &Path, dir: &Path, conf: &Path, port: u16) -> String {
    let etc = venv.join("etc/cinder");
    let helper = format!("{} --config-file {}", venv.join("bin/privsep-helper").display(), conf.display());
    format!(
        "[DEFAULT]
auth_strategy = noauth
transport_url = fake:/
api_paste_config = {etc}/api-paste.ini
resource_query_filters_file = {etc}/resource_filters.json
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = {port}
osapi_volume_workers = 1
enabled_backends = file
default_volume_type = __DEFAULT__
backup_driver = cinder.backup.drivers.posix.PosixBackupDriver
backup_posix_path = {dir}/backups
backup_workers = 1
# Volume files are 4 MiB whatever their nominal size (the backup driver reads
# to the end of the file): a backup of a full 1 GiB took 12 s and wrote 1 GiB.
backup_sha_block_size_bytes = 65536
backup_file_size = 4194304
quota_volumes = -1
quota_snapshots = -1
quota_gigabytes = -1
quota_backups = -1
quota_backup_gigabytes = -1
report_interval = 5
periodic_interval = 10
state_path = {dir}/state
log_dir = {dir}/log
host = harness
my_ip = 127.0.0.1

[file]
volume_driver = harness_file_driver.FileVolumeDriver
volume_backend_name = file
file_volume_dir = {dir}/volumes
file_volume_bytes = 4194304

[database]
connection = sqlite:///{dir}/cinder.sqlite

[oslo_concurrency]
lock_path = {dir}/locks

[coordination]
backend_url = file://{dir}/coordination

[oslo_messaging_notifications]
driver = noop

[privsep_osbrick]
helper_command = {helper}

[cinder_sys_admin]
helper_command = {helper}
",
        etc = etc.display(),
        dir = dir.display(),
    )
}
