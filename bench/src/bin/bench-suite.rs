//! `cargo xtask bench` (which runs this program): builds and runs the
//! programs of `bench/` and writes the figures into BENCHMARKS.md (between
//! its `bench:begin`/`bench:end` markers). `--quick` makes fewer runs.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use openstack_backups_codegen::{Mode, diff, regenerate};

struct Run {
    cpu: f64,
    wall: f64,
    rss_kib: f64,
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut v: Vec<f64>) -> Stats {
    v.sort_by(f64::total_cmp);
    Stats { median: v[v.len() / 2], min: v[0], max: v[v.len() - 1] }
}

impl Stats {
    fn show(&self, unit: &str, digits: usize) -> String {
        let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
        format!("{:.d$}{unit} ({:.d$}–{:.d$})", self.median, self.min, self.max, d = digits)
    }
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(root: &Path, n: usize) -> Result<Server, String> {
        let mut child = Command::new(root.join("target/release/bench-server"))
            .arg(n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("bench-server: {e}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("piped")).read_line(&mut line).map_err(|e| e.to_string())?;
        let port = line.trim().parse().map_err(|_| format!("bench-server printed {line:?}"))?;
        Ok(Server { child, port })
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v3/p", self.port)
    }

    fn get(&self, path: &str) -> Result<serde_json::Value, String> {
        Self::get_from(self.port, path)
    }

    /// `GET path` on 127.0.0.1:`port`, the body as JSON.
    fn get_from(port: u16, path: &str) -> Result<serde_json::Value, String> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut s, &mut text).map_err(|e| e.to_string())?;
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
        serde_json::from_str(body).map_err(|e| e.to_string())
    }

    fn connections(&self) -> Result<u64, String> {
        // The /stats connection itself counts too.
        self.get("/stats")?["connections"].as_u64().map(|c| c - 1).ok_or_else(|| "no count".to_owned())
    }

    /// Runs `program` and returns its cost and the time from its start to
    /// the first request the server saw.
    fn timed_start(
        &self,
        dir: &Path,
        program: &str,
        args: &[String],
        env: &[(&str, &str)],
    ) -> Result<(Run, f64), String> {
        self.get("/mark")?;
        let spawned = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
        let (run, _) = measure_in(dir, program, args, env)?;
        let first = self.get("/stats")?["first_request_ns"].as_u64().unwrap_or(0);
        let start_to_first = (first as f64 - spawned.as_nanos() as f64) / 1e9;
        Ok((run, start_to_first))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// glibc's allocator with its mmap threshold fixed (it otherwise rises after
/// each large free, up to 32 MiB, and ~1 MiB page buffers then stay in the heap).
const FIXED_MMAP_THRESHOLD: (&str, &str) = ("MALLOC_MMAP_THRESHOLD_", "131072");

fn measure(root: &Path, program: &str, args: &[String]) -> Result<(Run, usize), String> {
    measure_with(root, program, args, &[])
}

fn measure_with(root: &Path, program: &str, args: &[String], env: &[(&str, &str)]) -> Result<(Run, usize), String> {
    measure_in(&root.join("target/release"), program, args, env)
}

/// Runs `dir/program` and reads the cost it reports.
fn measure_in(dir: &Path, program: &str, args: &[String], env: &[(&str, &str)]) -> Result<(Run, usize), String> {
    let out =
        Command::new(dir.join(program)).args(args).envs(env.iter().copied()).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{program} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("{program}: {e}"))?;
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    Ok((
        Run { cpu: f("user") + f("sys"), wall: f("wall"), rss_kib: f("max_rss_kib") },
        v["items"].as_u64().unwrap_or(0) as usize,
    ))
}

fn cargo(root: &Path) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    c.current_dir(root);
    c
}

/// Builds the benchmark programs (release, no TLS).
fn build(root: &Path) -> Result<(), String> {
    eprintln!("bench: building the benchmark programs (release)");
    let status = cargo(root)
        .args(["build", "--release", "--quiet", "-p", "openstack-backups-bench"])
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err("building bench/ failed".to_owned()) }
}

fn run(root: &Path, quick: bool) -> Result<(), String> {
    let runs = if quick { 3 } else { 7 };
    build(root)?;
    for (feature, dir) in [("rustls", RUSTLS_TARGET), ("native-tls", NATIVE_TLS_TARGET)] {
        eprintln!("bench: building them with the `{feature}` feature (release)");
        let status = cargo(root)
            .args(["build", "--release", "--quiet", "-p", "openstack-backups-bench", "--features", feature])
            .arg("--target-dir")
            .arg(root.join(dir))
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("building bench/ with `{feature}` failed (native-tls needs libssl-dev)"));
        }
    }
    let mut md = String::new();
    let machine = machine();
    md.push_str(&format!("Measured {} on {machine}; each figure is the median of {runs} runs (min–max).\n\n", date()));

    // 1. Listing throughput.
    md.push_str("### 1. Listing every backup through the paged stream (pages of 1000)\n\n");
    md.push_str("| N | program | CPU (user+sys) | wall | peak RSS |\n|---|---|---|---|---|\n");
    let mut summary = Vec::new();
    // Peak RSS (MiB, medians) with the allocator's mmap threshold fixed:
    // (N, floor, generated).
    let mut fixed = Vec::new();
    for n in [10_000usize, 100_000, 1_000_000] {
        let server = Server::start(root, n)?;
        let (mut gen_runs, mut floor_runs) = (Vec::new(), Vec::new());
        let (mut gen_fixed, mut floor_fixed) = (Vec::new(), Vec::new());
        for i in 0..runs {
            eprintln!("bench: N={n} run {}/{runs}", i + 1);
            for (mode, into, into_fixed) in
                [("floor", &mut floor_runs, &mut floor_fixed), ("generated", &mut gen_runs, &mut gen_fixed)]
            {
                for (env, runs) in [(&[][..], &mut *into), (&[FIXED_MMAP_THRESHOLD][..], &mut *into_fixed)] {
                    let (r, items) = measure_with(root, "bench-list", &[mode.to_owned(), server.endpoint()], env)?;
                    if items != n {
                        return Err(format!("{mode} listed {items} of {n}"));
                    }
                    runs.push(r);
                }
            }
        }
        let rss = |v: &[Run]| stats(v.iter().map(|r| r.rss_kib / 1024.0).collect());
        fixed.push((n, rss(&floor_fixed), rss(&gen_fixed)));
        let row = |name: &str, v: &[Run]| {
            let cpu = stats(v.iter().map(|r| r.cpu).collect());
            let wall = stats(v.iter().map(|r| r.wall).collect());
            let rss = stats(v.iter().map(|r| r.rss_kib / 1024.0).collect());
            let line =
                format!("| {n} | {name} | {} | {} | {} |\n", cpu.show("s", 3), wall.show("s", 3), rss.show("MiB", 1));
            (line, cpu.median, rss.median)
        };
        let (floor_line, floor_cpu, _) = row("hand-written floor", &floor_runs);
        let (gen_line, gen_cpu, gen_rss) = row("generated client", &gen_runs);
        md.push_str(&floor_line);
        md.push_str(&gen_line);
        summary.push((n, gen_cpu / floor_cpu, gen_rss));
    }
    md.push('\n');
    for (n, ratio, rss) in &summary {
        if *n > 100_000 {
            md.push_str(&format!(
                "- N = {n} (the trend; the targets are set at 10,000 and 100,000): CPU {ratio:.2}× the floor; peak RSS {rss:.1} MiB.\n"
            ));
            continue;
        }
        md.push_str(&format!(
            "- N = {n}: CPU {ratio:.2}× the floor (target ≤ 1.15×: {}); peak RSS {rss:.1} MiB (target < 10 MiB: {}).\n",
            verdict(*ratio <= 1.15),
            verdict(*rss < 10.0)
        ));
    }
    md.push_str(
        "\n**Memory flat in N.** The same runs again with glibc's mmap threshold fixed \
         (`MALLOC_MMAP_THRESHOLD_=131072`; by default it rises after each large free, and the \
         ~1 MiB page buffers then stay in the heap, so both programs' peak creeps up with the \
         number of pages, not of items). Peak RSS, median (min–max):\n\n\
         | N | hand-written floor | generated client |\n|---|---|---|\n",
    );
    for (n, floor, generated) in &fixed {
        md.push_str(&format!("| {n} | {} | {} |\n", floor.show("MiB", 1), generated.show("MiB", 1)));
    }
    let medians: Vec<f64> = fixed.iter().map(|(_, _, g)| g.median).collect();
    let spread = medians.iter().copied().fold(f64::MIN, f64::max) - medians.iter().copied().fold(f64::MAX, f64::min);
    let default_growth = match (summary.first(), summary.last()) {
        (Some((_, _, small)), Some((_, _, large))) => large - small,
        _ => 0.0,
    };
    md.push_str(&format!(
        "\n- The generated client's peak RSS varies by {spread:.1} MiB from N = 10,000 to 1,000,000 \
         (the items alone are about 1 GiB of JSON at N = 1,000,000): {}, the target being the same \
         peak at every N within 1 MiB (one page at a time).\n\
         - With the default allocator settings (the table above) it grows by {default_growth:.1} MiB \
         over the same range, as the floor's does.\n\n",
        verdict(spread < 1.0)
    ));

    // 2. Start-up: the user's whole path.
    md.push_str(&startup(root, runs)?);

    // 3. The command line against python-openstackclient.
    md.push_str(&command_line(root, runs)?);

    // 4. Regenerate and spec-diff.
    md.push_str(&tooling(root, runs)?);

    // 5. Concurrency and load.
    md.push_str(&concurrency(root, runs)?);

    // 6. Build cost (last: it is the slowest).
    md.push_str("### 6. Build cost of the client crate (default features, fresh target folder)\n\n");
    md.push_str("| profile | wall | crates compiled |\n|---|---|---|\n");
    let build_runs = if quick { 1 } else { 3 };
    let mut debug_build = (0.0, 0.0);
    for (profile, flag) in [("debug", None), ("release", Some("--release"))] {
        let (mut walls, mut crates) = (Vec::new(), Vec::new());
        for i in 0..build_runs {
            eprintln!("bench: {profile} build {}/{build_runs}", i + 1);
            let dir = std::env::temp_dir().join(format!("openstack-backups-build-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let mut c = cargo(root);
            c.args(["build", "-p", "openstack-backups", "--target-dir"])
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            if let Some(f) = flag {
                c.arg(f);
            }
            let t = Instant::now();
            let out = c.output().map_err(|e| e.to_string())?;
            walls.push(t.elapsed().as_secs_f64());
            if !out.status.success() {
                return Err(format!("build failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
            crates.push(
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .filter(|l| l.trim_start().starts_with("Compiling "))
                    .count() as f64,
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
        let (w, c) = (stats(walls), stats(crates));
        md.push_str(&format!("| {profile} | {} | {:.0} |\n", w.show("s", 1), c.median));
        if profile == "debug" {
            debug_build = (w.median, c.median);
        }
    }
    md.push_str(&format!(
        "\n- Debug build: {:.1} s (target < 60 s: {}), {:.0} crates (target < 130: {}).\n\n",
        debug_build.0,
        verdict(debug_build.0 < 60.0),
        debug_build.1,
        verdict(debug_build.1 < 130.0)
    ));

    // 7. Backup policies.
    md.push_str(&policies(root, runs, quick)?);

    write_results(root, &md)?;
    println!("{md}");
    println!("written to BENCHMARKS.md");
    Ok(())
}

/// The python-openstackclient the command line is measured against (the
/// harness's pinned install, shared with the side-by-side test).
const OSC: &str = "python-openstackclient==10.5.0";

/// `openstack` of the harness's OSC venv (installed on first use).
fn osc(_root: &Path) -> Result<std::path::PathBuf, String> {
    let venv = openstack_backups_harness::ensure_osc_venv().map_err(|e| e.to_string())?;
    Ok(venv.join("bin/openstack"))
}

/// Runs `program` to its end and measures it from outside (wait4): wall
/// time, CPU and peak RSS; returns them with the lines it printed.
fn measure_process(program: &Path, args: &[&str], env: &[(String, String)]) -> Result<(Run, usize), String> {
    use std::io::Read;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let lines = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        text.iter().filter(|b| **b == b'\n').count()
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // SAFETY: wait4 writes the child's status and usage into the values we pass.
    let (status, usage) = unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage);
        (status, usage)
    };
    let wall = started.elapsed().as_secs_f64();
    let (lines, errors) = (lines.join().unwrap_or(0), errors.join().unwrap_or_default());
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("{} {args:?} failed: {errors}", program.display()));
    }
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok((Run { cpu: cpu(usage.ru_utime) + cpu(usage.ru_stime), wall, rss_kib: usage.ru_maxrss as f64 }, lines))
}

/// `osbackup backup list -f value -c ID` beside `openstack volume backup
/// list -f value -c ID` (python-openstackclient from PyPI), same server,
/// same password authentication; and `osbackup --help`.
fn command_line(root: &Path, runs: usize) -> Result<String, String> {
    eprintln!("bench: building osbackup (release)");
    let status =
        cargo(root).args(["build", "--release", "--quiet", "-p", "osbackup"]).status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("building osbackup failed".to_owned());
    }
    let osbackup = root.join("target/release/osbackup");
    let openstack = osc(root)?;
    let mut md = format!(
        "### 3. The command line\n\n\
         `osbackup backup list -f value -c ID` (release build) and `openstack volume backup list -f value -c ID` \
         ({OSC} from PyPI, in a venv) against the same server, with the same password authentication \
         (`OS_*` variables, Keystone's version discovery and catalog served by `bench-server`), each run \
         a new process measured from outside (wall time, and CPU and peak RSS from `wait4`). OSC runs at \
         most 3 times at N = 100,000.\n\n\
         | N | command | wall | CPU (user+sys) | peak RSS |\n|---|---|---|---|---|\n"
    );
    let mut ratios = Vec::new();
    let mut our_rss = Vec::new();
    for n in [1_000usize, 100_000] {
        let server = Server::start(root, n)?;
        let env: Vec<(String, String)> = [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", std::env::temp_dir().to_str().unwrap_or("/tmp")),
            ("OS_AUTH_TYPE", "v3password"),
            ("OS_USERNAME", "bench"),
            ("OS_PASSWORD", "bench-password"),
            ("OS_PROJECT_NAME", "bench"),
            ("OS_USER_DOMAIN_NAME", "Default"),
            ("OS_PROJECT_DOMAIN_NAME", "Default"),
            ("OS_REGION_NAME", "RegionOne"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain(std::iter::once(("OS_AUTH_URL".to_owned(), format!("http://127.0.0.1:{}/identity/v3", server.port))))
        .collect();
        let mut ours = Vec::new();
        let mut ours_fixed = Vec::new();
        let mut theirs = Vec::new();
        let mut fixed_env = env.clone();
        fixed_env.push((FIXED_MMAP_THRESHOLD.0.to_owned(), FIXED_MMAP_THRESHOLD.1.to_owned()));
        for i in 0..runs {
            eprintln!("bench: command line N={n} run {}/{runs}", i + 1);
            let (r, lines) = measure_process(&osbackup, &["backup", "list", "-f", "value", "-c", "ID"], &env)?;
            if lines != n {
                return Err(format!("osbackup listed {lines} of {n}"));
            }
            ours.push(r);
            ours_fixed.push(measure_process(&osbackup, &["backup", "list", "-f", "value", "-c", "ID"], &fixed_env)?.0);
            if n <= 1_000 || i < 3 {
                let (r, lines) =
                    measure_process(&openstack, &["volume", "backup", "list", "-f", "value", "-c", "ID"], &env)?;
                if lines != n {
                    return Err(format!("openstack listed {lines} of {n}"));
                }
                theirs.push(r);
            }
        }
        let row = |name: &str, v: &[Run]| {
            let wall = stats(v.iter().map(|r| r.wall).collect());
            let cpu = stats(v.iter().map(|r| r.cpu).collect());
            let rss = stats(v.iter().map(|r| r.rss_kib / 1024.0).collect());
            (
                format!("| {n} | {name} | {} | {} | {} |\n", wall.show("s", 3), cpu.show("s", 3), rss.show("MiB", 1)),
                wall.median,
                rss.median,
            )
        };
        let (line, our_wall, rss) = row("`osbackup backup list -f value -c ID`", &ours);
        md.push_str(&line);
        let (line, their_wall, _) = row("`openstack volume backup list -f value -c ID`", &theirs);
        md.push_str(&line);
        ratios.push((n, their_wall / our_wall));
        let fixed = stats(ours_fixed.iter().map(|r| r.rss_kib / 1024.0).collect()).median;
        our_rss.push((n, rss, fixed));
    }
    let mut help = Vec::new();
    for _ in 0..runs {
        help.push(measure_process(&osbackup, &["--help"], &[])?.0);
    }
    let wall = stats(help.iter().map(|r| r.wall).collect());
    let rss = stats(help.iter().map(|r| r.rss_kib / 1024.0).collect());
    md.push_str(&format!("| – | `osbackup --help` | {} | – | {} |\n\n", wall.show("s", 4), rss.show("MiB", 1)));
    for (n, ratio) in &ratios {
        let target =
            if *n == 1_000 { format!(" (target ≥ 20×: {})", verdict(*ratio >= 20.0)) } else { String::new() };
        md.push_str(&format!("- N = {n}: osbackup takes {:.0}× less wall time than OSC{target}.\n", ratio));
    }
    if let [(_, small, small_fixed), (_, large, large_fixed)] = our_rss.as_slice() {
        md.push_str(&format!(
            "- osbackup's peak RSS: {small:.1} MiB at N = 1,000 and {large:.1} MiB at N = 100,000 with the \
             default allocator settings; {small_fixed:.1} and {large_fixed:.1} MiB with glibc's mmap threshold \
             fixed (`{}={}`, as in section 1: the rest is freed page buffers the allocator keeps). The items \
             are about 100 MiB of JSON at N = 100,000 (target: flat in N, within 2 MiB with the threshold \
             fixed: {}).\n\n",
            FIXED_MMAP_THRESHOLD.0,
            FIXED_MMAP_THRESHOLD.1,
            verdict((large_fixed - small_fixed).abs() <= 2.0)
        ));
    }
    Ok(md)
}

/// Where the benchmark programs built with the client's default TLS go.
const RUSTLS_TARGET: &str = "target/bench-rustls";
/// Where the benchmark programs built with reqwest's native-tls go.
const NATIVE_TLS_TARGET: &str = "target/bench-native-tls";

/// The user's path from a standing start: `Session::from_env()` with a
/// `clouds.yaml` cloud (password authentication against the bench
/// server's Keystone), catalog, negotiation and the paged stream, in the
/// client's default build (rustls), against the hand-written floor built
/// without TLS and with reqwest's native-tls.
fn startup(root: &Path, runs: usize) -> Result<String, String> {
    let mut md = String::from(
        "### 2. Start-up: the user's whole path\n\n\
         `bench-list session`: `Session::from_env()` with `OS_CLOUD` naming a `clouds.yaml` cloud on \
         `http://127.0.0.1` (password authentication, the catalog, version negotiation), then the paged \
         stream, built with the crate's default features (TLS through rustls). Floors: the same path \
         written by hand (`bench-list floor-session`: read `clouds.yaml` with serde_norway, issue the \
         token, take the endpoint from the catalog, read the version document, list with reqwest and \
         serde_json into typed structs), built without TLS and with reqwest's native-tls. \
         *Start → first request*: from spawning the process to the first request the server sees \
         (the Keystone POST for the session).\n\n\
         | N | program | CPU (user+sys) | start → first request | peak RSS |\n|---|---|---|---|---|\n",
    );
    let rustls_dir = root.join(RUSTLS_TARGET).join("release");
    let native_dir = root.join(NATIVE_TLS_TARGET).join("release");
    let plain_dir = root.join("target/release");
    let dir = std::env::temp_dir().join(format!("openstack-backups-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut summary = Vec::new();
    for n in [1_000usize, 10_000, 100_000] {
        let server = Server::start(root, n)?;
        let clouds = dir.join("clouds.yaml");
        std::fs::write(
            &clouds,
            format!(
                "clouds:\n  bench:\n    auth:\n      auth_url: http://127.0.0.1:{}/identity\n      username: bench\n      \
                 password: bench-password\n      project_name: bench\n      user_domain_name: Default\n      \
                 project_domain_name: Default\n    region_name: RegionOne\n",
                server.port
            ),
        )
        .map_err(|e| e.to_string())?;
        let clouds = clouds.display().to_string();
        let session_env = [("OS_CLOUD", "bench"), ("OS_CLIENT_CONFIG_FILE", clouds.as_str())];
        // (row name, build folder, mode)
        let programs: [(&str, &Path, &str); 3] = [
            ("floor, no TLS", &plain_dir, "floor-session"),
            ("floor, native-tls", &native_dir, "floor-session"),
            ("session (default features)", &rustls_dir, "session"),
        ];
        let mut results: Vec<(Vec<Run>, Vec<f64>)> = programs.iter().map(|_| (Vec::new(), Vec::new())).collect();
        for i in 0..runs {
            eprintln!("bench: start-up N={n} run {}/{runs}", i + 1);
            for ((_, dir, mode), (runs, firsts)) in programs.iter().zip(results.iter_mut()) {
                let (run, first) = server.timed_start(dir, "bench-list", &[(*mode).to_owned()], &session_env)?;
                runs.push(run);
                firsts.push(first * 1000.0);
            }
        }
        let mut cpus = Vec::new();
        for ((name, ..), (runs, firsts)) in programs.iter().zip(&results) {
            let cpu = stats(runs.iter().map(|r| r.cpu).collect());
            let rss = stats(runs.iter().map(|r| r.rss_kib / 1024.0).collect());
            md.push_str(&format!(
                "| {n} | {name} | {} | {} | {} |\n",
                cpu.show("s", 3),
                stats(firsts.clone()).show("ms", 1),
                rss.show("MiB", 1)
            ));
            cpus.push(cpu.median);
        }
        summary.push((n, cpus[2] / cpus[0], cpus[2] / cpus[1]));
    }
    let _ = std::fs::remove_dir_all(&dir);
    md.push('\n');
    for (n, plain, tls) in summary {
        md.push_str(&format!(
            "- N = {n}: the session's CPU is {plain:.2}× the no-TLS floor (target ≤ 1.15×: {}) and {tls:.2}× the native-tls floor.\n",
            verdict(plain <= 1.15)
        ));
    }
    md.push('\n');
    Ok(md)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores ({model})")
}

fn date() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Section 4: the maintainers' tools, as library calls in this release
/// build: `regenerate --check` of every spec, and `spec-diff` of every spec
/// at `HEAD` against the working tree (git reads the old side, as
/// `cargo xtask spec-diff` does; both sides are built into the generator's
/// model and compared in full even when nothing changed).
fn tooling(root: &Path, runs: usize) -> Result<String, String> {
    eprintln!("bench: regenerate and spec-diff");
    let time = |f: &dyn Fn() -> Result<(), String>| -> Result<Stats, String> {
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            f()?;
            times.push(t.elapsed().as_secs_f64());
        }
        Ok(stats(times))
    };
    let regen = time(&|| regenerate(root, Mode::Check).map(drop).map_err(|e| e.to_string()))?;
    let diff = time(&|| spec_diff_head(root))?;
    let specs = openstack_backups_codegen::services(root).map_err(|e| e.to_string())?.len();
    Ok(format!(
        "### 4. Regenerate and spec-diff\n\n\
         - `regenerate --check` of all {specs} specs (the work of `cargo xtask regenerate`, without compiling xtask): {} (target < 1 s: {}).\n\
         - `spec-diff HEAD` of all {specs} specs (`git show` of each old side, both sides built into the generator's model and compared): {} (target < 1 s: {}).\n\n",
        regen.show("s", 3),
        verdict(regen.median < 1.0),
        diff.show("s", 3),
        verdict(diff.median < 1.0),
    ))
}

/// The work of `cargo xtask spec-diff HEAD`: each spec's text at `HEAD`
/// from git and in the working tree, both models, their changes.
fn spec_diff_head(root: &Path) -> Result<(), String> {
    for service in openstack_backups_codegen::services(root).map_err(|e| e.to_string())? {
        let file = &service.spec_path;
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["show", &format!("HEAD:{file}")])
            .output()
            .map_err(|e| format!("git show: {e}"))?;
        let old_text = String::from_utf8(out.stdout).map_err(|_| "git show: not UTF-8".to_owned())?;
        let new_text = std::fs::read_to_string(root.join(file)).map_err(|e| format!("{file}: {e}"))?;
        let old = openstack_backups_codegen::model_of(&format!("{file}@HEAD"), &old_text).map_err(|e| e.to_string())?;
        let new = openstack_backups_codegen::model_of(file, &new_text).map_err(|e| e.to_string())?;
        std::hint::black_box(diff::diff_models(file, Some(&old), Some(&new)));
    }
    Ok(())
}

/// One row of the load table: the calls, and each run's figures.
struct LoadRow {
    mode: &'static str,
    shows: usize,
    waiters: usize,
    show_wall: Vec<f64>,
    wait_wall: Vec<f64>,
    opened: Vec<f64>,
    requests: Vec<f64>,
    rss: Vec<f64>,
    cpu: Vec<f64>,
}

/// Section 5: 1,000 shows at 32 in flight through one client; then the
/// load through one session: 10,000 concurrent shows and 1,000 concurrent
/// waiters with at most 64 requests in flight (`bench-load`).
fn concurrency(root: &Path, runs: usize) -> Result<String, String> {
    eprintln!("bench: concurrency");
    let server = Server::start(root, 1000)?;
    let (mut rps, mut conns) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let before = server.connections()?;
        let (r, _) = measure(root, "bench-concurrency", &[server.endpoint(), "1000".into(), "32".into()])?;
        conns.push((server.connections()? - before) as f64);
        rps.push(1000.0 / r.wall);
    }
    let (rps, conns) = (stats(rps), stats(conns));
    let mut md = String::from(
        "### 5. Concurrency and load

",
    );
    md.push_str(&format!(
        "1,000 `show_backup` calls through one client, at most 32 in flight: {}; connections opened per run: {} (the pool is reused: about one per request in flight, not one per request).\n\n",
        rps.show("req/s", 0),
        conns.show("", 0)
    ));

    eprintln!("bench: load");
    const LIMIT: usize = 64;
    let root_url = format!("http://127.0.0.1:{}", server.port);
    let load_runs = runs.min(5);
    let mut rows: Vec<LoadRow> = Vec::new();
    for (shows, waiters, mode) in [(1_000, 100, "all"), (10_000, 1_000, "all"), (10_000, 1_000, "buffered")] {
        let (mut show_wall, mut wait_wall, mut opened, mut requests, mut rss, mut cpu) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..load_runs {
            let before = server.get("/stats")?;
            let out = Command::new(root.join("target/release/bench-load"))
                .args([root_url.clone(), shows.to_string(), waiters.to_string(), LIMIT.to_string(), mode.to_owned()])
                .output()
                .map_err(|e| format!("bench-load: {e}"))?;
            if !out.status.success() {
                return Err(format!("bench-load failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("bench-load: {e}"))?;
            if v["errors"].as_u64() != Some(0) {
                return Err(format!("bench-load: calls failed under load: {v}"));
            }
            let after = server.get("/stats")?;
            let delta = |k: &str| after[k].as_f64().unwrap_or(0.0) - before[k].as_f64().unwrap_or(0.0);
            // The /stats connection of `after` counts too.
            opened.push(delta("connections") - 1.0);
            requests.push(delta("requests"));
            show_wall.push(v["shows_wall"].as_f64().unwrap_or(0.0));
            wait_wall.push(v["waiters_wall"].as_f64().unwrap_or(0.0));
            rss.push(v["max_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0);
            cpu.push(v["user"].as_f64().unwrap_or(0.0) + v["sys"].as_f64().unwrap_or(0.0));
        }
        rows.push(LoadRow { mode, shows, waiters, show_wall, wait_wall, opened, requests, rss, cpu });
    }
    drop(server);
    md.push_str(&format!(
        "Load through one `Session` (`max_in_flight({LIMIT})`, fixed token, `bench-load`, {load_runs} runs each): \
         N `show_backup` calls, then N/10 `wait_for_backup` (each backup is `creating` for two polls, \
         pauses 20–40 ms), all started at once (`join_all`) or 64 at a time (`buffer_unordered(64)`). \
         No call failed in any run.\n\n\
         | calls | shows: wall | shows/s | waiters: wall | connections opened | requests served | peak RSS | CPU |\n\
         |---|---|---|---|---|---|---|---|\n"
    ));
    for LoadRow { mode, shows, waiters, show_wall, wait_wall, opened, requests, rss, cpu } in rows {
        let per_second: Vec<f64> = show_wall.iter().map(|w| shows as f64 / w).collect();
        md.push_str(&format!(
            "| {shows} shows, {waiters} waiters, {} | {} | {} | {} | {} | {} | {} | {} |\n",
            if mode == "all" { "all at once" } else { "64 started at a time" },
            stats(show_wall).show("s", 2),
            stats(per_second).show("", 0),
            stats(wait_wall).show("s", 2),
            stats(opened).show("", 0),
            stats(requests).show("", 0),
            stats(rss).show("MiB", 1),
            stats(cpu).show("s", 2),
        ));
    }
    md.push_str(&format!(
        "\nConnections stay at about the limit ({LIMIT}) whatever the burst; the requests are the shows, three polls per \
         waiter and the version document. Peak RSS grows with the calls started at once (each started call is a future \
         holding its built request while it waits for a place: about 5 KiB), not with connections or buffers; a caller \
         that starts calls as places free up (`buffer_unordered`) keeps it flat whatever N.\n\n"
    ));
    Ok(md)
}

/// A stateful Cinder (`bench-cloud`) for policy runs.
struct CloudServer {
    child: Child,
    port: u16,
}

impl CloudServer {
    fn start(root: &Path, volumes: usize, backup_ms: u64, jitter_pct: u64) -> Result<CloudServer, String> {
        let mut child = Command::new(root.join("target/release/bench-cloud"))
            .args([volumes.to_string(), backup_ms.to_string(), jitter_pct.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("bench-cloud: {e}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("piped")).read_line(&mut line).map_err(|e| e.to_string())?;
        let port = line.trim().parse().map_err(|_| format!("bench-cloud printed {line:?}"))?;
        Ok(CloudServer { child, port })
    }

    fn stats(&self) -> Result<serde_json::Value, String> {
        Server::get_from(self.port, "/stats")
    }
}

impl Drop for CloudServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The least time `durations` (in the order the backups were made) take on
/// a cloud that runs `slots` at once and starts each as soon as a slot is
/// free: what a runner with no lag at all would reach.
fn least_makespan(durations: &[f64], slots: usize) -> f64 {
    let mut free = vec![0.0f64; slots.max(1)];
    for d in durations {
        let (i, _) = free.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).expect("a slot");
        free[i] += d;
    }
    free.into_iter().fold(0.0, f64::max)
}

/// Section 7: `osbackup backup run` against `bench-cloud`.
fn policies(root: &Path, runs: usize, quick: bool) -> Result<String, String> {
    eprintln!("bench: building osbackup (release)");
    let status =
        cargo(root).args(["build", "--release", "--quiet", "-p", "osbackup"]).status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("building osbackup failed".to_owned());
    }
    let dir = std::env::temp_dir().join(format!("osbackup-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // (volumes, concurrency, backup ms, poll ms, runs)
    let shapes: Vec<(usize, usize, u64, u64, usize)> = if quick {
        vec![(200, 32, 3000, 300, 1), (200, 32, 3000, 150, 1), (100, 256, 500, 50, 1), (2_000, 256, 500, 50, 1)]
    } else {
        let r = runs.min(3);
        vec![
            (1_000, 32, 3000, 300, r),
            (1_000, 32, 3000, 150, r),
            (100, 256, 500, 50, r),
            (1_000, 256, 500, 50, r),
            (10_000, 256, 500, 50, r),
        ]
    };
    let mut md = String::from("### 7. Backup policies (`osbackup backup run`)\n\n");
    md.push_str(
        "`osbackup backup run --policy` (release build, `-f value`) against `bench-cloud`, a stateful Cinder on \
         127.0.0.1: N volumes, each backup `creating` for its set time (±10%, the same sequence every run), then \
         `available`. The policy selects every volume (`all: true`, full backups) with the `concurrency` and \
         `poll-interval` given. *Least* is what the cloud needs at that concurrency: the backups' own durations, in \
         the order they were made, laid out that many at a time with no gap. *Lag* is measured by the server: from a \
         backup becoming `available` to the first response that showed it so. Requests are all the server \
         answered (version document, volume list, limits, snapshot list, creates, polls), per volume.\n\n\
         | volumes | concurrency | backup | poll | wall | least | wall / least | lag (median) | lag (max) | requests / volume | polls | peak RSS |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut checks = Vec::new();
    let mut rss_by_volumes: Vec<(usize, f64)> = Vec::new();
    for (volumes, concurrency, backup_ms, poll_ms, shape_runs) in shapes {
        let policy = dir.join("policy.yaml");
        std::fs::write(
            &policy,
            format!(
                "policies:\n  bench:\n    select: {{all: true}}\n    every: 24h\n    concurrency: {concurrency}\n    poll-interval: {poll_ms}ms\n    timeout: 1h\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        let (mut walls, mut ratios, mut leasts, mut lag_med, mut lag_max, mut per_volume, mut polls, mut rss) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..shape_runs {
            eprintln!("bench: policy run, {volumes} volumes, {concurrency} at a time ({}/{shape_runs})", i + 1);
            let server = CloudServer::start(root, volumes, backup_ms, 10)?;
            let env: Vec<(String, String)> = vec![
                ("OS_AUTH_TYPE".into(), "admin_token".into()),
                ("OS_TOKEN".into(), "bench-token".into()),
                ("OS_PROJECT_ID".into(), "p".into()),
                ("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE".into(), format!("http://127.0.0.1:{}/v3/p", server.port)),
                ("XDG_RUNTIME_DIR".into(), dir.display().to_string()),
            ];
            let policy_arg = policy.display().to_string();
            let (run, lines) = measure_process(
                &root.join("target/release/osbackup"),
                &["backup", "run", "--policy", &policy_arg, "-f", "value", "-c", "Outcome"],
                &env,
            )?;
            if lines != volumes {
                return Err(format!("the run reported {lines} volumes, not {volumes}"));
            }
            let stats = server.stats()?;
            let durations: Vec<f64> = stats["durations_ms"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_f64())
                .map(|d| d / 1000.0)
                .collect();
            if durations.len() != volumes {
                return Err(format!("{} backups were made for {volumes} volumes", durations.len()));
            }
            let least = least_makespan(&durations, concurrency);
            let mut lags: Vec<f64> =
                stats["lags_ms"].as_array().into_iter().flatten().filter_map(|d| d.as_f64()).collect();
            lags.sort_by(f64::total_cmp);
            let requests: f64 =
                stats["requests"].as_object().into_iter().flatten().filter_map(|(_, n)| n.as_f64()).sum();
            walls.push(run.wall);
            leasts.push(least);
            ratios.push(run.wall / least);
            lag_med.push(lags.get(lags.len() / 2).copied().unwrap_or(0.0));
            lag_max.push(lags.last().copied().unwrap_or(0.0));
            per_volume.push(requests / volumes as f64);
            polls.push(
                stats["requests"]["list backups"].as_f64().unwrap_or(0.0)
                    + stats["requests"]["show backup"].as_f64().unwrap_or(0.0),
            );
            rss.push(run.rss_kib / 1024.0);
        }
        let (ratio, lag, per) = (stats(ratios.clone()), stats(lag_med.clone()), stats(per_volume.clone()));
        if concurrency == 32 && backup_ms == 10 * poll_ms {
            checks.push(format!(
                "- {volumes} volumes, backups of ten poll intervals: lag median {:.0} ms (target ≤ one poll interval, {poll_ms} ms: {}); {:.2} requests per volume (target ≤ 3: {}); wall / least {:.3} (each backup is seen half a poll interval late on average, so about 1 + 1/20 here by construction).",
                lag.median,
                verdict(lag.median <= poll_ms as f64),
                per.median,
                verdict(per.median <= 3.0),
                ratio.median,
            ));
        }
        if concurrency == 32 && backup_ms == 20 * poll_ms {
            checks.push(format!(
                "- {volumes} volumes, backups of twenty poll intervals: wall / least {:.3} (target ≤ 1.05: {}) for {:.2} requests per volume: `poll-interval` trades lag for list calls.",
                ratio.median,
                verdict(ratio.median <= 1.05),
                per.median,
            ));
        }
        // Rows whose volumes fill every place: fewer volumes than places
        // open fewer connections, which is not the volumes' memory.
        if concurrency == 256 && volumes >= concurrency {
            rss_by_volumes.push((volumes, stats(rss.clone()).median));
        }
        md.push_str(&format!(
            "| {volumes} | {concurrency} | {:.1} s | {} ms | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            backup_ms as f64 / 1000.0,
            poll_ms,
            stats(walls).show("s", 1),
            stats(leasts).show("s", 1),
            ratio.show("", 3),
            lag.show("ms", 0),
            stats(lag_max).show("ms", 0),
            per.show("", 2),
            stats(polls).show("", 0),
            stats(rss).show("MiB", 1),
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let (Some((n0, r0)), Some((n1, r1))) = (rss_by_volumes.first(), rss_by_volumes.last()) {
        let per_volume = (r1 - r0) * 1024.0 / (*n1 as f64 - *n0 as f64).max(1.0);
        checks.push(format!(
            "- Peak RSS from {n0} to {n1} volumes: {r0:.1} → {r1:.1} MiB, {per_volume:.2} KiB per volume: what grows is the plan and the result of each volume (a view of it, its action and reason, its newest backup, its outcome), which the run returns; the listing (a page at a time), the backups in flight (`concurrency` futures, one watch list) and the polls do not grow with the volumes."
        ));
    }
    md.push('\n');
    for c in checks {
        md.push_str(&c);
        md.push('\n');
    }
    md.push_str(
        "\nOne list call per look (newest first, a page of the backups in flight plus ten) sees every backup in flight, \
         so the polls grow with the run's length, not with the volumes; the rest is one create per volume and five \
         calls per run. A run at 256 in flight holds more than one at 32 whatever the volumes: one connection \
         (and its buffers) per request in flight.\n\n\
         Defaults for a real cloud (`concurrency: 4`, `poll-interval: 10s`): a real backup takes minutes (Cinder's \
         chunked drivers move tens to hundreds of MB/s per backup), so ten seconds of lag is a few per cent of one \
         backup and one list call every ten seconds is no load; four in flight keeps a nightly job from filling the \
         backup service's workers and the volume backends' bandwidth at once. Raise `concurrency` where the backup \
         service has workers to spare.\n\n",
    );
    Ok(md)
}

/// Replaces one section of BENCHMARKS.md's results (from its heading to
/// the next `### ` heading) with `md`, dated: the results' header names the
/// date of the last full run, so a section rerun alone says its own.
fn replace_section(root: &Path, heading: &str, md: &str) -> Result<(), String> {
    let md = match md.split_once("\n\n") {
        Some((title, body)) => format!("{title}\n\nRerun alone {} on {}.\n\n{body}", date(), machine()),
        None => md.to_owned(),
    };
    let md = md.as_str();
    let path = root.join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let start = text.find(heading).ok_or_else(|| format!("BENCHMARKS.md has no {heading:?} section"))?;
    let rest = &text[start + heading.len()..];
    let next = [rest.find("\n### ").map(|i| i + 1), rest.find("<!-- bench:end -->")].into_iter().flatten().min();
    let end = next.map_or(text.len(), |i| start + heading.len() + i);
    let updated = format!("{}{md}{}", &text[..start], &text[end..]);
    std::fs::write(&path, updated).map_err(|e| e.to_string())?;
    println!("{md}\nwritten to BENCHMARKS.md (section {heading:?} only)");
    Ok(())
}

fn write_results(root: &Path, results: &str) -> Result<(), String> {
    let path = root.join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (begin, end) = ("<!-- bench:begin -->", "<!-- bench:end -->");
    let (Some(a), Some(b)) = (text.find(begin), text.find(end)) else {
        return Err(format!("{} lacks the {begin} / {end} markers", path.display()));
    };
    let updated = format!("{}{begin}\n{results}{}", &text[..a], &text[b..]);
    std::fs::write(&path, updated).map_err(|e| e.to_string())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (quick, rest) = match args.first().map(String::as_str) {
        Some("--quick") => (true, &args[1..]),
        _ => (false, &args[..]),
    };
    let only = match rest.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => None,
        ["--only", section @ ("command-line" | "tooling" | "concurrency" | "policy")] => Some(*section),
        other => {
            eprintln!("usage: bench-suite [--quick] [--only command-line|tooling|concurrency|policy] (got {other:?})");
            return std::process::ExitCode::from(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("bench/ sits in the workspace").to_owned();
    let runs = if quick { 3 } else { 7 };
    let result = match only {
        Some("command-line") => {
            command_line(&root, runs).and_then(|md| replace_section(&root, "### 3. The command line", &md))
        }
        Some("concurrency") => build(&root)
            .and_then(|()| concurrency(&root, runs))
            .and_then(|md| replace_section(&root, "### 5. Concurrency", &md)),
        Some("policy") => build(&root)
            .and_then(|()| policies(&root, runs, quick))
            .and_then(|md| replace_section(&root, "### 7. Backup policies", &md)),
        Some(_) => tooling(&root, runs).and_then(|md| replace_section(&root, "### 4. Regenerate", &md)),
        None => run(&root, quick),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
