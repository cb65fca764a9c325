"""The `rate_held` expectation: the load generator sent what its profile asked, within 1 % over any 10 s."""

from __future__ import annotations

from harness.load.rate import RATE_TOLERANCE, RATE_WINDOW_SECONDS, RateSecond, rate_shortfall
from harness.verify.result import CheckResult


def rate_held_enabled(setting: bool | None, *, has_faults: bool, speed: float) -> bool:
    """The scenario's `rate_held`; unset means on for load at real time without faults.

    Faults may hold the producer back on purpose; and on an accelerated clock a 10-second window is
    10/speed real seconds (25 ms at 400x), shorter than the OS's scheduling noise.
    """
    if setting is not None:
        return setting
    return not has_faults and speed == 1.0


def check_rate_held(series: tuple[RateSecond, ...], load_error: str | None = None) -> CheckResult:
    """Fails when any window of the load sent more than the tolerance short of the asked count."""
    expected = f"within {RATE_TOLERANCE:.0%} of the profile over any {RATE_WINDOW_SECONDS} s"
    if not series:
        reason = load_error or "the load generator reported no per-second rate"
        return CheckResult("rate_held", False, expected, "not measured", (reason,))
    asked = sum(s.asked for s in series)
    sent = sum(s.sent for s in series)
    seconds = len(series)
    actual = f"{sent:,} of {asked:,.0f} records asked over {seconds} s (mean {sent / seconds:,.0f}/s)"
    shortfall = rate_shortfall(series)
    if shortfall is None:
        return CheckResult("rate_held", True, expected, actual)
    return CheckResult("rate_held", False, expected, actual, (shortfall.describe(),))
