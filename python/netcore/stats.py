"""Per-packet dissection records and capture statistics, computed from batch columns.

``dissect_records`` gives what ``netcore dissect --jsonl`` prints; :class:`Stats` accumulates what
``netcore stats`` prints: the protocol hierarchy (like ``tshark -z io,phs``), flows,
conversations, bad checksums, malformed packets and top talkers; :class:`QueueStats` what
``netcore stats --queues N`` adds: how RSS spreads the packets over receive queues.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netcore._netcore import Rss
from netcore.batch import DROP_REASONS, LAYER_NAMES, VERDICTS, Batch

__all__ = ["QueueStats", "Stats", "dissect_records"]

PROTO_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 58: "icmpv6", 132: "sctp"}


def dissect_records(batch: Batch) -> Iterator[dict[str, Any]]:
    """One record per packet: number, lengths, layers, checksum verdicts, malformed, drop reason.

    In ``csum``, the first header of a kind is named plainly and later ones (inner headers)
    get a suffix: ``ipv4``, ``ipv4.2``, …
    """
    layers = batch.layers
    nlayers = batch.nlayers
    csum = batch.csum
    malformed = batch.malformed
    reasons = batch.drop_reason
    caplen = batch.caplen
    wirelen = batch.wirelen
    ts = batch.ts
    rows = batch.rows
    for i in range(len(batch)):
        names = [LAYER_NAMES[c] for c in layers[i, : nlayers[i]].tolist()]
        verdicts: dict[str, str] = {}
        seen: Counter[str] = Counter()
        for k, code in enumerate(csum[i, : nlayers[i]].tolist()):
            if code:
                name = names[k]
                seen[name] += 1
                key = name if seen[name] == 1 else f"{name}.{seen[name]}"
                verdicts[key] = VERDICTS[code]
        reason = int(reasons[i])
        yield {
            "n": batch.first_index + int(rows[i]) + 1,
            "ts": int(ts[i]),
            "caplen": int(caplen[i]),
            "len": int(wirelen[i]),
            "layers": names,
            "csum": verdicts,
            "malformed": bool(malformed[i]),
            "drop_reason": DROP_REASONS.get(reason) if reason else None,
        }


def _addr4(x: int) -> str:
    return str(ipaddress.IPv4Address(x))


def _addr6(b: bytes) -> str:
    return str(ipaddress.IPv6Address(b))


@dataclass
class Stats:
    """Statistics accumulated over batches (call :meth:`add` per batch)."""

    packets: int = 0
    bytes: int = 0
    chains: Counter[tuple[int, ...]] = field(default_factory=Counter)
    chain_bytes: Counter[tuple[int, ...]] = field(default_factory=Counter)
    flows: dict[tuple[str, str, str, int, int], list[int]] = field(default_factory=dict)
    bad_csum: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)
    truncated: int = 0
    talkers: Counter[str] = field(default_factory=Counter)
    talker_packets: Counter[str] = field(default_factory=Counter)

    def add(self, b: Batch) -> None:
        """Adds one batch."""
        n = len(b)
        if n == 0:
            return
        wl = b.wirelen.astype(np.int64)
        self.packets += n
        self.bytes += int(wl.sum())
        # Protocol hierarchy: count each distinct layer chain once per batch.
        chains, inverse = np.unique(b.layers, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse, minlength=len(chains))
        sizes = np.bincount(inverse, weights=wl, minlength=len(chains))
        for chain, c, s in zip(chains.tolist(), counts.tolist(), sizes.tolist(), strict=True):
            key = tuple(x for x in chain if x)
            self.chains[key] += c
            self.chain_bytes[key] += int(s)
        # Checksums and malformed packets.
        csum, layers = b.csum, b.layers
        bad = np.argwhere(csum == 2)
        for row, col in bad.tolist():
            self.bad_csum[LAYER_NAMES[int(layers[row, col])]] += 1
        reasons = b.drop_reason[b.malformed]
        for code, c in zip(*np.unique(reasons, return_counts=True), strict=True):
            self.malformed[DROP_REASONS.get(int(code), str(code))] += int(c)
        self.truncated += int(b.truncated.sum())
        self._flows(b, wl)

    def _flows(self, b: Batch, wl: np.ndarray[Any, Any]) -> None:
        ts = b.ts
        for version in (4, 6):
            sel = np.flatnonzero(b.ip_version == version)
            if not len(sel):
                continue
            if version == 4:
                src = b.src4[sel].astype(np.uint64)
                dst = b.dst4[sel].astype(np.uint64)
                keycols = [src, dst]
            else:
                s6, d6 = b.src6[sel], b.dst6[sel]
                keycols = [
                    half.copy().view(">u8").reshape(-1)
                    for half in (s6[:, :8], s6[:, 8:], d6[:, :8], d6[:, 8:])
                ]
            proto = b.l4proto[sel].astype(np.uint64)
            sp = b.sport[sel].astype(np.uint64)
            dp = b.dport[sel].astype(np.uint64)
            keys = np.stack([*keycols, proto, sp, dp], axis=1)
            uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
            inverse = inverse.reshape(-1)
            pk = np.bincount(inverse, minlength=len(uniq))
            by = np.bincount(inverse, weights=wl[sel], minlength=len(uniq))
            t = ts[sel]
            tmin = np.full(len(uniq), np.iinfo(np.int64).max)
            tmax = np.full(len(uniq), np.iinfo(np.int64).min)
            np.minimum.at(tmin, inverse, t)
            np.maximum.at(tmax, inverse, t)
            for j, k in enumerate(uniq.tolist()):
                if version == 4:
                    s, d = _addr4(k[0]), _addr4(k[1])
                    rest = k[2:]
                else:
                    s = _addr6(int(k[0]).to_bytes(8, "big") + int(k[1]).to_bytes(8, "big"))
                    d = _addr6(int(k[2]).to_bytes(8, "big") + int(k[3]).to_bytes(8, "big"))
                    rest = k[4:]
                proto_name = PROTO_NAMES.get(int(rest[0]), str(int(rest[0])))
                fkey = (s, d, proto_name, int(rest[1]), int(rest[2]))
                cur = self.flows.get(fkey)
                if cur is None:
                    self.flows[fkey] = [int(pk[j]), int(by[j]), int(tmin[j]), int(tmax[j])]
                else:
                    cur[0] += int(pk[j])
                    cur[1] += int(by[j])
                    cur[2] = min(cur[2], int(tmin[j]))
                    cur[3] = max(cur[3], int(tmax[j]))
                self.talkers[s] += int(by[j])
                self.talker_packets[s] += int(pk[j])
            del first

    def hierarchy(self) -> list[dict[str, Any]]:
        """The protocol hierarchy: every chain prefix with its packets and bytes, depth-first."""
        nodes: dict[tuple[int, ...], list[int]] = {}
        for chain, c in self.chains.items():
            for k in range(1, len(chain) + 1):
                node = nodes.setdefault(chain[:k], [0, 0])
                node[0] += c
                node[1] += self.chain_bytes[chain]
        out = []
        for chain in sorted(nodes):
            out.append(
                {
                    "path": [LAYER_NAMES[c] for c in chain],
                    "protocol": LAYER_NAMES[chain[-1]],
                    "depth": len(chain) - 1,
                    "packets": nodes[chain][0],
                    "bytes": nodes[chain][1],
                }
            )
        return out

    def conversations(self) -> list[dict[str, Any]]:
        """Bidirectional conversations: a flow and its reverse merged."""
        conv: dict[tuple[Any, ...], list[int]] = {}
        for (s, d, p, sp, dp), (pk, by, t0, t1) in self.flows.items():
            a, b = (s, sp), (d, dp)
            key = (p, *(a + b)) if a <= b else (p, *(b + a))
            forward = a <= b
            cur = conv.setdefault(key, [0, 0, 0, 0, t0, t1])
            cur[0 if forward else 2] += pk
            cur[1 if forward else 3] += by
            cur[4] = min(cur[4], t0)
            cur[5] = max(cur[5], t1)
        rows = []
        for (p, a, ap, b, bp), (pab, bab, pba, bba, t0, t1) in conv.items():
            rows.append(
                {
                    "proto": p,
                    "a": a,
                    "a_port": ap,
                    "b": b,
                    "b_port": bp,
                    "packets_ab": pab,
                    "bytes_ab": bab,
                    "packets_ba": pba,
                    "bytes_ba": bba,
                    "packets": pab + pba,
                    "bytes": bab + bba,
                    "duration_s": (t1 - t0) / 1e9,
                }
            )
        rows.sort(key=lambda r: -int(r["bytes"]))
        return rows

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """Everything, as plain data (what ``netcore stats --json`` prints)."""
        flows = sorted(self.flows.items(), key=lambda kv: -kv[1][1])
        return {
            "packets": self.packets,
            "bytes": self.bytes,
            "hierarchy": self.hierarchy(),
            "flows": len(self.flows),
            "top_flows": [
                {
                    "src": s,
                    "dst": d,
                    "proto": p,
                    "sport": sp,
                    "dport": dp,
                    "packets": v[0],
                    "bytes": v[1],
                    "duration_s": (v[3] - v[2]) / 1e9,
                }
                for (s, d, p, sp, dp), v in flows[:top]
            ],
            "conversations": self.conversations()[:top],
            "bad_checksums": dict(self.bad_csum),
            "malformed": dict(self.malformed),
            "truncated": self.truncated,
            "top_talkers": [
                {"address": a, "bytes": by, "packets": self.talker_packets[a]}
                for a, by in self.talkers.most_common(top)
            ],
        }


class QueueStats:
    """Packets and bytes per receive queue as ``rss`` steers them (call :meth:`add` per batch).

    Packets without an IP header are not hashed and count on queue 0, where a NIC puts them.
    """

    def __init__(self, rss: Rss) -> None:
        self.rss = rss
        self.packets = np.zeros(rss.num_queues, dtype=np.int64)
        self.bytes = np.zeros(rss.num_queues, dtype=np.int64)

    def add(self, b: Batch) -> None:
        """Adds one batch."""
        if len(b) == 0:
            return
        q = self.rss.queues(b)
        n = self.rss.num_queues
        self.packets += np.bincount(q, minlength=n)
        self.bytes += np.bincount(q, weights=b.wirelen, minlength=n).astype(np.int64)

    @staticmethod
    def _imbalance(counts: np.ndarray[Any, Any]) -> float:
        total = int(counts.sum())
        return float(counts.max()) * len(counts) / total if total else 0.0

    def imbalance(self) -> float:
        """Packets of the busiest queue over the mean per queue: 1.0 is a perfect spread,
        ``queues`` means one queue got everything; 0.0 when there were no packets."""
        return self._imbalance(self.packets)

    def to_dict(self) -> dict[str, Any]:
        """The distribution as plain data (the ``rss`` part of ``netcore stats --json``)."""
        return {
            "queues": self.rss.num_queues,
            "symmetric": self.rss.symmetric,
            "inner": self.rss.inner,
            "per_queue": [
                {"queue": i, "packets": int(p), "bytes": int(by)}
                for i, (p, by) in enumerate(zip(self.packets, self.bytes, strict=True))
            ],
            "imbalance": self.imbalance(),
            "imbalance_bytes": self._imbalance(self.bytes),
        }
