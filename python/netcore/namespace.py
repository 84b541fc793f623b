"""A namespace: a stack instance — devices, routes, hooks — and its demultiplexing tables.

Devices, routes, hooks and rulesets make a programmable stack that :meth:`Namespace.replay`
runs captures through (see :mod:`netcore.stack`).


Handlers are registered like the kernel's protocol handlers: by ethertype (``ptype_base``), by
IP protocol (``inet_protos``) or by UDP destination port (an encapsulation socket). Each packet
goes to the first registered handler along its demultiplexing path (outer ethertype, outer IP
protocol, outer UDP port, then the same for a tunnel's inner packet); what no handler claims is
counted per protocol.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from netcore import _netcore
from netcore.batch import Batch, Packet
from netcore.capture import DEFAULT_BATCH, Capture
from netcore.exceptions import ConfigError
from netcore.stack import Device, Features, HookRegistry, OnError, RunReport, _Hook

__all__ = ["DemuxReport", "Namespace", "Routes", "Rules"]

#: Hook points (nft's names); ``local_in``/``local_out`` are accepted too.
HOOK_POINTS = ("ingress", "prerouting", "input", "forward", "output", "postrouting", "egress")

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

    def __init__(self, *, forwarding: bool = True) -> None:
        self.demux = _netcore.Demux()
        self._handlers: dict[int, _Handler] = {}
        self._stack = _netcore.Stack()
        self._stack.forwarding = forwarding
        self._devices: dict[str, Device] = {}
        self._hooks = HookRegistry()
        self._hook_numbers: dict[tuple[str, str], int] = {}
        self._rule_text: dict[str, list[str]] = {}
        self.routes = Routes(self)
        self.rules = Rules(self)

    # ----- devices, routes, hooks ----------------------------------------------------------

    def add_device(
        self,
        name: str,
        *,
        mtu: int = 1500,
        mac: str | None = None,
        features: Features | None = None,
        rx_queues: int = 1,
        tx_queues: int = 1,
        rss: _netcore.Rss | None = None,
        rps_workers: int = 0,
        xps: Mapping[int, Sequence[int]] | None = None,
        vlans: Sequence[int] = (),
        addresses: Sequence[str] = (),
        budget: int = 64,
        flush_timeout_ns: int = 0,
        gro_max_size: int = 65536,
    ) -> Device:
        """Adds a device: its MTU, MAC (None: takes every unicast frame), offload features,
        receive queues with their RSS configuration, software steering (``rps_workers``:
        received packets spread over that many workers by hash; ``xps``: worker → transmit
        queues), VLANs with a VLAN device on top, local addresses (``"10.0.0.1/24"``) and its
        NAPI budget and GRO parameters."""
        feats = features or Features()
        ifindex = self._stack.add_device(
            name,
            mtu=mtu,
            mac=mac,
            features=feats.as_dict(),
            rx_queues=rx_queues,
            tx_queues=tx_queues,
            rss=rss,
            rps_workers=rps_workers,
            xps=None if xps is None else [(w, list(q)) for w, q in xps.items()],
            vlans=list(vlans),
            addresses=list(addresses),
            budget=budget,
            flush_timeout_ns=flush_timeout_ns,
            gro_max_size=gro_max_size,
        )
        dev = Device(name, ifindex, mtu, rx_queues, feats)
        self._devices[name] = dev
        return dev

    @property
    def devices(self) -> dict[str, Device]:
        """Devices by name."""
        return dict(self._devices)

    @property
    def forwarding(self) -> bool:
        """Whether packets for other hosts are forwarded (``net.ipv4.ip_forward``)."""
        on: bool = self._stack.forwarding
        return on

    @forwarding.setter
    def forwarding(self, on: bool) -> None:
        self._stack.forwarding = on

    @property
    def netdev_budget(self) -> int:
        """Packets a worker takes per receive round before yielding (``net.core.netdev_budget``,
        default 300); rounds cut short are counted as ``time_squeeze`` per queue."""
        n: int = self._stack.netdev_budget
        return n

    @netdev_budget.setter
    def netdev_budget(self, n: int) -> None:
        self._stack.netdev_budget = n

    def hook(
        self,
        point: str,
        *,
        priority: int = 0,
        family: str | None = None,
        per_packet: bool = False,
        on_error: OnError = "drop",
        name: str | None = None,
        jump_only: bool = False,
    ) -> Callable[[Callable[[Any], object]], Callable[[Any], object]]:
        """Decorator attaching a Python hook at ``point`` (see :data:`HOOK_POINTS`).

        Lower ``priority`` runs first (the kernel's ``NF_IP_PRI_*`` scale; equal priorities keep
        registration order). ``family`` limits it to ``"ip"`` or ``"ip6"`` packets. A batch
        hook gets a :class:`netcore.HookBatch` and returns verdicts; with ``per_packet=True``
        it gets one :class:`netcore.HookPacket` at a time. ``on_error`` says what an exception
        does: ``"drop"`` (default) or ``"accept"`` the packets and count them, or ``"raise"``:
        stop the run and raise :class:`netcore.HookError` naming the packet. With
        ``jump_only=True`` the hook only judges packets a native rule sends to it
        (``jump NAME``), like an nft chain without a hook.
        """

        def deco(fn: Callable[[Any], object]) -> Callable[[Any], object]:
            self.add_hook(
                point,
                fn,
                priority=priority,
                family=family,
                per_packet=per_packet,
                on_error=on_error,
                name=name,
                jump_only=jump_only,
            )
            return fn

        return deco

    def add_hook(
        self,
        point: str,
        fn: Callable[[Any], object],
        *,
        priority: int = 0,
        family: str | None = None,
        per_packet: bool = False,
        on_error: OnError = "drop",
        name: str | None = None,
        jump_only: bool = False,
    ) -> str:
        """Attaches ``fn`` at ``point`` (as :meth:`hook` does); returns the hook's name. May be
        called while a replay runs: the change applies from the next batch."""
        if on_error not in ("drop", "accept", "raise"):
            raise ConfigError(f"on_error={on_error!r}: use 'drop', 'accept' or 'raise'")
        label = str(name or getattr(fn, "__name__", "hook"))
        number = self._hooks.add(_Hook(label, point, fn, per_packet, on_error))
        try:
            self._stack.add_hook(
                point,
                label,
                priority=priority,
                family=family,
                external=number,
                jump_only=jump_only,
            )
        except Exception:
            self._hooks.remove(number)
            raise
        self._hook_numbers[(point, label)] = number
        return label

    def remove_hook(self, point: str, hook: str | Callable[[Any], object]) -> bool:
        """Detaches a hook (by name or function) from ``point``; whether one was attached."""
        names = [
            n
            for (p, n), num in self._hook_numbers.items()
            if p == point and (n == hook or self._hooks.hooks[num].fn is hook)
        ]
        if not names and isinstance(hook, str):
            names = [hook]
        removed = False
        for n in names:
            removed |= bool(self._stack.remove_hook(point, n))
            num = self._hook_numbers.pop((point, n), None)
            if num is not None:
                self._hooks.remove(num)
        return removed

    def queue_consumer(
        self, num: int, *, on_error: OnError = "drop"
    ) -> Callable[[Callable[[Any], object]], Callable[[Any], object]]:
        """Decorator making ``fn`` the consumer of queue ``num`` (like NFQUEUE): it gets the
        packets a hook or rule queued there as a :class:`netcore.HookBatch` and returns
        their verdicts, which are re-injected (ACCEPT continues after the hook that queued,
        REPEAT runs it again). Packets queued with no consumer are dropped."""

        def deco(fn: Callable[[Any], object]) -> Callable[[Any], object]:
            number = self._hooks.add(_Hook(f"queue{num}", "queue", fn, False, on_error))
            self._stack.set_queue(num, number)
            return fn

        return deco

    # ----- running ---------------------------------------------------------------------------

    def replay(
        self,
        source: str | os.PathLike[str] | IO[bytes] | Capture,
        *,
        into: str,
        capture: Mapping[str, str | os.PathLike[str]] | None = None,
        batch_size: int = 1024,
        ring_size: int = 4096,
        drop_on_full: bool = False,
        strict: bool = True,
    ) -> RunReport:
        """Runs every packet of ``source`` into device ``into`` and through the stack;
        ``capture`` maps device names to files receiving what they transmit (``.pcap`` or
        pcapng). Returns the report; ``report.check()`` verifies every packet is accounted
        for."""
        if into not in self._devices:
            raise ConfigError(f"no device named {into!r}")
        cap = source if isinstance(source, Capture) else Capture(source, strict=strict)
        raw = self._stack.replay(
            cap._reader,
            into,
            capture=[(dev, os.fspath(p)) for dev, p in (capture or {}).items()],
            dispatch=self._hooks.dispatch,
            batch_size=batch_size,
            ring_size=ring_size,
            drop_on_full=drop_on_full,
        )
        return self._report(raw)

    def send(
        self,
        packets: Sequence[bytes],
        *,
        capture: Mapping[str, str | os.PathLike[str]] | None = None,
    ) -> RunReport:
        """Sends IP packets (starting at the IP header) from this host: they enter at
        LOCAL_OUT, are routed, pass POST_ROUTING and leave by their device."""
        raw = self._stack.output(
            [bytes(p) for p in packets],
            capture=[(dev, os.fspath(p)) for dev, p in (capture or {}).items()],
            dispatch=self._hooks.dispatch,
        )
        return self._report(raw)

    def _report(self, raw: dict[str, Any]) -> RunReport:
        report = RunReport.from_dict(raw)
        report.rule_text = {k: v for k, v in self._rule_text.items() if k in report.rules}
        return report

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


class Routes:
    """The FIB of a namespace: ``ns.routes.add("0.0.0.0/0", dev="wan0")``."""

    def __init__(self, ns: Namespace) -> None:
        self._ns = ns

    def add(
        self,
        prefix: str,
        *,
        dev: str | None = None,
        gateway: str | None = None,
        metric: int = 0,
        kind: str = "unicast",
    ) -> None:
        """Adds a route: ``kind`` is unicast (needs ``dev``), blackhole, unreachable or
        prohibit. Lookups pick the longest prefix, then the lowest metric."""
        self._ns._stack.add_route(prefix, dev=dev, gateway=gateway, metric=metric, kind=kind)


class Rules:
    """Native rulesets attached at hook points: ``ns.rules.add("prerouting", "ip saddr
    10.0.0.0/8 tcp dport 22 drop")``."""

    def __init__(self, ns: Namespace) -> None:
        self._ns = ns
        self._count = 0

    def add(
        self,
        point: str,
        rules: str | _netcore.Ruleset,
        *,
        priority: int = 0,
        family: str | None = None,
        name: str | None = None,
    ) -> str:
        """Compiles ``rules`` (nftables-like text, one rule per line) and attaches them at
        ``point``; returns the ruleset's name. ``jump NAME`` calls the Python hook ``NAME``
        attached at the same point. Syntax errors raise :class:`netcore.RuleError` with the
        line and column."""
        ns = self._ns
        devices = {d.name: d.ifindex for d in ns._devices.values()}
        rs = rules if isinstance(rules, _netcore.Ruleset) else _netcore.Ruleset(rules, devices)
        self._count += 1
        label = name or f"rules{self._count}"
        ns._stack.add_hook(point, label, priority=priority, family=family, ruleset=rs)
        ns._rule_text[f"{_point_name(point)}/{label}"] = list(rs.rules)
        return label

    def remove(self, point: str, name: str) -> bool:
        """Detaches ruleset ``name`` from ``point``."""
        removed: bool = self._ns._stack.remove_hook(point, name)
        return removed


def _point_name(point: str) -> str:
    aliases = {"local_in": "input", "local_out": "output"}
    return aliases.get(point, point)
