"""Wireshark's tshark reads what netcore writes, without complaint (skipped without tshark)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import netcore as nc
from netcore.synth import SAMPLE_PATH
from tests import capfiles

TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")


def tshark(path: Path, *fields: str) -> list[list[str]]:
    assert TSHARK is not None
    args = [TSHARK, "-r", str(path), "-T", "fields", "-E", "separator=|"]
    for f in fields:
        args += ["-e", f]
    r = subprocess.run(args, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    # Any complaint about the file would be on stderr; tshark's warning about running as
    # root is about the machine, not the file.
    complaints = [ln for ln in r.stderr.splitlines() if ln.strip() and "Running as user" not in ln]
    assert complaints == [], r.stderr
    return [line.split("|") for line in r.stdout.splitlines()]


def test_pcap_copy_and_conversion(tmp_path: Path) -> None:
    out = tmp_path / "sample.pcap"
    assert nc.write(out, nc.open(SAMPLE_PATH)) == 458
    rows = tshark(out, "frame.number", "frame.len", "frame.time_epoch")
    assert len(rows) == 458
    first = next(nc.open(SAMPLE_PATH))
    assert [int(r[1]) for r in rows] == first.wirelen.tolist()
    # Microsecond pcap: tshark's epoch time matches ours to the microsecond.
    assert abs(float(rows[0][2]) - first.ts[0] / 1e9) < 1e-6


def test_pcapng_interfaces_resolutions_and_comments(tmp_path: Path, pcapng_file: Path) -> None:
    out = tmp_path / "copy.pcapng"
    nc.write(out, nc.open(pcapng_file))
    rows = tshark(out, "frame.number", "frame.interface_id", "frame.comment", "frame.cap_len")
    assert [int(r[1]) for r in rows] == [0, 1, 0, 2, 2]
    assert rows[0][2] == "first" and rows[3][2] == "a,b"
    assert [int(r[3]) for r in rows] == [60, 40, 64, 44, 48]


def test_nanosecond_pcap(tmp_path: Path) -> None:
    out = tmp_path / "ns.pcap"
    with nc.Writer(out, nanosecond=True) as w:
        w.write_packet(capfiles.frame(1), ts=1_700_000_000_123_456_789)
    ((epoch,),) = tshark(out, "frame.time_epoch")
    assert epoch.endswith("123456789")
