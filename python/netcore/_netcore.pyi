"""Type stubs of the Rust extension module (kept in step with rust/netcore-py)."""

import os
from collections.abc import Callable
from typing import IO, Any, final

import numpy as np
import numpy.typing as npt

import netcore.batch

__all__ = [
    "ACCEPT",
    "DROP",
    "DROP_REASONS",
    "JUMP",
    "LAYER_NAMES",
    "PRIORITIES",
    "QUEUE",
    "REPEAT",
    "STOLEN",
    "Batch",
    "CaptureError",
    "ConfigError",
    "Demux",
    "HookMeta",
    "NetcoreError",
    "Reader",
    "Rss",
    "RuleError",
    "Ruleset",
    "Stack",
    "Writer",
    "__version__",
    "gro_run",
    "gso_run",
    "parse_priority",
    "toeplitz",
]
__version__: str

class NetcoreError(Exception): ...

class CaptureError(NetcoreError):
    path: str
    offset: int
    reason: str

class ConfigError(NetcoreError): ...

class RuleError(ConfigError):
    line: int
    column: int
    message: str

@final
class Batch:
    @staticmethod
    def from_packets(packets: list[tuple[int, bytes, int, int, int]]) -> Batch: ...
    def __len__(self) -> int: ...
    @property
    def ts(self) -> npt.NDArray[np.int64]: ...
    @property
    def caplen(self) -> npt.NDArray[np.uint32]: ...
    @property
    def wirelen(self) -> npt.NDArray[np.uint32]: ...
    @property
    def ifindex(self) -> npt.NDArray[np.uint32]: ...
    @property
    def linktype(self) -> npt.NDArray[np.uint16]: ...
    @property
    def offset(self) -> npt.NDArray[np.uint64]: ...
    @property
    def data(self) -> npt.NDArray[np.uint8]: ...
    @property
    def comments(self) -> list[tuple[int, str]]: ...
    @property
    def first_index(self) -> int: ...
    def packet_bytes(self, i: int) -> bytes: ...
    def column(self, name: str) -> npt.NDArray[Any]: ...
    @staticmethod
    def column_names() -> list[str]: ...
    def classify(self, demux: Demux) -> tuple[list[int], list[tuple[str, int]]]: ...
    def rx_checksum(
        self, mode: str
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint32]]: ...

@final
class Demux:
    def __new__(cls) -> Demux: ...
    def register(
        self,
        handler: int,
        *,
        ethertype: int | None = None,
        ip_proto: int | None = None,
        udp_port: int | None = None,
    ) -> None: ...
    def unregister(self, handler: int) -> None: ...
    def set_encap(self, port: int, kind: str | None) -> None: ...
    def encap_ports(self) -> dict[int, str]: ...

def gro_run(
    reader: Reader,
    writer: Writer,
    *,
    budget: int = 64,
    flush_timeout_ns: int = 0,
    max_size: int = 65536,
    udp_gro: str = "off",
    vxlan_ports: list[int] = ...,
    geneve_ports: list[int] = ...,
) -> tuple[dict[str, int], list[tuple[int, int, int, list[str]]]]: ...
def gso_run(
    reader: Reader,
    writer: Writer,
    *,
    mss: int = 1448,
    mtu: int = 1500,
    ufo: bool = False,
    csum_offload: bool = False,
) -> tuple[dict[str, int], list[tuple[int, int, int, list[str]]]]: ...

LAYER_NAMES: dict[int, str]
DROP_REASONS: dict[int, str]

ACCEPT: int
DROP: int
STOLEN: int
QUEUE: int
REPEAT: int
JUMP: int
PRIORITIES: dict[str, int]

def parse_priority(text: str) -> int | None: ...

@final
class Ruleset:
    def __new__(cls, text: str, devices: dict[str, int] | None = None) -> Ruleset: ...
    @property
    def rules(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def eval_batch(self, batch: Batch) -> npt.NDArray[np.int32]: ...
    def counters(self) -> list[tuple[int, int]]: ...

@final
class Reader:
    def __new__(
        cls,
        source: str | os.PathLike[str] | IO[bytes],
        *,
        strict: bool = True,
        mmap: bool = True,
        demux: Demux | None = None,
    ) -> Reader: ...
    def next_batch(self, size: int) -> Batch | None: ...
    def info(self) -> dict[str, Any]: ...
    def memory_range(self) -> tuple[int, int] | None: ...

@final
class Writer:
    def __new__(
        cls,
        path: str | os.PathLike[str],
        format: str,
        *,
        pcap: dict[str, Any] | None = None,
        interfaces: list[dict[str, Any]] | None = None,
        application: str | None = None,
    ) -> Writer: ...
    def write_batch(self, batch: Batch, rows: npt.NDArray[np.int64] | None = None) -> None: ...
    def write_packet(
        self,
        data: bytes | bytearray | memoryview,
        ts: int = 0,
        wirelen: int | None = None,
        ifindex: int = 0,
        comments: list[str] = ...,
    ) -> None: ...
    def add_interface(self, iface: dict[str, Any]) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    @property
    def packets(self) -> int: ...
    @property
    def format(self) -> str: ...

def toeplitz(key: bytes, data: bytes) -> int: ...

@final
class Rss:
    def __new__(
        cls,
        queues: int = 1,
        *,
        key: bytes | None = None,
        indirection: list[int] | None = None,
        weights: list[int] | None = None,
        fields: dict[str, str] | None = None,
        symmetric: bool = False,
        inner: bool = False,
        table_size: int = 128,
    ) -> Rss: ...
    @property
    def num_queues(self) -> int: ...
    @property
    def key(self) -> bytes: ...
    @property
    def indirection(self) -> list[int]: ...
    @property
    def table_size(self) -> int: ...
    @property
    def fields(self) -> dict[str, str]: ...
    @property
    def symmetric(self) -> bool: ...
    @property
    def inner(self) -> bool: ...
    def hash_frame(self, frame: bytes, linktype: int = 1) -> tuple[int, bool] | None: ...
    def queue(self, hash: int) -> int: ...
    def hash(
        self, batch: Batch | netcore.batch.Batch
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.bool_]]: ...
    def queues(self, batch: Batch | netcore.batch.Batch) -> npt.NDArray[np.uint16]: ...

_Dispatch = Callable[
    [int, str, Batch, HookMeta],
    tuple[list[int] | npt.NDArray[Any] | None, list[tuple[int, str, object]], list[int]],
]

@final
class HookMeta:
    @staticmethod
    def header_columns() -> list[str]: ...
    def column(self, name: str) -> npt.NDArray[Any]: ...
    def index_of(self, i: int) -> int | None: ...

@final
class Stack:
    def __new__(cls) -> Stack: ...
    def add_device(
        self,
        name: str,
        *,
        mtu: int = 1500,
        mac: str | None = None,
        features: dict[str, Any] | None = None,
        rx_queues: int = 1,
        tx_queues: int = 1,
        rss: Rss | None = None,
        rps_workers: int = 0,
        xps: list[tuple[int, list[int]]] | None = None,
        vlans: list[int] = ...,
        addresses: list[str] = ...,
        budget: int = 64,
        flush_timeout_ns: int = 0,
        gro_max_size: int = 65536,
    ) -> int: ...
    def device_names(self) -> list[str]: ...
    def add_route(
        self,
        prefix: str,
        *,
        dev: str | None = None,
        gateway: str | None = None,
        metric: int = 0,
        kind: str = "unicast",
    ) -> None: ...
    @property
    def forwarding(self) -> bool: ...
    @forwarding.setter
    def forwarding(self, on: bool) -> None: ...
    @property
    def netdev_budget(self) -> int: ...
    @netdev_budget.setter
    def netdev_budget(self, n: int) -> None: ...
    def add_hook(
        self,
        point: str,
        name: str,
        *,
        priority: int = 0,
        family: str | None = None,
        ruleset: Ruleset | None = None,
        external: int | None = None,
        jump_only: bool = False,
    ) -> None: ...
    def remove_hook(self, point: str, name: str) -> bool: ...
    def set_queue(self, num: int, external: int | None) -> None: ...
    def replay(
        self,
        reader: Reader,
        into: str,
        *,
        capture: list[tuple[str, str]] = ...,
        dispatch: _Dispatch | None = None,
        batch_size: int = 1024,
        ring_size: int = 4096,
        drop_on_full: bool = False,
    ) -> dict[str, Any]: ...
    def output(
        self,
        packets: list[bytes],
        *,
        capture: list[tuple[str, str]] = ...,
        dispatch: _Dispatch | None = None,
    ) -> dict[str, Any]: ...
