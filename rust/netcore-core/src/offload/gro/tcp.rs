//! TCP over IPv4 and IPv6: `tcp_gro_receive` (after `tcp4_gro_receive` / `tcp6_gro_receive`
//! verified the checksum, see `parse.rs`) and `tcp4_gro_complete` / `tcp6_gro_complete` /
//! `tcp_gro_complete`.

use super::ip::{network_flush, put16};
use super::parse::{Hdr, bytes_eq};
use super::{Held, Seg, Verdict};
use crate::checksum;
use crate::skb::GsoType;

// Bits of `tcp_flag_word`, the 32-bit word at offset 12: data offset, reserved bits and
// flags, window (`TCP_FLAG_*` in `include/net/tcp.h`).
const FIN: u32 = 0x0001_0000;
const SYN: u32 = 0x0002_0000;
const RST: u32 = 0x0004_0000;
const PSH: u32 = 0x0008_0000;
const URG: u32 = 0x0020_0000;
const CWR: u32 = 0x0080_0000;

fn be32(d: &[u8], at: usize) -> u32 {
    match d.get(at..at + 4) {
        Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// `tcp_gro_receive`: decides, for a new segment and the held packet `p` of its flow (if
/// any), whether it merges, whether `p` must be completed now (`pp`), and whether the new
/// segment must go up unheld ([`Verdict::flush`]).
///
/// With a held packet, nothing merges when: the new segment has CWR; the flag word (data
/// offset, reserved bits, flags except CWR/FIN/PSH, and the window) differs; the ACK number
/// differs; an option byte differs (timestamps included); an IP rule says so
/// (`gro_receive_network_flush`); the segment is longer than the held packet's MSS (its
/// first payload, `gso_size`), or empty; its sequence number does not follow the held
/// payload; or `skb_gro_receive` refuses it (size limit, packet flagged). After the merge
/// attempt (`out_check_final`), a segment shorter than the MSS (than 1 byte when nothing
/// merged) or with URG, PSH, RST, SYN, FIN or CWR ends the flow: merged, `p` is completed with
/// it; not merged, it goes up alone. A held packet that did not get the segment is completed.
///
/// CWR: Linux 6.18 (checked against the running kernel) never holds a segment with CWR, so
/// it goes up alone, after the held packet of its flow; older kernels held it as the head of
/// an `SKB_GSO_TCP_ECN` train. A packet that arrives already aggregated with CWR still
/// completes as `TCP_ECN`.
pub(crate) fn gro_receive(p: Option<&mut Held>, seg: &Seg<'_>) -> Verdict {
    let (d, lay) = (seg.d, seg.lay);
    let h = lay.l4();
    let Some(th) = d.get(h.off()..h.off() + h.len()) else {
        return Verdict {
            flush: true,
            ..Verdict::default()
        };
    };
    let flags = be32(th, 12);
    let len = lay.gro_len;
    let found = p.is_some();
    let mut mss = 1usize;
    let mut merged = false;
    if let Some(p) = p {
        let pmss = p.mss;
        let held_len = p.skb.len() - p.lay.payload_off;
        let (held, fixedid) = p.headers();
        let th2 = held.data.get(held.lay.l4().off()..).unwrap_or_default();
        let mut flush = network_flush(held, fixedid, lay, d);
        flush |= flags & CWR != 0;
        flush |= (flags ^ be32(th2, 12)) & !(CWR | FIN | PSH) != 0;
        flush |= be32(th, 8) != be32(th2, 8);
        // Options, compared over the new segment's header length (a different length
        // already shows in the flag word).
        flush |= match (th.get(20..), th2.get(20..h.len())) {
            (Some(o), Some(o2)) => !bytes_eq(o, o2),
            _ => true,
        };
        flush |= match lay.gso_size {
            Some(g) => pmss != usize::from(g),
            None => len.wrapping_sub(1) >= pmss,
        };
        flush |= be32(th2, 4).wrapping_add(held_len as u32) != be32(th, 4);
        mss = pmss;
        if flush || !seg.gro_receive(p) {
            mss = 1;
        } else {
            merged = true;
            p.tcp_or |= ((flags & (FIN | PSH)) >> 16) as u8;
        }
    }
    // out_check_final: force a flush if the last segment is smaller than the MSS.
    let mut flush = match lay.gso_size {
        Some(g) => len != usize::from(lay.count) * usize::from(g),
        None => len < mss,
    };
    flush |= flags & (URG | PSH | RST | SYN | FIN | CWR) != 0;
    Verdict {
        pp: found && (!merged || flush),
        merged,
        flush,
    }
}

/// `tcp4_gro_complete` / `tcp6_gro_complete` and `tcp_gro_complete`: the checksum field holds
/// the pseudo-header sum of the merged segment (`~tcp_v4_check(len, saddr, daddr, 0)`), FIN
/// and PSH of merged segments are set, the GSO type says TCPV4 (with `TCP_FIXEDID` when the
/// IDs were fixed) or TCPV6, and `TCP_ECN` when the first segment had CWR. Returns the type.
pub(crate) fn complete(
    buf: &mut [u8],
    th: Hdr,
    ip: Hdr,
    total: usize,
    tcp_or: u8,
    fixedid: bool,
) -> GsoType {
    let len = total - th.off();
    let ip_bytes = buf.get(ip.off()..).unwrap_or_default();
    let v6 = ip_bytes.first().is_some_and(|b| b >> 4 == 6);
    let ph = super::cb::pseudo(ip_bytes, 6, len);
    put16(buf, th.off() + 16, !checksum::fold(ph));
    let mut cwr = false;
    if let Some(f) = buf.get_mut(th.off() + 13) {
        *f |= tcp_or;
        cwr = *f & 0x80 != 0;
    }
    let mut t = if v6 {
        GsoType::TCPV6
    } else if fixedid {
        GsoType::TCPV4 | GsoType::TCP_FIXEDID
    } else {
        GsoType::TCPV4
    };
    if cwr {
        t |= GsoType::TCP_ECN;
    }
    t
}
