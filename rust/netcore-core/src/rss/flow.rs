//! Finding the fields RSS hashes in a raw frame, the way a NIC's parser does.
//!
//! The walk is bounded and never panics: Ethernet with up to [`MAX_VLAN_TAGS`] 802.1Q/802.1ad
//! tags (or a raw-IP, Linux cooked or BSD loopback link header), then IPv4 or IPv6 with up to
//! [`MAX_EXT_HEADERS`] extension headers skipped. Ports are read for TCP, UDP and SCTP unless the
//! packet is a fragment (first fragments included, as the kernel's flow dissector does for
//! `skb_get_hash`: only the IP addresses are common to all fragments of a datagram). With `inner`
//! set, the inner headers of one level of VXLAN (UDP 4789), Geneve (UDP 6081), IPv4-in-IP or
//! IPv6-in-IP are hashed instead; a tunnel whose inner headers cannot be parsed hashes outer.

use crate::capture::LinkType;

/// Most VLAN tags skipped before the network header.
pub const MAX_VLAN_TAGS: usize = 4;
/// Most IPv6 extension headers skipped before giving up on finding the ports.
pub const MAX_EXT_HEADERS: usize = 8;

const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const ETH_P_TEB: u16 = 0x6558;
const VXLAN_PORT: u16 = 4789;
const GENEVE_PORT: u16 = 6081;
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_IPV6: u8 = 41;
const IPPROTO_SCTP: u8 = 132;

/// The fields of one packet that RSS may hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    /// IPv6 (addresses use all 16 bytes) or IPv4 (the first 4).
    pub ipv6: bool,
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Transport protocol (the last next-header for IPv6).
    pub proto: u8,
    /// Source and destination ports, when the packet is not a fragment and they were captured.
    pub ports: Option<(u16, u16)>,
}

impl FlowKey {
    /// Bytes of each address.
    #[must_use]
    pub fn addr_len(&self) -> usize {
        if self.ipv6 { 16 } else { 4 }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The flow key of `frame`, or `None` when it holds no IP packet (the NIC then does not hash).
#[must_use]
pub fn flow_key(frame: &[u8], linktype: LinkType, inner: bool) -> Option<FlowKey> {
    let (ethertype, off) = link_payload(frame, linktype)?;
    network(frame, ethertype, off, inner)
}

/// Ethertype and offset of the network header after the link header.
fn link_payload(frame: &[u8], linktype: LinkType) -> Option<(u16, usize)> {
    let (ethertype, off) = match linktype.0 {
        1 => (be16(frame, 12)?, 14),
        // DLT_RAW under all its numbers: the version nibble says which IP.
        12 | 14 | 101 => (ip_version_ethertype(*frame.first()?)?, 0),
        228 => (ETH_P_IP, 0),
        229 => (ETH_P_IPV6, 0),
        113 => (be16(frame, 14)?, 16),
        276 => (be16(frame, 0)?, 20),
        // BSD loopback: the family is in the capturing host's byte order, so try both.
        0 | 108 => {
            let raw: [u8; 4] = frame.get(..4)?.try_into().ok()?;
            let family = if linktype.0 == 108 {
                u32::from_be_bytes(raw)
            } else {
                u32::from_le_bytes(raw).min(u32::from_be_bytes(raw))
            };
            let ethertype = match family {
                2 => ETH_P_IP,
                // AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
                10 | 24 | 28 | 30 => ETH_P_IPV6,
                _ => return None,
            };
            (ethertype, 4)
        }
        _ => return None,
    };
    skip_vlans(frame, ethertype, off)
}

fn ip_version_ethertype(first: u8) -> Option<u16> {
    match first >> 4 {
        4 => Some(ETH_P_IP),
        6 => Some(ETH_P_IPV6),
        _ => None,
    }
}

/// Skips 802.1Q (0x8100), 802.1ad (0x88a8) and the old QinQ (0x9100) tags.
fn skip_vlans(frame: &[u8], mut ethertype: u16, mut off: usize) -> Option<(u16, usize)> {
    for _ in 0..MAX_VLAN_TAGS {
        if !matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
            break;
        }
        ethertype = be16(frame, off + 2)?;
        off += 4;
    }
    Some((ethertype, off))
}

/// Parses the IP header at `off`, then a tunnel's inner headers when `inner` asks for them.
fn network(frame: &[u8], ethertype: u16, off: usize, inner: bool) -> Option<FlowKey> {
    let (mut key, l4, fragment) = match ethertype {
        ETH_P_IP => ipv4(frame, off)?,
        ETH_P_IPV6 => ipv6(frame, off)?,
        _ => return None,
    };
    if fragment {
        return Some(key);
    }
    if inner {
        if let Some(inner_key) = tunnel_inner(frame, key.proto, l4) {
            return Some(inner_key);
        }
    }
    if matches!(key.proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) {
        key.ports = be16(frame, l4).zip(be16(frame, l4 + 2));
    }
    Some(key)
}

/// An IPv4 header: the key (without ports), the L4 offset and whether it is a fragment.
fn ipv4(frame: &[u8], off: usize) -> Option<(FlowKey, usize, bool)> {
    let h = frame.get(off..off + 20)?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if h[0] >> 4 != 4 || ihl < 20 || frame.len() < off + ihl {
        return None;
    }
    // More-fragments set or a non-zero offset: any fragment (ip_is_fragment).
    let fragment = u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0;
    let mut key = FlowKey {
        ipv6: false,
        src: [0; 16],
        dst: [0; 16],
        proto: h[9],
        ports: None,
    };
    key.src[..4].copy_from_slice(&h[12..16]);
    key.dst[..4].copy_from_slice(&h[16..20]);
    Some((key, off + ihl, fragment))
}

/// An IPv6 header and its extension headers: the key (without ports), the L4 offset and whether
/// a fragment header made it a fragment.
fn ipv6(frame: &[u8], off: usize) -> Option<(FlowKey, usize, bool)> {
    let h = frame.get(off..off + 40)?;
    if h[0] >> 4 != 6 {
        return None;
    }
    let mut key = FlowKey {
        ipv6: true,
        src: h[8..24].try_into().ok()?,
        dst: h[24..40].try_into().ok()?,
        proto: h[6],
        ports: None,
    };
    let mut l4 = off + 40;
    let mut fragment = false;
    for _ in 0..MAX_EXT_HEADERS {
        let len = match key.proto {
            // Hop-by-hop, routing, destination options: 8-byte units past the first 8.
            0 | 43 | 60 => frame.get(l4 + 1).map(|&n| (usize::from(n) + 1) * 8),
            // Authentication header: 4-byte units past the first 8 (RFC 4302).
            51 => frame.get(l4 + 1).map(|&n| (usize::from(n) + 2) * 4),
            // Fragment header: any fragment has a non-zero offset or the M flag.
            44 => {
                fragment |= be16(frame, l4 + 2).is_none_or(|v| v & 0xfff9 != 0);
                Some(8)
            }
            _ => break,
        };
        let (Some(len), Some(&next)) = (len, frame.get(l4)) else {
            // Cut short inside the chain: hash the addresses only.
            fragment = true;
            break;
        };
        key.proto = next;
        l4 += len;
    }
    Some((key, l4, fragment))
}

/// The key of a tunnel's inner packet, if `proto` at `l4` starts a tunnel netcore knows.
fn tunnel_inner(frame: &[u8], proto: u8, l4: usize) -> Option<FlowKey> {
    match proto {
        IPPROTO_IPIP => network(frame, ETH_P_IP, l4, false),
        IPPROTO_IPV6 => network(frame, ETH_P_IPV6, l4, false),
        IPPROTO_UDP => match be16(frame, l4 + 2)? {
            VXLAN_PORT => {
                let (ethertype, off) = skip_vlans(frame, be16(frame, l4 + 16 + 12)?, l4 + 30)?;
                network(frame, ethertype, off, false)
            }
            GENEVE_PORT => {
                let g = l4 + 8;
                let first = *frame.get(g)?;
                if first >> 6 != 0 {
                    return None; // Unknown Geneve version.
                }
                let payload = g + 8 + usize::from(first & 0x3f) * 4;
                match be16(frame, g + 2)? {
                    ETH_P_TEB => {
                        let (ethertype, off) =
                            skip_vlans(frame, be16(frame, payload + 12)?, payload + 14)?;
                        network(frame, ethertype, off, false)
                    }
                    ethertype => network(frame, ethertype, payload, false),
                }
            }
            _ => None,
        },
        _ => None,
    }
}
