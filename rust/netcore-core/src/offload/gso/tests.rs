//! Unit tests: the checks `layout::plan` makes, edge rules (accurate ECN, routing headers,
//! re-fragmenting a fragment, fragment-list limits), checksum help, and the ICMP
//! eligibility rules. Checksums are verified with [`ref_sum`], a plain sum independent of
//! `crate::checksum`.

use super::*;
use crate::batch::Bytes;
use crate::offload::Features;
use crate::skb::{Frag, GsoInfo, MAX_FRAGS};
use crate::wire::{Ipv4Address, Ipv6Address};

/// Plain ones'-complement sum of the concatenated parts, folded to 16 bits.
fn ref_sum(parts: &[&[u8]]) -> u16 {
    let all: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    let mut acc: u64 = all
        .chunks(2)
        .map(|c| u64::from(c[0]) << 8 | u64::from(*c.get(1).unwrap_or(&0)))
        .sum();
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// TCP or UDP checksum under the IPv4 header at `ip`, region from `l4` to the end, is valid;
/// `dst6` overrides the IPv6 destination of the pseudo-header.
fn l4_ok(p: &[u8], ip: usize, l4: usize, proto: u8, dst6: Option<&[u8; 16]>) -> bool {
    let len = p.len() - l4;
    let mut ps = Vec::new();
    if p[ip] >> 4 == 4 {
        ps.extend_from_slice(&p[ip + 12..ip + 20]);
        ps.extend_from_slice(&[0, proto]);
        ps.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        ps.extend_from_slice(&p[ip + 8..ip + 24]);
        ps.extend_from_slice(dst6.map_or(&p[ip + 24..ip + 40], |d| &d[..]));
        ps.extend_from_slice(&(len as u32).to_be_bytes());
        ps.extend_from_slice(&[0, 0, 0, proto]);
    }
    ref_sum(&[&ps, &p[l4..]]) == 0xffff
}

/// Ethernet + IPv4 (DF) + TCP (20 bytes, flags `flags`) + `n` payload bytes; checksums left 0.
fn tcp4(n: usize, flags: u8) -> Vec<u8> {
    let mut f = vec![0u8; 54 + n];
    f[12] = 0x08;
    f[14] = 0x45;
    f[16..18].copy_from_slice(&((40 + n) as u16).to_be_bytes());
    f[20] = 0x40;
    f[22] = 64;
    f[23] = 6;
    f[26..30].copy_from_slice(&[10, 0, 0, 1]);
    f[30..34].copy_from_slice(&[10, 0, 0, 2]);
    f[38..42].copy_from_slice(&100u32.to_be_bytes());
    f[46] = 0x50;
    f[47] = flags;
    for (i, b) in f[54..].iter_mut().enumerate() {
        *b = i as u8;
    }
    f
}

/// An Skb of `f` with Ethernet/IPv4/TCP offsets and `gso`.
fn skb_of(f: &[u8], size: u16, t: GsoType) -> Skb {
    let mut s = Skb::from_slice(f).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.set_header(Header::Mac, 0);
    let _ = s.set_header(Header::Network, 14);
    let _ = s.set_header(Header::Transport, 34);
    s.meta.gso = GsoInfo {
        size,
        segs: 0,
        gso_type: t,
    };
    s
}

fn seg(s: &Skb) -> Result<Vec<Skb>> {
    skb_gso_segment(s, &SegmentOptions::default())
}

#[test]
fn plan_refuses_what_the_kernel_refuses() {
    let f = tcp4(3000, 0x10);
    assert_eq!(
        seg(&skb_of(&f, 0, GsoType::TCPV4)).err(),
        Some(GsoError::NotGso)
    );
    for t in [
        GsoType::GRE | GsoType::TCPV4,
        GsoType::TCPV4 | GsoType::TCPV6,
        GsoType::UDP | GsoType::UDP_TUNNEL,
        GsoType::ESP,
        GsoType::empty(),
        GsoType::FRAGLIST | GsoType::UDP_L4,
    ] {
        assert_eq!(
            seg(&skb_of(&f, 1000, t)).err(),
            Some(GsoError::Unsupported(t)),
            "{t:?}"
        );
    }
    // TCPV6 over an IPv4 header, UDP_L4 over TCP.
    assert!(matches!(
        seg(&skb_of(&f, 1000, GsoType::TCPV6)),
        Err(GsoError::Malformed(_))
    ));
    assert!(matches!(
        seg(&skb_of(&f, 1000, GsoType::UDP_L4)),
        Err(GsoError::Malformed(_))
    ));
    // Transport header not right after the IPv4 header.
    let mut s = skb_of(&f, 1000, GsoType::TCPV4);
    let _ = s.set_header(Header::Transport, 38);
    assert!(matches!(seg(&s), Err(GsoError::Malformed(_))));
    // No network header.
    let mut s = skb_of(&f, 1000, GsoType::TCPV4);
    s.clear_header(Header::Network);
    assert_eq!(
        seg(&s).err(),
        Some(GsoError::Malformed("network header unset"))
    );
    // A TCP data offset below 5 words.
    let mut bad = f.clone();
    bad[46] = 0x40;
    assert!(matches!(
        seg(&skb_of(&bad, 1000, GsoType::TCPV4)),
        Err(GsoError::Malformed(_))
    ));
    // A tunnel type without encapsulation.
    assert!(matches!(
        seg(&skb_of(&f, 1000, GsoType::TCPV4 | GsoType::UDP_TUNNEL)),
        Err(GsoError::Malformed(_))
    ));
    // A gso_size that would make segments longer than an IP length field can say.
    let big = tcp4(70_000, 0x10);
    assert_eq!(
        seg(&skb_of(&big, 65_500, GsoType::TCPV4)).err(),
        Some(GsoError::Malformed("segments would exceed 65535 bytes"))
    );
    assert_eq!(
        seg(&skb_of(&big, 65_000, GsoType::TCPV4)).map(|v| v.len()),
        Ok(2)
    );
    // Headers cut by the end of the packet.
    let short = skb_of(&f[..50], 1000, GsoType::TCPV4);
    assert!(matches!(seg(&short), Err(GsoError::Malformed(_))));
}

#[test]
fn failed_segmentation_leaves_the_output_alone() {
    let f = tcp4(3000, 0x10);
    let mut out = seg(&skb_of(&f, 1000, GsoType::TCPV4)).unwrap_or_default();
    assert_eq!(out.len(), 3);
    let bad = skb_of(&f, 1000, GsoType::TCPV6);
    assert!(segment_into(&bad, &SegmentOptions::default(), &mut out).is_err());
    assert_eq!(out.len(), 3);
}

#[test]
fn small_tcp_packet_leaves_whole_with_checksums() {
    // tcp_gso_segment returns a packet not longer than one MSS unsegmented.
    let f = tcp4(500, 0x19);
    let out = seg(&skb_of(&f, 1448, GsoType::TCPV4)).unwrap_or_default();
    assert_eq!(out.len(), 1);
    let b = out[0].to_vec();
    assert_eq!(b[47], 0x19, "FIN/PSH kept on the only segment");
    assert_eq!(ref_sum(&[&b[14..34]]), 0xffff);
    assert!(l4_ok(&b, 14, 34, 6, None));
    // An empty payload too.
    let e = tcp4(0, 0x11);
    assert_eq!(
        seg(&skb_of(&e, 1448, GsoType::TCPV4)).map(|v| v.len()),
        Ok(1)
    );
}

#[test]
fn accecn_keeps_cwr_everywhere() {
    let f = tcp4(3000, 0x90);
    let plain = seg(&skb_of(&f, 1000, GsoType::TCPV4 | GsoType::TCP_ECN)).unwrap_or_default();
    let cwr: Vec<bool> = plain.iter().map(|s| s.to_vec()[47] & 0x80 != 0).collect();
    assert_eq!(cwr, [true, false, false]);
    let acc = seg(&skb_of(&f, 1000, GsoType::TCPV4 | GsoType::TCP_ACCECN)).unwrap_or_default();
    assert!(acc.iter().all(|s| s.to_vec()[47] & 0x80 != 0));
}

#[test]
fn seglen_for_gso_validation() {
    let f = tcp4(3000, 0x10);
    assert_eq!(
        gso_network_seglen(&skb_of(&f, 1448, GsoType::TCPV4)),
        Some(1488)
    );
    assert_eq!(gso_network_seglen(&skb_of(&f, 0, GsoType::TCPV4)), None);
}

#[test]
fn routing_header_final_destination_in_the_pseudo_header() {
    // IPv6 with a type-2 routing header (segments left 1): the TCP pseudo-header uses the
    // address in the routing header (RFC 8200 section 8.1).
    let home = [0x11u8; 16];
    let n = 2500;
    let mut f = vec![0u8; 14 + 40 + 24 + 20 + n];
    f[12..14].copy_from_slice(&[0x86, 0xdd]);
    f[14] = 0x60;
    f[18..20].copy_from_slice(&((24 + 20 + n) as u16).to_be_bytes());
    f[20] = 43;
    f[21] = 64;
    f[22..38].copy_from_slice(&[0x20; 16]);
    f[38..54].copy_from_slice(&[0x30; 16]);
    f[54] = 6;
    f[55] = 2;
    f[56] = 2;
    f[57] = 1;
    f[62..78].copy_from_slice(&home);
    f[78 + 12] = 0x50;
    f[78 + 13] = 0x10;
    let mut s = Skb::from_slice(&f).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.set_header(Header::Network, 14);
    let _ = s.set_header(Header::Transport, 78);
    s.meta.gso = GsoInfo {
        size: 1000,
        segs: 3,
        gso_type: GsoType::TCPV6,
    };
    let out = seg(&s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), 3);
    for o in &out {
        let b = o.to_vec();
        assert!(l4_ok(&b, 14, 78, 6, Some(&home)));
        assert_eq!(usize::from(be16(&b, 18)), b.len() - 54);
    }
}

#[test]
fn too_many_tiny_fragments_are_copied() {
    let f = tcp4(2 * MAX_FRAGS + 100, 0x10);
    // A zero-copy linear part (headers and one payload byte), then one-byte fragments up to
    // the list's limit, then one fragment with the rest: 65 shareable pieces.
    let view = Bytes::from_vec(f[..55].to_vec());
    let mut s = Skb::from_shared(view).unwrap_or_else(|| panic!("view"));
    let rest = Bytes::from_vec(f[55..].to_vec());
    for i in 0..MAX_FRAGS - 1 {
        let fr = Frag::window(rest.clone(), i, 1).unwrap_or_else(|| Frag::new(rest.clone()));
        let _ = s.add_frag(fr);
    }
    let tail = Frag::window(rest.clone(), MAX_FRAGS - 1, rest.len() - (MAX_FRAGS - 1));
    let _ = s.add_frag(tail.unwrap_or_else(|| Frag::new(rest.clone())));
    assert_eq!(s.nr_frags(), MAX_FRAGS);
    let _ = s.set_header(Header::Network, 14);
    let _ = s.set_header(Header::Transport, 34);
    s.meta.gso = GsoInfo {
        size: 100,
        segs: 0,
        gso_type: GsoType::TCPV4,
    };
    let out = seg(&s).unwrap_or_else(|e| panic!("{e}"));
    // The first segment spans 65 pieces: over the limit, so it is copied whole.
    assert_eq!(out[0].nr_frags(), 0);
    assert!(out[1].nr_frags() > 0);
    let mut payload = Vec::new();
    for o in &out {
        let b = o.to_vec();
        assert!(l4_ok(&b, 14, 34, 6, None));
        payload.extend_from_slice(&b[54..]);
    }
    assert_eq!(payload, &f[54..]);
}

#[test]
fn checksum_help_over_fragments_and_mangled_zero() {
    // A UDP datagram whose checksum is 0: skb_checksum_help stores 0xffff.
    let mut f = [0u8; 14 + 20 + 8 + 2];
    f[14] = 0x45;
    f[23] = 17;
    f[38..40].copy_from_slice(&10u16.to_be_bytes());
    // Choose the last two bytes so that the UDP region sums to 0xffff with the field 0: the
    // computed checksum is then 0.
    let s = ref_sum(&[&f[34..]]);
    f[42..44].copy_from_slice(&(!s).to_be_bytes());
    assert_eq!(ref_sum(&[&f[34..]]), 0xffff);
    let mut skb = Skb::from_slice(&f[..42]).unwrap_or_else(|e| panic!("{e}"));
    let _ = skb.add_frag(Frag::new(Bytes::from_vec(f[42..].to_vec())));
    let _ = skb.set_header(Header::Network, 14);
    assert!(skb.set_partial_csum(34, 6).is_ok());
    assert!(skb_checksum_help(&mut skb).is_ok());
    let b = skb.to_vec();
    assert_eq!(be16(&b, 40), 0xffff);
    assert_eq!(skb.meta.ip_summed, IpSummed::None);
    // A GSO packet is refused; COMPLETE just becomes NONE.
    let mut g = skb_of(&tcp4(10, 0), 1, GsoType::TCPV4);
    let _ = g.set_partial_csum(34, 16);
    assert!(skb_checksum_help(&mut g).is_err());
    g.meta.ip_summed = IpSummed::Complete { csum: 5 };
    assert!(skb_checksum_help(&mut g).is_ok());
    assert_eq!(g.meta.ip_summed, IpSummed::None);
}

#[test]
fn gso_without_partial_checksum_is_segmented_in_software() {
    let f = tcp4(5000, 0x10);
    let s = skb_of(&f, 1448, GsoType::TCPV4);
    // ip_summed NONE: netif_needs_gso even on a TSO device.
    assert!(netif_needs_gso(&s, &Features::default()));
    let Ok(Xmit::Segments(v)) = validate_xmit_skb(s, &Features::default()) else {
        panic!("software GSO");
    };
    assert_eq!(v.len(), 4);
    assert!(
        v.iter()
            .all(|x| matches!(x.meta.ip_summed, IpSummed::Partial { .. }))
    );
    assert!(gso_ok(GsoType::empty(), &Features::none()));
}

#[test]
fn refragmenting_a_fragment_keeps_mf_and_offsets() {
    // A non-last fragment at offset 800 bytes, 3000 bytes of data, no DF.
    let mut f = tcp4(2980, 0);
    f[20..22].copy_from_slice(&(0x2000u16 | 0x0064).to_be_bytes());
    let mut s = Skb::from_slice(&f).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.set_header(Header::Network, 14);
    let Ok(FragOutcome::Fragments(v)) = ip_fragment(s, 1000, &FragOptions::default()) else {
        panic!("fragments");
    };
    assert_eq!(v.len(), 4);
    let mut off = 800;
    for x in &v {
        let b = x.to_vec();
        let fo = be16(&b, 20);
        assert_eq!(
            fo & 0x2000,
            0x2000,
            "MF on every piece of a non-last fragment"
        );
        assert_eq!(usize::from(fo & 0x1fff) * 8, off);
        assert_eq!(ref_sum(&[&b[14..34]]), 0xffff);
        off += b.len() - 34;
    }
}

#[test]
fn fragmentation_edge_cases() {
    let f = tcp4(3000, 0);
    let mut s = Skb::from_slice(&f).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.set_header(Header::Network, 14);
    // DF set in tcp4: too big unless ignore_df; an MTU below header + 8 is an error.
    assert!(matches!(
        ip_fragment(s.clone(), 1500, &FragOptions::default()),
        Ok(FragOutcome::TooBig(_))
    ));
    let ign = FragOptions {
        ignore_df: true,
        ident6: None,
    };
    assert_eq!(
        ip_fragment(s.clone(), 27, &ign).err(),
        Some(GsoError::MtuTooSmall(27))
    );
    // A total length beyond the packet.
    let mut bad = f.clone();
    bad[16..18].copy_from_slice(&5000u16.to_be_bytes());
    let mut b = Skb::from_slice(&bad).unwrap_or_else(|e| panic!("{e}"));
    let _ = b.set_header(Header::Network, 14);
    assert!(matches!(
        ip_fragment(b, 1500, &ign),
        Err(GsoError::Malformed(_))
    ));
    // Link-layer padding after the datagram is not fragmented.
    let mut padded = tcp4(1, 0);
    padded[20] = 0;
    padded.extend_from_slice(&[0xee; 40]);
    let mut p = Skb::from_slice(&padded).unwrap_or_else(|e| panic!("{e}"));
    let _ = p.set_header(Header::Network, 14);
    assert!(matches!(
        ip_fragment(p, 36, &ign),
        Ok(FragOutcome::Fragments(_))
    ));
    assert_eq!(frag::select_ident(&s, 14), frag::select_ident(&s, 14));
    assert_ne!(frag::select_ident(&s, 14), 0);
}

#[test]
fn ipv6_too_small_mtu_for_unfragmentable_part_is_too_big() {
    let n = 2000;
    let mut f = vec![0u8; 14 + 40 + 8 + n];
    f[12..14].copy_from_slice(&[0x86, 0xdd]);
    f[14] = 0x60;
    f[18..20].copy_from_slice(&((8 + n) as u16).to_be_bytes());
    f[20] = 17;
    let mut s = Skb::from_slice(&f).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.set_header(Header::Network, 14);
    let ign = FragOptions {
        ignore_df: true,
        ident6: Some(1),
    };
    assert!(matches!(
        ip_fragment(s.clone(), 40 + 8 + 7, &ign),
        Ok(FragOutcome::TooBig(_))
    ));
    assert!(matches!(
        ip_fragment(s, 40 + 8 + 8, &ign),
        Ok(FragOutcome::Fragments(_))
    ));
}

#[test]
fn icmp_eligibility() {
    let me4 = Ipv4Address([192, 0, 2, 1]);
    let mut p = tcp4(10, 0)[14..].to_vec();
    assert!(icmp_frag_needed(&p, 1000, me4, 0).is_some());
    p[16..20].copy_from_slice(&[224, 0, 0, 1]);
    assert!(
        icmp_frag_needed(&p, 1000, me4, 0).is_none(),
        "multicast destination"
    );
    p[16..20].copy_from_slice(&[10, 0, 0, 2]);
    p[12..16].copy_from_slice(&[0, 0, 0, 0]);
    assert!(
        icmp_frag_needed(&p, 1000, me4, 0).is_none(),
        "no source to answer"
    );
    assert!(icmp_frag_needed(&p[..10], 1000, me4, 0).is_none());

    let me6 = Ipv6Address([0xfe; 16]);
    let mut q = vec![0u8; 48];
    q[0] = 0x60;
    q[6] = 58;
    q[8] = 0x20;
    q[24] = 0xff; // multicast destination: still answered with "packet too big"
    q[40] = 128;
    assert!(icmpv6_pkt_too_big(&q, 1280, &me6).is_some());
    q[40] = 1;
    assert!(
        icmpv6_pkt_too_big(&q, 1280, &me6).is_none(),
        "an ICMPv6 error"
    );
    // The same error behind a non-first fragment header is not recognised as one.
    let mut r = q[..40].to_vec();
    r[6] = 44;
    r.extend_from_slice(&[58, 0, 0x00, 0x08, 0, 0, 0, 1]);
    r.extend_from_slice(&[1, 0, 0, 0]);
    assert!(icmpv6_pkt_too_big(&r, 1280, &me6).is_some());
    // A first fragment whose ICMPv6 header is cut: eligible (M flag set).
    let mut t = q[..40].to_vec();
    t[6] = 44;
    t.extend_from_slice(&[58, 0, 0x00, 0x01, 0, 0, 0, 1]);
    assert!(icmpv6_pkt_too_big(&t, 1280, &me6).is_some());
    // No fragment header and a cut ICMPv6 header: ineligible.
    assert!(icmpv6_pkt_too_big(&q[..40], 1280, &me6).is_none());
    q[8] = 0xff;
    assert!(
        icmpv6_pkt_too_big(&q, 1280, &me6).is_none(),
        "multicast source"
    );
}

#[test]
fn uso_over_tunnel_and_partial_outer_checksum() {
    // VXLAN over IPv4 carrying IPv4/UDP, USO inside, outer checksum on, offload mode: the
    // inner checksum is left partial and the outer one computed with LCO must equal the one
    // computed after completing the inner.
    let inner_payload = 3000;
    let inner_len = 14 + 20 + 8 + inner_payload;
    let mut frame = vec![0u8; 14 + 20 + 8 + 8 + inner_len];
    frame[12] = 0x08;
    frame[14] = 0x45;
    let total = (frame.len() - 14) as u16;
    frame[16..18].copy_from_slice(&total.to_be_bytes());
    frame[23] = 17;
    frame[26..34].copy_from_slice(&[10, 1, 1, 1, 10, 2, 2, 2]);
    frame[36..38].copy_from_slice(&4789u16.to_be_bytes());
    frame[42] = 0x08;
    let ie = 50;
    frame[ie + 12] = 0x08;
    frame[ie + 14] = 0x45;
    frame[ie + 23] = 17;
    frame[ie + 26..ie + 34].copy_from_slice(&[172, 16, 0, 1, 172, 16, 0, 2]);
    for (i, byte) in frame[ie + 42..].iter_mut().enumerate() {
        *byte = (i * 7) as u8;
    }
    let mut skb = Skb::from_slice(&frame).unwrap_or_else(|e| panic!("{e}"));
    let s = &mut skb;
    let _ = s.set_header(Header::Network, 14);
    let _ = s.set_header(Header::Transport, 34);
    let _ = s.set_header(Header::InnerMac, 50);
    let _ = s.set_header(Header::InnerNetwork, 64);
    let _ = s.set_header(Header::InnerTransport, 84);
    s.meta.encapsulation = true;
    s.meta.gso = GsoInfo {
        size: 1000,
        segs: 3,
        gso_type: GsoType::UDP_L4 | GsoType::UDP_TUNNEL_CSUM,
    };
    let off = SegmentOptions {
        csum_offload: true,
        share_frags: true,
    };
    let v = skb_gso_segment(&skb, &off).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.len(), 3);
    for seg in &v {
        let mut done = seg.clone();
        let outer_before = be16(&done.to_vec(), 40);
        assert!(skb_checksum_help(&mut done).is_ok());
        let b = done.to_vec();
        assert_eq!(
            be16(&b, 40),
            outer_before,
            "LCO predicted the outer checksum"
        );
        assert!(l4_ok(&b, 14, 34, 17, None), "outer UDP checksum");
        assert!(l4_ok(&b, 64, 84, 17, None), "inner UDP checksum");
        assert_eq!(usize::from(be16(&b, 88)), b.len() - 84, "inner UDP length");
        assert_eq!(ref_sum(&[&b[64..84]]), 0xffff);
    }
}
