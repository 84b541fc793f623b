"""What ``netcore run`` replays a capture through: the default stack, rules files, hooks."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import netcore
from netcore.exceptions import ConfigError

__all__ = ["attach_hook", "attach_rules", "default_namespace"]


def default_namespace(queues: int = 2) -> netcore.Namespace:
    """A small router: ``eth0`` (the capture's side; GRO, ``queues`` RSS queues) owning
    10.0.0.2/24 and fd00::2/64, and ``wan0`` (no TSO: GSO in software) holding the default
    routes. Traffic to 10.0.0.2 is delivered, the rest is forwarded or answered with ICMP."""
    ns = netcore.Namespace()
    ns.add_device(
        "eth0",
        rx_queues=queues,
        rss=netcore.Rss(queues),
        addresses=["10.0.0.2/24", "fd00::2/64"],
    )
    ns.add_device(
        "wan0", addresses=["192.0.2.1/24"], features=netcore.Features(tso=False, gso=True)
    )
    ns.routes.add("0.0.0.0/0", dev="wan0", gateway="192.0.2.254")
    ns.routes.add("::/0", dev="wan0")
    return ns


def attach_rules(ns: netcore.Namespace, path: str | os.PathLike[str]) -> list[str]:
    """Attaches the rules of ``path``: nft-like lines, grouped under ``hook POINT`` lines
    (rules before the first one go to prerouting). Errors name the file, line and column."""
    text = Path(path).read_text()
    sections: dict[str, list[str]] = {}
    point = "prerouting"
    lines = text.splitlines()
    for n, line in enumerate(lines):
        words = line.split("#", 1)[0].split()
        if len(words) == 2 and words[0] == "hook":
            point = words[1]
            continue
        # Every section keeps the file's line numbers: other lines become blank.
        sections.setdefault(point, [""] * len(lines))[n] = line
    names = []
    for point, body in sections.items():
        try:
            names.append(ns.rules.add(point, "\n".join(body), name=Path(path).stem))
        except netcore.RuleError as e:
            raise ConfigError(f"{path}: {e}") from e
    return names


def attach_hook(ns: netcore.Namespace, spec: str) -> str:
    """Attaches ``module:function[@point]`` as a batch hook (default point: prerouting)."""
    target, _, point = spec.partition("@")
    module, _, func = target.partition(":")
    if not module or not func:
        raise ConfigError(f"--hook {spec!r}: use module:function[@point]")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        fn: Any = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"--hook {spec!r}: {e}") from e
    return ns.add_hook(point or "prerouting", fn, name=func)


def captures(specs: Sequence[str]) -> dict[str, str]:
    """``dev=path`` options as a mapping."""
    out = {}
    for s in specs:
        dev, eq, path = s.partition("=")
        if not eq or not dev or not path:
            raise ConfigError(f"--capture {s!r}: use DEVICE=FILE")
        out[dev] = path
    return out
