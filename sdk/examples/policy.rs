//! Runs the backup policies of a policy file against the cloud of
//! `OS_CLOUD` (or the `OS_*` variables), printing what happens, then each
//! volume's outcome; exits 1 unless every selected volume is protected.
//!
//! ```text
//! OS_CLOUD=mycloud cargo run -p openstack-backups --example policy -- policies.yaml [--dry-run]
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use openstack_backups::Session;
use openstack_backups::policy::{self, Event, PolicyFile, RunOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: policy <policies.yaml> [--dry-run]");
        return ExitCode::from(2);
    };
    let file = match PolicyFile::read(path.as_ref()) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("{e}"); // policies.yaml:4:12: policies.nightly.every: expected a duration …
            return ExitCode::from(2);
        }
    };
    let cinder = match Session::from_env().await {
        Ok(session) => session.block_storage().await,
        Err(e) => Err(e),
    };
    let cinder = match cinder {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let options = RunOptions {
        dry_run: args.iter().any(|a| a == "--dry-run"),
        on_event: Some(Arc::new(|event: &Event<'_>| match event {
            Event::Started { volume, action, backup_id } => {
                eprintln!("{}: {} backup {backup_id} started", volume.label(), action.as_str())
            }
            Event::Finished(v) => eprintln!("{}: {}", v.volume.label(), v.outcome.describe()),
            _ => {}
        })),
        ..RunOptions::default()
    };
    let mut all_protected = true;
    for policy in file.policies.values() {
        match policy::run(&cinder, policy, &options).await {
            Ok(report) => {
                for v in &report.volumes {
                    println!("{} {} {} ({})", policy.name, v.volume.label(), v.outcome.describe(), v.reason);
                }
                all_protected &= report.succeeded();
            }
            Err(e) => {
                eprintln!("policy {}: {e}", policy.name);
                all_protected = false;
            }
        }
    }
    if all_protected { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
