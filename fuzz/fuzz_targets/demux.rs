//! Any bytes through the dissector, checksum verification, classification and the receive
//! checksum states, under every link type netcore dissects.
//!
//! The first input byte picks the link type and whether the capture cut the frame; the rest
//! is split into up to 8 frames at 0xff 0xfe markers. Checks: no panic, layer codes and
//! offsets within the frame, a malformed packet always carries a known drop reason.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcore_core::demux::{self, MAX_LAYERS, RxCsumOffload, Tables};
use netcore_core::wire::Layer;
use netcore_core::{Batch, DropReason};

const LINKTYPES: [u16; 9] = [1, 101, 228, 229, 113, 276, 0, 108, 147];

fuzz_target!(|data: &[u8]| {
    let Some((&steer, rest)) = data.split_first() else {
        return;
    };
    let linktype = LINKTYPES[usize::from(steer & 0x0f) % LINKTYPES.len()];
    let cut = steer & 0x10 != 0;
    let frames: Vec<&[u8]> = rest.split(|&b| b == 0xfe).take(8).collect();
    let batch = Batch::from_packets(frames.iter().map(|f| {
        let wire = f.len() as u32 + if cut { 40 } else { 0 };
        (0, *f, wire, 0, linktype)
    }));
    let mut tables = Tables::new();
    if steer & 0x20 != 0 {
        tables.set_encap(8472, Some(demux::Encap::Vxlan));
        let _ = tables.register(demux::Match::UdpPort(53), 1);
        let _ = tables.register(demux::Match::IpProto(6), 2);
    }
    let cols = demux::dissect_batch(&batch, &tables);
    let verdicts = demux::verify_batch(&batch, &cols);
    let (handlers, _) = tables.classify(&cols);
    assert_eq!(handlers.len(), frames.len());
    for (i, frame) in frames.iter().enumerate() {
        let n = usize::from(cols.nlayers[i]);
        assert!(n <= MAX_LAYERS);
        for k in 0..n {
            assert!(Layer::from_code(cols.layers[i][k]).is_some());
            assert!(usize::from(cols.layer_off[i][k]) <= frame.len());
        }
        assert_eq!(cols.malformed[i], cols.drop_reason[i] != 0);
        if verdicts.drop_reason[i] != 0 {
            assert!(DropReason::from_code(verdicts.drop_reason[i]).is_some());
        }
        for mode in [
            RxCsumOffload::None,
            RxCsumOffload::Unnecessary,
            RxCsumOffload::Complete,
        ] {
            let _ = demux::rx_csum_state(
                frame,
                mode,
                &cols.layers[i],
                &verdicts.csum[i],
                cols.nlayers[i],
                cols.l3_off[i],
            );
        }
    }
});
