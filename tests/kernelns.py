"""Running a helper of ``tests/tools`` in a network namespace of its own, as root, to compare
netcore with the running Linux kernel; every reason it cannot run becomes a skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

TOOLS = Path(__file__).parent / "tools"
SKIP = 77  # a helper's exit code when the kernel lacks what it needs


def why_not() -> str | None:
    """Why kernel comparisons cannot run here, or None."""
    if sys.platform != "linux":
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root (network namespaces and virtual devices)"
    if not os.path.exists("/dev/net/tun"):
        return "needs /dev/net/tun"
    if shutil.which("ip") is None:
        return "needs the ip command (iproute2)"
    return None


def run_helper(helper: str, args: list[str]) -> dict[str, Any]:
    """Runs ``tools/<helper>`` with ``args`` in a fresh network namespace (deleted after) and
    returns the JSON it prints; skips the calling test when that is not possible."""
    why = why_not()
    if why:
        pytest.skip(why)
    ns = f"netcore-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {made.stderr.strip()}")
    try:
        run = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, str(TOOLS / helper), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        subprocess.run(["ip", "netns", "delete", ns], check=False)
    if run.returncode == SKIP:
        pytest.skip(f"the running kernel cannot do this: {run.stderr.strip()}")
    assert run.returncode == 0, run.stderr
    out: dict[str, Any] = json.loads(run.stdout)
    return out
