//! Command definitions and the pieces every command shares: reading files, compiling,
//! reporting diagnostics, exit codes.

mod call;
mod check;
mod fmt;
mod graph;
#[cfg(feature = "serve")]
mod prune;
#[cfg(feature = "serve")]
mod report;
mod run;
#[cfg(feature = "serve")]
mod serve;
mod show;
#[cfg(test)]
mod summary;
mod terminal;
mod test;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use chatflow::compile::{self, Compiled};
use chatflow::diagnostic::{self, Severity};
use chatflow::ir::Program;

#[derive(Parser)]
#[command(
    name = "chatflow",
    version,
    about = "Chatbot conversation flows as code: check, build, test and run .flow files."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The largest source file read, in bytes (16 MiB by default); a larger one is refused.
    #[arg(long, global = true, value_name = "BYTES", value_parser = max_source_bytes)]
    max_source_bytes: Option<usize>,
}

/// `--max-source-bytes`: at most 4 GiB - 1, the longest source whose byte offsets the
/// syntax tree's 32-bit spans hold; a longer file is then refused as `source_too_large`.
fn max_source_bytes(text: &str) -> Result<usize, String> {
    let cap = chatflow::source::MAX_OFFSET;
    match text.parse::<usize>() {
        Ok(n) if n <= cap => Ok(n),
        _ => Err(format!("expected a number of bytes from 0 to {cap}")),
    }
}

/// `--max-steps`: from 1 to [`chatflow::runtime::MAX_STEPS_CAP`], so a loop always ends.
fn max_steps(text: &str) -> Result<u32, String> {
    let cap = chatflow::runtime::MAX_STEPS_CAP;
    match text.parse::<u32>() {
        Ok(n) if (1..=cap).contains(&n) => Ok(n),
        _ => Err(format!("expected a number of node entries from 1 to {cap}")),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Check flows: silent and exit 0 when valid; diagnostics on stderr and exit 1 otherwise.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        #[command(flatten)]
        diagnostics: DiagnosticArgs,
    },
    /// Compile a flow and write its IR as pretty JSON.
    Build {
        #[arg(value_name = "FILE")]
        file: String,
        /// Where to write the IR; `-` is stdout.
        #[arg(
            short = 'o',
            long = "output",
            value_name = "OUT.json",
            default_value = "-"
        )]
        output: String,
        #[command(flatten)]
        diagnostics: DiagnosticArgs,
    },
    /// Chat with a flow in the terminal (reads your lines from stdin; ends at EOF or close).
    Run {
        #[arg(value_name = "FILE")]
        file: String,
        /// After each turn, print the nodes entered, conditions and API calls to stderr.
        #[arg(long)]
        trace: bool,
        /// Node entries allowed per turn before the turn stops with a runtime error.
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = max_steps)]
        max_steps: u32,
        /// Serve API answers from this JSON file on a local stub server (works offline).
        #[arg(long, value_name = "STUBS.json")]
        stubs: Option<String>,
        /// Use the fixed one-time code `123456` (the first digits of `1234567890`) instead of a
        /// random one, so a scripted conversation can type it.
        #[arg(long)]
        otp_code: bool,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Serve the flow over HTTP (docs/http-api.md), keeping conversations in a SQLite file or
    /// a PostgreSQL database.
    #[cfg(feature = "serve")]
    Serve {
        #[arg(value_name = "FLOW")]
        file: String,
        #[command(flatten)]
        args: serve::ServeArgs,
    },
    /// Report on the conversations in a store: engagement, flow, goals, API health.
    #[cfg(feature = "serve")]
    Report {
        #[command(flatten)]
        args: report::ReportArgs,
    },
    /// Erase the conversations of a store whose last turn is older than an age.
    #[cfg(feature = "serve")]
    Prune {
        #[command(flatten)]
        args: prune::PruneArgs,
    },
    /// Create or upgrade a store's schema and exit (`serve` does this too when it starts).
    #[cfg(feature = "serve")]
    Migrate {
        /// A SQLite file, or a PostgreSQL database as `postgres://USER@HOST:PORT/DB`.
        #[arg(long, value_name = "FILE|URL")]
        store: String,
    },
    /// Send one API's request as the flow would build it and show the answer and the saves.
    Call {
        #[arg(value_name = "FILE")]
        file: String,
        /// The API to call.
        #[arg(value_name = "API")]
        api: String,
        /// Give an attribute a value first (repeatable): `--set city=Chicago`.
        #[arg(long = "set", value_name = "ATTR=VALUE")]
        set: Vec<String>,
        /// Answer from this JSON file on a local stub server instead of the real API.
        #[arg(long, value_name = "STUBS.json")]
        stubs: Option<String>,
        /// Read secrets from this `.env`-style file (`NAME=value` lines), besides the
        /// `CHATFLOW_SECRET_NAME` environment variables.
        #[arg(long, value_name = "FILE")]
        secrets: Option<String>,
    },
    /// Run the `test` blocks of flows (and of the files they import).
    Test {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// Node entries allowed per turn before the turn stops with a runtime error.
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = max_steps)]
        max_steps: u32,
        /// After the run, list the nodes, branch arms and API outcomes no test reached.
        #[arg(long)]
        coverage: bool,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Rewrite flows in the canonical layout (comments kept); `-` formats stdin to stdout.
    Fmt {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// Write nothing; list the files that would change and exit 1 if any would.
        #[arg(long)]
        check: bool,
    },
    /// Serve editors over stdin and stdout: the language server (docs/editors.md).
    #[cfg(feature = "lsp")]
    Lsp,
    /// Print the flow as a graph: nodes, gotos and branch arms labelled with their conditions.
    Graph {
        #[arg(value_name = "FILE")]
        file: String,
        #[arg(long, value_enum, default_value_t = graph::GraphFormat::Mermaid)]
        format: graph::GraphFormat,
    },
}

/// Settings of the conversations `run` and `test` hold.
#[derive(clap::Args, Clone, Default)]
struct SessionArgs {
    /// Deliver `email` messages to this SMTP server (plain SMTP, no TLS); without it emails are
    /// only shown.
    #[arg(long, value_name = "HOST:PORT", value_parser = host_port)]
    smtp: Option<String>,
    /// The sender address of delivered emails.
    #[arg(
        long,
        value_name = "ADDR",
        requires = "smtp",
        default_value = "bot@chatflow.localhost"
    )]
    smtp_from: String,
    /// `sys.language` at the start of the conversation (e.g. `es`).
    #[arg(long, value_name = "CODE")]
    language: Option<String>,
    /// `sys.channel` of the conversation (`terminal` by default); for `test`, a messaging
    /// channel's name also shows the bot's messages as that channel would (docs/channels.md);
    /// for `serve`, each one given (whatsapp, messenger, instagram, telegram, viber) is served.
    #[arg(long, value_name = "NAME", action = clap::ArgAction::Append)]
    channel: Vec<String>,
    /// Read secrets from this `.env`-style file (`NAME=value` lines), besides the
    /// `CHATFLOW_SECRET_NAME` environment variables (`test` uses placeholders, never secrets).
    #[arg(long, value_name = "FILE")]
    secrets: Option<String>,
}

/// `--smtp`'s value: a host and a port, checked when the command line is read so that a typo
/// is a usage error rather than a failure of every email later.
fn host_port(text: &str) -> Result<String, String> {
    let fix = "expected HOST:PORT, e.g. `localhost:2525` or `[::1]:25`";
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!("no port; {fix}"));
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err(format!("no host before the port; {fix}"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(text.to_string()),
        _ => Err(format!("`{port}` is not a port number (1 to 65535); {fix}")),
    }
}

impl SessionArgs {
    fn smtp_config(&self) -> Option<chatflow::runtime::SmtpConfig> {
        self.smtp
            .as_ref()
            .map(|addr| chatflow::runtime::SmtpConfig {
                addr: addr.clone(),
                from: self.smtp_from.clone(),
            })
    }

    /// `--channel` for `run` and `test`, which take one: the last given.
    fn last_channel(&self) -> Option<String> {
        self.channel.last().cloned()
    }

    /// Applies these settings over `config`.
    fn apply(&self, config: chatflow::runtime::EngineConfig) -> chatflow::runtime::EngineConfig {
        chatflow::runtime::EngineConfig {
            smtp: self.smtp_config().or(config.smtp),
            language: self.language.clone().or(config.language),
            channel: self.last_channel().unwrap_or(config.channel),
            ..config
        }
    }
}

#[derive(clap::Args, Clone, Copy)]
struct DiagnosticArgs {
    /// How to print diagnostics: `human` (stderr) or `json` (one object per line on stdout).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

/// Exit codes: 0 ok, 1 the flow (or a test) failed, 2 usage errors and unreadable files.
const FAILED: u8 = 1;
const USAGE: u8 = 2;

/// Stops the kernel backing this process's memory with 2 MiB transparent huge pages.
///
/// With THP set to `always` (Debian's default), mimalloc's arena is faulted in 2 MiB at a
/// time, so a one-shot command is charged whole huge pages it barely touches: 6 MB of the
/// 14 MB that `--version` took, and 17 MB of `check` on a 5.5 MB flow (docs/performance.md).
/// `serve` too: when a burst of API calls opens thousands of connections, its heap grows by
/// hundreds of MB, and zeroing whole 2 MiB pages was a third of the server's CPU in that burst
/// (peak RSS 473 MB with them, 410 MB without; the fan-out bench). Failure (an old kernel) only
/// leaves the default, so it is ignored.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    without_huge_pages();
    if let Some(bytes) = cli.max_source_bytes {
        compile::set_max_source_bytes(bytes);
    }
    // The language server is synchronous and reads stdin itself: no async runtime.
    #[cfg(feature = "lsp")]
    if let Command::Lsp = cli.command {
        return match chatflow::lsp::run_stdio() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => usage_error(&e),
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return usage_error(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Check { files, diagnostics } => check::check(&files, diagnostics),
            Command::Build {
                file,
                output,
                diagnostics,
            } => check::build(&file, &output, diagnostics),
            Command::Run {
                file,
                trace,
                max_steps,
                stubs,
                otp_code,
                session,
            } => {
                let options = run::RunOptions {
                    trace,
                    max_steps,
                    stubs,
                    otp_code,
                    session,
                };
                run::run(&file, &options).await
            }
            #[cfg(feature = "serve")]
            Command::Serve { file, args } => serve::serve(&file, args).await,
            #[cfg(feature = "serve")]
            Command::Report { args } => report::report(args).await,
            #[cfg(feature = "serve")]
            Command::Prune { args } => prune::prune(args).await,
            #[cfg(feature = "serve")]
            Command::Migrate { store } => serve::migrate(&store).await,
            Command::Call {
                file,
                api,
                set,
                stubs,
                secrets,
            } => call::call(&file, &api, &set, stubs.as_deref(), secrets.as_deref()).await,
            Command::Test {
                files,
                max_steps,
                coverage,
                session,
            } => test::test(&files, max_steps, coverage, &session).await,
            Command::Fmt { files, check } => fmt::fmt(&files, check),
            Command::Graph { file, format } => graph::graph(&file, format),
            #[cfg(feature = "lsp")]
            Command::Lsp => ExitCode::SUCCESS,
        }
    })
}

/// Prints `error: message` on stderr and returns exit code 2.
fn usage_error(message: &str) -> ExitCode {
    errln!("error: {message}");
    ExitCode::from(USAGE)
}

/// Every file must be readable before any command does its work: otherwise exit 2.
fn ensure_readable(files: &[String]) -> Result<(), ExitCode> {
    for file in files {
        // A file over the size limit is left to the compiler, which refuses it without
        // reading it all.
        let too_large =
            std::fs::metadata(file).is_ok_and(|m| m.len() > compile::max_source_bytes() as u64);
        let read = if too_large {
            std::fs::File::open(file).map(drop)
        } else {
            std::fs::read_to_string(file).map(drop)
        };
        if let Err(e) = read {
            return Err(usage_error(&format!("cannot read `{file}`: {e}")));
        }
    }
    Ok(())
}

/// Prints a compilation's diagnostics as asked and says whether they fail it.
fn report(compiled: &Compiled, args: DiagnosticArgs) -> bool {
    let diags = &compiled.diagnostics;
    match args.format {
        Format::Json => {
            for d in diags {
                outln!("{}", diagnostic::to_json_line(d, &compiled.sources));
            }
        }
        Format::Human if !diags.is_empty() => {
            let color = std::io::stderr().is_terminal();
            err!("{}", diagnostic::render(diags, &compiled.sources, color));
        }
        Format::Human => {}
    }
    diags
        .iter()
        .any(|d| d.severity() == Severity::Error || args.deny_warnings)
}

/// Reads and compiles one file for `run`, `call`, `serve`, `graph` and `report`: diagnostics go
/// to stderr; `Err` carries the exit code when the flow cannot run.
fn compile_for_use(file: &str) -> Result<Program, ExitCode> {
    ensure_readable(&[file.to_string()])?;
    let compiled = compile::compile_path(file);
    let human = DiagnosticArgs {
        format: Format::Human,
        deny_warnings: false,
    };
    if report(&compiled, human) {
        return Err(ExitCode::from(FAILED));
    }
    compiled.program.ok_or(ExitCode::from(FAILED))
}
