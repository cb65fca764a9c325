"""The shipped scenarios through the real runner (embedded Kafka, moto S3, Firehose emulator, real function
processes): each must end the way the scenario file says.

The smoke scenario runs through the CLI entry point (exit code and report files); the failure scenarios run
through `run_scenario` so a test can look at what was lost, diverted or faulted. Wall times are printed
(`pytest -rP` shows them); they are not asserted. Load scenarios are marked slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.run.result import RunResult
from harness.run.session import RunOptions, run_scenario
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def run(name: str) -> RunResult:
    """Run one shipped scenario and print its wall time."""
    result = run_scenario(load_scenario(SCENARIOS / name), RunOptions(cwd=ROOT))
    print(f"{name}: {result.wall_seconds:.1f} s wall, {result.clock_seconds:.0f} s clock")
    assert result.error is None, result.error
    return result


def failed_checks(result: RunResult) -> list[str]:
    """The failed checks, readable in an assertion message."""
    return [
        f"{c.name}: expected {c.expected}, got {c.actual} {c.details[:3]}"
        for c in result.verification.failed_checks
    ]


def test_smoke_exits_0_and_writes_reports(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    code = main(
        ["run", str(SCENARIOS / "smoke.yaml"), "--report-dir", str(tmp_path / "r"), "--junit", str(junit)]
    )
    assert code == 0
    document = json.loads((tmp_path / "r" / "report.json").read_text())
    assert document  # the report helper owns its layout; it must exist and parse
    assert (tmp_path / "r" / "report.html").is_file()
    assert 'failures="0"' in junit.read_text()


def test_poison_pill_without_destination_drops_the_batches_holding_it() -> None:
    result = run("failure/poison-pill-no-destination.yaml")
    assert result.passed, failed_checks(result)
    report = result.verification
    lost_keys = {ref.key for ref in report.lost}
    # Retries exhausted without a destination: the batches holding the pill are skipped, and reported lost.
    assert b"order-7" in lost_keys
    assert report.lost
    assert not report.diverted
    assert result.function_errors.get("Unhandled", 0) >= 3  # first attempt + 2 retries at least
    assert [f.ok for f in result.faults] == [True] * len(result.faults)


def test_poison_pill_with_s3_destination_diverts_exactly_that_record() -> None:
    result = run("failure/poison-pill-s3-destination.yaml")
    assert result.passed, failed_checks(result)
    report = result.verification
    assert [(r.partition, r.offset) for r in report.diverted] == [(1, 42)]
    assert report.lost == ()  # bisect isolated the pill: everything else is archived
    assert report.unique_archived == report.produced - 1


def test_function_timeouts_are_retried_until_everything_is_archived() -> None:
    result = run("failure/function-timeout.yaml")
    assert result.passed, failed_checks(result)
    assert result.function_errors == {"Sandbox.Timedout": 3}
    assert result.verification.lost == ()


def test_900_second_buffer_delivers_only_at_interval_ends() -> None:
    result = run("failure/buffer-900s.yaml")
    assert result.passed, failed_checks(result)
    assert 2 <= len(result.verification.objects) <= 3
    assert min(result.verification.latencies_ms) >= 0


def test_hour_rollover_writes_keys_under_both_years() -> None:
    result = run("failure/hour-rollover.yaml")
    assert result.passed, failed_checks(result)
    hours = set(result.verification.objects_per_hour)
    assert {"2026/12/31/23", "2027/01/01/00"} <= hours


@pytest.mark.parametrize(
    "name",
    [
        "failure/firehose-throttling.yaml",
        "failure/firehose-partial-failures.yaml",
        "failure/s3-outage.yaml",
        "failure/rolling-restart.yaml",
    ],
)
def test_transient_faults_lose_nothing(name: str) -> None:
    result = run(name)
    assert result.passed, failed_checks(result)
    assert result.faults, "the fault must have fired"
    assert all(event.ok for event in result.faults), result.faults
    assert result.verification.lost == ()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["load/steady-5k.yaml", "load/bursts.yaml"])
def test_load_scenarios_pass(name: str) -> None:
    result = run(name)
    assert result.passed, failed_checks(result)
