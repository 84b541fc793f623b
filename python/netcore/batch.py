"""Batches of packets as numpy columns over Rust memory, and per-packet views."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from netcore import _netcore

__all__ = ["Batch", "Packet"]

IndexArray = npt.NDArray[np.int64]


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
            col = getattr(self._raw, name)
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

    def __bytes__(self) -> bytes:
        return bytes(self.data)

    def __len__(self) -> int:
        return self.caplen

    def __repr__(self) -> str:
        return (
            f"<netcore.Packet #{self.index} ts={self.ts} caplen={self.caplen} "
            f"wirelen={self.wirelen} linktype={self.linktype}>"
        )
