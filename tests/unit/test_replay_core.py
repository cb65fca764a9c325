"""Pure cores of replay: argument parsing, filters, key-space pruning, planning, comparison, exit codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from archive_format import ArchivedRecord

from harness.replay.compare import compare
from harness.replay.keyspace import KeyWindow, TimePath, path_of_prefix
from harness.replay.plan import Planner
from harness.replay.report import ReadSummary, ReplayReport
from harness.replay.selection import (
    RecordFilter,
    Selection,
    SelectionError,
    TimeRange,
    parse_duration,
    parse_instant,
    parse_s3_uri,
)
from harness.replay.target import ConsumedRecord, unreplayable_reason
from harness.verify.archive import LocatedRecord, load_archive_format

T = datetime(2026, 7, 13, 14, 30, tzinfo=UTC)
FMT = load_archive_format()


def rec(
    offset: int, *, partition: int = 0, value: bytes | None = b'{"status":"paid","n":1}', **kw: object
) -> ArchivedRecord:
    fields: dict[str, object] = {
        "topic": "orders",
        "partition": partition,
        "offset": offset,
        "timestamp": int(T.timestamp() * 1000),
        "timestamp_type": "CREATE_TIME",
        "key": b"k1",
        "value": value,
        "headers": (("h", b"\x00"),),
    }
    fields.update(kw)
    return ArchivedRecord(**fields)  # type: ignore[arg-type]


def located(record: ArchivedRecord, key: str = "a.gz", line: int = 1) -> LocatedRecord:
    return LocatedRecord(record, key, line)


def test_s3_uri_instants_and_durations() -> None:
    assert parse_s3_uri("s3://archive/data/").prefix == "data/"
    assert parse_s3_uri("s3://archive").prefix == ""
    with pytest.raises(SelectionError, match="not an s3://"):
        parse_s3_uri("archive/data")
    assert parse_instant("2026-07-13T16:30:00+02:00") == T
    assert parse_instant("2026-07-13") == datetime(2026, 7, 13, tzinfo=UTC)
    assert parse_instant("2026-07-13", end_of_day=True) == datetime(2026, 7, 14, tzinfo=UTC)
    with pytest.raises(SelectionError, match="no time zone"):
        parse_instant("2026-07-13T14:00:00")
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("0") == timedelta(0)
    with pytest.raises(SelectionError):
        parse_duration("soon")
    with pytest.raises(SelectionError, match="not after"):
        TimeRange(T, T)


def test_each_filter_names_itself() -> None:
    def reason(record: ArchivedRecord, **selection: object) -> str | None:
        return RecordFilter(Selection(**selection)).reject_reason(record)  # type: ignore[arg-type]

    r = rec(1)
    assert reason(r) is None
    assert reason(r, topics=frozenset({"other"})) == "topic"
    assert reason(r, partitions=frozenset({1})) == "partition"
    assert reason(r, keys=frozenset({b"k2"})) == "key"
    assert reason(r, time=TimeRange(T + timedelta(seconds=1))) == "time"
    assert reason(r, time=TimeRange(None, T)) == "time"  # until is exclusive
    assert reason(r, time=TimeRange(T, None)) is None  # since is inclusive
    assert reason(r, where="status == 'paid'") is None
    assert reason(r, where="status == 'open'") == "where"
    assert reason(r, where="missing") == "where"  # null is false
    assert reason(rec(1, value=None), where="status") == "where_not_json"
    assert reason(rec(1, value=b"\xff"), where="status") == "where_not_json"
    assert reason(rec(1, value=b"0"), where="@") is None  # JMESPath: 0 is true
    with pytest.raises(SelectionError, match="not valid JMESPath"):
        RecordFilter(Selection(where="status =="))


def test_time_paths_and_pruning_windows() -> None:
    hour = path_of_prefix("data/year=2026/month=07/day=13/hour=14/")
    assert hour == TimePath("hive", (2026, 7, 13, 14))
    assert TimePath().advance("2026").advance("07").advance("x") == TimePath("default", (2026, 7))
    assert TimePath().advance("year=2026").advance("13") == TimePath("hive", (2026,))  # layouts do not mix
    assert TimePath().advance("year=2026").advance("month=13") == TimePath("hive", (2026,))  # no month 13
    window = KeyWindow(T, T + timedelta(hours=1), UTC)
    assert window.may_hold(hour)
    assert not window.may_hold(replace(hour, parts=(2026, 7, 13, 13)))  # ends at 14:00 <= since 14:30
    assert window.may_hold(replace(hour, parts=(2026, 7, 13, 15)))  # starts 15:00 < 15:30
    assert not window.may_hold(replace(hour, parts=(2026, 7, 13, 16)))
    assert window.may_hold(TimePath())  # no time information: cannot prune
    assert not window.may_hold(TimePath("hive", (2025,)))
    december = TimePath("hive", (2026, 12)).interval(UTC)
    assert december == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_custom_time_zone_intervals_widen_over_the_dst_fold() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    interval = TimePath("hive", (2026, 10, 25, 2)).interval(berlin)  # 02:00-03:00 happens twice that night
    assert interval == (datetime(2026, 10, 25, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, tzinfo=UTC))
    assert TimePath("hive", (2026, 7, 13, 16)).interval(berlin) == (
        T.replace(minute=0),
        T.replace(hour=15, minute=0),
    )


def test_planner_dedupes_withholds_conflicts_and_orders() -> None:
    planner = Planner(RecordFilter(Selection(partitions=frozenset({0}))), FMT)
    for item in [
        located(rec(2)),
        located(rec(1)),
        located(rec(1), "b.gz", 4),  # identical duplicate
        located(rec(3, partition=1)),  # filtered
        located(rec(3, partition=1), "b.gz", 5),  # duplicate of a filtered record
        located(rec(5)),
        located(rec(5, value=b"other"), "c.gz", 9),  # conflict
        located(rec(5), "d.gz", 2),  # a copy of the first version
    ]:
        planner.add(item)
    plan = planner.plan()
    assert [r.record.offset for r in plan.records] == [1, 2]
    assert (plan.decoded, plan.unique, plan.duplicates_removed) == (8, 4, 3)
    assert plan.filtered_out == {"partition": 1}
    (conflict,) = plan.conflicts
    assert conflict.describe() == "orders-0@5: a.gz line 1 vs c.gz line 9"
    assert plan.withheld == 1


def consumed(record: ArchivedRecord, partition: int, offset: int, **changes: object) -> ConsumedRecord:
    got = ConsumedRecord(partition, offset, record.timestamp, 0, record.key, record.value, record.headers)
    return replace(got, **changes)  # type: ignore[arg-type]


def test_compare_names_every_kind_of_difference() -> None:
    records = [located(rec(i)) for i in range(4)]
    placements = [(0, 10 + i) for i in range(4)]
    target = {p: consumed(r.record, *p) for r, p in zip(records, placements, strict=True)}
    assert compare(records, placements, target, preserve_partition=True, target_topic="t").passed
    target[(0, 11)] = consumed(records[1].record, 0, 11, value=b"x")
    target[(0, 12)] = consumed(records[2].record, 0, 12, timestamp_type=1)
    del target[(0, 13)]
    target[(0, 14)] = consumed(records[0].record, 0, 14)
    check = compare(records, placements, target, preserve_partition=True, target_topic="t")
    assert not check.passed
    assert check.verified == 1
    assert check.mismatches[0].startswith("orders-0@1 (a.gz line 1) -> t-0@11: value differs")
    assert "timestamp differs" in check.mismatches[1]
    assert check.mismatches[2] == "orders-0@3 (a.gz line 1): not found at t-0@13"
    assert check.unexpected[0].startswith("t-0@14: not sent by this replay")


def test_compare_finds_order_violations() -> None:
    records = [located(rec(2)), located(rec(1))]
    placements = [(0, 0), (0, 1)]
    target = {p: consumed(r.record, *p) for r, p in zip(records, placements, strict=True)}
    check = compare(records, placements, target, preserve_partition=False, target_topic="t")
    assert check.order_violations == ("t-0@1 holds orders-0@1 after @2 (at t-0@0)",)


def test_null_header_values_are_unreplayable() -> None:
    assert unreplayable_reason(rec(1)) is None
    assert "null value" in str(unreplayable_reason(rec(1, headers=(("h", None),))))


def test_exit_codes() -> None:
    planner = Planner(RecordFilter(Selection()), FMT)
    report = ReplayReport(
        source="s3://b/",
        target="x",
        target_topic="t",
        selection={},
        preserve_partition=False,
        dry_run=True,
        strict=False,
        started_at=T,
        read=ReadSummary("off", 0, 0, unreadable=("a.gz line 2: not a JSON line",)),
        plan=planner.plan(),
    )
    assert report.exit_code == 0  # dry run
    assert replace(report, strict=True).exit_code == 2
    assert replace(report, dry_run=False).exit_code == 1  # nothing verified
    assert report.to_dict()["objects"]["unreadable_first"] == ["a.gz line 2: not a JSON line"]
