"""The emulator's own notion of time and ids, so it depends on nothing outside itself.

Any object with these methods is a `Clock` (the harness's SystemClock, ScaledClock and FakeClock are, by
structure); an `AdvanceableClock` can also be moved forward by hand (the admin API's advance_clock).
Run standalone, the emulator uses `RealClock`: real time, optionally from a chosen start and sped up.

Example::

    clock = RealClock(start=datetime(2026, 12, 31, 23, 59, tzinfo=UTC), speed=60.0)
    request_id = random_uuid(random.Random(7))
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


class Clock(Protocol):
    """What the emulator needs of time: monotonic seconds, aware UTC now, and blocking waits."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (same scale as `sleep`)."""
        ...

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of this clock's time."""
        ...

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait for `event` up to `timeout` seconds of this clock's time; True if it was set."""
        ...


@runtime_checkable
class AdvanceableClock(Clock, Protocol):
    """A clock that moves only when told (a test's fake clock)."""

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose time has come."""
        ...


class RealClock:
    """Real time from `start` (default: now), `speed` times faster than the wall clock (1.0 = real time)."""

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        if start is not None and start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        self.speed = speed
        self._origin = time.monotonic()
        self._wall = start is None and speed == 1.0  # plain real time: now() is the system's UTC now
        self._start = (start or datetime.now(UTC)).astimezone(UTC)

    def monotonic(self) -> float:
        """Scaled seconds since the clock was made."""
        return (time.monotonic() - self._origin) * self.speed

    def now(self) -> datetime:
        """The start instant plus scaled elapsed time (the system's UTC now for plain real time)."""
        if self._wall:
            return datetime.now(UTC)
        return self._start + timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of scaled time."""
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait with a scaled timeout."""
        return event.wait(None if timeout is None else max(0.0, timeout / self.speed))


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from an injected RNG (so ids are reproducible under a seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
