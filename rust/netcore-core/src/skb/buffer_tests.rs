//! Unit and property tests of [`Skb`](super::Skb).

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::skb::{DEFAULT_HEADROOM, PoolConfig, configure_local, local_stats};

/// An Ethernet + IPv4 + UDP frame: 14 + 20 + 8 header bytes and a 6-byte payload.
fn frame() -> Vec<u8> {
    let mut f = vec![
        0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, // Ethernet, IPv4
        0x45, 0, 0, 34, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4, UDP
        0x30, 0x39, 0x00, 0x35, 0, 14, 0, 0, // UDP 12345 -> 53
    ];
    f.extend_from_slice(b"netcor");
    f
}

fn view(v: Vec<u8>) -> Skb {
    Skb::from_shared(Bytes::from_vec(v)).unwrap()
}

#[test]
fn view_reads_without_copy() {
    let bytes = Bytes::from_vec(frame());
    let base = bytes.as_slice().as_ptr();
    let mut skb = Skb::from_shared(bytes.clone()).unwrap();
    assert!(skb.is_shared());
    assert_eq!((skb.headroom(), skb.tailroom(), skb.len()), (0, 0, 48));
    assert_eq!(skb.data().as_ptr(), base);
    assert_eq!(skb.pull(14).unwrap(), &frame()[..14]);
    assert_eq!(skb.data().as_ptr(), base.wrapping_add(14));
    skb.trim(20);
    assert_eq!(skb.data(), &frame()[14..34]);
    assert_eq!(skb.unpull(14).unwrap(), &frame()[..14]);
    assert!(skb.is_shared(), "reads, pulls and trims never copy");
    assert_eq!(skb.data().as_ptr(), base);
    // Windows and batch rows are views too.
    let w = Skb::from_shared_window(&bytes, 14, 20).unwrap();
    assert_eq!(w.data().as_ptr(), base.wrapping_add(14));
    assert!(Skb::from_shared_window(&bytes, 40, 9).is_none());
    assert!(Skb::from_shared_window(&bytes, usize::MAX, 2).is_none());
}

#[test]
fn from_batch_views_the_row() {
    let f = frame();
    let batch = Batch::from_packets([(5, &f[..20], 20, 1, 1), (7_000_000_123, &f[..], 60, 3, 1)]);
    let skb = Skb::from_batch(&batch, 1).unwrap();
    assert!(skb.is_shared());
    assert_eq!(skb.data(), &f[..]);
    assert_eq!(skb.data().as_ptr(), batch.packet(1).unwrap().as_ptr());
    assert_eq!(skb.meta.tstamp, 7_000_000_123);
    assert_eq!(skb.meta.iif, 3);
    assert_eq!(skb.mac_header(), Some(0));
    assert_eq!(Skb::from_batch(&batch, 0).unwrap().len(), 20);
    assert!(Skb::from_batch(&batch, 2).is_none());
}

#[test]
fn write_copies_on_write_with_headroom() {
    let bytes = Bytes::from_vec(frame());
    let mut skb = Skb::from_shared(bytes.clone()).unwrap();
    skb.reset_mac_header().unwrap();
    skb.pull(14).unwrap();
    skb.reset_network_header().unwrap();
    skb.pull(20).unwrap();
    skb.reset_transport_header().unwrap();
    let before = (
        skb.mac_offset(),
        skb.network_offset(),
        skb.transport_offset(),
    );
    assert_eq!(before, (Some(-34), Some(-20), Some(0)));

    skb.data_mut().unwrap()[0] = 0xff; // first byte of the UDP source port
    assert!(!skb.is_shared());
    assert_eq!(
        skb.headroom(),
        DEFAULT_HEADROOM,
        "pulled bytes count as headroom"
    );
    assert_eq!(
        (
            skb.mac_offset(),
            skb.network_offset(),
            skb.transport_offset()
        ),
        before,
        "offsets from data are kept"
    );
    assert_eq!(skb.mac_header(), Some(DEFAULT_HEADROOM - 34));
    assert_eq!(skb.mac_header_bytes().unwrap()[..14], frame()[..14]);
    assert_eq!(skb.network_header_bytes().unwrap()[..20], frame()[14..34]);
    assert_eq!(skb.transport_header_bytes().unwrap()[0], 0xff);
    assert_eq!(skb.data()[1..], frame()[35..]);
    assert_eq!(
        bytes.as_slice(),
        &frame()[..],
        "the capture memory is untouched"
    );
    assert_eq!(skb.mac_header_len(), Some(14));
    assert_eq!(skb.network_header_len(), Some(20));

    // Re-expose the headers: they are still in the headroom after the copy.
    let eth_ip = skb.push(34).unwrap();
    assert_eq!(eth_ip, &frame()[..34]);
    assert_eq!(skb.headroom(), DEFAULT_HEADROOM - 34);
}

#[test]
fn push_pull_put_bounds() {
    let mut skb = Skb::alloc(64).unwrap();
    assert!(!skb.is_shared());
    assert!(skb.buffer_len() >= 64);
    let room = skb.tailroom();
    assert_eq!(skb.headroom(), 0);
    skb.reserve(16).unwrap();
    assert_eq!(
        (skb.headroom(), skb.tailroom(), skb.len()),
        (16, room - 16, 0)
    );
    assert_eq!(
        skb.push(17),
        Err(SkbError::NoHeadroom {
            needed: 17,
            available: 16
        })
    );
    assert_eq!(
        skb.put(room - 15),
        Err(SkbError::NoTailroom {
            needed: room - 15,
            available: room - 16
        })
    );
    let p = skb.put(4).unwrap();
    assert_eq!(p, &[0, 0, 0, 0], "put zeroes");
    p.copy_from_slice(b"data");
    skb.push(2).unwrap().copy_from_slice(b"hd");
    assert_eq!(skb.data(), b"hddata");
    assert_eq!(skb.reserve(1), Err(SkbError::NotEmpty { len: 6 }));
    assert_eq!(
        skb.pull(7),
        Err(SkbError::NoData {
            needed: 7,
            available: 6
        })
    );
    assert_eq!(skb.pull(2).unwrap(), b"hd");
    skb.trim(10);
    assert_eq!(skb.data(), b"data");
    skb.trim(2);
    assert_eq!(skb.data(), b"da");
    assert_eq!(skb.pull(2).unwrap(), b"da");
    assert!(skb.is_empty());
    skb.reserve(3).unwrap();
    assert_eq!(skb.headroom(), 21);
    assert!(skb.unpull(22).unwrap_err().to_string().contains("headroom"));
    assert_eq!(
        skb.push(0).map(|b| b.len()),
        Ok(0),
        "zero-length operations succeed"
    );
    assert!(Skb::alloc(usize::MAX).is_err());
}

#[test]
fn push_on_view_makes_room_and_put_on_view_copies() {
    let mut skb = view(frame());
    // A 50-byte VXLAN-over-IPv4 encapsulation, then one more than the default headroom.
    skb.push(50).unwrap().fill(0xee);
    assert_eq!(skb.headroom(), DEFAULT_HEADROOM - 50);
    assert_eq!(&skb.data()[50..], &frame()[..]);
    let mut big = view(frame());
    big.push(DEFAULT_HEADROOM + 1).unwrap();
    assert_eq!(big.headroom(), 0);
    assert_eq!(big.len(), 48 + DEFAULT_HEADROOM + 1);
    let mut tail = view(frame());
    tail.put(4).unwrap().copy_from_slice(b"FCS!");
    assert_eq!(&tail.data()[48..], b"FCS!");
    assert_eq!(tail.headroom(), DEFAULT_HEADROOM);
    // reserve on an empty view moves it into an owned buffer first.
    let mut empty = view(Vec::new());
    empty.reserve(10).unwrap();
    assert_eq!(empty.headroom(), DEFAULT_HEADROOM + 10);
}

#[test]
fn owned_expand_and_cow_head() {
    let mut skb = Skb::from_slice(&frame()).unwrap();
    assert_eq!(skb.headroom(), DEFAULT_HEADROOM);
    skb.reset_network_header().unwrap();
    skb.cow_head(64).unwrap(); // enough already: no copy
    assert_eq!(skb.headroom(), DEFAULT_HEADROOM);
    skb.cow_head(300).unwrap();
    assert_eq!(skb.headroom(), 300);
    assert_eq!(skb.network_offset(), Some(0));
    assert_eq!(skb.network_header(), Some(300));
    let tailroom = skb.tailroom();
    skb.expand_head(8, 3000).unwrap();
    assert_eq!(skb.headroom(), 308);
    assert!(skb.tailroom() >= tailroom + 3000);
    assert_eq!(skb.data(), &frame()[..]);
    skb.write_at(46, b"OK").unwrap();
    assert_eq!(&skb.data()[44..], b"tcOK");
    assert!(matches!(
        skb.write_at(47, b"OK"),
        Err(SkbError::NoData { needed: 49, .. })
    ));
}

#[test]
fn header_offsets() {
    let mut skb = view(frame());
    for h in [
        Header::Mac,
        Header::Network,
        Header::Transport,
        Header::InnerMac,
        Header::InnerNetwork,
        Header::InnerTransport,
    ] {
        assert_eq!(skb.header(h), None, "unset after creation");
        assert_eq!(skb.header_offset(h), None);
        assert_eq!(skb.header_bytes(h), None);
    }
    skb.set_network_header(14).unwrap();
    skb.set_transport_header(34).unwrap();
    assert_eq!(skb.network_header(), Some(14));
    assert_eq!(skb.network_header_bytes().unwrap()[0], 0x45);
    assert_eq!(skb.transport_header_bytes().unwrap().len(), 14);
    skb.pull(20).unwrap();
    assert_eq!(skb.network_offset(), Some(-6));
    assert_eq!(skb.transport_offset(), Some(14));
    skb.set_mac_header(-20).unwrap();
    assert_eq!(skb.mac_header(), Some(0));
    assert_eq!(
        skb.set_mac_header(-21),
        Err(SkbError::OffsetRange { offset: -1 })
    );
    assert_eq!(
        skb.set_inner_mac_header(29),
        Err(SkbError::OffsetRange { offset: 49 })
    );
    skb.set_inner_mac_header(28).unwrap(); // at the end of the buffer: allowed, no bytes
    assert_eq!(skb.inner_mac_header_bytes(), Some(&[][..]));
    skb.reset_inner_network_header().unwrap();
    skb.set_inner_transport_header(1).unwrap();
    assert_eq!(skb.inner_network_header(), Some(20));
    assert_eq!(skb.inner_network_offset(), Some(0));
    assert_eq!(skb.inner_transport_offset(), Some(1));
    assert_eq!(skb.inner_transport_header(), Some(21));
    assert_eq!(skb.inner_mac_offset(), Some(28));
    assert_eq!(
        skb.inner_transport_header_bytes().map(<[u8]>::len),
        Some(27)
    );
    assert_eq!(skb.inner_network_header_bytes().map(<[u8]>::len), Some(28));
    skb.clear_header(Header::Transport);
    assert_eq!(skb.transport_header(), None);
    assert_eq!(skb.network_header_len(), None);
    // A header behind the tail has no bytes.
    skb.trim(1);
    assert_eq!(skb.inner_transport_header_bytes(), Some(&[][..]));
}

#[test]
fn partial_checksum_start_follows_the_data() {
    let mut skb = view(frame());
    skb.pull(14).unwrap();
    // UDP checksum: summing starts at the UDP header (20 bytes in), field 6 bytes further.
    skb.set_partial_csum(20, 6).unwrap();
    assert_eq!(
        skb.meta.ip_summed,
        crate::checksum::IpSummed::Partial {
            start: 34,
            offset: 6
        }
    );
    assert_eq!(skb.checksum_start_offset(), Some(20));
    skb.push(4).unwrap(); // copy on write adds headroom: the start moves with the data
    assert_eq!(skb.checksum_start_offset(), Some(24));
    assert!(matches!(
        skb.meta.ip_summed,
        crate::checksum::IpSummed::Partial { start, .. } if usize::from(start) == skb.headroom() + 24
    ));
    assert!(skb.set_partial_csum(33, 4).is_err(), "field past the tail");
    assert!(skb.set_partial_csum(-200, 0).is_err());
    skb.meta.ip_summed = crate::checksum::IpSummed::None;
    assert_eq!(skb.checksum_start_offset(), None);
}

#[test]
fn header_offsets_beyond_u16_fail_cleanly() {
    let mut skb = view(vec![7; 70_000]);
    assert!(matches!(
        skb.set_network_header(65_535),
        Err(SkbError::OffsetRange { offset: 65_535 })
    ));
    skb.set_network_header(65_500).unwrap();
    // The copy would move the header past what a u16 holds: refused, nothing changed.
    assert!(matches!(skb.unshare(), Err(SkbError::OffsetRange { .. })));
    assert!(skb.is_shared());
    assert_eq!(skb.network_header(), Some(65_500));
    skb.clear_header(Header::Network);
    skb.unshare().unwrap();
    assert_eq!(skb.len(), 70_000);
    assert!(skb.buffer_len() >= 70_000 + DEFAULT_HEADROOM);
}

#[test]
fn frags_and_linearize() {
    let seg = Bytes::from_vec(b"0123456789abcdef".to_vec());
    let seg_ptr = seg.as_slice().as_ptr();
    let mut skb = view(frame());
    skb.add_frag(Frag::window(seg.clone(), 0, 10).unwrap())
        .unwrap();
    skb.add_frag(Frag::window(seg.clone(), 10, 6).unwrap())
        .unwrap();
    skb.add_frag(Frag::window(seg.clone(), 3, 0).unwrap())
        .unwrap(); // empty: ignored
    assert_eq!(skb.nr_frags(), 2);
    assert!(skb.is_nonlinear());
    assert_eq!((skb.len(), skb.linear_len(), skb.frags_len()), (64, 48, 16));
    assert_eq!(skb.frags()[0].as_slice().as_ptr(), seg_ptr, "no copy");
    let pieces: Vec<&[u8]> = skb.pieces().collect();
    assert_eq!(pieces.len(), 3);
    let mut whole = frame();
    whole.extend_from_slice(b"0123456789abcdef");
    assert_eq!(skb.to_vec(), whole);

    let mut out = [0u8; 8];
    skb.copy_bits(44, &mut out).unwrap();
    assert_eq!(&out, b"tcor0123");
    assert!(skb.copy_bits(60, &mut out).is_err());
    assert!(skb.copy_bits(usize::MAX, &mut out).is_err());
    let mut scratch = [0u8; 4];
    let borrowed = skb.header_pointer(12, &mut scratch).unwrap();
    assert_eq!(borrowed, &[0x08, 0x00, 0x45, 0x00]);
    assert_eq!(borrowed.as_ptr(), skb.data()[12..].as_ptr());
    assert_eq!(skb.header_pointer(46, &mut scratch).unwrap(), b"or01");
    assert_eq!(skb.header_pointer(62, &mut scratch), None);
    assert_eq!(skb.header_pointer(usize::MAX, &mut scratch), None);

    assert_eq!(skb.put(1), Err(SkbError::Nonlinear));
    assert!(skb.is_shared(), "refused before copying");

    // may_pull copies just what it needs: 48 linear + 12 => the second fragment is cut.
    skb.may_pull(40).unwrap();
    assert!(skb.is_shared(), "already linear: no copy");
    skb.may_pull(60).unwrap();
    assert!(!skb.is_shared());
    assert_eq!((skb.linear_len(), skb.nr_frags()), (60, 1));
    assert_eq!(skb.frags()[0].as_slice(), b"cdef");
    assert_eq!(skb.to_vec(), whole);
    assert_eq!(
        skb.may_pull(65),
        Err(SkbError::NoData {
            needed: 65,
            available: 64
        })
    );
    skb.linearize().unwrap();
    assert!(!skb.is_nonlinear());
    assert_eq!(skb.data(), &whole[..]);
    skb.linearize().unwrap();
}

#[test]
fn trim_into_frags() {
    let seg = Bytes::from_vec(b"abcdefgh".to_vec());
    let mut skb = view(b"0123".to_vec());
    for i in 0..4 {
        skb.add_frag(Frag::window(seg.clone(), 2 * i, 2).unwrap())
            .unwrap();
    }
    skb.trim(9);
    assert_eq!((skb.len(), skb.nr_frags(), skb.frags_len()), (9, 3, 5));
    assert_eq!(skb.to_vec(), b"0123abcde");
    skb.trim(6);
    assert_eq!(skb.to_vec(), b"0123ab");
    assert_eq!(skb.nr_frags(), 1);
    skb.trim(3);
    assert_eq!((skb.to_vec(), skb.nr_frags()), (b"012".to_vec(), 0));
    assert!(skb.is_shared());
}

#[test]
fn frag_list_is_bounded_and_data_frag_shares() {
    let seg = Bytes::from_vec(vec![1; 4]);
    let mut skb = view(vec![0; 4]);
    for _ in 0..MAX_FRAGS {
        skb.add_frag(Frag::new(seg.clone())).unwrap();
    }
    assert_eq!(
        skb.add_frag(Frag::new(seg.clone())),
        Err(SkbError::TooManyFrags)
    );
    // GRO-style chaining: the payload of a second view, as a fragment, with no copy.
    let mut second = view(frame());
    second.pull(42).unwrap();
    let f = second.data_frag().unwrap();
    assert_eq!(f.as_slice(), b"netcor");
    assert_eq!(f.as_slice().as_ptr(), second.data().as_ptr());
    let mut head = view(frame());
    head.add_frag(f).unwrap();
    assert_eq!(&head.to_vec()[48..], b"netcor");
    second.unshare().unwrap();
    assert!(second.data_frag().is_none());
}

#[test]
fn clone_shares_views_and_copies_owned() {
    let mut a = view(frame());
    a.reset_network_header().unwrap();
    a.meta.mark = 7;
    let b = a.clone();
    assert!(b.is_shared());
    assert_eq!(a.data().as_ptr(), b.data().as_ptr());
    assert_eq!((b.network_header(), b.meta.mark), (Some(0), 7));
    a.add_frag(Frag::new(Bytes::from_vec(vec![9]))).unwrap();
    a.data_mut().unwrap()[0] = 1;
    let c = a.clone();
    assert!(!c.is_shared());
    assert_ne!(a.data().as_ptr(), c.data().as_ptr());
    assert_eq!(c.to_vec(), a.to_vec());
    assert_eq!(c.headroom(), a.headroom());
    assert_eq!(b.data(), &frame()[..]);
    assert!(format!("{c:?}").contains("shared: false"));
}

#[test]
fn pool_recycles_and_is_bounded() {
    // Tests run on their own threads, so this thread's pool is ours alone.
    configure_local(PoolConfig {
        buf_size: 512,
        max_buffers: 3,
        max_frag_lists: 2,
        headroom: 64,
    });
    let mut skb = view(frame());
    skb.data_mut().unwrap();
    assert_eq!(skb.headroom(), 64);
    assert_eq!(skb.buffer_len(), 512);
    let ptr = skb.data().as_ptr();
    drop(skb);
    assert_eq!(local_stats().recycled, 1);
    let mut again = view(frame());
    again.data_mut().unwrap();
    assert_eq!(again.data().as_ptr(), ptr, "the same buffer came back");
    assert_eq!(local_stats().reused, 1);
    drop(again);

    // Five buffers in flight, three kept.
    let mut held: Vec<Skb> = (0..5).map(|_| view(frame())).collect();
    for s in &mut held {
        s.unshare().unwrap();
    }
    drop(held);
    let st = local_stats();
    assert_eq!((st.free, st.released), (3, 2));

    // Larger than the size class: a buffer of its own, freed when dropped.
    let mut big = view(vec![0; 600]);
    big.unshare().unwrap();
    assert!(big.buffer_len() >= 664);
    drop(big);
    assert_eq!(local_stats().oversize, 1);
    assert_eq!(local_stats().released, 3);

    // Fragment vectors are recycled too.
    let mut a = view(frame());
    a.add_frag(Frag::new(Bytes::from_vec(vec![1]))).unwrap();
    drop(a);
    let mut b = view(frame());
    b.add_frag(Frag::new(Bytes::from_vec(vec![1]))).unwrap();
    let st = local_stats();
    assert_eq!((st.frag_lists_allocated, st.frag_lists_reused), (1, 1));
    drop(b);
    configure_local(PoolConfig::default());
}

#[test]
fn skb_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Skb>();
    check::<Frag>();
}

#[test]
fn packets_move_between_threads() {
    let mut skb = view(frame());
    skb.unshare().unwrap();
    let back = std::thread::spawn(move || {
        skb.pull(14).unwrap();
        skb
    })
    .join()
    .unwrap();
    assert_eq!(back.data(), &frame()[14..]);
    let shared: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(frame());
    let w = Bytes::window(shared, 1, 2).unwrap();
    assert_eq!(Skb::from_shared(w).unwrap().data(), &frame()[1..3]);
}

// ----- property test against a model -----------------------------------------------------

/// The model: `bytes[..start]` is what the headroom is known to hold just before the data,
/// `bytes[start..]` the linear data, `frags` the fragment bytes. Headroom further back is zero.
#[derive(Debug, Clone)]
struct Model {
    bytes: Vec<u8>,
    start: usize,
    frags: Vec<u8>,
    /// Network header, as an index into `bytes`.
    net: Option<usize>,
}

impl Model {
    fn linear(&self) -> usize {
        self.bytes.len() - self.start
    }

    /// Moves the data start back by `n`, exposing zeros beyond the known headroom.
    fn expose(&mut self, n: usize) {
        if n > self.start {
            let extra = n - self.start;
            self.bytes.splice(0..0, std::iter::repeat_n(0, extra));
            self.net = self.net.map(|i| i + extra);
            self.start = 0;
        } else {
            self.start -= n;
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Push(usize, u8),
    Pull(usize),
    Unpull(usize),
    Put(usize, u8),
    Trim(usize),
    Reserve(usize),
    DataMut(usize, u8),
    AddFrag(Vec<u8>, usize),
    Linearize,
    MayPull(usize),
    SetNetwork(usize),
    Unshare,
    ExpandHead(usize, usize),
    Clone,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..200, any::<u8>()).prop_map(|(n, v)| Op::Push(n, v)),
        (0usize..80).prop_map(Op::Pull),
        (0usize..80).prop_map(Op::Unpull),
        (0usize..300, any::<u8>()).prop_map(|(n, v)| Op::Put(n, v)),
        (0usize..400).prop_map(Op::Trim),
        (0usize..100).prop_map(Op::Reserve),
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Op::DataMut(i, v)),
        (proptest::collection::vec(any::<u8>(), 0..60), 0usize..8)
            .prop_map(|(v, o)| Op::AddFrag(v, o)),
        Just(Op::Linearize),
        (0usize..400).prop_map(Op::MayPull),
        any::<usize>().prop_map(Op::SetNetwork),
        Just(Op::Unshare),
        (0usize..64, 0usize..64).prop_map(|(h, t)| Op::ExpandHead(h, t)),
        Just(Op::Clone),
    ]
}

/// How the packet starts: a view of a window, a copied slice, or an empty allocation.
fn start() -> impl Strategy<Value = (u8, Vec<u8>, usize)> {
    (
        0u8..3,
        proptest::collection::vec(any::<u8>(), 0..200),
        0usize..16,
    )
}

fn check(skb: &Skb, m: &Model) -> std::result::Result<(), TestCaseError> {
    prop_assert_eq!(skb.data(), &m.bytes[m.start..]);
    let frags: Vec<u8> = skb
        .frags()
        .iter()
        .flat_map(|f| f.as_slice().to_vec())
        .collect();
    prop_assert_eq!(&frags, &m.frags);
    prop_assert_eq!(skb.len(), m.linear() + m.frags.len());
    prop_assert_eq!(skb.frags_len(), m.frags.len());
    prop_assert_eq!(
        skb.headroom() + skb.linear_len() + skb.tailroom(),
        skb.buffer_len()
    );
    let d = skb.headroom();
    prop_assert!(d >= m.start, "headroom {} < known {}", d, m.start);
    let buf = skb.buf();
    prop_assert_eq!(&buf[d - m.start..d], &m.bytes[..m.start]);
    prop_assert!(buf[..d - m.start].iter().all(|&b| b == 0));
    if let Some(i) = m.net {
        prop_assert_eq!(skb.network_offset(), Some(i as isize - m.start as isize));
        if i < m.bytes.len() {
            prop_assert_eq!(
                skb.network_header_bytes().unwrap().first(),
                Some(&m.bytes[i])
            );
        }
    } else {
        prop_assert_eq!(skb.network_header(), None);
    }
    Ok(())
}

#[allow(clippy::too_many_lines)] // one arm per operation reads best as one match
fn apply(skb: &mut Skb, m: &mut Model, op: Op) -> std::result::Result<(), TestCaseError> {
    let shared = skb.is_shared();
    let (headroom, tailroom, linear) = (skb.headroom(), skb.tailroom(), skb.linear_len());
    match op {
        Op::Push(n, v) => match skb.push(n) {
            Ok(out) => {
                prop_assert!(shared || n <= headroom);
                m.expose(n);
                prop_assert_eq!(&*out, &m.bytes[m.start..m.start + n]);
                out.fill(v);
                m.bytes[m.start..m.start + n].fill(v);
            }
            Err(e) => {
                prop_assert!(!shared && n > headroom, "{:?}", e);
                prop_assert_eq!(
                    e,
                    SkbError::NoHeadroom {
                        needed: n,
                        available: headroom
                    }
                );
            }
        },
        Op::Pull(n) => match skb.pull(n) {
            Ok(out) => {
                prop_assert!(n <= linear);
                prop_assert_eq!(out, &m.bytes[m.start..m.start + n]);
                m.start += n;
            }
            Err(e) => prop_assert!(n > linear, "{:?}", e),
        },
        Op::Unpull(n) => match skb.unpull(n) {
            Ok(out) => {
                prop_assert!(n <= headroom);
                m.expose(n);
                prop_assert_eq!(out, &m.bytes[m.start..m.start + n]);
                prop_assert_eq!(skb.is_shared(), shared, "unpull never copies");
            }
            Err(e) => prop_assert!(n > headroom, "{:?}", e),
        },
        Op::Put(n, v) => match skb.put(n) {
            Ok(out) => {
                prop_assert!(m.frags.is_empty());
                prop_assert!(shared || n <= tailroom);
                prop_assert!(out.iter().all(|&b| b == 0));
                out.fill(v);
                m.bytes.extend(std::iter::repeat_n(v, n));
            }
            Err(SkbError::Nonlinear) => prop_assert!(!m.frags.is_empty()),
            Err(e) => prop_assert!(!shared && n > tailroom, "{:?}", e),
        },
        Op::Trim(len) => {
            skb.trim(len);
            prop_assert_eq!(skb.is_shared(), shared, "trim never copies");
            if len <= m.linear() {
                m.bytes.truncate(m.start + len);
                m.frags.clear();
            } else {
                m.frags.truncate(len - m.linear());
            }
        }
        Op::Reserve(n) => match skb.reserve(n) {
            Ok(()) => {
                prop_assert_eq!(m.linear() + m.frags.len(), 0);
                m.bytes.extend(std::iter::repeat_n(0, n));
                m.start += n;
            }
            Err(SkbError::NotEmpty { len }) => prop_assert!(len > 0 && len == skb.len()),
            Err(e) => prop_assert!(n > skb.tailroom(), "{:?}", e),
        },
        Op::DataMut(i, v) => {
            let data = skb
                .data_mut()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            if !data.is_empty() {
                let i = i % data.len();
                data[i] = v;
                m.bytes[m.start + i] = v;
            }
            prop_assert!(!skb.is_shared());
        }
        Op::AddFrag(piece, off) => {
            let off = off.min(piece.len());
            let frag = Frag::window(Bytes::from_vec(piece.clone()), off, piece.len() - off);
            match skb.add_frag(frag.unwrap()) {
                Ok(()) => m.frags.extend_from_slice(&piece[off..]),
                Err(e) => prop_assert_eq!(e, SkbError::TooManyFrags),
            }
        }
        Op::Linearize => {
            skb.linearize()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            m.bytes.append(&mut m.frags);
        }
        Op::MayPull(n) => match skb.may_pull(n) {
            Ok(()) => {
                prop_assert!(n <= m.linear() + m.frags.len());
                if n > m.linear() {
                    let k = n - m.linear();
                    m.bytes.extend(m.frags.drain(..k));
                } else {
                    prop_assert_eq!(skb.is_shared(), shared, "no copy when linear");
                }
            }
            Err(e) => prop_assert!(n > m.linear() + m.frags.len(), "{:?}", e),
        },
        Op::SetNetwork(k) => {
            let k = k % (m.linear() + 1);
            skb.set_network_header(k as isize)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            m.net = Some(m.start + k);
        }
        Op::Unshare => {
            skb.unshare()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(!skb.is_shared());
        }
        Op::ExpandHead(h, t) => {
            skb.expand_head(h, t)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(skb.headroom(), headroom + h);
            prop_assert!(skb.tailroom() >= tailroom + t);
        }
        Op::Clone => {
            let c = skb.clone();
            prop_assert_eq!(c.is_shared(), shared);
            *skb = c;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random sequences of operations agree with a `Vec<u8>` and a start index.
    #[test]
    fn ops_match_model(
        (kind, init, off) in start(),
        ops in proptest::collection::vec(op(), 0..40),
    ) {
        let off = off.min(init.len());
        let (mut skb, mut m) = match kind {
            0 => {
                let b = Bytes::from_vec(init.clone());
                let s = Skb::from_shared_window(&b, off, init.len() - off).unwrap();
                (s, Model { bytes: init[off..].to_vec(), start: 0, frags: Vec::new(), net: None })
            }
            1 => {
                let s = Skb::from_slice(&init).unwrap();
                (s, Model { bytes: init.clone(), start: 0, frags: Vec::new(), net: None })
            }
            _ => {
                let s = Skb::alloc(init.len()).unwrap();
                (s, Model { bytes: Vec::new(), start: 0, frags: Vec::new(), net: None })
            }
        };
        check(&skb, &m)?;
        for op in ops {
            apply(&mut skb, &mut m, op)?;
            check(&skb, &m)?;
        }
    }
}

#[test]
fn cow_headers_copies_only_the_head() {
    let bytes = Bytes::from_vec(frame());
    let mut skb = Skb::from_shared(bytes.clone()).unwrap();
    skb.reset_mac_header().unwrap();
    skb.pull(14).unwrap();
    skb.reset_network_header().unwrap();
    skb.cow_headers(28).unwrap();
    assert!(!skb.is_shared());
    assert_eq!((skb.linear_len(), skb.nr_frags(), skb.len()), (28, 1, 34));
    assert!(
        skb.headroom() >= 14,
        "the pulled Ethernet header and headroom come along"
    );
    assert_eq!(
        skb.frags()[0].as_slice().as_ptr(),
        bytes.as_slice()[42..].as_ptr(),
        "the payload stays in the shared memory"
    );
    skb.data_mut().unwrap()[8] = 63; // TTL
    let whole = skb.to_vec();
    assert_eq!(whole[8], 63);
    assert_eq!(&whole[9..], &frame()[23..]);
    assert_eq!(
        skb.mac_header_bytes().map(|m| m[..14].to_vec()),
        Some(frame()[..14].to_vec())
    );
    // Longer than the data, or owned: a plain unshare.
    let mut all = Skb::from_shared(bytes).unwrap();
    all.cow_headers(100).unwrap();
    assert_eq!((all.nr_frags(), all.len()), (0, 48));
    all.cow_headers(4).unwrap();
    assert_eq!(all.nr_frags(), 0, "owned packets are already writable");
}
