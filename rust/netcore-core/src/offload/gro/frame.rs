//! A packet that left GRO as one contiguous frame, as a capture on the GRO device shows it
//! (an `AF_PACKET` socket bound to it sees the merged packet, not the segments).
//!
//! Completion already rewrote the lengths (IPv4 total length and header checksum, IPv6
//! payload length or jumbo option, UDP length). What a capture shows beyond that is the
//! kernel's checksum state: a merged TCP or UDP packet is `CHECKSUM_PARTIAL`, its checksum
//! field holding only the pseudo-header sum (KERNEL-REFERENCE.md). [`gro_frame`] can leave it
//! so, or finish it the way `skb_checksum_help` would before the bytes hit a wire.

use super::cb::pseudo;
use super::ip::put16;
use crate::checksum::{self, IpSummed};
use crate::skb::{GsoType, Skb};

/// What [`gro_frame`] does with the transport checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrameCsum {
    /// Bytes as a capture on the GRO device shows them: a `CHECKSUM_PARTIAL` packet keeps the
    /// pseudo-header sum in its checksum field.
    #[default]
    AsCaptured,
    /// Every transport checksum of the frame made valid: the `CHECKSUM_PARTIAL` one finished
    /// from `csum_start` (`skb_checksum_help`, a zero result written as `0xffff`), then an
    /// outer UDP tunnel checksum (local checksum offload), or a fraglist packet's UDP
    /// checksum (still the first datagram's) recomputed.
    Complete,
}

/// The packet as one contiguous frame (from its link-layer header, or from IP for a device
/// without one), with checksums as `csum` says. Copies the packet (fragments included).
#[must_use]
pub fn gro_frame(skb: &Skb, csum: FrameCsum) -> Vec<u8> {
    let mut f = skb.to_vec();
    if csum == FrameCsum::Complete {
        complete_checksums(&mut f, skb);
    }
    f
}

fn complete_checksums(f: &mut [u8], skb: &Skb) {
    if let (IpSummed::Partial { offset, .. }, Some(start)) =
        (skb.meta.ip_summed, skb.checksum_start_offset())
        && let Ok(start) = usize::try_from(start)
        && let Some(region) = f.get(start..)
    {
        let v = checksum::fold(checksum::partial(region, 0));
        put16(
            f,
            start + usize::from(offset),
            if v == 0 { 0xffff } else { v },
        );
    }
    let t = skb.meta.gso.gso_type;
    if !t.intersects(GsoType::UDP_TUNNEL_CSUM | GsoType::FRAGLIST) {
        return;
    }
    let (Some(Ok(ip)), Some(Ok(uh))) = (
        skb.network_offset().map(usize::try_from),
        skb.transport_offset().map(usize::try_from),
    ) else {
        return;
    };
    let Some(field) = f.get(uh + 6..uh + 8) else {
        return;
    };
    if field == [0, 0] {
        return; // no checksum to keep valid
    }
    put16(f, uh + 6, 0);
    let len = f.len().saturating_sub(uh);
    let ph = pseudo(f.get(ip..).unwrap_or_default(), 17, len);
    let v = checksum::fold(checksum::partial(f.get(uh..).unwrap_or_default(), ph));
    put16(f, uh + 6, if v == 0 { 0xffff } else { v });
}
