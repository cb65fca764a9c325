"""When the runner may stop settling: never while Firehose still holds records its interval will deliver.

A fast clock turns each real second of delay on a busy machine into hundreds of clock seconds, so a fixed
`settle_seconds` can run out while records sit in the Firehose buffer waiting for its interval (issue 16:
"420 lost" that were only buffered). Past the deadline, `SettleWatch` keeps waiting while Firehose holds
records, for at most one more buffer interval of clock time (by then the buffer is due) and at most
`wall_cap_seconds` of real time. Records the ESM never committed (a stuck partition) get no extension: nothing
would deliver them.

Example::

    watch = SettleWatch(deadline=clock.monotonic() + 1000, grace=900 * 1.1, wall_cap_seconds=120)
    while (verdict := watch.verdict(clock.monotonic(), wall.monotonic(), settled, pending)) == "wait": ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["settled", "wait", "gave_up"]
DEFAULT_INTERVAL_SECONDS = 300.0  # Firehose's default BufferingHints.IntervalInSeconds


def firehose_grace(settings: Mapping[str, Any]) -> float:
    """Clock seconds one buffer interval may still take (the stream's interval, plus 10 % for the ticker)."""
    hints = settings.get("BufferingHints")
    interval = hints.get("IntervalInSeconds") if isinstance(hints, Mapping) else None
    seconds = float(interval) if isinstance(interval, int | float) else DEFAULT_INTERVAL_SECONDS
    return seconds * 1.1


@dataclass
class SettleWatch:
    """The settle loop's stop rule; `extended` says whether the Firehose grace was needed."""

    deadline: float
    grace: float
    wall_cap_seconds: float = 120.0
    extended: bool = field(default=False, init=False)
    _wall_at_deadline: float | None = field(default=None, init=False)

    def verdict(self, clock_now: float, wall_now: float, settled: bool, firehose_pending: int) -> Verdict:
        """'settled', 'wait' (tick again) or 'gave_up' (the deadline and any grace are spent)."""
        if settled:
            return "settled"
        if clock_now < self.deadline:
            return "wait"
        if firehose_pending <= 0:
            return "gave_up"
        if self._wall_at_deadline is None:
            self._wall_at_deadline = wall_now
            self.extended = True
        within_grace = clock_now < self.deadline + self.grace
        within_wall = wall_now - self._wall_at_deadline < self.wall_cap_seconds
        return "wait" if within_grace and within_wall else "gave_up"
