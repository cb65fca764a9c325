"""What one run consumed (`Usage`), read from the running pipeline before it stops.

Sources: the function runtime's invocation log (count, durations, init), the Firehose emulator's metrics
(IncomingRecords/IncomingBytes, and IncomingBilledBytes when the service counts it) and its delivery log (S3
PUT attempts, objects, bytes, delivery instants).

Firehose bills ingestion per record rounded up to 5,120 bytes, so the billed bytes need each record's size.
When the emulator does not count them itself, `record_sizes=True` reads the delivered data objects back and
takes each line as one record: exact for writers that send one newline-terminated line per Firehose record
(the archiver does, see lambda/archive_format.py), wrong for writers that pack several lines into a record.

Example::

    usage = collect_usage(pipeline, speed=20.0, produced=3000, load_start=clock_start, record_sizes=True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from firehose_emulator.metrics import BILLED_BYTES, billed_record_bytes
from harness.runner_pipeline import Pipeline
from harness.runner_result import Usage
from harness.runtime.logs import InvocationRecord, billed_duration_ms
from harness.verify.codec import decompress, detect_compression


def lambda_billed_ms(records: Iterable[InvocationRecord], speed: float) -> int:
    """Sum of each invocation's billed milliseconds at real speed: ceil((duration + init) / speed), >= 1."""
    if speed <= 0:
        raise ValueError(f"the clock speed must be positive, got {speed}")
    return sum(billed_duration_ms((r.duration_ms + (r.init_duration_ms or 0.0)) / speed) for r in records)


def billed_bytes_of_lines(body: bytes) -> int:
    """Billed ingestion bytes of an uncompressed object body read as one Firehose record per line."""
    return sum(billed_record_bytes(len(line)) for line in body.splitlines(keepends=True))


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
    record_sizes: bool = False,
) -> Usage:
    """The usage of the run `pipeline` is running (call before it stops)."""
    runtime = pipeline.runtime
    invocations = runtime.invocations() if runtime is not None else []
    service = pipeline.firehose_service()
    metrics = service.metrics(pipeline.stream_name)
    log = service.attempts(pipeline.stream_name)
    billed: int | None = None
    if BILLED_BYTES in metrics:
        billed = int(metrics[BILLED_BYTES])
    elif record_sizes:
        billed = _billed_bytes_from_objects(pipeline.s3_client(), log)
    return Usage(
        produced_records=produced,
        invocations=len(invocations),
        billed_duration_ms=lambda_billed_ms(invocations, speed),
        memory_mb=pipeline.spec.function.memory_mb,
        firehose_records=int(metrics.get("IncomingRecords", 0)),
        firehose_bytes=int(metrics.get("IncomingBytes", 0)),
        firehose_billed_bytes=billed,
        s3_puts=sum(entry.attempts for entry in log),
        s3_objects=len(log),
        s3_bytes=sum(entry.object_bytes for entry in log),
        window_seconds=window_seconds(load_start, [entry.delivered_at for entry in log], clock_seconds),
    )


def _billed_bytes_from_objects(s3: Any, log: Sequence[Any]) -> int:
    total = 0
    for entry in log:
        if entry.error_output_type is not None:
            continue  # error output holds failed records re-wrapped, not records Firehose ingested
        response = s3.get_object(Bucket=entry.bucket, Key=entry.key)
        body = response["Body"].read()
        fmt = detect_compression(entry.key, response.get("ContentEncoding"), body)
        total += billed_bytes_of_lines(decompress(fmt, body))
    return total
