//! `OS_CLOUD=mycloud cargo run --example backups -- <volume-id>`: lists every
//! backup (page after page) and backs up a volume, waiting until it is done.
use futures_util::TryStreamExt;
use openstack_backups::{Session, block_storage::types};

#[tokio::main]
async fn main() -> Result<(), openstack_backups::Error> {
    let cinder = Session::from_env().await?.block_storage().await?;
    let all: Vec<types::Backup> = cinder.list_backups_detail().stream().try_collect().await?;
    println!("{} backups", all.len());
    let volume = std::env::args().nth(1).expect("usage: backups <volume-id>");
    let new = cinder
        .create_backup()
        .body_map(|b| b.backup(types::builder::BackupCreate::default().volume_id(volume)))
        .send()
        .await?;
    let done = cinder.wait_for_backup(&new.backup.id, types::BackupStatus::Available).await?;
    println!("backup {} is {}", done.id, done.status);
    Ok(())
}
