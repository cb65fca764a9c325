"""Event format rules (spec §1, checklist 1-12) on the pure event builder."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.esm.event_builder import (
    EventSizer,
    EventSource,
    KafkaRecord,
    SchemaFormats,
    assemble_event,
    build_event,
    event_header,
    record_json,
    record_json_bytes,
    serialize_event,
    signed_bytes,
    strip_schema_prefix,
    unsigned_bytes,
)
from harness.esm.knobs import EsmKnobs

MSK = EventSource(
    "arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1", ("b-1.demo:9098", "b-2.demo:9098")
)
SELF = EventSource(None, ("127.0.0.1:9092", "127.0.0.1:9093"))


def rec(
    offset: int = 0,
    partition: int = 0,
    topic: str = "orders",
    key: bytes | None = b"k",
    value: bytes | None = b"v",
    headers: tuple[tuple[str, bytes | None], ...] = (),
    ts_type: str = "CREATE_TIME",
) -> KafkaRecord:
    return KafkaRecord(topic, partition, offset, 1750000000000 + offset, ts_type, key, value, headers)


def test_msk_event_has_exactly_the_four_top_level_fields() -> None:
    event = build_event([rec()], MSK)
    assert list(event) == ["eventSource", "eventSourceArn", "bootstrapServers", "records"]
    assert event["eventSource"] == "aws:kafka"
    assert event["eventSourceArn"] == MSK.event_source_arn
    assert isinstance(event["bootstrapServers"], str)


def test_self_managed_event_has_no_arn_key() -> None:
    event = build_event([rec()], SELF)
    assert event["eventSource"] == "SelfManagedKafka"
    assert "eventSourceArn" not in event


def test_bootstrap_servers_comma_joined_without_spaces() -> None:
    assert build_event([rec()], SELF)["bootstrapServers"] == "127.0.0.1:9092,127.0.0.1:9093"


def test_map_keys_with_hyphenated_topic_and_records_match_keys() -> None:
    event = build_event(
        [rec(topic="a-b.c-1", partition=2), rec(topic="a-b.c-1", partition=10, offset=3)], SELF
    )
    assert list(event["records"]) == ["a-b.c-1-2", "a-b.c-1-10"]  # ascending partition, not string order
    for key, records in event["records"].items():
        for r in records:
            assert key == f"{r['topic']}-{r['partition']}"


def test_numbers_are_json_integers_and_timestamp_type_passes() -> None:
    r = record_json(rec(offset=2**40, ts_type="LOG_APPEND_TIME"))
    assert type(r["partition"]) is int
    assert type(r["offset"]) is int
    assert type(r["timestamp"]) is int
    assert r["timestampType"] == "LOG_APPEND_TIME"
    body = serialize_event(build_event([rec(offset=2**40)], SELF))
    assert b'"offset":1099511627776' in body


@given(st.binary(min_size=1, max_size=200), st.binary(min_size=1, max_size=200))
def test_key_and_value_are_padded_standard_base64_round_trip(key: bytes, value: bytes) -> None:
    r = record_json(rec(key=key, value=value))
    assert base64.b64decode(r["key"], validate=True) == key
    assert base64.b64decode(r["value"], validate=True) == value
    assert len(r["value"]) % 4 == 0
    assert "-" not in r["value"]
    assert "_" not in r["value"]


def test_signed_header_bytes_cafe() -> None:
    assert signed_bytes("café".encode()) == [99, 97, 102, -61, -87]
    r = record_json(rec(headers=(("label", "café".encode()),)))
    assert r["headers"] == [{"label": [99, 97, 102, -61, -87]}]
    assert unsigned_bytes(r["headers"][0]["label"]).decode() == "café"


@given(st.binary(max_size=64))
def test_header_bytes_in_signed_range_and_round_trip(raw: bytes) -> None:
    values = signed_bytes(raw)
    assert all(-128 <= v <= 127 for v in values)
    assert unsigned_bytes(values) == raw


def test_no_headers_is_empty_list_and_duplicates_kept_in_order() -> None:
    assert record_json(rec())["headers"] == []
    r = record_json(rec(headers=(("h", b"\x01"), ("x", b"y"), ("h", b"\x02"))))
    assert r["headers"] == [{"h": [1]}, {"x": [121]}, {"h": [2]}]
    last = record_json(
        rec(headers=(("h", b"\x01"), ("x", b"y"), ("h", b"\x02"))),
        EsmKnobs(header_duplicates_mode="last_wins"),
    )
    assert last["headers"] == [{"x": [121]}, {"h": [2]}]


def test_null_header_value_modes() -> None:
    assert record_json(rec(headers=(("n", None),)))["headers"] == [{"n": []}]
    assert record_json(rec(headers=(("n", None),)), EsmKnobs(null_header_value_mode="null"))["headers"] == [
        {"n": None}
    ]


def test_null_key_and_tombstone_are_omitted_and_null_modes_emit_null() -> None:
    r = record_json(rec(key=None, value=None))
    assert "key" not in r
    assert "value" not in r
    r = record_json(rec(key=None, value=None), EsmKnobs(null_key_mode="null", null_value_mode="null"))
    assert r["key"] is None
    assert r["value"] is None


def test_empty_bytes_are_empty_strings_or_omitted() -> None:
    r = record_json(rec(key=b"", value=b""))
    assert r["key"] == ""
    assert r["value"] == ""
    r = record_json(rec(key=b"", value=b""), EsmKnobs(empty_key_mode="omit", empty_value_mode="omit"))
    assert "key" not in r
    assert "value" not in r


def test_arrays_ascending_offsets_never_empty() -> None:
    event = build_event([rec(offset=9), rec(offset=3), rec(offset=5, partition=1)], SELF)
    assert [r["offset"] for r in event["records"]["orders-0"]] == [3, 9]
    assert all(event["records"].values())


def test_multi_topic_rejected_by_default() -> None:
    with pytest.raises(ValueError, match="one topic"):
        build_event([rec(topic="a"), rec(topic="b")], SELF)


def test_no_timestamp_type_passthrough_and_create_time_mode() -> None:
    record = KafkaRecord("t", 0, 0, -1, "NO_TIMESTAMP_TYPE", None, b"v")
    assert record_json(record)["timestampType"] == "NO_TIMESTAMP_TYPE"
    assert (
        record_json(record, EsmKnobs(no_timestamp_type_mode="create_time"))["timestampType"] == "CREATE_TIME"
    )


def test_schema_registry_prefix_stripped_and_metadata_added() -> None:
    confluent = b"\x00\x00\x00\x00\x2a" + b'{"a":1}'
    assert strip_schema_prefix(confluent) == ("42", b'{"a":1}')
    r = record_json(rec(key=b"plain", value=confluent), schema=SchemaFormats(value_format="JSON"))
    assert base64.b64decode(r["value"]) == b'{"a":1}'
    assert r["valueSchemaMetadata"] == {"dataFormat": "JSON", "schemaId": "42"}
    assert "keySchemaMetadata" not in r
    glue = b"\x03\x00" + bytes(range(16)) + b"payload"
    schema_id, rest = strip_schema_prefix(glue) or ("", b"")
    assert rest == b"payload"
    assert len(schema_id) == 36


def test_matches_spec_example_byte_for_byte() -> None:
    records = [
        KafkaRecord(
            "orders", 0, 41, 1750000000000, "CREATE_TIME", b"order-42", b'{"status":"paid","amount":12.5}', ()
        ),
        KafkaRecord(
            "orders", 0, 43, 1750000000100, "CREATE_TIME", b"a", b'{"id":2}', (("h", b"\x01"), ("h", b"\x02"))
        ),
        KafkaRecord("orders", 3, 7, 1750000000050, "LOG_APPEND_TIME", None, None, ()),
        KafkaRecord(
            "orders", 3, 8, 1750000000060, "LOG_APPEND_TIME", None, b"", (("label", "café".encode()),)
        ),
    ]
    expected = json.loads("""{"eventSource":"aws:kafka",
 "eventSourceArn":"arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1",
 "bootstrapServers":"b-1.demo:9098,b-2.demo:9098",
 "records":{
  "orders-0":[
   {"topic":"orders","partition":0,"offset":41,"timestamp":1750000000000,"timestampType":"CREATE_TIME","key":"b3JkZXItNDI=","value":"eyJzdGF0dXMiOiJwYWlkIiwiYW1vdW50IjoxMi41fQ==","headers":[]},
   {"topic":"orders","partition":0,"offset":43,"timestamp":1750000000100,"timestampType":"CREATE_TIME","key":"YQ==","value":"eyJpZCI6Mn0=","headers":[{"h":[1]},{"h":[2]}]}],
  "orders-3":[
   {"topic":"orders","partition":3,"offset":7,"timestamp":1750000000050,"timestampType":"LOG_APPEND_TIME","headers":[]},
   {"topic":"orders","partition":3,"offset":8,"timestamp":1750000000060,"timestampType":"LOG_APPEND_TIME","value":"","headers":[{"label":[99,97,102,-61,-87]}]}]}}""")
    event = build_event(records, MSK)
    assert event == expected
    assert serialize_event(event) == json.dumps(expected, separators=(",", ":")).encode()


@given(st.lists(st.tuples(st.integers(0, 5), st.binary(max_size=50)), max_size=30))
def test_sizer_and_assembly_are_exact(items: list[tuple[int, bytes]]) -> None:
    records = [rec(offset=i, partition=p, value=v) for i, (p, v) in enumerate(items)]
    event = build_event(records, MSK)
    body = serialize_event(event)
    sizer = EventSizer(MSK)
    groups: dict[str, list[bytes]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        data = serialize_event(record_json(r))
        sizer.add(r, len(data))
        groups.setdefault(r.map_key, []).append(data)
    assert sizer.size == len(body)
    assert assemble_event(event_header(MSK), list(groups.items())) == body


_MAYBE_BYTES = st.one_of(st.none(), st.just(b""), st.binary(min_size=1, max_size=40))


@given(
    topic=st.text(min_size=1, max_size=12),
    partition=st.integers(0, 10_000),
    offset=st.integers(0, 2**63 - 1),
    timestamp=st.integers(-1, 2**63 - 1),
    ts_type=st.sampled_from(["CREATE_TIME", "LOG_APPEND_TIME", "NO_TIMESTAMP_TYPE"]),
    key=_MAYBE_BYTES,
    value=_MAYBE_BYTES,
    headers=st.lists(st.tuples(st.text(max_size=6), st.one_of(st.none(), st.binary(max_size=8))), max_size=4),
    knobs=st.builds(
        EsmKnobs,
        no_timestamp_type_mode=st.sampled_from(["passthrough", "create_time"]),
        unsigned_header_bytes=st.booleans(),
        header_duplicates_mode=st.sampled_from(["preserve", "last_wins"]),
        null_header_value_mode=st.sampled_from(["empty_list", "null"]),
        null_key_mode=st.sampled_from(["omit", "null"]),
        null_value_mode=st.sampled_from(["omit", "null"]),
        empty_key_mode=st.sampled_from(["empty_string", "omit"]),
        empty_value_mode=st.sampled_from(["empty_string", "omit"]),
    ),
)
def test_record_json_bytes_is_byte_identical_to_serializing_record_json(
    topic: str,
    partition: int,
    offset: int,
    timestamp: int,
    ts_type: str,
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes | None]],
    knobs: EsmKnobs,
) -> None:
    record = KafkaRecord(topic, partition, offset, timestamp, ts_type, key, value, tuple(headers))
    assert record_json_bytes(record, knobs) == serialize_event(record_json(record, knobs))


def test_record_json_bytes_with_schema_registry_matches_record_json() -> None:
    schema = SchemaFormats(key_format=None, value_format="JSON")
    record = rec(value=b"\x00\x00\x00\x00\x07" + b'{"a":1}')
    assert record_json_bytes(record, schema=schema) == serialize_event(record_json(record, schema=schema))
    assert b"valueSchemaMetadata" in record_json_bytes(record, schema=schema)
