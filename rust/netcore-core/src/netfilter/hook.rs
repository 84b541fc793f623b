//! Hook points, families, priorities and verdicts, with the kernel's names and values.

use std::fmt;

/// Where in the path a hook runs (`enum nf_inet_hooks` plus the netdev hooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookPoint {
    /// Device ingress, before the IP layer (netdev family `ingress`).
    Ingress,
    /// Every received IP packet, before routing (`NF_INET_PRE_ROUTING`).
    PreRouting,
    /// Packets routed to this host (`NF_INET_LOCAL_IN`).
    LocalIn,
    /// Packets routed through this host (`NF_INET_FORWARD`).
    Forward,
    /// Packets this host sends (`NF_INET_LOCAL_OUT`).
    LocalOut,
    /// Every IP packet about to leave, after routing (`NF_INET_POST_ROUTING`).
    PostRouting,
    /// Device egress, after the IP layer (netdev family `egress`).
    Egress,
}

impl HookPoint {
    /// Every hook point, in path order.
    pub const ALL: [HookPoint; 7] = [
        HookPoint::Ingress,
        HookPoint::PreRouting,
        HookPoint::LocalIn,
        HookPoint::Forward,
        HookPoint::LocalOut,
        HookPoint::PostRouting,
        HookPoint::Egress,
    ];

    /// The name nft gives the hook (`"prerouting"`, `"input"`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            HookPoint::Ingress => "ingress",
            HookPoint::PreRouting => "prerouting",
            HookPoint::LocalIn => "input",
            HookPoint::Forward => "forward",
            HookPoint::LocalOut => "output",
            HookPoint::PostRouting => "postrouting",
            HookPoint::Egress => "egress",
        }
    }

    /// The hook named `name`: nft's names, case-insensitive, also `local_in`/`local_out`
    /// and `pre_routing`/`post_routing`.
    #[must_use]
    pub fn parse(name: &str) -> Option<HookPoint> {
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_str() {
            "ingress" => HookPoint::Ingress,
            "prerouting" | "pre_routing" => HookPoint::PreRouting,
            "input" | "local_in" => HookPoint::LocalIn,
            "forward" => HookPoint::Forward,
            "output" | "local_out" => HookPoint::LocalOut,
            "postrouting" | "post_routing" => HookPoint::PostRouting,
            "egress" => HookPoint::Egress,
            _ => return None,
        })
    }
}

impl fmt::Display for HookPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The network-layer family of a packet (`NFPROTO_IPV4`, `NFPROTO_IPV6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl Family {
    /// nft's name of the family (`meta nfproto ipv4`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }

    /// The family of an IP packet from its version nibble.
    #[must_use]
    pub fn of_packet(ip_packet: &[u8]) -> Option<Family> {
        match ip_packet.first()? >> 4 {
            4 => Some(Family::Ipv4),
            6 => Some(Family::Ipv6),
            _ => None,
        }
    }
}

/// Hook priorities: lower runs first. The constants are the kernel's
/// `enum nf_ip_hook_priorities` (the IPv6 values are the same); [`priority`] reads nft's
/// names (`raw`, `mangle`, `dstnat`, `filter`, `security`, `srcnat`) with an offset.
pub mod priority {
    /// Runs before everything (`NF_IP_PRI_FIRST`).
    pub const FIRST: i32 = i32::MIN;
    /// Raw before defragmentation (`NF_IP_PRI_RAW_BEFORE_DEFRAG`).
    pub const RAW_BEFORE_DEFRAG: i32 = -450;
    /// Defragmentation for connection tracking (`NF_IP_PRI_CONNTRACK_DEFRAG`).
    pub const CONNTRACK_DEFRAG: i32 = -400;
    /// The raw table, before connection tracking (`NF_IP_PRI_RAW`; nft `raw`).
    pub const RAW: i32 = -300;
    /// First `SELinux` hook (`NF_IP_PRI_SELINUX_FIRST`).
    pub const SELINUX_FIRST: i32 = -225;
    /// Connection tracking (`NF_IP_PRI_CONNTRACK`).
    pub const CONNTRACK: i32 = -200;
    /// The mangle table (`NF_IP_PRI_MANGLE`; nft `mangle`).
    pub const MANGLE: i32 = -150;
    /// Destination NAT (`NF_IP_PRI_NAT_DST`; nft `dstnat`).
    pub const NAT_DST: i32 = -100;
    /// The filter table (`NF_IP_PRI_FILTER`; nft `filter`).
    pub const FILTER: i32 = 0;
    /// The security table (`NF_IP_PRI_SECURITY`; nft `security`).
    pub const SECURITY: i32 = 50;
    /// Source NAT (`NF_IP_PRI_NAT_SRC`; nft `srcnat`).
    pub const NAT_SRC: i32 = 100;
    /// Last `SELinux` hook (`NF_IP_PRI_SELINUX_LAST`).
    pub const SELINUX_LAST: i32 = 225;
    /// Connection-tracking helpers (`NF_IP_PRI_CONNTRACK_HELPER`).
    pub const CONNTRACK_HELPER: i32 = 300;
    /// Runs after everything (`NF_IP_PRI_LAST`, also `NF_IP_PRI_CONNTRACK_CONFIRM`).
    pub const LAST: i32 = i32::MAX;

    /// nft's named priorities and the values they stand for in the ip, ip6 and inet families.
    pub const NAMES: [(&str, i32); 6] = [
        ("raw", RAW),
        ("mangle", MANGLE),
        ("dstnat", NAT_DST),
        ("filter", FILTER),
        ("security", SECURITY),
        ("srcnat", NAT_SRC),
    ];

    /// Reads a priority as nft writes it: a number (`-150`), a name (`mangle`) or a name
    /// with an offset (`filter + 10`, `dstnat - 5`). `None` when it is none of these.
    #[must_use]
    pub fn parse(text: &str) -> Option<i32> {
        let text = text.trim();
        if let Ok(n) = text.parse::<i32>() {
            return Some(n);
        }
        let split = text.find(['+', '-']).unwrap_or(text.len());
        let (name, rest) = text.split_at(split);
        let base = NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))?
            .1;
        if rest.is_empty() {
            return Some(base);
        }
        let offset: i32 = rest[1..].trim().parse().ok()?;
        if rest.starts_with('-') {
            base.checked_sub(offset)
        } else {
            base.checked_add(offset)
        }
    }
}

/// What a hook decides for a packet (the kernel's `NF_*` verdicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Let the packet continue (`NF_ACCEPT`).
    Accept,
    /// Drop the packet (`NF_DROP`).
    Drop,
    /// The hook took the packet over (`NF_STOLEN`).
    Stolen,
    /// Hand the packet to the user-space queue numbered here (`NF_QUEUE`).
    Queue(u16),
    /// Run this hook again (`NF_REPEAT`).
    Repeat,
}

impl Verdict {
    /// `NF_DROP`.
    pub const DROP: u8 = 0;
    /// `NF_ACCEPT`.
    pub const ACCEPT: u8 = 1;
    /// `NF_STOLEN`.
    pub const STOLEN: u8 = 2;
    /// `NF_QUEUE`.
    pub const QUEUE: u8 = 3;
    /// `NF_REPEAT`.
    pub const REPEAT: u8 = 4;

    /// The kernel's numeric code of the verdict (the queue number is not part of it).
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Verdict::Drop => Self::DROP,
            Verdict::Accept => Self::ACCEPT,
            Verdict::Stolen => Self::STOLEN,
            Verdict::Queue(_) => Self::QUEUE,
            Verdict::Repeat => Self::REPEAT,
        }
    }

    /// The verdict with code `code` (queue number 0 for `NF_QUEUE`).
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Verdict> {
        Some(match code {
            Self::DROP => Verdict::Drop,
            Self::ACCEPT => Verdict::Accept,
            Self::STOLEN => Verdict::Stolen,
            Self::QUEUE => Verdict::Queue(0),
            Self::REPEAT => Verdict::Repeat,
            _ => return None,
        })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accept => f.write_str("accept"),
            Verdict::Drop => f.write_str("drop"),
            Verdict::Stolen => f.write_str("stolen"),
            Verdict::Queue(n) => write!(f, "queue num {n}"),
            Verdict::Repeat => f.write_str("repeat"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_names_round_trip_and_aliases() {
        for h in HookPoint::ALL {
            assert_eq!(HookPoint::parse(h.name()), Some(h));
        }
        assert_eq!(HookPoint::parse("local_in"), Some(HookPoint::LocalIn));
        assert_eq!(HookPoint::parse("LOCAL_OUT"), Some(HookPoint::LocalOut));
        assert_eq!(HookPoint::parse("inbound"), None);
    }

    #[test]
    fn priorities_read_as_nft_writes_them() {
        assert_eq!(priority::parse("filter"), Some(0));
        assert_eq!(priority::parse("mangle"), Some(-150));
        assert_eq!(priority::parse("dstnat - 5"), Some(-105));
        assert_eq!(priority::parse("srcnat+10"), Some(110));
        assert_eq!(priority::parse("-300"), Some(priority::RAW));
        assert_eq!(priority::parse("nat"), None);
        assert_eq!(priority::parse("filter + x"), None);
    }

    #[test]
    fn verdict_codes_are_the_kernels() {
        assert_eq!(Verdict::Drop.code(), 0);
        assert_eq!(Verdict::Accept.code(), 1);
        assert_eq!(Verdict::Stolen.code(), 2);
        assert_eq!(Verdict::Queue(7).code(), 3);
        assert_eq!(Verdict::Repeat.code(), 4);
        for c in 0..5 {
            assert_eq!(Verdict::from_code(c).map(Verdict::code), Some(c));
        }
        assert_eq!(Verdict::from_code(5), None);
    }
}
