//! No heap allocation per packet on the read → `Skb` → header-access path, and none per packet
//! for copy on write through the buffer pool once it is warm (DESIGN.md, "Zero copy" and "No
//! allocation per packet").
//!
//! A counting global allocator wraps the system allocator. Counts are per thread (a
//! `const`-initialised thread-local, which never allocates itself), so the test harness's own
//! threads and the other tests running in parallel do not disturb the measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::sync::{Arc, Mutex};

use netcore_core::demux;
use netcore_core::skb::{Frag, Skb, VlanTag, local_stats};
use netcore_core::{Batch, CaptureReader, CaptureWriter, LinkType, WriterOptions};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with` fails only while the thread is being torn down; nothing is measured then.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

/// Allocations (`alloc`, `alloc_zeroed`, `realloc`) made by this thread so far.
fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; counting touches only a thread-local `Cell` and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller's guarantees for `layout` are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes through
        // this wrapper), and the caller's guarantees on `new_size` are passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Packets per batch, fixed for every measurement (the NAPI weight).
const BATCH: usize = 64;

/// A `Write` into a shared vector, so the test can take back what the writer wrote.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Frame `i` of a varied trace: IPv4/TCP, IPv4/UDP, IPv6/UDP, VLAN/IPv4/TCP and ARP.
fn frame(i: usize) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    let kind = i % 5;
    if kind == 3 {
        f.extend_from_slice(&[0x81, 0x00, 0x00, (i % 4000) as u8]);
    }
    let sport = (1024 + i % 50_000) as u16;
    match kind {
        0 | 1 | 3 => {
            let proto = if kind == 1 { 17 } else { 6 };
            let l4_len = if proto == 6 { 20 } else { 8 };
            f.extend_from_slice(&[0x08, 0x00]);
            let total = (20 + l4_len + 10) as u16;
            f.extend_from_slice(&[0x45, 0]);
            f.extend_from_slice(&total.to_be_bytes());
            f.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
            f.extend_from_slice(&sport.to_be_bytes());
            f.extend_from_slice(&443u16.to_be_bytes());
            f.extend(std::iter::repeat_n(0, l4_len - 4));
        }
        2 => {
            f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 18, 17, 64]);
            f.extend(std::iter::repeat_n(0xfe, 32));
            f.extend_from_slice(&sport.to_be_bytes());
            f.extend_from_slice(&53u16.to_be_bytes());
            f.extend_from_slice(&[0, 18, 0, 0]);
        }
        _ => {
            f.extend_from_slice(&[0x08, 0x06]);
            f.extend(std::iter::repeat_n(1, 28));
        }
    }
    f.extend(std::iter::repeat_n(0xab, 10));
    f
}

/// A pcapng capture of `n` frames, in memory.
fn capture(n: usize) -> Arc<dyn AsRef<[u8]> + Send + Sync> {
    let sink = Shared::default();
    let opts = WriterOptions::pcapng(LinkType::ETHERNET);
    let mut w = CaptureWriter::new(Box::new(sink.clone()), "mem", opts).unwrap();
    for i in 0..n {
        let f = frame(i);
        w.write_packet(0, i as i64 * 1000, &f, f.len() as u32, [])
            .unwrap();
    }
    w.close().unwrap();
    drop(w);
    let bytes = sink.0.lock().unwrap().clone();
    Arc::new(bytes)
}

/// Parses packet `row` of `batch` as the receive path would start to: a zero-copy view, the
/// Ethernet header (and a VLAN tag) pulled, the network and transport headers located, the
/// ethertype, IP protocol and ports read. Returns a digest of what was read.
fn parse(batch: &Batch, row: usize) -> u64 {
    let mut skb = Skb::from_batch(batch, row).unwrap();
    assert!(skb.is_shared());
    let eth = skb.pull(14).unwrap();
    let mut proto = u16::from_be_bytes([eth[12], eth[13]]);
    if proto == 0x8100 {
        let tag = skb.pull(4).unwrap();
        let tci = u16::from_be_bytes([tag[0], tag[1]]);
        proto = u16::from_be_bytes([tag[2], tag[3]]);
        skb.meta.vlan = Some(VlanTag { proto: 0x8100, tci });
    }
    skb.meta.protocol = proto;
    skb.reset_network_header().unwrap();
    let l4 = match proto {
        0x0800 => {
            let ip = skb.data();
            let (ihl, l4) = (usize::from(ip[0] & 0x0f) * 4, ip[9]);
            skb.set_transport_header(ihl as isize).unwrap();
            l4
        }
        0x86dd => {
            let l4 = skb.data()[6];
            skb.set_transport_header(40).unwrap();
            l4
        }
        _ => 0,
    };
    let mut ports = [0u8; 4];
    let mut digest = u64::from(proto) << 8 | u64::from(l4);
    if let Some(off) = skb.transport_offset() {
        let p = skb.header_pointer(off as usize, &mut ports).unwrap();
        digest = digest.wrapping_mul(31) + u64::from(u16::from_be_bytes([p[0], p[1]]));
        digest = digest.wrapping_mul(31) + u64::from(u16::from_be_bytes([p[2], p[3]]));
    }
    assert!(skb.is_shared(), "reading never copies");
    digest + skb.len() as u64
}

#[derive(Debug, Default)]
struct Run {
    packets: u64,
    batches: u64,
    /// Allocations from creating the reader to dropping it.
    total: u64,
    /// Allocations inside `next_batch` calls that returned a batch, per call.
    per_read: Vec<u64>,
    /// Allocations while turning packets into Skbs and reading their headers.
    packet_path: u64,
    digest: u64,
    /// Allocations of demultiplexing, per batch.
    per_demux: Vec<u64>,
}

/// Reads the whole capture batch by batch and parses every packet, counting allocations.
fn run(cap: &Arc<dyn AsRef<[u8]> + Send + Sync>) -> Run {
    // The measurement's own vector is allocated before counting starts.
    let mut r = Run {
        per_read: Vec::with_capacity(1024),
        ..Run::default()
    };
    r.per_demux.reserve(1024);
    let mut tables = demux::Tables::new();
    tables.register(demux::Match::UdpPort(53), 1).unwrap();
    let start = allocs();
    let mut reader = CaptureReader::from_bytes(Arc::clone(cap), "mem", true).unwrap();
    loop {
        let before = allocs();
        let Some(batch) = reader.next_batch(BATCH).unwrap() else {
            break;
        };
        r.per_read.push(allocs() - before);
        r.batches += 1;
        let before = allocs();
        for row in 0..batch.len() {
            r.digest = r.digest.wrapping_add(parse(&batch, row));
            r.packets += 1;
        }
        r.packet_path += allocs() - before;
        // Demultiplexing: dissection into columns, checksum verification, classification.
        let before = allocs();
        let cols = demux::dissect_batch(&batch, &tables);
        let verdicts = demux::verify_batch(&batch, &cols);
        let (handlers, unclaimed) = tables.classify(&cols);
        r.digest = r
            .digest
            .wrapping_add(u64::from(cols.sport[0]) + u64::from(verdicts.csum_l4[0]));
        r.digest = r.digest.wrapping_add(handlers.len() as u64);
        drop((cols, verdicts, handlers, unclaimed));
        r.per_demux.push(allocs() - before);
    }
    drop(reader);
    // Demultiplexing is measured on its own (below): leave it out of the reader's total.
    r.total = allocs() - start - r.per_demux.iter().sum::<u64>();
    r
}

#[test]
fn read_parse_allocates_nothing_per_packet() {
    let small_cap = capture(100);
    let large_cap = capture(10_000);
    run(&small_cap); // warm-up: lazy statics, thread-locals
    let small = run(&small_cap);
    let large = run(&large_cap);
    assert_eq!((small.packets, large.packets), (100, 10_000));
    assert_eq!((small.batches, large.batches), (2, 157));
    assert_ne!(large.digest, 0);

    // Skb views and header access: exactly zero, whatever the number of packets.
    assert_eq!(small.packet_path, 0);
    assert_eq!(large.packet_path, 0);

    // The reader allocates a constant per batch (the batch's columns), not per packet.
    let per_batch = large.per_read[0];
    assert!(
        large
            .per_read
            .iter()
            .chain(&small.per_read)
            .all(|&a| a == per_batch),
        "allocations per batch vary: {:?}",
        large.per_read
    );
    let extra_batches = large.batches - small.batches;
    // Counts are far below 2^52: the conversions to f64 are exact.
    #[allow(clippy::cast_precision_loss)]
    let extra_packets = (large.packets - small.packets) as f64;
    #[allow(clippy::cast_precision_loss)]
    let per_packet = (large.total as f64 - small.total as f64 - (per_batch * extra_batches) as f64)
        / extra_packets;
    eprintln!(
        "allocations: {} for {} packets, {} for {} packets; {} per batch of {}; {:.4} per packet",
        small.total, small.packets, large.total, large.packets, per_batch, BATCH, per_packet
    );
    assert_eq!(
        large.total,
        small.total + per_batch * extra_batches,
        "10,000 packets cost 100 packets plus a per-batch constant"
    );
    assert!(per_packet < 0.01, "{per_packet} allocations per packet");

    // Dissection, verification and classification allocate their columns once per batch,
    // the same number whatever the batch holds.
    let per_demux = large.per_demux[0];
    assert!(
        large
            .per_demux
            .iter()
            .chain(&small.per_demux)
            .all(|&a| a == per_demux),
        "demux allocations per batch vary: {:?}",
        large.per_demux
    );
    eprintln!("demux: {per_demux} allocations per batch of {BATCH}, 0 per packet");
}

/// One copy-on-write cycle: a view is made writable (TTL decrement), gets a VLAN tag pushed in
/// front, has a second packet's payload chained as a fragment, is made linear, and is dropped.
fn cow_cycle(batch: &Batch, row: usize, other: &Batch) -> u64 {
    let mut skb = Skb::from_batch(batch, row).unwrap();
    skb.pull(14).unwrap();
    skb.reset_network_header().unwrap();
    if skb.data().len() > 8 {
        let ttl = &mut skb.data_mut().unwrap()[8];
        *ttl = ttl.wrapping_sub(1);
    }
    assert!(!skb.is_shared());
    skb.push(14).unwrap();
    let tag = skb.push(4).unwrap();
    tag.copy_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    let mut seg = Skb::from_batch(other, row % other.len()).unwrap();
    seg.pull(14).unwrap();
    let frag: Frag = seg.data_frag().unwrap();
    skb.add_frag(frag).unwrap();
    skb.linearize().unwrap();
    skb.len() as u64 + u64::from(skb.data()[0])
}

#[test]
fn copy_on_write_through_the_pool_allocates_nothing_when_warm() {
    let cap = capture(BATCH * 2);
    let mut reader = CaptureReader::from_bytes(cap, "mem", true).unwrap();
    let a = reader.next_batch(BATCH).unwrap().unwrap();
    let b = reader.next_batch(BATCH).unwrap().unwrap();
    let mut sum = 0u64;
    for i in 0..100 {
        sum = sum.wrapping_add(cow_cycle(&a, i % a.len(), &b));
    }
    let pool_before = local_stats();
    let before = allocs();
    for i in 0..10_000 {
        sum = sum.wrapping_add(cow_cycle(&a, i % a.len(), &b));
    }
    let n = allocs() - before;
    let pool = local_stats();
    eprintln!("copy on write: {n} allocations in 10,000 cycles; pool {pool_before:?} -> {pool:?}");
    assert_ne!(sum, 0);
    assert_eq!(n, 0, "10,000 push/modify/drop cycles allocated");
    assert_eq!(pool.allocated, pool_before.allocated);
    assert_eq!(pool.reused - pool_before.reused, 10_000);
    assert_eq!(
        pool.frag_lists_reused - pool_before.frag_lists_reused,
        10_000
    );

    // A whole batch in flight at once, as a stage holds it: 64 buffers out of the pool, then
    // back. The vector holding the batch is reused, as a worker's would be.
    let mut held: Vec<Skb> = Vec::with_capacity(BATCH);
    let round = |held: &mut Vec<Skb>| {
        for row in 0..a.len() {
            let mut skb = Skb::from_batch(&a, row).unwrap();
            skb.data_mut().unwrap()[0] ^= 1;
            held.push(skb);
        }
        held.clear();
    };
    round(&mut held);
    let before = allocs();
    for _ in 0..200 {
        round(&mut held);
    }
    assert_eq!(
        allocs() - before,
        0,
        "batches of 64 writable packets allocated"
    );
}
