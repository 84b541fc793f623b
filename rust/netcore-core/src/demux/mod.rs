//! Protocol demultiplexing: dissection of batches into header columns, checksum verification,
//! and the tables that hand packets to registered handlers.
//!
//! The flow mirrors the kernel's receive path: link type → ethertype (`ptype_base`) → IP
//! (`ip_rcv` checks) → IP protocol (`inet_protos`) → UDP encapsulation ports (VXLAN, Geneve)
//! → the inner packet, again. Nothing is allocated per packet: a batch gets one set of
//! columns.

mod columns;
mod dissect;
mod table;
mod verify;

pub use columns::{Columns, MAX_LAYERS, NONE16, Row};
pub use dissect::dissect;
pub use table::{Encap, HandlerId, Match, Tables, Unclaimed};
pub use verify::{
    CsumColumns, MAX_CSUM_LEVEL, RxCsumColumns, RxCsumOffload, Verdict, rx_csum_batch,
    rx_csum_state, verdict_code, verdict_of_code, verify_batch,
};

use crate::batch::Batch;
use crate::capture::CaptureReader;
use crate::error::Result;

/// Dissects every packet of `batch`.
///
/// The columns are sized once and filled in place; the common packet (Ethernet, IPv4 or IPv6,
/// TCP or UDP, at most one VXLAN, Geneve or GRE tunnel) takes a straight path, any other the
/// general walker.
#[must_use]
pub fn dissect_batch(batch: &Batch, tables: &Tables) -> Columns {
    let mut cols = Columns::with_defaults(batch.len());
    let packets = batch.packets().zip(&batch.wirelen).zip(&batch.linktype);
    for (i, ((pkt, &wirelen), &linktype)) in packets.enumerate() {
        dissect_row(&mut cols, i, pkt, wirelen, linktype, tables);
    }
    cols
}

/// Dissects one packet into row `i` of `cols`, which holds the defaults of [`Row`].
#[inline]
fn dissect_row(cols: &mut Columns, i: usize, pkt: &[u8], wirelen: u32, linktype: u16, t: &Tables) {
    let Some(mut row) = columns::ColumnsRow::new(cols, i) else {
        return;
    };
    if !dissect::dissect_plain(pkt, wirelen, linktype, t, &mut row) {
        dissect::dissect_into(pkt, wirelen, linktype, t, row);
    }
}

/// A batch read, dissected and (when asked) verified in one pass.
#[derive(Debug)]
pub struct Dissected {
    /// The packets.
    pub batch: Batch,
    /// Their header columns, as [`dissect_batch`] makes them.
    pub columns: Columns,
    /// Their checksum verdicts, as [`verify_batch`] makes them, when asked for.
    pub checksums: Option<CsumColumns>,
}

/// Reads the next batch of at most `max` packets from `reader` and dissects (with `verify`,
/// also verifies) each packet as soon as its record is framed, while its bytes are in the
/// cache: the same columns as [`dissect_batch`] and [`verify_batch`] after
/// [`CaptureReader::next_batch`], without a second pass over the packets.
pub fn read_dissected(
    reader: &mut CaptureReader,
    max: usize,
    tables: &Tables,
    verify: bool,
) -> Result<Option<Dissected>> {
    let bound = reader.batch_len_bound(max);
    let mut cols = Columns::with_defaults(bound);
    let mut sums = verify.then(|| CsumColumns::zeroed(bound));
    let mut n = 0;
    let batch = reader.next_batch_each(max, |pkt, wirelen, linktype| {
        if n == cols.len() {
            cols.push(&Row::default());
        }
        dissect_row(&mut cols, n, pkt, wirelen, linktype, tables);
        if let Some(sums) = &mut sums {
            verify::verify_row(sums, &cols, n, pkt, wirelen);
        }
        n += 1;
    })?;
    let Some(batch) = batch else {
        return Ok(None);
    };
    cols.truncate(n);
    if let Some(sums) = &mut sums {
        sums.truncate(n);
    }
    Ok(Some(Dissected {
        batch,
        columns: cols,
        checksums: sums,
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::capture::LinkType;
    use crate::capture::pcap::PcapHeader;

    /// Ethernet frames steered to IPv4, IPv6, VLAN, VXLAN ports or left random.
    fn frame() -> impl Strategy<Value = Vec<u8>> {
        (proptest::collection::vec(any::<u8>(), 0..200), 0u8..5).prop_map(|(mut f, steer)| {
            if f.len() > 44 {
                match steer {
                    0 => f[12..15].copy_from_slice(&[0x08, 0x00, 0x45]),
                    1 => f[12..15].copy_from_slice(&[0x86, 0xdd, 0x60]),
                    2 => f[12..14].copy_from_slice(&[0x81, 0x00]),
                    3 => {
                        f[12..15].copy_from_slice(&[0x08, 0x00, 0x45]);
                        f[23] = 17;
                        f[36..38].copy_from_slice(&4789u16.to_be_bytes());
                    }
                    _ => {}
                }
            }
            f
        })
    }

    /// A classic pcap file of `frames`; `cut` frames claim more bytes on the wire, and `tail`
    /// bytes of a record that does not fit end the file.
    fn pcap_file(frames: &[(Vec<u8>, bool)], big_endian: bool, tail: usize) -> Vec<u8> {
        let mut h = PcapHeader::new(LinkType::ETHERNET, 65535, false);
        h.big_endian = big_endian;
        let mut out = Vec::new();
        h.emit(&mut out);
        for (i, (f, cut)) in frames.iter().enumerate() {
            let wire = f.len() as u32 + if *cut { 30 } else { 0 };
            h.emit_record(&mut out, i as i64 * 1000, f, wire);
        }
        let mut last = Vec::new();
        h.emit_record(&mut last, 0, &[0xab; 40], 40);
        out.extend_from_slice(&last[..tail.min(last.len() - 1)]);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Reading and dissecting in one pass gives what reading, then dissecting and
        /// verifying each batch gives, from memory and from a stream, up to the same fault.
        #[test]
        fn one_pass_equals_two(
            frames in proptest::collection::vec((frame(), any::<bool>()), 0..40),
            big_endian in any::<bool>(),
            tail in 0usize..60,
            max in 1usize..16,
            stream in any::<bool>(),
        ) {
            let file = pcap_file(&frames, big_endian, tail);
            let open = |strict: bool| {
                if stream {
                    let input = Box::new(std::io::Cursor::new(file.clone()));
                    CaptureReader::from_reader(input, "t.pcap", strict)
                } else {
                    CaptureReader::from_bytes(Arc::new(file.clone()), "t.pcap", strict)
                }
            };
            let tables = Tables::new();
            for strict in [true, false] {
                let (mut one, mut two) = (open(strict).unwrap(), open(strict).unwrap());
                loop {
                    let a = read_dissected(&mut one, max, &tables, true);
                    let b = two.next_batch(max);
                    let (a, b) = match (a, b) {
                        (Ok(Some(a)), Ok(Some(b))) => (a, b),
                        (Ok(None), Ok(None)) => break,
                        (Err(x), Err(y)) => {
                            prop_assert_eq!(x.to_string(), y.to_string());
                            break;
                        }
                        (x, y) => {
                            prop_assert!(false, "{:?} vs {:?}", x.map(|_| ()), y.map(|_| ()));
                            break;
                        }
                    };
                    prop_assert_eq!(&a.batch.offset, &b.offset);
                    prop_assert_eq!(&a.batch.ts, &b.ts);
                    prop_assert_eq!(&a.batch.wirelen, &b.wirelen);
                    let cols = dissect_batch(&b, &tables);
                    let sums = verify_batch(&b, &cols);
                    prop_assert_eq!(a.columns.len(), cols.len());
                    for i in 0..cols.len() {
                        prop_assert_eq!(a.columns.row(i), cols.row(i));
                    }
                    let got = a.checksums.unwrap_or_default();
                    prop_assert_eq!(&got.csum, &sums.csum);
                    prop_assert_eq!(&got.csum_ip, &sums.csum_ip);
                    prop_assert_eq!(&got.csum_l4, &sums.csum_l4);
                    prop_assert_eq!(&got.csum_inner_ip, &sums.csum_inner_ip);
                    prop_assert_eq!(&got.csum_inner_l4, &sums.csum_inner_l4);
                    prop_assert_eq!(&got.drop_reason, &sums.drop_reason);
                }
                prop_assert_eq!(one.info().packets, two.info().packets);
                prop_assert_eq!(one.info().ts_range, two.info().ts_range);
                prop_assert_eq!(&one.info().problems, &two.info().problems);
            }
        }
    }
}
