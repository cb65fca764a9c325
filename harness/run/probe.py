"""What the runner watches while a scenario runs: the produce ledger, pipeline counters and "settled".

* The produce `Ledger` (harness/verify/produced.py) is what the probe counts produced records and lag from.
* `PipelineProbe` samples the pipeline into `TimePoint`s (produced, invoked, archived, lag, objects), reading
  the ESM's attempt log and the Firehose delivery log incrementally so a sample stays cheap.
* `PipelineProbe.settled` says when nothing is left in flight: every produced record committed by the ESM and
  nothing buffered or pending in Firehose.

Lag is computed against the ledger's end offsets (the run's own topic only receives the load), so the probe
never calls the broker: sampling keeps working while a broker is stopped or paused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from firehose_emulator.delivery import DeliveredObject
from harness.esm.mapping import EventSourceMapping
from harness.esm.retry import AttemptLog
from harness.run.result import TimePoint
from harness.verify.produced import Ledger


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
