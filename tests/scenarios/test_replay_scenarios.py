"""The shipped replay scenarios through the real runner: run the pipeline, archive, replay a selection into a
fresh embedded Kafka and verify it. Wall times are printed, not asserted."""

from __future__ import annotations

from pathlib import Path

from harness.run.result import RunResult
from harness.run.session import RunOptions, run_scenario
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
REPLAY_CHECKS = {"replay_complete", "replay_byte_identical", "replay_order", "replay_selected"}


def run(name: str) -> RunResult:
    result = run_scenario(load_scenario(ROOT / "scenarios" / "replay" / name), RunOptions(cwd=ROOT))
    print(f"{name}: {result.wall_seconds:.1f} s wall")
    assert result.error is None, result.error
    failed = [
        f"{c.name}: {c.expected} / {c.actual} {c.details[:3]}" for c in result.verification.failed_checks
    ]
    assert result.passed, failed
    return result


def checks(result: RunResult) -> dict[str, str]:
    return {c.name: c.actual for c in result.verification.checks}


def test_filtered_subset_replays_only_the_selection_byte_identical() -> None:
    result = run("filtered-subset.yaml")
    found = checks(result)
    assert found.keys() >= REPLAY_CHECKS
    selected = int(found["replay_selected"])
    assert 0 < selected < result.verification.produced // 10  # a real subset, not everything
    assert found["replay_byte_identical"] == f"{selected} identical, 0 differ, 0 unexpected"


def test_archive_written_under_faults_is_deduplicated_and_replayed_exactly_once() -> None:
    result = run("after-faults.yaml")
    found = checks(result)
    assert result.verification.duplicates > 0  # the faults really duplicated archived records
    assert int(found["replay_duplicates_removed"]) == result.verification.duplicates
    assert found["replay_selected"] == str(result.verification.produced)
    assert (
        found["replay_byte_identical"] == f"{result.verification.produced} identical, 0 differ, 0 unexpected"
    )
