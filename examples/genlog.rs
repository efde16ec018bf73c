//! Writes a synthetic combined-format access log of a given size, deterministically, for
//! benchmarks: `cargo run --release --example genlog -- OUT SIZE_MB [access|cloudtrail]`
//! (`cloudtrail`: CloudTrail records one JSON object per line).

#[path = "../benches/genlog_impl.rs"]
mod genlog_impl;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 && args.len() != 4 {
        eprintln!("usage: genlog OUT SIZE_MB [access|cloudtrail]");
        std::process::exit(2);
    }
    let size: u64 = args[2].parse().expect("SIZE_MB is a number");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[1])?);
    let n = match args.get(3).map(String::as_str) {
        None | Some("access") => genlog_impl::generate(&mut w, size << 20)?,
        Some("cloudtrail") => genlog_impl::generate_cloudtrail(&mut w, size << 20)?,
        Some(other) => {
            eprintln!("unknown kind {other:?}: access or cloudtrail");
            std::process::exit(2);
        }
    };
    w.flush()?;
    eprintln!("wrote {n} bytes to {}", args[1]);
    Ok(())
}
