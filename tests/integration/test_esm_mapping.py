"""The Kafka ESM against the real embedded broker, invoking a real Python function through the Runtime API.

Checklist: 19-27, 45-47 and gotchas 5, 15, 18, 19 (positions, commits, stuck partitions, filtering).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.clock import SystemClock
from harness.esm.knobs import EsmKnobs
from harness.esm.mapping import EventSourceMapping
from harness.esm.settings import EsmConfig
from harness.runtime.function import FunctionConfig, FunctionRuntime

HANDLER = """
import base64, json, os

def lambda_handler(event, context):
    seen = [[r["topic"], r["partition"], r["offset"], r.get("value")]
            for records in event["records"].values() for r in records]
    with open(os.environ["ESM_TEST_LOG"], "a") as fh:
        fh.write(json.dumps({"request_id": context.aws_request_id, "records": seen}) + "\\n")
    for topic, partition, offset, value in seen:
        if value is not None and base64.b64decode(value) == b"poison":
            raise ValueError(f"poison at {partition}:{offset}")
    return None
"""

ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/local/abcd-1"


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll a condition (real time: the broker and runtime are real processes)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Function:
    """A real Python function (awslambdaric) that logs every event it receives to a JSON-lines file."""

    def __init__(self, runtime: FunctionRuntime, log: Path) -> None:
        self.runtime = runtime
        self.log = log

    def calls(self, topic: str) -> list[list[list[Any]]]:
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            records = json.loads(line)["records"]
            if records and records[0][0] == topic:
                out.append(records)
        return out

    def delivered(self, topic: str) -> list[tuple[int, int]]:
        return [(r[1], r[2]) for call in self.calls(topic) for r in call]


@pytest.fixture(scope="module")
def function(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Function]:
    root = tmp_path_factory.mktemp("esm-fn")
    code = root / "code"
    code.mkdir()
    (code / "esm_handler.py").write_text(HANDLER)
    log = root / "events.jsonl"
    config = FunctionConfig(
        name="esm-probe",
        runtime="python3.11",
        handler="esm_handler.lambda_handler",
        code_dir=code,
        timeout_seconds=30,
        environment={"ESM_TEST_LOG": str(log)},
    )
    with FunctionRuntime(
        config, clock=SystemClock(), rng=random.Random(5), log_dir=root / "logs", max_environments=5
    ) as runtime:
        yield Function(runtime, log)


def create_topic(
    kafka: EmbeddedKafka, name: str, partitions: int, configs: dict[str, str] | None = None
) -> None:
    with kafka.admin() as admin:
        admin.create_topic(name, partitions=partitions, configs=configs)


def produce(kafka: EmbeddedKafka, topic: str, items: list[tuple[int, bytes]], **kw: Any) -> None:
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    try:
        for partition, value in items:
            producer.send(topic, value=value, partition=partition, key=b"k", **kw)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def config(topic: str, **extra: Any) -> EsmConfig:
    params: dict[str, Any] = {
        "FunctionName": "esm-probe",
        "EventSourceArn": ARN,
        "Topics": [topic],
        "StartingPosition": "TRIM_HORIZON",
    }
    params.update(extra)
    return EsmConfig.from_aws(params)


def mapping(kafka: EmbeddedKafka, function: Function, cfg: EsmConfig, **kw: Any) -> EventSourceMapping:
    return EventSourceMapping(
        cfg,
        function.runtime,
        bootstrap_servers=kafka.bootstrap_servers,
        clock=SystemClock(),
        rng=random.Random(11),
        **kw,
    )


def group_commits(kafka: EmbeddedKafka, group: str, topic: str, partitions: int) -> dict[int, int | None]:
    consumer = KafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    try:
        return {p: consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        consumer.close(autocommit=False)


def test_commits_last_plus_one_after_success(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("orders")
    create_topic(kafka, topic, 3)
    produce(kafka, topic, [(i % 3, b"ok-%d" % i) for i in range(30)])
    with mapping(kafka, function, config(topic, BatchSize=4)) as esm:
        wait_for(lambda: esm.committed_offsets() == {0: 10, 1: 10, 2: 10}, what="all commits")
        assert esm.poll_error() is None
        group = esm.group_id
    assert group_commits(kafka, group, topic, 3) == {0: 10, 1: 10, 2: 10}
    delivered = function.delivered(topic)
    assert sorted(delivered) == [(p, o) for p in range(3) for o in range(10)]
    assert all(len(call) <= 4 for call in function.calls(topic))
    for p in range(3):  # strictly ascending per partition across events
        offsets = [o for q, o in delivered if q == p]
        assert offsets == sorted(offsets)


def test_poison_pill_blocks_only_its_partition(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("poison")
    create_topic(kafka, topic, 2)
    produce(kafka, topic, [(0, b"a"), (0, b"poison"), (0, b"c"), (1, b"x"), (1, b"y")])
    knobs = EsmKnobs(partition_grouping="single_partition")
    with mapping(kafka, function, config(topic), knobs=knobs) as esm:
        wait_for(lambda: esm.committed_offsets().get(1) == 2, what="partition 1 commit")
        wait_for(
            lambda: (
                sum(
                    1 for a in esm.invocations() if "-0" in "".join(a.spans) and a.outcome == "function_error"
                )
                >= 3
            ),
            what="retries of partition 0",
        )
        assert 0 not in esm.committed_offsets()  # a failed attempt commits nothing
        assert esm.stuck_partitions() == {0}
        attempts = [a for a in esm.invocations() if a.outcome == "function_error"]
        assert len({a.request_id for a in attempts}) == len(attempts)  # a fresh request id per attempt
    p0_calls = [call for call in function.calls(topic) if call[0][1] == 0]
    assert all([r[2] for r in call] == [0, 1, 2] for call in p0_calls)  # whole batch replayed unchanged


def test_filtered_records_are_committed(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("filtered")
    create_topic(kafka, topic, 1)
    produce(kafka, topic, [(0, json.dumps({"n": i, "keep": i in (2, 5, 8)}).encode()) for i in range(10)])
    pattern = json.dumps({"value": {"keep": [True]}})
    cfg = config(topic, FilterCriteria={"Filters": [{"Pattern": pattern}]}, MaximumBatchingWindowInSeconds=1)
    with mapping(kafka, function, cfg) as esm:
        wait_for(lambda: esm.committed_offsets() == {0: 10}, what="commit of 10")
    assert function.delivered(topic) == [(0, 2), (0, 5), (0, 8)]
    assert len(function.calls(topic)) == 1


def test_all_filtered_batch_commits_without_invoking(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("none-match")
    create_topic(kafka, topic, 1)
    produce(kafka, topic, [(0, b"plain %d" % i) for i in range(5)])
    cfg = config(topic, FilterCriteria={"Filters": [{"Pattern": json.dumps({"value": ["nothing"]})}]})
    with mapping(kafka, function, cfg) as esm:
        wait_for(lambda: esm.committed_offsets() == {0: 5}, what="commit of 5")
        assert esm.invocations() == []
    assert function.calls(topic) == []


def test_existing_group_commit_wins_over_starting_position(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("resume")
    create_topic(kafka, topic, 1)
    produce(kafka, topic, [(0, b"r%d" % i) for i in range(60)])
    group = f"{topic}-group"
    seed = KafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=group, enable_auto_commit=False)
    try:
        seed.commit({TopicPartition(topic, 0): OffsetAndMetadata(50, "", -1)})
    finally:
        seed.close(autocommit=False)
    cfg = config(topic, AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": group})
    with mapping(kafka, function, cfg) as esm:
        assert esm.group_id == group
        wait_for(lambda: esm.committed_offsets() == {0: 60}, what="commit of 60")
    assert [o for _, o in function.delivered(topic)] == list(range(50, 60))


def test_restart_resumes_from_the_committed_offset(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("restart")
    create_topic(kafka, topic, 1)
    produce(kafka, topic, [(0, b"a%d" % i) for i in range(5)])
    cfg = config(topic, AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": f"{topic}-g"})
    with mapping(kafka, function, cfg) as esm:
        wait_for(lambda: esm.committed_offsets() == {0: 5}, what="first commit")
    produce(kafka, topic, [(0, b"b%d" % i) for i in range(3)])
    with mapping(kafka, function, cfg) as esm:
        wait_for(lambda: esm.committed_offsets() == {0: 8}, what="second commit")
    assert [o for _, o in function.delivered(topic)] == list(range(8))  # nothing twice


def test_latest_and_at_timestamp_starting_positions(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("positions")
    # The records are dated 2025-06-15: past the broker's 7-day retention. Its retention check (every 5 min,
    # the first 30 s after start) rolls and deletes such a segment, so a check landing between two of the
    # produces below moved the log start to 8 and AT_TIMESTAMP rightly began there. Keep them.
    create_topic(kafka, topic, 1, configs={"retention.ms": "-1"})
    base_ms = 1_750_000_000_000  # fixed, not "now": the expected start offset must not depend on the clock
    for i in range(10):
        produce(kafka, topic, [(0, b"t%d" % i)], timestamp_ms=base_ms + i * 1000)
    at = config(topic, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=(base_ms + 6500) / 1000)
    with mapping(kafka, function, at) as esm:
        wait_for(lambda: esm.committed_offsets() == {0: 10}, what="AT_TIMESTAMP commit")
    assert [o for _, o in function.delivered(topic)] == [7, 8, 9]  # first offset with timestamp >= T
    latest_topic = unique_topic("latest")
    create_topic(kafka, latest_topic, 1)
    produce(kafka, latest_topic, [(0, b"old")] * 4)
    with mapping(kafka, function, config(latest_topic, StartingPosition="LATEST")) as esm:
        produce(kafka, latest_topic, [(0, b"new")] * 2)
        wait_for(lambda: esm.committed_offsets() == {0: 6}, what="LATEST commit")
    assert [o for _, o in function.delivered(latest_topic)] == [4, 5]


def test_disabled_mapping_does_not_invoke(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("disabled")
    create_topic(kafka, topic, 1)
    produce(kafka, topic, [(0, b"x")] * 3)
    with mapping(kafka, function, config(topic, Enabled=False)) as esm:
        time.sleep(1.5)  # give a wrongly enabled mapping time to invoke (not a duration assertion)
        assert esm.invocations() == []
        assert esm.committed_offsets() == {}
        esm.update({"Enabled": True})
        wait_for(lambda: esm.committed_offsets() == {0: 3}, what="commit after enabling")


def test_backlog_larger_than_the_fetch_limit_is_delivered_in_order(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    # BatchSize 10 holds back fetching a partition at 40 queued records, so fetching narrows and widens often.
    topic = unique_topic("backlog")
    create_topic(kafka, topic, 2)
    produce(kafka, topic, [(i % 2, b"r%d" % i) for i in range(600)])
    with mapping(kafka, function, config(topic, BatchSize=10)) as esm:
        wait_for(lambda: esm.committed_offsets() == {0: 300, 1: 300}, timeout=120, what="backlog commits")
    delivered = function.delivered(topic)
    for p in range(2):
        assert [o for q, o in delivered if q == p] == list(range(300))


def test_latest_misses_records_produced_during_the_startup_delay(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("latest-gap")
    create_topic(kafka, topic, 1)
    esm = mapping(
        kafka, function, config(topic, StartingPosition="LATEST"), knobs=EsmKnobs(startup_delay_ms=5000)
    )
    starter = threading.Thread(target=esm.start)
    starter.start()
    try:
        produce(kafka, topic, [(0, b"gap")] * 3)  # after "create", before polling starts: AWS may miss these
        starter.join(timeout=60)
        assert esm.running
        produce(kafka, topic, [(0, b"after")] * 2)
        wait_for(lambda: esm.committed_offsets() == {0: 5}, what="commit after the gap")
    finally:
        starter.join(timeout=60)
        esm.stop()
    assert function.delivered(topic) == [(0, 3), (0, 4)]
