//! Compile speed: a generated 50,000-node flow, parsed alone and parsed + compiled.
//! Run with `cargo bench --bench compile_speed`; prints MB/s (best of several runs).

// Tests and benches fail by panicking; the no-panic rule is for the library and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write;
use std::time::{Duration, Instant};

use chatflow::compile::compile_str;
use chatflow::syntax::parse;

// The same allocator as the `chatflow` binary, so the figure is what the command line gets.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NODES: usize = 50_000;
const APIS: usize = 4;
const RUNS: usize = 7;

/// A realistic flow: groups of five nodes (ask, call + branch on status and attribute,
/// report, retry, failure) across a few APIs, chained so every node is reachable.
fn generate() -> String {
    let mut s = String::with_capacity(NODES * 140);
    s.push_str("bot \"Generated\" { start ask_0 }\n\n");
    for a in 0..APIS {
        let _ = writeln!(
            s,
            "api svc{a} {{\n  live\n  get \"https://svc{a}.example.test/v1/items?q={{city}}&n={{count}}\"\n  header \"Authorization\" = \"Bearer {{secret.TOKEN_{a}}}\"\n  timeout 3s\n  retry 1\n  save result{a} = body.items[0].name\n  save temp{a} = body.main.temp\n}}\n"
        );
    }
    let groups = NODES / 5;
    for g in 0..groups {
        let a = g % APIS;
        let next = if g + 1 < groups {
            format!("ask_{}", g + 1)
        } else {
            "ask_0".to_string()
        };
        let _ = write!(
            s,
            "node ask_{g} {{\n  say \"Step {g}: which city?\"\n  ask city \"City for step {g}?\"\n  ask count as number \"How many?\"\n  goto call_{g}\n}}\n\
node call_{g} {{\n  call svc{a}\n  if status == 200 and city == \"Chicago\" -> report_{g}\n  elif status == 200 and count > 3 -> report_{g}\n  elif status in 400..499 -> retry_{g}\n  else -> fail_{g}\n}}\n\
node report_{g} {{\n  say \"Found {{result{a}}} at {{temp{a}}} degrees in {{city}}\"\n  set seen = true\n  goto {next}\n}}\n\
node retry_{g} {{\n  say \"Not found ({{status}}), try again\"\n  ask city\n  goto call_{g}\n}}\n\
node fail_{g} {{\n  say \"Service down, sorry\"\n  close\n}}\n"
        );
    }
    s
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9)
}

fn main() {
    let src = generate();
    let bytes = src.len();
    let compiled = compile_str("generated.flow", &src);
    let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
    let nodes = compiled.program.as_ref().map_or(0, |p| p.nodes.len());
    println!(
        "compile_speed: {nodes} nodes, {:.2} MB source, {errors} errors, {} warnings",
        bytes as f64 / 1e6,
        compiled.diagnostics.len() - errors
    );
    // Interleaved, so both measurements see the same machine load (the cores are shared).
    let (mut parse_time, mut compile_time) = (Duration::MAX, Duration::MAX);
    for _ in 0..RUNS {
        parse_time = parse_time.min(best_of(1, || {
            std::hint::black_box(parse(std::hint::black_box(&src)));
        }));
        compile_time = compile_time.min(best_of(1, || {
            std::hint::black_box(compile_str("generated.flow", std::hint::black_box(&src)));
        }));
    }
    println!(
        "parse:           {:>8.1} ms  {:>7.1} MB/s",
        parse_time.as_secs_f64() * 1e3,
        mb_per_s(bytes, parse_time)
    );
    println!(
        "parse + compile: {:>8.1} ms  {:>7.1} MB/s",
        compile_time.as_secs_f64() * 1e3,
        mb_per_s(bytes, compile_time)
    );
    // The compiler's own share: the difference of the two best times.
    let own = compile_time.saturating_sub(parse_time);
    if own.is_zero() {
        println!("compile alone:   n/a (the machine was too noisy to tell)");
        return;
    }
    println!(
        "compile alone:   {:>8.1} ms  {:>7.1} MB/s  (derived: parse+compile minus parse)",
        own.as_secs_f64() * 1e3,
        mb_per_s(bytes, own)
    );
}
