//! The checksum state a packet carries: the kernel's `skb->ip_summed` (`include/linux/skbuff.h`,
//! "Checksumming of received packets by device" and "... of outgoing packets").

/// What is known about a packet's checksums: the kernel's `skb->ip_summed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IpSummed {
    /// Nothing verified; software must check (`CHECKSUM_NONE`).
    #[default]
    None,
    /// Verified by the device: the outermost `level + 1` L4 checksums are good
    /// (`CHECKSUM_UNNECESSARY` with `csum_level`).
    Unnecessary {
        /// Number of additional (inner) checksums verified beyond the first.
        level: u8,
    },
    /// The device summed the packet from the network header on (`CHECKSUM_COMPLETE`).
    Complete {
        /// The partial sum the device reported.
        csum: u32,
    },
    /// The L4 checksum is still to be computed from `start`, stored at `start + offset`
    /// (`CHECKSUM_PARTIAL`, transmit side and GRO output).
    Partial {
        /// Offset from the packet start where summing begins.
        start: u16,
        /// Offset of the checksum field from `start`.
        offset: u16,
    },
}

impl IpSummed {
    /// The kernel's `CSUM_LEVEL` limit: `csum_level` is a 2-bit field, so at most four
    /// checksums (levels 0 to 3) can be marked verified (`SKB_MAX_CSUM_LEVEL`).
    pub const MAX_LEVEL: u8 = 3;

    /// How many L4 checksums, from the outermost in, are known to be good: `level + 1` for
    /// [`IpSummed::Unnecessary`], 0 otherwise (a `Complete` sum still has to be compared).
    #[must_use]
    pub const fn verified_levels(self) -> u8 {
        match self {
            Self::Unnecessary { level } => level.saturating_add(1),
            _ => 0,
        }
    }

    /// Whether the checksum at encapsulation depth `depth` (0 = outermost) needs no software
    /// check: the device vouched for it (`CHECKSUM_UNNECESSARY`), or the packet was built here
    /// and its checksum is still to be filled (`CHECKSUM_PARTIAL`, which the kernel also treats
    /// as verified on the receive side, see `skb_csum_unnecessary`).
    #[must_use]
    pub const fn is_unnecessary(self, depth: u8) -> bool {
        match self {
            Self::Unnecessary { level } => depth <= level,
            Self::Partial { .. } => true,
            Self::None | Self::Complete { .. } => false,
        }
    }

    /// The state after the outermost verified checksum is consumed
    /// (`__skb_decr_checksum_unnecessary`): `Unnecessary { level: 0 }` becomes `None`, a higher
    /// level drops by one; other states stay.
    #[must_use]
    pub const fn decr_unnecessary(self) -> Self {
        match self {
            Self::Unnecessary { level: 0 } => Self::None,
            Self::Unnecessary { level } => Self::Unnecessary { level: level - 1 },
            other => other,
        }
    }
}
