"""What the runner watches while a scenario runs: the produce ledger, pipeline counters and "settled".

* `Ledger` collects every record Kafka acknowledged (the verifier's truth) and knows the topic's end offsets
  and the load's sequence number of each (partition, offset).
* `PipelineProbe` samples the pipeline into `TimePoint`s (produced, invoked, archived, lag, objects), reading
  the ESM's attempt log and the Firehose delivery log incrementally so a sample stays cheap.
* `PipelineProbe.settled` says when nothing is left in flight: every produced record committed by the ESM and
  nothing buffered or pending in Firehose.

Lag is computed against the ledger's end offsets (the run's own topic only receives the load), so the probe
never calls the broker: sampling keeps working while a broker is stopped or paused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from firehose_emulator.delivery import DeliveredObject
from harness.esm.mapping import EventSourceMapping
from harness.esm.retry import AttemptLog
from harness.load import ProducedRecord
from harness.run.result import TimePoint


class Ledger:
    """The records Kafka acknowledged, in ack order (thread-safe: the producer's callbacks append)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[ProducedRecord] = []
        self._end: dict[int, int] = {}
        self._seq: dict[tuple[int, int], int] = {}

    def __call__(self, record: ProducedRecord) -> None:
        """Add one acknowledged record (the LoadGenerator's ledger callback)."""
        with self._lock:
            self._records.append(record)
            self._end[record.partition] = max(self._end.get(record.partition, 0), record.offset + 1)
            self._seq[(record.partition, record.offset)] = record.seq

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def records(self) -> list[ProducedRecord]:
        """A copy of every acknowledged record."""
        with self._lock:
            return list(self._records)

    def end_offsets(self) -> dict[int, int]:
        """Per partition: one past the highest acknowledged offset."""
        with self._lock:
            return dict(self._end)

    def seq_of(self, partition: int, offset: int) -> int | None:
        """The load's sequence number of the record at (partition, offset), if it was produced."""
        with self._lock:
            return self._seq.get((partition, offset))


def attempt_records(attempt: AttemptLog) -> int:
    """Records handed to the function in one attempt (offset spans; filtered gaps count as delivered)."""
    return sum(last - first + 1 for first, last in attempt.spans.values())


@dataclass
class PipelineProbe:
    """Samples the pipeline's counters; reads the append-only logs from where it left off."""

    ledger: Ledger
    esm: EventSourceMapping
    delivery_log: Callable[[], list[DeliveredObject]]
    pending_records: Callable[[], int]
    _invocations_seen: int = field(default=0, init=False)
    _invoked_records: int = field(default=0, init=False)

    def invoked_records(self) -> int:
        """Records handed to the function so far (retries counted again)."""
        attempts = self.esm.invocations()
        for attempt in attempts[self._invocations_seen :]:
            self._invoked_records += attempt_records(attempt)
        self._invocations_seen = len(attempts)
        return self._invoked_records

    def lag(self) -> int:
        """Produced but not yet committed, summed over partitions."""
        committed = self.esm.committed_offsets()
        return sum(max(0, end - committed.get(p, 0)) for p, end in self.ledger.end_offsets().items())

    def sample(self, t_seconds: float) -> TimePoint:
        """One TimePoint at clock second `t_seconds` of the run."""
        data = [o for o in self.delivery_log() if o.error_output_type is None]
        return TimePoint(
            t_seconds=t_seconds,
            produced=len(self.ledger),
            invoked_records=self.invoked_records(),
            archived_records=sum(o.record_count for o in data),
            lag=self.lag(),
            objects=len(data),
        )

    def settled(self) -> bool:
        """True when every produced record is committed and Firehose holds nothing undelivered."""
        return self.lag() == 0 and self.pending_records() == 0
