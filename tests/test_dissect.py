"""Dissection: layers, fields, checksum verdicts and malformed packets, on frames built by Scapy
(an independent implementation) and by hand."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import netcore as nc

scapy_all = pytest.importorskip("scapy.all", reason="Scapy builds the reference frames")
from scapy.all import (  # noqa: E402
    ARP,
    GRE,
    ICMP,
    IP,
    SCTP,
    TCP,
    UDP,
    VXLAN,
    CookedLinux,
    Dot1AD,
    Dot1Q,
    Ether,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    Raw,
)
from scapy.contrib.geneve import GENEVE  # noqa: E402
from scapy.contrib.mpls import MPLS  # noqa: E402


def batch_of(tmp_path: Path, frames: list[bytes], linktype: int = 1) -> nc.Batch:
    p = tmp_path / "f.pcapng"
    with nc.Writer(p, linktype=linktype) as w:
        for i, f in enumerate(frames):
            w.write_packet(f, ts=i)
    return next(nc.open(p))


def one(tmp_path: Path, frame: Any, linktype: int = 1) -> nc.Packet:
    return batch_of(tmp_path, [bytes(frame)], linktype)[0]


CASES = [
    (Ether() / IP() / TCP(), ["eth", "ipv4", "tcp"]),
    (Ether() / Dot1Q(vlan=5) / IP() / UDP(dport=9), ["eth", "vlan", "ipv4", "udp"]),
    (
        Ether() / Dot1AD(vlan=7) / Dot1Q(vlan=8) / Dot1Q(vlan=9) / IPv6() / TCP(),
        ["eth", "qinq", "vlan", "vlan", "ipv6", "tcp"],
    ),
    (Ether() / ARP(), ["eth", "arp"]),
    (Ether() / MPLS(label=3, s=0) / MPLS(label=4) / IP() / ICMP(), ["eth", "mpls", "ipv4", "icmp"]),
    (Ether() / IP(options=b"\x94\x04\x00\x00") / UDP(), ["eth", "ipv4", "udp"]),
    (
        Ether() / IPv6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting() / UDP(),
        ["eth", "ipv6", "ipv6.hopopts", "ipv6.routing", "udp"],
    ),
    (Ether() / IPv6() / ICMPv6EchoRequest(), ["eth", "ipv6", "icmpv6"]),
    (Ether() / IP() / SCTP(sport=1, dport=2), ["eth", "ipv4", "sctp"]),
    (Ether() / IP() / GRE() / IP() / UDP(), ["eth", "ipv4", "gre", "ipv4", "udp"]),
    (
        Ether() / IP() / GRE(proto=0x6558) / Ether() / IP() / TCP(),
        ["eth", "ipv4", "gre", "eth", "ipv4", "tcp"],
    ),
    (
        Ether() / IP() / UDP(dport=4789) / VXLAN(vni=42) / Ether() / IPv6() / TCP(),
        ["eth", "ipv4", "udp", "vxlan", "eth", "ipv6", "tcp"],
    ),
    (
        Ether() / IP() / UDP(dport=6081) / GENEVE(vni=7, proto=0x6558) / Ether() / IP() / UDP(),
        ["eth", "ipv4", "udp", "geneve", "eth", "ipv4", "udp"],
    ),
    (Ether() / IP() / IP() / TCP(), ["eth", "ipv4", "ipv4", "tcp"]),
    (Ether() / IP() / IPv6() / UDP(), ["eth", "ipv4", "ipv6", "udp"]),
    (
        Ether() / IP(dst="10.0.0.9") / ICMP(type=3, code=3) / IP(src="10.0.0.9") / UDP(dport=53),
        ["eth", "ipv4", "icmp", "ipv4", "udp"],
    ),
]


@pytest.mark.parametrize(("frame", "layers"), CASES, ids=[" ".join(c[1]) for c in CASES])
def test_layers_and_checksums(tmp_path: Path, frame: Any, layers: list[str]) -> None:
    pkt = one(tmp_path, frame)
    assert pkt.layers == layers
    assert not pkt.malformed and pkt.drop_reason is None
    # Scapy fills every checksum correctly: each verdict must say so.
    verdicts = dict(pkt.csum_list())
    assert set(verdicts.values()) <= {"good"}, pkt.csum_list()


def test_fields_of_a_tcp_packet(tmp_path: Path) -> None:
    frame = (
        Ether()
        / Dot1Q(vlan=300)
        / IP(src="10.1.2.3", dst="192.168.0.1", ttl=33)
        / TCP(sport=1234, dport=443, seq=1000, ack=2000, flags="PA", window=777)
        / Raw(b"x" * 11)
    )
    b = batch_of(tmp_path, [bytes(frame)])
    assert b.vlan[0] == 300 and b.vlan_depth[0] == 1 and b.ethertype[0] == 0x0800
    assert b.src4[0] == 0x0A010203 and b.dst4[0] == 0xC0A80001 and b.ttl[0] == 33
    assert (b.sport[0], b.dport[0], b.seq[0], b.ack[0], b.window[0]) == (1234, 443, 1000, 2000, 777)
    assert b.tcp_flags[0] == 0x18 and b.payload_len[0] == 11 and b.l4proto[0] == 6
    assert b.l3_off[0] == 18 and b.l4_off[0] == 38 and b.payload_off[0] == 58
    pkt = b[0]
    assert str(pkt.ipv4.src) == "10.1.2.3" and pkt.tcp.dport == 443
    assert pkt.tcp.flag_names == ["PSH", "ACK"]
    assert bytes(pkt)[b.payload_off[0] :] == b"x" * 11


def test_ipv6_addresses_and_tunnel_fields(tmp_path: Path) -> None:
    frames = [
        bytes(Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5, dport=6)),
        bytes(
            Ether()
            / IP(src="1.1.1.1", dst="2.2.2.2")
            / UDP(dport=4789)
            / VXLAN(vni=0xABCDE)
            / Ether()
            / IP(src="10.0.0.1", dst="10.0.0.2")
            / TCP(sport=7, dport=8)
        ),
    ]
    b = batch_of(tmp_path, frames)
    assert bytes(b.src6[0]) == bytes.fromhex("20010db8" + "0" * 23 + "1")
    assert b.ip_version.tolist() == [6, 4]
    assert nc.batch.LAYER_NAMES[int(b.tunnel[1])] == "vxlan"
    assert b.vni[1] == 0xABCDE and b.inner_src4[1] == 0x0A000001 and b.inner_l4proto[1] == 6
    assert (b.inner_sport[1], b.inner_dport[1]) == (7, 8) and b.inner_ethertype[1] == 0x0800
    assert b.csum_inner_l4[1] == 1 and b.csum_l4[1] == 1  # inner TCP and outer UDP good


def test_checksum_verdicts(tmp_path: Path) -> None:
    frames = [
        bytes(Ether() / IP(chksum=0x1234) / TCP()),
        bytes(Ether() / IP() / TCP(chksum=0x1234)),
        bytes(Ether() / IP() / UDP(chksum=0)),
        bytes(Ether() / IPv6() / UDP(chksum=0)),
        bytes(Ether() / IP() / ICMP(chksum=1)),
        bytes(Ether() / IP() / SCTP(chksum=5)),
    ]
    b = batch_of(tmp_path, frames)
    got = [dict(p.csum_list()) for p in b]
    assert got[0] == {"ipv4": "bad", "tcp": "good"}
    assert got[1] == {"ipv4": "good", "tcp": "bad"}
    assert got[2] == {"ipv4": "good", "udp": "not_present"}
    assert got[3] == {"udp": "illegal"}
    assert got[4]["icmp"] == "bad" and got[5]["sctp"] == "bad"
    assert [p.drop_reason for p in b] == [
        "IP_CSUM",
        "TCP_CSUM",
        None,
        "UDP_CSUM",
        "ICMP_CSUM",
        "SCTP_CSUM",
    ]
    assert not b.malformed.any()


def test_gre_checksum(tmp_path: Path) -> None:
    good = Ether() / IP() / GRE(chksum_present=1) / IP() / UDP()
    bad = Ether() / IP() / GRE(chksum_present=1, chksum=0x1234) / IP() / UDP()
    b = batch_of(tmp_path, [bytes(good), bytes(bad), bytes(Ether() / IP() / GRE() / IP())])
    assert [p.csum.get("gre") for p in b] == ["good", "bad", None]


def test_sctp_crc32c_good(tmp_path: Path) -> None:
    assert one(tmp_path, Ether() / IPv6() / SCTP(sport=9, dport=10)).csum == {"sctp": "good"}


def test_link_types(tmp_path: Path) -> None:
    ip = bytes(IP() / UDP())
    assert one(tmp_path, ip, linktype=101).layers == ["ipv4", "udp"]
    assert one(tmp_path, bytes(IPv6() / TCP()), linktype=229).layers == ["ipv6", "tcp"]
    assert one(tmp_path, CookedLinux(proto=0x0800) / IP() / TCP(), linktype=113).layers == [
        "sll",
        "ipv4",
        "tcp",
    ]
    sll2 = struct.pack("!HHIHBB8s", 0x86DD, 0, 3, 1, 0, 6, b"\x02" * 8) + bytes(IPv6() / UDP())
    assert one(tmp_path, sll2, linktype=276).layers == ["sll2", "ipv6", "udp"]
    for family, order in ((2, "<I"), (30, "<I"), (24, ">I")):
        payload = ip if family == 2 else bytes(IPv6() / UDP())
        pkt = one(tmp_path, struct.pack(order, family) + payload, linktype=0)
        assert pkt.layers[:2] == ["null", "ipv4" if family == 2 else "ipv6"]
    assert one(tmp_path, struct.pack(">I", 2) + ip, linktype=108).layers == ["null", "ipv4", "udp"]
    assert one(tmp_path, b"\x01\x02\x03", linktype=147).layers == []


MALFORMED = [
    ("IHL below 5", bytes(Ether() / IP(ihl=4) / TCP()), "IP_INHDR"),
    ("total length below header", bytes(Ether() / IP(len=12) / TCP()), "IP_INHDR"),
    ("total length beyond packet", bytes(Ether() / IP(len=900) / TCP()), "PKT_TOO_SMALL"),
    ("TCP data offset below 5", bytes(Ether() / IP() / TCP(dataofs=3)), "PKT_TOO_SMALL"),
    ("TCP data offset beyond segment", bytes(Ether() / IP() / TCP(dataofs=15)), "PKT_TOO_SMALL"),
    ("UDP length beyond datagram", bytes(Ether() / IP() / UDP(len=500)), "PKT_TOO_SMALL"),
    ("UDP length below header", bytes(Ether() / IP() / UDP(len=4)), "PKT_TOO_SMALL"),
    (
        "IPv6 payload length beyond packet",
        bytes(Ether() / IPv6(plen=4000) / UDP()),
        "PKT_TOO_SMALL",
    ),
    (
        "IPv6 extension header loop",
        bytes(Ether() / IPv6(nh=44, plen=168))
        + bytes([44, 0, 0, 0, 0, 0, 0, 1] * 19 + [17, 0, 0, 0, 0, 0, 0, 1])
        + bytes(UDP()),
        "IPV6_BAD_EXTHDR",
    ),
    (
        "hop-by-hop not first",
        bytes(Ether() / IPv6() / IPv6ExtHdrRouting() / IPv6ExtHdrHopByHop() / UDP()),
        "IPV6_BAD_EXTHDR",
    ),
    (
        "VXLAN without I flag",
        bytes(Ether() / IP() / UDP(dport=4789) / VXLAN(flags=0) / Ether()),
        "VXLAN_INVALID_HDR",
    ),
    ("Ethernet header cut short", bytes(Ether())[:9], "PKT_TOO_SMALL"),
]


@pytest.mark.parametrize(("what", "frame", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_packets_are_marked_not_raised(
    tmp_path: Path, what: str, frame: bytes, reason: str
) -> None:
    pkt = one(tmp_path, frame)
    assert pkt.malformed, what
    assert pkt.drop_reason == reason, what


def test_snaplen_cut_is_truncated_not_malformed(tmp_path: Path) -> None:
    frame = bytes(Ether() / IP() / TCP() / Raw(b"y" * 100))
    p = tmp_path / "cut.pcapng"
    with nc.Writer(p) as w:
        w.write_packet(frame[:40], wirelen=len(frame))
    b = next(nc.open(p))
    assert b.truncated[0] and not b.malformed[0]
    assert b[0].layers == ["eth", "ipv4", "tcp"] and b.csum_l4[0] == 3  # unverified


def test_random_bytes_never_raise(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    frames = [
        rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 200, 3000)
    ]
    # Steer half of them into IPv4/IPv6 parsing.
    frames = [
        f[:12] + (b"\x08\x00" if i % 2 else b"\x86\xdd") + f[14:] if len(f) > 14 else f
        for i, f in enumerate(frames)
    ]
    for linktype in (1, 101, 113, 276, 0):
        b = batch_of(tmp_path, frames, linktype)
        assert len(b.layers) == 3000 and len(b.drop_reason) == 3000
        assert (b.drop_reason[b.malformed] != 0).all()


def test_sub_batch_columns_follow_the_selection(tmp_path: Path) -> None:
    frames = [
        bytes(Ether() / IP() / TCP(dport=80)),
        bytes(Ether() / IP() / UDP(dport=53)),
        bytes(Ether() / IP() / TCP(dport=443)),
    ]
    b = batch_of(tmp_path, frames)
    web = b[(b.l4proto == 6) & (b.dport == 443)]
    assert len(web) == 1 and web[0].tcp.dport == 443 and web.layers.shape == (1, 16)
    assert np.shares_memory(b.layers, b.raw.column("layers"))


def test_namespace_handlers_and_unclaimed_counts(tmp_path: Path) -> None:
    frames = [
        bytes(Ether(type=0x88CC) / Raw(b"lldp")),
        bytes(Ether() / IP() / GRE() / IP() / UDP()),
        bytes(Ether() / IP() / UDP(dport=5000)),
        bytes(Ether() / IP() / UDP(dport=4789) / VXLAN() / Ether() / IP() / UDP(dport=5000)),
        bytes(Ether() / IP() / TCP()),
        bytes(Ether() / IP(flags="MF") / TCP()),
        bytes(Ether() / IP(ihl=3)),
    ]
    p = tmp_path / "mix.pcapng"
    with nc.Writer(p) as w:
        for f in frames:
            w.write_packet(f)
    ns = nc.Namespace()
    got: dict[str, list[int]] = {"lldp": [], "gre": [], "udp5000": []}

    @ns.register(ethertype=0x88CC, per_packet=True)
    def lldp(pkt: nc.Packet) -> None:
        got["lldp"].append(pkt.index)

    @ns.register(ip_proto=47)
    def gre(batch: nc.Batch) -> None:
        got["gre"].extend(p.index for p in batch)

    @ns.register(udp_port=5000)
    def udp5000(batch: nc.Batch) -> None:
        got["udp5000"].extend(p.index for p in batch)

    report = ns.run(p)
    report.check()
    assert got == {"lldp": [0], "gre": [1], "udp5000": [2, 3]}  # 3: inside the VXLAN tunnel
    assert report.unclaimed == {"tcp": 1, "ip fragment": 1, "malformed (IP_INHDR)": 1}
    with pytest.raises(nc.ConfigError, match="already handled"):
        ns.register(ip_proto=47)(gre)
    ns.unregister(gre)
    ns.set_encap(4789, None)
    report = ns.run(p)
    report.check()
    # Unclaimed packets count under the innermost protocol reached: GRE's inner UDP.
    assert report.unclaimed["udp"] == 2 and report.delivered["udp5000"] == 1


def test_dissect_command_jsonl(tmp_path: Path) -> None:
    frames = [
        bytes(Ether() / Dot1Q() / IP() / UDP(dport=4789) / VXLAN() / Ether() / IPv6() / TCP()),
        bytes(Ether() / IP(ihl=2)),
    ]
    p = tmp_path / "d.pcap"
    with nc.Writer(p) as w:
        for f in frames:
            w.write_packet(f)
    out = subprocess.run(
        [sys.executable, "-m", "netcore.cli", "dissect", str(p), "--jsonl"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    recs = [json.loads(line) for line in out.splitlines()]
    assert recs[0]["layers"] == ["eth", "vlan", "ipv4", "udp", "vxlan", "eth", "ipv6", "tcp"]
    assert recs[0]["csum"] == {"ipv4": "good", "udp": "good", "tcp": "good"}
    assert recs[0]["n"] == 1 and recs[0]["caplen"] == recs[0]["len"] == len(frames[0])
    assert recs[1]["malformed"] and recs[1]["drop_reason"] == "IP_INHDR"
    assert set(recs[0]) == {
        "n",
        "ts",
        "caplen",
        "len",
        "layers",
        "csum",
        "malformed",
        "drop_reason",
    }


def test_stats_command(tmp_path: Path) -> None:
    frames = [bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1, dport=2))] * 3 + [
        bytes(Ether() / IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=2, dport=1, chksum=9)),
        bytes(Ether() / IP(ihl=2)),
    ]
    p = tmp_path / "s.pcap"
    with nc.Writer(p) as w:
        for f in frames:
            w.write_packet(f)
    out = subprocess.run(
        [sys.executable, "-m", "netcore.cli", "stats", str(p), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    d = json.loads(out)
    tree = {"/".join(n["path"]): n["packets"] for n in d["hierarchy"]}
    assert tree == {"eth": 5, "eth/ipv4": 5, "eth/ipv4/tcp": 4}
    assert d["bad_checksums"] == {"tcp": 1} and d["malformed"] == {"IP_INHDR": 1}
    conv = d["conversations"][0]
    assert (conv["packets_ab"], conv["packets_ba"]) == (3, 1)
    assert d["top_talkers"][0]["address"] == "10.0.0.1"
