"""Pure tests of the buffering core (spec §5, checklist #12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firehose_emulator.buffering import DeliveryBuffer

MIB = 1_048_576
T0 = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_record_crossing_size_seals_it_and_next_record_starts_new_buffer() -> None:
    buffer = DeliveryBuffer(size_bytes=MIB, interval_seconds=900)
    record = b"x" * 1000
    for i in range(1048):  # 1,048,000 bytes: still under 1 MiB
        assert buffer.add(record, at(i * 0.01)) is None
    flush = buffer.add(record, at(20))  # 1,049,000 bytes: crosses 1,048,576
    assert flush is not None
    assert len(flush.records) == 1049
    assert flush.size_bytes == 1_049_000
    assert flush.oldest_arrival == T0
    assert flush.newest_arrival == at(20)
    assert buffer.record_count == 0
    assert buffer.add(b"next", at(21)) is None
    assert buffer.oldest_arrival == at(21)
    assert buffer.due(at(21 + 899)) is None
    second = buffer.due(at(21 + 900))
    assert second is not None
    assert second.records == (b"next",)


def test_exactly_reaching_size_seals() -> None:
    buffer = DeliveryBuffer(size_bytes=10, interval_seconds=900)
    assert buffer.add(b"12345", T0) is None
    flush = buffer.add(b"67890", T0)
    assert flush is not None
    assert flush.records == (b"12345", b"67890")


def test_one_oversized_record_is_never_split() -> None:
    buffer = DeliveryBuffer(size_bytes=10, interval_seconds=900)
    flush = buffer.add(b"y" * 25, T0)
    assert flush is not None
    assert flush.records == (b"y" * 25,)


def test_interval_is_counted_from_the_oldest_record() -> None:
    buffer = DeliveryBuffer(size_bytes=128 * MIB, interval_seconds=60)
    buffer.add(b"a", at(0))
    buffer.add(b"b", at(30))
    buffer.add(b"c", at(59.5))
    assert buffer.due(at(59.9)) is None
    flush = buffer.due(at(60))
    assert flush is not None
    assert flush.records == (b"a", b"b", b"c")
    assert buffer.due(at(1000)) is None


def test_interval_zero_is_due_on_the_next_pull_not_on_add() -> None:
    buffer = DeliveryBuffer(size_bytes=5 * MIB, interval_seconds=0)
    assert buffer.add(b"a", T0) is None
    flush = buffer.due(T0)
    assert flush is not None
    assert flush.records == (b"a",)


def test_empty_records_count_and_are_kept() -> None:
    buffer = DeliveryBuffer(size_bytes=MIB, interval_seconds=1)
    buffer.add(b"", T0)
    flush = buffer.due(at(1))
    assert flush is not None
    assert flush.records == (b"",)
    assert flush.size_bytes == 0


def test_drain_seals_now_and_empty_drain_is_none() -> None:
    buffer = DeliveryBuffer(size_bytes=MIB, interval_seconds=300)
    assert buffer.drain() is None
    buffer.add(b"a", T0)
    assert buffer.next_due() == at(300)
    flush = buffer.drain()
    assert flush is not None
    assert flush.records == (b"a",)
    assert buffer.next_due() is None


def test_set_limits_judges_buffered_data_by_new_hints() -> None:
    buffer = DeliveryBuffer(size_bytes=MIB, interval_seconds=900)
    buffer.add(b"a" * 100, T0)
    buffer.set_limits(50, 900)
    flush = buffer.due(T0)
    assert flush is not None
    assert flush.size_bytes == 100


@pytest.mark.parametrize(("size", "interval"), [(0, 60), (-1, 60), (MIB, -1)])
def test_bad_limits_are_rejected(size: int, interval: float) -> None:
    with pytest.raises(ValueError, match="buffer"):
        DeliveryBuffer(size, interval)
