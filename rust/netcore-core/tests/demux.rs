//! Demultiplexing never panics, whatever the bytes, and its columns stay consistent.

use netcore_core::demux::{self, MAX_LAYERS, NONE16, RxCsumOffload, Tables, Verdict};
use netcore_core::wire::Layer;
use netcore_core::{Batch, DropReason};
use proptest::prelude::*;

/// Link types the dissector handles, plus one it does not.
const LINKTYPES: [u16; 9] = [1, 101, 228, 229, 113, 276, 0, 108, 147];

fn frame_strategy() -> impl Strategy<Value = Vec<u8>> {
    // Random bytes, often steered to a plausible ethertype and IP version so that the deeper
    // parsers are reached.
    (proptest::collection::vec(any::<u8>(), 0..400), 0u8..4).prop_map(|(mut f, steer)| {
        if f.len() > 15 {
            match steer {
                0 => {
                    f[12..14].copy_from_slice(&[0x08, 0x00]);
                    f[14] = 0x45;
                }
                1 => {
                    f[12..14].copy_from_slice(&[0x86, 0xdd]);
                    f[14] = 0x60;
                }
                2 => f[12..14].copy_from_slice(&[0x81, 0x00]),
                _ => {}
            }
        }
        f
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_dissect_without_panic(
        frames in proptest::collection::vec(frame_strategy(), 1..8),
        lt in 0usize..LINKTYPES.len(),
        cut in any::<bool>(),
    ) {
        let linktype = LINKTYPES[lt];
        let batch = Batch::from_packets(frames.iter().map(|f| {
            let wire = if cut { f.len() as u32 + 20 } else { f.len() as u32 };
            (0, f.as_slice(), wire, 0, linktype)
        }));
        let tables = Tables::new();
        let cols = demux::dissect_batch(&batch, &tables);
        let v = demux::verify_batch(&batch, &cols);
        let _ = tables.classify(&cols);
        prop_assert_eq!(cols.len(), frames.len());
        for (i, frame) in frames.iter().enumerate() {
            let n = usize::from(cols.nlayers[i]);
            prop_assert!(n <= MAX_LAYERS);
            for k in 0..n {
                prop_assert!(Layer::from_code(cols.layers[i][k]).is_some());
                prop_assert!(usize::from(cols.layer_off[i][k]) <= frame.len());
            }
            // A malformed packet always says why; a cut one is never called malformed for it.
            prop_assert_eq!(cols.malformed[i], cols.drop_reason[i] != 0);
            if cols.malformed[i] {
                prop_assert!(DropReason::from_code(cols.drop_reason[i]).is_some());
            }
            if cols.l4_off[i] != NONE16 {
                prop_assert!(cols.l3_off[i] != NONE16 && cols.l4_off[i] > cols.l3_off[i]);
            }
            for mode in [RxCsumOffload::None, RxCsumOffload::Unnecessary, RxCsumOffload::Complete] {
                let _ = demux::rx_csum_state(batch.packet(i).unwrap_or(&[]), mode, &cols.layers[i], &v.csum[i], cols.nlayers[i], cols.l3_off[i]);
            }
            for k in n..MAX_LAYERS {
                prop_assert_eq!(v.csum[i][k], 0);
            }
        }
    }
}

#[test]
fn vxlan_over_vlan_with_checksums() {
    // Ethernet / 802.1Q 100 / IPv4 / UDP 4789 / VXLAN 42 / Ethernet / IPv4 / TCP, built by hand.
    let inner_tcp = {
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&1111u16.to_be_bytes());
        t[2..4].copy_from_slice(&80u16.to_be_bytes());
        t[12] = 5 << 4;
        t[13] = 0x02;
        t
    };
    let ip = |proto: u8, payload: &[u8], src: [u8; 4], dst: [u8; 4]| {
        let mut h = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        let total = (20 + payload.len()) as u16;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        let c = netcore_core::checksum::checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h.extend_from_slice(payload);
        h
    };
    let mut tcp = inner_tcp.clone();
    let pseudo = netcore_core::checksum::pseudo_v4([10, 0, 0, 1], [10, 0, 0, 2], 6, 20);
    let c = netcore_core::checksum::fold(netcore_core::checksum::partial(&tcp, pseudo));
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let inner = ip(6, &tcp, [10, 0, 0, 1], [10, 0, 0, 2]);
    let mut inner_frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    inner_frame.extend_from_slice(&inner);
    let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
    vxlan.extend_from_slice(&inner_frame);
    let mut udp = vec![0u8; 8];
    udp[0..2].copy_from_slice(&5555u16.to_be_bytes());
    udp[2..4].copy_from_slice(&4789u16.to_be_bytes());
    udp[4..6].copy_from_slice(&((8 + vxlan.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&vxlan);
    let outer = ip(17, &udp, [192, 0, 2, 1], [192, 0, 2, 2]);
    let mut frame = vec![
        2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, 8, 0x81, 0x00, 0x00, 100, 0x08, 0x00,
    ];
    frame.extend_from_slice(&outer);

    let batch = Batch::from_packets([(0, frame.as_slice(), frame.len() as u32, 0, 1)]);
    let cols = demux::dissect_batch(&batch, &Tables::new());
    let row = cols.row(0).unwrap();
    let names: Vec<&str> = row.layers().map(|(l, _)| l.name()).collect();
    assert_eq!(
        names,
        ["eth", "vlan", "ipv4", "udp", "vxlan", "eth", "ipv4", "tcp"]
    );
    assert_eq!(
        (row.vlan, row.sport, row.dport, row.vni),
        (100, 5555, 4789, 42)
    );
    assert_eq!(
        (row.inner_sport, row.inner_dport, row.inner_l4proto),
        (1111, 80, 6)
    );
    assert_eq!(row.tunnel, Layer::Vxlan as u8);
    let v = demux::verify_batch(&batch, &cols);
    assert_eq!(v.csum_ip[0], demux::verdict_code(Some(Verdict::Good)));
    assert_eq!(v.csum_l4[0], demux::verdict_code(Some(Verdict::NotPresent)));
    assert_eq!(v.csum_inner_ip[0], demux::verdict_code(Some(Verdict::Good)));
    assert_eq!(v.csum_inner_l4[0], demux::verdict_code(Some(Verdict::Good)));
    assert_eq!(v.drop_reason[0], 0);
    // A NIC validating checksums reports the inner TCP one (the outer UDP has none): level 0.
    let st = demux::rx_csum_state(
        &frame,
        RxCsumOffload::Unnecessary,
        &row.layers,
        &v.csum[0],
        row.nlayers,
        row.l3_off,
    );
    assert_eq!(
        st,
        netcore_core::checksum::IpSummed::Unnecessary { level: 0 }
    );
}

/// Found by the `demux` fuzz target: an IP length claiming more than the capture holds put a
/// transport layer's offset past the end of the frame.
#[test]
fn layer_offsets_stay_within_the_frame() {
    const INPUT: &[u8] = &[
        58, 254, 97, 59, 1, 133, 0, 72, 0, 0, 0, 0, 136, 255, 255, 48, 253, 255, 255, 136, 122,
        136, 136, 136, 136, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 43, 0, 0, 0, 6, 252, 249, 6, 6, 6, 0, 0,
        0, 255, 255, 255, 0, 255, 255, 255, 255, 8, 0, 0, 0, 0, 58, 0, 6, 6, 70, 255, 255, 255,
        158, 251, 59,
    ];
    let (&steer, rest) = INPUT.split_first().unwrap();
    let linktype = LINKTYPES[usize::from(steer & 0x0f) % LINKTYPES.len()];
    let cut = steer & 0x10 != 0;
    let frames: Vec<&[u8]> = rest.split(|&b| b == 0xfe).take(8).collect();
    let batch = Batch::from_packets(frames.iter().map(|f| {
        (
            0,
            *f,
            f.len() as u32 + if cut { 40 } else { 0 },
            0,
            linktype,
        )
    }));
    let cols = demux::dissect_batch(&batch, &Tables::new());
    for (i, frame) in frames.iter().enumerate() {
        for k in 0..usize::from(cols.nlayers[i]) {
            assert!(usize::from(cols.layer_off[i][k]) < frame.len());
        }
    }
}
