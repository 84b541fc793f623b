"""Type stubs of the Rust extension module (kept in step with rust/netcore-py)."""

import os
from typing import IO, Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DROP_REASONS",
    "LAYER_NAMES",
    "Batch",
    "CaptureError",
    "ConfigError",
    "Demux",
    "NetcoreError",
    "Reader",
    "Writer",
    "__version__",
    "gro_run",
    "gso_run",
]
__version__: str

class NetcoreError(Exception): ...

class CaptureError(NetcoreError):
    path: str
    offset: int
    reason: str

class ConfigError(NetcoreError): ...

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
