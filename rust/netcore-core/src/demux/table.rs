//! Demultiplexing tables in the spirit of the kernel's `ptype_base` (ethertype → network
//! handler), `inet_protos` (IP protocol → transport handler) and UDP encapsulation sockets
//! (destination port → tunnel decapsulation), and the classification of dissected packets to
//! registered handlers.

use std::collections::HashMap;

use super::columns::Columns;

/// A registered handler, by number (the binding maps numbers to Python callables).
pub type HandlerId = u16;

/// A tunnel decapsulated on a UDP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    /// VXLAN (RFC 7348).
    Vxlan,
    /// Geneve (RFC 8926).
    Geneve,
}

/// What a handler claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Match {
    /// Packets whose network layer has this ethertype (a `ptype` handler).
    EtherType(u16),
    /// Packets whose transport layer has this IP protocol (an `inet_protos` handler).
    IpProto(u8),
    /// UDP datagrams to this destination port (an encapsulation socket).
    UdpPort(u16),
}

/// The protocol a packet ended in when no handler claimed it, for per-protocol counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unclaimed {
    /// Not IP: counted by ethertype (0 when the link layer carried none).
    EtherType(u16),
    /// IP: counted by IP protocol.
    IpProto(u8),
    /// An IP fragment, which needs reassembly before a transport handler can see it.
    Fragment,
    /// Malformed, counted by drop reason code.
    Malformed(u16),
}

/// The tables of one namespace.
#[derive(Debug, Clone)]
pub struct Tables {
    encap: Vec<(u16, Encap)>,
    handlers: HashMap<Match, HandlerId>,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            // IANA-assigned ports, where Linux's vxlan and geneve devices listen by default.
            encap: vec![(4789, Encap::Vxlan), (6081, Encap::Geneve)],
            handlers: HashMap::new(),
        }
    }
}

impl Tables {
    /// Tables with VXLAN on 4789, Geneve on 6081 and no handlers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The tunnel decapsulated on UDP destination port `port`.
    #[inline]
    #[must_use]
    pub fn encap(&self, port: u16) -> Option<Encap> {
        self.encap.iter().find(|(p, _)| *p == port).map(|(_, e)| *e)
    }

    /// Sets (or with `None` removes) the tunnel decapsulated on `port`.
    pub fn set_encap(&mut self, port: u16, encap: Option<Encap>) {
        self.encap.retain(|(p, _)| *p != port);
        if let Some(e) = encap {
            self.encap.push((port, e));
        }
    }

    /// Ports with a tunnel, sorted.
    #[must_use]
    pub fn encap_ports(&self) -> Vec<(u16, Encap)> {
        let mut v = self.encap.clone();
        v.sort_by_key(|(p, _)| *p);
        v
    }

    /// Registers `id` for `m`. Fails when another handler already holds `m`.
    pub fn register(&mut self, m: Match, id: HandlerId) -> crate::Result<()> {
        if let Some(other) = self.handlers.get(&m) {
            return Err(crate::Error::Config(format!(
                "{m:?} is already handled by handler {other}"
            )));
        }
        self.handlers.insert(m, id);
        Ok(())
    }

    /// Removes every registration of `id`.
    pub fn unregister(&mut self, id: HandlerId) {
        self.handlers.retain(|_, h| *h != id);
    }

    /// Assigns each dissected packet to the first handler that claims it along its
    /// demultiplexing path (outer ethertype, outer IP protocol, outer UDP port, then the same
    /// for a tunnel's inner packet), as the receive path would hand it over. Returns the
    /// handler per row (0: none) and counts of what no handler claimed.
    #[must_use]
    pub fn classify(&self, cols: &Columns) -> (Vec<HandlerId>, Vec<(Unclaimed, u64)>) {
        let mut out = Vec::with_capacity(cols.len());
        let mut unclaimed: Vec<(Unclaimed, u64)> = Vec::new();
        let get = |m: Match| self.handlers.get(&m).copied();
        for i in 0..cols.len() {
            let claim = if cols.malformed[i] || self.handlers.is_empty() {
                None
            } else {
                let mut c = get(Match::EtherType(cols.ethertype[i]));
                let ip = cols.ip_version[i] != 0 && cols.frag[i] == 0;
                if c.is_none() && ip {
                    c = get(Match::IpProto(cols.l4proto[i]));
                    if c.is_none() && cols.l4proto[i] == 17 {
                        c = get(Match::UdpPort(cols.dport[i]));
                    }
                }
                if c.is_none() && cols.tunnel[i] != 0 {
                    c = get(Match::EtherType(cols.inner_ethertype[i]))
                        .or_else(|| get(Match::IpProto(cols.inner_l4proto[i])))
                        .or_else(|| {
                            (cols.inner_l4proto[i] == 17)
                                .then(|| get(Match::UdpPort(cols.inner_dport[i])))
                                .flatten()
                        });
                }
                c
            };
            out.push(claim.unwrap_or(0));
            if claim.is_none() {
                let key = if cols.malformed[i] {
                    Unclaimed::Malformed(cols.drop_reason[i])
                } else if cols.frag[i] != 0 {
                    Unclaimed::Fragment
                } else if cols.tunnel[i] != 0 && cols.inner_l4proto[i] != 0 {
                    Unclaimed::IpProto(cols.inner_l4proto[i])
                } else if cols.ip_version[i] != 0 {
                    Unclaimed::IpProto(cols.l4proto[i])
                } else {
                    Unclaimed::EtherType(cols.ethertype[i])
                };
                match unclaimed.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, n)) => *n += 1,
                    None => unclaimed.push((key, 1)),
                }
            }
        }
        (out, unclaimed)
    }
}
