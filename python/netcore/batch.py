"""Batches of packets as numpy columns over Rust memory, and per-packet views."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from netcore import _netcore

__all__ = ["Batch", "Packet"]

IndexArray = npt.NDArray[np.int64]

LAYER_NAMES: dict[int, str] = _netcore.LAYER_NAMES
DROP_REASONS: dict[int, str] = _netcore.DROP_REASONS
VERDICTS = {0: "absent", 1: "good", 2: "bad", 3: "unverified", 4: "not_present", 5: "illegal"}

_BASE = frozenset({"ts", "caplen", "wirelen", "ifindex", "linktype", "offset"})


class Batch:
    """Packets read together.

    Columns are numpy arrays that share memory with the reader (no copy): ``ts`` (int64 ns since
    the epoch), ``caplen``, ``wirelen``, ``ifindex``, ``linktype``, ``offset``; ``data`` is the
    memory the packets live in. ``batch[i]`` is a :class:`Packet`, ``batch[mask]`` or
    ``batch[indices]`` a sub-batch over the same memory, ``len(batch)`` the packet count.
    """

    __slots__ = ("_cache", "_raw", "_rows")

    def __init__(self, raw: _netcore.Batch, rows: IndexArray | None = None) -> None:
        self._raw = raw
        self._rows = rows
        self._cache: dict[str, Any] = {}

    def _column(self, name: str) -> npt.NDArray[Any]:
        col: npt.NDArray[Any] | None = self._cache.get(name)
        if col is None:
            col = getattr(self._raw, name) if name in _BASE else self._raw.column(name)
            if self._rows is not None:
                col = col[self._rows]
            self._cache[name] = col
        return col

    @property
    def ts(self) -> npt.NDArray[np.int64]:
        """Timestamps in nanoseconds since the Unix epoch."""
        return self._column("ts")

    @property
    def caplen(self) -> npt.NDArray[np.uint32]:
        """Captured lengths."""
        return self._column("caplen")

    @property
    def wirelen(self) -> npt.NDArray[np.uint32]:
        """Original lengths on the wire."""
        return self._column("wirelen")

    @property
    def ifindex(self) -> npt.NDArray[np.uint32]:
        """Interface index of each packet (global over pcapng sections)."""
        return self._column("ifindex")

    @property
    def linktype(self) -> npt.NDArray[np.uint16]:
        """``LINKTYPE_*`` number of each packet's interface."""
        return self._column("linktype")

    @property
    def offset(self) -> npt.NDArray[np.uint64]:
        """Offset of each packet in :attr:`data`."""
        return self._column("offset")

    # Dissection columns: computed in Rust on first access (the GIL released), then shared.

    @property
    def layers(self) -> npt.NDArray[np.uint8]:
        """Layer codes per packet, shape (n, 16), outermost first, 0-padded (``LAYER_NAMES``)."""
        return self._column("layers")

    @property
    def layer_off(self) -> npt.NDArray[np.uint16]:
        """Offset of each layer's header, shape (n, 16)."""
        return self._column("layer_off")

    @property
    def nlayers(self) -> npt.NDArray[np.uint8]:
        """Number of layers."""
        return self._column("nlayers")

    @property
    def ethertype(self) -> npt.NDArray[np.uint16]:
        """Ethertype of the outermost network layer (after VLAN/MPLS), 0 if none."""
        return self._column("ethertype")

    @property
    def vlan(self) -> npt.NDArray[np.uint16]:
        """VLAN ID of the outermost tag, 0xFFFF when untagged."""
        return self._column("vlan")

    @property
    def vlan_depth(self) -> npt.NDArray[np.uint8]:
        """Number of VLAN tags."""
        return self._column("vlan_depth")

    @property
    def l3_off(self) -> npt.NDArray[np.uint16]:
        """Offset of the network header (0xFFFF: none)."""
        return self._column("l3_off")

    @property
    def l4_off(self) -> npt.NDArray[np.uint16]:
        """Offset of the transport header (0xFFFF: none)."""
        return self._column("l4_off")

    @property
    def payload_off(self) -> npt.NDArray[np.uint16]:
        """Offset of the transport payload (0xFFFF: none)."""
        return self._column("payload_off")

    @property
    def ip_version(self) -> npt.NDArray[np.uint8]:
        """4, 6, or 0 when not IP."""
        return self._column("ip_version")

    @property
    def l4proto(self) -> npt.NDArray[np.uint8]:
        """IP protocol of the outermost IP layer (after IPv6 extension headers), 0 if none."""
        return self._column("l4proto")

    @property
    def ttl(self) -> npt.NDArray[np.uint8]:
        """TTL or hop limit."""
        return self._column("ttl")

    @property
    def src4(self) -> npt.NDArray[np.uint32]:
        """IPv4 source as a number (10.0.0.1 is 0x0A000001)."""
        return self._column("src4")

    @property
    def dst4(self) -> npt.NDArray[np.uint32]:
        """IPv4 destination as a number."""
        return self._column("dst4")

    @property
    def src6(self) -> npt.NDArray[np.uint8]:
        """IPv6 source, shape (n, 16)."""
        return self._column("src6")

    @property
    def dst6(self) -> npt.NDArray[np.uint8]:
        """IPv6 destination, shape (n, 16)."""
        return self._column("dst6")

    @property
    def sport(self) -> npt.NDArray[np.uint16]:
        """Source port (TCP, UDP, SCTP)."""
        return self._column("sport")

    @property
    def dport(self) -> npt.NDArray[np.uint16]:
        """Destination port (TCP, UDP, SCTP)."""
        return self._column("dport")

    @property
    def tcp_flags(self) -> npt.NDArray[np.uint16]:
        """TCP flags: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40,
        CWR 0x80, AE 0x100."""
        return self._column("tcp_flags")

    @property
    def seq(self) -> npt.NDArray[np.uint32]:
        """TCP sequence number."""
        return self._column("seq")

    @property
    def ack(self) -> npt.NDArray[np.uint32]:
        """TCP acknowledgement number."""
        return self._column("ack")

    @property
    def window(self) -> npt.NDArray[np.uint16]:
        """TCP window (unscaled)."""
        return self._column("window")

    @property
    def payload_len(self) -> npt.NDArray[np.uint32]:
        """Transport payload length according to the headers."""
        return self._column("payload_len")

    @property
    def frag(self) -> npt.NDArray[np.uint8]:
        """0 not a fragment, 1 first fragment, 2 later fragment."""
        return self._column("frag")

    @property
    def tunnel(self) -> npt.NDArray[np.uint8]:
        """Layer code of the first tunnel (vxlan, geneve, gre, ipv4, ipv6), 0 if none."""
        return self._column("tunnel")

    @property
    def vni(self) -> npt.NDArray[np.uint32]:
        """VXLAN/Geneve network identifier, or GRE key."""
        return self._column("vni")

    @property
    def inner_ethertype(self) -> npt.NDArray[np.uint16]:
        """Ethertype of the tunnel's inner network layer."""
        return self._column("inner_ethertype")

    @property
    def inner_l3_off(self) -> npt.NDArray[np.uint16]:
        """Offset of the inner network header."""
        return self._column("inner_l3_off")

    @property
    def inner_l4_off(self) -> npt.NDArray[np.uint16]:
        """Offset of the inner transport header."""
        return self._column("inner_l4_off")

    @property
    def inner_l4proto(self) -> npt.NDArray[np.uint8]:
        """IP protocol of the inner packet."""
        return self._column("inner_l4proto")

    @property
    def inner_src4(self) -> npt.NDArray[np.uint32]:
        """Inner IPv4 source."""
        return self._column("inner_src4")

    @property
    def inner_dst4(self) -> npt.NDArray[np.uint32]:
        """Inner IPv4 destination."""
        return self._column("inner_dst4")

    @property
    def inner_sport(self) -> npt.NDArray[np.uint16]:
        """Inner source port."""
        return self._column("inner_sport")

    @property
    def inner_dport(self) -> npt.NDArray[np.uint16]:
        """Inner destination port."""
        return self._column("inner_dport")

    @property
    def truncated(self) -> npt.NDArray[np.bool_]:
        """Dissection stopped where the capture cut the packet (snaplen)."""
        return self._column("truncated")

    @property
    def malformed(self) -> npt.NDArray[np.bool_]:
        """The packet's own lengths or fields are inconsistent."""
        return self._column("malformed")

    @property
    def csum(self) -> npt.NDArray[np.uint8]:
        """Checksum verdict per layer, shape (n, 16) (see ``VERDICTS``)."""
        return self._column("csum")

    @property
    def csum_ip(self) -> npt.NDArray[np.uint8]:
        """Verdict of the outer IPv4 header checksum (0 absent, 1 good, 2 bad, 3 unverified)."""
        return self._column("csum_ip")

    @property
    def csum_l4(self) -> npt.NDArray[np.uint8]:
        """Verdict of the outer transport checksum (adds 4 not present, 5 illegal)."""
        return self._column("csum_l4")

    @property
    def csum_inner_ip(self) -> npt.NDArray[np.uint8]:
        """Verdict of the tunnel's inner IPv4 header checksum."""
        return self._column("csum_inner_ip")

    @property
    def csum_inner_l4(self) -> npt.NDArray[np.uint8]:
        """Verdict of the tunnel's inner transport checksum."""
        return self._column("csum_inner_l4")

    @property
    def drop_reason(self) -> npt.NDArray[np.uint16]:
        """Why the kernel's receive path would drop the packet (``DROP_REASONS`` code), 0 if not."""
        return self._column("drop_reason")

    def rx_checksum(self, mode: str = "unnecessary") -> dict[str, npt.NDArray[Any]]:
        """The ``ip_summed`` state a receiving device gives each packet, by its receive checksum
        offload: ``"none"`` (software verifies everything), ``"unnecessary"`` (the NIC validates
        transport checksums; ``csum_level`` counts validated inner ones) or ``"complete"`` (the
        NIC reports the sum of everything after the link header).

        Returns ``{"ip_summed": 0 NONE / 1 UNNECESSARY / 2 COMPLETE, "csum_level", "csum"}``.
        """
        kind, level, csum = self._raw.rx_checksum(mode)
        if self._rows is not None:
            kind, level, csum = kind[self._rows], level[self._rows], csum[self._rows]
        return {"ip_summed": kind, "csum_level": level, "csum": csum}

    @property
    def data(self) -> npt.NDArray[np.uint8]:
        """The memory holding the packets (read-only, shared with the reader)."""
        d: npt.NDArray[np.uint8] | None = self._cache.get("data")
        if d is None:
            d = self._cache["data"] = self._raw.data
        return d

    @property
    def rows(self) -> IndexArray:
        """Rows of the underlying batch that this (sub-)batch holds."""
        if self._rows is None:
            return np.arange(len(self._raw), dtype=np.int64)
        return self._rows

    @property
    def first_index(self) -> int:
        """0-based number, in the capture, of the underlying batch's first packet."""
        return self._raw.first_index

    @property
    def comments(self) -> dict[int, list[str]]:
        """Packet comments by row of this batch."""
        out: dict[int, list[str]] = {}
        raw = self._raw.comments
        if not raw:
            return out
        if self._rows is None:
            for row, text in raw:
                out.setdefault(row, []).append(text)
            return out
        where: dict[int, list[int]] = {}
        for i, r in enumerate(self._rows.tolist()):
            where.setdefault(r, []).append(i)
        for row, text in raw:
            for i in where.get(row, ()):
                out.setdefault(i, []).append(text)
        return out

    def view(self, i: int) -> memoryview:
        """Zero-copy read-only view of packet ``i``'s bytes."""
        mv = self._cache.get("mv")
        if mv is None:
            mv = self._cache["mv"] = memoryview(self.data.data)
        off = int(self.offset[i])
        view: memoryview = mv[off : off + int(self.caplen[i])]
        return view

    def views(self) -> Iterator[memoryview]:
        """Zero-copy views of every packet, in order."""
        mv = memoryview(self.data.data)
        for off, cap in zip(self.offset.tolist(), self.caplen.tolist(), strict=True):
            yield mv[off : off + cap]

    def __len__(self) -> int:
        return len(self._raw) if self._rows is None else len(self._rows)

    @overload
    def __getitem__(self, key: int) -> Packet: ...
    @overload
    def __getitem__(self, key: slice | npt.NDArray[Any] | list[int]) -> Batch: ...
    def __getitem__(self, key: int | slice | npt.NDArray[Any] | list[int]) -> Packet | Batch:
        if isinstance(key, int | np.integer):
            n = len(self)
            i = int(key)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"packet {key} outside a batch of {n}")
            return Packet(self, i)
        sel = np.asarray(self.rows[np.asarray(key) if isinstance(key, list) else key])
        return Batch(self._raw, sel.astype(np.int64, copy=False))

    def __iter__(self) -> Iterator[Packet]:
        for i in range(len(self)):
            yield Packet(self, i)

    def __repr__(self) -> str:
        return f"<netcore.Batch of {len(self)} packets>"

    @property
    def raw(self) -> _netcore.Batch:
        """The underlying Rust batch (for the writer and other Rust consumers)."""
        return self._raw


class Packet:
    """One packet of a batch: its metadata and a zero-copy view of its bytes."""

    __slots__ = ("_batch", "_i")

    def __init__(self, batch: Batch, i: int) -> None:
        self._batch = batch
        self._i = i

    @property
    def data(self) -> memoryview:
        """Read-only view of the captured bytes (no copy)."""
        return self._batch.view(self._i)

    @property
    def ts(self) -> int:
        """Timestamp, nanoseconds since the Unix epoch."""
        return int(self._batch.ts[self._i])

    @property
    def caplen(self) -> int:
        """Captured length."""
        return int(self._batch.caplen[self._i])

    @property
    def wirelen(self) -> int:
        """Length on the wire."""
        return int(self._batch.wirelen[self._i])

    @property
    def ifindex(self) -> int:
        """Interface index."""
        return int(self._batch.ifindex[self._i])

    @property
    def linktype(self) -> int:
        """``LINKTYPE_*`` number."""
        return int(self._batch.linktype[self._i])

    @property
    def index(self) -> int:
        """0-based number of the packet in its capture."""
        return self._batch.first_index + int(self._batch.rows[self._i])

    @property
    def comments(self) -> list[str]:
        """pcapng comments attached to the packet."""
        return self._batch.comments.get(self._i, [])

    @property
    def layers(self) -> list[str]:
        """Protocol layers, outermost first, e.g. ``["eth", "vlan", "ipv4", "udp", ...]``."""
        codes = self._batch.layers[self._i]
        return [LAYER_NAMES[int(c)] for c in codes[: int(self._batch.nlayers[self._i])]]

    def header(self, name: str, nth: int = 0) -> Any:
        """The ``nth`` header named ``name`` (a layer name), parsed; None if absent or cut."""
        from netcore.headers import PARSERS

        parser = PARSERS.get(name)
        if parser is None:
            raise KeyError(f"no header class for layer {name!r}")
        seen = 0
        offs = self._batch.layer_off[self._i]
        for k, layer in enumerate(self.layers):
            if layer == name:
                if seen == nth:
                    try:
                        return parser.parse(bytes(self.data[int(offs[k]) :]))  # type: ignore[attr-defined]
                    except Exception:  # struct.error on a header cut by the capture
                        return None
                seen += 1
        return None

    @property
    def eth(self) -> Any:
        """Outermost Ethernet header (``netcore.headers.Ethernet``) or None."""
        return self.header("eth")

    @property
    def ipv4(self) -> Any:
        """Outermost IPv4 header (``netcore.headers.IPv4``) or None."""
        return self.header("ipv4")

    @property
    def ipv6(self) -> Any:
        """Outermost IPv6 header (``netcore.headers.IPv6``) or None."""
        return self.header("ipv6")

    @property
    def tcp(self) -> Any:
        """Outermost TCP header (``netcore.headers.TCP``) or None."""
        return self.header("tcp")

    @property
    def udp(self) -> Any:
        """Outermost UDP header (``netcore.headers.UDP``) or None."""
        return self.header("udp")

    @property
    def icmp(self) -> Any:
        """ICMP header (``netcore.headers.ICMP``) or None."""
        return self.header("icmp")

    @property
    def csum(self) -> dict[str, str]:
        """Checksum verdict per checksummed layer, e.g. ``{"ipv4": "good", "tcp": "bad"}``
        (the first occurrence of each layer name; see :meth:`csum_list` for all)."""
        out: dict[str, str] = {}
        for layer, verdict in self.csum_list():
            out.setdefault(layer, verdict)
        return out

    def csum_list(self) -> list[tuple[str, str]]:
        """``(layer, verdict)`` for every checksummed header, outermost first."""
        codes = self._batch.csum[self._i]
        return [
            (layer, VERDICTS[int(codes[k])])
            for k, layer in enumerate(self.layers)
            if int(codes[k]) != 0
        ]

    @property
    def malformed(self) -> bool:
        """Whether the packet's own lengths or fields are inconsistent."""
        return bool(self._batch.malformed[self._i])

    @property
    def drop_reason(self) -> str | None:
        """Why the kernel's receive path would drop the packet, or None."""
        code = int(self._batch.drop_reason[self._i])
        return DROP_REASONS.get(code) if code else None

    def __bytes__(self) -> bytes:
        return bytes(self.data)

    def __len__(self) -> int:
        return self.caplen

    def __repr__(self) -> str:
        return (
            f"<netcore.Packet #{self.index} ts={self.ts} caplen={self.caplen} "
            f"wirelen={self.wirelen} linktype={self.linktype}>"
        )
