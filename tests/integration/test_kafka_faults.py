"""Broker faults on a three-node embedded KRaft cluster: kill mid-production, pause/resume, rolling restart.

One cluster serves the module; every test leaves it healthy (all brokers up, nothing under-replicated).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer

from harness.backends.kafka.embedded import EmbeddedKafka


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedKafka]:
    """A three-broker cluster owned by this module (its brokers get broken on purpose)."""
    with EmbeddedKafka(brokers=3) as kafka:
        yield kafka


def _produce(kafka: EmbeddedKafka, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value)
        producer.flush(timeout=60)
    finally:
        producer.close()


def _consume_values(kafka: EmbeddedKafka, topic: str, at_least: int) -> list[bytes]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10_000,
    )
    values: list[bytes] = []
    try:
        for record in consumer:
            values.append(record.value)
            if len(values) >= at_least:
                # Drain what else is there until the consumer goes quiet.
                consumer.config["consumer_timeout_ms"] = 2000
    finally:
        consumer.close()
    return values


def _jvm_pid(kafka: EmbeddedKafka, broker_id: int) -> int:
    proc = kafka._nodes[broker_id].proc
    assert proc is not None
    return proc.pid


def _proc_state(pid: int) -> str:
    # /proc/<pid>/stat: "pid (comm) S ..." - the state letter follows the last ')'.
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


class _Acks:
    """Producer callbacks: sequence numbers acknowledged or failed; whether an ack followed the kill."""

    def __init__(self, killed: threading.Event) -> None:
        self.lock = threading.Lock()
        self.acked: list[int] = []
        self.failed: list[int] = []
        self.killed = killed
        self.acked_after_kill = threading.Event()

    def on_ack(self, seq: int) -> Callable[[object], None]:
        def record(_metadata: object) -> None:
            with self.lock:
                self.acked.append(seq)
            if self.killed.is_set():
                self.acked_after_kill.set()

        return record

    def on_error(self, seq: int) -> Callable[[object], None]:
        def record(_exc: object) -> None:
            with self.lock:
                self.failed.append(seq)

        return record

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)


def _produce_across_a_kill(cluster: EmbeddedKafka, topic: str, total: int, acks: _Acks) -> None:
    """Send `total` records with acks=all; a quarter in, wait until the main thread has killed a broker."""
    producer = KafkaProducer(
        bootstrap_servers=cluster.bootstrap_servers,
        acks="all",
        linger_ms=5,
        request_timeout_ms=15_000,
        delivery_timeout_ms=120_000,
    )
    try:
        for seq in range(total):
            future = producer.send(topic, key=str(seq % 30).encode(), value=str(seq).encode())
            future.add_callback(acks.on_ack(seq))
            future.add_errback(acks.on_error(seq))
            if seq == total // 4:
                acks.killed.wait(30)  # produce on while the kill happens
            if seq % 50 == 0:
                threading.Event().wait(0.01)  # keep a steady, bounded rate
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=30)


def test_acked_records_survive_a_broker_kill(
    cluster: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("kill")
    with cluster.admin() as admin:
        described = admin.create_topic(topic, partitions=3)
    assert described is not None
    assert all(len(p.replicas) == 3 for p in described.partitions)

    total = 4000
    acks = _Acks(threading.Event())
    worker = threading.Thread(
        target=_produce_across_a_kill, args=(cluster, topic, total, acks), name="kill-test-producer"
    )
    worker.start()
    try:
        # Wait for the producer to be in full flow, then crash broker 2 without warning.
        for _ in range(300):
            if acks.acked_count() >= 200:
                break
            threading.Event().wait(0.05)
        cluster.kill_broker(2)
    finally:
        acks.killed.set()
        worker.join(180)
    assert not worker.is_alive(), "producer did not finish"
    with acks.lock:
        acked_set = set(acks.acked)
    assert acks.acked_after_kill.is_set()
    assert len(acked_set) > total // 2, f"too few acknowledged records to mean anything: {len(acked_set)}"

    consumed = {int(v) for v in _consume_values(cluster, topic, len(acked_set))}
    missing = sorted(acked_set - consumed)
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:10]}"

    cluster.start_broker(2)
    cluster.wait_healthy()


def test_pause_and_resume_keep_the_cluster_and_data(
    cluster: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("pause")
    with cluster.admin() as admin:
        admin.create_topic(topic, partitions=2)
    _produce(cluster, topic, [f"before-{i}".encode() for i in range(50)])

    pid = _jvm_pid(cluster, 3)
    cluster.pause_broker(3)
    try:
        assert _proc_state(pid) == "T"  # stopped by SIGSTOP
    finally:
        cluster.resume_broker(3)
    assert _proc_state(pid) != "T"
    cluster.wait_healthy()

    _produce(cluster, topic, [f"after-{i}".encode() for i in range(50)])
    values = _consume_values(cluster, topic, 100)
    assert sorted(values) == sorted(
        [f"before-{i}".encode() for i in range(50)] + [f"after-{i}".encode() for i in range(50)]
    )


def test_rolling_restart_restarts_every_broker_and_keeps_data(
    cluster: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("roll")
    with cluster.admin() as admin:
        admin.create_topic(topic, partitions=3)
    _produce(cluster, topic, [f"r-{i}".encode() for i in range(300)])
    pids_before = {b: _jvm_pid(cluster, b) for b in cluster.broker_ids}

    cluster.rolling_restart()

    pids_after = {b: _jvm_pid(cluster, b) for b in cluster.broker_ids}
    assert all(pids_after[b] != pids_before[b] for b in cluster.broker_ids)
    with cluster.admin() as admin:
        assert admin.live_broker_ids() == [1, 2, 3]
        assert admin.under_replicated_partitions() == 0
        assert all(len(p.isr) == 3 for p in admin.describe_topic(topic).partitions)
    values = _consume_values(cluster, topic, 300)
    assert sorted(values) == sorted(f"r-{i}".encode() for i in range(300))
