//! A model's reply streamed while it arrives: what `serve` sends the web chat before a turn
//! ends (docs/web-chat.md).
//!
//! [`Engine::step_streamed`](super::Engine::step_streamed) runs a turn like `step`; each
//! `reply with` (and `fallback reply with`) of that turn asks the model with
//! `"stream": true` and reads its server-sent events (`data: {"choices": [{"delta":
//! {"content": ...}}]}` up to `data: [DONE]`) through the same connector as any call: address
//! guard, redirects, secrets, the answer size cap over the bytes of the whole stream, the
//! call's deadline over the whole stream. Each piece of text read goes to the [`ReplyStream`]
//! as a [`Streamed::Delta`], with known secret values masked (text that may be the
//! beginning of one waits until it is known). The turn's events are what they would be
//! without streaming: one `say` with the whole text, or the failure branch's.
//!
//! A stream that fails after text was sent (dropped connection, timeout, a malformed event,
//! over the size cap) sends [`Streamed::Retract`] for it and the call fails like an unstreamed
//! one: `status` 0 with `sys.api_error` `other`, `timeout`, `bad_answer` or `too_large`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc;

use super::http::StreamReader;
use super::secrets::Masker;
use super::sse::SseDecoder;

/// What a streamed turn sends while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Streamed {
    /// More text of the model's reply number `reply` (counted from 0 in the turn).
    Delta {
        /// Which reply of the turn.
        reply: u32,
        /// The text that follows what was sent before.
        text: String,
    },
    /// The reply failed (or is read again from its start): forget its text so far.
    Retract {
        /// Which reply of the turn.
        reply: u32,
    },
}

/// Where a turn's streamed replies go. Cheap to clone; sending never waits, and what a
/// hung-up receiver misses is dropped (the turn goes on and is stored as usual). The channel
/// is unbounded, but what one reply sends is bounded by the answer size cap.
#[derive(Debug, Clone)]
pub struct ReplyStream {
    tx: mpsc::UnboundedSender<Streamed>,
    next: Arc<AtomicU32>,
}

impl ReplyStream {
    /// A stream and its receiving end.
    pub fn new() -> (ReplyStream, mpsc::UnboundedReceiver<Streamed>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let stream = ReplyStream {
            tx,
            next: Arc::default(),
        };
        (stream, rx)
    }

    /// Retracts every reply sent so far (the turn is run again from its start).
    pub fn retract_all(&self) {
        for reply in 0..self.next.load(Ordering::Relaxed) {
            self.send(Streamed::Retract { reply });
        }
    }

    /// The number of the turn's next reply.
    fn open(&self) -> u32 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    fn send(&self, item: Streamed) {
        let _ = self.tx.send(item);
    }
}

/// Reads one reply's event stream: keeps its text, and sends what is settled as deltas.
pub(crate) struct ReplyReader<'a> {
    stream: ReplyStream,
    masker: &'a Masker,
    reply: u32,
    sse: SseDecoder,
    events: Vec<String>,
    /// The model's text so far.
    text: String,
    /// Bytes of `text` (after its leading white space) sent as deltas.
    sent: usize,
    /// `[DONE]` or a `finish_reason` was read.
    finished: bool,
    /// The stream ended well: `text` is the whole answer.
    complete: bool,
}

impl<'a> ReplyReader<'a> {
    pub(crate) fn new(stream: &ReplyStream, masker: &'a Masker) -> ReplyReader<'a> {
        ReplyReader {
            reply: stream.open(),
            stream: stream.clone(),
            masker,
            sse: SseDecoder::default(),
            events: Vec::new(),
            text: String::new(),
            sent: 0,
            finished: false,
            complete: false,
        }
    }

    /// The whole answer, trimmed, when the stream ended well and held text.
    pub(crate) fn answer(&self) -> Option<String> {
        let text = self.text.trim();
        (self.complete && !text.is_empty()).then(|| text.to_string())
    }

    /// Whether an answer arrived as a stream (rather than as one JSON body).
    pub(crate) fn was_streamed(&self) -> bool {
        self.complete
    }

    /// The reply failed (however: the connector may also just stop reading, at a timeout):
    /// what was sent of it is retracted.
    pub(crate) fn fail(&mut self) {
        self.retract();
        self.complete = false;
    }

    /// Forgets what was sent, on the receiver's side too.
    fn retract(&mut self) {
        if self.sent > 0 {
            self.stream.send(Streamed::Retract { reply: self.reply });
        }
        self.sent = 0;
    }

    /// Sends the settled text not sent yet (all of it when `all`), masked.
    fn send_settled(&mut self, all: bool) {
        let shown = self.text.trim_start();
        let rest = &shown[self.sent..];
        let end = if all {
            rest.len()
        } else {
            self.masker.settled_len(rest)
        };
        if end == 0 {
            return;
        }
        let text = self.masker.mask(&rest[..end]);
        self.sent += end;
        self.stream.send(Streamed::Delta {
            reply: self.reply,
            text,
        });
    }

    /// One event's data: a chunk of the completion, or `[DONE]`.
    fn read_event(&mut self, data: &str) -> Result<(), &'static str> {
        if data == "[DONE]" {
            self.finished = true;
            return Ok(());
        }
        let json: serde_json::Value = serde_json::from_str(data).map_err(|_| "bad_answer")?;
        if json.get("error").is_some() {
            return Err("bad_answer");
        }
        // A chunk without choices (usage figures) carries no text.
        let Some(choice) = json.get("choices").and_then(|c| c.get(0)) else {
            return Ok(());
        };
        if let Some(text) = choice.pointer("/delta/content").and_then(|c| c.as_str()) {
            self.text.push_str(text);
        }
        if choice.get("finish_reason").is_some_and(|r| !r.is_null()) {
            self.finished = true;
        }
        Ok(())
    }
}

impl StreamReader for ReplyReader<'_> {
    fn begin(&mut self) {
        self.retract();
        self.sse = SseDecoder::default();
        self.text.clear();
        self.finished = false;
        self.complete = false;
    }

    fn chunk(&mut self, bytes: &[u8]) -> Result<(), &'static str> {
        let mut events = std::mem::take(&mut self.events);
        let read = self.sse.feed(bytes, &mut events);
        let result = read
            .map_err(|_| "bad_answer")
            .and_then(|()| events.drain(..).try_for_each(|data| self.read_event(&data)));
        self.events = events;
        self.events.clear();
        match result {
            Ok(()) => {
                self.send_settled(false);
                Ok(())
            }
            Err(code) => {
                self.fail();
                Err(code)
            }
        }
    }

    fn end(&mut self) -> Result<(), &'static str> {
        // A stream cut short without an error (the connection closed cleanly) lacks its end.
        if !self.finished {
            self.fail();
            return Err("bad_answer");
        }
        self.send_settled(true);
        self.complete = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str) -> String {
        let json = serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]});
        format!("data: {json}\n\n")
    }

    fn drain(rx: &mut mpsc::UnboundedReceiver<Streamed>) -> Vec<Streamed> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    #[test]
    fn deltas_follow_the_stream_and_the_answer_is_the_whole_text() {
        let (stream, mut rx) = ReplyStream::new();
        let masker = Masker::default();
        let mut r = ReplyReader::new(&stream, &masker);
        r.begin();
        let role = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n";
        r.chunk(format!("{role}{}", chunk("  Hel")).as_bytes())
            .unwrap();
        r.chunk(chunk("lo").as_bytes()).unwrap();
        let last = "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
        r.chunk(last.as_bytes()).unwrap();
        r.chunk(b"data: [DONE]\n\n").unwrap();
        r.end().unwrap();
        let delta = |t: &str| Streamed::Delta {
            reply: 0,
            text: t.into(),
        };
        assert_eq!(drain(&mut rx), [delta("Hel"), delta("lo")]);
        assert_eq!(r.answer().as_deref(), Some("Hello"));
    }

    #[test]
    fn a_secret_the_model_writes_is_masked_even_when_split() {
        let (stream, mut rx) = ReplyStream::new();
        let masker = Masker::new(&["sk-123456".to_string()]);
        let mut r = ReplyReader::new(&stream, &masker);
        r.begin();
        for piece in ["key: sk-", "123", "456 ok"] {
            r.chunk(chunk(piece).as_bytes()).unwrap();
        }
        r.chunk(b"data: [DONE]\n\n").unwrap();
        r.end().unwrap();
        let text: String = drain(&mut rx)
            .into_iter()
            .map(|d| match d {
                Streamed::Delta { text, .. } => text,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(text, "key: *** ok");
    }

    #[test]
    fn a_broken_or_unfinished_stream_fails_and_retracts_its_text() {
        let masker = Masker::default();
        for (rest, code) in [
            ("data: {not json\n\n", "bad_answer"),
            (
                "data: {\"error\": {\"message\": \"overloaded\"}}\n\n",
                "bad_answer",
            ),
            ("", "bad_answer"),
        ] {
            let (stream, mut rx) = ReplyStream::new();
            let mut r = ReplyReader::new(&stream, &masker);
            r.begin();
            r.chunk(chunk("Part").as_bytes()).unwrap();
            let result = r.chunk(rest.as_bytes()).and_then(|()| r.end());
            assert_eq!(result, Err(code), "{rest:?}");
            assert_eq!(r.answer(), None);
            assert_eq!(
                drain(&mut rx).last(),
                Some(&Streamed::Retract { reply: 0 }),
                "{rest:?}"
            );
        }
    }

    #[test]
    fn replies_of_a_turn_are_numbered_and_can_all_be_retracted() {
        let (stream, mut rx) = ReplyStream::new();
        let masker = Masker::default();
        assert_eq!(ReplyReader::new(&stream, &masker).reply, 0);
        assert_eq!(ReplyReader::new(&stream, &masker).reply, 1);
        stream.retract_all();
        assert_eq!(
            drain(&mut rx),
            [
                Streamed::Retract { reply: 0 },
                Streamed::Retract { reply: 1 }
            ]
        );
    }
}
