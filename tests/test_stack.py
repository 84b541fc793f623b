"""The programmable stack: devices, routes, hooks, native rules, replay and its report.

Frames are built with Scapy (independently of netcore) and the captures netcore writes are
read back and checked with Scapy's own checksum computation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import netcore as nc

scapy_all = pytest.importorskip("scapy.all")
Ether = scapy_all.Ether
IP = scapy_all.IP
IPv6 = scapy_all.IPv6
TCP = scapy_all.TCP
UDP = scapy_all.UDP
ICMP = scapy_all.ICMP
Raw = scapy_all.Raw

MAC_IN = "02:00:00:00:00:01"
MAC_PEER = "02:00:00:00:00:99"


def frame(
    src: str,
    dst: str,
    *,
    sport: int = 1234,
    dport: int = 80,
    ttl: int = 64,
    size: int = 20,
    udp: bool = False,
    df: bool = False,
) -> bytes:
    l4 = UDP(sport=sport, dport=dport) if udp else TCP(sport=sport, dport=dport, flags="PA")
    ip = IP(src=src, dst=dst, ttl=ttl, flags="DF" if df else 0) / l4 / Raw(b"x" * size)
    return bytes(Ether(src=MAC_PEER, dst=MAC_IN) / ip)


def frame6(src: str, dst: str, *, dport: int = 443, hlim: int = 64) -> bytes:
    return bytes(
        Ether(src=MAC_PEER, dst=MAC_IN)
        / IPv6(src=src, dst=dst, hlim=hlim)
        / TCP(sport=5555, dport=dport, flags="A")
        / Raw(b"y" * 10)
    )


def capture(tmp_path: Path, frames: list[bytes], name: str = "in.pcap") -> Path:
    path = tmp_path / name
    t0 = 1_700_000_000_000_000_000
    with nc.Writer(path) as w:
        for i, f in enumerate(frames):
            w.write_packet(f, t0 + i * 1000)
    return path


def read(path: Path) -> list[bytes]:
    return [bytes(p.data) for b in nc.open(path) for p in b]


def router(**dev: Any) -> nc.Namespace:
    ns = nc.Namespace()
    ns.add_device("eth0", mac=MAC_IN, addresses=["10.0.0.1/24", "2001:db8::1/64"], **dev)
    ns.add_device("wan0", mac="02:00:00:00:00:02", addresses=["192.0.2.1/24"])
    ns.routes.add("0.0.0.0/0", dev="wan0", gateway="192.0.2.254")
    ns.routes.add("::/0", dev="wan0")
    return ns


def checksums_ok(f: bytes) -> bool:
    """Scapy recomputes every checksum; equal bytes mean they were right."""
    pkt = Ether(f)
    for layer in (IP, TCP, UDP, ICMP):
        if layer in pkt and hasattr(pkt[layer], "chksum"):
            del pkt[layer].chksum
    if IP in pkt:
        del pkt[IP].len
    return bytes(pkt) == f


def test_forwarding_decrements_ttl_and_keeps_checksums(tmp_path: Path) -> None:
    frames = [frame("10.0.0.5", "198.51.100.7", sport=1000 + i) for i in range(20)]
    frames.append(frame6("2001:db8::5", "2001:db8:ffff::9"))
    ns = router(features=nc.Features(gro=False))
    out = tmp_path / "wan0.pcap"
    report = ns.replay(capture(tmp_path, frames), into="eth0", capture={"wan0": out})
    report.check()
    assert report.entered == 21
    assert report.transmitted == {"wan0": 21}
    sent = read(out)
    assert len(sent) == 21
    for f in sent[:20]:
        pkt = Ether(f)
        assert pkt[IP].ttl == 63
        assert pkt.src == "02:00:00:00:00:02", "source MAC is the egress device's"
        assert checksums_ok(f)
    assert Ether(sent[20])[IPv6].hlim == 63
    assert report.devices["eth0"]["rx_packets"] == 21
    assert report.devices["wan0"]["tx_packets"] == 21


def test_local_delivery_other_hosts_and_bad_headers(tmp_path: Path) -> None:
    bad = bytearray(frame("10.0.0.5", "198.51.100.7"))
    bad[14 + 10] ^= 0xFF  # IPv4 header checksum
    other = bytes(
        Ether(src=MAC_PEER, dst="02:00:00:00:00:77") / IP(src="10.0.0.5", dst="10.0.0.1") / TCP()
    )
    frames = [
        frame("10.0.0.5", "10.0.0.1", dport=22),
        frame("10.0.0.5", "10.0.0.1", udp=True, dport=53),
        bytes(bad),
        other,
        frame6("2001:db8::5", "2001:db8::1"),
    ]
    report = router().replay(capture(tmp_path, frames), into="eth0")
    report.check()
    assert report.delivered == {"tcp": 2, "udp": 1}
    assert report.dropped == {"IP_CSUM": 1, "OTHERHOST": 1}


def test_ttl_expiry_sends_time_exceeded(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))
    out = tmp_path / "eth0.pcap"
    report = ns.replay(
        capture(tmp_path, [frame("10.0.0.5", "198.51.100.7", ttl=1)]),
        into="eth0",
        capture={"eth0": out},
    )
    report.check()
    assert report.created == 1
    assert sum(report.icmp_errors.values()) == 1
    assert report.dropped == {"IP_INHDR": 1} or report.dropped == {"IP_TTL_EXCEEDED": 1}
    (err,) = read(out)
    pkt = Ether(err)
    assert pkt[IP].src == "10.0.0.1" and pkt[IP].dst == "10.0.0.5"
    assert pkt[ICMP].type == 11 and pkt[ICMP].code == 0
    assert checksums_ok(err)


def test_df_over_mtu_gets_fragmentation_needed(tmp_path: Path) -> None:
    ns = nc.Namespace()
    ns.add_device("eth0", mac=MAC_IN, addresses=["10.0.0.1/24"], features=nc.Features(gro=False))
    ns.add_device("wan0", mtu=576)
    ns.routes.add("0.0.0.0/0", dev="wan0")
    frames = [frame("10.0.0.5", "198.51.100.7", size=1000, df=True)]
    out = tmp_path / "eth0.pcap"
    report = ns.replay(capture(tmp_path, frames), into="eth0", capture={"eth0": out})
    report.check()
    (err,) = read(out)
    icmp = Ether(err)[ICMP]
    assert (icmp.type, icmp.code, icmp.nexthopmtu) == (3, 4, 576)


def test_hooks_run_by_priority_and_verdicts_are_counted(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))
    order: list[str] = []

    @ns.hook("prerouting", priority=0)
    def filter_(b: nc.HookBatch) -> Any:
        order.append("filter")
        return np.where(b.dport == 23, nc.DROP, nc.ACCEPT)

    lent: list[bool] = []

    @ns.hook("prerouting", priority=-150)
    def mangle(b: nc.HookBatch) -> Any:
        order.append("mangle")
        # Untouched packets are lent from the capture's memory: the batch's data is the
        # capture window, record headers included, not a copy of the frames.
        lent.append(b.data.nbytes > int(b.caplen.sum()))
        return np.where(b.dport == 25, nc.STOLEN, nc.ACCEPT)

    frames = [frame("10.0.0.5", "198.51.100.7", dport=p) for p in (23, 25, 80, 23)]
    report = ns.replay(capture(tmp_path, frames), into="eth0")
    report.check()
    assert order == ["mangle", "filter"]
    assert lent == [True]
    assert report.dropped == {"NETFILTER_DROP": 2}
    assert report.stolen == {"prerouting/mangle": 1}
    assert report.transmitted == {"wan0": 1}
    assert report.hooks["prerouting/filter_"]["dropped"] == 2
    assert report.hooks["prerouting/mangle"]["calls"] == 1


def test_queue_consumer_verdict_is_reinjected(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))
    seen: list[int] = []

    @ns.hook("forward")
    def to_queue(b: nc.HookBatch) -> Any:
        return np.full(len(b), nc.queue(3))

    @ns.queue_consumer(3)
    def consumer(b: nc.HookBatch) -> Any:
        seen.extend(b.dport.tolist())
        return np.where(b.dport == 80, nc.ACCEPT, nc.DROP)

    frames = [frame("10.0.0.5", "198.51.100.7", dport=p) for p in (80, 81, 80)]
    report = ns.replay(capture(tmp_path, frames), into="eth0")
    report.check()
    assert sorted(seen) == [80, 80, 81]
    assert report.transmitted == {"wan0": 2}
    assert report.dropped == {"NETFILTER_DROP": 1}


def test_repeat_reruns_the_hook_and_is_bounded(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))
    calls = []

    @ns.hook("prerouting", per_packet=True)
    def twice(p: nc.HookPacket) -> int:
        calls.append(p.index)
        return nc.REPEAT if calls.count(p.index) < 2 else nc.ACCEPT

    @ns.hook("input", per_packet=True)
    def forever(p: nc.HookPacket) -> int:
        return nc.REPEAT

    frames = [frame("10.0.0.5", "198.51.100.7"), frame("10.0.0.5", "10.0.0.1")]
    report = ns.replay(capture(tmp_path, frames), into="eth0")
    report.check()
    assert calls == [0, 1, 0, 1]
    assert report.transmitted == {"wan0": 1}
    assert report.dropped == {"NETFILTER_DROP": 1}, "endless REPEAT ends in a drop"


@pytest.mark.parametrize("policy", ["drop", "accept"])
def test_hook_errors_follow_the_policy(tmp_path: Path, policy: nc.stack.OnError) -> None:
    ns = router(features=nc.Features(gro=False))

    @ns.hook("prerouting", per_packet=True, on_error=policy)
    def fails_on_odd(p: nc.HookPacket) -> int:
        if p.index % 2:
            raise ValueError("odd")
        return nc.ACCEPT

    frames = [frame("10.0.0.5", "198.51.100.7", sport=i) for i in range(6)]
    report = ns.replay(capture(tmp_path, frames), into="eth0")
    report.check()
    assert report.hooks["prerouting/fails_on_odd"]["errors"] == 3
    if policy == "drop":
        assert report.dropped == {"NETFILTER_DROP": 3}
        assert report.transmitted == {"wan0": 3}
    else:
        assert report.transmitted == {"wan0": 6}


def test_raise_policy_stops_the_run_naming_the_packet(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))

    @ns.hook("prerouting", per_packet=True, on_error="raise")
    def boom(p: nc.HookPacket) -> int:
        if p.index == 3:
            raise KeyError("no such flow")
        return nc.ACCEPT

    frames = [frame("10.0.0.5", "198.51.100.7", sport=i) for i in range(8)]
    with pytest.raises(nc.HookError) as info:
        ns.replay(capture(tmp_path, frames), into="eth0", batch_size=4)
    err = info.value
    assert err.index == 3 and err.hook == "boom"
    assert isinstance(err.__cause__, KeyError)
    assert err.report is not None
    partial = nc.RunReport.from_dict(err.report)
    partial.check()
    assert partial.unprocessed >= 1


def test_hooks_rewrite_and_mark(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))

    @ns.hook("prerouting", priority=-100)
    def dnat(b: nc.HookBatch) -> Any:
        b.rewrite(b.dport == 8080, dst="203.0.113.9", dport=80)
        b.set_mark(b.dport == 25, 7)
        return nc.ACCEPT

    ns.rules.add("forward", "meta mark 7 counter drop")
    frames = [frame("10.0.0.5", "198.51.100.7", dport=p) for p in (8080, 25, 443)]
    frames.append(frame("10.0.0.5", "198.51.100.7", dport=8080, udp=True))
    out = tmp_path / "wan0.pcap"
    report = ns.replay(capture(tmp_path, frames), into="eth0", capture={"wan0": out})
    report.check()
    assert report.dropped == {"NETFILTER_DROP": 1}
    sent = [Ether(f) for f in read(out)]
    rewritten = [p for p in sent if p[IP].dst == "203.0.113.9"]
    assert len(rewritten) == 2
    assert all((TCP in p and p[TCP].dport == 80) or p[UDP].dport == 80 for p in rewritten)
    assert all(checksums_ok(bytes(p)) for p in sent)
    assert report.rules["forward/rules1"][0][0] == 1


def test_native_rules_match_like_nft(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))
    ns.rules.add(
        "prerouting",
        "ip saddr 10.0.0.0/28 tcp dport {22, 80-90} counter drop\n"
        "ip6 daddr 2001:db8:ffff::/48 counter drop\n",
    )
    frames = [
        frame("10.0.0.5", "198.51.100.7", dport=22),
        frame("10.0.0.5", "198.51.100.7", dport=85),
        frame("10.0.0.5", "198.51.100.7", dport=91),
        frame("10.0.0.20", "198.51.100.7", dport=22),
        frame6("2001:db8::5", "2001:db8:ffff::9"),
    ]
    report = ns.replay(capture(tmp_path, frames), into="eth0")
    report.check()
    assert report.dropped == {"NETFILTER_DROP": 3}
    counts = report.rules["prerouting/rules1"]
    assert [c[0] for c in counts] == [2, 1]
    assert "ip saddr" in str(report)


def test_rule_syntax_errors_name_line_and_column() -> None:
    ns = router()
    with pytest.raises(nc.RuleError) as info:
        ns.rules.add("input", "ip saddr 10.0.0.0/8 accept\ntcp dport http drop\n")
    assert info.value.line == 2
    assert info.value.column >= 1


def test_hooks_can_be_removed_during_a_replay(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))
    calls = 0

    @ns.hook("prerouting")
    def once(b: nc.HookBatch) -> Any:
        nonlocal calls
        calls += 1
        ns.remove_hook("prerouting", "once")
        return nc.DROP

    frames = [frame("10.0.0.5", "198.51.100.7", sport=i) for i in range(12)]
    report = ns.replay(capture(tmp_path, frames), into="eth0", batch_size=4)
    report.check()
    assert calls == 1
    assert report.dropped == {"NETFILTER_DROP": 4}
    assert report.transmitted == {"wan0": 8}


def flows(n_flows: int, per_flow: int) -> list[bytes]:
    out = []
    for k in range(per_flow):
        for f in range(n_flows):
            out.append(
                frame(f"10.0.{f // 200}.{f % 200 + 2}", "198.51.100.7", sport=2000 + f, size=10 + k)
            )
    return out


def by_flow(frames: list[bytes]) -> dict[int, list[bytes]]:
    d: dict[int, list[bytes]] = {}
    for f in frames:
        d.setdefault(Ether(f)[TCP].sport, []).append(f)
    return d


@pytest.mark.parametrize("queues", [2, 4])
def test_queues_keep_per_flow_outputs_and_counters_add_up(tmp_path: Path, queues: int) -> None:
    path = capture(tmp_path, flows(24, 6))
    outs = {}
    for q in (1, queues):
        ns = nc.Namespace()
        ns.add_device("eth0", rx_queues=q, features=nc.Features(gro=False))
        ns.add_device("wan0")
        ns.routes.add("0.0.0.0/0", dev="wan0")
        out = tmp_path / f"out{q}.pcap"
        report = ns.replay(path, into="eth0", capture={"wan0": out}, batch_size=32)
        report.check()
        qs = report.devices["eth0"]["queues"]
        assert len(qs) == q
        assert sum(x["packets"] for x in qs) == report.entered == 144
        if q > 1:
            assert sum(1 for x in qs if x["packets"]) >= 2, "RSS spreads the flows"
        outs[q] = by_flow(read(out))
    assert outs[1] == outs[queues]


def test_multiqueue_captures_do_not_depend_on_thread_timing(tmp_path: Path) -> None:
    # Workers read, steer and poll concurrently; what each device sends is still written
    # batch by batch, queue by queue, so runs give the same file byte for byte.
    path = capture(tmp_path, flows(24, 6))
    files = []
    for run in range(3):
        ns = nc.Namespace()
        ns.add_device("eth0", rx_queues=3, features=nc.Features(gro=False))
        ns.add_device("wan0")
        ns.routes.add("0.0.0.0/0", dev="wan0")
        out = tmp_path / f"run{run}.pcap"
        ns.replay(path, into="eth0", capture={"wan0": out}, batch_size=8).check()
        files.append(out.read_bytes())
    assert files[0] == files[1] == files[2]
    assert len(read(tmp_path / "run0.pcap")) == 144


def test_raise_policy_with_several_queues_keeps_counts(tmp_path: Path) -> None:
    ns = nc.Namespace()
    ns.add_device("eth0", rx_queues=2, features=nc.Features(gro=False))
    ns.add_device("wan0")
    ns.routes.add("0.0.0.0/0", dev="wan0")

    @ns.hook("prerouting", on_error="raise")
    def boom(b: nc.HookBatch) -> Any:
        if (b.index >= 100).any():
            raise ValueError("late packet")
        return None

    out = tmp_path / "wan0.pcap"
    with pytest.raises(nc.HookError) as info:
        ns.replay(capture(tmp_path, flows(24, 6)), into="eth0", capture={"wan0": out}, batch_size=8)
    assert info.value.report is not None
    partial = nc.RunReport.from_dict(info.value.report)
    partial.check()
    # Every packet reported sent is in the capture.
    assert len(read(out)) == sum(partial.transmitted.values())


def test_gro_then_software_gso_at_egress(tmp_path: Path) -> None:
    # A bulk TCP flow: GRO merges on eth0; wan0 has no TSO so software GSO re-cuts it.
    seg = 1000
    frames = []
    for i in range(16):
        ip = IP(src="10.0.0.5", dst="198.51.100.7", id=100 + i, flags="DF")
        tcp = TCP(sport=4000, dport=80, flags="A", seq=1 + i * seg, ack=1)
        frames.append(bytes(Ether(src=MAC_PEER, dst=MAC_IN) / ip / tcp / Raw(bytes(seg))))
    ns = nc.Namespace()
    ns.add_device("eth0", mac=MAC_IN)
    ns.add_device("wan0", features=nc.Features(tso=False, tx_csum=False))
    ns.routes.add("0.0.0.0/0", dev="wan0")
    out = tmp_path / "wan0.pcap"
    report = ns.replay(capture(tmp_path, frames), into="eth0", capture={"wan0": out})
    report.check()
    gro = report.devices["eth0"]["gro"]
    assert gro["merged"] > 0
    assert report.devices["wan0"]["gso_segmented"] >= 1
    sent = read(out)
    assert len(sent) == 16
    assert [Ether(f)[TCP].seq for f in sent] == [1 + i * seg for i in range(16)]
    assert all(Ether(f)[IP].ttl == 63 and checksums_ok(f) for f in sent)


def test_send_enters_at_local_out(tmp_path: Path) -> None:
    ns = router()
    seen: list[int] = []

    @ns.hook("output")
    def local(b: nc.HookBatch) -> Any:
        seen.extend(b.iif.tolist())
        return nc.ACCEPT

    pkt = bytes(IP(src="192.0.2.1", dst="198.51.100.7") / UDP(sport=1, dport=2) / Raw(b"hi"))
    out = tmp_path / "wan0.pcap"
    report = ns.send([pkt], capture={"wan0": out})
    report.check()
    assert seen == [0]
    assert report.created == 1 and report.transmitted == {"wan0": 1}
    (f,) = read(out)
    assert Ether(f)[IP].ttl == 64 and checksums_ok(f)


def test_configuration_errors_are_clear() -> None:
    ns = router()
    with pytest.raises(nc.ConfigError, match="exists"):
        ns.add_device("eth0")
    with pytest.raises(nc.ConfigError, match="hook point"):
        ns.hook("sideways")(lambda b: None)
    with pytest.raises(nc.ConfigError, match="device"):
        ns.routes.add("10.1.0.0/16", dev="nope")
    with pytest.raises(nc.ConfigError, match="prefix"):
        ns.routes.add("10.1.0.0/33", dev="eth0")
    with pytest.raises(nc.ConfigError):
        ns.replay("x.pcap", into="nope")


def test_rules_jump_to_a_python_hook(tmp_path: Path) -> None:
    ns = router(features=nc.Features(gro=False))
    judged: list[int] = []

    @ns.hook("prerouting", jump_only=True)
    def inspect(b: nc.HookBatch) -> Any:
        judged.extend(b.dport.tolist())
        return np.where(b.dport == 8080, nc.DROP, nc.ACCEPT)

    ns.rules.add("prerouting", "tcp dport {80, 8080} jump inspect")
    frames = [frame("10.0.0.5", "198.51.100.7", dport=p) for p in (80, 8080, 443)]
    report = ns.replay(capture(tmp_path, frames), into="eth0")
    report.check()
    assert sorted(judged) == [80, 8080], "only what the rule sends there"
    assert report.dropped == {"NETFILTER_DROP": 1}
    assert report.transmitted == {"wan0": 2}


def test_napi_budgets_and_time_squeeze(tmp_path: Path) -> None:
    path = capture(tmp_path, flows(10, 40))
    ns = nc.Namespace()
    ns.add_device("eth0", budget=16, features=nc.Features(gro=False))
    ns.add_device("wan0")
    ns.routes.add("0.0.0.0/0", dev="wan0")
    ns.netdev_budget = 32
    report = ns.replay(path, into="eth0", batch_size=100)
    report.check()
    (q,) = report.devices["eth0"]["queues"]
    # 4 batches of 100: polls of 16 (6 full, one of 4) per batch.
    assert q["polls"] == 4 * 7 and q["budget_exhausted"] == 4 * 6
    assert q["time_squeeze"] == 4 * 3


def test_rps_spreads_one_queue_over_workers_and_xps_picks_tx_queues(tmp_path: Path) -> None:
    path = capture(tmp_path, flows(16, 5))
    ns = nc.Namespace()
    ns.add_device("eth0", rx_queues=1, rps_workers=2, features=nc.Features(gro=False))
    ns.add_device("wan0", tx_queues=4, xps={0: [3], 1: [1, 2]})
    ns.routes.add("0.0.0.0/0", dev="wan0")
    report = ns.replay(path, into="eth0")
    report.check()
    eth0, wan0 = report.devices["eth0"], report.devices["wan0"]
    assert [q["packets"] for q in eth0["queues"]] == [80], "one hardware queue"
    backlog = [b["packets"] for b in eth0["backlog"]]
    assert len(backlog) == 2 and sum(backlog) == 80 and min(backlog) > 0
    txq = wan0["tx_queues"]
    assert txq[0] == 0 and txq[3] == backlog[0] and txq[1] + txq[2] == backlog[1]


def test_forwarded_packets_keep_their_receive_queue_number_without_xps(tmp_path: Path) -> None:
    path = capture(tmp_path, flows(16, 5))
    ns = nc.Namespace()
    ns.add_device("eth0", rx_queues=4, features=nc.Features(gro=False))
    ns.add_device("wan0", tx_queues=2)
    ns.routes.add("0.0.0.0/0", dev="wan0")
    report = ns.replay(path, into="eth0")
    rxq = [q["packets"] for q in report.devices["eth0"]["queues"]]
    assert report.devices["wan0"]["tx_queues"] == [rxq[0] + rxq[2], rxq[1] + rxq[3]]


def test_hook_columns_the_stack_read_equal_a_fresh_dissection(tmp_path: Path) -> None:
    frames = [frame("10.0.0.5", "198.51.100.7", dport=p, udp=p % 2 == 1) for p in range(20, 30)]
    frames += [frame6("2001:db8::5", "2001:db8:ffff::9", dport=8443)]
    ns = router(features=nc.Features(gro=False))
    checked = []

    @ns.hook("forward")
    def compare(b: nc.HookBatch) -> Any:
        fresh = nc.Batch(b.raw)
        for name in ("ip_version", "l4proto", "src4", "dst4", "sport", "dport"):
            ours, theirs = getattr(b, name), getattr(fresh, name)
            assert ours.dtype == theirs.dtype and (ours == theirs).all(), name
        checked.append(len(b))
        return nc.ACCEPT

    report = ns.replay(capture(tmp_path, frames), into="eth0")
    report.check()
    assert sum(checked) == 11 and report.hooks["forward/compare"]["errors"] == 0


def test_full_rings_drop_like_a_nic_and_are_counted(tmp_path: Path) -> None:
    path = capture(tmp_path, flows(16, 8))
    ns = nc.Namespace()
    ns.add_device("eth0", rx_queues=2, features=nc.Features(gro=False))
    ns.add_device("wan0")
    ns.routes.add("0.0.0.0/0", dev="wan0")
    report = ns.replay(path, into="eth0", batch_size=128, ring_size=4, drop_on_full=True)
    report.check()
    drops = sum(q["drops"] for q in report.devices["eth0"]["queues"])
    assert drops == report.dropped.get("QUEUE_FULL", 0)
    assert drops > 0, "a 4-slot ring cannot take a 64-packet share of a batch at once"
    assert report.entered == 128 and report.transmitted["wan0"] == 128 - drops


def test_design_example_shape() -> None:
    ns = nc.Namespace()
    eth0 = ns.add_device("eth0", rx_queues=4, features=nc.Features(gro=True, rx_csum=True))
    wan = ns.add_device("wan0", mtu=1500, features=nc.Features(tso=False, tx_csum=False))
    ns.routes.add("0.0.0.0/0", dev="wan0")
    assert (eth0.ifindex, wan.ifindex, eth0.rx_queues) == (1, 2, 4)
    with pytest.raises(nc.ConfigError, match="rx_csum"):
        ns.add_device("bad0", features=nc.Features(rx_csum="maybe"))  # type: ignore[arg-type]


def test_packets_over_the_mtu_without_df_are_fragmented(tmp_path: Path) -> None:
    ns = nc.Namespace()
    ns.add_device("eth0", mac=MAC_IN, features=nc.Features(gro=False))
    ns.add_device("wan0", mtu=576)
    ns.routes.add("0.0.0.0/0", dev="wan0")
    frames = [frame("10.0.0.5", "198.51.100.7", size=1000)]
    out = tmp_path / "wan0.pcap"
    report = ns.replay(capture(tmp_path, frames), into="eth0", capture={"wan0": out})
    report.check()
    assert report.transmitted == {"wan0": 1}
    pieces = [Ether(f)[IP] for f in read(out)]
    assert len(pieces) == 2 and all(p.len <= 576 for p in pieces)
    assert pieces[0].flags == "MF" and pieces[1].frag > 0
    whole = b"".join(bytes(p.payload) for p in sorted(pieces, key=lambda p: p.frag))
    assert len(whole) == 20 + 1000 and all(p.ttl == 63 for p in pieces)
