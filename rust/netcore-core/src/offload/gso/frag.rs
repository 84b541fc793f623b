//! IP fragmentation of packets larger than the MTU (`ip_fragment`, `ip_do_fragment`,
//! `ip6_fragment`), and the "too big" verdict that replaces it when the packet may not be
//! fragmented (IPv4 with DF, IPv6 on a router).

use super::csum::skb_checksum_help;
use super::{
    GsoError, MAX_HEADER_LEN, Result, SegmentOptions, engine, gso_network_seglen, icmp, ip, rd16,
    skb_gso_segment, wr16, wr32,
};
use crate::checksum::IpSummed;
use crate::skb::{Header, Skb};
use crate::wire::{Ipv4Address, Ipv6Address};

/// How fragmentation treats a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FragOptions {
    /// The kernel's `skb->ignore_df`: fragment even when DF is set (IPv4), and let IPv6 be
    /// fragmented at all. Local output sets it for IPv6 sockets that allow fragmentation (the
    /// default `IPV6_PMTUDISC_WANT`, see `ip6_sk_ignore_df`); forwarded packets never have it,
    /// so a router answers "packet too big" instead. Off by default (forwarding).
    pub ignore_df: bool,
    /// Identification for IPv6 fragment headers. `None`: derived from the addresses by a
    /// fixed hash, a deterministic stand-in for the kernel's keyed `ipv6_select_ident`.
    pub ident6: Option<u32>,
}

/// What fragmentation did with a packet.
#[derive(Debug)]
pub enum FragOutcome {
    /// The packet fits the MTU (or is a GSO packet whose segments will): sent as it is.
    Fits(Skb),
    /// The fragments, in order, each with complete headers and checksums.
    Fragments(Vec<Skb>),
    /// Too big and not to be fragmented: the packet is dropped and counted
    /// (`IPSTATS_MIB_FRAGFAILS`), and an ICMP error is due; build it with
    /// [`TooBig::icmp_v4`] or [`TooBig::icmp_v6`].
    TooBig(TooBig),
}

/// A packet refused for its size, kept to be quoted in the ICMP error.
#[derive(Debug)]
pub struct TooBig {
    /// The offending packet, unchanged.
    pub skb: Skb,
    /// The MTU it exceeded: the "next-hop MTU" of the error.
    pub mtu: u32,
}

impl TooBig {
    /// Whether the packet is IPv6 (the error is then ICMPv6 "packet too big").
    #[must_use]
    pub fn is_ipv6(&self) -> bool {
        let net = self.skb.header_offset(Header::Network).unwrap_or(0);
        let mut v = [0u8; 1];
        usize::try_from(net).is_ok_and(|n| self.skb.copy_bits(n, &mut v).is_ok()) && v[0] >> 4 == 6
    }

    /// The bytes an ICMP error quotes: the packet from its network header, at most `limit`.
    fn quoted(&self, limit: usize) -> Vec<u8> {
        let net = self
            .skb
            .header_offset(Header::Network)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        let n = self.skb.len().saturating_sub(net).min(limit);
        let mut v = vec![0u8; n];
        if self.skb.copy_bits(net, &mut v).is_err() {
            v.clear();
        }
        v
    }

    /// The ICMP "fragmentation needed" error for an IPv4 packet
    /// (`icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu))`), as an IPv4 packet
    /// from `src` (the address of the refusing interface) with IP ID `ident`; `None` when the
    /// kernel would send nothing (see [`icmp_frag_needed`](super::icmp_frag_needed)).
    #[must_use]
    pub fn icmp_v4(&self, src: Ipv4Address, ident: u16) -> Option<Vec<u8>> {
        let mtu = u16::try_from(self.mtu).unwrap_or(u16::MAX);
        icmp::icmp_frag_needed(&self.quoted(icmp::V4_QUOTE_MAX), mtu, src, ident)
    }

    /// The ICMPv6 "packet too big" error for an IPv6 packet
    /// (`icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, mtu)`), as an IPv6 packet from `src`; `None`
    /// when the kernel would send nothing (see [`icmpv6_pkt_too_big`](super::icmpv6_pkt_too_big)).
    #[must_use]
    pub fn icmp_v6(&self, src: &Ipv6Address) -> Option<Vec<u8>> {
        icmp::icmpv6_pkt_too_big(&self.quoted(icmp::V6_QUOTE_MAX), self.mtu, src)
    }
}

/// Fragments an IP packet for an MTU of `mtu` bytes (the largest IP packet, link-layer
/// header excluded), or says why it cannot be.
///
/// The packet's data starts at its link-layer header (copied in front of every fragment) or at
/// its network header, whose offset must be set.
///
/// - IPv4 (`ip_fragment`, `ip_do_fragment`): a packet that fits is sent as it is. With DF set
///   (and no [`FragOptions::ignore_df`]) it is [`FragOutcome::TooBig`]. Otherwise every
///   fragment but the last carries a multiple of 8 payload bytes, as many as the MTU allows;
///   all keep the datagram's ID; the fragment offset (8-byte units) and MF are set, DF and the
///   reserved bit are cleared (the kernel rewrites the whole field), MF stays on every
///   fragment of a datagram that was itself a non-last fragment, and the offsets continue from
///   its own. The first fragment carries the IP options as they were; later ones get options
///   without the "copied" flag overwritten with NOPs (`ip_options_fragment`).
/// - IPv6 (`ip6_fragment`): without `ignore_df` (a forwarded packet) a packet over the MTU is
///   [`FragOutcome::TooBig`], as is one whose unfragmentable part leaves no room for 8 bytes.
///   Otherwise a fragment header follows the unfragmentable part (`ip6_find_1stfragopt`) of
///   every fragment, with the same identification, offsets and M flag.
/// - A `CHECKSUM_PARTIAL` packet has its checksum completed first (`skb_checksum_help`), since
///   no device can checksum a datagram spread over fragments.
/// - A GSO packet fits when its segments will (`skb_gso_validate_network_len`). When they will
///   not, it is [`FragOutcome::TooBig`] if it may not be fragmented (`ip_exceeds_mtu`), else it
///   is segmented and each segment fragmented (`ip_finish_output_gso`).
pub fn ip_fragment(skb: Skb, mtu: u32, opts: &FragOptions) -> Result<FragOutcome> {
    let net = skb
        .header_offset(Header::Network)
        .and_then(|o| usize::try_from(o).ok())
        .ok_or(GsoError::Malformed("network header unset"))?;
    let mut fixed = [0u8; 20];
    skb.copy_bits(net, &mut fixed)
        .map_err(|_| GsoError::Malformed("IP header beyond the packet"))?;
    let v6 = match fixed[0] >> 4 {
        4 => false,
        6 => true,
        _ => return Err(GsoError::Malformed("not an IPv4 or IPv6 packet")),
    };
    let df = !v6 && fixed[6] & 0x40 != 0;
    let may_fragment = if v6 {
        opts.ignore_df
    } else {
        !df || opts.ignore_df
    };
    if skb.meta.is_gso() {
        let seglen = gso_network_seglen(&skb).ok_or(GsoError::Malformed("bad GSO headers"))?;
        if seglen as u64 <= u64::from(mtu) {
            return Ok(FragOutcome::Fits(skb));
        }
        if !may_fragment {
            return Ok(FragOutcome::TooBig(TooBig { skb, mtu }));
        }
        let segs = skb_gso_segment(&skb, &SegmentOptions::default())?;
        let mut out = Vec::with_capacity(segs.len());
        for seg in segs {
            match fragment_one(seg, net, v6, mtu, opts)? {
                FragOutcome::Fits(s) => out.push(s),
                FragOutcome::Fragments(f) => out.extend(f),
                too_big @ FragOutcome::TooBig(_) => return Ok(too_big),
            }
        }
        return Ok(FragOutcome::Fragments(out));
    }
    if !may_fragment {
        let ip_len = ip_len(&skb, net, &fixed, v6)?;
        if ip_len as u64 > u64::from(mtu) {
            return Ok(FragOutcome::TooBig(TooBig { skb, mtu }));
        }
        return Ok(FragOutcome::Fits(skb));
    }
    fragment_one(skb, net, v6, mtu, opts)
}

/// Length of the IP packet at `net` from its header, checked against the packet.
fn ip_len(skb: &Skb, net: usize, fixed: &[u8; 20], v6: bool) -> Result<usize> {
    let len = if v6 {
        let plen = usize::from(u16::from_be_bytes([fixed[4], fixed[5]]));
        if plen == 0 {
            return Err(GsoError::Malformed("IPv6 jumbogram"));
        }
        40 + plen
    } else {
        let tot = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
        if tot < usize::from(fixed[0] & 0x0f) * 4 || tot < 20 {
            return Err(GsoError::Malformed("IPv4 total length below the header"));
        }
        tot
    };
    if net + len > skb.len() {
        return Err(GsoError::Malformed("IP length beyond the packet"));
    }
    Ok(len)
}

/// Fragments one non-GSO packet that may be fragmented.
fn fragment_one(
    mut skb: Skb,
    net: usize,
    v6: bool,
    mtu: u32,
    opts: &FragOptions,
) -> Result<FragOutcome> {
    let mut fixed = [0u8; 20];
    skb.copy_bits(net, &mut fixed)?;
    let len = ip_len(&skb, net, &fixed, v6)?;
    let mtu_us = usize::try_from(mtu).unwrap_or(usize::MAX);
    if len <= mtu_us {
        return Ok(FragOutcome::Fits(skb));
    }
    let room = if v6 {
        let mut h = [0u8; MAX_HEADER_LEN];
        let n = (skb.len() - net).min(MAX_HEADER_LEN);
        skb.copy_bits(net, &mut h[..n])?;
        let (unfrag, _) = ip::find_1stfragopt(&h[..n], 0, len)
            .ok_or(GsoError::Malformed("IPv6 extension headers"))?;
        // ip6_fragment: `mtu < hlen + sizeof(struct frag_hdr) + 8` is "packet too big".
        if mtu_us < unfrag + 8 + 8 {
            return Ok(FragOutcome::TooBig(TooBig { skb, mtu }));
        }
        mtu_us - unfrag - 8
    } else {
        let hlen = usize::from(fixed[0] & 0x0f) * 4;
        if mtu_us < hlen + 8 {
            return Err(GsoError::MtuTooSmall(mtu));
        }
        mtu_us - hlen
    };
    // ip_do_fragment / ip6_fragment: "for offloaded checksums cleanup checksum before
    // fragmentation".
    if let IpSummed::Partial { .. } = skb.meta.ip_summed {
        skb_checksum_help(&mut skb)?;
    }
    let job = Job {
        skb: &skb,
        net,
        ip_end: net + len,
        room,
        patch: None,
    };
    let mut out = Vec::new();
    if v6 {
        let ident = opts.ident6.unwrap_or_else(|| select_ident(&skb, net));
        fragment_v6(&job, ident, &mut out)?;
    } else {
        fragment_v4(&job, true, &mut out)?;
    }
    Ok(FragOutcome::Fragments(out))
}

/// Two bytes to overwrite in the fragment that holds them (UFO's UDP checksum).
#[derive(Debug, Clone, Copy)]
pub(super) struct Patch {
    /// Offset in the original packet.
    pub at: usize,
    /// The new bytes.
    pub bytes: [u8; 2],
}

impl Patch {
    /// Writes the bytes that fall in packet bytes `[off, off + len)`, which `seg` holds after
    /// `hdr_len` bytes of headers.
    pub(super) fn apply(
        &self,
        seg: &mut Skb,
        hdr_len: usize,
        off: usize,
        len: usize,
    ) -> Result<()> {
        for (i, b) in self.bytes.iter().enumerate() {
            let at = self.at + i;
            if (off..off + len).contains(&at) {
                seg.write_at(hdr_len + at - off, &[*b])?;
            }
        }
        Ok(())
    }
}

/// One fragmentation: the packet, where its IP header is, where the datagram ends, and the
/// most payload bytes per fragment.
pub(super) struct Job<'a> {
    pub skb: &'a Skb,
    /// Offset of the IP header from the data start.
    pub net: usize,
    /// End of the IP datagram (link-layer padding after it is dropped).
    pub ip_end: usize,
    /// Most payload bytes per fragment (rounded down to 8 for all but the last).
    pub room: usize,
    /// Bytes to rewrite on the way.
    pub patch: Option<Patch>,
}

/// Payload bytes of the next fragment with `left` to go: as much as fits, a multiple of 8
/// unless it is the last (`len = min(left, mtu); if (len < left) len &= ~7;`).
fn next_len(left: usize, room: usize) -> usize {
    let len = left.min(room);
    if len < left { len & !7 } else { len }
}

/// Metadata of a fragment: the datagram's, no GSO, checksums complete, header offsets for the
/// link-layer and network headers (and the transport header on the first fragment).
fn fragment_meta(src: &Skb, frag: &mut Skb, net: usize, first_l4: Option<usize>) -> Result<()> {
    frag.meta = src.meta;
    frag.meta.gso_reset();
    frag.meta.ip_summed = IpSummed::None;
    frag.meta.encapsulation = false;
    frag.meta.drop_reason = None;
    if let Some(m) = src.header_offset(Header::Mac).filter(|m| *m >= 0) {
        frag.set_header(Header::Mac, m)?;
    }
    frag.set_header(Header::Network, net as isize)?;
    if let Some(l4) = first_l4 {
        frag.set_header(Header::Transport, l4 as isize)?;
    }
    Ok(())
}

/// IPv4 fragments (`ip_do_fragment`'s slow path; with `options_fragment` false, UFO's
/// `udpfrag` branch of `inet_gso_segment`, which copies the options unchanged).
pub(super) fn fragment_v4(job: &Job<'_>, options_fragment: bool, out: &mut Vec<Skb>) -> Result<()> {
    let skb = job.skb;
    let net = job.net;
    let mut first = [0u8; 1];
    skb.copy_bits(net, &mut first)?;
    let hlen = usize::from(first[0] & 0x0f) * 4;
    let mut buf = [0u8; MAX_HEADER_LEN];
    let tpl = buf
        .get_mut(..net + hlen)
        .ok_or(GsoError::HeaderTooLong(net + hlen))?;
    skb.copy_bits(0, tpl)?;
    let frag_off = rd16(tpl, net + 6);
    let mut offset = usize::from(frag_off & 0x1fff) * 8;
    // "If we are fragmenting a fragment that's not the last fragment then keep MF on each."
    let not_last = frag_off & 0x2000 != 0;
    let mut ptr = net + hlen;
    let mut left = job.ip_end - ptr;
    if job.room < 8 {
        return Err(GsoError::MtuTooSmall((job.room + hlen) as u32));
    }
    let src = engine::Source::new(skb, false);
    let start_len = out.len();
    out.reserve(left.div_ceil(job.room & !7));
    while left > 0 {
        let len = next_len(left, job.room);
        let (mut frag, _) = engine::build(&src, tpl, ptr, len, false)?;
        left -= len;
        {
            let h = frag.data_mut()?;
            let mut fo = (offset >> 3) as u16;
            if left > 0 || not_last {
                fo |= 0x2000;
            }
            wr16(h, net + 6, fo);
            wr16(h, net + 2, (len + hlen) as u16);
            ip::send_check(h, net, hlen);
        }
        if let Some(p) = &job.patch {
            p.apply(&mut frag, net + hlen, ptr, len)?;
        }
        fragment_meta(skb, &mut frag, net, (offset == 0).then_some(net + hlen))?;
        out.push(frag);
        if offset == 0 && options_fragment {
            // ip_options_fragment runs once, on the header the later fragments copy.
            if let Some(opts) = tpl.get_mut(net + 20..net + hlen) {
                ip::options_fragment(opts);
            }
        }
        ptr += len;
        offset += len;
    }
    if out.len() == start_len {
        return Err(GsoError::Malformed("nothing to fragment"));
    }
    Ok(())
}

/// IPv6 fragments (`ip6_fragment`'s slow path, and `udp6_ufo_fragment`): the unfragmentable
/// part, a fragment header announced by the byte that announced the first fragmentable header,
/// then the data.
pub(super) fn fragment_v6(job: &Job<'_>, ident: u32, out: &mut Vec<Skb>) -> Result<()> {
    let skb = job.skb;
    let net = job.net;
    let mut hb = [0u8; MAX_HEADER_LEN];
    let n = (skb.len() - net).min(MAX_HEADER_LEN);
    skb.copy_bits(net, &mut hb[..n])?;
    let (unfrag, prev) = ip::find_1stfragopt(&hb[..n], 0, job.ip_end - net)
        .ok_or(GsoError::Malformed("IPv6 extension headers"))?;
    let tpl_len = net + unfrag + 8;
    let mut buf = [0u8; MAX_HEADER_LEN];
    let tpl = buf
        .get_mut(..tpl_len)
        .ok_or(GsoError::HeaderTooLong(tpl_len))?;
    skb.copy_bits(0, &mut tpl[..net + unfrag])?;
    let fh = net + unfrag;
    // The fragment header takes over the next-header value; its announcer now says 44.
    tpl[fh] = tpl[net + prev];
    tpl[net + prev] = 44;
    tpl[fh + 1] = 0;
    wr32(tpl, fh + 4, ident);
    if job.room < 8 {
        return Err(GsoError::MtuTooSmall((job.room + unfrag + 8) as u32));
    }
    let mut ptr = net + unfrag;
    let mut left = job.ip_end - ptr;
    let mut offset = 0usize;
    let src = engine::Source::new(skb, false);
    out.reserve(left.div_ceil(job.room & !7));
    while left > 0 {
        let len = next_len(left, job.room);
        let (mut frag, _) = engine::build(&src, tpl, ptr, len, false)?;
        left -= len;
        {
            let h = frag.data_mut()?;
            wr16(h, net + 4, (unfrag - 40 + 8 + len) as u16);
            let mut fo = offset as u16;
            if left > 0 {
                fo |= 1;
            }
            wr16(h, fh + 2, fo);
        }
        if let Some(p) = &job.patch {
            p.apply(&mut frag, tpl_len, ptr, len)?;
        }
        fragment_meta(skb, &mut frag, net, (offset == 0).then_some(tpl_len))?;
        out.push(frag);
        ptr += len;
        offset += len;
    }
    Ok(())
}

/// A deterministic fragment identification from the IPv6 addresses (FNV-1a over source and
/// destination, never 0): the kernel's `ipv6_select_ident` hashes the same addresses with a
/// secret key and a per-bucket counter, which a reproducible tool cannot use.
pub(super) fn select_ident(skb: &Skb, net: usize) -> u32 {
    let mut addrs = [0u8; 32];
    if skb.copy_bits(net + 8, &mut addrs).is_err() {
        return 1;
    }
    let mut h: u32 = 0x811c_9dc5;
    for b in addrs {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.max(1)
}
