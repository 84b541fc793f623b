"""A small, deterministic synthetic trace: the bundled default input of ``netcore run``.

It holds what a demanding first run should exercise: a bulk TCP transfer over IPv4 with a
handshake and teardown, the same over IPv6, DNS-like UDP queries and answers, ICMP echo, ARP, and
802.1Q-tagged traffic, with valid checksums and a few packet comments. Regenerate the bundled
file with ``python -m netcore.synth python/netcore/data/sample.pcapng``.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SAMPLE_PATH", "frames", "write_sample"]

SAMPLE_PATH = Path(__file__).with_name("data") / "sample.pcapng"

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z, in ns
MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _eth(dst: bytes, src: bytes, ethertype: int, payload: bytes, vlan: int | None = None) -> bytes:
    if vlan is None:
        return dst + src + struct.pack("!H", ethertype) + payload
    return dst + src + struct.pack("!HHH", 0x8100, vlan, ethertype) + payload


def _ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, ident: int) -> bytes:
    hdr = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0, src, dst
    )
    return hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:] + payload


def _ipv6(src: bytes, dst: bytes, nh: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 0x6000_0000, len(payload), nh, 64, src, dst) + payload


def _l4(proto: int, pseudo: bytes, seg: bytes, csum_at: int) -> bytes:
    c = _csum(pseudo + seg)
    if proto == 17 and c == 0:
        c = 0xFFFF
    return seg[:csum_at] + struct.pack("!H", c) + seg[csum_at + 2 :]


def _pseudo4(src: bytes, dst: bytes, proto: int, n: int) -> bytes:
    return src + dst + struct.pack("!BBH", 0, proto, n)


def _pseudo6(src: bytes, dst: bytes, proto: int, n: int) -> bytes:
    return src + dst + struct.pack("!IxxxB", n, proto)


def _tcp(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0) + payload


def _udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def _tcp_flow_v4(t: int, vlan: int | None) -> Iterator[tuple[int, bytes, str | None]]:
    a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    ident = 100

    def seg(
        src: bytes, dst: bytes, sp: int, dp: int, seq: int, ack: int, fl: int, data: bytes
    ) -> bytes:
        nonlocal ident
        ident += 1
        s = _tcp(sp, dp, seq, ack, fl, data)
        s = _l4(6, _pseudo4(src, dst, 6, len(s)), s, 16)
        mac_s, mac_d = (MAC_A, MAC_B) if src == a else (MAC_B, MAC_A)
        return _eth(mac_d, mac_s, 0x0800, _ipv4(src, dst, 6, s, ident), vlan)

    cseq, sseq = 1000, 5000
    yield t, seg(a, b, 40000, 80, cseq, 0, 0x02, b""), "TCP handshake (SYN)"
    yield t + 50_000, seg(b, a, 80, 40000, sseq, cseq + 1, 0x12, b""), None
    yield t + 100_000, seg(a, b, 40000, 80, cseq + 1, sseq + 1, 0x10, b""), None
    cseq += 1
    sseq += 1
    body = bytes(range(256)) * 6
    for i in range(120):
        chunk = body[(i * 7) % 100 :][:1448]
        flags = 0x18 if i % 40 == 39 else 0x10
        yield t + 200_000 + i * 12_000, seg(b, a, 80, 40000, sseq, cseq, flags, chunk), None
        sseq += len(chunk)
        if i % 2 == 1:
            yield t + 205_000 + i * 12_000, seg(a, b, 40000, 80, cseq, sseq, 0x10, b""), None
    end = t + 200_000 + 120 * 12_000
    yield end, seg(b, a, 80, 40000, sseq, cseq, 0x11, b""), "server closes (FIN)"
    yield end + 40_000, seg(a, b, 40000, 80, cseq, sseq + 1, 0x11, b""), None
    yield end + 80_000, seg(b, a, 80, 40000, sseq + 1, cseq + 1, 0x10, b""), None


def _tcp_flow_v6(t: int) -> Iterator[tuple[int, bytes, str | None]]:
    a = bytes.fromhex("20010db8000000000000000000000001")
    b = bytes.fromhex("20010db8000000000000000000000002")
    seq = 7000
    for i in range(40):
        data = bytes((i + k) & 0xFF for k in range(1000))
        s = _tcp(443, 50000, seq, 1, 0x10, data)
        s = _l4(6, _pseudo6(a, b, 6, len(s)), s, 16)
        yield t + i * 20_000, _eth(MAC_B, MAC_A, 0x86DD, _ipv6(a, b, 6, s)), None
        seq += len(data)


def _dns(t: int) -> Iterator[tuple[int, bytes, str | None]]:
    c, s = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 53])
    for i in range(20):
        q = struct.pack("!HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\0\0\1\0\1"
        u = _udp(53000 + i, 53, q)
        u = _l4(17, _pseudo4(c, s, 17, len(u)), u, 6)
        yield t + i * 100_000, _eth(MAC_B, MAC_A, 0x0800, _ipv4(c, s, 17, u, 2000 + i)), None
        r = q[:2] + b"\x81\x80" + q[4:] + b"\xc0\x0c\0\1\0\1\0\0\x0e\x10\0\4\x5d\xb8\xd8\x22"
        u = _udp(53, 53000 + i, r)
        u = _l4(17, _pseudo4(s, c, 17, len(u)), u, 6)
        yield t + i * 100_000 + 900, _eth(MAC_A, MAC_B, 0x0800, _ipv4(s, c, 17, u, 3000 + i)), None


def _icmp_arp(t: int) -> Iterator[tuple[int, bytes, str | None]]:
    a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, a, b"\0" * 6, b)
    yield t, _eth(b"\xff" * 6, MAC_A, 0x0806, arp + b"\0" * 18), "who-has 10.0.0.2"
    for i in range(5):
        body = struct.pack("!BBHHH", 8, 0, 0, 0x4242, i) + b"netcore-ping" * 4
        body = body[:2] + struct.pack("!H", _csum(body)) + body[4:]
        ip = _ipv4(a, b, 1, body, 9000 + i)
        yield t + (i + 1) * 1_000_000, _eth(MAC_B, MAC_A, 0x0800, ip), None


def frames() -> list[tuple[int, bytes, str | None]]:
    """Every frame of the sample: (timestamp ns, Ethernet frame, comment), in time order."""
    out = [
        *_icmp_arp(T0),
        *_tcp_flow_v4(T0 + 10_000_000, None),
        *_tcp_flow_v4(T0 + 12_000_000, vlan=100),
        *_tcp_flow_v6(T0 + 11_000_000),
        *_dns(T0 + 10_500_000),
    ]
    out.sort(key=lambda f: f[0])
    return out


def write_sample(path: str | Path) -> int:
    """Writes the sample trace as pcapng; returns the number of packets."""
    from netcore.capture import Interface, Writer

    iface = Interface(
        linktype=1,
        snaplen=262144,
        tsresol=9,
        name="sample0",
        description="netcore synthetic sample",
    )
    with Writer(path, "pcapng", interfaces=[iface]) as w:
        for ts, frame, comment in frames():
            w.write_packet(frame, ts, comments=[comment] if comment else [])
        return w.packets


if __name__ == "__main__":
    print(write_sample(sys.argv[1] if len(sys.argv) > 1 else SAMPLE_PATH))
