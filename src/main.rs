//! The `chatflow` command line: thin clap commands over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
