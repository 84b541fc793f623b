"""Comparison of netcore's dissection with tshark's per-packet reference (shared corpus)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import netcore as nc
from netcore.batch import LAYER_NAMES, VERDICTS

# tshark protocol names → netcore layer names, for the protocols netcore dissects. tshark's
# other names (pseudo-layers like "ethertype", and protocols above or beside ours) are dropped.
TSHARK_TO_NETCORE = {
    "eth": "eth",
    "vlan": "vlan",
    "ieee8021ad": "qinq",
    "mpls": "mpls",
    "arp": "arp",
    "sll": "sll",
    "null": "null",
    "ip": "ipv4",
    "ipv6": "ipv6",
    "ipv6.hopopts": "ipv6.hopopts",
    "ipv6.routing": "ipv6.routing",
    "ipv6.fraghdr": "ipv6.fraghdr",
    "ipv6.dstopts": "ipv6.dstopts",
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "icmpv6": "icmpv6",
    "sctp": "sctp",
    "gre": "gre",
    "vxlan": "vxlan",
    "geneve": "geneve",
}
# netcore names tshark spells differently.
NETCORE_ALIASES = {"sll2": "sll"}
CSUM_FIELDS = {
    "ipv4": "ip_csum",
    "tcp": "tcp_csum",
    "udp": "udp_csum",
    "icmp": "icmp_csum",
    "icmpv6": "icmpv6_csum",
    "sctp": "sctp_csum",
}


@dataclass
class Packet:
    """netcore's view of one packet."""

    layers: list[str]
    csum: dict[str, list[str]]
    frag: int


def netcore_packets(path: str) -> Iterator[Packet]:
    """netcore's dissection of every packet of a capture (lenient reading)."""
    for b in nc.open(path, strict=False):
        layers, nl, csum, frag = b.layers, b.nlayers, b.csum, b.frag
        for i in range(len(b)):
            names = [LAYER_NAMES[c] for c in layers[i, : nl[i]].tolist()]
            verdicts: dict[str, list[str]] = {f: [] for f in CSUM_FIELDS.values()}
            for k, code in enumerate(csum[i, : nl[i]].tolist()):
                field = CSUM_FIELDS.get(names[k])
                if code and field:
                    verdicts[field].append(VERDICTS[code])
            yield Packet([NETCORE_ALIASES.get(n, n) for n in names], verdicts, int(frag[i]))


def tshark_layers(protocols: str) -> list[str]:
    """tshark's protocol chain restricted to the protocols netcore dissects."""
    return [TSHARK_TO_NETCORE[p] for p in protocols.split(":") if p in TSHARK_TO_NETCORE]


def differences(ours: Packet, ref: dict[str, Any]) -> list[str]:
    """What differs between netcore and tshark for one packet ("layers", or a csum field)."""
    out = []
    if ours.layers != tshark_layers(ref["protocols"]):
        out.append("layers")
    for field in CSUM_FIELDS.values():
        if ours.csum[field] != ref[field]:
            out.append(field)
    return out


def compress(numbers: list[int]) -> str:
    """1,2,3,5 → "1-3,5"."""
    parts: list[str] = []
    start = prev = None
    for n in sorted(numbers):
        if start is None:
            start = prev = n
        elif prev is not None and n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}-{prev}" if start != prev else f"{start}")
            start = prev = n
    if start is not None:
        parts.append(f"{start}-{prev}" if start != prev else f"{start}")
    return ",".join(parts)


def expand(spec: str) -> set[int]:
    """ "1-3,5" → {1, 2, 3, 5}."""
    out: set[int] = set()
    for part in spec.split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


__all__ = ["VERDICTS", "compress", "differences", "expand", "netcore_packets", "tshark_layers"]
