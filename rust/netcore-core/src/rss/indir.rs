//! The RSS indirection table: hash → receive queue (`ethtool -x` / `-X`).

use crate::error::{Error, Result};

/// Default number of entries (`ethtool -X` calls it the table size); 128 as on most NICs.
pub const DEFAULT_TABLE_SIZE: usize = 128;
/// Largest table accepted.
pub const MAX_TABLE_SIZE: usize = 1 << 16;

/// Maps a hash to a receive queue: entry `hash % len` holds the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indirection {
    entries: Vec<u16>,
    queues: u16,
}

fn check_size(size: usize) -> Result<()> {
    if (1..=MAX_TABLE_SIZE).contains(&size) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "indirection table size {size} must be between 1 and {MAX_TABLE_SIZE}"
        )))
    }
}

fn check_queues(queues: usize) -> Result<u16> {
    u16::try_from(queues)
        .ok()
        .filter(|&q| q > 0)
        .ok_or_else(|| {
            Error::Config(format!(
                "queue count {queues} must be between 1 and {}",
                u16::MAX
            ))
        })
}

impl Indirection {
    /// The default table: entry `i` → queue `i % queues` (`ethtool_rxfh_indir_default`).
    pub fn new(queues: usize, size: usize) -> Result<Self> {
        let queues = check_queues(queues)?;
        check_size(size)?;
        let entries = (0..size)
            .map(|i| (i % usize::from(queues)) as u16)
            .collect();
        Ok(Indirection { entries, queues })
    }

    /// Spreads `size` entries over queues in proportion to `weights`, in contiguous runs, as
    /// `ethtool -X DEV weight W0 W1 …` fills the table (queue `j` owns the entries below
    /// `size * (W0 + … + Wj) / sum`, in integer arithmetic). A zero weight gets no entry.
    pub fn from_weights(weights: &[u32], size: usize) -> Result<Self> {
        let queues = check_queues(weights.len())?;
        check_size(size)?;
        let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        if sum == 0 {
            return Err(Error::Config("indirection weights are all zero".into()));
        }
        let size64 = size as u64;
        let mut entries = Vec::with_capacity(size);
        let (mut next, mut partial) = (0usize, 0u64);
        for i in 0..size64 {
            // Terminates before `next` passes the end: once `partial == sum`, the bound is
            // `size`, above every `i`.
            while i >= size64 * partial / sum {
                partial += u64::from(weights[next]);
                next += 1;
            }
            entries.push((next - 1) as u16);
        }
        Ok(Indirection { entries, queues })
    }

    /// A table given entry by entry; every entry must name one of `queues` queues.
    pub fn from_entries(entries: Vec<u16>, queues: usize) -> Result<Self> {
        let queues = check_queues(queues)?;
        check_size(entries.len())?;
        if let Some((i, &q)) = entries.iter().enumerate().find(|&(_, &q)| q >= queues) {
            return Err(Error::Config(format!(
                "indirection entry {i} is queue {q}, but there are only {queues} queues"
            )));
        }
        Ok(Indirection { entries, queues })
    }

    /// The queue of `hash`.
    #[inline]
    #[must_use]
    pub fn queue(&self, hash: u32) -> u16 {
        // The table is never empty (checked at construction), so the index is in range.
        self.entries[hash as usize % self.entries.len()]
    }

    /// The entries.
    #[must_use]
    pub fn entries(&self) -> &[u16] {
        &self.entries
    }

    /// Number of receive queues.
    #[must_use]
    pub fn queues(&self) -> u16 {
        self.queues
    }
}
