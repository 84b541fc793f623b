"""Reading and writing captures: formats, sources, round trips, zero copy."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import netcore as nc
from tests import capfiles


def columns(cap: nc.Capture) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {k: [] for k in ("ts", "caplen", "wirelen", "ifindex", "linktype")}
    data: list[int] = []
    for b in cap:
        for k, v in out.items():
            v.extend(getattr(b, k).tolist())
        data.extend(hash(bytes(p)) for p in b)
    out["data"] = data
    return out


def test_pcap_fields(pcap_file: Path) -> None:
    cap = nc.open(pcap_file, batch_size=32)
    batches = list(cap)
    assert [len(b) for b in batches] == [32, 32, 32, 4]
    b = batches[1]
    assert b.first_index == 32
    assert b.ts[0] == (1_600_000_000 + 32) * 10**9 + 32_000 * 1000
    assert b.caplen[0] == 92 and b.wirelen[0] == 92 + 32 % 3
    assert bytes(b[0]) == capfiles.frame(32, 92)
    assert b[0].index == 32
    info = cap.info
    assert info.format == "pcap" and info.packets == 100 and info.mapped
    assert info.truncated_packets == sum(1 for i in range(100) if i % 3)
    assert info.first_ts == 1_600_000_000 * 10**9 and info.interfaces[0].snaplen == 65535


def test_big_endian_nanosecond_pcap(tmp_path: Path) -> None:
    p = tmp_path / "be.pcap"
    p.write_bytes(
        capfiles.pcap(
            [(5, 999_999_999, b"xyz", 3)], big_endian=True, nanosecond=True, linktype=0x1000_0065
        )
    )
    cap = nc.open(p)
    (b,) = list(cap)
    assert b.ts.tolist() == [5_999_999_999] and b.linktype.tolist() == [101]
    assert cap.info.big_endian and cap.info.pcap is not None
    assert cap.info.pcap["linktype_field"] == 0x1000_0065


def test_pcapng_sections_interfaces_and_comments(pcapng_file: Path) -> None:
    cap = nc.open(pcapng_file)
    (b,) = list(cap)
    assert b.ts.tolist() == [10**9, 2 * 10**9, 0, 3 * 10**9, 5 * 10**9]
    assert b.caplen.tolist() == [60, 40, 64, 44, 48]
    assert b.ifindex.tolist() == [0, 1, 0, 2, 2]
    assert b.linktype.tolist() == [1, 101, 1, 113, 113]
    assert b.comments == {0: ["first"], 3: ["a", "b"]}
    assert bytes(b[4]) == capfiles.frame(5, 48)
    info = cap.info
    assert info.sections == 2 and info.other_blocks == {5: 1}
    assert [i.linktype for i in info.interfaces] == [1, 101, 113]
    assert info.interfaces[0].name == "eth0" and info.interfaces[2].section == 1
    assert info.interfaces[2].tsresol_text == "2^-20s"


@pytest.mark.parametrize("fixture", ["pcap_file", "pcapng_file"])
def test_stream_gzip_and_file_objects_equal_mmap(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    path: Path = request.getfixturevalue(fixture)
    want = columns(nc.open(path))
    assert columns(nc.open(path, mmap=False, batch_size=3)) == want
    gz = tmp_path / (path.name + ".gz")
    gz.write_bytes(gzip.compress(path.read_bytes()))
    cap = nc.open(gz, batch_size=7)
    assert columns(cap) == want and cap.info.compressed and not cap.info.mapped
    assert columns(nc.open(io.BytesIO(path.read_bytes()), batch_size=5)) == want
    with path.open("rb") as f:
        assert columns(nc.open(f)) == want


class Dribble(io.BytesIO):
    """A stream that returns one to three bytes per read, like a slow pipe."""

    n = 0

    def read(self, size: int | None = -1) -> bytes:
        self.n += 1
        k = 1 + self.n % 3
        return super().read(k if size is None or size < 0 else min(k, size))


def test_short_reads_give_same_packets(pcapng_file: Path) -> None:
    want = columns(nc.open(pcapng_file))
    assert columns(nc.open(Dribble(pcapng_file.read_bytes()), batch_size=2)) == want


def test_stdin(pcap_file: Path) -> None:
    code = "import netcore as nc; print(sum(len(b) for b in nc.open('-')))"
    out = subprocess.run(
        [sys.executable, "-c", code], input=pcap_file.read_bytes(), capture_output=True, check=True
    )
    assert out.stdout.strip() == b"100"


def test_columns_share_memory_with_the_mapping(pcap_file: Path) -> None:
    cap = nc.open(pcap_file, batch_size=64)
    mapping = cap.memory_range()
    assert mapping is not None
    start, length = mapping
    b = next(cap)
    # Columns are views over the Rust batch, not copies.
    assert b.ts.base is b.raw  # type: ignore[comparison-overlap]
    assert not b.ts.flags.writeable and not b.ts.flags.owndata
    assert np.shares_memory(b.ts, b.raw.ts)
    # Packet bytes are in the mapped file itself.
    addr = b.data.ctypes.data
    assert start <= addr and addr + b.data.nbytes <= start + length
    view = b[5].data
    assert view.readonly
    arr = np.frombuffer(view, dtype=np.uint8)
    assert np.shares_memory(arr, b.data)
    assert b.data.base is b.raw  # type: ignore[comparison-overlap]


def test_views_outlive_the_reader(pcap_file: Path) -> None:
    cap = nc.open(pcap_file)
    b = next(cap)
    views = list(b.views())
    del cap
    assert bytes(views[7]) == capfiles.frame(7, 67)


def test_sub_batches(pcap_file: Path) -> None:
    b = next(nc.open(pcap_file))
    big = b[b.caplen > 150]
    assert len(big) == 9 and big.caplen.min() > 150
    assert bytes(big[0]) == capfiles.frame(91, 151) and big[0].index == 91
    assert len(b[10:20]) == 10 and b[-1].index == 99
    assert [p.index for p in b[[3, 1]]] == [3, 1]
    with pytest.raises(IndexError):
        b[100]


def test_pcap_round_trip_is_byte_identical(tmp_path: Path) -> None:
    for big_endian in (False, True):
        for nanosecond in (False, True):
            src = tmp_path / f"in-{big_endian}-{nanosecond}.pcap"
            pkts = [(7 + i, i * 3, capfiles.frame(i, 20 + i), 1500) for i in range(50)]
            src.write_bytes(
                capfiles.pcap(
                    pkts,
                    big_endian=big_endian,
                    nanosecond=nanosecond,
                    linktype=0x0400_0001,
                    snaplen=96,
                )
            )
            out = tmp_path / "out.pcap"
            assert nc.write(out, nc.open(src)) == 50
            assert out.read_bytes() == src.read_bytes()


def test_pcapng_round_trip_keeps_interfaces_and_comments(pcapng_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pcapng"
    nc.write(out, nc.open(pcapng_file))
    a, b = nc.open(pcapng_file), nc.open(out)
    ca, cb = columns(a), columns(b)
    assert ca == cb
    assert [(i.linktype, i.tsresol, i.name) for i in a.info.interfaces] == [
        (i.linktype, i.tsresol, i.name) for i in b.info.interfaces
    ]
    assert next(nc.open(out)).comments == {0: ["first"], 3: ["a", "b"]}


def test_conversions(pcap_file: Path, pcapng_file: Path, tmp_path: Path) -> None:
    ng = tmp_path / "x.pcapng"
    nc.write(ng, nc.open(pcap_file))
    assert nc.open(ng).format == "pcapng"
    back = tmp_path / "x.pcap"
    nc.write(back, nc.open(ng))
    assert back.read_bytes()[24:] == pcap_file.read_bytes()[24:]
    with pytest.raises(nc.ConfigError, match="link types"):
        nc.write(tmp_path / "y.pcap", nc.open(pcapng_file))


def test_writer_from_python_objects(tmp_path: Path) -> None:
    p = tmp_path / "w.pcapng"
    with nc.Writer(p, linktype=1) as w:
        w.write_packet(b"\x01\x02\x03", ts=123, wirelen=100, comments=["hello"])
        w.write(b"\x04\x05")
        raw = nc.Batch(nc._netcore.Batch.from_packets([(9, b"abc", 3, 0, 1)]))
        w.write(raw)
        assert w.packets == 3
    b = next(nc.open(p))
    assert b.ts.tolist() == [123, 0, 9] and b.wirelen.tolist() == [100, 2, 3]
    assert b.comments == {0: ["hello"]}


def test_writer_interrupted_by_exception_leaves_valid_file(tmp_path: Path) -> None:
    p = tmp_path / "cut.pcap"
    with pytest.raises(RuntimeError), nc.Writer(p) as w:
        for i in range(1000):
            w.write_packet(capfiles.frame(i), ts=i)
        raise RuntimeError("stop")
    assert sum(len(b) for b in nc.open(p)) == 1000


def test_writer_interrupted_by_ctrl_c_leaves_valid_file(tmp_path: Path) -> None:
    p = tmp_path / "sigint.pcapng"
    # The child restores Python's own SIGINT handler: a process started in the background by a
    # non-interactive shell inherits SIGINT ignored, and would then never see the signal.
    code = f"""
import os, signal, netcore as nc
signal.signal(signal.SIGINT, signal.default_int_handler)
with nc.Writer({str(p)!r}) as w:
    for i in range(10**9):
        w.write_packet(bytes(60), ts=i)
        if i == 5000:
            print(i + 1, flush=True)
            os.kill(os.getpid(), signal.SIGINT)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "KeyboardInterrupt" in r.stderr
    written = sum(len(b) for b in nc.open(p))
    assert written >= int(r.stdout.strip())


def test_empty_pcap_and_pcapng(tmp_path: Path) -> None:
    p = tmp_path / "empty.pcap"
    p.write_bytes(capfiles.pcap([]))
    cap = nc.open(p)
    assert list(cap) == [] and cap.info.packets == 0
    q = tmp_path / "empty.pcapng"
    q.write_bytes(capfiles.shb() + capfiles.idb("<", 1))
    assert list(nc.open(q)) == []
