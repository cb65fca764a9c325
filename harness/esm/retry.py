"""Retry policy for one batch (§4.2 to §4.4): retry forever, or the provisioned-mode controls.

`BatchRunner.run(batch)` invokes, interprets the outcome and loops as the spec's per-batch algorithm says:

    drop records older than MaximumRecordAgeInSeconds (report them)        # before every attempt
    success -> commit all; partial failure -> commit the per-partition prefix, retry the rest
    error + bisect + n > 1 -> first half, then second half (each with a fresh retry budget)
    error + retries left -> same batch again; exhausted -> report, commit past the batch

Commits go through the `commit(tp, next_offset)` callback as soon as a prefix of a partition is done, so a
failing partition never holds back the others of the same event once they succeeded.

Known deviations from AWS:
- Bisecting flattens the batch in map-key then offset order and cuts at n // 2 (`bisect_strategy`).
- A batch that can never be delivered (too big, or exhausted under `exhausted_without_destination=block`)
  is reported as `blocked`: its partitions stop there, nothing is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.clock import Clock
from harness.esm.batcher import Batch, TopicPartition, subset_event_bytes
from harness.esm.event_builder import KafkaRecord, SchemaFormats
from harness.esm.invoker import InvocationOutcome, Invoker
from harness.esm.knobs import EsmKnobs
from harness.esm.responses import parse_batch_response
from harness.esm.settings import EsmConfig


@dataclass(frozen=True)
class AttemptLog:
    """One invocation of a (sub)batch, as the mapping's invocation log records it."""

    request_id: str
    spans: dict[str, tuple[int, int]]  # map key -> (first offset, last offset) of delivered records
    attempt: int
    outcome: str  # ok | partial | function_error | invalid_response
    duration_ms: float
    error_type: str | None
    started_at: float  # clock.monotonic() when the invocation started


@dataclass(frozen=True)
class FailureReport:
    """Records the ESM gives up on, with what an on-failure destination record needs (§4.5)."""

    condition: str  # RetriesExhausted | RecordAgeExceeded | MaximumPayloadSizeExceeded
    records: tuple[KafkaRecord, ...]
    event: bytes  # the event those records form (S3 `payload`, `payloadSize`)
    request_id: str | None
    attempts: int
    function_error: str | None  # "Unhandled" for function errors; None means responseContext null


@dataclass
class RunResult:
    """How a batch ended: `done` (everything committed) or `blocked` at the given partitions."""

    blocked: set[TopicPartition] = field(default_factory=set)
    abandoned: bool = False


class AbandonedError(Exception):
    """The mapping is stopping: leave the batch uncommitted (it is redelivered on restart)."""


class BatchRunner:
    """Runs batches to completion against an `Invoker`, committing and reporting through callbacks."""

    def __init__(
        self,
        *,
        config: EsmConfig,
        knobs: EsmKnobs,
        invoker: Invoker,
        clock: Clock,
        commit: Callable[[TopicPartition, int], None],
        report: Callable[[FailureReport], None],
        log: Callable[[AttemptLog], None],
        stopping: Callable[[], bool] = lambda: False,
        schema: SchemaFormats | None = None,
    ) -> None:
        self._config = config
        self._knobs = knobs
        self._invoker = invoker
        self._clock = clock
        self._commit = commit
        self._report = report
        self._log = log
        self._stopping = stopping
        self._schema = schema
        self._header: dict[str, object] = {}
        self._result = RunResult()

    @property
    def _has_destination(self) -> bool:
        return self._config.on_failure_destination is not None

    def run(self, batch: Batch) -> RunResult:
        """Process `batch` until it is committed, skipped, blocked or abandoned."""
        self._header = batch.header
        result = self._result = RunResult()
        try:
            if batch.oversized:
                self._oversized(batch, result)
            else:
                records = list(batch.records)
                if records or self._knobs.invoke_on_empty_batch:
                    self._attempts(records, batch.event_bytes(), result)
        except AbandonedError:
            result.abandoned = True
            return result
        for tp, (_, last) in batch.covered().items():
            if tp not in result.blocked:
                self._commit(tp, last + 1)  # filtered records at the end are covered too
        return result

    def _oversized(self, batch: Batch, result: RunResult) -> None:
        mode = self._knobs.oversized_record_mode
        skip = mode == "skip" or (mode == "auto" and self._has_destination)
        if self._has_destination:
            self._report(
                FailureReport("MaximumPayloadSizeExceeded", batch.records, batch.event_bytes(), None, 0, None)
            )
        if not skip:
            result.blocked.update(batch.partitions)

    def _event(self, records: Sequence[KafkaRecord]) -> bytes:
        return subset_event_bytes(self._header, records, self._knobs, self._schema)

    def _drop_aged(self, records: list[KafkaRecord]) -> list[KafkaRecord]:
        limit = self._config.maximum_record_age_s
        if limit < 0 or not records:
            return records
        now_ms = self._clock.now().timestamp() * 1000
        aged = [r for r in records if now_ms - r.timestamp_ms > limit * 1000]
        if not aged:
            return records
        self._report(
            FailureReport(self._knobs.record_age_condition, tuple(aged), self._event(aged), None, 0, None)
        )
        return [r for r in records if r not in aged]

    def _attempts(self, records: list[KafkaRecord], event: bytes | None, result: RunResult) -> None:
        attempts = 0  # attempts of this (sub)batch; a bisect half starts again from 0
        budget = self._config.effective_retry_attempts
        while True:
            if self._stopping():
                raise AbandonedError
            records, event = self._still_due(records, event, result)
            if not records and not self._knobs.invoke_on_empty_batch:
                return
            body = event if event is not None else self._event(records)
            attempts += 1
            outcome, verdict = self._invoke(records, body, attempts)
            if verdict[0] == "ok":
                self._done(records)
                return
            if verdict[0] == "partial":
                records = self._partial(records, verdict[1])
                event = None
                if not self._knobs.partial_failure_counts_as_retry:
                    attempts -= 1
            elif self._config.bisect_on_error and len(records) > 1:
                middle = len(records) // 2
                self._attempts(records[:middle], None, result)
                self._attempts(records[middle:], None, result)
                return
            if budget != -1 and attempts > budget:
                self._exhausted(records, body, outcome, attempts, result)
                return
            if self._knobs.retry_backoff_ms:
                self._clock.sleep(self._knobs.retry_backoff_ms / 1000)

    def _still_due(
        self, records: list[KafkaRecord], event: bytes | None, result: RunResult
    ) -> tuple[list[KafkaRecord], bytes | None]:
        """Drop records of blocked partitions and too-old records; the event is kept only if none aged out."""
        records = [r for r in records if (r.topic, r.partition) not in result.blocked]
        kept = self._drop_aged(records)
        if len(kept) != len(records):
            return kept, None
        return records, event

    def _invoke(
        self, records: list[KafkaRecord], body: bytes, attempt: int
    ) -> tuple[InvocationOutcome, tuple[str, dict[str, int]]]:
        """Invoke the function once with `body`, log the attempt, and return its outcome and verdict."""
        started = self._clock.monotonic()
        outcome = self._invoker.invoke(body)
        verdict = self._verdict(outcome, records)
        self._log(
            AttemptLog(
                outcome.request_id,
                _spans(records),
                attempt,
                verdict[0],
                outcome.duration_ms,
                outcome.error_type,
                started,
            )
        )
        return outcome, verdict

    def _verdict(self, outcome: InvocationOutcome, records: list[KafkaRecord]) -> tuple[str, dict[str, int]]:
        if not outcome.ok:
            return "function_error", {}
        if not (self._config.report_batch_item_failures or self._knobs.parse_response_without_rbif):
            return "ok", {}
        parsed = parse_batch_response(outcome.payload, records, self._knobs)
        if parsed.kind == "success":
            return "ok", {}
        if parsed.kind == "partial":
            return "partial", parsed.lowest_failed
        return "invalid_response", {}

    def _partial(self, records: list[KafkaRecord], lowest: dict[str, int]) -> list[KafkaRecord]:
        done = [r for r in records if r.offset < lowest.get(r.map_key, r.offset + 1)]
        self._done(done)
        for r in records:
            if r.map_key in lowest and r.offset == lowest[r.map_key]:
                self._commit((r.topic, r.partition), r.offset)  # everything before the failure is processed
        return [r for r in records if r not in done]

    def _done(self, records: Sequence[KafkaRecord]) -> None:
        last: dict[TopicPartition, int] = {}
        for r in records:
            tp = (r.topic, r.partition)
            if tp in self._result.blocked:
                continue  # a blocked partition never moves past its blocking record
            last[tp] = max(r.offset, last.get(tp, r.offset))
        for tp, offset in last.items():
            self._commit(tp, offset + 1)

    def _exhausted(
        self,
        records: list[KafkaRecord],
        event: bytes,
        outcome: InvocationOutcome,
        attempts: int,
        result: RunResult,
    ) -> None:
        if not self._has_destination and self._knobs.exhausted_without_destination == "block":
            result.blocked.update((r.topic, r.partition) for r in records)
            return
        if self._has_destination:
            self._report(
                FailureReport(
                    "RetriesExhausted", tuple(records), event, outcome.request_id, attempts, "Unhandled"
                )
            )
        self._done(records)


def _spans(records: Sequence[KafkaRecord]) -> dict[str, tuple[int, int]]:
    spans: dict[str, tuple[int, int]] = {}
    for r in records:
        first, last = spans.get(r.map_key, (r.offset, r.offset))
        spans[r.map_key] = (min(first, r.offset), max(last, r.offset))
    return spans
