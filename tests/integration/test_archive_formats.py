"""Every archive format verified end to end through the real pipeline, clean and under per-record throttling.

Real parts throughout: embedded Kafka, the ESM, the function process (Node.js or Python), the Firehose
emulator over HTTP, moto S3, and the verifier reading the archive back in the declared (or detected) format.
Under throttling (`partial_failure`: half the records of every PutRecordBatch fail for 10 s) the team-style
archivers retry 3 times and then drop records while returning success; the loss the harness reports must be
exactly what Firehose never accepted: produced minus Firehose's own IncomingRecords, every one named by
topic/partition/offset, with nothing unreadable and nothing duplicated.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.run.result import RunResult
from harness.run.session import RunOptions, run_scenario
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NODE_EXAMPLE = EXAMPLES / "node-kafka-record-json"
PYTHON_EXAMPLE = EXAMPLES / "python-value-lines"
FORMAT_ARCHIVER = ROOT / "tests" / "fixtures" / "functions" / "format_archiver"

# The throttled runs prove more than the clean ones (same checks plus a named, exact loss); the clean runs of
# the fixture archiver are slow-marked to keep the default suite short.
CLEAN_SLOW = pytest.mark.parametrize(
    "throttled", [pytest.param(False, id="clean", marks=pytest.mark.slow), pytest.param(True, id="throttled")]
)

SCENARIO = """
name: {name}
seed: 21
clock: {{speed: 3}}
pipeline:
  topic: {{name: orders, partitions: 3}}
  event_source: {{StartingPosition: TRIM_HORIZON, BatchSize: 200, MaximumBatchingWindowInSeconds: 1}}
  function:
    code_dir: {code_dir}
    handler: {handler}
    timeout: 30
    env: {{DELIVERY_STREAM_NAME: archive, EXAMPLE_ROOT: {example}, OUTPUT: {output}}}
  firehose:
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 5}}
    CompressionFormat: GZIP
    Prefix: "{prefix}"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 200}}
  records: 2000
{faults}
verify:
{verify}
expect:
  no_loss: true
  max_duplicates_percent: {duplicates}
  settle_seconds: 60
"""
PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
THROTTLING = """faults:
  - at: 2
    until: 12
    firehose: {action: partial_failure, share: 0.5}"""


def run_in(tmp_path: Path, *, throttled: bool, **fields: str) -> RunResult:
    defaults = {
        "name": "formats",
        "code_dir": str(FORMAT_ARCHIVER),
        "handler": "format_archiver.lambda_handler",
        "example": str(PYTHON_EXAMPLE),
        "output": "none",
        "duplicates": "0",
        "verify": "  archive_format: auto",
    }
    path = tmp_path / "scenario.yaml"
    text = SCENARIO.format(prefix=PREFIX, faults=THROTTLING if throttled else "", **{**defaults, **fields})
    path.write_text(text, encoding="utf-8")
    return run_scenario(load_scenario(path), RunOptions(cwd=ROOT))


def assert_loss_is_what_firehose_refused(result: RunResult, *, throttled: bool, read_as: str) -> None:
    """Clean: nothing lost. Throttled: loss > 0 and exactly produced - IncomingRecords, all named."""
    assert result.error is None, result.error
    report = result.verification
    assert result.usage is not None
    accepted = result.usage.firehose_records
    assert report.unreadable == ()
    assert report.unexpected == ()
    assert report.corrupted == ()
    assert report.duplicates == 0
    assert report.produced == 2000
    assert len(report.lost) == report.produced - accepted
    assert report.unique_archived == accepted
    assert {line.rpartition(": ")[2].split(" (")[0] for line in report.archive_formats} == {read_as}
    no_loss = next(c for c in report.checks if c.name == "no_loss")
    if not throttled:
        assert result.passed, result.verification.failed_checks
        return
    assert report.lost, "half of each PutRecordBatch failed for 10 s: 3 retries cannot save every record"
    assert not no_loss.passed
    assert result.failed_invocations == 0  # the function "succeeded": only the ledger sees the loss
    named = [
        line.split(" (")[0].removeprefix("lost ") for line in no_loss.details if line.startswith("lost ")
    ]
    assert named == [f"{r.topic}-{r.partition}@{r.offset}" for r in report.lost[: len(named)]]


@pytest.mark.parametrize("throttled", [False, True], ids=["clean", "throttled"])
def test_node_example_kafka_record_json(tmp_path: Path, throttled: bool) -> None:
    if not (NODE_EXAMPLE / "node_modules" / "@aws-sdk" / "client-firehose").is_dir():
        pytest.skip(
            "examples/node-kafka-record-json/node_modules is missing: npm ci --prefix " + str(NODE_EXAMPLE)
        )
    scenario = load_scenario(NODE_EXAMPLE / ("throttled.yaml" if throttled else "clean.yaml"))
    result = run_scenario(scenario, RunOptions(cwd=ROOT))
    assert_loss_is_what_firehose_refused(result, throttled=throttled, read_as="kafka-record-json")


@pytest.mark.parametrize("throttled", [False, True], ids=["clean", "throttled"])
def test_python_example_value_lines(tmp_path: Path, throttled: bool) -> None:
    scenario = load_scenario(PYTHON_EXAMPLE / ("throttled.yaml" if throttled else "clean.yaml"))
    result = run_scenario(scenario, RunOptions(cwd=ROOT))
    assert_loss_is_what_firehose_refused(result, throttled=throttled, read_as="value-lines")


@CLEAN_SLOW
def test_value_concatenated_detected_by_auto(tmp_path: Path, throttled: bool) -> None:
    result = run_in(tmp_path, throttled=throttled, output="value-concatenated")
    assert_loss_is_what_firehose_refused(result, throttled=throttled, read_as="value-concatenated")


@CLEAN_SLOW
def test_user_decoder_beside_the_scenario(tmp_path: Path, throttled: bool) -> None:
    shutil.copy(FORMAT_ARCHIVER / "pipe_decoder.py", tmp_path / "pipe_decoder.py")
    decoder = "python:pipe_decoder:decode"
    result = run_in(tmp_path, throttled=throttled, output="pipe-lines", verify=f"  archive_format: {decoder}")
    assert_loss_is_what_firehose_refused(result, throttled=throttled, read_as=decoder)


def test_identity_for_transformed_values_under_throttling(tmp_path: Path) -> None:
    verify = "  archive_format: value-lines\n  identity: order.seq"
    result = run_in(tmp_path, throttled=True, output="wrapped-json", verify=verify)
    assert_loss_is_what_firehose_refused(result, throttled=True, read_as="value-lines")


@CLEAN_SLOW
def test_harness_v1_reference_archiver(tmp_path: Path, throttled: bool) -> None:
    """The project's archiver fails the batch until Firehose takes it: nothing lost (duplicates allowed)."""
    result = run_in(
        tmp_path,
        throttled=throttled,
        code_dir=str(ROOT / "harness" / "reference_archiver"),
        handler="handler.lambda_handler",
        duplicates="100",
    )
    assert result.error is None, result.error
    report = result.verification
    assert result.passed, report.failed_checks
    assert report.lost == ()
    assert report.unreadable == ()
    assert result.usage is not None
    assert report.archived_records == result.usage.firehose_records  # every accepted copy was read back
    assert {line.rpartition(": ")[2].split(" (")[0] for line in report.archive_formats} == {"harness-v1"}
