//! Checksum tests: RFC examples, the RFC 1624 corner, and property tests of the fast kernels
//! against naive references.

use proptest::prelude::*;

use super::*;

/// Naive reference: big-endian byte pairs, an odd byte padded with zero, end-around fold to 16
/// bits (the textbook RFC 1071 loop).
fn naive_sum16(data: &[u8], initial: u32) -> u16 {
    let mut acc = u64::from(initial);
    for pair in data.chunks(2) {
        let hi = u64::from(pair[0]);
        let lo = pair.get(1).map_or(0, |&b| u64::from(b));
        acc += (hi << 8) | lo;
    }
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The 16-bit end-around sum a partial stands for.
fn sum16(partial: u32) -> u16 {
    inet::fold32(partial)
}

/// A kernel's native-endian accumulator as a big-endian 16-bit sum.
fn kernel16(acc: u64) -> u16 {
    u16::from_be(inet::fold32(inet::fold64(acc)))
}

/// Bitwise CRC32c reference (RFC 9260 appendix A, one bit at a time).
fn crc32c_bitwise(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The RFC 1141 incremental update (`HC' = HC + m + ~m'`), kept only to show its corner case.
fn rfc1141_update(check: u16, old: u16, new: u16) -> u16 {
    let sum = u32::from(check) + u32::from(old) + u32::from(!new);
    inet::fold32(sum)
}

/// Deterministic filler with every byte value and long carry chains.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 11) as u8
        })
        .collect()
}

#[test]
fn rfc1071_example() {
    // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, folded ddf2.
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(sum16(partial(&data, 0)), 0xddf2);
    assert_eq!(fold(partial(&data, 0)), !0xddf2);
    assert_eq!(checksum(&data), 0x220d);
    // Byte-swapped order gives the byte-swapped sum (section 2(B)): f2dd.
    let swapped = [0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6];
    assert_eq!(sum16(partial(&swapped, 0)), 0xf2dd);
    // With the checksum appended, the region verifies.
    let mut with = data.to_vec();
    with.extend_from_slice(&checksum(&data).to_be_bytes());
    assert!(verify(&with));
}

#[test]
fn rfc1071_odd_length_pads_with_zero() {
    assert_eq!(sum16(partial(&[0xab], 0)), 0xab00);
    assert_eq!(sum16(partial(&[0x12, 0x34, 0xab], 0)), 0x1234 + 0xab00);
    // The same at every offset and length around the vector kernels' block sizes.
    let buf = pattern(600, 7);
    for start in 0..9 {
        for len in 0..300 {
            let d = &buf[start..start + len];
            assert_eq!(
                sum16(partial(d, 0)),
                naive_sum16(d, 0),
                "start {start} len {len}"
            );
        }
    }
}

#[test]
fn zero_and_negative_zero() {
    // Only all-zero data sums to +0; anything else that cancels sums to -0 (0xffff).
    assert_eq!(partial(&[], 0), 0);
    assert_eq!(partial(&[0; 1500], 0), 0);
    assert_eq!(checksum(&[0; 64]), 0xffff);
    assert_eq!(sum16(partial(&[0xff; 9000], 0)), 0xffff);
    assert_eq!(sum16(partial(&[0x12, 0x34, 0xed, 0xcb], 0)), 0xffff);
    assert!(verify(&[0x12, 0x34, 0xed, 0xcb]));
    assert!(verify(&[0xff; 4096]));
}

#[test]
fn large_buffers_with_every_carry() {
    // All-ones data maximises carries in every lane of every kernel.
    for len in [65_535, 65_536, 1 << 20, (1 << 20) + 3] {
        let ones = vec![0xffu8; len];
        assert_eq!(sum16(partial(&ones, 0)), naive_sum16(&ones, 0), "len {len}");
        let d = pattern(len, len as u32);
        assert_eq!(sum16(partial(&d, 0)), naive_sum16(&d, 0), "len {len}");
        assert_eq!(kernel16(inet::sum_scalar(&d)), naive_sum16(&d, 0));
        #[cfg(target_arch = "x86_64")]
        assert_eq!(kernel16(inet::x86::sum_vector(&d)), naive_sum16(&d, 0));
    }
}

#[test]
fn fold_helpers_are_end_around() {
    assert_eq!(fold_to_32(0), 0);
    assert_eq!(fold_to_32(0xffff_ffff_ffff_ffff), 0xffff_ffff);
    assert_eq!(fold_to_32(0x1_0000_0000), 1);
    assert_eq!(fold_to_32(0x2_ffff_ffff), 2);
    assert_eq!(fold(0), 0xffff);
    assert_eq!(fold(0xffff), 0);
    assert_eq!(fold(0x2_fffd), 0);
    assert_eq!(add(0xffff_ffff, 1), 1);
    assert_eq!(sub(add(0x1234, 0x5678), 0x5678), 0x1234);
}

#[test]
fn rfc1624_section4_example() {
    // RFC 1624 section 4: the other header words sum to 0xcd7a; m = 0x5555 becomes 0x3285.
    // HC = ~(0xcd7a + 0x5555) = 0xdd2f; HC' = ~(0xcd7a + 0x3285) = ~0xffff = 0x0000.
    let before = [0xcd, 0x7a, 0x55, 0x55, 0x00, 0x00];
    assert_eq!(checksum(&before), 0xdd2f);
    assert_eq!(update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

#[test]
fn rfc1624_corner_matches_recompute_where_rfc1141_does_not() {
    // The "-0 vs +0" corner: the new sum of the header is 0xffff, so a full recompute stores
    // 0x0000. RFC 1141's HC' = HC + m + ~m' yields 0xffff, a checksum that no recompute
    // produces (RFC 1624 section 3); RFC 1624's equation 3 agrees with the recompute.
    let mut hdr = [0xcd, 0x7a, 0x55, 0x55, 0x00, 0x00];
    let hc = checksum(&hdr);
    hdr[4..6].copy_from_slice(&hc.to_be_bytes());
    assert!(verify(&hdr));

    hdr[2..4].copy_from_slice(&[0x32, 0x85]);
    hdr[4..6].copy_from_slice(&[0, 0]);
    let recomputed = checksum(&hdr);
    assert_eq!(recomputed, 0x0000);
    assert_eq!(update16(hc, 0x5555, 0x3285), recomputed);
    assert_eq!(rfc1141_update(hc, 0x5555, 0x3285), 0xffff);

    hdr[4..6].copy_from_slice(&recomputed.to_be_bytes());
    assert!(verify(&hdr));
}

#[test]
fn rfc1624_ipv4_address_rewrite() {
    let mut hdr = [
        0x45u8, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    let c = checksum(&hdr);
    hdr[10..12].copy_from_slice(&c.to_be_bytes());
    assert!(verify(&hdr));
    let old = u32::from_be_bytes([10, 0, 0, 1]);
    let new = u32::from_be_bytes([192, 168, 1, 77]);
    hdr[12..16].copy_from_slice(&new.to_be_bytes());
    let updated = update32(c, old, new);
    hdr[10..12].copy_from_slice(&updated.to_be_bytes());
    assert!(verify(&hdr));
}

#[test]
fn pseudo_headers() {
    // A UDP datagram over IPv4: pseudo-header + header + payload verifies after checksumming.
    let (src, dst) = ([192, 0, 2, 1], [198, 51, 100, 7]);
    let mut udp = vec![
        0x30, 0x39, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x00, b'h', b'e', b'l', b'l', b'o',
    ];
    let ph = pseudo_v4(src, dst, 17, udp.len() as u16);
    let c = fold(partial(&udp, ph));
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    assert!(verify_with(&udp, ph));
    assert!(!verify_with(
        &udp,
        pseudo_v4(src, [198, 51, 100, 8], 17, udp.len() as u16)
    ));

    // IPv6: the pseudo-header sum equals summing its 40 bytes laid out per RFC 8200 8.1.
    let s6: [u8; 16] = core::array::from_fn(|i| (i * 17) as u8);
    let d6: [u8; 16] = core::array::from_fn(|i| (255 - i * 3) as u8);
    let mut laid = Vec::new();
    laid.extend_from_slice(&s6);
    laid.extend_from_slice(&d6);
    laid.extend_from_slice(&70_000u32.to_be_bytes());
    laid.extend_from_slice(&[0, 0, 0, 58]);
    assert_eq!(
        sum16(pseudo_v6(&s6, &d6, 58, 70_000)),
        naive_sum16(&laid, 0)
    );
}

#[test]
fn crc32c_check_value() {
    assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    assert_eq!(crc32c(b""), 0);
    assert_eq!(crc32c_append(crc32c(b"1234"), b"56789"), 0xe306_9283);
    assert_eq!(crc::update_sw(!0, b"123456789"), !0xe306_9283);
    // RFC 3720 (iSCSI) B.4 vectors: 32 bytes of zeros, of ones, incrementing, decrementing.
    assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
    assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
    let inc: Vec<u8> = (0..32).collect();
    assert_eq!(crc32c(&inc), 0x46dd_794e);
    let dec: Vec<u8> = (0..32).rev().collect();
    assert_eq!(crc32c(&dec), 0x113f_db5c);
}

#[test]
fn crc32c_every_length_and_offset() {
    let buf = pattern(20_000, 99);
    for start in 0..8 {
        for len in (0..400).chain([1_499, 1_500, 9_000, 12_287, 12_288, 12_289, 19_000]) {
            let d = &buf[start..start + len];
            let want = crc32c_bitwise(d);
            assert_eq!(crc32c(d), want, "start {start} len {len}");
            assert_eq!(!crc::update_sw(!0, d), want, "sw start {start} len {len}");
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn crc32c_hardware_kernels() {
    if !std::is_x86_feature_detected!("sse4.2") || !std::is_x86_feature_detected!("pclmulqdq") {
        return;
    }
    let buf = pattern(70_000, 5);
    for len in (0..300).chain([
        383, 384, 1_023, 1_024, 1_500, 4_095, 12_288, 24_577, 65_535, 70_000,
    ]) {
        let d = &buf[..len];
        let want = crc32c_bitwise(d);
        // SAFETY: the CPU supports SSE4.2 and PCLMULQDQ, checked above.
        let (one, three) = unsafe { (crc::x86::update_sse42(!0, d), crc::x86::update_3way(!0, d)) };
        assert_eq!(!one, want, "one lane, len {len}");
        assert_eq!(!three, want, "three lanes, len {len}");
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn vector_kernels_match_naive() {
    let buf = pattern(5_000, 3);
    for start in 0..4 {
        for len in (0..520).chain([1_500, 4_093]) {
            let d = &buf[start..start + len];
            let want = naive_sum16(d, 0);
            // SAFETY: SSE2 is part of the x86_64 baseline.
            let got = unsafe { inet::x86::block_sse2(d) };
            assert_eq!(kernel16(got), want, "sse2 {start} {len}");
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                let got = unsafe { inet::x86::block_avx2(d) };
                assert_eq!(kernel16(got), want, "avx2 {start} {len}");
            }
        }
    }
}

/// A 20-byte IPv4 header with a valid checksum (version/IHL fixed, so never all zero).
fn ipv4_header() -> impl Strategy<Value = [u8; 20]> {
    prop::array::uniform20(any::<u8>()).prop_map(|mut h| {
        h[0] = 0x45;
        h[10] = 0;
        h[11] = 0;
        let c = checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h
    })
}

proptest! {
    #[test]
    fn partial_equals_naive(
        data in prop::collection::vec(any::<u8>(), 0..2_100),
        start in 0usize..16,
        len in 0usize..2_000,
        initial in any::<u32>(),
    ) {
        // Subslices at every alignment, odd addresses included.
        let start = start.min(data.len());
        let end = (start + len).min(data.len());
        let d = &data[start..end];
        prop_assert_eq!(sum16(partial(d, initial)), naive_sum16(d, initial));
        prop_assert_eq!(checksum(d), !naive_sum16(d, 0));
        prop_assert_eq!(kernel16(inet::sum_scalar(d)), naive_sum16(d, 0));
    }

    #[test]
    fn even_prefix_sums_chain(
        data in prop::collection::vec(any::<u8>(), 0..2_000),
        cut in 0usize..2_000,
    ) {
        let cut = (cut.min(data.len())) & !1;
        let (a, b) = data.split_at(cut);
        prop_assert_eq!(sum16(partial(b, partial(a, 0))), sum16(partial(&data, 0)));
    }

    #[test]
    fn combine_at_any_offset(
        data in prop::collection::vec(any::<u8>(), 0..2_000),
        cut in 0usize..2_000,
    ) {
        let cut = cut.min(data.len());
        let (a, b) = data.split_at(cut);
        let joined = combine(partial(a, 0), partial(b, 0), a.len());
        prop_assert_eq!(sum16(joined), sum16(partial(&data, 0)));
    }

    #[test]
    fn appended_checksum_verifies(
        data in prop::collection::vec(any::<u8>(), 0..1_000),
        pseudo in any::<u32>(),
    ) {
        let mut d = data;
        if d.len() % 2 == 1 {
            d.push(0);
        }
        let c = fold(partial(&d, pseudo));
        d.extend_from_slice(&c.to_be_bytes());
        prop_assert!(verify_with(&d, pseudo));
    }

    #[test]
    fn update16_equals_recompute(hdr in ipv4_header(), field in 0usize..9, new in any::<u16>()) {
        // Any 16-bit word but the checksum itself (word 5).
        let at = if field >= 5 { 2 * field + 2 } else { 2 * field };
        let old = u16::from_be_bytes([hdr[at], hdr[at + 1]]);
        let check = u16::from_be_bytes([hdr[10], hdr[11]]);
        let mut h = hdr;
        h[at..at + 2].copy_from_slice(&new.to_be_bytes());
        h[10] = 0;
        h[11] = 0;
        prop_assert_eq!(update16(check, old, new), checksum(&h));
    }

    #[test]
    fn update32_equals_recompute(hdr in ipv4_header(), dst in any::<bool>(), new in any::<u32>()) {
        let at = if dst { 16 } else { 12 };
        let old = u32::from_be_bytes([hdr[at], hdr[at + 1], hdr[at + 2], hdr[at + 3]]);
        let check = u16::from_be_bytes([hdr[10], hdr[11]]);
        let mut h = hdr;
        h[at..at + 4].copy_from_slice(&new.to_be_bytes());
        h[10] = 0;
        h[11] = 0;
        prop_assert_eq!(update32(check, old, new), checksum(&h));
    }

    #[test]
    fn crc32c_equals_bitwise(
        data in prop::collection::vec(any::<u8>(), 0..3_000),
        start in 0usize..8,
        cut in 0usize..3_000,
    ) {
        let d = &data[start.min(data.len())..];
        let want = crc32c_bitwise(d);
        prop_assert_eq!(crc32c(d), want);
        prop_assert_eq!(!crc::update_sw(!0, d), want);
        let (a, b) = d.split_at(cut.min(d.len()));
        prop_assert_eq!(crc32c_append(crc32c(a), b), want);
    }
}

#[test]
fn shift_table_matches_zero_words() {
    // SHIFT[m] must advance a register exactly as m zero words do (checked through the table
    // kernel, so it holds on every architecture).
    for m in [1usize, 2, 3, 63, 512, 1024] {
        let zeros = vec![0u8; 8 * m];
        for reg in [1u32, 0x8000_0000, 0xdead_beef] {
            let want = crc::update_sw(reg, &zeros);
            assert_eq!(crc::shift_sw(reg, m), want, "m {m} reg {reg:#x}");
        }
    }
}

#[test]
fn ip_summed_helpers() {
    assert_eq!(IpSummed::default(), IpSummed::None);
    assert_eq!(IpSummed::Unnecessary { level: 1 }.verified_levels(), 2);
    assert_eq!(IpSummed::Complete { csum: 7 }.verified_levels(), 0);
    assert!(IpSummed::Unnecessary { level: 1 }.is_unnecessary(1));
    assert!(!IpSummed::Unnecessary { level: 1 }.is_unnecessary(2));
    assert!(
        IpSummed::Partial {
            start: 34,
            offset: 16
        }
        .is_unnecessary(0)
    );
    assert!(!IpSummed::None.is_unnecessary(0));
    assert_eq!(
        IpSummed::Unnecessary { level: 1 }.decr_unnecessary(),
        IpSummed::Unnecessary { level: 0 }
    );
    assert_eq!(
        IpSummed::Unnecessary { level: 0 }.decr_unnecessary(),
        IpSummed::None
    );
    assert_eq!(IpSummed::None.decr_unnecessary(), IpSummed::None);
}
