//! Segmentation offload in software (GSO/TSO/USO/UFO), IP fragmentation and the egress
//! decisions around them, with the kernel's rules.
//!
//! A *super-packet* is one [`Skb`] that stands for several wire packets: its headers once, then
//! up to 64 KiB of payload, with `meta.gso` saying how to cut it (`gso_size`, `SKB_GSO_*` type).
//! GRO builds them on receive; a sending stack builds them for TSO. Before a device that cannot
//! segment, [`skb_gso_segment`] cuts one into wire packets the way Linux's software GSO does:
//!
//! | what | kernel function reproduced | file |
//! |---|---|---|
//! | cut the payload, copy the headers into every segment, share fragments | `skb_segment` | `engine.rs` |
//! | IPv4 total length, ID +1 per segment (fixed with `SKB_GSO_TCP_FIXEDID`), header checksum | `inet_gso_segment` | `ip.rs` |
//! | IPv6 payload length | `ipv6_gso_segment` | `ip.rs` |
//! | TCP sequence numbers, CWR on the first segment only, FIN/PSH on the last only, checksum | `tcp_gso_segment`, `__tcp_gso_segment` | `tcp.rs` |
//! | USO: every segment a whole UDP datagram with its own length and checksum | `__udp_gso_segment` | `udp.rs` |
//! | UFO: IP fragments of one UDP datagram, UDP checksum over the datagram first | `udp4_ufo_fragment`, `udp6_ufo_fragment` | `udp.rs`, `frag.rs` |
//! | VXLAN/Geneve: outer IP and UDP per segment, outer checksum on or off, inner segmented by the inner rules | `skb_udp_tunnel_segment`, `__skb_udp_tunnel_segment` | `tunnel.rs` |
//! | IP fragmentation over the MTU; DF → "fragmentation needed" | `ip_fragment`, `ip_do_fragment`, `ip_options_fragment` | `frag.rs` |
//! | IPv6 fragmentation; too big → "packet too big" | `ip6_fragment`, `ip6_find_1stfragopt` | `frag.rs` |
//! | the ICMP errors the kernel sends for them | `__icmp_send`, `icmp6_send` | `icmp.rs` |
//! | completing a `CHECKSUM_PARTIAL` checksum in software | `skb_checksum_help`, `lco_csum` | `csum.rs` |
//! | segment, offload or checksum at egress given device features | `validate_xmit_skb`, `netif_needs_gso`, `net_gso_ok`, `ip_finish_output_gso` | `xmit.rs` |
//!
//! # Invariants
//!
//! - Segmentation reads the super-packet and never changes it; segments are new packets from
//!   the worker's buffer pool. Payload bytes in the linear part are copied (once, while being
//!   summed); payload in fragments is shared by reference, as `skb_segment` shares page frags.
//! - Every L4 checksum of a segment is computed from scratch over the segment (pseudo-header,
//!   header, payload), so a super-packet whose checksum field holds anything — the
//!   pseudo-header sum of a `CHECKSUM_PARTIAL` packet, a stale value — segments the same way.
//!   The kernel adjusts the field incrementally from the pseudo-header sum instead; for a
//!   well-formed `CHECKSUM_PARTIAL` input the bytes are identical.
//! - IPv4 header checksums are always complete (`ip_send_check`). L4 checksums are complete
//!   unless [`SegmentOptions::csum_offload`] asks for them to be left to the device
//!   (`CHECKSUM_PARTIAL`, the field holding the pseudo-header sum), as the kernel leaves them
//!   when the device has `tx-checksumming`.
//! - Nothing panics: headers are read through bounds-checked accessors and malformed input is a
//!   [`GsoError`].

mod csum;
mod engine;
mod frag;
mod frame;
mod icmp;
mod ip;
mod layout;
mod tcp;
mod tunnel;
mod udp;
mod xmit;

pub use csum::skb_checksum_help;
pub use frag::{FragOptions, FragOutcome, TooBig, ip_fragment};
pub use frame::{FrameSpec, GsoSize, UdpMode, fragment_frame, segment_frame, skb_from_frame};
pub use icmp::{icmp_frag_needed, icmpv6_pkt_too_big};
pub use xmit::{
    Egress, TxOutcome, Xmit, gso_ok, ip_finish_output, netif_needs_gso, validate_xmit_skb,
};

use crate::checksum::IpSummed;
use crate::skb::{GsoType, Header, Skb, SkbError};

/// Most header bytes (link layer to the end of the innermost L4 header) replicated into each
/// segment. Covers an outer Ethernet header with VLAN tags, IPv6 with extension headers, UDP,
/// Geneve with its largest options and a whole inner stack.
pub const MAX_HEADER_LEN: usize = 512;

/// Why a packet could not be segmented or fragmented. Small and `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GsoError {
    /// The packet is not a GSO packet (`gso_size` is 0).
    #[error("not a GSO packet (gso_size 0)")]
    NotGso,
    /// The `SKB_GSO_*` type is not one this module segments (GRE, IP-in-IP, SCTP, ESP,
    /// fraglist, partial GSO), or a combination that makes no sense.
    #[error("unsupported GSO type {0:?}")]
    Unsupported(GsoType),
    /// The headers do not match the offsets or the GSO type (the kernel's `-EINVAL` paths).
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// The headers to replicate exceed [`MAX_HEADER_LEN`].
    #[error("headers of {0} bytes exceed the {MAX_HEADER_LEN}-byte limit")]
    HeaderTooLong(usize),
    /// The MTU leaves no room for 8 bytes of payload after the headers.
    #[error("MTU {0} too small for the headers")]
    MtuTooSmall(u32),
    /// A buffer operation failed.
    #[error(transparent)]
    Skb(#[from] SkbError),
}

/// How segments are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentOptions {
    /// Leave the (inner) L4 checksum to the device: segments are `CHECKSUM_PARTIAL` with the
    /// pseudo-header sum in the field, as after software GSO on a device with
    /// `tx-checksumming`. An outer tunnel UDP checksum is then still computed, from the inner
    /// pseudo-header sum (`lco_csum`). Off: every checksum is complete (`CHECKSUM_NONE`).
    pub csum_offload: bool,
    /// Share payload held in fragments (or in a shared, zero-copy linear buffer) with the
    /// segments instead of copying it, as `skb_segment` shares page fragments. Segments then
    /// have fragments; off, every segment is linear.
    pub share_frags: bool,
}

impl Default for SegmentOptions {
    /// Complete checksums, shared fragments.
    fn default() -> Self {
        SegmentOptions {
            csum_offload: false,
            share_frags: true,
        }
    }
}

/// Result of this module.
pub type Result<T, E = GsoError> = std::result::Result<T, E>;

/// Cuts a super-packet into wire packets (`skb_gso_segment` → `skb_mac_gso_segment` → the
/// per-protocol `gso_segment` callbacks), appending them to a new vector in order.
///
/// The packet needs its data start at the link-layer header (or at the network header when it
/// has none), the network and transport header offsets set (and the inner ones plus
/// `meta.encapsulation` for a tunnel), and `meta.gso` filled. A packet whose payload fits one
/// segment comes out as one packet with complete headers (TCP: the kernel's
/// `tcp_gso_segment` returns it unsegmented). See the [module documentation](self) for the
/// rules applied.
pub fn skb_gso_segment(skb: &Skb, opts: &SegmentOptions) -> Result<Vec<Skb>> {
    let mut out = Vec::new();
    segment_into(skb, opts, &mut out)?;
    Ok(out)
}

/// [`skb_gso_segment`] appending to `out`, so that a caller can reuse one vector. On error
/// `out` keeps what it held before.
pub fn segment_into(skb: &Skb, opts: &SegmentOptions, out: &mut Vec<Skb>) -> Result<()> {
    let plan = layout::plan(skb)?;
    match plan.l4 {
        layout::L4::Ufo { .. } => udp::ufo_segment(skb, &plan, out),
        _ => segment_plan(skb, &plan, *opts, out),
    }
}

/// Bytes of the largest IP packet a GSO packet's segments will make, network header included
/// (`skb_gso_network_seglen`); `None` if the packet is not GSO or its headers are unusable.
#[must_use]
pub fn gso_network_seglen(skb: &Skb) -> Option<usize> {
    let plan = layout::plan(skb).ok()?;
    let net = plan.outer_ip().off;
    match plan.l4 {
        // UFO's gso_size counts the UDP header already (`skb_gso_transport_seglen`).
        layout::L4::Ufo { off } => Some(off - net + plan.mss),
        _ => Some(plan.hdr_len - net + plan.mss),
    }
}

/// The TCP/USO/tunnel path: `skb_segment` plus the per-layer fix-ups.
fn segment_plan(
    skb: &Skb,
    plan: &layout::Plan,
    opts: SegmentOptions,
    out: &mut Vec<Skb>,
) -> Result<()> {
    let total = skb.len();
    let payload = total - plan.hdr_len;
    let nseg = payload.div_ceil(plan.mss).max(1);
    let mut hdr = [0u8; MAX_HEADER_LEN];
    let tpl = hdr
        .get_mut(..plan.hdr_len)
        .ok_or(GsoError::HeaderTooLong(plan.hdr_len))?;
    skb.copy_bits(0, tpl)?;
    let ids = ip::BaseIds::read(tpl, plan);
    let seq0 = tcp::base_seq(tpl, plan);
    let src = engine::Source::new(skb, opts.share_frags);
    let start_len = out.len();
    out.reserve(nseg);
    for i in 0..nseg {
        let off = plan.hdr_len + i * plan.mss;
        let chunk = plan.mss.min(total - off);
        let pos = Position {
            index: i,
            first: i == 0,
            last: i + 1 == nseg,
        };
        let seg = engine::build(&src, tpl, off, chunk, true).and_then(|(mut seg, psum)| {
            let seg_len = plan.hdr_len + chunk;
            fix_segment(&mut seg, plan, opts, ids, seq0, pos, seg_len, psum)?;
            finish_meta(skb, &mut seg, plan, opts)?;
            Ok(seg)
        });
        match seg {
            Ok(seg) => out.push(seg),
            Err(e) => {
                out.truncate(start_len);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Where a segment stands in its super-packet.
#[derive(Debug, Clone, Copy)]
struct Position {
    index: usize,
    first: bool,
    last: bool,
}

/// Rewrites the replicated headers of one segment, innermost first: the inner checksums are
/// part of what the outer UDP checksum covers.
#[allow(clippy::too_many_arguments)] // one segment's full context; a struct would only rename it
fn fix_segment(
    seg: &mut Skb,
    plan: &layout::Plan,
    opts: SegmentOptions,
    ids: ip::BaseIds,
    seq0: u32,
    pos: Position,
    seg_len: usize,
    psum: u32,
) -> Result<()> {
    let h = seg
        .data_mut()?
        .get_mut(..plan.hdr_len)
        .ok_or(GsoError::Malformed("segment shorter than its headers"))?;
    // inet_gso_segment / ipv6_gso_segment on the IP header that carries the L4 header.
    let inner_id = if plan.fixed_id {
        ids.inner
    } else {
        ids.inner.wrapping_add(pos.index as u16)
    };
    ip::fix(h, &plan.ip, seg_len, inner_id);
    match plan.l4 {
        layout::L4::Tcp { off, .. } => {
            let seq = seq0.wrapping_add((pos.index * plan.mss) as u32);
            tcp::fix(h, off, seq, pos.first, pos.last, plan.accecn);
            csum::fill_l4(h, off, tcp::CHECK_OFFSET, plan, seg_len, psum, opts, false);
        }
        layout::L4::Udp { off } => {
            udp::fix_len(h, off, seg_len);
            csum::fill_l4(h, off, udp::CHECK_OFFSET, plan, seg_len, psum, opts, true);
        }
        layout::L4::Ufo { .. } => return Err(GsoError::Unsupported(GsoType::UDP)),
    }
    if let Some(t) = &plan.tunnel {
        // The outer IP ID always counts up: FIXEDID applies to the inner header only
        // (inet_gso_segment reads it only when `!skb->encapsulation || encap`).
        ip::fix(h, &t.ip, seg_len, ids.outer.wrapping_add(pos.index as u16));
        tunnel::fix(h, t, plan, seg_len, psum, opts);
    }
    Ok(())
}

/// Copies the header offsets and metadata of the super-packet to a segment and sets its
/// checksum state.
fn finish_meta(skb: &Skb, seg: &mut Skb, plan: &layout::Plan, opts: SegmentOptions) -> Result<()> {
    copy_offsets(skb, seg, plan.hdr_len)?;
    seg.meta = skb.meta;
    seg.meta.gso_reset();
    seg.meta.drop_reason = None;
    seg.meta.ip_summed = IpSummed::None;
    if opts.csum_offload {
        let (off, check) = match plan.l4 {
            layout::L4::Tcp { off, .. } => (off, tcp::CHECK_OFFSET),
            layout::L4::Udp { off } | layout::L4::Ufo { off } => (off, udp::CHECK_OFFSET),
        };
        seg.set_partial_csum(off as isize, check as u16)?;
    }
    Ok(())
}

/// Sets on `dst` every header offset of `src` that lies within the first `limit` bytes.
fn copy_offsets(src: &Skb, dst: &mut Skb, limit: usize) -> Result<()> {
    for h in [
        Header::Mac,
        Header::Network,
        Header::Transport,
        Header::InnerMac,
        Header::InnerNetwork,
        Header::InnerTransport,
    ] {
        match src.header_offset(h) {
            Some(o) if o >= 0 && o.unsigned_abs() <= limit => dst.set_header(h, o)?,
            _ => dst.clear_header(h),
        }
    }
    Ok(())
}

/// Big-endian 16-bit read; 0 out of bounds (offsets are checked by [`layout::plan`] first).
#[inline]
fn rd16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// Big-endian 32-bit read; 0 out of bounds.
#[inline]
fn rd32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// Big-endian 16-bit write; nothing out of bounds.
#[inline]
fn wr16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Big-endian 32-bit write; nothing out of bounds.
#[inline]
fn wr32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

#[cfg(test)]
mod tests;
