"""The pieces of a programmable stack: device features, hook batches and packets, the run report.

Hooks are written in Python and attached where netfilter would call them (see
:meth:`netcore.Namespace.hook`). A *batch hook* receives a :class:`HookBatch` — a
:class:`netcore.Batch` of the packets reaching the hook, with their ``mark``, ``priority``,
``iif``, ``oif`` and input ``index`` as extra columns — and returns one verdict per packet (a
numpy array, or one verdict for all). A *per-packet hook* receives a :class:`HookPacket` and
returns a verdict. Both may change packets: marks and priorities, addresses and ports (the
checksums are fixed incrementally, as NAT does).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from netcore import _netcore
from netcore.batch import Batch, Packet
from netcore.exceptions import ConfigError, NetcoreError
from netcore.rules import ACCEPT, DROP, QUEUE, REPEAT, STOLEN

__all__ = [
    "ACCEPT",
    "DROP",
    "QUEUE",
    "REPEAT",
    "STOLEN",
    "Device",
    "Features",
    "HookBatch",
    "HookError",
    "HookPacket",
    "RunReport",
    "queue",
]

OnError = Literal["drop", "accept", "raise"]


def queue(num: int) -> int:
    """The verdict that hands a packet to queue ``num``'s consumer (``NF_QUEUE_NR(num)``)."""
    if not 0 <= num <= 0xFFFF:
        raise ConfigError(f"queue number {num} outside 0..65535")
    return (num << 16) | QUEUE


class HookError(NetcoreError):
    """A hook raised and its error policy is ``"raise"``: the run stopped.

    ``index`` is the input position of the packet being judged (for a batch hook, the first
    packet of the batch), ``hook`` the hook's name, ``report`` the counters up to the stop
    (filled in when the run ends); the hook's own exception is ``__cause__``.
    """

    def __init__(self, message: str, *, hook: str, index: int) -> None:
        super().__init__(message)
        self.hook = hook
        self.index = index
        self.report: dict[str, Any] | None = None


@dataclass(frozen=True)
class Features:
    """Offload features of a device, like ``ethtool -k`` (defaults: a modern NIC)."""

    gro: bool = True
    gso: bool = True
    tso: bool = True
    uso: bool = True
    ufo: bool = False
    tx_csum: bool = True
    tunnel_tso: bool = True
    #: What the NIC reports on receive: ``"unnecessary"`` (validated, the default; also
    #: ``True``), ``"complete"`` (a sum to finish) or ``"none"`` (also ``False``).
    rx_csum: bool | Literal["none", "unnecessary", "complete"] = "unnecessary"
    udp_gro: Literal["off", "forwarding", "fraglist"] = "off"

    @classmethod
    def none(cls) -> Features:
        """Every offload off: the stack does everything in software."""
        return cls(
            gro=False,
            gso=False,
            tso=False,
            uso=False,
            ufo=False,
            tx_csum=False,
            tunnel_tso=False,
            rx_csum="none",
        )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Device:
    """A device of a namespace (returned by :meth:`netcore.Namespace.add_device`)."""

    name: str
    ifindex: int
    mtu: int
    rx_queues: int
    features: Features


_KNOWN = frozenset(_netcore.HookMeta.header_columns())


class HookBatch(Batch):
    """The packets reaching a hook, with their stack metadata and a way to change them."""

    __slots__ = ("_edits", "_meta")

    def __init__(self, raw: _netcore.Batch, meta: _netcore.HookMeta) -> None:
        # Batch.__init__ inlined: one batch is made per hook call.
        self._raw = raw
        self._rows = None
        self._cache = {}
        self._meta = meta
        self._edits: list[tuple[int, str, object]] = []

    def _column(self, name: str) -> npt.NDArray[Any]:
        # The IP and transport fields the stack already read come from it; the batch is
        # dissected only for the other columns.
        col: npt.NDArray[Any] | None = self._cache.get(name)
        if col is not None:
            return col
        if name in _KNOWN:
            col = self._cache[name] = self._meta.column(name)
            return col
        return Batch._column(self, name)

    def _meta_column(self, name: str) -> npt.NDArray[Any]:
        col: npt.NDArray[Any] | None = self._cache.get(name)
        if col is None:
            col = self._cache[name] = self._meta.column(name)
        return col

    @property
    def index(self) -> npt.NDArray[np.uint64]:
        """Position in the input of each packet (the first segment's, for a merged one)."""
        return self._meta_column("index")

    @property
    def iif(self) -> npt.NDArray[np.uint32]:
        """Input device index (0: made by the host)."""
        return self._meta_column("iif")

    @property
    def oif(self) -> npt.NDArray[np.uint32]:
        """Output device index (0: not routed yet)."""
        return self._meta_column("oif")

    @property
    def mark(self) -> npt.NDArray[np.uint32]:
        """Firewall mark (``skb->mark``) as the packets reached the hook."""
        return self._meta_column("mark")

    @property
    def priority(self) -> npt.NDArray[np.uint32]:
        """Queueing priority (``skb->priority``)."""
        return self._meta_column("priority")

    def _rows_of(self, where: int | npt.NDArray[Any] | list[int] | slice) -> list[int]:
        n = len(self)
        if isinstance(where, int | np.integer):
            i = int(where) + (n if int(where) < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"packet {where} outside a batch of {n}")
            return [i]
        rows: list[int] = np.arange(n)[where].tolist()
        return rows

    def set_mark(self, where: int | npt.NDArray[Any] | list[int] | slice, mark: int) -> None:
        """Sets the mark of the selected packets (an index, index array or boolean mask)."""
        self._edits.extend((i, "mark", int(mark)) for i in self._rows_of(where))

    def set_priority(self, where: int | npt.NDArray[Any] | list[int] | slice, value: int) -> None:
        """Sets the queueing priority of the selected packets."""
        self._edits.extend((i, "priority", int(value)) for i in self._rows_of(where))

    def rewrite(
        self,
        where: int | npt.NDArray[Any] | list[int] | slice,
        *,
        src: str | None = None,
        dst: str | None = None,
        sport: int | None = None,
        dport: int | None = None,
    ) -> None:
        """Rewrites addresses and ports of the selected packets; checksums are updated
        incrementally (RFC 1624), as the kernel's NAT does."""
        changes = [
            (k, v)
            for k, v in (("src", src), ("dst", dst), ("sport", sport), ("dport", dport))
            if v is not None
        ]
        for i in self._rows_of(where):
            self._edits.extend((i, k, v) for k, v in changes)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int | np.integer):
            n = len(self)
            i = int(key) + (n if int(key) < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"packet {key} outside a batch of {n}")
            return HookPacket(self, i)
        return super().__getitem__(key)

    def __iter__(self) -> Iterator[HookPacket]:
        for i in range(len(self)):
            yield HookPacket(self, i)

    def __repr__(self) -> str:
        return f"<netcore.HookBatch of {len(self)} packets>"


class HookPacket(Packet):
    """One packet at a hook: a :class:`netcore.Packet` whose mark, priority, addresses and
    ports can be changed."""

    __slots__ = ()

    _batch: HookBatch

    @property
    def mark(self) -> int:
        """Firewall mark; assigning sets it."""
        for i, k, v in reversed(self._batch._edits):
            if i == self._i and k == "mark" and isinstance(v, int):
                return v
        return int(self._batch.mark[self._i])

    @mark.setter
    def mark(self, value: int) -> None:
        self._batch.set_mark(self._i, value)

    @property
    def priority(self) -> int:
        """Queueing priority; assigning sets it."""
        return int(self._batch.priority[self._i])

    @priority.setter
    def priority(self, value: int) -> None:
        self._batch.set_priority(self._i, value)

    @property
    def index(self) -> int:
        """Position in the input."""
        return int(self._batch.index[self._i])

    @property
    def iif(self) -> int:
        """Input device index."""
        return int(self._batch.iif[self._i])

    @property
    def oif(self) -> int:
        """Output device index (0: not routed yet)."""
        return int(self._batch.oif[self._i])

    def rewrite(
        self,
        *,
        src: str | None = None,
        dst: str | None = None,
        sport: int | None = None,
        dport: int | None = None,
    ) -> None:
        """Rewrites this packet's addresses and ports (checksums fixed incrementally)."""
        self._batch.rewrite(self._i, src=src, dst=dst, sport=sport, dport=dport)


@dataclass
class _Hook:
    name: str
    point: str
    fn: Callable[[Any], object]
    per_packet: bool
    on_error: OnError


#: numpy type numbers of the verdict arrays the stack reads in place (uint32, int64).
_IN_PLACE = frozenset({np.dtype(np.uint32).num, np.dtype(np.int64).num})


def _verdicts(value: object, n: int, name: str) -> npt.NDArray[Any] | None:
    """A hook's answer as one verdict per packet (``uint32`` or ``int64``, read by the stack
    in place), or ``None`` when it accepts them all."""
    if type(value) is np.ndarray and value.shape == (n,) and value.dtype.num in _IN_PLACE:
        return value  # read in place by the stack (a strided one is copied there)
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind not in "iub":
        raise ConfigError(f"hook {name!r} returned {arr.dtype} verdicts; return integers")
    if arr.ndim == 0:
        return np.full(n, int(arr), dtype=np.uint32)
    if arr.shape != (n,):
        raise ConfigError(f"hook {name!r} returned {arr.shape[0]} verdicts for {n} packets")
    if arr.flags.c_contiguous and arr.dtype in (np.uint32, np.int64):
        return arr  # read in place by the stack
    return np.ascontiguousarray(arr, dtype=np.uint32)


class HookRegistry:
    """Python hooks of a namespace by number; the stack calls :meth:`dispatch`."""

    def __init__(self) -> None:
        self.hooks: dict[int, _Hook] = {}

    def add(self, hook: _Hook) -> int:
        number = max(self.hooks, default=0) + 1
        self.hooks[number] = hook
        return number

    def remove(self, number: int) -> None:
        self.hooks.pop(number, None)

    def dispatch(
        self,
        number: int,
        point: str,
        raw: _netcore.Batch,
        meta: _netcore.HookMeta,
    ) -> tuple[list[int] | npt.NDArray[Any] | None, list[tuple[int, str, object]], list[int]]:
        """Runs hook ``number`` over one batch; returns (verdicts, edits, error rows), where
        verdicts ``None`` accepts every packet."""
        h = self.hooks[number]
        batch = HookBatch(raw, meta)
        n = len(raw)
        errors: list[int] = []
        if h.per_packet:
            fn = h.fn
            verdicts: list[object] = [ACCEPT] * n
            i = 0
            # The try is outside the loop (it costs nothing until something raises); after an
            # exception the loop resumes at the next packet.
            while i < n:
                try:
                    while i < n:
                        v = fn(HookPacket(batch, i))
                        if v is not None:
                            verdicts[i] = v
                        i += 1
                except Exception as e:
                    verdicts[i] = self._on_error(h, e, meta.index_of(i) or 0, point)
                    errors.append(i)
                    i += 1
            return verdicts, batch._edits, errors  # type: ignore[return-value]
        try:
            return _verdicts(h.fn(batch), n, h.name), batch._edits, errors
        except Exception as e:
            first = meta.index_of(0) or 0
            v = self._on_error(h, e, first, point)
            return np.full(n, v, dtype=np.uint32), [], list(range(n))

    @staticmethod
    def _on_error(h: _Hook, e: Exception, index: int, point: str) -> int:
        if h.on_error == "raise":
            raise HookError(
                f"hook {h.name!r} at {point} raised {type(e).__name__}: {e} (packet {index})",
                hook=h.name,
                index=index,
            ) from e
        return DROP if h.on_error == "drop" else ACCEPT


@dataclass
class RunReport:
    """What a replay did with every packet, and the counters behind it."""

    entered: int = 0
    created: int = 0
    unprocessed: int = 0
    delivered: dict[str, int] = field(default_factory=dict)
    transmitted: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    stolen: dict[str, int] = field(default_factory=dict)
    icmp_errors: dict[str, int] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    hooks: dict[str, dict[str, int]] = field(default_factory=dict)
    rules: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    rule_text: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunReport:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def outcomes(self) -> int:
        """Packets that reached an outcome (or were left unprocessed by a stopped run)."""
        return (
            sum(self.delivered.values())
            + sum(self.transmitted.values())
            + sum(self.dropped.values())
            + sum(self.stolen.values())
            + self.unprocessed
        )

    def check(self) -> None:
        """Raises AssertionError unless every packet that entered or was created ended in
        exactly one outcome."""
        if self.entered + self.created != self.outcomes:
            raise AssertionError(
                f"{self.entered} packets entered and {self.created} were created, "
                f"but {self.outcomes} reached an outcome"
            )

    def queue_imbalance(self, device: str) -> float:
        """Busiest receive queue over the mean, by packets (1.0: perfectly even)."""
        qs = [q["packets"] for q in self.devices.get(device, {}).get("queues", [])]
        mean = sum(qs) / len(qs) if qs else 0
        return max(qs) / mean if mean else 1.0

    def __str__(self) -> str:
        lines = [f"{self.entered:,} packets entered, {self.created:,} created"]

        def block(title: str, d: Mapping[str, int]) -> None:
            if d:
                lines.append(f"{title}:")
                for k, v in sorted(d.items(), key=lambda kv: -kv[1]):
                    lines.append(f"  {k:<28} {v:>12,}")

        block("delivered", self.delivered)
        block("transmitted", self.transmitted)
        block("dropped", self.dropped)
        block("stolen", self.stolen)
        block("ICMP errors sent", self.icmp_errors)
        if self.unprocessed:
            lines.append(f"unprocessed (run stopped): {self.unprocessed:,}")
        for name, d in self.devices.items():
            lines.append(
                f"device {name}: rx {d['rx_packets']:,} pkts, tx {d['tx_packets']:,} pkts"
                f" (GSO segmented {d['gso_segmented']:,} into {d['gso_segments']:,},"
                f" TSO {d['tso_packets']:,})"
            )
            g = d["gro"]
            if g["received"]:
                lines.append(
                    f"  GRO: {g['received']:,} received, {g['merged']:,} merged,"
                    f" {g['completed']:,} super-packets"
                )
            qs = d["queues"]
            if qs:
                for i, q in enumerate(qs):
                    lines.append(
                        f"  rxq {i}: {q['packets']:,} pkts, {q['polls']:,} polls"
                        f" ({q['budget_exhausted']:,} full), {q['drops']:,} drops"
                    )
                if len(qs) > 1:
                    lines.append(f"  queue imbalance (max/mean): {self.queue_imbalance(name):.2f}")
        for k, h in self.hooks.items():
            lines.append(
                f"hook {k}: {h['calls']:,} calls, {h['packets']:,} pkts, "
                f"accept {h['accepted']:,}, drop {h['dropped']:,}, stolen {h['stolen']:,}, "
                f"queued {h['queued']:,}, errors {h['errors']:,}"
            )
        for k, rules in self.rules.items():
            texts = self.rule_text.get(k, [])
            lines.append(f"rules {k}:")
            for i, (pk, by) in enumerate(rules):
                text = texts[i] if i < len(texts) else f"rule {i}"
                lines.append(f"  {pk:>10,} pkts {by:>14,} bytes  {text}")
        return "\n".join(lines)
