"""`msk-harness run` as a user runs it: bad input exits 2 with file:line; Ctrl-C mid-run stops everything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.cli import main
from tests.integration.procs import cmdline, interrupt_mid_run, start_cli, still_alive_after

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "harness.cli"]


def test_malformed_scenario_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\npipeline:\n  topic: {name: orders}\n  event_source: {BatchSiz: 10}\n"
        "load:\n  profile: {kind: constant, rate: 10}\n  records: 10\n",
        encoding="utf-8",
    )
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4: pipeline.event_source.BatchSiz: unknown key 'BatchSiz'" in err
    assert "did you mean 'BatchSize'" in err


def test_missing_scenario_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert f"{tmp_path / 'nope.yaml'}:1: cannot read the file" in capsys.readouterr().err


def test_unsupported_backend_choice_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --backend external for Kafka without bootstrap servers in the scenario: bad input, nothing starts.
    assert main(["run", str(ROOT / "scenarios" / "smoke.yaml"), "--backend", "external"]) == 2
    assert "bootstrap_servers" in capsys.readouterr().err


def test_ctrl_c_mid_run_stops_every_process_and_exits_130(tmp_path: Path) -> None:
    proc = start_cli("run", str(ROOT / "scenarios" / "smoke.yaml"), "--report-dir", str(tmp_path / "r"))
    out, started = interrupt_mid_run(proc, "[smoke] load")
    assert proc.returncode == 130, out
    assert "interrupted" in out
    stray = still_alive_after(started)
    assert stray == set(), [cmdline(p) for p in stray]
    assert not (tmp_path / "r").exists()  # no report for a run that did not finish
