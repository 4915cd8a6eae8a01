//! `chatflow fmt`: idempotent, meaning-preserving, comment-preserving; snapshots of messy
//! inputs; the command's `--check` and error behaviour.

use std::path::{Path, PathBuf};

use chatflow::compile::{compile_text_with, Compiled, Loader};
use chatflow::diagnostic::Code;
use chatflow::syntax::format::{format_source, scan_comments};

use crate::common::chatflow;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn flows_in(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("directory exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .collect();
    files.sort();
    files
}

/// Every flow the repository has: examples, test inputs (ok, err, imported), test flows.
fn all_flows() -> Vec<PathBuf> {
    let dirs = [
        "examples",
        "tests/inputs/ok",
        "tests/inputs/ok/lib",
        "tests/inputs/err",
        "tests/inputs/err/imports",
        "tests/flows",
        "tests/conversations",
    ];
    dirs.iter()
        .filter(|d| root().join(d).is_dir())
        .flat_map(|d| flows_in(d))
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Reads imports relative to the crate root, formatting them first when asked, so that a
/// formatted root file is compiled against formatted imports.
struct RepoLoader {
    format: bool,
}

impl Loader for RepoLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        let text = std::fs::read_to_string(root().join(path)).map_err(|e| e.kind().to_string())?;
        if self.format {
            format_source(&text).map_err(|_| format!("{path} does not parse"))
        } else {
            Ok(text)
        }
    }
}

/// The IR as JSON without anything that records source positions.
fn ir_without_positions(compiled: &Compiled) -> Option<serde_json::Value> {
    let program = compiled.program.as_ref()?;
    let mut value = serde_json::to_value(program).expect("the IR serializes");
    strip_positions(&mut value);
    Some(value)
}

fn strip_positions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("source_map");
            map.remove("span");
            map.values_mut().for_each(strip_positions);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_positions),
        _ => {}
    }
}

fn codes(compiled: &Compiled) -> Vec<Code> {
    compiled.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn formatting_is_idempotent_on_every_flow_that_parses() {
    let mut formatted_any = 0;
    for path in all_flows() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let Ok(once) = format_source(&text) else {
            continue;
        };
        let twice = format_source(&once).unwrap_or_else(|d| {
            panic!("{}: formatted text does not parse: {d:?}", relative(&path))
        });
        assert_eq!(once, twice, "{}: fmt(fmt(x)) != fmt(x)", relative(&path));
        formatted_any += 1;
    }
    assert!(
        formatted_any > 20,
        "only {formatted_any} flows were formatted"
    );
}

#[test]
fn formatting_never_changes_the_ir_of_examples_and_ok_inputs() {
    let mut files = flows_in("examples");
    files.extend(flows_in("tests/inputs/ok"));
    assert!(files.len() >= 5);
    for path in files {
        let name = relative(&path);
        let text = std::fs::read_to_string(&path).expect("readable");
        let before = compile_text_with(&name, &text, &RepoLoader { format: false });
        let formatted =
            format_source(&text).unwrap_or_else(|d| panic!("{name} does not parse: {d:?}"));
        let after = compile_text_with(&name, &formatted, &RepoLoader { format: true });
        let ir_before = ir_without_positions(&before).unwrap_or_else(|| panic!("{name} compiles"));
        let ir_after = ir_without_positions(&after)
            .unwrap_or_else(|| panic!("{name} no longer compiles after fmt: {:?}", codes(&after)));
        assert_eq!(ir_before, ir_after, "{name}: fmt changed the IR");
        assert_eq!(
            codes(&before),
            codes(&after),
            "{name}: fmt changed the warnings"
        );
    }
}

#[test]
fn formatting_keeps_the_diagnostics_of_err_inputs_that_parse() {
    for path in flows_in("tests/inputs/err") {
        let name = relative(&path);
        let text = std::fs::read_to_string(&path).expect("readable");
        let Ok(formatted) = format_source(&text) else {
            continue;
        };
        let before = compile_text_with(&name, &text, &RepoLoader { format: false });
        let after = compile_text_with(&name, &formatted, &RepoLoader { format: false });
        assert_eq!(
            codes(&before),
            codes(&after),
            "{name}: fmt changed the diagnostics"
        );
    }
}

#[test]
fn every_comment_survives_formatting() {
    for path in all_flows() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let Ok(formatted) = format_source(&text) else {
            continue;
        };
        let after: Vec<String> = scan_comments(&formatted)
            .into_iter()
            .map(|c| c.text)
            .collect();
        let after = after.join("\n");
        for comment in scan_comments(&text) {
            assert!(
                after.contains(&comment.text),
                "{}: comment {:?} was lost",
                relative(&path),
                comment.text
            );
        }
    }
}

#[test]
fn the_examples_are_canonical() {
    for path in flows_in("examples") {
        let text = std::fs::read_to_string(&path).expect("readable");
        let formatted = format_source(&text).expect("examples parse");
        assert!(
            text == formatted,
            "{} is not formatted; run `chatflow fmt`",
            relative(&path)
        );
    }
}

#[test]
fn a_hash_inside_a_string_is_not_a_comment() {
    let text = "node a {\n  say \"Call #5 \\\"now\\\" # not a comment\"  # a real one\n}\n";
    let comments = scan_comments(text);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].text, "# a real one");
    assert!(!comments[0].own_line);
    let formatted = format_source(text).expect("parses");
    assert_eq!(formatted, text);
}

#[test]
fn a_file_with_syntax_errors_is_refused() {
    let diags = format_source("node a {\n  say \"hi\"\n  gotoo b\n}\n").expect_err("syntax error");
    assert!(diags.iter().any(|d| d.code == Code::Syntax), "{diags:?}");
}

// ---- snapshots of messy inputs --------------------------------------------------------------

#[test]
fn snapshot_one_line_flow_with_semicolons() {
    let text = r#"bot "Desk" { start a }; api w { live; get "https://x.test/{city}?a={{b}}"; timeout 1500ms; retry 2; save t = body.main["the temp"][0] }
node a { ask city as text "City?"; call w; if status==200 and(city=="Chicago" or city=="Oslo")->b elif not status in 400..499 -> a else->c }
node b { say "It is {t}\tnow"; set seen=true; goto c }; node c { close }
test "t" { stub w 200 {"main":{"the temp":[3.5]}}; user "Chicago"; expect say "It is 3.5\tnow"; expect attr seen == true; expect closed }
"#;
    insta::assert_snapshot!(format_source(text).expect("parses"));
}

#[test]
fn snapshot_odd_spacing_and_blank_lines() {
    let text = "\n\n\nnode   start_here{\n\n\n    say    \"a\"\n\n\n\n   ask  answer   as number\n\t\tif answer>=3->big\n          elif answer in [1,2,  (3)]   ->   small\n\n   else ->small\n}\nnode big {say \"big\"}\n\n\n\nnode small {\nsay \"small\" ; goto   big }\n";
    insta::assert_snapshot!(format_source(text).expect("parses"));
}

#[test]
fn snapshot_comments_everywhere() {
    let text = r##"# header comment
# second header line

import "lib.flow" # why we import
import "other.flow"
# before the api
api weather { # after the brace
  live # trailing on live
  # own line inside
  post "https://x.test/" # trailing on post
  json {  # json opens
    "a": "{city}", # first member
    # between members
    "b": [1,
          2] # nested array
  } # json closes
  # before the closing brace
}   # after the api

node greet {
  say "# not a comment" # a comment
  if status == 200 -> greet  # the if arm
  # before elif
  elif status == 0 -> greet
  else -> greet # the else arm
  # at the end of the node
}
# end of file
"##;
    insta::assert_snapshot!(format_source(text).expect("parses"));
}

// ---- the command ----------------------------------------------------------------------------

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chatflow-fmt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.flow"));
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn fmt_check_lists_files_that_would_change_and_writes_nothing() {
    let messy = "node a { say \"x\"; close }\n";
    let path = scratch("check", messy);
    let p = path.to_string_lossy().to_string();
    let o = chatflow(&["fmt", "--check", &p, "examples/weather.flow"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.trim(), p, "only the messy file is listed");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        messy,
        "--check writes nothing"
    );

    let o = chatflow(&["fmt", &p]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "node a {\n  say \"x\"\n  close\n}\n"
    );
    let o = chatflow(&["fmt", "--check", &p]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
}

#[test]
fn fmt_leaves_a_broken_file_untouched_and_exits_1() {
    let broken = "node a {\n  say \"x\"\n  gotoo b\n}\n";
    let path = scratch("broken", broken);
    let p = path.to_string_lossy().to_string();
    let o = chatflow(&["fmt", &p]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(Code::Syntax.name()), "{err}");
    assert!(err.contains("was not formatted"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), broken);
}

#[test]
fn fmt_of_a_missing_file_is_a_usage_error() {
    let o = chatflow(&["fmt", "no/such/file.flow"]);
    assert_eq!(o.status.code(), Some(2));
}

// ---- mutated inputs -------------------------------------------------------------------------

/// Random edits of the examples (characters dropped, duplicated, or `;`, `#`, `"`, newline,
/// `{`, `}` inserted): whenever the result parses, formatting it must give text that parses,
/// is a fixed point, keeps every comment and compiles to the same IR and diagnostics.
#[test]
fn formatting_mutated_examples_keeps_meaning() {
    let sources: Vec<String> = flows_in("examples")
        .iter()
        .chain(flows_in("tests/inputs/ok").iter())
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    let mut rng = fastrand::Rng::with_seed(0x00c0_ffee);
    let inserts = [";", "#", "\"", "\n", "{", "}", " ", "\\", "->"];
    let mut checked = 0;
    for round in 0..1500 {
        let base = &sources[round % sources.len()];
        let mut text = base.clone();
        for _ in 0..rng.usize(1..4) {
            let mut at = rng.usize(0..text.len().max(1));
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match rng.u8(0..3) {
                0 => {
                    let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                    text.replace_range(at..end, "");
                }
                1 => text.insert_str(at, inserts[rng.usize(0..inserts.len())]),
                _ => {
                    let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                    let piece = text[at..end].to_string();
                    text.insert_str(at, &piece);
                }
            }
        }
        let Ok(once) = format_source(&text) else {
            continue;
        };
        let twice = format_source(&once)
            .unwrap_or_else(|d| panic!("formatted text does not parse: {d:?}\n{text}"));
        assert_eq!(once, twice, "not idempotent for:\n{text}");
        let before = chatflow::compile::compile_str("m.flow", &text);
        let after = chatflow::compile::compile_str("m.flow", &once);
        assert_eq!(
            codes(&before),
            codes(&after),
            "diagnostics changed for:\n{text}"
        );
        assert_eq!(
            ir_without_positions(&before),
            ir_without_positions(&after),
            "IR changed for:\n{text}"
        );
        let kept: Vec<String> = scan_comments(&once).into_iter().map(|c| c.text).collect();
        let kept = kept.join("\n");
        for comment in scan_comments(&text) {
            assert!(
                kept.contains(&comment.text),
                "lost {:?} for:\n{text}",
                comment.text
            );
        }
        checked += 1;
    }
    assert!(checked > 300, "only {checked} mutants parsed");
}

#[test]
fn fmt_dash_formats_stdin_to_stdout() {
    let run = |args: &[&str], input: &str| crate::common::chatflow_with_input(args, input);
    let o = run(&["fmt", "-"], "node a { say \"x\" ; close }  # end\n");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "node a {\n  say \"x\"\n  close\n}  # end\n"
    );
    let o = run(&["fmt", "--check", "-"], "node a {\n  close\n}\n");
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let o = run(&["fmt", "--check", "-"], "node a { close }\n");
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["fmt", "-"], "node a { gotoo }\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
}
