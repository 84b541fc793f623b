"""Native rules from Python: parse errors, verdicts over a batch, counters, constants."""

from __future__ import annotations

import numpy as np
import pytest

import netcore as nc
from netcore._netcore import Batch

pytest.importorskip("scapy.all", reason="Scapy builds the test frames")
from scapy.all import ICMP, IP, TCP, UDP, Ether, IPv6, Raw

ETHERNET = 1


def batch(frames: list[tuple[bytes, int]]) -> Batch:
    """A batch of Ethernet frames, each with its capture interface index."""
    return Batch.from_packets([(0, f, len(f), ifx, ETHERNET) for f, ifx in frames])


def eth(pkt: object) -> bytes:
    return bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt)


def test_verdicts_over_a_batch() -> None:
    rules = nc.Ruleset(
        """
        # the issue's example, then a device rule and a mark
        ip saddr 10.0.0.0/8 tcp dport {22, 80-90} counter drop
        iif "lan0" udp dport 53 accept
        ip6 saddr 2001:db8::/32 meta mark set 7 jump audit
        meta l4proto icmp queue num 2
        """,
        devices={"lan0": 1},
    )
    assert rules.rules[0] == "ip saddr 10.0.0.0/8 tcp dport {22, 80-90} counter drop"
    assert len(rules) == 4
    frames = [
        (eth(IP(src="10.1.2.3", dst="1.1.1.1") / TCP(dport=22)), 0),
        (eth(IP(src="10.1.2.3", dst="1.1.1.1") / TCP(dport=85) / Raw(b"x" * 10)), 0),
        (eth(IP(src="11.1.2.3", dst="1.1.1.1") / TCP(dport=22)), 0),
        (eth(IP(src="10.1.2.3", dst="1.1.1.1") / UDP(dport=53)), 1),
        (eth(IP(src="10.1.2.3", dst="1.1.1.1") / UDP(dport=53)), 2),
        (eth(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(dport=9)), 0),
        (eth(IP(src="10.1.2.3", dst="1.1.1.1") / ICMP()), 0),
        (bytes(Ether(type=0x0806) / Raw(b"\0" * 28)), 0),
    ]
    codes = rules.eval_batch(batch(frames))
    assert codes.dtype == np.int32
    expected = [
        nc.DROP,
        nc.DROP,
        nc.ACCEPT,
        nc.ACCEPT,
        nc.ACCEPT,
        nc.JUMP,
        nc.QUEUE,
        nc.ACCEPT,
    ]
    assert codes.tolist() == expected
    packets, octets = rules.counters()[0]
    assert packets == 2
    assert octets == 40 + 50  # IP total lengths, as nft's meta length
    assert rules.counters()[1] == (1, 28)
    # Counters accumulate over batches.
    rules.eval_batch(batch(frames[:1]))
    assert rules.counters()[0][0] == 3


def test_filtering_a_batch_with_rules() -> None:
    frames = [
        (eth(IP(src="192.0.2.1", dst="192.0.2.2") / TCP(dport=p, flags="S")), 0)
        for p in (22, 443, 8080)
    ]
    keep = nc.Ruleset("tcp dport != 22 tcp flags syn accept\ndrop")
    codes = keep.eval_batch(batch(frames))
    assert (codes == nc.ACCEPT).tolist() == [False, True, True]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            "accept\n\ntcp dport http drop",
            3,
            11,
            'expected a port or port range, found "http"',
        ),
        ("iif eth9 drop", 1, 5, 'unknown device "eth9"'),
        ("ip saddr 10.0.0.0/40", 1, 19, 'expected a prefix length (0-32), found "40"'),
        ("drop accept", 1, 6, 'expected end of rule after the verdict, found "accept"'),
    ],
)
def test_parse_errors_name_line_and_column(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(nc.RuleError) as info:
        nc.Ruleset(text)
    err = info.value
    assert (err.line, err.column, err.message) == (line, column, message)
    assert str(err) == f"line {line}, column {column}: {message}"
    assert isinstance(err, nc.ConfigError)
    assert isinstance(err, nc.NetcoreError)


def test_constants_match_the_kernel() -> None:
    assert (nc.DROP, nc.ACCEPT, nc.STOLEN, nc.QUEUE, nc.REPEAT) == (0, 1, 2, 3, 4)
    kernel = {
        "CONNTRACK_DEFRAG": -400,
        "RAW": -300,
        "CONNTRACK": -200,
        "MANGLE": -150,
        "DSTNAT": -100,
        "FILTER": 0,
        "SECURITY": 50,
        "SRCNAT": 100,
    }
    assert {name: int(nc.Priority[name]) for name in kernel} == kernel
    assert nc.rules.parse_priority("dstnat - 5") == -105
    assert nc.rules.parse_priority("nat") is None
