//! `OS_CLOUD=mycloud cargo run --example backups -- <volume-id>`: lists every
//! backup (page after page) and backs up a volume, waiting until it is done.
//! Exits 2 with its usage when no volume is given, 1 with the error's
//! message (operation, status, fault, request id) when a call fails.
use std::process::ExitCode;

use futures_util::TryStreamExt;
use openstack_backups::{Error, Session, block_storage::types};

#[tokio::main]
async fn main() -> ExitCode {
    let Some(volume) = std::env::args().nth(1) else {
        eprintln!("usage: OS_CLOUD=mycloud cargo run --example backups -- <volume-id>");
        return ExitCode::from(2);
    };
    match back_up(&volume).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn back_up(volume: &str) -> Result<(), Error> {
    let cinder = Session::from_env().await?.block_storage().await?;
    let all: Vec<types::Backup> = cinder.list_backups_detail().stream().try_collect().await?;
    println!("{} backups", all.len());
    let new = cinder
        .create_backup()
        .body_map(|b| b.backup(types::builder::BackupCreate::default().volume_id(volume)))
        .send()
        .await?;
    let done = cinder.wait_for_backup(&new.backup.id, types::BackupStatus::Available).await?;
    println!("backup {} is {}", done.id, done.status);
    Ok(())
}
