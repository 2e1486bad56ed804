//! `backup prune`, `snapshot prune` and `database backup prune`: the
//! library's retention plan, printed (`--dry-run`) or carried out, group
//! by group.

use openstack_backups::retention::{self, Outcome, Plan, Policy};
use serde_json::json;

use crate::Failure;
use crate::output::{Cell, Rows};
use clap::Args;

// The command line.

/// A retention policy and how to carry it out.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Retention")]
pub struct RetentionArgs {
    /// Keep the N newest
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_last: usize,
    /// Keep the newest of each of the last N hours that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_hourly: usize,
    /// Keep the newest of each of the last N days that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_daily: usize,
    /// Keep the newest of each of the last N ISO weeks that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_weekly: usize,
    /// Keep the newest of each of the last N months that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_monthly: usize,
    /// Keep the newest of each of the last N years that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_yearly: usize,
    /// Keep every one made within this long of the newest (2y5m7d3h: years, months, weeks, days, hours)
    #[arg(long, value_name = "DURATION")]
    pub keep_within: Option<String>,
    /// Keep every one with this property (KEY, or KEY=VALUE; repeatable)
    #[arg(long = "keep-tag", value_name = "KEY[=VALUE]")]
    pub keep_tags: Vec<String>,
    /// With no keep rule: delete every one (required to mean it)
    #[arg(long)]
    pub keep_none: bool,
    /// The time zone of days, weeks, months and years (default UTC)
    #[arg(long, value_name = "+HH:MM")]
    pub utc_offset: Option<String>,
    /// Print the plan (keep or delete, and why), delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Wait until every deleted one is gone (those a later delete depends on are always waited for)
    #[arg(long)]
    pub wait: bool,
    /// The longest to wait for one deletion, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub wait_timeout: u64,
    /// Deletes in flight at once
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
}

// What it does.

/// The policy the flags describe; none at all is refused unless
/// `--keep-none` says that deleting everything is meant.
pub fn policy(args: &RetentionArgs) -> Result<Policy, Failure> {
    let keep_within = match &args.keep_within {
        Some(text) => Some(retention::parse_within(text).map_err(Failure::Usage)?),
        None => None,
    };
    let keep_tags = args.keep_tags.iter().map(|t| retention::parse_tag(t)).collect();
    let offset = match &args.utc_offset {
        Some(text) => Some(retention::parse_utc_offset(text).map_err(|e| Failure::Usage(format!("--utc-offset {e}")))?),
        None => None,
    };
    let policy = Policy {
        keep_last: args.keep_last,
        keep_hourly: args.keep_hourly,
        keep_daily: args.keep_daily,
        keep_weekly: args.keep_weekly,
        keep_monthly: args.keep_monthly,
        keep_yearly: args.keep_yearly,
        keep_within,
        keep_tags,
        offset,
    };
    if policy.is_empty() && !args.keep_none {
        return Err(Failure::Usage(
            "no keep rule: give at least one --keep-* flag (or --keep-none to delete every one)".to_owned(),
        ));
    }
    Ok(policy)
}

/// The columns of a prune's report.
fn headers(dry_run: bool) -> Vec<&'static str> {
    let mut h = vec!["Group", "ID", "Name", "Created At", "Status", "Action", "Reason"];
    if !dry_run {
        h.push("Outcome");
    }
    h
}

/// Prints a group's plan, with the outcomes when it was carried out.
fn report(rows: &mut Rows, group: &str, plan: &Plan, outcomes: Option<&[(String, Outcome)]>) -> Result<(), Failure> {
    for d in &plan.decisions {
        let reason = d.reasons.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let mut cells = vec![
            Cell::new(group),
            Cell::new(d.item.id.clone()),
            Cell::new(json!(d.item.name)),
            Cell::new(d.item.created.format("%Y-%m-%dT%H:%M:%S").to_string()),
            Cell::new(d.item.status.clone()),
            Cell::new(if d.keep() { "keep" } else { "delete" }),
            Cell::new(reason),
        ];
        if let Some(outcomes) = outcomes {
            let outcome = outcomes.iter().find(|(id, _)| *id == d.item.id).map(|(_, o)| match o {
                Outcome::Deleted => "deleted".to_owned(),
                Outcome::Failed(e) => format!("failed: {e}"),
                Outcome::Skipped => "skipped (an earlier delete of the group failed)".to_owned(),
            });
            cells.push(Cell::new(outcome.unwrap_or_else(|| "kept".to_owned())));
        }
        rows.push(cells)?;
    }
    Ok(())
}

/// Whether any delete of these outcomes failed.
fn any_failed(outcomes: &[(String, Outcome)]) -> bool {
    outcomes.iter().any(|(_, o)| matches!(o, Outcome::Failed(_)))
}

/// Prints each group's plan (its name, the library's retention plan of its
/// backups or snapshots) (`--dry-run`) or carries it out: `delete(id,
/// wait)` deletes one and, when `wait` says so (`--wait`, or a parent
/// deleted after this child), waits until it is gone, within
/// `--wait-timeout`. The same loop for `backup prune`, `snapshot prune` and
/// `database backup prune`.
///
/// # Errors
/// [`Failure::Partial`] naming the groups where a delete failed.
pub async fn run<F, Fut>(
    groups: Vec<(String, Plan)>,
    args: &RetentionArgs,
    output: &crate::args::ListOutput,
    delete: F,
) -> Result<(), Failure>
where
    F: Fn(String, bool, std::time::Duration) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut rows = Rows::new(&headers(args.dry_run), output)?;
    let mut failed_groups = Vec::new();
    let timeout = std::time::Duration::from_secs(args.wait_timeout);
    for (group, plan) in &groups {
        if args.dry_run {
            report(&mut rows, group, plan, None)?;
            continue;
        }
        // A parent is deleted only once this child is gone.
        let outcomes = retention::execute(plan, args.concurrency, |id| {
            delete(id.clone(), args.wait || plan.parent_deleted(&id), timeout)
        })
        .await;
        report(&mut rows, group, plan, Some(&outcomes))?;
        if any_failed(&outcomes) {
            failed_groups.push(group.clone());
        }
    }
    rows.finish()?;
    if failed_groups.is_empty() {
        Ok(())
    } else {
        Err(Failure::Partial(format!(
            "a delete failed in {} of {} groups ({})",
            failed_groups.len(),
            groups.len(),
            failed_groups.join(", ")
        )))
    }
}
