"""The rate a load achieved, second by second, beside the rate its profile asked; the `rate_held` check."""

from __future__ import annotations

from dataclasses import dataclass

from harness.load.profile import RateProfile

RATE_WINDOW_SECONDS = 10  # the window: any 10 s more than 1 % short fails `rate_held`
RATE_TOLERANCE = 0.01


@dataclass(frozen=True)
class RateSecond:
    """One clock second of a load: records the profile asked for and records actually sent."""

    t_seconds: int  # clock seconds since the load started (the second [t, t+1))
    asked: float
    sent: int


def rate_series(
    profile: RateProfile, sent_per_second: list[int], send_seconds: float
) -> tuple[RateSecond, ...]:
    """Per-second asked vs sent, over the schedule (`send_seconds`) and any seconds sending ran late into."""
    seconds = max(len(sent_per_second), int(-(-send_seconds // 1)))
    series = []
    for t in range(seconds):
        end = min(t + 1.0, send_seconds)
        asked = _asked_between(profile, float(t), end) if end > t else 0.0
        sent = sent_per_second[t] if t < len(sent_per_second) else 0
        series.append(RateSecond(t, asked, sent))
    return tuple(series)


def _asked_between(profile: RateProfile, start: float, end: float) -> float:
    return profile.count_until(end) - profile.count_until(start)


@dataclass(frozen=True)
class RateShortfall:
    """The worst window in which the load sent fewer records than asked (beyond the tolerance)."""

    start: int  # clock seconds since the load started
    end: int
    asked: float
    sent: int

    @property
    def short_percent(self) -> float:
        """How far short of the asked count, in percent."""
        return 100.0 * (1 - self.sent / self.asked) if self.asked else 0.0

    def describe(self) -> str:
        """E.g. 'from 20 s to 30 s the load sent 412,003 records of 1,000,000 asked (58.8 % short)'."""
        return (
            f"from {self.start} s to {self.end} s the load sent {self.sent:,} records of {self.asked:,.0f} "
            f"asked ({self.short_percent:.1f} % short)"
        )


def rate_shortfall(
    series: tuple[RateSecond, ...], window: int = RATE_WINDOW_SECONDS, tolerance: float = RATE_TOLERANCE
) -> RateShortfall | None:
    """The worst window of `window` seconds that sent more than `tolerance` short of the asked count, if any.

    A record sent late counts in the second it went out, so a generator that falls behind and catches up
    still fails over the window it fell behind in; seconds past the schedule (nothing asked) are not judged,
    so records that ran late into them make up for nothing. A schedule shorter than the window is judged as
    one window.
    """
    scheduled = len(series)
    while scheduled and series[scheduled - 1].asked == 0:
        scheduled -= 1
    series = series[:scheduled]
    if not series:
        return None
    width = min(window, len(series))
    worst: RateShortfall | None = None
    for first in range(len(series) - width + 1):
        part = series[first : first + width]
        asked = sum(s.asked for s in part)
        sent = sum(s.sent for s in part)
        if asked > 0 and sent < asked * (1 - tolerance):
            candidate = RateShortfall(part[0].t_seconds, part[-1].t_seconds + 1, asked, sent)
            if worst is None or candidate.short_percent > worst.short_percent:
                worst = candidate
    return worst
