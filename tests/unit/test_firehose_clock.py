"""The emulator's own clock protocol: the harness's clocks fit it by structure; RealClock scales real time."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime

import pytest

from firehose_emulator.clock import AdvanceableClock, RealClock, random_uuid
from harness.clock import FakeClock, ScaledClock, SystemClock
from harness.clock import random_uuid as harness_random_uuid


def test_only_a_fake_clock_counts_as_advanceable() -> None:
    assert isinstance(FakeClock(), AdvanceableClock)
    assert not isinstance(SystemClock(), AdvanceableClock)
    assert not isinstance(ScaledClock(speed=10.0), AdvanceableClock)
    assert not isinstance(RealClock(), AdvanceableClock)


def test_a_started_sped_up_real_clock_runs_from_its_start() -> None:
    start = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    clock = RealClock(start, speed=1000.0)
    assert start <= clock.now() < datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    before = clock.monotonic()
    clock.sleep(5.0)  # 5 ms of real time
    assert clock.monotonic() - before >= 5.0
    assert clock.wait(threading.Event(), 2.0) is False


def test_a_plain_real_clock_is_the_system_time() -> None:
    clock = RealClock()
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 1.0


def test_bad_clock_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="speed must be > 0"):
        RealClock(speed=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        RealClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive datetime is the point of the test


def test_ids_match_the_harness_helper_under_the_same_seed() -> None:
    assert random_uuid(random.Random(7)) == harness_random_uuid(random.Random(7))
