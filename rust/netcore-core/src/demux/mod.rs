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
        let Some(mut row) = columns::ColumnsRow::new(&mut cols, i) else {
            break;
        };
        if !dissect::dissect_plain(pkt, wirelen, linktype, tables, &mut row) {
            dissect::dissect_into(pkt, wirelen, linktype, tables, row);
        }
    }
    cols
}
