"""Key-space pruning (pure): which `year=/month=/day=/hour=` (or Firehose default `YYYY/MM/DD/HH/`)
prefixes can hold a record of the selected time range.

A key carries Firehose's *arrival* hour (in the stream's CustomTimeZone, default UTC), which is at or after
the record's Kafka timestamp. So a prefix whose hour interval ends at or before `since` cannot hold a selected
record. A record can reach Firehose well after its timestamp (ESM retries, a buffer interval of up to 900 s,
a backlog), so the upper bound is `until + late_arrival` (exclusive, like `until`): prefixes starting at or
after it are skipped. The
assumption is that producer clocks are not ahead of Firehose's; a record stamped in the future could sit in
an hour before its timestamp and be missed (set no `--since`, or an earlier one, to be safe).

Example::

    window = KeyWindow(since, until + timedelta(hours=1), UTC)
    path = TimePath().advance("year=2026").advance("month=07")
    window.may_hold(path)  # False when July 2026 lies wholly outside the window
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

_HIVE = ("year", "month", "day", "hour")
_DIGITS = (4, 2, 2, 2)


@dataclass(frozen=True)
class TimePath:
    """The time components read so far from a key's prefix segments, and which layout they follow."""

    layout: str | None = None  # "hive" (year=YYYY/...) or "default" (YYYY/MM/DD/HH); None = none seen
    parts: tuple[int, ...] = ()

    def advance(self, segment: str) -> TimePath:
        """The path after one more segment; segments that are not the next time component change nothing."""
        depth = len(self.parts)
        if depth == len(_HIVE):
            return self
        value = _component(segment, depth, self.layout)
        if value is None:
            return self
        layout, number = value
        candidate = TimePath(layout, (*self.parts, number))
        return candidate if candidate.interval_is_valid() else self

    def interval_is_valid(self) -> bool:
        """True when the parts name a real year/month/day/hour."""
        try:
            _local_start(self.parts, UTC)
        except ValueError:
            return False
        return True

    def interval(self, zone: tzinfo) -> tuple[datetime, datetime] | None:
        """[start, end) in UTC covered by this prefix's keys (widened across DST folds); None: no parts."""
        if not self.parts:
            return None
        start = _local_start(self.parts, zone)
        end = _next(start, len(self.parts))
        # Compared in UTC: aware datetimes sharing a tzinfo compare ignoring `fold`.
        starts = [start.replace(fold=f).astimezone(UTC) for f in (0, 1)]
        ends = [end.replace(fold=f).astimezone(UTC) for f in (0, 1)]
        return min(starts), max(ends)


def _component(segment: str, depth: int, layout: str | None) -> tuple[str, int] | None:
    name = _HIVE[depth]
    if layout in (None, "hive"):
        match = re.fullmatch(rf"{name}=(\d{{{_DIGITS[depth]}}})", segment)
        if match:
            return "hive", int(match.group(1))
    if layout in (None, "default") and re.fullmatch(rf"\d{{{_DIGITS[depth]}}}", segment):
        return "default", int(segment)
    return None


def _local_start(parts: tuple[int, ...], zone: tzinfo) -> datetime:
    year, month, day, hour = (*parts, *(1970, 1, 1, 0)[len(parts) :])
    return datetime(year, month, day, hour, tzinfo=zone)  # a wall time in the key's zone


def _next(start: datetime, depth: int) -> datetime:
    # Wall-time steps: adding a timedelta to an aware datetime keeps its tzinfo and ignores DST.
    if depth == 1:
        return start.replace(year=start.year + 1)
    if depth == 2:
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start + (timedelta(days=1) if depth == 3 else timedelta(hours=1))


@dataclass(frozen=True)
class KeyWindow:
    """Arrival times that can hold a selected record: [since, latest); None = unbounded."""

    since: datetime | None
    latest: datetime | None
    zone: tzinfo

    def may_hold(self, path: TimePath) -> bool:
        """False only when every key under `path` arrived outside the window."""
        interval = path.interval(self.zone)
        if interval is None:
            return True
        start, end = interval
        if self.since is not None and end <= self.since:
            return False
        return self.latest is None or start < self.latest


def path_of_prefix(prefix: str) -> TimePath:
    """The TimePath of the complete segments of a user-given prefix (`data/year=2026/` -> year 2026)."""
    path = TimePath()
    for segment in prefix.split("/")[:-1]:
        path = path.advance(segment)
    return path
