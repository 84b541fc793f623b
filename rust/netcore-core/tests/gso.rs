//! GSO/TSO/USO/UFO, tunnel segmentation and IP fragmentation against the kernel's rules.
//!
//! Frames are built here byte by byte, and every checksum of every output is verified by a
//! plain ones'-complement sum written in this file ([`ref_sum`]), not by
//! `netcore_core::checksum`, so that a bug shared by the code under test and its checksum
//! helpers cannot hide.

use netcore_core::Bytes;
use netcore_core::checksum::IpSummed;
use netcore_core::offload::Features;
use netcore_core::offload::gso::{
    self, Egress, FragOptions, FragOutcome, FrameSpec, GsoError, SegmentOptions, TxOutcome,
    UdpMode, Xmit,
};
use netcore_core::skb::{Frag, GsoInfo, GsoType, Header, Skb};
use netcore_core::wire::{Ipv4Address, Ipv6Address};
use proptest::prelude::*;

// ----- independent checksum reference --------------------------------------------------------

/// Sum of the big-endian 16-bit words of the concatenation of `parts` (odd trailing byte padded
/// with zero), folded to 16 bits with end-around carry. A region with a correct checksum sums
/// to 0xffff.
fn ref_sum(parts: &[&[u8]]) -> u16 {
    let mut all = Vec::new();
    for p in parts {
        all.extend_from_slice(p);
    }
    let mut acc: u64 = 0;
    let mut i = 0;
    while i + 1 < all.len() {
        acc += u64::from(all[i]) << 8 | u64::from(all[i + 1]);
        i += 2;
    }
    if i < all.len() {
        acc += u64::from(all[i]) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value making `parts` sum to 0xffff (with the field zero in `parts`).
fn ref_csum(parts: &[&[u8]]) -> u16 {
    !ref_sum(parts)
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The pseudo-header bytes of the L4 region `l4len` long under the IP header at `ip`.
fn pseudo(pkt: &[u8], ip: usize, proto: u8, l4len: usize) -> Vec<u8> {
    let mut p = Vec::new();
    if pkt[ip] >> 4 == 4 {
        p.extend_from_slice(&pkt[ip + 12..ip + 20]);
        p.extend_from_slice(&[0, proto]);
        p.extend_from_slice(&(l4len as u16).to_be_bytes());
    } else {
        p.extend_from_slice(&pkt[ip + 8..ip + 40]);
        p.extend_from_slice(&(l4len as u32).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, proto]);
    }
    p
}

/// IPv4 header checksum at `ip` is valid.
fn ipv4_ok(pkt: &[u8], ip: usize) -> bool {
    let ihl = usize::from(pkt[ip] & 0x0f) * 4;
    ref_sum(&[&pkt[ip..ip + ihl]]) == 0xffff
}

/// The L4 checksum of the region from `l4` to the end of the packet, under the IP header at
/// `ip`, is valid.
fn l4_ok(pkt: &[u8], ip: usize, l4: usize, proto: u8) -> bool {
    let region = &pkt[l4..];
    ref_sum(&[&pseudo(pkt, ip, proto, region.len()), region]) == 0xffff
}

// ----- frame builders ------------------------------------------------------------------------

const MAC: [u8; 12] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
const SRC4: [u8; 4] = [10, 0, 0, 1];
const DST4: [u8; 4] = [192, 0, 2, 7];
const SRC6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const DST6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

/// Ethernet header with `tags` 802.1Q tags.
fn eth(ethertype: u16, tags: &[u16]) -> Vec<u8> {
    let mut f = MAC.to_vec();
    for t in tags {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&t.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ip {
    V4,
    V6,
}

struct IpSpec<'a> {
    ver: Ip,
    id: u16,
    df: bool,
    /// IPv4 options (multiple of 4 bytes) or IPv6 extension headers after the fixed header
    /// (first byte of each patched by the builder is not: the caller writes the chain).
    opts: &'a [u8],
    /// IPv6: next header of the fixed header when `opts` holds extension headers.
    first_nh: u8,
    tos: u8,
}

impl IpSpec<'_> {
    fn v4(id: u16, df: bool) -> IpSpec<'static> {
        IpSpec {
            ver: Ip::V4,
            id,
            df,
            opts: &[],
            first_nh: 0,
            tos: 0,
        }
    }
    fn v6() -> IpSpec<'static> {
        IpSpec {
            ver: Ip::V6,
            id: 0,
            df: false,
            opts: &[],
            first_nh: 0,
            tos: 0,
        }
    }
}

/// An IP packet: header (with options / extension headers), the L4 header `l4` (checksum field
/// zero) and `data`; the L4 checksum filled when `csum` (for UDP, a zero result as 0xffff).
fn ip_packet(spec: &IpSpec<'_>, proto: u8, l4: &[u8], data: &[u8], csum: bool) -> Vec<u8> {
    let l4len = l4.len() + data.len();
    let mut p = match spec.ver {
        Ip::V4 => {
            let hlen = 20 + spec.opts.len();
            let mut h = vec![0u8; 20];
            h[0] = 0x40 | (hlen / 4) as u8;
            h[1] = spec.tos;
            h[2..4].copy_from_slice(&((hlen + l4len) as u16).to_be_bytes());
            h[4..6].copy_from_slice(&spec.id.to_be_bytes());
            h[6] = if spec.df { 0x40 } else { 0 };
            h[8] = 64;
            h[9] = proto;
            h[12..16].copy_from_slice(&SRC4);
            h[16..20].copy_from_slice(&DST4);
            h.extend_from_slice(spec.opts);
            let c = ref_csum(&[&h]);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            h
        }
        Ip::V6 => {
            let mut h = vec![0u8; 40];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&((spec.opts.len() + l4len) as u16).to_be_bytes());
            h[6] = if spec.opts.is_empty() {
                proto
            } else {
                spec.first_nh
            };
            h[7] = 64;
            h[8..24].copy_from_slice(&SRC6);
            h[24..40].copy_from_slice(&DST6);
            h.extend_from_slice(spec.opts);
            h
        }
    };
    let l4_at = p.len();
    p.extend_from_slice(l4);
    p.extend_from_slice(data);
    if csum {
        let check_at = l4_at + if proto == 6 { 16 } else { 6 };
        let ps = pseudo(&p, 0, proto, l4len);
        let mut c = ref_csum(&[&ps, &p[l4_at..]]);
        if proto == 17 && c == 0 {
            c = 0xffff;
        }
        p[check_at..check_at + 2].copy_from_slice(&c.to_be_bytes());
    }
    p
}

const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const ECE: u8 = 0x40;
const CWR: u8 = 0x80;

/// A TCP header with `opts` (multiple of 4 bytes), checksum zero.
fn tcp_hdr(seq: u32, flags: u8, opts: &[u8]) -> Vec<u8> {
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&40000u16.to_be_bytes());
    t[2..4].copy_from_slice(&443u16.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&0x1122_3344u32.to_be_bytes());
    t[12] = ((20 + opts.len()) / 4) as u8 * 16;
    t[13] = flags;
    t[14..16].copy_from_slice(&501u16.to_be_bytes());
    t.extend_from_slice(opts);
    t
}

fn udp_hdr(sport: u16, dport: u16, len: usize) -> Vec<u8> {
    let mut u = vec![0u8; 8];
    u[0..2].copy_from_slice(&sport.to_be_bytes());
    u[2..4].copy_from_slice(&dport.to_be_bytes());
    u[4..6].copy_from_slice(&(len as u16).to_be_bytes());
    u
}

/// TCP timestamps option padded to 12 bytes.
const TS_OPT: [u8; 12] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];

fn tcp_frame(ip: &IpSpec<'_>, tags: &[u16], seq: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let et = if ip.ver == Ip::V4 { 0x0800 } else { 0x86dd };
    let mut f = eth(et, tags);
    f.extend_from_slice(&ip_packet(ip, 6, &tcp_hdr(seq, flags, &TS_OPT), data, true));
    f
}

fn udp_frame(ip: &IpSpec<'_>, data: &[u8]) -> Vec<u8> {
    let et = if ip.ver == Ip::V4 { 0x0800 } else { 0x86dd };
    let mut f = eth(et, &[]);
    let u = udp_hdr(5000, 6000, 8 + data.len());
    f.extend_from_slice(&ip_packet(ip, 17, &u, data, true));
    f
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tun {
    Vxlan,
    Geneve,
}

/// A tunnelled frame: outer Ethernet/IP/UDP, the tunnel header, the inner Ethernet frame.
fn tunnel_frame(kind: Tun, outer: &IpSpec<'_>, outer_csum: bool, inner_frame: &[u8]) -> Vec<u8> {
    let (port, th) = match kind {
        Tun::Vxlan => (4789u16, vec![0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]),
        // Geneve with one 8-byte option (class 0x0102, type 3, 4 bytes of data).
        Tun::Geneve => (
            6081u16,
            vec![
                0x02, 0, 0x65, 0x58, 0xab, 0xcd, 0xef, 0, 0x01, 0x02, 0x03, 0x01, 9, 9, 9, 9,
            ],
        ),
    };
    let mut body = th;
    body.extend_from_slice(inner_frame);
    let u = udp_hdr(54321, port, 8 + body.len());
    let et = if outer.ver == Ip::V4 { 0x0800 } else { 0x86dd };
    let mut f = eth(et, &[]);
    f.extend_from_slice(&ip_packet(outer, 17, &u, &body, outer_csum));
    f
}

/// Offsets of a plain (untunnelled) frame with `tags` VLAN tags.
fn l3_of(tags: usize) -> usize {
    14 + 4 * tags
}

fn seg_all(frame: &[u8], mss: u16) -> Vec<Vec<u8>> {
    match gso::segment_frame(frame, &FrameSpec::mss(mss)) {
        Ok(v) => v,
        Err(e) => panic!("segmentation failed: {e}"),
    }
}

/// Checks a TCP segmentation output: returns the concatenated payload.
#[allow(clippy::too_many_arguments)]
fn check_tcp_segments(
    segs: &[Vec<u8>],
    ip: usize,
    l4: usize,
    mss: usize,
    seq0: u32,
    flags0: u8,
    id0: Option<u16>,
    fixed_id: bool,
) -> Vec<u8> {
    let hdr = l4 + 32;
    let mut data = Vec::new();
    let n = segs.len();
    for (i, s) in segs.iter().enumerate() {
        let v4 = s[ip] >> 4 == 4;
        let plen = s.len() - hdr;
        if i + 1 < n {
            assert_eq!(plen, mss, "segment {i} carries mss bytes");
        } else {
            assert!(plen <= mss && (plen > 0 || n == 1));
        }
        if v4 {
            assert!(ipv4_ok(s, ip), "IPv4 header checksum of segment {i}");
            assert_eq!(usize::from(be16(s, ip + 2)), s.len() - ip, "total length");
            if let Some(id0) = id0 {
                let want = if fixed_id {
                    id0
                } else {
                    id0.wrapping_add(i as u16)
                };
                assert_eq!(be16(s, ip + 4), want, "IPv4 ID of segment {i}");
            }
        } else {
            assert_eq!(
                usize::from(be16(s, ip + 4)),
                s.len() - ip - 40,
                "payload length"
            );
        }
        assert!(l4_ok(s, ip, l4, 6), "TCP checksum of segment {i}");
        assert_eq!(
            be32(s, l4 + 4),
            seq0.wrapping_add((i * mss) as u32),
            "sequence number of segment {i}"
        );
        let f = s[l4 + 13];
        let first = i == 0;
        let last = i + 1 == n;
        assert_eq!(
            f & CWR != 0,
            first && flags0 & CWR != 0,
            "CWR on the first only"
        );
        assert_eq!(
            f & FIN != 0,
            last && flags0 & FIN != 0,
            "FIN on the last only"
        );
        assert_eq!(
            f & PSH != 0,
            last && flags0 & PSH != 0,
            "PSH on the last only"
        );
        assert_eq!(f & (ACK | ECE), flags0 & (ACK | ECE), "other flags copied");
        assert_eq!(&s[l4 + 20..l4 + 32], &TS_OPT, "TCP options copied");
        data.extend_from_slice(&s[hdr..]);
    }
    data
}

// ----- TCP ------------------------------------------------------------------------------------

#[test]
fn tcpv4_segments_every_field() {
    let data = payload(10_000, 3);
    let flags = ACK | PSH | FIN | CWR | ECE;
    let f = tcp_frame(&IpSpec::v4(0xfffe, true), &[], 1_000_000, flags, &data);
    let segs = seg_all(&f, 1448);
    assert_eq!(segs.len(), 7);
    let got = check_tcp_segments(&segs, 14, 34, 1448, 1_000_000, flags, Some(0xfffe), false);
    assert_eq!(got, data);
    // IDs wrap: 0xfffe, 0xffff, 0, 1, ...; DF and TTL are copied.
    assert_eq!(be16(&segs[2], 18), 0);
    assert!(segs.iter().all(|s| s[20] == 0x40 && s[22] == 64));
    // The link-layer header is copied unchanged.
    assert!(segs.iter().all(|s| s[..14] == f[..14]));
}

#[test]
fn tcpv4_fixed_id_keeps_the_id() {
    let data = payload(5000, 9);
    let f = tcp_frame(&IpSpec::v4(777, true), &[], 5, ACK, &data);
    let mut spec = FrameSpec::mss(1000);
    spec.fixed_id = true;
    let segs: Vec<Vec<u8>> = gso::segment_frame(&f, &spec)
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert_eq!(segs.len(), 5);
    let got = check_tcp_segments(&segs, 14, 34, 1000, 5, ACK, Some(777), true);
    assert_eq!(got, data);
    // FIXEDID without DF is refused, as inet_gso_segment refuses it.
    let nodf = tcp_frame(&IpSpec::v4(777, false), &[], 5, ACK, &data);
    assert_eq!(
        gso::segment_frame(&nodf, &spec).err(),
        Some(GsoError::Malformed("TCP_FIXEDID on a packet without DF"))
    );
}

#[test]
fn tcpv4_ip_options_copied_to_every_segment() {
    // Router alert (copied, 4 bytes) and a record-route option (not copied, 7 bytes) + NOP.
    let opts = [0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 1];
    let ip = IpSpec {
        opts: &opts,
        ..IpSpec::v4(100, true)
    };
    let data = payload(4000, 1);
    let f = tcp_frame(&ip, &[], 42, ACK | PSH, &data);
    let segs = seg_all(&f, 1200);
    assert_eq!(segs.len(), 4);
    let got = check_tcp_segments(&segs, 14, 46, 1200, 42, ACK | PSH, Some(100), false);
    assert_eq!(got, data);
    for s in &segs {
        assert_eq!(s[14] & 0x0f, 8, "IHL keeps the options");
        assert_eq!(&s[34..46], &opts, "GSO copies IPv4 options unchanged");
    }
}

#[test]
fn tcpv6_segments_every_field() {
    let data = payload(9000, 5);
    let flags = ACK | FIN | CWR;
    let f = tcp_frame(&IpSpec::v6(), &[], u32::MAX - 100, flags, &data);
    let segs = seg_all(&f, 1440);
    assert_eq!(segs.len(), 7);
    let got = check_tcp_segments(&segs, 14, 54, 1440, u32::MAX - 100, flags, None, false);
    assert_eq!(got, data);
}

#[test]
fn tcpv6_with_extension_headers() {
    // Hop-by-hop (8 bytes, PadN) then destination options (8 bytes) then TCP.
    let ext = [60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0];
    let ip = IpSpec {
        opts: &ext,
        first_nh: 0,
        ..IpSpec::v6()
    };
    let data = payload(3000, 7);
    let f = tcp_frame(&ip, &[], 9, ACK, &data);
    let segs = seg_all(&f, 1000);
    assert_eq!(segs.len(), 3);
    let got = check_tcp_segments(&segs, 14, 70, 1000, 9, ACK, None, false);
    assert_eq!(got, data);
    assert!(segs.iter().all(|s| s[54..70] == ext));
}

#[test]
fn vlan_tagged_tcp() {
    for tags in [&[10u16][..], &[20, 30]] {
        let data = payload(6000, 2);
        let f = tcp_frame(&IpSpec::v4(1, false), tags, 77, ACK | PSH, &data);
        let l3 = l3_of(tags.len());
        let segs = seg_all(&f, 1448);
        assert_eq!(segs.len(), 5);
        let got = check_tcp_segments(&segs, l3, l3 + 20, 1448, 77, ACK | PSH, Some(1), false);
        assert_eq!(got, data);
        assert!(segs.iter().all(|s| s[..l3] == f[..l3]), "tags copied");
    }
}

#[test]
fn counts_for_64k_super_packets() {
    // IPv4 total length 65535: 65495 payload bytes behind 20 + 20 header bytes (no options
    // here, so the timestamps option of the helper is not used).
    for (ver, mss, want) in [
        (Ip::V4, 1448u16, 46usize),
        (Ip::V4, 536, 123),
        (Ip::V6, 1448, 46),
        (Ip::V6, 536, 123),
    ] {
        let data_len = match ver {
            Ip::V4 => 65535 - 40,
            Ip::V6 => 65535 - 20,
        };
        let data = payload(data_len, 11);
        let ip = if ver == Ip::V4 {
            IpSpec::v4(1, true)
        } else {
            IpSpec::v6()
        };
        let et = if ver == Ip::V4 { 0x0800 } else { 0x86dd };
        let mut f = eth(et, &[]);
        f.extend_from_slice(&ip_packet(&ip, 6, &tcp_hdr(1, ACK, &[]), &data, true));
        let segs = seg_all(&f, mss);
        assert_eq!(segs.len(), want, "{ver:?} at MSS {mss}");
        let l4 = if ver == Ip::V4 { 34 } else { 54 };
        let mut got = Vec::new();
        for s in &segs {
            assert!(l4_ok(s, 14, l4, 6));
            if ver == Ip::V4 {
                assert!(ipv4_ok(s, 14));
            }
            assert!(s.len() - 14 <= usize::from(mss) + l4 - 14 + 20);
            got.extend_from_slice(&s[l4 + 20..]);
        }
        assert_eq!(got, data);
    }
}

// ----- UDP: USO and UFO ----------------------------------------------------------------------

fn check_uso(segs: &[Vec<u8>], ip: usize, l4: usize, mss: usize, id0: Option<u16>) -> Vec<u8> {
    let mut data = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        let plen = s.len() - l4 - 8;
        if i + 1 < segs.len() {
            assert_eq!(plen, mss);
        }
        assert_eq!(
            usize::from(be16(s, l4 + 4)),
            8 + plen,
            "UDP length of segment {i}"
        );
        assert_ne!(be16(s, l4 + 6), 0, "USO segments carry a checksum");
        assert!(l4_ok(s, ip, l4, 17), "UDP checksum of segment {i}");
        if let Some(id0) = id0 {
            assert!(ipv4_ok(s, ip));
            assert_eq!(be16(s, ip + 4), id0.wrapping_add(i as u16));
            assert_eq!(usize::from(be16(s, ip + 2)), s.len() - ip);
        } else {
            assert_eq!(usize::from(be16(s, ip + 4)), s.len() - ip - 40);
        }
        assert_eq!(&s[l4..l4 + 4], &[0x13, 0x88, 0x17, 0x70], "ports copied");
        data.extend_from_slice(&s[l4 + 8..]);
    }
    data
}

#[test]
fn uso_v4_and_v6() {
    let data = payload(4000, 4);
    let f = udp_frame(&IpSpec::v4(300, false), &data);
    let segs = seg_all(&f, 1400);
    assert_eq!(segs.len(), 3);
    assert_eq!(check_uso(&segs, 14, 34, 1400, Some(300)), data);

    let f6 = udp_frame(&IpSpec::v6(), &data);
    let segs6 = seg_all(&f6, 1000);
    assert_eq!(segs6.len(), 4);
    assert_eq!(check_uso(&segs6, 14, 54, 1000, None), data);

    // __udp_gso_segment refuses a datagram that is not longer than one segment.
    assert_eq!(
        gso::segment_frame(&f, &FrameSpec::mss(4000)).err(),
        Some(GsoError::Malformed(
            "USO packet not longer than one segment"
        ))
    );
}

#[test]
fn ufo_v4_fragments_one_datagram() {
    let data = payload(5000, 6);
    let f = udp_frame(&IpSpec::v4(0x4242, false), &data);
    let mut spec = FrameSpec::mtu(1500);
    spec.udp = UdpMode::Ufo;
    let frags = gso::segment_frame(&f, &spec).unwrap_or_default();
    // 5008 bytes of UDP datagram in pieces of 1480.
    assert_eq!(frags.len(), 4);
    let mut dgram = Vec::new();
    for (i, s) in frags.iter().enumerate() {
        assert!(ipv4_ok(s, 14));
        assert_eq!(
            be16(s, 18),
            0x4242,
            "every fragment keeps the datagram's ID"
        );
        let fo = be16(s, 20);
        assert_eq!(
            usize::from(fo & 0x1fff) * 8,
            dgram.len(),
            "offset in 8-byte units"
        );
        assert_eq!(
            fo & 0x2000 != 0,
            i + 1 < frags.len(),
            "MF on all but the last"
        );
        assert_eq!(usize::from(be16(s, 16)), s.len() - 14);
        if i + 1 < frags.len() {
            assert_eq!(s.len() - 34, 1480);
        }
        dgram.extend_from_slice(&s[34..]);
    }
    // Only the first fragment has the UDP header; the datagram's checksum covers it all.
    assert_eq!(be16(&dgram, 4), 5008);
    assert_eq!(&dgram[8..], &data[..]);
    let mut whole = frags[0][..34].to_vec();
    whole.extend_from_slice(&dgram);
    assert!(
        l4_ok(&whole, 14, 34, 17),
        "UDP checksum over the reassembled datagram"
    );
}

#[test]
fn ufo_v6_fragments_carry_a_fragment_header() {
    let data = payload(3000, 8);
    let f = udp_frame(&IpSpec::v6(), &data);
    let mut spec = FrameSpec::mss(1232);
    spec.udp = UdpMode::Ufo;
    let frags = gso::segment_frame(&f, &spec).unwrap_or_default();
    assert_eq!(frags.len(), 3);
    let mut dgram = Vec::new();
    let ident = be32(&frags[0], 54 + 4);
    for (i, s) in frags.iter().enumerate() {
        assert_eq!(s[14 + 6], 44, "fragment header announced");
        assert_eq!(s[54], 17, "fragment header names UDP");
        assert_eq!(be32(s, 58), ident);
        let fo = be16(s, 56);
        assert_eq!(usize::from(fo & !7), dgram.len());
        assert_eq!(fo & 1 != 0, i + 1 < frags.len());
        assert_eq!(usize::from(be16(s, 18)), s.len() - 54);
        dgram.extend_from_slice(&s[62..]);
    }
    assert_eq!(&dgram[8..], &data[..]);
    let mut whole = f[..54].to_vec();
    whole.extend_from_slice(&dgram);
    assert!(l4_ok(&whole, 14, 54, 17));
}

// ----- tunnels -------------------------------------------------------------------------------

/// Checks tunnel segments; returns the inner payload.
#[allow(clippy::too_many_arguments)]
fn check_tunnel(
    segs: &[Vec<u8>],
    outer_v4: bool,
    outer_csum: bool,
    tnl_len: usize,
    inner_v4: bool,
    mss: usize,
    outer_id0: u16,
    inner_id0: u16,
) -> Vec<u8> {
    let oip = 14;
    let oudp = if outer_v4 { 34 } else { 54 };
    let iip = oudp + 8 + tnl_len + 14;
    let il4 = iip + if inner_v4 { 20 } else { 40 };
    let mut inner = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        if outer_v4 {
            assert!(ipv4_ok(s, oip), "outer IPv4 checksum");
            assert_eq!(
                be16(s, oip + 4),
                outer_id0.wrapping_add(i as u16),
                "outer ID"
            );
            assert_eq!(usize::from(be16(s, oip + 2)), s.len() - oip);
        } else {
            assert_eq!(usize::from(be16(s, oip + 4)), s.len() - oip - 40);
        }
        assert_eq!(
            usize::from(be16(s, oudp + 4)),
            s.len() - oudp,
            "outer UDP length"
        );
        if outer_csum {
            assert_ne!(be16(s, oudp + 6), 0);
            assert!(l4_ok(s, oip, oudp, 17), "outer UDP checksum of segment {i}");
        } else {
            assert_eq!(be16(s, oudp + 6), 0, "no outer checksum");
        }
        if inner_v4 {
            assert!(ipv4_ok(s, iip));
            assert_eq!(
                be16(s, iip + 4),
                inner_id0.wrapping_add(i as u16),
                "inner ID"
            );
        }
        inner.push(s[iip..].to_vec());
    }
    let inner_frames: Vec<Vec<u8>> = inner;
    check_tcp_segments(
        &inner_frames,
        0,
        il4 - iip,
        mss,
        1000,
        ACK | PSH | CWR,
        inner_v4.then_some(inner_id0),
        false,
    )
}

#[test]
fn vxlan_and_geneve_with_outer_checksum_on_and_off() {
    for kind in [Tun::Vxlan, Tun::Geneve] {
        for outer_csum in [false, true] {
            for (outer_v4, inner_v4) in [(true, true), (false, true), (true, false)] {
                let data = payload(7000, 12);
                let inner_ip = if inner_v4 {
                    IpSpec::v4(50, false)
                } else {
                    IpSpec::v6()
                };
                let inner = tcp_frame(&inner_ip, &[], 1000, ACK | PSH | CWR, &data);
                let outer_ip = if outer_v4 {
                    IpSpec::v4(9000, false)
                } else {
                    IpSpec::v6()
                };
                let f = tunnel_frame(kind, &outer_ip, outer_csum, &inner);
                let segs = seg_all(&f, 1400);
                assert_eq!(segs.len(), 5, "{kind:?} csum {outer_csum}");
                let tnl = if kind == Tun::Vxlan { 8 } else { 16 };
                let got = check_tunnel(&segs, outer_v4, outer_csum, tnl, inner_v4, 1400, 9000, 50);
                assert_eq!(
                    got, data,
                    "{kind:?} csum {outer_csum} v4 {outer_v4}/{inner_v4}"
                );
                // The tunnel header and the inner Ethernet header are copied unchanged.
                let oudp = if outer_v4 { 34 } else { 54 };
                let from = oudp + 8;
                assert!(
                    segs.iter()
                        .all(|s| s[from..from + tnl + 14] == f[from..from + tnl + 14])
                );
            }
        }
    }
}

// ----- fragmentation ---------------------------------------------------------------------------

fn frag(frame: &[u8], mtu: u32, opts: &FragOptions) -> FragOutcome {
    match gso::fragment_frame(frame, mtu, 1, opts) {
        Ok(o) => o,
        Err(e) => panic!("fragmentation failed: {e}"),
    }
}

#[test]
fn ipv4_fragmentation() {
    // Options: router alert (copied) then a timestamp option (0x44, not copied) of 8 bytes.
    let opts = [0x94, 4, 0, 0, 0x44, 8, 5, 0, 0, 0, 0, 0];
    let ip = IpSpec {
        opts: &opts,
        tos: 0x28,
        ..IpSpec::v4(0x1234, false)
    };
    let data = payload(4000, 13);
    let f = udp_frame(&ip, &data);
    let FragOutcome::Fragments(frags) = frag(&f, 1500, &FragOptions::default()) else {
        panic!("expected fragments");
    };
    let hlen = 32;
    let room = (1500 - hlen) & !7;
    assert_eq!(frags.len(), 3);
    let mut dgram = Vec::new();
    for (i, s) in frags.iter().enumerate() {
        let b = s.to_vec();
        assert!(ipv4_ok(&b, 14));
        assert_eq!(&b[..14], &f[..14], "link-layer header copied");
        assert_eq!(be16(&b, 18), 0x1234);
        let fo = be16(&b, 20);
        assert_eq!(fo & 0x4000, 0);
        assert_eq!(usize::from(fo & 0x1fff) * 8, dgram.len());
        assert_eq!(fo & 0x2000 != 0, i + 1 < frags.len());
        assert_eq!(usize::from(be16(&b, 16)), b.len() - 14);
        assert!(b.len() - 14 <= 1500);
        if i + 1 < frags.len() {
            assert_eq!(b.len() - 14 - hlen, room);
        }
        if i == 0 {
            assert_eq!(&b[34..46], &opts);
        } else {
            // ip_options_fragment: the non-copied timestamp option becomes NOPs.
            assert_eq!(&b[34..46], &[0x94, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
        }
        assert_eq!(b[15], 0x28, "TOS copied");
        dgram.extend_from_slice(&b[14 + hlen..]);
    }
    assert_eq!(&dgram[..], &f[14 + hlen..]);

    // A packet that fits is left alone.
    assert!(matches!(
        frag(&f, 5000, &FragOptions::default()),
        FragOutcome::Fits(_)
    ));
}

#[test]
fn ipv4_df_is_too_big_and_builds_frag_needed() {
    let data = payload(3000, 14);
    let ip = IpSpec {
        tos: 0x0a,
        ..IpSpec::v4(0x99, true)
    };
    let f = udp_frame(&ip, &data);
    let FragOutcome::TooBig(tb) = frag(&f, 1400, &FragOptions::default()) else {
        panic!("DF packet must not be fragmented");
    };
    assert_eq!(tb.mtu, 1400);
    assert!(!tb.is_ipv6());
    let me = Ipv4Address([198, 51, 100, 1]);
    let Some(icmp) = tb.icmp_v4(me, 7) else {
        panic!("an error is due");
    };
    assert_eq!(icmp.len(), 576, "as much as fits 576 bytes");
    assert!(ipv4_ok(&icmp, 0));
    assert_eq!(icmp[1], 0xc0 | 0x0a, "TOS: precedence internetwork control");
    assert_eq!(be16(&icmp, 2), 576);
    assert_eq!(be16(&icmp, 4), 7);
    assert_eq!(icmp[6] & 0x40, 0, "no DF on the error");
    assert_eq!(icmp[8], 64);
    assert_eq!(icmp[9], 1);
    assert_eq!(&icmp[12..16], &me.0);
    assert_eq!(&icmp[16..20], &SRC4);
    assert_eq!(
        (icmp[20], icmp[21]),
        (3, 4),
        "destination unreachable, fragmentation needed"
    );
    assert_eq!(be16(&icmp, 24), 0);
    assert_eq!(be16(&icmp, 26), 1400, "next-hop MTU");
    assert_eq!(ref_sum(&[&icmp[20..]]), 0xffff, "ICMP checksum");
    assert_eq!(
        &icmp[28..],
        &f[14..14 + 548],
        "quotes the offending datagram"
    );

    // ignore_df fragments it anyway.
    let o = FragOptions {
        ignore_df: true,
        ..FragOptions::default()
    };
    assert!(matches!(frag(&f, 1400, &o), FragOutcome::Fragments(_)));

    // No error about a non-first fragment, nor about an ICMP error.
    let mut later = f[14..].to_vec();
    later[6..8].copy_from_slice(&0x4010u16.to_be_bytes());
    assert!(gso::icmp_frag_needed(&later, 1400, me, 0).is_none());
    let mut err = f[14..].to_vec();
    err[9] = 1;
    err[20] = 3;
    assert!(gso::icmp_frag_needed(&err, 1400, me, 0).is_none());
    err[20] = 8; // an echo request is answered
    assert!(gso::icmp_frag_needed(&err, 1400, me, 0).is_some());
    // Short packets are quoted whole.
    let small = udp_frame(&IpSpec::v4(1, true), &payload(100, 1));
    let e = gso::icmp_frag_needed(&small[14..], 1000, me, 0).unwrap_or_default();
    assert_eq!(e.len(), 20 + 8 + small.len() - 14);
}

#[test]
fn ipv6_fragmentation_and_packet_too_big() {
    // Hop-by-hop (unfragmentable) then UDP.
    let ext = [17, 0, 1, 4, 0, 0, 0, 0];
    let ip = IpSpec {
        opts: &ext,
        first_nh: 0,
        ..IpSpec::v6()
    };
    let data = payload(3000, 15);
    let f = udp_frame(&ip, &data);

    // A router does not fragment IPv6: packet too big.
    let FragOutcome::TooBig(tb) = frag(&f, 1280, &FragOptions::default()) else {
        panic!("IPv6 is not fragmented on the way");
    };
    assert!(tb.is_ipv6());
    let me = Ipv6Address(DST6);
    let Some(icmp) = tb.icmp_v6(&me) else {
        panic!("an error is due");
    };
    assert_eq!(icmp.len(), 1280, "as much as fits the IPv6 minimum MTU");
    assert_eq!(icmp[6], 58);
    assert_eq!(icmp[7], 64);
    assert_eq!(usize::from(be16(&icmp, 4)), 1240);
    assert_eq!(&icmp[8..24], &DST6);
    assert_eq!(&icmp[24..40], &SRC6);
    assert_eq!((icmp[40], icmp[41]), (2, 0));
    assert_eq!(be32(&icmp, 44), 1280);
    assert!(l4_ok(&icmp, 0, 40, 58), "ICMPv6 checksum");
    assert_eq!(&icmp[48..], &f[14..14 + 1232]);

    // The source host fragments (ignore_df): fragment header after the hop-by-hop header.
    let o = FragOptions {
        ignore_df: true,
        ident6: Some(0xdead_beef),
    };
    let FragOutcome::Fragments(frags) = frag(&f, 1280, &o) else {
        panic!("expected fragments");
    };
    let unfrag = 48;
    let room = (1280 - unfrag - 8) & !7;
    assert_eq!(frags.len(), 3);
    let mut data_out = Vec::new();
    for (i, s) in frags.iter().enumerate() {
        let b = s.to_vec();
        assert_eq!(b[20], 0, "hop-by-hop still first");
        assert_eq!(b[54], 44, "hop-by-hop now announces the fragment header");
        assert_eq!(b[62], 17, "fragment header announces UDP");
        assert_eq!(be32(&b, 66), 0xdead_beef);
        let fo = be16(&b, 64);
        assert_eq!(usize::from(fo & !7), data_out.len());
        assert_eq!(fo & 1 != 0, i + 1 < frags.len());
        assert_eq!(usize::from(be16(&b, 18)), b.len() - 54);
        assert!(b.len() - 14 <= 1280);
        if i + 1 < frags.len() {
            assert_eq!(b.len() - 14 - unfrag - 8, room);
        }
        data_out.extend_from_slice(&b[70..]);
    }
    assert_eq!(&data_out[..], &f[14 + unfrag..]);

    // An ICMPv6 error is never answered with one.
    let mut err = f[14..].to_vec();
    err[6] = 58;
    err[40] = 1;
    assert!(gso::icmpv6_pkt_too_big(&err, 1280, &me).is_none());
    err[40] = 128;
    assert!(gso::icmpv6_pkt_too_big(&err, 1280, &me).is_some());
}

// ----- egress decisions ----------------------------------------------------------------------

fn tcp_super(data_len: usize) -> (Vec<u8>, Skb) {
    let data = payload(data_len, 21);
    let f = tcp_frame(&IpSpec::v4(1, true), &[], 10, ACK | PSH, &data);
    let skb = gso::skb_from_frame(&f, &FrameSpec::mss(1448)).unwrap_or_else(|e| panic!("{e}"));
    (f, skb)
}

#[test]
fn egress_offloads_segments_or_checksums_like_validate_xmit_skb() {
    let (_, skb) = tcp_super(20_000);
    assert_eq!(skb.meta.gso.gso_type, GsoType::TCPV4);
    assert_eq!(skb.meta.gso.segs, 14);

    // TSO with checksum offload: one super-packet, checksum left to the device.
    let x =
        gso::validate_xmit_skb(skb.clone(), &Features::default()).unwrap_or_else(|e| panic!("{e}"));
    let Xmit::Whole(whole) = x else {
        panic!("TSO device takes the super-packet")
    };
    assert!(matches!(whole.meta.ip_summed, IpSummed::Partial { .. }));
    assert_eq!(whole.len(), skb.len());

    // No TSO, checksum offload: software GSO, segments CHECKSUM_PARTIAL with the
    // pseudo-header sum in the field; completing them gives the fully checksummed segments.
    let no_tso = Features {
        tso: false,
        ..Features::default()
    };
    let Ok(Xmit::Segments(partial)) = gso::validate_xmit_skb(skb.clone(), &no_tso) else {
        panic!("software GSO");
    };
    let Ok(Xmit::Segments(full)) = gso::validate_xmit_skb(skb.clone(), &Features::none()) else {
        panic!("software GSO");
    };
    assert_eq!(partial.len(), 14);
    assert_eq!(full.len(), 14);
    for (p, f) in partial.iter().zip(&full) {
        assert!(matches!(p.meta.ip_summed, IpSummed::Partial { .. }));
        assert_eq!(f.meta.ip_summed, IpSummed::None);
        let pb = p.to_vec();
        // The field holds the folded pseudo-header sum (not complemented).
        let l4len = pb.len() - 34;
        assert_eq!(be16(&pb, 50), ref_sum(&[&pseudo(&pb, 14, 6, l4len)]));
        let mut done = p.clone();
        gso::skb_checksum_help(&mut done).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(done.to_vec(), f.to_vec());
        assert!(l4_ok(&f.to_vec(), 14, 34, 6));
        assert!(ipv4_ok(&pb, 14));
    }

    // TSO without checksum offload is no TSO (netdev_fix_features).
    let tso_no_csum = Features {
        tx_csum: false,
        ..Features::default()
    };
    assert!(gso::netif_needs_gso(&skb, &tso_no_csum));
    // A DODGY packet is never trusted to the device.
    let mut dodgy = skb.clone();
    dodgy.meta.gso.gso_type |= GsoType::DODGY;
    assert!(gso::netif_needs_gso(&dodgy, &Features::default()));
    assert!(!gso::netif_needs_gso(&skb, &Features::default()));
    // USO and tunnels need their own features.
    let without_uso = Features {
        uso: false,
        ..Features::default()
    };
    assert!(!gso::gso_ok(GsoType::UDP_L4, &without_uso));
    assert!(gso::gso_ok(
        GsoType::TCPV4 | GsoType::UDP_TUNNEL_CSUM,
        &Features::default()
    ));
    let no_tnl = Features {
        tunnel_tso: false,
        ..Features::default()
    };
    assert!(!gso::gso_ok(GsoType::TCPV4 | GsoType::UDP_TUNNEL, &no_tnl));
    assert!(!gso::gso_ok(GsoType::GRE, &Features::default()));
}

#[test]
fn egress_completes_partial_checksum_without_tx_csum() {
    // A packet that needs no segmentation, CHECKSUM_PARTIAL.
    let (f, mut skb) = tcp_super(1000);
    skb.meta.gso = GsoInfo::default();
    let Ok(Xmit::Whole(kept)) = gso::validate_xmit_skb(skb.clone(), &Features::default()) else {
        panic!("whole");
    };
    assert!(matches!(kept.meta.ip_summed, IpSummed::Partial { .. }));
    let Ok(Xmit::Whole(done)) = gso::validate_xmit_skb(skb, &Features::none()) else {
        panic!("whole");
    };
    assert_eq!(done.meta.ip_summed, IpSummed::None);
    assert_eq!(done.to_vec(), f, "checksum completed to the original value");
}

#[test]
fn ip_finish_output_segments_then_fragments_or_refuses() {
    let (_, skb) = tcp_super(20_000);
    // Segments of 1448 + 40 fit 1500: GSO as usual.
    let e = Egress {
        features: Features::none(),
        ..Egress::default()
    };
    let Ok(TxOutcome::Sent(v)) = gso::ip_finish_output(skb.clone(), &e) else {
        panic!("sent");
    };
    assert_eq!(v.len(), 14);
    // MTU 1000 with DF: the forwarded super-packet is refused (ip_exceeds_mtu).
    let small = Egress { mtu: 1000, ..e };
    let Ok(TxOutcome::TooBig(tb)) = gso::ip_finish_output(skb.clone(), &small) else {
        panic!("too big");
    };
    assert_eq!(tb.mtu, 1000);
    // Without DF: segmented, then each segment fragmented (ip_finish_output_gso).
    let mut nodf = skb.clone();
    let mut b = [0u8; 2];
    let _ = nodf.copy_bits(20, &mut b);
    let fo = u16::from_be_bytes(b) & !0x4000;
    let _ = nodf.write_at(20, &fo.to_be_bytes());
    // Header checksum is not part of this check; fix it so the packet is consistent.
    let mut hdr = [0u8; 20];
    let _ = nodf.copy_bits(14, &mut hdr);
    hdr[10] = 0;
    hdr[11] = 0;
    let c = ref_csum(&[&hdr]);
    let _ = nodf.write_at(24, &c.to_be_bytes());
    let Ok(TxOutcome::Sent(v)) = gso::ip_finish_output(nodf, &small) else {
        panic!("sent");
    };
    assert_eq!(v.len(), 28, "14 segments, 2 fragments each");
    for p in &v {
        let b = p.to_vec();
        assert!(b.len() - 14 <= 1000);
        assert!(ipv4_ok(&b, 14));
    }
}

// ----- super-packets with fragments (as GRO builds them) --------------------------------------

#[test]
fn fragmented_super_packet_shares_fragments() {
    let data = payload(8000, 30);
    let f = tcp_frame(&IpSpec::v4(5, true), &[], 100, ACK | PSH, &data);
    let reference = seg_all(&f, 1448);
    // Headers plus 100 bytes linear, the rest in uneven shared fragments.
    let hdr = 14 + 20 + 32;
    let mut skb = Skb::from_slice(&f[..hdr + 100]).unwrap_or_else(|e| panic!("{e}"));
    let rest = Bytes::from_vec(f[hdr + 100..].to_vec());
    let mut at = 0;
    for (i, n) in [700usize, 3000, 1, 2047, 2152].iter().enumerate() {
        let fr = Frag::window(rest.clone(), at, *n).unwrap_or_else(|| panic!("window {i}"));
        skb.add_frag(fr).unwrap_or_else(|e| panic!("{e}"));
        at += n;
    }
    assert_eq!(at, rest.len());
    skb.set_header(Header::Mac, 0)
        .unwrap_or_else(|e| panic!("{e}"));
    skb.set_header(Header::Network, 14)
        .unwrap_or_else(|e| panic!("{e}"));
    skb.set_header(Header::Transport, 34)
        .unwrap_or_else(|e| panic!("{e}"));
    skb.meta.gso = GsoInfo {
        size: 1448,
        segs: 6,
        gso_type: GsoType::TCPV4,
    };
    for share in [true, false] {
        let opts = SegmentOptions {
            share_frags: share,
            ..SegmentOptions::default()
        };
        let segs = gso::skb_gso_segment(&skb, &opts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(segs.len(), reference.len());
        for (s, r) in segs.iter().zip(&reference) {
            assert_eq!(&s.to_vec(), r);
            assert_eq!(s.nr_frags() > 0, share && s.len() > hdr + 100);
            assert_eq!(s.network_offset(), Some(14));
            assert_eq!(s.transport_offset(), Some(34));
            assert!(!s.meta.is_gso());
        }
    }
    // A zero-copy view of a whole frame shares its linear bytes too.
    let view = Skb::from_shared(Bytes::from_vec(f.clone())).unwrap_or_else(|| panic!("view"));
    let mut view = view;
    view.set_header(Header::Network, 14)
        .unwrap_or_else(|e| panic!("{e}"));
    view.set_header(Header::Transport, 34)
        .unwrap_or_else(|e| panic!("{e}"));
    view.meta.gso = skb.meta.gso;
    let segs = gso::skb_gso_segment(&view, &SegmentOptions::default()).unwrap_or_default();
    assert!(
        segs.iter()
            .all(|s| s.nr_frags() == 1 && s.linear_len() == hdr)
    );
    let bytes: Vec<Vec<u8>> = segs.iter().map(Skb::to_vec).collect();
    assert_eq!(bytes, reference);
}

// ----- property tests ------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Shape {
    Tcp4,
    Tcp6,
    Vlan4,
    Uso4,
    Uso6,
    Vxlan(bool),
    Geneve6(bool),
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Tcp4),
        Just(Shape::Tcp6),
        Just(Shape::Vlan4),
        Just(Shape::Uso4),
        Just(Shape::Uso6),
        any::<bool>().prop_map(Shape::Vxlan),
        any::<bool>().prop_map(Shape::Geneve6),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn segmentation_keeps_payload_and_checksums(
        shape in shape(),
        len in 0usize..40_000,
        mss in 1u16..9000,
        offload in any::<bool>(),
    ) {
        let data = payload(len, (len % 251) as u8);
        let (f, ip, l4, tcp) = match shape {
            Shape::Tcp4 => (tcp_frame(&IpSpec::v4(3, false), &[], 7, ACK | FIN, &data), 14, 34, true),
            Shape::Tcp6 => (tcp_frame(&IpSpec::v6(), &[], 7, ACK | FIN, &data), 14, 54, true),
            Shape::Vlan4 => (tcp_frame(&IpSpec::v4(3, false), &[5], 7, ACK | FIN, &data), 18, 38, true),
            Shape::Uso4 => (udp_frame(&IpSpec::v4(3, false), &data), 14, 34, false),
            Shape::Uso6 => (udp_frame(&IpSpec::v6(), &data), 14, 54, false),
            Shape::Vxlan(c) => {
                let inner = tcp_frame(&IpSpec::v4(3, false), &[], 7, ACK | FIN, &data);
                (tunnel_frame(Tun::Vxlan, &IpSpec::v4(8, false), c, &inner), 64, 84, true)
            }
            Shape::Geneve6(c) => {
                let inner = tcp_frame(&IpSpec::v6(), &[], 7, ACK | FIN, &data);
                (tunnel_frame(Tun::Geneve, &IpSpec::v6(), c, &inner), 92, 132, true)
            }
        };
        let hdr = l4 + if tcp { 32 } else { 8 };
        let skb = gso::skb_from_frame(&f, &FrameSpec::mss(mss)).unwrap_or_else(|e| panic!("{e}"));
        let opts = SegmentOptions { csum_offload: offload, share_frags: true };
        let res = gso::skb_gso_segment(&skb, &opts);
        if !tcp && len <= usize::from(mss) {
            prop_assert!(res.is_err());
            return Ok(());
        }
        let segs = res.unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(segs.len(), len.div_ceil(usize::from(mss)).max(1));
        let mut got = Vec::new();
        for (i, s) in segs.iter().enumerate() {
            let mut s = s.clone();
            if offload {
                let partial = matches!(s.meta.ip_summed, IpSummed::Partial { .. });
                prop_assert!(partial);
                gso::skb_checksum_help(&mut s).unwrap_or_else(|e| panic!("{e}"));
            }
            let b = s.to_vec();
            prop_assert!(l4_ok(&b, ip, l4, if tcp { 6 } else { 17 }), "L4 checksum of {}", i);
            if b[ip] >> 4 == 4 {
                prop_assert!(ipv4_ok(&b, ip));
                prop_assert_eq!(usize::from(be16(&b, ip + 2)), b.len() - ip);
            } else {
                prop_assert_eq!(usize::from(be16(&b, ip + 4)), b.len() - ip - 40);
            }
            if tcp {
                prop_assert_eq!(be32(&b, l4 + 4), 7u32.wrapping_add((i * usize::from(mss)) as u32));
                prop_assert_eq!(b[l4 + 13] & FIN != 0, i + 1 == segs.len());
            }
            if let Shape::Vxlan(c) | Shape::Geneve6(c) = shape {
                let oudp = if matches!(shape, Shape::Vxlan(_)) { 34 } else { 54 };
                prop_assert_eq!(usize::from(be16(&b, oudp + 4)), b.len() - oudp);
                if c {
                    prop_assert!(l4_ok(&b, 14, oudp, 17), "outer checksum of {}", i);
                } else {
                    prop_assert_eq!(be16(&b, oudp + 6), 0);
                }
                if oudp == 34 {
                    prop_assert!(ipv4_ok(&b, 14));
                }
            }
            got.extend_from_slice(&b[hdr..]);
        }
        prop_assert_eq!(got, data);
    }

    #[test]
    fn fragmentation_reassembles(len in 0usize..20_000, mtu in 68u32..9000, v6 in any::<bool>()) {
        let data = payload(len, 77);
        let ip = if v6 { IpSpec::v6() } else { IpSpec::v4(0x55aa, false) };
        let f = udp_frame(&ip, &data);
        let ip_len = f.len() - 14;
        let hlen = if v6 { 40 } else { 20 };
        let mtu = if v6 { mtu.max(1280) } else { mtu };
        let opts = FragOptions { ignore_df: true, ident6: None };
        match frag(&f, mtu, &opts) {
            FragOutcome::Fits(s) => {
                prop_assert!(ip_len <= mtu as usize);
                prop_assert_eq!(s.to_vec(), f);
            }
            FragOutcome::Fragments(v) => {
                prop_assert!(ip_len > mtu as usize);
                let extra = if v6 { 8 } else { 0 };
                let mut out = Vec::new();
                for (i, s) in v.iter().enumerate() {
                    let b = s.to_vec();
                    prop_assert!(b.len() - 14 <= mtu as usize);
                    let (off, more) = if v6 {
                        let fo = be16(&b, 14 + 40 + 2);
                        (usize::from(fo & !7), fo & 1 != 0)
                    } else {
                        prop_assert!(ipv4_ok(&b, 14));
                        let fo = be16(&b, 20);
                        (usize::from(fo & 0x1fff) * 8, fo & 0x2000 != 0)
                    };
                    prop_assert_eq!(off, out.len());
                    prop_assert_eq!(more, i + 1 < v.len());
                    if more {
                        prop_assert_eq!((b.len() - 14 - hlen - extra) % 8, 0);
                    }
                    out.extend_from_slice(&b[14 + hlen + extra..]);
                }
                prop_assert_eq!(&out[..], &f[14 + hlen..]);
            }
            FragOutcome::TooBig(_) => prop_assert!(false, "ignore_df never refuses"),
        }
    }
}
