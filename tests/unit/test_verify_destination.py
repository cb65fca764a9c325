"""Reading on-failure destination records (AWS shapes, spec lambda-kafka-esm §4.5) for the checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from harness.esm.destinations import RecordContext, batch_failure_record, kafka_failure_messages
from harness.esm.event_builder import EventSource, KafkaRecord, build_event, serialize_event
from harness.esm.knobs import EsmKnobs
from harness.esm.retry import FailureReport
from harness.load import ProducedRecord
from harness.verify.destination import summarize_failures

T0 = datetime(2026, 7, 13, 14, 5, tzinfo=UTC)


def produced(partition: int, offset: int, key: bytes | None) -> ProducedRecord:
    return ProducedRecord(offset, "orders", partition, offset, key, None, 0, (), T0)


LEDGER = {("orders", 0, o): produced(0, o, f"k{o}".encode()) for o in range(10)}
HEAD: dict[str, Any] = {
    "requestContext": {"requestId": "r", "functionArn": "arn", "condition": "RetryAttemptsExhausted"},
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2026-07-13T14:05:00.000Z",
}


def event(*offsets: int, key: bytes | None = b"from-payload") -> dict[str, Any]:
    records = []
    for offset in offsets:
        record: dict[str, Any] = {"topic": "orders", "partition": 1, "offset": offset, "headers": []}
        if key is not None:
            record["key"] = base64.b64encode(key).decode()
        records.append(record)
    return {"eventSource": "aws:kafka", "records": {"orders-1": records}}


def test_sqs_record_covers_its_offset_range_with_keys_from_the_ledger() -> None:
    info = {"firstRecordOffset": "3", "lastRecordOffset": "5", "firstRecordTimestamp": "x"}
    sqs = {**HEAD, "KafkaBatchInfo": {"batchSize": 3, "recordsInfo": {"orders-0": info}}}
    summary = summarize_failures([sqs], LEDGER)
    assert summary.records == 3
    assert summary.identities == {("orders", 0, 3), ("orders", 0, 4), ("orders", 0, 5)}
    assert summary.keys == {b"k3", b"k4", b"k5"}
    assert summary.problems == ()


def test_s3_record_payload_string_names_records_and_keys() -> None:
    s3 = {**HEAD, "KafkaBatchInfo": {"batchSize": 2, "recordsInfo": {}}, "payload": json.dumps(event(7, 8))}
    summary = summarize_failures([s3], LEDGER)
    assert summary.identities == {("orders", 1, 7), ("orders", 1, 8)}
    assert summary.keys == {b"from-payload"}


def test_kafka_destination_messages_carry_an_object_payload() -> None:
    messages = [
        {**HEAD, "KafkaBatchInfo": {"batchSize": 1, "recordInfo": {"offset": str(o)}}, "payload": event(o)}
        for o in (1, 2)
    ]
    messages.append({**HEAD, "KafkaBatchInfo": {"batchSize": 1}, "payload": event(3, key=None)})
    summary = summarize_failures(messages, LEDGER)
    assert summary.records == 3
    assert summary.identities == {("orders", 1, 1), ("orders", 1, 2), ("orders", 1, 3)}
    assert summary.keys == {b"from-payload"}


def test_entries_that_are_not_failure_records_are_problems() -> None:
    bad_range = {"orders-0": {"firstRecordOffset": "9", "lastRecordOffset": "2"}}
    summary = summarize_failures(
        [
            {"hello": "world"},
            {**HEAD, "KafkaBatchInfo": {"batchSize": 1}},
            {**HEAD, "KafkaBatchInfo": {"batchSize": 1, "recordsInfo": bad_range}},
            {**HEAD, "KafkaBatchInfo": {"batchSize": 1, "recordsInfo": {"orders-x": {}}}},
        ],
        LEDGER,
    )
    assert summary.records == 3
    assert summary.problems == (
        "destination record 0: no KafkaBatchInfo.batchSize",
        "destination record 1: no recordsInfo and no payload",
        "destination record 2: recordsInfo['orders-0'] is not a batch range",
        "destination record 3: recordsInfo['orders-x'] unreadable",
    )


def test_records_built_by_the_esm_destination_code_are_read() -> None:
    source = EventSource("arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1", ("b-1.demo:9098",))
    failed = [
        KafkaRecord("orders", 0, 4, 1_750_000_000_000, "CREATE_TIME", b"k4", b"v", ()),
        KafkaRecord("orders", 0, 5, 1_750_000_000_001, "CREATE_TIME", None, b"v", ()),
    ]
    report = FailureReport(
        "RetriesExhausted", tuple(failed), serialize_event(build_event(failed, source)), "req", 3, "Unhandled"
    )
    ctx = RecordContext("arn:aws:lambda:us-east-1:123456789012:function:f", source, EsmKnobs(), T0, "id")
    wanted = frozenset({("orders", 0, 4), ("orders", 0, 5)})
    for kind in ("sqs", "s3"):
        summary = summarize_failures([batch_failure_record(report, kind, ctx)], LEDGER)
        assert (summary.records, summary.identities, summary.problems) == (2, wanted, ())
        assert summary.keys == ({b"k4", b"k5"} if kind == "sqs" else {b"k4"})  # sqs: keys from the ledger
    messages = [message for _, message in kafka_failure_messages(report, ctx)]
    summary = summarize_failures(messages, LEDGER)
    assert (summary.records, summary.identities, summary.keys) == (2, wanted, frozenset({b"k4"}))
