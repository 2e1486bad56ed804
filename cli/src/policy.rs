//! `backup run` and `backup report`: the library's backup policies, run from
//! a shell, a cron job or a timer, and reported for monitoring.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use openstack_backups::Session;
use openstack_backups::block_storage::operations::SERVICE;
use openstack_backups::clock::{Clock, SystemClock};
use openstack_backups::policy::{
    self, Action, Event, Outcome, PolicyFile, Protection, RunLock, RunOptions, RunReport, Source, Standard, State,
};
use serde_json::{Value, json};

use crate::Failure;
use clap::{Args, ValueEnum};

use crate::args::{ListFormat, ListOutput, OutputCommon, Quote};
use crate::output::{Cell, Rows};

// The command line.

/// `backup run`
#[derive(Debug, Args)]
pub struct BackupRun {
    /// The policy file (YAML)
    #[arg(long, value_name = "FILE")]
    pub policy: std::path::PathBuf,
    /// Run only this policy of the file (repeatable; default: all)
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Show the plan (and what retention would delete) without doing it
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: ListOutput,
}

/// `backup report`
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("standard").required(true).args(["policy", "older_than"]))]
pub struct BackupReport {
    /// The policy file (YAML)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    /// Report only this policy of the file (repeatable; default: all)
    #[arg(long = "only", value_name = "NAME", requires = "policy")]
    pub only: Vec<String>,
    /// No policy: every volume of the project, stale when its newest backup is older than this (24h, 7d, 1h 30m)
    #[arg(long, value_name = "DURATION", conflicts_with = "policy")]
    pub older_than: Option<String>,
    #[command(flatten)]
    pub output: ReportOutput,
}

/// Output of `backup report`.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Output formatters")]
pub struct ReportOutput {
    /// The output format (prometheus: the text exposition format, for node_exporter's textfile collector)
    #[arg(short = 'f', long = "format", value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Show only this column (repeatable; not with prometheus)
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
    #[command(flatten)]
    pub common: OutputCommon,
    /// When to quote csv fields
    #[arg(long, value_enum, default_value_t = Quote::Nonnumeric)]
    pub quote: Quote,
}

/// Formats of `backup report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Yaml,
    Value,
    Csv,
    Prometheus,
}

// What it does.

const RUN_HEADERS: [&str; 9] =
    ["Policy", "Volume ID", "Volume", "Action", "Reason", "Backup ID", "Size", "Seconds", "Outcome"];

fn read(path: &std::path::Path, only: &[String]) -> Result<PolicyFile, Failure> {
    let file = PolicyFile::read(path).map_err(|e| Failure::Usage(e.to_string()))?;
    file.chosen(only).map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(file)
}

/// `full`, `incremental (via snapshot)`, … as the table shows it.
fn action_text(action: &Action) -> String {
    let with = |kind: &str, source: &Source| match source {
        Source::Volume => kind.to_owned(),
        other => format!("{kind} ({other})"),
    };
    match action {
        Action::Full(s) => with("full", s),
        Action::Incremental(s) => with("incremental", s),
        other => other.as_str().to_owned(),
    }
}

/// What a run reports as it goes: a progress bar on a terminal, plain
/// timestamped lines otherwise (a log).
fn progress(policy: &str, bar: Option<indicatif::ProgressBar>) -> policy::EventFn {
    let policy = policy.to_owned();
    Arc::new(move |event: &Event<'_>| {
        if let Some(bar) = &bar {
            match event {
                Event::Planned(plan) => {
                    bar.set_length(plan.work().len() as u64);
                    bar.set_prefix(policy.clone());
                }
                Event::Finished(_) => bar.inc(1),
                _ => {}
            }
        }
        let Some(line) = event_line(event) else { return };
        match &bar {
            Some(bar) => bar.set_message(line),
            None => {
                let now = SystemClock.now().format("%Y-%m-%dT%H:%M:%SZ");
                eprintln!("{now} {policy}: {line}");
            }
        }
    })
}

/// One event's line in a run's log (none for the events it does not show).
fn event_line(event: &Event<'_>) -> Option<String> {
    Some(match event {
        Event::Planned(plan) => {
            let work = plan.work().len();
            let problems: String = plan.problems.iter().map(|p| format!("; {p}")).collect();
            format!("{} volumes selected, {work} to back up or wait for{problems}", plan.volumes.len())
        }
        Event::QuotaUnknown(e) => format!("the backup quota is unknown ({e}); every due volume is tried"),
        Event::SnapshotTaken { volume, snapshot_id } => {
            format!("{}: temporary snapshot {snapshot_id}", volume.label())
        }
        Event::Started { volume, action, backup_id } => {
            format!("{}: {} backup {backup_id} started", volume.label(), action_text(action))
        }
        Event::Finished(v) => {
            let took = v.elapsed.map(|d| format!(" after {} s", d.as_secs())).unwrap_or_default();
            format!("{}: {}{took}", v.volume.label(), v.outcome.describe())
        }
        Event::Cleaned { snapshot_id, result } => match result {
            Ok(()) => format!("removed temporary snapshot {snapshot_id} of an earlier run"),
            Err(why) => format!("could not remove temporary snapshot {snapshot_id}: {why}"),
        },
        Event::GroupSnapshotCleaned { group_snapshot_id, result } => match result {
            Ok(()) => format!("removed group snapshot {group_snapshot_id} of an earlier run"),
            Err(why) => format!("group snapshot {group_snapshot_id} stays: {why}"),
        },
        Event::Pruned { volume_id, backup_id, outcome } => match outcome {
            openstack_backups::retention::Outcome::Deleted => {
                format!("volume {volume_id}: deleted backup {backup_id}")
            }
            openstack_backups::retention::Outcome::Failed(why) => {
                format!("volume {volume_id}: could not delete backup {backup_id}: {why}")
            }
            _ => format!("volume {volume_id}: kept backup {backup_id} (an earlier delete failed)"),
        },
        _ => return None,
    })
}

/// `backup run --policy FILE`.
pub async fn run(session: &Session, args: BackupRun) -> Result<(), Failure> {
    let file = read(&args.policy, &args.only)?;
    let cinder = session.block_storage().await?;
    let scope = session.endpoint(SERVICE.name, SERVICE.catalog_types).await?;
    let mut rows = Rows::new(&RUN_HEADERS, &args.output)?;
    let mut failures = Vec::new();
    for policy in file.chosen(&args.only).map_err(|e| Failure::Usage(e.to_string()))? {
        let _lock = if args.dry_run {
            None
        } else {
            match RunLock::acquire(&RunLock::path_for(&scope, &policy.name)) {
                Ok(lock) => Some(lock),
                Err(e) => {
                    failures.push(format!("policy {}: {e}", policy.name));
                    continue;
                }
            }
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {prefix} [{bar:24}] {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let options = RunOptions {
            dry_run: args.dry_run,
            clock: Arc::new(SystemClock),
            on_event: Some(progress(&policy.name, bar.clone())),
        };
        let result = policy::run(&cinder, policy, &options).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        match result {
            Ok(report) => {
                run_rows(&mut rows, &report)?;
                if !report.succeeded() {
                    failures.push(summary(&report));
                }
            }
            Err(e) => failures.push(format!("policy {}: {}", policy.name, crate::cloud::explain(&e))),
        }
    }
    rows.finish()?;
    if failures.is_empty() { Ok(()) } else { Err(Failure::Partial(failures.join("\n"))) }
}

/// Why a run is not a success, in one line.
fn summary(report: &RunReport) -> String {
    let unprotected = report.volumes.iter().filter(|v| !v.protected).count();
    let deletes: usize = report
        .pruned
        .iter()
        .filter_map(|g| g.outcomes.as_ref())
        .map(|o| o.iter().filter(|(_, x)| matches!(x, openstack_backups::retention::Outcome::Failed(_))).count())
        .sum();
    let cleanups = report.cleaned.iter().filter(|(_, r)| r.is_err()).count();
    let group_snapshots = report.group_snapshots.iter().filter(|(_, r)| r.is_err()).count();
    let mut parts = Vec::new();
    if unprotected > 0 {
        parts.push(format!("{unprotected} of {} volumes are not protected", report.volumes.len()));
    }
    if !report.plan.problems.is_empty() {
        let names: Vec<String> = report.plan.problems.iter().map(ToString::to_string).collect();
        parts.push(names.join("; "));
    }
    if deletes > 0 {
        parts.push(format!("{deletes} deletes failed"));
    }
    if cleanups > 0 {
        parts.push(format!("{cleanups} temporary snapshots could not be removed"));
    }
    if group_snapshots > 0 {
        parts.push(format!("{group_snapshots} group snapshots stay"));
    }
    format!("policy {}: {}", report.plan.policy, parts.join("; "))
}

fn run_rows(rows: &mut Rows, report: &RunReport) -> Result<(), Failure> {
    let policy = report.plan.policy.as_str();
    for problem in &report.plan.problems {
        let name = match problem {
            policy::Problem::NotFound(n) | policy::Problem::Ambiguous(n, _) => n.clone(),
        };
        rows.push(vec![
            Cell::new(policy),
            Cell::new(Value::Null),
            Cell::new(name),
            Cell::new("-"),
            Cell::new(problem.to_string()),
            Cell::new(Value::Null),
            Cell::new(Value::Null),
            Cell::new(Value::Null),
            Cell::new("failed"),
        ])?;
    }
    for (snapshot, result) in &report.cleaned {
        rows.push(vec![
            Cell::new(policy),
            Cell::new(Value::Null),
            Cell::new(Value::Null),
            Cell::new("remove temporary snapshot"),
            Cell::new(format!("snapshot {snapshot}, left by an earlier run")),
            Cell::new(Value::Null),
            Cell::new(Value::Null),
            Cell::new(Value::Null),
            Cell::new(match result {
                Ok(()) => "done".to_owned(),
                Err(why) => format!("failed: {why}"),
            }),
        ])?;
    }
    for (group_snapshot, result) in &report.group_snapshots {
        rows.push(vec![
            Cell::new(policy),
            Cell::new(Value::Null),
            Cell::new(Value::Null),
            Cell::new("remove group snapshot"),
            Cell::new(format!("group snapshot {group_snapshot} of this policy")),
            Cell::new(Value::Null),
            Cell::new(Value::Null),
            Cell::new(Value::Null),
            Cell::new(match result {
                Ok(()) => "done".to_owned(),
                Err(why) => format!("failed: {why}"),
            }),
        ])?;
    }
    for v in &report.volumes {
        let outcome = match (&v.outcome, v.protected) {
            (Outcome::Fresh | Outcome::Done | Outcome::Planned, _) => v.outcome.describe(),
            (other, true) => format!("{} (still protected by an earlier backup)", other.describe()),
            (other, false) => other.describe(),
        };
        rows.push(vec![
            Cell::new(policy),
            Cell::new(v.volume.id.clone()),
            Cell::new(json!(v.volume.name)),
            Cell::new(action_text(&v.action)),
            Cell::new(v.reason.to_string()),
            Cell::new(json!(v.backup_id)),
            Cell::new(json!(v.size_gib)),
            Cell::new(json!(v.elapsed.map(|d| d.as_secs()))),
            Cell::new(outcome),
        ])?;
    }
    let names: std::collections::BTreeMap<&str, &Option<String>> =
        report.plan.volumes.iter().map(|v| (v.volume.id.as_str(), &v.volume.name)).collect();
    for group in &report.pruned {
        let outcomes = group.outcomes.as_deref();
        for id in group.plan.delete_order() {
            let outcome = match outcomes.and_then(|o| o.iter().find(|(x, _)| x == id)).map(|(_, o)| o) {
                None => "planned".to_owned(),
                Some(openstack_backups::retention::Outcome::Deleted) => "deleted".to_owned(),
                Some(openstack_backups::retention::Outcome::Failed(why)) => format!("failed: {why}"),
                Some(openstack_backups::retention::Outcome::Skipped) => {
                    "skipped (an earlier delete of the volume failed)".to_owned()
                }
            };
            rows.push(vec![
                Cell::new(policy),
                Cell::new(group.volume_id.clone()),
                Cell::new(json!(names.get(group.volume_id.as_str()).and_then(|n| n.as_ref()))),
                Cell::new("delete"),
                Cell::new("no keep rule keeps it"),
                Cell::new(id),
                Cell::new(Value::Null),
                Cell::new(Value::Null),
                Cell::new(outcome),
            ])?;
        }
    }
    Ok(())
}

const REPORT_HEADERS: [&str; 11] = [
    "Policy",
    "Volume ID",
    "Volume",
    "State",
    "Newest Backup",
    "Backed Up At",
    "Age",
    "Chain",
    "Backups",
    "Size",
    "Failure",
];

/// `backup report`.
pub async fn report(session: &Session, args: BackupReport) -> Result<(), Failure> {
    let now = SystemClock.now();
    let mut rows: Vec<(Option<String>, Protection)> = Vec::new();
    let cinder = match (&args.policy, &args.older_than) {
        (Some(path), _) => {
            let file = read(path, &args.only)?;
            let cinder = session.block_storage().await?;
            for p in file.chosen(&args.only).map_err(|e| Failure::Usage(e.to_string()))? {
                for protection in policy::report(&cinder, Some(p), &p.standard(), now).await? {
                    rows.push((Some(p.name.clone()), protection));
                }
            }
            cinder
        }
        (None, Some(text)) => {
            let max_age = humantime::parse_duration(text)
                .map_err(|e| Failure::Usage(format!("--older-than wants a duration like 24h or 7d: {e}")))?;
            let cinder = session.block_storage().await?;
            for protection in policy::report(&cinder, None, &Standard { policy: None, max_age }, now).await? {
                rows.push((None, protection));
            }
            cinder
        }
        (None, None) => return Err(Failure::Usage("give --policy FILE or --older-than DURATION".to_owned())),
    };
    drop(cinder);
    if args.output.format == ReportFormat::Prometheus {
        if !args.output.columns.is_empty() {
            return Err(Failure::Usage("-c does not go with -f prometheus".to_owned()));
        }
        let project = session.project_id().await?.unwrap_or_default();
        let text = prometheus(&rows, &project, now)?;
        use std::io::Write;
        std::io::stdout().lock().write_all(text.as_bytes()).map_err(Failure::Output)?;
    } else {
        let format = match args.output.format {
            ReportFormat::Json => ListFormat::Json,
            ReportFormat::Yaml => ListFormat::Yaml,
            ReportFormat::Value => ListFormat::Value,
            ReportFormat::Csv => ListFormat::Csv,
            _ => ListFormat::Table,
        };
        let out = ListOutput {
            format,
            columns: args.output.columns.clone(),
            common: args.output.common.clone(),
            quote: args.output.quote,
            sort_columns: Vec::new(),
            sort_ascending: false,
            sort_descending: false,
        };
        let mut table = Rows::new(&REPORT_HEADERS, &out)?;
        for (policy, p) in &rows {
            let age = match p.age {
                Some(age) => Cell::new(age.as_secs()).shown_as(policy::age_text(age)),
                None => Cell::new(Value::Null),
            };
            table.push(vec![
                Cell::new(json!(policy)),
                Cell::new(if p.volume.id.is_empty() { Value::Null } else { json!(p.volume.id) }),
                Cell::new(json!(p.volume.name)),
                Cell::new(p.state.as_str()),
                Cell::new(json!(p.newest.as_ref().map(|b| &b.id))),
                Cell::new(json!(p.newest.as_ref().map(|b| b.data_timestamp.format("%Y-%m-%dT%H:%M:%S").to_string()))),
                age,
                Cell::new(p.chain_length),
                Cell::new(p.backups),
                Cell::new(p.size_gib),
                Cell::new(json!(
                    p.failure.as_ref().map(|b| b.fail_reason.clone().unwrap_or_else(|| b.status.to_string()))
                )),
            ])?;
        }
        table.finish()?;
    }
    let unprotected = rows.iter().filter(|(_, p)| p.state != State::Protected).count();
    if unprotected == 0 {
        Ok(())
    } else {
        Err(Failure::Partial(format!("{unprotected} of {} volumes are not protected", rows.len())))
    }
}

/// The report in Prometheus' text exposition format (what node_exporter's
/// textfile collector reads), written by the `prometheus` crate.
fn prometheus(
    rows: &[(Option<String>, Protection)],
    project: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, Failure> {
    use prometheus::{Encoder, Gauge, GaugeVec, Opts, Registry, TextEncoder};
    let fail = |e: prometheus::Error| Failure::Other(format!("prometheus: {e}"));
    let registry = Registry::new();
    let labels = ["policy", "project", "volume_id", "volume_name"];
    let gauge = |name: &str, help: &str, extra: &[&str]| -> Result<GaugeVec, Failure> {
        let all: Vec<&str> = labels.iter().chain(extra).copied().collect();
        let g = GaugeVec::new(Opts::new(name, help), &all).map_err(fail)?;
        registry.register(Box::new(g.clone())).map_err(fail)?;
        Ok(g)
    };
    let protected = gauge(
        "osbackup_volume_protected",
        "1 when the volume's newest available backup is young enough; the state says why not",
        &["state"],
    )?;
    let last = gauge(
        "osbackup_volume_last_backup_timestamp_seconds",
        "When the data of the volume's newest available backup was current (Unix time)",
        &[],
    )?;
    let chain =
        gauge("osbackup_volume_backup_chain_length", "Backups in the chain of the newest backup (1: full)", &[])?;
    let count = gauge("osbackup_volume_backups", "Backups of the volume that count (any status)", &[])?;
    let size = gauge("osbackup_volume_backups_size_bytes", "Total size of those backups", &[])?;
    let stamp =
        Gauge::with_opts(Opts::new("osbackup_report_timestamp_seconds", "When this report was made (Unix time)"))
            .map_err(fail)?;
    registry.register(Box::new(stamp.clone())).map_err(fail)?;
    stamp.set(now.timestamp() as f64);
    for (policy, p) in rows {
        let project = p.volume.project_id.as_deref().unwrap_or(project);
        let values =
            [policy.as_deref().unwrap_or(""), project, p.volume.id.as_str(), p.volume.name.as_deref().unwrap_or("")];
        let mut with_state = values.to_vec();
        let state = p.state.as_str().replace(' ', "_");
        with_state.push(&state);
        protected.with_label_values(&with_state).set(f64::from(u8::from(p.state == State::Protected)));
        if p.state == State::Missing {
            continue;
        }
        if let Some(b) = &p.newest {
            last.with_label_values(&values).set(b.data_timestamp.timestamp_micros() as f64 / 1e6);
            chain.with_label_values(&values).set(p.chain_length as f64);
        }
        count.with_label_values(&values).set(p.backups as f64);
        size.with_label_values(&values).set((p.size_gib as f64) * 1024.0 * 1024.0 * 1024.0);
    }
    let mut out = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut out).map_err(fail)?;
    String::from_utf8(out).map_err(|e| Failure::Other(format!("prometheus: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cleaning lines (the fake cloud serves no groups, so the group
    /// snapshots' lines are held here; the rest by `cli/tests/fake.rs`).
    #[test]
    fn cleaning_lines_say_what_went_and_what_stays() {
        let (gone, kept) = (Ok(()), Err("a backup still reads it".to_owned()));
        let line = |e: Event<'_>| event_line(&e).expect("a line");
        assert_eq!(
            line(Event::GroupSnapshotCleaned { group_snapshot_id: "gs-1", result: &gone }),
            "removed group snapshot gs-1 of an earlier run"
        );
        assert_eq!(
            line(Event::GroupSnapshotCleaned { group_snapshot_id: "gs-1", result: &kept }),
            "group snapshot gs-1 stays: a backup still reads it"
        );
        assert_eq!(
            line(Event::Cleaned { snapshot_id: "s-1", result: &kept }),
            "could not remove temporary snapshot s-1: a backup still reads it"
        );
    }

    use openstack_backups::policy::{Plan, Reason, RunReport, VolumeOutcome, VolumePlan, VolumeView};

    fn volume() -> Arc<VolumeView> {
        Arc::new(VolumeView {
            id: "9c6a4b5a-1f0e-4d6e-9a55-3a2b1f0c7d11".to_owned(),
            name: Some("vol-1".to_owned()),
            status: "available".to_owned(),
            size: 1,
            metadata: Vec::new(),
            project_id: None,
        })
    }

    /// A plan of the policy `nightly` for one volume per action.
    fn plan(actions: &[Action]) -> Plan {
        let volumes = actions
            .iter()
            .map(|action| VolumePlan {
                volume: volume(),
                action: action.clone(),
                reason: Reason::Never,
                due: Some(Reason::Never),
                newest: None,
            })
            .collect();
        Plan { policy: "nightly".to_owned(), at: chrono::Utc::now(), volumes, problems: Vec::new() }
    }

    fn done() -> VolumeOutcome {
        VolumeOutcome {
            volume: volume(),
            action: Action::Full(Source::Volume),
            reason: Reason::Never,
            backup_id: Some("6a122f4b-d2f6-448f-aeb5-68bae5ff8358".to_owned()),
            size_gib: Some(1),
            elapsed: Some(Duration::from_secs(42)),
            outcome: Outcome::Done,
            protected: true,
        }
    }

    /// On a terminal the bar counts the volumes done of the plan's work,
    /// and its message is the latest event's line.
    #[test]
    fn the_bar_counts_the_volumes_done() {
        let full = Action::Full(Source::Volume);
        let plan = plan(&[full.clone(), Action::Skip, full]);
        let bar = indicatif::ProgressBar::hidden();
        let report = progress("nightly", Some(bar.clone()));
        report(&Event::Planned(&plan));
        assert_eq!((bar.position(), bar.length()), (0, Some(2)), "two volumes to work on, one skipped");
        assert_eq!(bar.prefix(), "nightly");
        let done = done();
        report(&Event::Finished(&done));
        assert_eq!(bar.position(), 1);
        assert_eq!(bar.message(), event_line(&Event::Finished(&done)).unwrap());
        assert!(bar.message().ends_with(" after 42 s"), "{}", bar.message());
    }

    /// The last line of a run that did not do everything counts what
    /// stays: clean-ups that failed, and group snapshots (which the fake
    /// cloud, serving no groups, cannot leave).
    #[test]
    fn the_summary_counts_what_stays() {
        let left = |id: &str, result: Result<(), String>| (id.to_owned(), result);
        let report = RunReport {
            plan: plan(&[Action::Full(Source::Volume)]),
            volumes: vec![done()],
            cleaned: vec![left("s-1", Err("busy".to_owned())), left("s-2", Ok(()))],
            group_snapshots: vec![left("gs-1", Ok(())), left("gs-2", Err("a backup reads it".to_owned()))],
            pruned: Vec::new(),
        };
        assert!(!report.succeeded());
        assert_eq!(
            summary(&report),
            "policy nightly: 1 temporary snapshots could not be removed; 1 group snapshots stay"
        );
        let gone = RunReport { group_snapshots: vec![left("gs-1", Ok(()))], ..report };
        assert_eq!(summary(&gone), "policy nightly: 1 temporary snapshots could not be removed");
    }
}
