//! `osbackup`: volume backups, snapshots, volumes and database backups from
//! the shell, with python-openstackclient's flags, columns and exit codes,
//! and what it lacks: `--wait`, names resolved across every page,
//! negotiated microversions.

mod args;
mod backup;
mod cloud;
mod database;
mod group;
mod limits;
mod message;
mod output;
mod policy;
mod prune;
mod snapshot;
mod volume;
mod waiting;

use std::process::ExitCode;

use crate::args::{Cli, Command};

/// How a command failed, and so its exit status.
#[derive(Debug)]
pub enum Failure {
    /// A bad argument (exit 2).
    Usage(String),
    /// What the cloud or the client said (exit 1).
    Api(openstack_backups::Error),
    /// Anything else (exit 1).
    Other(String),
    /// Writing the output failed (a closed pipe ends quietly).
    Output(std::io::Error),
    /// Some of several items failed; each was reported already (exit 1).
    Partial(String),
    /// Ctrl-C while waiting (exit 130).
    Interrupted(String),
}

impl From<openstack_backups::Error> for Failure {
    fn from(e: openstack_backups::Error) -> Self {
        Failure::Api(e)
    }
}

fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Command::Completion { shell } = &cli.command {
        clap_complete::generate(*shell, &mut Cli::definition(), "osbackup", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    if let Command::Man { dir } = &cli.command {
        return match write_man_pages(dir) {
            Ok(count) => {
                eprintln!("{count} manual pages written to {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("osbackup: cannot write the manual pages into {}: {e}", dir.display());
                ExitCode::FAILURE
            }
        };
    }
    if cli.global.debug {
        cloud::debug_log();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("osbackup: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("osbackup: error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Api(e)) => {
            eprintln!("{}", cloud::explain(&e));
            ExitCode::FAILURE
        }
        Err(Failure::Other(message)) | Err(Failure::Partial(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(141),
        Err(Failure::Output(e)) => {
            eprintln!("osbackup: writing the output failed: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Interrupted(message)) => {
            eprintln!("{message}");
            ExitCode::from(130)
        }
    }
}

/// One page per command, as clap_mangen renders them (the page of
/// `backup create` is `osbackup-backup-create.1`); how many were written.
fn write_man_pages(dir: &std::path::Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut definition = Cli::definition();
    definition.build();
    let mut pending = vec![definition];
    let mut written = 0;
    while let Some(command) = pending.pop() {
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone()).render(&mut page)?;
        std::fs::write(dir.join(format!("{}.1", command.get_display_name().unwrap_or(command.get_name()))), page)?;
        written += 1;
        pending.extend(command.get_subcommands().filter(|c| c.get_name() != "help").cloned());
    }
    Ok(written)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let session = cloud::session(&cli.global)?;
    let result = match cli.command {
        Command::Backup(c) => backup::run(&session, c).await,
        Command::Snapshot(c) => snapshot::run(&session, c).await,
        Command::Volume(c) => volume::run(&session, c).await,
        Command::Limits(c) => limits::limits(&session, c).await,
        Command::Quota(c) => limits::quota(&session, c).await,
        Command::Message(c) => message::run(&session, c).await,
        Command::Database(database::DatabaseCommand::Backup(c)) => database::run(&session, c).await,
        Command::Completion { .. } | Command::Man { .. } => Ok(()),
    };
    match result {
        Err(Failure::Api(e)) => Err(with_user_message(&session, e).await),
        other => other,
    }
}

/// A wait that failed on a backup, snapshot or volume: Cinder's newest user
/// message about it, when it wrote one, after the error.
async fn with_user_message(session: &openstack_backups::Session, e: openstack_backups::Error) -> Failure {
    let Some(openstack_backups::WaitError::Failed { resource: "backup" | "snapshot" | "volume", id, .. }) =
        e.wait_error()
    else {
        return Failure::Api(e);
    };
    let message = match session.block_storage().await {
        Ok(cinder) => openstack_backups::policy::newest_message(&cinder, id).await,
        Err(_) => None,
    };
    match message {
        Some(m) => Failure::Other(format!("{}\nCinder's message: {m}", cloud::explain(&e))),
        None => Failure::Api(e),
    }
}

/// Deletes each of `items` with `delete`, going on past failures: each is
/// reported on stderr, then "N of M <what> failed to delete." (exit 1).
pub async fn delete_each<F, Fut>(items: &[String], what: &str, delete: F) -> Result<(), Failure>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let mut failed = 0;
    for item in items {
        if let Err(e) = delete(item.clone()).await {
            failed += 1;
            let why = match e {
                Failure::Api(e) => cloud::explain(&e),
                Failure::Interrupted(m) => return Err(Failure::Interrupted(m)),
                Failure::Usage(m) | Failure::Other(m) | Failure::Partial(m) => m,
                Failure::Output(e) => e.to_string(),
            };
            let singular = what.strip_suffix('s').unwrap_or(what);
            eprintln!("Failed to delete {singular} with name or ID '{item}': {why}");
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::Partial(format!("{failed} of {} {what} failed to delete.", items.len())))
    }
}
