"""A scenario clock that does not count the real time a busy machine kept this process off the CPU.

At 400x, one real second of starvation is 400 clock seconds in which the pipeline did nothing: a Firehose
interval runs out early, a latency bound is blown, an object boundary moves (issue 16). `StallMeter` is one
daemon thread per process that sleeps a few milliseconds at a time and adds up how much later than asked it
woke (beyond a threshold): time the process was not scheduled. `StallAwareClock` is a `ScaledClock` whose
elapsed time leaves those stalls out, so clock time only passes while the pipeline can run. It never goes
backwards: a stall found after the fact holds the clock still until real time has made up for it.

A child process follows the same clock (the load generator's producer): `StallMeter.shared` holds the total
in shared memory, which the child inherits at spawn and reads through `stalls_in`.

Example::

    clock = StallAwareClock(start=datetime(2026, 7, 13, 14, tzinfo=UTC), speed=400)
    clock.monotonic()   # scaled seconds since creation, stalls excluded
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

HEARTBEAT_SECONDS = 0.005
STALL_THRESHOLD_SECONDS = 0.02  # lateness below this is ordinary scheduling and GIL hand-over, not a stall


class StallMeter:
    """Real seconds this process spent unscheduled since the meter started (thread-safe)."""

    def __init__(self, period: float = HEARTBEAT_SECONDS, threshold: float = STALL_THRESHOLD_SECONDS) -> None:
        self._period, self._threshold = period, threshold
        self._lock = threading.Lock()
        self._total = 0.0
        # The same total for child processes (inherited at spawn; a double is written whole).
        self.shared: Any = multiprocessing.get_context("spawn").RawValue("d", 0.0)
        self._thread = threading.Thread(target=self._run, name="msk-harness-stall-meter", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = time.monotonic()
        while True:
            time.sleep(self._period)
            now = time.monotonic()
            late = now - last - self._period
            if late > self._threshold:
                with self._lock:
                    self._total += late
                    self.shared.value = self._total
            last = now

    def stalled(self) -> float:
        """Total real seconds of stalls seen so far."""
        with self._lock:
            return self._total


_meter_lock = threading.Lock()
_meters: list[StallMeter] = []  # at most one: the process's


def process_meter() -> StallMeter:
    """The process's one meter (started on first use)."""
    with _meter_lock:
        if not _meters:
            _meters.append(StallMeter())
        return _meters[0]


class StallAwareClock:
    """Starts at `start`, runs `speed` times faster than real time, stands still while the process stalls."""

    def __init__(
        self,
        start: datetime | None = None,
        speed: float = 1.0,
        *,
        stalled: Callable[[], float] | None = None,
        real: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        if start is not None and start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        self.speed = speed
        self._stalled = stalled or process_meter().stalled
        self._real = real
        self._real_origin = real()
        self._stall_origin = self._stalled()
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._lock = threading.Lock()
        self._last = 0.0

    def _elapsed(self) -> float:
        running = self._real() - self._real_origin - (self._stalled() - self._stall_origin)
        with self._lock:
            self._last = max(self._last, running * self.speed)
            return self._last

    def monotonic(self) -> float:
        """Scaled seconds since the clock was made, stalls left out."""
        return self._elapsed()

    def now(self) -> datetime:
        """Start instant plus scaled elapsed time."""
        return self._start + timedelta(seconds=self._elapsed())

    def sleep(self, seconds: float) -> None:
        """Sleep until `seconds` of this clock's time have passed (longer in real time when stalls happen)."""
        target = self._elapsed() + seconds
        while (remaining := target - self._elapsed()) > 0:
            time.sleep(remaining / self.speed)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait for `event` up to `timeout` seconds of this clock's time; True if it was set."""
        if timeout is None:
            return event.wait()
        target = self._elapsed() + timeout
        while (remaining := target - self._elapsed()) > 0:
            if event.wait(remaining / self.speed):
                return True
        return event.is_set()


def stalls_in(shared: Any) -> Callable[[], float]:
    """A `stalled` source for a child's `StallAwareClock`: the parent's total in `StallMeter.shared`."""

    def stalled() -> float:
        return float(shared.value)

    return stalled
