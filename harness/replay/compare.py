"""Verification of a replay (pure): what the target holds in the new range against what was sent.

Every replayed record must be at the (partition, offset) the producer reported, byte-identical in key, value
and headers (names, values, order, duplicates), with the archived timestamp as CreateTime (records archived
without a timestamp, `-1`, are stamped by the producer; their timestamp is not compared), in its source
partition when partitions are preserved. Nothing else may appear in the new range, and within each target
partition the records of one source partition must follow their source offset order.

Example::

    check = compare(records, placements, consumed, preserve_partition=True, target_topic="orders-replay")
    assert check.passed, check.mismatches[:5]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.replay.target import ConsumedRecord
from harness.verify.archive import LocatedRecord

CREATE_TIME = 0


@dataclass(frozen=True)
class TargetCheck:
    """The outcome of reading the target back."""

    sent: int
    received: int  # records found in the new range
    verified: int  # sent records found byte-identical where expected
    mismatches: tuple[str, ...]  # sent records missing or different, named
    unexpected: tuple[str, ...]  # records in the new range the replay did not send
    order_violations: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Everything sent arrived identical and in order, and nothing else arrived."""
        return self.verified == self.sent and not self.unexpected and not self.order_violations


def _show(raw: bytes | None) -> str:
    if raw is None:
        return "null"
    return f"{len(raw)} bytes {raw[:24]!r}"


def differences(record: Any, got: ConsumedRecord, *, preserve_partition: bool) -> list[str]:
    """What differs between an archived record and what the target holds (empty = identical)."""
    found = []
    if record.key != got.key:
        found.append(f"key differs (archived {_show(record.key)}, target {_show(got.key)})")
    if record.value != got.value:
        found.append(f"value differs (archived {_show(record.value)}, target {_show(got.value)})")
    if tuple(record.headers) != got.headers:
        found.append(
            f"headers differ (archived {list(record.headers)!r:.120}, target {list(got.headers)!r:.120})"
        )
    if record.timestamp >= 0 and (record.timestamp != got.timestamp or got.timestamp_type != CREATE_TIME):
        kind = "CreateTime" if got.timestamp_type == CREATE_TIME else "LogAppendTime"
        found.append(f"timestamp differs (archived {record.timestamp}, target {got.timestamp} {kind})")
    if preserve_partition and record.partition != got.partition:
        found.append(f"partition differs (archived {record.partition}, target {got.partition})")
    return found


def compare(
    records: Sequence[LocatedRecord],
    placements: Sequence[tuple[int, int]],
    consumed: Mapping[tuple[int, int], ConsumedRecord],
    *,
    preserve_partition: bool,
    target_topic: str,
) -> TargetCheck:
    """Hold the target's new range against the records sent and where the producer said they went."""
    mismatches: list[str] = []
    verified = 0
    sent_at: dict[tuple[int, int], Any] = {}
    for located, placement in zip(records, placements, strict=True):
        record = located.record
        sent_at[placement] = record
        name = f"{record.topic}-{record.partition}@{record.offset} ({located.key} line {located.line})"
        where = f"{target_topic}-{placement[0]}@{placement[1]}"
        got = consumed.get(placement)
        if got is None:
            mismatches.append(f"{name}: not found at {where}")
            continue
        diffs = differences(record, got, preserve_partition=preserve_partition)
        if diffs:
            mismatches.append(f"{name} -> {where}: " + "; ".join(diffs))
        else:
            verified += 1
    unexpected = tuple(
        f"{target_topic}-{p}@{o}: not sent by this replay (key {_show(c.key)})"
        for (p, o), c in sorted(consumed.items())
        if (p, o) not in sent_at
    )
    return TargetCheck(
        sent=len(records),
        received=len(consumed),
        verified=verified,
        mismatches=tuple(mismatches),
        unexpected=unexpected,
        order_violations=_order(sent_at, target_topic),
    )


def _order(sent_at: Mapping[tuple[int, int], Any], target_topic: str) -> tuple[str, ...]:
    """Per target partition, records of one source partition must ascend in source offset."""
    last: dict[
        tuple[int, str, int], tuple[int, int]
    ] = {}  # (target p, src topic, src p) -> (src off, tgt off)
    violations = []
    for (partition, offset), record in sorted(sent_at.items()):
        source = (partition, record.topic, record.partition)
        previous = last.get(source)
        if previous is not None and record.offset <= previous[0]:
            here = f"{target_topic}-{partition}@{offset}"
            source_name = f"{record.topic}-{record.partition}@{record.offset}"
            earlier = f"{target_topic}-{partition}@{previous[1]}"
            violations.append(f"{here} holds {source_name} after @{previous[0]} (at {earlier})")
        last[source] = (record.offset, offset)
    return tuple(violations)
