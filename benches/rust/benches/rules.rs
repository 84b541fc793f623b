//! Native rules: what a 100-rule ruleset costs per packet, against no rules, same run.
//!
//! The packet mix is a deterministic set of Ethernet frames: IPv4 TCP (70%: web, SSH, mail,
//! high ports, SYNs and ACKs), IPv4 UDP (15%: DNS, NTP, QUIC, high ports), IPv6 TCP and UDP
//! (10%), ICMP (5%), sources spread over private and public prefixes. The ruleset is a
//! plausible firewall of 100 rules: per-service accepts with address and port sets, device and
//! mark rules, length limits, IPv6 rules, drops of known-bad ranges, a final fall-through — so
//! most packets meet many rules.
//!
//! Contenders, per packet:
//! - `dissect`: the stack's per-packet floor today (`demux::dissect` of the frame);
//! - `dissect+info`: plus [`PacketInfo::parse`] from the network header, evaluating an empty
//!   ruleset (no rules);
//! - `dissect+rules100`: the same with the 100 rules.
//!
//! After criterion's groups, one table times the three in the same run and prints the ratios:
//! the goal is that 100 rules cost at most 30% over no rules (`rules100 / no rules`).
//!
//! Run: `cargo bench -p netcore-benches --bench rules -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netcore_core::demux::{self, NONE16, Tables};
use netcore_core::netfilter::{Family, PacketInfo, RuleCounters, Ruleset};

/// Frames in the mix.
const MIX: usize = 4096;

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.next() as usize % items.len()]
    }
}

/// An Ethernet frame around an IP packet: `proto` with ports (or ICMP), `payload` bytes.
fn frame(
    v6: bool,
    src: [u8; 4],
    proto: u8,
    sport: u16,
    dport: u16,
    flags: u8,
    payload: usize,
) -> Vec<u8> {
    let l4_len = match proto {
        6 => 20,
        17 | 1 => 8,
        _ => 0,
    };
    let mut l4 = vec![0u8; l4_len + payload];
    if proto == 1 {
        l4[0] = 8; // echo request
    } else {
        l4[0..2].copy_from_slice(&sport.to_be_bytes());
        l4[2..4].copy_from_slice(&dport.to_be_bytes());
    }
    if proto == 6 {
        l4[12] = 0x50;
        l4[13] = flags;
    }
    let mut f = vec![0u8; 12];
    if v6 {
        f.extend_from_slice(&[0x86, 0xdd]);
        let mut ip = vec![0u8; 40];
        ip[0] = 0x60;
        ip[4..6].copy_from_slice(&(l4.len() as u16).to_be_bytes());
        ip[6] = proto;
        ip[7] = 64;
        ip[8..10].copy_from_slice(&[0x20, 0x01]);
        ip[10..12].copy_from_slice(&[0x0d, 0xb8]);
        ip[12..16].copy_from_slice(&src);
        ip[24] = 0x2a;
        ip[39] = 1;
        f.extend_from_slice(&ip);
    } else {
        f.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
        ip[8] = 64;
        ip[9] = proto;
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&[192, 0, 2, 10]);
        f.extend_from_slice(&ip);
    }
    f.extend_from_slice(&l4);
    f
}

fn packet_mix() -> Vec<Vec<u8>> {
    let mut r = Rng(0x2545_f491);
    let nets: [[u8; 2]; 6] = [[10, 1], [10, 200], [192, 168], [172, 20], [203, 0], [8, 8]];
    let tcp_ports = [80, 443, 443, 443, 22, 25, 993, 8080, 3306, 51_000];
    let udp_ports = [53, 53, 123, 443, 5353, 40_000];
    let sizes = [0, 0, 40, 536, 1200, 1400];
    (0..MIX)
        .map(|_| {
            let n = r.pick(&nets);
            let src = [n[0], n[1], r.next() as u8, r.next() as u8];
            let kind = r.next() % 100;
            let sport = 1024 + (r.next() % 60_000) as u16;
            let flags = r.pick(&[0x10, 0x10, 0x18, 0x02, 0x12, 0x11]);
            let size = r.pick(&sizes);
            match kind {
                0..70 => frame(false, src, 6, sport, r.pick(&tcp_ports), flags, size),
                70..85 => frame(false, src, 17, sport, r.pick(&udp_ports), 0, size),
                85..90 => frame(true, src, 6, sport, r.pick(&tcp_ports), flags, size),
                90..95 => frame(true, src, 17, sport, r.pick(&udp_ports), 0, size),
                _ => frame(false, src, 1, 0, 0, 0, 56),
            }
        })
        .collect()
}

/// A plausible 100-rule firewall.
fn ruleset_text() -> String {
    let mut rules = Vec::new();
    rules.push("meta length > 9000 drop".to_string());
    rules.push("ip saddr { 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4 } drop".into());
    for i in 0..20 {
        rules.push(format!("ip saddr 198.{i}.0.0/16 drop"));
    }
    for i in 0..15 {
        rules.push(format!(
            "ip saddr 10.{i}.0.0/16 tcp dport {{ 22, 3306, {} }} counter drop",
            6000 + i
        ));
    }
    for i in 0..15 {
        rules.push(format!(
            "tcp dport {} tcp flags syn meta mark set {i} counter",
            7000 + i * 10
        ));
    }
    for i in 0..10 {
        rules.push(format!(
            "udp dport {}-{} drop",
            20_000 + i * 100,
            20_000 + i * 100 + 50
        ));
    }
    for i in 0..10 {
        rules.push(format!(
            "ip6 saddr 2001:db8:{i:x}::/48 th dport {{ 22, 23 }} drop"
        ));
    }
    for i in 0..10 {
        rules.push(format!("iif eth{i} meta mark {i} accept"));
    }
    for i in 0..10 {
        rules.push(format!("ip daddr 100.{i}.0.0/16 oif eth{i} drop"));
    }
    rules.push("tcp flags & (syn|rst) == syn|rst drop".into());
    rules.push("meta l4proto { gre, esp } drop".into());
    rules.push("tcp dport { 25, 587, 465 } ip saddr != 192.168.0.0/16 drop".into());
    rules.push("ip protocol icmp meta length >= 1000 drop".into());
    rules.push("udp sport 53 meta length > 1400 drop".into());
    rules.push("ip6 daddr ff00::/8 drop".into());
    rules.push("meta mark 99 return".into());
    while rules.len() < 100 {
        rules.push(format!("tcp sport {} drop", rules.len()));
    }
    rules.join("\n")
}

fn devices(name: &str) -> Option<u32> {
    name.strip_prefix("eth")
        .and_then(|n| n.parse().ok())
        .map(|n: u32| n + 10)
}

/// What each contender computes per frame, summed so nothing is optimised away.
fn run(
    frames: &[Vec<u8>],
    tables: &Tables,
    rules: Option<&Ruleset>,
    counters: &mut RuleCounters,
) -> u64 {
    let mut acc = 0u64;
    for f in frames {
        let row = demux::dissect(f, f.len() as u32, 1, tables);
        acc += u64::from(row.l4proto);
        let Some(rules) = rules else { continue };
        let family = match row.ip_version {
            4 => Family::Ipv4,
            6 => Family::Ipv6,
            _ => continue,
        };
        if row.l3_off == NONE16 {
            continue;
        }
        let ip = f.get(usize::from(row.l3_off)..).unwrap_or(&[]);
        let Some(mut info) = PacketInfo::parse(ip, family) else {
            continue;
        };
        info.iif = 12;
        acc += rules.eval(&info, counters).code() as u64;
    }
    acc
}

fn bench(c: &mut Criterion) {
    let frames = packet_mix();
    let tables = Tables::new();
    let hundred = Ruleset::parse(&ruleset_text(), &devices).expect("the bench ruleset parses");
    assert_eq!(hundred.len(), 100);
    let none = Ruleset::parse("", &devices).expect("an empty ruleset parses");
    let mut g = c.benchmark_group("rules");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("dissect", |b| {
        b.iter(|| {
            run(
                black_box(&frames),
                &tables,
                None,
                &mut RuleCounters::default(),
            )
        });
    });
    let mut counters = none.new_counters();
    g.bench_function("dissect+info", |b| {
        b.iter(|| run(black_box(&frames), &tables, Some(&none), &mut counters));
    });
    let mut counters = hundred.new_counters();
    g.bench_function("dissect+rules100", |b| {
        b.iter(|| run(black_box(&frames), &tables, Some(&hundred), &mut counters));
    });
    g.finish();
    ratios(&frames, &tables, &none, &hundred);
}

/// Times the contenders in one run (best of several passes) and prints the ratios.
fn ratios(frames: &[Vec<u8>], tables: &Tables, none: &Ruleset, hundred: &Ruleset) {
    let per_packet = |rules: Option<&Ruleset>| {
        let mut counters = RuleCounters::default();
        let mut best = Duration::MAX;
        for _ in 0..30 {
            let t = Instant::now();
            black_box(run(black_box(frames), tables, rules, &mut counters));
            best = best.min(t.elapsed());
        }
        best.as_secs_f64() * 1e9 / f64::from(frames.len() as u32)
    };
    let dissect = per_packet(None);
    let no_rules = per_packet(Some(none));
    let rules100 = per_packet(Some(hundred));
    let mut matched = hundred.new_counters();
    let mut decided = 0;
    for f in frames {
        let row = demux::dissect(f, f.len() as u32, 1, tables);
        let family = if row.ip_version == 4 {
            Family::Ipv4
        } else {
            Family::Ipv6
        };
        let ip = f.get(usize::from(row.l3_off)..).unwrap_or(&[]);
        if let Some(info) = PacketInfo::parse(ip, family) {
            decided += usize::from(hundred.eval(&info, &mut matched).rule.is_some());
        }
    }
    eprintln!(
        "\nrules: per packet over {} frames ({decided} decided by a rule)",
        frames.len()
    );
    eprintln!("  dissect            {dissect:7.1} ns");
    eprintln!("  dissect + no rules {no_rules:7.1} ns");
    eprintln!("  dissect + 100 rules{rules100:7.1} ns");
    eprintln!(
        "  100 rules / no rules = {:.2}x (goal <= 1.30x); rules alone {:.1} ns/packet",
        rules100 / no_rules,
        rules100 - no_rules
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
