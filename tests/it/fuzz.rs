//! Fuzz-style property test: random token soups and mutations of real flows never make the
//! compiler or the renderers panic, every diagnostic span lies inside its file on char
//! boundaries, and the parser's fast path reads every case as the pest grammar alone does.
//! Deterministic (fixed seed), so a failure reproduces.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use std::collections::HashMap;

use chatflow::compile::{compile_path, compile_str, compile_with, Loader};
use chatflow::diagnostic::{render, to_json_line, Code, Diag};
use chatflow::source::SourceSet;
use chatflow::syntax::keywords::KEYWORDS;

/// The examples of `language.md`, beside the ok inputs.
const LANGUAGE_EXAMPLES: &[&str] = &[
    include_str!("../contract/language_items.flow"),
    include_str!("../contract/language_test.flow"),
];

/// Tokens of the soups besides the keywords (which come from the one keyword list).
const OTHER_TOKENS: &[&str] = &[
    "sys",
    "secret",
    "number",
    "city",
    "n1",
    "weather",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "->",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "..",
    ".",
    ",",
    ";",
    ":",
    "=",
    "\n",
    " ",
    "#c\n",
    "\"",
    "\"hi {city}\"",
    "\"{\"",
    "\"}\"",
    "\"{{x}}\"",
    "\"{sys.now}\"",
    "\"{secret.K}\"",
    "200",
    "-1",
    "3.5",
    "2s",
    "500ms",
    "99999999999999999999",
    "é",
    "🙂",
    "\\",
    "\t",
    "\r\n",
];

/// Every keyword of the language, then the other tokens.
fn tokens() -> Vec<&'static str> {
    KEYWORDS
        .iter()
        .map(|&(_, word, _)| word)
        .chain(OTHER_TOKENS.iter().copied())
        .collect()
}

/// The `.flow` files of one inputs directory, sorted.
fn inputs(dir: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/inputs")
        .join(dir);
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        {
            if let Ok(text) = std::fs::read_to_string(&p) {
                out.push(text);
            }
        }
    }
    out
}

/// Mutation seeds: the language.md examples, the ok inputs, and the err inputs (so the
/// mutations also reach the semantic checks' error paths).
fn seeds() -> Vec<String> {
    let mut out: Vec<String> = LANGUAGE_EXAMPLES.iter().map(|s| s.to_string()).collect();
    out.extend(inputs("ok"));
    out.extend(inputs("err"));
    out
}

fn token_soup(rng: &mut fastrand::Rng, tokens: &[&str]) -> String {
    let len = rng.usize(0..80);
    let mut s = String::new();
    for _ in 0..len {
        s.push_str(tokens[rng.usize(..tokens.len())]);
        if rng.bool() {
            s.push(' ');
        }
    }
    s
}

fn mutate(rng: &mut fastrand::Rng, seed: &str, tokens: &[&str]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..rng.usize(1..6) {
        let len = bytes.len();
        match rng.u8(0..6) {
            0 if len > 0 => {
                let at = rng.usize(..len);
                let n = rng.usize(1..8).min(len - at);
                bytes.drain(at..at + n);
            }
            1 => {
                let at = rng.usize(..=len);
                let ins = [
                    b'{', b'}', b'"', b'\n', b';', b'#', b'\\', b'.', 0xC3, 0xA9, 0xF0,
                ];
                bytes.insert(at, ins[rng.usize(..ins.len())]);
            }
            2 if len > 1 => {
                let (a, b) = (rng.usize(..len), rng.usize(..len));
                bytes.swap(a, b);
            }
            3 => bytes.truncate(rng.usize(..=len)),
            4 => {
                let at = rng.usize(..=len);
                let tok = tokens[rng.usize(..tokens.len())].as_bytes();
                bytes.splice(at..at, tok.iter().copied());
            }
            _ if len > 2 => {
                // Duplicate a slice: repeated items and statements.
                let a = rng.usize(..len);
                let b = (a + rng.usize(1..40)).min(len);
                let chunk = bytes[a..b].to_vec();
                let at = rng.usize(..=len);
                bytes.splice(at..at, chunk);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn span_ok(sources: &SourceSet, d: &Diag) -> Result<(), String> {
    let file = sources
        .get(d.file)
        .ok_or(format!("{}: no file {}", d.code, d.file))?;
    let text = &*file.text;
    let spans = std::iter::once(d.span).chain(d.notes.iter().map(|n| n.span));
    for s in spans {
        if s.start() > s.end() || s.end() > text.len() {
            return Err(format!(
                "{}: span {s:?} outside a {}-byte file",
                d.code,
                text.len()
            ));
        }
        if !text.is_char_boundary(s.start()) || !text.is_char_boundary(s.end()) {
            return Err(format!("{}: span {s:?} not on char boundaries", d.code));
        }
    }
    Ok(())
}

fn run_one(src: &str) -> Result<(), String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let compiled = compile_str("fuzz.flow", src);
        let _ = render(&compiled.diagnostics, &compiled.sources, false);
        for d in &compiled.diagnostics {
            let _ = to_json_line(d, &compiled.sources);
            span_ok(&compiled.sources, d)?;
        }
        if compiled.diagnostics.iter().any(Diag::is_error) == compiled.program.is_some() {
            return Err("program must be Some exactly when there are no errors".to_string());
        }
        Ok(())
    }));
    match result {
        Ok(r) => r,
        Err(_) => Err("panicked".to_string()),
    }
}

/// The 16,000 fuzz cases: every fourth a token soup, the others mutated seeds. Deterministic;
/// `FUZZ_SEED` explores other cases locally, CI uses the fixed default.
fn corpus() -> impl Iterator<Item = String> {
    let seeds = seeds();
    assert!(
        seeds.len() >= 50,
        "the ok and err inputs are the mutation seeds"
    );
    let tokens = tokens();
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00c4_a7f1_0e5e_ed00);
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..16_000).map(move |i| {
        if i % 4 == 0 {
            token_soup(&mut rng, &tokens)
        } else {
            let seed = rng.usize(..seeds.len());
            mutate(&mut rng, &seeds[seed], &tokens)
        }
    })
}

/// Runs `check` on every case of the corpus; fails with the first few cases it refuses.
fn check_corpus(check: impl Fn(&str) -> Result<(), String>) {
    let mut failures = Vec::new();
    for (i, src) in corpus().enumerate() {
        if let Err(why) = check(&src) {
            failures.push(format!("case {i}: {why}\n---\n{src}\n---"));
            if failures.len() > 5 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn random_and_mutated_sources_never_panic() {
    check_corpus(run_one);
}

/// The fast path reads each case as pest alone does: the same AST, the same diagnostics.
fn parsers_agree(src: &str) -> Result<(), String> {
    let both = catch_unwind(|| {
        (
            chatflow::syntax::parse(src),
            chatflow::syntax::parse_with_pest_only(src),
        )
    });
    let Ok(((fast, fast_diags), (pest, pest_diags))) = both else {
        return Err("a parser panicked".to_string());
    };
    if let Some(i) = (0..fast.items.len().max(pest.items.len()))
        .find(|&i| fast.items.get(i) != pest.items.get(i))
    {
        return Err(format!(
            "item {i} differs\nfast path: {:?}\npest only: {:?}",
            fast.items.get(i),
            pest.items.get(i)
        ));
    }
    if fast_diags != pest_diags {
        return Err(format!(
            "diagnostics differ\nfast path: {fast_diags:?}\npest only: {pest_diags:?}"
        ));
    }
    Ok(())
}

#[test]
fn the_fast_path_reads_the_fuzz_corpus_as_pest_does() {
    check_corpus(parsers_agree);
}

#[test]
fn unmutated_seeds_compile_cleanly() {
    // The mutations start from valid flows, so their variety comes from the mutations. A seed
    // compiles cleanly from its file (imports resolved); the mutations are compiled in memory,
    // so a seed that imports nothing must compile cleanly there too.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/ok");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/inputs/ok")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no seeds in {}", dir.display());
    for path in paths {
        let from_file = compile_path(path.to_str().expect("a UTF-8 path"));
        assert!(
            from_file.program.is_some() && from_file.diagnostics.is_empty(),
            "{} does not compile cleanly:\n{}",
            path.display(),
            render(&from_file.diagnostics, &from_file.sources, false)
        );
        if from_file.sources.files.len() == 1 {
            let text = std::fs::read_to_string(&path).expect("readable");
            let in_memory = compile_str("seed.flow", &text);
            assert!(
                in_memory.program.is_some() && in_memory.diagnostics.is_empty(),
                "{} imports nothing but does not compile cleanly in memory:\n{}",
                path.display(),
                render(&in_memory.diagnostics, &in_memory.sources, false)
            );
        }
    }
}

#[test]
fn nested_conditions_do_not_overflow() {
    let depth = 40;
    let cond = format!("{}status == 200{}", "(".repeat(depth), ")".repeat(depth));
    let src = format!(
        "api a {{ get \"https://x.test\" }}\nnode n {{ call a; if {cond} -> n else -> n }}\n"
    );
    assert!(run_one(&src).is_ok());
}

/// Files in memory, for random import graphs.
struct MemLoader(HashMap<String, String>);

impl Loader for MemLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| "not found".to_string())
    }
}

/// Random import graphs (cycles, self-imports, missing files, `./` and `../` routes) over
/// mutated sources: loading never panics and spans stay in their own files.
#[test]
fn random_import_graphs_never_panic() {
    let seeds = seeds();
    let tokens = tokens();
    let names = ["main.flow", "a.flow", "lib/b.flow", "lib/c.flow"];
    let routes = [
        "a.flow",
        "lib/b.flow",
        "./lib/c.flow",
        "lib/../a.flow",
        "../a.flow",
        "b.flow",
        "c.flow",
        "main.flow",
        "../main.flow",
        "missing.flow",
        "lib",
    ];
    let mut rng = fastrand::Rng::with_seed(0x1a7e_5eed);
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    for case in 0..600 {
        let mut files = HashMap::new();
        for name in names {
            let mut text = String::new();
            for _ in 0..rng.usize(0..3) {
                text.push_str(&format!(
                    "import \"{}\"\n",
                    routes[rng.usize(..routes.len())]
                ));
            }
            let seed = rng.usize(..seeds.len());
            text.push_str(&if rng.bool() {
                seeds[seed].clone()
            } else {
                mutate(&mut rng, &seeds[seed], &tokens)
            });
            files.insert(name.to_string(), text);
        }
        let loader = MemLoader(files);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let compiled = compile_with("main.flow", &loader);
            let _ = render(&compiled.diagnostics, &compiled.sources, false);
            let mut names: Vec<&str> = compiled
                .sources
                .files
                .iter()
                .map(|f| f.name.as_str())
                .collect();
            let loaded = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), loaded, "a file was loaded twice");
            for d in &compiled.diagnostics {
                let _ = to_json_line(d, &compiled.sources);
                span_ok(&compiled.sources, d)?;
            }
            let codes: Vec<&'static str> =
                compiled.diagnostics.iter().map(|d| d.code.name()).collect();
            Ok::<_, String>((codes, compiled.sources.files.len()))
        }));
        match result {
            Ok(Ok((codes, files))) => {
                for code in codes {
                    *seen.entry(code).or_default() += 1;
                }
                if files > 1 {
                    *seen.entry("several files").or_default() += 1;
                }
            }
            Ok(Err(why)) => panic!("case {case}: {why}"),
            Err(_) => panic!("case {case} panicked"),
        }
    }
    // The generator must really reach the import paths it is meant to test.
    for wanted in [
        Code::ImportCycle.name(),
        Code::ImportUnreadable.name(),
        "several files",
    ] {
        assert!(
            seen.get(wanted).is_some_and(|&n| n > 10),
            "{wanted} too rare: {seen:?}"
        );
    }
}
