"""How fast netcore dissects a capture into header columns (and verifies every checksum) from
Python, against a native floor, dpkt and Scapy.

For each capture (generated IMIX, 64-byte and tunnel mixes, or the files given), in one run, on
the same file (dropped from the page cache and read back at the start, see
``bench_capture_read.refresh``, and read once more before every contender):

- ``floor (rust)``: ``benches/rust/src/bin/floor_5tuple.rs``, a plain loop over the memory-mapped
  pcap records that extracts every 5-tuple (Ethernet, VLAN tags, IPv4/IPv6 addresses, protocol,
  TCP/UDP ports; through one VXLAN, Geneve or GRE tunnel to the inner 5-tuple) and folds them
  into a checksum: the least work that gets the fields.
- ``floor+verify (rust)``: the same, verifying every IPv4 header, TCP and UDP checksum (with the
  pseudo-header, outer and inner) with the plain loop: 32-bit words into a 64-bit accumulator.
- ``floor+prefetch``, ``floor+verify+prefetch``: the same loops streaming the file into the cache
  4 KiB ahead of the record being read (information, not a goal: the plain loop waits for a
  cache miss per record, which the verifying loop, reading every byte, hides).
- ``rust dissect[+verify]``: the core alone, no Python: ``demux::read_dissected`` in batches,
  which dissects (and verifies) each packet as its record is read, as the Python loop below
  does (information: the difference to the Python rows is the binding's cost).
- ``netcore (python)``: ``for b in netcore.open(path, batch_size=n)``, touching ``b.sport`` and
  ``b.layers`` (every header column is computed at once, in Rust: for the first batch on first
  use, for the next ones as their records are read, since the loop used the previous one's).
- ``netcore+verify (python)``: the same touching ``b.csum`` too (every checksum verified).
- ``dpkt``: ``dpkt.pcap.Reader``, then per packet ``dpkt.ethernet.Ethernet(buf)``, the IP or IPv6
  layer, its addresses and protocol, the TCP/UDP ports; VXLAN and Geneve (which dpkt does not
  decode) by hand, GRE as dpkt decodes it, to the inner 5-tuple. On the first
  ``--dpkt-packets`` packets, scaled to packets per second.
- ``dpkt+verify``: dpkt's own way to compute a checksum is to serialise with the field zeroed:
  per IP layer (outer, inner), the IPv4 header sum and the TCP/UDP sum are saved and zeroed and
  ``bytes(ip)`` recomputes them (IPv4 header, then TCP/UDP with the pseudo-header; IPv6: the
  TCP/UDP sum); each is compared with the saved value.
- ``scapy`` / ``scapy+verify``: ``scapy.utils.RawPcapReader``, then ``Ether(buf)`` and the same
  fields through the layers Scapy dissected (VXLAN, Geneve from ``scapy.contrib.geneve``, GRE).
  Scapy has no checksum check either; its way is to delete the ``chksum`` fields (every IPv4,
  TCP and UDP layer walked) and rebuild: ``bytes(pkt)`` recomputes them, and a packet whose bytes
  come back different counts one bad checksum. On the first ``--scapy-packets`` packets.

Each contender runs ``--repeat`` times (dpkt and Scapy at most 3) and the best run counts.
Every contender's counts (5-tuples, sum of ports, checksums verified, bad ones) are checked
against netcore's on the same packets, so that all do the same work.

Goals (from the issue): parse + demux into batch columns at least 0.5x the floor, 200x dpkt
and 3,000x Scapy; verifying every checksum at least as fast as the plain 64-bit-accumulator loop
(netcore+verify from Python at least 1.0x floor+verify). The verification step alone is printed
too: what verifying adds to netcore's pass (``rust dissect+verify`` minus ``rust dissect``, same
batch size) against what it adds to the floor (``floor+verify+prefetch`` minus
``floor+prefetch``).

Usage::

    python benches/py/bench_dissect.py [PATH ...] [--captures imix,64,tunnel] [--packets N]
        [--batch-sizes 4096,65536] [--repeat 5] [--dpkt-packets 100000] [--scapy-packets 5000]
        [--check] [--json]

Without PATH the captures are ``benches/py/data/<mix>-<packets>.pcap``, generated if missing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import bench_capture_read as bcr
import gen_capture
import netcore

ROOT = Path(__file__).resolve().parents[2]
GOAL_FLOOR = 0.5
GOAL_DPKT = 200.0
GOAL_SCAPY = 3000.0
GOAL_VERIFY = 1.0
#: An extension larger than this is a debug build (release: about 5 MiB, debug: 4x that).
DEBUG_SO_BYTES = 10 << 20
VXLAN_PORT, GENEVE_PORT = gen_capture.VXLAN_PORT, gen_capture.GENEVE_PORT


@dataclass
class Counts:
    """What a pass saw; equal between contenders that did the same work."""

    packets: int = 0
    tuples: int = 0
    """TCP/UDP 5-tuples extracted (outer, and the inner packet of a tunnel)."""
    port_sum: int = 0
    """Sum of their source and destination ports."""
    csums: int = 0
    """Checksums verified (verify variants)."""
    csums_bad: int = 0

    def add(self, other: Counts) -> None:
        self.packets += other.packets
        self.tuples += other.tuples
        self.port_sum += other.port_sum
        self.csums += other.csums
        self.csums_bad += other.csums_bad


@dataclass
class Result:
    """The best of several runs of one contender."""

    name: str
    verify: bool
    packets: int
    """Packets per run (dpkt, Scapy: the prefix measured)."""
    seconds: float
    runs: list[float] = field(default_factory=list)
    batch: int | None = None
    note: str = ""

    @property
    def pps(self) -> float:
        return self.packets / self.seconds if self.seconds > 0 else float("inf")


# --- native contenders ----------------------------------------------------------------------


def build_bins(skip: bool) -> None:
    """Builds ``floor_5tuple`` (quick when it is up to date)."""
    if skip:
        return
    cmd = ["cargo", "build", "--release", "-q", "-p", "netcore-benches", "--bin", "floor_5tuple"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode == 0:
        return
    sys.stderr.write(done.stderr)
    exe = bcr.target_dir() / "release" / "floor_5tuple"
    if not exe.exists():
        raise SystemExit(f"building the native contenders failed: {' '.join(cmd)}")
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(exe.stat().st_mtime))
    print(
        f"warning: the build failed; using floor_5tuple built at {built}, which may not match "
        "the current sources",
        file=sys.stderr,
    )


def run_floor(path: Path, repeat: int, *extra: str) -> tuple[Result, Counts]:
    exe = bcr.target_dir() / "release" / "floor_5tuple"
    if not exe.exists():
        raise SystemExit(f"{exe} is missing: run without --no-build, or cargo build it")
    bcr.warm(path)
    out = subprocess.run(
        [str(exe), str(path), "--repeat", str(repeat), *extra],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rep: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    names = {
        "floor_5tuple": "floor (rust)",
        "floor_5tuple_verify": "floor+verify (rust)",
        "floor_5tuple_prefetch": "floor+prefetch (rust)",
        "floor_5tuple_verify_prefetch": "floor+verify+prefetch",
        "netcore_dissect": "rust dissect",
        "netcore_dissect_verify": "rust dissect+verify",
    }
    runs = [ns / 1e9 for ns in rep["runs_ns"]]
    verify = "--verify" in extra
    note = ""
    counts = Counts(
        int(rep["packets"]),
        int(rep["tuples"]),
        int(rep["port_sum"]),
        int(rep["csums"]),
        int(rep["csums_bad"]),
    )
    r = Result(names[rep["tool"]], verify, counts.packets, min(runs), runs, rep.get("batch"), note)
    return r, counts


# --- netcore from Python --------------------------------------------------------------------


def batch_counts(b: netcore.Batch, verify: bool, rows: int | None = None) -> Counts:
    """The counts of a dissected batch (its first ``rows`` packets)."""
    sl = slice(None, rows)
    outer = np.isin(b.l4proto[sl], (6, 17)) & (b.frag[sl] < 2)
    inner = np.isin(b.inner_l4proto[sl], (6, 17))
    ports = np.where(outer, b.sport[sl].astype(np.int64) + b.dport[sl], 0)
    ports += np.where(inner, b.inner_sport[sl].astype(np.int64) + b.inner_dport[sl], 0)
    c = Counts(len(outer), int(outer.sum() + inner.sum()), int(ports.sum()))
    if verify:
        csum = b.csum[sl]
        c.csums = int((csum != 0).sum())
        c.csums_bad = int((csum > 1).sum())
    return c


def netcore_counts(path: Path, prefixes: list[int]) -> tuple[Counts, dict[int, Counts]]:
    """netcore's counts over the whole file and over its first ``prefixes`` packets (untimed)."""
    total = Counts()
    pre = {n: Counts() for n in prefixes if n > 0}
    for b in netcore.open(path, batch_size=65536):
        for n, c in pre.items():
            if c.packets < n:
                c.add(batch_counts(b, True, n - c.packets))
        total.add(batch_counts(b, True))
    return total, pre


def bench_netcore(path: Path, batch: int, verify: bool, repeat: int) -> Result:
    def run() -> tuple[int, int]:
        n = 0
        for b in netcore.open(path, batch_size=batch):
            # Each access hands out a numpy array over the batch's columns, dissected (and
            # verified) in Rust on the first access.
            if verify:
                b.sport, b.layers, b.csum  # noqa: B018
            else:
                b.sport, b.layers  # noqa: B018
            n += len(b)
        return n, 0

    times, packets, _ = bcr.best_of(repeat, path, run)
    name = "netcore+verify (python)" if verify else "netcore (python)"
    return Result(name, verify, packets, min(times), times, batch)


# --- dpkt -----------------------------------------------------------------------------------


def dpkt_walker(verify: bool) -> Callable[[bytes, Counts], None]:
    """Per-packet work with dpkt: the 5-tuples, and with ``verify`` every checksum."""
    from dpkt.ethernet import Ethernet
    from dpkt.gre import GRE
    from dpkt.ip import IP
    from dpkt.ip6 import IP6
    from dpkt.tcp import TCP
    from dpkt.udp import UDP

    ip_types = (IP, IP6)
    l4_types = (TCP, UDP)

    def check(ip: Any, c: Counts) -> None:
        # dpkt's way: a zero sum is recomputed when the packet is serialised.
        l4 = ip.data
        v4 = isinstance(ip, IP)
        want_ip = ip.sum if v4 else None
        want_l4 = l4.sum if isinstance(l4, l4_types) else None
        if v4:
            ip.sum = 0
        if want_l4 is not None:
            l4.sum = 0
        bytes(ip)
        if v4:
            c.csums += 1
            c.csums_bad += ip.sum != want_ip
        if want_l4 is not None:
            c.csums += 1
            c.csums_bad += l4.sum != want_l4

    def walk(buf: bytes, c: Counts) -> None:
        c.packets += 1
        ip = Ethernet(buf).data
        checks = []
        for depth in (0, 1):
            if not isinstance(ip, ip_types):
                break
            _src, _dst, proto = ip.src, ip.dst, ip.p
            l4 = ip.data
            transport = isinstance(l4, l4_types)
            if verify and (transport or (proto == 47 and isinstance(ip, IP))):
                checks.append(ip)
            if transport:
                c.tuples += 1
                c.port_sum += l4.sport + l4.dport
                if depth or proto != 17 or l4.dport not in (VXLAN_PORT, GENEVE_PORT):
                    break
                # dpkt does not decode VXLAN nor Geneve: skip their headers by hand.
                d = l4.data
                if l4.dport == VXLAN_PORT:
                    ip = Ethernet(d[8:]).data
                elif d[2:4] == b"\x65\x58":
                    ip = Ethernet(d[8 + (d[0] & 0x3F) * 4 :]).data
                else:
                    break
            elif isinstance(l4, GRE) and depth == 0:
                inner = l4.data
                ip = inner.data if isinstance(inner, Ethernet) else inner
            else:
                break
        for x in reversed(checks):
            check(x, c)

    return walk


def bench_dpkt(path: Path, limit: int, verify: bool, repeat: int) -> tuple[Result, Counts] | None:
    try:
        import dpkt
    except ImportError:
        return None
    walk = dpkt_walker(verify)
    counts = Counts()

    def run() -> tuple[int, int]:
        nonlocal counts
        counts = Counts()
        with path.open("rb") as f:
            for _ts, buf in dpkt.pcap.Reader(f):
                walk(buf, counts)
                if counts.packets >= limit:
                    break
        return counts.packets, 0

    times, packets, _ = bcr.best_of(repeat, path, run)
    note = f"first {packets:,} packets, scaled" if packets >= limit else "whole file"
    name = "dpkt+verify" if verify else "dpkt"
    return Result(name, verify, packets, min(times), times, None, note), counts


# --- Scapy ----------------------------------------------------------------------------------


def scapy_walker(verify: bool) -> Callable[[bytes, Counts], None]:
    """Per-packet work with Scapy: the 5-tuples, and with ``verify`` every checksum."""
    logging.getLogger("scapy").setLevel(logging.ERROR)
    from scapy.contrib.geneve import GENEVE
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import GRE, Dot1Q, Ether
    from scapy.layers.vxlan import VXLAN

    ip_types = (IP, IPv6)
    l4_types = (TCP, UDP)

    def walk(buf: bytes, c: Counts) -> None:
        c.packets += 1
        pkt = Ether(buf)
        layer = pkt.payload
        while isinstance(layer, Dot1Q):
            layer = layer.payload
        summed: list[Any] = []
        for depth in (0, 1):
            if not isinstance(layer, ip_types):
                break
            v4 = isinstance(layer, IP)
            _src, _dst = layer.src, layer.dst
            proto = layer.proto if v4 else layer.nh
            l4 = layer.payload
            if verify and v4 and (proto == 47 or isinstance(l4, l4_types)):
                summed.append(layer)
            if isinstance(l4, l4_types):
                c.tuples += 1
                c.port_sum += l4.sport + l4.dport
                if verify:
                    summed.append(l4)
                if depth or proto != 17 or l4.dport not in (VXLAN_PORT, GENEVE_PORT):
                    break
                inner = l4.payload
                if not isinstance(inner, VXLAN | GENEVE):
                    break
                layer = inner.payload
            elif isinstance(l4, GRE) and depth == 0:
                layer = l4.payload
            else:
                break
            if isinstance(layer, Ether):
                layer = layer.payload
        if summed:
            for x in summed:
                del x.chksum
            c.csums += len(summed)
            c.csums_bad += bytes(pkt) != buf

    return walk


def bench_scapy(path: Path, limit: int, verify: bool, repeat: int) -> tuple[Result, Counts] | None:
    try:
        from scapy.utils import RawPcapReader
    except ImportError:
        return None
    walk = scapy_walker(verify)
    counts = Counts()

    def run() -> tuple[int, int]:
        nonlocal counts
        counts = Counts()
        with RawPcapReader(str(path)) as reader:
            for buf, _meta in reader:
                walk(buf, counts)
                if counts.packets >= limit:
                    break
        return counts.packets, 0

    times, packets, _ = bcr.best_of(repeat, path, run)
    note = f"first {packets:,} packets, scaled" if packets >= limit else "whole file"
    name = "scapy+verify" if verify else "scapy"
    return Result(name, verify, packets, min(times), times, None, note), counts


# --- one capture ----------------------------------------------------------------------------


def agree(name: str, got: Counts, want: Counts, verify: bool, problems: list[str]) -> None:
    """Notes when a contender's counts differ from netcore's on the same packets."""
    fields = ["packets", "tuples", "port_sum"] + (["csums", "csums_bad"] if verify else [])
    diff = {k: (getattr(got, k), getattr(want, k)) for k in fields}
    diff = {k: v for k, v in diff.items() if v[0] != v[1]}
    if diff:
        problems.append(
            f"{name} disagrees with netcore: "
            + ", ".join(f"{k} {a:,} vs {b:,}" for k, (a, b) in diff.items())
        )


def measure(path: Path, label: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every contender on ``path``; returns results, ratios and goals."""
    if not args.no_refresh:
        bcr.refresh(path)
    huge = bcr.file_huge_pages_mib()
    problems: list[str] = []
    results: list[Result] = []
    want, prefix = netcore_counts(path, [args.dpkt_packets, args.scapy_packets])
    if want.csums_bad:
        problems.append(f"netcore finds {want.csums_bad:,} bad checksums in the capture")

    floor, fc = run_floor(path, args.repeat)
    agree("floor", fc, want, False, problems)
    floor_v, fvc = run_floor(path, args.repeat, "--verify")
    agree("floor+verify", fvc, want, True, problems)
    results += [floor, floor_v]
    pre = {}
    for verify in (False, True):
        extra = ["--prefetch", str(bcr.PREFETCH_BYTES)] + (["--verify"] if verify else [])
        r, rc = run_floor(path, args.repeat, *extra)
        agree(r.name, rc, want, verify, problems)
        pre[verify] = r
        results.append(r)
    for verify in (False, True):
        for bs in args.batch_sizes:
            extra = ["--netcore", "--batch", str(bs)] + (["--verify"] if verify else [])
            r, rc = run_floor(path, args.repeat, *extra)
            agree(r.name, rc, want, verify, problems)
            results.append(r)
    nc: dict[bool, list[Result]] = {False: [], True: []}
    for verify in (False, True):
        for bs in args.batch_sizes:
            r = bench_netcore(path, bs, verify, args.repeat)
            if r.packets != want.packets:
                problems.append(f"{r.name} read {r.packets:,} packets, expected {want.packets:,}")
            nc[verify].append(r)
            results.append(r)
    slow_repeat = max(1, min(args.repeat, 3))
    others: dict[str, Result] = {}
    for lib, limit, bench in (
        ("dpkt", args.dpkt_packets, bench_dpkt),
        ("scapy", args.scapy_packets, bench_scapy),
    ):
        if limit <= 0:
            continue
        for verify in (False, True):
            got = bench(path, limit, verify, slow_repeat)
            if got is None:
                problems.append(f"{lib} is not installed")
                break
            r, rc = got
            agree(r.name, rc, prefix[limit], verify, problems)
            others[r.name] = r
            results.append(r)

    best = max(nc[False], key=lambda r: r.pps)
    best_v = max(nc[True], key=lambda r: r.pps)

    # The verification step alone: what verifying adds to netcore's one pass (at the batch size
    # where it adds least) against what it adds to the floor (both streaming loops, so that the
    # plain floor's cache misses do not skew it).
    rust_ns = {
        (r.verify, r.batch): r.seconds / r.packets * 1e9
        for r in results
        if r.name.startswith("rust ")
    }
    step = max(
        0.0,
        min(
            (rust_ns[True, bs] - rust_ns[False, bs] for bs in args.batch_sizes),
            default=0.0,
        ),
    )
    plain = max(0.0, (pre[True].seconds - pre[False].seconds) / floor.packets * 1e9)

    def ratio(a: Result, b: Result | None) -> float | None:
        return None if b is None else a.pps / b.pps

    ratios: dict[str, float | None] = {
        "netcore_vs_floor": ratio(best, floor),
        "netcore_vs_floor_prefetch": ratio(best, pre[False]),
        "netcore_vs_dpkt": ratio(best, others.get("dpkt")),
        "netcore_vs_scapy": ratio(best, others.get("scapy")),
        "netcore_verify_vs_floor_verify": ratio(best_v, floor_v),
        "netcore_verify_vs_floor_verify_prefetch": ratio(best_v, pre[True]),
        "netcore_verify_vs_dpkt_verify": ratio(best_v, others.get("dpkt+verify")),
        "netcore_verify_vs_scapy_verify": ratio(best_v, others.get("scapy+verify")),
        "verify_cost_netcore_ns_per_pkt": (best_v.seconds / best_v.packets) * 1e9
        - (best.seconds / best.packets) * 1e9,
        "verify_cost_floor_ns_per_pkt": (floor_v.seconds - floor.seconds) / floor.packets * 1e9,
        "verify_step_ns_per_pkt": step,
        "verify_step_vs_plain_loop": plain / step if step > 0 else None,
        "verify_cost_floor_prefetch_ns_per_pkt": (pre[True].seconds - pre[False].seconds)
        / floor.packets
        * 1e9,
    }
    # Extra time of the Python loop over the same work in Rust, per batch size.
    rust = {(r.verify, r.batch): r for r in results if r.name.startswith("rust ")}
    binding = {
        ("verify" if verify else "plain"): {
            str(r.batch): r.seconds / rust[verify, r.batch].seconds - 1 for r in nc[verify]
        }
        for verify in (False, True)
    }

    def goal(value: float | None, target: float) -> bool | None:
        return None if value is None else value >= target

    goals = {
        f"parse+demux >= {GOAL_FLOOR}x floor": goal(ratios["netcore_vs_floor"], GOAL_FLOOR),
        f"parse+demux >= {GOAL_DPKT:g}x dpkt": goal(ratios["netcore_vs_dpkt"], GOAL_DPKT),
        f"parse+demux >= {GOAL_SCAPY:,g}x Scapy": goal(ratios["netcore_vs_scapy"], GOAL_SCAPY),
        f"verify >= {GOAL_VERIFY}x plain 64-bit loop (floor+verify)": goal(
            ratios["netcore_verify_vs_floor_verify"], GOAL_VERIFY
        ),
    }
    return {
        "capture": label,
        "file": {
            "path": str(path),
            "bytes": path.stat().st_size,
            "packets": want.packets,
            "tuples": want.tuples,
            "checksums": want.csums,
            "page_cache_huge_mib": huge,
        },
        "best_netcore_batch": best.batch,
        "best_netcore_verify_batch": best_v.batch,
        "results": [asdict(r) | {"pps": r.pps} for r in results],
        "ratios": ratios,
        "binding_overhead": binding,
        "goals": goals,
        "problems": problems,
        "_results": results,
        "_floor": floor,
        "_floor_v": floor_v,
    }


# --- output ---------------------------------------------------------------------------------


def fmt_ratio(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.0f}" if x >= 100 else f"{x:.{digits}f}"


def table(m: dict[str, Any]) -> str:
    f = m["file"]
    floor: Result = m["_floor"]
    floor_v: Result = m["_floor_v"]
    lines = [
        f"{m['capture']}: {f['path']}, {f['packets']:,} packets, {f['bytes'] / 2**20:,.0f} MiB, "
        f"{f['tuples']:,} 5-tuples, {f['checksums']:,} checksums"
        + (
            ""
            if f["page_cache_huge_mib"] is None
            else f"; page cache in huge pages: {f['page_cache_huge_mib']:,.0f} MiB"
        ),
        f"{'contender':<26}{'batch':>7}{'packets':>12}{'best s':>10}{'Mpkt/s':>10}"
        f"{'x floor':>9}  note",
    ]
    for r in m["_results"]:
        ref = floor_v if r.verify else floor
        lines.append(
            f"{r.name:<26}{r.batch or '':>7}{r.packets:>12,}{r.seconds:>10.4f}"
            f"{r.pps / 1e6:>10.3f}{r.pps / ref.pps:>9.3f}  {r.note}"
        )
    lines.append("(x floor: verify rows against floor+verify)")
    r = m["ratios"]
    lines.append(
        f"parse+demux (netcore, batch {m['best_netcore_batch']}): "
        f"{fmt_ratio(r['netcore_vs_floor'])}x floor "
        f"({fmt_ratio(r['netcore_vs_floor_prefetch'])}x floor+prefetch), "
        f"{fmt_ratio(r['netcore_vs_dpkt'])}x dpkt, "
        f"{fmt_ratio(r['netcore_vs_scapy'])}x Scapy"
    )
    lines.append(
        f"+verify (netcore, batch {m['best_netcore_verify_batch']}): "
        f"{fmt_ratio(r['netcore_verify_vs_floor_verify'])}x floor+verify (plain 64-bit loop; "
        f"{fmt_ratio(r['netcore_verify_vs_floor_verify_prefetch'])}x with prefetch), "
        f"{fmt_ratio(r['netcore_verify_vs_dpkt_verify'])}x dpkt+verify, "
        f"{fmt_ratio(r['netcore_verify_vs_scapy_verify'])}x scapy+verify; verifying costs "
        f"{r['verify_cost_netcore_ns_per_pkt']:.1f} ns/packet in netcore, "
        f"{r['verify_cost_floor_ns_per_pkt']:.1f} in the floor "
        f"({r['verify_cost_floor_prefetch_ns_per_pkt']:.1f} with prefetch)"
    )
    lines.append(
        f"the verification step alone: {r['verify_step_ns_per_pkt']:.1f} ns/packet in netcore, "
        f"the plain loop {r['verify_cost_floor_prefetch_ns_per_pkt']:.1f} "
        f"(floor+verify+prefetch - floor+prefetch): "
        f"{fmt_ratio(r['verify_step_vs_plain_loop'])}x"
    )
    for goal, ok in m["goals"].items():
        verdict = "n/a (not measured)" if ok is None else ("met" if ok else "NOT met")
        lines.append(f"goal {goal}: {verdict}")
    for p in m["problems"]:
        lines.append(f"PROBLEM: {p}")
    return "\n".join(lines)


def summary(measured: list[dict[str, Any]]) -> str:
    """Packets per second of each contender (best batch) per capture, and the ratios."""
    names: list[str] = []
    for m in measured:
        for r in m["_results"]:
            if r.name not in names:
                names.append(r.name)
    caps = [m["capture"] for m in measured]
    width = max(12, *(len(c) + 2 for c in caps))
    lines = [f"{'Mpkt/s':<26}" + "".join(f"{c:>{width}}" for c in caps)]
    for n in names:
        row = f"{n:<26}"
        for m in measured:
            best = max((r.pps for r in m["_results"] if r.name == n), default=None)
            row += f"{'-' if best is None else f'{best / 1e6:.3f}':>{width}}"
        lines.append(row)
    for key, label in (
        ("netcore_vs_floor", "netcore / floor"),
        ("netcore_vs_floor_prefetch", "netcore / floor+prefetch"),
        ("netcore_vs_dpkt", "netcore / dpkt"),
        ("netcore_vs_scapy", "netcore / Scapy"),
        ("netcore_verify_vs_floor_verify", "verify / plain loop"),
        ("verify_step_vs_plain_loop", "verify step / plain loop"),
        ("netcore_verify_vs_dpkt_verify", "verify / dpkt+verify"),
        ("netcore_verify_vs_scapy_verify", "verify / scapy+verify"),
    ):
        lines.append(
            f"{label:<26}" + "".join(f"{fmt_ratio(m['ratios'][key]):>{width}}" for m in measured)
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    info = bcr.machine()
    info["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    try:
        import scapy

        info["scapy"] = str(scapy.VERSION)
    except ImportError:
        info["scapy"] = None
    so = Path(netcore._netcore.__file__ or "?")
    info["extension_debug_build"] = so.exists() and so.stat().st_size > DEBUG_SO_BYTES
    return info


def captures(args: argparse.Namespace) -> Iterator[tuple[Path, str]]:
    if args.paths:
        for p in args.paths:
            with p.open("rb") as fh:
                magic = struct.unpack("<I", fh.read(4) or b"\0\0\0\0")[0]
            if magic not in (0xA1B2C3D4, 0xA1B23C4D, 0xD4C3B2A1, 0x4D3CB2A1):
                raise SystemExit(f"{p}: the floor reads classic pcap only")
            yield p, p.name
        return
    for mix in args.captures:
        path = gen_capture.default_path(args.packets, "pcap", mix)
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            gen_capture.generate(path, args.packets, fmt="pcap", mix=mix)
        yield path, mix


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("paths", nargs="*", type=Path, help="pcap files (default: generated)")
    p.add_argument(
        "--captures",
        default="imix,64,tunnel",
        help="comma-separated generated mixes (default imix,64,tunnel)",
    )
    p.add_argument("--packets", type=int, default=2_000_000, help="size of generated captures")
    p.add_argument(
        "--batch-sizes", default="4096,65536", help="comma-separated netcore batch sizes"
    )
    p.add_argument("--repeat", type=int, default=5, help="runs per contender; the best counts")
    p.add_argument("--dpkt-packets", type=int, default=100_000, help="0 skips dpkt")
    p.add_argument("--scapy-packets", type=int, default=5_000, help="0 skips Scapy")
    p.add_argument("--no-build", action="store_true", help="do not cargo build floor_5tuple")
    p.add_argument(
        "--no-refresh",
        action="store_true",
        help="keep the page cache as it is (default: drop each file from it and read it back)",
    )
    p.add_argument("--check", action="store_true", help="exit 1 when a goal is not met")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = p.parse_args(argv)
    try:
        args.batch_sizes = [int(x) for x in args.batch_sizes.split(",") if x.strip()]
    except ValueError:
        p.error(f"--batch-sizes must be comma-separated integers, not {args.batch_sizes!r}")
    args.captures = [c.strip() for c in args.captures.split(",") if c.strip()]
    unknown = [c for c in args.captures if c not in gen_capture.MIXES]
    if unknown:
        p.error(f"unknown mixes {unknown}: use {sorted(gen_capture.MIXES)}")
    if not args.batch_sizes or min(args.batch_sizes) < 1 or args.repeat < 1:
        p.error("--batch-sizes needs positive sizes and --repeat at least 1")

    info = machine()
    if info["extension_debug_build"]:
        print(
            f"WARNING: {info['extension']} looks like a DEBUG build (over "
            f"{DEBUG_SO_BYTES >> 20} MiB): the netcore figures are meaningless. Rebuild with "
            "`maturin develop --release -q`.",
            file=sys.stderr,
        )
    build_bins(args.no_build)
    measured = [measure(path, label, args) for path, label in captures(args)]
    info["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        clean = [{k: v for k, v in m.items() if not k.startswith("_")} for m in measured]
        print(json.dumps({"machine": info, "runs": clean}, indent=2))
    else:
        print(
            f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; "
            f"{info['os']}; Python {info['python']}, numpy {info['numpy']}, "
            f"netcore {info['netcore']}, dpkt {info['dpkt']}, scapy {info['scapy']}"
        )
        print(f"extension: {info['extension']}")
        print(
            f"load average (1, 5, 15 min): {info['load_avg']} at the start, "
            f"{info['load_avg_end']} at the end"
        )
        if info["extension_debug_build"]:
            print("WARNING: DEBUG build of the extension: the netcore figures are meaningless")
        if info["load_avg"][0] > 0.5:
            print(
                "warning: other processes share the machine (load average above 0.5): expect "
                "noisy numbers"
            )
        for m in measured:
            print()
            print(table(m))
        print()
        print(summary(measured))
    failed = any(ok is False for m in measured for ok in m["goals"].values())
    problems = any(m["problems"] for m in measured)
    return 1 if args.check and (failed or problems) else 0


if __name__ == "__main__":
    sys.exit(main())
