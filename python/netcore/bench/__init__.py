"""Offload strategies compared on one capture (``netcore bench offload FILE``)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from netcore.capture import Capture
from netcore.offload import gro, gso

__all__ = ["Strategy", "offload_strategies"]


@dataclass
class Strategy:
    """One offload strategy's outcome on a capture."""

    name: str
    stage: str
    packets_in: int
    packets_out: int
    coalescing_ratio: float
    segs_mean: float
    segs_p50: float
    segs_p99: float
    segs_max: int
    ns_per_packet: float
    mpps: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return asdict(self)


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def offload_strategies(
    path: str | Path,
    *,
    budgets: tuple[int, ...] = (8, 64, 256),
    flush_timeouts_ns: tuple[int, ...] = (0, 1_000_000),
    mss: int = 1448,
    queues: tuple[int, ...] = (1, 2, 4),
) -> list[Strategy]:
    """Runs the capture through each receive and transmit strategy and measures each.

    Receive: no offload (every packet goes up alone), then GRO at several NAPI budgets and
    ``gro_flush_timeout`` values. Transmit, on GRO's output: TSO (the device segments; the
    stack hands it the super-packets), then software GSO by ``mss`` with checksums computed
    in software and with checksums offloaded to the device (segments left with the
    pseudo-header seed: the difference is the cost of software checksumming).

    Queues: the whole receive path replayed through a stack whose input device has
    ``queues`` RSS queues (one GRO table and worker each) and forwards to a TSO device, so
    what leaves shows how well GRO still coalesces when flows are spread over queues, and
    how evenly RSS spreads them (the imbalance, busiest queue over the mean).
    """
    n_in = sum(len(b) for b in Capture(path))
    out: list[Strategy] = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)

        def record(name: str, stage: str, segs: list[int], elapsed: float, n: int) -> None:
            arr = np.asarray(segs or [1], dtype=np.int64)
            out.append(
                Strategy(
                    name,
                    stage,
                    n,
                    len(segs),
                    float(arr.sum() / max(len(segs), 1)),
                    float(arr.mean()),
                    float(np.percentile(arr, 50)),
                    float(np.percentile(arr, 99)),
                    int(arr.max()),
                    elapsed * 1e9 / max(n, 1),
                    n / elapsed / 1e6 if elapsed else 0.0,
                )
            )

        (_, elapsed) = _timed(lambda: sum(len(b) for b in Capture(path)))
        record("no offload", "rx", [1] * n_in, elapsed, n_in)
        best = None
        for budget in budgets:
            for timeout in flush_timeouts_ns:
                dst = t / f"gro-{budget}-{timeout}.pcapng"
                report, elapsed = _timed(
                    lambda b=budget, ft=timeout, d=dst: gro(path, d, budget=b, flush_timeout_ns=ft)
                )
                record(
                    f"GRO budget {budget} flush_timeout {timeout} ns",
                    "rx",
                    [p.segs for p in report.packets],
                    elapsed,
                    n_in,
                )
                if budget == 64 and timeout == 0:
                    best = (dst, report)
        if best is not None:
            dst, report = best
            supers = report.packets
            record("TSO (device segments)", "tx", [p.segs for p in supers], 0.0, len(supers))
            for offload, how in ((False, "software"), (True, "offloaded")):
                seg_report, elapsed = _timed(
                    lambda o=offload: gso(dst, t / "gso.pcapng", mss=mss, mtu=65535, csum_offload=o)
                )
                record(
                    f"software GSO, MSS {mss}, {how} checksums",
                    "tx",
                    [1] * seg_report.packets_out,
                    elapsed,
                    len(supers),
                )
        for q in queues:
            out.append(_replay_strategy(path, q, n_in))
    return out


def _replay_strategy(path: str | Path, queues: int, n_in: int) -> Strategy:
    from netcore.namespace import Namespace
    from netcore.stack import Features

    ns = Namespace()
    ns.add_device("eth0", rx_queues=queues)
    ns.add_device("wan0", features=Features(tso=True))
    ns.routes.add("0.0.0.0/0", dev="wan0")
    ns.routes.add("::/0", dev="wan0")
    report, elapsed = _timed(lambda: ns.replay(path, into="eth0"))
    hist = report.devices.get("wan0", {}).get("tx_segs", [])
    segs = np.repeat(np.arange(len(hist)), hist) if hist else np.ones(1, dtype=np.int64)
    sent = max(int(segs.size), 1)
    return Strategy(
        f"GRO, {queues} RSS queue{'s' if queues > 1 else ''} (replay; imbalance "
        f"{report.queue_imbalance('eth0'):.2f})",
        "queues",
        n_in,
        int(segs.size),
        float(segs.sum() / sent),
        float(segs.mean()) if segs.size else 1.0,
        float(np.percentile(segs, 50)),
        float(np.percentile(segs, 99)),
        int(segs.max()),
        elapsed * 1e9 / max(n_in, 1),
        n_in / elapsed / 1e6 if elapsed else 0.0,
    )
