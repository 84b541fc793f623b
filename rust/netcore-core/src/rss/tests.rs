use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;

/// Microsoft's RSS verification suite: (source, source port, destination, destination port,
/// hash of the addresses, hash of addresses and ports).
const IPV4_VECTORS: [(&str, u16, &str, u16, u32, u32); 5] = [
    (
        "66.9.149.187",
        2794,
        "161.142.100.80",
        1766,
        0x323e_8fc2,
        0x51cc_c178,
    ),
    (
        "199.92.111.2",
        14230,
        "65.69.140.83",
        4739,
        0xd718_262a,
        0xc626_b0ea,
    ),
    (
        "24.19.198.95",
        12898,
        "12.22.207.184",
        38024,
        0xd2d0_a5de,
        0x5c2b_394a,
    ),
    (
        "38.27.205.30",
        48228,
        "209.142.163.6",
        2217,
        0x8298_9176,
        0xafc7_327f,
    ),
    (
        "153.39.163.191",
        44251,
        "202.188.127.2",
        1303,
        0x5d18_09c5,
        0x10e8_28a2,
    ),
];

const IPV6_VECTORS: [(&str, u16, &str, u16, u32, u32); 3] = [
    (
        "3ffe:2501:200:1fff::7",
        2794,
        "3ffe:2501:200:3::1",
        1766,
        0x2cc1_8cd5,
        0x4020_7d3d,
    ),
    (
        "3ffe:501:8::260:97ff:fe40:efab",
        14230,
        "ff02::1",
        4739,
        0x0f0c_461c,
        0xdde5_1bbf,
    ),
    (
        "3ffe:1900:4545:3:200:f8ff:fe21:67cf",
        44251,
        "fe80::200:f8ff:fe21:67cf",
        38024,
        0x4b61_e985,
        0x02d1_feef,
    ),
];

fn input(src: &[u8], dst: &[u8], ports: Option<(u16, u16)>) -> Vec<u8> {
    let mut v = [src, dst].concat();
    if let Some((s, d)) = ports {
        v.extend_from_slice(&s.to_be_bytes());
        v.extend_from_slice(&d.to_be_bytes());
    }
    v
}

fn v4(a: &str) -> [u8; 4] {
    a.parse::<Ipv4Addr>().unwrap().octets()
}

fn v6(a: &str) -> [u8; 16] {
    a.parse::<Ipv6Addr>().unwrap().octets()
}

#[test]
fn microsoft_vectors_bit_for_bit() {
    let table = ToeplitzTable::new(&RssKey::default());
    let cases = IPV4_VECTORS
        .iter()
        .map(|&(s, sp, d, dp, h2, h4)| (v4(s).to_vec(), sp, v4(d).to_vec(), dp, h2, h4))
        .chain(
            IPV6_VECTORS
                .iter()
                .map(|&(s, sp, d, dp, h2, h4)| (v6(s).to_vec(), sp, v6(d).to_vec(), dp, h2, h4)),
        );
    for (src, sp, dst, dp, h2, h4) in cases {
        for (ports, want) in [(None, h2), (Some((sp, dp)), h4)] {
            let data = input(&src, &dst, ports);
            assert_eq!(
                toeplitz(&MICROSOFT_KEY, &data).unwrap(),
                want,
                "{data:02x?}"
            );
            assert_eq!(table.hash(&data), want, "{data:02x?}");
        }
    }
}

#[test]
fn microsoft_vectors_through_frames() {
    let cfg = RssConfig::new(4).unwrap();
    for &(s, sp, d, dp, _, h4) in &IPV4_VECTORS {
        let frame = eth_ipv4(v4(s), v4(d), 6, 0, &ports(sp, dp));
        assert_eq!(cfg.hash(&frame, LinkType::ETHERNET), Some((h4, true)));
    }
    for &(s, sp, d, dp, h2, h4) in &IPV6_VECTORS {
        let frame = eth_ipv6(v6(s), v6(d), 6, &ports(sp, dp));
        assert_eq!(cfg.hash(&frame, LinkType::ETHERNET), Some((h4, true)));
        // UDP with its input set reduced to the addresses gives the 2-tuple hash.
        let mut cfg2 = cfg.clone();
        cfg2.input.set(FlowType::Udp6, HashFields::SD).unwrap();
        let frame = eth_ipv6(v6(s), v6(d), 17, &ports(sp, dp));
        assert_eq!(cfg2.hash(&frame, LinkType::ETHERNET), Some((h2, false)));
    }
}

#[test]
fn key_and_input_length_errors() {
    assert!(
        RssKey::new(&[0; 39])
            .unwrap_err()
            .to_string()
            .contains("40 bytes, got 39")
    );
    let err = toeplitz(&[0; 8], &[0; 5]).unwrap_err().to_string();
    assert!(err.contains("at most 4 bytes, got 5"), "{err}");
    // Any key length works for the reference: a zero key hashes to zero, and a key of ones
    // to all ones for one set bit.
    assert_eq!(toeplitz(&[0xff; 5], &[0x80]).unwrap(), u32::MAX);
    assert_eq!(toeplitz(&[0; 5], &[0xff]).unwrap(), 0);
}

proptest! {
    #[test]
    fn table_matches_reference(key in proptest::array::uniform32(any::<u8>()), tail in any::<[u8; 8]>(),
                               data in proptest::collection::vec(any::<u8>(), 0..=MAX_INPUT)) {
        let key = RssKey::new(&[&key[..], &tail[..]].concat()).unwrap();
        let table = ToeplitzTable::new(&key);
        prop_assert_eq!(table.hash(&data), toeplitz(key.as_bytes(), &data).unwrap());
    }

    #[test]
    fn any_bytes_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..200),
                             lt in prop::sample::select(vec![0u16, 1, 12, 101, 108, 113, 228, 229, 276, 9]),
                             inner in any::<bool>()) {
        let mut cfg = RssConfig::new(3).unwrap();
        cfg.inner = inner;
        if let Some((h, _)) = cfg.hash(&frame, LinkType(lt)) {
            prop_assert!(cfg.queue(h) < 3);
        }
    }

    #[test]
    fn symmetric_hash_ignores_direction(a in any::<[u8; 4]>(), b in any::<[u8; 4]>(),
                                        pa in any::<u16>(), pb in any::<u16>()) {
        let mut cfg = RssConfig::new(8).unwrap();
        cfg.symmetric = true;
        let there = eth_ipv4(a, b, 17, 0, &ports(pa, pb));
        let back = eth_ipv4(b, a, 17, 0, &ports(pb, pa));
        prop_assert_eq!(cfg.hash(&there, LinkType::ETHERNET), cfg.hash(&back, LinkType::ETHERNET));
    }
}

fn ports(sp: u16, dp: u16) -> Vec<u8> {
    let mut l4 = vec![0u8; 20];
    l4[..2].copy_from_slice(&sp.to_be_bytes());
    l4[2..4].copy_from_slice(&dp.to_be_bytes());
    l4
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, frag: u16, l4: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0];
    h[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    h[6..8].copy_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(l4);
    h
}

fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, rest: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0, 0, 0, next, 64];
    h[4..6].copy_from_slice(&(rest.len() as u16).to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(rest);
    h
}

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn eth_ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, frag: u16, l4: &[u8]) -> Vec<u8> {
    eth(0x0800, &ipv4(src, dst, proto, frag, l4))
}

fn eth_ipv6(src: [u8; 16], dst: [u8; 16], next: u8, rest: &[u8]) -> Vec<u8> {
    eth(0x86dd, &ipv6(src, dst, next, rest))
}

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];

fn two_tuple(src: [u8; 4], dst: [u8; 4]) -> u32 {
    toeplitz(&MICROSOFT_KEY, &input(&src, &dst, None)).unwrap()
}

fn four_tuple(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16) -> u32 {
    toeplitz(&MICROSOFT_KEY, &input(&src, &dst, Some((sp, dp)))).unwrap()
}

#[test]
fn fragments_hash_addresses_only() {
    let cfg = RssConfig::new(4).unwrap();
    let l4 = ports(1000, 80);
    // First fragment (MF set, offset 0), a later one, and DF alone (not a fragment).
    for (frag, l4_hash) in [(0x2000, false), (0x0010, false), (0x4000, true)] {
        let f = eth_ipv4(A, B, 6, frag, &l4);
        let want = if l4_hash {
            four_tuple(A, B, 1000, 80)
        } else {
            two_tuple(A, B)
        };
        assert_eq!(
            cfg.hash(&f, LinkType::ETHERNET),
            Some((want, l4_hash)),
            "{frag:#x}"
        );
    }
    // IPv6 fragment header (first fragment: offset 0, M set) before TCP.
    let mut rest = vec![6, 0, 0, 1, 0, 0, 0, 7];
    rest.extend_from_slice(&l4);
    let (s, d) = ([1; 16], [2; 16]);
    let f = eth_ipv6(s, d, 44, &rest);
    let want = toeplitz(&MICROSOFT_KEY, &input(&s, &d, None)).unwrap();
    assert_eq!(cfg.hash(&f, LinkType::ETHERNET), Some((want, false)));
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let cfg = RssConfig::new(4).unwrap();
    // Hop-by-hop (8 bytes) then destination options (16 bytes) then UDP.
    let mut rest = vec![60, 0, 1, 4, 0, 0, 0, 0];
    rest.extend_from_slice(&[17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    rest.extend_from_slice(&ports(53, 5353));
    let (s, d) = ([0x20; 16], [0x30; 16]);
    let f = eth_ipv6(s, d, 0, &rest);
    let want = toeplitz(&MICROSOFT_KEY, &input(&s, &d, Some((53, 5353)))).unwrap();
    assert_eq!(cfg.hash(&f, LinkType::ETHERNET), Some((want, true)));
}

#[test]
fn vlan_qinq_and_link_types() {
    let cfg = RssConfig::new(4).unwrap();
    let ip = ipv4(A, B, 6, 0, &ports(1, 2));
    let want = Some((four_tuple(A, B, 1, 2), true));
    let mut qinq = vec![0u8; 12];
    qinq.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00]);
    qinq.extend_from_slice(&ip);
    assert_eq!(cfg.hash(&qinq, LinkType::ETHERNET), want);
    assert_eq!(cfg.hash(&ip, LinkType::RAW), want);
    assert_eq!(cfg.hash(&ip, LinkType::IPV4), want);
    let mut sll = vec![0u8; 14];
    sll.extend_from_slice(&[0x08, 0x00]);
    sll.extend_from_slice(&ip);
    assert_eq!(cfg.hash(&sll, LinkType::LINUX_SLL), want);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    assert_eq!(cfg.hash(&null, LinkType::NULL), want);
    // ARP is not hashed.
    assert_eq!(cfg.hash(&eth(0x0806, &[0; 28]), LinkType::ETHERNET), None);
}

fn vxlan(inner_frame: &[u8]) -> Vec<u8> {
    let mut udp = vec![0u8; 8];
    udp[..2].copy_from_slice(&40000u16.to_be_bytes());
    udp[2..4].copy_from_slice(&4789u16.to_be_bytes());
    udp.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 1, 0]);
    udp.extend_from_slice(inner_frame);
    eth_ipv4([192, 168, 0, 1], [192, 168, 0, 2], 17, 0, &udp)
}

#[test]
fn tunnels_hash_inner_when_configured() {
    let mut cfg = RssConfig::new(4).unwrap();
    let inner = eth_ipv4(A, B, 6, 0, &ports(1234, 443));
    let frame = vxlan(&inner);
    let outer = four_tuple([192, 168, 0, 1], [192, 168, 0, 2], 40000, 4789);
    assert_eq!(cfg.hash(&frame, LinkType::ETHERNET), Some((outer, true)));
    cfg.inner = true;
    let inner_hash = four_tuple(A, B, 1234, 443);
    assert_eq!(
        cfg.hash(&frame, LinkType::ETHERNET),
        Some((inner_hash, true))
    );
    // Geneve carrying IPv4 directly, with 4 bytes of options.
    let mut udp = vec![0u8; 8];
    udp[2..4].copy_from_slice(&6081u16.to_be_bytes());
    udp.extend_from_slice(&[0x01, 0, 0x08, 0x00, 0, 0, 1, 0, 0, 0, 0, 0]);
    udp.extend_from_slice(&ipv4(A, B, 6, 0, &ports(1234, 443)));
    let geneve = eth_ipv4([192, 168, 0, 1], [192, 168, 0, 2], 17, 0, &udp);
    assert_eq!(
        cfg.hash(&geneve, LinkType::ETHERNET),
        Some((inner_hash, true))
    );
    // IPv4 in IPv4.
    let ipip = eth_ipv4(
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        4,
        0,
        &ipv4(A, B, 6, 0, &ports(1234, 443)),
    );
    assert_eq!(
        cfg.hash(&ipip, LinkType::ETHERNET),
        Some((inner_hash, true))
    );
    // A tunnel cut short inside its inner headers hashes outer.
    let short = &frame[..frame.len() - 40];
    let outer_short = four_tuple([192, 168, 0, 1], [192, 168, 0, 2], 40000, 4789);
    assert_eq!(
        cfg.hash(short, LinkType::ETHERNET),
        Some((outer_short, true))
    );
}

#[test]
fn input_sets_parse_and_apply() {
    assert_eq!(HashFields::parse("sdfn").unwrap(), HashFields::SDFN);
    assert_eq!(HashFields::parse("ds").unwrap().to_string(), "sd");
    assert!(
        HashFields::parse("sdm")
            .unwrap_err()
            .to_string()
            .contains("'m'")
    );
    assert!(
        HashFields::parse("ss")
            .unwrap_err()
            .to_string()
            .contains("repeated")
    );
    assert!(HashFields::parse("").is_err());
    let mut set = InputSet::default();
    assert!(
        set.set(FlowType::Ip4, HashFields::SDFN)
            .unwrap_err()
            .to_string()
            .contains("ip4")
    );
    assert_eq!(FlowType::from_name("udp6").unwrap(), FlowType::Udp6);
    assert!(
        FlowType::from_name("tcp5")
            .unwrap_err()
            .to_string()
            .contains("tcp4")
    );

    let mut cfg = RssConfig::new(4).unwrap();
    let f = eth_ipv4(A, B, 17, 0, &ports(9, 10));
    assert_eq!(
        cfg.hash(&f, LinkType::ETHERNET),
        Some((four_tuple(A, B, 9, 10), true))
    );
    cfg.input.set(FlowType::Udp4, HashFields::SD).unwrap();
    assert_eq!(
        cfg.hash(&f, LinkType::ETHERNET),
        Some((two_tuple(A, B), false))
    );
    // Only the destination port: the input is the 2 port bytes.
    cfg.input.set(FlowType::Udp4, HashFields::DPORT).unwrap();
    let want = toeplitz(&MICROSOFT_KEY, &10u16.to_be_bytes()).unwrap();
    assert_eq!(cfg.hash(&f, LinkType::ETHERNET), Some((want, true)));
}

#[test]
fn symmetric_changes_only_reverse_order_inputs() {
    let mut cfg = RssConfig::new(4).unwrap();
    cfg.symmetric = true;
    let f = eth_ipv4(B, A, 6, 0, &ports(80, 1234));
    // Sorted: (A, 1234) before (B, 80).
    assert_eq!(
        cfg.hash(&f, LinkType::ETHERNET),
        Some((four_tuple(A, B, 1234, 80), true))
    );
}

#[test]
fn indirection_default_weights_and_entries() {
    let t = Indirection::new(3, 8).unwrap();
    assert_eq!(t.entries(), &[0, 1, 2, 0, 1, 2, 0, 1]);
    assert_eq!(t.queue(7), 1);
    assert_eq!(t.queue(8 + 2), 2);
    assert_eq!(
        Indirection::new(4, DEFAULT_TABLE_SIZE)
            .unwrap()
            .entries()
            .len(),
        128
    );
    // ethtool -X weight 1 1 2 on 8 entries: contiguous runs in proportion.
    let w = Indirection::from_weights(&[1, 1, 2], 8).unwrap();
    assert_eq!(w.entries(), &[0, 0, 1, 1, 2, 2, 2, 2]);
    let w = Indirection::from_weights(&[0, 3, 1], 8).unwrap();
    assert_eq!(w.entries(), &[1, 1, 1, 1, 1, 1, 2, 2]);
    assert!(Indirection::from_weights(&[0, 0], 8).is_err());
    let err = Indirection::from_entries(vec![0, 1, 4], 4)
        .unwrap_err()
        .to_string();
    assert!(err.contains("entry 2 is queue 4"), "{err}");
    assert!(Indirection::new(0, 8).is_err());
    assert!(
        Indirection::new(2, 0)
            .unwrap_err()
            .to_string()
            .contains("size 0")
    );
}

#[test]
fn receive_records_hash_and_queue_in_the_skb() {
    let cfg = RssConfig::new(4).unwrap();
    let frame = eth_ipv4(A, B, 6, 0, &ports(5, 6));
    let mut skb = Skb::from_slice(&frame).unwrap();
    let q = cfg.receive(&mut skb, LinkType::ETHERNET);
    let h = four_tuple(A, B, 5, 6);
    assert_eq!(
        (skb.meta.hash, skb.meta.l4_hash, skb.meta.sw_hash),
        (h, true, false)
    );
    assert_eq!(q, (h % 128 % 4) as u16);
    assert_eq!(skb.meta.queue_mapping, q);
}

#[test]
fn batch_columns() {
    let cfg = RssConfig::new(2).unwrap();
    let f1 = eth_ipv4(A, B, 6, 0, &ports(5, 6));
    let f2 = eth(0x0806, &[0; 28]);
    let f3 = ipv4(B, A, 1, 0, &[8, 0, 0, 0]);
    let batch = Batch::from_packets([
        (0, &f1[..], 0, 0, 1),
        (0, &f2[..], 0, 0, 1),
        (0, &f3[..], 0, 0, 101),
    ]);
    let mut out = RssColumns::default();
    cfg.hash_batch(&batch, &mut out);
    let h1 = four_tuple(A, B, 5, 6);
    let h3 = two_tuple(B, A);
    assert_eq!(out.hash, vec![h1, 0, h3]);
    assert_eq!(out.l4, vec![true, false, false]);
    assert_eq!(out.queue, vec![cfg.queue(h1), 0, cfg.queue(h3)]);
}

#[test]
fn rps_and_xps_follow_the_kernel() {
    assert_eq!(reciprocal_scale(u32::MAX, 4), 3);
    assert_eq!(reciprocal_scale(0x4000_0000, 4), 1);
    let rps = RpsMap::new(4).unwrap();
    assert_eq!(rps.worker(0), None, "no hash, no steering");
    assert_eq!(rps.worker(0xc000_0000), Some(3));
    assert_eq!(RpsMap::default().worker(7), None);
    let odd = RpsMap::from_workers(vec![1, 3]);
    assert_eq!(odd.worker(0x8000_0000), Some(3));

    let mut xps = XpsMap::new(8).unwrap();
    assert!(
        xps.set(0, vec![8])
            .unwrap_err()
            .to_string()
            .contains("8 transmit queues")
    );
    xps.set(0, vec![5]).unwrap();
    xps.set(2, vec![1, 2, 3, 4]).unwrap();
    assert_eq!(xps.pick_tx(0, 0xffff_ffff, None), 5);
    assert_eq!(xps.pick_tx(2, 0x8000_0000, None), 3);
    // No XPS entry: skb_tx_hash, keeping a recorded receive queue folded into range.
    assert_eq!(xps.pick_tx(1, 0x8000_0000, None), 4);
    assert_eq!(xps.pick_tx(1, 0x8000_0000, Some(11)), 3);
    assert!(XpsMap::new(0).is_err());
}

proptest! {
    /// Valid frames of every shape, cut anywhere and with one byte changed: parsing reaches
    /// every branch on short and odd input and never panics.
    #[test]
    fn cut_and_mutated_frames_never_panic(pick in 0usize..4, cut in 0usize..200,
                                          at in 0usize..200, value in any::<u8>()) {
        let mut rest = vec![60, 0, 1, 4, 0, 0, 0, 0, 44, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 1];
        rest.extend_from_slice(&ports(53, 6081));
        let frames = [
            vxlan(&eth_ipv4(A, B, 6, 0, &ports(1, 2))),
            eth_ipv6([1; 16], [2; 16], 0, &rest),
            eth_ipv4([1, 1, 1, 1], [2, 2, 2, 2], 41, 0, &ipv6([3; 16], [4; 16], 6, &ports(5, 6))),
            eth_ipv4(A, B, 17, 0, &{
                let mut udp = ports(9, 6081);
                udp.truncate(8);
                udp.extend_from_slice(&[0x02, 0, 0x65, 0x58, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
                udp.extend_from_slice(&eth_ipv4(B, A, 17, 0, &ports(7, 8)));
                udp
            }),
        ];
        let mut frame = frames[pick].clone();
        if let Some(b) = frame.get_mut(at) {
            *b = value;
        }
        frame.truncate(cut);
        for inner in [false, true] {
            let mut cfg = RssConfig::new(5).unwrap();
            cfg.inner = inner;
            if let Some((h, _)) = cfg.hash(&frame, LinkType::ETHERNET) {
                prop_assert!(cfg.queue(h) < 5);
            }
        }
    }
}
