//! `chatflow prune`: erases conversations idle for longer than asked, with their turns and
//! pending webhook deliveries.

use std::process::ExitCode;

use chrono::{SecondsFormat, Utc};

use super::serve::parse_duration;
use super::usage_error;

// The `///` comments of these fields are `chatflow prune --help`.
/// What `chatflow prune` was asked for.
#[derive(clap::Args)]
pub struct PruneArgs {
    /// The store `chatflow serve` keeps the conversations in.
    #[arg(long, value_name = "FILE|URL")]
    pub store: String,
    /// Erase conversations whose last turn is older than this (`90d`, `12h`, `30m`).
    #[arg(long, value_name = "DURATION")]
    pub older_than: String,
}

pub async fn prune(args: PruneArgs) -> ExitCode {
    let age = match parse_duration(&args.older_than) {
        Ok(Some(d)) => d,
        Ok(None) => return usage_error("--older-than: give an age like 90d; `off` prunes nothing"),
        Err(e) => return usage_error(&format!("--older-than: {e}")),
    };
    let Some(before) = chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| Utc::now().checked_sub_signed(age))
    else {
        return usage_error(&format!(
            "--older-than: `{}` is too long ago",
            args.older_than
        ));
    };
    let before = before.to_rfc3339_opts(SecondsFormat::Millis, true);
    let store = match super::serve::open_existing_store(&args.store).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.prune(&before).await {
        Ok(n) => {
            let s = if n == 1 { "" } else { "s" };
            outln!("pruned {n} conversation{s} idle since before {before}");
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(&format!(
            "cannot prune the store `{}`: {e}",
            chatflow::store::redacted(&args.store)
        )),
    }
}
