"""The ``netcore`` command: the main job, info, convert, errors and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import netcore as nc
from netcore.cli import main
from netcore.synth import SAMPLE_PATH, frames


def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("netcore")
    cmd = [exe] if exe else [sys.executable, "-m", "netcore.cli"]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=input is None, input=input, check=False
    )


def test_main_job_runs_the_bundled_sample() -> None:
    """The README's first command: `netcore run` with no argument."""
    r = run("run")
    assert r.returncode == 0, r.stderr
    assert "bundled sample capture" in r.stdout and "458 in 1 batches" in r.stdout
    assert r.stderr == ""  # no progress bar when stderr is not a terminal
    j = json.loads(run("run", "--json").stdout)
    assert j["bundled_sample"] and j["packets"] == len(frames()) == 458
    assert j["linktypes"] == {"1": 458}
    assert sum(j["sizes"].values()) == 458


def test_bundled_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    from netcore.synth import write_sample

    out = tmp_path / "sample.pcapng"
    write_sample(out)
    assert out.read_bytes() == SAMPLE_PATH.read_bytes()


def test_info_json(pcapng_file: Path) -> None:
    r = run("info", str(pcapng_file), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["format"] == "pcapng" and d["packets"] == 5 and d["sections"] == 2
    assert d["linktypes"] == [1, 101, 113]
    assert d["interfaces"][0]["name"] == "eth0" and d["problems"] == []
    assert d["first_ts"] == 0 and d["last_ts"] == 5 * 10**9
    assert d["other_blocks"] == {"0x5": 1}


def test_info_text_lists_problems(tmp_path: Path, pcap_file: Path) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(pcap_file.read_bytes()[:-10])
    r = run("info", str(cut))
    assert r.returncode == 0
    assert "packets:     99" in r.stdout and "problems:    1" in r.stdout
    r = run("info", str(cut), "--strict")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "cut.pcap: at byte" in r.stderr


def test_convert_round_trip_and_stdin(tmp_path: Path, pcap_file: Path) -> None:
    ng = tmp_path / "a.pcapng"
    r = run("convert", str(pcap_file), str(ng), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["packets"] == 100
    back = tmp_path / "b.pcap"
    assert run("convert", str(ng), str(back)).returncode == 0
    assert back.read_bytes()[24:] == pcap_file.read_bytes()[24:]
    piped = tmp_path / "c.pcap"
    rb = run("convert", "-", str(piped), input=pcap_file.read_bytes())
    assert rb.returncode == 0 and piped.read_bytes() == pcap_file.read_bytes()


def test_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a capture")
    r = run("info", str(bad))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == (
        f"netcore info: error: {bad}: at byte 0: not a pcap or pcapng file (magic 0x74686973)"
    )
    r = run("run", str(tmp_path / "missing.pcap"))
    assert r.returncode == 1 and "No such file" in r.stderr and r.stderr.count("\n") == 1
    assert run("frobnicate").returncode == 2


def test_every_command_has_help_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("info", "convert", "run"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "--json" in capsys.readouterr().out


def test_progress_bar_draws_on_a_terminal() -> None:
    import io

    from netcore.cli.progress import Progress

    out = io.StringIO()
    with Progress(1000, "reading", stream=out, enabled=True) as bar:
        bar.update(500, 10)
    text = out.getvalue()
    assert "50.0%" in text and "10 packets" in text and text.endswith("\r\033[K")
    quiet = io.StringIO()
    with Progress(1000, "reading", stream=quiet) as bar:  # StringIO is not a terminal
        bar.update(500, 10)
    assert quiet.getvalue() == ""


def test_run_on_a_capture_file(pcap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(pcap_file), "--batch-size", "7", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["packets"] == nc.open(pcap_file).info.packets + 100  # info before reading: 0
    assert report["batches"] == 15 and not report["bundled_sample"]
