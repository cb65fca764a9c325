"""On-failure destinations end to end: a provisioned ESM whose function always fails on a poison record sends
AWS-shaped failure records to SQS, SNS and S3 on the moto server and to a Kafka topic (checklist 29-30, 37-41;
gotchas 10, 20-22)."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from kafka import KafkaConsumer

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.s3 import MotoServer
from harness.clock import SystemClock
from harness.esm.mapping import EventSourceMapping
from harness.esm.settings import EsmConfig
from tests.integration.test_esm_mapping import (  # the module-scoped real function fixture is shared
    ARN,
    Function,
    config,
    create_topic,
    function,
    produce,
    wait_for,
)

__all__ = ["function"]


@pytest.fixture
def moto(moto_server: MotoServer) -> MotoServer:
    """The session's moto server (SQS, SNS, S3 destinations; each test makes its own queue, topic, bucket)."""
    return moto_server


def failing_config(topic: str, destination: str) -> EsmConfig:
    return config(
        topic,
        ProvisionedPollerConfig={"MinimumPollers": 1, "MaximumPollers": 2},
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": destination}},
    )


def run_until_skipped(kafka: EmbeddedKafka, function: Function, cfg: EsmConfig, moto: MotoServer) -> None:
    with EventSourceMapping(
        cfg,
        function.runtime,
        bootstrap_servers=kafka.bootstrap_servers,
        clock=SystemClock(),
        rng=random.Random(3),
        destination_endpoint_url=moto.endpoint_url,
    ) as esm:
        wait_for(lambda: esm.committed_offsets() == {0: 3}, what="commit past the failed batch")
        assert esm.poll_error() is None
        assert len([a for a in esm.invocations() if a.outcome == "function_error"]) == 2  # 1 retry


def check_batch_record(record: dict[str, Any], condition: str) -> None:
    assert record["requestContext"]["condition"] == condition
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert (
        record["requestContext"]["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:esm-probe"
    )
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    info = record["KafkaBatchInfo"]
    assert info["batchSize"] == 3
    assert info["eventSourceArn"] == ARN
    ((_, span),) = info["recordsInfo"].items()
    assert span["firstRecordOffset"] == "0"
    assert span["lastRecordOffset"] == "2"


def poison(kafka: EmbeddedKafka, topic: str) -> None:
    create_topic(kafka, topic, 1)
    produce(kafka, topic, [(0, b"a"), (0, b"poison"), (0, b"c")])


def test_sqs_destination(
    kafka: EmbeddedKafka, function: Function, moto: MotoServer, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("sqs")
    poison(kafka, topic)
    sqs = moto.sqs_client()
    url = sqs.create_queue(QueueName="esm-dlq")["QueueUrl"]
    run_until_skipped(
        kafka, function, failing_config(topic, "arn:aws:sqs:us-east-1:123456789012:esm-dlq"), moto
    )
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    record = json.loads(messages[0]["Body"])
    check_batch_record(record, "RetryAttemptsExhausted")
    assert "payload" not in record


def test_sns_destination(
    kafka: EmbeddedKafka, function: Function, moto: MotoServer, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("sns")
    poison(kafka, topic)
    sns, sqs = moto.sns_client(), moto.sqs_client()
    topic_arn = sns.create_topic(Name="esm-failures")["TopicArn"]
    url = sqs.create_queue(QueueName="sns-sink")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    run_until_skipped(kafka, function, failing_config(topic, topic_arn), moto)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    assert len(messages[0]["Body"].encode()) <= 262_144
    check_batch_record(json.loads(messages[0]["Body"]), "RetryAttemptsExhausted")


def test_s3_destination(
    kafka: EmbeddedKafka, function: Function, moto: MotoServer, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("s3")
    poison(kafka, topic)
    s3 = moto.s3_client()
    s3.create_bucket(Bucket="esm-failures")
    run_until_skipped(kafka, function, failing_config(topic, "arn:aws:s3:::esm-failures"), moto)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="esm-failures").get("Contents", [])]
    assert len(keys) == 1
    assert keys[0].startswith("aws/lambda/")
    assert f"/{topic}-0/" in keys[0]
    record = json.loads(s3.get_object(Bucket="esm-failures", Key=keys[0])["Body"].read())
    check_batch_record(record, "RetryAttemptsExhausted")
    payload = json.loads(record["payload"])
    values = [base64.b64decode(r["value"]) for r in payload["records"][f"{topic}-0"]]
    assert values == [b"a", b"poison", b"c"]


def test_kafka_destination(
    kafka: EmbeddedKafka, function: Function, moto: MotoServer, unique_topic: Callable[[str], str]
) -> None:
    topic, dlq = unique_topic("src"), unique_topic("dlq")
    poison(kafka, topic)
    create_topic(kafka, dlq, 2)
    run_until_skipped(kafka, function, failing_config(topic, f"kafka://{dlq}"), moto)
    consumer = KafkaConsumer(
        dlq,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        enable_auto_commit=False,
    )
    try:
        messages = list(consumer)
    finally:
        consumer.close(autocommit=False)
    assert len(messages) == 3
    assert all(m.key == b"k" for m in messages)
    bodies = sorted(
        (json.loads(m.value) for m in messages),
        key=lambda b: int(b["KafkaBatchInfo"]["recordInfo"]["offset"]),
    )
    assert [b["KafkaBatchInfo"]["recordInfo"]["offset"] for b in bodies] == ["0", "1", "2"]
    first = bodies[0]
    assert first["requestContext"]["condition"] == "RetriesExhausted"
    assert first["requestContext"]["functionArn"].endswith(":function:esm-probe:$LATEST")
    assert first["KafkaBatchInfo"]["batchSize"] == 1
    assert isinstance(first["payload"], dict)
    assert list(first["payload"]["records"]) == [f"{topic}-0"]
