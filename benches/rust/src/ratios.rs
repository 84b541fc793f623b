//! Rates of contenders measured round-robin, and the table of ratios printed at the end of a run
//! (absolute times on a shared machine are noise; ratios within one run are the figure).
//!
//! Criterion measures one contender after another, so a change in the machine's load between
//! them shows up as a ratio. [`Rates::interleave`] runs every contender once per round instead,
//! round after round, so that load falls on all of them alike.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Items per second of each contender in each case, sample by sample.
#[derive(Debug, Default)]
pub struct Rates {
    samples: Mutex<BTreeMap<(String, String), Vec<f64>>>,
}

impl Rates {
    /// No samples yet.
    #[must_use]
    pub const fn new() -> Self {
        Rates {
            samples: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records that `contender` moved `items` in `elapsed` in `case`; returns `elapsed`.
    #[allow(clippy::cast_precision_loss)] // A rate needs no more than f64's 52 bits.
    pub fn record(&self, case: &str, contender: &str, items: u64, elapsed: Duration) -> Duration {
        let rate = items as f64 / elapsed.as_secs_f64().max(1e-12);
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((case.to_string(), contender.to_string()))
            .or_default()
            .push(rate);
        elapsed
    }

    /// Runs each of `contenders` once per round for `rounds` rounds and records every run;
    /// `run` returns how many items a contender moved and how long it took.
    pub fn interleave(
        &self,
        case: &str,
        contenders: &[&str],
        rounds: usize,
        mut run: impl FnMut(&str) -> (u64, Duration),
    ) {
        for _ in 0..rounds {
            for &c in contenders {
                let (items, elapsed) = run(c);
                self.record(case, c, items, elapsed);
            }
        }
    }

    /// Median rate of `contender` in `case`, in items per second.
    #[must_use]
    pub fn median(&self, case: &str, contender: &str) -> Option<f64> {
        let samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        let mut v = samples
            .get(&(case.to_string(), contender.to_string()))?
            .clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    }

    /// Prints, per case, the median rate of every contender (millions per second) and the ratio
    /// of each `(ours, peer)` pair.
    pub fn print(
        &self,
        title: &str,
        cases: &[String],
        contenders: &[&str],
        pairs: &[(&str, &str)],
    ) {
        // Writing to a `String` cannot fail.
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{title} (median M items/s over interleaved rounds; ratio = ours / peer)"
        );
        let _ = write!(out, "{:<10}", "case");
        for c in contenders {
            let _ = write!(out, " {c:>14}");
        }
        for (a, b) in pairs {
            let _ = write!(out, " {:>22}", format!("{a}/{b}"));
        }
        out.push('\n');
        for case in cases {
            let _ = write!(out, "{case:<10}");
            for c in contenders {
                let _ = match self.median(case, c) {
                    Some(r) => write!(out, " {:>14.1}", r / 1e6),
                    None => write!(out, " {:>14}", "-"),
                };
            }
            for (a, b) in pairs {
                let _ = match (self.median(case, a), self.median(case, b)) {
                    (Some(x), Some(y)) => write!(out, " {:>21.2}x", x / y),
                    _ => write!(out, " {:>22}", "-"),
                };
            }
            out.push('\n');
        }
        // The table is the benchmark's result: it goes to standard output like criterion's.
        let _ = io::stdout().write_all(out.as_bytes());
    }
}
