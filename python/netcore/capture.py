"""Reading and writing capture files (pcap, pcapng, gzip-compressed input)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from netcore import _netcore
from netcore.batch import Batch, Packet
from netcore.exceptions import ConfigError

__all__ = [
    "Capture",
    "CaptureInfo",
    "Interface",
    "Problem",
    "Writer",
    "open",
    "write",
]

Source = str | os.PathLike[str] | IO[bytes]
Format = Literal["pcap", "pcapng"]

DEFAULT_BATCH = 4096


@dataclass(frozen=True)
class Interface:
    """A capture interface: link type, snapshot length and timestamp resolution."""

    linktype: int
    snaplen: int = 0
    tsresol: int = 6
    """pcapng ``if_tsresol`` byte: ``n`` for 10^-n s, ``0x80 | n`` for 2^-n s."""
    tsoffset: int = 0
    name: str | None = None
    description: str | None = None
    fcslen: int | None = None
    section: int = 0
    linktype_name: str | None = None
    tsresol_text: str = "1us"

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> Interface:
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in keys})

    def _to_dict(self) -> dict[str, Any]:
        return {
            "linktype": self.linktype,
            "snaplen": self.snaplen,
            "tsresol": self.tsresol,
            "tsoffset": self.tsoffset,
            "name": self.name,
            "description": self.description,
            "fcslen": self.fcslen,
        }


@dataclass(frozen=True)
class Problem:
    """A fault found in a capture: where, what, and what was skipped because of it."""

    offset: int
    message: str
    skipped_bytes: int
    skipped_records: int


@dataclass(frozen=True)
class CaptureInfo:
    """What a reader knows about its capture (complete once it has been read to the end)."""

    source: str
    format: Format
    version: tuple[int, int]
    big_endian: bool
    compressed: bool
    mapped: bool
    size: int | None
    interfaces: list[Interface]
    sections: int
    problems: list[Problem]
    packets: int
    caplen_bytes: int
    wire_bytes: int
    truncated_packets: int
    empty_packets: int
    odd_timestamps: int
    first_ts: int | None
    last_ts: int | None
    other_blocks: dict[int, int]
    position: int
    pcap: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> CaptureInfo:
        d = dict(d)
        d["interfaces"] = [Interface._from_dict(i) for i in d["interfaces"]]
        d["problems"] = [Problem(**p) for p in d["problems"]]
        d["version"] = tuple(d["version"])
        return cls(**d)

    @property
    def skipped_bytes(self) -> int:
        """Bytes skipped over faults (lenient mode)."""
        return sum(p.skipped_bytes for p in self.problems)

    @property
    def skipped_records(self) -> int:
        """Records skipped over faults (lenient mode)."""
        return sum(p.skipped_records for p in self.problems)


class Capture:
    """An open capture: iterate it for :class:`Batch` objects.

    Regular files are memory-mapped and batches point into the mapping; gzip files, pipes and
    file objects are streamed through a buffer that each batch keeps alive as long as needed.
    """

    def __init__(
        self,
        source: Source,
        *,
        batch_size: int = DEFAULT_BATCH,
        strict: bool = True,
        mmap: bool = True,
        demux: _netcore.Demux | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
        if isinstance(source, str) and source == "-":
            source = sys.stdin.buffer
        self.batch_size = batch_size
        self.strict = strict
        self._reader = _netcore.Reader(source, strict=strict, mmap=mmap, demux=demux)

    @property
    def info(self) -> CaptureInfo:
        """Format, interfaces, counters and problems so far."""
        return CaptureInfo._from_dict(self._reader.info())

    @property
    def format(self) -> Format:
        """``"pcap"`` or ``"pcapng"``."""
        fmt: Format = self._reader.info()["format"]
        return fmt

    @property
    def interfaces(self) -> list[Interface]:
        """Interfaces described so far."""
        return [Interface._from_dict(i) for i in self._reader.info()["interfaces"]]

    @property
    def problems(self) -> list[Problem]:
        """Faults skipped so far (lenient mode)."""
        return [Problem(**p) for p in self._reader.info()["problems"]]

    def next_batch(self, size: int | None = None) -> Batch | None:
        """The next batch (of ``size`` packets, default ``batch_size``), or None at the end."""
        raw = self._reader.next_batch(size or self.batch_size)
        return None if raw is None else Batch(raw)

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        b = self.next_batch()
        if b is None:
            raise StopIteration
        return b

    def packets(self) -> Iterator[Packet]:
        """Every remaining packet, one by one (convenient; batches are faster)."""
        for batch in self:
            yield from batch

    def memory_range(self) -> tuple[int, int] | None:
        """``(address, length)`` of the mapping when the input is memory-mapped."""
        return self._reader.memory_range()

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __repr__(self) -> str:
        i = self._reader.info()
        return f"<netcore.Capture {i['source']!r} {i['format']}>"


def open(
    source: Source,
    *,
    batch_size: int = DEFAULT_BATCH,
    strict: bool = True,
    mmap: bool = True,
) -> Capture:
    """Opens a pcap or pcapng capture (path, ``"-"`` for stdin, or a binary file object).

    With ``strict=False`` a damaged file yields every good record and the faults are listed in
    ``capture.problems`` instead of raising :class:`netcore.CaptureError`.
    """
    return Capture(source, batch_size=batch_size, strict=strict, mmap=mmap)


def _format_for(path: str | os.PathLike[str], format: Format | None) -> Format:
    if format is not None:
        if format not in ("pcap", "pcapng"):
            raise ConfigError(f"unknown capture format {format!r}: use 'pcap' or 'pcapng'")
        return format
    suffixes = Path(path).suffixes
    return "pcap" if suffixes and suffixes[-1] in (".pcap", ".cap", ".dmp") else "pcapng"


class Writer:
    """Writes packets to a pcap or pcapng file.

    The format follows ``format`` or the file suffix (``.pcap`` → pcap, otherwise pcapng). Use
    it as a context manager: whatever stops the block (an exception, Ctrl-C), the file is left
    valid and holds every packet written before. ``like`` copies the header of a capture (pcap
    byte order, resolution and link-type field; pcapng interfaces) so a copy is faithful.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        format: Format | None = None,
        *,
        linktype: int = 1,
        snaplen: int = 262144,
        nanosecond: bool = True,
        interfaces: Iterable[Interface] | None = None,
        like: Capture | CaptureInfo | None = None,
    ) -> None:
        self.path = os.fspath(path)
        fmt = _format_for(path, format)
        pcap: dict[str, Any] = {"linktype": linktype, "snaplen": snaplen, "nanosecond": nanosecond}
        ifaces = list(interfaces) if interfaces is not None else []
        if like is not None:
            info = like.info if isinstance(like, Capture) else like
            pcap, ifaces = _header_like(info, fmt)
        if not ifaces and like is None:
            ifaces = [Interface(linktype, snaplen, 9 if nanosecond else 6)]
        self._declared = len(ifaces)
        self._w = _netcore.Writer(
            self.path, fmt, pcap=pcap, interfaces=[i._to_dict() for i in ifaces]
        )
        self.format: Format = fmt

    @property
    def packets(self) -> int:
        """Packets written so far."""
        return self._w.packets

    def add_interface(self, iface: Interface) -> int:
        """Declares another interface (pcapng) and returns its index."""
        self._declared += 1
        return self._w.add_interface(iface._to_dict())

    def write_packet(
        self,
        data: bytes | bytearray | memoryview,
        ts: int = 0,
        *,
        wirelen: int | None = None,
        ifindex: int = 0,
        comments: Iterable[str] = (),
    ) -> None:
        """Writes one packet given as bytes."""
        self._w.write_packet(data, ts, wirelen, ifindex, list(comments))

    def write(self, item: Any) -> int:
        """Writes a batch, a packet, raw bytes, a whole capture, or an iterable of those.

        Returns the number of packets written by this call.
        """
        before = self._w.packets
        if isinstance(item, Batch):
            self._w.write_batch(item.raw, None if item._rows is None else item.rows)
        elif isinstance(item, Packet):
            self._w.write_packet(item.data, item.ts, item.wirelen, item.ifindex, item.comments)
        elif isinstance(item, bytes | bytearray | memoryview):
            self._w.write_packet(item, 0, None, 0, [])
        elif isinstance(item, Capture):
            for batch in item:
                self._sync_interfaces(item)
                self._w.write_batch(batch.raw, None if batch._rows is None else batch.rows)
        else:
            for x in item:
                self.write(x)
        return self._w.packets - before

    def _sync_interfaces(self, cap: Capture) -> None:
        """Declares interfaces that a pcapng source described after the writer was made."""
        if self.format != "pcapng":
            return
        ifaces = cap.interfaces
        for iface in ifaces[self._declared :]:
            self.add_interface(iface)

    def flush(self) -> None:
        """Writes out every packet so far."""
        self._w.flush()

    def close(self) -> None:
        """Flushes and closes the file."""
        self._w.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _header_like(info: CaptureInfo, fmt: Format) -> tuple[dict[str, Any], list[Interface]]:
    """Header fields for writing ``fmt`` so that a copy of ``info``'s capture is faithful."""
    ifaces = info.interfaces
    if fmt == "pcapng":
        return {"linktype": ifaces[0].linktype if ifaces else 1}, ifaces
    if info.pcap is not None:
        return dict(info.pcap), []
    kinds = {i.linktype for i in ifaces}
    if len(kinds) > 1:
        raise ConfigError(
            f"{info.source} has {len(kinds)} link types ({sorted(kinds)}); "
            "a pcap file holds one: write pcapng instead"
        )
    fine = any(i.tsresol > 6 for i in ifaces)
    snap = max((i.snaplen for i in ifaces), default=262144) or 262144
    return {"linktype": kinds.pop() if kinds else 1, "snaplen": snap, "nanosecond": fine}, []


def write(
    path: str | os.PathLike[str],
    packets: Batch | Packet | Capture | bytes | Iterable[Any],
    format: Format | None = None,
    **options: Any,
) -> int:
    """Writes ``packets`` to ``path`` and returns how many were written.

    ``packets`` may be a :class:`Capture` (its header is copied unless ``like`` is given), a
    :class:`Batch`, a :class:`Packet`, bytes, or an iterable of those. Other options as
    :class:`Writer`.
    """
    if isinstance(packets, Capture) and "like" not in options:
        options["like"] = packets
    with Writer(path, format, **options) as w:
        return w.write(packets)
