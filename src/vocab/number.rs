//! The language's number: a 64-bit integer while it is one, else a binary float shown in its
//! shortest decimal form; arithmetic runs in decimal.
//!
//! Why this split: integers (order ids, quantities, counters) must come back with every digit,
//! which an `f64` cannot promise above 2^53; decimals (prices, temperatures) must show as
//! written, which the shortest round-trip form of an `f64` does for up to 15 significant
//! digits. Arithmetic on anything but two integers is done in `rust_decimal` (28 digits) on the
//! decimal forms shown, so `0.1 + 0.2` is `0.3` and sums of prices never drift. Both forms are
//! plain JSON numbers, so the IR and stored sessions stay plain serde data.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// A number as the language sees it. Equality and order are numeric (`3 == 3.0`).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Number {
    /// A whole number in the 64-bit signed range; exact.
    Int(i64),
    /// Any other finite number.
    Float(f64),
}

/// Read as `#[serde(untagged)]` would (an integer in `i64` range is `Int`, any other number
/// `Float`) but straight from the number, without buffering and a failed attempt per value:
/// sessions are read back on every turn of `serve`.
impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        d.deserialize_any(NumberVisitor)
    }
}

struct NumberVisitor;

impl serde::de::Visitor<'_> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
        Ok(Number::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
        Ok(i64::try_from(v).map_or(Number::Float(v as f64), Number::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
        Ok(Number::Float(v))
    }
}

impl Number {
    /// Reads a number as written in a flow, a user's answer or a conversion: an integer in the
    /// 64-bit range stays exact; other forms (a decimal point, an exponent, a larger integer)
    /// become floats. `None` for anything else, and for infinities and NaN.
    pub fn parse(text: &str) -> Option<Number> {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        // Refuse words f64 would accept ("inf", "NaN").
        if !text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            return None;
        }
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Number::from_f64)
    }

    /// A float; whole floats in the exact integer range become integers. NaN and infinities
    /// are kept as floats (only [`Number::to_json`] and arithmetic look at them).
    pub fn from_f64(f: f64) -> Number {
        // Below 2^53 every whole float is exactly an integer.
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            Number::Int(f as i64)
        } else {
            Number::Float(f)
        }
    }

    /// The nearest float, for maths that has no exact form (rounding, formatting).
    pub fn to_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The integer value, when the number is whole and in the 64-bit range.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(f as i64),
            Number::Float(_) => None,
        }
    }

    /// A JSON number as the language reads it: every integer of `i64` exactly.
    pub fn from_json(n: &serde_json::Number) -> Option<Number> {
        match n.as_i64() {
            Some(i) => Some(Number::Int(i)),
            None => n.as_f64().filter(|f| f.is_finite()).map(Number::from_f64),
        }
    }

    /// As JSON: integers as JSON integers (`42`, every digit), other numbers as floats; NaN and
    /// infinities, which JSON lacks, as `null`.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Number::Int(i) => serde_json::Value::from(i),
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
        }
    }

    /// The decimal the number shows as; `None` beyond `rust_decimal`'s range.
    fn decimal(self) -> Option<Decimal> {
        match self {
            Number::Int(i) => Some(Decimal::from(i)),
            Number::Float(f) => Decimal::from_str(&self.to_string())
                .ok()
                .or_else(|| Decimal::from_f64_retain(f)),
        }
    }

    /// A decimal result as a number: whole results that fit become integers.
    fn from_decimal(d: Decimal) -> Number {
        let d = d.normalize();
        if d.scale() == 0 {
            if let Some(i) = d.to_i64() {
                return Number::Int(i);
            }
        }
        // `Display` then a correctly rounded parse: the nearest float to the decimal.
        d.to_string()
            .parse::<f64>()
            .map_or(Number::Float(f64::NAN), Number::from_f64)
    }

    /// Applies an operator: exactly on two integers, in decimal otherwise, in binary floating
    /// point only beyond the decimal range. `None` for division by zero and results that are
    /// not finite numbers.
    pub fn apply(self, op: ArithOp, other: Number) -> Option<Number> {
        if let (Number::Int(a), Number::Int(b)) = (self, other) {
            let exact = match op {
                ArithOp::Add => a.checked_add(b),
                ArithOp::Sub => a.checked_sub(b),
                ArithOp::Mul => a.checked_mul(b),
                ArithOp::Div if b != 0 && a % b == 0 => a.checked_div(b),
                ArithOp::Div => None,
                ArithOp::Rem => a.checked_rem(b),
            };
            if let Some(n) = exact {
                return Some(Number::Int(n));
            }
        }
        if other.to_f64() == 0.0 && matches!(op, ArithOp::Div | ArithOp::Rem) {
            return None;
        }
        if let (Some(a), Some(b)) = (self.decimal(), other.decimal()) {
            let d = match op {
                ArithOp::Add => a.checked_add(b),
                ArithOp::Sub => a.checked_sub(b),
                ArithOp::Mul => a.checked_mul(b),
                ArithOp::Div => a.checked_div(b),
                ArithOp::Rem => a.checked_rem(b),
            };
            if let Some(d) = d {
                return Some(Number::from_decimal(d));
            }
        }
        let (a, b) = (self.to_f64(), other.to_f64());
        let f = match op {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div => a / b,
            ArithOp::Rem => a % b,
        };
        f.is_finite().then(|| Number::from_f64(f))
    }

    /// Rounds to `digits` decimal places, halves away from zero (`round(2.675, 2)` is `2.68`,
    /// as on a receipt). `None` for a negative or larger than 28 `digits`.
    pub fn round(self, digits: i64) -> Option<Number> {
        let digits = u32::try_from(digits).ok().filter(|d| *d <= 28)?;
        match (self, self.decimal()) {
            (Number::Int(_), _) => Some(self),
            (_, Some(d)) => Some(Number::from_decimal(
                d.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero),
            )),
            (Number::Float(f), None) => Some(Number::Float(f)),
        }
    }
}

/// The arithmetic operators, in the language's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl ArithOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }

    /// Binding strength: `*`, `/` and `%` bind tighter than `+` and `-`.
    pub fn precedence(self) -> u8 {
        match self {
            ArithOp::Add | ArithOp::Sub => 1,
            ArithOp::Mul | ArithOp::Div | ArithOp::Rem => 2,
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::Int(i)
    }
}

impl From<u16> for Number {
    fn from(i: u16) -> Number {
        Number::Int(i64::from(i))
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        match (*self, *other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            // A whole float in range compares as the integer it is, so large ids stay exact.
            (Number::Int(a), Number::Float(_)) => match other.as_i64() {
                Some(b) => Some(a.cmp(&b)),
                None => (a as f64).partial_cmp(&other.to_f64()),
            },
            (Number::Float(_), Number::Int(_)) => other.partial_cmp(self).map(Ordering::reverse),
            (Number::Float(a), Number::Float(b)) => a.partial_cmp(&b),
        }
    }
}

/// The shortest decimal form that reads back as the same number, without exponent and without
/// a trailing `.0` (`24`, `3.5`, `-2`, `0.1`, `9007199254740993`). `-0` is `0`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(0.0) => f.write_str("0"),
            // Rust's `Display` for f64 is the shortest round-trip form, never in exponent form.
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ArithOp, Number};

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap_or_else(|| panic!("{text} is a number"))
    }

    fn calc(a: &str, op: ArithOp, b: &str) -> String {
        n(a).apply(op, n(b))
            .map_or("unset".into(), |r| r.to_string())
    }

    #[test]
    fn integers_keep_every_digit() {
        for text in [
            "9007199254740993",
            "-9223372036854775808",
            "9223372036854775807",
        ] {
            assert_eq!(n(text).to_string(), text);
            assert_eq!(n(text).to_json().to_string(), text);
        }
        let json: serde_json::Value = serde_json::from_str("9007199254740993").unwrap();
        let from_json = json.as_number().and_then(Number::from_json).unwrap();
        assert_eq!(from_json.to_string(), "9007199254740993");
        // Stored and read back (sessions, IR) without a trip through f64.
        let stored = serde_json::to_string(&from_json).unwrap();
        let back: Number = serde_json::from_str(&stored).unwrap();
        assert_eq!(back.to_string(), "9007199254740993");
    }

    #[test]
    fn decimals_show_as_written() {
        for text in [
            "3.5",
            "0.1",
            "19.99",
            "-2.25",
            "123456789012.5",
            "0.0000001",
        ] {
            assert_eq!(n(text).to_string(), text);
        }
        assert_eq!(n("24.0").to_string(), "24");
        assert_eq!(n("-0.0").to_string(), "0");
        assert_eq!(Number::parse("inf"), None);
        assert_eq!(Number::parse("NaN"), None);
        assert_eq!(Number::parse("12abc"), None);
    }

    #[test]
    fn arithmetic_is_exact_on_integers_and_decimal_otherwise() {
        assert_eq!(calc("0.1", ArithOp::Add, "0.2"), "0.3");
        assert_eq!(calc("19.99", ArithOp::Mul, "3"), "59.97");
        assert_eq!(
            calc("9007199254740993", ArithOp::Add, "1"),
            "9007199254740994"
        );
        assert_eq!(calc("7", ArithOp::Rem, "3"), "1");
        assert_eq!(calc("7", ArithOp::Div, "2"), "3.5");
        assert_eq!(calc("6", ArithOp::Div, "3"), "2");
        assert_eq!(calc("0.3", ArithOp::Sub, "0.1"), "0.2");
        assert_eq!(calc("1", ArithOp::Div, "0"), "unset");
        assert_eq!(calc("1.5", ArithOp::Rem, "0"), "unset");
        // Past the 64-bit range the sum is a float: right to 16 digits, not a wrapped integer.
        assert_eq!(
            calc("9223372036854775807", ArithOp::Add, "1"),
            "9223372036854776000"
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(n("3"), n("3.0"));
        assert!(n("2.5") < n("3"));
        assert!(n("9007199254740993") > n("9007199254740992"));
        assert_ne!(n("9007199254740993"), Number::Float(9007199254740992.0));
    }

    #[test]
    fn round_halves_away_from_zero() {
        assert_eq!(
            n("2.675").round(2).map(|r| r.to_string()),
            Some("2.68".into())
        );
        assert_eq!(n("-2.5").round(0).map(|r| r.to_string()), Some("-3".into()));
        assert_eq!(n("42").round(2).map(|r| r.to_string()), Some("42".into()));
        assert_eq!(n("1.5").round(-1), None);
    }
}
