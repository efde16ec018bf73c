//! The `leaktrail` binary: parse arguments, run, map the result to an exit code.

fn main() -> std::process::ExitCode {
    leaktrail::cli::main()
}
