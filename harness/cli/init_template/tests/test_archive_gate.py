"""The archive gate: through msk-harness's pytest plugin, our archiver keeps every record once, in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "gate.yaml"


def test_archive_conforms(run_scenario: Any) -> None:
    result = run_scenario(SCENARIO)
    assert result.passed, result.summary()
    assert result.verification.produced == 600
    assert result.verification.unique_archived == 600
