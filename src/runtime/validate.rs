//! Checks and normalises answers to `ask ... as KIND`.
//!
//! - `text`: any answer that is not blank; stored trimmed.
//! - `name`: letters (any script), spaces, `'`, `-`, `.`, with at least one letter.
//! - `email`: `local@domain.tld` without spaces, one `@`, a dotted domain, a TLD of 2+ letters.
//! - `phone`: digits with an optional leading `+`, spaces, dashes, dots and parentheses; 7 to 15
//!   digits. Stored trimmed, as typed.
//! - `number`: a decimal number after trimming (`42`, `-3.5`, `1e3`); commas are accepted only as
//!   thousands separators in groups of three (`1,234.5`). Stored as a number.
//! - `date`: `2026-11-25`, `25/11/2026` (day first; `11/25/2026` is read month first only because
//!   25 cannot be a month), `25.11.2026`,
//!   `25-11-2026`, `25 Nov 2026`, `November 25, 2026`, `Nov 25 2026`. Stored as `YYYY-MM-DD` text.
//! - `time`: `14:30`, `14:30:15`, `2:30 pm`, `2pm`, `2 PM`, `9 a.m.`, `12am`. Stored as `HH:MM` text.

use chrono::NaiveDate;

use crate::ir::{AskKind, Message, Number, Value};

/// The stored value for a valid answer, `None` for an answer the kind refuses.
pub fn validate(kind: AskKind, answer: &str) -> Option<Value> {
    let a = answer.trim();
    if a.is_empty() {
        return None;
    }
    let text = || Some(Value::Text(a.to_string()));
    match kind {
        AskKind::Text | AskKind::Question => text(),
        AskKind::File => is_upload_url(a).then(text).flatten(),
        AskKind::Name => is_name(a).then(text).flatten(),
        AskKind::Email => is_email(a).then(text).flatten(),
        AskKind::Phone => is_phone(a).then(text).flatten(),
        AskKind::Number => parse_number(a).map(Value::Number),
        AskKind::Date => parse_date(a).map(|d| Value::Text(d.format("%Y-%m-%d").to_string())),
        AskKind::Time => parse_time(a).map(|(h, m)| Value::Text(format!("{h:02}:{m:02}"))),
    }
}

/// The built-in message said after a refused answer.
pub fn reprompt(kind: AskKind) -> Message {
    match kind {
        AskKind::Text | AskKind::Question => Message::InvalidText,
        AskKind::File => Message::InvalidFile,
        AskKind::Name => Message::InvalidName,
        AskKind::Email => Message::InvalidEmail,
        AskKind::Phone => Message::InvalidPhone,
        AskKind::Number => Message::InvalidNumber,
        AskKind::Date => Message::InvalidDate,
        AskKind::Time => Message::InvalidTime,
    }
}

/// The name a flow uses for the kind (`number`, `email`, ...).
pub fn kind_name(kind: AskKind) -> &'static str {
    AskKind::ALL
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("text", |(n, _)| n)
}

fn is_upload_url(a: &str) -> bool {
    url::Url::parse(a).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn is_name(a: &str) -> bool {
    a.chars().any(char::is_alphabetic)
        && a.chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '-' | '.' | '’'))
}

fn is_email(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    if local.is_empty()
        || domain.contains('@')
        || a.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.chars().count() >= 2 && t.chars().all(char::is_alphabetic));
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

fn is_phone(a: &str) -> bool {
    let body = a.strip_prefix('+').unwrap_or(a);
    let allowed = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
    let digits = body.chars().filter(char::is_ascii_digit).count();
    allowed && (7..=15).contains(&digits)
}

fn parse_number(a: &str) -> Option<Number> {
    let plain = if a.contains(',') {
        strip_thousands(a)?
    } else {
        a.to_string()
    };
    Number::parse(&plain)
}

/// `1,234,567.5` -> `1234567.5`; `None` when the commas are not thousands separators.
fn strip_thousands(a: &str) -> Option<String> {
    let (sign, rest) = match a.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", a),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let groups: Vec<&str> = int.split(',').collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    if !first_ok || !rest_ok {
        return None;
    }
    let mut out = format!("{sign}{}", groups.concat());
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_from_word(w: &str) -> Option<u32> {
    let w = w.trim_end_matches('.').to_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&w))
        .map(|i| i as u32 + 1)
}

fn parse_date(a: &str) -> Option<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(a, "%Y-%m-%d") {
        return Some(d);
    }
    numeric_date(a).or_else(|| worded_date(a))
}

/// `25/11/2026`, `11/25/2026`, `25.11.2026`, `25-11-2026`: day first unless impossible.
fn numeric_date(a: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = a.split(['/', '.', '-']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let (x, y): (u32, u32) = (parts[0].parse().ok()?, parts[1].parse().ok()?);
    if parts[2].len() != 4 {
        return None;
    }
    let year: i32 = parts[2].parse().ok()?;
    NaiveDate::from_ymd_opt(year, y, x).or_else(|| NaiveDate::from_ymd_opt(year, x, y))
}

/// `25 Nov 2026`, `November 25, 2026`, `Nov 25 2026`, `25 November, 2026`.
fn worded_date(a: &str) -> Option<NaiveDate> {
    let cleaned = a.replace(',', " ");
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.len() != 3 {
        return None;
    }
    let year: i32 = words[2].parse().ok().filter(|_| words[2].len() == 4)?;
    let day_of = |w: &str| -> Option<u32> {
        let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic()); // 25th
        digits.parse().ok()
    };
    let (day, month) = match (month_from_word(words[0]), month_from_word(words[1])) {
        (Some(m), None) => (day_of(words[1])?, m),
        (None, Some(m)) => (day_of(words[0])?, m),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// `(hour, minute)` for `14:30`, `14:30:15`, `2:30 pm`, `2pm`.
fn parse_time(a: &str) -> Option<(u32, u32)> {
    let lower = a
        .to_ascii_lowercase()
        .replace("a.m.", "am")
        .replace("p.m.", "pm");
    let (clock, meridiem) = if let Some(c) = lower.strip_suffix("am") {
        (c.trim_end(), Some(false))
    } else if let Some(c) = lower.strip_suffix("pm") {
        (c.trim_end(), Some(true))
    } else {
        (lower.as_str(), None)
    };
    let clock = clock.trim_end_matches('.').trim_end();
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let hour: u32 = parts[0].parse().ok()?;
    let minute: u32 = match parts.get(1) {
        Some(m) if m.len() == 2 => m.parse().ok()?,
        Some(_) => return None,
        None if meridiem.is_some() => 0,
        None => return None, // a bare "14" is too ambiguous
    };
    if let Some(s) = parts.get(2) {
        let sec: u32 = s.parse().ok()?;
        if s.len() != 2 || sec > 59 {
            return None;
        }
    }
    if minute > 59 {
        return None;
    }
    let hour = match meridiem {
        None if hour <= 23 => hour,
        Some(pm) if (1..=12).contains(&hour) => (hour % 12) + if pm { 12 } else { 0 },
        _ => return None,
    };
    Some((hour, minute))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(kind: AskKind, a: &str) -> Option<Value> {
        validate(kind, a)
    }
    fn text(s: &str) -> Option<Value> {
        Some(Value::Text(s.into()))
    }

    #[test]
    fn numbers() {
        let num = |f: f64| Some(Value::Number(Number::from_f64(f)));
        assert_eq!(ok(AskKind::Number, " 42 "), num(42.0));
        assert_eq!(ok(AskKind::Number, "1,234.5"), num(1234.5));
        assert_eq!(ok(AskKind::Number, "-3.5"), num(-3.5));
        // Every digit of a long integer is kept.
        assert_eq!(
            ok(AskKind::Number, "9007199254740993"),
            Some(Value::Number(Number::Int(9007199254740993)))
        );
        for bad in ["12,34", "abc", "inf", "NaN", "", "1.2.3"] {
            assert_eq!(ok(AskKind::Number, bad), None, "{bad}");
        }
    }

    #[test]
    fn dates() {
        for good in [
            "2026-11-25",
            "25/11/2026",
            "11/25/2026",
            "25 Nov 2026",
            "November 25, 2026",
            "25.11.2026",
        ] {
            assert_eq!(ok(AskKind::Date, good), text("2026-11-25"), "{good}");
        }
        assert_eq!(
            ok(AskKind::Date, "03/04/2026"),
            text("2026-04-03"),
            "day first"
        );
        for bad in ["2026-02-30", "tomorrow", "32/13/2026", "25/11/26"] {
            assert_eq!(ok(AskKind::Date, bad), None, "{bad}");
        }
    }

    #[test]
    fn times() {
        for (a, want) in [
            ("14:30", "14:30"),
            ("2:30 pm", "14:30"),
            ("2pm", "14:00"),
            ("14:30:15", "14:30"),
            ("12am", "00:00"),
            ("12 PM", "12:00"),
            ("9 a.m.", "09:00"),
        ] {
            assert_eq!(ok(AskKind::Time, a), text(want), "{a}");
        }
        for bad in ["25:00", "13pm", "14", "noon", "14:7"] {
            assert_eq!(ok(AskKind::Time, bad), None, "{bad}");
        }
    }

    #[test]
    fn emails_phones_names() {
        assert!(ok(AskKind::Email, "ana@example.com").is_some());
        for bad in [
            "ana",
            "ana@",
            "@x.com",
            "ana@localhost",
            "a b@x.com",
            "ana@x.c0",
        ] {
            assert_eq!(ok(AskKind::Email, bad), None, "{bad}");
        }
        assert!(ok(AskKind::Phone, "+1 (555) 123-4567").is_some());
        for bad in ["12345", "call me", "+1 555 123 4567 8901 23"] {
            assert_eq!(ok(AskKind::Phone, bad), None, "{bad}");
        }
        assert!(ok(AskKind::Name, "Mary-Jane O'Neil").is_some());
        assert!(ok(AskKind::Name, "José").is_some());
        assert_eq!(ok(AskKind::Name, "R2D2"), None);
        assert_eq!(ok(AskKind::Text, "   "), None);
    }
}
