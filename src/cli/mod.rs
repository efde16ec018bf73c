//! The command line: arguments (clap), one module per subcommand, progress and messages.
//! `anyhow` lives here only; the library below returns typed results.

mod args;
mod events;
mod progress;
mod rules;
pub mod scan;
mod sources;

pub use args::{Cli, Command, InputArgs};
use clap::Parser;
use std::process::ExitCode;

/// Exit status: the run completed (per-file warnings are in the output).
pub const EXIT_OK: u8 = 0;
/// Exit status: findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: usage error, or nothing could be read.
pub const EXIT_USAGE: u8 = 2;

/// `eprintln!` that never panics: stderr may be a closed pipe (`scan ... 2>&1 | head`).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}
pub(crate) use say;

/// Parses the process arguments, runs, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            say!(
                "leaktrail: error: {}",
                crate::report::sanitize::terminal(&format!("{e:#}"))
            );
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// When nothing could be read: says why on stderr (each root and each file with its reason)
/// and returns true.
pub(crate) fn nothing_read(r: &crate::scan::ScanResult, roots: &[std::path::PathBuf]) -> bool {
    if r.read_count() > 0 {
        return false;
    }
    let t = crate::report::sanitize::terminal;
    say!("leaktrail: nothing could be read");
    if r.files.is_empty() {
        for root in roots {
            say!("  {}: no files found", t(&root.display().to_string()));
        }
    }
    for f in &r.files {
        let why = if f.problems.is_empty() {
            String::new()
        } else {
            format!(" ({})", t(&f.problems.join("; ")))
        };
        say!("  {}: {}{why}", t(&f.path), f.status.name());
    }
    true
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    if let Some(n) = cli.threads {
        // Only fails when a pool already exists (a second run in one process): keep it.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    match cli.command {
        Command::Scan(a) => scan::run(a, cli.quiet),
        Command::Events(a) => events::run(a, cli.quiet),
        Command::Sources(a) => sources::run(a, cli.quiet),
        Command::Rules(a) => rules::run(a),
    }
}

/// Turns transparent huge pages off for this process (the binary does it first thing; the
/// benchmarks too, to measure what the binary does). mimalloc asks for huge pages on its
/// memory, and the kernel then zeroes each 2 MiB page whole on first touch, however little
/// of it is used: on the project's 2-core VM that zeroing was 14–18% of a scan's CPU time.
/// With 4 KiB pages a scan of the generated 1 GiB access log took 3.25 s instead of 3.98 s
/// (three alternating runs each; 6.1 s of CPU instead of 6.9 s).
pub fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag of the calling
    // process; a failure (an old kernel) leaves things as they were, which is harmless.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
