//! Egress decisions: what leaves a device as it is, what is segmented or checksummed in
//! software first (`validate_xmit_skb`, `netif_needs_gso`, `skb_gso_ok`, `net_gso_ok`,
//! `skb_csum_hwoffload_help`), and the IP output step that fragments or refuses packets over
//! the MTU (`ip_finish_output`, `ip_finish_output_gso`).

use super::frag::{FragOptions, FragOutcome, TooBig, ip_fragment};
use super::{Result, SegmentOptions, skb_checksum_help, skb_gso_segment};
use crate::checksum::IpSummed;
use crate::offload::Features;
use crate::skb::{GsoType, Skb};

/// Whether a device with `features` takes packets of GSO type `t` as they are (`net_gso_ok`:
/// every `SKB_GSO_*` bit needs its `NETIF_F_GSO_*` feature).
///
/// - `TCPV4`, `TCPV6` and their modifiers `TCP_ECN`, `TCP_FIXEDID`, `TCP_ACCECN` need `tso`
///   (the model has no separate `tx-tcp-ecn-segmentation`, `tx-tcp-mangleid-segmentation`);
/// - `UDP_L4` needs `uso`, `UDP` needs `ufo`, `UDP_TUNNEL`/`UDP_TUNNEL_CSUM` need
///   `tunnel_tso` (plus what the inner type needs);
/// - `DODGY` needs `NETIF_F_GSO_ROBUST`, which no modelled device has: packets from untrusted
///   sources are always segmented in software;
/// - every other type (GRE, IP-in-IP, SCTP, ESP, fraglist, partial) is never offloaded.
///
/// Segmentation offload also needs `tx_csum`: the kernel drops TSO/USO/UFO from a device
/// without checksum offload (`netdev_fix_features`, "Dropping TSO features since no CSUM
/// feature"). The empty type is accepted.
#[must_use]
pub fn gso_ok(t: GsoType, features: &Features) -> bool {
    if t.is_empty() {
        return true;
    }
    let tcp = GsoType::TCPV4
        | GsoType::TCPV6
        | GsoType::TCP_ECN
        | GsoType::TCP_FIXEDID
        | GsoType::TCP_ACCECN;
    let tunnel = GsoType::UDP_TUNNEL | GsoType::UDP_TUNNEL_CSUM;
    let known = tcp | tunnel | GsoType::UDP_L4 | GsoType::UDP;
    if !(t - known).is_empty() {
        return false;
    }
    features.tx_csum
        && (!t.intersects(tcp) || features.tso)
        && (!t.contains(GsoType::UDP_L4) || features.uso)
        && (!t.contains(GsoType::UDP) || features.ufo)
        && (!t.intersects(tunnel) || features.tunnel_tso)
}

/// Whether a packet must be segmented in software before a device with `features`
/// (`netif_needs_gso`): it is GSO, and the device cannot take its type or its checksum is
/// neither `CHECKSUM_PARTIAL` nor `CHECKSUM_UNNECESSARY` (the device would have nothing to
/// complete).
#[must_use]
pub fn netif_needs_gso(skb: &Skb, features: &Features) -> bool {
    skb.meta.is_gso()
        && (!gso_ok(skb.meta.gso.gso_type, features)
            || !matches!(
                skb.meta.ip_summed,
                IpSummed::Partial { .. } | IpSummed::Unnecessary { .. }
            ))
}

/// What leaves the device for one packet handed to it.
#[derive(Debug)]
pub enum Xmit {
    /// The packet as it is: not GSO, or a super-packet the device segments itself (TSO, USO,
    /// tunnel TSO), its checksum completed in software when the device has no `tx_csum`.
    Whole(Skb),
    /// The segments software GSO made of a super-packet.
    Segments(Vec<Skb>),
}

impl Xmit {
    /// The packets, in order.
    #[must_use]
    pub fn into_vec(self) -> Vec<Skb> {
        match self {
            Xmit::Whole(s) => vec![s],
            Xmit::Segments(v) => v,
        }
    }

    /// Number of packets.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Xmit::Whole(_) => 1,
            Xmit::Segments(v) => v.len(),
        }
    }

    /// Whether there are none (only for an empty segment list).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Prepares a packet for a device with `features` (`validate_xmit_skb`):
/// - a GSO packet the device cannot take ([`netif_needs_gso`]) is segmented in software
///   (`skb_gso_segment`); the segments' L4 checksums are left `CHECKSUM_PARTIAL` for the device
///   when it has `tx_csum`, else completed;
/// - a GSO packet the device can take leaves as one super-packet, `CHECKSUM_PARTIAL` for the
///   device (segmentation offload implies `tx_csum`, see [`gso_ok`]);
/// - any other `CHECKSUM_PARTIAL` packet keeps it on a device with `tx_csum` and has its
///   checksum completed in software otherwise (`skb_csum_hwoffload_help` →
///   `skb_checksum_help`);
/// - everything else leaves unchanged, its checksums already complete.
pub fn validate_xmit_skb(mut skb: Skb, features: &Features) -> Result<Xmit> {
    if netif_needs_gso(&skb, features) {
        let opts = SegmentOptions {
            csum_offload: features.tx_csum,
            share_frags: true,
        };
        return Ok(Xmit::Segments(skb_gso_segment(&skb, &opts)?));
    }
    if !skb.meta.is_gso()
        && matches!(skb.meta.ip_summed, IpSummed::Partial { .. })
        && !features.tx_csum
    {
        skb_checksum_help(&mut skb)?;
    }
    Ok(Xmit::Whole(skb))
}

/// An egress device: its features, MTU and how it fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Egress {
    /// Offload features (`ethtool -k`).
    pub features: Features,
    /// MTU: the largest IP packet, link-layer header excluded.
    pub mtu: u32,
    /// Fragmentation behaviour (`ignore_df`, IPv6 identification).
    pub frag: FragOptions,
}

impl Default for Egress {
    /// Default features, MTU 1500, forwarding behaviour.
    fn default() -> Self {
        Egress {
            features: Features::default(),
            mtu: 1500,
            frag: FragOptions::default(),
        }
    }
}

/// What the IP output step did with one packet.
#[derive(Debug)]
pub enum TxOutcome {
    /// What leaves the device, in order.
    Sent(Vec<Skb>),
    /// Dropped for its size; an ICMP error is due (see [`TooBig`]).
    TooBig(TooBig),
}

/// The last IP step before a device (`ip_finish_output` / `ip6_finish_output` then
/// `dev_queue_xmit`'s `validate_xmit_skb`): a packet over the MTU is fragmented, refused
/// ([`TxOutcome::TooBig`]) or, for a GSO packet whose segments will not fit, segmented then
/// fragmented (see [`ip_fragment`]); every resulting packet then goes through
/// [`validate_xmit_skb`].
pub fn ip_finish_output(skb: Skb, egress: &Egress) -> Result<TxOutcome> {
    let packets = match ip_fragment(skb, egress.mtu, &egress.frag)? {
        FragOutcome::TooBig(t) => return Ok(TxOutcome::TooBig(t)),
        FragOutcome::Fits(s) => vec![s],
        FragOutcome::Fragments(v) => v,
    };
    let mut out = Vec::with_capacity(packets.len());
    for p in packets {
        match validate_xmit_skb(p, &egress.features)? {
            Xmit::Whole(s) => out.push(s),
            Xmit::Segments(v) => out.extend(v),
        }
    }
    Ok(TxOutcome::Sent(out))
}
