"""netcore's GSO against the running Linux kernel's software GSO, byte for byte.

Each TCP super-frame is handed to a veth whose transmit checksumming (and so TSO) is off, from
a packet socket as a TSO sender would hand it (see ``tests/tools/kernel_gso.py``), in a network
namespace of the test's own; the segments read on the peer must be exactly what
``netcore.gso`` writes for the same frame: sequence numbers, IPv4 IDs, flags (CWR on the first
segment only, PSH and FIN on the last only), lengths and every checksum. Expectations were
checked on Linux 6.18; the kernel release is part of every failure message.

Needs root, ``/dev/net/tun`` (as the other kernel comparisons) and the ``ip`` command;
skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import netcore as nc
from tests.kernelns import run_helper, why_not

pytest.importorskip("scapy.all", reason="Scapy builds the reference frames")
from scapy.all import IP, TCP, Ether, IPv6, Raw

pytestmark = pytest.mark.kernel


def super_frame(
    payload: int, *, v6: bool = False, flags: str = "A", ts: bool = False, ip_id: int = 100
) -> bytes:
    """One TCP super-frame of ``payload`` bytes, as a sender builds it before TSO."""
    ip = (
        IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64)
        if v6
        else IP(src="10.0.0.1", dst="10.0.0.2", id=ip_id, flags="DF")
    )
    opts = [("NOP", None), ("NOP", None), ("Timestamp", (12345, 678))] if ts else []
    seq = 4_294_960_000  # wraps within the first few segments
    tcp = TCP(sport=40000, dport=80, seq=seq, ack=7, flags=flags, window=512, options=opts)
    data = (bytes(range(251)) * (payload // 251 + 1))[:payload]
    return bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip / tcp / Raw(data))


# name: (MSS, frames)
TRACES: dict[str, Callable[[], tuple[int, list[bytes]]]] = {
    "ipv4_bulk": lambda: (1448, [super_frame(10 * 1448)]),
    "ipv4_short_last_psh": lambda: (1448, [super_frame(5 * 1448 + 100, flags="PA")]),
    "ipv4_fin_and_cwr": lambda: (1000, [super_frame(4500, flags="FPAC")]),
    "ipv4_timestamps_sequence_wraps": lambda: (1200, [super_frame(20000, ts=True)]),
    "ipv4_id_wraps": lambda: (1448, [super_frame(6 * 1448, ip_id=65533)]),
    "ipv6_bulk": lambda: (1428, [super_frame(8 * 1428 + 7, v6=True, flags="PA")]),
    "ipv6_near_64k": lambda: (1428, [super_frame(65000, v6=True)]),
}


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The kernel's segments for every trace, from one run in a namespace of our own."""
    if why := why_not():
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("kernel-gso")
    specs = {}
    for name, build in TRACES.items():
        mss, frames = build()
        path = tmp / f"{name}.pcap"
        with nc.Writer(path, nanosecond=True) as w:
            for i, f in enumerate(frames):
                w.write_packet(f, ts=i * 1000)
        specs[name] = (mss, path)
    out = run_helper("kernel_gso.py", [f"{mss}:{path}" for mss, path in specs.values()])
    return {
        "release": out["kernel"],
        "specs": specs,
        **{n: [bytes.fromhex(h) for h in t] for n, t in zip(TRACES, out["traces"], strict=True)},
    }


@pytest.mark.parametrize("name", list(TRACES))
def test_gso_matches_the_kernel(kernel: dict[str, Any], name: str, tmp_path: Path) -> None:
    mss, path = kernel["specs"][name]
    report = nc.gso(path, tmp_path / "gso.pcap", mss=mss, mtu=65535)
    ours = [bytes(p) for p in nc.open(tmp_path / "gso.pcap").packets()]
    theirs = kernel[name]
    assert len(theirs) > 1, f"the kernel did not segment {name}"
    assert report.packets_out == len(theirs), f"{name} on Linux {kernel['release']}"
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a == b, f"{name}: segment {i} differs on Linux {kernel['release']}"
