//! Embedding chatflow: compile a flow, load it into an [`Engine`], and run a conversation one
//! turn at a time, keeping the session as JSON between turns (as a service keeps it in a
//! database between HTTP requests).
//!
//! ```sh
//! cargo run --example embed                 # answers "Ann" and "41"
//! cargo run --example embed -- Bo twelve 12 # your own answers, one per turn
//! ```
//!
//! The flow makes no API calls, so this runs offline. Only the library is used: it builds
//! with `--no-default-features` too (see docs/embedding.md).

use std::error::Error;
use std::sync::Arc;

use chatflow::compile::compile_str;
use chatflow::diagnostic;
use chatflow::runtime::{Engine, EngineConfig, Event, Session, SessionState};

const FLOW: &str = r#"
bot "Greeter" {
  start greet
}

node greet {
  ask name as name "Hi! What is your name?"
  ask age as number "How old are you, {name}?"
  if age >= 18 -> adult
  else -> young
}

node adult {
  say "Thanks, {name}. You can order on your own."
  close
}

node young {
  say "Thanks, {name}. Please ask a parent to order for you."
  close
}
"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    // Compile: diagnostics come back as data; render them like `chatflow check` does.
    let compiled = compile_str("greeter.flow", FLOW);
    let Some(program) = compiled.program else {
        let report = diagnostic::render(&compiled.diagnostics, &compiled.sources, false);
        return Err(report.into());
    };

    // One engine serves any number of sessions; it is cheap to clone and `Send + Sync`.
    let engine = Engine::new(Arc::new(program), EngineConfig::default())?;

    // The first turn: the bot greets and asks. Store the session as JSON.
    let mut session = engine.new_session();
    show(&engine.start(&mut session).await);
    let mut stored = serde_json::to_string(&session)?;

    let mut answers: Vec<String> = std::env::args().skip(1).collect();
    if answers.is_empty() {
        answers = vec!["Ann".to_string(), "41".to_string()];
    }
    for answer in answers {
        // Each turn: load the session, take one message, store the session again.
        let mut session: Session = serde_json::from_str(&stored)?;
        if session.state == SessionState::Closed {
            break;
        }
        println!("you> {answer}");
        show(&engine.step(&mut session, &answer).await);
        stored = serde_json::to_string(&session)?;
    }
    Ok(())
}

/// Prints what a chat window would show; other events (profile, trace) are skipped.
fn show(events: &[Event]) {
    for event in events {
        match event {
            Event::Say { text } => println!("bot> {text}"),
            Event::Closed => println!("[chat closed]"),
            Event::RuntimeError { message } => println!("[error: {message}]"),
            _ => {}
        }
    }
}
