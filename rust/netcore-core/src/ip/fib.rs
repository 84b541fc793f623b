//! The forwarding information base: routes by longest-prefix match, and the local addresses
//! of each device.
//!
//! Like the kernel, two tables are consulted in order: the local table (the devices' own
//! addresses and broadcast addresses, which `add_local` fills, as `fib_add_ifaddr` does) and
//! the main table (`add_route`, plus the prefix route of each address). Within a table the
//! longest prefix wins, and among routes of one prefix the lowest metric
//! (`fib_table_lookup`, `fib6_lookup`).
//!
//! Structure: one hash map per prefix length present (address masked to the length → routes
//! of that prefix, sorted by metric), probed from the longest length down. A lookup costs one
//! probe per distinct prefix length in use (a handful in real tables), allocates nothing, and
//! the whole structure is read-only once built, so workers share it. A path-compressed trie
//! would bound probes at the cost of pointer chasing; with few lengths, hashing wins and stays
//! simple.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::icmp::IcmpKind;
use crate::drop_reason::DropReason;

/// What a route does with the packets it matches (`RTN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// Forward to a gateway or a directly connected destination (`RTN_UNICAST`).
    Unicast,
    /// Deliver locally: an address of this host (`RTN_LOCAL`).
    Local,
    /// Deliver locally as a broadcast (`RTN_BROADCAST`, IPv4).
    Broadcast,
    /// Drop silently (`RTN_BLACKHOLE`).
    Blackhole,
    /// Drop with "unreachable" (`RTN_UNREACHABLE`).
    Unreachable,
    /// Drop with "administratively prohibited" (`RTN_PROHIBIT`).
    Prohibit,
}

/// An address prefix: an address and a prefix length, with no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

/// Why a route or address was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FibError {
    /// The prefix text is not `ADDR/LEN` or `ADDR`.
    BadPrefix(String),
    /// The prefix has bits set beyond its length (like `ip route`'s "Invalid prefix for
    /// given prefix length").
    HostBits(String),
    /// The gateway is not of the route's family.
    GatewayFamily,
    /// A route with this prefix and metric exists (`EEXIST`).
    Exists(String),
}

impl fmt::Display for FibError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FibError::BadPrefix(s) => write!(f, "\"{s}\" is not an address or prefix"),
            FibError::HostBits(s) => write!(f, "invalid prefix {s}: host bits are set"),
            FibError::GatewayFamily => f.write_str("the gateway is not of the route's family"),
            FibError::Exists(s) => write!(f, "a route to {s} with this metric exists"),
        }
    }
}

impl std::error::Error for FibError {}

/// The address bits of `a` (IPv4 in the low 32 bits) and the family's width.
fn bits_of(a: IpAddr) -> (u128, u8) {
    match a {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// The mask keeping the first `len` of `width` address bits.
fn net_mask(len: u8, width: u8) -> u128 {
    let host = u128::MAX
        .checked_shr(u32::from(128 - width + len))
        .unwrap_or(0);
    let all = u128::MAX.checked_shr(u32::from(128 - width)).unwrap_or(0);
    all & !host
}

impl Prefix {
    /// The prefix `addr/len`; an error when `len` is longer than the address or host bits are
    /// set.
    pub fn new(addr: IpAddr, len: u8) -> Result<Prefix, FibError> {
        let (bits, width) = bits_of(addr);
        if len > width {
            return Err(FibError::BadPrefix(format!("{addr}/{len}")));
        }
        if bits & !net_mask(len, width) != 0 {
            return Err(FibError::HostBits(format!("{addr}/{len}")));
        }
        Ok(Prefix { addr, len })
    }

    /// The network address.
    #[must_use]
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    #[must_use]
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether `a` is in the prefix.
    #[must_use]
    pub fn contains(&self, a: IpAddr) -> bool {
        let (bits, width) = bits_of(a);
        let (net, w) = bits_of(self.addr);
        w == width && bits & net_mask(self.len, width) == net
    }
}

impl FromStr for Prefix {
    type Err = FibError;

    /// Reads `ADDR/LEN`, or `ADDR` as a host prefix; `default` is `0.0.0.0/0` (`::/0` is
    /// written out).
    fn from_str(s: &str) -> Result<Prefix, FibError> {
        let bad = || FibError::BadPrefix(s.to_string());
        if s == "default" {
            return Prefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        }
        let (a, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let len = len.unwrap_or(if addr.is_ipv4() { 32 } else { 128 });
        Prefix::new(addr, len)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The destinations it covers.
    pub prefix: Prefix,
    /// What it does.
    pub kind: RouteKind,
    /// Output device (ifindex; the owning device for local routes).
    pub dev: u32,
    /// Next hop, `None` for a directly connected destination.
    pub gateway: Option<IpAddr>,
    /// Preference among routes of one prefix: lower wins.
    pub metric: u32,
}

impl Route {
    /// The address to send to: the gateway, or the destination itself on a connected route.
    #[must_use]
    pub fn next_hop(&self, dst: IpAddr) -> IpAddr {
        self.gateway.unwrap_or(dst)
    }
}

/// A multiply-shift hasher for masked addresses (they are not attacker-chosen keys of a
/// long-lived map: routes are configuration).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, v: u128) {
        let folded = (v as u64) ^ ((v >> 64) as u64).rotate_left(29);
        self.0 = (folded ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 ^= self.0 >> 29;
    }
}

type PrefixMap = HashMap<u128, Vec<Route>, BuildHasherDefault<KeyHasher>>;

/// The routes of one family in one table.
#[derive(Debug, Clone, Default)]
struct LpmTable {
    /// Prefix lengths in use, longest first.
    lens: Vec<u8>,
    /// Routes by prefix length, then by network address.
    by_len: Vec<PrefixMap>,
}

impl LpmTable {
    fn insert(&mut self, route: Route) -> Result<(), FibError> {
        let (bits, _) = bits_of(route.prefix.addr);
        let len = route.prefix.len;
        if self.by_len.len() <= usize::from(len) {
            self.by_len
                .resize_with(usize::from(len) + 1, PrefixMap::default);
        }
        let routes = self.by_len[usize::from(len)].entry(bits).or_default();
        if routes.iter().any(|r| r.metric == route.metric) {
            return Err(FibError::Exists(route.prefix.to_string()));
        }
        let at = routes.partition_point(|r| r.metric <= route.metric);
        routes.insert(at, route);
        if !self.lens.contains(&len) {
            self.lens.push(len);
            self.lens.sort_unstable_by(|a, b| b.cmp(a));
        }
        Ok(())
    }

    fn remove(&mut self, prefix: Prefix, metric: Option<u32>) -> usize {
        let (bits, _) = bits_of(prefix.addr);
        let len = prefix.len;
        let Some(map) = self.by_len.get_mut(usize::from(len)) else {
            return 0;
        };
        let Some(routes) = map.get_mut(&bits) else {
            return 0;
        };
        let before = routes.len();
        routes.retain(|r| metric.is_some_and(|m| m != r.metric));
        let removed = before - routes.len();
        if routes.is_empty() {
            map.remove(&bits);
        }
        if map.is_empty() {
            self.lens.retain(|&l| l != len);
        }
        removed
    }

    #[inline]
    fn lookup(&self, bits: u128, width: u8) -> Option<&Route> {
        self.lens.iter().find_map(|&len| {
            self.by_len
                .get(usize::from(len))?
                .get(&(bits & net_mask(len, width)))?
                .first()
        })
    }

    fn routes(&self) -> impl Iterator<Item = &Route> {
        self.by_len.iter().flat_map(|m| m.values().flatten())
    }
}

/// One table: IPv4 and IPv6 routes.
#[derive(Debug, Clone, Default)]
struct Table {
    v4: LpmTable,
    v6: LpmTable,
}

impl Table {
    fn family(&mut self, a: IpAddr) -> &mut LpmTable {
        if a.is_ipv4() {
            &mut self.v4
        } else {
            &mut self.v6
        }
    }

    #[inline]
    fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        let (bits, width) = bits_of(dst);
        if width == 32 {
            self.v4.lookup(bits, 32)
        } else {
            self.v6.lookup(bits, 128)
        }
    }
}

/// Metric of the prefix route of an IPv6 address (`IP6_RT_PRIO_ADDRCONF`); IPv4 uses 0.
const V6_PREFIX_ROUTE_METRIC: u32 = 256;

/// Where a received packet goes, decided by its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputRoute<'a> {
    /// To this host (a local or broadcast route).
    Local(&'a Route),
    /// Through this host, by this route.
    Forward(&'a Route),
}

/// Why a received packet has no usable route: the drop reason and the ICMP error the kernel
/// sends for it (`ip_error`, `ip6_pkt_drop`), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoute {
    /// The drop reason.
    pub reason: DropReason,
    /// The error to send back (ICMP for IPv4, ICMPv6 for IPv6), if any.
    pub icmp: Option<IcmpKind>,
}

/// Routes and local addresses of one namespace.
#[derive(Debug, Clone, Default)]
pub struct Fib {
    local: Table,
    main: Table,
    addresses: Vec<(u32, IpAddr, Prefix)>,
}

impl Fib {
    /// An empty FIB.
    #[must_use]
    pub fn new() -> Fib {
        Fib::default()
    }

    /// Adds a route to the main table.
    pub fn add_route(&mut self, route: Route) -> Result<(), FibError> {
        if route
            .gateway
            .is_some_and(|g| g.is_ipv4() != route.prefix.addr.is_ipv4())
        {
            return Err(FibError::GatewayFamily);
        }
        self.main.family(route.prefix.addr).insert(route)
    }

    /// Removes the main-table routes of `prefix` (only the one with `metric` if given);
    /// returns how many went.
    pub fn remove_route(&mut self, prefix: Prefix, metric: Option<u32>) -> usize {
        self.main.family(prefix.addr).remove(prefix, metric)
    }

    /// Gives device `ifindex` the address `addr` in prefix `addr/len`, as `ip addr add` does:
    /// a local route for the address in the local table, a broadcast route for the subnet's
    /// broadcast address (IPv4 prefixes up to /30, as `brd +`), and the prefix route through
    /// the device in the main table (metric 0 for IPv4, 256 for IPv6).
    pub fn add_local(&mut self, ifindex: u32, addr: IpAddr, len: u8) -> Result<(), FibError> {
        let (bits, width) = bits_of(addr);
        if len > width {
            return Err(FibError::BadPrefix(format!("{addr}/{len}")));
        }
        let net = bits & net_mask(len, width);
        let prefix = Prefix::new(from_bits(net, width), len)?;
        let host = Prefix::new(addr, width)?;
        let local = Route {
            prefix: host,
            kind: RouteKind::Local,
            dev: ifindex,
            gateway: None,
            metric: 0,
        };
        // The same address on two devices: the first keeps the local route, as in the kernel.
        let _ = self.local.family(addr).insert(local);
        if width == 32 && len <= 30 {
            let brd = from_bits(net | !net_mask(len, width) & u128::from(u32::MAX), width);
            let _ = self.local.family(addr).insert(Route {
                prefix: Prefix::new(brd, 32)?,
                kind: RouteKind::Broadcast,
                ..local
            });
        }
        if len < width {
            let metric = if width == 32 {
                0
            } else {
                V6_PREFIX_ROUTE_METRIC
            };
            let _ = self.main.family(addr).insert(Route {
                prefix,
                kind: RouteKind::Unicast,
                metric,
                ..local
            });
        }
        self.addresses.push((ifindex, addr, prefix));
        Ok(())
    }

    /// The route for `dst`: the local table first, then the longest matching prefix of the
    /// main table with the lowest metric.
    #[inline]
    #[must_use]
    pub fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        self.local.lookup(dst).or_else(|| self.main.lookup(dst))
    }

    /// Whether `addr` is an address of this host.
    #[must_use]
    pub fn is_local(&self, addr: IpAddr) -> bool {
        self.local
            .lookup(addr)
            .is_some_and(|r| r.kind == RouteKind::Local)
    }

    /// The addresses of device `ifindex` with their prefixes, in the order they were added.
    pub fn addresses(&self, ifindex: u32) -> impl Iterator<Item = (IpAddr, Prefix)> + '_ {
        self.addresses
            .iter()
            .filter(move |(i, _, _)| *i == ifindex)
            .map(|&(_, a, p)| (a, p))
    }

    /// Every route of the main table (in no particular order).
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.main.v4.routes().chain(self.main.v6.routes())
    }

    /// Decides a received packet's fate from its destination (`ip_route_input_slow`,
    /// `ip6_route_input`): local delivery, forwarding, or a drop with the ICMP error the
    /// kernel sends (network unreachable without a route; host unreachable / no route for
    /// an unreachable route; "prohibited" for a prohibit route; nothing for a blackhole).
    pub fn route_input(&self, dst: IpAddr) -> Result<InputRoute<'_>, NoRoute> {
        let v4 = dst.is_ipv4();
        let unreachable = |v4_code, v6_code| NoRoute {
            reason: DropReason::IpInnoroutes,
            icmp: Some(if v4 {
                IcmpKind::dest_unreach(v4_code)
            } else {
                IcmpKind::v6_dest_unreach(v6_code)
            }),
        };
        let Some(route) = self.lookup(dst) else {
            return Err(unreachable(0, 0));
        };
        match route.kind {
            RouteKind::Local | RouteKind::Broadcast => Ok(InputRoute::Local(route)),
            RouteKind::Unicast => Ok(InputRoute::Forward(route)),
            RouteKind::Blackhole => Err(NoRoute {
                reason: DropReason::NotSpecified,
                icmp: None,
            }),
            RouteKind::Unreachable => Err(unreachable(1, 0)),
            RouteKind::Prohibit => Err(unreachable(13, 1)),
        }
    }

    /// The source address of an ICMP error to `dst` (the offending packet's source) that came
    /// in on device `iif`: an address of the device the route to `dst` leaves by, preferring
    /// one whose prefix holds `dst` or the route's gateway, else one of `iif`'s (the kernel
    /// selects the source of the reply's output route, `inet_select_addr`).
    #[must_use]
    pub fn error_source(&self, dst: IpAddr, iif: u32) -> Option<IpAddr> {
        let route = self.lookup(dst);
        let dev = route.map_or(iif, |r| r.dev);
        let toward = route.map_or(dst, |r| r.next_hop(dst));
        let same_family = |a: &IpAddr| a.is_ipv4() == dst.is_ipv4();
        let on = |dev| self.addresses(dev).filter(move |(a, _)| same_family(a));
        on(dev)
            .find(|(_, p)| p.contains(toward))
            .or_else(|| on(dev).next())
            .or_else(|| on(iif).next())
            .map(|(a, _)| a)
    }
}

fn from_bits(bits: u128, width: u8) -> IpAddr {
    if width == 32 {
        IpAddr::V4(Ipv4Addr::from(bits as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(bits))
    }
}
