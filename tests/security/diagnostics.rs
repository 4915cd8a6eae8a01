//! Items 1 and 7: hostile sources get short diagnostics and exit 1, never a panic or an echo
//! of the whole line; a source over the size limit is refused before it is parsed.

use crate::support::*;

/// Exit 1 with the code on stderr, and stderr short: no line is echoed whole.
fn refused_briefly(path: &str, code: &str) {
    let out = run(&["check", path], "");
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(err.contains(code), "{}", &err[..err.len().min(2000)]);
    assert!(err.len() < 4000, "stderr is {} bytes", err.len());
}

#[test]
fn a_diagnostic_past_column_65535_renders_and_exits_1() {
    let src = format!("{}node a {{ goto nowhere }}\n", " ".repeat(70_000));
    let path = file("wide_line", &src);
    refused_briefly(&path, "chatflow::unknown_node");
    let err = stderr(&run(&["check", &path], ""));
    // The label is shown, at its real column.
    assert!(err.contains("goto nowhere"), "{err}");
    assert!(err.contains(":1:70015]"), "{err}");
}

#[test]
fn a_hundred_thousand_nots_render_and_exit_1() {
    let src = format!(
        "node a {{\n  if {}x -> a else -> a\n}}\n",
        "not ".repeat(100_000)
    );
    refused_briefly(&file("nots", &src), "chatflow::syntax");
}

#[test]
fn a_long_line_of_junk_is_not_echoed() {
    let src = format!("node a {{ say \"hi\" }}\n{}\n", "@#!".repeat(700_000));
    refused_briefly(&file("junk", &src), "chatflow::syntax");
}

#[test]
fn json_diagnostics_on_a_wide_line_have_the_real_column() {
    let src = format!("{}node a {{ goto nowhere }}\n", " ".repeat(70_000));
    let out = run(&["check", "--format", "json", &file("json_col", &src)], "");
    let line = stdout(&out);
    assert!(line.contains("\"line\":1,\"column\":70015"), "{line}");
}

#[test]
fn a_source_over_the_size_limit_is_refused_before_parsing() {
    // A valid flow, 1,000 bytes long; the limit set below it refuses it.
    let mut src = String::from("node a { close }\n");
    while src.len() < 1000 {
        src.push_str("# padding padding padding padding\n");
    }
    let path = file("too_large", &src);
    let out = run(&["check", "--max-source-bytes", "500", &path], "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("chatflow::source_too_large"), "{err}");
    assert!(err.contains("--max-source-bytes"), "{err}");
    let out = run(&["check", "--max-source-bytes", "5000", &path], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Spans hold 32-bit offsets: a limit past 4 GiB - 1 is refused, so no source is ever long
/// enough for an offset to wrap.
#[test]
fn the_size_limit_stops_where_32_bit_offsets_do() {
    let path = file("small", "node a { close }\n");
    let out = run(&["check", "--max-source-bytes", "4294967296", &path], "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("from 0 to 4294967295"), "{err}");
    let out = run(&["check", "--max-source-bytes", "4294967295", &path], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn fmt_refuses_stdin_over_the_size_limit() {
    let mut src = String::from("node a { close }\n");
    while src.len() < 1000 {
        src.push_str("# padding padding padding padding\n");
    }
    let out = run(&["fmt", "--max-source-bytes", "500", "-"], &src);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than the 500 bytes allowed"), "{err}");
    let out = run(&["fmt", "--max-source-bytes", "5000", "-"], &src);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn the_default_limit_is_16_mib() {
    assert_eq!(chatflow::compile::DEFAULT_MAX_SOURCE_BYTES, 16 << 20);
    let big = format!("node a {{ close }}\n{}", "#\n".repeat((16 << 19) + 1));
    let codes = codes(&big);
    assert_eq!(codes, ["chatflow::source_too_large"]);
}
