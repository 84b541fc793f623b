//! The dissector: from link type and bytes to a [`Row`] of header fields and layer offsets.
//!
//! It walks the packet the way the receive path demultiplexes it (`eth_type_trans` → `ptype`
//! handler → `ip_rcv` → `inet_protos` handler → UDP encapsulation socket), reading fields at
//! fixed offsets with bounds checks and allocating nothing. Lengths are validated as the kernel
//! validates them, and a packet whose own lengths are inconsistent is marked malformed with the
//! kernel's drop reason; a packet merely cut by the capture's snaplen is marked truncated.
//!
//! A batch is dissected into its columns in place (the walker fills a row through [`RowMut`]),
//! and the packets almost every capture is made of — Ethernet, IPv4 or IPv6, TCP or UDP, at
//! most one tunnel — take a straight path ([`dissect_plain`]) that reads them with the same
//! checks and writes the same row without the walker's per-layer dispatch. Anything unusual
//! falls back to the walker, which stays the reference.

use super::columns::{ColumnsRow, MAX_LAYERS, NONE16, Row, RowMut};
use super::table::{Encap, Tables};
use crate::capture::LinkType;
use crate::drop_reason::DropReason;
use crate::wire::Layer;

/// Most encapsulations followed (tunnels in tunnels, ICMP errors quoting tunnels).
const MAX_DEPTH: u8 = 4;
/// Most VLAN tags followed.
const MAX_TAGS: usize = 8;
/// Most MPLS labels followed in one stack.
const MAX_LABELS: usize = 32;
/// Most IPv6 extension headers followed (a longer chain is treated as a loop).
const MAX_EXT: usize = 16;

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

#[inline]
fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// What to parse next.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// A frame of this link type at this offset.
    Link(u16, usize),
    /// An Ethernet frame.
    Ether(usize),
    /// A payload selected by ethertype.
    EtherType(u16, usize),
    /// An IP packet whose version is read from its first nibble.
    IpAny(usize),
    Ipv4(usize),
    Ipv6(usize),
    /// A transport header: protocol, offset, end of the IP payload, IPv6?
    L4(u8, usize, usize, bool),
    Done,
}

struct Walk<'a, R: RowMut> {
    pkt: &'a [u8],
    /// The capture holds fewer bytes than the wire carried.
    cut: bool,
    tables: &'a Tables,
    /// Where the fields go: a [`Row`], or a row of [`Columns`] holding the defaults.
    row: R,
    /// Encapsulation depth: 0 outer packet, 1 the first tunnel's inner packet, …
    depth: u8,
    /// Inside the datagram quoted by an ICMP error: headers may be partial, lengths lie.
    quoted: bool,
    /// The outer network layer has been recorded.
    have_l3: bool,
}

/// Dissects one packet.
#[must_use]
pub fn dissect(pkt: &[u8], wirelen: u32, linktype: u16, tables: &Tables) -> Row {
    walk(pkt, wirelen, linktype, tables, Row::default())
}

/// Dissects one packet into a row of columns that holds the defaults of [`Row`].
pub(super) fn dissect_into(
    pkt: &[u8],
    wirelen: u32,
    linktype: u16,
    tables: &Tables,
    row: ColumnsRow<'_>,
) {
    walk(pkt, wirelen, linktype, tables, row);
}

/// Walks one packet, filling `row`, which holds the defaults of [`Row`].
#[inline]
fn walk<R: RowMut>(pkt: &[u8], wirelen: u32, linktype: u16, tables: &Tables, row: R) -> R {
    let mut w = Walk {
        pkt,
        cut: (pkt.len() as u64) < u64::from(wirelen),
        tables,
        row,
        depth: 0,
        quoted: false,
        have_l3: false,
    };
    let mut next = Next::Link(linktype, 0);
    // Each step consumes a header, so the walk ends; the bound is a second guard (against
    // chains of AH headers, for one).
    for _ in 0..64 {
        next = match next {
            Next::Done => break,
            Next::Link(lt, off) => w.link(lt, off),
            Next::Ether(off) => w.ether(off),
            Next::EtherType(t, off) => w.ethertype(t, off),
            Next::IpAny(off) => match pkt.get(off).map(|b| b >> 4) {
                Some(4) => Next::Ipv4(off),
                Some(6) => Next::Ipv6(off),
                Some(_) => Next::Done,
                None => w.short(),
            },
            Next::Ipv4(off) => w.ipv4(off),
            Next::Ipv6(off) => w.ipv6(off),
            Next::L4(proto, off, end, v6) => w.l4(proto, off, end, v6),
        };
    }
    w.row
}

impl<R: RowMut> Walk<'_, R> {
    /// Records a layer; false when the layer list is full (dissection stops there).
    #[inline]
    fn layer(&mut self, l: Layer, off: usize) -> bool {
        let n = usize::from(*self.row.nlayers());
        // A header with no captured byte is not recorded: there is nothing of it to show.
        if off >= self.pkt.len() {
            return false;
        }
        let Ok(off) = u16::try_from(off) else {
            return false;
        };
        if n >= MAX_LAYERS || off == NONE16 {
            return false;
        }
        self.row.layers()[n] = l as u8;
        self.row.layer_off()[n] = off;
        *self.row.nlayers() += 1;
        true
    }

    /// A header ending at `end` does not fit in the captured bytes.
    fn short(&mut self) -> Next {
        if self.quoted {
            // ICMP errors quote only the start of a datagram: running out is expected.
        } else if self.cut {
            *self.row.truncated() = true;
        } else {
            self.malformed(DropReason::PktTooSmall);
        }
        Next::Done
    }

    /// Like [`Walk::short`], recording `layer` first when any byte of its header was captured
    /// (a dissector that starts on a header names it, as tshark does).
    fn cut_at(&mut self, layer: Layer, off: usize) -> Next {
        if off < self.pkt.len() {
            self.layer(layer, off);
        }
        self.short()
    }

    fn malformed(&mut self, reason: DropReason) -> Next {
        if !*self.row.malformed() && !self.quoted {
            *self.row.malformed() = true;
            *self.row.drop_reason() = reason as u16;
        }
        Next::Done
    }

    fn link(&mut self, linktype: u16, off: usize) -> Next {
        match LinkType(linktype) {
            LinkType::ETHERNET => Next::Ether(off),
            LinkType::RAW | LinkType(12 | 14) => Next::IpAny(off),
            LinkType::IPV4 => Next::Ipv4(off),
            LinkType::IPV6 => Next::Ipv6(off),
            LinkType::LINUX_SLL => {
                // Packet type, ARPHRD type, address length, 8 address bytes, protocol.
                let Some(proto) = be16(self.pkt, off + 14) else {
                    return self.cut_at(Layer::Sll, off);
                };
                self.layer(Layer::Sll, off);
                Self::sll_protocol(proto, off + 16)
            }
            LinkType::LINUX_SLL2 => {
                // Protocol first, then reserved, ifindex, ARPHRD, type, address length, address.
                if self.pkt.len() < off + 20 {
                    return self.cut_at(Layer::Sll2, off);
                }
                let proto = be16(self.pkt, off).unwrap_or(0);
                self.layer(Layer::Sll2, off);
                Self::sll_protocol(proto, off + 20)
            }
            LinkType::NULL | LinkType::LOOP => {
                let Some(b) = self.pkt.get(off..off + 4) else {
                    return self.cut_at(Layer::Null, off);
                };
                let loop_ = LinkType(linktype) == LinkType::LOOP;
                self.layer(Layer::Null, off);
                // NULL carries the family in the capturing host's byte order: when the high
                // half is zero the value is big-endian-small, otherwise it is little-endian.
                let family = if loop_ || (b[0] == 0 && b[1] == 0) {
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
                } else {
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                };
                match family {
                    2 => Next::Ipv4(off + 4),
                    // AF_INET6 differs by OS: 24 (BSDs), 28 (FreeBSD), 30 (macOS), 10 (Linux).
                    10 | 24 | 28 | 30 => Next::Ipv6(off + 4),
                    _ => Next::Done,
                }
            }
            _ => Next::Done,
        }
    }

    /// The protocol field of Linux cooked captures: an ethertype, except for the
    /// `ETH_P_802_3` (1) and `ETH_P_802_2` (4) pseudo-values (Linux `if_ether.h`).
    fn sll_protocol(proto: u16, off: usize) -> Next {
        match proto {
            0x0001 | 0x0004 => Next::Done,
            t => Next::EtherType(t, off),
        }
    }

    fn ether(&mut self, off: usize) -> Next {
        let Some(t) = be16(self.pkt, off + 12) else {
            return self.cut_at(Layer::Ethernet, off);
        };
        if !self.layer(Layer::Ethernet, off) {
            return Next::Done;
        }
        // Below 0x0600 the field is an 802.3 length: LLC follows, not an ethertype.
        if t < 0x0600 {
            return Next::Done;
        }
        Next::EtherType(t, off + 14)
    }

    fn ethertype(&mut self, mut t: u16, mut off: usize) -> Next {
        // 802.1Q / 802.1ad tags, any depth up to MAX_TAGS.
        let mut tags = 0;
        while matches!(t, 0x8100 | 0x88a8 | 0x9100) {
            if tags == MAX_TAGS {
                return Next::Done;
            }
            let layer = if t == 0x88a8 {
                Layer::Qinq
            } else {
                Layer::Vlan
            };
            let (Some(tci), Some(inner)) = (be16(self.pkt, off), be16(self.pkt, off + 2)) else {
                return self.cut_at(layer, off);
            };
            if !self.layer(layer, off) {
                return Next::Done;
            }
            if self.depth == 0 && !self.quoted {
                if *self.row.vlan_depth() == 0 {
                    *self.row.vlan() = tci & 0x0fff;
                }
                *self.row.vlan_depth() += 1;
            }
            tags += 1;
            t = inner;
            off += 4;
        }
        match t {
            0x0800 => {
                self.note_ethertype(t);
                Next::Ipv4(off)
            }
            0x86dd => {
                self.note_ethertype(t);
                Next::Ipv6(off)
            }
            // ARP, and RARP (RFC 903) which shares its format.
            0x0806 | 0x8035 => {
                self.note_ethertype(t);
                // Fixed part, then two hardware and two protocol addresses.
                let (Some(&hlen), Some(&plen)) = (self.pkt.get(off + 4), self.pkt.get(off + 5))
                else {
                    return self.cut_at(Layer::Arp, off);
                };
                let end = off + 8 + 2 * (usize::from(hlen) + usize::from(plen));
                if self.pkt.len() < end {
                    return self.cut_at(Layer::Arp, off);
                }
                self.layer(Layer::Arp, off);
                Next::Done
            }
            0x8847 | 0x8848 => {
                self.note_ethertype(t);
                self.mpls(off)
            }
            other => {
                self.note_ethertype(other);
                Next::Done
            }
        }
    }

    #[inline]
    fn note_ethertype(&mut self, t: u16) {
        if self.quoted {
            return;
        }
        if self.depth == 0 && *self.row.ethertype() == 0 {
            *self.row.ethertype() = t;
        } else if self.depth == 1 && *self.row.inner_ethertype() == 0 {
            *self.row.inner_ethertype() = t;
        }
    }

    /// An MPLS label stack, recorded as one layer (as Wireshark names it).
    fn mpls(&mut self, mut off: usize) -> Next {
        if !self.layer(Layer::Mpls, off) {
            return Next::Done;
        }
        for _ in 0..MAX_LABELS {
            let Some(entry) = be32(self.pkt, off) else {
                return self.short();
            };
            off += 4;
            if entry & 0x100 != 0 {
                // Bottom of stack: the payload is guessed from its first nibble, as Linux's
                // MPLS input and Wireshark do for label-switched IP.
                return match self.pkt.get(off).map(|b| b >> 4) {
                    Some(4) => Next::Ipv4(off),
                    Some(6) => Next::Ipv6(off),
                    _ => Next::Done,
                };
            }
        }
        Next::Done
    }

    /// Records the network layer's fields at the depth being walked.
    #[inline]
    fn note_l3(&mut self, off: usize, version: u8) {
        if self.quoted {
            return;
        }
        if self.depth == 0 && !self.have_l3 {
            self.have_l3 = true;
            *self.row.l3_off() = u16::try_from(off).unwrap_or(NONE16);
            *self.row.ip_version() = version;
        } else if self.depth == 1 && *self.row.inner_l3_off() == NONE16 {
            *self.row.inner_l3_off() = u16::try_from(off).unwrap_or(NONE16);
            if *self.row.inner_ethertype() == 0 {
                *self.row.inner_ethertype() = if version == 4 { 0x0800 } else { 0x86dd };
            }
        }
    }

    #[inline]
    fn outer(&self) -> bool {
        self.depth == 0 && !self.quoted
    }

    fn ipv4(&mut self, off: usize) -> Next {
        let pkt = self.pkt;
        let Some(&vihl) = pkt.get(off) else {
            return self.cut_at(Layer::Ipv4, off);
        };
        // ip_rcv_core: version must be 4 and IHL at least 5, else IP_INHDR.
        if vihl >> 4 != 4 {
            // A link layer or ethertype that announced IPv4 names the layer even when the
            // version is wrong; a tunnel's wrong inner version is just not IPv4.
            if self.depth == 0 && !self.quoted {
                self.layer(Layer::Ipv4, off);
            }
            return if self.quoted {
                Next::Done
            } else {
                self.malformed(DropReason::IpInhdr)
            };
        }
        if vihl & 0x0f < 5 {
            self.layer(Layer::Ipv4, off);
            return if self.quoted {
                Next::Done
            } else {
                self.malformed(DropReason::IpInhdr)
            };
        }
        let hlen = usize::from(vihl & 0x0f) * 4;
        if pkt.len() < off + hlen.max(20) {
            if self.quoted && pkt.len() >= off + 20 {
                // A quoted header cut inside its options: fields are still readable.
            } else {
                return self.cut_at(Layer::Ipv4, off);
            }
        }
        let mut total = usize::from(be16(pkt, off + 2).unwrap_or(0));
        if total == 0 && !self.quoted {
            // Captured on a sender doing TSO, a super-packet's length is not filled in yet:
            // take the frame's length, as Wireshark does ("reported as 0, presumed TSO").
            total = pkt.len().saturating_sub(off);
        }
        // ip_rcv_core: a total length beyond the packet is PKT_TOO_SMALL; below the header,
        // IP_INHDR. The wire length counts; the capture may hold less.
        if !self.quoted && total < hlen {
            self.layer(Layer::Ipv4, off);
            return self.malformed(DropReason::IpInhdr);
        }
        let wire_room = self.wire_room(off);
        if !self.quoted && total > wire_room {
            // The kernel drops it here; dissection goes on over the bytes that are present,
            // so that the headers can still be inspected (as Wireshark does).
            self.malformed(DropReason::PktTooSmall);
            total = pkt.len().saturating_sub(off);
        }
        if !self.layer(Layer::Ipv4, off) {
            return Next::Done;
        }
        self.note_l3(off, 4);
        let frag = be16(pkt, off + 6).unwrap_or(0);
        let (more, offset) = (frag & 0x2000 != 0, frag & 0x1fff);
        let proto = pkt.get(off + 9).copied().unwrap_or(0);
        let src = be32(pkt, off + 12).unwrap_or(0);
        let dst = be32(pkt, off + 16).unwrap_or(0);
        if self.outer() {
            *self.row.ttl() = pkt.get(off + 8).copied().unwrap_or(0);
            *self.row.src4() = src;
            *self.row.dst4() = dst;
            *self.row.l4proto() = proto;
            *self.row.frag() = if offset != 0 { 2 } else { u8::from(more) };
            *self.row.payload_len() = total.saturating_sub(hlen) as u32;
        } else if self.depth == 1 && !self.quoted && *self.row.inner_src4() == 0 {
            *self.row.inner_src4() = src;
            *self.row.inner_dst4() = dst;
            *self.row.inner_l4proto() = proto;
        }
        // Fragments carry no transport header to demultiplex until reassembled (ip_defrag
        // runs before the protocol handler); only a first fragment has one, and it is not
        // complete, so dissection stops at the network layer for every fragment.
        if more || offset != 0 {
            return Next::Done;
        }
        let end = if self.quoted { pkt.len() } else { off + total };
        Next::L4(proto, off + hlen, end, false)
    }

    /// Bytes the wire carried from `off` on (the captured bytes when not cut).
    #[inline]
    fn wire_room(&self, off: usize) -> usize {
        // The captured length is the wire length unless `cut`; when cut, any length may be
        // true, so only the captured bytes bound nothing.
        if self.cut {
            usize::MAX
        } else {
            self.pkt.len().saturating_sub(off)
        }
    }

    fn ipv6(&mut self, off: usize) -> Next {
        let pkt = self.pkt;
        let Some(&v) = pkt.get(off) else {
            return self.cut_at(Layer::Ipv6, off);
        };
        if v >> 4 != 6 {
            if self.depth == 0 && !self.quoted {
                self.layer(Layer::Ipv6, off);
            }
            return if self.quoted {
                Next::Done
            } else {
                self.malformed(DropReason::IpInhdr)
            };
        }
        if pkt.len() < off + 40 {
            return self.cut_at(Layer::Ipv6, off);
        }
        let mut plen = usize::from(be16(pkt, off + 4).unwrap_or(0));
        if plen == 0 && !self.quoted {
            // A jumbogram, or a BIG TCP super-packet captured before the kernel inserted its
            // hop-by-hop jumbo header: the payload runs to the end of the frame.
            plen = pkt.len().saturating_sub(off + 40);
        }
        // ipv6_rcv: a payload length beyond the packet is PKT_TOO_SMALL.
        if !self.quoted && plen > self.wire_room(off + 40) {
            // Dropped by ipv6_rcv; dissected on over the bytes present.
            self.malformed(DropReason::PktTooSmall);
            plen = pkt.len().saturating_sub(off + 40);
        }
        if !self.layer(Layer::Ipv6, off) {
            return Next::Done;
        }
        self.note_l3(off, 6);
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&pkt[off + 8..off + 24]);
        dst.copy_from_slice(&pkt[off + 24..off + 40]);
        if self.outer() {
            *self.row.ttl() = pkt[off + 7];
            *self.row.src6() = src;
            *self.row.dst6() = dst;
        }
        let end = if self.quoted {
            pkt.len()
        } else {
            off + 40 + plen
        };
        self.ipv6_ext(pkt[off + 6], off + 40, end)
    }

    /// Walks IPv6 extension headers (RFC 8200 section 4) to the upper-layer protocol.
    fn ipv6_ext(&mut self, mut nh: u8, mut off: usize, end: usize) -> Next {
        let mut first = true;
        for _ in 0..MAX_EXT {
            let layer = match nh {
                // Hop-by-hop is only valid first (RFC 8200 section 4.1; ipv6_rcv drops it
                // elsewhere as a bad extension header).
                0 if !first => {
                    return self.malformed(DropReason::Ipv6BadExthdr);
                }
                0 => Layer::Ipv6HopOpts,
                43 => Layer::Ipv6Routing,
                44 => Layer::Ipv6Frag,
                60 => Layer::Ipv6DstOpts,
                51 => {
                    // AH: length in 4-byte units minus 2 (RFC 4302); skipped by length.
                    let Some(&len) = self.pkt.get(off + 1) else {
                        return self.short();
                    };
                    let next = self.pkt.get(off).copied().unwrap_or(59);
                    nh = next;
                    off += (usize::from(len) + 2) * 4;
                    first = false;
                    continue;
                }
                _ => return self.upper6(nh, off, end),
            };
            let (Some(&next), Some(&len)) = (self.pkt.get(off), self.pkt.get(off + 1)) else {
                return self.cut_at(layer, off);
            };
            let hlen = if nh == 44 {
                8
            } else {
                (usize::from(len) + 1) * 8
            };
            if off + hlen > end && !self.quoted {
                self.layer(layer, off);
                return self.malformed(DropReason::Ipv6BadExthdr);
            }
            // A full layer list stops recording, not the walk: the chain must still be checked.
            self.layer(layer, off);
            if nh == 44 {
                let Some(fo) = be16(self.pkt, off + 2) else {
                    return self.short();
                };
                let (offset, more) = (fo >> 3, fo & 1 != 0);
                if self.outer() {
                    *self.row.frag() = if offset != 0 { 2 } else { u8::from(more) };
                    *self.row.l4proto() = next;
                }
                if offset != 0 || more {
                    return Next::Done;
                }
            }
            nh = next;
            off += hlen;
            first = false;
        }
        // More extension headers than any real stack emits: treated as a loop.
        self.malformed(DropReason::Ipv6BadExthdr)
    }

    fn upper6(&mut self, nh: u8, off: usize, end: usize) -> Next {
        if self.outer() {
            *self.row.l4proto() = nh;
            *self.row.payload_len() = end.saturating_sub(off) as u32;
        } else if self.depth == 1 && !self.quoted && *self.row.inner_l4proto() == 0 {
            *self.row.inner_l4proto() = nh;
        }
        Next::L4(nh, off, end, true)
    }

    #[inline]
    fn note_l4(&mut self, off: usize, payload: usize, sport: u16, dport: u16) {
        if self.outer() {
            *self.row.l4_off() = u16::try_from(off).unwrap_or(NONE16);
            *self.row.payload_off() = u16::try_from(payload).unwrap_or(NONE16);
            *self.row.sport() = sport;
            *self.row.dport() = dport;
        } else if self.depth == 1 && !self.quoted && *self.row.inner_l4_off() == NONE16 {
            *self.row.inner_l4_off() = u16::try_from(off).unwrap_or(NONE16);
            *self.row.inner_sport() = sport;
            *self.row.inner_dport() = dport;
        }
    }

    #[inline]
    fn enter_tunnel(&mut self, kind: Layer, vni: u32) -> bool {
        if self.depth >= MAX_DEPTH {
            return false;
        }
        if self.depth == 0 && !self.quoted && *self.row.tunnel() == 0 {
            *self.row.tunnel() = kind as u8;
            *self.row.vni() = vni;
        }
        if !self.quoted {
            self.depth += 1;
        }
        true
    }

    #[allow(clippy::too_many_lines)] // one arm per transport protocol reads best in one place
    fn l4(&mut self, proto: u8, off: usize, end: usize, v6: bool) -> Next {
        let pkt = self.pkt;
        let room = end.saturating_sub(off);
        if room == 0 && !self.quoted {
            // An empty payload holds no transport header to dissect.
            return Next::Done;
        }
        match proto {
            6 => {
                // tcp_v4_rcv: data offset below 5 words or beyond the segment: PKT_TOO_SMALL.
                let need = if self.quoted { 8 } else { 20 };
                if room < need && !self.quoted {
                    self.layer(Layer::Tcp, off);
                    return self.malformed(DropReason::PktTooSmall);
                }
                if pkt.len() < off + need {
                    return self.cut_at(Layer::Tcp, off);
                }
                self.layer(Layer::Tcp, off);
                let (sport, dport) = (be16(pkt, off).unwrap_or(0), be16(pkt, off + 2).unwrap_or(0));
                if self.quoted {
                    return Next::Done;
                }
                let doff = usize::from(pkt[off + 12] >> 4) * 4;
                if doff < 20 || doff > room {
                    return self.malformed(DropReason::PktTooSmall);
                }
                self.note_l4(off, off + doff, sport, dport);
                if self.outer() {
                    *self.row.seq() = be32(pkt, off + 4).unwrap_or(0);
                    *self.row.ack() = be32(pkt, off + 8).unwrap_or(0);
                    *self.row.tcp_flags() =
                        u16::from(pkt[off + 13]) | (u16::from(pkt[off + 12] & 0x01) << 8);
                    *self.row.window() = be16(pkt, off + 14).unwrap_or(0);
                    *self.row.payload_len() = (room - doff) as u32;
                }
                if pkt.len() < off + doff {
                    return self.short();
                }
                Next::Done
            }
            17 => {
                if room < 8 && !self.quoted {
                    self.layer(Layer::Udp, off);
                    return self.malformed(DropReason::PktTooSmall);
                }
                if pkt.len() < off + 8 {
                    return self.cut_at(Layer::Udp, off);
                }
                self.layer(Layer::Udp, off);
                let (sport, dport) = (be16(pkt, off).unwrap_or(0), be16(pkt, off + 2).unwrap_or(0));
                if self.quoted {
                    return Next::Done;
                }
                let ulen = usize::from(be16(pkt, off + 4).unwrap_or(0));
                // __udp4_lib_rcv: a length below the header or beyond the IP payload is a
                // short packet (PKT_TOO_SMALL); a shorter one trims the IP payload.
                if ulen < 8 || ulen > room {
                    return self.malformed(DropReason::PktTooSmall);
                }
                self.note_l4(off, off + 8, sport, dport);
                if self.outer() {
                    *self.row.payload_len() = (ulen - 8) as u32;
                }
                let end = off + ulen;
                match self.tables.encap(dport) {
                    Some(Encap::Vxlan) => self.vxlan(off + 8, end),
                    Some(Encap::Geneve) => self.geneve(off + 8, end),
                    None => Next::Done,
                }
            }
            1 | 58 => {
                let layer = if proto == 1 {
                    Layer::Icmp
                } else {
                    Layer::Icmpv6
                };
                if room < 4 && !self.quoted {
                    self.layer(layer, off);
                    return self.malformed(DropReason::PktTooSmall);
                }
                if pkt.len() < off + 4 {
                    return self.cut_at(layer, off);
                }
                self.layer(layer, off);
                if self.quoted {
                    return Next::Done;
                }
                let ty = pkt[off];
                self.note_l4(off, off + 8, 0, 0);
                if self.outer() {
                    *self.row.payload_len() = room.saturating_sub(8) as u32;
                }
                // Error messages quote the invoking datagram after 8 bytes (RFC 792, RFC 4443).
                let error = if proto == 1 {
                    matches!(ty, 3 | 4 | 5 | 11 | 12)
                } else {
                    matches!(ty, 1..=4)
                };
                if error && pkt.len() > off + 8 && self.depth < MAX_DEPTH {
                    self.quoted = true;
                    return if proto == 1 {
                        Next::Ipv4(off + 8)
                    } else {
                        Next::Ipv6(off + 8)
                    };
                }
                Next::Done
            }
            132 => {
                let need = if self.quoted { 8 } else { 12 };
                if room < need && !self.quoted {
                    self.layer(Layer::Sctp, off);
                    return self.malformed(DropReason::PktTooSmall);
                }
                if pkt.len() < off + need {
                    return self.cut_at(Layer::Sctp, off);
                }
                self.layer(Layer::Sctp, off);
                let (sport, dport) = (be16(pkt, off).unwrap_or(0), be16(pkt, off + 2).unwrap_or(0));
                self.note_l4(off, off + 12, sport, dport);
                if self.outer() {
                    *self.row.payload_len() = room.saturating_sub(12) as u32;
                }
                Next::Done
            }
            47 => self.gre(off, end),
            51 => {
                // AH over IPv4 (RFC 4302): skipped by its length, like an IPv6 extension
                // header, to the protocol it protects.
                let (Some(&next), Some(&len)) = (pkt.get(off), pkt.get(off + 1)) else {
                    return self.short();
                };
                let hlen = (usize::from(len) + 2) * 4;
                if off + hlen > end {
                    return self.malformed(DropReason::PktTooSmall);
                }
                if self.outer() {
                    *self.row.l4proto() = next;
                }
                Next::L4(next, off + hlen, end, v6)
            }
            143 => {
                // Ethernet directly over IPv6 (RFC 8986 "End.DX2"): an encapsulated frame.
                if self.quoted || !self.enter_tunnel(Layer::Ipv6, 0) {
                    return Next::Done;
                }
                Next::Ether(off)
            }
            4 | 41 => {
                // IP in IP (RFC 2003) and IPv6 in IP (RFC 4213): the payload is the packet.
                let kind = if proto == 4 { Layer::Ipv4 } else { Layer::Ipv6 };
                if self.quoted || !self.enter_tunnel(kind, 0) {
                    return Next::Done;
                }
                if proto == 4 {
                    Next::Ipv4(off)
                } else {
                    Next::Ipv6(off)
                }
            }
            _ => Next::Done,
        }
    }

    fn gre(&mut self, off: usize, end: usize) -> Next {
        let pkt = self.pkt;
        let (Some(flags), Some(proto)) = (be16(pkt, off), be16(pkt, off + 2)) else {
            return self.cut_at(Layer::Gre, off);
        };
        if !self.layer(Layer::Gre, off) || self.quoted {
            return Next::Done;
        }
        let version = flags & 0x7;
        // RFC 2784/2890 (version 0): C, K, S bits add 4 bytes each; version 1 is PPTP's
        // enhanced GRE (RFC 2637) with a mandatory key and optional sequence and ack numbers.
        let mut hlen = 4;
        let mut key = 0;
        if flags & 0x8000 != 0 {
            hlen += 4;
        }
        if flags & 0x2000 != 0 {
            key = be32(pkt, off + hlen).unwrap_or(0);
            hlen += 4;
        }
        if flags & 0x1000 != 0 {
            hlen += 4;
        }
        if version == 1 && flags & 0x0080 != 0 {
            hlen += 4;
        }
        if version > 1 {
            return self.malformed(DropReason::GreInvalidHdr);
        }
        if off + hlen > end {
            return self.malformed(DropReason::PktTooSmall);
        }
        if pkt.len() < off + hlen {
            return self.cut_at(Layer::Gre, off);
        }
        self.note_l4(off, off + hlen, 0, 0);
        let inner = off + hlen;
        match proto {
            0x0800 | 0x86dd | 0x6558 | 0x8847 if self.enter_tunnel(Layer::Gre, key) => {
                match proto {
                    0x6558 => Next::Ether(inner),
                    t => Next::EtherType(t, inner),
                }
            }
            _ => Next::Done,
        }
    }

    fn vxlan(&mut self, off: usize, end: usize) -> Next {
        if end < off + 8 {
            return self.malformed(DropReason::VxlanInvalidHdr);
        }
        let Some(word) = be32(self.pkt, off) else {
            return self.cut_at(Layer::Vxlan, off);
        };
        let Some(vni) = be32(self.pkt, off + 4) else {
            return self.cut_at(Layer::Vxlan, off);
        };
        self.layer(Layer::Vxlan, off);
        // RFC 7348: the I flag must be set for a valid VNI (vxlan_rcv drops otherwise).
        if word & 0x0800_0000 == 0 {
            return self.malformed(DropReason::VxlanInvalidHdr);
        }
        if !self.enter_tunnel(Layer::Vxlan, vni >> 8) {
            return Next::Done;
        }
        Next::Ether(off + 8)
    }

    fn geneve(&mut self, off: usize, end: usize) -> Next {
        let pkt = self.pkt;
        let (Some(&b0), Some(proto), Some(vni)) =
            (pkt.get(off), be16(pkt, off + 2), be32(pkt, off + 4))
        else {
            return self.cut_at(Layer::Geneve, off);
        };
        let hlen = 8 + usize::from(b0 & 0x3f) * 4;
        self.layer(Layer::Geneve, off);
        // RFC 8926: version 0 only; options must fit in the datagram.
        if b0 >> 6 != 0 || off + hlen > end {
            return self.malformed(DropReason::GeneveInvalidHdr);
        }
        if pkt.len() < off + hlen {
            return self.cut_at(Layer::Geneve, off);
        }
        if !self.enter_tunnel(Layer::Geneve, vni >> 8) {
            return Next::Done;
        }
        match proto {
            0x6558 => Next::Ether(off + hlen),
            t => Next::EtherType(t, off + hlen),
        }
    }
}

/// What [`dissect_plain`] reads of a plain packet before writing any of it.
struct Plain<'a> {
    /// VLAN ID of the one 802.1Q tag.
    vlan: Option<u16>,
    ethertype: u16,
    ip: PlainIp<'a>,
    l4: PlainL4,
    tunnel: Option<PlainTunnel<'a>>,
}

/// The network layer of a plain packet.
struct PlainIp<'a> {
    /// Offset of the header, which is `hdr` (IPv4: 20 bytes and more, IPv6: 40).
    l3: usize,
    hdr: &'a [u8],
    v6: bool,
    proto: u8,
    /// Offset of the transport header, and the end of the IP payload.
    l4: usize,
    end: usize,
}

impl PlainIp<'_> {
    fn layer(&self) -> Layer {
        if self.v6 { Layer::Ipv6 } else { Layer::Ipv4 }
    }
}

/// The transport layer of a plain packet: TCP, UDP, or the GRE header of a tunnel.
struct PlainL4 {
    layer: Layer,
    /// Offset of the payload; source and destination ports; payload length.
    payload: usize,
    ports: (u16, u16),
    payload_len: u32,
    /// TCP sequence, acknowledgement, flags and window.
    tcp: Option<(u32, u32, u16, u16)>,
}

/// One VXLAN, Geneve or GRE tunnel and the plain packet it carries.
struct PlainTunnel<'a> {
    kind: Layer,
    /// Offset of the VXLAN or Geneve header (GRE's is the outer transport layer).
    shim: Option<usize>,
    /// Network identifier, or GRE key.
    vni: u32,
    /// Offset of the inner Ethernet header, if the tunnel carries frames.
    eth: Option<usize>,
    ethertype: u16,
    ip: PlainIp<'a>,
    l4: PlainL4,
}

/// Dissects the common packet straight into a row of columns that holds the defaults of
/// [`Row`]: Ethernet, at most one 802.1Q tag, IPv4 (not a fragment) or IPv6 without extension
/// headers, TCP or UDP — or one VXLAN, Geneve or GRE tunnel carrying such a packet (without
/// a tag) — every length consistent and every byte captured. Returns false, having written
/// nothing, for any other packet (then the general walker takes it). For the packets it takes
/// it writes what [`dissect`] gives, which a test checks on mutated packets.
#[inline]
pub(super) fn dissect_plain(
    pkt: &[u8],
    wirelen: u32,
    linktype: u16,
    tables: &Tables,
    row: &mut ColumnsRow<'_>,
) -> bool {
    // Cut packets, oversized ones (offsets beyond u16) and other link types take the walker.
    if LinkType(linktype) != LinkType::ETHERNET
        || pkt.len() as u64 != u64::from(wirelen)
        || pkt.len() >= usize::from(NONE16)
    {
        return false;
    }
    let Some(p) = read_plain(pkt, tables) else {
        return false;
    };
    let (cols, i) = (&mut *row.cols, row.i);
    let mut n = 0;
    let mut layer = |l: Layer, off: usize| {
        cols.layers[i][n] = l as u8;
        cols.layer_off[i][n] = off as u16;
        n += 1;
    };
    layer(Layer::Ethernet, 0);
    if p.vlan.is_some() {
        layer(Layer::Vlan, 14);
    }
    layer(p.ip.layer(), p.ip.l3);
    layer(p.l4.layer, p.ip.l4);
    if let Some(t) = &p.tunnel {
        if let Some(shim) = t.shim {
            layer(t.kind, shim);
        }
        if let Some(eth) = t.eth {
            layer(Layer::Ethernet, eth);
        }
        layer(t.ip.layer(), t.ip.l3);
        layer(t.l4.layer, t.ip.l4);
    }
    cols.nlayers[i] = n as u8;
    if let Some(vlan) = p.vlan {
        cols.vlan[i] = vlan;
        cols.vlan_depth[i] = 1;
    }
    cols.ethertype[i] = p.ethertype;
    cols.l3_off[i] = p.ip.l3 as u16;
    let h = p.ip.hdr;
    if p.ip.v6 {
        cols.ip_version[i] = 6;
        cols.ttl[i] = h[7];
        cols.src6[i].copy_from_slice(&h[8..24]);
        cols.dst6[i].copy_from_slice(&h[24..40]);
    } else {
        cols.ip_version[i] = 4;
        cols.ttl[i] = h[8];
        cols.src4[i] = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
        cols.dst4[i] = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
    }
    cols.l4proto[i] = p.ip.proto;
    cols.l4_off[i] = p.ip.l4 as u16;
    cols.payload_off[i] = p.l4.payload as u16;
    (cols.sport[i], cols.dport[i]) = p.l4.ports;
    cols.payload_len[i] = p.l4.payload_len;
    if let Some((seq, ack, flags, window)) = p.l4.tcp {
        cols.seq[i] = seq;
        cols.ack[i] = ack;
        cols.tcp_flags[i] = flags;
        cols.window[i] = window;
    }
    if let Some(t) = &p.tunnel {
        cols.tunnel[i] = t.kind as u8;
        cols.vni[i] = t.vni;
        cols.inner_ethertype[i] = t.ethertype;
        cols.inner_l3_off[i] = t.ip.l3 as u16;
        cols.inner_l4proto[i] = t.ip.proto;
        if !t.ip.v6 {
            let h = t.ip.hdr;
            cols.inner_src4[i] = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
            cols.inner_dst4[i] = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
        }
        cols.inner_l4_off[i] = t.ip.l4 as u16;
        (cols.inner_sport[i], cols.inner_dport[i]) = t.l4.ports;
    }
    true
}

/// Reads a plain packet (see [`dissect_plain`]), or `None` for any other.
#[inline]
fn read_plain<'a>(pkt: &'a [u8], tables: &Tables) -> Option<Plain<'a>> {
    let eth = pkt.first_chunk::<18>()?;
    let mut ethertype = u16::from_be_bytes([eth[12], eth[13]]);
    let (mut vlan, mut l3) = (None, 14);
    if ethertype == 0x8100 {
        // One 802.1Q tag, whose VLAN ID the outer packet records.
        vlan = Some(u16::from_be_bytes([eth[14], eth[15]]) & 0x0fff);
        ethertype = u16::from_be_bytes([eth[16], eth[17]]);
        l3 = 18;
    }
    let ip = plain_ip(pkt, ethertype, l3)?;
    if ip.proto == 47 {
        let (l4, tunnel) = plain_gre(pkt, &ip, tables)?;
        return Some(Plain {
            vlan,
            ethertype,
            ip,
            l4,
            tunnel: Some(tunnel),
        });
    }
    let l4 = plain_l4(pkt, &ip)?;
    let tunnel = match (l4.layer, tables.encap(l4.ports.1)) {
        (Layer::Udp, Some(encap)) => Some(plain_udp_tunnel(pkt, &ip, encap, tables)?),
        _ => None,
    };
    Some(Plain {
        vlan,
        ethertype,
        ip,
        l4,
        tunnel,
    })
}

/// The network layer selected by `ethertype`: IPv4 or IPv6 of a plain packet.
#[inline]
fn plain_ip(pkt: &[u8], ethertype: u16, off: usize) -> Option<PlainIp<'_>> {
    match ethertype {
        0x0800 => plain_ipv4(pkt, off),
        0x86dd => plain_ipv6(pkt, off),
        _ => None,
    }
}

/// A TCP or UDP header of a plain packet, with the checks of `tcp_v4_rcv` (data offset) and
/// `__udp4_lib_rcv` (length).
#[inline]
fn plain_l4(pkt: &[u8], ip: &PlainIp<'_>) -> Option<PlainL4> {
    let (off, room) = (ip.l4, ip.end - ip.l4);
    let h = pkt.get(off..)?;
    match ip.proto {
        6 => {
            let h = h.first_chunk::<20>()?;
            let doff = usize::from(h[12] >> 4) * 4;
            if room < 20 || doff < 20 || doff > room {
                return None;
            }
            Some(PlainL4 {
                layer: Layer::Tcp,
                payload: off + doff,
                ports: (
                    u16::from_be_bytes([h[0], h[1]]),
                    u16::from_be_bytes([h[2], h[3]]),
                ),
                payload_len: (room - doff) as u32,
                tcp: Some((
                    u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
                    u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
                    u16::from(h[13]) | (u16::from(h[12] & 0x01) << 8),
                    u16::from_be_bytes([h[14], h[15]]),
                )),
            })
        }
        17 => {
            let h = h.first_chunk::<8>()?;
            let ulen = usize::from(u16::from_be_bytes([h[4], h[5]]));
            if room < 8 || ulen < 8 || ulen > room {
                return None;
            }
            Some(PlainL4 {
                layer: Layer::Udp,
                payload: off + 8,
                ports: (
                    u16::from_be_bytes([h[0], h[1]]),
                    u16::from_be_bytes([h[2], h[3]]),
                ),
                payload_len: (ulen - 8) as u32,
                tcp: None,
            })
        }
        _ => None,
    }
}

/// The VXLAN or Geneve header of a plain tunnel (`vxlan_rcv`: the I flag; RFC 8926: version
/// 0, options within the datagram) and the packet it carries.
#[inline]
fn plain_udp_tunnel<'a>(
    pkt: &'a [u8],
    ip: &PlainIp<'_>,
    encap: Encap,
    tables: &Tables,
) -> Option<PlainTunnel<'a>> {
    let shim = ip.l4 + 8;
    let end = ip.l4 + usize::from(u16::from_be_bytes([pkt[ip.l4 + 4], pkt[ip.l4 + 5]]));
    let h = pkt.get(shim..end)?.first_chunk::<8>()?;
    let vni = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) >> 8;
    let (kind, inner, proto) = match encap {
        Encap::Vxlan => {
            if h[0] & 0x08 == 0 {
                return None;
            }
            (Layer::Vxlan, shim + 8, 0x6558)
        }
        Encap::Geneve => {
            let hlen = 8 + usize::from(h[0] & 0x3f) * 4;
            if h[0] >> 6 != 0 || shim + hlen > end {
                return None;
            }
            (Layer::Geneve, shim + hlen, u16::from_be_bytes([h[2], h[3]]))
        }
    };
    plain_inner(pkt, kind, Some(shim), vni, proto, inner, tables)
}

/// The GRE header of a plain tunnel (version 0, RFC 2784/2890) as the outer transport layer,
/// and the packet it carries.
#[inline]
fn plain_gre<'a>(
    pkt: &'a [u8],
    ip: &PlainIp<'_>,
    tables: &Tables,
) -> Option<(PlainL4, PlainTunnel<'a>)> {
    let off = ip.l4;
    let h = pkt.get(off..ip.end)?.first_chunk::<4>()?;
    let flags = u16::from_be_bytes([h[0], h[1]]);
    if flags & 0x7 != 0 {
        return None;
    }
    // Checksum, key and sequence number add 4 bytes each; the key follows the checksum.
    let csum = usize::from(flags & 0x8000 != 0) * 4;
    let keyed = flags & 0x2000 != 0;
    let hlen = 4 + csum + usize::from(keyed) * 4 + usize::from(flags & 0x1000 != 0) * 4;
    if off + hlen > ip.end {
        return None;
    }
    let key = if keyed {
        let k = pkt.get(off + 4 + csum..)?.first_chunk::<4>()?;
        u32::from_be_bytes(*k)
    } else {
        0
    };
    let l4 = PlainL4 {
        layer: Layer::Gre,
        payload: off + hlen,
        ports: (0, 0),
        payload_len: (ip.end - off) as u32,
        tcp: None,
    };
    let proto = u16::from_be_bytes([h[2], h[3]]);
    let tunnel = plain_inner(pkt, Layer::Gre, None, key, proto, off + hlen, tables)?;
    Some((l4, tunnel))
}

/// The plain packet a tunnel carries at `off`: an Ethernet frame (`proto` 0x6558) without a
/// tag, or an IP packet, then TCP or UDP that is not a tunnel again.
#[inline]
fn plain_inner<'a>(
    pkt: &'a [u8],
    kind: Layer,
    shim: Option<usize>,
    vni: u32,
    proto: u16,
    off: usize,
    tables: &Tables,
) -> Option<PlainTunnel<'a>> {
    let (eth, ethertype, l3) = if proto == 0x6558 {
        let e = pkt.get(off..)?.first_chunk::<14>()?;
        (Some(off), u16::from_be_bytes([e[12], e[13]]), off + 14)
    } else {
        (None, proto, off)
    };
    let ip = plain_ip(pkt, ethertype, l3)?;
    let l4 = plain_l4(pkt, &ip)?;
    if l4.layer == Layer::Udp && tables.encap(l4.ports.1).is_some() {
        return None;
    }
    Some(PlainTunnel {
        kind,
        shim,
        vni,
        eth,
        ethertype,
        ip,
        l4,
    })
}

/// An IPv4 header of a plain packet: `ip_rcv_core`'s version, header and total length checks
/// passed, not a fragment.
#[inline]
fn plain_ipv4(pkt: &[u8], off: usize) -> Option<PlainIp<'_>> {
    let h = pkt.get(off..)?.first_chunk::<20>()?;
    let hlen = usize::from(h[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    // A zero total length (TSO), fragments and everything the walker marks go its way.
    if h[0] >> 4 != 4
        || hlen < 20
        || total < hlen
        || total > pkt.len() - off
        || u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0
    {
        return None;
    }
    Some(PlainIp {
        l3: off,
        hdr: h,
        v6: false,
        proto: h[9],
        l4: off + hlen,
        end: off + total,
    })
}

/// An IPv6 header of a plain packet: `ipv6_rcv`'s length check passed, TCP, UDP or GRE next.
#[inline]
fn plain_ipv6(pkt: &[u8], off: usize) -> Option<PlainIp<'_>> {
    let h = pkt.get(off..)?.first_chunk::<40>()?;
    let plen = usize::from(u16::from_be_bytes([h[4], h[5]]));
    // A zero payload length (jumbogram, BIG TCP) and extension headers go the walker's way.
    if h[0] >> 4 != 6 || plen == 0 || plen > pkt.len() - off - 40 || !matches!(h[6], 6 | 17 | 47) {
        return None;
    }
    Some(PlainIp {
        l3: off,
        hdr: h,
        v6: true,
        proto: h[6],
        l4: off + 40,
        end: off + 40 + plen,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::demux::Columns;

    /// A plain frame: Ethernet, an optional 802.1Q tag, IPv4 or IPv6, TCP or UDP, payload.
    pub(in crate::demux) fn frame(vlan: bool, v6: bool, tcp: bool, payload: usize) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        if vlan {
            f.extend([0x81, 0x00, 0x20, 0x07]);
        }
        f.extend(if v6 { [0x86, 0xdd] } else { [0x08, 0x00] });
        let l4_len = if tcp { 20 } else { 8 } + payload;
        let proto = if tcp { 6 } else { 17 };
        if v6 {
            f.extend([0x60, 0, 0, 0]);
            f.extend((l4_len as u16).to_be_bytes());
            f.extend([proto, 64]);
            f.extend((0..32).map(|k| k as u8));
        } else {
            f.extend([0x45, 0]);
            f.extend((20 + l4_len as u16).to_be_bytes());
            f.extend([0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        }
        if tcp {
            f.extend([
                0x30, 0x39, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x18, 0x20, 0,
            ]);
            f.extend([0, 0, 0, 0]);
        } else {
            f.extend([0x30, 0x39, 0x00, 0x35]);
            f.extend((l4_len as u16).to_be_bytes());
            f.extend([0, 0]);
        }
        f.extend((0..payload).map(|k| k as u8));
        f
    }

    /// A frame carrying `inner` (an Ethernet frame when `proto` is 0x6558, else an IP packet)
    /// in a tunnel: VXLAN (`kind` 0), Geneve with one option (1) or keyed GRE (2), over IPv4 or
    /// IPv6 and an optional 802.1Q tag.
    fn tunnel(kind: u8, vlan: bool, v6: bool, proto: u16, inner: &[u8]) -> Vec<u8> {
        let mut carried = match kind {
            0 => vec![0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0],
            1 => [[1, 0], proto.to_be_bytes(), [0xab, 0xcd], [0xef, 0]].concat(),
            _ => [[0x20, 0], proto.to_be_bytes(), [0, 0], [0, 7]].concat(),
        };
        if kind == 1 {
            carried.extend([1, 3, 0x80, 1]);
        }
        carried.extend(inner);
        let mut l4 = carried;
        if kind != 2 {
            let port: u16 = if kind == 0 { 4789 } else { 6081 };
            let mut udp = [[0xc0, 0x01], port.to_be_bytes()].concat();
            udp.extend((8 + l4.len() as u16).to_be_bytes());
            udp.extend([0, 0]);
            udp.extend(l4);
            l4 = udp;
        }
        let proto = if kind == 2 { 47 } else { 17 };
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        if vlan {
            f.extend([0x81, 0x00, 0x00, 0x64]);
        }
        if v6 {
            f.extend([0x86, 0xdd, 0x60, 0, 0, 0]);
            f.extend((l4.len() as u16).to_be_bytes());
            f.extend([proto, 64]);
            f.extend((0..32).map(|k| 0x80 | k as u8));
        } else {
            f.extend([0x08, 0x00, 0x45, 0]);
            f.extend((20 + l4.len() as u16).to_be_bytes());
            f.extend([
                0, 1, 0x40, 0, 64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2,
            ]);
        }
        f.extend(l4);
        f
    }

    /// Plain frames of every shape the fast path takes.
    fn shapes() -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for shape in 0..8 {
            let (vlan, v6, tcp) = (shape & 1 != 0, shape & 2 != 0, shape & 4 != 0);
            out.push(frame(vlan, v6, tcp, 10));
            for kind in 0..3 {
                let inner = frame(false, !v6, tcp, 6);
                out.push(tunnel(kind, vlan, v6, 0x6558, &inner));
                if kind != 0 {
                    let ethertype = if v6 { 0x0800 } else { 0x86dd };
                    out.push(tunnel(kind, vlan, v6, ethertype, &inner[14..]));
                }
            }
        }
        out
    }

    /// Row 0 as `dissect_batch` fills it, and whether the fast path took the packet.
    fn batch_row(pkt: &[u8], wirelen: u32, tables: &Tables) -> (Row, bool) {
        let mut cols = Columns::with_defaults(1);
        let mut row = ColumnsRow::new(&mut cols, 0).unwrap();
        let fast = dissect_plain(pkt, wirelen, 1, tables, &mut row);
        if !fast {
            dissect_into(pkt, wirelen, 1, tables, row);
        }
        (cols.row(0).unwrap_or_default(), fast)
    }

    #[test]
    fn columns_equal_the_walker_on_mutated_plain_packets() {
        let tables = Tables::new();
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let (mut compared, mut fast_taken) = (0, 0);
        for base in shapes() {
            let wire = base.len() as u32;
            assert!(batch_row(&base, wire, &tables).1, "{base:02x?}");
            let mut check = |pkt: &[u8], wirelen: u32| {
                let (row, fast) = batch_row(pkt, wirelen, &tables);
                assert_eq!(
                    row,
                    dissect(pkt, wirelen, 1, &tables),
                    "{pkt:02x?} ({wirelen})"
                );
                compared += 1;
                fast_taken += usize::from(fast);
            };
            check(&base, wire);
            check(&base, wire + 1);
            for len in 0..base.len() {
                check(&base[..len], len as u32);
                check(&base[..len], wire);
            }
            for at in 0..base.len() {
                for v in [0, 1, 4, 5, 6, 0x11, 0x3f, 0x40, 0x81, 0xff, base[at] ^ 0x20] {
                    let mut p = base.clone();
                    p[at] = v;
                    check(&p, wire);
                }
            }
            for _ in 0..4_000 {
                let mut p = base.clone();
                for _ in 0..=next() % 3 {
                    let at = (next() % p.len() as u64) as usize;
                    p[at] = next() as u8;
                }
                p.truncate(p.len() - (next() % 4) as usize);
                check(&p, wire);
            }
        }
        // Both paths ran: the fast one on the intact packets, the walker on the broken ones.
        assert!(
            fast_taken > 1000 && fast_taken < compared,
            "{fast_taken} of {compared}"
        );
    }

    #[test]
    fn tunnels_fill_the_inner_columns_and_odd_ones_take_the_walker() {
        let tables = Tables::new();
        let inner = frame(false, false, true, 6);
        let f = tunnel(0, true, true, 0x6558, &inner);
        let (row, fast) = batch_row(&f, f.len() as u32, &tables);
        assert!(fast);
        assert_eq!(row.tunnel, Layer::Vxlan as u8);
        assert_eq!(
            (row.vni, row.vlan, row.inner_ethertype),
            (0x12_3456, 100, 0x0800)
        );
        assert_eq!(
            (row.inner_src4, row.inner_sport, row.inner_dport),
            (0x0a00_0001, 12345, 443)
        );
        // VXLAN without its I flag, and a tunnel in a tunnel: the walker's.
        let mut no_flag = f.clone();
        no_flag[18 + 40 + 8] = 0;
        let nested = tunnel(0, false, false, 0x6558, &f);
        for p in [no_flag, nested] {
            let (row, fast) = batch_row(&p, p.len() as u32, &tables);
            assert!(!fast);
            assert_eq!(row, dissect(&p, p.len() as u32, 1, &tables));
        }
    }
}
