//! Running a capture through the stack: packets are spread over the receive queues of the
//! input device by RSS (hash, then indirection table). Queue 0 is polled by the calling
//! thread itself; every other queue has a worker thread of its own, so N queues keep N
//! threads busy. Without RPS, whichever worker is free reads and steers the next batch and
//! publishes it to all (`replay_shared`). With RPS (or when full rings drop, like a NIC), the
//! calling thread reads and steers every batch and hands each worker its share on a ring.
//!
//! Determinism: the input is read in dispatch batches (an interrupt's worth of packets); each
//! queue takes its share of a batch in NAPI polls of `budget` packets, the last one under
//! budget (so NAPI completes and GRO flushes everything, `napi_complete_done`). Poll
//! boundaries thus depend only on the input and the configuration, never on thread timing,
//! and the frames sent during a batch are written queue by queue once every queue is through
//! it. Per-flow order is kept because a flow always hashes to the same queue.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::Stack;
use super::hooks::{ExternalHooks, HookAbort};
use super::path::{Output, SinkEncoder, Worker};
use super::report::{QueueCounters, Report};
use crate::batch::Batch;
use crate::capture::{CaptureReader, CaptureWriter, LinkType};
use crate::drop_reason::DropReason;
use crate::error::Error;
use crate::offload::gro::Gro;
use crate::ring::{self, Consumer, Producer};
use crate::rss::{RpsMap, RssConfig};
use crate::skb::{Header, Skb};

/// Dispatch batches the reading thread runs ahead of writing, so the workers always have a
/// batch waiting on their rings.
const WRITE_LAG: usize = 2;

/// How a replay runs.
#[derive(Debug, Clone, Copy)]
pub struct ReplayOptions {
    /// Packets read per dispatch (one "interrupt" on every queue).
    pub batch_size: usize,
    /// Slots of each receive ring (rounded up to a power of two).
    pub ring_size: usize,
    /// A full ring drops the packet (counted as `QUEUE_FULL` and in the queue's `drops`), like
    /// a NIC; otherwise the reader waits for the worker, so a replay loses nothing.
    pub drop_on_full: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            batch_size: 1024,
            ring_size: 4096,
            drop_on_full: false,
        }
    }
}

/// Where a device's transmitted frames go.
pub struct Sink {
    /// Device index.
    pub ifindex: u32,
    /// The capture written.
    pub writer: CaptureWriter,
}

/// Why a replay stopped.
#[derive(Debug)]
pub enum ReplayError {
    /// Reading the capture or writing a sink failed.
    Io(Error),
    /// A hook whose error policy is "raise" failed; the report covers what was done, the
    /// packets in flight counted as unprocessed.
    Hook {
        /// What the hook reported.
        abort: HookAbort,
        /// Counters up to the stop.
        report: Box<Report>,
    },
}

impl From<Error> for ReplayError {
    fn from(e: Error) -> Self {
        ReplayError::Io(e)
    }
}

/// Where RSS (and RPS) sent one packet of a dispatch batch.
#[derive(Debug, Clone, Copy)]
struct Steer {
    /// The worker that takes it, or [`NOT_TAKEN`].
    worker: u16,
    /// Receive queue (`skb->queue_mapping`).
    queue: u16,
    hash: u32,
    l4: bool,
}

/// `Steer::worker` of a packet no worker takes (dropped on a full ring, or of a link type the
/// device does not receive); the reading thread counts it.
const NOT_TAKEN: u16 = u16::MAX;

/// What travels on a receive ring: a dispatch batch (the capture's memory, shared) with where
/// each of its packets goes, like the descriptors a NIC writes to each queue's ring. Each
/// worker takes its own packets from it, so packet headers are never handed from one core's
/// cache to another's.
enum RxItem {
    Batch {
        batch: Arc<Batch>,
        steer: Arc<Vec<Steer>>,
        number: u64,
    },
    /// No more input.
    End,
}

/// A queue's output for one dispatch batch.
struct Done {
    batch: u64,
    queue: usize,
    out: Output,
}

/// One receive queue: its GRO engine, the worker taking its packets through the paths, its
/// counters.
struct Queue<'s> {
    index: usize,
    ifindex: u32,
    gro: Gro,
    worker: Worker<'s>,
    counters: QueueCounters,
    up: Vec<Skb>,
    /// `netdev_budget`, and what is left of it in the current receive round.
    round_budget: usize,
    round_left: usize,
}

impl<'s> Queue<'s> {
    fn new(
        stack: &'s Stack,
        ifindex: u32,
        index: usize,
        ext: &'s dyn ExternalHooks,
        sinks: &'s [SinkEncoder],
    ) -> Self {
        // `replay` checked the device exists before making any queue.
        let dev = stack.device(ifindex).expect("checked by replay");
        Queue {
            index,
            ifindex,
            gro: Gro::new(dev.gro, dev.features),
            worker: Worker::new(stack, ext, sinks, index as u16),
            counters: QueueCounters::default(),
            up: Vec::with_capacity(dev.gro.budget.max(1) * 2),
            round_budget: stack.netdev_budget.max(1),
            round_left: stack.netdev_budget.max(1),
        }
    }

    /// This queue's packets of a dispatch batch, as views of the capture (no copy).
    fn take(&self, batch: &Batch, steer: &[Steer], out: &mut Vec<Skb>) {
        let me = self.index as u16;
        // Every packet holds a reference on the memory it lives in: counted privately per
        // queue, so workers do not fight over one counter's cache line.
        let data = batch.data.with_own_count();
        for (row, st) in steer.iter().enumerate() {
            if st.worker != me {
                continue;
            }
            let (Some(&off), Some(&len)) = (batch.offset.get(row), batch.caplen.get(row)) else {
                continue;
            };
            let Some(mut skb) = usize::try_from(off)
                .ok()
                .and_then(|off| Skb::from_shared_window(&data, off, len as usize))
            else {
                continue;
            };
            // The batch was framed and hashed on whichever core steered it: ask for this
            // packet's headers now, so that GRO's first look at them finds them in this
            // core's cache rather than waiting on the other core's.
            prefetch_headers(skb.data());
            let _ = skb.reset_mac_header();
            skb.meta.tstamp = batch.ts.get(row).copied().unwrap_or_default();
            skb.meta.iif = batch.ifindex.get(row).copied().unwrap_or_default();
            skb.meta.seq = batch.first_index + row as u64;
            let lt = LinkType(batch.linktype.get(row).copied().unwrap_or_default());
            if lt != LinkType::ETHERNET {
                // Raw IP: no link-layer header.
                skb.clear_header(Header::Mac);
                let _ = skb.reset_network_header();
            }
            if st.hash != 0 {
                skb.meta.set_hash(st.hash, st.l4);
            }
            skb.meta.queue_mapping = st.queue;
            out.push(skb);
        }
    }

    /// Takes one dispatch batch's packets in NAPI polls (`napi_poll` → the driver's poll →
    /// `napi_gro_receive`), each poll's output up the stack; hook changes are picked up first.
    fn run_batch(&mut self, pkts: &mut Vec<Skb>) -> Output {
        self.worker.refresh_hooks();
        self.counters.packets += pkts.len() as u64;
        self.counters.bytes += pkts.iter().map(|s| s.len() as u64).sum::<u64>();
        let budget = self.gro.params().budget.max(1);
        let mut input = pkts.drain(..);
        loop {
            let work = self.gro.napi_poll(&mut input, &mut self.up);
            self.counters.polls += 1;
            if work == budget {
                self.counters.budget_exhausted += 1;
            }
            self.worker.receive(self.ifindex, &mut self.up);
            if work < budget {
                self.round_left = self.round_budget;
                break;
            }
            // net_rx_action: a round ends when netdev_budget is spent with NAPI still
            // scheduled; the rest waits for the next round (ksoftirqd).
            self.round_left = self.round_left.saturating_sub(work);
            if self.round_left == 0 {
                self.counters.time_squeeze += 1;
                self.round_left = self.round_budget;
            }
        }
        // The next batch's output starts with this one's size, so it never regrows.
        let hint = Output::with_capacity(&self.worker.out.sizes());
        std::mem::replace(&mut self.worker.out, hint)
    }

    /// The queue's report, and the abort that stopped the run if any. With RPS the counters
    /// are the worker's backlog's; the receive queues are counted where RSS picks them.
    fn finish(mut self, device: &str, rps: bool) -> (Report, Option<HookAbort>) {
        self.worker.finish();
        let mut report = std::mem::take(&mut self.worker.report);
        let c = report.device(device);
        c.gro = *self.gro.stats();
        let list = if rps { &mut c.backlog } else { &mut c.queues };
        *list = vec![QueueCounters::default(); self.index + 1];
        list[self.index] = self.counters;
        (report, self.worker.abort.take())
    }
}

/// Runs every packet of `reader` into device `into` of `stack`, writing each device's
/// transmitted frames to its sink. Returns the merged report of every queue.
pub fn replay(
    stack: &Stack,
    reader: &mut CaptureReader,
    into: u32,
    sinks: &mut [Sink],
    ext: &dyn ExternalHooks,
    opts: &ReplayOptions,
) -> Result<Report, ReplayError> {
    let dev = stack
        .device(into)
        .ok_or_else(|| Error::Config(format!("no device with index {into}")))?;
    let rx_queues = usize::from(dev.rx_queues.max(1));
    let rss = match &dev.rss {
        Some(r) => r.clone(),
        None => RssConfig::new(rx_queues)?,
    };
    // One worker per receive queue, or with RPS one per RPS worker.
    let rps = (dev.rps_workers > 0).then(|| RpsMap::new(usize::from(dev.rps_workers)));
    let rps = rps.transpose()?;
    let queues = rps.as_ref().map_or(rx_queues, |m| m.workers().len());
    let ring_size = opts.ring_size.max(2).next_power_of_two();
    let enc = &encoders(sinks)?;
    if rps.is_none() && !opts.drop_on_full && queues > 1 {
        return replay_shared(stack, reader, dev, into, &rss, sinks, ext, enc, opts);
    }
    let stop = AtomicBool::new(false);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let mut producers = Vec::with_capacity(queues);
    let mut consumers = Vec::with_capacity(queues);
    // Packets handed to each worker and not yet taken through the stack (for `drop_on_full`).
    let backlog: Arc<Vec<AtomicUsize>> =
        Arc::new((0..queues).map(|_| AtomicUsize::new(0)).collect());
    for _ in 1..queues {
        let (p, c) = ring::spsc::<RxItem>(ring_size)
            .map_err(|e| Error::Config(format!("receive ring: {e}")))?;
        producers.push(p);
        consumers.push(c);
    }
    std::thread::scope(|scope| {
        let rps_on = rps.is_some();
        let mut handles = Vec::with_capacity(queues);
        for (k, rx) in consumers.into_iter().enumerate() {
            let done_tx = done_tx.clone();
            let stop = &stop;
            let name = dev.name.as_str();
            let backlog = Arc::clone(&backlog);
            handles.push(scope.spawn(move || {
                on_worker_thread(ext, move || {
                    let q = Queue::new(stack, into, k + 1, ext, enc);
                    run_worker(q, rx, &done_tx, stop, name, rps_on, &backlog)
                })
            }));
        }
        drop(done_tx);
        let mut disp = Dispatcher {
            rss: &rss,
            rps: rps.as_ref(),
            rx_queues: vec![QueueCounters::default(); rx_queues],
            queue0: Queue::new(stack, into, 0, ext, enc),
            producers,
            threads: handles.iter().map(|h| h.thread().clone()).collect(),
            backlog: backlog.clone(),
            mine_pkts: Vec::new(),
            drops: vec![0; queues],
            early: Report::default(),
            opts: *opts,
            done_rx,
            mine: VecDeque::new(),
            early_outs: BTreeMap::new(),
        };
        let read = disp.run(reader, &stop, sinks);
        // Whatever happened, tell every worker to finish, then write what is left in order.
        disp.broadcast(|| RxItem::End);
        let mut written = read.and_then(|()| disp.write_behind(0, sinks));
        let Dispatcher {
            queue0,
            drops,
            early,
            rx_queues: hw,
            ..
        } = disp;
        let joined = handles.into_iter().map(std::thread::ScopedJoinHandle::join);
        let (report, abort) = merge(queue0, joined, early, &dev.name, rps_on, hw, &drops);
        if written.is_ok() {
            written = sinks
                .iter_mut()
                .try_for_each(|s| s.writer.flush())
                .map_err(ReplayError::Io);
        }
        written?;
        match abort {
            Some(abort) => Err(ReplayError::Hook {
                abort,
                report: Box::new(report),
            }),
            None => Ok(report),
        }
    })
}

/// The run's report: the dispatcher's own counts, queue 0's and every worker's, with the
/// receive queues' counters where RPS keeps them apart and the ring drops; and the first
/// abort, if a hook stopped the run.
fn merge(
    queue0: Queue<'_>,
    workers: impl Iterator<Item = std::thread::Result<(Report, Option<HookAbort>)>>,
    early: Report,
    device: &str,
    rps: bool,
    hw: Vec<QueueCounters>,
    drops: &[u64],
) -> (Report, Option<HookAbort>) {
    let rx_queues = hw.len();
    let (r0, mut abort) = queue0.finish(device, rps);
    let mut report = early;
    report.merge(&r0);
    for (k, joined) in workers.enumerate() {
        let (r, a) = joined.unwrap_or_else(|_| {
            let message = format!("worker {} panicked", k + 1);
            (Report::default(), Some(HookAbort { index: 0, message }))
        });
        report.merge(&r);
        abort = abort.or(a);
    }
    let counters = report.device(device);
    if rps {
        // The receive queues as RSS filled them; each worker's polls are in `backlog`.
        counters.queues = hw;
        counters
            .backlog
            .resize(drops.len(), QueueCounters::default());
    }
    if counters.queues.len() < rx_queues {
        counters.queues.resize(rx_queues, QueueCounters::default());
    }
    let per_ring = if rps {
        &mut counters.backlog
    } else {
        &mut counters.queues
    };
    for (c, d) in per_ring.iter_mut().zip(drops) {
        c.drops += d;
    }
    (report, abort)
}

/// Packets made in Python, sent from the host (LOCAL_OUT onwards), on the calling thread.
pub fn output(
    stack: &Stack,
    packets: Vec<Skb>,
    sinks: &mut [Sink],
    ext: &dyn ExternalHooks,
) -> Result<Report, ReplayError> {
    let enc = encoders(sinks)?;
    let mut w = Worker::new(stack, ext, &enc, 0);
    w.local_out(packets.into_iter().map(|s| (s, None)).collect());
    w.finish();
    write_out(&w.out, sinks)?;
    for s in sinks.iter_mut() {
        s.writer.flush()?;
    }
    match w.abort.take() {
        Some(abort) => Err(ReplayError::Hook {
            abort,
            report: Box::new(w.report),
        }),
        None => Ok(w.report),
    }
}

fn write_out(out: &Output, sinks: &mut [Sink]) -> Result<(), ReplayError> {
    for ((records, n), sink) in out.records.iter().zip(sinks.iter_mut()) {
        if *n > 0 {
            sink.writer.write_encoded(records, *n)?;
        }
    }
    Ok(())
}

/// The record encoder of every sink, for the workers.
fn encoders(sinks: &[Sink]) -> Result<Vec<SinkEncoder>, Error> {
    sinks
        .iter()
        .map(|s| Ok((s.ifindex, s.writer.encoder(0)?)))
        .collect()
}

/// The reading side: RSS on the input device, queue 0 polled here, rings to the others.
struct Dispatcher<'s, 'r> {
    rss: &'r RssConfig,
    /// RPS map when received packets are steered to workers by hash.
    rps: Option<&'r RpsMap>,
    /// Packets and bytes per receive queue, counted here when RPS is on.
    rx_queues: Vec<QueueCounters>,
    queue0: Queue<'s>,
    /// Rings of queues 1.. (index 0 is queue 1).
    producers: Vec<Producer<RxItem>>,
    /// Their worker threads, woken when a batch is on the ring.
    threads: Vec<std::thread::Thread>,
    /// Packets each worker has been given and not yet taken through the stack.
    backlog: Arc<Vec<AtomicUsize>>,
    /// Queue 0's packets of the batch being dispatched.
    mine_pkts: Vec<Skb>,
    drops: Vec<u64>,
    /// What the dispatcher itself counted: packets of link types the device does not speak,
    /// packets dropped on full rings.
    early: Report,
    opts: ReplayOptions,
    done_rx: mpsc::Receiver<Done>,
    /// Queue 0's outputs of the batches not written yet, oldest first.
    mine: VecDeque<(u64, Output)>,
    /// Outputs of later batches that arrived early, by (batch, queue).
    early_outs: BTreeMap<(u64, usize), Output>,
}

impl Dispatcher<'_, '_> {
    fn run(
        &mut self,
        reader: &mut CaptureReader,
        stop: &AtomicBool,
        sinks: &mut [Sink],
    ) -> Result<(), ReplayError> {
        let workers = self.drops.len();
        let mut batch_no = 0u64;
        let mut counts = vec![0usize; workers];
        while !stop.load(Ordering::Relaxed) {
            let Some(b) = reader.next_batch(self.opts.batch_size.max(1))? else {
                break;
            };
            let steer = self.steer(&b, &mut counts);
            let (batch, steer) = (Arc::new(b), Arc::new(steer));
            for (w, &n) in counts.iter().enumerate().skip(1) {
                self.send(w, &batch, &steer, batch_no, n);
            }
            let mut mine = std::mem::take(&mut self.mine_pkts);
            self.queue0.take(&batch, &steer, &mut mine);
            let out0 = self.queue0.run_batch(&mut mine);
            self.mine_pkts = mine;
            if self.queue0.worker.abort.is_some() {
                stop.store(true, Ordering::Relaxed);
            }
            // Keep this batch's own output until the other queues are through it; write
            // the batches that are WRITE_LAG behind (so the workers always have one waiting).
            self.mine.push_back((batch_no, out0));
            batch_no += 1;
            self.write_behind(WRITE_LAG, sinks)?;
        }
        Ok(())
    }

    /// RSS (then RPS) for every packet of a batch: its queue, hash and worker; `counts` gets
    /// the packets per worker. With `drop_on_full`, a worker's share beyond the room left in
    /// its ring is dropped, as a NIC drops what its ring cannot take.
    fn steer(&mut self, b: &Batch, counts: &mut [usize]) -> Vec<Steer> {
        let workers = counts.len();
        counts.fill(0);
        let mut steer = Vec::with_capacity(b.len());
        for row in 0..b.len() {
            let frame = b.packet(row).unwrap_or_default();
            let Some((queue, hash, l4)) = rss_of(self.rss, self.rx_queues.len(), b, row) else {
                not_received(&mut self.early, &mut steer);
                continue;
            };
            let worker = match self.rps {
                // get_rps_cpu: the map's worker for the hash, else where the queue's
                // interrupt is handled.
                Some(map) => {
                    let c = &mut self.rx_queues[queue];
                    c.packets += 1;
                    c.bytes += frame.len() as u64;
                    map.worker(hash).map_or(queue, usize::from) % workers
                }
                None => queue,
            };
            let mut worker = worker as u16;
            if self.opts.drop_on_full && worker != 0 {
                let room = self
                    .opts
                    .ring_size
                    .saturating_sub(self.backlog[usize::from(worker)].load(Ordering::Acquire));
                if counts[usize::from(worker)] >= room {
                    // rx_missed: the ring is full.
                    self.drops[usize::from(worker)] += 1;
                    self.early.entered += 1;
                    self.early.drop(DropReason::QueueFull, 1);
                    worker = NOT_TAKEN;
                }
            }
            if worker != NOT_TAKEN {
                counts[usize::from(worker)] += 1;
            }
            steer.push(Steer {
                worker,
                queue: queue as u16,
                hash,
                l4,
            });
        }
        steer
    }

    /// Puts a batch's descriptors on worker `w`'s ring (every worker gets every batch, so
    /// each produces an output per batch) and wakes it.
    fn send(
        &mut self,
        w: usize,
        batch: &Arc<Batch>,
        steer: &Arc<Vec<Steer>>,
        number: u64,
        n: usize,
    ) {
        self.backlog[w].fetch_add(n, Ordering::AcqRel);
        let mut item = vec![RxItem::Batch {
            batch: Arc::clone(batch),
            steer: Arc::clone(steer),
            number,
        }];
        let k = w - 1;
        while self.producers[k].enqueue_burst(&mut item) == 0 {
            self.threads[k].unpark();
            std::thread::yield_now();
        }
        self.threads[k].unpark();
    }

    fn broadcast(&mut self, item: impl Fn() -> RxItem) {
        for (p, t) in self.producers.iter_mut().zip(&self.threads) {
            let mut one = vec![item()];
            while p.enqueue_burst(&mut one) == 0 {
                t.unpark();
                std::thread::yield_now();
            }
            t.unpark();
        }
    }

    /// Writes every batch but the newest `keep`, oldest first, once each queue is through it.
    fn write_behind(&mut self, keep: usize, sinks: &mut [Sink]) -> Result<(), ReplayError> {
        while self.mine.len() > keep {
            let Some((b, own)) = self.mine.pop_front() else {
                break;
            };
            write_out(&own, sinks)?;
            for out in self.collect(b).iter().flatten() {
                write_out(out, sinks)?;
            }
        }
        Ok(())
    }

    /// Waits for the output of batch `b` of every queue but 0; returns them in queue order.
    fn collect(&mut self, b: u64) -> Vec<Option<Output>> {
        let queues = self.drops.len();
        let mut got: Vec<Option<Output>> = (0..queues).map(|_| None).collect();
        for (q, slot) in got.iter_mut().enumerate().skip(1) {
            *slot = self.early_outs.remove(&(b, q));
        }
        while got.iter().skip(1).any(Option::is_none) {
            match self.done_rx.recv() {
                Ok(d) if d.batch == b => got[d.queue] = Some(d.out),
                // Another queue may already be through a later batch: keep its output.
                Ok(d) => {
                    self.early_outs.insert((d.batch, d.queue), d.out);
                }
                Err(_) => break,
            }
        }
        got
    }
}

/// Prefetches the first two cache lines of a frame (Ethernet, IP and transport headers).
#[inline]
fn prefetch_headers(frame: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for at in [0, 64] {
        if at < frame.len() {
            // SAFETY: `at < frame.len()`, so the address is inside the slice; a prefetch is
            // only a hint and never faults.
            unsafe {
                use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                _mm_prefetch::<_MM_HINT_T0>(frame.as_ptr().add(at).cast::<i8>());
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = frame;
}

/// Runs `body` as a worker thread's whole life inside [`ExternalHooks::run_worker`].
fn on_worker_thread<T: Send>(ext: &dyn ExternalHooks, body: impl FnOnce() -> T + Send) -> T {
    let mut body = Some(body);
    let mut result = None;
    ext.run_worker(&mut || {
        if let Some(b) = body.take() {
            result = Some(b());
        }
    });
    // A binding that did not run the body: it runs here. Either way it ran exactly once,
    // so there is a result.
    result
        .or_else(|| body.take().map(|b| b()))
        .expect("the worker's body ran once")
}

/// The NIC's RSS for packet `row` of `b`: its receive queue (hash, then indirection table;
/// no IP header: queue 0), hash and whether the hash covers the ports. `None` for a link type
/// an Ethernet device does not receive.
fn rss_of(rss: &RssConfig, queues: usize, b: &Batch, row: usize) -> Option<(usize, u32, bool)> {
    let lt = LinkType(b.linktype.get(row).copied().unwrap_or_default());
    if !matches!(
        lt,
        LinkType::ETHERNET | LinkType::RAW | LinkType::IPV4 | LinkType::IPV6
    ) {
        return None;
    }
    Some(match rss.hash(b.packet(row).unwrap_or_default(), lt) {
        Some((h, l4)) => (usize::from(rss.queue(h)) % queues, h, l4),
        None => (0, 0, false),
    })
}

/// Counts a packet no queue receives (dropped before it reaches the stack).
fn not_received(early: &mut Report, steer: &mut Vec<Steer>) {
    early.entered += 1;
    early.drop(DropReason::UnhandledProto, 1);
    steer.push(Steer {
        worker: NOT_TAKEN,
        queue: 0,
        hash: 0,
        l4: false,
    });
}

/// Batches a worker may read ahead of the slowest queue in the shared-reader mode (bounds the
/// memory held by batches not yet taken by every queue, as a ring's size does).
const READ_AHEAD: u64 = 4;

/// Waits (spins, then yields) a worker makes while another frames a batch, before it sleeps.
const YIELD_ON_READER: u32 = 1 << 12;

/// The capture, read by whichever worker is free.
struct SharedInput<'r> {
    reader: &'r mut CaptureReader,
    /// Number of the next batch to read.
    next: u64,
    /// No more batches (`next` is then their count).
    ended: bool,
    error: Option<Error>,
}

/// Batches read and steered, by number, with how many queues have yet to take them.
type Board = BTreeMap<u64, (Arc<Batch>, Arc<Vec<Steer>>, usize)>;

/// What the workers of the shared-reader mode share.
struct SharedRun<'r> {
    input: Mutex<SharedInput<'r>>,
    board: Mutex<Board>,
    /// The next batch number of every queue (the slowest bounds reading ahead).
    progress: Vec<AtomicU64>,
    /// Every worker's thread, to wake them when a batch is published.
    threads: OnceLock<Vec<std::thread::Thread>>,
    stop: AtomicBool,
    rss: RssConfig,
    batch_size: usize,
}

/// Multiqueue without RPS: no thread only reads. Each queue's worker reads the next dispatch
/// batch when it is free (the reader is shared under a lock, so batches still follow the file
/// and their boundaries do not depend on timing), steers it by RSS and publishes it; every
/// queue takes its packets of every batch in batch order. Reading and hashing are thus spread
/// over the workers like the polling, where a single reading thread would bound the speed-up.
#[allow(clippy::too_many_arguments)]
fn replay_shared(
    stack: &Stack,
    reader: &mut CaptureReader,
    dev: &super::DeviceConfig,
    into: u32,
    rss: &RssConfig,
    sinks: &mut [Sink],
    ext: &dyn ExternalHooks,
    enc: &[SinkEncoder],
    opts: &ReplayOptions,
) -> Result<Report, ReplayError> {
    let queues = usize::from(dev.rx_queues.max(1));
    let run = SharedRun {
        input: Mutex::new(SharedInput {
            reader,
            next: 0,
            ended: false,
            error: None,
        }),
        board: Mutex::new(BTreeMap::new()),
        progress: (0..queues).map(|_| AtomicU64::new(0)).collect(),
        threads: OnceLock::new(),
        stop: AtomicBool::new(false),
        rss: rss.clone(),
        batch_size: opts.batch_size.max(1),
    };
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        let run = &run;
        let mut handles = Vec::with_capacity(queues - 1);
        for k in 1..queues {
            let done_tx = done_tx.clone();
            handles.push(scope.spawn(move || {
                on_worker_thread(ext, move || {
                    let mut q = Queue::new(stack, into, k, ext, enc);
                    let early = stop_all_on_panic(run, || {
                        shared_worker(&mut q, run, |batch, out| {
                            let _ = done_tx.send(Done {
                                batch,
                                queue: k,
                                out,
                            });
                        })
                    });
                    let (mut report, abort) = q.finish(&dev.name, false);
                    report.merge(&early);
                    (report, abort)
                })
            }));
        }
        drop(done_tx);
        let mut threads: Vec<_> = handles.iter().map(|h| h.thread().clone()).collect();
        threads.push(std::thread::current());
        let _ = run.threads.set(threads);
        let mut order = InOrder::new(queues);
        let mut q0 = Queue::new(stack, into, 0, ext, enc);
        let mut written: Result<(), ReplayError> = Ok(());
        let early = stop_all_on_panic(run, || {
            shared_worker(&mut q0, run, |batch, out| {
                order.add(batch, 0, out);
                while let Ok(d) = done_rx.try_recv() {
                    order.add(d.batch, d.queue, d.out);
                }
                if written.is_ok() {
                    written = order.write_ready(sinks);
                    if written.is_err() {
                        run.stop.store(true, Ordering::Relaxed);
                    }
                }
            })
        });
        // Whatever stopped the run, every queue's output of what it processed is written.
        for d in done_rx {
            order.add(d.batch, d.queue, d.out);
        }
        let joined = handles.into_iter().map(std::thread::ScopedJoinHandle::join);
        let hw = vec![QueueCounters::default(); queues];
        let (report, abort) = merge(q0, joined, early, &dev.name, false, hw, &vec![0; queues]);
        let error = run.input.lock().ok().and_then(|mut i| i.error.take());
        let mut written = written.and_then(|()| order.write_all(sinks));
        if written.is_ok() {
            written = sinks
                .iter_mut()
                .try_for_each(|s| s.writer.flush())
                .map_err(ReplayError::Io);
        }
        written?;
        if let Some(e) = error {
            return Err(ReplayError::Io(e));
        }
        match abort {
            Some(abort) => Err(ReplayError::Hook {
                abort,
                report: Box::new(report),
            }),
            None => Ok(report),
        }
    })
}

/// Runs `f`; if it panics, stops every worker before the panic goes on (one worker gone would
/// hold the others back forever: reading ahead waits for the slowest queue).
fn stop_all_on_panic<T>(run: &SharedRun<'_>, f: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        run.stop.store(true, Ordering::Relaxed);
        std::panic::resume_unwind(panic)
    })
}

/// One queue's loop in the shared-reader mode: take the next batch if it is published, else
/// read and steer one (a bounded way ahead of the slowest queue), else wait. `emit` gets the
/// queue's output of every batch in order. Returns what this worker counted while steering.
fn shared_worker(
    q: &mut Queue<'_>,
    run: &SharedRun<'_>,
    mut emit: impl FnMut(u64, Output),
) -> Report {
    let mut early = Report::default();
    let mut pkts = Vec::new();
    let mut expected = 0u64;
    let mut idle = 0u32;
    while !run.stop.load(Ordering::Relaxed) {
        let item = run.board.lock().ok().and_then(|mut board| {
            let slot = board.get_mut(&expected)?;
            slot.2 -= 1;
            let item = (Arc::clone(&slot.0), Arc::clone(&slot.1));
            if slot.2 == 0 {
                board.remove(&expected);
            }
            Some(item)
        });
        if let Some((batch, steer)) = item {
            q.take(&batch, &steer, &mut pkts);
            drop((batch, steer));
            let out = q.run_batch(&mut pkts);
            if q.worker.abort.is_some() {
                run.stop.store(true, Ordering::Relaxed);
            }
            emit(expected, out);
            expected += 1;
            run.progress[q.index].store(expected, Ordering::Release);
            idle = 0;
            continue;
        }
        let Ok(input) = run.input.try_lock() else {
            // Another worker is framing a batch, which takes a few microseconds: spin, then
            // yield (more workers than cores), rather than sleep until the batch is published,
            // so as to frame the next one as soon as the reader is free.
            back_off(&mut idle, YIELD_ON_READER);
            continue;
        };
        if input.ended && expected >= input.next {
            break;
        }
        let slowest = run
            .progress
            .iter()
            .map(|p| p.load(Ordering::Acquire))
            .min()
            .unwrap_or(0);
        if !input.ended && input.next < slowest + READ_AHEAD {
            read_and_publish(run, input, &mut early);
            idle = 0;
            continue;
        }
        drop(input);
        // Another worker is steering the batch this one needs, or this one is ahead: spin
        // briefly, then sleep until woken.
        back_off(&mut idle, SPINS);
    }
    early
}

/// Spins a waiting worker makes before it yields or sleeps.
const SPINS: u32 = 64;

/// One step of waiting, the `idle`-th in a row: spin first, then yield the core until
/// `yield_until`, then sleep until woken (or a millisecond passes).
fn back_off(idle: &mut u32, yield_until: u32) {
    *idle = idle.saturating_add(1);
    if *idle < SPINS {
        std::hint::spin_loop();
    } else if *idle < yield_until {
        std::thread::yield_now();
    } else {
        std::thread::park_timeout(Duration::from_millis(1));
    }
}

/// Reads the next batch (the reader lock is `input`, released once the batch is framed),
/// steers it and publishes it to every queue.
fn read_and_publish(
    run: &SharedRun<'_>,
    mut input: std::sync::MutexGuard<'_, SharedInput<'_>>,
    early: &mut Report,
) {
    let number = input.next;
    match input.reader.next_batch(run.batch_size) {
        Ok(Some(b)) => {
            input.next += 1;
            drop(input);
            // The reader is free: another worker may frame the next batch while this one
            // steers.
            wake_others(run);
            let queues = run.progress.len();
            let steer = rss_steer(&run.rss, queues, &b, early);
            if let Ok(mut board) = run.board.lock() {
                board.insert(number, (Arc::new(b), Arc::new(steer), queues));
            }
        }
        Ok(None) => input.ended = true,
        // The batches already read are still taken through (as the good packets before a
        // fault are delivered); the error is returned at the end.
        Err(e) => {
            input.ended = true;
            input.error = Some(e);
        }
    }
    wake_others(run);
}

/// RSS for every packet of a batch (each queue is its own worker).
fn rss_steer(rss: &RssConfig, queues: usize, b: &Batch, early: &mut Report) -> Vec<Steer> {
    let mut steer = Vec::with_capacity(b.len());
    for row in 0..b.len() {
        match rss_of(rss, queues, b, row) {
            Some((queue, hash, l4)) => steer.push(Steer {
                worker: queue as u16,
                queue: queue as u16,
                hash,
                l4,
            }),
            None => not_received(early, &mut steer),
        }
    }
    steer
}

fn wake_others(run: &SharedRun<'_>) {
    let me = std::thread::current().id();
    for t in run.threads.get().into_iter().flatten() {
        if t.id() != me {
            t.unpark();
        }
    }
}

/// The queues' outputs written batch by batch and, within a batch, queue by queue, whatever
/// order the queues finish them in (so the captures do not depend on timing).
struct InOrder {
    queues: usize,
    next: u64,
    pending: BTreeMap<(u64, usize), Output>,
}

impl InOrder {
    fn new(queues: usize) -> Self {
        InOrder {
            queues,
            next: 0,
            pending: BTreeMap::new(),
        }
    }

    fn add(&mut self, batch: u64, queue: usize, out: Output) {
        self.pending.insert((batch, queue), out);
    }

    /// Writes every batch that all queues are through.
    fn write_ready(&mut self, sinks: &mut [Sink]) -> Result<(), ReplayError> {
        while (0..self.queues).all(|q| self.pending.contains_key(&(self.next, q))) {
            for q in 0..self.queues {
                if let Some(out) = self.pending.remove(&(self.next, q)) {
                    write_out(&out, sinks)?;
                }
            }
            self.next += 1;
        }
        Ok(())
    }

    /// Writes everything left, in order (a stopped run leaves batches some queues skipped).
    fn write_all(&mut self, sinks: &mut [Sink]) -> Result<(), ReplayError> {
        for out in std::mem::take(&mut self.pending).values() {
            write_out(out, sinks)?;
        }
        Ok(())
    }
}

/// A worker of queue 1 or more: takes its packets of each batch on its ring.
fn run_worker(
    mut q: Queue<'_>,
    mut rx: Consumer<RxItem>,
    done: &mpsc::Sender<Done>,
    stop: &AtomicBool,
    device: &str,
    rps: bool,
    backlog: &[AtomicUsize],
) -> (Report, Option<HookAbort>) {
    let mut items = Vec::with_capacity(16);
    let mut pkts = Vec::new();
    let mut idle = 0u32;
    loop {
        if rx.dequeue_burst(&mut items, 16) == 0 {
            // Spin briefly (a batch is usually on its way), then sleep until woken.
            back_off(&mut idle, SPINS);
            continue;
        }
        idle = 0;
        for item in items.drain(..) {
            match item {
                RxItem::Batch {
                    batch,
                    steer,
                    number,
                } => {
                    q.take(&batch, &steer, &mut pkts);
                    let n = pkts.len();
                    let out = q.run_batch(&mut pkts);
                    backlog[q.index].fetch_sub(n, Ordering::AcqRel);
                    if q.worker.abort.is_some() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    let _ = done.send(Done {
                        batch: number,
                        queue: q.index,
                        out,
                    });
                }
                RxItem::End => return q.finish(device, rps),
            }
        }
    }
}
