//! The native floor: a plain loop over the memory-mapped records of a pcap or pcapng file,
//! summing captured lengths. Prints one line of JSON (packets, best elapsed ns, every run).
//!
//! Usage: `floor_pcap PATH [--repeat N] [--prefetch BYTES]`. Each run opens and maps the file,
//! walks it and unmaps it, as a reader would; warm the page cache first for a fair comparison.
//! With `--prefetch`, the loop also streams the file into the cache that many bytes ahead (see
//! `netcore_benches::floor_pcap_prefetch`): a bound for a reader that prefetches.

use std::fs::File;
use std::process::ExitCode;

use netcore_benches::{Args, Tally, emit, floor, report, timed};

const USAGE: &str = "usage: floor_pcap PATH [--repeat N] [--prefetch BYTES]";

fn run(args: &Args) -> Result<String, String> {
    let (t, runs) = timed(args.repeat, || -> Result<Tally, String> {
        let file = File::open(&args.path).map_err(|e| format!("{}: {e}", args.path))?;
        // SAFETY: read-only private mapping of a file that the benchmark does not modify while
        // it runs; nothing else writes benchmark inputs.
        let map =
            unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("{}: {e}", args.path))?;
        floor(&map, args.prefetch).ok_or_else(|| format!("{}: neither pcap nor pcapng", args.path))
    })?;
    let tool = if args.prefetch == 0 {
        "floor_pcap"
    } else {
        "floor_pcap_prefetch"
    };
    Ok(report(tool, &args.path, None, t, &runs))
}

fn main() -> ExitCode {
    let line = Args::parse(USAGE).and_then(|a| run(&a));
    match line.map(|l| emit(&l).map_err(|e| e.to_string())) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) | Err(e) => {
            eprintln!("floor_pcap: {e}");
            ExitCode::FAILURE
        }
    }
}
