"""On-failure destination record shapes (spec §4.5; checklist 37-41; gotchas 20-22)."""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import UTC, datetime

from harness.esm.destinations import (
    SNS_MAX_MESSAGE_BYTES,
    RecordContext,
    batch_failure_record,
    kafka_failure_messages,
    s3_key,
    sns_messages,
)
from harness.esm.event_builder import EventSource, KafkaRecord, build_event, serialize_event
from harness.esm.knobs import EsmKnobs
from harness.esm.retry import FailureReport

MSK = EventSource("arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1", ("b-1.demo:9098",))
SELF = EventSource(None, ("h:9092",))
NOW = datetime(2026, 7, 13, 14, 5, 9, 21000, tzinfo=UTC)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def records() -> list[KafkaRecord]:
    return [
        KafkaRecord("orders", p, o, 1750000000000 + o, "CREATE_TIME", b"k%d" % o if o else None, b"v", ())
        for p, o in ((0, 41), (0, 43), (3, 0))
    ]


def report(condition: str = "RetriesExhausted", source: EventSource = MSK) -> FailureReport:
    rs = records()
    error = None if condition == "MaximumPayloadSizeExceeded" else "Unhandled"
    return FailureReport(condition, tuple(rs), serialize_event(build_event(rs, source)), "req-1", 3, error)


def ctx(source: EventSource = MSK, knobs: EsmKnobs | None = None) -> RecordContext:
    return RecordContext(
        "arn:aws:lambda:us-east-1:123456789012:function:archiver",
        source,
        knobs or EsmKnobs(),
        NOW,
        "fresh-id",
    )


def test_sqs_sns_record_shape() -> None:
    r = batch_failure_record(report(), "sqs", ctx())
    assert list(r) == ["requestContext", "responseContext", "version", "timestamp", "KafkaBatchInfo"]
    assert r["requestContext"] == {
        "requestId": "req-1",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:archiver",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 3,
    }
    assert r["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert r["version"] == "1.0"
    assert r["timestamp"] == "2026-07-13T14:05:09.021Z"
    info = r["KafkaBatchInfo"]
    assert info["batchSize"] == 3
    assert info["eventSourceArn"] == MSK.event_source_arn
    assert info["bootstrapServers"] == "b-1.demo:9098"
    assert info["payloadSize"] == len(report().event)
    assert info["recordsInfo"]["orders-0"]["firstRecordOffset"] == "41"
    assert info["recordsInfo"]["orders-0"]["lastRecordOffset"] == "43"
    assert ISO.fullmatch(info["recordsInfo"]["orders-3"]["lastRecordTimestamp"])
    assert "payload" not in r


def test_s3_record_adds_payload_string_of_the_original_event() -> None:
    rep = report()
    r = batch_failure_record(rep, "s3", ctx())
    assert isinstance(r["payload"], str)
    assert json.loads(r["payload"]) == json.loads(rep.event)


def test_payload_size_exceeded_has_null_response_context() -> None:
    r = batch_failure_record(report("MaximumPayloadSizeExceeded"), "sns", ctx())
    assert r["responseContext"] is None
    assert r["requestContext"]["condition"] == "MaximumPayloadSizeExceeded"


def test_self_managed_arn_omitted_or_null() -> None:
    r = batch_failure_record(report(source=SELF), "sqs", ctx(SELF))
    assert "eventSourceArn" not in r["KafkaBatchInfo"]
    r = batch_failure_record(
        report(source=SELF), "sqs", ctx(SELF, EsmKnobs(failure_record_self_managed_arn="null"))
    )
    assert r["KafkaBatchInfo"]["eventSourceArn"] is None


def test_kafka_destination_one_message_per_record_with_record_info_and_object_payload() -> None:
    messages = kafka_failure_messages(report(), ctx())
    assert len(messages) == 3
    _, m = messages[0]
    assert [k for k, _ in messages] == [b"k41", b"k43", None]  # the original keys; the last record is keyless
    assert m["requestContext"]["condition"] == "RetriesExhausted"
    assert m["requestContext"]["functionArn"].endswith(":function:archiver:$LATEST")
    info = m["KafkaBatchInfo"]
    assert info["batchSize"] == 1
    assert "recordsInfo" not in info
    assert info["recordInfo"]["offset"] == "41"
    assert ISO.fullmatch(info["recordInfo"]["timestamp"])
    payload = m["payload"]
    assert isinstance(payload, dict)
    assert payload["eventSource"] == "aws:kafka"
    assert [r["offset"] for r in payload["records"]["orders-0"]] == [41]
    assert info["payloadSize"] == len(serialize_event(payload))
    assert base64.b64decode(payload["records"]["orders-0"][0]["value"]) == b"v"


def test_condition_spelling_literal_mode() -> None:
    r = batch_failure_record(report(), "sqs", ctx(knobs=EsmKnobs(retry_exhausted_condition="literal")))
    assert r["requestContext"]["condition"] == "RetriesExhausted"


def test_sns_messages_never_exceed_256_kb() -> None:
    rs = [KafkaRecord("orders", p, 0, 0, "CREATE_TIME", None, b"v", ()) for p in range(3000)]
    rep = FailureReport("RetriesExhausted", tuple(rs), b"{}", "r", 1, "Unhandled")
    record = batch_failure_record(rep, "sns", ctx())
    assert len(json.dumps(record).encode()) > SNS_MAX_MESSAGE_BYTES
    bodies = sns_messages(record)
    assert len(bodies) > 1
    assert all(len(b.encode()) <= SNS_MAX_MESSAGE_BYTES for b in bodies)
    merged: dict[str, object] = {}
    for b in bodies:
        merged.update(json.loads(b)["KafkaBatchInfo"]["recordsInfo"])
    assert len(merged) == 3000


def test_s3_key_template() -> None:
    key = s3_key(EsmKnobs().s3_failure_key_template, "esm-1", report(), NOW, random.Random(1))
    assert re.fullmatch(r"aws/lambda/esm-1/orders-0/2026/07/13/2026-07-13T14\.05\.09-[0-9a-f-]{36}", key)
