//! The dissection floor: a plain loop over the memory-mapped records of a pcap file that
//! extracts every packet's 5-tuple and folds it into a checksum, so that nothing is optimised
//! away. Prints one line of JSON (packets, tuples, port sum, best elapsed ns, every run).
//!
//! Usage: `floor_5tuple PATH [--repeat N] [--verify] [--prefetch BYTES]
//! [--netcore [--batch N] [--malloc-default]]`.
//!
//! - The floor walks Ethernet, any number of 802.1Q/802.1ad tags, IPv4 or IPv6 (no extension
//!   headers), and reads addresses, protocol and TCP/UDP ports. It follows one tunnel, as the
//!   dissector does: VXLAN (UDP 4789), Geneve (UDP 6081) and GRE, to the inner Ethernet frame or
//!   IP packet and its 5-tuple. There is no validation beyond bounds and the IP header lengths,
//!   no columns and no batches: the least work that gets the same fields.
//! - `--verify` also verifies every IPv4 header checksum and every TCP and UDP checksum (with
//!   the pseudo-header; outer and inner) with the plain ones'-complement loop: 32-bit words
//!   added into a 64-bit accumulator, folded once at the end (`sum_plain`).
//! - `--prefetch BYTES` streams the file into the cache that many bytes ahead of the record
//!   being read (`netcore_benches::prefetch_to`, as `floor_pcap --prefetch`). The plain loop
//!   waits for one cache miss per record, since the next record's address is in the current
//!   one; a loop that reads every byte (`--verify`) gets the hardware prefetcher's stream for
//!   free, which is why the plain floor can be slower than the verifying one.
//! - `--netcore` runs the core instead (no Python): `demux::read_dissected` in batches of
//!   `--batch` packets (default 4096), which reads each record and dissects it (with
//!   `--verify`, verifies its checksums too) in one pass: what a `netcore.open()` loop that
//!   reads `b.sport` (and `b.csum`) of every batch does, minus the binding. Each batch and
//!   its columns are dropped after the next batch is dissected, as in a Python loop (`for b in
//!   ...` rebinds `b` after the next batch exists), and glibc's heap trimming is turned off
//!   (`mallopt`), as it in effect is in the Python process, whose heap top other objects hold:
//!   otherwise glibc gives the ~150 bytes per packet of columns back to the kernel after each
//!   batch and faults them in again for the next (about 70 faults per 4096-packet batch,
//!   15-25% more time on the tunnel capture). `--malloc-default` keeps glibc's default.
//!
//! Each run opens and maps the file, walks it and unmaps it, as a reader would; warm the page
//! cache first for a fair comparison. Only classic pcap with Ethernet frames is read.

use std::fmt::Write as _;
use std::fs::File;
use std::process::ExitCode;
use std::time::Duration;

use netcore_benches::{emit, json_escape, prefetch_to, timed};
use netcore_core::demux::{self, Tables};
use netcore_core::{CaptureReader, ReadOptions};

const USAGE: &str = "usage: floor_5tuple PATH [--repeat N] [--verify] [--prefetch BYTES] \
                     [--netcore [--batch N] [--malloc-default]]";

const VXLAN_PORT: u16 = 4789;
const GENEVE_PORT: u16 = 6081;

/// What a pass counted; the Python driver compares these between contenders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Acc {
    /// Packets seen.
    packets: u64,
    /// TCP/UDP 5-tuples extracted (outer and inner).
    tuples: u64,
    /// Sum of their source and destination ports.
    port_sum: u64,
    /// Every field of every 5-tuple, folded (floor only).
    fold: u64,
    /// Checksums verified (`--verify`).
    csums: u64,
    /// Of which wrong.
    csums_bad: u64,
}

impl Acc {
    /// Folds the fields of a tuple in (a sum: independent from packet to packet).
    #[inline]
    fn fold_in(&mut self, fields: u64) {
        self.fold = self.fold.wrapping_add(fields);
    }
}

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

#[inline]
fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_ne_bytes)
}

/// The plain ones'-complement sum: native-endian 32-bit words into a 64-bit accumulator (an odd
/// tail padded with zeros), no unrolling and no intrinsics. Folded by [`verifies`].
#[inline]
fn sum_plain(data: &[u8], mut acc: u64) -> u64 {
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    let mut last = [0u8; 4];
    last[..rest.len()].copy_from_slice(rest);
    acc + u64::from(u32::from_ne_bytes(last))
}

/// Whether a region summed by [`sum_plain`], checksum field included, verifies (folds to -0).
#[inline]
fn verifies(acc: u64) -> bool {
    let mut s = acc;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s == 0xffff
}

/// The network layer of a packet: where its payload is and what the pseudo-header sums to.
struct Net {
    proto: u8,
    /// Offset of the transport header.
    l4: usize,
    /// End of the IP payload.
    end: usize,
    /// Addresses, folded.
    addr: u64,
    /// Pseudo-header sum without the length and protocol word (filled with `--verify` only).
    pseudo: u64,
    /// IPv4 and a later fragment: no transport header.
    later_fragment: bool,
}

/// An Ethernet frame at `f[off..]`: tags, then the network layer.
#[inline]
fn ether<const VERIFY: bool>(f: &[u8], off: usize, outer: bool, acc: &mut Acc) {
    let Some(mut t) = be16(f, off + 12) else {
        return;
    };
    let mut at = off + 14;
    while matches!(t, 0x8100 | 0x88a8) {
        let Some(inner) = be16(f, at + 2) else {
            return;
        };
        t = inner;
        at += 4;
    }
    network::<VERIFY>(f, t, at, outer, acc);
}

#[inline]
fn ipv4<const VERIFY: bool>(f: &[u8], off: usize, acc: &mut Acc) -> Option<Net> {
    let h = f.get(off..off + 20)?;
    let hlen = usize::from(h[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if h[0] >> 4 != 4 || hlen < 20 || total < hlen || off + total > f.len() {
        return None;
    }
    let src = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
    let dst = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
    let mut pseudo = 0;
    if VERIFY {
        acc.csums += 1;
        acc.csums_bad += u64::from(!verifies(sum_plain(&f[off..off + hlen], 0)));
        pseudo = sum_plain(&h[12..20], 0);
    }
    Some(Net {
        proto: h[9],
        l4: off + hlen,
        end: off + total,
        addr: (u64::from(src) << 32) | u64::from(dst),
        pseudo,
        later_fragment: u16::from_be_bytes([h[6], h[7]]) & 0x1fff != 0,
    })
}

#[inline]
fn ipv6<const VERIFY: bool>(f: &[u8], off: usize) -> Option<Net> {
    let h = f.get(off..off + 40)?;
    let end = off + 40 + usize::from(u16::from_be_bytes([h[4], h[5]]));
    if h[0] >> 4 != 6 || end > f.len() {
        return None;
    }
    let addr = u64_at(h, 8)
        ^ u64_at(h, 16).rotate_left(16)
        ^ u64_at(h, 24).rotate_left(32)
        ^ u64_at(h, 32).rotate_left(48);
    Some(Net {
        proto: h[6],
        l4: off + 40,
        end,
        addr,
        pseudo: if VERIFY { sum_plain(&h[8..40], 0) } else { 0 },
        later_fragment: false,
    })
}

/// The network layer selected by `ethertype` at `f[off..]`, then its transport layer.
#[inline]
fn network<const VERIFY: bool>(f: &[u8], ethertype: u16, off: usize, outer: bool, acc: &mut Acc) {
    let net = match ethertype {
        0x0800 => ipv4::<VERIFY>(f, off, acc),
        0x86dd => ipv6::<VERIFY>(f, off),
        _ => None,
    };
    let Some(net) = net else {
        return;
    };
    if net.later_fragment {
        acc.fold_in(net.addr ^ (u64::from(net.proto) << 56));
        return;
    }
    match net.proto {
        6 | 17 => transport::<VERIFY>(f, &net, outer, acc),
        47 if outer => gre::<VERIFY>(f, net.l4, net.end, acc),
        _ => acc.fold_in(net.addr ^ (u64::from(net.proto) << 56)),
    }
}

/// A TCP or UDP header: the 5-tuple, the checksum, and a UDP tunnel's inner packet.
#[inline]
fn transport<const VERIFY: bool>(f: &[u8], net: &Net, outer: bool, acc: &mut Acc) {
    let (l4, proto) = (net.l4, net.proto);
    let Some(h) = f.get(l4..l4 + 8) else {
        return;
    };
    let (sport, dport) = (
        u16::from_be_bytes([h[0], h[1]]),
        u16::from_be_bytes([h[2], h[3]]),
    );
    acc.tuples += 1;
    acc.port_sum += u64::from(sport) + u64::from(dport);
    let ports = (u64::from(sport) << 16) | u64::from(dport);
    acc.fold_in(net.addr ^ (u64::from(proto) << 56) ^ ports);
    // A UDP datagram ends where its length says; a TCP segment where the IP payload does.
    let end = if proto == 17 {
        let ulen = usize::from(u16::from_be_bytes([h[4], h[5]]));
        if ulen < 8 || l4 + ulen > net.end {
            return;
        }
        l4 + ulen
    } else {
        net.end
    };
    if VERIFY && !(proto == 17 && h[6..8] == [0, 0]) {
        let len = (end - l4) as u16;
        let [hi, lo] = len.to_be_bytes();
        let pseudo = net.pseudo + u64::from(u32::from_ne_bytes([0, proto, hi, lo]));
        acc.csums += 1;
        acc.csums_bad += u64::from(!verifies(sum_plain(&f[l4..end], pseudo)));
    }
    if proto == 17 && outer {
        let f = &f[..end];
        match dport {
            VXLAN_PORT => ether::<VERIFY>(f, l4 + 16, false, acc),
            GENEVE_PORT => {
                let (Some(&b0), Some(inner)) = (f.get(l4 + 8), be16(f, l4 + 10)) else {
                    return;
                };
                let at = l4 + 16 + usize::from(b0 & 0x3f) * 4;
                match inner {
                    0x6558 => ether::<VERIFY>(f, at, false, acc),
                    t => network::<VERIFY>(f, t, at, false, acc),
                }
            }
            _ => {}
        }
    }
}

/// A GRE header (RFC 2784/2890) and the packet it carries.
#[inline]
fn gre<const VERIFY: bool>(f: &[u8], off: usize, end: usize, acc: &mut Acc) {
    let f = &f[..end];
    let (Some(flags), Some(inner)) = (be16(f, off), be16(f, off + 2)) else {
        return;
    };
    if flags & 0x7 != 0 {
        return;
    }
    // Checksum, key and sequence number add 4 bytes each.
    let at = off
        + 4
        + 4 * (usize::from(flags & 0x8000 != 0)
            + usize::from(flags & 0x2000 != 0)
            + usize::from(flags & 0x1000 != 0));
    match inner {
        0x6558 => ether::<VERIFY>(f, at, false, acc),
        t => network::<VERIFY>(f, t, at, false, acc),
    }
}

#[inline]
fn u32_at(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// Every record of a classic pcap file of Ethernet frames.
fn floor<const VERIFY: bool>(data: &[u8], prefetch: usize) -> Result<Acc, String> {
    let big_endian = match u32_at(data, 0, false) {
        Some(0xa1b2_c3d4 | 0xa1b2_3c4d) => false,
        Some(0xd4c3_b2a1 | 0x4d3c_b2a1) => true,
        _ => return Err("not a classic pcap file".into()),
    };
    if u32_at(data, 20, big_endian).map(|l| l & 0x0fff_ffff) != Some(1) {
        return Err("the floor reads Ethernet (link type 1) only".into());
    }
    let mut acc = Acc::default();
    let mut pos = 24usize;
    let mut ahead = 0usize;
    while let Some(caplen) = u32_at(data, pos + 8, big_endian) {
        if prefetch != 0 {
            prefetch_to(data, &mut ahead, pos + prefetch);
        }
        let start = pos + 16;
        let Some(frame) = data.get(start..start + caplen as usize) else {
            break;
        };
        acc.packets += 1;
        ether::<VERIFY>(frame, 0, true, &mut acc);
        pos = start + caplen as usize;
    }
    Ok(acc)
}

/// Stops glibc from trimming the heap (and from serving large blocks with `mmap`), so that
/// memory freed by a batch's columns is reused by the next batch's without page faults.
fn keep_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: `mallopt` only changes allocator parameters; any value is accepted or refused.
        unsafe {
            mallopt(M_TRIM_THRESHOLD, i32::MAX);
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
        }
    }
}

/// The core dissector (and verifier) over the whole file, in batches.
///
/// With `count`, also counts 5-tuples, ports and verdicts from the columns (for the driver's
/// cross-check, in a pass of its own: the timed passes only touch the columns' lengths).
fn netcore(o: &Opts, count: bool) -> netcore_core::Result<Acc> {
    let (batch, verify) = (o.batch, o.verify);
    let mut reader = CaptureReader::open(&o.path, ReadOptions::default())?;
    if !o.malloc_default {
        keep_heap();
    }
    let tables = Tables::new();
    let mut acc = Acc::default();
    let mut previous = None;
    while let Some(d) = demux::read_dissected(&mut reader, batch, &tables, verify)? {
        let (b, cols, verdicts) = (d.batch, d.columns, d.checksums);
        acc.packets += b.len() as u64;
        if !count {
            acc.tuples += cols.len() as u64;
            acc.csums += verdicts.as_ref().map_or(0, |v| v.csum.len() as u64);
            previous = Some((b, cols, verdicts));
            continue;
        }
        for i in 0..cols.len() {
            if matches!(cols.l4proto[i], 6 | 17) && cols.frag[i] < 2 {
                acc.tuples += 1;
                acc.port_sum += u64::from(cols.sport[i]) + u64::from(cols.dport[i]);
            }
            if matches!(cols.inner_l4proto[i], 6 | 17) {
                acc.tuples += 1;
                acc.port_sum += u64::from(cols.inner_sport[i]) + u64::from(cols.inner_dport[i]);
            }
        }
        if let Some(v) = &verdicts {
            for &code in v.csum.as_flattened() {
                acc.csums += u64::from(code != 0);
                acc.csums_bad += u64::from(code > 1);
            }
        }
        previous = Some((b, cols, verdicts));
    }
    drop(previous);
    Ok(acc)
}

struct Opts {
    path: String,
    repeat: usize,
    batch: usize,
    prefetch: usize,
    verify: bool,
    netcore: bool,
    malloc_default: bool,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        path: String::new(),
        repeat: 5,
        batch: 4096,
        prefetch: 0,
        verify: false,
        netcore: false,
        malloc_default: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .ok_or_else(|| format!("{name} needs a positive number\n{USAGE}"))
        };
        match a.as_str() {
            "--repeat" => o.repeat = number("--repeat")?,
            "--batch" => o.batch = number("--batch")?,
            "--prefetch" => o.prefetch = number("--prefetch")?,
            "--verify" => o.verify = true,
            "--netcore" => o.netcore = true,
            "--malloc-default" => o.malloc_default = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            _ if o.path.is_empty() && !a.starts_with('-') => o.path = a,
            _ => return Err(format!("unexpected argument {a:?}\n{USAGE}")),
        }
    }
    if o.path.is_empty() {
        return Err(USAGE.to_string());
    }
    Ok(o)
}

fn run(o: &Opts) -> Result<String, String> {
    let counted = if o.netcore {
        Some(netcore(o, true).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let (acc, runs) = timed(o.repeat, || -> Result<Acc, String> {
        if o.netcore {
            return netcore(o, false).map_err(|e| e.to_string());
        }
        let file = File::open(&o.path).map_err(|e| format!("{}: {e}", o.path))?;
        // SAFETY: read-only private mapping of a file that the benchmark does not modify while
        // it runs; nothing else writes benchmark inputs.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("{}: {e}", o.path))?;
        if o.verify {
            floor::<true>(&map, o.prefetch)
        } else {
            floor::<false>(&map, o.prefetch)
        }
        .map_err(|e| format!("{}: {e}", o.path))
    })?;
    let tool = match (o.netcore, o.verify, o.prefetch != 0) {
        (false, false, false) => "floor_5tuple",
        (false, true, false) => "floor_5tuple_verify",
        (false, false, true) => "floor_5tuple_prefetch",
        (false, true, true) => "floor_5tuple_verify_prefetch",
        (true, false, _) => "netcore_dissect",
        (true, true, _) => "netcore_dissect_verify",
    };
    // The counts of the counting pass.
    let acc = counted.unwrap_or(acc);
    let ns: Vec<u128> = runs.iter().map(Duration::as_nanos).collect();
    let mut s = format!(
        "{{\"tool\": \"{tool}\", \"path\": \"{}\", \"packets\": {}, \"tuples\": {}, \
         \"port_sum\": {}, \"fold\": {}, \"csums\": {}, \"csums_bad\": {}, \
         \"elapsed_ns\": {}, \"runs_ns\": {ns:?}",
        json_escape(&o.path),
        acc.packets,
        acc.tuples,
        acc.port_sum,
        acc.fold,
        acc.csums,
        acc.csums_bad,
        ns.iter().copied().min().unwrap_or(0),
    );
    if o.netcore {
        let _ = write!(s, ", \"batch\": {}", o.batch);
    }
    s.push('}');
    Ok(s)
}

fn main() -> ExitCode {
    let line = parse().and_then(|o| run(&o));
    match line.map(|l| emit(&l).map_err(|e| e.to_string())) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) | Err(e) => {
            eprintln!("floor_5tuple: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071's example words, and a header with a known checksum.
    #[test]
    fn plain_sum_verifies() {
        // 20-byte IPv4 header with checksum 0xb861 (a classic example).
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verifies(sum_plain(&hdr, 0)));
        let mut bad = hdr;
        bad[11] ^= 1;
        assert!(!verifies(sum_plain(&bad, 0)));
        // An odd length pads with a zero byte: [0x01] sums like the word 0x0100.
        assert_eq!(
            verifies(sum_plain(&[0xfe], 0)),
            verifies(sum_plain(&[0xfe, 0x00], 0))
        );
    }
}
