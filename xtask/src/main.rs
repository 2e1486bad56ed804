//! `cargo xtask`: the workspace's task runner. A thin driver: the work is done
//! by the `openstack-backups-codegen` library (and, for the test server, by
//! the scripts it starts).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use openstack_backups_codegen::{Mode, regenerate};
use openstack_backups_harness::{Cinder, Options};

mod dist;
mod semver;
mod spec_diff;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  regenerate [--check]   rewrite generated/ from spec/ (--check: change nothing,
                         fail with a diff when generated/ is stale)
  spec-diff [BASE] [--format text|markdown|json] [--fail-on breaking|warning|info|none] [--rust]
                         what the spec change since git revision BASE (default: the
                         merge base with main, else HEAD) does to the API and to Rust
                         users; exit 1 when a change reaches --fail-on (default
                         breaking), 2 on bad arguments or an unreadable spec;
                         --rust: also cargo-semver-checks on the library crates
                         against BASE (installed on first use; a break is breaking)
  test [ARGS…]           the whole test suite: cargo test --workspace [ARGS…]
                         (installs and runs a real Cinder for the integration tests),
                         then the front door's certificate test built with
                         native-tls and the runtime's unit tests built without
                         TLS (ARGS are not passed to those runs)
  fuzz [--cases N]       the property tests (generated responses, mutated specs,
                         parsers, paging, retention) with N cases each (default
                         20000), in release mode
  mutants [ARGS…]        mutation testing with cargo-mutants (installed on first
                         use) against the fast tests (no real servers); ARGS go to
                         cargo-mutants, e.g. -f runtime/src/paging.rs; results in
                         target/mutants.out
  bench [--quick] [--only command-line|tooling|concurrency|policy]
                         run the benchmarks and write BENCHMARKS.md (--only: one section)
  dist                   the release archive of osbackup: target/dist/osbackup-<version>-<target>.tar.gz
                         with the program, a manual page per command, bash, zsh and
                         fish completions, the license and how to install them
  cinder up              start a real Cinder on 127.0.0.1 in the background and
                         print its endpoint and a token
  cinder down            stop the Cinder started by `cinder up`
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let ["spec-diff", rest @ ..] = args.as_slice() {
        return spec_diff::run(&workspace_root(), rest, USAGE);
    }
    let result = match args.as_slice() {
        ["regenerate"] => run_regenerate(Mode::Write),
        ["regenerate", "--check"] => run_regenerate(Mode::Check),
        ["test", rest @ ..] => run_tests(rest),
        ["fuzz"] => run_fuzz(20_000),
        ["fuzz", "--cases", n] => match n.parse() {
            Ok(n) => run_fuzz(n),
            Err(_) => Err(format!("--cases wants a number of cases, found `{n}`")),
        },
        ["mutants", rest @ ..] => run_mutants(rest),
        ["bench", rest @ ..] => run_bench(rest),
        ["dist", rest @ ..] => dist::run(&workspace_root(), rest),
        ["cinder", "up"] => cinder_up(),
        ["cinder", "down"] => cinder_down(),
        ["help" | "--help" | "-h"] => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown or missing task: {}\n\n{USAGE}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_owned()
}

fn run_regenerate(mode: Mode) -> Result<(), String> {
    let root = workspace_root();
    let outcome = regenerate(&root, mode).map_err(|e| e.to_string())?;
    let show = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
    match mode {
        Mode::Write => {
            for p in &outcome.changed {
                println!("wrote   {}", show(p));
            }
            for p in &outcome.removed {
                println!("removed {}", show(p));
            }
            println!(
                "{} file(s) written, {} removed, {} already current",
                outcome.changed.len(),
                outcome.removed.len(),
                outcome.unchanged.len()
            );
        }
        Mode::Check => println!("generated/ is current ({} file(s))", outcome.unchanged.len()),
    }
    Ok(())
}

/// The second run of the suite: the front door built with `native-tls`
/// instead of rustls, for what only that build can show (a refused
/// certificate, `sdk/tests/certificates.rs`).
const NATIVE_TLS_RUN: [&str; 8] =
    ["test", "-p", "openstack-backups", "--no-default-features", "--features", "native-tls", "--test", "certificates"];

/// The third: the runtime's unit tests built without TLS, for an
/// `http://`-only cloud (certificate options refused, `src/tls.rs`).
const NO_TLS_RUN: [&str; 5] = ["test", "-p", "openstack-backups-runtime", "--no-default-features", "--lib"];

fn run_tests(extra: &[&str]) -> Result<(), String> {
    let mut workspace = vec!["test", "--workspace"];
    workspace.extend_from_slice(extra);
    let mut totals = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    for args in [workspace.as_slice(), NATIVE_TLS_RUN.as_slice(), NO_TLS_RUN.as_slice()] {
        if let Err(e) = run_cargo_counting(args, &mut totals) {
            failures.push(e);
        }
    }
    let (passed, failed, ignored) = totals;
    println!("\ntests: {passed} passed, {failed} failed, {ignored} skipped");
    if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
}

/// Runs `cargo args…`, passing its output through and adding its
/// per-binary results to `totals` (passed, failed, skipped), so the run
/// ends on one total line.
fn run_cargo_counting(args: &[&str], totals: &mut (u64, u64, u64)) -> Result<(), String> {
    use std::io::{BufRead, BufReader};

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut child = std::process::Command::new(cargo)
        .current_dir(workspace_root())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line.map_err(|e| format!("reading cargo's output: {e}"))?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split([';', '.']) {
                let mut words = part.split_whitespace();
                if let (Some(n), Some(what)) = (words.next().and_then(|n| n.parse::<u64>().ok()), words.next()) {
                    match what {
                        "passed" => totals.0 += n,
                        "failed" => totals.1 += n,
                        "ignored" => totals.2 += n,
                        _ => {}
                    }
                }
            }
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo {} failed ({status})", args.join(" "))) }
}

/// The packages with property tests (proptest) and their property-test
/// binaries; the packages' unit tests run too (the runtime's `Retry-After`
/// properties are unit tests).
const PROPERTY_PACKAGES: [&str; 3] =
    ["openstack-backups-runtime", "openstack-backups-tests", "openstack-backups-codegen"];
const PROPERTY_TESTS: [&str; 6] = ["responses", "parsers", "paging", "retention", "session_properties", "mutations"];

/// Runs the property tests with `cases` cases each (`PROPTEST_CASES`), in
/// release mode: what `cargo test` runs a few hundred times, for longer.
fn run_fuzz(cases: u32) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = std::process::Command::new(cargo);
    command.current_dir(workspace_root()).env("PROPTEST_CASES", cases.to_string()).args([
        "test",
        "--release",
        "--no-fail-fast",
    ]);
    for package in PROPERTY_PACKAGES {
        command.args(["-p", package]);
    }
    command.arg("--lib");
    for test in PROPERTY_TESTS {
        command.args(["--test", test]);
    }
    println!("PROPTEST_CASES={cases}");
    let started = std::time::Instant::now();
    let status = command.status().map_err(|e| format!("could not run cargo: {e}"))?;
    println!("fuzz: {cases} cases per property, {:.0} s", started.elapsed().as_secs_f64());
    if status.success() { Ok(()) } else { Err(format!("a property failed ({status}): see the minimal input above")) }
}

/// The test binaries a mutant is judged by: every unit test and the wire,
/// fault, property, snapshot, fake-cloud and typed-mock tests; not the
/// real-server tests (minutes each, and they need the harness), nor the
/// flag census (it reads the harness's installed Python clients), nor
/// xtask's own tests: they read the checkout's git history, which the copy
/// cargo-mutants builds in has not, so they would fail for every mutant
/// (xtask is tried `--in-place`, as TESTING.md says).
const FAST_TESTS: [&str; 31] = [
    "wire",
    "faults",
    "fault_matrix",
    "paging",
    "parsers",
    "responses",
    "session",
    "database",
    "examples",
    "retention",
    "layering",
    "logs",
    "freshness",
    "tls",
    "generator",
    "fresh",
    "diff",
    "help",
    "terminal",
    "fake",
    "cinder_more",
    "cinder_rules",
    "trove",
    "readme",
    "policy",
    "policy_run",
    "error_sizes",
    "mocks",
    "groups",
    "requests",
    "session_properties",
];

/// Installs the cargo subcommand `subcommand` (crate `krate`, `version`)
/// with `cargo install --locked` unless `cargo <subcommand> --version`
/// already runs.
fn install(cargo: &str, subcommand: &str, krate: &str, version: &str) -> Result<(), String> {
    let installed = std::process::Command::new(cargo)
        .args([subcommand, "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return Ok(());
    }
    // On stderr: a report on stdout (spec-diff's, pasted into a pull
    // request or the CHANGELOG) stays the report.
    eprintln!("installing {krate} (cargo install --locked {krate} --version {version})");
    let status = std::process::Command::new(cargo)
        .args(["install", "--locked", krate, "--version", version])
        .status()
        .map_err(|e| format!("could not run cargo install: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo install {krate} failed ({status})")) }
}

/// cargo-mutants over the hand-written crates (never `generated/`, whose
/// code the generator owns), judged by [`FAST_TESTS`]. cargo-mutants is
/// installed on first use (`cargo install --locked`).
fn run_mutants(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    install(&cargo, "mutants", "cargo-mutants", "^27")?;
    let root = workspace_root();
    let mut command = std::process::Command::new(&cargo);
    // The baseline run of cargo-mutants 27 tests only the mutated packages,
    // whatever --test-package says (and the runtime's wire tests sit in
    // another package), so it is skipped: `cargo xtask test` is the
    // baseline, and the timeouts are set here instead.
    command.current_dir(&root).args([
        "mutants",
        "--output",
        "target",
        "--baseline",
        "skip",
        "--timeout",
        "120",
        "--build-timeout",
        "900",
    ]);
    for package in [
        "openstack-backups-runtime",
        "openstack-backups",
        "openstack-backups-codegen",
        "osbackup",
        "openstack-backups-fake",
    ] {
        command.args(["--package", package]);
    }
    // Every mutant is judged by the tests of every package (the wire tests
    // of the runtime sit in openstack-backups-tests).
    for package in [
        "openstack-backups-runtime",
        "openstack-backups",
        "openstack-backups-codegen",
        "osbackup",
        "openstack-backups-tests",
        "openstack-backups-fake",
    ] {
        command.args(["--test-package", package]);
    }
    // The judge's targets go to every cargo invocation (`--cargo-arg`),
    // not after `--`: arguments after `--` reach only the test phase, so
    // each mutant's build compiled every test target of the packages (the
    // real-server tests included; measured on the sdk's session, 100 s of
    // build per mutant against 30 s). `--bins`: the CLI's own unit tests
    // (its output formats) sit in its binary.
    command.args(args);
    for target in ["--lib", "--bins"] {
        command.arg(format!("--cargo-arg={target}"));
    }
    for test in FAST_TESTS {
        command.args(["--cargo-arg=--test".to_owned(), format!("--cargo-arg={test}")]);
    }
    // The property tests' cases do not judge a mutant (the unit and wire
    // tests do); 32 instead of 256 halves each mutant's test time.
    if std::env::var_os("PROPTEST_CASES").is_none() {
        command.env("PROPTEST_CASES", "32");
    }
    let status = command.status().map_err(|e| format!("could not run cargo mutants: {e}"))?;
    println!("results: {}", root.join("target/mutants.out").display());
    // cargo-mutants exits 2 when mutants survived, 3 on timeouts: reported,
    // not an error of this task.
    match status.code() {
        Some(0 | 2 | 3) => Ok(()),
        _ => Err(format!("cargo mutants failed ({status})")),
    }
}

/// The benchmarks live in `bench/` (its `bench-suite` program); this only
/// starts it, in release mode.
fn run_bench(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .current_dir(workspace_root())
        .args(["run", "--release", "--quiet", "-p", "openstack-backups-bench", "--bin", "bench-suite", "--"])
        .args(args)
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("the benchmarks failed ({status})")) }
}

fn up_file() -> PathBuf {
    workspace_root().join(".harness/up.pid")
}

fn cinder_up() -> Result<(), String> {
    if let Ok(text) = std::fs::read_to_string(up_file()) {
        return Err(format!("a Cinder is already up ({}); run `cargo xtask cinder down` first", text.trim()));
    }
    let cinder = Cinder::start_with(Options { detached: true, ..Options::default() }).map_err(|e| e.to_string())?;
    let pid = cinder.pid().expect("running");
    std::fs::write(up_file(), format!("{pid} {}\n", cinder.port())).map_err(|e| e.to_string())?;
    let project = "0123456789abcdef0123456789abcdef";
    println!(
        "Cinder {} is up (process group {pid}, files in {}).",
        openstack_backups_harness::CINDER_VERSION,
        cinder.dir().display()
    );
    println!("endpoint: {}", cinder.endpoint(project));
    println!("token:    admin:{project}   (noauth: <user>:<project>, any hex project)");
    println!("try:      curl -s -H 'X-Auth-Token: admin:{project}' {}/backups/detail", cinder.endpoint(project));
    cinder.detach();
    Ok(())
}

fn cinder_down() -> Result<(), String> {
    let text = std::fs::read_to_string(up_file()).map_err(|_| "no Cinder is up (no .harness/up.pid)".to_owned())?;
    let pid: u32 = text.split_whitespace().next().and_then(|p| p.parse().ok()).ok_or("unreadable .harness/up.pid")?;
    openstack_backups_harness::kill_group(pid);
    std::fs::remove_file(up_file()).map_err(|e| e.to_string())?;
    println!("Cinder (process group {pid}) stopped.");
    Ok(())
}
