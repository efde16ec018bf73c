//! Writes a synthetic combined-format access log of a given size, deterministically, for
//! benchmarks: `cargo run --release --example genlog -- OUT SIZE_MB`.

#[path = "../benches/genlog_impl.rs"]
mod genlog_impl;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: genlog OUT SIZE_MB");
        std::process::exit(2);
    }
    let size: u64 = args[2].parse().expect("SIZE_MB is a number");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[1])?);
    let n = genlog_impl::generate(&mut w, size << 20)?;
    w.flush()?;
    eprintln!("wrote {n} bytes to {}", args[1]);
    Ok(())
}
