//! Every Rust block of README.md compiles: the blocks that are not a
//! whole program or test elsewhere (`sdk/examples/backups.rs`,
//! `tests/tests/mocks.rs`, `fake/tests/readme.rs`) are here, line for line,
//! in functions that give them the variables they use; and a test holds
//! README.md to these files, so a README example that stops compiling, or
//! one edited here but not there, fails the suite.

use std::path::Path;

/// The README's blocks, in its order. They are compiled, not run: each
/// needs a cloud (the same calls run against the real servers in
/// `real_cinder.rs`, `real_trove.rs` and `real_keystone.rs`).
#[rustfmt::skip] // line for line as README.md has them
#[allow(dead_code, unused_variables)]
mod blocks {
    use openstack_backups::block_storage::types;
    use openstack_backups::{Error, Microversion, Session};

    /// "To pin a microversion".
    async fn pin() -> Result<(), Error> {
        let cloud = openstack_backups::cloud::CloudConfig::named("mycloud")?;
        let session = Session::builder().cloud(cloud)?.microversion("block_storage", Microversion::new(3, 64)).build()?;
        let cinder = session.block_storage().await?;   // refuses 3.65+ fields before sending
        assert_eq!(cinder.microversion(), Some(Microversion::new(3, 64)));
        Ok(())
    }

    /// "A client can also be made directly".
    async fn direct(token: String, id: String) -> Result<(), Error> {
        use futures_util::TryStreamExt;
        use openstack_backups::block_storage::{Client, types};
        use openstack_backups::{ClientConfig, Microversion};

        let client = Client::new(
            "https://cloud.example:8776/v3/6b2c0f4e9a1d4c3b",   // the catalog endpoint, with or without the project
            ClientConfig::new().with_token(token).with_microversion(Microversion::new(3, 64)),
        );

        // One page, with filters; `count` needs 3.45 (checked before sending).
        let page = client.list_backups_detail().status(types::BackupStatus::Available).limit(50u64).send().await?;

        // Every backup, page after page (follows `backups_links`, one page in memory).
        let mut backups = client.list_backups_detail().limit(1000u64).stream();
        while let Some(backup) = backups.try_next().await? {
            println!("{} {}", backup.id, backup.status);
        }

        // Or all of them at once (every list call has `stream()` and `all()`).
        let all: Vec<types::Backup> = client.list_backups_detail().all().await?;

        // Actions are calls of their own and send exactly {"os-reset_status": {"status": "error"}}.
        client.reset_backup_status(&id, types::BackupResetStatus { status: types::BackupResetStatusStatus::Error }).await?;
        Ok(())
    }

    /// "The rest of a backup workflow".
    async fn workflow(
        session: Session,
        cinder: openstack_backups::block_storage::Client,
        project: String,
        volume: String,
        volume_size_gib: u64,
        latest: String,
    ) -> Result<(), Error> {
        // Room left under the backup quotas (GET /limits): "4 more backups, 19 more GiB".
        let room = session.backup_headroom().await?;
        if room.fits(1, volume_size_gib) == Some(false) { /* clean up first: `osbackup backup prune` */ }

        // Quotas: show (with usage), defaults, set, reset (an open map: per-volume-type keys included).
        let quotas = cinder.show_quota_set().target_project_id(&project).usage(true).send().await?;

        // Revert a volume in place to its latest snapshot (3.40), then wait for it.
        cinder.revert_volume_to_snapshot(&volume, types::VolumeRevert { snapshot_id: latest }).await?;
        cinder.wait_for_volume(&volume, types::VolumeStatus::Available).await?;

        // Snapshots on the backend (3.8, administrators), and adopting one (the counterpart of os-unmanage).
        let on_backend = cinder.list_manageable_snapshots_detail().host("cinder-volume@lvm").send().await?;

        // Which list filters the cloud takes from non-administrators (3.33).
        let filters = cinder.list_resource_filters().resource("backup").send().await?;

        // Trove: the default container of a project's (or an instance's) backups.
        use openstack_backups::database::types::{BackupStrategyCreate, BackupStrategyCreateRequest};
        let trove = session.database().await?;
        let strategy = BackupStrategyCreate::builder().swift_container("db-backups");
        trove.create_backup_strategy().body(BackupStrategyCreateRequest::builder().backup_strategy(strategy)).send().await?;
        Ok(())
    }

    /// "A backup policy from code".
    async fn policy(cinder: openstack_backups::block_storage::Client) -> Result<(), Box<dyn std::error::Error>> {
        use openstack_backups::policy::{self, PolicyFile, RunOptions};
        use std::path::Path;

        let file = PolicyFile::read(Path::new("/etc/osbackup/policies.yaml"))?;   // errors name file, line and field
        let nightly = &file.policies["nightly"];
        let report = policy::run(&cinder, nightly, &RunOptions::default()).await?;
        for v in &report.volumes {
            println!("{} {} {}", v.volume.label(), v.action.as_str(), v.outcome.describe());
        }
        assert!(report.succeeded());
        let states = policy::report(&cinder, Some(nightly), &nightly.standard(), chrono::Utc::now()).await?;
        Ok(())
    }

    /// "A group's volumes backed up from one group snapshot".
    async fn group(cinder: openstack_backups::block_storage::Client) -> Result<(), Box<dyn std::error::Error>> {
        use openstack_backups::group::{GroupBackupOptions, backup_group};

        let options = GroupBackupOptions { name: Some("db-nightly".into()), incremental: true, ..Default::default() };
        let done = backup_group(&cinder, "db", &options).await?;   // errors: nothing made, or the group snapshot failed
        for member in &done.members {
            match &member.outcome {
                Ok(backup) => println!("{} {} {}", member.volume_id, backup.id, backup.status),
                Err(e) => println!("{} failed: {e}", member.volume_id),
            }
        }
        assert!(done.succeeded());   // every backup made, the group snapshot deleted
        Ok(())
    }

    /// "A database backup restored into a new instance".
    async fn restore(trove: openstack_backups::database::Client) -> Result<(), Box<dyn std::error::Error>> {
        use openstack_backups::database::types::InstanceStatus;
        use openstack_backups::restore::{RestoreOptions, restore_database_backup};
        use openstack_backups::wait::Waiter;

        let mut options = RestoreOptions::new("orders-restored", "2");   // the new instance's name, the flavor's id
        options.size = std::num::NonZeroU64::new(20);                     // GB; default: the backup's, rounded up
        let restored = restore_database_backup(&trove, "orders-nightly", &options).await?;   // errors: backup, size, Trove's refusal
        let ready = trove
            .wait_for_instance(&restored.instance.id, InstanceStatus::Active)   // ERROR fails with Trove's fault message
            .with(&Waiter::new().timeout(std::time::Duration::from_secs(3600)))
            .await?;
        Ok(())
    }
}

/// The files that compile README.md's Rust blocks.
const COMPILED: [&str; 4] =
    ["sdk/examples/backups.rs", "tests/tests/readme_code.rs", "tests/tests/mocks.rs", "fake/tests/readme.rs"];

/// A text's lines without their indentation, blank lines left out.
fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

#[test]
fn every_rust_block_of_the_readme_is_in_a_compiled_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let files: Vec<(&str, String)> =
        COMPILED.iter().map(|f| (*f, std::fs::read_to_string(root.join(f)).unwrap())).collect();
    let mut blocks = Vec::new();
    let mut rest = readme.as_str();
    while let Some(start) = rest.find("```rust\n") {
        let body = &rest[start + "```rust\n".len()..];
        let end = body.find("```").expect("a closed block");
        blocks.push(&body[..end]);
        rest = &body[end + 3..];
    }
    assert!(blocks.len() >= 7, "README.md's Rust blocks were not found: {}", blocks.len());
    let mut stray = Vec::new();
    for block in blocks {
        let want = lines(block);
        let found = files.iter().any(|(_, text)| lines(text).windows(want.len()).any(|w| w == want.as_slice()));
        if !found {
            stray.push(block);
        }
    }
    assert!(
        stray.is_empty(),
        "README.md blocks that no compiled file holds line for line ({}):\n\n{}",
        COMPILED.join(", "),
        stray.join("\n---\n")
    );
}
