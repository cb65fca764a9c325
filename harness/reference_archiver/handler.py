"""Production archiver: MSK -> this Lambda (Kafka event source mapping) -> Firehose PutRecordBatch -> S3.

Handler: ``handler.lambda_handler``. Every Kafka record of the event becomes one archive line
(docs/archive-format.md, `archive_format.py`), or ordered part lines when it exceeds a Firehose record.
Lines go to Firehose in PutRecordBatch calls of <= 500 records and <= 4 MiB; failed entries and retryable
call errors are retried with full-jitter exponential backoff while the invocation has time left. If
anything stays undelivered the handler raises (naming how many records and why), so the event source
mapping redelivers the batch: no record is ever dropped silently. Redelivery can duplicate records;
(topic, partition, offset) identifies them. Each invocation logs one JSON summary line (records in, lines,
bytes, puts, retries, outcome).

Environment (read once at init; a bad value fails the init with a message naming the variable):

* ``DELIVERY_STREAM_NAME`` (required): the Firehose delivery stream.
* ``ARCHIVER_MAX_ATTEMPTS`` (10): PutRecordBatch rounds per invocation (the first one counts).
* ``ARCHIVER_BACKOFF_BASE_MS`` (100) / ``ARCHIVER_BACKOFF_MAX_MS`` (5000): the delay before retry n is uniform
  in [0, min(max, base * 2**(n-1))] ("full jitter").
* ``ARCHIVER_TIME_MARGIN_MS`` (5000): no retry is started unless this much invocation time would remain after
  its backoff, so the function fails with a clear error instead of being killed by its timeout.
* ``ARCHIVER_SDK_MAX_ATTEMPTS`` (3): botocore "standard" retry mode total attempts per HTTP call. Standard
  mode retries throttling, HTTP 5xx and connection errors of a whole call; a 5xx after Firehose stored the
  records duplicates them (spec firehose §1.2, G8), which is acceptable because duplicates are
  identifiable and a lost record is not. Per-entry failures (HTTP 200) are never retried by botocore;
  this module retries them.
* ``ARCHIVER_MAX_RECORD_BYTES`` (1024000): longest archive line sent as one Firehose record; longer lines are
  split into part lines. Lower it only to exercise splitting.
* ``ARCHIVER_CONNECT_TIMEOUT_S`` (5) / ``ARCHIVER_READ_TIMEOUT_S`` (30): botocore socket timeouts, so a hung
  call cannot eat the whole invocation.

The Firehose endpoint comes from the standard SDK settings (``AWS_ENDPOINT_URL_FIREHOSE``, ``AWS_REGION``),
which boto3 reads itself: the same code runs against AWS and against the harness's emulator.

Tests replace ``ARCHIVER.writer.sleep`` and ``ARCHIVER.writer.uniform`` (or build an ``Archiver``) so that no
test sleeps for real.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from archive_format import FIREHOSE_MAX_RECORD_BYTES, encode_lines, records_from_event
from botocore.config import Config
from firehose_writer import DeliveryError, FirehoseWriter, RetryPolicy

_MAX_RECORD = FIREHOSE_MAX_RECORD_BYTES


class ConfigError(ValueError):
    """An environment variable is missing or malformed."""


def _env_int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True)
class ArchiverConfig:
    """Everything the archiver reads from its environment, parsed strictly once."""

    delivery_stream_name: str
    retry: RetryPolicy
    sdk_max_attempts: int = 3
    max_record_bytes: int = FIREHOSE_MAX_RECORD_BYTES
    connect_timeout_s: int = 5
    read_timeout_s: int = 30

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ArchiverConfig:
        """Parse the environment variables listed in the module docstring."""
        stream = environ.get("DELIVERY_STREAM_NAME", "").strip()
        if not stream:
            raise ConfigError(
                "DELIVERY_STREAM_NAME is not set: set it to the Firehose delivery stream to archive to"
            )
        base_ms = _env_int(environ, "ARCHIVER_BACKOFF_BASE_MS", 100, 0, 60_000)
        max_ms = _env_int(environ, "ARCHIVER_BACKOFF_MAX_MS", 5_000, 0, 300_000)
        if max_ms < base_ms:
            raise ConfigError(
                f"ARCHIVER_BACKOFF_MAX_MS ({max_ms}) must be >= ARCHIVER_BACKOFF_BASE_MS ({base_ms})"
            )
        return cls(
            delivery_stream_name=stream,
            retry=RetryPolicy(
                max_attempts=_env_int(environ, "ARCHIVER_MAX_ATTEMPTS", 10, 1, 1_000),
                base_delay_s=base_ms / 1000,
                max_delay_s=max_ms / 1000,
                safety_margin_ms=_env_int(environ, "ARCHIVER_TIME_MARGIN_MS", 5_000, 0, 900_000),
            ),
            sdk_max_attempts=_env_int(environ, "ARCHIVER_SDK_MAX_ATTEMPTS", 3, 1, 10),
            max_record_bytes=_env_int(
                environ, "ARCHIVER_MAX_RECORD_BYTES", FIREHOSE_MAX_RECORD_BYTES, 1_024, _MAX_RECORD
            ),
            connect_timeout_s=_env_int(environ, "ARCHIVER_CONNECT_TIMEOUT_S", 5, 1, 300),
            read_timeout_s=_env_int(environ, "ARCHIVER_READ_TIMEOUT_S", 30, 1, 900),
        )


def make_firehose_client(config: ArchiverConfig) -> Any:
    """A boto3 Firehose client; endpoint and region come from the standard AWS environment.

    Client-side parameter validation is off: `chunk_records` already keeps every call well formed, and
    walking 500 entries per call cost about a fifth of the function's CPU. Firehose still validates
    every request; a refusal surfaces as a non-retryable error, as it would with validation on.
    """
    return boto3.client(
        "firehose",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": config.sdk_max_attempts},
            connect_timeout=config.connect_timeout_s,
            read_timeout=config.read_timeout_s,
            parameter_validation=False,
        ),
    )


class ArchiveBatchError(RuntimeError):
    """Raised to make the event source mapping redeliver the batch; says how many records failed and why."""


class Archiver:
    """Turns one Kafka event into archive lines and delivers them all, or raises."""

    def __init__(self, config: ArchiverConfig, writer: FirehoseWriter, log: Callable[[str], None]) -> None:
        self.config = config
        self.writer = writer
        self.log = log

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Archive every record of `event`, return the logged summary; raise ArchiveBatchError on failure."""
        records = records_from_event(event)
        lines: list[bytes] = []
        owner: list[int] = []  # line index -> record index
        split = 0
        offsets: dict[str, list[int]] = {}
        for index, record in enumerate(records):
            record_lines = encode_lines(record, self.config.max_record_bytes)
            split += len(record_lines) > 1
            lines.extend(record_lines)
            owner.extend([index] * len(record_lines))
            span = offsets.setdefault(f"{record.topic}-{record.partition}", [record.offset, record.offset])
            span[0], span[1] = min(span[0], record.offset), max(span[1], record.offset)
        summary: dict[str, Any] = {
            "message": "archiver invocation",
            "requestId": getattr(context, "aws_request_id", None),
            "stream": self.config.delivery_stream_name,
            "records": len(records),
            "splitRecords": split,
            "lines": len(lines),
            "offsets": offsets,
        }
        if not lines:
            summary.update(outcome="empty", bytes=0, puts=0, attempts=0)
            self.log(json.dumps(summary, separators=(",", ":")))
            return summary
        try:
            stats = self.writer.put_all(lines, remaining_ms=context.get_remaining_time_in_millis)
        except DeliveryError as exc:
            failed_records = len({owner[i] for i in exc.undelivered})
            summary.update(self._stats_fields(exc.stats), outcome="failed", failedRecords=failed_records)
            summary["error"] = str(exc)
            self.log(json.dumps(summary, separators=(",", ":")))
            raise ArchiveBatchError(
                f"{failed_records} of {len(records)} Kafka records not archived, "
                f"the batch must be redelivered: {exc}"
            ) from exc
        summary.update(self._stats_fields(stats), outcome="delivered")
        self.log(json.dumps(summary, separators=(",", ":")))
        return summary

    @staticmethod
    def _stats_fields(stats: Any) -> dict[str, Any]:
        return {
            "bytes": stats.bytes,
            "puts": stats.puts,
            "attempts": stats.attempts,
            "retriedLines": stats.retried_lines,
            "sdkRetries": stats.sdk_retries,
            "backoffMs": round(stats.backoff_s * 1000),
            "failures": dict(stats.failures),
        }


def build_archiver(
    environ: Mapping[str, str],
    *,
    client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    uniform: Callable[[], float] | None = None,
    log: Callable[[str], None] = print,
) -> Archiver:
    """An Archiver configured from `environ` (client built from the AWS environment unless given)."""
    config = ArchiverConfig.from_env(environ)
    writer = FirehoseWriter(
        client if client is not None else make_firehose_client(config),
        config.delivery_stream_name,
        config.retry,
        sleep=sleep,
        uniform=uniform if uniform is not None else random.Random().random,
    )
    return Archiver(config, writer, log)


# Built once per execution environment (Lambda init), reused by every invocation.
ARCHIVER = build_archiver(os.environ)


def lambda_handler(event: Mapping[str, Any], context: Any) -> None:
    """Lambda entry point: archive the Kafka batch or raise so that it is redelivered."""
    ARCHIVER.handle(event, context)
