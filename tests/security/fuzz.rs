//! The fuzz targets of `fuzz/` (cargo-fuzz, nightly) run here on stable for a bounded number of
//! cases: parse, compile, template rendering, JSON-path extraction and the
//! parse → format → parse round trip, with the properties of `fuzz/properties.rs` that the
//! targets check too. Every file of `fuzz/corpus/TARGET/` is replayed first (a
//! crash found once stays a regression input), then deterministic mutations of it (fixed seed;
//! `FUZZ_SEED` explores others locally). Each target stops after `CASES` cases or `BUDGET`,
//! whichever comes first, so CI spends well under a minute here.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../../fuzz/properties.rs"]
mod properties;

const CASES: usize = 1500;
const BUDGET: Duration = Duration::from_secs(20);

/// Bytes that make interesting mutations of flows, templates and paths.
const PIECES: &[&str] = &[
    "{",
    "}",
    "{{",
    "}}",
    "\"",
    "\\",
    "\n",
    ".",
    "..",
    "[",
    "]",
    "[0]",
    "->",
    "{city}",
    "{sys.now}",
    "{secret.K}",
    "not ",
    "api ",
    "node ",
    "form {",
    "json {",
    "internal",
    "redirects any",
    "\u{1b}",
    "é",
    "\u{0}",
    "9999999999999999999999",
    "-1",
    ":",
    ",",
];

fn corpus(target: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let inputs: Vec<String> = files
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect();
    assert!(!inputs.is_empty(), "{target} has a corpus");
    inputs
}

fn mutate(rng: &mut fastrand::Rng, seed: &str) -> String {
    let mut text = seed.to_string();
    for _ in 0..rng.usize(1..6) {
        let mut at = rng.usize(0..=text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        match rng.u8(0..3) {
            0 => text.insert_str(at, PIECES[rng.usize(0..PIECES.len())]),
            1 => {
                let mut end = (at + rng.usize(0..8)).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, "");
            }
            _ => {
                let piece = text[at..]
                    .chars()
                    .take(rng.usize(0..12))
                    .collect::<String>();
                text.insert_str(at, &piece);
            }
        }
    }
    text
}

/// Runs `property` on the corpus, then on mutations, and fails with the first input that
/// panics or breaks the property (add it to the corpus once fixed).
fn fuzz(target: &str, property: impl Fn(&str) -> Result<(), String>) {
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let mut rng = fastrand::Rng::with_seed(seed);
    let inputs = corpus(target);
    let started = Instant::now();
    let mut cases = inputs.clone();
    for i in 0..CASES {
        if i >= cases.len() {
            let base = &inputs[rng.usize(0..inputs.len())];
            cases.push(mutate(&mut rng, base));
        }
        let input = &cases[i];
        let outcome = catch_unwind(AssertUnwindSafe(|| property(input)))
            .unwrap_or_else(|_| Err("panicked".to_string()));
        if let Err(why) = outcome {
            panic!("fuzz target `{target}`: {why} on input {input:?}");
        }
        if started.elapsed() > BUDGET {
            break;
        }
    }
}

#[test]
fn parse() {
    fuzz("parse", properties::parse);
}

#[test]
fn compile() {
    fuzz("compile", properties::compile);
}

#[test]
fn template() {
    fuzz("template", properties::template);
}

#[test]
fn json_path() {
    fuzz("json_path", properties::json_path);
}

#[test]
fn roundtrip() {
    fuzz("roundtrip", properties::roundtrip);
}
