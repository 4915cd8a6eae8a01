//! What the loopback test servers of the `it` and `security` test crates record of a request,
//! and the API calls a turn reports: one file included by both crates with `#[path]`.

use chatflow::runtime::Event;

/// One request as the server received it.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub method: String,
    /// Path and query exactly as sent on the wire (`/v1/a%2E%2E?q=1`).
    pub target: String,
    /// Header names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    /// The value of the first header called `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The whole request as text, for "does the secret appear anywhere".
    pub fn text(&self) -> String {
        let mut out = format!("{} {}\n", self.method, self.target);
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\n"));
        }
        out.push_str(&String::from_utf8_lossy(&self.body));
        out
    }
}

/// Every `ApiCall` event: (url, status, error, attempts).
pub fn calls(events: &[Event]) -> Vec<(String, u16, Option<String>, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ApiCall {
                url,
                status,
                error,
                attempts,
                ..
            } => Some((url.clone(), *status, error.clone(), *attempts)),
            _ => None,
        })
        .collect()
}
