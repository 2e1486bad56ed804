//! `osbackup limits show` and `osbackup quota show`: what the project may
//! still create, in OSC's columns.

use openstack_backups::Session;
use openstack_backups::block_storage::types;
use serde_json::{Value, json};

use crate::Failure;
use clap::Subcommand;

use crate::args::ListOutput;
use crate::output::{Cell, Rows};

// The command line.

/// `limits …`
#[derive(Debug, Subcommand)]
pub enum LimitsCommand {
    /// Show the project's absolute limits (quotas and usage) or rate limits
    Show {
        /// The absolute limits: each quota and its usage (-1 is unlimited)
        #[arg(long, required_unless_present = "rate", conflicts_with = "rate")]
        absolute: bool,
        /// The rate limits (empty unless the cloud runs Cinder's rate-limiting middleware)
        #[arg(long)]
        rate: bool,
        /// Another project's limits, by id (administrators; needs 3.39)
        #[arg(long, value_name = "PROJECT_ID")]
        project: Option<String>,
        /// The project's domain (accepted for python-openstackclient's scripts; projects are given by id)
        #[arg(long, value_name = "DOMAIN", visible_alias = "domain")]
        project_domain: Option<String>,
        /// Reservations (python-openstackclient sends it to compute only: block-storage limits count none)
        #[arg(long)]
        reserved: bool,
        #[command(flatten)]
        output: ListOutput,
    },
}

/// `quota …`
#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Show a project's block-storage quotas (per-volume-type ones included)
    Show {
        /// The project, by id (default: the session's)
        project: Option<String>,
        /// The defaults instead of the project's quotas
        #[arg(long, conflicts_with = "usage")]
        default: bool,
        /// Each quota's usage and reservations too
        #[arg(long)]
        usage: bool,
        /// The block-storage quotas (what this command shows in any case)
        #[arg(long)]
        volume: bool,
        #[command(flatten)]
        output: ListOutput,
    },
}

// What it does.

/// `limits show --absolute` (`Name`, `Value`: every absolute limit the
/// server sent, by name) or `--rate` (`Verb`, `URI`, `Value`, `Remain`,
/// `Unit`, `Next Available`), as OSC.
pub async fn limits(session: &Session, command: LimitsCommand) -> Result<(), Failure> {
    // --project-domain and --reserved are accepted as python-openstackclient
    // takes them; neither changes what block storage answers.
    let LimitsCommand::Show { absolute, rate: _, project, project_domain: _, reserved: _, output } = command;
    let cinder = session.block_storage().await?;
    let mut request = cinder.show_limits();
    if let Some(p) = project {
        request = request.project_id(p);
    }
    let limits = request.send().await?.into_inner().limits;
    if absolute {
        // python-openstackclient's names (openstacksdk's attributes:
        // `maxTotalBackups` is `max_total_backups`), sorted.
        let mut rows = Rows::new(&["Name", "Value"], &output)?;
        let values = serde_json::to_value(&limits.absolute).map_err(|e| Failure::Other(e.to_string()))?;
        let mut named: Vec<(String, Value)> =
            values.as_object().into_iter().flatten().map(|(k, v)| (snake_case(k), v.clone())).collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in named {
            rows.push(vec![Cell::new(name), Cell::new(value)])?;
        }
        return rows.finish();
    }
    let mut rows = Rows::new(&["Verb", "URI", "Value", "Remain", "Unit", "Next Available"], &output)?;
    for group in &limits.rate {
        for l in &group.limit {
            rows.push(vec![
                Cell::new(json!(l.verb)),
                Cell::new(json!(group.uri)),
                Cell::new(json!(l.value)),
                Cell::new(json!(l.remaining)),
                Cell::new(json!(l.unit)),
                Cell::new(json!(l.next_available)),
            ])?;
        }
    }
    rows.finish()
}

/// `maxTotalBackupGigabytes` as `max_total_backup_gigabytes`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The order and names of python-openstackclient's `quota show` rows:
/// Cinder's order of the quotas it always has, each volume type's three,
/// `groups`, anything else by name, then the two OSC renames and moves to
/// the end (`backup-gigabytes`, `per-volume-gigabytes`).
fn quota_rows(names: Vec<String>) -> Vec<(String, String)> {
    const FIRST: [&str; 4] = ["volumes", "snapshots", "gigabytes", "backups"];
    const LAST: [(&str, &str); 2] =
        [("backup_gigabytes", "backup-gigabytes"), ("per_volume_gigabytes", "per-volume-gigabytes")];
    let rank = |n: &str| -> (u8, String, u8) {
        if let Some(i) = FIRST.iter().position(|f| *f == n) {
            return (0, String::new(), i as u8);
        }
        for (i, part) in ["volumes_", "gigabytes_", "snapshots_"].iter().enumerate() {
            if let Some(volume_type) = n.strip_prefix(part) {
                return (1, volume_type.to_owned(), i as u8);
            }
        }
        if n == "groups" {
            return (2, String::new(), 0);
        }
        if let Some(i) = LAST.iter().position(|(f, _)| *f == n) {
            return (4, String::new(), i as u8);
        }
        (3, n.to_owned(), 0)
    };
    let mut names = names;
    names.sort_by_key(|n| rank(n));
    names
        .into_iter()
        .map(|n| {
            let shown = LAST.iter().find(|(f, _)| *f == n).map_or(n.clone(), |(_, to)| (*to).to_owned());
            (n, shown)
        })
        .collect()
}

/// `quota show`: one row per quota (`Resource`, `Limit`, and with
/// `--usage` `In Use` and `Reserved`), in python-openstackclient's order
/// and names.
pub async fn quota(session: &Session, command: QuotaCommand) -> Result<(), Failure> {
    // --volume: the block-storage quotas, what this command shows anyway.
    let QuotaCommand::Show { project, default, usage, volume: _, output } = command;
    let project = match project {
        Some(p) => p,
        None => session.project_id().await?.ok_or_else(|| {
            Failure::Usage("the session has no project: give the project's id (osbackup quota show PROJECT_ID)".into())
        })?,
    };
    let cinder = session.block_storage().await?;
    let set = if default {
        cinder.show_quota_set_defaults().target_project_id(&project).send().await?
    } else {
        let mut request = cinder.show_quota_set().target_project_id(&project);
        if usage {
            request = request.usage(true);
        }
        request.send().await?
    };
    let headers: &[&str] = if usage { &["Resource", "Limit", "In Use", "Reserved"] } else { &["Resource", "Limit"] };
    let mut rows = Rows::new(headers, &output)?;
    let extra = set.into_inner().quota_set.extra;
    for (key, shown) in quota_rows(extra.keys().cloned().collect()) {
        let mut cells = vec![Cell::new(shown)];
        // As OSC: with --usage, zero for what the server does not count.
        match &extra[&key] {
            types::QuotaValue::Integer(limit) => {
                cells.push(Cell::new(*limit));
                if usage {
                    cells.extend([Cell::new(0), Cell::new(0)]);
                }
            }
            types::QuotaValue::QuotaUsage(u) => {
                cells.push(Cell::new(u.limit));
                if usage {
                    cells.extend([Cell::new(u.in_use), Cell::new(u.reserved)]);
                }
            }
        }
        rows.push(cells)?;
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_in_python_openstackclients_order_and_names() {
        let names = [
            "backup_gigabytes",
            "zeta",
            "groups",
            "snapshots_fast",
            "volumes_fast",
            "gigabytes_fast",
            "volumes_slow",
            "backups",
            "gigabytes",
            "snapshots",
            "volumes",
            "per_volume_gigabytes",
            "alpha",
        ];
        let rows = quota_rows(names.iter().map(|n| (*n).to_owned()).collect());
        let shown: Vec<(&str, &str)> = rows.iter().map(|(k, s)| (k.as_str(), s.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("volumes", "volumes"),
                ("snapshots", "snapshots"),
                ("gigabytes", "gigabytes"),
                ("backups", "backups"),
                ("volumes_fast", "volumes_fast"),
                ("gigabytes_fast", "gigabytes_fast"),
                ("snapshots_fast", "snapshots_fast"),
                ("volumes_slow", "volumes_slow"),
                ("groups", "groups"),
                ("alpha", "alpha"),
                ("zeta", "zeta"),
                ("backup_gigabytes", "backup-gigabytes"),
                ("per_volume_gigabytes", "per-volume-gigabytes"),
            ]
        );
    }

    #[test]
    fn limit_names_are_snake_case() {
        assert_eq!(snake_case("maxTotalBackupGigabytes"), "max_total_backup_gigabytes");
        assert_eq!(snake_case("totalBackupsUsed"), "total_backups_used");
        assert_eq!(snake_case("plain"), "plain");
    }
}
