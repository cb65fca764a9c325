"""What one run consumed (`Usage`), read from the running pipeline before it stops.

Sources: the function runtime's invocation log (count, durations, init), the Firehose emulator's metrics
(IncomingRecords, IncomingBytes and IncomingBilledBytes: each accepted record rounded up to 5,120 bytes, as
Firehose bills ingestion) and its delivery log (S3 PUT attempts, objects, bytes, delivery instants).

Example::

    usage = collect_usage(pipeline, speed=20.0, produced=3000, load_start=clock_start, clock_seconds=600.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from firehose_emulator.metrics import BILLED_BYTES
from harness.run.pipeline import Pipeline
from harness.run.result import Usage
from harness.runtime.logs import InvocationRecord, billed_duration_ms


def lambda_billed_ms(records: Iterable[InvocationRecord], speed: float) -> int:
    """Sum of each invocation's billed milliseconds at real speed: ceil((duration + init) / speed), >= 1."""
    if speed <= 0:
        raise ValueError(f"the clock speed must be positive, got {speed}")
    return sum(billed_duration_ms((r.duration_ms + (r.init_duration_ms or 0.0)) / speed) for r in records)


def window_seconds(load_start: datetime, deliveries: Sequence[datetime], fallback: float) -> float:
    """Clock seconds from the start of the load to the last delivery (`fallback` without deliveries)."""
    if not deliveries:
        return fallback
    return max(0.0, (max(deliveries) - load_start).total_seconds())


def collect_usage(
    pipeline: Pipeline,
    *,
    speed: float,
    produced: int,
    load_start: datetime,
    clock_seconds: float,
) -> Usage:
    """The usage of the run `pipeline` is running (call before it stops)."""
    runtime = pipeline.runtime
    invocations = runtime.invocations() if runtime is not None else []
    hooks = pipeline.firehose_hooks()
    metrics = hooks.metrics(pipeline.stream_name)
    log = hooks.attempts(pipeline.stream_name)
    return Usage(
        produced_records=produced,
        invocations=len(invocations),
        billed_duration_ms=lambda_billed_ms(invocations, speed),
        memory_mb=pipeline.spec.function.memory_mb,
        firehose_records=int(metrics.get("IncomingRecords", 0)),
        firehose_bytes=int(metrics.get("IncomingBytes", 0)),
        firehose_billed_bytes=int(metrics.get(BILLED_BYTES, 0)),
        s3_puts=sum(entry.attempts for entry in log),
        s3_objects=len(log),
        s3_bytes=sum(entry.object_bytes for entry in log),
        window_seconds=window_seconds(load_start, [entry.delivered_at for entry in log], clock_seconds),
    )
