//! Rule language and evaluation, on hand-built packet descriptions.

use proptest::prelude::*;

use super::*;

fn devices(name: &str) -> Option<u32> {
    match name {
        "eth0" => Some(2),
        "eth1" => Some(3),
        "wan 0" => Some(7),
        _ => None,
    }
}

fn rules(text: &str) -> Ruleset {
    Ruleset::parse(text, &devices).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> RuleError {
    Ruleset::parse(text, &devices).expect_err("the text should not parse")
}

fn tcp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8) -> PacketInfo {
    PacketInfo {
        family: Some(Family::Ipv4),
        saddr: v4_mapped(src),
        daddr: v4_mapped(dst),
        l4proto: 6,
        has_ports: true,
        has_tcp_flags: true,
        sport,
        dport,
        tcp_flags: flags,
        length: 60,
        iif: 2,
        ..PacketInfo::default()
    }
}

fn udp6(src: u128, dport: u16) -> PacketInfo {
    PacketInfo {
        family: Some(Family::Ipv6),
        saddr: src,
        daddr: 1,
        l4proto: 17,
        has_ports: true,
        sport: 5353,
        dport,
        length: 100,
        iif: 3,
        ..PacketInfo::default()
    }
}

/// The verdict code and the deciding rule for `pkt`.
fn run(rs: &Ruleset, pkt: &PacketInfo) -> (i32, Option<u32>) {
    let r = rs.eval(pkt, &mut rs.new_counters());
    (r.code(), r.rule)
}

const DROP: i32 = Verdict::DROP as i32;
const ACCEPT: i32 = Verdict::ACCEPT as i32;

#[test]
fn the_issue_example() {
    let rs = rules("ip saddr 10.0.0.0/8 tcp dport {22, 80-90} drop");
    assert_eq!(
        run(&rs, &tcp4([10, 1, 2, 3], [1, 1, 1, 1], 999, 22, 2)),
        (DROP, Some(0))
    );
    assert_eq!(
        run(&rs, &tcp4([10, 1, 2, 3], [1, 1, 1, 1], 999, 85, 2)).0,
        DROP
    );
    assert_eq!(
        run(&rs, &tcp4([10, 1, 2, 3], [1, 1, 1, 1], 999, 91, 2)),
        (ACCEPT, None)
    );
    assert_eq!(
        run(&rs, &tcp4([11, 0, 0, 1], [1, 1, 1, 1], 999, 22, 2)).0,
        ACCEPT
    );
    // The same ports over UDP, and an IPv6 packet whose mapped form would look alike.
    let mut udp = tcp4([10, 1, 2, 3], [1, 1, 1, 1], 999, 22, 0);
    udp.l4proto = 17;
    assert_eq!(run(&rs, &udp).0, ACCEPT);
    let mut v6 = tcp4([10, 1, 2, 3], [1, 1, 1, 1], 999, 22, 2);
    v6.family = Some(Family::Ipv6);
    assert_eq!(run(&rs, &v6).0, ACCEPT);
}

#[test]
fn first_terminal_verdict_wins_and_statements_apply_on_the_way() {
    let rs = rules(
        "# marks, then decisions\n\
         \n\
         tcp dport 22 meta mark set 0x10 counter\n\
         meta mark 16 meta priority set 1:2\n\
         meta mark 16 accept   # seen with the mark set above\n\
         drop\n",
    );
    assert_eq!(rs.len(), 4);
    assert_eq!(
        rs.rules()[0].text(),
        "tcp dport 22 meta mark set 0x10 counter"
    );
    assert_eq!(rs.rules()[2].line(), 5);
    assert!(rs.rules()[0].has_counter());
    let mut c = rs.new_counters();
    let ssh = tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1000, 22, 0x10);
    let r = rs.eval(&ssh, &mut c);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::Accept));
    assert_eq!(
        (r.rule, r.mark, r.priority),
        (Some(2), Some(16), Some(0x0001_0002))
    );
    let web = tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1000, 80, 0x10);
    let r = rs.eval(&web, &mut c);
    assert_eq!(
        (r.outcome, r.rule, r.mark),
        (Outcome::Verdict(Verdict::Drop), Some(3), None)
    );
    assert_eq!((c.packets(0), c.bytes(0)), (1, 60));
    assert_eq!((c.packets(2), c.packets(3)), (1, 1));
    // Counters of two workers add up.
    let mut total = RuleCounters::default();
    total.add(&c);
    total.add(&c);
    assert_eq!((total.packets(0), total.bytes(3)), (2, 120));
}

#[test]
fn ipv6_sets_negation_and_devices() {
    let rs = rules(
        "ip6 saddr != { 2001:db8::/32, fe80::/10 } udp dport 53 drop\n\
         iif \"wan 0\" drop\n\
         iifname { eth0, eth1 } udp dport 5000-5010 queue num 3\n\
         oif != eth0 meta l4proto icmpv6 jump audit\n",
    );
    let inside = 0x2001_0db8_u128 << 96 | 5;
    let outside = 0x2a00_u128 << 112;
    assert_eq!(run(&rs, &udp6(inside, 53)).0, ACCEPT);
    assert_eq!(run(&rs, &udp6(outside, 53)), (DROP, Some(0)));
    let r = rs.eval(&udp6(inside, 5004), &mut RuleCounters::default());
    assert_eq!(
        (r.outcome, r.code()),
        (Outcome::Verdict(Verdict::Queue(3)), 3)
    );
    let mut icmp = udp6(inside, 0);
    icmp.l4proto = 58;
    icmp.has_ports = false;
    let r = rs.eval(&icmp, &mut RuleCounters::default());
    assert_eq!((r.outcome, r.code()), (Outcome::Jump(0), JUMP_CODE));
    assert_eq!(rs.jump_target(0), Some("audit"));
    icmp.oif = 2;
    assert_eq!(run(&rs, &icmp).0, ACCEPT);
    let mut wan = icmp;
    wan.iif = 7;
    assert_eq!(run(&rs, &wan), (DROP, Some(1)));
}

#[test]
fn tcp_flags_as_nft_reads_them() {
    let syn = 0x02;
    let synack = 0x12;
    let ack = 0x10;
    let cases: &[(&str, &[(u8, bool)])] = &[
        (
            "tcp flags syn drop",
            &[(syn, true), (synack, true), (ack, false)],
        ),
        (
            "tcp flags syn,rst drop",
            &[(syn, true), (0x04, true), (ack, false)],
        ),
        ("tcp flags == syn drop", &[(syn, true), (synack, false)]),
        ("tcp flags != syn drop", &[(syn, false), (synack, true)]),
        (
            "tcp flags & (syn|ack) == syn drop",
            &[(syn, true), (synack, false), (0x03, true)],
        ),
        (
            "tcp flags & (syn|ack) != syn drop",
            &[(syn, false), (synack, true)],
        ),
        (
            "tcp flags syn / syn,ack drop",
            &[(syn, true), (synack, false), (0x0a, true)],
        ),
        (
            "tcp flags { syn, syn|ack } drop",
            &[(syn, true), (synack, true), (0x0a, false)],
        ),
        (
            "tcp flags != { syn, ack } drop",
            &[(syn, false), (ack, false), (synack, true)],
        ),
    ];
    for (text, expect) in cases {
        let rs = rules(text);
        for &(flags, dropped) in *expect {
            let p = tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, flags);
            assert_eq!(
                run(&rs, &p).0 == DROP,
                dropped,
                "{text} on flags {flags:#x}"
            );
        }
    }
}

#[test]
fn missing_transport_headers_never_match() {
    let rs = rules("th dport != 22 drop\ntcp flags != syn drop");
    let mut frag = tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 80, 0);
    frag.has_ports = false;
    frag.has_tcp_flags = false;
    assert_eq!(run(&rs, &frag).0, ACCEPT);
    frag.has_ports = true;
    assert_eq!(run(&rs, &frag), (DROP, Some(0)));
}

#[test]
fn lengths_marks_and_relational_operators() {
    let rs = rules(
        "meta length < 64 return\n\
         length >= 1000 drop\n\
         mark != 0 accept\n\
         meta length 100-200 meta mark set 5\n\
         ip protocol != { tcp, udp } drop\n",
    );
    let mut p = tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0);
    p.length = 63;
    let r = rs.eval(&p, &mut RuleCounters::default());
    assert_eq!((r.outcome, r.rule), (Outcome::FallThrough, Some(0)));
    p.length = 1000;
    assert_eq!(run(&rs, &p), (DROP, Some(1)));
    p.length = 500;
    p.mark = 9;
    assert_eq!(run(&rs, &p), (ACCEPT, Some(2)));
    p.mark = 0;
    p.length = 150;
    let r = rs.eval(&p, &mut RuleCounters::default());
    assert_eq!((r.outcome, r.mark), (Outcome::FallThrough, Some(5)));
    p.l4proto = 1;
    assert_eq!(run(&rs, &p).0, DROP);
}

#[test]
fn address_ranges_and_single_hosts() {
    let rs = rules("ip daddr 192.168.1.10-192.168.1.20 drop\nip saddr 8.8.8.8 drop");
    assert_eq!(
        run(&rs, &tcp4([1, 1, 1, 1], [192, 168, 1, 15], 1, 2, 0)).0,
        DROP
    );
    assert_eq!(
        run(&rs, &tcp4([1, 1, 1, 1], [192, 168, 1, 21], 1, 2, 0)).0,
        ACCEPT
    );
    assert_eq!(
        run(&rs, &tcp4([8, 8, 8, 8], [1, 1, 1, 1], 1, 2, 0)),
        (DROP, Some(1))
    );
}

#[test]
fn large_sets_are_searched() {
    let ports: Vec<String> = (0..200).map(|i| (1000 + 3 * i).to_string()).collect();
    let rs = rules(&format!("tcp dport {{ {} }} drop", ports.join(", ")));
    for port in 990..1700u16 {
        let p = tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, port, 0);
        let listed = (1000..1600).contains(&port) && (port - 1000) % 3 == 0;
        assert_eq!(run(&rs, &p).0 == DROP, listed, "port {port}");
    }
}

#[test]
fn errors_name_line_column_and_what_was_expected() {
    let e = err("accept\n\ntcp dport http drop");
    assert_eq!(
        e.to_string(),
        "line 3, column 11: expected a port or port range, found \"http\""
    );
    let e = err("ip saddr 10.0.0.1/8 drop");
    assert_eq!((e.line, e.column), (1, 19));
    assert!(e.message.contains("host bits"), "{e}");
    let e = err("iif eth9 drop");
    assert_eq!(
        (e.column, e.message.as_str()),
        (5, "unknown device \"eth9\"")
    );
    let e = err("ip saddr 1.2.3.4 ip6 daddr ::1 drop");
    assert_eq!(e.column, 18);
    assert!(e.message.contains("ipv4"), "{e}");
    let e = err("tcp dport 22 udp sport 53 accept");
    assert!(
        e.message.contains("tcp") && e.message.contains("udp"),
        "{e}"
    );
    let e = err("drop accept");
    assert_eq!(
        e.to_string(),
        "line 1, column 6: expected end of rule after the verdict, found \"accept\""
    );
    let e = err("tcp dport 70000 drop");
    assert!(e.message.contains("\"70000\""), "{e}");
    let e = err("tcp dport { 22, 23 drop");
    assert_eq!(e.message, "expected \",\" or \"}\", found \"drop\"");
    let e = err("tcp dport");
    assert_eq!(
        e.to_string(),
        "line 1, column 10: expected a port or port range, found end of rule"
    );
    let e = err("counter tcp dport 22 drop");
    assert!(e.message.contains("matches come before statements"), "{e}");
    let e = err("ip6 protocol tcp");
    assert!(e.message.contains("\"saddr\" or \"daddr\""), "{e}");
    let e = err("tcp dport < {1, 2}");
    assert_eq!(e.message, "\"<\" needs a single value, not a range or set");
    let e = err("foo");
    assert_eq!(
        e.message,
        "expected a match, a statement or a verdict, found \"foo\""
    );
    let e = err("tcp dport 90-80 drop");
    assert!(e.message.contains("ends before it starts"), "{e}");
    let e = err("meta mark set x");
    assert_eq!(e.column, 15);
}

#[test]
fn eval_many_matches_eval() {
    let rs = rules("tcp dport 22 drop\nudp dport 53 accept");
    let pkts = [
        tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 22, 0),
        udp6(1, 53),
        tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 23, 0),
    ];
    let mut out = [RuleResult::default(); 3];
    let mut c = rs.new_counters();
    rs.eval_many(&pkts, &mut out, &mut c);
    let codes: Vec<i32> = out.iter().map(RuleResult::code).collect();
    assert_eq!(codes, [DROP, ACCEPT, ACCEPT]);
    assert_eq!(out[1].rule, Some(1));
    assert_eq!((c.packets(0), c.packets(1)), (1, 1));
}

#[test]
fn rules_see_parsed_packets() {
    // 10.0.0.1 → 10.0.0.2, TCP 40000 → 22, SYN.
    let mut p = vec![
        0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    p.extend_from_slice(&[
        0x9c, 0x40, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0,
    ]);
    let info = PacketInfo::parse_any(&p).unwrap();
    let rs = rules("ip saddr 10.0.0.0/24 tcp flags syn tcp dport 22 meta length 40 drop");
    assert_eq!(run(&rs, &info), (DROP, Some(0)));
}

proptest! {
    #[test]
    fn parsing_never_panics(text in "\\PC{0,200}") {
        let _ = Ruleset::parse(&text, &devices);
    }

    #[test]
    fn parsing_token_soup_never_panics(words in proptest::collection::vec(prop::sample::select(vec![
        "ip", "ip6", "saddr", "daddr", "tcp", "udp", "th", "dport", "sport", "flags", "{", "}",
        ",", "&", "(", ")", "|", "/", "==", "!=", "<", ">=", "syn", "ack", "22", "80-90", "10.0.0.0",
        "8", "::1", "meta", "mark", "set", "length", "iif", "eth0", "\"eth1\"", "counter", "drop",
        "accept", "queue", "num", "jump", "x", "return", "priority", "1:2", "l4proto", "\n", "#",
    ]), 0..24)) {
        let text = words.join(" ");
        if let Ok(rs) = Ruleset::parse(&text, &devices) {
            let _ = rs.eval(&tcp4([10, 0, 0, 1], [1, 1, 1, 1], 1, 22, 2), &mut RuleCounters::default());
        }
    }
}

/// Rules that exercise every field, negation, sets, marks and every action.
const RULE_POOL: &[&str] = &[
    "ip saddr 10.0.0.0/8 tcp dport {22, 80-90} drop",
    "ip saddr != 10.0.0.0/8 udp dport 53 accept",
    "ip daddr 192.168.1.10-192.168.1.20 counter",
    "ip6 saddr 2001:db8::/32 th dport != 22 drop",
    "ip6 daddr != ::1 meta mark set 5",
    "meta mark 5 tcp sport 1000-2000 accept",
    "mark != 5 udp sport 53 queue num 4",
    "meta mark set 9 meta priority set 3",
    "meta mark { 9, 11 } length < 100 return",
    "tcp flags syn meta mark set 11 continue",
    "tcp flags & (syn|ack) == ack jump hook",
    "tcp flags != { syn, ack } drop",
    "meta l4proto { tcp, udp } meta length >= 500 drop",
    "ip protocol icmp accept",
    "meta l4proto != icmpv6 ip6 saddr fe80::/10 drop",
    "iif eth0 oif != eth1 drop",
    "iifname { eth0, eth1 } meta length 60-64 accept",
    "th sport { 1, 53, 1000 } counter",
    "meta nfproto ipv6 meta mark 11 drop",
    "length > 1000 meta mark set 0",
    "ip saddr 10.1.0.0/16 ip daddr != 10.1.0.0/16 accept",
];

fn any_packet() -> impl Strategy<Value = PacketInfo> {
    let family = prop::sample::select(vec![None, Some(Family::Ipv4), Some(Family::Ipv6)]);
    let v4s = prop::sample::select(vec![
        [10, 0, 0, 1],
        [10, 1, 2, 3],
        [11, 0, 0, 0],
        [192, 168, 1, 10],
        [192, 168, 1, 21],
        [9, 255, 255, 255],
    ]);
    let v6s = prop::sample::select(vec![
        1u128,
        0x2001_0db8_u128 << 96,
        (0x2001_0db9_u128 << 96) - 1,
        0xfe80_u128 << 112,
        u128::MAX,
    ]);
    let ports = prop::sample::select(vec![
        0u16, 1, 22, 53, 79, 80, 90, 91, 1000, 2000, 2001, 65535,
    ]);
    (
        family,
        (v4s.clone(), v4s, v6s.clone(), v6s),
        prop::sample::select(vec![1u8, 6, 17, 58, 47]),
        (
            any::<bool>(),
            any::<bool>(),
            ports.clone(),
            ports,
            any::<u8>(),
        ),
        prop::sample::select(vec![0u32, 59, 60, 64, 65, 99, 100, 499, 500, 1000, 1001]),
        (
            0u32..4,
            0u32..4,
            prop::sample::select(vec![0u32, 5, 9, 11, 12]),
        ),
    )
        .prop_map(
            |(
                family,
                (s4, d4, s6, d6),
                l4proto,
                (p, f, sport, dport, flags),
                length,
                (iif, oif, mark),
            )| {
                let v6 = family == Some(Family::Ipv6);
                PacketInfo {
                    family,
                    saddr: if v6 { s6 } else { v4_mapped(s4) },
                    daddr: if v6 { d6 } else { v4_mapped(d4) },
                    l4proto,
                    has_ports: p,
                    has_tcp_flags: f,
                    sport,
                    dport,
                    tcp_flags: flags,
                    length,
                    iif,
                    oif,
                    mark,
                }
            },
        )
}

proptest! {
    #[test]
    fn classifier_agrees_with_the_rule_walk(
        picks in proptest::collection::vec(0..RULE_POOL.len(), 1..30),
        pkts in proptest::collection::vec(any_packet(), 1..40),
    ) {
        let text: Vec<&str> = picks.iter().map(|&i| RULE_POOL[i]).collect();
        let rs = Ruleset::parse(&text.join("\n"), &|n: &str| match n {
            "eth0" => Some(1),
            "eth1" => Some(2),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let (mut a, mut b) = (rs.new_counters(), rs.new_counters());
        for p in &pkts {
            prop_assert_eq!(rs.eval(p, &mut a), rs.eval_linear(p, &mut b), "{:?}", p);
        }
        prop_assert_eq!(a, b);
    }
}

#[test]
fn large_rulesets_walk_rules() {
    let text: Vec<String> = (0..600).map(|i| format!("tcp dport {i} drop")).collect();
    let rs = rules(&text.join("\n"));
    assert_eq!(
        run(&rs, &tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 599, 0)),
        (DROP, Some(599))
    );
    assert_eq!(
        run(&rs, &tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 600, 0)),
        (ACCEPT, None)
    );
}
