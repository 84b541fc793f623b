//! Running a capture through the stack: a dispatcher reads the capture and spreads packets
//! over the receive queues of the input device by RSS, one ring per queue, and one worker
//! thread per queue polls its ring NAPI-style (GRO included) and takes each poll's packets
//! through the paths.
//!
//! Determinism: the dispatcher reads the input in batches (an interrupt's worth of packets)
//! and ends each batch on every ring with a marker; a worker's polls take `budget` packets
//! and the last poll of a batch stops at the marker (under budget: NAPI completes and GRO
//! flushes everything, `napi_complete_done`). Poll boundaries therefore depend only on the
//! input and the configuration, never on thread timing, and the frames each queue sends
//! during a batch are written queue by queue once every queue is through it. Per-flow order
//! is kept because a flow always hashes to the same queue.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::Stack;
use super::hooks::{ExternalHooks, HookAbort};
use super::path::{Output, Worker};
use super::report::{QueueCounters, Report};
use crate::capture::{CaptureReader, CaptureWriter, LinkType};
use crate::error::Error;
use crate::offload::gro::Gro;
use crate::ring::{self, Consumer, Producer};
use crate::rss::RssConfig;
use crate::skb::{Header, Skb};

/// How a replay runs.
#[derive(Debug, Clone, Copy)]
pub struct ReplayOptions {
    /// Packets read per dispatch (one "interrupt" on every queue).
    pub batch_size: usize,
    /// Slots of each receive ring (power of two).
    pub ring_size: usize,
    /// A full ring drops the packet (counted as `QUEUE_FULL` and in the queue's `drops`), like
    /// a NIC; otherwise the dispatcher waits for the worker, so a replay loses nothing.
    pub drop_on_full: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            batch_size: 4096,
            ring_size: 1024,
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

/// What travels on a receive ring.
enum RxItem {
    Packet(Skb),
    /// End of a dispatch batch (the number of the batch).
    Irq(u64),
    /// No more input.
    End,
}

/// A worker's output for one dispatch batch.
struct Done {
    batch: u64,
    queue: usize,
    out: Output,
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
    let queues = usize::from(dev.rx_queues.max(1));
    let ring_size = opts.ring_size.max(2).next_power_of_two();
    let stop = AtomicBool::new(false);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let mut producers = Vec::with_capacity(queues);
    let mut consumers = Vec::with_capacity(queues);
    for _ in 0..queues {
        let (p, c) = ring::spsc::<RxItem>(ring_size)
            .map_err(|e| Error::Config(format!("receive ring: {e}")))?;
        producers.push(p);
        consumers.push(c);
    }
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(queues);
        for (q, rx) in consumers.into_iter().enumerate() {
            let done_tx = done_tx.clone();
            let stop = &stop;
            handles.push(scope.spawn(move || run_queue(stack, into, q, rx, ext, &done_tx, stop)));
        }
        drop(done_tx);
        let mut disp = Dispatcher {
            stack,
            into,
            producers,
            pending: (0..queues).map(|_| Vec::new()).collect(),
            drops: vec![0; queues],
            opts: *opts,
            waiting: BTreeMap::new(),
            next_write: 0,
        };
        let mut early = Report::default();
        let read = disp.run(reader, &stop, &done_rx, sinks, &mut early);
        // Whatever happened, tell every worker to finish so the threads end.
        disp.broadcast(|| RxItem::End);
        let mut write_err = None;
        for d in &done_rx {
            disp.waiting.insert((d.batch, d.queue), d.out);
        }
        if read.is_ok() {
            // Every queue is through every batch now: write the rest in order.
            for out in std::mem::take(&mut disp.waiting).values() {
                if let Err(e) = write_out(out, sinks) {
                    write_err.get_or_insert(e);
                }
            }
        }
        let mut report = early;
        let mut abort = None;
        for (q, h) in handles.into_iter().enumerate() {
            let (r, a) = h.join().unwrap_or_else(|_| {
                (
                    Report::default(),
                    Some(HookAbort {
                        index: 0,
                        message: format!("worker of queue {q} panicked"),
                    }),
                )
            });
            report.merge(&r);
            if abort.is_none() {
                abort = a;
            }
        }
        let counters = report.device(&dev.name);
        if counters.queues.len() < queues {
            counters.queues.resize(queues, QueueCounters::default());
        }
        for (c, d) in counters.queues.iter_mut().zip(&disp.drops) {
            c.drops += d;
        }
        read?;
        if let Some(e) = write_err {
            return Err(ReplayError::Io(e));
        }
        for s in sinks.iter_mut() {
            s.writer.flush()?;
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

/// Packets made in Python, sent from the host (LOCAL_OUT onwards), on the calling thread.
pub fn output(
    stack: &Stack,
    packets: Vec<Skb>,
    sinks: &mut [Sink],
    ext: &dyn ExternalHooks,
) -> Result<Report, ReplayError> {
    let mut w = Worker::new(stack, ext);
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

fn write_out(out: &Output, sinks: &mut [Sink]) -> Result<(), Error> {
    for f in &out.frames {
        if let Some(s) = sinks.iter_mut().find(|s| s.ifindex == f.dev) {
            let bytes = out.frame(f);
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            s.writer.write_packet(0, f.ts, bytes, len, [])?;
        }
    }
    Ok(())
}

/// The reading side: RSS on the input device, one ring per queue.
struct Dispatcher<'s> {
    stack: &'s Stack,
    into: u32,
    producers: Vec<Producer<RxItem>>,
    pending: Vec<Vec<RxItem>>,
    drops: Vec<u64>,
    opts: ReplayOptions,
    /// Outputs of dispatch batches not every queue is through yet.
    waiting: BTreeMap<(u64, usize), Output>,
    /// The next dispatch batch to write.
    next_write: u64,
}

impl Dispatcher<'_> {
    fn run(
        &mut self,
        reader: &mut CaptureReader,
        stop: &AtomicBool,
        done_rx: &mpsc::Receiver<Done>,
        sinks: &mut [Sink],
        early: &mut Report,
    ) -> Result<(), ReplayError> {
        let dev = self.stack.device(self.into).expect("checked by replay");
        let queues = self.producers.len();
        let default_rss;
        let rss = if let Some(r) = &dev.rss {
            r
        } else {
            default_rss = RssConfig::new(queues)?;
            &default_rss
        };
        let mut batch_no = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let Some(b) = reader.next_batch(self.opts.batch_size.max(1))? else {
                break;
            };
            for row in 0..b.len() {
                let Some(mut skb) = Skb::from_batch(&b, row) else {
                    continue;
                };
                skb.meta.seq = b.first_index + row as u64;
                let lt = LinkType(b.linktype.get(row).copied().unwrap_or_default());
                match lt {
                    LinkType::ETHERNET => {}
                    LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => {
                        skb.clear_header(Header::Mac);
                        let _ = skb.reset_network_header();
                    }
                    // Not a link type the device speaks: no header set, dropped on receive.
                    _ => skb.clear_header(Header::Mac),
                }
                // The NIC's RSS: hash, then the indirection table (no IP header: queue 0).
                let q = match rss.hash(skb.data(), lt) {
                    Some((hash, l4)) => {
                        skb.meta.set_hash(hash, l4);
                        usize::from(rss.queue(hash)) % queues
                    }
                    None => 0,
                };
                skb.meta.queue_mapping = q as u16;
                self.pending[q].push(RxItem::Packet(skb));
            }
            self.flush_pending(early, dev);
            self.broadcast(|| RxItem::Irq(batch_no));
            batch_no += 1;
            // Write what every queue finished, in batch then queue order.
            while let Ok(d) = done_rx.try_recv() {
                self.waiting.insert((d.batch, d.queue), d.out);
            }
            self.write_ready(sinks)?;
        }
        Ok(())
    }

    /// Writes every dispatch batch all queues are through, in batch then queue order.
    fn write_ready(&mut self, sinks: &mut [Sink]) -> Result<(), Error> {
        let queues = self.producers.len();
        while (0..queues).all(|q| self.waiting.contains_key(&(self.next_write, q))) {
            for q in 0..queues {
                if let Some(out) = self.waiting.remove(&(self.next_write, q)) {
                    write_out(&out, sinks)?;
                }
            }
            self.next_write += 1;
        }
        Ok(())
    }

    /// Moves the batch's packets onto the rings: waits for room, or with `drop_on_full`
    /// drops what does not fit.
    fn flush_pending(&mut self, early: &mut Report, dev: &super::DeviceConfig) {
        for q in 0..self.producers.len() {
            let items = &mut self.pending[q];
            let prod = &mut self.producers[q];
            while !items.is_empty() {
                if prod.enqueue_burst(items) == 0 {
                    if self.opts.drop_on_full {
                        let n = items.len() as u64;
                        items.clear();
                        self.drops[q] += n;
                        early.entered += n;
                        early.drop(crate::DropReason::QueueFull, n);
                        let c = early.device(&dev.name);
                        c.rx_packets += n;
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
        }
    }

    fn broadcast(&mut self, item: impl Fn() -> RxItem) {
        for p in &mut self.producers {
            let mut one = vec![item()];
            while p.enqueue_burst(&mut one) == 0 {
                std::thread::yield_now();
            }
        }
    }
}

/// One receive queue's worker: NAPI polls of the device's budget, GRO, the paths.
fn run_queue(
    stack: &Stack,
    ifindex: u32,
    queue: usize,
    mut rx: Consumer<RxItem>,
    ext: &dyn ExternalHooks,
    done: &mpsc::Sender<Done>,
    stop: &AtomicBool,
) -> (Report, Option<HookAbort>) {
    let dev = stack.device(ifindex).expect("checked by replay");
    let budget = dev.gro.budget.max(1);
    let mut gro = Gro::new(dev.gro, dev.features);
    let mut worker = Worker::new(stack, ext);
    let mut inbox: std::collections::VecDeque<RxItem> = std::collections::VecDeque::new();
    let mut burst = Vec::with_capacity(256);
    let mut poll: Vec<Skb> = Vec::with_capacity(budget);
    let mut up: Vec<Skb> = Vec::with_capacity(budget * 2);
    let mut qc = QueueCounters::default();
    'run: loop {
        // Gather one poll: `budget` packets, or fewer when the batch's marker comes first.
        let mut marker = None;
        while poll.len() < budget {
            let Some(item) = inbox.pop_front() else {
                if rx.dequeue_burst(&mut burst, 256) == 0 {
                    std::thread::yield_now();
                }
                inbox.extend(burst.drain(..));
                continue;
            };
            match item {
                RxItem::Packet(skb) => poll.push(skb),
                RxItem::Irq(b) => {
                    marker = Some(Some(b));
                    break;
                }
                RxItem::End => {
                    marker = Some(None);
                    break;
                }
            }
        }
        let work = poll.len();
        // The end marker is not a poll: the device goes away.
        if work > 0 || matches!(marker, Some(Some(_))) {
            qc.polls += 1;
            if work == budget {
                qc.budget_exhausted += 1;
            }
            for skb in &poll {
                qc.packets += 1;
                qc.bytes += skb.len() as u64;
            }
            let mut it = poll.drain(..).filter_map(|skb| {
                if skb.mac_header().is_none() && skb.network_header().is_none() {
                    // Not a frame GRO can parse: up as it is.
                    up.push(skb);
                    None
                } else {
                    Some(skb)
                }
            });
            let mut got = Vec::new();
            if work < budget {
                gro.napi_poll(&mut it, &mut got);
            } else {
                // A full poll; if the batch ends right here, NAPI polls once more, finds
                // nothing and completes (flushing everything).
                gro.napi_poll(&mut it, &mut got);
                if marker.is_some() {
                    gro.napi_poll(&mut std::iter::empty(), &mut got);
                    qc.polls += 1;
                }
            }
            drop(it);
            up.append(&mut got);
            // After a stop the worker still drains its ring: what it takes entered the
            // stack and is counted as unprocessed.
            worker.receive(ifindex, &mut up);
            if worker.abort.is_some() {
                stop.store(true, Ordering::Relaxed);
            }
        }
        match marker {
            Some(Some(b)) => {
                worker.refresh_hooks();
                let out = std::mem::take(&mut worker.out);
                let _ = done.send(Done {
                    batch: b,
                    queue,
                    out,
                });
            }
            Some(None) => break 'run,
            None => {}
        }
    }
    worker.finish();
    let mut report = std::mem::take(&mut worker.report);
    let counters = report.device(&dev.name);
    let gs = *gro.stats();
    counters.gro = gs;
    counters.queues = vec![QueueCounters::default(); queue + 1];
    counters.queues[queue] = qc;
    (report, worker.abort.take())
}
