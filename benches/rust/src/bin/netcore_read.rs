//! `CaptureReader` alone, without Python: opens a capture (memory-mapped), drains it in batches
//! and sums captured lengths. Prints one line of JSON (packets, best elapsed ns, every run).
//!
//! Usage: `netcore_read PATH [--batch N] [--repeat N]`. Each run includes opening the file.

use std::process::ExitCode;

use netcore_benches::{Args, drain, emit, report, timed};
use netcore_core::{CaptureReader, ReadOptions};

const USAGE: &str = "usage: netcore_read PATH [--batch N] [--repeat N]";

fn run(args: &Args) -> Result<String, String> {
    let (t, runs) = timed(args.repeat, || {
        let mut r = CaptureReader::open(&args.path, ReadOptions::default())?;
        drain(&mut r, args.batch)
    })
    .map_err(|e: netcore_core::Error| e.to_string())?;
    Ok(report(
        "netcore_read",
        &args.path,
        Some(args.batch),
        t,
        &runs,
    ))
}

fn main() -> ExitCode {
    let line = Args::parse(USAGE).and_then(|a| run(&a));
    match line.map(|l| emit(&l).map_err(|e| e.to_string())) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) | Err(e) => {
            eprintln!("netcore_read: {e}");
            ExitCode::FAILURE
        }
    }
}
