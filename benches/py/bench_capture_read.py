"""How fast netcore reads a capture from Python, against a native floor and against dpkt.

On one file, in one run (the file dropped from the page cache and read back at the start, see
``refresh``, and read once more before every contender so that the cache is warm):

- ``floor``: a plain Rust loop over the memory-mapped records summing captured lengths
  (``benches/rust/src/bin/floor_pcap.rs``): the least work reading can take.
- ``floor+prefetch``: the same loop streaming the file into the cache ahead of the record being
  read; what a reader that prefetches could reach (information, not a goal).
- ``rust CaptureReader``: the core reader alone, no Python (``netcore_read``), per batch size:
  the difference to the Python rows is the binding's cost.
- ``netcore (python)``: ``for b in netcore.open(path, batch_size=n): total += int(b.caplen.sum())``.
- ``dpkt``: ``dpkt.pcap.Reader`` (``dpkt.pcapng.Reader``) iterating packets, on a prefix of the
  file when it is large, scaled to packets per second.

Each contender runs ``--repeat`` times and the best run counts. Goals (from the issue): netcore
from Python at least 0.8x the floor and at least 30x dpkt.

Usage::

    python benches/py/bench_capture_read.py [PATH] [--packets 2000000] [--format pcap|pcapng|both]
        [--batch-sizes 4096,65536] [--repeat 5] [--dpkt-packets 200000] [--json]

Without PATH the capture is ``benches/py/data/<mix>-<packets>.<format>``, generated if missing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import gen_capture
import netcore

ROOT = Path(__file__).resolve().parents[2]
GOAL_FLOOR = 0.8
GOAL_DPKT = 30.0
PREFETCH_BYTES = 4096


@dataclass
class Result:
    """The best of several runs of one contender."""

    name: str
    packets: int
    """Packets read per run (dpkt: the prefix measured)."""
    seconds: float
    """Best run."""
    runs: list[float] = field(default_factory=list)
    batch: int | None = None
    note: str = ""

    @property
    def pps(self) -> float:
        return self.packets / self.seconds if self.seconds > 0 else float("inf")


def machine() -> dict[str, Any]:
    """CPU model, cores and software versions of this machine."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib: float | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        import dpkt

        dpkt_version = str(dpkt.__version__)
    except ImportError:
        dpkt_version = None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "netcore": netcore.__version__,
        "extension": _extension(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "dpkt": dpkt_version,
    }


def _extension() -> str:
    """Path, size and build time of the loaded extension module (a debug build is ~4x larger)."""
    so = Path(netcore._netcore.__file__ or "?")
    try:
        st = so.stat()
    except OSError:
        return str(so)
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.st_mtime))
    return f"{so} ({st.st_size / 2**20:.1f} MiB, built {built})"


def warm(path: Path) -> float:
    """Reads the whole file once so that it is in the page cache; returns the seconds taken."""
    start = time.perf_counter()
    buf = bytearray(8 << 20)
    with path.open("rb", buffering=0) as f:
        while f.readinto(buf):
            pass
    return time.perf_counter() - start


def refresh(path: Path) -> None:
    """Drops the file from the page cache, then reads it back in.

    The state of the page cache changes the results a lot: a file just read is held in large
    folios that a mapping uses with few page faults and TLB misses (on recent Linux), while pages
    that were split or reclaimed since make every mmap reader slower. Starting every run from a
    fresh read makes runs comparable.
    """
    if hasattr(os, "posix_fadvise"):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    warm(path)


def file_huge_pages_mib() -> float | None:
    """Page cache held in huge pages (``FileHugePages`` of /proc/meminfo), MiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("FileHugePages:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def best_of(
    repeat: int, path: Path, run: Callable[[], tuple[int, int]]
) -> tuple[list[float], int, int]:
    """Runs ``run`` ``repeat`` times after warming the cache; returns the times and its result."""
    times: list[float] = []
    packets = total = 0
    warm(path)
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        packets, total = run()
        times.append(time.perf_counter() - start)
    return times, packets, total


def target_dir() -> Path:
    env = os.environ.get("CARGO_TARGET_DIR")
    return Path(env) if env else ROOT / "target"


def build_bins(skip: bool) -> None:
    """Builds the native contenders (quick when they are up to date)."""
    if skip:
        return
    cmd = [
        "cargo",
        "build",
        "--release",
        "-q",
        "-p",
        "netcore-benches",
        "--bin",
        "floor_pcap",
        "--bin",
        "netcore_read",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode == 0:
        return
    sys.stderr.write(done.stderr)
    bins = [target_dir() / "release" / name for name in ("floor_pcap", "netcore_read")]
    if not all(b.exists() for b in bins):
        raise SystemExit(f"building the native contenders failed: {' '.join(cmd)}")
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(min(b.stat().st_mtime for b in bins)))
    print(
        f"warning: the build failed; using the native contenders built at {built}, which may "
        "not match the current sources",
        file=sys.stderr,
    )


def run_bin(name: str, path: Path, repeat: int, *extra: str) -> dict[str, Any]:
    exe = target_dir() / "release" / name
    if not exe.exists():
        raise SystemExit(f"{exe} is missing: run without --no-build, or cargo build it")
    warm(path)
    out = subprocess.run(
        [str(exe), str(path), "--repeat", str(repeat), *extra],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def native(name: str, report: dict[str, Any], batch: int | None = None) -> Result:
    runs = [ns / 1e9 for ns in report["runs_ns"]]
    return Result(name, int(report["packets"]), min(runs), runs, batch)


def bench_netcore(path: Path, batch: int, repeat: int) -> tuple[Result, int]:
    def run() -> tuple[int, int]:
        n = total = 0
        for b in netcore.open(path, batch_size=batch):
            total += int(b.caplen.sum())
            n += len(b)
        return n, total

    times, packets, total = best_of(repeat, path, run)
    return Result("netcore (python)", packets, min(times), times, batch), total


def bench_dpkt(path: Path, fmt: str, limit: int, repeat: int) -> Result | None:
    try:
        import dpkt
    except ImportError:
        return None

    def run() -> tuple[int, int]:
        n = total = 0
        with path.open("rb") as f:
            reader = dpkt.pcapng.Reader(f) if fmt == "pcapng" else dpkt.pcap.Reader(f)
            for _ts, buf in reader:
                n += 1
                total += len(buf)
                if n >= limit:
                    break
        return n, total

    times, packets, _ = best_of(repeat, path, run)
    note = f"first {packets:,} packets, scaled" if packets >= limit else "whole file"
    return Result("dpkt", packets, min(times), times, None, note)


def measure(path: Path, fmt: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every contender on ``path``; returns results, ratios and goals."""
    results: list[Result] = []
    if not args.no_refresh:
        refresh(path)
    huge = file_huge_pages_mib()
    floor_report = run_bin("floor_pcap", path, args.repeat)
    expect = (int(floor_report["packets"]), int(floor_report["caplen_sum"]))
    floor = native("floor (rust, mmap)", floor_report)
    results.append(floor)
    pre = run_bin("floor_pcap", path, args.repeat, "--prefetch", str(PREFETCH_BYTES))
    floor_pre = native("floor+prefetch (rust)", pre)
    results.append(floor_pre)
    rust: dict[int, Result] = {}
    for bs in args.batch_sizes:
        rep = run_bin("netcore_read", path, args.repeat, "--batch", str(bs))
        if (rep["packets"], rep["caplen_sum"]) != expect:
            raise SystemExit(f"netcore_read disagrees with the floor {expect}: {rep}")
        rust[bs] = native("rust CaptureReader", rep, bs)
        results.append(rust[bs])
    nc: list[Result] = []
    for bs in args.batch_sizes:
        r, total = bench_netcore(path, bs, args.repeat)
        if (r.packets, total) != expect:
            raise SystemExit(f"netcore read {(r.packets, total)}, the floor {expect}")
        nc.append(r)
        results.append(r)
    dp = None
    if args.dpkt_packets > 0:
        dp = bench_dpkt(path, fmt, args.dpkt_packets, max(1, min(args.repeat, 3)))
    if dp is not None:
        results.append(dp)
    best = max(nc, key=lambda r: r.pps)
    vs_floor = best.pps / floor.pps
    vs_dpkt = best.pps / dp.pps if dp is not None else None
    ratios = {
        "netcore_vs_floor": vs_floor,
        "netcore_vs_dpkt": vs_dpkt,
        "netcore_vs_floor_prefetch": best.pps / floor_pre.pps,
        "rust_reader_vs_floor": max(r.pps for r in rust.values()) / floor.pps,
        # Extra time of the Python loop over the Rust loop, per batch size.
        "binding_overhead": {
            str(r.batch): r.seconds / rust[r.batch].seconds - 1 for r in nc if r.batch in rust
        },
    }
    goals = {
        f"netcore >= {GOAL_FLOOR}x floor": vs_floor >= GOAL_FLOOR,
        f"netcore >= {GOAL_DPKT:g}x dpkt": None if vs_dpkt is None else vs_dpkt >= GOAL_DPKT,
    }
    return {
        "file": {
            "path": str(path),
            "format": fmt,
            "bytes": path.stat().st_size,
            "packets": floor.packets,
            "page_cache_huge_mib": huge,
        },
        "best_netcore_batch": best.batch,
        "results": [asdict(r) | {"pps": r.pps} for r in results],
        "ratios": ratios,
        "goals": goals,
        "_results": results,
        "_floor": floor,
        "_dpkt": dp,
    }


def table(m: dict[str, Any]) -> str:
    f = m["file"]
    floor: Result = m["_floor"]
    dp: Result | None = m["_dpkt"]
    lines = [
        f"{f['path']}: {f['format']}, {f['packets']:,} packets, {f['bytes'] / 2**20:,.0f} MiB"
        + (
            ""
            if f["page_cache_huge_mib"] is None
            else f"; page cache in huge pages: {f['page_cache_huge_mib']:,.0f} MiB"
        ),
        f"{'contender':<24}{'batch':>7}{'packets':>12}{'best s':>10}{'Mpkt/s':>9}"
        f"{'x floor':>9}{'x dpkt':>9}  note",
    ]
    for r in m["_results"]:
        vs_dpkt = f"{r.pps / dp.pps:9.1f}" if dp else f"{'-':>9}"
        lines.append(
            f"{r.name:<24}{r.batch or '':>7}{r.packets:>12,}{r.seconds:>10.4f}"
            f"{r.pps / 1e6:>9.2f}{r.pps / floor.pps:>9.2f}{vs_dpkt}  {r.note}"
        )
    r = m["ratios"]
    lines.append(
        f"best netcore (batch {m['best_netcore_batch']}): {r['netcore_vs_floor']:.2f}x floor, "
        f"{r['netcore_vs_floor_prefetch']:.2f}x floor+prefetch"
        + ("" if r["netcore_vs_dpkt"] is None else f", {r['netcore_vs_dpkt']:.1f}x dpkt")
    )
    for goal, ok in m["goals"].items():
        verdict = "n/a (dpkt not measured)" if ok is None else ("met" if ok else "NOT met")
        lines.append(f"goal {goal}: {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("path", nargs="?", type=Path, help="capture to read (default: generated)")
    p.add_argument("--packets", type=int, default=2_000_000, help="size of a generated capture")
    p.add_argument("--format", choices=["pcap", "pcapng", "both"], default="pcap")
    p.add_argument("--mix", choices=sorted(gen_capture.MIXES), default="imix")
    p.add_argument(
        "--batch-sizes",
        default="4096,65536",
        help="comma-separated netcore batch sizes (default 4096,65536)",
    )
    p.add_argument("--repeat", type=int, default=5, help="runs per contender; the best counts")
    p.add_argument(
        "--dpkt-packets",
        type=int,
        default=200_000,
        help="packets dpkt reads per run (0 skips dpkt)",
    )
    p.add_argument("--no-build", action="store_true", help="do not cargo build the native bins")
    p.add_argument(
        "--no-refresh",
        action="store_true",
        help="keep the page cache as it is (default: drop the file from it and read it back)",
    )
    p.add_argument("--check", action="store_true", help="exit 1 when a goal is not met")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)
    try:
        args.batch_sizes = [int(x) for x in args.batch_sizes.split(",") if x.strip()]
    except ValueError:
        p.error(f"--batch-sizes must be comma-separated integers, not {args.batch_sizes!r}")
    if not args.batch_sizes or min(args.batch_sizes) < 1 or args.repeat < 1:
        p.error("--batch-sizes needs positive sizes and --repeat at least 1")
    if args.path is not None and args.format == "both":
        p.error("--format both needs generated captures (no PATH)")

    build_bins(args.no_build)
    runs: list[tuple[Path, str]] = []
    for fmt in ["pcap", "pcapng"] if args.format == "both" else [args.format]:
        path = args.path or gen_capture.default_path(args.packets, fmt, args.mix)
        if args.path is not None:
            with path.open("rb") as fh:
                fmt = "pcapng" if fh.read(4) == b"\n\r\r\n" else "pcap"
        elif not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            gen_capture.generate(path, args.packets, fmt=fmt, mix=args.mix)
        runs.append((path, fmt))

    info = machine()
    measured = [measure(path, fmt, args) for path, fmt in runs]
    if args.json:
        clean = [{k: v for k, v in m.items() if not k.startswith("_")} for m in measured]
        print(json.dumps({"machine": info, "runs": clean}, indent=2))
    else:
        print(
            f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; "
            f"{info['os']}; Python {info['python']}, numpy {info['numpy']}, "
            f"netcore {info['netcore']}, dpkt {info['dpkt']}"
        )
        print(f"extension: {info['extension']}")
        if info["load_avg_1min"] > 0.5:
            print(
                f"warning: load average {info['load_avg_1min']} at the start: other processes "
                "share the machine, expect noisy numbers"
            )
        for m in measured:
            print()
            print(table(m))
    failed = any(ok is False for m in measured for ok in m["goals"].values())
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
