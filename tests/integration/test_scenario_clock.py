"""One clock (ESM #69): record timestamps, record age, AT_TIMESTAMP and latency all run on the scenario clock,
also when it starts months before or after the wall clock and runs faster than real time. Real embedded Kafka,
moto S3, the Firehose emulator and the reference archiver."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.s3 import MotoServer
from harness.clock import ScaledClock
from harness.esm.mapping import EventSourceMapping
from harness.load import LoadGenerator, PayloadGenerator, PayloadSpec, ProducedRecord, RateProfile
from harness.load.records import create_time_ms
from harness.run.session import RunOptions, run_scenario
from harness.scenario import validate_text
from tests.integration.credentials import set_test_credentials
from tests.integration.test_esm_mapping import (
    Function,
    config,
    function,  # noqa: F401  (the module-scoped function fixture)
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
FUTURE = datetime(2027, 7, 13, 14, 59, 58, tzinfo=UTC)  # months after any wall clock this suite runs on
PAST = datetime(2026, 7, 13, 14, 59, 58, tzinfo=UTC)
_runs = itertools.count()
HIVE = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"


def timestamps(servers: str, topic: str, partitions: int) -> dict[tuple[int, int], int]:
    """(partition, offset) -> record timestamp (ms) of everything in `topic`."""
    consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, consumer_timeout_ms=5_000)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        return {(m.partition, m.offset): m.timestamp for m in consumer}
    finally:
        consumer.close()


@pytest.mark.parametrize("start", [PAST, FUTURE], ids=["past", "future"])
def test_records_carry_the_scenario_clock_time(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str], start: datetime
) -> None:
    topic = unique_topic("clock")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=2)
    clock = ScaledClock(start=start, speed=20.0)
    ledger: list[ProducedRecord] = []
    lock = threading.Lock()

    def record(entry: ProducedRecord) -> None:
        with lock:
            ledger.append(entry)

    payloads = PayloadGenerator(PayloadSpec(key_cardinality=5), random.Random(3))
    with LoadGenerator(
        kafka.bootstrap_servers, topic, RateProfile.constant(50), payloads, clock, ledger=record
    ) as generator:
        summary = generator.run(records=40)
    assert (summary.acked, summary.failed) == (40, 0), summary.errors
    stored = timestamps(kafka.bootstrap_servers, topic, 2)
    assert len(stored) == 40
    for entry in ledger:
        assert stored[(entry.partition, entry.offset)] == create_time_ms(entry.produced_at)
    first = min(stored.values())
    assert start.timestamp() * 1000 <= first < (start + timedelta(minutes=1)).timestamp() * 1000


def test_topics_keep_dated_records_by_default(
    kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("kept")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=1)
    admin_client = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    try:
        resource = admin_client.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all"
        )
    finally:
        admin_client.close()
    entries = {name: entry["value"] for name, entry in resource["topic"][topic].items()}
    # Records dated months back are not deleted by time retention mid-run (test_esm_retention proves the
    # behaviour against a real retention check); the timestamp limits accept any scenario date.
    assert entries["retention.ms"] == "-1"
    assert entries["message.timestamp.after.max.ms"] == str(2**63 - 1)
    assert entries["message.timestamp.before.max.ms"] == str(2**63 - 1)


SCENARIO = """\
name: clock-{n}
seed: 5
clock: {{start: "{start}", speed: 4}}
pipeline:
  topic: {{name: clock-{n}, partitions: 2}}
  event_source:
    source: msk
    StartingPosition: TRIM_HORIZON
    BatchSize: 20
    ProvisionedPollerConfig: {{MinimumPollers: 1, MaximumPollers: 1}}
    MaximumRecordAgeInSeconds: 60
  function:
    handler: handler.lambda_handler
    timeout: 30
    env: {{DELIVERY_STREAM_NAME: archive}}
  firehose:
    stream_name: archive
    bucket: clock-{n}
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 2}}
    CompressionFormat: GZIP
    Prefix: "{prefix}"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
  backends:
    kafka: {{kind: external, bootstrap_servers: ["{servers}"]}}
    s3: {{kind: external, endpoint: "{endpoint}"}}
load:
  profile: {{kind: constant, rate: 10}}
  records: 60
expect:
  no_loss: true
  settle_seconds: 40
"""


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with pytest.MonkeyPatch.context() as mp:
        set_test_credentials(mp)
        with MotoServer().start() as s3:
            yield s3


def run(kafka: EmbeddedKafka, moto: MotoServer) -> tuple[Any, str]:
    """Run a 60-record scenario on a clock starting at FUTURE; the result and its bucket."""
    n = next(_runs)
    text = SCENARIO.format(
        n=n,
        start=FUTURE.isoformat(),
        prefix=HIVE,
        servers=kafka.bootstrap_servers,
        endpoint=moto.endpoint_url,
    )
    scenario, problems = validate_text(text, ROOT / "scenarios" / "clock.yaml")
    assert scenario is not None, problems
    return run_scenario(scenario, RunOptions(cwd=ROOT)), f"clock-{n}"


def archived(moto: MotoServer, bucket: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The archive's keys and record lines."""
    s3 = moto.s3_client()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="data/").get("Contents", [])]
    lines = []
    for key in keys:
        body = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        lines += [json.loads(line) for line in body.splitlines()]
    return keys, lines


def test_record_age_and_latency_use_the_scenario_clock(kafka: EmbeddedKafka, moto: MotoServer) -> None:
    # MaximumRecordAgeInSeconds 60 on a clock a year ahead: wall-clock record dates would all be "expired".
    result, bucket = run(kafka, moto)
    assert result.error is None, result.error
    assert result.passed, [c for c in result.verification.checks if not c.passed]
    keys, lines = archived(moto, bucket)
    assert len({(r["partition"], r["offset"]) for r in lines}) == 60
    assert all(key.startswith("data/year=2027/month=07/day=13/hour=1") for key in keys)
    start_ms = FUTURE.timestamp() * 1000
    assert all(start_ms <= r["timestamp"] < start_ms + 3_600_000 for r in lines)
    assert result.verification.latencies_ms
    assert all(0 <= ms < 120_000 for ms in result.verification.latencies_ms)  # clock ms, produce -> S3


def test_at_timestamp_selects_on_the_scenario_clock(
    kafka: EmbeddedKafka,
    unique_topic: Callable[[str], str],
    function: Function,  # noqa: F811
) -> None:
    # 40 records at 10/s of clock time from FUTURE (4x); the ESM on the same clock starts 2 s after the first.
    topic = unique_topic("at")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=2)
    clock = ScaledClock(start=FUTURE, speed=4.0)
    payloads = PayloadGenerator(PayloadSpec(key_cardinality=5), random.Random(4))
    ledger: list[ProducedRecord] = []
    with LoadGenerator(
        kafka.bootstrap_servers, topic, RateProfile.constant(10), payloads, clock, ledger=ledger.append
    ) as generator:
        assert generator.run(records=40).acked == 40
    # The producer gets ready before it sends (real seconds, clock seconds too): cut from the first send.
    cut = min(r.produced_at for r in ledger) + timedelta(seconds=2)
    expected = {(r.partition, r.offset) for r in ledger if r.produced_at >= cut}
    assert 0 < len(expected) < 40
    at = config(topic, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=cut.timestamp())
    with EventSourceMapping(
        at, function.runtime, bootstrap_servers=kafka.bootstrap_servers, clock=clock, rng=random.Random(2)
    ) as esm:
        wait_for(lambda: len(function.delivered(topic)) >= len(expected), timeout=60, what="delivery")
        assert esm.poll_error() is None
    assert set(function.delivered(topic)) == expected
