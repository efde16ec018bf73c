//! The `leaktrail` binary: parse arguments, run, map the result to an exit code.

/// mimalloc: the detection state is millions of small buckets, built by two threads at once;
/// glibc's per-thread arenas spent a fifth of the scan growing and freeing them.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    leaktrail::cli::no_huge_pages();
    leaktrail::cli::main()
}
