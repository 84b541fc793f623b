"""Shared fixtures: small captures built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import capfiles


@pytest.fixture
def pcap_file(tmp_path: Path) -> Path:
    """A little-endian microsecond pcap of 100 Ethernet frames of growing sizes."""
    pkts = [
        (1_600_000_000 + i, i * 1000, capfiles.frame(i, 60 + i), 60 + i + (i % 3))
        for i in range(100)
    ]
    p = tmp_path / "small.pcap"
    p.write_bytes(capfiles.pcap(pkts))
    return p


@pytest.fixture
def pcapng_file(tmp_path: Path) -> Path:
    """A pcapng with two sections (little- then big-endian), three interfaces, all packet
    block kinds, a skipped statistics block and packet comments."""
    le, be = "<", ">"
    data = (
        capfiles.shb(le)
        + capfiles.idb(le, 1, 65535, name="eth0")
        + capfiles.idb(le, 101, 0, tsresol=9)
        + capfiles.epb(le, 0, 1_000_000, capfiles.frame(1), comments=["first"])
        + capfiles.epb(le, 1, 2_000_000_000, capfiles.frame(2, 40))
        + capfiles.block(le, 5, b"\0" * 12)  # interface statistics: skipped
        + capfiles.spb(le, capfiles.frame(3, 64))
        + capfiles.shb(be)
        + capfiles.idb(be, 113, 0, tsresol=0x80 | 20)
        + capfiles.epb(be, 0, 3 << 20, capfiles.frame(4, 44), comments=["a", "b"])
        + capfiles.opb(be, 0, 5 << 20, capfiles.frame(5, 48))
    )
    p = tmp_path / "multi.pcapng"
    p.write_bytes(data)
    return p
