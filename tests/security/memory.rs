//! Item 7: memory linear in the source with a small constant. A counting allocator (this
//! binary's global allocator) measures the heap a phase holds at its peak, per thread, so
//! the tests running beside it do not count. The bounds are bytes of heap per byte of source
//! for a generated flow; the code before each change exceeded its bound: check 10 (a
//! 104-byte statement: 10.3; names as `String`: 11.4; lowering to IR too: 14.9; 64-bit span
//! offsets: 14.0), parse 6.5 (a 104-byte statement: 7.0; names as `String`: 8.0; 64-bit span
//! offsets: 9.9; a 336-byte statement, blocks with spare capacity: 14), compile 13.5 (a
//! 104-byte statement: 13.9; names as `String`: 14.9; 64-bit span offsets: 16.8; the IR's
//! actions inline: 20.0), format 5 (the whole tree, then all printed lines held: 19.0),
//! writing the IR 1 (one JSON string: 29.6).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write;

/// The system allocator, counting what each thread holds and the most it held.
pub struct Counting;

thread_local! {
    // Signed: a block freed here may have been allocated by another thread.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grew(bytes: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + bytes as isize;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn shrank(bytes: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - bytes as isize));
}

// SAFETY: every call is passed on to `System` unchanged; the counting touches only
// thread-locals without destructors, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a new block beside the old one: a move holds both for a moment.
        grew(new_size);
        shrank(layout.size());
        System.realloc(ptr, layout, new_size)
    }
}

/// Runs `f` and returns its result with the most heap it held at once, in bytes, on top of
/// what this thread held before.
pub fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(before));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, (peak - before).max(0) as usize)
}

/// The flow of `docs/performance.md`: `nodes` nodes, each a `say` with a template, an `ask`
/// and an `if`/`else` (about 110 bytes a node).
pub fn generated_flow(nodes: usize) -> String {
    let mut s = String::from("bot \"Generated\" { start n0 }\n\n");
    for i in 0..nodes {
        let next = (i + 1) % nodes;
        let _ = write!(
            s,
            "node n{i} {{\n  say \"Hello {{name}}, this is step {i}\"\n  ask name\n  if name == \"stop\" -> n0\n  else -> n{next}\n}}\n"
        );
    }
    s
}

/// The generated flow of `nodes` nodes and its compiled program.
fn generated_program(nodes: usize) -> (String, chatflow::ir::Program) {
    let src = generated_flow(nodes);
    let program = chatflow::compile::compile_str("g.flow", &src)
        .program
        .expect("the generated flow compiles");
    (src, program)
}

/// Heap held at the peak of `f` per byte of `src`.
fn per_source_byte<T>(src: &str, f: impl FnOnce() -> T) -> f64 {
    let (_, peak) = peak_heap(f);
    peak as f64 / src.len() as f64
}

#[test]
fn the_counter_sees_a_phase_peak() {
    let (_, peak) = peak_heap(|| {
        let held = vec![0u8; 100_000];
        drop(held);
        vec![0u8; 10]
    });
    assert!((100_000..101_000).contains(&peak), "{peak}");
}

#[test]
fn parsing_holds_little_per_source_byte() {
    let src = generated_flow(2_000);
    let ratio = per_source_byte(&src, || chatflow::syntax::parse(&src));
    assert!(ratio < 6.5, "parse holds {ratio:.1} bytes per source byte");
}

#[test]
fn compiling_holds_little_per_source_byte() {
    let src = generated_flow(2_000);
    let ratio = per_source_byte(&src, || chatflow::compile::compile_str("g.flow", &src));
    assert!(
        ratio < 13.5,
        "compile holds {ratio:.1} bytes per source byte"
    );
}

/// Hands `check_with` one in-memory file.
struct OneFile<'a>(&'a str);

impl chatflow::compile::Loader for OneFile<'_> {
    fn load(&self, _path: &str) -> Result<String, String> {
        Ok(self.0.to_string())
    }
}

/// `chatflow check` builds no IR: it holds the tree and the name tables, never the IR beside
/// them (9.4; lowering as well, like `compile_str`: 13.0).
#[test]
fn checking_holds_less_than_compiling() {
    let src = generated_flow(2_000);
    let ratio = per_source_byte(&src, || {
        chatflow::compile::check_with("g.flow", &OneFile(&src))
    });
    assert!(ratio < 10.0, "check holds {ratio:.1} bytes per source byte");
}

#[test]
fn formatting_holds_little_per_source_byte() {
    let src = generated_flow(2_000);
    let ratio = per_source_byte(&src, || {
        chatflow::syntax::format::format_source(&src).expect("the generated flow formats")
    });
    assert!(ratio < 5.0, "format holds {ratio:.1} bytes per source byte");
}

/// `chatflow build` streams the IR: the JSON (13 times the source) is never held whole.
#[test]
fn writing_the_ir_holds_little_per_source_byte() {
    let (src, program) = generated_program(2_000);
    let ratio = per_source_byte(&src, || program.write_json(std::io::sink()));
    assert!(
        ratio < 1.0,
        "writing the IR holds {ratio:.1} bytes per source byte"
    );
}

/// Counts what is written and keeps none of it, like a pipe that is read as it is filled.
struct CountingSink(usize);

impl std::fmt::Write for CountingSink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// `chatflow graph` writes the text as it is made: it never holds the whole of it (dot keeps
/// no table of ids, so all it holds is a line at a time).
#[test]
fn writing_a_graph_holds_less_than_its_text() {
    let (_, program) = generated_program(2_000);
    let graph = chatflow::graph::build(&program);
    let mut sink = CountingSink(0);
    let (written, peak) =
        peak_heap(|| chatflow::graph::write_to(&graph, chatflow::graph::Format::Dot, &mut sink));
    assert!(written.is_ok());
    assert!(sink.0 > 100_000, "the graph has {} bytes of text", sink.0);
    assert!(
        peak < sink.0 / 20,
        "writing a graph of {} bytes held {peak} bytes",
        sink.0
    );
}

/// Prints the figures for the 50,000-node flow of docs/performance.md (not a check).
#[test]
#[ignore = "a measurement: cargo test --release --test security memory::figures -- --ignored --nocapture"]
fn figures() {
    let src = generated_flow(50_000);
    let mb = |b: usize| b as f64 / 1e6;
    println!("source {:.2} MB", mb(src.len()));
    let (_, p) = peak_heap(|| chatflow::syntax::parse(&src));
    println!("parse peak heap {:.1} MB", mb(p));
    let (_, p) = peak_heap(|| chatflow::syntax::format::format_source(&src));
    println!("format peak heap {:.1} MB", mb(p));
    let (_, p) = peak_heap(|| chatflow::compile::check_with("g.flow", &OneFile(&src)));
    println!("check peak heap {:.1} MB", mb(p));
    let (c, p) = peak_heap(|| chatflow::compile::compile_str("g.flow", &src));
    println!("compile peak heap {:.1} MB", mb(p));
    let program = c.program.expect("compiles");
    let mut json = Counted(0);
    let (_, p) = peak_heap(|| program.write_json(&mut json));
    println!(
        "IR to JSON peak heap {:.1} MB ({:.1} MB of JSON)",
        mb(p),
        mb(json.0)
    );
}

/// A writer that keeps only how many bytes it was given.
struct Counted(usize);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
