"""GRO and GSO over whole captures, with Linux's rules (``netcore gro``, ``netcore gso``)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Literal

from netcore import _netcore
from netcore.capture import Capture, Writer, _format_for

__all__ = ["OffloadReport", "OutPacket", "gro", "gso"]

UdpGroMode = Literal["off", "forwarding", "fraglist"]
Source = str | os.PathLike[str] | IO[bytes]


@dataclass(frozen=True)
class OutPacket:
    """One packet written: its length, segments carried, ``gso_size`` and ``gso_type``."""

    len: int
    segs: int
    gso_size: int
    gso_type: list[str]


@dataclass
class OffloadReport:
    """Counters of a GRO or GSO run and the packets it wrote."""

    stats: dict[str, int]
    packets: list[OutPacket] = field(default_factory=list)

    @property
    def packets_out(self) -> int:
        """Packets written."""
        return len(self.packets)

    @property
    def segments(self) -> int:
        """Segments carried by the packets written."""
        return sum(p.segs for p in self.packets)

    @property
    def coalescing_ratio(self) -> float:
        """Segments per packet written (1.0 when nothing merged)."""
        return self.segments / self.packets_out if self.packets else 1.0


def _writer_for(cap: Capture, output: str | os.PathLike[str]) -> Writer:
    """A writer with the input's interfaces and no snapshot limit (merged packets are big)."""
    fmt = _format_for(output, None)
    ifaces = [dataclasses.replace(i, snaplen=0) for i in cap.interfaces]
    if fmt == "pcapng":
        return Writer(output, "pcapng", interfaces=ifaces or None)
    linktype = ifaces[0].linktype if ifaces else 1
    return Writer(output, "pcap", linktype=linktype, snaplen=262144, nanosecond=True)


def _records(raw: list[tuple[int, int, int, list[str]]]) -> list[OutPacket]:
    return [OutPacket(length, segs, size, list(kinds)) for length, segs, size, kinds in raw]


def gro(
    source: Source,
    output: str | os.PathLike[str],
    *,
    budget: int = 64,
    flush_timeout_ns: int = 0,
    max_size: int = 65536,
    udp_gro: UdpGroMode = "off",
    vxlan_ports: Sequence[int] = (),
    geneve_ports: Sequence[int] = (),
) -> OffloadReport:
    """Receives every packet of ``source`` through GRO (NAPI polls of ``budget`` packets) and
    writes each packet that goes up as one contiguous frame, as a capture on a GRO device
    shows it (lengths covering the merged payload, the TCP checksum holding the pseudo-header
    sum of ``CHECKSUM_PARTIAL``).

    ``vxlan_ports`` and ``geneve_ports`` are UDP ports owned by tunnel devices (4789 and 6081
    by convention): their packets are merged by their inner packets. None by default, as in
    Linux without such a device."""
    cap = Capture(source)
    with _writer_for(cap, output) as w:
        stats, raw = _netcore.gro_run(
            cap._reader,
            w._w,
            budget=budget,
            flush_timeout_ns=flush_timeout_ns,
            max_size=max_size,
            udp_gro=udp_gro,
            vxlan_ports=list(vxlan_ports),
            geneve_ports=list(geneve_ports),
        )
    return OffloadReport(dict(stats), _records(raw))


def gso(
    source: Source,
    output: str | os.PathLike[str],
    *,
    mss: int = 1448,
    mtu: int = 1500,
    ufo: bool = False,
    csum_offload: bool = False,
) -> OffloadReport:
    """Segments every packet of ``source`` as software GSO would (TCP as TSO, UDP as USO or,
    with ``ufo``, IP fragments), fragments what exceeds ``mtu`` (packets with DF set are
    counted in ``too_big``), and writes the segments.

    Without ``csum_offload`` every checksum written is complete. With it the device has
    ``tx-checksumming``: segments leave ``CHECKSUM_PARTIAL``, their (inner) TCP or UDP checksum
    field holding the pseudo-header sum for the NIC to finish, as a capture taken on the
    sending host shows them. IP header checksums, outer tunnel UDP checksums, UFO datagrams
    and IP fragments stay complete, and packets that need no segmentation leave as read."""
    cap = Capture(source)
    with _writer_for(cap, output) as w:
        stats, raw = _netcore.gso_run(
            cap._reader, w._w, mss=mss, mtu=mtu, ufo=ufo, csum_offload=csum_offload
        )
    return OffloadReport(dict(stats), _records(raw))
