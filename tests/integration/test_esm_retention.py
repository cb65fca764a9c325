"""AT_TIMESTAMP over a log whose start moved: broker retention deletes old-dated records under the ESM.

Why this exists: test_esm_mapping's AT_TIMESTAMP test dates its records 2025-06-15, past the broker's 7-day
retention. A retention check landing between its produces deleted offsets 0-7, so the ESM (correctly)
started at 8 and the test saw [8, 9] instead of [7, 8, 9]. This replays that interleaving on purpose: the ESM
starts at the first surviving record, and `retention.ms=-1` (what the test now sets) keeps the records.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer, TopicPartition

from harness.backends.kafka.embedded import EmbeddedKafka
from tests.integration.test_esm_mapping import (
    Function,
    config,
    create_topic,
    function,  # noqa: F401  (the module-scoped function fixture)
    mapping,
    produce,
    wait_for,
)

BASE_MS = 1_750_000_000_000  # 2025-06-15: far past the default 7-day retention
_CHECK_INTERVAL_MS = 25_000  # first check 30 s after start, then every 25 s: time to produce and deliver


@pytest.fixture(scope="module")
def retention_kafka() -> Iterator[EmbeddedKafka]:
    """A broker of its own: the session broker's 5-minute retention check cannot be timed."""
    configs = {"log.retention.check.interval.ms": str(_CHECK_INTERVAL_MS)}
    with EmbeddedKafka(brokers=1, broker_configs=configs) as cluster:
        yield cluster


def log_start(kafka: EmbeddedKafka, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap_servers)
    try:
        tp = TopicPartition(topic, 0)
        return int(consumer.beginning_offsets([tp])[tp])
    finally:
        consumer.close()


@pytest.mark.slow
def test_at_timestamp_after_a_retention_check_between_produces(
    retention_kafka: EmbeddedKafka,
    function: Function,  # noqa: F811
) -> None:
    kafka = retention_kafka
    # MSK's default retention (7 days), set on the topic: the embedded broker keeps records forever by default
    # (records carry scenario-clock dates), which the third topic proves.
    seven_days = str(7 * 24 * 3600 * 1000)
    topics = {
        "retention-default": {"retention.ms": seven_days},
        "retention-off": {"retention.ms": "-1"},
        "retention-broker-default": None,
    }
    for topic, configs in topics.items():
        create_topic(kafka, topic, 1, configs)
        for i in range(8):
            produce(kafka, topic, [(0, b"t%d" % i)], timestamp_ms=BASE_MS + i * 1000)
    wait_for(lambda: log_start(kafka, "retention-default") == 8, timeout=90, what="retention check")
    assert log_start(kafka, "retention-off") == 0
    assert log_start(kafka, "retention-broker-default") == 0
    for topic in topics:  # the rest of the produce loop, after the check (as in the CI failure)
        for i in range(8, 10):
            produce(kafka, topic, [(0, b"t%d" % i)], timestamp_ms=BASE_MS + i * 1000)
    delivered = {}
    for topic in topics:
        at = config(topic, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=(BASE_MS + 6500) / 1000)
        with mapping(kafka, function, at) as esm:
            wait_for(lambda: esm.committed_offsets() == {0: 10}, timeout=20, what=f"{topic} commit")
        delivered[topic] = [o for _, o in function.delivered(topic)]
    # 7 is gone from the default topic: the first surviving record >= T is 8, and nothing is skipped after it.
    assert delivered == {
        "retention-default": [8, 9],
        "retention-off": [7, 8, 9],
        "retention-broker-default": [7, 8, 9],
    }
