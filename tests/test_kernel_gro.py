"""netcore's GRO against the running Linux kernel's, on the same frames.

Each trace is written to a tap device with NAPI in a network namespace of the test's own (see
``tests/tools/kernel_gro.py``), polled by the kernel in one NAPI poll, and read back with its
``gso_type`` and ``gso_size``; the same trace goes through ``netcore.gro`` with the default
budget of 64. The packets that go up must be the same, in the same order: length, GSO type and
``gso_size`` (so the number of segments each carries). Expectations were checked on Linux 6.18;
the kernel release is part of every failure message.

Needs root, ``/dev/net/tun``, the ``ip`` command and threaded NAPI; skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import netcore as nc
from tests.kernelns import run_helper, why_not

pytest.importorskip("scapy.all", reason="Scapy builds the reference frames")
from scapy.all import IP, TCP, UDP, Ether, IPv6, Raw

pytestmark = pytest.mark.kernel

MSS = 1448

# virtio_net_hdr gso_type values (include/uapi/linux/virtio_net.h).
VIRTIO_GSO = {"TCPV4": 1, "UDP": 3, "TCPV6": 4, "UDP_L4": 5}
VIRTIO_GSO_ECN = 0x80


def segment(
    i: int,
    *,
    flow: int = 0,
    v6: bool = False,
    flags: str = "A",
    size: int = MSS,
    ttl: int = 64,
    ip_id: int | None = None,
    tsval: int | None = None,
) -> bytes:
    """Segment ``i`` of bulk flow ``flow``: sequence numbers and IPv4 IDs follow ``i``."""
    ip = (
        IPv6(src=f"2001:db8::{flow + 1}", dst="2001:db8::ff", hlim=ttl)
        if v6
        else IP(
            src=f"10.0.{flow}.1",
            dst="10.0.255.1",
            id=100 + i if ip_id is None else ip_id,
            flags="DF",
            ttl=ttl,
        )
    )
    opts = [] if tsval is None else [("NOP", None), ("NOP", None), ("Timestamp", (tsval, 1))]
    tcp = TCP(
        sport=40000 + flow,
        dport=80,
        seq=1000 + i * MSS,
        ack=7,
        flags=flags,
        window=512,
        options=opts,
    )
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    return bytes(eth / ip / tcp / Raw(bytes([i % 251]) * size))


def bulk(n: int, **kw: object) -> list[bytes]:
    return [segment(i, **kw) for i in range(n)]  # type: ignore[arg-type]


def interleaved(flows: int, per_flow: int) -> list[bytes]:
    return [segment(i, flow=f) for i in range(per_flow) for f in range(flows)]


def rules() -> list[bytes]:
    """One flow bending a rule every few segments."""
    bad = bytearray(segment(5))
    bad[50] ^= 0xFF  # the TCP checksum
    return [
        segment(0),
        segment(1),
        segment(2, flags="PA"),  # PSH: merged, ends the train
        segment(3),
        segment(4),
        bytes(bad),  # bad checksum: goes up at once, ahead of the held train
        segment(6),  # not contiguous with the held one any more
        segment(7, ip_id=999),  # IP ID jumps
        segment(8, ip_id=108),
        segment(9, ip_id=109, ttl=20),  # TTL differs
        segment(10, ip_id=110, ttl=20),
        segment(11, ip_id=111, ttl=20, size=100),  # short: merged, ends the train
        segment(12, ip_id=112, ttl=20),
    ]


TRACES: dict[str, Callable[[], list[bytes]]] = {
    "bulk_ipv4": lambda: bulk(20),
    "bulk_ipv6": lambda: bulk(12, v6=True),
    "timestamps_equal_merge": lambda: bulk(6, tsval=5),
    "timestamps_changing_do_not": lambda: [segment(i, tsval=5 + i) for i in range(6)],
    "eight_flows_share_the_bucket": lambda: interleaved(8, 4),
    "a_ninth_flow_evicts_the_oldest": lambda: interleaved(9, 3),
    "merge_and_flush_rules": rules,
    "cwr_starts_an_ecn_train": lambda: [
        segment(0),
        segment(1),
        segment(2, flags="AC"),
        segment(3),
        segment(4),
    ],
    "cwr_with_nothing_held_goes_up_alone": lambda: [
        segment(0, flags="AC"),
        segment(1),
        segment(2),
    ],
    "gro_max_size_caps_ipv4": lambda: bulk(50),
    "udp_without_udp_gro": lambda: [
        bytes(Ether() / IP(src="10.9.0.1", dst="10.9.0.2", id=i) / UDP() / Raw(b"u" * 1000))
        for i in range(4)
    ],
}


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The kernel's output for every trace, from one run in a namespace of our own."""
    if why := why_not():
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("kernel-gro")
    paths = {}
    for name, build in TRACES.items():
        path = tmp / f"{name}.pcap"
        with nc.Writer(path, nanosecond=True) as w:
            for i, f in enumerate(build()):
                w.write_packet(f, ts=i * 1000)
        paths[name] = str(path)
    out = run_helper("kernel_gro.py", list(paths.values()))
    return {
        "release": out["kernel"],
        "paths": paths,
        **dict(zip(TRACES, out["traces"], strict=True)),
    }


def virtio_type(names: list[str]) -> int:
    t = next((VIRTIO_GSO[n] for n in names if n in VIRTIO_GSO), 0)
    return t | (VIRTIO_GSO_ECN if "TCP_ECN" in names else 0)


@pytest.mark.parametrize("name", list(TRACES))
def test_gro_matches_the_kernel(kernel: dict[str, Any], name: str, tmp_path: Path) -> None:
    seen = kernel[name]
    release = kernel["release"]
    if seen["polls"] != 1:
        pytest.skip(f"the kernel ({release}) polled the trace {seen['polls']} times, not once")
    report = nc.gro(kernel["paths"][name], tmp_path / "gro.pcap")
    ours = [[p.len, virtio_type(p.gso_type), p.gso_size] for p in report.packets]
    assert ours == seen["packets"], f"{name} on Linux {release}"
