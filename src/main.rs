//! The `chatflow` command line: thin clap commands over the library.

// Compiling allocates and frees many small AST and IR pieces; mimalloc is markedly faster at
// that than the system allocator (see benches/compile_speed.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `print!` that never panics: a closed stdout (`chatflow build x | head -1`) ends the
/// process quietly instead.
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_or_exit(&mut ::std::io::stdout(), &format!($($arg)*)) };
}

/// `println!` that never panics (see [`out!`]).
macro_rules! outln {
    () => { out!("\n") };
    ($($arg:tt)*) => { out!("{}\n", format!($($arg)*)) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::write_or_exit(&mut ::std::io::stderr(), &format!("{}\n", format!($($arg)*)))
    };
}

/// `eprint!` that never panics.
macro_rules! err {
    ($($arg:tt)*) => { $crate::write_or_exit(&mut ::std::io::stderr(), &format!($($arg)*)) };
}

mod cli;

/// Writes and flushes; when the reader has gone away there is nobody left to tell, so exit.
fn write_or_exit(stream: &mut dyn std::io::Write, text: &str) {
    if stream
        .write_all(text.as_bytes())
        .and_then(|()| stream.flush())
        .is_err()
    {
        std::process::exit(1);
    }
}

fn main() -> std::process::ExitCode {
    cli::main()
}
