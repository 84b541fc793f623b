//! The stack end to end: a capture replayed through devices, routes and native rules, with
//! every packet accounted for and the same per-flow output whatever the number of queues.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use netcore_core::DropReason;
use netcore_core::capture::{CaptureReader, CaptureWriter, LinkType, ReadOptions, WriterOptions};
use netcore_core::checksum;
use netcore_core::ip::{Prefix, Route, RouteKind};
use netcore_core::netfilter::{HookPoint, Ruleset, Verdict};
use netcore_core::offload::Features;
use netcore_core::stack::Report;
use netcore_core::stack::{
    DeviceConfig, ExternalHooks, ExternalId, HookAbort, HookAction, HookColumns, HookEntry,
    HookReply, NoExternalHooks, ReplayError, ReplayOptions, Sink, Stack, replay,
};

/// An Ethernet/IPv4/TCP frame with valid checksums.
fn frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, ttl: u8, payload: usize) -> Vec<u8> {
    let tcp_len = 20 + payload;
    let tot = 20 + tcp_len;
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 9, 0x08, 0x00];
    let mut ip = vec![
        0x45,
        0,
        (tot >> 8) as u8,
        tot as u8,
        0,
        1,
        0x40,
        0,
        ttl,
        6,
        0,
        0,
    ];
    ip.extend(src);
    ip.extend(dst);
    let c = checksum::checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut tcp = Vec::with_capacity(tcp_len);
    tcp.extend(sport.to_be_bytes());
    tcp.extend(dport.to_be_bytes());
    tcp.extend([0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    tcp.extend((0..payload).map(|i| i as u8));
    let pseudo = checksum::pseudo_v4(src, dst, 6, tcp_len as u16);
    let c = checksum::fold(checksum::partial(&tcp, pseudo));
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    f.extend(ip);
    f.extend(tcp);
    f
}

fn write_capture(path: &std::path::Path, frames: &[Vec<u8>]) {
    let mut w = CaptureWriter::create(path, WriterOptions::pcapng(LinkType::ETHERNET)).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(0, 1_000 * i as i64, f, f.len() as u32, [])
            .unwrap();
    }
    w.close().unwrap();
}

fn read_frames(path: &std::path::Path) -> Vec<Vec<u8>> {
    let mut r = CaptureReader::open(path, ReadOptions::default()).unwrap();
    let mut out = Vec::new();
    while let Some(b) = r.next_batch(1024).unwrap() {
        out.extend(b.packets().map(<[u8]>::to_vec));
    }
    out
}

fn router(queues: u16) -> Stack {
    let mut s = Stack::new();
    let mut eth0 = DeviceConfig::new("eth0");
    eth0.rx_queues = queues;
    eth0.features = Features {
        gro: false,
        ..Features::default()
    };
    eth0.addresses = vec![(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 24)];
    s.add_device(eth0).unwrap();
    let mut wan0 = DeviceConfig::new("wan0");
    wan0.features = Features::none();
    let wan = s.add_device(wan0).unwrap();
    s.fib
        .add_route(Route {
            prefix: Prefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).unwrap(),
            kind: RouteKind::Unicast,
            dev: wan,
            gateway: None,
            metric: 0,
        })
        .unwrap();
    s
}

fn run(stack: &Stack, input: &std::path::Path, out: &std::path::Path) -> Report {
    let mut reader = CaptureReader::open(input, ReadOptions::default()).unwrap();
    let writer = CaptureWriter::create(out, WriterOptions::pcapng(LinkType::ETHERNET)).unwrap();
    let mut sinks = [Sink {
        ifindex: stack.ifindex("wan0").unwrap(),
        writer,
    }];
    let opts = ReplayOptions {
        batch_size: 50,
        ..ReplayOptions::default()
    };
    let report = replay(stack, &mut reader, 1, &mut sinks, &NoExternalHooks, &opts).unwrap();
    sinks[0].writer.close().unwrap();
    report
}

fn traffic() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for k in 0..8u8 {
        for flow in 0..30u8 {
            let src = [10, 0, 0, 10 + flow];
            frames.push(frame(
                src,
                [198, 51, 100, 7],
                1000 + u16::from(flow),
                80,
                64,
                usize::from(k) * 3,
            ));
        }
    }
    frames.push(frame([10, 0, 0, 5], [10, 0, 0, 1], 5, 22, 64, 0)); // local
    frames.push(frame([10, 0, 0, 5], [198, 51, 100, 7], 6, 80, 1, 0)); // TTL expires
    frames
}

#[test]
fn every_packet_has_one_outcome_and_queues_keep_per_flow_output() {
    let dir = tempdir();
    let input = dir.join("in.pcapng");
    write_capture(&input, &traffic());
    let mut per_flow = Vec::new();
    for queues in [1u16, 2, 4] {
        let out = dir.join(format!("out{queues}.pcapng"));
        let report = run(&router(queues), &input, &out);
        assert_eq!(report.check(), Ok(()), "{report:?}");
        assert_eq!(report.entered, 242);
        assert_eq!(report.transmitted["wan0"], 240);
        assert_eq!(report.delivered["tcp"], 1);
        assert_eq!(report.dropped[&DropReason::IpTtlExceeded], 1);
        assert_eq!(report.created, 1, "the ICMP time exceeded");
        let q = &report.devices["eth0"].queues;
        assert_eq!(q.len(), usize::from(queues));
        assert_eq!(q.iter().map(|c| c.packets).sum::<u64>(), 242);
        if queues > 1 {
            assert!(
                q.iter().all(|c| c.packets > 0),
                "RSS spreads 30 flows: {q:?}"
            );
        }
        let frames = read_frames(&out);
        for f in &frames {
            assert!(checksum::verify(&f[14..34]), "IPv4 header checksum");
        }
        let mut flows: Vec<(u16, Vec<Vec<u8>>)> = Vec::new();
        for f in frames.into_iter().filter(|f| f[23] == 6) {
            let sport = u16::from_be_bytes([f[34], f[35]]);
            match flows.iter_mut().find(|(s, _)| *s == sport) {
                Some((_, v)) => v.push(f),
                None => flows.push((sport, vec![f])),
            }
        }
        flows.sort_by_key(|(s, _)| *s);
        per_flow.push(flows);
    }
    assert_eq!(per_flow[0], per_flow[1]);
    assert_eq!(per_flow[0], per_flow[2]);
    // Forwarded: TTL one lower.
    assert!(
        per_flow[0]
            .iter()
            .all(|(_, v)| v.iter().all(|f| f[22] == 63))
    );
}

#[test]
fn native_rules_drop_and_count() {
    let dir = tempdir();
    let input = dir.join("in.pcapng");
    write_capture(&input, &traffic());
    let stack = router(2);
    let rules = Ruleset::parse(
        "ip saddr 10.0.0.10/31 tcp dport 80 counter drop\nip daddr 10.0.0.1 counter accept\n",
        &|_| None,
    )
    .unwrap();
    stack
        .update_hooks(|t| {
            t.add(
                HookPoint::PreRouting,
                HookEntry {
                    name: "filter".into(),
                    priority: 0,
                    family: None,
                    action: HookAction::Rules(Arc::new(rules)),
                    jump_only: false,
                },
            )
        })
        .unwrap();
    let report = run(&stack, &input, &dir.join("out.pcapng"));
    assert_eq!(report.check(), Ok(()));
    assert_eq!(report.dropped[&DropReason::NetfilterDrop], 16);
    assert_eq!(
        report.rules["prerouting/filter"].rules,
        [(16, 16 * 40 + 3 * 2 * (0..8).sum::<u64>()), (1, 40)]
    );
    assert_eq!(report.hooks["prerouting/filter"].dropped, 16);
}

/// A fresh directory under the system's temporary directory.
fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "netcore-stack-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn routes_through_unknown_devices_drop_instead_of_failing() {
    let dir = tempdir();
    let input = dir.join("in.pcapng");
    write_capture(&input, &traffic());
    let mut stack = router(1);
    // More specific than the default route, through a device the stack does not have.
    stack
        .fib
        .add_route(Route {
            prefix: Prefix::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 0)), 24).unwrap(),
            kind: RouteKind::Unicast,
            dev: 99,
            gateway: None,
            metric: 0,
        })
        .unwrap();
    let report = run(&stack, &input, &dir.join("out.pcapng"));
    assert_eq!(report.check(), Ok(()));
    // The 240 forwarded packets and the one whose TTL would expire: routing comes first.
    assert_eq!(report.dropped[&DropReason::IpInnoroutes], 241);
    assert_eq!(report.delivered["tcp"], 1);
}

/// External hooks that panic on worker threads (queue 1 onwards) and accept on the calling one.
struct PanicsOffTheCallingThread(std::thread::ThreadId);

impl ExternalHooks for PanicsOffTheCallingThread {
    fn call(
        &self,
        _id: ExternalId,
        _point: HookPoint,
        packets: HookColumns<'_>,
    ) -> Result<HookReply, HookAbort> {
        assert_eq!(
            std::thread::current().id(),
            self.0,
            "a hook bug on a worker"
        );
        Ok(HookReply {
            verdicts: vec![Verdict::Accept; packets.len()],
            ..HookReply::default()
        })
    }
}

#[test]
fn a_worker_that_panics_ends_the_run_instead_of_stalling_it() {
    // Reading ahead waits for the slowest queue: a worker gone without a word would hold
    // the others back forever.
    let dir = tempdir();
    let input = dir.join("in.pcapng");
    write_capture(&input, &traffic());
    let stack = router(2);
    stack
        .update_hooks(|t| {
            t.add(
                HookPoint::PreRouting,
                HookEntry {
                    name: "buggy".into(),
                    priority: 0,
                    family: None,
                    action: HookAction::External(1),
                    jump_only: false,
                },
            )
        })
        .unwrap();
    let mut reader = CaptureReader::open(&input, ReadOptions::default()).unwrap();
    let opts = ReplayOptions {
        batch_size: 8,
        ..ReplayOptions::default()
    };
    let hooks = PanicsOffTheCallingThread(std::thread::current().id());
    let result = replay(&stack, &mut reader, 1, &mut [], &hooks, &opts);
    match result {
        Err(ReplayError::Hook { abort, report }) => {
            assert!(abort.message.contains("panicked"), "{}", abort.message);
            assert_eq!(report.check(), Ok(()), "{report:?}");
        }
        other => panic!("expected the worker's failure, got {other:?}"),
    }
}
