//! `chatflow report`: bot engagement, flow engagement, goals and API health from a store.

use std::process::ExitCode;

use chrono::{Duration, NaiveDate, Utc};
use clap::ValueEnum;

use chatflow::report::{self, compute::FlowNow, render, Options};
use chatflow::store::Store;

use super::serve::parse_duration;
use super::{compile_for_use, usage_error, FAILED};

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
}

// The `///` comments of these fields are `chatflow report --help`.
/// What `chatflow report` was asked for.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The store `chatflow serve` kept the conversations in.
    #[arg(long, value_name = "FILE")]
    pub store: String,
    /// First day (UTC, `YYYY-MM-DD`) of the conversations to report on.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day (UTC, inclusive) of the conversations to report on.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// How to write the report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// The flow as it is now: lists the nodes and goals nobody reached, marks nodes gone from
    /// it.
    #[arg(long, value_name = "FLOW")]
    pub flow: Option<String>,
    /// A waiting conversation idle longer than this counts as abandoned (`30m`, `2h`, `1d`).
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub idle: String,
    /// Where to write the report; `-` is stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "-")]
    pub output: String,
}

pub async fn report(args: ReportArgs) -> ExitCode {
    let (from, to) = match period(args.since.as_deref(), args.until.as_deref()) {
        Ok(p) => p,
        Err(e) => return usage_error(&e),
    };
    let idle = match parse_duration(&args.idle) {
        Ok(Some(d)) => Duration::from_std(d).unwrap_or(Duration::MAX),
        Ok(None) => Duration::MAX,
        Err(e) => return usage_error(&format!("--idle: {e}")),
    };
    let flow = match &args.flow {
        None => None,
        Some(file) => match compile_for_use(file) {
            Ok(c) => match c.program {
                Some(p) => Some(FlowNow::of(&p, chatflow::serve::service::flow_version(&p))),
                None => return ExitCode::from(FAILED),
            },
            Err(code) => return code,
        },
    };
    let path = std::path::Path::new(&args.store);
    if !path.is_file() {
        return usage_error(&format!("no store at `{}`", args.store));
    }
    let store = match Store::open_sqlite(path).await {
        Ok(s) => s,
        Err(e) => return usage_error(&format!("cannot open the store `{}`: {e}", args.store)),
    };
    let rows = match store.report_rows(from, to).await {
        Ok(r) => r,
        Err(e) => return usage_error(&format!("cannot read the store `{}`: {e}", args.store)),
    };
    let options = Options {
        now: Utc::now(),
        idle,
        since: args.since,
        until: args.until,
        flow,
    };
    let report = report::compute(&rows, &options);
    let text = match args.format {
        ReportFormat::Text => render::text(&report),
        ReportFormat::Json => render::json(&report),
        ReportFormat::Csv => render::csv(&report),
    };
    if args.output == "-" {
        out!("{text}");
    } else if let Err(e) = std::fs::write(&args.output, text) {
        return usage_error(&format!("cannot write `{}`: {e}", args.output));
    }
    ExitCode::SUCCESS
}

/// `--since` and `--until` as the store's bounds: conversations created from the first day's
/// start up to (not including) the day after the last.
fn period(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<String>, Option<String>), String> {
    let day = |flag: &str, text: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("{flag}: `{text}` is not a date like 2026-03-01"))
    };
    let from = since.map(|s| day("--since", s)).transpose()?;
    let to = until.map(|u| day("--until", u)).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(format!("--since {f} is after --until {t}"));
        }
    }
    let to = match to {
        Some(t) => Some(
            t.succ_opt()
                .ok_or_else(|| format!("--until: `{t}` is too far in the future"))?,
        ),
        None => None,
    };
    Ok((
        from.map(|d| d.format("%Y-%m-%d").to_string()),
        to.map(|d| d.format("%Y-%m-%d").to_string()),
    ))
}
