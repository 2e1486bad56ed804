//! `osbackup message …`: Cinder's user messages, with python-openstackclient's
//! `volume message` columns and fields.

use futures_util::{StreamExt, TryStreamExt};
use openstack_backups::Session;
use openstack_backups::block_storage::types;
use serde_json::{Value, json};

use crate::Failure;
use clap::{Args, Subcommand};

use crate::args::{ListOutput, Paging, ShowOutput};
use crate::output::{Cell, Rows, show};

// The command line.

/// `message …`
#[derive(Debug, Subcommand)]
pub enum MessageCommand {
    /// List messages (3.3; filters and paging 3.5)
    ///
    /// Note that Cinder lists every project's messages, not only the
    /// caller's: filter with --resource-uuid.
    List(MessageList),
    /// Show a message
    Show {
        /// The message (ID)
        message: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete messages
    Delete {
        /// The messages (IDs)
        #[arg(required = true)]
        messages: Vec<String>,
    },
}

/// `message list`
#[derive(Debug, Args)]
pub struct MessageList {
    /// Only this project's messages, by id (administrators)
    #[arg(long, value_name = "PROJECT_ID")]
    pub project: Option<String>,
    /// The project's domain (accepted for python-openstackclient's scripts; projects are given by id)
    #[arg(long, value_name = "DOMAIN")]
    pub project_domain: Option<String>,
    /// Only messages about this resource (a backup's, snapshot's or volume's id)
    #[arg(long, value_name = "ID")]
    pub resource_uuid: Option<String>,
    /// Only messages about this kind of resource: VOLUME, VOLUME_SNAPSHOT, VOLUME_BACKUP
    #[arg(long, value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Only messages with this event id (VOLUME_VOLUME_BACKUP_013_020)
    #[arg(long, value_name = "EVENT_ID")]
    pub event_id: Option<String>,
    /// Only messages caused by this request (req-…)
    #[arg(long, value_name = "REQUEST_ID")]
    pub request_id: Option<String>,
    /// Only messages of this level: ERROR, WARNING
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub output: ListOutput,
}

// What it does.

/// The fields of a message, in the order `message show` prints them
/// (always all of them, null where Cinder sends nothing, as OSC does).
const FIELDS: [&str; 9] = [
    "created_at",
    "event_id",
    "guaranteed_until",
    "id",
    "message_level",
    "request_id",
    "resource_type",
    "resource_uuid",
    "user_message",
];

/// The list's columns (OSC's `volume message list`) and their fields.
const COLUMNS: [(&str, &str); 9] = [
    ("ID", "id"),
    ("Event ID", "event_id"),
    ("Resource Type", "resource_type"),
    ("Resource UUID", "resource_uuid"),
    ("Message Level", "message_level"),
    ("User Message", "user_message"),
    ("Request ID", "request_id"),
    ("Created At", "created_at"),
    ("Guaranteed Until", "guaranteed_until"),
];

/// One field of a message.
fn field(m: &types::Message, name: &str) -> Cell {
    let o = |v: Option<&str>| Cell::new(v.map_or(Value::Null, |s| json!(s)));
    match name {
        "created_at" => Cell::new(m.created_at.to_string()),
        "event_id" => Cell::new(m.event_id.clone()),
        "guaranteed_until" => o(m.guaranteed_until.as_ref().map(ToString::to_string).as_deref()),
        "id" => Cell::new(m.id.clone()),
        "message_level" => o(m.message_level.as_ref().map(|l| l.as_str())),
        "request_id" => o(m.request_id.as_deref()),
        "resource_type" => o(m.resource_type.as_ref().map(|t| t.as_str())),
        "resource_uuid" => o(m.resource_uuid.as_deref()),
        _ => Cell::new(m.user_message.clone()),
    }
}

pub async fn run(session: &Session, command: MessageCommand) -> Result<(), Failure> {
    let cinder = session.block_storage().await?;
    match command {
        MessageCommand::List(args) => list(&cinder, args).await,
        MessageCommand::Show { message, output } => {
            let m = cinder.show_message().message_id(&message).send().await?.into_inner().message;
            show(FIELDS.iter().map(|f| ((*f).to_owned(), field(&m, f))).collect(), &output, &[])
        }
        MessageCommand::Delete { messages } => {
            let mut failed = 0;
            for id in &messages {
                if let Err(e) = cinder.delete_message().message_id(id).send().await {
                    failed += 1;
                    eprintln!("Failed to delete message: {id}: {}", crate::cloud::explain(&e));
                }
            }
            if failed == 0 {
                Ok(())
            } else {
                Err(Failure::Partial(format!("Failed to delete {failed} of {} messages.", messages.len())))
            }
        }
    }
}

async fn list(cinder: &openstack_backups::block_storage::Client, args: MessageList) -> Result<(), Failure> {
    let headers: Vec<&str> = COLUMNS.iter().map(|(h, _)| *h).collect();
    let mut rows = Rows::new(&headers, &args.output)?;
    let mut request = cinder.list_messages();
    if let Some(p) = args.project {
        request = request.project_id(p);
    }
    if let Some(r) = args.resource_uuid {
        request = request.resource_uuid(r);
    }
    if let Some(t) = args.resource_type {
        request = request.resource_type(types::MessageResourceType::from(t.as_str()));
    }
    if let Some(e) = args.event_id {
        request = request.event_id(e);
    }
    if let Some(r) = args.request_id {
        request = request.request_id(r);
    }
    if let Some(l) = args.level {
        request = request.message_level(types::MessageLevel::from(l.as_str()));
    }
    if let Some(limit) = args.paging.limit {
        request = request.limit(limit);
    }
    if let Some(marker) = args.paging.marker {
        request = request.marker(marker);
    }
    let mut stream = request.stream().take(args.paging.max_items.unwrap_or(usize::MAX));
    while let Some(m) = stream.try_next().await? {
        rows.push(COLUMNS.iter().map(|(_, f)| field(&m, f)).collect())?;
    }
    rows.finish()
}
