//! Receive-side sanity checks of IPv4 and IPv6 packets (`ip_rcv_core`, `ipv6_rcv` via
//! `ip6_rcv_core`, and the martian-address checks of `ip_route_input_slow`), each failure with
//! the drop reason the kernel gives it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::drop_reason::DropReason;

/// A packet that passed the receive checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRcv {
    /// Length of the datagram: what follows in the buffer is link-layer padding, trimmed
    /// (`pskb_trim_rcsum`).
    pub len: usize,
    /// Length of the headers the receive path consumed: the IPv4 header with options, or the
    /// IPv6 header plus its hop-by-hop options header.
    pub header_len: usize,
    /// Protocol of what follows those headers.
    pub protocol: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The IPv6 hop-by-hop header carried a router alert option.
    pub router_alert: bool,
}

/// Checks the IPv4 packet `pkt` (from its IP header to the end of the frame) as
/// `ip_rcv_core` does, then the source and destination as `ip_route_input_slow` does
/// (`loopback_dev`: the packet came in on a loopback device, where loopback addresses are
/// fine):
/// - fewer than 20 bytes, version not 4, IHL below 5, header beyond the buffer: `IP_INHDR`;
/// - bad header checksum: `IP_CSUM`;
/// - total length beyond the buffer: `PKT_TOO_SMALL`; below the header length: `IP_INHDR`;
/// - multicast or limited-broadcast source, or 0.0.0.0 source to anything but the limited
///   broadcast: `IP_INVALID_SOURCE`; destination in 0.0.0.0/8: `IP_INVALID_DEST`;
/// - loopback source or destination off a loopback device: `IP_LOCALNET`
///   (`route_localnet` off, the default).
///
/// IP options are not interpreted here.
pub fn ipv4_rcv(pkt: &[u8], loopback_dev: bool) -> Result<IpRcv, DropReason> {
    ipv4_rcv_len(pkt, pkt.len(), loopback_dev)
}

/// [`ipv4_rcv`] for a packet of `len` bytes whose first bytes are `pkt` (at least the IP
/// header; the rest may sit in fragments, like a GRO packet's payload): lengths are checked
/// against `len`, as `ip_rcv_core` checks them against `skb->len`.
pub fn ipv4_rcv_len(pkt: &[u8], len: usize, loopback_dev: bool) -> Result<IpRcv, DropReason> {
    if pkt.len() < 20 || pkt[0] >> 4 != 4 {
        return Err(DropReason::IpInhdr);
    }
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    if ihl < 20 || pkt.len() < ihl {
        return Err(DropReason::IpInhdr);
    }
    // RFC 1122 3.2.1.2: silently discard a datagram whose header checksum fails.
    if !checksum::verify(&pkt[..ihl]) {
        return Err(DropReason::IpCsum);
    }
    let tot_len = usize::from(u16::from_be_bytes([pkt[2], pkt[3]]));
    if len < tot_len {
        return Err(DropReason::PktTooSmall);
    }
    if tot_len < ihl {
        return Err(DropReason::IpInhdr);
    }
    let src = Ipv4Addr::new(pkt[12], pkt[13], pkt[14], pkt[15]);
    let dst = Ipv4Addr::new(pkt[16], pkt[17], pkt[18], pkt[19]);
    check_v4_addresses(src, dst, loopback_dev)?;
    Ok(IpRcv {
        len: tot_len,
        header_len: ihl,
        protocol: pkt[9],
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        router_alert: false,
    })
}

/// The martian checks of `ip_route_input_slow`, in its order.
fn check_v4_addresses(src: Ipv4Addr, dst: Ipv4Addr, loopback_dev: bool) -> Result<(), DropReason> {
    if src.is_multicast() || src.is_broadcast() {
        return Err(DropReason::IpInvalidSource);
    }
    // "Accept zero addresses only to limited broadcast."
    if dst.is_broadcast() || (src.is_unspecified() && dst.is_unspecified()) {
        return Ok(());
    }
    if src.octets()[0] == 0 {
        return Err(DropReason::IpInvalidSource);
    }
    if dst.octets()[0] == 0 {
        return Err(DropReason::IpInvalidDest);
    }
    if !loopback_dev && (dst.is_loopback() || src.is_loopback()) {
        return Err(DropReason::IpLocalnet);
    }
    Ok(())
}

/// Largest IPv6 payload without a jumbo option (`IPV6_MAXPLEN`).
const IPV6_MAXPLEN: usize = 65535;

/// Most non-padding options in a hop-by-hop header (`IP6_DEFAULT_MAX_HBH_OPTS_CNT`).
const MAX_HBH_OPTS: usize = 8;

/// Checks the IPv6 packet `pkt` (from its IPv6 header to the end of the frame) as
/// `ip6_rcv_core` does (`loopback_dev`: the packet came in on a loopback device):
/// - fewer than 40 bytes or version not 6: `IP_INHDR`;
/// - loopback source or destination off a loopback device (RFC 4291 2.5.3), a multicast
///   destination of interface-local scope from another node (RFC 4291 errata 3480) or of
///   reserved scope 0 (RFC 4291 2.7), a multicast source: `IP_INHDR`;
/// - payload length beyond the buffer: `PKT_TOO_SMALL`;
/// - a malformed hop-by-hop header (`ipv6_parse_hopopts`: length beyond the packet, more
///   than 7 bytes of padding or non-zero padding, an option beyond the header, a bad jumbo
///   option, more than 8 options): `IP_INHDR`; an unknown option whose type says discard
///   (`ip6_tlvopt_unknown`): `UNHANDLED_PROTO`; a jumbo payload length beyond the buffer:
///   `PKT_TOO_SMALL`.
pub fn ipv6_rcv(pkt: &[u8], loopback_dev: bool) -> Result<IpRcv, DropReason> {
    ipv6_rcv_len(pkt, pkt.len(), loopback_dev)
}

/// [`ipv6_rcv`] for a packet of `total` bytes whose first bytes (at least the IPv6 header and
/// any hop-by-hop header) are `pkt`.
pub fn ipv6_rcv_len(pkt: &[u8], total: usize, loopback_dev: bool) -> Result<IpRcv, DropReason> {
    if pkt.len() < 40 || pkt[0] >> 4 != 6 {
        return Err(DropReason::IpInhdr);
    }
    let mut a = [0u8; 16];
    a.copy_from_slice(&pkt[8..24]);
    let src = Ipv6Addr::from(a);
    a.copy_from_slice(&pkt[24..40]);
    let dst = Ipv6Addr::from(a);
    if !loopback_dev && (src.is_loopback() || dst.is_loopback()) {
        return Err(DropReason::IpInhdr);
    }
    let dst_scope = dst.octets()[1] & 0x0f;
    if dst.is_multicast() && ((dst_scope == 1 && !loopback_dev) || dst_scope == 0) {
        return Err(DropReason::IpInhdr);
    }
    if src.is_multicast() {
        return Err(DropReason::IpInhdr);
    }
    let next = pkt[6];
    let plen = usize::from(u16::from_be_bytes([pkt[4], pkt[5]]));
    // A zero payload length is only meaningful with a jumbo option, in hop-by-hop.
    let mut len = total;
    if plen != 0 || next != 0 {
        if 40 + plen > total {
            return Err(DropReason::PktTooSmall);
        }
        len = 40 + plen;
    }
    let mut rcv = IpRcv {
        len,
        header_len: 40,
        protocol: next,
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        router_alert: false,
    };
    if next == 0 {
        parse_hop_by_hop(&pkt[..len.min(pkt.len())], len, plen, &mut rcv)?;
    }
    Ok(rcv)
}

/// `ipv6_parse_hopopts` with `ip6_parse_tlv`: walks the options of the hop-by-hop header at
/// offset 40 of `pkt` (a packet of `total` bytes), filling `rcv` (header length, next
/// protocol, router alert, jumbo length).
fn parse_hop_by_hop(
    pkt: &[u8],
    total: usize,
    plen: usize,
    rcv: &mut IpRcv,
) -> Result<(), DropReason> {
    let (Some(&next), Some(&hlen)) = (pkt.get(40), pkt.get(41)) else {
        return Err(DropReason::IpInhdr);
    };
    let end = 40 + (usize::from(hlen) + 1) * 8;
    if end > pkt.len() {
        return Err(DropReason::IpInhdr);
    }
    let mut off = 42;
    let mut padding = 0;
    let mut options = 0;
    let mut jumbo = None;
    while off < end {
        let kind = pkt[off];
        if kind == 0 {
            // Pad1.
            padding += 1;
            if padding > 7 {
                return Err(DropReason::IpInhdr);
            }
            off += 1;
            continue;
        }
        let Some(&optlen) = pkt.get(off + 1) else {
            return Err(DropReason::IpInhdr);
        };
        let optlen = usize::from(optlen) + 2;
        if off + optlen > end {
            return Err(DropReason::IpInhdr);
        }
        let data = &pkt[off + 2..off + optlen];
        if kind == 1 {
            // PadN: RFC 4942 asks receivers to check the padding is zero.
            padding += optlen;
            if padding > 7 || data.iter().any(|&b| b != 0) {
                return Err(DropReason::IpInhdr);
            }
        } else {
            padding = 0;
            options += 1;
            if options > MAX_HBH_OPTS {
                return Err(DropReason::IpInhdr);
            }
            match kind {
                // Router alert (RFC 2711): two bytes of value.
                5 if data.len() == 2 => rcv.router_alert = true,
                5 => return Err(DropReason::IpInhdr),
                // Jumbo payload (RFC 2675, `ipv6_hop_jumbo`): 4 bytes at an offset of 4n+2.
                0xc2 => {
                    if data.len() != 4 || (off - 40) & 3 != 2 {
                        return Err(DropReason::IpInhdr);
                    }
                    let v = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
                    if v <= IPV6_MAXPLEN || plen != 0 {
                        return Err(DropReason::IpInhdr);
                    }
                    jumbo = Some(v);
                }
                // `ip6_tlvopt_unknown`: the top two bits of the type say what to do.
                _ if kind >> 6 == 0 => {}
                _ => return Err(DropReason::UnhandledProto),
            }
        }
        off += optlen;
    }
    if let Some(j) = jumbo {
        if 40 + j > total {
            return Err(DropReason::PktTooSmall);
        }
        rcv.len = 40 + j;
    }
    rcv.header_len = end;
    rcv.protocol = next;
    Ok(())
}
