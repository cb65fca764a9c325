"""Powertools for AWS Lambda (Python) accepts our events unchanged (spec §8; checklist 64-67; gotchas 1-3)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEvent
from aws_lambda_powertools.utilities.kafka import SchemaConfig, kafka_consumer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.envelopes import KafkaEnvelope
from aws_lambda_powertools.utilities.parser.models import KafkaMskEventModel, KafkaSelfManagedEventModel
from pydantic import BaseModel

from harness.clock import FakeClock
from harness.esm.batcher import Batcher
from harness.esm.event_builder import EventSource, KafkaRecord, build_event, serialize_event
from harness.esm.invoker import InProcessInvoker
from harness.esm.knobs import EsmKnobs
from harness.esm.retry import BatchRunner
from harness.esm.settings import EsmConfig

MSK = EventSource(
    "arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1", ("b-1.demo:9098", "b-2.demo:9098")
)
SELF = EventSource(None, ("127.0.0.1:9092",))


class Order(BaseModel):
    id: int
    status: str


def r(
    offset: int,
    partition: int = 0,
    key: bytes | None = b"order",
    value: bytes | None = None,
    headers: tuple[tuple[str, bytes | None], ...] = (("source", b"harness"),),
) -> KafkaRecord:
    body = value if value is not None else json.dumps({"id": offset, "status": "paid"}).encode()
    return KafkaRecord("orders", partition, offset, 1750000000000 + offset, "CREATE_TIME", key, body, headers)


FIXTURES = {
    "msk": (MSK, [r(0), r(1)]),
    "self_managed": (SELF, [r(0)]),
    "multi_partition": (MSK, [r(0, 0), r(5, 1), r(6, 1), r(2, 4)]),
    "keyless": (MSK, [r(0, key=None)]),
    "tombstone": (MSK, [KafkaRecord("orders", 0, 3, 1750000000000, "CREATE_TIME", b"k", None, ())]),
    "ascii_headers": (MSK, [r(0, headers=(("a", b"1"), ("a", b"2"), ("b", b"x")))]),
    "non_ascii_headers": (MSK, [r(0, headers=(("label", "café".encode()),))]),
}


def event(name: str) -> dict[str, Any]:
    source, records = FIXTURES[name]
    decoded: dict[str, Any] = json.loads(serialize_event(build_event(records, source)))
    return decoded


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_kafka_event_data_class_reads_every_property(name: str) -> None:
    data = KafkaEvent(event(name))
    assert data.event_source in ("aws:kafka", "SelfManagedKafka")
    assert data.bootstrap_servers
    assert data.decoded_bootstrap_servers
    records = list(data.records)
    assert records
    for rec in records:
        assert rec.topic == "orders"
        assert isinstance(rec.partition, int)
        assert isinstance(rec.offset, int)
        assert rec.timestamp
        assert rec.timestamp_type == "CREATE_TIME"
        _ = rec.key, rec.decoded_key, rec.headers
        if name != "tombstone":
            assert rec.json_value["status"] == "paid"
            assert rec.decoded_value
        if name != "non_ascii_headers":
            assert isinstance(rec.decoded_headers, dict)
    if name == "self_managed":
        assert data.event_source_arn is None
        assert data.event_source == "SelfManagedKafka"
    if name == "keyless":
        assert records[0].decoded_key is None
    if name == "multi_partition":
        assert [(x.partition, x.offset) for x in records] == [(0, 0), (1, 5), (1, 6), (4, 2)]


def test_non_ascii_headers_decode_with_the_consumer_rule() -> None:
    rec = next(iter(KafkaEvent(event("non_ascii_headers")).records))
    assert rec.headers[0]["label"] == [99, 97, 102, -61, -87]
    assert bytes(b & 0xFF for b in rec.headers[0]["label"]).decode() == "café"


@pytest.mark.parametrize("name", ["msk", "multi_partition", "ascii_headers"])
def test_parser_models_and_envelope_msk(name: str) -> None:
    model = KafkaMskEventModel(**event(name))
    assert model.eventSource == "aws:kafka"
    orders: list[Any] = parse(event=event(name), model=Order, envelope=KafkaEnvelope)  # type: ignore[assignment]
    assert [o.status for o in orders] == ["paid"] * len(orders)


def test_parser_model_self_managed() -> None:
    raw = event("self_managed")
    assert "eventSourceArn" not in raw
    model = KafkaSelfManagedEventModel(**raw)
    assert model.eventSource == "SelfManagedKafka"
    orders: list[Any] = parse(event=raw, model=Order, envelope=KafkaEnvelope)  # type: ignore[assignment]
    assert orders[0].id == 0


def test_kafka_consumer_json_schema_config_and_tombstone_key_error() -> None:
    seen: list[Any] = []

    @kafka_consumer(schema_config=SchemaConfig(value_schema_type="JSON"))
    def handler(records: Any, context: Any) -> None:
        seen.extend(rec.value for rec in records.records)

    handler(event("multi_partition"), None)  # type: ignore[arg-type]
    assert [v["id"] for v in seen] == [0, 5, 6, 2]

    @kafka_consumer(schema_config=SchemaConfig(value_schema_type="JSON"))
    def tombstones(records: Any, context: Any) -> None:
        for rec in records.records:
            _ = rec.value

    with pytest.raises(KeyError):
        tombstones(event("tombstone"), None)  # type: ignore[arg-type]


def test_batch_processor_output_commits_exactly_the_predecessors() -> None:
    processor = BatchProcessor(event_type=EventType.Kafka)

    def record_handler(record: Any) -> None:
        if record.partition == 1 and record.offset == 6:
            raise ValueError("poison")

    def handler(ev: dict[str, Any], context: Any) -> Any:
        return process_partial_response(
            event=ev, record_handler=record_handler, processor=processor, context=context
        )

    clock = FakeClock()
    invoker = InProcessInvoker(handler, clock=clock, rng=random.Random(1))
    config = EsmConfig.from_aws(
        {
            "FunctionName": "f",
            "Topics": ["orders"],
            "StartingPosition": "TRIM_HORIZON",
            "EventSourceArn": MSK.event_source_arn,
            "ProvisionedPollerConfig": {"MinimumPollers": 1},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumRetryAttempts": 1,
        }
    )
    commits: list[tuple[tuple[str, int], int]] = []
    runner = BatchRunner(
        config=config,
        knobs=EsmKnobs(),
        invoker=invoker,
        clock=clock,
        commit=lambda tp, o: commits.append((tp, o)),
        report=lambda rep: None,
        log=lambda a: None,
    )
    batcher = Batcher(source=MSK, batch_size=100, window_s=0)
    for rec in [r(0, 0), r(5, 1), r(6, 1), r(7, 1), r(2, 4)]:
        batcher.add(rec, delivered=True, now=0.0)
    batch = batcher.take(0.0)
    assert batch is not None
    runner.run(batch)
    # first attempt: partition 1 commits up to its failed offset 6, partitions 0 and 4 fully
    assert commits[:3] == [(("orders", 0), 1), (("orders", 1), 6), (("orders", 4), 3)]
