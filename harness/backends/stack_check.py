"""Prove a running stack works: a Kafka round trip, an S3 round trip, and a Firehose API call.

This is what `msk-harness up --check` runs. Each check cleans up what it made (topic, bucket) and reports
instead of raising, so one broken part does not hide the state of the others.

Example::

    with Stack().start() as stack:
        results = check_stack(stack, random.Random(7))
        assert all(r.ok for r in results)
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from harness.backends.stack import Stack


@dataclass(frozen=True)
class PartCheck:
    """The outcome of proving one part: ok or not, what was done or what failed, and its startup time."""

    part: str
    ok: bool
    detail: str
    startup_seconds: float | None = None


def _check_name(rng: random.Random) -> str:
    # Unique per run so an external cluster or bucket namespace never collides with an earlier check.
    return f"msk-harness-check-{rng.getrandbits(40):010x}"


def check_kafka(stack: Stack, rng: random.Random, timeout: float = 30.0) -> str:
    """Create a topic, produce one record, consume it back, delete the topic; returns what was done."""
    topic = _check_name(rng)
    payload = f"check {topic}".encode()
    servers = stack.kafka.bootstrap_servers
    with stack.kafka.admin() as admin:
        admin.create_topic(topic, partitions=1)
        try:
            producer = KafkaProducer(bootstrap_servers=servers, acks="all")
            try:
                metadata = producer.send(topic, key=b"check", value=payload).get(timeout=timeout)
            finally:
                producer.close(timeout=5)
            consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
            try:
                partition = TopicPartition(topic, 0)
                consumer.assign([partition])
                consumer.seek(partition, metadata.offset)
                records = consumer.poll(timeout_ms=int(timeout * 1000), max_records=1).get(partition, [])
            finally:
                consumer.close()
            if not records or records[0].value != payload:
                raise RuntimeError(f"produced one record to {topic} but consumed {records!r}")
        finally:
            with contextlib.suppress(Exception):
                admin.delete_topic(topic)
    return f"topic created, 1 record produced and consumed on {servers}"


def check_s3(stack: Stack, rng: random.Random) -> str:
    """Create a bucket, put and get an object, delete both; returns what was done."""
    bucket = _check_name(rng)
    body = f"check {bucket}".encode()
    s3 = stack.s3
    client = s3.s3_client()
    s3.create_bucket(bucket)
    try:
        client.put_object(Bucket=bucket, Key="check/object", Body=body)
        got = s3.get_object_bytes(bucket, "check/object")
        if got != body:
            raise RuntimeError(f"put {len(body)} bytes to s3://{bucket}/check/object but got {got!r}")
    finally:
        with contextlib.suppress(Exception):
            client.delete_object(Bucket=bucket, Key="check/object")
        with contextlib.suppress(Exception):
            client.delete_bucket(Bucket=bucket)
    return f"bucket created, object put and read back on {s3.endpoint_url or 'AWS S3'}"


def check_firehose(stack: Stack) -> str:
    """Call ListDeliveryStreams on the Firehose emulator; returns what it answered."""
    url = stack.firehose_endpoint_url
    if url is None:
        raise RuntimeError("the Firehose emulator reports no endpoint")
    answer = stack.s3.client("firehose", endpoint_url=url).list_delivery_streams()
    return f"ListDeliveryStreams answered ({len(answer['DeliveryStreamNames'])} streams) on {url}"


def check_stack(stack: Stack, rng: random.Random) -> list[PartCheck]:
    """Run every check for the parts this stack has; never raises for a failing part."""
    startup = {t.name: t.seconds for t in stack.timings}
    checks: list[tuple[str, Callable[[], str]]] = [
        ("kafka", lambda: check_kafka(stack, rng)),
        ("s3", lambda: check_s3(stack, rng)),
    ]
    if stack.firehose is not None:
        checks.append(("firehose", lambda: check_firehose(stack)))
    results = []
    for part, run in checks:
        try:
            results.append(PartCheck(part, True, run(), startup.get(part)))
        except Exception as exc:  # noqa: BLE001 - reported, not raised: the other parts still get checked
            results.append(PartCheck(part, False, f"{type(exc).__name__}: {exc}", startup.get(part)))
    return results
