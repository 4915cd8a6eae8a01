//! Resolve names, check types and the flow graph, lower the AST to IR.
//!
//! Phases, one module each: [`load`] (files and imports), [`resolve`] (name tables,
//! duplicates, API properties), [`types`] (attribute types), [`check`] (per-statement checks,
//! with [`shadow`] for shadowed arms), [`graph`] (flow-graph analyses) and [`lower`] (IR).
//! When a file has syntax errors, only the checks local to one item still report (types,
//! API properties, duplicates, ...): whole-flow checks (names, the flow graph) would only
//! echo the items the syntax errors swallowed, as a cascade of "unknown node" errors.

mod check;
mod exits;
mod flow_analysis;
mod hours;
mod load;
mod lower;
mod names;
mod resolve;
mod shadow;
pub mod symbols;
mod types;
mod understand;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::diagnostic::{Diag, Scope};
use crate::ir::Program;
use crate::source::SourceSet;

/// The result of compiling a root file and everything it imports.
#[derive(Debug)]
pub struct Compiled {
    /// `Some` exactly when no diagnostic is an error; always `None` from [`check_path`],
    /// which stops before building it.
    pub program: Option<Program>,
    /// Errors and warnings, in source order per file.
    pub diagnostics: Vec<Diag>,
    /// Every file read, for rendering diagnostics.
    pub sources: SourceSet,
    /// Every name's definitions and uses; only from [`compile_for_editor`].
    pub symbols: Option<symbols::SymbolIndex>,
}

/// Where imported files come from: the file system, or memory in tests.
pub trait Loader {
    /// Reads the file at `path` (already joined with the importing file's directory).
    fn load(&self, path: &str) -> Result<String, String>;
}

/// Reads from the file system. A file longer than [`max_source_bytes`] is read only that far
/// (plus one byte, so the compiler reports it as too large without holding all of it).
pub struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        use std::io::Read;
        let limit = max_source_bytes();
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        if bytes.len() > limit {
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        String::from_utf8(bytes).map_err(|_| "stream did not contain valid UTF-8".to_string())
    }
}

/// The default for the largest source file compiled: 16 MiB.
pub const DEFAULT_MAX_SOURCE_BYTES: usize = 16 << 20;

static MAX_SOURCE_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_SOURCE_BYTES);

/// The largest source file (root or import) compiled, in bytes; a longer one is refused with
/// `chatflow::source_too_large` before it is parsed, which bounds the time and memory a
/// hostile file can take.
pub fn max_source_bytes() -> usize {
    MAX_SOURCE_BYTES.load(Ordering::Relaxed)
}

/// Sets [`max_source_bytes`] for this process (`--max-source-bytes`), at most
/// [`MAX_OFFSET`](crate::source::MAX_OFFSET): a span's offsets are 32-bit, so a longer
/// source is always refused.
pub fn set_max_source_bytes(bytes: usize) {
    MAX_SOURCE_BYTES.store(bytes.min(crate::source::MAX_OFFSET), Ordering::Relaxed);
}

/// Compiles the file at `path` and its imports.
pub fn compile_path(path: &str) -> Compiled {
    compile_with(path, &FsLoader)
}

/// Compiles the file at `path`, read through `loader` like its imports.
pub fn compile_with(path: &str, loader: &dyn Loader) -> Compiled {
    finish(path, load::load_path(path, loader), loader, Goal::Program)
}

/// Runs every check on the file at `path` and its imports, for their diagnostics only
/// (`chatflow check`): the same diagnostics as [`compile_path`], but the IR is never built,
/// so the peak memory is the syntax tree and the name tables, not those and the IR.
pub fn check_path(path: &str) -> Compiled {
    check_with(path, &FsLoader)
}

/// [`check_path`], reading the file and its imports through `loader`.
pub fn check_with(path: &str, loader: &dyn Loader) -> Compiled {
    finish(
        path,
        load::load_path(path, loader),
        loader,
        Goal::Diagnostics,
    )
}

/// What a compilation is for. Lowering emits no diagnostic (it only reads the checked
/// tree), so skipping it loses none.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    /// The program and the diagnostics.
    Program,
    /// The diagnostics alone: no IR.
    Diagnostics,
    /// The program, the diagnostics and the [`symbols::SymbolIndex`].
    Editor,
}

/// Refuses every import: `compile_str` sources stand alone.
struct NoImports;

impl Loader for NoImports {
    fn load(&self, _path: &str) -> Result<String, String> {
        Err("imports are not available when compiling a single in-memory source".into())
    }
}

/// Compiles a single in-memory source with no imports allowed to resolve (used by tests,
/// benches and the fuzz test).
pub fn compile_str(name: &str, text: &str) -> Compiled {
    finish(
        name,
        load::load_text(name, text.to_string(), &NoImports),
        &NoImports,
        Goal::Program,
    )
}

/// Compiles in-memory root text whose imports are read through `loader`.
pub fn compile_text_with(name: &str, text: &str, loader: &dyn Loader) -> Compiled {
    finish(
        name,
        load::load_text(name, text.to_string(), loader),
        loader,
        Goal::Program,
    )
}

/// [`compile_text_with`], also building the [`symbols::SymbolIndex`] an editor navigates by.
pub fn compile_for_editor(name: &str, text: &str, loader: &dyn Loader) -> Compiled {
    finish(
        name,
        load::load_text(name, text.to_string(), loader),
        loader,
        Goal::Editor,
    )
}

fn finish(root: &str, loaded: load::Loaded, loader: &dyn Loader, goal: Goal) -> Compiled {
    let index_names = goal == Goal::Editor;
    let mut diagnostics = loaded.diags;
    let mut program = None;
    let symbols;
    let syntax_ok = !diagnostics.iter().any(Diag::is_error);
    // A syntax error inside a `test` block loses at most that block, which defines nothing the
    // bot uses: the whole-flow checks still run, so it cannot hide the bot's own errors.
    let flow_intact = !diagnostics.iter().any(|d| {
        d.is_error()
            && !loaded
                .sources
                .get(d.file)
                .is_some_and(|f| crate::syntax::in_test_block(&f.text, d.span.start()))
    });
    let mut ctx = resolve::collect(&loaded.sources.files, &loaded.files, index_names);
    types::infer(&mut ctx);
    check::check_all(&mut ctx);
    // The parser puts placeholders where it reported a problem (a 0 for a bad number, say);
    // checks that land on such a place would only repeat it.
    let syntax: Vec<(u32, usize, usize)> = diagnostics
        .iter()
        .map(|d| (d.file, d.span.start(), d.span.end()))
        .collect();
    let overlaps = |d: &Diag| {
        syntax
            .iter()
            .any(|&(f, s, e)| f == d.file && s <= d.span.end() && d.span.start() <= e)
    };
    if flow_intact {
        flow_analysis::analyse(&mut ctx);
        let understanding = understand::build(&mut ctx, loader);
        if goal != Goal::Diagnostics && syntax_ok && !ctx.diags.iter().any(Diag::is_error) {
            let mut p = lower::lower(&ctx, &bot_name(root));
            // Only a program that understands free text needs a format-7 runtime (its
            // matcher's layout), and only one with an `ai` a format-6 one.
            let version = if understanding.is_some() {
                crate::ir::UNDERSTANDING_FORMAT_VERSION
            } else if p.apis.iter().any(|a| a.ai.is_some()) {
                crate::ir::AI_FORMAT_VERSION
            } else {
                crate::ir::BASE_FORMAT_VERSION
            };
            p.format_version = version;
            if version > crate::ir::BASE_FORMAT_VERSION {
                p.min_read_version = version;
            }
            p.understanding = understanding;
            program = Some(p);
        }
        symbols = index_names.then(|| symbols::build(&ctx));
        diagnostics.extend(ctx.diags.into_iter().filter(|d| syntax_ok || !overlaps(d)));
    } else {
        symbols = index_names.then(|| symbols::build(&ctx));
        diagnostics.extend(
            ctx.diags
                .into_iter()
                .filter(|d| d.code.scope() == Scope::Item && !overlaps(d)),
        );
    }
    diagnostics.sort_by_key(|d| (d.file, d.span.start(), d.span.end()));
    Compiled {
        program,
        diagnostics,
        sources: loaded.sources,
        symbols,
    }
}

/// Without a `bot` item, the bot is named after its root file: `weather.flow` -> `weather`.
fn bot_name(root: &str) -> String {
    std::path::Path::new(root)
        .file_stem()
        .map_or_else(|| root.to_string(), |s| s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::syntax::ast;

    /// The parser refuses out-of-range statuses itself; the compiler still guards ASTs
    /// built another way.
    #[test]
    fn stub_status_out_of_range_is_bad_status() {
        let text = "api a { get \"https://x.test\" }\nnode n { call a; close }\ntest \"t\" { stub a 200 }\n";
        let mut loaded = load::load_text("t.flow", text.to_string(), &NoImports);
        assert!(loaded.diags.is_empty(), "{:?}", loaded.diags);
        for item in &mut loaded.files[0].items {
            if let ast::Item::Test(t) = item {
                if let ast::TestStepKind::Stub { answer, .. } = &mut t.steps[0].kind {
                    *answer = ast::StubAnswer::Status {
                        status: 999,
                        body: None,
                    };
                }
            }
        }
        let compiled = finish("t.flow", loaded, &NoImports, Goal::Program);
        assert!(compiled.program.is_none());
        assert_eq!(compiled.diagnostics[0].code, Code::BadStatus);
    }

    #[test]
    fn the_source_limit_never_passes_32_bit_offsets() {
        let before = max_source_bytes();
        set_max_source_bytes(usize::MAX);
        let capped = max_source_bytes();
        set_max_source_bytes(before);
        assert_eq!(capped, crate::source::MAX_OFFSET);
    }

    #[test]
    fn compile_str_refuses_imports() {
        let compiled = compile_str("a.flow", "import \"b.flow\"\nnode n { close }\n");
        assert_eq!(compiled.diagnostics.len(), 1);
        assert_eq!(compiled.diagnostics[0].code, Code::ImportUnreadable);
    }

    /// Overlapping ranges are only a warning: the program compiles and keeps every range.
    #[test]
    fn overlapping_hours_still_compile_with_their_table() {
        let text = "hours h {\n  zone \"UTC\"\n  mon-tue 09:00-17:00\n  tue 16:59-18:00\n  mon 17:00-18:00\n}\nnode n { if open(h) -> n2 else -> n2 }\nnode n2 { close }\n";
        let compiled = compile_str("h.flow", text);
        let codes: Vec<_> = compiled.diagnostics.iter().map(|d| d.code).collect();
        // `tue 16:59` overlaps `mon-tue ..17:00` by a minute; `mon 17:00` only meets it.
        assert_eq!(codes, [Code::OverlappingHours]);
        let program = compiled.program.expect("warnings do not stop compiling");
        assert_eq!(program.hours[0].weekly.len(), 4);
    }

    #[test]
    fn bot_name_defaults_to_the_file_stem() {
        let compiled = compile_str("dir/weather.flow", "node n { close }\n");
        assert_eq!(compiled.program.expect("compiles").bot.name, "weather");
    }

    /// Mutations of the action inputs (lines dropped, bytes cut) never panic, and every
    /// diagnostic span stays inside its file on char boundaries.
    #[test]
    fn mutated_action_flows_never_panic() {
        let inputs = [
            include_str!("../../tests/inputs/ok/actions_support_bot.flow"),
            include_str!("../../tests/inputs/ok/actions_flows.flow"),
        ];
        let mut rng = fastrand::Rng::with_seed(0xac7_10a5);
        for text in inputs {
            let lines: Vec<&str> = text.lines().collect();
            for round in 0..150 {
                let mutated = if round % 2 == 0 {
                    let drop = rng.usize(..lines.len());
                    let kept: Vec<&str> = lines
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| i != drop)
                        .map(|(_, l)| *l)
                        .collect();
                    kept.join("\n")
                } else {
                    let (a, b) = (rng.usize(..text.len()), rng.usize(..text.len()));
                    let (a, b) = (a.min(b), a.max(b).min(a.min(b) + 12));
                    let (a, b) = (floor(text, a), floor(text, b));
                    format!("{}{}", &text[..a], &text[b..])
                };
                let compiled = compile_str("m.flow", &mutated);
                for d in &compiled.diagnostics {
                    assert!(d.span.end() <= mutated.len(), "{} out of bounds", d.code);
                    assert!(
                        mutated.is_char_boundary(d.span.start())
                            && mutated.is_char_boundary(d.span.end())
                    );
                }
                let _ = crate::diagnostic::render(&compiled.diagnostics, &compiled.sources, false);
            }
        }
    }

    fn floor(text: &str, mut i: usize) -> usize {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    #[test]
    fn translations_lower_in_the_bots_language_order() {
        let src =
            "bot \"b\" { languages en, es }\nnode n { say { es \"Hola\" en \"Hi\" }; close }\n";
        let program = compile_str("t.flow", src).program.expect("compiles");
        let crate::ir::Stmt::Say(crate::ir::Text::Translated(texts)) = &program.nodes[0].stmts[0]
        else {
            panic!("a translated say: {:?}", program.nodes[0].stmts[0]);
        };
        let langs: Vec<&str> = texts.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(langs, ["en", "es"]);
        assert_eq!(program.bot.languages, ["en", "es"]);
    }

    #[test]
    fn otp_defaults_and_hours_ranges_lower() {
        let src = "hours h { zone \"UTC\"; mon-wed 09:00-17:00; sun 10:00-24:00 }\nnode n { if open(h) -> v else -> v }\nnode v { otp { send email \"a@x.test\"; ok -> d; fail -> d } }\nnode d { close }\n";
        let program = compile_str("t.flow", src).program.expect("compiles");
        assert_eq!(
            program.hours[0].weekly,
            [
                (0, 540, 1020),
                (1, 540, 1020),
                (2, 540, 1020),
                (6, 600, 1440)
            ]
        );
        let crate::ir::Stmt::Otp(otp) = &program.nodes[1].stmts[0] else {
            panic!("an otp")
        };
        assert_eq!((otp.digits, otp.tries, otp.ok, otp.fail), (6, 3, 2, 2));
    }

    #[test]
    fn a_near_miss_target_gets_a_suggestion_and_its_node_no_unreachable_warning() {
        for (target, node) in [
            ("c1", "c2"),
            ("ab", "ba"),
            ("confrim", "confirm"),
            ("c", "cc"),
        ] {
            let src = format!("node s {{\n  ask x\n  goto {target}\n}}\nnode {node} {{ close }}\n");
            let compiled = compile_str("t.flow", &src);
            let codes: Vec<Code> = compiled.diagnostics.iter().map(|d| d.code).collect();
            assert_eq!(
                codes,
                [Code::UnknownNode],
                "{target}: {:?}",
                compiled.diagnostics
            );
            let help = compiled.diagnostics[0].help.as_deref();
            assert_eq!(help, Some(format!("did you mean `{node}`?").as_str()));
        }
        // Inside a flow, among the flow's own nodes.
        let src =
            "flow f() { node first { goto nxt }\n node next { return } }\nnode s { run f(); close }\n";
        let compiled = compile_str("t.flow", src);
        let codes: Vec<Code> = compiled.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::UnknownNode], "{:?}", compiled.diagnostics);
        assert_eq!(
            compiled.diagnostics[0].help.as_deref(),
            Some("did you mean `next`?")
        );
        // No near miss: the help says how to define it, and a lone node is still unreachable.
        let src = "node s {\n  ask x\n  goto zz\n}\nnode other { close }\n";
        let compiled = compile_str("t.flow", src);
        let codes: Vec<Code> = compiled.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::UnknownNode, Code::UnreachableNode]);
    }

    #[test]
    fn retry_on_a_post_warns_unless_the_api_is_idempotent() {
        let api = |marker: &str, method: &str, retry: &str| {
            format!("api a {{\n  {marker}\n  {method} \"https://x.test\"\n  {retry}\n}}\nnode n {{ call a; close }}\n")
        };
        let cases = [
            ("", "post", "retry 3", true, false),
            ("", "patch", "retry 1", true, false),
            ("idempotent", "post", "retry 3", false, true),
            ("", "post", "", false, false),
            ("", "get", "retry 3", false, true),
            ("", "put", "retry 3", false, true),
        ];
        for (marker, method, retry, warns, idempotent) in cases {
            let src = api(marker, method, retry);
            let compiled = compile_str("t.flow", &src);
            let codes: Vec<Code> = compiled.diagnostics.iter().map(|d| d.code).collect();
            let expected: &[Code] = if warns {
                &[Code::RetryNotIdempotent]
            } else {
                &[]
            };
            assert_eq!(codes, expected, "{src}");
            let program = compiled.program.expect("warnings only");
            assert_eq!(program.apis[0].idempotent, idempotent, "{src}");
        }
    }

    #[test]
    fn else_if_is_answered_with_elif() {
        let src =
            "node s {\n  ask x\n  if x == \"1\" -> s\n  else if x == \"2\" -> s\n  else -> s\n}\n";
        let compiled = compile_str("t.flow", src);
        let d = &compiled.diagnostics[0];
        assert_eq!(d.code, Code::Syntax);
        assert_eq!(&src[d.span.start()..d.span.end()], "else if");
        assert_eq!(d.label, "write `elif` here");
        assert!(d
            .help
            .as_deref()
            .is_some_and(|h| h.contains("elif CONDITION -> node")));
    }

    #[test]
    fn flow_nodes_come_after_top_level_nodes() {
        let src = "flow f(x) { node a { goto b }\n node b { return } }\nnode s { run f(1); close }\nnode t { close }\n";
        let compiled = compile_str("t.flow", src);
        let codes: Vec<Code> = compiled.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::UnreachableNode], "only `t` is unreachable");
        let program = compiled.program.expect("compiles");
        let names: Vec<&str> = program.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["s", "t", "f.a", "f.b"]);
        assert_eq!(program.flows[0].entry, 2);
        assert_eq!(program.nodes[2].stmts[0], crate::ir::Stmt::Goto(3));
    }
}
