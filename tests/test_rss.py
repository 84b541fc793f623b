"""RSS from Python: Toeplitz, `Rss` settings, batch columns and `netcore stats --queues`."""

from __future__ import annotations

import ipaddress
import json
import struct

import numpy as np
import pytest

import netcore as nc
from netcore import _netcore
from netcore.cli import main
from netcore.stats import QueueStats
from netcore.synth import SAMPLE_PATH

MICROSOFT_KEY = bytes.fromhex(
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa"
)

# Microsoft's RSS verification suite: source, source port, destination, destination port,
# hash of the addresses, hash of addresses and ports.
VECTORS = [
    ("66.9.149.187", 2794, "161.142.100.80", 1766, 0x323E8FC2, 0x51CCC178),
    ("199.92.111.2", 14230, "65.69.140.83", 4739, 0xD718262A, 0xC626B0EA),
    ("24.19.198.95", 12898, "12.22.207.184", 38024, 0xD2D0A5DE, 0x5C2B394A),
    ("38.27.205.30", 48228, "209.142.163.6", 2217, 0x82989176, 0xAFC7327F),
    ("153.39.163.191", 44251, "202.188.127.2", 1303, 0x5D1809C5, 0x10E828A2),
    ("3ffe:2501:200:1fff::7", 2794, "3ffe:2501:200:3::1", 1766, 0x2CC18CD5, 0x40207D3D),
    ("3ffe:501:8::260:97ff:fe40:efab", 14230, "ff02::1", 4739, 0x0F0C461C, 0xDDE51BBF),
    (
        "3ffe:1900:4545:3:200:f8ff:fe21:67cf",
        44251,
        "fe80::200:f8ff:fe21:67cf",
        38024,
        0x4B61E985,
        0x02D1FEEF,
    ),
]


def addr(a: str) -> bytes:
    return ipaddress.ip_address(a).packed


@pytest.mark.parametrize(("src", "sport", "dst", "dport", "h2", "h4"), VECTORS)
def test_microsoft_vectors(src: str, sport: int, dst: str, dport: int, h2: int, h4: int) -> None:
    two = addr(src) + addr(dst)
    assert nc.toeplitz(MICROSOFT_KEY, two) == h2
    assert nc.toeplitz(MICROSOFT_KEY, two + struct.pack("!HH", sport, dport)) == h4
    # The same through a frame and the default Rss (TCP hashes addresses and ports).
    frame = tcp_frame(addr(src), addr(dst), sport, dport)
    assert nc.Rss(4).hash_frame(frame) == (h4, True)


def tcp_frame(src: bytes, dst: bytes, sport: int, dport: int, proto: int = 6) -> bytes:
    l4 = struct.pack("!HH", sport, dport) + bytes(16)
    if len(src) == 4:
        ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0) + src + dst
        ethertype = 0x0800
    else:
        ip = struct.pack("!IHBB", 0x6 << 28, len(l4), proto, 64) + src + dst
        ethertype = 0x86DD
    return bytes(12) + struct.pack("!H", ethertype) + ip + l4


def test_toeplitz_errors_name_the_lengths() -> None:
    with pytest.raises(nc.ConfigError, match="at most 4 bytes, got 5"):
        nc.toeplitz(bytes(8), bytes(5))


def test_defaults_and_properties() -> None:
    r = nc.Rss(3)
    assert r.num_queues == 3 and r.table_size == 128
    assert r.key == MICROSOFT_KEY
    assert r.indirection == [i % 3 for i in range(128)]
    assert r.fields["tcp4"] == "sdfn" and r.fields["ip6"] == "sd"
    assert not r.symmetric and not r.inner
    assert "queues=3" in repr(r)
    w = nc.Rss(3, weights=[1, 1, 2], table_size=8, fields={"udp4": "sd"}, symmetric=True)
    assert w.indirection == [0, 0, 1, 1, 2, 2, 2, 2]
    assert w.fields["udp4"] == "sd" and w.symmetric
    assert nc.Rss(2, indirection=[1, 1, 0]).table_size == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": bytes(39)}, "40 bytes, got 39"),
        ({"indirection": [0, 4]}, "entry 1 is queue 4"),
        ({"indirection": [0, -1]}, "indirection entry 1 is -1"),
        ({"indirection": [0], "weights": [1, 1, 1, 1]}, "not both"),
        ({"weights": [1, 2]}, "2 weights for 4 queues"),
        ({"weights": [0, 0, 0, 0]}, "all zero"),
        ({"fields": {"tcp5": "sd"}}, "unknown flow type"),
        ({"fields": {"tcp4": "sdx"}}, "'x'"),
        ({"fields": {"ip4": "sdfn"}}, "no ports"),
        ({"table_size": 0}, "size 0"),
    ],
)
def test_bad_settings_raise_config_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(nc.ConfigError, match=message):
        nc.Rss(4, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(nc.ConfigError, match="queue count 0"):
        nc.Rss(0)


def sample_batch() -> nc.Batch:
    cap = nc.open(SAMPLE_PATH)
    return next(iter(cap))


def test_batch_columns_agree_with_single_frames() -> None:
    r = nc.Rss(4, inner=True)
    b = sample_batch()
    hashes, l4 = r.hash(b)
    queues = r.queues(b)
    assert hashes.dtype == np.uint32 and l4.dtype == np.bool_ and queues.dtype == np.uint16
    assert len(hashes) == len(l4) == len(queues) == len(b)
    for i in range(0, len(b), 7):
        got = r.hash_frame(bytes(b[i].data), int(b.linktype[i]))
        want = (int(hashes[i]), bool(l4[i])) if got is not None else (0, False)
        assert (got or (0, False)) == want
        assert queues[i] == (r.queue(int(hashes[i])) if got is not None else 0)
    assert set(queues.tolist()) == {0, 1, 2, 3}
    # A sub-batch gives the rows it selects; the raw batch works too.
    mask = b.caplen > 100
    sub_h, _ = r.hash(b[mask])
    np.testing.assert_array_equal(sub_h, hashes[mask])
    np.testing.assert_array_equal(r.queues(b._raw), queues)
    with pytest.raises(TypeError, match=r"netcore\.Batch"):
        r.hash(object())  # type: ignore[arg-type]


def test_symmetric_gives_both_directions_one_queue() -> None:
    a, c = addr("10.0.0.1"), addr("192.168.7.9")
    there = tcp_frame(a, c, 40000, 443)
    back = tcp_frame(c, a, 443, 40000)
    plain, sym = nc.Rss(16), nc.Rss(16, symmetric=True)
    assert plain.hash_frame(there) != plain.hash_frame(back)
    assert sym.hash_frame(there) == sym.hash_frame(back)
    raw = _netcore.Batch.from_packets([(0, there, 0, 0, 1), (0, back, 0, 0, 1)])
    q = sym.queues(raw)
    assert q[0] == q[1]


def test_queue_stats_distribution_and_imbalance() -> None:
    qs = QueueStats(nc.Rss(4))
    b = sample_batch()
    qs.add(b)
    assert qs.packets.sum() == len(b)
    assert qs.bytes.sum() == int(b.wirelen.sum())
    assert qs.imbalance() == pytest.approx(qs.packets.max() / qs.packets.mean())
    # Every hashed packet to queue 2; the packets without IP header stay on queue 0.
    one = QueueStats(nc.Rss(4, indirection=[2]))
    one.add(b)
    unhashed = int((nc.Rss(4).hash(b)[0] == 0).sum())
    assert one.packets.tolist() == [unhashed, 0, len(b) - unhashed, 0]
    assert one.imbalance() == pytest.approx(4 * (len(b) - unhashed) / len(b))
    assert QueueStats(nc.Rss(2)).imbalance() == 0.0


def test_stats_command_with_queues(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", str(SAMPLE_PATH), "--queues", "4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    rss = d["rss"]
    assert rss["queues"] == 4 and len(rss["per_queue"]) == 4
    assert sum(q["packets"] for q in rss["per_queue"]) == d["packets"]
    assert sum(q["bytes"] for q in rss["per_queue"]) == d["bytes"]
    counts = [q["packets"] for q in rss["per_queue"]]
    assert rss["imbalance"] == pytest.approx(max(counts) / (sum(counts) / 4))
    assert main(["stats", str(SAMPLE_PATH), "--queues", "2", "--symmetric"]) == 0
    out = capsys.readouterr().out
    assert "RSS over 2 queues" in out and "Imbalance (max/mean):" in out
    assert main(["stats", str(SAMPLE_PATH), "--queues", "0"]) == 1
    assert "queue count 0" in capsys.readouterr().err
