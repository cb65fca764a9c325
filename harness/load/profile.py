"""Rate profiles (pure): records/s as a piecewise-linear function of clock seconds.

`schedule()` gives the send times (record k goes out when the integral of the rate reaches k), so a profile
is reproducible and testable without a broker.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

_INF = math.inf


@dataclass(frozen=True)
class Segment:
    """Rate moving linearly from `start_rate` to `end_rate` between clock seconds `start` and `end`."""

    start: float
    end: float
    start_rate: float
    end_rate: float

    def rate_at(self, t: float) -> float:
        """Rate at `t` inside this segment."""
        if self.end == _INF or self.start_rate == self.end_rate:
            return self.start_rate
        return self.start_rate + (self.end_rate - self.start_rate) * (t - self.start) / (
            self.end - self.start
        )

    def count_until(self, t: float) -> float:
        """Records sent from the segment start up to `t` (the integral of the rate)."""
        tau = min(t, self.end) - self.start
        if tau <= 0:
            return 0.0
        if tau == _INF:
            return _INF if self.start_rate > 0 else 0.0
        slope = 0.0 if self.end == _INF else (self.end_rate - self.start_rate) / (self.end - self.start)
        return self.start_rate * tau + slope * tau * tau / 2

    def time_of(self, count: float) -> float:
        """Clock second at which the integral since the segment start reaches `count` (must lie inside)."""
        if count <= 0:
            return self.start
        r0 = self.start_rate
        slope = 0.0 if self.end == _INF else (self.end_rate - r0) / (self.end - self.start)
        if abs(slope) < 1e-12:
            return self.start + count / r0
        # Solve slope/2 * tau^2 + r0 * tau - count = 0 in the numerically stable form.
        root = math.sqrt(max(0.0, r0 * r0 + 2 * slope * count))
        return self.start + 2 * count / (r0 + root)


@dataclass(frozen=True)
class RateProfile:
    """Records per clock second over time; `kind` is constant, ramp, step or burst."""

    kind: Literal["constant", "ramp", "step", "burst"]
    segments: tuple[Segment, ...]
    periodic: tuple[Segment, ...] = ()  # repeated forever after `segments`, each copy `period` long
    period: float = 0.0

    @classmethod
    def constant(cls, rate: float) -> RateProfile:
        """`rate` records/s forever."""
        _check_rate(rate, positive=True)
        return cls("constant", (Segment(0.0, _INF, rate, rate),))

    @classmethod
    def ramp(cls, start_rate: float, end_rate: float, ramp_seconds: float) -> RateProfile:
        """Linear from `start_rate` to `end_rate` over `ramp_seconds`, then `end_rate`."""
        _check_rate(start_rate)
        _check_rate(end_rate)
        if ramp_seconds <= 0:
            raise ValueError(f"ramp_seconds must be > 0, got {ramp_seconds}")
        if start_rate == 0 and end_rate == 0:
            raise ValueError("a ramp from 0 to 0 sends nothing")
        return cls(
            "ramp",
            (
                Segment(0.0, ramp_seconds, start_rate, end_rate),
                Segment(ramp_seconds, _INF, end_rate, end_rate),
            ),
        )

    @classmethod
    def step(cls, steps: list[tuple[float, float]]) -> RateProfile:
        """Rate `r` from time `t` on, for each `(t, r)`; the first step is at 0 and times increase."""
        if not steps or steps[0][0] != 0:
            raise ValueError("the first step must be at 0")
        for (t0, _), (t1, _) in itertools.pairwise(steps):
            if t1 <= t0:
                raise ValueError(f"step times must increase ({t0} then {t1})")
        for _, rate in steps:
            _check_rate(rate)
        ends = [t for t, _ in steps[1:]] + [_INF]
        return cls(
            "step",
            tuple(Segment(float(t), float(end), r, r) for (t, r), end in zip(steps, ends, strict=True)),
        )

    @classmethod
    def burst(
        cls, base_rate: float, burst_rate: float, every: float, length: float, first_at: float = 0.0
    ) -> RateProfile:
        """`base_rate`, with `burst_rate` for `length` seconds every `every` seconds from `first_at` on."""
        _check_rate(base_rate)
        _check_rate(burst_rate, positive=True)
        if not 0 < length < every:
            raise ValueError(f"burst length must be in (0, every={every}), got {length}")
        if first_at < 0:
            raise ValueError("first_at must be >= 0")
        lead = (Segment(0.0, first_at, base_rate, base_rate),) if first_at > 0 else ()
        cycle = (Segment(0.0, length, burst_rate, burst_rate), Segment(length, every, base_rate, base_rate))
        return cls("burst", lead, cycle, every)

    def iter_segments(self) -> Iterator[Segment]:
        """All segments in time order (a burst profile's cycle repeats forever)."""
        yield from self.segments
        if not self.periodic:
            return
        origin = self.segments[-1].end if self.segments else 0.0
        while True:
            for seg in self.periodic:
                yield _shift(seg, origin)
            origin += self.period

    def rate_at(self, t: float) -> float:
        """Records/s at clock second `t` (0 before the start)."""
        if t < 0:
            return 0.0
        for seg in self.iter_segments():
            if seg.start <= t < seg.end:
                return seg.rate_at(t)
        return 0.0  # pragma: no cover - segments cover [0, inf)

    def count_until(self, t: float) -> float:
        """Expected number of records sent in [0, t)."""
        total = 0.0
        for seg in self.iter_segments():
            if seg.start >= t:
                break
            total += seg.count_until(t)
        return total

    def time_for_records(self, records: int) -> float:
        """Clock second at which the last of `records` records is sent (inf if the rate never gets there)."""
        if records <= 0:
            return 0.0
        target = records - 1  # record k goes out when the integral reaches k
        before = 0.0
        for seg in self.iter_segments():
            in_seg = seg.count_until(seg.end)
            if target - before < in_seg - 1e-9:  # the same test `schedule` uses
                return seg.time_of(target - before)
            if in_seg == 0 and seg.end == _INF:
                return _INF
            before += in_seg
        return _INF  # pragma: no cover - the last segment is infinite

    def schedule(self, duration: float | None = None, records: int | None = None) -> Iterator[float]:
        """Send times in [0, duration): record k goes out when the rate's integral reaches k (from 0)."""
        if duration is None and records is None:
            raise ValueError("give a duration, a record count or both")
        horizon = _INF if duration is None else duration
        sent = 0
        before = 0.0  # records due before the current segment
        for seg in self.iter_segments():
            if seg.start >= horizon:
                return
            in_seg = seg.count_until(seg.end)
            while sent - before < in_seg - 1e-9:
                if records is not None and sent >= records:
                    return
                t = seg.time_of(sent - before)
                if t >= horizon:
                    return
                yield t
                sent += 1
            if in_seg == 0 and seg.end == _INF:
                return  # the rate stays 0 from here on
            before += in_seg


def _shift(seg: Segment, by: float) -> Segment:
    return Segment(seg.start + by, seg.end + by, seg.start_rate, seg.end_rate)


def _check_rate(rate: float, *, positive: bool = False) -> None:
    if rate < 0 or (positive and rate == 0) or not math.isfinite(rate):
        raise ValueError(f"rate must be {'> 0' if positive else '>= 0'} and finite, got {rate}")
