//! Software steering: RPS picks a worker for a received packet, XPS a transmit queue.

use crate::error::{Error, Result};

/// Maps a 32-bit value onto `[0, n)` by a multiply and a shift, without a division
/// (`reciprocal_scale` in `include/linux/kernel.h`).
#[inline]
#[must_use]
pub fn reciprocal_scale(value: u32, n: u32) -> u32 {
    ((u64::from(value) * u64::from(n)) >> 32) as u32
}

/// Receive packet steering: the workers a queue's packets may be handed to (`rps_map`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpsMap {
    workers: Vec<u16>,
}

impl RpsMap {
    /// A map over workers `0..workers` (every bit set in `rps_cpus`); zero workers turns RPS
    /// off.
    pub fn new(workers: usize) -> Result<Self> {
        let n = u16::try_from(workers)
            .map_err(|_| Error::Config(format!("{workers} RPS workers: at most {}", u16::MAX)))?;
        Ok(RpsMap {
            workers: (0..n).collect(),
        })
    }

    /// A map over the given workers, in order (the CPUs of an `rps_cpus` mask).
    #[must_use]
    pub fn from_workers(workers: Vec<u16>) -> Self {
        RpsMap { workers }
    }

    /// The worker for a packet with flow hash `hash`, as `get_rps_cpu` chooses it:
    /// `map[reciprocal_scale(hash, len)]`; `None` (stay on the receiving worker) when the map
    /// is empty or the packet has no hash (hash 0).
    #[inline]
    #[must_use]
    pub fn worker(&self, hash: u32) -> Option<u16> {
        if hash == 0 || self.workers.is_empty() {
            return None;
        }
        let len = self.workers.len() as u32;
        self.workers
            .get(reciprocal_scale(hash, len) as usize)
            .copied()
    }

    /// The workers of the map.
    #[must_use]
    pub fn workers(&self) -> &[u16] {
        &self.workers
    }
}

/// Transmit packet steering: per worker, the transmit queues it uses (`xps_cpus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XpsMap {
    tx_queues: u16,
    by_worker: Vec<Vec<u16>>,
}

impl XpsMap {
    /// A device with `tx_queues` transmit queues and no XPS map yet.
    pub fn new(tx_queues: usize) -> Result<Self> {
        let tx_queues = u16::try_from(tx_queues)
            .ok()
            .filter(|&q| q > 0)
            .ok_or_else(|| {
                Error::Config(format!(
                    "transmit queue count {tx_queues} must be between 1 and {}",
                    u16::MAX
                ))
            })?;
        Ok(XpsMap {
            tx_queues,
            by_worker: Vec::new(),
        })
    }

    /// Lets `worker` transmit on `queues` (an empty list removes its entry).
    pub fn set(&mut self, worker: u16, queues: Vec<u16>) -> Result<()> {
        if let Some(&q) = queues.iter().find(|&&q| q >= self.tx_queues) {
            return Err(Error::Config(format!(
                "XPS queue {q} for worker {worker}: the device has {} transmit queues",
                self.tx_queues
            )));
        }
        let w = usize::from(worker);
        if self.by_worker.len() <= w {
            self.by_worker.resize(w + 1, Vec::new());
        }
        self.by_worker[w] = queues;
        Ok(())
    }

    /// Number of transmit queues.
    #[must_use]
    pub fn tx_queues(&self) -> u16 {
        self.tx_queues
    }

    /// The transmit queue for a packet sent by `worker`, as `netdev_pick_tx` chooses it: the
    /// worker's XPS queues (`get_xps_queue`: the only one, or one picked by
    /// `reciprocal_scale(hash, len)`), else [`skb_tx_hash`].
    #[must_use]
    pub fn pick_tx(&self, worker: u16, hash: u32, rx_queue: Option<u16>) -> u16 {
        match self.by_worker.get(usize::from(worker)).map(Vec::as_slice) {
            Some([only]) => *only,
            Some(queues) if !queues.is_empty() => {
                queues[reciprocal_scale(hash, queues.len() as u32) as usize]
            }
            _ => skb_tx_hash(hash, rx_queue, self.tx_queues),
        }
    }
}

/// The transmit queue from the packet alone (`skb_tx_hash`): a forwarded packet keeps the
/// number of the queue it was received on, folded into range by subtraction; otherwise the hash
/// is scaled onto the queues.
#[must_use]
pub fn skb_tx_hash(hash: u32, rx_queue: Option<u16>, tx_queues: u16) -> u16 {
    let tx_queues = tx_queues.max(1);
    match rx_queue {
        Some(q) => q % tx_queues,
        None => reciprocal_scale(hash, u32::from(tx_queues)) as u16,
    }
}
