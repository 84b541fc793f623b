//! IPv4 and IPv6 rules: which header fields end a flow's train (`inet_gro_flush`,
//! `ipv6_gro_flush`, called from `gro_receive_network_flush` when the transport handler has
//! found the held packet) and the length fields completion rewrites (`inet_gro_complete`,
//! `ipv6_gro_complete`).

use super::HeldHeaders;
use super::parse::{Hdr, Kind, Layers};
use crate::checksum;

/// Don't Fragment.
const IP_DF: u16 = 0x4000;

fn be16(d: &[u8], at: usize) -> u16 {
    match (d.get(at), d.get(at + 1)) {
        (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

pub(crate) fn put16(d: &mut [u8], at: usize, v: u16) {
    if let Some(s) = d.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// `gro_receive_network_flush`: the IP rules for every network header of the flow, the outer
/// one (passed over for its ID when it has DF, "some GSO/TSO implementations do not correctly
/// increment the IP ID for the outer hdrs") and, in a tunnel, the inner one. `d` is the new
/// packet's data, `lay` its layers; `held` is the held packet's layers and data and
/// `fixedid` its record of whether the flow's IDs are fixed, updated here.
pub(crate) fn network_flush(
    held: HeldHeaders<'_>,
    fixedid: &mut [bool; 2],
    lay: &Layers,
    d: &[u8],
) -> bool {
    let HeldHeaders {
        lay: play,
        data: pd,
        count,
    } = held;
    let n = if play.encap { 2 } else { 1 };
    let mut flush = false;
    for (i, fixed) in fixedid.iter_mut().enumerate().take(n) {
        let outer = i == 0 && play.encap;
        let (Some(h2), Some(h)) = (play.net_hdr(i), lay.net_hdr(i)) else {
            return true;
        };
        let (Some(iph2), Some(iph)) = (
            pd.get(h2.off()..h2.off() + h2.len()),
            d.get(h.off()..h.off() + h.len()),
        ) else {
            return true;
        };
        flush |= match h.kind {
            Kind::Ipv4 => inet_gro_flush(iph, iph2, count, fixed, outer),
            _ => ipv6_gro_flush(iph, iph2),
        };
    }
    flush
}

/// `inet_gro_flush`: TTL, TOS and DF must be equal. The ID must then follow the held
/// packet's by the number of segments merged so far, unless the flow has fixed IDs: a flow is
/// "fixed" when its second packet has DF and the same ID as the first (what TSO does with
/// `SKB_GSO_TCP_FIXEDID`). An outer header with DF is not checked for its ID at all.
fn inet_gro_flush(iph: &[u8], iph2: &[u8], count: u16, fixedid: &mut bool, outer: bool) -> bool {
    let df = be16(iph, 6) & IP_DF;
    let df2 = be16(iph2, 6) & IP_DF;
    let flush = iph.get(8) != iph2.get(8) || iph.get(1) != iph2.get(1) || df != df2;
    if flush || (outer && df != 0) {
        return flush;
    }
    let offset = be16(iph, 4).wrapping_sub(be16(iph2, 4));
    if count == 1 && df != 0 && offset == 0 {
        *fixedid = true;
    }
    offset != if *fixedid { 0 } else { count }
}

/// `ipv6_gro_flush`: traffic class and hop limit must be equal.
fn ipv6_gro_flush(iph: &[u8], iph2: &[u8]) -> bool {
    let w = |s: &[u8]| match s.get(..4) {
        Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    };
    (w(iph) ^ w(iph2)) & 0x0ff0_0000 != 0 || iph.get(7) != iph2.get(7)
}

/// `inet_gro_complete`: the total length covers the merged packet; the header checksum is
/// updated for it (`csum_replace2`).
pub(crate) fn complete_v4(buf: &mut [u8], h: Hdr, total: usize) {
    let new = u16::try_from(total - h.off()).unwrap_or(0);
    let old = be16(buf, h.off() + 2);
    let check = be16(buf, h.off() + 10);
    put16(buf, h.off() + 2, new);
    put16(buf, h.off() + 10, checksum::update16(check, old, new));
}

/// `ipv6_gro_complete`: the payload length covers the merged packet (0 for a jumbogram, whose
/// length is in the hop-by-hop option [`insert_jumbo`] wrote).
pub(crate) fn complete_v6(buf: &mut [u8], h: Hdr, total: usize, jumbo: bool) {
    let pl = total - h.off() - 40;
    put16(
        buf,
        h.off() + 4,
        if jumbo {
            0
        } else {
            u16::try_from(pl).unwrap_or(0)
        },
    );
}

/// `IPV6_TLV_JUMBO`.
const IPV6_TLV_JUMBO: u8 = 0xc2;
/// Size of the hop-by-hop header holding the jumbo payload option (`struct hop_jumbo_hdr`).
pub(crate) const HOP_JUMBO_LEN: usize = 8;

/// `ipv6_gro_complete` for a BIG TCP packet (payload over 65535 bytes): moves the link-layer
/// and fixed IPv6 headers 8 bytes to the front and puts a hop-by-hop header with the jumbo
/// payload option (RFC 2675) after the fixed header; the payload length field becomes 0.
/// `lay` is updated for the moved headers.
pub(crate) fn insert_jumbo(
    skb: &mut crate::skb::Skb,
    lay: &mut Layers,
    ip: Hdr,
) -> crate::skb::Result<()> {
    let fixed_end = ip.off() + 40;
    let payload = skb.len() - fixed_end;
    let jumbo_len = u32::try_from(payload + HOP_JUMBO_LEN).unwrap_or(u32::MAX);
    skb.cow_head(HOP_JUMBO_LEN)?;
    skb.push(HOP_JUMBO_LEN)?;
    let buf = skb.data_mut()?;
    buf.copy_within(HOP_JUMBO_LEN..HOP_JUMBO_LEN + fixed_end, 0);
    let next = buf.get(ip.off() + 6).copied().unwrap_or_default();
    if let Some(hbh) = buf.get_mut(fixed_end..fixed_end + HOP_JUMBO_LEN) {
        hbh[0] = next;
        hbh[1] = 0;
        hbh[2] = IPV6_TLV_JUMBO;
        hbh[3] = 4;
        hbh[4..8].copy_from_slice(&jumbo_len.to_be_bytes());
    }
    if let Some(nh) = buf.get_mut(ip.off() + 6) {
        *nh = 0; // NEXTHDR_HOP
    }
    for h in lay.hdrs_mut() {
        let moved = if h.off() == ip.off() && h.kind == Kind::Ipv6 {
            h.shifted(HOP_JUMBO_LEN, true)
        } else if h.off() > ip.off() {
            h.shifted(HOP_JUMBO_LEN, false)
        } else {
            Some(*h)
        };
        *h = moved.ok_or(crate::skb::SkbError::OffsetRange {
            offset: (h.off() + h.len() + HOP_JUMBO_LEN) as i64,
        })?;
    }
    lay.payload_off += HOP_JUMBO_LEN;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iph(ttl: u8, tos: u8, id: u16, df: bool) -> [u8; 20] {
        let mut h = [0u8; 20];
        h[0] = 0x45;
        h[1] = tos;
        h[4..6].copy_from_slice(&id.to_be_bytes());
        if df {
            h[6] = 0x40;
        }
        h[8] = ttl;
        h
    }

    #[test]
    fn ids_increment_or_stay_fixed_with_df() {
        let head = iph(64, 0, 100, true);
        let mut fixed = false;
        // Incrementing: second packet id 101 with count 1.
        assert!(!inet_gro_flush(
            &iph(64, 0, 101, true),
            &head,
            1,
            &mut fixed,
            false
        ));
        assert!(!fixed);
        assert!(!inet_gro_flush(
            &iph(64, 0, 102, true),
            &head,
            2,
            &mut fixed,
            false
        ));
        assert!(inet_gro_flush(
            &iph(64, 0, 100, true),
            &head,
            2,
            &mut fixed,
            false
        ));
        // Fixed: decided on the second packet, only with DF.
        let mut fixed = false;
        assert!(!inet_gro_flush(
            &iph(64, 0, 100, true),
            &head,
            1,
            &mut fixed,
            false
        ));
        assert!(fixed);
        assert!(!inet_gro_flush(
            &iph(64, 0, 100, true),
            &head,
            2,
            &mut fixed,
            false
        ));
        assert!(inet_gro_flush(
            &iph(64, 0, 102, true),
            &head,
            2,
            &mut fixed,
            false
        ));
        // Without DF, a repeated ID is not "fixed": it flushes.
        let head = iph(64, 0, 7, false);
        let mut fixed = false;
        assert!(inet_gro_flush(
            &iph(64, 0, 7, false),
            &head,
            1,
            &mut fixed,
            false
        ));
        assert!(!fixed);
        // TTL, TOS, DF differences flush; an outer header with DF is not checked for its ID.
        let head = iph(64, 0, 7, true);
        assert!(inet_gro_flush(
            &iph(63, 0, 8, true),
            &head,
            1,
            &mut fixed,
            false
        ));
        assert!(inet_gro_flush(
            &iph(64, 4, 8, true),
            &head,
            1,
            &mut fixed,
            false
        ));
        assert!(inet_gro_flush(
            &iph(64, 0, 8, false),
            &head,
            1,
            &mut fixed,
            false
        ));
        assert!(!inet_gro_flush(
            &iph(64, 0, 999, true),
            &head,
            5,
            &mut fixed,
            true
        ));
        // ID wraps around.
        let head = iph(64, 0, 0xffff, false);
        assert!(!inet_gro_flush(
            &iph(64, 0, 1, false),
            &head,
            2,
            &mut fixed,
            false
        ));
    }

    #[test]
    fn ipv6_traffic_class_and_hop_limit() {
        let mut a = [0u8; 40];
        a[0] = 0x60;
        a[7] = 64;
        let mut b = a;
        assert!(!ipv6_gro_flush(&a, &b));
        b[1] = 0x10; // traffic class low nibble / flow label high nibble
        assert!(ipv6_gro_flush(&a, &b));
        b = a;
        b[3] = 1; // flow label only: not this rule's business (same_flow compares it)
        assert!(!ipv6_gro_flush(&a, &b));
        b = a;
        b[7] = 63;
        assert!(ipv6_gro_flush(&a, &b));
    }
}
