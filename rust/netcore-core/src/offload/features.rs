//! Device offload features, like `ethtool -k`, and the GRO parameters a user sets per device.
//!
//! Plain data (smoltcp's `ChecksumCapabilities` habit): strategies are compared by changing
//! values, not code paths.

use crate::demux::RxCsumOffload;

/// How UDP datagrams are aggregated on receive (Linux: `rx-udp-gro-forwarding`,
/// `rx-gro-list`, or a socket with `UDP_GRO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UdpGro {
    /// No UDP GRO (the default for forwarded traffic).
    #[default]
    Off,
    /// Payloads merged into one datagram with `SKB_GSO_UDP_L4` (`rx-udp-gro-forwarding`).
    Forwarding,
    /// Datagrams chained unchanged on a fragment list (`SKB_GSO_FRAGLIST`, `rx-gro-list`).
    Fraglist,
}

/// A device's offload features: what the hardware does so the stack need not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // ethtool's features are independent on/off switches
pub struct Features {
    /// Generic receive offload (`generic-receive-offload`).
    pub gro: bool,
    /// UDP GRO mode.
    pub udp_gro: UdpGro,
    /// Receive checksum offload (`rx-checksumming`) and what the NIC reports.
    pub rx_csum: RxCsumOffload,
    /// Transmit checksum offload (`tx-checksumming`): the device completes
    /// `CHECKSUM_PARTIAL` packets; without it software computes them at egress.
    pub tx_csum: bool,
    /// Generic segmentation offload (`generic-segmentation-offload`): segment as late as
    /// possible, in software, just before the driver.
    pub gso: bool,
    /// TCP segmentation offload (`tcp-segmentation-offload`): the device segments TCP.
    pub tso: bool,
    /// UDP segmentation offload (`tx-udp-segmentation`): the device segments UDP (USO).
    pub uso: bool,
    /// UDP fragmentation offload (UFO): large UDP datagrams leave as IP fragments.
    pub ufo: bool,
    /// The device segments VXLAN/Geneve tunnels (`tx-udp_tnl-segmentation`).
    pub tunnel_tso: bool,
}

impl Default for Features {
    /// What a modern NIC and Linux enable by default: GRO, GSO, TSO, checksums both ways.
    fn default() -> Self {
        Features {
            gro: true,
            udp_gro: UdpGro::Off,
            rx_csum: RxCsumOffload::Unnecessary,
            tx_csum: true,
            gso: true,
            tso: true,
            uso: true,
            ufo: false,
            tunnel_tso: true,
        }
    }
}

impl Features {
    /// Every offload off: the stack does all the work in software.
    #[must_use]
    pub fn none() -> Self {
        Features {
            gro: false,
            udp_gro: UdpGro::Off,
            rx_csum: RxCsumOffload::None,
            tx_csum: false,
            gso: false,
            tso: false,
            uso: false,
            ufo: false,
            tunnel_tso: false,
        }
    }
}

/// GRO parameters of a device or queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroParams {
    /// Packets taken per NAPI poll (the NAPI weight; Linux default 64).
    pub budget: usize,
    /// `gro_flush_timeout` in nanoseconds of capture time: 0 flushes at the end of every
    /// poll; otherwise held packets younger than this survive a poll that used its budget.
    pub flush_timeout_ns: u64,
    /// Largest merged packet (`gro_max_size`, default 65536).
    pub max_size: u32,
}

impl Default for GroParams {
    fn default() -> Self {
        GroParams {
            budget: 64,
            flush_timeout_ns: 0,
            max_size: 65536,
        }
    }
}
