"""Injected time: every module that needs "now", a timeout or a sleep takes a `Clock`.

Three clocks share one protocol:

* `SystemClock` — real time.
* `ScaledClock` — starts at a chosen instant and runs `speed` times faster than real time, so a
  900-second Firehose interval passes in seconds and an hour rollover can be placed where a test wants it.
* `FakeClock` — moves only when told (`advance`), for pure unit tests; `sleep`/`wait` block until another
  thread advances it (or advance it themselves with ``auto_advance=True``).

Example::

    clock = ScaledClock(start=datetime(2026, 12, 31, 23, 59, 50, tzinfo=UTC), speed=60.0)
    clock.sleep(60)          # returns after one real second
    clock.now()              # 2027-01-01 00:00:50+00:00

Randomness is injected the same way: pass a seeded `random.Random` and draw ids with `random_uuid`. Content
(records, payloads) comes from the scenario seed; identities AWS makes unique (request ids, ESM UUIDs, object
name suffixes) come from `identity_rng`, which is seeded from the OS unless a run asks for deterministic ids.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What time-dependent code needs: monotonic seconds, aware UTC now, and blocking waits."""

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


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        """Real monotonic seconds."""
        return time.monotonic()

    def now(self) -> datetime:
        """Real UTC now."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Real sleep."""
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Real event wait."""
        return event.wait(timeout)


class ScaledClock:
    """Starts at `start` and runs `speed` times faster than real time (speed 1.0 = real time)."""

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        if start is not None and start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        self.speed = speed
        self._real_origin = time.monotonic()
        self._start = (start or datetime.now(UTC)).astimezone(UTC)

    def _elapsed(self) -> float:
        return (time.monotonic() - self._real_origin) * self.speed

    def monotonic(self) -> float:
        """Scaled seconds since the clock was made."""
        return self._elapsed()

    def now(self) -> datetime:
        """Start instant plus scaled elapsed time."""
        return self._start + timedelta(seconds=self._elapsed())

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of scaled time."""
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait with a scaled timeout."""
        return event.wait(None if timeout is None else max(0.0, timeout / self.speed))


class FakeClock:
    """A clock that moves only through `advance` (or, with ``auto_advance``, through `sleep`)."""

    def __init__(self, start: datetime | None = None, *, auto_advance: bool = False) -> None:
        start = start or datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._elapsed = 0.0
        self._auto_advance = auto_advance
        self._changed = threading.Condition()

    def monotonic(self) -> float:
        """Seconds advanced so far."""
        with self._changed:
            return self._elapsed

    def now(self) -> datetime:
        """Start plus seconds advanced."""
        with self._changed:
            return self._start + timedelta(seconds=self._elapsed)

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose time has come."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._changed:
            self._elapsed += seconds
            self._changed.notify_all()

    def set(self, instant: datetime) -> None:
        """Jump forward to `instant` (which must not be earlier than now)."""
        self.advance((instant - self.now()).total_seconds())

    def sleep(self, seconds: float) -> None:
        """Advance by itself (auto_advance) or block until others have advanced time far enough."""
        if seconds <= 0:
            return
        if self._auto_advance:
            self.advance(seconds)
            return
        with self._changed:
            target = self._elapsed + seconds
            while self._elapsed < target:
                self._changed.wait()

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait for `event`, giving up once `timeout` seconds of fake time have passed."""
        if timeout is None:
            return event.wait()
        with self._changed:
            target = self._elapsed + timeout
        while not event.is_set():
            with self._changed:
                if self._elapsed >= target:
                    return event.is_set()
                if self._auto_advance:
                    self._elapsed = target
                    self._changed.notify_all()
                    continue
                # Poll briefly: the event is set by other threads, which do not notify our condition.
                self._changed.wait(0.01)
        return True


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from an injected RNG (so ids are reproducible under a seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def identity_rng(seed: int | None) -> random.Random:
    """The RNG for identities AWS makes unique: OS-seeded (fresh per run and process) when `seed` is None,
    else reproducible from `seed` (a scenario's `ids: deterministic`)."""
    return random.Random(int.from_bytes(os.urandom(16)) if seed is None else seed)
