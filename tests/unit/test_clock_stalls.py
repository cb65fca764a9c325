"""The stall-aware clock: real time the process spent unscheduled does not count as clock time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.clock_stalls import StallAwareClock

START = datetime(2026, 7, 13, 14, tzinfo=UTC)


class _Source:
    """A hand-moved real time and stall total (what time.monotonic and the meter would say)."""

    def __init__(self) -> None:
        self.real = 100.0
        self.stalled = 5.0


def test_clock_time_runs_at_speed_without_stalls() -> None:
    src = _Source()
    clock = StallAwareClock(START, 400, stalled=lambda: src.stalled, real=lambda: src.real)
    src.real += 2.5
    assert clock.monotonic() == 1000.0
    assert clock.now() == START + timedelta(seconds=1000)


def test_a_stall_is_left_out_and_the_clock_never_goes_back() -> None:
    src = _Source()
    clock = StallAwareClock(START, 400, stalled=lambda: src.stalled, real=lambda: src.real)
    src.real += 1.0
    assert clock.monotonic() == 400.0  # read during the stall, before the meter noticed it
    src.stalled += 0.75  # the meter now reports 0.75 real s of starvation
    src.real += 0.5
    assert clock.monotonic() == 400.0  # held still: 1.5 - 0.75 real s = 300 clock s < 400 already shown
    src.real += 0.5
    assert clock.monotonic() == 500.0  # running again, the stall left out
