//! `chatflow report`: bot engagement, flow engagement, goals and API health from a store.

use std::process::ExitCode;

use chrono::Duration;
use clap::ValueEnum;

use chatflow::report::{compute::FlowNow, html, render};
use chatflow::serve::report::{compute, Period};

use super::serve::parse_duration;
use super::{compile_for_use, usage_error, FAILED};

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
    Html,
}

// The `///` comments of these fields are `chatflow report --help`.
/// What `chatflow report` was asked for.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The store `chatflow serve` kept the conversations in.
    #[arg(long, value_name = "FILE|URL")]
    pub store: String,
    /// First day (UTC, `YYYY-MM-DD`) of the conversations to report on.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day (UTC, inclusive) of the conversations to report on.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// How to write the report (`html`: one self-contained page).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// The flow as it is now: lists the nodes and goals nobody reached, marks nodes gone from
    /// it, and is what the HTML page draws.
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
    let period = match Period::parse(args.since.as_deref(), args.until.as_deref()) {
        Ok(p) => p,
        Err(e) => return usage_error(&format!("--{e}")),
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
    let store = match super::serve::open_existing_store(&args.store).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let report = match compute(&store, period, idle, flow).await {
        Ok(r) => r,
        Err(e) => {
            return usage_error(&format!(
                "cannot read the store `{}`: {e}",
                chatflow::store::redacted(&args.store)
            ))
        }
    };
    let text = match args.format {
        ReportFormat::Text => render::text(&report),
        ReportFormat::Json => render::json(&report),
        ReportFormat::Csv => render::csv(&report),
        ReportFormat::Html => html::page(&report),
    };
    if args.output == "-" {
        out!("{text}");
    } else if let Err(e) = std::fs::write(&args.output, text) {
        return usage_error(&format!("cannot write `{}`: {e}", args.output));
    }
    ExitCode::SUCCESS
}
