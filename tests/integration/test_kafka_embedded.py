"""kafka-python 3.0.12 against the embedded Apache Kafka 4.1.1 broker: produce, consume, groups, admin."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaTimeoutError

from harness.backends.kafka import embedded as kafka_module
from harness.backends.kafka.admin import TopicAdminError, TopicExistsError, UnknownTopicError
from harness.backends.kafka.embedded import EmbeddedKafka
from harness.processes import free_port

TS_BASE = 1_783_951_509_000  # 2026-07-13T14:05:09Z in ms: fixed, not "now"
# Records dated TS_BASE can be older than the broker's 7-day retention: its periodic check would delete them
# mid-test. Topics holding them keep their records.
KEEP_DATED = {"retention.ms": "-1"}


def _consume_all(kafka: EmbeddedKafka, topic: str, expected: int, **extra: object) -> list[object]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=15_000,
        **extra,
    )
    records: list[object] = []
    try:
        for record in consumer:
            records.append(record)
            if len(records) >= expected:
                break
    finally:
        consumer.close()
    return records


def test_produce_and_consume_keys_headers_timestamps(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("io")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=1, configs=KEEP_DATED)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    try:
        for i in range(20):
            producer.send(
                topic,
                key=f"k{i}".encode(),
                value=f"v{i}".encode(),
                headers=[("h", f"{i}".encode()), ("empty", b"")],
                timestamp_ms=TS_BASE + i,
            )
        producer.send(topic, key=b"gone", value=None, timestamp_ms=TS_BASE + 99)  # a tombstone
        producer.flush(timeout=15)
    finally:
        producer.close()
    records = _consume_all(kafka, topic, 21)
    assert len(records) == 21
    for i, record in enumerate(records[:20]):
        assert record.offset == i  # type: ignore[attr-defined]
        assert record.key == f"k{i}".encode()  # type: ignore[attr-defined]
        assert record.value == f"v{i}".encode()  # type: ignore[attr-defined]
        assert record.timestamp == TS_BASE + i  # type: ignore[attr-defined]
        assert list(record.headers) == [("h", f"{i}".encode()), ("empty", b"")]  # type: ignore[attr-defined]
    assert records[20].key == b"gone"  # type: ignore[attr-defined]
    assert records[20].value is None  # type: ignore[attr-defined]


def test_consumer_group_commit_and_offsets_for_times(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("group")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=2, configs=KEEP_DATED)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    try:
        for i in range(10):
            producer.send(topic, value=f"{i}".encode(), partition=i % 2, timestamp_ms=TS_BASE + 1000 * i)
        producer.flush(timeout=15)
    finally:
        producer.close()

    group = f"{topic}-group"
    first = KafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=15_000,
    )
    try:
        seen = []
        for record in first:
            seen.append(record)
            if len(seen) == 10:
                break
        first.commit()
        p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
        assert first.committed(p0) == 5
        assert first.committed(p1) == 5
        # Record i went to partition i % 2 at TS_BASE + 1000 i; at or after TS_BASE + 4500 come i = 5 and 6.
        found = first.offsets_for_times({p0: TS_BASE + 4500, p1: TS_BASE + 4500})
        assert found[p0].offset == 3  # i = 6 is the 4th record of partition 0
        assert found[p1].offset == 2  # i = 5 is the 3rd record of partition 1
        assert found[p1].timestamp == TS_BASE + 5000
        assert first.offsets_for_times({p0: TS_BASE + 10_000_000})[p0] is None
    finally:
        first.close()

    # A new member of the same group resumes after the committed offsets: nothing left to read.
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    try:
        producer.send(topic, value=b"late", partition=1)
        producer.flush(timeout=15)
    finally:
        producer.close()
    second = KafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10_000,
    )
    try:
        rest = []
        for record in second:
            rest.append(record.value)
            break
    finally:
        second.close()
    assert rest == [b"late"]


def test_topic_admin_create_describe_list_delete(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("admin")
    with kafka.admin() as admin:
        created = admin.create_topic(topic, partitions=3, configs={"retention.ms": "3600000"})
        assert created is not None
        assert [p.partition for p in created.partitions] == [0, 1, 2]
        assert all(p.leader == 1 and p.replicas == (1,) and p.isr == (1,) for p in created.partitions)
        assert admin.describe_topic(topic) == created
        assert topic in admin.list_topics()
        with pytest.raises(TopicExistsError, match="already exists"):
            admin.create_topic(topic)
        admin.delete_topic(topic)
        with pytest.raises(UnknownTopicError, match="does not exist"):
            admin.delete_topic(topic)
        with pytest.raises(UnknownTopicError, match="does not exist"):
            admin.describe_topic(f"{topic}-never")


def test_replication_factor_above_broker_count_is_refused(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    with kafka.admin() as admin, pytest.raises(TopicAdminError, match=r"InvalidReplicationFactor"):
        admin.create_topic(unique_topic("rf"), replication_factor=3)


def test_producing_to_a_missing_topic_is_not_auto_created(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("absent")
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, max_block_ms=2000)
    try:
        with pytest.raises(KafkaTimeoutError):
            producer.send(topic, b"x").get(timeout=5)
    finally:
        producer.close(timeout=5)
    with kafka.admin() as admin:
        assert topic not in admin.list_topics()


def test_log_path_holds_the_broker_log(kafka: EmbeddedKafka) -> None:
    text = kafka.log_path(1).read_text(errors="replace")
    assert "Kafka Server started" in text


def test_a_port_taken_at_bind_time_is_retried_on_new_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hold a listening socket on the port the first broker listener will be given.
    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    handed_out: list[int] = []

    def first_port_taken(host: str = "127.0.0.1") -> int:
        port = taken if not handed_out else free_port(host)
        handed_out.append(port)
        return port

    monkeypatch.setattr(kafka_module, "free_port", first_port_taken)
    try:
        with EmbeddedKafka() as cluster:
            port = int(cluster.bootstrap_servers.rsplit(":", 1)[1])
            assert port != taken
            with cluster.admin() as admin:
                assert admin.live_broker_ids() == [1]
    finally:
        squatter.close()
    assert handed_out[0] == taken
    assert len(handed_out) >= 4  # two ports for the failed attempt, two more for the retry
