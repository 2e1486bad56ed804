//! `osbackup limits show` and `osbackup quota show`: what the project may
//! still create, in OSC's columns.

use openstack_backups::Session;
use openstack_backups::block_storage::types;
use serde_json::{Value, json};

use crate::Failure;
use crate::args::{LimitsCommand, QuotaCommand};
use crate::output::{Cell, Rows};

/// `limits show --absolute` (`Name`, `Value`: every absolute limit the
/// server sent, by name) or `--rate` (`Verb`, `URI`, `Value`, `Remain`,
/// `Unit`, `Next Available`), as OSC.
pub async fn limits(session: &Session, command: LimitsCommand) -> Result<(), Failure> {
    let LimitsCommand::Show { absolute, rate: _, project, output } = command;
    let cinder = session.block_storage().await?;
    let mut request = cinder.show_limits();
    if let Some(p) = project {
        request = request.project_id(p);
    }
    let limits = request.send().await?.into_inner().limits;
    if absolute {
        let mut rows = Rows::new(&["Name", "Value"], &output)?;
        let values = serde_json::to_value(&limits.absolute).map_err(|e| Failure::Other(e.to_string()))?;
        for (name, value) in values.as_object().into_iter().flatten() {
            rows.push(vec![Cell::new(name.clone()), Cell::new(value.clone())])?;
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

/// `quota show`: one row per quota (`Resource`, `Limit`, and with
/// `--usage` `In Use` and `Reserved`), sorted by name.
pub async fn quota(session: &Session, command: QuotaCommand) -> Result<(), Failure> {
    let QuotaCommand::Show { project, default, usage, output } = command;
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
    for (name, value) in &set.into_inner().quota_set.extra {
        let mut cells = vec![Cell::new(name.clone())];
        match value {
            types::QuotaValue::Integer(limit) => {
                cells.push(Cell::new(*limit));
                if usage {
                    cells.extend([Cell::new(Value::Null), Cell::new(Value::Null)]);
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
