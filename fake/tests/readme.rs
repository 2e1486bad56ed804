//! The README's example of testing with the fake cloud, run as it is
//! written there (and checked to be the same text).

// README fake: begin
use openstack_backups::Error;
use openstack_backups::block_storage::{Client, types};
use openstack_backups_fake::FakeCloud;

/// Deletes all but the newest `keep` backups of a volume: the code under test.
async fn prune(cinder: &Client, volume_id: &str, keep: usize) -> Result<usize, Error> {
    let backups = cinder.list_backups_detail().volume_id(volume_id).all().await?; // newest first
    for old in backups.iter().skip(keep) {
        cinder.delete_backup().backup_id(&old.id).send().await?;
        cinder.wait_for_backup_deleted(&old.id).await?;
    }
    Ok(backups.len().saturating_sub(keep))
}

#[tokio::test]
async fn prune_keeps_the_newest_backups() {
    let cloud = FakeCloud::start().await; // Keystone and Cinder, in this process
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let size = std::num::NonZeroU64::new(1);
    let volume = types::VolumeCreateRequest::builder().volume(types::VolumeCreate::builder().size(size));
    let volume = cinder.create_volume().body(volume).send().await.unwrap().into_inner().volume;
    cinder.wait_for_volume(&volume.id, types::VolumeStatus::Available).await.unwrap();
    let mut made = Vec::new();
    for _ in 0..3 {
        let backup = types::BackupCreateRequest::builder().backup(types::BackupCreate::builder().volume_id(&volume.id));
        let created = cinder.create_backup().body(backup).send().await.unwrap();
        // Statuses move on the fake's clock: this wait takes no real time.
        cinder.wait_for_backup(&created.backup.id, types::BackupStatus::Available).await.unwrap();
        made.push(created.backup.id.clone());
    }
    assert_eq!(prune(&cinder, &volume.id, 1).await.unwrap(), 2);
    let left = cinder.list_backups_detail().all().await.unwrap();
    assert_eq!(left.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), [made[2].as_str()]);
}
// README fake: end

#[test]
fn the_readme_shows_this_test() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
    let me = std::fs::read_to_string(root.join("fake/tests/readme.rs")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = |text: &str| -> Option<String> {
        let start = text.find("// README fake: begin\n")? + "// README fake: begin\n".len();
        let end = text.find("// README fake: end")?;
        Some(text[start..end].to_owned())
    };
    assert!(block(&readme).is_some(), "README.md has no fake cloud example");
    assert_eq!(block(&readme), block(&me), "README.md's fake cloud example differs from fake/tests/readme.rs");
}
