//! `chatflow graph`: prints the flow as a Mermaid or Graphviz dot graph on stdout.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::ValueEnum;

use chatflow::graph::{self, Format};

use super::compile_for_use;

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

pub fn graph(file: &str, format: GraphFormat) -> ExitCode {
    let program = match compile_for_use(file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let format = match format {
        GraphFormat::Mermaid => Format::Mermaid,
        GraphFormat::Dot => Format::Dot,
    };
    let graph = graph::build(&program);
    drop(program);
    let mut stdout = StdoutText(BufWriter::new(std::io::stdout().lock()));
    // As `out!` does: when the reader has gone away there is nobody left to tell.
    if graph::write_to(&graph, format, &mut stdout).is_err() || stdout.0.flush().is_err() {
        std::process::exit(1);
    }
    ExitCode::SUCCESS
}

/// Text written to stdout as it is made, so a large flow's graph is never held whole.
struct StdoutText<W>(W);

impl<W: Write> std::fmt::Write for StdoutText<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|_| std::fmt::Error)
    }
}
