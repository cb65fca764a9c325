"""`run --keep-archive DIR` (or the scenario's `keep_archive`) leaves every object on disk by its S3 key."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from rich.console import Console

from harness.run.command import run_command

PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
SCENARIO = """
name: keep-archive
seed: 3
keep_archive: {scenario_dir}
pipeline:
  topic: {{name: kept, partitions: 2}}
  event_source:
    source: msk
    StartingPosition: TRIM_HORIZON
    BatchSize: 100
    MaximumBatchingWindowInSeconds: 1
  function: {{runtime: python3.12, handler: handler.lambda_handler, env: {{DELIVERY_STREAM_NAME: archive}}}}
  firehose:
    stream_name: archive
    bucket: archive
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 1}}
    CompressionFormat: GZIP
    Prefix: "{prefix}"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 200}}
  records: 300
expect: {{no_loss: true, settle_seconds: 20}}
"""


def test_the_flag_keeps_every_object_in_its_key_layout(tmp_path: Path) -> None:
    # No code_dir: the reference archiver shipped as package data runs.
    path = tmp_path / "keep.yaml"
    path.write_text(SCENARIO.format(scenario_dir=tmp_path / "from-scenario", prefix=PREFIX), encoding="utf-8")
    out = io.StringIO()
    code = run_command(
        path,
        keep_archive=tmp_path / "kept",
        report_dir=tmp_path / "reports",
        console=Console(file=out, width=200),
    )
    assert code == 0, out.getvalue()
    assert "archive kept: " in out.getvalue()
    assert not (tmp_path / "from-scenario").exists()  # the flag replaces the scenario's directory
    objects = sorted((tmp_path / "kept").rglob("*.gz"))
    assert objects, list((tmp_path / "kept").rglob("*"))
    for obj in objects:
        relative = obj.relative_to(tmp_path / "kept").as_posix()
        assert relative.startswith("data/year=")
        assert "/hour=" in relative
    lines = [line for obj in objects for line in gzip.decompress(obj.read_bytes()).splitlines()]
    assert len(lines) == 300
