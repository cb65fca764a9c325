"""A poison pill with Lambda's default retries (until the record expires) holds its partition: the run ends
unsettled at `settle_seconds`, names the stuck partition, and the records behind the pill count as lost."""

from __future__ import annotations

from pathlib import Path

from harness.cli import main
from harness.run.session import RunOptions, run_scenario_with_diagnostics
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
SCENARIO = f"""
name: stuck-partition
seed: 5
pipeline:
  topic: {{name: orders, partitions: 3}}
  event_source: {{StartingPosition: TRIM_HORIZON, BatchSize: 50}}
  function: {{timeout: 30, env: {{DELIVERY_STREAM_NAME: archive}}}}
  firehose:
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 1}}
    CompressionFormat: GZIP
    Prefix: "{PREFIX}"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 300}}
  records: 300
faults:
  - at: 0
    function: {{action: error, match: {{partition: 2, offset: 10}}, message: poison}}
expect:
  no_loss: true
  settle_seconds: 6
"""


def test_a_pill_retried_forever_leaves_its_partition_stuck_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "stuck.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    result, diagnostics = run_scenario_with_diagnostics(load_scenario(path), RunOptions(cwd=ROOT))

    assert result.error is None, result.error
    assert not result.passed
    assert not diagnostics.settled
    assert diagnostics.lag > 0
    # The failing event holds every partition it contains (on-demand events mix partitions), the pill's too.
    assert 2 in diagnostics.stuck_partitions
    lost = result.verification.lost
    assert {r.partition for r in lost} <= set(diagnostics.stuck_partitions)
    assert min(r.offset for r in lost if r.partition == 2) <= 10  # the pill and everything behind it
    assert result.function_errors.get("Unhandled", 0) >= 2  # retried, not skipped


def test_the_cli_says_which_partition_is_stuck(tmp_path: Path, capsys: object) -> None:
    path = tmp_path / "stuck.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    code = main(["run", str(path), "--report-dir", str(tmp_path / "r")])
    assert code == 1
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "stuck partitions" in out
    assert "orders-2" in out
    assert "not settled" in out
