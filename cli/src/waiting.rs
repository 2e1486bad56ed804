//! `--wait`: the waiters of the client, with a live progress line on a
//! terminal (nothing extra when stderr is not one), a timeout, and Ctrl-C,
//! which stops the waiting (not the operation) and exits 130.

use std::future::IntoFuture;
use std::io::IsTerminal;
use std::time::Duration;

use openstack_backups::wait::Waiter;

use crate::Failure;
use crate::args::WaitArgs;

/// The policy of a `--wait`: its timeout, and a progress line on stderr
/// when stderr is a terminal. Returns the policy and the line, which
/// [`run`] clears when the wait ends.
pub fn policy(args: &WaitArgs) -> (Waiter, Option<indicatif::ProgressBar>) {
    let waiter = Waiter::new().timeout(Duration::from_secs(args.wait_timeout));
    if !std::io::stderr().is_terminal() {
        return (waiter, None);
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let line = bar.clone();
    let waiter = waiter.on_progress(move |p| {
        let status = p.status.unwrap_or("gone");
        let progress = p.progress.as_deref().map(|x| format!(" {x}")).unwrap_or_default();
        line.set_message(format!("{} {}: {status}{progress} ({} s)", p.resource, p.id, p.elapsed.as_secs()));
    });
    (waiter, Some(bar))
}

/// Runs `wait` to its end, or until Ctrl-C: then says that the operation
/// goes on in the cloud (`what`), and the command exits 130.
pub async fn run<W, T>(wait: W, bar: Option<indicatif::ProgressBar>, what: &str) -> Result<T, Failure>
where
    W: IntoFuture<Output = Result<T, openstack_backups::Error>>,
{
    let result = tokio::select! {
        r = wait.into_future() => r.map_err(Failure::Api),
        _ = tokio::signal::ctrl_c() => Err(Failure::Interrupted(format!(
            "Stopped waiting: {what} goes on in the cloud."
        ))),
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result
}
