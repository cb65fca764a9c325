"""LoadGenerator against the real embedded Kafka broker: the ledger describes exactly what the log holds."""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, TopicPartition

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.clock import FakeClock, ScaledClock, SystemClock
from harness.load import (
    LoadGenerator,
    LoadProgress,
    LoadSummary,
    PayloadGenerator,
    PayloadSpec,
    ProducedRecord,
    RateProfile,
    SizeDistribution,
    rate_shortfall,
)

SPEC = PayloadSpec(
    json_share=0.8,
    binary_share=0.1,
    tombstone_share=0.1,
    size=SizeDistribution("uniform", minimum=100, maximum=2000),
    key_cardinality=20,
    null_key_share=0.1,
    header_count=3,
    non_ascii_headers=True,
    duplicate_header_names=True,
)


def consume_all(servers: str, topic: str, partitions: int, expected: int) -> list[object]:
    consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, consumer_timeout_ms=10_000)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[object] = []
        for message in consumer:
            records.append(message)
            if len(records) >= expected:
                break
        return records
    finally:
        consumer.close()


def test_ledger_matches_the_log_and_the_schedule(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("load")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=3)
    start = datetime(2026, 12, 31, 23, 59, 50, tzinfo=UTC)
    clock = ScaledClock(start=start, speed=10.0)  # 400 records/s of clock time = 4,000/s real
    profile = RateProfile.constant(400)
    ledger: list[ProducedRecord] = []
    lock = threading.Lock()
    progress: list[LoadProgress] = []

    def record(entry: ProducedRecord) -> None:
        with lock:
            ledger.append(entry)

    payloads = PayloadGenerator(SPEC, random.Random(21))
    with LoadGenerator(
        kafka.bootstrap_servers, topic, profile, payloads, clock, ledger=record, progress=progress.append
    ) as generator:
        summary = generator.run(duration=5.0)

    expected = len(list(profile.schedule(5.0)))
    assert (summary.sent, summary.acked, summary.failed) == (expected, expected, 0), summary.errors[:3]
    assert summary.elapsed >= 5.0 - 1 / 400  # clock seconds: the last record is due at 4.9975
    assert len(ledger) == expected
    assert progress
    assert progress[-1].acked == expected
    assert all(start <= r.produced_at for r in ledger)

    # The same seed draws the same payloads: the ledger is reproducible record by record.
    again = PayloadGenerator(SPEC, random.Random(21))
    by_seq = {r.seq: r for r in ledger}
    for seq in range(expected):
        payload = again.next()
        entry = by_seq[seq]
        assert entry.key == payload.key
        assert entry.headers == payload.headers
        assert entry.value_sha256 == (
            None if payload.value is None else hashlib.sha256(payload.value).hexdigest()
        )

    # Offsets per partition are dense from 0 and follow the send order (idempotent producer keeps order).
    for partition in range(3):
        mine = sorted((r for r in ledger if r.partition == partition), key=lambda r: r.offset)
        assert [r.offset for r in mine] == list(range(len(mine)))
        assert [r.seq for r in mine] == sorted(r.seq for r in mine)

    # What the broker holds is byte for byte what the ledger describes.
    messages = consume_all(kafka.bootstrap_servers, topic, 3, expected)
    assert len(messages) == expected
    index = {(r.partition, r.offset): r for r in ledger}
    tombstones = 0
    for message in messages:
        entry = index[(message.partition, message.offset)]  # type: ignore[attr-defined]
        value = message.value  # type: ignore[attr-defined]
        tombstones += value is None
        assert message.key == entry.key  # type: ignore[attr-defined]
        assert (None if value is None else hashlib.sha256(value).hexdigest()) == entry.value_sha256
        assert tuple(message.headers) == entry.headers  # type: ignore[attr-defined]
    assert tombstones > 0
    assert any(r.key is None for r in ledger)


def test_records_limit_and_stop_request(kafka: EmbeddedKafka, unique_topic: Callable[[str], str]) -> None:
    topic = unique_topic("limit")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=1)
    clock = ScaledClock(speed=50.0)
    ledger: list[ProducedRecord] = []
    payloads = PayloadGenerator(PayloadSpec(key_cardinality=0), random.Random(4))
    with LoadGenerator(
        kafka.bootstrap_servers, topic, RateProfile.constant(1000), payloads, clock, ledger=ledger.append
    ) as generator:
        summary = generator.run(records=250)
    assert (summary.sent, summary.acked) == (250, 250)
    assert sorted(r.offset for r in ledger) == list(range(250))
    assert {r.key for r in ledger} == {f"key-{i}".encode() for i in range(250)}


def test_stop_request_ends_the_producer_process_and_keeps_the_ledger_whole(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("stop")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=2)
    ledger: list[ProducedRecord] = []
    payloads = PayloadGenerator(PayloadSpec(), random.Random(5))
    generator = LoadGenerator(
        kafka.bootstrap_servers,
        topic,
        RateProfile.constant(2000),
        payloads,
        SystemClock(),
        ledger=ledger.append,
    ).start()
    summaries: list[LoadSummary] = []
    runner = threading.Thread(target=lambda: summaries.append(generator.run(duration=600)))
    runner.start()
    while len(ledger) < 500 and runner.is_alive():
        runner.join(0.05)
    generator.request_stop()
    runner.join(30)
    assert not runner.is_alive()
    generator.stop()
    assert multiprocessing.active_children() == []  # no stray producer process
    (summary,) = summaries
    assert summary.sent == summary.acked == len(ledger) >= 500
    assert summary.sent < 2000 * 600
    assert sorted(r.offset for r in ledger if r.partition == 0) == list(
        range(sum(r.partition == 0 for r in ledger))
    )


def test_an_unreachable_rate_is_reported_short(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("short")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=1)
    ledger: list[ProducedRecord] = []
    payloads = PayloadGenerator(PayloadSpec(size=SizeDistribution("fixed", size=256)), random.Random(6))
    # 20M records/s for 300k records asks for all of them in the first second: ~3x what this machine's raw
    # librdkafka producer manages, so the first second is short on any machine we run on.
    profile = RateProfile.constant(20_000_000)
    records = 300_000
    with LoadGenerator(
        kafka.bootstrap_servers, topic, profile, payloads, SystemClock(), ledger=ledger.append
    ) as gen:
        summary = gen.run(records=records)
    assert summary.acked == len(ledger) == records
    assert sum(s.sent for s in summary.rate) == records
    shortfall = rate_shortfall(summary.rate)
    assert shortfall is not None
    # The report is the arithmetic of the per-second counts, over the one window the schedule fits in.
    assert (shortfall.asked, shortfall.sent) == (
        sum(s.asked for s in summary.rate if s.asked),
        summary.rate[0].sent,
    )
    assert shortfall.short_percent == pytest.approx(100 * (1 - summary.rate[0].sent / shortfall.asked))
    assert "short" in shortfall.describe()


def test_a_clock_a_child_process_cannot_follow_is_refused() -> None:
    payloads = PayloadGenerator(PayloadSpec(), random.Random(1))
    generator = LoadGenerator(
        "127.0.0.1:9", "t", RateProfile.constant(1), payloads, FakeClock(), ledger=print
    )
    with pytest.raises(TypeError, match="ScaledClock or SystemClock"):
        generator.start()
