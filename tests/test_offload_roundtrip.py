"""Property: GSO(GRO(trace)) gives back every frame of the trace, byte for byte.

Random traces of interleaved bulk TCP flows (IPv4 and IPv6, VLAN-tagged, inside VXLAN or
Geneve, with or without the timestamps option) are built with Scapy, independently of netcore,
received through ``netcore.gro`` and segmented again with ``netcore.gso``. Each flow must come
back in its own order and complete, and GRO must have merged exactly what Linux merges: one
packet per flow when its segments can merge (at most 8 flows, so none is evicted from the
single GRO bucket a device without RSS has), one per segment when each carries a new
timestamp.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netcore as nc

pytest.importorskip("scapy.all", reason="Scapy builds the reference frames")
from scapy.all import IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw
from scapy.contrib.geneve import GENEVE
from scapy.layers.vxlan import VXLAN

VXLAN_PORT = 4789
GENEVE_PORT = 6081


@dataclass(frozen=True)
class FlowSpec:
    """One bulk TCP flow of a trace."""

    encap: str  # "plain", "vlan", "vxlan" or "geneve"
    v6: bool
    timestamps: bool
    ts_changes: bool  # a new TSval on every segment: nothing merges
    segments: int
    last_len: int  # payload of the last segment, at most the MSS
    psh: bool


flows_st = st.builds(
    FlowSpec,
    encap=st.sampled_from(["plain", "vlan", "vxlan", "geneve"]),
    v6=st.booleans(),
    timestamps=st.booleans(),
    ts_changes=st.booleans(),
    segments=st.integers(1, 8),
    last_len=st.integers(1, 2000),
    psh=st.booleans(),
)


def flow_frames(i: int, f: FlowSpec, mss: int, rng: random.Random) -> list[bytes]:
    """The frames of flow ``i``: full segments, then a last one of ``last_len`` bytes."""
    seq = rng.randrange(1 << 32)
    ip_id = rng.randrange(1 << 16)
    outer_id = rng.randrange(1 << 16)
    tsval = rng.randrange(1 << 32)
    out = []
    for k in range(f.segments):
        last = k == f.segments - 1
        size = min(f.last_len, mss) if last else mss
        opts = []
        if f.timestamps:
            opts = [("NOP", None), ("NOP", None), ("Timestamp", (tsval + k * f.ts_changes, 77))]
        tcp = TCP(
            sport=40000 + i,
            dport=5001,
            seq=seq,
            ack=12345,
            flags="PA" if last and f.psh else "A",
            window=1024,
            options=opts,
        )
        seq = (seq + size) % (1 << 32)
        ip = (
            IPv6(src=f"2001:db8::{i + 1}", dst="2001:db8::ff", hlim=64)
            if f.v6
            else IP(src=f"10.0.{i}.1", dst="10.0.255.1", id=(ip_id + k) & 0xFFFF, flags="DF")
        )
        inner = ip / tcp / Raw(rng.randbytes(size))
        eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        if f.encap == "plain":
            frame = eth / inner
        elif f.encap == "vlan":
            frame = eth / Dot1Q(vlan=100 + i) / inner
        else:
            tunnel = (
                UDP(sport=50000 + i, dport=VXLAN_PORT, chksum=0) / VXLAN(vni=1000 + i)
                if f.encap == "vxlan"
                else UDP(sport=50000 + i, dport=GENEVE_PORT, chksum=0)
                / GENEVE(vni=1000 + i, proto=0x6558)
            )
            outer = IP(src="192.0.2.1", dst="192.0.2.2", id=(outer_id + k) & 0xFFFF, flags="DF")
            inner_eth = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02")
            frame = eth / outer / tunnel / inner_eth / inner
        out.append(bytes(frame))
    return out


def write(path: Path, frames: list[bytes]) -> Path:
    with nc.Writer(path, nanosecond=True) as w:
        for i, f in enumerate(frames):
            w.write_packet(f, ts=i * 1000)
    return path


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    flows=st.lists(flows_st, min_size=1, max_size=8),
    mss=st.sampled_from([536, 1000, 1400]),
    order_seed=st.integers(0, 2**32 - 1),
    data_seed=st.integers(0, 2**32 - 1),
)
def test_gso_of_gro_gives_back_the_trace(
    tmp_path: Path, flows: list[FlowSpec], mss: int, order_seed: int, data_seed: int
) -> None:
    rng = random.Random(data_seed)
    per_flow = [flow_frames(i, f, mss, rng) for i, f in enumerate(flows)]
    # Interleave the flows at random, each keeping its own order.
    schedule = [i for i, frames in enumerate(per_flow) for _ in frames]
    random.Random(order_seed).shuffle(schedule)
    cursors = [0] * len(per_flow)
    trace = []
    for i in schedule:
        trace.append(per_flow[i][cursors[i]])
        cursors[i] += 1
    src = write(tmp_path / "trace.pcapng", trace)

    merged = nc.gro(
        src, tmp_path / "gro.pcapng", vxlan_ports=[VXLAN_PORT], geneve_ports=[GENEVE_PORT]
    )
    expected = sum(
        len(frames) if f.timestamps and f.ts_changes else 1
        for f, frames in zip(flows, per_flow, strict=True)
    )
    assert merged.packets_out == expected
    assert merged.segments == len(trace)

    back = nc.gso(tmp_path / "gro.pcapng", tmp_path / "gso.pcapng", mss=mss, mtu=65535)
    assert back.stats["too_big"] == 0
    out = [bytes(p) for p in nc.open(tmp_path / "gso.pcapng").packets()]
    assert sorted(out) == sorted(trace)
    owner = {frame: i for i, frames in enumerate(per_flow) for frame in frames}
    for i, frames in enumerate(per_flow):
        assert [f for f in out if owner[f] == i] == frames, f"flow {i}: {flows[i]}"
