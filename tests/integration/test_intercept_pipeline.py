"""Each old-SDK archiver runs unchanged through the real pipeline with endpoint variables unset, and verifies.

Embedded Kafka -> ESM -> the function (JS SDK v3 3.382 / JS SDK v2 / vendored boto3 1.27) -> the harness's
HTTPS front -> our Firehose emulator -> moto S3 -> the verifier. `aws_endpoints: intercept` removes every
AWS_ENDPOINT_URL_* from the function, so the archive can only arrive through interception; the report says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.run.session import RunOptions, run_scenario
from harness.scenario import load_scenario
from tests.integration.test_intercept_sdks import FIXTURES, ROOT, SDKS, require_sdk

PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
SCENARIO = """
name: intercept-{slug}
seed: 5
pipeline:
  topic: {{name: orders, partitions: 2}}
  event_source: {{StartingPosition: TRIM_HORIZON, BatchSize: 100, MaximumBatchingWindowInSeconds: 1}}
  function:
    runtime: {runtime}
    code_dir: {code_dir}
    handler: {handler}
    timeout: 30
    aws_endpoints: intercept
    layers: {layers}
    env:
      DELIVERY_STREAM_NAME: archive
      ARCHIVER_CODE_ROOT: {archiver}
  firehose:
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 2}}
    CompressionFormat: GZIP
    Prefix: "{prefix}"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 300}}
  records: 300
expect:
  no_loss: true
  order_per_partition: true
  settle_seconds: 60
"""


@pytest.mark.parametrize("name", sorted(SDKS))
def test_old_sdk_archiver_verifies_through_interception(name: str, tmp_path: Path) -> None:
    sdk = SDKS[name]
    require_sdk(sdk)
    path = tmp_path / "scenario.yaml"
    path.write_text(
        SCENARIO.format(
            slug=name.replace(".", "-"),
            runtime=sdk.runtime,
            code_dir=FIXTURES / sdk.code,
            handler=sdk.handler,
            archiver=ROOT / "harness" / "reference_archiver",
            prefix=PREFIX,
            layers=json.dumps([str(layer) for layer in sdk.layers]),
        ),
        encoding="utf-8",
    )
    result = run_scenario(load_scenario(path), RunOptions(cwd=ROOT))

    assert result.error is None, result.error
    assert result.passed, [c for c in result.verification.checks if not c.passed]
    assert result.verification.unique_archived == result.verification.produced == 300
    use = result.aws_endpoints
    assert use is not None
    assert use.mode == "intercept"
    assert use.intercepted.get("firehose", 0) > 0, use
    assert use.refused == {}
    assert "intercept: intercepted firehose x" in use.describe()
