"""The producer process keeps the run's time: its clock stands still while the parent process stalls."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime

from harness.clock import ScaledClock
from harness.load.producer_process import Go, _following


def test_the_child_clock_stands_still_while_the_parent_stalls() -> None:
    shared = multiprocessing.get_context("spawn").RawValue("d", 0.0)
    clock = _following(
        Go(ScaledClock(start=datetime(2026, 7, 13, tzinfo=UTC), speed=100.0), None, 10), shared
    ).clock
    time.sleep(0.05)
    running = clock.monotonic()
    assert running > 0  # it runs while the parent does
    shared.value = 60.0  # the parent reports a minute of real time off the CPU
    time.sleep(0.05)
    assert clock.monotonic() == running  # held still (never backwards) until real time makes the stall up


def test_without_a_share_the_child_keeps_the_plain_clock() -> None:
    go = Go(ScaledClock(start=datetime(2026, 7, 13, tzinfo=UTC), speed=100.0), None, 10)
    assert _following(go, None) is go
