"""The runner catches loss: a handler that silently skips one record makes the run fail, naming that record.

The handler (tests/fixtures/functions/archiver_drops_one) is the production archiver with one deliberate bug:
it removes the record at DROP_PARTITION/DROP_OFFSET from the event before archiving. Everything else is real
(embedded Kafka, ESM, function process, Firehose emulator, moto S3, the verifier reading the archive back).
"""

from __future__ import annotations

from pathlib import Path

from harness.run.session import RunOptions, run_scenario
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
DROPPING = ROOT / "tests" / "fixtures" / "functions" / "archiver_drops_one"
ARCHIVER = ROOT / "harness" / "reference_archiver"

PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
SCENARIO = """
name: drops-one
seed: 3
pipeline:
  topic: {{name: orders, partitions: 3}}
  event_source: {{StartingPosition: TRIM_HORIZON, BatchSize: 100, MaximumBatchingWindowInSeconds: 1}}
  function:
    code_dir: {code_dir}
    handler: dropping_handler.lambda_handler
    timeout: 30
    env:
      DELIVERY_STREAM_NAME: archive
      ARCHIVER_CODE_ROOT: {archiver}
      DROP_PARTITION: "{partition}"
      DROP_OFFSET: "{offset}"
  firehose:
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 2}}
    CompressionFormat: GZIP
    Prefix: "{prefix}"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 600}}
  records: 600
expect:
  no_loss: true
  order_per_partition: true
  settle_seconds: 60
"""


def test_a_silently_dropped_record_fails_the_run_and_is_named(tmp_path: Path) -> None:
    path = tmp_path / "drops-one.yaml"
    path.write_text(
        SCENARIO.format(code_dir=DROPPING, archiver=ARCHIVER, partition=1, offset=17, prefix=PREFIX),
        encoding="utf-8",
    )
    result = run_scenario(load_scenario(path), RunOptions(cwd=ROOT))

    assert result.error is None, result.error
    assert not result.passed
    report = result.verification
    assert [(r.topic, r.partition, r.offset) for r in report.lost] == [("orders", 1, 17)]
    assert report.unique_archived == report.produced - 1
    no_loss = next(c for c in report.checks if c.name == "no_loss")
    assert not no_loss.passed
    assert any("orders-1@17" in line for line in no_loss.details), no_loss.details
    assert result.failed_invocations == 0  # the handler "succeeded": only the ledger can see the loss
