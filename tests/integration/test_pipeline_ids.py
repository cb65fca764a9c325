"""Identities across runs (ESM #72, Firehose #25) and the nested ConsumerGroupId (ESM #68), on real parts:
pipelines of one scenario started one after another against one embedded Kafka and one moto S3 (the external
backends), each with its own Firehose emulator, function runtime and ESM, as two runs of a team's CI would."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.s3 import MotoServer
from harness.run.pipeline import Pipeline
from harness.run.session import scenario_clock
from harness.scenario import validate_text
from tests.integration.credentials import set_test_credentials

ROOT = Path(__file__).resolve().parents[2]
_runs = itertools.count()

SCENARIO = """\
name: ids
seed: 42
{ids}
pipeline:
  topic: {{name: ids-{n}, partitions: 1}}
  event_source:
    source: msk
    StartingPosition: TRIM_HORIZON
    BatchSize: 10
{group}
  function:
    handler: handler.lambda_handler
    timeout: 30
    env: {{DELIVERY_STREAM_NAME: archive}}
  firehose:
    stream_name: archive
    bucket: ids-{n}
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 1}}
    CompressionFormat: GZIP
    Prefix: "data/"
  backends:
    kafka: {{kind: external, bootstrap_servers: ["{servers}"]}}
    s3: {{kind: external, endpoint: "{endpoint}"}}
load:
  profile: {{kind: constant, rate: 10}}
  records: 3
"""


@dataclass(frozen=True)
class RunIds:
    """What one run called things: the ESM UUID, its consumer group, the request ids and object names."""

    esm_uuid: str
    group: str
    topic: str
    request_ids: tuple[str, ...]
    object_suffixes: tuple[str, ...]


@pytest.fixture(scope="module")
def parts() -> Iterator[tuple[EmbeddedKafka, MotoServer]]:
    """One broker and one moto server, shared by every run of this module."""
    with pytest.MonkeyPatch.context() as mp:
        set_test_credentials(mp)
        with EmbeddedKafka(brokers=1) as kafka, MotoServer().start() as s3:
            yield kafka, s3


def run_once(parts: tuple[EmbeddedKafka, MotoServer], *, ids: str = "", group: str = "") -> RunIds:
    """Start the pipeline, send three records, wait for their object, and read the run's identities."""
    kafka, s3 = parts
    n = next(_runs)
    text = SCENARIO.format(
        ids=ids, group=group, n=n, servers=kafka.bootstrap_servers, endpoint=s3.endpoint_url
    )
    scenario, problems = validate_text(text, ROOT / "scenarios" / "ids.yaml")
    assert scenario is not None, problems
    with Pipeline(scenario, clock=scenario_clock(scenario), cwd=ROOT) as pipeline:
        assert pipeline.esm is not None
        assert pipeline.runtime is not None
        producer = KafkaProducer(bootstrap_servers=pipeline.bootstrap_servers, acks="all")
        for i in range(3):
            producer.send(pipeline.topic, key=b"k", value=b'{"n": %d}' % i)
        producer.flush(timeout=30)
        producer.close()
        client = pipeline.s3_client()
        deadline = time.monotonic() + 60
        keys: list[str] = []
        while not keys and time.monotonic() < deadline:
            time.sleep(0.2)
            keys = [o["Key"] for o in client.list_objects_v2(Bucket=pipeline.bucket).get("Contents", [])]
        assert keys, "the archive object did not arrive"
        invocations = pipeline.runtime.invocations()
        return RunIds(
            esm_uuid=pipeline.esm.uuid,
            group=pipeline.esm.group_id,
            topic=pipeline.topic,
            request_ids=tuple(inv.request_id for inv in invocations),
            object_suffixes=tuple(key.removesuffix(".gz")[-36:] for key in keys),
        )


def committed(kafka: EmbeddedKafka, group: str) -> dict[str, int]:
    """The offsets `group` committed in Kafka, by topic (one partition per topic here)."""
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    try:
        offsets = admin.list_group_offsets({group: None})[group]
        return {tp.topic: meta.offset for tp, meta in offsets.items()}
    finally:
        admin.close()


def test_same_seed_runs_get_fresh_esm_uuids_request_ids_and_object_names(
    parts: tuple[EmbeddedKafka, MotoServer],
) -> None:
    first, second = run_once(parts), run_once(parts)
    assert first.esm_uuid != second.esm_uuid
    assert (first.group, second.group) == (first.esm_uuid, second.esm_uuid)  # AWS: the default group
    assert committed(parts[0], first.group) == {first.topic: 3}
    assert committed(parts[0], second.group) == {second.topic: 3}
    assert first.request_ids
    assert second.request_ids
    assert not set(first.request_ids) & set(second.request_ids)
    assert not set(first.object_suffixes) & set(second.object_suffixes)


def test_deterministic_ids_repeat_across_runs(parts: tuple[EmbeddedKafka, MotoServer]) -> None:
    first = run_once(parts, ids="ids: deterministic")
    second = run_once(parts, ids="ids: deterministic")
    assert first.esm_uuid == second.esm_uuid
    assert first.request_ids[0] == second.request_ids[0]
    assert first.object_suffixes[0] == second.object_suffixes[0]


def test_nested_consumer_group_id_starts_the_pipeline_and_names_the_group(
    parts: tuple[EmbeddedKafka, MotoServer],
) -> None:
    nested = "    AmazonManagedKafkaEventSourceConfig: {ConsumerGroupId: orders-archiver}"
    run = run_once(parts, group=nested)
    assert run.group == "orders-archiver"
    assert run.esm_uuid != "orders-archiver"
    assert committed(parts[0], "orders-archiver") == {run.topic: 3}
