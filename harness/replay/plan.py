"""From decoded archive records to the replay plan (pure): filter, deduplicate, find conflicts, order.

Accounting, each decoded copy counted once: `decoded = unique + duplicates_removed + conflicting copies`, and
`unique = selected + sum(filtered_out)`. The first copy of an identity `(topic, partition, offset)` decides
whether it is selected; later copies are duplicates when identical (timestamp, type, key, value, headers
and schema metadata, compared through the canonical archive line) and conflicts when not. A conflicting
identity is withheld from the replay (the archive disagrees with itself, so no copy can be trusted) and
named in the report with the location of each differing copy.

Example::

    planner = Planner(RecordFilter(selection), fmt)
    for located in decoded_records:
        planner.add(located)
    plan = planner.plan()  # plan.records: source partitions in offset order
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from harness.replay.selection import FILTER_NAMES, RecordFilter
from harness.verify.archive import LocatedRecord

Identity = tuple[str, int, int]


@dataclass(frozen=True)
class Conflict:
    """Copies of one identity that differ: where each distinct copy was read."""

    identity: Identity
    locations: tuple[str, ...]  # "key line N", one per distinct copy (first seen first)
    selected: bool  # the first copy passed the filters (so the record was withheld from the replay)

    def describe(self) -> str:
        """`orders-1@17: data/a.gz line 3 vs data/b.gz line 9`."""
        topic, partition, offset = self.identity
        return f"{topic}-{partition}@{offset}: " + " vs ".join(self.locations)


@dataclass(frozen=True)
class ReplayPlan:
    """The records to replay, in (topic, partition, offset) order, and how the selection got there."""

    records: tuple[LocatedRecord, ...]
    decoded: int
    unique: int
    duplicates_removed: int
    filtered_out: dict[str, int] = field(default_factory=dict)  # FILTER_NAMES -> unique records rejected
    conflicts: tuple[Conflict, ...] = ()
    timestamps: tuple[int, int] | None = None  # earliest and latest record timestamp decoded (epoch ms)

    @property
    def selected(self) -> int:
        """Records to replay."""
        return len(self.records)

    @property
    def withheld(self) -> int:
        """Selected identities not replayed because their copies conflict."""
        return sum(1 for c in self.conflicts if c.selected)


class Planner:
    """Feeds on located records; holds a digest per identity and the selected records themselves."""

    def __init__(self, record_filter: RecordFilter, fmt: ModuleType) -> None:
        self._filter = record_filter
        self._fmt = fmt
        self._digests: dict[Identity, tuple[bytes, str]] = {}  # identity -> (first digest, first location)
        self._selected: dict[Identity, LocatedRecord] = {}
        self._conflicts: dict[Identity, dict[bytes, str]] = {}
        self._filtered: Counter[str] = Counter()
        self._decoded = 0
        self._duplicates = 0
        self._timestamps: tuple[int, int] | None = None

    def add(self, located: LocatedRecord) -> None:
        """Account for one decoded copy."""
        self._decoded += 1
        record = located.record
        first, last = self._timestamps or (record.timestamp, record.timestamp)
        self._timestamps = (min(first, record.timestamp), max(last, record.timestamp))
        ident: Identity = record.identity
        digest = hashlib.sha256(self._fmt.encode_record_line(record)).digest()
        where = f"{located.key} line {located.line}"
        seen = self._digests.get(ident)
        if seen is None:
            self._digests[ident] = (digest, where)
            reason = self._filter.reject_reason(record)
            if reason is None:
                self._selected[ident] = located
            else:
                self._filtered[reason] += 1
            return
        first_digest, first_where = seen
        if digest == first_digest and ident not in self._conflicts:
            self._duplicates += 1
            return
        copies = self._conflicts.setdefault(ident, {first_digest: first_where})
        if digest in copies:
            self._duplicates += 1  # a copy of one of the conflicting versions
        else:
            copies[digest] = where

    def plan(self) -> ReplayPlan:
        """The plan: conflicting identities withheld, the rest in (topic, partition, offset) order."""
        conflicts = tuple(
            Conflict(ident, tuple(copies.values()), ident in self._selected)
            for ident, copies in sorted(self._conflicts.items())
        )
        records = tuple(
            located for ident, located in sorted(self._selected.items()) if ident not in self._conflicts
        )
        return ReplayPlan(
            records=records,
            decoded=self._decoded,
            unique=len(self._digests),
            duplicates_removed=self._duplicates,
            filtered_out={name: self._filtered[name] for name in FILTER_NAMES if self._filtered[name]},
            conflicts=conflicts,
            timestamps=self._timestamps,
        )


def describe_record(record: Any) -> str:
    """`orders-1@17 (key=k7)` for messages."""
    key = "null" if record.key is None else record.key.decode("utf-8", "backslashreplace")[:40]
    return f"{record.topic}-{record.partition}@{record.offset} (key={key})"
