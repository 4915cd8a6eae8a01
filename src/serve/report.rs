//! The report page `serve` shows at `/admin/report`, and the period both it and
//! `chatflow report` take: the same computation over the same store read.

use chrono::{Duration, NaiveDate, Utc};

use super::service::{flow_version, Service};
use crate::report::{self, compute::FlowNow, Options};
use crate::store::{Store, StoreError};

/// How long a waiting conversation may be idle before it counts as abandoned when `serve`
/// does not expire sessions.
pub const DEFAULT_IDLE: Duration = Duration::minutes(30);

/// The days a report covers (UTC, both included), and the store bounds they make.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Period {
    /// First day, `YYYY-MM-DD`.
    pub since: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub until: Option<String>,
    /// Lower bound on `created_at` (the first day).
    pub from: Option<String>,
    /// Upper bound on `created_at`, excluded (the day after the last).
    pub to: Option<String>,
}

impl Period {
    /// Reads `--since`/`--until` (or the query's `since`/`until`); the error says which is bad.
    pub fn parse(since: Option<&str>, until: Option<&str>) -> Result<Period, String> {
        let day = |name: &str, text: &str| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| format!("{name}: `{text}` is not a date like 2026-03-01"))
        };
        let first = since.map(|s| day("since", s)).transpose()?;
        let last = until.map(|u| day("until", u)).transpose()?;
        if let (Some(f), Some(l)) = (first, last) {
            if f > l {
                return Err(format!("since {f} is after until {l}"));
            }
        }
        let after_last = match last {
            Some(l) => Some(
                l.succ_opt()
                    .ok_or_else(|| format!("until: `{l}` is too far in the future"))?,
            ),
            None => None,
        };
        let text = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        Ok(Period {
            since: first.map(text),
            until: last.map(text),
            from: first.map(text),
            to: after_last.map(text),
        })
    }
}

/// Computes the report of `store` over `period`.
pub async fn compute(
    store: &Store,
    period: Period,
    idle: Duration,
    flow: Option<FlowNow>,
) -> Result<report::Report, StoreError> {
    let rows = store.report_rows(period.from, period.to).await?;
    let options = Options {
        now: Utc::now(),
        idle,
        since: period.since,
        until: period.until,
        flow,
    };
    Ok(report::compute(&rows, &options))
}

/// The HTML report page for the flow `service` serves.
pub async fn page(service: &Service, period: Period) -> Result<String, StoreError> {
    let program = service.program();
    let flow = FlowNow::of(program, flow_version(program));
    let idle = service
        .session_ttl
        .and_then(|ttl| Duration::from_std(ttl).ok())
        .unwrap_or(DEFAULT_IDLE);
    let report = compute(&service.store, period, idle, Some(flow)).await?;
    Ok(report::html::page(&report))
}
