"""Hand-built capture bytes, written with struct (independent of netcore's writer)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

Pkt = tuple[int, int, bytes, int]  # (ts seconds, ts fraction, data, wire length)


def pcap(
    packets: Iterable[Pkt],
    *,
    big_endian: bool = False,
    nanosecond: bool = False,
    linktype: int = 1,
    snaplen: int = 65535,
    version: tuple[int, int] = (2, 4),
) -> bytes:
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = bytearray(struct.pack(e + "IHHiIII", magic, *version, 0, 0, snaplen, linktype))
    for sec, frac, data, wirelen in packets:
        out += struct.pack(e + "IIII", sec, frac, len(data), wirelen) + data
    return bytes(out)


def _opt(e: str, code: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack(e + "HH", code, len(value)) + value + b"\0" * pad


def block(e: str, btype: int, body: bytes, *, trailer: int | None = None) -> bytes:
    total = 12 + len(body)
    return struct.pack(e + "II", btype, total) + body + struct.pack(e + "I", trailer or total)


def shb(e: str = "<", version: tuple[int, int] = (1, 0), options: bytes = b"") -> bytes:
    body = struct.pack(e + "IHHq", 0x1A2B3C4D, *version, -1) + options
    if options:
        body += struct.pack(e + "HH", 0, 0)
    return block(e, 0x0A0D0D0A, body)


def idb(
    e: str,
    linktype: int,
    snaplen: int = 0,
    tsresol: int | None = None,
    name: str | None = None,
    tsoffset: int = 0,
) -> bytes:
    opts = b""
    if name is not None:
        opts += _opt(e, 2, name.encode())
    if tsresol is not None:
        opts += _opt(e, 9, bytes([tsresol]))
    if tsoffset:
        opts += _opt(e, 14, struct.pack(e + "q", tsoffset))
    if opts:
        opts += struct.pack(e + "HH", 0, 0)
    return block(e, 1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts)


def epb(
    e: str,
    if_id: int,
    units: int,
    data: bytes,
    wirelen: int | None = None,
    comments: Sequence[str] = (),
) -> bytes:
    body = struct.pack(
        e + "IIIII",
        if_id,
        units >> 32,
        units & 0xFFFFFFFF,
        len(data),
        len(data) if wirelen is None else wirelen,
    )
    body += data + b"\0" * ((-len(data)) % 4)
    if comments:
        for c in comments:
            body += _opt(e, 1, c.encode())
        body += struct.pack(e + "HH", 0, 0)
    return block(e, 6, body)


def spb(e: str, data: bytes, wirelen: int | None = None) -> bytes:
    body = struct.pack(e + "I", len(data) if wirelen is None else wirelen)
    return block(e, 3, body + data + b"\0" * ((-len(data)) % 4))


def opb(e: str, if_id: int, units: int, data: bytes) -> bytes:
    body = struct.pack(
        e + "HHIIII", if_id, 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data)
    )
    return block(e, 2, body + data + b"\0" * ((-len(data)) % 4))


def frame(n: int, size: int = 60) -> bytes:
    """A recognisable Ethernet-sized frame whose bytes encode ``n``."""
    head = struct.pack(">I", n)
    return (head * (size // 4 + 1))[:size]
