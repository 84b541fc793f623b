//! The IP path on hand-built packets; every checksum is checked with `crate::checksum`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::checksum;
use crate::drop_reason::DropReason;

/// An IPv4 packet with a correct header checksum: `payload` after a 20-byte header.
fn v4(src: [u8; 4], dst: [u8; 4], proto: u8, ttl: u8, df: bool, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    p[1] = 0x10;
    let tot = (20 + payload.len()) as u16;
    p[2..4].copy_from_slice(&tot.to_be_bytes());
    p[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    p[6] = if df { 0x40 } else { 0 };
    p[8] = ttl;
    p[9] = proto;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    let c = checksum::checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn v6_addr(s: &str) -> [u8; 16] {
    s.parse::<Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or_default()
}

/// An IPv6 packet: `ext` then `payload` after the fixed header.
fn v6(src: &str, dst: &str, next: u8, hops: u8, ext: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&((ext.len() + payload.len()) as u16).to_be_bytes());
    p[6] = next;
    p[7] = hops;
    p[8..24].copy_from_slice(&v6_addr(src));
    p[24..40].copy_from_slice(&v6_addr(dst));
    p.extend_from_slice(ext);
    p.extend_from_slice(payload);
    p
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

// --- extension headers -----------------------------------------------------------------

fn v6_ext(next: u8, ext: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x60;
    p[6] = next;
    let plen = (ext.len() + payload.len()) as u16;
    p[4..6].copy_from_slice(&plen.to_be_bytes());
    p.extend_from_slice(ext);
    p.extend_from_slice(payload);
    p
}

#[test]
fn walks_hop_by_hop_and_stops_at_later_fragments() {
    let hbh = [6, 0, 1, 4, 0, 0, 0, 0];
    let p = v6_ext(0, &hbh, &[0; 20]);
    assert_eq!(
        ipv6_upper_layer(&p),
        Some(UpperLayer {
            proto: 6,
            offset: 48,
            frag: 0
        })
    );
    // A later fragment (offset 1, M set) of a UDP datagram.
    let frag = [17, 0, 0, 0x09, 0, 0, 0, 1];
    let u = ipv6_upper_layer(&v6_ext(44, &frag, &[0; 8])).unwrap();
    assert_eq!((u.proto, u.offset, u.is_later_fragment()), (17, 48, true));
    // A first fragment keeps walking.
    let first = [17, 0, 0, 0x01, 0, 0, 0, 1];
    let u = ipv6_upper_layer(&v6_ext(44, &first, &[0; 8])).unwrap();
    assert!(!u.is_later_fragment());
    // Truncated chain, and "no next header".
    assert_eq!(ipv6_upper_layer(&v6_ext(0, &[6], &[])), None);
    assert_eq!(ipv6_upper_layer(&v6_ext(59, &[], &[])), None);
}

// --- ipv4_rcv --------------------------------------------------------------------------

#[test]
fn ipv4_rcv_accepts_and_trims_padding() {
    let mut p = v4([10, 0, 0, 1], [10, 0, 0, 2], 17, 64, false, &[0; 8]);
    p.extend_from_slice(&[0; 18]); // Ethernet padding
    let r = ipv4_rcv(&p, false).unwrap();
    assert_eq!((r.len, r.header_len, r.protocol), (28, 20, 17));
    assert_eq!((r.src, r.dst), (ip("10.0.0.1"), ip("10.0.0.2")));
}

#[test]
fn ipv4_rcv_header_checks_in_kernel_order() {
    let good = v4([10, 0, 0, 1], [10, 0, 0, 2], 6, 64, false, &[0; 20]);
    assert_eq!(ipv4_rcv(&good[..19], false), Err(DropReason::IpInhdr));
    let mut bad = good.clone();
    bad[0] = 0x65;
    assert_eq!(ipv4_rcv(&bad, false), Err(DropReason::IpInhdr));
    bad[0] = 0x44;
    assert_eq!(ipv4_rcv(&bad, false), Err(DropReason::IpInhdr));
    bad[0] = 0x4f; // 60-byte header in a 40-byte packet
    assert_eq!(ipv4_rcv(&bad, false), Err(DropReason::IpInhdr));
    let mut bad = good.clone();
    bad[8] = 63; // checksum no longer matches
    assert_eq!(ipv4_rcv(&bad, false), Err(DropReason::IpCsum));
    // Total length beyond the buffer, then below the header (checksums fixed up).
    for (tot, reason) in [(41u16, DropReason::PktTooSmall), (19, DropReason::IpInhdr)] {
        let mut p = good.clone();
        p[2..4].copy_from_slice(&tot.to_be_bytes());
        p[10..12].fill(0);
        let c = checksum::checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(ipv4_rcv(&p, false), Err(reason), "tot_len {tot}");
    }
}

#[test]
fn ipv4_rcv_martian_addresses() {
    let case = |src, dst, lo| ipv4_rcv(&v4(src, dst, 17, 64, false, &[]), lo).err();
    assert_eq!(
        case([224, 0, 0, 1], [10, 0, 0, 2], false),
        Some(DropReason::IpInvalidSource)
    );
    assert_eq!(
        case([255; 4], [10, 0, 0, 2], false),
        Some(DropReason::IpInvalidSource)
    );
    assert_eq!(case([0, 0, 0, 0], [255; 4], false), None); // DHCP discover
    assert_eq!(
        case([0, 0, 0, 0], [10, 0, 0, 2], false),
        Some(DropReason::IpInvalidSource)
    );
    assert_eq!(
        case([10, 0, 0, 1], [0, 1, 2, 3], false),
        Some(DropReason::IpInvalidDest)
    );
    assert_eq!(
        case([127, 0, 0, 1], [10, 0, 0, 2], false),
        Some(DropReason::IpLocalnet)
    );
    assert_eq!(
        case([10, 0, 0, 1], [127, 0, 0, 1], false),
        Some(DropReason::IpLocalnet)
    );
    assert_eq!(case([127, 0, 0, 1], [127, 0, 0, 1], true), None);
}

// --- ipv6_rcv --------------------------------------------------------------------------

#[test]
fn ipv6_rcv_checks() {
    let good = v6("2001:db8::1", "2001:db8::2", 17, 64, &[], &[0; 8]);
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 6]);
    let r = ipv6_rcv(&padded, false).unwrap();
    assert_eq!((r.len, r.header_len, r.protocol), (48, 40, 17));
    assert_eq!(ipv6_rcv(&good[..39], false), Err(DropReason::IpInhdr));
    assert_eq!(ipv6_rcv(&good[..47], false), Err(DropReason::PktTooSmall));
    let mut bad = good.clone();
    bad[0] = 0x40;
    assert_eq!(ipv6_rcv(&bad, false), Err(DropReason::IpInhdr));
    let cases = [
        ("::1", "2001:db8::2", false, Some(DropReason::IpInhdr)),
        ("2001:db8::1", "::1", false, Some(DropReason::IpInhdr)),
        ("::1", "::1", true, None),
        ("2001:db8::1", "ff01::1", false, Some(DropReason::IpInhdr)),
        ("2001:db8::1", "ff01::1", true, None),
        ("2001:db8::1", "ff00::1", true, Some(DropReason::IpInhdr)),
        ("2001:db8::1", "ff02::1", false, None),
        ("ff02::1", "2001:db8::2", false, Some(DropReason::IpInhdr)),
    ];
    for (src, dst, lo, want) in cases {
        let p = v6(src, dst, 59, 64, &[], &[]);
        assert_eq!(ipv6_rcv(&p, lo).err(), want, "{src} -> {dst}");
    }
}

#[test]
fn ipv6_hop_by_hop_options() {
    let rcv = |ext: &[u8]| {
        ipv6_rcv(
            &v6("2001:db8::1", "2001:db8::2", 0, 64, ext, &[0; 8]),
            false,
        )
    };
    // Router alert then PadN(0).
    let r = rcv(&[17, 0, 5, 2, 0, 0, 1, 0]).unwrap();
    assert_eq!((r.header_len, r.protocol, r.router_alert), (48, 17, true));
    // Pad1 × 6.
    assert!(rcv(&[17, 0, 0, 0, 0, 0, 0, 0]).is_ok());
    // PadN with a non-zero byte; 8 bytes of padding in a 16-byte header.
    assert_eq!(rcv(&[17, 0, 1, 4, 0, 0, 1, 0]), Err(DropReason::IpInhdr));
    let mut long_pad = vec![17, 1, 1, 6, 0, 0, 0, 0, 0, 0];
    long_pad.extend_from_slice(&[1, 4, 0, 0, 0, 0]);
    assert_eq!(rcv(&long_pad), Err(DropReason::IpInhdr));
    // An option running past the header; a header running past the packet.
    assert_eq!(rcv(&[17, 0, 0x1e, 9, 0, 0, 0, 0]), Err(DropReason::IpInhdr));
    assert_eq!(rcv(&[17, 3, 1, 4, 0, 0, 0, 0]), Err(DropReason::IpInhdr));
    // Unknown options: 00 skips, 01/10/11 discard.
    assert!(rcv(&[17, 0, 0x1e, 4, 0, 0, 0, 0]).is_ok());
    for t in [0x5e, 0x9e, 0xde] {
        assert_eq!(
            rcv(&[17, 0, t, 4, 0, 0, 0, 0]),
            Err(DropReason::UnhandledProto),
            "{t:#x}"
        );
    }
}

#[test]
fn ipv6_jumbograms() {
    let jumbo_len = 70_000usize;
    let mut ext = vec![17, 0, 0xc2, 4];
    ext.extend_from_slice(&(jumbo_len as u32).to_be_bytes());
    let mut p = v6(
        "2001:db8::1",
        "2001:db8::2",
        0,
        64,
        &ext,
        &vec![0; jumbo_len - 8],
    );
    p[4..6].fill(0);
    let r = ipv6_rcv(&p, false).unwrap();
    assert_eq!((r.len, r.protocol), (40 + jumbo_len, 17));
    assert_eq!(
        ipv6_rcv(&p[..p.len() - 1], false),
        Err(DropReason::PktTooSmall)
    );
    // A jumbo length that would fit a normal header, and a jumbo option with a payload length.
    let mut small = p.clone();
    small[44..48].copy_from_slice(&65535u32.to_be_bytes());
    assert_eq!(ipv6_rcv(&small, false), Err(DropReason::IpInhdr));
    let mut both = v6("2001:db8::1", "2001:db8::2", 0, 64, &ext, &[0; 8]);
    both[44..48].copy_from_slice(&70_000u32.to_be_bytes());
    assert_eq!(ipv6_rcv(&both, false), Err(DropReason::IpInhdr));
}

// --- FIB -------------------------------------------------------------------------------

fn route(prefix: &str, dev: u32, gw: Option<&str>, metric: u32) -> Route {
    Route {
        prefix: prefix.parse().unwrap_or_else(|e| panic!("{e}")),
        kind: RouteKind::Unicast,
        dev,
        gateway: gw.map(ip),
        metric,
    }
}

fn fib() -> Fib {
    let mut f = Fib::new();
    f.add_local(2, ip("192.168.1.1"), 24).unwrap();
    f.add_local(3, ip("10.0.0.1"), 8).unwrap();
    f.add_local(3, ip("2001:db8::1"), 64).unwrap();
    f.add_route(route("0.0.0.0/0", 3, Some("10.0.0.254"), 100))
        .unwrap();
    f.add_route(route("0.0.0.0/0", 2, Some("192.168.1.254"), 50))
        .unwrap();
    f.add_route(route("172.16.0.0/12", 3, Some("10.0.0.9"), 0))
        .unwrap();
    f.add_route(route("172.16.5.0/24", 2, None, 0)).unwrap();
    f.add_route(route("::/0", 3, Some("2001:db8::fe"), 1024))
        .unwrap();
    f.add_route(Route {
        kind: RouteKind::Prohibit,
        ..route("198.51.100.0/24", 0, None, 0)
    })
    .unwrap();
    f.add_route(Route {
        kind: RouteKind::Blackhole,
        ..route("2001:db8:dead::/48", 0, None, 0)
    })
    .unwrap();
    f
}

#[test]
fn longest_prefix_then_lowest_metric() {
    let f = fib();
    let dev = |a| {
        f.lookup(ip(a))
            .map(|r| (r.dev, r.prefix.prefix_len(), r.kind))
    };
    assert_eq!(dev("172.16.5.9"), Some((2, 24, RouteKind::Unicast)));
    assert_eq!(dev("172.17.0.1"), Some((3, 12, RouteKind::Unicast)));
    assert_eq!(dev("8.8.8.8"), Some((2, 0, RouteKind::Unicast))); // metric 50 beats 100
    assert_eq!(dev("10.200.0.1"), Some((3, 8, RouteKind::Unicast)));
    assert_eq!(dev("10.0.0.1"), Some((3, 32, RouteKind::Local)));
    assert_eq!(dev("192.168.1.255"), Some((2, 32, RouteKind::Broadcast)));
    assert_eq!(dev("2001:db8::77"), Some((3, 64, RouteKind::Unicast)));
    assert_eq!(dev("2001:db8::1"), Some((3, 128, RouteKind::Local)));
    assert_eq!(dev("2a00::1"), Some((3, 0, RouteKind::Unicast)));
    assert_eq!(
        f.lookup(ip("8.8.8.8")).map(|r| r.next_hop(ip("8.8.8.8"))),
        Some(ip("192.168.1.254"))
    );
    assert!(f.is_local(ip("192.168.1.1")) && !f.is_local(ip("192.168.1.2")));
    let mut f = fib();
    assert_eq!(f.remove_route("0.0.0.0/0".parse().unwrap(), Some(50)), 1);
    assert_eq!(f.lookup(ip("8.8.8.8")).map(|r| r.dev), Some(3));
    assert_eq!(f.remove_route("0.0.0.0/0".parse().unwrap(), None), 1);
    assert_eq!(f.lookup(ip("8.8.8.8")), None);
}

#[test]
fn route_input_decides_local_forward_or_drop() {
    let f = fib();
    assert!(matches!(
        f.route_input(ip("192.168.1.1")),
        Ok(InputRoute::Local(_))
    ));
    assert!(matches!(
        f.route_input(ip("10.255.255.255")),
        Ok(InputRoute::Local(_))
    ));
    assert!(matches!(f.route_input(ip("8.8.4.4")), Ok(InputRoute::Forward(r)) if r.dev == 2));
    let e = f.route_input(ip("198.51.100.7")).unwrap_err();
    assert_eq!(
        (e.reason, e.icmp),
        (DropReason::IpInnoroutes, Some(IcmpKind::dest_unreach(13)))
    );
    let e = f.route_input(ip("2001:db8:dead::1")).unwrap_err();
    assert_eq!((e.reason, e.icmp), (DropReason::NotSpecified, None));
    let empty = Fib::new();
    let e = empty.route_input(ip("2001:db8::1")).unwrap_err();
    assert_eq!(e.icmp, Some(IcmpKind::v6_dest_unreach(0)));
}

#[test]
fn fib_refuses_bad_routes() {
    assert!(matches!(
        "10.0.0.1/8".parse::<Prefix>(),
        Err(FibError::HostBits(_))
    ));
    assert!(matches!(
        "10.0.0.0/33".parse::<Prefix>(),
        Err(FibError::BadPrefix(_))
    ));
    assert!(matches!(
        "ten/8".parse::<Prefix>(),
        Err(FibError::BadPrefix(_))
    ));
    let mut f = fib();
    assert!(matches!(
        f.add_route(route("172.16.0.0/12", 2, None, 0)),
        Err(FibError::Exists(_))
    ));
    assert_eq!(
        f.add_route(route("172.16.0.0/12", 2, Some("::1"), 5)),
        Err(FibError::GatewayFamily)
    );
    assert_eq!(
        f.add_local(2, ip("10.0.0.5"), 40),
        Err(FibError::BadPrefix("10.0.0.5/40".into()))
    );
}

#[test]
fn error_source_follows_the_route_back() {
    let f = fib();
    assert_eq!(
        f.error_source(ip("192.168.1.77"), 3),
        Some(ip("192.168.1.1"))
    );
    assert_eq!(f.error_source(ip("10.9.9.9"), 2), Some(ip("10.0.0.1")));
    assert_eq!(f.error_source(ip("2a00::5"), 2), Some(ip("2001:db8::1")));
}

// --- forwarding and ICMP errors ----------------------------------------------------------

/// Checks the IPv4 header checksum and the ICMP checksum of an error, and returns
/// (type, code, rest word, quoted bytes).
fn check_icmp4(e: &[u8]) -> (u8, u8, u32, &[u8]) {
    assert!(checksum::verify(&e[..20]), "IPv4 header checksum");
    assert_eq!(usize::from(u16::from_be_bytes([e[2], e[3]])), e.len());
    assert_eq!((e[8], e[9]), (64, 1));
    assert!(checksum::verify(&e[20..]), "ICMP checksum");
    (
        e[20],
        e[21],
        u32::from_be_bytes([e[24], e[25], e[26], e[27]]),
        &e[28..],
    )
}

fn check_icmp6(e: &[u8]) -> (u8, u8, u32, &[u8]) {
    let src: [u8; 16] = e[8..24].try_into().unwrap_or_default();
    let dst: [u8; 16] = e[24..40].try_into().unwrap_or_default();
    let body = &e[40..];
    assert_eq!(usize::from(u16::from_be_bytes([e[4], e[5]])), body.len());
    assert_eq!((e[6], e[7]), (58, 64));
    let pseudo = checksum::pseudo_v6(&src, &dst, 58, body.len() as u32);
    assert!(checksum::verify_with(body, pseudo), "ICMPv6 checksum");
    (
        body[0],
        body[1],
        u32::from_be_bytes([body[4], body[5], body[6], body[7]]),
        &body[8..],
    )
}

#[test]
fn forward_decrements_ttl_with_an_incremental_checksum() {
    for ttl in [2u8, 64, 255] {
        for proto in [1u8, 6, 17, 255] {
            let mut p = v4([10, 0, 0, 1], [8, 8, 8, 8], proto, ttl, true, &[1, 2, 3, 4]);
            assert_eq!(ip_forward(&mut p, 1500, None, 0), Forwarded::Forward);
            assert_eq!(p[8], ttl - 1);
            assert!(checksum::verify(&p[..20]), "ttl {ttl} proto {proto}");
        }
    }
    let mut p = v6("2001:db8::1", "2a00::1", 17, 2, &[], &[0; 8]);
    assert_eq!(ip_forward(&mut p, 1500, None, 0), Forwarded::Forward);
    assert_eq!(p[7], 1);
}

#[test]
fn forward_ttl_expiry_sends_time_exceeded() {
    let me = Some(ip("192.0.2.1"));
    let orig = v4([10, 0, 0, 1], [8, 8, 8, 8], 17, 1, false, &[0xab; 600]);
    let mut p = orig.clone();
    let Forwarded::Dropped { reason, icmp } = ip_forward(&mut p, 1500, me, 7) else {
        panic!("a TTL of 1 cannot be forwarded");
    };
    assert_eq!(reason, DropReason::IpTtlExceeded);
    assert_eq!(p, orig, "a dropped packet is left as it was");
    let e = icmp.unwrap();
    assert_eq!(e.len(), 576);
    assert_eq!(&e[12..20], &[192, 0, 2, 1, 10, 0, 0, 1]);
    assert_eq!(u16::from_be_bytes([e[4], e[5]]), 7);
    assert_eq!(e[1], 0xc0 | 0x10);
    let (t, c, rest, quote) = check_icmp4(&e);
    assert_eq!((t, c, rest), (11, 0, 0));
    assert_eq!(quote, &orig[..548]);

    let orig6 = v6("2001:db8::1", "2a00::1", 6, 1, &[], &[0xcd; 1400]);
    let mut p = orig6.clone();
    let Forwarded::Dropped { reason, icmp } = ip_forward(&mut p, 1500, Some(ip("2001:db8::ff")), 0)
    else {
        panic!("a hop limit of 1 cannot be forwarded");
    };
    assert_eq!(reason, DropReason::IpTtlExceeded);
    let e = icmp.unwrap();
    assert_eq!(e.len(), 1280);
    let (t, c, rest, quote) = check_icmp6(&e);
    assert_eq!((t, c, rest), (3, 0, 0));
    assert_eq!(quote, &orig6[..1232]);
    assert_eq!(&e[24..40], &orig6[8..24]);
}

#[test]
fn forward_mtu_excess() {
    let me = Some(ip("192.0.2.1"));
    let mut df = v4([10, 0, 0, 1], [8, 8, 8, 8], 6, 64, true, &[0; 1480]);
    let Forwarded::Dropped { reason, icmp } = ip_forward(&mut df, 1400, me, 0) else {
        panic!("DF set and too big");
    };
    assert_eq!(reason, DropReason::PktTooBig);
    let e = icmp.unwrap();
    let (t, c, rest, _) = check_icmp4(&e);
    assert_eq!((t, c, rest), (3, 4, 1400));
    assert_eq!(df[8], 64, "the TTL of a dropped packet is untouched");

    let mut no_df = v4([10, 0, 0, 1], [8, 8, 8, 8], 6, 64, false, &[0; 1480]);
    assert_eq!(
        ip_forward(&mut no_df, 1400, me, 0),
        Forwarded::NeedsFragmentation
    );
    assert_eq!(no_df[8], 63);
    assert!(checksum::verify(&no_df[..20]));

    let mut big6 = v6("2001:db8::1", "2a00::1", 17, 64, &[], &[0; 1400]);
    let Forwarded::Dropped { reason, icmp } =
        ip_forward(&mut big6, 1000, Some(ip("2001:db8::ff")), 0)
    else {
        panic!("too big for IPv6");
    };
    assert_eq!(reason, DropReason::PktTooBig);
    let (t, c, rest, _) = check_icmp6(&icmp.unwrap());
    assert_eq!(
        (t, c, rest),
        (2, 0, 1280),
        "the MTU is at least IPV6_MIN_MTU"
    );
    // A source of the wrong family gives no error.
    let mut p = v4([10, 0, 0, 1], [8, 8, 8, 8], 6, 1, false, &[]);
    assert_eq!(
        ip_forward(&mut p, 1500, Some(ip("2001:db8::ff")), 0),
        Forwarded::Dropped {
            reason: DropReason::IpTtlExceeded,
            icmp: None
        }
    );
    assert!(matches!(
        ip_forward(&mut [0x45, 0], 1500, None, 0),
        Forwarded::Dropped { .. }
    ));
}

#[test]
fn icmp_errors_are_never_sent_about() {
    let me = ipv4_me();
    let kind = IcmpKind::ttl_exceeded();
    // A later fragment, an ICMP error, a broadcast or multicast destination, a martian source.
    let mut frag = v4([10, 0, 0, 1], [8, 8, 8, 8], 17, 1, false, &[0; 8]);
    frag[6..8].copy_from_slice(&0x0001u16.to_be_bytes());
    assert!(icmp_error(&frag, kind, me, 0).is_none());
    let err = v4(
        [10, 0, 0, 1],
        [8, 8, 8, 8],
        1,
        1,
        false,
        &[3, 1, 0, 0, 0, 0, 0, 0],
    );
    assert!(icmp_error(&err, kind, me, 0).is_none());
    let echo = v4(
        [10, 0, 0, 1],
        [8, 8, 8, 8],
        1,
        1,
        false,
        &[8, 0, 0, 0, 0, 0, 0, 0],
    );
    assert!(icmp_error(&echo, kind, me, 0).is_some());
    for dst in [[255; 4], [224, 0, 0, 5]] {
        assert!(icmp_error(&v4([10, 0, 0, 1], dst, 17, 1, false, &[]), kind, me, 0).is_none());
    }
    for src in [[0; 4], [224, 0, 0, 5], [255; 4]] {
        assert!(icmp_error(&v4(src, [8, 8, 8, 8], 17, 1, false, &[]), kind, me, 0).is_none());
    }
    // IPv6: errors about errors, multicast destinations (except packet too big), bad sources.
    let me6 = crate::wire::Ipv6Address(v6_addr("2001:db8::ff"));
    let hop = IcmpKind::v6_hop_limit_exceeded();
    let err6 = v6(
        "2001:db8::1",
        "2a00::1",
        58,
        1,
        &[],
        &[1, 0, 0, 0, 0, 0, 0, 0],
    );
    assert!(icmpv6_error(&err6, hop, &me6).is_none());
    let echo6 = v6(
        "2001:db8::1",
        "2a00::1",
        58,
        1,
        &[],
        &[128, 0, 0, 0, 0, 0, 0, 0],
    );
    assert!(icmpv6_error(&echo6, hop, &me6).is_some());
    let mc = v6("2001:db8::1", "ff0e::1", 17, 1, &[], &[0; 8]);
    assert!(icmpv6_error(&mc, hop, &me6).is_none());
    assert!(icmpv6_error(&mc, IcmpKind::v6_pkt_too_big(1280), &me6).is_some());
    assert!(icmpv6_error(&mc, IcmpKind::v6_param_problem(2, 42), &me6).is_some());
    let unspec = v6("::", "2a00::1", 17, 1, &[], &[0; 8]);
    assert!(icmpv6_error(&unspec, hop, &me6).is_none());
    // A later fragment of an ICMPv6 error is eligible (its type is not in it).
    let frag6 = v6(
        "2001:db8::1",
        "2a00::1",
        44,
        1,
        &[58, 0, 0, 0x08, 0, 0, 0, 1],
        &[1; 8],
    );
    assert!(icmpv6_error(&frag6, hop, &me6).is_some());
}

fn ipv4_me() -> crate::wire::Ipv4Address {
    crate::wire::Ipv4Address([192, 0, 2, 1])
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), version in 0u8..3) {
        if let Some(b) = bytes.first_mut() {
            *b = match version { 0 => 0x45 | (*b & 0x0f), 1 => 0x60, _ => *b };
        }
        let _ = ipv4_rcv(&bytes, false);
        let _ = ipv6_rcv(&bytes, false);
        let _ = ipv6_upper_layer(&bytes);
        let _ = crate::netfilter::PacketInfo::parse_any(&bytes);
        let _ = icmp_error(&bytes, IcmpKind::ttl_exceeded(), ipv4_me(), 0);
        let _ = icmpv6_error(&bytes, IcmpKind::v6_hop_limit_exceeded(), &crate::wire::Ipv6Address([1; 16]));
        let _ = ip_forward(&mut bytes, 1280, Some(ip("192.0.2.1")), 0);
    }
}
