"""The ``netcore`` command: ``info``, ``convert`` and ``run`` over capture files.

Every command takes ``--json``. Errors are one line on stderr and a non-zero exit code:
1 for a bad capture or I/O error, 2 for bad usage, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import netcore
from netcore.capture import Capture, CaptureInfo, Writer
from netcore.cli.progress import Progress
from netcore.exceptions import NetcoreError
from netcore.synth import SAMPLE_PATH

__all__ = ["main"]


def _iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    sec, ns = divmod(ts, 1_000_000_000)
    try:
        base = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return f"{ts} ns"
    return f"{base}.{ns:09d}Z"


def _read(cap: Capture, label: str, each: Callable[[netcore.Batch], None] | None = None) -> None:
    """Reads a capture to the end with a progress bar, calling ``each`` per batch."""
    info = cap.info
    total = info.size if not info.compressed else None
    with Progress(total, label) as bar:
        for batch in cap:
            if each is not None:
                each(batch)
            bar.update(cap._reader.info()["position"], cap._reader.info()["packets"])


def _info_dict(info: CaptureInfo) -> dict[str, Any]:
    return {
        "file": info.source,
        "format": info.format,
        "version": "{}.{}".format(*info.version),
        "byte_order": "big-endian" if info.big_endian else "little-endian",
        "compressed": info.compressed,
        "size": info.size,
        "sections": info.sections,
        "interfaces": [
            {
                "index": n,
                "linktype": i.linktype,
                "linktype_name": i.linktype_name,
                "snaplen": i.snaplen,
                "tsresol": i.tsresol_text,
                "name": i.name,
                "description": i.description,
                "section": i.section,
            }
            for n, i in enumerate(info.interfaces)
        ],
        "linktypes": sorted({i.linktype for i in info.interfaces}),
        "packets": info.packets,
        "bytes": info.caplen_bytes,
        "wire_bytes": info.wire_bytes,
        "first_ts": info.first_ts,
        "last_ts": info.last_ts,
        "first_time": _iso(info.first_ts),
        "last_time": _iso(info.last_ts),
        "duration_s": (info.last_ts - info.first_ts) / 1e9
        if info.first_ts is not None and info.last_ts is not None
        else None,
        "truncated_packets": info.truncated_packets,
        "empty_packets": info.empty_packets,
        "odd_timestamps": info.odd_timestamps,
        "other_blocks": {f"{k:#x}": v for k, v in info.other_blocks.items()},
        "problems": [
            {
                "offset": p.offset,
                "message": p.message,
                "skipped_bytes": p.skipped_bytes,
                "skipped_records": p.skipped_records,
            }
            for p in info.problems
        ],
    }


def _print_info(d: dict[str, Any]) -> None:
    print(f"file:        {d['file']}")
    comp = ", gzip" if d["compressed"] else ""
    print(f"format:      {d['format']} {d['version']} ({d['byte_order']}{comp})")
    if d["size"] is not None:
        print(f"size:        {d['size']:,} bytes")
    if d["sections"] > 1:
        print(f"sections:    {d['sections']}")
    print(f"interfaces:  {len(d['interfaces'])}")
    for i in d["interfaces"]:
        name = f" {i['name']}" if i["name"] else ""
        lt = f"{i['linktype_name']} ({i['linktype']})" if i["linktype_name"] else f"{i['linktype']}"
        print(f"  [{i['index']}]{name} linktype {lt}, snaplen {i['snaplen']}, ts {i['tsresol']}")
    print(f"packets:     {d['packets']:,}")
    print(f"bytes:       {d['bytes']:,} captured, {d['wire_bytes']:,} on the wire")
    if d["first_time"]:
        print(f"first:       {d['first_time']}")
        print(f"last:        {d['last_time']}")
        print(f"duration:    {d['duration_s']:.6f} s")
    print(f"truncated:   {d['truncated_packets']:,} packets shorter than on the wire")
    if d["empty_packets"]:
        print(f"empty:       {d['empty_packets']:,} records with no captured byte")
    if d["odd_timestamps"]:
        print(f"timestamps:  {d['odd_timestamps']:,} with a sub-second field of a second or more")
    if d["other_blocks"]:
        blocks = ", ".join(f"type {k}: {v}" for k, v in d["other_blocks"].items())
        print(f"other blocks: {blocks}")
    if d["problems"]:
        print(f"problems:    {len(d['problems'])}")
        for p in d["problems"]:
            print(
                f"  at byte {p['offset']}: {p['message']} "
                f"(skipped {p['skipped_bytes']} bytes, {p['skipped_records']} records)"
            )
    else:
        print("problems:    none")


def cmd_info(args: argparse.Namespace) -> int:
    cap = netcore.open(args.file, strict=args.strict)
    _read(cap, "reading")
    d = _info_dict(cap.info)
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        _print_info(d)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    cap = netcore.open(args.input, strict=args.strict)
    with Writer(args.output, args.format, like=cap) as w:

        def each(batch: netcore.Batch) -> None:
            w._sync_interfaces(cap)
            w.write(batch)

        _read(cap, "converting", each)
        written = w.packets
    info = cap.info
    out = {
        "input": info.source,
        "output": str(args.output),
        "format": w.format,
        "packets": written,
        "problems": len(info.problems),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"wrote {written:,} packets to {args.output} ({w.format})"
            + (f"; {len(info.problems)} problems skipped" if info.problems else "")
        )
    return 0


def _replay(args: argparse.Namespace, source: str) -> netcore.RunReport:
    from netcore.cli import stackrun

    ns = stackrun.default_namespace(args.queues)
    for path in args.rules:
        stackrun.attach_rules(ns, path)
    for spec in args.hook:
        stackrun.attach_hook(ns, spec)
    report = ns.replay(
        source,
        into="eth0",
        capture=stackrun.captures(args.capture),
        batch_size=args.batch_size,
        strict=args.strict,
    )
    report.check()
    return report


def cmd_run(args: argparse.Namespace) -> int:
    source = args.file if args.file is not None else str(SAMPLE_PATH)
    cap = netcore.open(source, batch_size=args.batch_size, strict=args.strict)
    by_link: Counter[int] = Counter()
    by_iface: Counter[int] = Counter()
    sizes = np.zeros(5, dtype=np.int64)  # <=64, <=128, <=512, <=1024, larger
    edges = np.array([64, 128, 512, 1024], dtype=np.uint32)
    batches = 0

    from netcore.stats import Stats

    st = Stats()

    def each(b: netcore.Batch) -> None:
        nonlocal batches
        batches += 1
        st.add(b)
        for value, count in zip(*np.unique(b.linktype, return_counts=True), strict=True):
            by_link[int(value)] += int(count)
        for value, count in zip(*np.unique(b.ifindex, return_counts=True), strict=True):
            by_iface[int(value)] += int(count)
        sizes[:] += np.bincount(np.searchsorted(edges, b.wirelen), minlength=5)

    start = time.perf_counter()
    _read(cap, "running", each)
    elapsed = time.perf_counter() - start
    info = cap.info
    linktypes = {str(k): v for k, v in sorted(by_link.items())}
    size_counts = dict(
        zip(["<=64", "65-128", "129-512", "513-1024", ">1024"], sizes.tolist(), strict=True)
    )
    report: dict[str, Any] = {
        "source": info.source,
        "bundled_sample": args.file is None,
        "format": info.format,
        "packets": info.packets,
        "bytes": info.caplen_bytes,
        "wire_bytes": info.wire_bytes,
        "batches": batches,
        "duration_s": (info.last_ts - info.first_ts) / 1e9
        if info.first_ts is not None and info.last_ts is not None
        else None,
        "linktypes": linktypes,
        "interfaces": {str(k): v for k, v in sorted(by_iface.items())},
        "sizes": size_counts,
        "truncated_packets": info.truncated_packets,
        "protocols": {"/".join(n["path"]): n["packets"] for n in st.hierarchy() if n["depth"] <= 2},
        "bad_checksums": dict(st.bad_csum),
        "malformed": dict(st.malformed),
        "flows": len(st.flows),
        "problems": len(info.problems),
        "elapsed_s": elapsed,
        "packets_per_s": info.packets / elapsed if elapsed > 0 else None,
    }
    stack = _replay(args, source)
    report["stack"] = stack.to_dict()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    what = "bundled sample capture" if args.file is None else info.source
    print(f"netcore run: {what} ({info.format})")
    print(f"  packets     {info.packets:,} in {batches} batches")
    print(f"  bytes       {info.caplen_bytes:,} captured, {info.wire_bytes:,} on the wire")
    if report["duration_s"] is not None:
        print(f"  spans       {report['duration_s']:.6f} s of capture time")
    for k, v in linktypes.items():
        print(f"  linktype {k:>4} {v:,} packets")
    for k, v in size_counts.items():
        print(f"  size {k:>9} {v:,}")
    for path, n in report["protocols"].items():
        print(f"  {path:<22} {n:,}")
    print(f"  flows       {len(st.flows):,}")
    bad = ", ".join(f"{k} {v:,}" for k, v in st.bad_csum.items()) or "none"
    print(f"  bad checksums  {bad}")
    mal = ", ".join(f"{k} {v:,}" for k, v in st.malformed.items()) or "none"
    print(f"  malformed      {mal}")
    if info.problems:
        print(f"  problems    {len(info.problems)} (see `netcore info`)")
    print("through the stack (eth0 → routing → wan0):")
    for line in str(stack).splitlines():
        print(f"  {line}")
    rate = report["packets_per_s"]
    print(f"  processed in {elapsed * 1e3:.1f} ms" + (f" ({rate:,.0f} packets/s)" if rate else ""))
    return 0


def cmd_dissect(args: argparse.Namespace) -> int:
    from netcore.stats import dissect_records

    cap = netcore.open(args.file, strict=args.strict)
    out = sys.stdout
    count = 0
    with Progress(cap.info.size if not cap.info.compressed else None, "dissecting") as bar:
        for batch in cap:
            for rec in dissect_records(batch):
                if args.jsonl:
                    out.write(json.dumps(rec, separators=(",", ":")) + "\n")
                else:
                    csum = " ".join(f"{k}:{v}" for k, v in rec["csum"].items())
                    flag = (
                        f" MALFORMED {rec['drop_reason']}"
                        if rec["malformed"]
                        else (f" drop:{rec['drop_reason']}" if rec["drop_reason"] else "")
                    )
                    out.write(
                        f"{rec['n']:>7} {rec['len']:>6} {'/'.join(rec['layers']) or '-'}"
                        f"  {csum}{flag}\n"
                    )
                count += 1
                if args.count and count >= args.count:
                    return 0
            bar.update(cap._reader.info()["position"], count)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from netcore.stats import QueueStats, Stats

    cap = netcore.open(args.file, strict=args.strict)
    st = Stats()
    qs = None
    if args.queues is not None:
        rss = netcore.Rss(args.queues, symmetric=args.symmetric, inner=args.inner)
        qs = QueueStats(rss)

    def each(b: netcore.Batch) -> None:
        st.add(b)
        if qs is not None:
            qs.add(b)

    _read(cap, "counting", each)
    d = st.to_dict(top=args.top)
    if qs is not None:
        d["rss"] = qs.to_dict()
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    print(f"{d['packets']:,} packets, {d['bytes']:,} bytes")
    print("\nProtocol hierarchy                       packets          bytes")
    for node in d["hierarchy"]:
        name = "  " * node["depth"] + node["protocol"]
        print(f"  {name:<36} {node['packets']:>10,} {node['bytes']:>14,}")
    print(f"\nFlows: {d['flows']:,} (top {len(d['top_flows'])} by bytes)")
    for f in d["top_flows"]:
        print(
            f"  {f['proto']:<6} {f['src']}:{f['sport']} -> {f['dst']}:{f['dport']}  "
            f"{f['packets']:,} packets {f['bytes']:,} bytes"
        )
    print("\nConversations (both directions)")
    for c in d["conversations"]:
        print(
            f"  {c['proto']:<6} {c['a']}:{c['a_port']} <-> {c['b']}:{c['b_port']}  "
            f"{c['packets']:,} packets {c['bytes']:,} bytes"
        )
    print("\nTop talkers (bytes sent)")
    for t in d["top_talkers"]:
        print(f"  {t['address']:<40} {t['bytes']:>14,} bytes {t['packets']:>10,} packets")
    bad = ", ".join(f"{k} {v:,}" for k, v in d["bad_checksums"].items()) or "none"
    print(f"\nBad checksums: {bad}")
    mal = ", ".join(f"{k} {v:,}" for k, v in d["malformed"].items()) or "none"
    print(f"Malformed: {mal}")
    print(f"Truncated by the capture: {d['truncated']:,}")
    if qs is not None:
        _print_queues(d["rss"])
    return 0


def _print_queues(r: dict[str, Any]) -> None:
    title = f"RSS over {r['queues']} queues"
    print(f"\n{title:<36} {'packets':>10} {'bytes':>14}")
    for q in r["per_queue"]:
        print(f"  {'queue ' + str(q['queue']):<34} {q['packets']:>10,} {q['bytes']:>14,}")
    print(f"Imbalance (max/mean): {r['imbalance']:.3f} packets, {r['imbalance_bytes']:.3f} bytes")


def _offload_output(args: argparse.Namespace, report: Any, what: str) -> int:
    if args.jsonl:
        with open(args.jsonl, "w") as f:
            for n, p in enumerate(report.packets, 1):
                f.write(
                    json.dumps(
                        {
                            "n": n,
                            "len": p.len,
                            "segs": p.segs,
                            "gso_size": p.gso_size,
                            "gso_type": "|".join(p.gso_type) or None,
                        }
                    )
                    + "\n"
                )
    summary = {
        **report.stats,
        "packets_out": report.packets_out,
        "segments": report.segments,
        "coalescing_ratio": report.coalescing_ratio,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{what}: "
            + ", ".join(
                f"{k} {v:,}" if isinstance(v, int) else f"{k} {v:.2f}" for k, v in summary.items()
            )
        )
    return 0


def cmd_gro(args: argparse.Namespace) -> int:
    from netcore.offload import gro

    report = gro(
        args.input,
        args.output,
        budget=args.budget,
        flush_timeout_ns=args.flush_timeout,
        max_size=args.max_size,
        udp_gro=args.udp_gro,
        vxlan_ports=args.vxlan_port,
        geneve_ports=args.geneve_port,
    )
    return _offload_output(args, report, "gro")


def cmd_gso(args: argparse.Namespace) -> int:
    from netcore.offload import gso

    report = gso(
        args.input,
        args.output,
        mss=args.mss,
        mtu=args.mtu,
        ufo=args.ufo,
        csum_offload=args.csum_offload,
    )
    return _offload_output(args, report, "gso")


def cmd_bench(args: argparse.Namespace) -> int:
    from netcore.bench import offload_strategies

    rows = offload_strategies(args.file, mss=args.mss)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        print(
            f"{'strategy':<48} {'stage':<5} {'in':>8} {'out':>8} {'ratio':>6} "
            f"{'segs p50/p99/max':>17} {'ns/pkt':>8} {'Mpps':>7}"
        )
        for r in rows:
            dist = f"{r.segs_p50:.0f}/{r.segs_p99:.0f}/{r.segs_max}"
            print(
                f"{r.name:<48} {r.stage:<5} {r.packets_in:>8,} {r.packets_out:>8,} "
                f"{r.coalescing_ratio:>6.2f} {dist:>17} {r.ns_per_packet:>8.1f} {r.mpps:>7.2f}"
            )
    if args.plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("netcore bench: matplotlib is not installed; no plot", file=sys.stderr)
            return 0
        fig, ax = plt.subplots(figsize=(9, 4))
        ax.barh([r.name for r in rows], [r.coalescing_ratio for r in rows])
        ax.set_xlabel("segments per packet out")
        fig.tight_layout()
        fig.savefig(args.plot)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="netcore",
        description="Packet processing with a Rust core, modelled on the Linux network stack.",
    )
    p.add_argument("--version", action="version", version=f"netcore {netcore.__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--json", action="store_true", help="print JSON for programs")

    sp = sub.add_parser("info", help="describe a capture: format, interfaces, counts, problems")
    sp.add_argument("file", help="pcap or pcapng file (gzip allowed; - for stdin)")
    sp.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error at the first fault instead of listing problems",
    )
    common(sp)
    sp.set_defaults(func=cmd_info)

    sp = sub.add_parser("convert", help="convert between pcap and pcapng (gzip input allowed)")
    sp.add_argument("input", help="capture to read (- for stdin)")
    sp.add_argument("output", type=Path, help="capture to write; format from the suffix")
    sp.add_argument("--format", choices=["pcap", "pcapng"], help="output format (default: suffix)")
    sp.add_argument(
        "--lenient",
        dest="strict",
        action="store_false",
        help="skip damaged records instead of stopping",
    )
    common(sp)
    sp.set_defaults(func=cmd_convert)

    sp = sub.add_parser("dissect", help="one line per packet: layers, checksums, malformed")
    sp.add_argument("file", help="capture to dissect (- for stdin)")
    sp.add_argument("--jsonl", action="store_true", help="one JSON object per line")
    sp.add_argument("--count", type=int, default=0, help="stop after this many packets")
    sp.add_argument("--strict", action="store_true", help="stop at the first damaged record")
    sp.add_argument("--json", dest="jsonl", action="store_true", help="same as --jsonl")
    sp.set_defaults(func=cmd_dissect)

    sp = sub.add_parser("stats", help="protocol hierarchy, flows, checksums, top talkers")
    sp.add_argument("file", help="capture to summarise (- for stdin)")
    sp.add_argument("--top", type=int, default=10, help="rows in the top-N tables")
    sp.add_argument("--strict", action="store_true", help="stop at the first damaged record")
    sp.add_argument(
        "--queues", type=int, help="also show how RSS spreads packets over this many queues"
    )
    sp.add_argument("--symmetric", action="store_true", help="RSS: same queue both ways")
    sp.add_argument("--inner", action="store_true", help="RSS: hash tunnels' inner headers")
    common(sp)
    sp.set_defaults(func=cmd_stats)

    sp = sub.add_parser(
        "gro", help="receive a capture through GRO (Linux rules); write what goes up"
    )
    sp.add_argument("input", help="capture to read")
    sp.add_argument("output", type=Path, help="capture to write; format from the suffix")
    sp.add_argument("--jsonl", type=Path, help="write one JSON line per output packet here")
    sp.add_argument("--budget", type=int, default=64, help="NAPI budget (packets per poll)")
    sp.add_argument("--flush-timeout", type=int, default=0, help="gro_flush_timeout, ns")
    sp.add_argument("--max-size", type=int, default=65536, help="gro_max_size")
    sp.add_argument(
        "--udp-gro", choices=["off", "forwarding", "fraglist"], default="off", help="UDP GRO mode"
    )
    for kind, port in (("vxlan", 4789), ("geneve", 6081)):
        sp.add_argument(
            f"--{kind}-port",
            type=int,
            action="append",
            default=[],
            metavar="PORT",
            help=f"UDP port of a {kind} device: merge its packets by their inner ones "
            f"(usually {port}; repeatable)",
        )
    common(sp)
    sp.set_defaults(func=cmd_gro)

    sp = sub.add_parser("gso", help="segment a capture as software GSO/TSO/USO would")
    sp.add_argument("input", help="capture to read")
    sp.add_argument("output", type=Path, help="capture to write; format from the suffix")
    sp.add_argument("--mss", type=int, default=1448, help="segment payload size")
    sp.add_argument("--mtu", type=int, default=1500, help="fragment IP packets over this size")
    sp.add_argument("--ufo", action="store_true", help="UDP as IP fragments, not USO")
    sp.add_argument(
        "--csum-offload",
        action="store_true",
        help="the device has tx-checksumming: segments keep the pseudo-header checksum seed",
    )
    sp.add_argument("--jsonl", type=Path, help="write one JSON line per output packet here")
    common(sp)
    sp.set_defaults(func=cmd_gso)

    sp = sub.add_parser("bench", help="compare offload strategies on a capture")
    sp.add_argument("what", choices=["offload"], help="what to compare")
    sp.add_argument("file", help="capture to run")
    sp.add_argument("--mss", type=int, default=1448, help="segment size for software GSO")
    sp.add_argument("--plot", type=Path, help="save a plot here (needs matplotlib)")
    common(sp)
    sp.set_defaults(func=cmd_bench)

    sp = sub.add_parser(
        "run", help="run a capture through a stack (default: a bundled sample, default stack)"
    )
    sp.add_argument("file", nargs="?", help="capture to run (default: the bundled sample)")
    sp.add_argument("--batch-size", type=int, default=4096, help="packets per batch")
    sp.add_argument(
        "--rules", action="append", default=[], metavar="FILE", help="native rules to attach"
    )
    sp.add_argument(
        "--hook",
        action="append",
        default=[],
        metavar="MODULE:FUNC[@POINT]",
        help="Python batch hook to attach (default point prerouting)",
    )
    sp.add_argument(
        "--capture",
        action="append",
        default=[],
        metavar="DEV=FILE",
        help="write what DEV (eth0, wan0) transmits",
    )
    sp.add_argument("--queues", type=int, default=2, help="receive queues of eth0 (RSS)")
    sp.add_argument(
        "--lenient",
        dest="strict",
        action="store_false",
        help="skip damaged records instead of stopping",
    )
    common(sp)
    sp.set_defaults(func=cmd_run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``netcore`` console script."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except (NetcoreError, OSError) as e:
        print(f"netcore {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"netcore {args.command}: interrupted", file=sys.stderr)
        return 130
