//! Conveniences over plain frames: a large frame (bytes) becomes a super-packet [`Skb`] with
//! its header offsets found by the dissector and `meta.gso` derived from its headers and a
//! segment size or MTU, as a sending stack would prepare it for TSO.

use super::frag::{FragOptions, FragOutcome, ip_fragment};
use super::layout::parse_ip;
use super::{GsoError, Result, SegmentOptions, skb_gso_segment, wr16};
use crate::capture::LinkType;
use crate::checksum;
use crate::demux::{NONE16, Tables, dissect};
use crate::skb::{GsoInfo, GsoType, Header, Skb};
use crate::wire::Layer;

/// How big each segment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GsoSize {
    /// Payload bytes per segment (`gso_size`, the MSS for TCP).
    Mss(u16),
    /// The MTU of the path: the largest outer IP packet a segment may make; the payload size
    /// is what is left after the headers (UFO: rounded down to a multiple of 8).
    Mtu(u16),
}

/// How a large UDP datagram is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UdpMode {
    /// UDP segmentation, USO (`SKB_GSO_UDP_L4`): one datagram per segment.
    #[default]
    Uso,
    /// UDP fragmentation, UFO (`SKB_GSO_UDP`): IP fragments of the one datagram.
    Ufo,
}

/// What to make of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSpec {
    /// Segment size.
    pub size: GsoSize,
    /// UDP segmentation or fragmentation.
    pub udp: UdpMode,
    /// `SKB_GSO_TCP_FIXEDID`: keep the (inner) IPv4 ID on every segment (needs DF).
    pub fixed_id: bool,
    /// Link type of the frame (pcap `LINKTYPE_*`; Ethernet by default).
    pub linktype: u16,
}

impl FrameSpec {
    /// Ethernet frame, USO for UDP, IDs counting up, `mss` payload bytes per segment.
    #[must_use]
    pub fn mss(mss: u16) -> Self {
        FrameSpec {
            size: GsoSize::Mss(mss),
            udp: UdpMode::Uso,
            fixed_id: false,
            linktype: LinkType::ETHERNET.0,
        }
    }

    /// Like [`FrameSpec::mss`], the payload size derived from the path MTU.
    #[must_use]
    pub fn mtu(mtu: u16) -> Self {
        FrameSpec {
            size: GsoSize::Mtu(mtu),
            ..Self::mss(0)
        }
    }
}

/// Offset as `usize` unless it is the dissector's "none".
fn opt(off: u16) -> Option<usize> {
    (off != NONE16).then_some(usize::from(off))
}

/// A super-packet from one large frame: the dissector finds the headers (link layer, outer
/// IP and L4, and for VXLAN/Geneve the inner Ethernet, IP and L4), the GSO type follows from
/// them (`TCPV4`/`TCPV6` for TCP, with `TCP_ECN` when CWR is set; `UDP_L4` or `UDP` for UDP;
/// `UDP_TUNNEL_CSUM` for a tunnel whose outer UDP checksum is set, `UDP_TUNNEL` otherwise)
/// and the segment size from `spec`. As a sending stack does for TSO (`__tcp_v4_send_check`,
/// `udp_set_csum`), the innermost L4 checksum field is set to the pseudo-header sum and the
/// packet marked `CHECKSUM_PARTIAL`.
pub fn skb_from_frame(frame: &[u8], spec: &FrameSpec) -> Result<Skb> {
    let Located {
        l3,
        l4,
        tunnel,
        proto,
        ethertype,
    } = locate(frame, spec.linktype)?;
    let (net, trans) = match tunnel {
        Some((_, n, t4)) => (n, t4),
        None => (l3, l4),
    };
    let v6 = frame.get(net).is_some_and(|b| b >> 4 == 6);
    let mut t = match (proto, v6) {
        (6, false) => GsoType::TCPV4,
        (6, true) => GsoType::TCPV6,
        (17, _) if spec.udp == UdpMode::Ufo => GsoType::UDP,
        (17, _) => GsoType::UDP_L4,
        _ => return Err(GsoError::Unsupported(GsoType::empty())),
    };
    if proto == 6 {
        if frame.get(trans + 13).is_some_and(|f| f & 0x80 != 0) {
            t |= GsoType::TCP_ECN;
        }
        if spec.fixed_id {
            t |= GsoType::TCP_FIXEDID;
        }
    }
    if tunnel.is_some() {
        let outer_check = frame.get(l4 + 6..l4 + 8).is_some_and(|c| c != [0, 0]);
        t |= if outer_check {
            GsoType::UDP_TUNNEL_CSUM
        } else {
            GsoType::UDP_TUNNEL
        };
    }
    // Bytes of headers in front of each segment's payload, and the payload size.
    let hdr_len = match proto {
        6 => {
            trans
                + frame
                    .get(trans + 12)
                    .map_or(20, |b| usize::from(b >> 4) * 4)
        }
        _ if t.contains(GsoType::UDP) => trans,
        _ => trans + 8,
    };
    let size = match spec.size {
        GsoSize::Mss(m) => usize::from(m),
        GsoSize::Mtu(mtu) => {
            let room = usize::from(mtu).saturating_sub(hdr_len - l3);
            if t.contains(GsoType::UDP) {
                room & !7
            } else {
                room
            }
        }
    };
    let size = u16::try_from(size)
        .ok()
        .filter(|s| *s > 0)
        .ok_or(GsoError::Malformed("segment size out of range"))?;
    let payload = frame.len().saturating_sub(hdr_len);

    let mut skb = Skb::from_slice(frame)?;
    if spec.linktype == LinkType::ETHERNET.0 {
        skb.set_header(Header::Mac, 0)?;
    }
    skb.set_header(Header::Network, l3 as isize)?;
    skb.set_header(Header::Transport, l4 as isize)?;
    if let Some((m, n, t4)) = tunnel {
        skb.set_header(Header::InnerMac, m as isize)?;
        skb.set_header(Header::InnerNetwork, n as isize)?;
        skb.set_header(Header::InnerTransport, t4 as isize)?;
        skb.meta.encapsulation = true;
    }
    skb.meta.protocol = ethertype;
    skb.meta.gso = GsoInfo {
        size,
        segs: u16::try_from(payload.div_ceil(usize::from(size)).max(1)).unwrap_or(u16::MAX),
        gso_type: t,
    };
    // CHECKSUM_PARTIAL with the pseudo-header sum in the field, as the sender leaves it.
    let ip = parse_ip(frame, net, trans, proto)?;
    let check = if proto == 6 { 16 } else { 6 };
    let pseudo = checksum::add(ip.pseudo, (frame.len() - trans) as u32);
    let mut field = [0u8; 2];
    wr16(&mut field, 0, !checksum::fold(pseudo));
    skb.write_at(trans + check, &field)?;
    skb.set_partial_csum(trans as isize, check as u16)?;
    Ok(skb)
}

/// Headers of a frame, as the dissector found them.
struct Located {
    /// Outer network header.
    l3: usize,
    /// Outer transport header.
    l4: usize,
    /// VXLAN/Geneve: inner link-layer, network and transport headers.
    tunnel: Option<(usize, usize, usize)>,
    /// Protocol of the innermost transport header.
    proto: u8,
    /// Ethertype of the outer network header.
    ethertype: u16,
}

/// Finds the headers of `frame` with the dissector.
fn locate(frame: &[u8], linktype: u16) -> Result<Located> {
    let wire = u32::try_from(frame.len()).map_err(|_| GsoError::Malformed("frame over 4 GiB"))?;
    let row = dissect(frame, wire, linktype, &Tables::new());
    if row.malformed {
        return Err(GsoError::Malformed(
            "the dissector marks the frame malformed",
        ));
    }
    let (Some(l3), Some(l4)) = (opt(row.l3_off), opt(row.l4_off)) else {
        return Err(GsoError::Malformed("no IP and transport header found"));
    };
    let tunnel = match Layer::from_code(row.tunnel) {
        None => None,
        Some(Layer::Vxlan | Layer::Geneve) => {
            // The inner link layer is the first Ethernet header after the tunnel header.
            let imac = row
                .layers()
                .skip_while(|(l, _)| !matches!(l, Layer::Vxlan | Layer::Geneve))
                .find(|(l, _)| *l == Layer::Ethernet)
                .map(|(_, o)| o);
            match (imac, opt(row.inner_l3_off), opt(row.inner_l4_off)) {
                (Some(m), Some(n), Some(t4)) => Some((m, n, t4)),
                _ => {
                    return Err(GsoError::Malformed(
                        "tunnel without inner IP and L4 headers",
                    ));
                }
            }
        }
        Some(Layer::Gre) => return Err(GsoError::Unsupported(GsoType::GRE)),
        Some(_) => return Err(GsoError::Unsupported(GsoType::IPXIP4)),
    };
    Ok(Located {
        l3,
        l4,
        tunnel,
        proto: if tunnel.is_some() {
            row.inner_l4proto
        } else {
            row.l4proto
        },
        ethertype: row.ethertype,
    })
}

/// Segments one large frame into wire frames with complete checksums: [`skb_from_frame`] then
/// [`skb_gso_segment`](super::skb_gso_segment).
pub fn segment_frame(frame: &[u8], spec: &FrameSpec) -> Result<Vec<Vec<u8>>> {
    let skb = skb_from_frame(frame, spec)?;
    let segs = skb_gso_segment(&skb, &SegmentOptions::default())?;
    Ok(segs.iter().map(Skb::to_vec).collect())
}

/// Fragments one frame for `mtu` ([`ip_fragment`]), its network header found by the
/// dissector; `linktype` is the frame's pcap link type (1 for Ethernet).
pub fn fragment_frame(
    frame: &[u8],
    mtu: u32,
    linktype: u16,
    opts: &FragOptions,
) -> Result<FragOutcome> {
    let wire = u32::try_from(frame.len()).map_err(|_| GsoError::Malformed("frame over 4 GiB"))?;
    let row = dissect(frame, wire, linktype, &Tables::new());
    let l3 = opt(row.l3_off).ok_or(GsoError::Malformed("no IP header found"))?;
    let mut skb = Skb::from_slice(frame)?;
    if linktype == LinkType::ETHERNET.0 {
        skb.set_header(Header::Mac, 0)?;
    }
    skb.set_header(Header::Network, l3 as isize)?;
    if let Some(l4) = opt(row.l4_off) {
        skb.set_header(Header::Transport, l4 as isize)?;
    }
    skb.meta.protocol = row.ethertype;
    ip_fragment(skb, mtu, opts)
}
