"""Readable header objects for one packet, parsed on demand from its bytes.

The dissector (in Rust) finds where each header starts; these small classes read the fields a
person looks at. They are conveniences for exploring packets one at a time; for volume, use the
batch columns.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

__all__ = [
    "ARP",
    "GRE",
    "ICMP",
    "SCTP",
    "TCP",
    "UDP",
    "VXLAN",
    "Ethernet",
    "Geneve",
    "ICMPv6",
    "IPv4",
    "IPv6",
    "Vlan",
]

TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE")


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


@dataclass(frozen=True)
class Ethernet:
    """Ethernet II header."""

    dst: str
    src: str
    type: int

    @classmethod
    def parse(cls, b: bytes) -> Ethernet:
        return cls(_mac(b[0:6]), _mac(b[6:12]), struct.unpack_from("!H", b, 12)[0])


@dataclass(frozen=True)
class Vlan:
    """802.1Q / 802.1ad tag."""

    pcp: int
    dei: bool
    vid: int
    type: int

    @classmethod
    def parse(cls, b: bytes) -> Vlan:
        tci, t = struct.unpack_from("!HH", b, 0)
        return cls(tci >> 13, bool(tci & 0x1000), tci & 0x0FFF, t)


@dataclass(frozen=True)
class ARP:
    """ARP (Ethernet/IPv4 addresses are shown as text, others as hex)."""

    htype: int
    ptype: int
    op: int
    sha: str
    spa: str
    tha: str
    tpa: str

    @classmethod
    def parse(cls, b: bytes) -> ARP:
        htype, ptype, hlen, plen, op = struct.unpack_from("!HHBBH", b, 0)
        at = 8
        sha, at = b[at : at + hlen], at + hlen
        spa, at = b[at : at + plen], at + plen
        tha, at = b[at : at + hlen], at + hlen
        tpa = b[at : at + plen]

        def proto(x: bytes) -> str:
            return str(ipaddress.IPv4Address(x)) if len(x) == 4 else x.hex()

        return cls(htype, ptype, op, _mac(sha), proto(spa), _mac(tha), proto(tpa))


@dataclass(frozen=True)
class IPv4:
    """IPv4 header."""

    src: ipaddress.IPv4Address
    dst: ipaddress.IPv4Address
    ihl: int
    tos: int
    len: int
    id: int
    df: bool
    mf: bool
    frag_offset: int
    ttl: int
    proto: int
    checksum: int
    options: bytes

    @classmethod
    def parse(cls, b: bytes) -> IPv4:
        vihl, tos, total, ident, frag, ttl, proto, csum = struct.unpack_from("!BBHHHBBH", b, 0)
        ihl = vihl & 0x0F
        return cls(
            ipaddress.IPv4Address(b[12:16]),
            ipaddress.IPv4Address(b[16:20]),
            ihl,
            tos,
            total,
            ident,
            bool(frag & 0x4000),
            bool(frag & 0x2000),
            (frag & 0x1FFF) * 8,
            ttl,
            proto,
            csum,
            bytes(b[20 : ihl * 4]),
        )


@dataclass(frozen=True)
class IPv6:
    """IPv6 fixed header."""

    src: ipaddress.IPv6Address
    dst: ipaddress.IPv6Address
    traffic_class: int
    flow_label: int
    payload_len: int
    next_header: int
    hop_limit: int

    @classmethod
    def parse(cls, b: bytes) -> IPv6:
        word, plen, nh, hlim = struct.unpack_from("!IHBB", b, 0)
        return cls(
            ipaddress.IPv6Address(b[8:24]),
            ipaddress.IPv6Address(b[24:40]),
            (word >> 20) & 0xFF,
            word & 0xFFFFF,
            plen,
            nh,
            hlim,
        )


@dataclass(frozen=True)
class TCP:
    """TCP header (options as raw bytes)."""

    sport: int
    dport: int
    seq: int
    ack: int
    data_offset: int
    flags: int
    window: int
    checksum: int
    urgent: int
    options: bytes

    @property
    def flag_names(self) -> list[str]:
        """Names of the flags set, e.g. ``["SYN", "ACK"]``."""
        return [n for i, n in enumerate(TCP_FLAGS) if self.flags & (1 << i)]

    @classmethod
    def parse(cls, b: bytes) -> TCP:
        sport, dport, seq, ack, off, fl, win, csum, urg = struct.unpack_from("!HHIIBBHHH", b, 0)
        doff = off >> 4
        flags = fl | ((off & 1) << 8)
        return cls(sport, dport, seq, ack, doff, flags, win, csum, urg, bytes(b[20 : doff * 4]))


@dataclass(frozen=True)
class UDP:
    """UDP header."""

    sport: int
    dport: int
    len: int
    checksum: int

    @classmethod
    def parse(cls, b: bytes) -> UDP:
        return cls(*struct.unpack_from("!HHHH", b, 0))


@dataclass(frozen=True)
class ICMP:
    """ICMP header (type, code, checksum, and the rest-of-header word)."""

    type: int
    code: int
    checksum: int
    rest: int

    @classmethod
    def parse(cls, b: bytes) -> ICMP:
        t, c, csum = struct.unpack_from("!BBH", b, 0)
        rest = struct.unpack_from("!I", b, 4)[0] if len(b) >= 8 else 0
        return cls(t, c, csum, rest)


class ICMPv6(ICMP):
    """ICMPv6 header."""


@dataclass(frozen=True)
class SCTP:
    """SCTP common header."""

    sport: int
    dport: int
    vtag: int
    checksum: int

    @classmethod
    def parse(cls, b: bytes) -> SCTP:
        return cls(*struct.unpack_from("!HHII", b, 0))


@dataclass(frozen=True)
class GRE:
    """GRE header (RFC 2784/2890)."""

    flags: int
    version: int
    proto: int
    key: int | None

    @classmethod
    def parse(cls, b: bytes) -> GRE:
        fl, proto = struct.unpack_from("!HH", b, 0)
        at = 4 + (4 if fl & 0x8000 else 0)
        key = struct.unpack_from("!I", b, at)[0] if fl & 0x2000 and len(b) >= at + 4 else None
        return cls(fl & 0xFFF8, fl & 7, proto, key)


@dataclass(frozen=True)
class VXLAN:
    """VXLAN header."""

    flags: int
    vni: int

    @classmethod
    def parse(cls, b: bytes) -> VXLAN:
        w0, w1 = struct.unpack_from("!II", b, 0)
        return cls(w0 >> 24, w1 >> 8)


@dataclass(frozen=True)
class Geneve:
    """Geneve header (options as raw bytes)."""

    version: int
    oam: bool
    critical: bool
    proto: int
    vni: int
    options: bytes

    @classmethod
    def parse(cls, b: bytes) -> Geneve:
        b0, b1, proto, w = struct.unpack_from("!BBHI", b, 0)
        olen = (b0 & 0x3F) * 4
        return cls(b0 >> 6, bool(b1 & 0x80), bool(b1 & 0x40), proto, w >> 8, bytes(b[8 : 8 + olen]))


PARSERS: dict[str, type] = {
    "eth": Ethernet,
    "vlan": Vlan,
    "qinq": Vlan,
    "arp": ARP,
    "ipv4": IPv4,
    "ipv6": IPv6,
    "tcp": TCP,
    "udp": UDP,
    "icmp": ICMP,
    "icmpv6": ICMPv6,
    "sctp": SCTP,
    "gre": GRE,
    "vxlan": VXLAN,
    "geneve": Geneve,
}
