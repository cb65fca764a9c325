"""Simulated autoscaling against the real broker and a real Python function (spec §6; checklist 47-50).

A scale event lands while both partitions' first batches are in flight (the handler sleeps on them):
with `rebalance_on_scale` those batches are redelivered to the new owners, without it they commit normally.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.clock import ScaledClock, SystemClock
from harness.esm.knobs import EsmKnobs
from harness.esm.mapping import EventSourceMapping
from harness.esm.scaling import LAG_RECORDS_PER_POLLER
from harness.esm.settings import EsmConfig
from harness.runtime.function import FunctionConfig, FunctionRuntime

HANDLER = """
import base64, json, os, time

def lambda_handler(event, context):
    started = time.time()
    seen = [[r["partition"], r["offset"]] for records in event["records"].values() for r in records]
    values = [base64.b64decode(r["value"]) for records in event["records"].values() for r in records]
    for (partition, offset), value in zip(seen, values):
        marker = os.path.join(os.environ["ESM_MARKERS"], f"{r_topic(event)}-{partition}-{offset}")
        if value == b"slow" and not os.path.exists(marker):
            open(marker, "w").close()
            time.sleep(float(os.environ["ESM_SLOW_S"]))  # only the first delivery is slow
    with open(os.environ["ESM_TEST_LOG"], "a") as fh:
        line = {"topic": r_topic(event), "records": seen, "started": started, "ended": time.time()}
        fh.write(json.dumps(line) + "\\n")
    return None

def r_topic(event):
    return next(iter(event["records"].values()))[0]["topic"]
"""

ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/local/abcd-1"
PARTITIONS = 2
PER_PARTITION = 150  # lag 300 asks for 3 pollers, capped at the 2 partitions
SPEED = 120.0  # eval every 60 s and apply 180 s later: 0.5 s and 1.5 s of real time
SLOW_S = 5.0


class Function:
    """A real Python function that logs each event's (partition, offset) list and its real start/end."""

    def __init__(self, runtime: FunctionRuntime, log: Path) -> None:
        self.runtime = runtime
        self.log = log

    def calls(self, topic: str) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [line for line in lines if line["topic"] == topic]


@pytest.fixture(scope="module")
def function(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Function]:
    root = tmp_path_factory.mktemp("esm-scaling-fn")
    code, markers = root / "code", root / "markers"
    code.mkdir()
    markers.mkdir()
    (code / "scaling_handler.py").write_text(HANDLER)
    log = root / "events.jsonl"
    config = FunctionConfig(
        name="esm-scaling-probe",
        runtime="python3.11",
        handler="scaling_handler.lambda_handler",
        code_dir=code,
        timeout_seconds=30,
        environment={"ESM_TEST_LOG": str(log), "ESM_MARKERS": str(markers), "ESM_SLOW_S": str(SLOW_S)},
    )
    with FunctionRuntime(
        config, clock=SystemClock(), rng=random.Random(5), log_dir=root / "logs", max_environments=4
    ) as runtime:
        yield Function(runtime, log)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll a condition (real time: the broker and runtime are real processes)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def produce(kafka: EmbeddedKafka, topic: str) -> None:
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=PARTITIONS)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    try:
        for partition in range(PARTITIONS):
            for offset in range(PER_PARTITION):
                producer.send(topic, value=b"slow" if offset == 0 else b"ok", partition=partition)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def run_scaled(
    kafka: EmbeddedKafka, function: Function, topic: str, *, rebalance: bool
) -> EventSourceMapping:
    """Run the mapping until every record is committed; returns the stopped mapping for inspection."""
    assert PARTITIONS * PER_PARTITION > LAG_RECORDS_PER_POLLER  # the backlog must ask for more pollers
    produce(kafka, topic)
    knobs = EsmKnobs(
        simulate_autoscaling=True,
        autoscale_eval_interval_s=60,
        autoscale_apply_delay_s=180,
        rebalance_on_scale=rebalance,
    )
    config = EsmConfig.from_aws(
        {
            "FunctionName": "esm-scaling-probe",
            "EventSourceArn": ARN,
            "Topics": [topic],
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 100,
        }
    )
    esm = EventSourceMapping(
        config,
        function.runtime,
        bootstrap_servers=kafka.bootstrap_servers,
        clock=ScaledClock(speed=SPEED),
        rng=random.Random(3),
        knobs=knobs,
    )
    with esm:
        done = dict.fromkeys(range(PARTITIONS), PER_PARTITION)
        wait_for(lambda: esm.committed_offsets() == done, what="every record committed")
        assert esm.poll_error() is None
    return esm


def delivered(function: Function, topic: str) -> list[tuple[int, int]]:
    return [(p, o) for call in function.calls(topic) for p, o in call["records"]]


def assert_one_invocation_per_partition_at_a_time(function: Function, topic: str) -> None:
    """#47 holds across the rebalance: invocations sharing a partition never overlap in real time."""
    for partition in range(PARTITIONS):
        spans = sorted(
            (call["started"], call["ended"])
            for call in function.calls(topic)
            if any(p == partition for p, _ in call["records"])
        )
        for (_, ended), (started, _) in itertools.pairwise(spans):
            assert started >= ended, f"partition {partition} had overlapping invocations"


def assert_commits_only_move_forward(esm: EventSourceMapping) -> None:
    for partition in range(PARTITIONS):
        offsets = [c.offset for c in esm.commits() if c.partition == partition]
        assert offsets == sorted(offsets)
        assert offsets[-1] == PER_PARTITION


def test_rebalance_on_scale_redelivers_the_in_flight_batch(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("rebalance")
    esm = run_scaled(kafka, function, topic, rebalance=True)
    first = esm.scale_events()[0]
    assert (first.pollers_before, first.pollers_after) == (1, 2)
    assert first.rebalanced == first.in_flight
    assert first.rebalanced  # the slow batches were in flight when the change applied
    got = delivered(function, topic)
    assert sorted(set(got)) == [(p, o) for p in range(PARTITIONS) for o in range(PER_PARTITION)]  # none lost
    for partition in first.rebalanced:
        assert got.count((partition, 0)) == 2  # the lost batch came again, from the last commit
        attempts = [c for c in function.calls(topic) if [partition, 0] in c["records"]]
        assert [r for r in attempts[0]["records"] if r[0] == partition] == [
            r for r in attempts[1]["records"] if r[0] == partition
        ]  # the same offsets in both attempts
    assert_commits_only_move_forward(esm)
    assert_one_invocation_per_partition_at_a_time(function, topic)


def test_without_rebalance_in_flight_batches_commit_and_nothing_repeats(
    kafka: EmbeddedKafka, function: Function, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("no-rebalance")
    esm = run_scaled(kafka, function, topic, rebalance=False)
    first = esm.scale_events()[0]
    assert (first.pollers_before, first.pollers_after) == (1, 2)
    assert first.in_flight  # the change applied while the slow batches ran
    assert first.rebalanced == ()
    got = delivered(function, topic)
    assert sorted(got) == [(p, o) for p in range(PARTITIONS) for o in range(PER_PARTITION)]  # each once
    assert_commits_only_move_forward(esm)
    assert_one_invocation_per_partition_at_a_time(function, topic)
