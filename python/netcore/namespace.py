"""A namespace: a stack instance whose demultiplexing tables hand packets to Python handlers.

Handlers are registered like the kernel's protocol handlers: by ethertype (``ptype_base``), by
IP protocol (``inet_protos``) or by UDP destination port (an encapsulation socket). Each packet
goes to the first registered handler along its demultiplexing path (outer ethertype, outer IP
protocol, outer UDP port, then the same for a tunnel's inner packet); what no handler claims is
counted per protocol.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from netcore import _netcore
from netcore.batch import Batch, Packet
from netcore.capture import DEFAULT_BATCH, Capture
from netcore.exceptions import ConfigError

__all__ = ["DemuxReport", "Namespace"]

BatchHandler = Callable[[Batch], object]
PacketHandler = Callable[[Packet], object]


@dataclass
class _Handler:
    number: int
    name: str
    fn: Callable[[Any], object]
    per_packet: bool
    key: str


@dataclass
class DemuxReport:
    """What a run did with every packet: delivered to a handler, or unclaimed per protocol."""

    packets: int = 0
    delivered: Counter[str] = field(default_factory=Counter)
    unclaimed: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    def check(self) -> None:
        """Raises AssertionError unless every packet is counted exactly once."""
        accounted = sum(self.delivered.values()) + sum(self.unclaimed.values())
        if accounted != self.packets:
            raise AssertionError(f"{self.packets} packets entered, {accounted} accounted for")

    def __str__(self) -> str:
        lines = [f"{self.packets:,} packets"]
        for name, n in self.delivered.most_common():
            lines.append(f"  delivered to {name}: {n:,} ({self.calls[name]:,} calls)")
        for proto, n in self.unclaimed.most_common():
            lines.append(f"  unclaimed {proto}: {n:,}")
        return "\n".join(lines)


class Namespace:
    """A stack instance: demultiplexing tables and the handlers registered in them."""

    def __init__(self) -> None:
        self.demux = _netcore.Demux()
        self._handlers: dict[int, _Handler] = {}

    def register(
        self,
        *,
        ethertype: int | None = None,
        ip_proto: int | None = None,
        udp_port: int | None = None,
        per_packet: bool = False,
        name: str | None = None,
    ) -> Callable[[Callable[[Any], object]], Callable[[Any], object]]:
        """Decorator registering a handler for one ethertype, IP protocol or UDP port.

        The handler receives each batch's matching packets as a :class:`Batch` (one call per
        batch), or one :class:`Packet` at a time with ``per_packet=True``.
        """
        keys = [
            (k, v)
            for k, v in (("ethertype", ethertype), ("ip_proto", ip_proto), ("udp_port", udp_port))
            if v is not None
        ]
        if len(keys) != 1:
            raise ConfigError("give exactly one of ethertype=, ip_proto=, udp_port=")

        def deco(fn: Callable[[Any], object]) -> Callable[[Any], object]:
            number = max(self._handlers, default=0) + 1
            if number > 0xFFFF:
                raise ConfigError("too many handlers")
            self.demux.register(number, ethertype=ethertype, ip_proto=ip_proto, udp_port=udp_port)
            label = str(name or getattr(fn, "__name__", f"handler{number}"))
            key = (
                f"{keys[0][0]}={keys[0][1]:#x}"
                if keys[0][0] == "ethertype"
                else f"{keys[0][0]}={keys[0][1]}"
            )
            self._handlers[number] = _Handler(number, label, fn, per_packet, key)
            return fn

        return deco

    def unregister(self, fn: Callable[[Any], object]) -> None:
        """Removes every registration of ``fn``."""
        for number, h in list(self._handlers.items()):
            if h.fn is fn:
                self.demux.unregister(number)
                del self._handlers[number]

    def set_encap(self, port: int, kind: str | None) -> None:
        """Decapsulates ``"vxlan"`` or ``"geneve"`` on UDP ``port`` (None: nothing)."""
        self.demux.set_encap(port, kind)

    @property
    def encap_ports(self) -> dict[int, str]:
        """UDP ports where tunnels are decapsulated."""
        ports: dict[int, str] = self.demux.encap_ports()
        return ports

    def open(self, source: str | os.PathLike[str] | IO[bytes], **options: Any) -> Capture:
        """Opens a capture whose batches are dissected with this namespace's tables."""
        return Capture(source, demux=self.demux, **options)

    def run(
        self,
        source: str | os.PathLike[str] | IO[bytes] | Capture,
        *,
        batch_size: int = DEFAULT_BATCH,
        strict: bool = True,
    ) -> DemuxReport:
        """Dissects every packet of ``source`` and hands it to its handler."""
        cap = (
            source
            if isinstance(source, Capture)
            else self.open(source, batch_size=batch_size, strict=strict)
        )
        report = DemuxReport()
        for batch in cap:
            self.deliver(batch, report)
        return report

    def deliver(self, batch: Batch, report: DemuxReport | None = None) -> DemuxReport:
        """Hands one batch's packets to their handlers; returns the updated report."""
        report = report if report is not None else DemuxReport()
        handlers, unclaimed = batch.raw.classify(self.demux)
        report.packets += len(batch)
        for proto, n in unclaimed:
            report.unclaimed[proto] += n
        if not self._handlers:
            return report
        assigned = np.asarray(handlers, dtype=np.uint16)
        if batch._rows is not None:
            assigned = assigned[batch.rows]
        for number in np.unique(assigned[assigned != 0]).tolist():
            h = self._handlers[number]
            sub = batch[np.flatnonzero(assigned == number)]
            report.delivered[h.name] += len(sub)
            if h.per_packet:
                for pkt in sub:
                    h.fn(pkt)
                    report.calls[h.name] += 1
            else:
                h.fn(sub)
                report.calls[h.name] += 1
        return report
