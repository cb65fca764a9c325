"""Test hooks on a running `FirehoseService`: what a harness or a test may do that no AWS API offers.

Flush buffers now, move a fake clock, force a lifecycle state, reach a stream's fault switches and the S3
fault store, read the delivery log, dropped batches, metrics and what is still buffered. The admin HTTP API
(`/_emulator/...`) and the harness both go through this handle instead of reaching into the service's
streams.

Example::

    hooks = EmulatorHooks(service)
    hooks.faults("orders").inject_call_failure("ServiceUnavailableException", times=1)
    hooks.flush("orders")
    assert hooks.attempts("orders")[-1].success
"""

from __future__ import annotations

from firehose_emulator.clock import AdvanceableClock
from firehose_emulator.delivery_types import DeliveredObject, DroppedBatch
from firehose_emulator.errors import FirehoseError
from firehose_emulator.faults import StreamFaults
from firehose_emulator.object_store import FaultyObjectStore
from firehose_emulator.service import FirehoseService
from firehose_emulator.stream import ACTIVE, STATES


class EmulatorHooks:
    """Typed test hooks on one FirehoseService (streams by name; Region defaults to the service's)."""

    def __init__(self, service: FirehoseService) -> None:
        self.service = service

    def flush(self, stream: str | None = None, region: str | None = None) -> None:
        """Seal and deliver everything buffered now (one stream or all), synchronously."""
        service = self.service
        targets = [service.stream(stream, region)] if stream is not None else service.streams(region)
        for target in targets:
            if target.delivery is not None and target.deleting_until is None:
                target.delivery.flush()

    def advance_clock(self, seconds: float) -> None:
        """Move a fake clock forward and run the flushes and retries that fall due."""
        clock = self.service.clock
        if not isinstance(clock, AdvanceableClock):
            raise FirehoseError("advance_clock needs the emulator to run on a FakeClock")
        clock.advance(seconds)
        for target in self.service.streams():
            if target.delivery is not None and target.deleting_until is None:
                target.delivery.run_due()

    def set_state(
        self,
        stream: str,
        state: str,
        failure_type: str | None = None,
        details: str | None = None,
        region: str | None = None,
    ) -> None:
        """Force a lifecycle state (e.g. CREATING_FAILED with a FailureDescription); ACTIVE clears it."""
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        target = self.service.stream(stream, region)
        with target.lock:
            target.forced_state = None if state == ACTIVE else state
            if state == ACTIVE:
                target.ready_monotonic = min(target.ready_monotonic, self.service.clock.monotonic())
            target.failure = (
                (failure_type or "UNKNOWN_ERROR", details or "") if state.endswith("_FAILED") else None
            )

    def faults(self, stream: str, region: str | None = None) -> StreamFaults:
        """The fault switches of one stream (put failures, call failures, latency, throttling)."""
        return self.service.stream(stream, region).faults

    @property
    def object_store(self) -> FaultyObjectStore:
        """The S3 side with its fault windows (failures, latency) shared by every stream."""
        return self.service.object_store

    def metrics(self, stream: str, region: str | None = None) -> dict[str, float]:
        """The stream's CloudWatch-named metrics."""
        return self.service.stream(stream, region).metrics.snapshot()

    def attempts(self, stream: str, region: str | None = None) -> list[DeliveredObject]:
        """The delivery log of one stream."""
        delivery = self.service.stream(stream, region).delivery
        return delivery.delivery_log if delivery is not None else []

    def dropped(self, stream: str, region: str | None = None) -> list[DroppedBatch]:
        """Batches dropped past the retry horizon."""
        delivery = self.service.stream(stream, region).delivery
        return delivery.dropped if delivery is not None else []

    def pending_records(self, stream: str, region: str | None = None) -> int:
        """Records buffered or sealed but not yet delivered (0 for a stream without delivery)."""
        delivery = self.service.stream(stream, region).delivery
        return delivery.pending_records() if delivery is not None else 0
