//! `osbackup database backup …`: python-troveclient's commands, with
//! `--wait`.

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::Session;
use openstack_backups::database::types;
use serde_json::json;

use crate::args::DatabaseBackupCommand;
use crate::output::{Cell, Rows, fields_of, show};
use crate::{Failure, delete_each, waiting};

/// `database backup show` fields: every field, `datastore` flattened as
/// troveclient does.
fn backup_fields(b: &types::Backup) -> Vec<(String, Cell)> {
    let mut fields = fields_of(b, &[], &["datastore"]);
    if let Some(d) = &b.datastore {
        fields.push(("datastore".to_owned(), Cell::new(json!(d.type_))));
        fields.push(("datastore_version".to_owned(), Cell::new(json!(d.version))));
        fields.push(("datastore_version_id".to_owned(), Cell::new(json!(d.version_id))));
        fields.sort_by(|a, b| a.0.cmp(&b.0));
    }
    fields
}

pub async fn run(session: &Session, command: DatabaseBackupCommand) -> Result<(), Failure> {
    let trove = session.database().await?;
    match command {
        DatabaseBackupCommand::Create { name, instance, description, parent, incremental, wait, output } => {
            let parent_id = match &parent {
                Some(p) => Some(trove.find_backup(p).await?.id),
                None => None,
            };
            let body = types::BackupCreate {
                name,
                instance: Some(instance),
                description,
                parent_id,
                incremental: incremental.then_some(true.into()),
                copy_to: Vec::new(),
                restore_from: None,
                source: None,
                storage_driver: None,
                swift_container: None,
            };
            let made = trove.create_database_backup().body(types::BackupCreateRequest { backup: body }).send().await?;
            let made = made.into_inner().backup;
            let done = if wait.wait {
                let (waiter, bar) = waiting::policy(&wait);
                let what = format!("database backup {}", made.id);
                waiting::run(trove.wait_for_backup(&made.id, types::BackupStatus::Completed).with(&waiter), bar, &what)
                    .await?
            } else {
                made
            };
            show(backup_fields(&done), &output, &[])
        }
        DatabaseBackupCommand::List { instance, datastore, all_projects, project_id, paging, output } => {
            let mut headers = vec!["ID", "Instance ID", "Name", "Status", "Parent ID", "Updated"];
            if all_projects || project_id.is_some() {
                headers.push("Project ID");
            }
            let mut rows = Rows::new(&headers, &output)?;
            let mut request = trove.list_database_backups();
            if let Some(i) = instance {
                request = request.instance_id(i);
            }
            if let Some(d) = datastore {
                request = request.datastore(d);
            }
            if all_projects {
                request = request.all_projects(true);
            }
            if let Some(p) = &project_id {
                request = request.project_id(p.clone());
            }
            if let Some(limit) = paging.limit {
                request = request.limit(limit);
            }
            if let Some(marker) = paging.marker {
                request = request.marker(marker);
            }
            let mut stream = request.stream().take(paging.max_items.unwrap_or(usize::MAX));
            while let Some(b) = stream.try_next().await? {
                let mut cells = vec![
                    Cell::new(b.id),
                    Cell::new(json!(b.instance_id)),
                    Cell::new(json!(b.name)),
                    Cell::new(b.status.as_str()),
                    Cell::new(json!(b.parent_id)),
                    Cell::new(json!(b.updated.map(|t| t.to_string()))),
                ];
                if headers.len() == 7 {
                    cells.push(Cell::new(json!(b.project_id)));
                }
                rows.push(cells)?;
            }
            rows.finish()
        }
        DatabaseBackupCommand::Show { backup, output } => {
            let b = trove.find_backup(&backup).await?;
            show(backup_fields(&b), &output, &[])
        }
        DatabaseBackupCommand::Delete { backups, wait } => {
            delete_each(&backups, "database backups", |name| {
                let (trove, wait) = (&trove, &wait);
                async move {
                    let b = trove.find_backup(&name).await?;
                    trove.delete_database_backup().backup_id(&b.id).send().await?;
                    if wait.wait {
                        let (waiter, bar) = waiting::policy(wait);
                        let what = format!("the deletion of database backup {}", b.id);
                        waiting::run(trove.wait_for_backup_deleted(&b.id).with(&waiter), bar, &what).await?;
                    }
                    Ok(())
                }
            })
            .await
        }
    }
}
