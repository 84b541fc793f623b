"""`netcore run` replays through a stack: the default one, with rules files, hooks, captures."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import netcore as nc
from netcore.cli import main


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netcore.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_default_run_reports_every_packet() -> None:
    r = run_cli("run", "--json")
    assert r.returncode == 0, r.stderr
    stack = json.loads(r.stdout)["stack"]
    report = nc.RunReport.from_dict(stack)
    report.check()
    assert report.entered == 458
    assert report.transmitted and report.delivered
    assert len(report.devices["eth0"]["queues"]) == 2


def test_rules_hooks_and_captures(tmp_path: Path) -> None:
    rules = tmp_path / "fw.rules"
    rules.write_text(
        textwrap.dedent(
            """\
            # dropped before routing
            udp dport 53 counter drop
            hook forward
            ip daddr 10.0.0.1 tcp flags syn counter drop
            """
        )
    )
    (tmp_path / "myhooks.py").write_text(
        "import netcore as nc\n"
        "def tag(b):\n"
        "    b.set_mark(b.l4proto == 1, 7)\n"
        "    return nc.ACCEPT\n"
    )
    out = tmp_path / "eth0.pcapng"
    r = run_cli(
        "run",
        "--rules",
        str(rules),
        "--hook",
        "myhooks:tag@prerouting",
        "--capture",
        f"eth0={out}",
        "--json",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    report = nc.RunReport.from_dict(json.loads(r.stdout)["stack"])
    report.check()
    assert report.rules["prerouting/fw"][0][0] == 20  # the 20 DNS queries and answers
    assert report.hooks["prerouting/tag"]["calls"] >= 1
    assert report.dropped["NETFILTER_DROP"] >= 20
    written = sum(len(b) for b in nc.open(out))
    assert written == report.devices["eth0"]["tx_packets"] > 0


def test_rule_errors_name_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "bad.rules"
    rules.write_text("tcp dport 22 drop\nip saddr 10.0.0.0/99 drop\n")
    assert main(["run", "--rules", str(rules)]) == 1
    err = capsys.readouterr().err
    assert "bad.rules" in err and "line 2" in err
