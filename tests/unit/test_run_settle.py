"""The settle rule: records in the Firehose buffer are waited for (bounded); stuck ones are not."""

from __future__ import annotations

import pytest

from harness.run.settle import SettleWatch, firehose_grace


def test_settled_stops_at_once() -> None:
    assert SettleWatch(deadline=100, grace=990).verdict(5, 0, settled=True, firehose_pending=0) == "settled"


def test_before_the_deadline_it_waits() -> None:
    assert SettleWatch(deadline=100, grace=990).verdict(99, 0, settled=False, firehose_pending=0) == "wait"


def test_records_buffered_in_firehose_extend_the_deadline_by_one_interval() -> None:
    watch = SettleWatch(deadline=1000, grace=990)
    assert watch.verdict(1000, 50.0, settled=False, firehose_pending=420) == "wait"
    assert watch.extended
    assert watch.verdict(1989, 52.0, settled=False, firehose_pending=420) == "wait"
    assert watch.verdict(1990, 52.5, settled=False, firehose_pending=420) == "gave_up"


def test_the_extension_is_capped_in_real_time_too() -> None:
    watch = SettleWatch(deadline=1000, grace=990, wall_cap_seconds=10)
    assert watch.verdict(1001, 50.0, settled=False, firehose_pending=1) == "wait"
    assert watch.verdict(1002, 60.0, settled=False, firehose_pending=1) == "gave_up"


def test_uncommitted_records_get_no_extension() -> None:
    # lag > 0 but nothing in Firehose: a stuck partition; waiting longer would deliver nothing
    assert (
        SettleWatch(deadline=100, grace=990).verdict(100, 0, settled=False, firehose_pending=0) == "gave_up"
    )


def test_grace_follows_the_stream_interval() -> None:
    assert firehose_grace({"BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900}}) == pytest.approx(
        990.0
    )
    assert firehose_grace({}) == pytest.approx(330.0)
