//! Checksum verification of dissected packets: what a receiving host without checksum
//! offload would compute, per header, with tshark's verdict vocabulary.

use super::columns::{Columns, MAX_LAYERS};
use crate::batch::Batch;
use crate::checksum;
use crate::drop_reason::DropReason;
use crate::wire::{Layer, gre, ipv6, ipv6_ext, sctp};

pub use crate::wire::Verdict;

/// The column code of a verdict: 0 when the header has no checksum (or none was taken), then
/// good 1, bad 2, unverified 3, not present 4, illegal 5.
#[must_use]
pub fn verdict_code(v: Option<Verdict>) -> u8 {
    match v {
        None => 0,
        Some(Verdict::Good) => 1,
        Some(Verdict::Bad) => 2,
        Some(Verdict::Unverified) => 3,
        Some(Verdict::NotPresent) => 4,
        Some(Verdict::Illegal) => 5,
    }
}

/// The verdict of a column code (`None` for 0 and unknown codes).
#[must_use]
pub fn verdict_of_code(code: u8) -> Option<Verdict> {
    match code {
        1 => Some(Verdict::Good),
        2 => Some(Verdict::Bad),
        3 => Some(Verdict::Unverified),
        4 => Some(Verdict::NotPresent),
        5 => Some(Verdict::Illegal),
        _ => None,
    }
}

/// Checksum verdicts of a batch.
#[derive(Debug, Clone, Default)]
pub struct CsumColumns {
    /// Verdict per layer, aligned with `Columns::layers`.
    pub csum: Vec<[u8; MAX_LAYERS]>,
    /// Verdict of the outermost IPv4 header checksum.
    pub csum_ip: Vec<u8>,
    /// Verdict of the outermost transport checksum.
    pub csum_l4: Vec<u8>,
    /// Verdict of the tunnel's inner IPv4 header checksum.
    pub csum_inner_ip: Vec<u8>,
    /// Verdict of the tunnel's inner transport checksum.
    pub csum_inner_l4: Vec<u8>,
    /// Drop reason code: the structural one of the dissection, else the first failed
    /// checksum in receive order; 0 when the packet would be accepted.
    pub drop_reason: Vec<u16>,
}

#[derive(Clone, Copy)]
enum Net {
    V4 {
        src: [u8; 4],
        dst: [u8; 4],
        end: usize,
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
        end: usize,
    },
}

/// Verifies every checksum of every packet of `batch` dissected into `cols`.
///
/// The verdict columns are sized once and filled in place; the common packet (Ethernet,
/// IPv4 or IPv6, TCP or UDP) is verified without the general walk over its layers.
#[must_use]
pub fn verify_batch(batch: &Batch, cols: &Columns) -> CsumColumns {
    let mut out = CsumColumns::zeroed(cols.len());
    for (i, (pkt, &wirelen)) in batch.packets().zip(&batch.wirelen).enumerate() {
        verify_row(&mut out, cols, i, pkt, wirelen);
    }
    out
}

impl CsumColumns {
    /// `n` rows of zeros (no verdict), to be filled in place.
    #[must_use]
    pub fn zeroed(n: usize) -> Self {
        CsumColumns {
            csum: vec![[0; MAX_LAYERS]; n],
            csum_ip: vec![0; n],
            csum_l4: vec![0; n],
            csum_inner_ip: vec![0; n],
            csum_inner_l4: vec![0; n],
            drop_reason: vec![0; n],
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.csum_ip.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.csum_ip.is_empty()
    }

    /// Keeps the first `n` rows, giving back the memory of the others when they were most
    /// of it.
    pub fn truncate(&mut self, n: usize) {
        let shrink = n < self.csum_ip.capacity() / 2;
        self.csum.truncate(n);
        self.csum_ip.truncate(n);
        self.csum_l4.truncate(n);
        self.csum_inner_ip.truncate(n);
        self.csum_inner_l4.truncate(n);
        self.drop_reason.truncate(n);
        if shrink {
            self.csum.shrink_to_fit();
            self.csum_ip.shrink_to_fit();
            self.csum_l4.shrink_to_fit();
            self.csum_inner_ip.shrink_to_fit();
            self.csum_inner_l4.shrink_to_fit();
            self.drop_reason.shrink_to_fit();
        }
    }

    /// Appends a row of zeros.
    fn push_zeroed(&mut self) {
        self.csum.push([0; MAX_LAYERS]);
        self.csum_ip.push(0);
        self.csum_l4.push(0);
        self.csum_inner_ip.push(0);
        self.csum_inner_l4.push(0);
        self.drop_reason.push(0);
    }
}

/// Verifies the checksums of packet `pkt`, row `i` of `cols`, into row `i` of `out` (which
/// holds zeros; a missing row is added).
#[inline]
pub(super) fn verify_row(
    out: &mut CsumColumns,
    cols: &Columns,
    i: usize,
    pkt: &[u8],
    wirelen: u32,
) {
    let (Some(layers), Some(offs), Some(&nlayers), Some(&reason)) = (
        cols.layers.get(i),
        cols.layer_off.get(i),
        cols.nlayers.get(i),
        cols.drop_reason.get(i),
    ) else {
        return;
    };
    while out.len() <= i {
        out.push_zeroed();
    }
    let cut = (pkt.len() as u64) < u64::from(wirelen);
    let plain = if cut {
        None
    } else {
        verify_plain(pkt, layers, offs, nlayers)
    };
    let own = if let Some(p) = plain {
        p.write(out, i);
        p.reason
    } else {
        let row = Verified::of(pkt, cut, layers, offs, nlayers, &mut out.csum[i]);
        out.csum_ip[i] = row.ip[0];
        out.csum_inner_ip[i] = row.ip[1];
        out.csum_l4[i] = row.l4[0];
        out.csum_inner_l4[i] = row.l4[1];
        row.reason
    };
    out.drop_reason[i] = if reason != 0 { reason } else { own };
}

/// Verdicts of one packet (the per-layer ones are written where the caller says).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Verified {
    ip: [u8; 2],
    l4: [u8; 2],
    reason: u16,
}

impl Verified {
    /// Verifies a packet's checksums; the verdict of each layer goes to `csum`, which holds
    /// zeros (written in place: a row built on the stack and copied out stalls on store
    /// forwarding).
    pub(crate) fn of(
        pkt: &[u8],
        cut: bool,
        layers: &[u8; MAX_LAYERS],
        offs: &[u16; MAX_LAYERS],
        nlayers: u8,
        csum: &mut [u8; MAX_LAYERS],
    ) -> Verified {
        let mut v = Verified {
            ip: [0; 2],
            l4: [0; 2],
            reason: 0,
        };
        let mut net: Option<Net> = None;
        let mut quoted = false;
        // Index of the packet (0 outer, 1 first inner) each IP or L4 header belongs to.
        let mut nets_seen = 0usize;
        let mut l4_seen = 0usize;
        for k in 0..usize::from(nlayers).min(MAX_LAYERS) {
            let Some(layer) = Layer::from_code(layers[k]) else {
                continue;
            };
            let off = usize::from(offs[k]);
            let verdict = match layer {
                Layer::Ipv4 => {
                    let (verdict, n) = ipv4(pkt, off, cut);
                    net = n;
                    if !quoted {
                        if nets_seen < 2 {
                            v.ip[nets_seen] = verdict_code(verdict);
                        }
                        nets_seen += 1;
                    }
                    if verdict == Some(Verdict::Bad) && !quoted {
                        v.fail(DropReason::IpCsum);
                    }
                    verdict
                }
                Layer::Ipv6 => {
                    net = ipv6(pkt, off, cut);
                    if !quoted {
                        nets_seen += 1;
                    }
                    None
                }
                Layer::Tcp | Layer::Udp | Layer::Icmp | Layer::Icmpv6 | Layer::Sctp => {
                    // A quoted datagram's TCP, UDP or SCTP checksum is verified when the error
                    // quoted all of it; a quoted ICMP message is not (tshark does the same).
                    let verdict = if quoted && matches!(layer, Layer::Icmp | Layer::Icmpv6) {
                        Some(Verdict::Unverified)
                    } else {
                        transport(layer, pkt, off, net)
                    };
                    if !quoted {
                        if l4_seen < 2 {
                            v.l4[l4_seen] = verdict_code(verdict);
                        }
                        l4_seen += 1;
                        if matches!(verdict, Some(Verdict::Bad | Verdict::Illegal)) {
                            v.fail(match layer {
                                Layer::Tcp => DropReason::TcpCsum,
                                Layer::Udp => DropReason::UdpCsum,
                                Layer::Sctp => DropReason::SctpCsum,
                                _ => DropReason::IcmpCsum,
                            });
                        }
                    }
                    if matches!(layer, Layer::Icmp | Layer::Icmpv6) {
                        // What follows is the datagram an ICMP error quotes.
                        quoted = true;
                    }
                    verdict
                }
                Layer::Gre => gre(pkt, off, net, cut),
                _ => None,
            };
            csum[k] = verdict_code(verdict);
        }
        v
    }

    fn fail(&mut self, r: DropReason) {
        if self.reason == 0 {
            self.reason = r as u16;
        }
    }
}

/// The verdicts of a packet [`verify_plain`] takes, for its outer network header and the
/// header it carries and, in a tunnel, the inner ones: the IPv4 header checksum codes (0 for
/// IPv6), the transport checksum codes (0 for GRE, which carries no checksum here), the
/// index of each carried header in the layers (0: no inner pair), and the drop reason. Kept
/// in registers, not in a [`Verified`]: a row built byte by byte and then copied stalls on
/// store forwarding.
#[derive(Debug, Clone, Copy)]
struct PlainVerdicts {
    at: [usize; 2],
    ip: [u8; 2],
    l4: [u8; 2],
    /// The outer carried header is GRE: the inner transport is the first one with a verdict.
    gre: bool,
    reason: u16,
}

impl PlainVerdicts {
    /// Writes the verdicts into row `i` of `out`, which holds zeros: as [`Verified::of`] does,
    /// transport verdicts count TCP and UDP headers only.
    #[inline]
    fn write(&self, out: &mut CsumColumns, i: usize) {
        let pairs = if self.at[1] == 0 { 1 } else { 2 };
        for k in 0..pairs {
            let at = self.at[k];
            if let Some([ip, l4]) = out.csum[i].get_mut(at.wrapping_sub(1)..=at) {
                (*ip, *l4) = (self.ip[k], self.l4[k]);
            }
        }
        out.csum_ip[i] = self.ip[0];
        out.csum_inner_ip[i] = self.ip[1];
        if self.gre {
            out.csum_l4[i] = self.l4[1];
        } else {
            out.csum_l4[i] = self.l4[0];
            out.csum_inner_l4[i] = self.l4[1];
        }
    }

    /// The same verdicts as [`Verified::of`] gives them: the row and the per-layer ones.
    #[cfg(test)]
    fn verified(self) -> (Verified, [u8; MAX_LAYERS]) {
        let mut out = CsumColumns::zeroed(1);
        self.write(&mut out, 0);
        let v = Verified {
            ip: [out.csum_ip[0], out.csum_inner_ip[0]],
            l4: [out.csum_l4[0], out.csum_inner_l4[0]],
            reason: self.reason,
        };
        (v, out.csum[0])
    }
}

/// Verdicts of one network header and the header it carries (see [`PlainVerdicts`]).
struct PairVerdicts {
    ip: u8,
    l4: u8,
    reason: u16,
}

/// The verdicts of a packet dissected as Ethernet, an optional 802.1Q tag, IPv4 or IPv6 and
/// TCP or UDP carried directly (no IPv6 extension header, no AH), or through one VXLAN,
/// Geneve or GRE tunnel (no GRE checksum) to such a packet, wholly captured; `None` for any
/// other packet, which [`Verified::of`] takes. Gives what that gives (a test compares the
/// two), with the pseudo-header entering the transport sum as its initial value: one call to
/// the checksum kernel per header.
#[inline]
fn verify_plain(
    pkt: &[u8],
    layers: &[u8; MAX_LAYERS],
    offs: &[u16; MAX_LAYERS],
    nlayers: u8,
) -> Option<PlainVerdicts> {
    const ETH: u8 = Layer::Ethernet as u8;
    const VLAN: u8 = Layer::Vlan as u8;
    const UDP: u8 = Layer::Udp as u8;
    const GRE: u8 = Layer::Gre as u8;
    const VXLAN: u8 = Layer::Vxlan as u8;
    const GENEVE: u8 = Layer::Geneve as u8;
    let n = usize::from(nlayers).min(MAX_LAYERS);
    let first = match layers {
        [ETH, VLAN, ..] => 2,
        [ETH, ..] => 1,
        _ => return None,
    };
    let pair = |k: usize| {
        if k + 1 >= n {
            return None;
        }
        let (ip, l4) = ((layers[k], offs[k]), (layers[k + 1], offs[k + 1]));
        verify_pair(pkt, ip, l4)
    };
    let outer = pair(first)?;
    let carried = layers[first + 1];
    let mut v = PlainVerdicts {
        at: [first + 1, 0],
        ip: [outer.ip, 0],
        l4: [outer.l4, 0],
        gre: carried == GRE,
        reason: outer.reason,
    };
    if n == first + 2 && carried != GRE {
        return Some(v);
    }
    // A tunnel: a VXLAN or Geneve header over UDP, or GRE; an optional Ethernet header; then
    // the inner network and transport headers, the last layers.
    let mut k = first + 2;
    match (carried, layers.get(k)) {
        (UDP, Some(&(VXLAN | GENEVE))) => k += 1,
        (GRE, _) => {}
        _ => return None,
    }
    if layers.get(k) == Some(&ETH) {
        k += 1;
    }
    if n != k + 2 || layers[k + 1] == GRE {
        return None;
    }
    let inner = pair(k)?;
    v.at[1] = k + 1;
    (v.ip[1], v.l4[1]) = (inner.ip, inner.l4);
    if v.reason == 0 {
        v.reason = inner.reason;
    }
    Some(v)
}

/// The verdicts of the IPv4 or IPv6 header `ip` and the TCP, UDP or GRE header `l4` it
/// carries (layer code and offset each), for [`verify_plain`]; `None` when they are not plain.
#[inline]
fn verify_pair(pkt: &[u8], ip: (u8, u16), l4: (u8, u16)) -> Option<PairVerdicts> {
    const V6: u8 = Layer::Ipv6 as u8;
    const TCP: u8 = Layer::Tcp as u8;
    const UDP: u8 = Layer::Udp as u8;
    const GRE: u8 = Layer::Gre as u8;
    let off = usize::from(l4.1);
    let proto = match l4.0 {
        TCP => 6,
        UDP => 17,
        GRE => 47,
        _ => return None,
    };
    let (ip_code, pseudo, end) = pair_network(pkt, ip, off, proto)?;
    let mut reason = if ip_code == verdict_code(Some(Verdict::Bad)) {
        DropReason::IpCsum as u16
    } else {
        0
    };
    let v6 = ip.0 == V6;
    let seg = match proto {
        47 => {
            // GRE without a checksum has no verdict (RFC 2784: the C bit); with one, the
            // general walk verifies it.
            let h = pkt.get(off..end)?.first_chunk::<4>()?;
            if h[0] & 0x80 != 0 {
                return None;
            }
            return Some(PairVerdicts {
                ip: ip_code,
                l4: 0,
                reason,
            });
        }
        17 => {
            let h = pkt.get(off..end)?.first_chunk::<8>()?;
            let ulen = usize::from(u16::from_be_bytes([h[4], h[5]]));
            if ulen < 8 || off + ulen > end {
                return None;
            }
            if h[6..8] == [0, 0] {
                // No checksum: allowed over IPv4 (RFC 768), not over IPv6 (RFC 8200 8.1).
                let verdict = if v6 {
                    Verdict::Illegal
                } else {
                    Verdict::NotPresent
                };
                if v6 && reason == 0 {
                    reason = DropReason::UdpCsum as u16;
                }
                return Some(PairVerdicts {
                    ip: ip_code,
                    l4: verdict_code(Some(verdict)),
                    reason,
                });
            }
            pkt.get(off..off + ulen)?
        }
        _ => pkt.get(off..end)?,
    };
    let len = seg.len() as u64;
    let initial = checksum::fold_to_32(pseudo + (len >> 16) + (len & 0xffff));
    let good = checksum::fold(checksum::partial(seg, initial)) == 0;
    if !good && reason == 0 {
        reason = if proto == 6 {
            DropReason::TcpCsum
        } else {
            DropReason::UdpCsum
        } as u16;
    }
    Some(PairVerdicts {
        ip: ip_code,
        l4: verdict_code(Some(Verdict::from_ok(good))),
        reason,
    })
}

/// The network half of [`verify_pair`]: the IPv4 header checksum code (0 for IPv6), the
/// pseudo-header sum without its length (none for GRE) and the end of the IP payload, for the
/// header `ip` carrying protocol `proto` at `off`.
#[inline]
fn pair_network(pkt: &[u8], ip: (u8, u16), off: usize, proto: u8) -> Option<(u8, u64, usize)> {
    const V4: u8 = Layer::Ipv4 as u8;
    const V6: u8 = Layer::Ipv6 as u8;
    let l3 = usize::from(ip.1);
    match ip.0 {
        V4 => {
            let h = pkt.get(l3..)?.first_chunk::<20>()?;
            let hlen = usize::from(h[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
            if h[0] >> 4 != 4 || h[9] != proto || hlen < 20 || total < hlen {
                return None;
            }
            let end = l3 + total;
            if end > pkt.len() || off != l3 + hlen {
                return None;
            }
            let good = checksum::verify(pkt.get(l3..off)?);
            let code = verdict_code(Some(Verdict::from_ok(good)));
            if proto == 47 {
                return Some((code, 0, end));
            }
            let src = [h[12], h[13], h[14], h[15]];
            let dst = [h[16], h[17], h[18], h[19]];
            Some((
                code,
                u64::from(checksum::pseudo_v4(src, dst, proto, 0)),
                end,
            ))
        }
        V6 => {
            let h = pkt.get(l3..)?.first_chunk::<40>()?;
            let end = l3 + 40 + usize::from(u16::from_be_bytes([h[4], h[5]]));
            if h[0] >> 4 != 6 || h[6] != proto || end == l3 + 40 || end > pkt.len() {
                return None;
            }
            if off != l3 + 40 {
                return None;
            }
            if proto == 47 {
                return Some((0, 0, end));
            }
            // The addresses and the next header; the length is added below.
            let addrs = checksum::partial(&h[8..40], u32::from(proto));
            Some((0, u64::from(addrs), end))
        }
        _ => None,
    }
}

/// End of a network payload: as the header says, except that when the capture holds all the
/// wire bytes and the header claims more, the bytes present are what there is (the packet is
/// malformed; its checksums are computed over what exists, as tshark does).
fn payload_end(pkt: &[u8], claimed: usize, cut: bool) -> usize {
    if cut { claimed } else { claimed.min(pkt.len()) }
}

fn ipv4(pkt: &[u8], off: usize, cut: bool) -> (Option<Verdict>, Option<Net>) {
    let Some(&vihl) = pkt.get(off) else {
        return (None, None);
    };
    let hlen = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || hlen < 20 {
        // No header to verify (IHL below 5 is a malformed header, not a checksum verdict).
        return (None, None);
    }
    // A header cut by the capture gets no verdict; one that runs past a complete packet is
    // malformed and unverifiable.
    let Some(hdr) = pkt.get(off..off + hlen) else {
        return (if cut { None } else { Some(Verdict::Unverified) }, None);
    };
    let total = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
    if total != 0 && total < hlen {
        return (None, None);
    }
    let net = Net::V4 {
        src: [hdr[12], hdr[13], hdr[14], hdr[15]],
        dst: [hdr[16], hdr[17], hdr[18], hdr[19]],
        // A zero total length is a TSO super-packet captured on its sender: it runs to the
        // end of the frame.
        end: if total == 0 {
            pkt.len()
        } else {
            payload_end(pkt, off + total, cut)
        },
    };
    let verdict = if checksum::verify(hdr) {
        Some(Verdict::Good)
    } else {
        Some(Verdict::Bad)
    };
    (verdict, Some(net))
}

fn ipv6(pkt: &[u8], off: usize, cut: bool) -> Option<Net> {
    let hdr = pkt.get(off..off + 40)?;
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&hdr[8..24]);
    dst.copy_from_slice(&hdr[24..40]);
    let plen = usize::from(u16::from_be_bytes([hdr[4], hdr[5]]));
    // Payload length 0: a jumbogram or a BIG TCP super-packet captured before its
    // hop-by-hop header was added; it runs to the end of the frame.
    let end = if plen == 0 {
        pkt.len()
    } else {
        payload_end(pkt, off + 40 + plen, cut)
    };
    // A routing header's final destination and a Home Address option change the addresses
    // of the transport pseudo-header (RFC 8200 section 8.1, RFC 6275 section 6.3).
    // Only a routing header or destination options can change them: skip the walk for the
    // common packet whose next header is the transport.
    if !matches!(hdr[6], 0 | 43 | 44 | 51 | 60) {
        return Some(Net::V6 { src, dst, end });
    }
    let ext = pkt.get(off + 40..end.min(pkt.len())).unwrap_or(&[]);
    if let Ok(chain) = ipv6_ext::walk(hdr[6], ext) {
        let (s, d) =
            ipv6_ext::pseudo_addresses(&chain, ext, ipv6::Address(src), ipv6::Address(dst));
        return Some(Net::V6 {
            src: s.0,
            dst: d.0,
            end,
        });
    }
    Some(Net::V6 { src, dst, end })
}

fn transport(layer: Layer, pkt: &[u8], off: usize, net: Option<Net>) -> Option<Verdict> {
    let Some(net) = net else {
        return Some(Verdict::Unverified);
    };
    let (end, v6) = match net {
        Net::V4 { end, .. } => (end, false),
        Net::V6 { end, .. } => (end, true),
    };
    let mut end = end;
    if layer == Layer::Udp {
        // The UDP length, not the IP length, bounds the datagram (trailing bytes are trimmed).
        let Some(ulen) = pkt.get(off + 4..off + 6) else {
            return Some(Verdict::Unverified);
        };
        let ulen = usize::from(u16::from_be_bytes([ulen[0], ulen[1]]));
        let Some(c) = pkt.get(off + 6..off + 8) else {
            return Some(Verdict::Unverified);
        };
        if c == [0, 0] {
            return if v6 {
                Some(Verdict::Illegal)
            } else {
                Some(Verdict::NotPresent)
            };
        }
        if ulen < 8 {
            // A length below the header: no datagram to verify.
            return None;
        }
        if off + ulen > end {
            // A length beyond the IP payload: the datagram's extent is unknown.
            return Some(Verdict::Unverified);
        }
        end = off + ulen;
    }
    let Some(seg) = pkt.get(off..end) else {
        return Some(Verdict::Unverified);
    };
    if layer == Layer::Sctp {
        return Some(sctp(seg));
    }
    let len = seg.len();
    let proto = match layer {
        Layer::Tcp => 6,
        Layer::Udp => 17,
        Layer::Icmpv6 => 58,
        _ => 1,
    };
    let initial = match (layer, net) {
        // ICMP for IPv4 has no pseudo-header (RFC 792).
        (Layer::Icmp, _) => 0,
        // Lengths over 65535 (IPv4 BIG TCP) enter the sum as a 32-bit value, as Linux's
        // csum_tcpudp_magic takes them.
        (_, Net::V4 { src, dst, .. }) => checksum::fold_to_32(
            u64::from(checksum::pseudo_v4(src, dst, proto, 0))
                + (len as u64 >> 16)
                + (len as u64 & 0xffff),
        ),
        (_, Net::V6 { src, dst, .. }) => checksum::pseudo_v6(&src, &dst, proto, len as u32),
    };
    if checksum::fold(checksum::partial(seg, initial)) == 0 {
        Some(Verdict::Good)
    } else {
        Some(Verdict::Bad)
    }
}

/// A GRE checksum, when the C bit says there is one (RFC 2784): over the GRE header and
/// payload, which end where the carrying IP packet ends.
fn gre(pkt: &[u8], off: usize, net: Option<Net>, cut: bool) -> Option<Verdict> {
    let end = match net? {
        Net::V4 { end, .. } | Net::V6 { end, .. } => end,
    };
    let whole = pkt.get(off..end);
    let head = pkt.get(off..)?;
    let p = gre::Packet::new_checked(whole.unwrap_or(head)).ok()?;
    if !p.checksum_present() {
        return None;
    }
    if whole.is_none() || cut && end > pkt.len() {
        return Some(Verdict::Unverified);
    }
    Some(Verdict::from_ok(p.verify_checksum()))
}

/// SCTP's CRC32c (RFC 9260 appendix A), as the wire view computes it without copying.
fn sctp(seg: &[u8]) -> Verdict {
    match sctp::Packet::new_checked(seg) {
        Ok(p) => Verdict::from_ok(p.verify_checksum()),
        Err(_) => Verdict::Unverified,
    }
}

/// What a device's receive checksum offload reports, like `ethtool -k rx-checksumming` and
/// the kind of NIC behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxCsumOffload {
    /// No offload: every packet arrives `CHECKSUM_NONE` and software verifies.
    None,
    /// The NIC parses and validates transport checksums, and reports `CHECKSUM_UNNECESSARY`
    /// with `csum_level` counting the inner checksums it also validated (up to the kernel's
    /// `SKB_MAX_CSUM_LEVEL`, 3).
    Unnecessary,
    /// The NIC sums everything after the Ethernet header and reports `CHECKSUM_COMPLETE`
    /// with that sum; software finishes each check with a pseudo-header.
    Complete,
}

/// Largest `csum_level` (the kernel's `SKB_MAX_CSUM_LEVEL`).
pub const MAX_CSUM_LEVEL: u8 = 3;

/// The `ip_summed` state a device with `offload` gives a received packet, from its
/// dissection (`layers`, `offs`, `l3_off`) and checksum verdicts (`csum`).
///
/// `Unnecessary` follows what NICs do (and what `skb_csum_unnecessary` expects): walk the
/// transport checksums from the outside in; each good one raises the level, a UDP header
/// without a checksum is passed over, and the first bad or unverifiable one stops the walk.
/// If none was good, the device reports nothing (`CHECKSUM_NONE`), and software finds the
/// fault. `Complete` sums from the network header to the end of the network packet (padding
/// excluded), as `eth_type_trans` leaves `skb->data` and as the kernel's `skb_postpull_rcsum`
/// keeps the sum consistent.
#[must_use]
pub fn rx_csum_state(
    pkt: &[u8],
    offload: RxCsumOffload,
    layers: &[u8; MAX_LAYERS],
    csum: &[u8; MAX_LAYERS],
    nlayers: u8,
    l3_off: u16,
) -> crate::checksum::IpSummed {
    use crate::checksum::IpSummed;
    match offload {
        RxCsumOffload::None => IpSummed::None,
        RxCsumOffload::Unnecessary => {
            let mut good = 0u8;
            for k in 0..usize::from(nlayers).min(MAX_LAYERS) {
                let Some(layer) = Layer::from_code(layers[k]) else {
                    continue;
                };
                if !matches!(
                    layer,
                    Layer::Tcp | Layer::Udp | Layer::Sctp | Layer::Icmp | Layer::Icmpv6
                ) {
                    continue;
                }
                match verdict_of_code(csum[k]) {
                    Some(Verdict::Good) => good += 1,
                    Some(Verdict::NotPresent) => {}
                    _ => break,
                }
                if matches!(layer, Layer::Icmp | Layer::Icmpv6) {
                    break; // what follows is quoted, not carried
                }
            }
            if good == 0 {
                IpSummed::None
            } else {
                IpSummed::Unnecessary {
                    level: (good - 1).min(MAX_CSUM_LEVEL),
                }
            }
        }
        RxCsumOffload::Complete => {
            if l3_off == super::columns::NONE16 {
                return IpSummed::None;
            }
            let start = usize::from(l3_off);
            let Some(net) = pkt.get(start..) else {
                return IpSummed::None;
            };
            let end = network_end(net).min(net.len());
            IpSummed::Complete {
                csum: checksum::partial(&net[..end], 0),
            }
        }
    }
}

/// Length of the network packet at the start of `net` (the IP length), or all of it.
fn network_end(net: &[u8]) -> usize {
    match net.first().map(|b| b >> 4) {
        Some(4) if net.len() >= 4 => match usize::from(u16::from_be_bytes([net[2], net[3]])) {
            0 => net.len(),
            n => n,
        },
        Some(6) if net.len() >= 6 => match usize::from(u16::from_be_bytes([net[4], net[5]])) {
            0 => net.len(),
            n => n + 40,
        },
        _ => net.len(),
    }
}

/// Receive checksum states of a batch, as columns: `ip_summed` (0 `NONE`, 1 `UNNECESSARY`,
/// 2 `COMPLETE`), `csum_level` and the `COMPLETE` sum.
#[derive(Debug, Clone, Default)]
pub struct RxCsumColumns {
    /// 0 `CHECKSUM_NONE`, 1 `CHECKSUM_UNNECESSARY`, 2 `CHECKSUM_COMPLETE`.
    pub ip_summed: Vec<u8>,
    /// `csum_level` of `CHECKSUM_UNNECESSARY`.
    pub csum_level: Vec<u8>,
    /// The device's sum for `CHECKSUM_COMPLETE`.
    pub csum: Vec<u32>,
}

/// [`rx_csum_state`] for every packet of a dissected and verified batch.
#[must_use]
pub fn rx_csum_batch(
    batch: &Batch,
    cols: &Columns,
    verdicts: &CsumColumns,
    offload: RxCsumOffload,
) -> RxCsumColumns {
    use crate::checksum::IpSummed;
    let n = cols.len();
    let mut out = RxCsumColumns {
        ip_summed: Vec::with_capacity(n),
        csum_level: Vec::with_capacity(n),
        csum: Vec::with_capacity(n),
    };
    for (i, pkt) in batch.packets().enumerate().take(n) {
        let state = rx_csum_state(
            pkt,
            offload,
            &cols.layers[i],
            &verdicts.csum[i],
            cols.nlayers[i],
            cols.l3_off[i],
        );
        let (kind, level, sum) = match state {
            IpSummed::None | IpSummed::Partial { .. } => (0, 0, 0),
            IpSummed::Unnecessary { level } => (1, level, 0),
            IpSummed::Complete { csum } => (2, 0, csum),
        };
        out.ip_summed.push(kind);
        out.csum_level.push(level);
        out.csum.push(sum);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::{Tables, dissect, dissect::tests::frame};

    /// A plain frame whose IPv4 header and transport checksums are right.
    fn summed(vlan: bool, v6: bool, tcp: bool) -> Vec<u8> {
        let mut f = frame(vlan, v6, tcp, 11);
        let l3 = if vlan { 18 } else { 14 };
        let (l4, proto) = (l3 + if v6 { 40 } else { 20 }, if tcp { 6 } else { 17 });
        let seg_len = f.len() - l4;
        let pseudo = if v6 {
            let (src, dst) = (
                f[l3 + 8..l3 + 24].try_into(),
                f[l3 + 24..l3 + 40].try_into(),
            );
            checksum::pseudo_v6(&src.unwrap(), &dst.unwrap(), proto, seg_len as u32)
        } else {
            let c = checksum::checksum(&f[l3..l4]);
            f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
            let (src, dst) = (
                f[l3 + 12..l3 + 16].try_into(),
                f[l3 + 16..l3 + 20].try_into(),
            );
            checksum::pseudo_v4(src.unwrap(), dst.unwrap(), proto, seg_len as u16)
        };
        let at = l4 + if tcp { 16 } else { 6 };
        let c = checksum::fold(checksum::partial(&f[l4..], pseudo));
        f[at..at + 2].copy_from_slice(&c.to_be_bytes());
        f
    }

    /// The plain path's verdicts, when it takes the packet, equal the general walk's.
    fn compare(pkt: &[u8], tables: &Tables) -> Option<Verified> {
        let row = dissect(pkt, pkt.len() as u32, 1, tables);
        let plain = verify_plain(pkt, &row.layers, &row.layer_off, row.nlayers)?.verified();
        let mut csum = [0; MAX_LAYERS];
        let walked = Verified::of(
            pkt,
            false,
            &row.layers,
            &row.layer_off,
            row.nlayers,
            &mut csum,
        );
        assert_eq!(plain, (walked, csum), "{pkt:02x?}");
        Some(plain.0)
    }

    /// A xorshift generator: the same mutations every run.
    fn rng() -> impl FnMut() -> u64 {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Compares the two paths on every prefix of `base` and on 20,000 mutations of `base` or
    /// `alt` (one or two bytes changed, up to two cut off); counts the packets the plain path
    /// took and those whose (inner, if any) transport checksum it found good.
    fn mutations(base: &[u8], alt: &[u8], next: &mut impl FnMut() -> u64) -> (usize, usize) {
        let tables = Tables::new();
        for len in 0..base.len() {
            compare(&base[..len], &tables);
        }
        let (mut taken, mut good) = (0, 0);
        for _ in 0..20_000 {
            let mut p = if next() & 1 == 0 { base } else { alt }.to_vec();
            for _ in 0..=next() % 2 {
                let at = (next() % p.len() as u64) as usize;
                p[at] = next() as u8;
            }
            p.truncate(p.len() - (next() % 3) as usize);
            if let Some(v) = compare(&p, &tables) {
                taken += 1;
                good += usize::from(v.l4.contains(&1));
            }
        }
        (taken, good)
    }

    #[test]
    fn plain_verdicts_equal_the_general_walk() {
        let tables = Tables::new();
        let mut next = rng();
        let (mut taken, mut good) = (0, 0);
        for shape in 0..8 {
            let base = summed(shape & 1 != 0, shape & 2 != 0, shape & 4 != 0);
            let v = compare(&base, &tables).expect("a plain packet");
            assert_eq!((v.l4[0], v.reason), (1, 0), "{base:02x?}");
            let mut no_sum = base.clone();
            if shape & 4 == 0 {
                // UDP without a checksum: not present over IPv4, illegal over IPv6.
                let at = no_sum.len() - 11 - 2;
                no_sum[at..at + 2].copy_from_slice(&[0, 0]);
                let v = compare(&no_sum, &tables).expect("a plain packet");
                assert_eq!(v.l4[0], if shape & 2 != 0 { 5 } else { 4 });
            }
            let (t, g) = mutations(&base, &no_sum, &mut next);
            (taken, good) = (taken + t, good + g);
        }
        // Mutations hit good and bad checksums, and packets the plain path leaves.
        assert!(
            taken > 1000 && good > 100 && taken - good > 100,
            "{taken} {good}"
        );
    }

    /// `inner` (an Ethernet frame, or with `gre_ip` its IP packet) in a tunnel over IPv4 or
    /// IPv6: `kind` 0 VXLAN, 1 Geneve (over UDP, with a checksum when `udp_sum`), 2 GRE; the
    /// outer checksums right.
    fn tunneled(kind: u8, outer_v6: bool, udp_sum: bool, inner: &[u8], gre_ip: bool) -> Vec<u8> {
        let mut l4 = Vec::new();
        let proto = if kind < 2 {
            let port: u16 = if kind == 0 { 4789 } else { 6081 };
            l4.extend(5555u16.to_be_bytes());
            l4.extend(port.to_be_bytes());
            l4.extend(((16 + inner.len()) as u16).to_be_bytes());
            l4.extend([0, 0]);
            if kind == 0 {
                l4.extend([0x08, 0, 0, 0, 0, 0, 42, 0]);
            } else {
                l4.extend([0, 0, 0x65, 0x58, 0, 0, 42, 0]);
            }
            17
        } else {
            let carried: u16 = match inner.first().map(|b| b >> 4) {
                Some(4) if gre_ip => 0x0800,
                Some(6) if gre_ip => 0x86dd,
                _ => 0x6558,
            };
            l4.extend([0, 0]);
            l4.extend(carried.to_be_bytes());
            47
        };
        l4.extend_from_slice(inner);
        let mut f = vec![2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, 8];
        let (src6, dst6) = ([0x20; 16], [0x21; 16]);
        let pseudo = if outer_v6 {
            f.extend([0x86, 0xdd, 0x60, 0, 0, 0]);
            f.extend((l4.len() as u16).to_be_bytes());
            f.extend([proto, 64]);
            f.extend(src6);
            f.extend(dst6);
            checksum::pseudo_v6(&src6, &dst6, proto, l4.len() as u32)
        } else {
            let mut h = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0, 192, 0, 2, 1];
            h.extend([192, 0, 2, 2]);
            h[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
            let c = checksum::checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend([0x08, 0x00]);
            f.extend(h);
            checksum::pseudo_v4([192, 0, 2, 1], [192, 0, 2, 2], proto, l4.len() as u16)
        };
        if proto == 17 && udp_sum {
            let c = checksum::fold(checksum::partial(&l4, pseudo));
            l4[6..8].copy_from_slice(&c.to_be_bytes());
        }
        f.extend(l4);
        f
    }

    #[test]
    fn plain_tunnel_verdicts_equal_the_general_walk() {
        let tables = Tables::new();
        let mut next = rng();
        let (mut taken, mut good) = (0, 0);
        for shape in 0..48u8 {
            let (kind, outer_v6, udp_sum) = (shape % 3, shape & 4 != 0, shape & 8 != 0);
            let (v6, tcp) = (shape & 16 != 0, shape & 32 != 0);
            let inner = summed(false, v6, tcp);
            let gre_ip = kind == 2 && udp_sum;
            let payload = if gre_ip { &inner[14..] } else { &inner[..] };
            let base = tunneled(kind, outer_v6, udp_sum, payload, gre_ip);
            let v = compare(&base, &tables).expect("a plain tunnel");
            assert_eq!(v.ip[0], u8::from(!outer_v6), "{base:02x?}");
            // GRE has no transport verdict: the inner one comes first.
            let inner_l4 = if kind == 2 { v.l4[0] } else { v.l4[1] };
            assert_eq!(inner_l4, 1, "{base:02x?}");
            // A bad inner transport checksum (the outer UDP one, if any, covers it too).
            let mut bad = base.clone();
            let last = bad.len() - 1;
            bad[last] ^= 0x5a;
            let v = compare(&bad, &tables).expect("a plain tunnel");
            assert_ne!(v.reason, 0, "{bad:02x?}");
            let (t, g) = mutations(&base, &bad, &mut next);
            (taken, good) = (taken + t, good + g);
        }
        assert!(
            taken > 10_000 && good > 1000 && taken - good > 1000,
            "{taken} {good}"
        );
    }
}
