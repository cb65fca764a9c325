"""Batching rules (spec §2; checklist 13-18, gotchas 12, 14) on the pure batcher with a FakeClock."""

from __future__ import annotations

import json

from harness.clock import FakeClock
from harness.esm.batcher import Batcher
from harness.esm.event_builder import EventSource, KafkaRecord
from harness.esm.knobs import EsmKnobs

SOURCE = EventSource(None, ("127.0.0.1:9092",))


def rec(offset: int, partition: int = 0, size: int = 10) -> KafkaRecord:
    return KafkaRecord("t", partition, offset, 1750000000000, "CREATE_TIME", None, b"x" * size, ())


def test_three_records_flush_after_the_default_window() -> None:
    clock = FakeClock()
    batcher = Batcher(source=SOURCE, batch_size=100, window_s=0.5)
    for i in range(3):
        batcher.add(rec(i), delivered=True, now=clock.monotonic())
        clock.advance(0.1)
    assert batcher.take(clock.monotonic()) is None  # 0.3 s since the first record
    clock.advance(0.2)
    batch = batcher.take(clock.monotonic())
    assert batch is not None
    assert [r.offset for r in batch.records] == [0, 1, 2]


def test_window_starts_at_the_first_record() -> None:
    clock = FakeClock()
    batcher = Batcher(source=SOURCE, batch_size=100, window_s=2)
    clock.advance(10)  # idle time before the first record does not count
    batcher.add(rec(0), delivered=True, now=clock.monotonic())
    assert batcher.take(clock.monotonic() + 1.9) is None
    assert batcher.take(clock.monotonic() + 2.0) is not None


def test_window_zero_flushes_immediately() -> None:
    batcher = Batcher(source=SOURCE, batch_size=1000, window_s=0)
    for i in range(100):
        batcher.add(rec(i), delivered=True, now=0.0)
    batch = batcher.take(0.0)
    assert batch is not None
    assert len(batch.records) == 100


def test_batch_size_caps_events_and_flushes_without_waiting() -> None:
    batcher = Batcher(source=SOURCE, batch_size=4, window_s=300)
    for p in range(2):
        for i in range(3):
            batcher.add(rec(i, p), delivered=True, now=0.0)
    first = batcher.take(0.0)
    assert first is not None
    assert len(first.records) == 4
    assert [(r.partition, r.offset) for r in first.records] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert batcher.take(0.0) is None  # both partitions are in flight now
    batcher.release(("t", 1))
    assert batcher.take(0.0) is None  # 2 records left, window 300 s not over
    second = batcher.take(300.0)
    assert second is not None
    assert [r.offset for r in second.records] == [1, 2]


def test_one_batch_in_flight_per_partition() -> None:
    batcher = Batcher(source=SOURCE, batch_size=2, window_s=0.5)
    for i in range(6):
        batcher.add(rec(i), delivered=True, now=0.0)
    batch = batcher.take(0.0)
    assert batch is not None
    assert batcher.take(10.0) is None
    batcher.release(("t", 0))
    again = batcher.take(10.0)
    assert again is not None
    assert [r.offset for r in again.records] == [2, 3]


def test_events_never_exceed_the_payload_limit_and_close_before_overflow() -> None:
    knobs = EsmKnobs(max_payload_bytes=4096)
    batcher = Batcher(source=SOURCE, batch_size=10_000, window_s=300, knobs=knobs)
    for i in range(40):
        batcher.add(rec(i, i % 3, size=300), delivered=True, now=0.0)
    delivered: list[tuple[int, int]] = []
    for _ in range(50):
        batch = batcher.take(0.0)
        if batch is None:
            for p in range(3):
                batcher.release(("t", p))
            batch = batcher.take(1000.0)
            if batch is None:
                break
        body = batch.event_bytes()
        assert len(body) <= 4096
        assert len(body) == batch.payload_bytes
        assert len(json.loads(body)["records"]) >= 1
        delivered.extend((r.partition, r.offset) for r in batch.records)
        for p in range(3):
            batcher.release(("t", p))
    assert sorted(delivered) == sorted((i % 3, i) for i in range(40))


def test_record_too_big_alone_is_never_in_an_event() -> None:
    knobs = EsmKnobs(max_payload_bytes=2048)
    batcher = Batcher(source=SOURCE, batch_size=100, window_s=0.5, knobs=knobs)
    batcher.add(rec(0), delivered=True, now=0.0)
    batcher.add(rec(1, size=5000), delivered=True, now=0.0)
    batcher.add(rec(2), delivered=True, now=0.0)
    first = batcher.take(1.0)
    assert first is not None
    assert not first.oversized
    assert [r.offset for r in first.records] == [0]
    batcher.release(("t", 0))
    big = batcher.take(1.0)
    assert big is not None
    assert big.oversized
    assert [r.offset for r in big.records] == [1]
    batcher.release(("t", 0))
    last = batcher.take(1.0)
    assert last is not None
    assert [r.offset for r in last.records] == [2]


def test_filtered_records_count_toward_neither_limit_but_are_covered() -> None:
    batcher = Batcher(source=SOURCE, batch_size=2, window_s=300)
    for i in range(10):
        batcher.add(rec(i), delivered=i in (3, 7, 9), now=0.0)
    batch = batcher.take(0.0)
    assert batch is not None
    assert [r.offset for r in batch.records] == [3, 7]
    assert batch.covered() == {("t", 0): (0, 8)}  # trailing filtered 8 rides along; 9 waits


def test_all_filtered_batch_has_no_records_but_covers_offsets() -> None:
    batcher = Batcher(source=SOURCE, batch_size=2, window_s=0.5)
    for i in range(5):
        batcher.add(rec(i), delivered=False, now=0.0)
    batch = batcher.take(0.5)
    assert batch is not None
    assert batch.records == ()
    assert batch.covered() == {("t", 0): (0, 4)}


def test_batch_size_scope_partition() -> None:
    batcher = Batcher(source=SOURCE, batch_size=2, window_s=300, knobs=EsmKnobs(batch_size_scope="partition"))
    for p in range(3):
        for i in range(2):
            batcher.add(rec(i, p), delivered=True, now=0.0)
    batch = batcher.take(0.0)
    assert batch is not None
    assert len(batch.records) == 6
    assert len(batch.partitions) == 3
