//! Packets built from fuzz bytes, written by `CaptureWriter` (pcap or pcapng) into memory, read
//! back: every packet must come back equal (bytes, lengths, interface, link type, comments,
//! timestamp as the format can hold it), interfaces and the pcap header too; and writing the
//! batches read back must give the same bytes again where timestamps convert exactly.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use netcore_core::capture::pcap::PcapHeader;
use netcore_core::{
    CaptureFormat, CaptureReader, CaptureWriter, Interface, LinkType, TsResolution, WriterOptions,
};
use netcore_fuzz::{BATCHES, Row, Shared, SharedVec, drain, read_both_ways};

#[derive(Debug, Arbitrary)]
struct Iface {
    linktype: u16,
    snaplen: u32,
    tsresol: u8,
    ts_offset: i64,
    name: Option<String>,
    description: Option<String>,
    fcs_len: Option<u8>,
}

impl Iface {
    fn build(&self) -> Interface {
        let mut i = Interface::new(LinkType(self.linktype));
        i.snaplen = self.snaplen;
        i.ts_resolution = TsResolution::from_option(self.tsresol);
        i.ts_offset = self.ts_offset;
        i.name.clone_from(&self.name);
        i.description.clone_from(&self.description);
        i.fcs_len = self.fcs_len;
        i
    }
}

#[derive(Debug, Arbitrary)]
struct Packet {
    iface: u8,
    ts: i64,
    data: Vec<u8>,
    wirelen: u32,
    comments: Vec<String>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Packet(Packet),
    AddInterface(Iface),
}

#[derive(Debug, Arbitrary)]
struct Input {
    pcapng: bool,
    big_endian: bool,
    nanosecond: bool,
    linktype_field: u32,
    snaplen: u32,
    interfaces: Vec<Iface>,
    ops: Vec<Op>,
    batch: u8,
}

/// The timestamp a pcap record holds for `ts` (seconds wrap to 32 bits, µs or ns kept).
fn pcap_ts(ts: i64, nanosecond: bool) -> i64 {
    let sec = i64::from(ts.div_euclid(1_000_000_000) as u32);
    let sub = ts.rem_euclid(1_000_000_000);
    sec * 1_000_000_000 + if nanosecond { sub } else { sub / 1000 * 1000 }
}

/// The timestamp an EPB of `iface` holds for `ts`.
fn pcapng_ts(ts: i64, iface: &Interface) -> i64 {
    let res = iface.ts_resolution;
    let off = iface.ts_offset.saturating_mul(1_000_000_000);
    let back = res
        .to_ns(res.from_ns(ts.saturating_sub(off)))
        .saturating_add(off);
    // Where nothing saturates and the resolution is at most 1 ns, check the arithmetic itself.
    if let TsResolution::Pow10(n @ 0..=9) = res {
        let small = |v: i64| v.unsigned_abs() < 1 << 61;
        if small(ts) && iface.ts_offset.unsigned_abs() < 1 << 30 && ts >= off {
            let unit = 10i64.pow(9 - u32::from(n));
            assert_eq!(
                back,
                ts - (ts - off) % unit,
                "timestamp conversion at {res:?}"
            );
        }
    }
    back
}

/// Whether reading then writing back gives the same timestamps units (no rounding, no clamp).
fn exact(iface: &Interface) -> bool {
    matches!(iface.ts_resolution, TsResolution::Pow10(0..=9))
        && iface.ts_offset.unsigned_abs() < 1 << 30
}

fuzz_target!(|input: Input| {
    let mut header = PcapHeader::new(
        LinkType(input.linktype_field as u16),
        input.snaplen,
        input.nanosecond,
    );
    header.big_endian = input.big_endian;
    header.linktype_field = input.linktype_field;
    let opts = if input.pcapng {
        let mut o = WriterOptions::pcapng(LinkType::ETHERNET);
        o.interfaces = input.interfaces.iter().map(Iface::build).collect();
        o
    } else {
        WriterOptions::pcap(header)
    };
    let sink = SharedVec::default();
    let mut w = CaptureWriter::new(Box::new(sink.clone()), "fuzz", opts.clone())
        .expect("a writer to memory opens");
    let mut declared: Vec<Interface> = opts.interfaces.clone();
    let mut expect: Vec<Row> = Vec::new();
    let mut rewrite_exact = true;
    for op in &input.ops {
        match op {
            Op::AddInterface(i) => {
                let iface = i.build();
                let r = w.add_interface(iface.clone());
                if input.pcapng {
                    assert_eq!(
                        r.expect("pcapng takes any interface") as usize,
                        declared.len()
                    );
                    declared.push(iface);
                    // A copy made batch by batch declares interfaces before the batch's packets.
                    rewrite_exact &= expect.is_empty();
                } else {
                    assert_eq!(
                        r.is_ok(),
                        iface.linktype == header.linktype(),
                        "pcap add_interface"
                    );
                }
            }
            Op::Packet(p) => {
                let comments = p.comments.iter().map(String::as_str);
                let caplen = p.data.len() as u32;
                if input.pcapng {
                    if declared.is_empty() {
                        assert!(
                            w.write_packet(0, p.ts, &p.data, p.wirelen, comments)
                                .is_err()
                        );
                        continue;
                    }
                    let ifindex = usize::from(p.iface) % declared.len();
                    let iface = &declared[ifindex];
                    w.write_packet(ifindex as u32, p.ts, &p.data, p.wirelen, comments)
                        .expect("a valid packet writes");
                    rewrite_exact &= exact(iface) && p.ts.unsigned_abs() < 1 << 61;
                    expect.push(Row {
                        ts: pcapng_ts(p.ts, iface),
                        caplen,
                        wirelen: p.wirelen.max(caplen),
                        ifindex: ifindex as u32,
                        linktype: iface.linktype.0,
                        data: p.data.clone(),
                        comments: p.comments.clone(),
                    });
                } else {
                    w.write_packet(0, p.ts, &p.data, p.wirelen, comments)
                        .expect("a valid packet writes");
                    expect.push(Row {
                        ts: pcap_ts(p.ts, input.nanosecond),
                        caplen,
                        wirelen: p.wirelen.max(caplen),
                        ifindex: 0,
                        linktype: header.linktype().0,
                        data: p.data.clone(),
                        comments: Vec::new(),
                    });
                }
            }
        }
    }
    w.close().expect("closing a writer to memory");
    drop(w);
    let bytes = Arc::new(sink.take());
    let batch = BATCHES[usize::from(input.batch & 7)];

    // Read back from memory: every packet, interfaces, header.
    let reader = CaptureReader::from_bytes(Arc::new(Shared(bytes.clone())), "fuzz", true)
        .expect("what the writer wrote opens");
    let info_format = reader.info().format.clone();
    let mut again = CaptureReader::from_bytes(Arc::new(Shared(bytes.clone())), "fuzz", true)
        .expect("what the writer wrote opens");
    let out = drain(reader, batch);
    assert_eq!(out.error, None, "what the writer wrote reads without error");
    assert_eq!(
        out.rows, expect,
        "packets read back differ from those written"
    );
    if input.pcapng {
        assert!(matches!(
            info_format,
            CaptureFormat::Pcapng {
                big_endian: false,
                version: (1, 0)
            }
        ));
    } else {
        assert_eq!(
            info_format,
            CaptureFormat::Pcap(header),
            "pcap header read back"
        );
    }

    // The stream reader agrees (and everything else `read_both_ways` checks).
    read_both_ways(&bytes, batch, 7);

    // Writing the batches read back reproduces the file, when timestamps convert exactly.
    let copy = SharedVec::default();
    let mut w2 = CaptureWriter::new(Box::new(copy.clone()), "fuzz", opts.clone())
        .expect("a writer to memory opens");
    let mut known = opts.interfaces.len();
    while let Some(b) = again.next_batch(batch).expect("read back") {
        if input.pcapng {
            let seen = &again.info().interfaces;
            for i in &seen[known..] {
                w2.add_interface(i.clone())
                    .expect("pcapng takes any interface");
            }
            known = seen.len();
        }
        w2.write_batch(&b, None).expect("a batch read back writes");
    }
    if input.pcapng {
        let mut seen = again.info().interfaces.clone();
        for i in &mut seen {
            i.section = 0;
        }
        assert_eq!(
            seen, declared,
            "interfaces read back differ from those declared"
        );
        // Interfaces declared after the last packet are not seen by batches: add them too.
        for i in &declared[known..] {
            w2.add_interface(i.clone())
                .expect("pcapng takes any interface");
        }
    }
    w2.close().expect("closing a writer to memory");
    drop(w2);
    if rewrite_exact {
        assert!(
            copy.take() == *bytes,
            "writing the packets read back gives other bytes"
        );
    }
});
