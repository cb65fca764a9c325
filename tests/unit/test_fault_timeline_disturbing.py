"""`FaultTimeline.disturbing()`: the fail-fast rule holds off while a broker, Firehose or S3 fault is on."""

from __future__ import annotations

import threading

from harness.clock import FakeClock
from harness.faults import FaultTimeline
from harness.scenario.model import Fault, FirehoseFault, FunctionFault


class Injectors:
    """Injectors that do nothing (the timeline's bookkeeping is what is tested)."""

    def start(self, fault: Fault, elapsed: float) -> None:
        """Nothing to inject."""

    def end(self, fault: Fault) -> None:
        """Nothing to end."""


def settled(timeline: FaultTimeline) -> bool:
    """`disturbing()` once the injector threads have finished (they take no time here)."""
    for thread in threading.enumerate():
        if thread.name.startswith("fault-"):
            thread.join(5)
    return timeline.disturbing()


def test_a_firehose_window_disturbs_while_it_is_open() -> None:
    clock = FakeClock()
    window = Fault(FirehoseFault("throttling"), at_seconds=5, until_seconds=10, line=3)
    timeline = FaultTimeline((window,), Injectors(), clock, origin=clock.monotonic())
    timeline.tick(0)
    assert not settled(timeline)
    clock.advance(5)
    timeline.tick(0)
    assert settled(timeline)
    clock.advance(5)
    timeline.tick(0)
    assert not settled(timeline)


def test_a_function_fault_does_not_disturb_its_failures_are_marked_injected() -> None:
    clock = FakeClock()
    pill = Fault(FunctionFault("error", message="poison"), at_seconds=0, line=4)
    timeline = FaultTimeline((pill,), Injectors(), clock, origin=clock.monotonic())
    timeline.tick(0)
    clock.advance(100)
    timeline.tick(0)
    assert not settled(timeline)
