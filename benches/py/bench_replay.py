"""Replaying a capture through a forwarding stack: what hooks, native rules and queues cost.

Every contender forwards the same generated IMIX capture from ``eth0`` to ``wan0`` (TTL
decremented, header checksum updated, frames written to a capture) in the same run:

- netcore with no hook; with a 100-rule native ruleset at PRE_ROUTING (no rule matches the
  traffic, so every packet walks every rule); with a numpy batch hook at batch 256 (hooks run
  once per NAPI poll, so the device's budget is 256 there and in its no-hook twin); with a
  per-packet Python hook;
- netcore with 1 and 2 receive queues (one worker thread each) and no hook;
- netcore with no hook writing what wan0 sends to a capture (the other rows count what is
  sent without writing it, so that file I/O does not blur the comparison);
- dpkt doing the same forwarding in a Python loop (parse, TTL, checksum, write), the usual way a
  Python user would.

Goals (issues): 100 rules ≤ 30% over no rules; a batch hook at batch 256 ≤ 15%; per-packet
hooks ≥ 1 M packets/s; 2 workers ≥ 1.8 times one worker on a 2-core machine. Ratios within one run
are the figure; absolute rates on a shared machine are noise.

Usage::

    python benches/py/bench_replay.py [--packets N] [--repeat R] [--json]
"""

from __future__ import annotations

import os

# numpy's OpenBLAS threads spin for a while after start-up; on a 2-core machine they would take
# time from the stack's workers. Nothing here uses BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import netcore as nc

sys.path.insert(0, str(Path(__file__).parent))
from gen_capture import default_path, generate


def ruleset(n: int) -> str:
    """``n`` rules that the generated traffic never matches (each packet walks all)."""
    lines = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            lines.append(f"ip saddr 192.0.{i % 256}.0/24 tcp dport {{22, {1000 + i}}} drop")
        elif kind == 1:
            lines.append(f"ip daddr 198.51.{i % 256}.0/24 udp dport {2000 + i}-{2010 + i} drop")
        elif kind == 2:
            lines.append(f"ip6 saddr 2001:db8:{i:x}::/48 tcp dport 23 counter drop")
        else:
            lines.append(f"meta mark {0xF000 + i} counter accept")
    return "\n".join(lines)


def namespace(queues: int = 1, budget: int = 64) -> nc.Namespace:
    ns = nc.Namespace()
    ns.add_device("eth0", rx_queues=queues, budget=budget, features=nc.Features(gro=False))
    ns.add_device("wan0", features=nc.Features(gro=False))
    ns.routes.add("0.0.0.0/0", dev="wan0")
    ns.routes.add("::/0", dev="wan0")
    return ns


def bench_netcore(path: Path, out: Path, rounds: int) -> dict[str, tuple[float, int]]:
    """Best time of each contender over ``rounds`` rounds; every round runs every contender
    once, in turn, so a change of load on the machine hits all of them alike."""
    cases: dict[str, tuple[nc.Namespace, bool]] = {}
    cases["no hook"] = (namespace(), False)
    ns = namespace()
    ns.rules.add("prerouting", ruleset(100))
    cases["100 native rules"] = (ns, False)

    # Hooks are called once per NAPI poll: a budget of 256 hands them 256 packets.
    ns = namespace(budget=256)

    @ns.hook("prerouting")
    def no_telnet(b: nc.HookBatch) -> Any:
        return np.where(b.dport == 23, nc.DROP, nc.ACCEPT)

    cases["numpy batch hook (batch 256)"] = (ns, False)
    cases["no hook (batch 256)"] = (namespace(budget=256), False)
    ns = namespace()

    @ns.hook("prerouting", per_packet=True)
    def accept(p: nc.HookPacket) -> int:
        return nc.ACCEPT

    cases["per-packet Python hook"] = (ns, False)
    cases["1 queue"] = (namespace(1), False)
    cases["2 queues"] = (namespace(2), False)
    cases["no hook, wan0 written to a capture"] = (namespace(), True)
    best: dict[str, tuple[float, int]] = {}
    for _ in range(rounds):
        for label, (ns, write) in cases.items():
            t0 = time.perf_counter()
            report = ns.replay(path, into="eth0", capture={"wan0": out} if write else None)
            t = time.perf_counter() - t0
            report.check()
            if label not in best or t < best[label][0]:
                best[label] = (t, report.entered)
    return best


def bench_dpkt(path: Path, out: Path, limit: int) -> tuple[float, int] | None:
    try:
        import dpkt
    except ImportError:
        return None
    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as f, open(out, "wb") as g:
        w = dpkt.pcap.Writer(g, nano=True)
        for ts, buf in dpkt.pcap.Reader(f):
            if n == limit:
                break
            n += 1
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if isinstance(ip, dpkt.ip.IP):
                if ip.ttl <= 1:
                    continue
                ip.ttl -= 1
                ip.sum = 0
                ip.sum = dpkt.in_cksum(ip.pack_hdr() + bytes(ip.opts))
            elif isinstance(ip, dpkt.ip6.IP6):
                if ip.hlim <= 1:
                    continue
                ip.hlim -= 1
            w.writepkt(bytes(eth), ts)
    return time.perf_counter() - t0, n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--packets", type=int, default=500_000)
    p.add_argument("--repeat", type=int, default=5, help="rounds; the best of each counts")
    p.add_argument("--dpkt-packets", type=int, default=100_000, help="0 skips dpkt")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    path = default_path(args.packets, "pcap", "imix")
    if not path.exists():
        generate(path, args.packets, fmt="pcap", mix="imix")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.pcap"
        res = bench_netcore(path, out, args.repeat)
        dp = bench_dpkt(path, out, args.dpkt_packets) if args.dpkt_packets else None
    rate = {k: n / t for k, (t, n) in res.items()}
    if dp:
        rate["dpkt forwarding loop"] = dp[1] / dp[0]
    base = rate["no hook"]
    ratios = {
        "100 rules cost over no rules": base / rate["100 native rules"] - 1,
        "batch hook cost at batch 256": rate["no hook (batch 256)"]
        / rate["numpy batch hook (batch 256)"]
        - 1,
        "per-packet hook Mpps": rate["per-packet Python hook"] / 1e6,
        "2 queues / 1 queue": rate["2 queues"] / rate["1 queue"],
    }
    if dp:
        ratios["netcore no hook / dpkt"] = base / rate["dpkt forwarding loop"]
    if args.json:
        print(json.dumps({"packets": args.packets, "mpps": rate, "ratios": ratios}, indent=2))
        return 0
    print(f"{args.packets:,} IMIX packets forwarded eth0 → wan0, best of {args.repeat} rounds")
    for k, v in rate.items():
        print(f"  {k:<34} {v / 1e6:8.2f} Mpps")
    print("figures (goals: ≤ 0.30, ≤ 0.15, ≥ 1.0, ≥ 1.8):")
    for k, v in ratios.items():
        print(f"  {k:<34} {v:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
