//! `generated/` must be what the generator makes of `spec/` today: a plain
//! `cargo test` fails on stale output, with the diff and the command to run.

use openstack_backups_codegen::{Mode, regenerate};
use openstack_backups_tests::workspace_root;

#[test]
fn generated_code_is_current() {
    if let Err(e) = regenerate(&workspace_root(), Mode::Check) {
        panic!("{e}");
    }
}
