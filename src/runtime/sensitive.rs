//! `sensitive` attributes (`ask pin sensitive`, `set x sensitive = ...`, `save x sensitive = ...`):
//! the value lives only for the turn it was given in. When a turn ends the runtime
//!
//! - replaces the value's text (and its URL-encoded form) with `***` in every string of the
//!   turn's events (what the bot says, API URLs, refused answers), and the visitor's answer to a
//!   sensitive `ask` or `form` field too, even a refused one;
//! - unsets the attribute, so no session — stored by `serve`, kept by an embedder, checked by a
//!   test — holds it after the turn, and masks `sys.last_message` when it was such an answer.
//!
//! Within the turn the flow uses the value as any other (conditions, API requests: the request
//! sent carries it). See `docs/language.md#sensitive-attributes`.

use percent_encoding::utf8_percent_encode;
use serde_json::Value as Json;

use super::eval::Val;
use super::http::URL_VALUE;
use super::{Event, Session};
use crate::ir::{Program, Stmt, SysAttr, Value};

/// What a sensitive value is replaced with.
pub const MASK: &str = "***";

/// Whether `program` has any sensitive attribute (else a turn's end has nothing to do).
pub(super) fn any(program: &Program) -> bool {
    program.attrs.iter().any(|a| a.sensitive)
}

/// Whether the statement `s` waits at takes its answer into a sensitive attribute.
pub(super) fn awaits(program: &Program, s: &Session) -> bool {
    let waiting =
        s.pc.checked_sub(1)
            .and_then(|i| program.nodes.get(s.node as usize)?.stmts.get(i as usize));
    let sensitive = |attr: u32| {
        program
            .attrs
            .get(attr as usize)
            .is_some_and(|a| a.sensitive)
    };
    match waiting {
        Some(Stmt::Ask { attr, .. }) => sensitive(*attr),
        Some(Stmt::Form(form)) => form.fields.iter().any(|f| sensitive(f.attr)),
        _ => false,
    }
}

/// Ends a turn for sensitive attributes: masks their values (and `answer`, the visitor's
/// answer to a sensitive question, when given) in `events`, then unsets them.
pub(super) fn forget(
    program: &Program,
    s: &mut Session,
    answer: Option<&str>,
    events: &mut [Event],
) {
    let mut masks: Vec<String> = Vec::new();
    for (i, info) in program.attrs.iter().enumerate() {
        if !info.sensitive {
            continue;
        }
        if let Some(value) = s.attrs.get_mut(i).and_then(Option::take) {
            masks.extend(text_of(&value));
        }
    }
    if let Some(answer) = answer {
        masks.push(answer.to_string());
        masks.push(answer.trim().to_string());
        s.set_sys(SysAttr::LastMessage, MASK.to_string());
    }
    masks.retain(|m| !m.is_empty() && m != MASK);
    let encoded: Vec<String> = masks
        .iter()
        .map(|m| utf8_percent_encode(m, URL_VALUE).to_string())
        .collect();
    masks.extend(encoded);
    if masks.is_empty() {
        return;
    }
    // Longest first, so a value is masked whole before a shorter one inside it.
    masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
    masks.dedup();
    if let Some(Value::Text(last)) = s.sys.get(SysAttr::LastMessage.name()) {
        if masks.iter().any(|m| last.contains(m.as_str())) {
            s.set_sys(SysAttr::LastMessage, MASK.to_string());
        }
    }
    for event in events.iter_mut() {
        mask_event(event, &masks);
    }
}

/// The text a value shows as in templates (compact JSON for lists and maps). A boolean
/// is not masked: `true` and `false` would mask every such word.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::Bool(_) => None,
        other => Val::of(Some(other)).as_text().map(|t| t.into_owned()),
    }
}

fn mask_event(event: &mut Event, masks: &[String]) {
    let Ok(mut json) = serde_json::to_value(&*event) else {
        return;
    };
    if !mask_json(&mut json, masks) {
        return;
    }
    if let Ok(masked) = serde_json::from_value(json) {
        *event = masked;
    }
}

/// Masks every string inside `json`; `true` when anything changed.
fn mask_json(json: &mut Json, masks: &[String]) -> bool {
    match json {
        Json::String(text) => {
            let mut changed = false;
            for m in masks {
                if text.contains(m.as_str()) {
                    *text = text.replace(m.as_str(), MASK);
                    changed = true;
                }
            }
            changed
        }
        Json::Array(items) => items.iter_mut().fold(false, |c, j| mask_json(j, masks) | c),
        Json::Object(map) => map.values_mut().fold(false, |c, j| mask_json(j, masks) | c),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_masked_longest_first_everywhere_in_an_event() {
        // As `forget` orders them: longest first.
        let masks = vec!["12%2034".to_string(), "12 34".to_string(), "12".to_string()];
        let mut event = Event::ApiCall {
            api: "a".into(),
            method: "GET".into(),
            url: "https://x.test/?pin=12%2034".into(),
            status: 200,
            error: None,
            latency_ms: 1,
            attempts: 1,
        };
        mask_event(&mut event, &masks);
        assert!(matches!(&event, Event::ApiCall { url, .. } if url == "https://x.test/?pin=***"));
        let mut say = Event::Say {
            text: "PIN 12 34, again 12".into(),
        };
        mask_event(&mut say, &masks);
        assert_eq!(
            say,
            Event::Say {
                text: "PIN ***, again ***".into()
            }
        );
    }
}
