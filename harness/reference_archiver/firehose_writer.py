"""Deliver archive lines to Firehose with PutRecordBatch: chunking, per-entry retries, backoff, a time budget.

Nothing is dropped silently: every line either gets a RecordId from Firehose or ends in `DeliveryError`, which
the handler lets propagate so the Kafka event source mapping redelivers the whole batch.

* `chunk_records` (pure) cuts lines into calls of at most 500 records and 4 MiB of decoded bytes, in order.
* `FirehoseWriter.put_all` sends them; failed entries (FailedPutCount / per-entry ErrorCode) and retryable
  whole-call errors (ServiceUnavailableException, throttling, HTTP 5xx, connection errors) are
  retried, exactly those lines and nothing else, after full-jitter exponential backoff, while the
  invocation has time left.
  Non-retryable errors (ResourceNotFoundException, InvalidArgumentException, ...) raise at once.

Example::

    writer = FirehoseWriter(client, "orders", RetryPolicy(), sleep=time.sleep, uniform=rng.random)
    stats = writer.put_all(lines, remaining_ms=context.get_remaining_time_in_millis)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024

# Whole-call error codes worth another try; any HTTP 5xx is retried as well.
RETRYABLE_CALL_CODES = frozenset(
    {
        "ServiceUnavailableException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def chunk_records(
    records: Sequence[bytes], max_records: int = MAX_BATCH_RECORDS, max_bytes: int = MAX_BATCH_BYTES
) -> list[list[int]]:
    """Indices of `records` grouped into PutRecordBatch calls (order kept, each within both limits)."""
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index, record in enumerate(records):
        if len(record) > max_bytes:
            raise ValueError(
                f"record {index} has {len(record)} bytes, more than one call carries ({max_bytes})"
            )
        if current and (len(current) >= max_records or size + len(record) > max_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(index)
        size += len(record)
    if current:
        chunks.append(current)
    return chunks


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before handing the batch back to the event source mapping."""

    max_attempts: int = 10
    base_delay_s: float = 0.1
    max_delay_s: float = 5.0
    safety_margin_ms: int = 5_000

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError(
                f"need 0 <= base_delay_s <= max_delay_s, got {self.base_delay_s}, {self.max_delay_s}"
            )
        if self.safety_margin_ms < 0:
            raise ValueError(f"safety_margin_ms must be >= 0, got {self.safety_margin_ms}")

    def backoff_cap(self, retry: int) -> float:
        """Upper bound of the delay before retry number `retry` (1-based): base * 2**(retry-1), capped."""
        return float(min(self.max_delay_s, self.base_delay_s * (2 ** (retry - 1))))


@dataclass
class DeliveryStats:
    """What one put_all did (feeds the invocation's one-line summary)."""

    lines: int = 0
    bytes: int = 0
    puts: int = 0
    attempts: int = 0
    retried_lines: int = 0
    sdk_retries: int = 0
    backoff_s: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)


class DeliveryError(RuntimeError):
    """Some lines were not delivered; the ESM must redeliver the batch. `undelivered` holds their indices."""

    def __init__(self, message: str, undelivered: Sequence[int], stats: DeliveryStats) -> None:
        super().__init__(message)
        self.undelivered = list(undelivered)
        self.stats = stats


class NonRetryableError(DeliveryError):
    """Firehose refused the call in a way no retry can fix (unknown stream, invalid argument, ...)."""


def _error_code(exc: Exception) -> tuple[str, int]:
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", type(exc).__name__))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def _sdk_retries(response: dict[str, Any]) -> int:
    return int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)


@dataclass
class _Failures:
    """The lines one attempt did not deliver, and how many failed with each error code."""

    indices: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, indices: Sequence[int], code: str, stats: DeliveryStats) -> None:
        """Record `indices` as failed with `code`, here and in the invocation's totals."""
        self.indices.extend(indices)
        self.errors[code] += len(indices)
        stats.failures[code] += len(indices)


def _collect_entry_failures(
    response: dict[str, Any], indices: list[int], failures: _Failures, stats: DeliveryStats
) -> None:
    """Add the lines of a PutRecordBatch answer that got an ErrorCode or no RecordId."""
    entries = response.get("RequestResponses", [])
    if len(entries) != len(indices):
        # Unknown which entries landed: retry all (duplicates are identifiable, loss is not).
        failures.add(indices, "MalformedResponse", stats)
        return
    for index, entry in zip(indices, entries, strict=True):
        if entry.get("ErrorCode") or not entry.get("RecordId"):
            failures.add([index], str(entry.get("ErrorCode") or "MissingRecordId"), stats)


class FirehoseWriter:
    """Puts lines into one delivery stream through a boto3 Firehose client, retrying what failed."""

    def __init__(
        self,
        client: Any,
        stream_name: str,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None],
        uniform: Callable[[], float],
    ) -> None:
        self.client = client
        self.stream_name = stream_name
        self.policy = policy
        self.sleep = sleep
        self.uniform = uniform

    def put_all(self, lines: Sequence[bytes], remaining_ms: Callable[[], int]) -> DeliveryStats:
        """Deliver every line or raise DeliveryError naming how many were not delivered and why."""
        stats = DeliveryStats(lines=len(lines), bytes=sum(len(line) for line in lines))
        pending = list(range(len(lines)))
        while pending:
            stats.attempts += 1
            failures = self._send_once(lines, pending, stats)
            pending = sorted(failures.indices)
            if pending:
                self._back_off_or_give_up(pending, lines, failures.errors, stats, remaining_ms)
        return stats

    def _send_once(self, lines: Sequence[bytes], pending: list[int], stats: DeliveryStats) -> _Failures:
        """One attempt: put every pending line, in calls within Firehose's limits; return what failed."""
        failures = _Failures()
        chunks = [[pending[i] for i in chunk] for chunk in chunk_records([lines[i] for i in pending])]
        for position, indices in enumerate(chunks):
            stats.puts += 1
            try:
                response = self.client.put_record_batch(
                    DeliveryStreamName=self.stream_name, Records=[{"Data": lines[i]} for i in indices]
                )
            except ClientError as exc:
                self._call_refused(exc, indices, failures, stats, unsent=chunks[position:], total=len(lines))
                continue
            except (ConnectionError, HTTPClientError) as exc:
                failures.add(indices, type(exc).__name__, stats)
                continue
            stats.sdk_retries += _sdk_retries(response)
            _collect_entry_failures(response, indices, failures, stats)
        return failures

    def _call_refused(
        self,
        exc: ClientError,
        indices: list[int],
        failures: _Failures,
        stats: DeliveryStats,
        *,
        unsent: Sequence[list[int]],
        total: int,
    ) -> None:
        """Count a whole-call error as lines to retry, or raise NonRetryableError when no retry can help."""
        code, status = _error_code(exc)
        stats.sdk_retries += _sdk_retries(exc.response)
        if code in RETRYABLE_CALL_CODES or status >= 500:
            failures.add(indices, code, stats)
            return
        stats.failures[code] += len(indices)
        message = exc.response.get("Error", {}).get("Message", str(exc))
        undelivered = sorted(failures.indices + [i for chunk in unsent for i in chunk])
        raise NonRetryableError(
            f"Firehose stream {self.stream_name!r} refused PutRecordBatch: {code}: {message} "
            f"({len(undelivered)} of {total} archive lines undelivered, not retried)",
            undelivered,
            stats,
        ) from exc

    def _back_off_or_give_up(
        self,
        pending: list[int],
        lines: Sequence[bytes],
        errors: Counter[str],
        stats: DeliveryStats,
        remaining_ms: Callable[[], int],
    ) -> None:
        """Sleep a full-jitter backoff, or raise DeliveryError when out of attempts or invocation time."""
        if stats.attempts >= self.policy.max_attempts:
            message = self._give_up(pending, lines, errors, "retries exhausted", stats)
            raise DeliveryError(message, pending, stats)
        delay = self.uniform() * self.policy.backoff_cap(stats.attempts)
        if remaining_ms() - delay * 1000 < self.policy.safety_margin_ms:
            message = self._give_up(pending, lines, errors, "invocation time nearly used up", stats)
            raise DeliveryError(message, pending, stats)
        stats.retried_lines += len(pending)
        stats.backoff_s += delay
        self.sleep(delay)

    def _give_up(
        self,
        pending: Sequence[int],
        lines: Sequence[bytes],
        errors: Counter[str],
        why: str,
        stats: DeliveryStats,
    ) -> str:
        reasons = ", ".join(f"{code} x{count}" for code, count in errors.most_common())
        return (
            f"{len(pending)} of {len(lines)} archive lines not delivered to Firehose stream "
            f"{self.stream_name!r} after {stats.attempts} attempt(s) ({why}); last errors: {reasons}"
        )
