"""GRO and GSO over captures, from Python and from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import netcore as nc

pytest.importorskip("scapy.all", reason="Scapy builds the reference frames")
from scapy.all import IP, TCP, UDP, Ether, IPv6, Raw


def bulk_tcp(n: int, mss: int = 1448, v6: bool = False) -> list[bytes]:
    """A bulk transfer: n full segments of one flow, PSH on the last, IDs counting up."""
    out = []
    for i in range(n):
        ip = (
            IPv6(src="2001:db8::1", dst="2001:db8::2")
            if v6
            else IP(src="10.0.0.1", dst="10.0.0.2", id=100 + i, flags="DF")
        )
        flags = "PA" if i == n - 1 else "A"
        seg = TCP(sport=40000, dport=80, seq=1000 + i * mss, ack=7, flags=flags, window=512)
        out.append(
            bytes(
                Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                / ip
                / seg
                / Raw(bytes((i + k) % 251 for k in range(mss)))
            )
        )
    return out


def write(path: Path, frames: list[bytes]) -> Path:
    with nc.Writer(path, nanosecond=True) as w:
        for i, f in enumerate(frames):
            w.write_packet(f, ts=i * 1000)
    return path


@pytest.mark.parametrize("v6", [False, True])
def test_gro_then_gso_returns_the_original_frames(tmp_path: Path, v6: bool) -> None:
    frames = bulk_tcp(10, v6=v6)
    src = write(tmp_path / "in.pcapng", frames)
    merged = nc.gro(src, tmp_path / "gro.pcapng")
    assert merged.packets_out == 1 and merged.segments == 10
    (p,) = merged.packets
    assert p.gso_size == 1448 and p.gso_type == (["TCPV6"] if v6 else ["TCPV4"])
    big = next(nc.open(tmp_path / "gro.pcapng"))
    assert big.caplen[0] == len(frames[0]) + 9 * 1448
    assert big.payload_len[0] == 10 * 1448  # lengths cover the merged payload
    back = nc.gso(tmp_path / "gro.pcapng", tmp_path / "gso.pcapng", mss=1448, mtu=9000)
    assert back.stats["segmented"] == 1 and back.packets_out == 10
    again = [bytes(p) for p in nc.open(tmp_path / "gso.pcapng").packets()]
    assert again == frames


def test_gro_rules_end_a_train(tmp_path: Path) -> None:
    frames = bulk_tcp(4)
    short = bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="10.0.0.1", dst="10.0.0.2", id=104, flags="DF")
        / TCP(sport=40000, dport=80, seq=1000 + 4 * 1448, ack=7, flags="A", window=512)
        / Raw(b"x" * 100)
    )
    other = bytes(Ether() / IP(src="10.0.0.9", dst="10.0.0.2") / UDP() / Raw(b"u"))
    fourth = Ether(frames[3])
    fourth[TCP].flags = "A"
    del fourth[TCP].chksum  # recomputed by Scapy for the new flags
    frames = [*frames[:3], other, bytes(fourth), short]
    src = write(tmp_path / "in.pcapng", frames)
    r = nc.gro(src, tmp_path / "gro.pcapng")
    # The UDP datagram goes up at once, ahead of the held TCP flow; the short segment ends
    # the train, merged into it.
    assert [p.segs for p in r.packets] == [1, 5]
    assert r.stats["normal"] == 1 and r.stats["merged"] == 4


def test_bad_checksum_goes_up_ahead_of_its_held_flow(tmp_path: Path) -> None:
    frames = bulk_tcp(4)
    bad = bytearray(frames[2])
    bad[50] ^= 0xFF  # TCP checksum byte
    src = write(tmp_path / "in.pcapng", [frames[0], frames[1], bytes(bad), frames[3]])
    r = nc.gro(src, tmp_path / "gro.pcapng")
    # Linux: a segment failing its checksum bypasses GRO and goes up at once, before the
    # held packets of its flow; the next segment is not contiguous with them and starts anew.
    assert [p.segs for p in r.packets] == [1, 2, 1]


def test_budget_one_flushes_every_poll(tmp_path: Path) -> None:
    src = write(tmp_path / "in.pcapng", bulk_tcp(6))
    r = nc.gro(src, tmp_path / "gro.pcapng", budget=1)
    assert r.packets_out == 6 and r.stats["polls"] >= 6


def test_commands(tmp_path: Path) -> None:
    src = write(tmp_path / "in.pcap", bulk_tcp(5))
    jl = tmp_path / "gro.jsonl"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "netcore.cli",
            "gro",
            str(src),
            str(tmp_path / "g.pcap"),
            "--jsonl",
            str(jl),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out)["coalescing_ratio"] == 5.0
    (line,) = [json.loads(x) for x in jl.read_text().splitlines()]
    assert line == {
        "n": 1,
        "len": 14 + 20 + 20 + 5 * 1448,
        "segs": 5,
        "gso_size": 1448,
        "gso_type": "TCPV4",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "netcore.cli",
            "gso",
            str(tmp_path / "g.pcap"),
            str(tmp_path / "s.pcap"),
            "--mss",
            "1000",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    d = json.loads(out)
    assert d["packets_out"] == 8 and d["segmented"] == 1  # 7240 bytes / 1000


def test_df_over_mtu_is_counted_not_sent(tmp_path: Path) -> None:
    big = bytes(Ether() / IP(flags="DF") / UDP() / Raw(b"z" * 3000))
    src = write(tmp_path / "in.pcapng", [big])
    r = nc.gso(src, tmp_path / "out.pcapng", mss=4000, mtu=1500)
    assert r.stats["too_big"] == 1 and r.packets_out == 0


def ones_sum(data: bytes) -> int:
    """Ones'-complement sum of 16-bit words, folded to 16 bits (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


@pytest.mark.parametrize("v6", [False, True])
def test_gso_checksum_offload_leaves_the_pseudo_header_seed(tmp_path: Path, v6: bool) -> None:
    frames = bulk_tcp(6, v6=v6)
    src = write(tmp_path / "in.pcapng", frames)
    nc.gro(src, tmp_path / "gro.pcapng")
    soft = nc.gso(tmp_path / "gro.pcapng", tmp_path / "soft.pcapng", mtu=9000)
    off = nc.gso(tmp_path / "gro.pcapng", tmp_path / "off.pcapng", mtu=9000, csum_offload=True)
    assert soft.packets_out == off.packets_out == 6
    offloaded = [bytes(p) for p in nc.open(tmp_path / "off.pcapng").packets()]
    l4 = 14 + (40 if v6 else 20)
    for seg, orig in zip(offloaded, frames, strict=True):
        # Only the TCP checksum differs: it holds the pseudo-header sum (addresses, protocol,
        # TCP length), not complemented, as tcp_v4_send_check / tcp_v6_send_check leave it.
        assert seg[: l4 + 16] == orig[: l4 + 16] and seg[l4 + 18 :] == orig[l4 + 18 :]
        tcp_len = len(seg) - l4
        addrs = seg[l4 - 32 : l4] if v6 else seg[l4 - 8 : l4]
        seed = ones_sum(addrs + (6).to_bytes(2, "big") + tcp_len.to_bytes(4, "big"))
        assert int.from_bytes(seg[l4 + 16 : l4 + 18], "big") == seed
        # What the NIC does: sum from csum_start over the seeded field, store the complement.
        nic = 0xFFFF - ones_sum(seg[l4:])
        assert seg[: l4 + 16] + nic.to_bytes(2, "big") + seg[l4 + 18 :] == orig


def test_bench_offload_compares_strategies(tmp_path: Path) -> None:
    src = write(tmp_path / "in.pcapng", bulk_tcp(12))
    out = subprocess.run(
        [sys.executable, "-m", "netcore.cli", "bench", "offload", str(src), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["no offload"]["packets_out"] == 12
    gro64 = rows["GRO budget 64 flush_timeout 0 ns"]
    assert gro64["packets_out"] == 1 and gro64["segs_max"] == 12
    assert rows["GRO budget 8 flush_timeout 0 ns"]["packets_out"] == 2  # a flush every 8
    assert rows["TSO (device segments)"]["packets_out"] == 1
    assert rows["software GSO, MSS 1448, software checksums"]["packets_out"] == 12
    assert rows["software GSO, MSS 1448, offloaded checksums"]["packets_out"] == 12
    # One flow: every queue count merges it into one super-packet out of the TSO device.
    queue_rows = [r for r in rows.values() if r["stage"] == "queues"]
    assert len(queue_rows) == 3
    assert all(r["packets_out"] == 1 and r["segs_max"] == 12 for r in queue_rows)
