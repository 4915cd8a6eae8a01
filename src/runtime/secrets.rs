//! Where secrets come from, and keeping their values out of everything shown.
//!
//! - `{secret.NAME}` is read from [`EngineConfig::secrets`](super::EngineConfig::secrets) or,
//!   when that is `None`, from the environment variable `CHATFLOW_SECRET_NAME`: never from any
//!   other variable, so `{secret.HOME}` cannot send the machine's `HOME`.
//! - A secrets file (`--secrets FILE`) is in `.env` form: `NAME=value` lines, `#` comments,
//!   optional `export `, values optionally in single or double quotes.
//! - [`Masker`] replaces every known secret value by `***` in the events a turn produces, so an
//!   API that echoes a secret cannot show it to the visitor, a terminal, a trace or a stored
//!   transcript.

use std::collections::HashMap;

use super::sent::MASK;
use super::Event;

/// The prefix of the environment variables that hold secrets.
pub const SECRET_ENV_PREFIX: &str = "CHATFLOW_SECRET_";

/// Secret values shorter than this are not masked in free text: masking `a` would hide every
/// `a` of every message. They are still masked where the request was built (`***` in URLs).
const MIN_MASKED_LEN: usize = 4;

/// Every `CHATFLOW_SECRET_NAME` variable of the environment, by `NAME`.
pub fn secrets_from_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter_map(|(k, v)| Some((k.strip_prefix(SECRET_ENV_PREFIX)?.to_string(), v)))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// One secret from the environment: `CHATFLOW_SECRET_NAME`.
pub(crate) fn secret_from_env(name: &str) -> Option<String> {
    std::env::var(format!("{SECRET_ENV_PREFIX}{name}")).ok()
}

/// Reads a secrets file in `.env` form; a name may carry the `CHATFLOW_SECRET_` prefix or not.
/// The error names the line that is not `NAME=value`.
pub fn parse_secrets_file(text: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected NAME=value", i + 1));
        };
        let name = name.trim();
        let name = name.strip_prefix(SECRET_ENV_PREFIX).unwrap_or(name);
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!("line {}: `{name}` is not a secret name", i + 1));
        }
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
            .unwrap_or(value);
        out.insert(name.to_string(), unquoted.to_string());
    }
    Ok(out)
}

/// Replaces known secret values by `***`.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Values, longest first (so a secret containing another is masked whole).
    values: Vec<String>,
    /// The same values as they appear inside a JSON string.
    in_json: Vec<String>,
}

impl Masker {
    /// A masker for these values.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a String>) -> Masker {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|v| v.len() >= MIN_MASKED_LEN)
            .cloned()
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        let in_json = values
            .iter()
            .map(|v| {
                let quoted = serde_json::Value::String(v.clone()).to_string();
                quoted[1..quoted.len() - 1].to_string()
            })
            .collect();
        Masker { values, in_json }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every known secret value shown as `***`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }

    /// How much of `text`, a text still growing (a model's streamed answer), may be shown
    /// now: the longest start that ends inside no secret value, neither one that is whole
    /// nor one whose beginning ends the text and may be completed by what comes next. What is
    /// shown is masked with [`Masker::mask`]; what is held back is shown once it is known.
    pub fn settled_len(&self, text: &str) -> usize {
        let bytes = text.as_bytes();
        let mut end = text.len();
        // A value's beginning at the end of the text: hold it back from where it starts.
        for v in &self.values {
            let v = v.as_bytes();
            for k in (1..v.len().min(bytes.len() + 1)).rev() {
                if bytes.ends_with(&v[..k]) {
                    end = end.min(bytes.len() - k);
                    break;
                }
            }
        }
        // A whole value across the cut: cut before it; repeat, as that may cut another.
        loop {
            let inside = self.values.iter().find_map(|v| {
                text.match_indices(v.as_str())
                    .map(|(start, m)| (start, start + m.len()))
                    .find(|&(start, stop)| start < end && end < stop)
            });
            match inside {
                Some((start, _)) => end = start,
                None => return end,
            }
        }
    }

    /// Masks every string an event carries.
    pub fn mask_event(&self, event: &mut Event) {
        if self.is_empty() {
            return;
        }
        let Ok(json) = serde_json::to_string(event) else {
            return;
        };
        if !self.in_json.iter().any(|v| json.contains(v.as_str())) {
            return;
        }
        let mut masked = json;
        for v in &self.in_json {
            masked = masked.replace(v.as_str(), MASK);
        }
        if let Ok(e) = serde_json::from_str(&masked) {
            *event = e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_read_names_values_quotes_and_comments() {
        let text = "# secrets\nA_TOKEN=abc\nexport B = \"x y\"\nCHATFLOW_SECRET_C='q'\n\n";
        let map = parse_secrets_file(text).expect("valid");
        assert_eq!(map.get("A_TOKEN").map(String::as_str), Some("abc"));
        assert_eq!(map.get("B").map(String::as_str), Some("x y"));
        assert_eq!(map.get("C").map(String::as_str), Some("q"));
        assert!(parse_secrets_file("no equals sign").is_err());
        assert!(parse_secrets_file("bad name=1").is_err());
    }

    #[test]
    fn a_growing_text_is_settled_up_to_any_secret_it_may_be_writing() {
        let secrets = ["abcd".to_string(), "cdzz".to_string()];
        let m = Masker::new(&secrets);
        // Nothing secret: all of it.
        assert_eq!(m.settled_len("hello"), 5);
        // A beginning of `abcd` at the end waits for what follows.
        assert_eq!(m.settled_len("hi ab"), 3);
        // `abcd` is whole, but its `cd` may begin `cdzz`: the whole value waits.
        assert_eq!(m.settled_len("hi abcd"), 3);
        // Once the text moves on, everything is settled, and masking hides the value.
        assert_eq!(m.settled_len("hi abcd!"), 8);
        assert_eq!(m.mask(&"hi abcd!"[..8]), "hi ***!");
        // Short values are not masked in free text, so they hold nothing back.
        assert_eq!(Masker::new(&["ab".to_string()]).settled_len("xa"), 2);
    }

    #[test]
    fn masking_hides_values_in_text_and_events() {
        let secrets = ["s3cr3t\"x".to_string(), "ab".to_string()];
        let m = Masker::new(&secrets);
        assert_eq!(m.mask("key s3cr3t\"x, ab"), "key ***, ab");
        let mut e = Event::Say {
            text: "echo: s3cr3t\"x".into(),
        };
        m.mask_event(&mut e);
        assert_eq!(
            e,
            Event::Say {
                text: "echo: ***".into()
            }
        );
    }
}
