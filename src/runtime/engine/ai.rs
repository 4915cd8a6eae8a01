//! Brain AI: the `ai` statements. A request to an OpenAI-compatible chat-completions API built
//! from the conversation so far, sent through the same connector as every `call` (address
//! guard, secrets, size cap, retries, redirects, per-turn limits), and the model's text read
//! from its answer.
//!
//! - The request: `{"model": M, "messages": [system, transcript..., prompt], "max_tokens": N}`,
//!   `Authorization: Bearer KEY` from the `ai`'s `key`.
//! - The transcript is the session's [`Said`] lines: the visitor's messages (never an answer to
//!   a `sensitive` question) and what the bot said, after secrets and sensitive values were
//!   masked, at most [`TRANSCRIPT_LINES`] lines of at most [`LINE_BYTES`] bytes each; the
//!   newest lines that fit in [`TRANSCRIPT_BYTES`] are sent.
//! - An answer is the text of `choices[0].message.content`. A 2xx answer without it counts as
//!   no answer: `status` 0 and `sys.api_error` = `bad_answer`.
//! - In a streamed turn ([`Engine::step_streamed`]) a reply (not `ask ... save`) is asked with
//!   `"stream": true` and read as server-sent events ([`crate::runtime::stream`]); a model that
//!   answers with one JSON body anyway is read as above.

use serde::{Deserialize, Serialize};

use super::{Called, Engine};
use crate::ir::JsonTemplate as J;
use crate::ir::{AiModel, ApiId, Number, RequestBody, SysAttr, Template, TemplatePart, Text};
use crate::runtime::http::StreamReader;
use crate::runtime::stream::ReplyReader;
use crate::runtime::{Event, Session};

/// The most lines of the conversation a session keeps for its `ai` statements.
pub const TRANSCRIPT_LINES: usize = 20;
/// The longest line kept, in bytes; a longer message is cut (at a character boundary).
pub const LINE_BYTES: usize = 1000;
/// The most bytes of transcript sent with one request: the newest lines that fit.
pub const TRANSCRIPT_BYTES: usize = 6000;

/// Who said a line of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The visitor (the model's `user`).
    Visitor,
    /// The bot (the model's `assistant`).
    Bot,
}

/// One line of the conversation, as the `ai` statements send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Said {
    /// Who said it.
    pub by: Speaker,
    /// What was said, at most [`LINE_BYTES`] bytes.
    pub text: String,
}

/// Adds a line to the session's transcript, dropping the oldest beyond [`TRANSCRIPT_LINES`].
pub(super) fn remember(s: &mut Session, by: Speaker, text: &str) {
    let mut end = text.len().min(LINE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    s.transcript.push(Said {
        by,
        text: text[..end].to_string(),
    });
    let extra = s.transcript.len().saturating_sub(TRANSCRIPT_LINES);
    s.transcript.drain(..extra);
}

/// The newest lines whose text fits in [`TRANSCRIPT_BYTES`], oldest first.
fn recent(s: &Session) -> &[Said] {
    let mut bytes = 0;
    let mut first = s.transcript.len();
    for (i, line) in s.transcript.iter().enumerate().rev() {
        bytes += line.text.len();
        if bytes > TRANSCRIPT_BYTES {
            break;
        }
        first = i;
    }
    &s.transcript[first..]
}

fn literal(text: &str) -> J {
    J::String(Template {
        parts: vec![TemplatePart::Text(text.to_string())],
    })
}

fn message(role: &str, content: J) -> J {
    J::Object(vec![
        ("role".to_string(), literal(role)),
        ("content".to_string(), content),
    ])
}

impl Engine {
    /// The chat-completions body for `model`: its system message, the recent transcript and,
    /// for `ask AI "prompt"`, the prompt as the last user message; `"stream": true` when
    /// `stream`. Visitor text is literal (never a template) and the system message and prompt
    /// are rendered templates, so serde_json escapes everything that goes in.
    pub(super) fn chat_body(
        &self,
        s: &Session,
        model: &AiModel,
        prompt: Option<&Text>,
        stream: bool,
    ) -> RequestBody {
        let scope = self.scope(s);
        let mut messages = Vec::new();
        if let Some(system) = &model.system {
            messages.push(message("system", literal(&scope.render_text(system))));
        }
        for line in recent(s) {
            let role = match line.by {
                Speaker::Visitor => "user",
                Speaker::Bot => "assistant",
            };
            messages.push(message(role, literal(&line.text)));
        }
        if let Some(prompt) = prompt {
            messages.push(message("user", literal(&scope.render_text(prompt))));
        }
        let mut fields = vec![
            ("model".to_string(), literal(&model.model)),
            ("messages".to_string(), J::Array(messages)),
        ];
        if let Some(max) = model.max_tokens {
            fields.push((
                "max_tokens".to_string(),
                J::Number(Number::Int(i64::from(max))),
            ));
        }
        if stream {
            fields.push(("stream".to_string(), J::Bool(true)));
        }
        RequestBody::Json(J::Object(fields))
    }

    /// Ask the `ai` `api` (with `prompt` after the conversation, for `ask`): sets `status` and
    /// `sys.api_error` like a `call`, and gives the model's text when it answered with one.
    pub(super) async fn ask_model(
        &self,
        s: &mut Session,
        api: ApiId,
        prompt: Option<&Text>,
    ) -> (Event, Option<String>) {
        let Some(model) = self
            .inner
            .program
            .apis
            .get(api as usize)
            .and_then(|a| a.ai.as_ref())
        else {
            let message = format!("API id {api} is not an `ai`");
            return (Event::RuntimeError { message }, None);
        };
        // Only a reply is streamed: `ask ... save` fills an attribute nobody sees grow.
        let stream = s.turn.stream.clone().filter(|_| prompt.is_none());
        let masker = &self.inner.masker;
        let mut reader = stream.as_ref().map(|st| ReplyReader::new(st, masker));
        let body = self.chat_body(s, model, prompt, reader.is_some());
        let Called {
            mut event, body, ..
        } = self
            .send_call(
                s,
                api,
                None,
                Some(&body),
                reader.as_mut().map(|r| r as &mut dyn StreamReader),
            )
            .await;
        let streamed = reader.as_ref().is_some_and(ReplyReader::was_streamed);
        if let Some(reader) = reader.as_mut().filter(|_| !streamed) {
            // Stopped mid-stream (a timeout just stops reading) or answered otherwise.
            reader.fail();
        }
        let status = s.status.unwrap_or(0);
        if !(200..300).contains(&status) {
            return (event, None);
        }
        let text = match &reader {
            Some(reader) if streamed => reader.answer(),
            _ => body.as_deref().and_then(answer_text),
        };
        match text {
            Some(text) => (event, Some(text)),
            None => {
                s.status = Some(0);
                s.set_sys(SysAttr::ApiError, "bad_answer".into());
                if let Event::ApiCall { status, error, .. } = &mut event {
                    *status = 0;
                    *error = Some("bad_answer".into());
                }
                (event, None)
            }
        }
    }
}

/// `choices[0].message.content` of a chat-completions answer, trimmed; `None` when absent or
/// empty.
pub(crate) fn answer_text(body: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = json
        .get("choices")?
        .get(0)?
        .get("message")?
        .get("content")?
        .as_str()?
        .trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The answer a stub gives for `ai` text (`stub brain 200 "Hello"`): a chat completion.
pub fn completion_json(text: &str) -> serde_json::Value {
    serde_json::json!({
        "object": "chat.completion",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop"
        }]
    })
}
