"""Access to the shared real-capture corpus (``../shared/pcaps`` beside the project), if present."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("NETCORE_CORPUS", ROOT.parent / "shared" / "pcaps"))


def require_corpus() -> Path:
    """The corpus folder; skips the calling test, saying why, when it is absent."""
    if not (CORPUS / "expected" / "catalogue.jsonl.gz").is_file():
        pytest.skip(f"real-capture corpus not found at {CORPUS} (set NETCORE_CORPUS to use one)")
    return CORPUS


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt") as f:
        for line in f:
            yield json.loads(line)


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    """Catalogue entries by file id (path relative to the corpus)."""
    return {e["id"]: e for e in _jsonl(require_corpus() / "expected" / "catalogue.jsonl.gz")}


@cache
def expected_packets() -> dict[str, list[dict[str, Any]]]:
    """tshark's per-packet records, by file id, in file order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for p in sorted((require_corpus() / "expected").glob("*.jsonl.gz")):
        if p.name == "catalogue.jsonl.gz":
            continue
        for rec in _jsonl(p):
            out.setdefault(rec["file"], []).append(rec)
    for recs in out.values():
        recs.sort(key=lambda r: r["n"])
    return out
