"""Pure checks of fault rule selection and Kafka record decoding."""

from __future__ import annotations

import base64
import json

import pytest

from harness.runtime.faults import (
    FaultAction,
    InvocationFaults,
    OnEvent,
    OnIndex,
    OnParsedEvent,
    OnRecord,
    decode_kafka_records,
)


def event(values: list[bytes | None], key: bytes | None = None) -> bytes:
    records = []
    for i, v in enumerate(values):
        rec: dict[str, object] = {"topic": "a-b", "partition": 2, "offset": 10 + i, "timestamp": 5,
                                  "headers": [{"h": [99, 97, 102, -61, -87]}]}  # fmt: skip
        if v is not None:
            rec["value"] = base64.b64encode(v).decode()
        if key is not None:
            rec["key"] = base64.b64encode(key).decode()
        records.append(rec)
    return json.dumps({"eventSource": "aws:kafka", "records": {"a-b-2": records}}).encode()


def test_decode_kafka_records_handles_tombstones_and_signed_header_bytes() -> None:
    decoded = decode_kafka_records(json.loads(event([b"x", None], key=b"k")))
    assert [(r.topic, r.partition, r.offset) for r in decoded] == [("a-b", 2, 10), ("a-b", 2, 11)]
    assert decoded[0].value == b"x"
    assert decoded[1].value is None
    assert decoded[0].key == b"k"
    assert decoded[0].headers == (("h", "café".encode()),)
    assert decode_kafka_records({"not": "kafka"}) == []
    assert decode_kafka_records(None) == []


def test_first_matching_rule_wins_and_times_is_consumed() -> None:
    faults = InvocationFaults()
    crash = faults.crash(OnRecord(lambda r: r.value == b"poison"), times=2)
    raise_all = faults.raise_error(OnIndex(range(100)), message="m")
    poison = event([b"ok", b"poison"])
    assert faults.decide(0, poison) is crash
    assert faults.decide(1, poison) is crash
    assert faults.decide(2, poison) is raise_all
    assert crash.fired == 2
    faults.remove(raise_all)
    assert faults.decide(3, poison) is None


def test_selectors_on_index_bytes_and_parsed_event() -> None:
    faults = InvocationFaults()
    by_index = faults.timeout(OnIndex({3}))
    assert faults.decide(2, b"{}") is None
    assert faults.decide(3, b"{}") is by_index
    assert by_index.action is FaultAction.TIMEOUT
    faults.clear()
    by_bytes = faults.raise_error(OnEvent(lambda raw: raw.startswith(b'{"x')))
    assert faults.decide(0, b'{"x": 1}') is by_bytes
    faults.clear()
    by_parsed = faults.crash(OnParsedEvent(lambda e: e == [1, 2]))
    assert faults.decide(0, b"[1, 2]") is by_parsed
    assert faults.decide(0, b"not json") is None


def test_times_must_be_positive() -> None:
    with pytest.raises(ValueError, match="times must be >= 1"):
        InvocationFaults().crash(OnIndex({0}), times=0)
