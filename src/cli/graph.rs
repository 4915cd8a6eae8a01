//! `chatflow graph`: prints the flow as a Mermaid or Graphviz dot graph on stdout.

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
    out!("{}", graph::render(&graph::build(&program), format));
    ExitCode::SUCCESS
}
