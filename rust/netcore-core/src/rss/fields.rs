//! Which header fields feed the hash, per traffic type, like `ethtool -N DEV rx-flow-hash`.

use std::fmt;

use crate::error::{Error, Result};

/// A traffic type with its own input set (`ethtool`'s flow types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowType {
    /// TCP over IPv4.
    Tcp4,
    /// UDP over IPv4.
    Udp4,
    /// SCTP over IPv4.
    Sctp4,
    /// Any other IPv4 packet, and every IPv4 fragment.
    Ip4,
    /// TCP over IPv6.
    Tcp6,
    /// UDP over IPv6.
    Udp6,
    /// SCTP over IPv6.
    Sctp6,
    /// Any other IPv6 packet, and every IPv6 fragment.
    Ip6,
}

impl FlowType {
    /// Every flow type, in table order.
    pub const ALL: [FlowType; 8] = [
        FlowType::Tcp4,
        FlowType::Udp4,
        FlowType::Sctp4,
        FlowType::Ip4,
        FlowType::Tcp6,
        FlowType::Udp6,
        FlowType::Sctp6,
        FlowType::Ip6,
    ];

    /// `ethtool`'s name: `tcp4`, `udp6`, `ip4`, …
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FlowType::Tcp4 => "tcp4",
            FlowType::Udp4 => "udp4",
            FlowType::Sctp4 => "sctp4",
            FlowType::Ip4 => "ip4",
            FlowType::Tcp6 => "tcp6",
            FlowType::Udp6 => "udp6",
            FlowType::Sctp6 => "sctp6",
            FlowType::Ip6 => "ip6",
        }
    }

    /// The flow type named `name`.
    pub fn from_name(name: &str) -> Result<Self> {
        FlowType::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown flow type {name:?}: use one of {}",
                    FlowType::ALL.map(FlowType::name).join(", ")
                ))
            })
    }

    /// The flow type of a packet: its IP version and, when its ports were found, its protocol.
    #[must_use]
    pub fn classify(ipv6: bool, proto: u8, has_ports: bool) -> Self {
        let l4 = if has_ports { proto } else { 0 };
        match (ipv6, l4) {
            (false, 6) => FlowType::Tcp4,
            (false, 17) => FlowType::Udp4,
            (false, 132) => FlowType::Sctp4,
            (false, _) => FlowType::Ip4,
            (true, 6) => FlowType::Tcp6,
            (true, 17) => FlowType::Udp6,
            (true, 132) => FlowType::Sctp6,
            (true, _) => FlowType::Ip6,
        }
    }

    fn has_ports(self) -> bool {
        !matches!(self, FlowType::Ip4 | FlowType::Ip6)
    }
}

/// Fields of a flow that enter the hash, in `ethtool`'s letters: `s` IP source, `d` IP
/// destination, `f` L4 bytes 0–1 (source port), `n` L4 bytes 2–3 (destination port).
///
/// The hash input always has the order of Microsoft's specification: source address,
/// destination address, source port, destination port, each only when selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HashFields(u8);

impl HashFields {
    /// IP source address.
    pub const SRC: HashFields = HashFields(1);
    /// IP destination address.
    pub const DST: HashFields = HashFields(2);
    /// L4 source port.
    pub const SPORT: HashFields = HashFields(4);
    /// L4 destination port.
    pub const DPORT: HashFields = HashFields(8);
    /// Addresses only (`sd`).
    pub const SD: HashFields = HashFields(1 | 2);
    /// Addresses and ports (`sdfn`).
    pub const SDFN: HashFields = HashFields(1 | 2 | 4 | 8);

    const LETTERS: [(char, HashFields); 4] = [
        ('s', HashFields::SRC),
        ('d', HashFields::DST),
        ('f', HashFields::SPORT),
        ('n', HashFields::DPORT),
    ];

    /// Parses `ethtool` letters (`"sd"`, `"sdfn"`, …; any order, each once at most).
    pub fn parse(letters: &str) -> Result<Self> {
        let mut fields = HashFields(0);
        for c in letters.chars() {
            let Some(&(_, f)) = Self::LETTERS.iter().find(|(l, _)| *l == c) else {
                return Err(Error::Config(format!(
                    "hash field {c:?} in {letters:?} is not supported: use s, d, f and n \
                     (IP source, IP destination, L4 bytes 0-1, L4 bytes 2-3)"
                )));
            };
            if fields.contains(f) {
                return Err(Error::Config(format!(
                    "hash field {c:?} repeated in {letters:?}"
                )));
            }
            fields.0 |= f.0;
        }
        if fields.0 == 0 {
            return Err(Error::Config(
                "empty hash field set: use e.g. sd or sdfn".into(),
            ));
        }
        Ok(fields)
    }

    /// Whether every field of `other` is selected.
    #[must_use]
    pub fn contains(self, other: HashFields) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether a port is selected: the hash is then an L4 hash (`skb->l4_hash`).
    #[must_use]
    pub fn has_ports(self) -> bool {
        self.0 & (HashFields::SPORT.0 | HashFields::DPORT.0) != 0
    }
}

impl fmt::Display for HashFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (letter, field) in Self::LETTERS {
            if self.contains(field) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

/// The input set of every flow type.
///
/// Defaults: addresses and ports for TCP, UDP and SCTP, addresses for the rest (as mlx5 and
/// i40e set them; ixgbe leaves UDP ports out unless asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSet([HashFields; 8]);

impl Default for InputSet {
    fn default() -> Self {
        InputSet(FlowType::ALL.map(|t| {
            if t.has_ports() {
                HashFields::SDFN
            } else {
                HashFields::SD
            }
        }))
    }
}

impl InputSet {
    /// The fields hashed for `flow`.
    #[must_use]
    pub fn get(&self, flow: FlowType) -> HashFields {
        self.0[flow as usize]
    }

    /// Sets the fields hashed for `flow`; types without ports (`ip4`, `ip6`) refuse `f`/`n`.
    pub fn set(&mut self, flow: FlowType, fields: HashFields) -> Result<()> {
        if fields.has_ports() && !flow.has_ports() {
            return Err(Error::Config(format!(
                "flow type {} has no ports: its fields must be among s and d, got {fields}",
                flow.name()
            )));
        }
        self.0[flow as usize] = fields;
        Ok(())
    }
}
