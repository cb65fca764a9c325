"""The archive gate: our archiver, run by msk-harness's pytest plugin, archives every record once and in order."""

from __future__ import annotations

from pathlib import Path

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "gate.yaml"


def test_archive_conforms(run_scenario):
    result = run_scenario(SCENARIO)
    assert result.passed, result.summary()
    assert result.verification.produced == 600
    assert result.verification.unique_archived == 600
