//! UDP segmentation (USO, `__udp_gso_segment`) and UDP fragmentation (UFO,
//! `udp4_ufo_fragment`, `udp6_ufo_fragment`).

use super::layout::{L4, Plan};
use super::{GsoError, Result, engine, frag, wr16};
use crate::checksum::{self, IpSummed};
use crate::skb::Skb;

/// Offset of the checksum field in the UDP header.
pub(super) const CHECK_OFFSET: usize = 6;

/// Sets the UDP length of a USO segment of `seg_len` bytes whose UDP header is at `off`:
/// `__udp_gso_segment` gives every segment `sizeof(*uh) + mss` and the last one what is left,
/// so that each is a datagram of its own.
pub(super) fn fix_len(h: &mut [u8], off: usize, seg_len: usize) {
    wr16(h, off + 4, (seg_len - off) as u16);
}

/// UFO: one UDP datagram sent as IP fragments of `gso_size` bytes each (rounded down to a
/// multiple of 8, which fragment offsets need; a sender's `gso_size` already is one).
///
/// `udp4_ufo_fragment` / `udp6_ufo_fragment` first complete the UDP checksum over the whole
/// datagram in software ("HW cannot do checksum of UDP packets sent as multiple IP
/// fragments"), a zero result sent as `CSUM_MANGLED_0`; then the datagram is cut after the IP
/// header, so only the first fragment carries the UDP header. IPv4 fragments share the ID of
/// the datagram, carry MF except the last and their offset in 8-byte units, and a full copy of
/// the IP header with its options (`inet_gso_segment`'s `udpfrag` branch); IPv6 fragments get a
/// fragment header (`udp6_ufo_fragment`, `ipv6_gso_segment`). A datagram that fits one
/// fragment leaves whole, with its checksum completed (the kernel returns it unsegmented).
pub(super) fn ufo_segment(skb: &Skb, plan: &Plan, out: &mut Vec<Skb>) -> Result<()> {
    let L4::Ufo { off: udp } = plan.l4 else {
        return Err(GsoError::Malformed("not a UFO packet"));
    };
    let dgram_len = skb.len() - udp;
    if dgram_len < 8 {
        return Err(GsoError::Malformed("UDP datagram shorter than its header"));
    }
    // Fragment offsets and the UDP length field are 16-bit byte counts.
    let ip_hdr = if plan.ip.v6 { 0 } else { plan.ip.hlen };
    if dgram_len + ip_hdr > usize::from(u16::MAX) {
        return Err(GsoError::Malformed("UDP datagram too long to fragment"));
    }
    // The checksum over the datagram with the field taken as zero: sum everything, then take
    // the field's current value out again (it sits at an even offset of the datagram).
    let mut sum = 0u32;
    let mut rel = 0usize;
    let mut pos = 0usize;
    for piece in skb.pieces() {
        let (ps, pe) = (pos, pos + piece.len());
        pos = pe;
        if pe <= udp {
            continue;
        }
        let bytes = piece.get(udp.saturating_sub(ps)..).unwrap_or_default();
        sum = checksum::combine(sum, checksum::partial(bytes, 0), rel);
        rel += bytes.len();
    }
    let mut field = [0u8; 2];
    skb.copy_bits(udp + CHECK_OFFSET, &mut field)?;
    sum = checksum::sub(sum, u32::from(u16::from_be_bytes(field)));
    let pseudo = checksum::add(plan.ip.pseudo, dgram_len as u32);
    let c = checksum::fold(checksum::add(sum, pseudo));
    let check = if c == 0 { 0xffff } else { c };
    let patch = frag::Patch {
        at: udp + CHECK_OFFSET,
        bytes: check.to_be_bytes(),
    };

    let mss = plan.mss & !7;
    if dgram_len <= plan.mss {
        // udp4_ufo_fragment: `skb->len <= mss` goes out as it is.
        let src = engine::Source::new(skb, false);
        let (mut one, _) = engine::build(&src, &[], 0, skb.len(), false)?;
        patch.apply(&mut one, 0, 0, skb.len())?;
        super::copy_offsets(skb, &mut one, skb.len())?;
        one.meta = skb.meta;
        one.meta.gso_reset();
        one.meta.ip_summed = IpSummed::None;
        out.push(one);
        return Ok(());
    }
    if mss == 0 {
        return Err(GsoError::Malformed("UFO gso_size below 8"));
    }
    let job = frag::Job {
        skb,
        net: plan.ip.off,
        ip_end: skb.len(),
        room: mss,
        patch: Some(patch),
    };
    if plan.ip.v6 {
        frag::fragment_v6(&job, frag::select_ident(skb, plan.ip.off), out)
    } else {
        frag::fragment_v4(&job, false, out)
    }
}
