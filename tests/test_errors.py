"""Damaged captures: clear errors with file and offset, or lenient reading of what is good."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest

import netcore as nc
from tests import capfiles


def good_pcap(n: int = 10) -> bytes:
    return capfiles.pcap([(1, 0, capfiles.frame(i, 60), 60) for i in range(n)])


def packets(cap: nc.Capture) -> int:
    return sum(len(b) for b in cap)


def test_hierarchy() -> None:
    assert issubclass(nc.CaptureError, nc.NetcoreError)
    assert issubclass(nc.ConfigError, nc.NetcoreError)


def test_missing_file_is_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as e:
        nc.open(tmp_path / "nope.pcap")
    assert "nope.pcap" in str(e.value)


@pytest.mark.parametrize(
    ("data", "offset", "reason"),
    [
        (b"", 0, "file is empty"),
        (b"\xd4\xc3\xb2", 0, "file ends inside capture file header"),
        (b"hello world, not a capture at all", 0, "not a pcap or pcapng file"),
        (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\0" * 10, 0, "pcap file header"),
    ],
)
def test_unreadable_headers(tmp_path: Path, data: bytes, offset: int, reason: str) -> None:
    p = tmp_path / "bad.pcap"
    p.write_bytes(data)
    for strict in (True, False):
        with pytest.raises(nc.CaptureError) as e:
            packets(nc.open(p, strict=strict))
        assert e.value.offset == offset and reason in str(e.value)
        assert e.value.path == str(p) and str(p) in str(e.value)


def test_truncated_record_strict_then_lenient(tmp_path: Path) -> None:
    data = good_pcap(10)
    p = tmp_path / "cut.pcap"
    p.write_bytes(data[:-30])  # the last record loses 30 of its 76 bytes
    cap = nc.open(p, batch_size=4)
    got = 0
    with pytest.raises(nc.CaptureError) as e:
        for b in cap:
            got += len(b)
    assert got == 9  # every good record before the fault was delivered
    assert e.value.offset == 24 + 9 * 76
    assert "file ends inside pcap record" in e.value.reason
    lenient = nc.open(p, strict=False)
    assert packets(lenient) == 9
    (problem,) = lenient.problems
    assert problem.offset == 24 + 9 * 76 and problem.skipped_bytes == 46


def test_absurd_record_length(tmp_path: Path) -> None:
    data = bytearray(good_pcap(5))
    rec3 = 24 + 3 * 76
    data[rec3 + 8 : rec3 + 12] = struct.pack("<I", 0xFFFF_FF00)
    p = tmp_path / "absurd.pcap"
    p.write_bytes(bytes(data))
    with pytest.raises(nc.CaptureError, match="absurd") as e:
        packets(nc.open(p))
    assert e.value.offset == rec3 + 8
    cap = nc.open(p, strict=False)
    assert packets(cap) == 3
    assert cap.info.skipped_bytes == len(data) - rec3


def test_absurd_length_in_a_stream_does_not_allocate_it(tmp_path: Path) -> None:
    data = bytearray(good_pcap(2))
    data[24 + 8 : 24 + 12] = struct.pack("<I", 60 << 20)  # 60 MiB, under the limit
    p = tmp_path / "lie.pcap.gz"
    p.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(nc.CaptureError, match="file ends inside pcap record"):
        packets(nc.open(p))


def test_pcapng_trailer_mismatch_is_skipped_in_lenient_mode(tmp_path: Path) -> None:
    e = "<"
    bad = bytearray(capfiles.epb(e, 0, 5, capfiles.frame(2)))
    bad[-4:] = struct.pack("<I", 999)
    data = (
        capfiles.shb(e)
        + capfiles.idb(e, 1)
        + capfiles.epb(e, 0, 1, capfiles.frame(1))
        + bytes(bad)
        + capfiles.epb(e, 0, 9, capfiles.frame(3))
    )
    p = tmp_path / "trailer.pcapng"
    p.write_bytes(data)
    with pytest.raises(nc.CaptureError, match="trailer length 999") as err:
        packets(nc.open(p))
    bad_at = len(data) - len(capfiles.epb(e, 0, 9, capfiles.frame(3))) - len(bad)
    assert err.value.offset == bad_at + len(bad) - 4
    cap = nc.open(p, strict=False)
    (b,) = list(cap)
    assert b.ts.tolist() == [1000, 9000]
    (problem,) = cap.problems
    assert problem.skipped_records == 1 and problem.skipped_bytes == len(bad)


@pytest.mark.parametrize("length", [0, 8, 13])
def test_pcapng_block_lengths_that_cannot_be(tmp_path: Path, length: int) -> None:
    e = "<"
    head = capfiles.shb(e) + capfiles.idb(e, 1) + capfiles.epb(e, 0, 1, capfiles.frame(1))
    p = tmp_path / "len.pcapng"
    p.write_bytes(head + struct.pack("<II", 6, length) + b"\0" * 40)
    with pytest.raises(nc.CaptureError, match="multiple of 4") as err:
        packets(nc.open(p))
    assert err.value.offset == len(head) + 4
    cap = nc.open(p, strict=False)
    assert packets(cap) == 1 and cap.info.skipped_bytes == 48


def test_pcapng_unknown_interface_and_block_before_section(tmp_path: Path) -> None:
    e = "<"
    p = tmp_path / "if.pcapng"
    p.write_bytes(
        capfiles.shb(e)
        + capfiles.idb(e, 1)
        + capfiles.epb(e, 3, 1, b"x" * 8)
        + capfiles.epb(e, 0, 1, b"y" * 8)
    )
    with pytest.raises(nc.CaptureError, match="interface 3"):
        packets(nc.open(p))
    assert packets(nc.open(p, strict=False)) == 1
    q = tmp_path / "nosec.pcapng"
    q.write_bytes(capfiles.shb(e)[:4] + b"\0" * 4 + b"\x99\x99\x99\x99" + b"\0" * 20)
    with pytest.raises(nc.CaptureError, match="byte-order magic"):
        nc.open(q)


def test_option_running_past_its_block(tmp_path: Path) -> None:
    e = "<"
    idb = bytearray(capfiles.idb(e, 1, name="eth0"))
    idb[16 + 2 : 16 + 4] = struct.pack("<H", 200)  # if_name claims 200 bytes
    p = tmp_path / "opt.pcapng"
    p.write_bytes(capfiles.shb(e) + bytes(idb) + capfiles.epb(e, 0, 1, b"z" * 8))
    with pytest.raises(nc.CaptureError, match="option 2 of length 200"):
        packets(nc.open(p))
    cap = nc.open(p, strict=False)
    assert packets(cap) == 1 and len(cap.problems) == 1


def test_corrupt_gzip(tmp_path: Path) -> None:
    z = bytearray(gzip.compress(good_pcap(200)))
    p = tmp_path / "bad.pcap.gz"
    p.write_bytes(bytes(z[: len(z) // 2]))
    with pytest.raises(nc.CaptureError, match="compressed data"):
        packets(nc.open(p))
    cap = nc.open(p, strict=False)
    n = packets(cap)
    assert 0 < n < 200 and cap.problems


def test_bad_arguments() -> None:
    with pytest.raises(nc.ConfigError, match="batch_size"):
        nc.open("x.pcap", batch_size=0)
    with pytest.raises(nc.ConfigError, match="cannot read a capture from int"):
        nc._netcore.Reader(42)  # type: ignore[arg-type]
