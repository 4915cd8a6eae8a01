//! `chatflow report`: bot engagement, flow engagement, goals and API health from a store.

use std::process::ExitCode;

use chrono::Duration;
use clap::ValueEnum;

use chatflow::report::{compute::FlowNow, html, render, unmatched};
use chatflow::serve::report::{compute, Period};

use super::serve::parse_duration;
use super::{compile_for_use, usage_error};

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
    /// The untrained inbox instead: the messages nothing understood (in a bot with intents),
    /// grouped by similarity, each group ready to paste into an `intent` (text or json).
    #[arg(long)]
    pub unmatched: bool,
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
    let program = match &args.flow {
        None => None,
        Some(file) => match compile_for_use(file) {
            Ok(p) => Some(p),
            Err(code) => return code,
        },
    };
    let store = match super::serve::open_existing_store(&args.store).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.unmatched {
        return unmatched(&args, &store, &period, program.as_ref()).await;
    }
    let flow = program
        .as_ref()
        .map(|p| FlowNow::of(p, chatflow::serve::service::flow_version(p)));
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
    write_out(&args.output, text)
}

/// `--unmatched`: the untrained inbox, grouped with the flow's synonyms and stemmer when
/// `--flow` is given (English stemming otherwise).
async fn unmatched(
    args: &ReportArgs,
    store: &chatflow::store::Store,
    period: &Period,
    program: Option<&chatflow::ir::Program>,
) -> ExitCode {
    let rows = match store
        .unmatched(period.from.clone(), period.to.clone())
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            return usage_error(&format!(
                "cannot read the store `{}`: {e}",
                chatflow::store::redacted(&args.store)
            ))
        }
    };
    let normaliser = program
        .and_then(|p| p.understanding.as_ref())
        .map(|u| u.normaliser.clone())
        .unwrap_or(chatflow::nlu::Normaliser {
            language: Some("en".into()),
            synonyms: Vec::new(),
        });
    let texts: Vec<String> = rows.into_iter().map(|r| r.text).collect();
    let groups = unmatched::group(&texts, &normaliser);
    let text = match args.format {
        ReportFormat::Text => unmatched::render_text(&groups),
        ReportFormat::Json => {
            let total: usize = groups.iter().map(|g| g.count).sum();
            let json = serde_json::json!({ "total": total, "groups": groups });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            )
        }
        ReportFormat::Csv | ReportFormat::Html => {
            return usage_error("--unmatched is written as text or json")
        }
    };
    write_out(&args.output, text)
}

fn write_out(output: &str, text: String) -> ExitCode {
    if output == "-" {
        out!("{text}");
    } else if let Err(e) = std::fs::write(output, text) {
        return usage_error(&format!("cannot write `{output}`: {e}"));
    }
    ExitCode::SUCCESS
}
