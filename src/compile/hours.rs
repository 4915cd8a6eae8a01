//! Business hours: `hours NAME { zone "..."; mon-fri 09:00-17:00; closed 2026-12-25 }`.
//! The zone must be in the IANA database (chrono-tz); days, times and dates are validated
//! here, and a valid item is turned into its [`ir::HoursTable`] for lowering.

use super::resolve::Ctx;
use crate::diagnostic::{did_you_mean, Code, Diag};
use crate::ir;
use crate::source::FileId;
use crate::syntax::ast::{self, HoursRule, Span};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

pub(crate) fn check(ctx: &mut Ctx<'_>, file: FileId, hours: &ast::Hours) {
    let errors_before = ctx.diags.len();
    let mut table = ir::HoursTable {
        name: hours.name.name.to_string(),
        zone: String::new(),
        weekly: Vec::new(),
        closed: Vec::new(),
    };
    let mut zone_span: Option<Span> = None;
    // Every valid weekly entry with the rule it came from, to spot overlaps.
    let mut seen: Vec<Opening> = Vec::new();
    let mut overlaps = Vec::new();
    for rule in &hours.rules {
        match rule {
            HoursRule::Zone(zone) => {
                if let Some(first) = zone_span {
                    ctx.error(
                        Diag::new(
                            Code::DuplicateProperty,
                            format!(
                                "hours `{}` have one `zone`, this is a second one",
                                hours.name.name
                            ),
                            zone.span,
                        )
                        .label("repeated zone")
                        .note(first, "first given here")
                        .help("remove one of the two lines"),
                        file,
                    );
                    continue;
                }
                zone_span = Some(zone.span);
                check_zone(ctx, file, zone);
                table.zone = zone.value.to_string();
            }
            HoursRule::Weekly {
                first_day,
                last_day,
                from,
                to,
                span,
            } => {
                let added = table.weekly.len();
                weekly(
                    ctx,
                    file,
                    (first_day, last_day.as_ref()),
                    (from, to),
                    &mut table.weekly,
                );
                let new: Vec<Opening> = table.weekly[added..]
                    .iter()
                    .map(|&entry| (entry, *span))
                    .collect();
                if let Some(diag) = overlap(&hours.name.name, &seen, &new) {
                    overlaps.push(diag);
                }
                seen.extend(new);
            }
            HoursRule::Closed(dates) => {
                for date in dates {
                    if chrono::NaiveDate::parse_from_str(&date.value, "%Y-%m-%d").is_err()
                        || date.value.len() != 10
                    {
                        bad_hours(
                            ctx,
                            file,
                            date.span,
                            format!("`{}` is not a date", date.value),
                            "write closed dates as YYYY-MM-DD, e.g. `closed 2026-12-25`",
                        );
                    } else {
                        table.closed.push(date.value.to_string());
                    }
                }
            }
        }
    }
    if zone_span.is_none() {
        ctx.error(
            Diag::new(
                Code::MissingProperty,
                format!("hours `{}` have no `zone`", hours.name.name),
                hours.name.span,
            )
            .label("`zone` is required")
            .help("add the time zone the hours are in, e.g. `zone \"America/Chicago\"`"),
            file,
        );
    }
    let id = ctx.hours_ids.get(hours.name.name.as_str()).copied();
    if let Some(def) = id.map(|id| &mut ctx.hours[id as usize]) {
        if std::ptr::eq(def.ast, hours) && ctx.diags.len() == errors_before {
            def.table = Some(table);
        }
    }
    // Warnings only, reported after the table is kept: overlapping ranges still work.
    for diag in overlaps {
        ctx.error(diag, file);
    }
}

/// A weekly entry `(day, from, to)` and the span of the rule that wrote it.
type Opening = ((u8, u16, u16), Span);

/// The first earlier opening that shares time on the same day with one of `new`'s.
fn overlap(name: &str, seen: &[Opening], new: &[Opening]) -> Option<Diag> {
    let (day, span, earlier) = new.iter().find_map(|&((day, from, to), span)| {
        let (_, earlier) = seen
            .iter()
            .find(|((d, f, t), _)| *d == day && *f < to && from < *t)?;
        Some((day, span, *earlier))
    })?;
    Some(
        Diag::new(
            Code::OverlappingHours,
            format!(
                "hours `{name}`: this range overlaps an earlier one on {}",
                DAYS[day as usize]
            ),
            span,
        )
        .label("overlaps an earlier range")
        .note(earlier, "the earlier range")
        .help("merge the two ranges into one, or make them meet without overlapping (09:00-12:00, 12:00-17:00)"),
    )
}

/// An IANA zone name, for `hours` and the bot's `timezone`; a near miss gets "did you mean".
pub(crate) fn check_zone(ctx: &mut Ctx<'_>, file: FileId, zone: &ast::StrLit) {
    if zone.value.parse::<chrono_tz::Tz>().is_ok() {
        return;
    }
    let help = did_you_mean(
        &zone.value,
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()),
    )
    .unwrap_or_else(|| {
        "use an IANA time-zone name such as `America/Chicago`, `Europe/Madrid` or `UTC`".into()
    });
    ctx.error(
        Diag::new(
            Code::UnknownZone,
            format!("`{}` is not a time zone", zone.value),
            zone.span,
        )
        .label("not in the time-zone database")
        .help(help),
        file,
    );
}

/// `mon-fri 09:00-17:00`: one entry per day of the range.
fn weekly(
    ctx: &mut Ctx<'_>,
    file: FileId,
    (first, last): (&ast::Ident, Option<&ast::Ident>),
    (from, to): (&ast::StrLit, &ast::StrLit),
    out: &mut Vec<(u8, u16, u16)>,
) {
    let first_day = day(ctx, file, first);
    let last_day = last.map_or(first_day, |d| day(ctx, file, d));
    let (Some(a), Some(b)) = (first_day, last_day) else {
        return;
    };
    if a > b {
        let span = last.map_or(first.span, |l| first.span.to(l.span));
        bad_hours(
            ctx,
            file,
            span,
            format!("the days {}-{} run backwards", DAYS[a as usize], DAYS[b as usize]),
            "write day ranges from Monday towards Sunday (`mon-fri`); a range across Sunday needs two lines",
        );
        return;
    }
    let (Some(start), Some(end)) = (minute(ctx, file, from, false), minute(ctx, file, to, true))
    else {
        return;
    };
    if start >= end {
        bad_hours(
            ctx,
            file,
            from.span.to(to.span),
            format!("{}-{} does not go forward in time", from.value, to.value),
            "the opening time must come before the closing time on the same day; use 24:00 for midnight",
        );
        return;
    }
    for d in a..=b {
        out.push((d, start, end));
    }
}

fn day(ctx: &mut Ctx<'_>, file: FileId, d: &ast::Ident) -> Option<u8> {
    if let Some(i) = DAYS.iter().position(|x| *x == d.name) {
        return Some(i as u8);
    }
    let help =
        did_you_mean(&d.name, DAYS).unwrap_or_else(|| format!("the days are: {}", DAYS.join(" ")));
    bad_hours(
        ctx,
        file,
        d.span,
        format!("`{}` is not a day", d.name),
        &help,
    );
    None
}

/// Minutes since midnight of `HH:MM`; `24:00` only as a closing time.
fn minute(ctx: &mut Ctx<'_>, file: FileId, t: &ast::StrLit, closing: bool) -> Option<u16> {
    let parsed = parse_hhmm(&t.value).filter(|&m| m < 24 * 60 || (closing && m == 24 * 60));
    if parsed.is_none() {
        bad_hours(
            ctx,
            file,
            t.span,
            format!("`{}` is not a time of day", t.value),
            "write times as HH:MM on a 24-hour clock, e.g. `09:00-17:30`",
        );
    }
    parsed
}

fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && h <= 24 && (h < 24 || m == 0)).then_some(h * 60 + m)
}

fn bad_hours(ctx: &mut Ctx<'_>, file: FileId, span: Span, message: String, help: &str) {
    ctx.error(
        Diag::new(Code::BadHours, message, span)
            .label("malformed hours")
            .help(help),
        file,
    );
}

/// `open(NAME)` names an `hours` item.
pub(crate) fn check_open(ctx: &mut Ctx<'_>, file: FileId, name: &ast::Ident) {
    if let Some(&id) = ctx.hours_ids.get(name.name.as_str()) {
        ctx.saw(super::resolve::Sym::Hours(id), file, name.span);
        return;
    }
    let help = did_you_mean(&name.name, ctx.hours_ids.keys().copied()).unwrap_or_else(|| {
        "define the hours with `hours NAME { zone \"...\"; mon-fri 09:00-17:00 }`".into()
    });
    ctx.error(
        Diag::new(
            Code::UnknownHours,
            format!("unknown hours `{}`", name.name),
            name.span,
        )
        .label("no `hours` item has this name")
        .help(help),
        file,
    );
}

#[cfg(test)]
mod tests {
    use super::parse_hhmm;

    #[test]
    fn times_parse_strictly() {
        assert_eq!(parse_hhmm("09:30"), Some(570));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("9:30"), None);
        assert_eq!(parse_hhmm("09:60"), None);
        assert_eq!(parse_hhmm("0a:00"), None);
        assert_eq!(parse_hhmm("+9:00"), None);
    }
}
