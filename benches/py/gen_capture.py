"""Generates large, realistic, deterministic captures for the benchmarks.

Frames are Ethernet II carrying IPv4 or IPv6 and TCP or UDP, with valid IPv4 header checksums and
valid TCP/UDP checksums, in an IMIX-like mix of sizes (7:4:1 of 64-, 594- and 1518-byte frames on
the wire, i.e. 60, 590 and 1514 bytes captured without the FCS; IPv6 ACKs are 74 bytes since
their headers alone exceed 60).

The ``tunnel`` mix carries the same kind of TCP/UDP packets inside tunnels: VXLAN (UDP 4789),
Geneve (UDP 6081, some with an option) and GRE (with or without a key, carrying IPv4, IPv6 or an
Ethernet frame), over IPv4 or IPv6, a quarter of the outer frames with an 802.1Q tag. Every
checksum is valid: outer and inner IPv4 headers, the outer UDP checksum (never zero, also over
IPv4) and the inner TCP/UDP checksums. Sizes are 7:4:1 of minimal (an inner ACK or a small
datagram, 78 to 160 bytes), 590- and 1514-byte outer frames.

Speed: a few hundred template frames (one per flow) are built once, with the one's-complement sums
of their fixed parts precomputed. Each packet then copies a template and rewrites only the fields
that vary (source host, IPv4 identification, TCP sequence number or UDP source port) and the
checksums, which are finished from the precomputed sums with a couple of additions. Two million
IMIX packets take a few seconds.

Usage::

    python benches/py/gen_capture.py [OUT] --packets N [--format pcap|pcapng]
        [--mix imix|64|1500|tunnel]

OUT defaults to ``benches/py/data/<mix>-<N>.<format>``.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DATA_DIR", "default_path", "generate", "main"]

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Captured frame sizes of the small, medium and large classes (wire sizes less the 4-byte FCS).
SMALL, MEDIUM, LARGE = 60, 590, 1514
#: (size class, weight) of each mix.
MIXES: dict[str, list[tuple[int, int]]] = {
    "imix": [(SMALL, 7), (MEDIUM, 4), (LARGE, 1)],
    "64": [(SMALL, 1)],
    "1500": [(LARGE, 1)],
    # Same classes; SMALL means the smallest inner packet (the outer headers exceed 60 bytes).
    "tunnel": [(SMALL, 7), (MEDIUM, 4), (LARGE, 1)],
}
FORMATS = ("pcap", "pcapng")

TEMPLATES = 384
T0_US = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z in microseconds
FLUSH = 8 << 20

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262_144, 1)  # Ethernet, us
_REC = struct.Struct("<IIII")  # ts_sec, ts_usec, caplen, wirelen
_EPB = struct.Struct("<IIIIIII")  # type, total, if_id, ts_hi, ts_lo, caplen, wirelen
# Varying fields, packed in one call each (big-endian, network order).
_V4 = struct.Struct(">HHBBHHH")  # ident, flags/frag, ttl, proto, csum, src_hi, src_lo
_V6_SRC_LO = struct.Struct(">H")
_TCP = struct.Struct(">IIBBHH")  # seq, ack, data offset, flags, window, csum
_UDP = struct.Struct(">HHHH")  # sport, dport, length, csum
_U16 = struct.Struct(">H")

ETH_LEN = 14


def _sum16(data: bytes) -> int:
    """One's-complement sum (unfolded) of ``data`` as big-endian 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f">{len(data) // 2}H", data))


def _fold(s: int) -> int:
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return s


@dataclass
class _Template:
    """One flow: a whole frame with its varying fields zeroed, and precomputed sums."""

    frame: bytes
    """Frame bytes (pcapng: padded to 4 and followed by the block trailer)."""
    caplen: int
    ipv6: bool
    tcp: bool
    l3: int
    """Offset of the IP header in the frame."""
    l4: int
    """Offset of the TCP/UDP header in the frame."""
    ip_sum: int
    """IPv4: sum of the header without ident, checksum and low source word."""
    l4_sum: int
    """Sum of pseudo-header and segment without low source word, seq/sport and checksum."""
    src_hi: int
    flags_frag: int
    ttl: int
    proto: int
    dport: int
    ack: int
    tcp_flags: int
    window: int
    udp_len: int
    seq_step: int
    """TCP payload length: how far the sequence number moves per packet."""


def _template(rng: random.Random, size: int, ipv6: bool, tcp: bool) -> _Template:
    mac_dst = bytes([0x02, 0x00, 0x5E]) + rng.randbytes(3)
    mac_src = bytes([0x02, 0x42, 0xAC]) + rng.randbytes(3)
    proto = 6 if tcp else 17
    l4_hlen = 20 if tcp else 8
    l3_hlen = 40 if ipv6 else 20
    headers = ETH_LEN + l3_hlen + l4_hlen
    if size == SMALL:
        # TCP: a pure ACK; UDP: a small datagram. Ethernet pads to 60 (IPv4 only).
        payload_len = 0 if tcp else (16 if ipv6 else SMALL - headers)
    else:
        payload_len = size - headers
    payload = rng.randbytes(payload_len)
    seg_len = l4_hlen + payload_len
    sport = rng.randrange(1024, 65536)
    dport = rng.choice([80, 443, 443, 443, 53, 123, 8080, 22, 3478, 5201])
    ack = rng.getrandbits(32)
    tcp_flags = 0x10 if payload_len == 0 else 0x18  # ACK, or PSH+ACK
    window = rng.choice([502, 1024, 8192, 29200, 64240, 65535])
    if ipv6:
        src = bytes.fromhex("20010db8") + rng.randbytes(10) + b"\0\0"
        dst = bytes.fromhex("20010db8") + rng.randbytes(12)
        ip = struct.pack(
            ">IHBB16s16s", 0x6000_0000 | rng.getrandbits(20), seg_len, proto, 64, src, dst
        )
        pseudo = src + dst + struct.pack(">IxxxB", seg_len, proto)
        ip_sum = 0
        src_hi = 0
        flags_frag = ttl = 0
        ethertype = 0x86DD
    else:
        src = bytes([10, rng.randrange(256), 0, 0])
        dst = bytes(
            [
                rng.choice([172, 192, 203]),
                rng.randrange(256),
                rng.randrange(256),
                rng.randrange(1, 255),
            ]
        )
        flags_frag, ttl = 0x4000, rng.choice([64, 64, 128, 255, 57])
        ip = struct.pack(
            ">BBHHHBBH4s4s", 0x45, 0, l3_hlen + seg_len, 0, flags_frag, ttl, proto, 0, src, dst
        )
        pseudo = src + dst + struct.pack(">xBH", proto, seg_len)
        ip_sum = _sum16(ip)
        src_hi = int.from_bytes(src[:2], "big")
        ethertype = 0x0800
    if tcp:
        l4 = struct.pack(">HHIIBBHHH", sport, dport, 0, ack, 0x50, tcp_flags, window, 0, 0)
    else:
        l4 = struct.pack(">HHHH", 0, dport, seg_len, 0)
    eth = mac_dst + mac_src + struct.pack(">H", ethertype)
    frame = eth + ip + l4 + payload
    if len(frame) < SMALL:
        frame += b"\0" * (SMALL - len(frame))  # Ethernet padding, outside the IP packet
    return _Template(
        frame=frame,
        caplen=len(frame),
        ipv6=ipv6,
        tcp=tcp,
        l3=ETH_LEN,
        l4=ETH_LEN + l3_hlen,
        ip_sum=ip_sum,
        l4_sum=_sum16(pseudo + l4 + payload),
        src_hi=src_hi,
        flags_frag=flags_frag,
        ttl=ttl,
        proto=proto,
        dport=dport,
        ack=ack,
        tcp_flags=tcp_flags,
        window=window,
        udp_len=seg_len,
        seq_step=max(payload_len, 1),
    )


def _templates(rng: random.Random, mix: str) -> tuple[list[_Template], list[float]]:
    sizes = MIXES[mix]
    total_weight = sum(w for _, w in sizes)
    out: list[_Template] = []
    weights: list[float] = []
    for size, weight in sizes:
        n = max(8, TEMPLATES * weight // total_weight)
        for _ in range(n):
            ipv6 = rng.random() < 0.2
            tcp = rng.random() < (0.85 if size != SMALL else 0.7)
            out.append(_template(rng, size, ipv6, tcp))
            weights.append(weight / n)
    return out, weights


#: UDP ports of the encapsulations (IANA; where Linux's vxlan and geneve devices listen).
VXLAN_PORT, GENEVE_PORT = 4789, 6081
#: Payload of the smallest inner UDP datagrams (IPv4, IPv6), as in the plain mixes.
_SMALL_UDP = (SMALL - ETH_LEN - 20 - 8, 16)


@dataclass
class _Tunnel:
    """One tunnelled flow: the whole frame with its varying fields zeroed, and precomputed sums.

    Varying per packet: the outer IPv4 identification and header checksum; the inner source
    host (low word of the source address), the inner IPv4 identification, the TCP sequence
    number or UDP source port and their checksums; the outer UDP checksum, which covers all of
    the inner packet. Every varying word sits at an even offset from the outer UDP header, so
    that it adds to the outer sum as it is written.
    """

    frame: bytes
    caplen: int
    outer_v4: bool
    o_l3: int
    """Offset of the outer IP header (14, or 18 behind a VLAN tag)."""
    o_ip_sum: int
    """Outer IPv4: sum of the header without identification and checksum."""
    o_udp: int
    """Offset of the outer UDP header (VXLAN, Geneve), 0 for GRE."""
    o_udp_sum: int
    """Sum of the outer pseudo-header and datagram with every varying word zeroed."""
    ipv6: bool
    """The inner packet is IPv6."""
    tcp: bool
    l3: int
    """Offset of the inner IP header in the frame."""
    l4: int
    """Offset of the inner TCP/UDP header in the frame."""
    ip_sum: int
    l4_sum: int
    src_hi: int
    flags_frag: int
    ttl: int
    proto: int
    dport: int
    ack: int
    tcp_flags: int
    window: int
    udp_len: int
    seq_step: int


def _inner_packet(
    rng: random.Random, payload_len: int, ipv6: bool, tcp: bool
) -> tuple[bytes, int, int, int, dict[str, int]]:
    """An IP packet (header, TCP/UDP header, payload) whose varying fields are zero.

    Returns the bytes, the IP header length, the IP header sum (IPv4), the sum of pseudo-header
    and segment, and the constant fields the writer repacks.
    """
    proto = 6 if tcp else 17
    l4_hlen = 20 if tcp else 8
    payload = rng.randbytes(payload_len)
    seg_len = l4_hlen + payload_len
    sport = rng.randrange(1024, 65536)
    dport = rng.choice([80, 443, 443, 443, 53, 123, 8080, 22, 3478, 5201])
    ack = rng.getrandbits(32)
    tcp_flags = 0x10 if payload_len == 0 else 0x18
    window = rng.choice([502, 1024, 8192, 29200, 64240, 65535])
    flags_frag = ttl = src_hi = ip_sum = 0
    if ipv6:
        src = bytes.fromhex("fd000000") + rng.randbytes(10) + b"\0\0"
        dst = bytes.fromhex("fd000000") + rng.randbytes(12)
        ip = struct.pack(
            ">IHBB16s16s", 0x6000_0000 | rng.getrandbits(20), seg_len, proto, 64, src, dst
        )
        pseudo = src + dst + struct.pack(">IxxxB", seg_len, proto)
    else:
        src = bytes([10, rng.randrange(256), 0, 0])
        dst = bytes([10, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)])
        flags_frag, ttl = 0x4000, rng.choice([64, 64, 128])
        ip = struct.pack(
            ">BBHHHBBH4s4s", 0x45, 0, 20 + seg_len, 0, flags_frag, ttl, proto, 0, src, dst
        )
        pseudo = src + dst + struct.pack(">xBH", proto, seg_len)
        ip_sum = _sum16(ip)
        src_hi = int.from_bytes(src[:2], "big")
    if tcp:
        l4 = struct.pack(">HHIIBBHHH", sport, dport, 0, ack, 0x50, tcp_flags, window, 0, 0)
    else:
        l4 = struct.pack(">HHHH", 0, dport, seg_len, 0)
    fields = {
        "src_hi": src_hi,
        "flags_frag": flags_frag,
        "ttl": ttl,
        "proto": proto,
        "dport": dport,
        "ack": ack,
        "tcp_flags": tcp_flags,
        "window": window,
        "udp_len": seg_len,
        "seq_step": max(payload_len, 1),
    }
    return ip + l4 + payload, len(ip), ip_sum, _sum16(pseudo + l4 + payload), fields


def _tunnel_template(
    rng: random.Random, size: int, outer_v6: bool, encap: str, ipv6: bool, tcp: bool
) -> _Tunnel:
    vlan = rng.random() < 0.25
    # What the tunnel puts between the outer IP header and the inner packet.
    inner_eth = True
    if encap == "vxlan":
        vni = rng.randrange(1, 1 << 24)
        shim = struct.pack(">II", 0x0800_0000, vni << 8)  # I flag, VNI
        dport = VXLAN_PORT
    elif encap == "geneve":
        vni = rng.randrange(1, 1 << 24)
        opts = b""
        if rng.random() < 0.3:  # one 4-byte option (class 0x0103, type 0x80)
            opts = struct.pack(">HBBI", 0x0103, 0x80, 1, rng.getrandbits(32))
        shim = struct.pack(">BBHI", len(opts) // 4, 0, 0x6558, vni << 8) + opts
        dport = GENEVE_PORT
    else:
        keyed = rng.random() < 0.5
        inner_eth = rng.random() < 0.25  # gretap (0x6558), else IP straight over GRE
        gre_proto = 0x6558 if inner_eth else (0x86DD if ipv6 else 0x0800)
        shim = struct.pack(">HH", 0x2000 if keyed else 0, gre_proto)
        if keyed:
            shim += struct.pack(">I", rng.getrandbits(32))
        dport = 0
    udp = encap != "gre"
    o_l3 = ETH_LEN + (4 if vlan else 0)
    o_l3_hlen = 40 if outer_v6 else 20
    in_l3_hlen = 40 if ipv6 else 20
    l4_hlen = 20 if tcp else 8
    before_inner_ip = (
        o_l3 + o_l3_hlen + (8 if udp else 0) + len(shim) + (ETH_LEN if inner_eth else 0)
    )
    headers = before_inner_ip + in_l3_hlen + l4_hlen
    if size == SMALL:
        payload_len = 0 if tcp else _SMALL_UDP[ipv6]
    else:
        payload_len = size - headers
    inner, ip_hlen, ip_sum, l4_sum, fields = _inner_packet(rng, payload_len, ipv6, tcp)
    if inner_eth:
        mac_dst = bytes([0x02, 0x00, 0x5E]) + rng.randbytes(3)
        mac_src = bytes([0x02, 0x42, 0xAC]) + rng.randbytes(3)
        inner = mac_dst + mac_src + struct.pack(">H", 0x86DD if ipv6 else 0x0800) + inner
    o_proto = 17 if udp else 47
    carried = shim + inner
    o_payload = carried
    if udp:
        sport = rng.randrange(49152, 65536)  # the tunnel's entropy port, constant per flow
        o_payload = struct.pack(">HHHH", sport, dport, 8 + len(carried), 0) + carried
    o_ip_sum = 0
    if outer_v6:
        o_src = bytes.fromhex("20010db8") + rng.randbytes(12)
        o_dst = bytes.fromhex("20010db8") + rng.randbytes(12)
        o_ip = struct.pack(">IHBB16s16s", 0x6000_0000, len(o_payload), o_proto, 64, o_src, o_dst)
        pseudo = o_src + o_dst + struct.pack(">IxxxB", len(o_payload), o_proto)
        ethertype = 0x86DD
    else:
        o_src = bytes([192, 0, 2, rng.randrange(1, 255)])
        o_dst = bytes([198, 51, 100, rng.randrange(1, 255)])
        o_ip = struct.pack(
            ">BBHHHBBH4s4s", 0x45, 0, 20 + len(o_payload), 0, 0x4000, 64, o_proto, 0, o_src, o_dst
        )
        pseudo = o_src + o_dst + struct.pack(">xBH", o_proto, len(o_payload))
        o_ip_sum = _sum16(o_ip)
        ethertype = 0x0800
    eth = (
        bytes([0x02, 0x00, 0x5E]) + rng.randbytes(3) + bytes([0x02, 0x42, 0xAC]) + rng.randbytes(3)
    )
    if vlan:
        eth += struct.pack(">HH", 0x8100, rng.randrange(1, 4095))
    eth += struct.pack(">H", ethertype)
    frame = eth + o_ip + o_payload
    l3 = before_inner_ip
    return _Tunnel(
        frame=frame,
        caplen=len(frame),
        outer_v4=not outer_v6,
        o_l3=o_l3,
        o_ip_sum=o_ip_sum,
        o_udp=o_l3 + o_l3_hlen if udp else 0,
        o_udp_sum=_sum16(pseudo + o_payload) if udp else 0,
        ipv6=ipv6,
        tcp=tcp,
        l3=l3,
        l4=l3 + ip_hlen,
        ip_sum=ip_sum,
        l4_sum=l4_sum,
        **fields,
    )


def _tunnel_templates(rng: random.Random) -> tuple[list[_Tunnel], list[float]]:
    sizes = MIXES["tunnel"]
    total_weight = sum(w for _, w in sizes)
    out: list[_Tunnel] = []
    weights: list[float] = []
    for size, weight in sizes:
        n = max(8, TEMPLATES * weight // total_weight)
        for j in range(n):
            encap = ("vxlan", "geneve", "gre")[j % 3]
            outer_v6 = rng.random() < 0.3
            ipv6 = rng.random() < 0.2
            tcp = rng.random() < (0.85 if size != SMALL else 0.7)
            out.append(_tunnel_template(rng, size, outer_v6, encap, ipv6, tcp))
            weights.append(weight / n)
    return out, weights


def _generate_tunnel(path: Path, packets: int, pcapng: bool, rng: random.Random) -> int:
    """Writes the ``tunnel`` mix; returns the bytes written."""
    templates, weights = _tunnel_templates(rng)
    if pcapng:
        for t in templates:
            pad = -t.caplen % 4
            t.frame += b"\0" * pad + struct.pack("<I", 32 + t.caplen + pad)
    order = rng.choices(range(len(templates)), weights=weights, k=packets)
    gaps = [min(int(rng.expovariate(1 / 3.0)), 200) for _ in range(4096)]
    hosts = [rng.randrange(1, 4095) for _ in range(4093)]
    seqs = [rng.getrandbits(32) for _ in templates]
    ident = rng.getrandbits(16)
    o_ident = rng.getrandbits(16)
    v4_pack, v6_pack, u16_pack = _V4.pack_into, _V6_SRC_LO.pack_into, _U16.pack_into
    tcp_pack, udp_pack = _TCP.pack_into, _UDP.pack_into
    rec_pack, epb_pack = _REC.pack, _EPB.pack
    t_us = T0_US
    written = 0
    with path.open("wb") as f:
        if pcapng:
            shb = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
            idb = struct.pack("<IIHHII", 1, 20, 1, 0, 262_144, 20)
            buf = bytearray(shb + idb)
        else:
            buf = bytearray(PCAP_HEADER)
        for i, k in enumerate(order):
            t = templates[k]
            t_us += gaps[i & 4095]
            caplen = t.caplen
            if pcapng:
                buf += epb_pack(
                    6, 28 + len(t.frame), 0, t_us >> 32, t_us & 0xFFFFFFFF, caplen, caplen
                )
            else:
                sec, usec = divmod(t_us, 1_000_000)
                buf += rec_pack(sec, usec, caplen, caplen)
            base = len(buf)
            buf += t.frame
            if t.outer_v4:
                o_ident = (o_ident + 1) & 0xFFFF
                u16_pack(buf, base + t.o_l3 + 4, o_ident)
                u16_pack(buf, base + t.o_l3 + 10, ~_fold(t.o_ip_sum + o_ident) & 0xFFFF)
            host = hosts[i % 4093]
            # The inner words written, which the outer UDP checksum covers.
            words = host
            if t.ipv6:
                v6_pack(buf, base + t.l3 + 22, host)
            else:
                ident = (ident + 1) & 0xFFFF
                c = ~_fold(t.ip_sum + ident + host) & 0xFFFF
                v4_pack(
                    buf, base + t.l3 + 4, ident, t.flags_frag, t.ttl, t.proto, c, t.src_hi, host
                )
                words += ident + c
            if t.tcp:
                seq = seqs[k]
                seqs[k] = (seq + t.seq_step) & 0xFFFFFFFF
                s = (seq >> 16) + (seq & 0xFFFF)
                c = ~_fold(t.l4_sum + host + s) & 0xFFFF
                tcp_pack(buf, base + t.l4 + 4, seq, t.ack, 0x50, t.tcp_flags, t.window, c)
                words += s + c
            else:
                sport = 1024 + ((host * 7919 + i) & 0xEFFF)
                c = ~_fold(t.l4_sum + host + sport) & 0xFFFF or 0xFFFF
                udp_pack(buf, base + t.l4, sport, t.dport, t.udp_len, c)
                words += sport + c
            if t.o_udp:
                c = ~_fold(t.o_udp_sum + words) & 0xFFFF or 0xFFFF
                u16_pack(buf, base + t.o_udp + 6, c)
            if len(buf) >= FLUSH:
                f.write(buf)
                written += len(buf)
                buf.clear()
        f.write(buf)
        written += len(buf)
    return written


def default_path(packets: int, fmt: str = "pcap", mix: str = "imix") -> Path:
    """Where a capture of these parameters goes by default."""
    return DATA_DIR / f"{mix}-{packets}.{fmt}"


def generate(
    out: str | Path,
    packets: int,
    *,
    fmt: str = "pcap",
    mix: str = "imix",
    seed: int = 1,
) -> dict[str, int | float | str]:
    """Writes ``packets`` frames to ``out``; returns a summary (packets, bytes, seconds)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {FORMATS}")
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}: use one of {sorted(MIXES)}")
    started = time.perf_counter()
    rng = random.Random(seed)
    if mix == "tunnel":
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        written = _generate_tunnel(path, packets, fmt == "pcapng", rng)
        return {
            "path": str(path),
            "format": fmt,
            "mix": mix,
            "packets": packets,
            "bytes": written,
            "seconds": round(time.perf_counter() - started, 3),
        }
    templates, weights = _templates(rng, mix)
    pcapng = fmt == "pcapng"
    if pcapng:
        for t in templates:
            pad = -t.caplen % 4
            t.frame += b"\0" * pad + struct.pack("<I", 32 + t.caplen + pad)
    # Per-packet choices, drawn up front (cheap compared with a call per packet).
    order = rng.choices(range(len(templates)), weights=weights, k=packets)
    gaps = [min(int(rng.expovariate(1 / 3.0)), 200) for _ in range(4096)]
    hosts = [rng.randrange(1, 4095) for _ in range(4093)]
    seqs = [rng.getrandbits(32) for _ in templates]
    ident = rng.getrandbits(16)

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    v4_pack, v6_pack = _V4.pack_into, _V6_SRC_LO.pack_into
    tcp_pack, udp_pack = _TCP.pack_into, _UDP.pack_into
    rec_pack, epb_pack = _REC.pack, _EPB.pack
    t_us = T0_US
    written = 0
    with path.open("wb") as f:
        if pcapng:
            shb = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
            idb = struct.pack("<IIHHII", 1, 20, 1, 0, 262_144, 20)
            buf = bytearray(shb + idb)
        else:
            buf = bytearray(PCAP_HEADER)
        for i, k in enumerate(order):
            t = templates[k]
            t_us += gaps[i & 4095]
            caplen = t.caplen
            if pcapng:
                buf += epb_pack(
                    6, 28 + len(t.frame), 0, t_us >> 32, t_us & 0xFFFFFFFF, caplen, caplen
                )
            else:
                sec, usec = divmod(t_us, 1_000_000)
                buf += rec_pack(sec, usec, caplen, caplen)
            base = len(buf)
            buf += t.frame
            host = hosts[i % 4093]
            if t.ipv6:
                v6_pack(buf, base + 36, host)  # low word of the source address
            else:
                ident = (ident + 1) & 0xFFFF
                s = _fold(t.ip_sum + ident + host)
                v4_pack(
                    buf, base + 18, ident, t.flags_frag, t.ttl, t.proto, ~s & 0xFFFF, t.src_hi, host
                )
            if t.tcp:
                seq = seqs[k]
                seqs[k] = (seq + t.seq_step) & 0xFFFFFFFF
                s = _fold(t.l4_sum + host + (seq >> 16) + (seq & 0xFFFF))
                tcp_pack(buf, base + t.l4 + 4, seq, t.ack, 0x50, t.tcp_flags, t.window, ~s & 0xFFFF)
            else:
                sport = 1024 + ((host * 7919 + i) & 0xEFFF)
                c = ~_fold(t.l4_sum + host + sport) & 0xFFFF
                udp_pack(buf, base + t.l4, sport, t.dport, t.udp_len, c or 0xFFFF)
            if len(buf) >= FLUSH:
                f.write(buf)
                written += len(buf)
                buf.clear()
        f.write(buf)
        written += len(buf)
    elapsed = time.perf_counter() - started
    return {
        "path": str(path),
        "format": fmt,
        "mix": mix,
        "packets": packets,
        "bytes": written,
        "seconds": round(elapsed, 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("out", nargs="?", type=Path, help="output file (default under benches/py/data)")
    p.add_argument("--packets", "-n", type=int, default=2_000_000)
    p.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="container (default: from OUT's suffix, else pcap)",
    )
    p.add_argument("--mix", choices=sorted(MIXES), default="imix")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = p.parse_args(argv)
    if args.packets < 0:
        p.error("--packets must be at least 0")
    fmt: str = args.format or (
        "pcapng" if args.out is not None and args.out.suffix == ".pcapng" else "pcap"
    )
    out = args.out if args.out is not None else default_path(args.packets, fmt, args.mix)
    summary = generate(out, args.packets, fmt=fmt, mix=args.mix, seed=args.seed)
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"wrote {summary['packets']:,} packets ({summary['bytes']:,} bytes, {fmt}, "
            f"{args.mix}) to {summary['path']} in {summary['seconds']} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
