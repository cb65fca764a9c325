"""Archive line format v1: byte-exact round trips, null vs empty, headers, splitting and reassembly."""

from __future__ import annotations

import base64
import json
import math
import random
from typing import Any

import pytest
from archive_format import (
    FIREHOSE_MAX_RECORD_BYTES,
    ArchivedRecord,
    ArchiveFormatError,
    IncompleteRecordError,
    RecordPart,
    decode_line,
    decode_lines,
    decode_object,
    encode_lines,
    encode_record_line,
    record_from_event,
    record_to_event,
    records_from_event,
)
from hypothesis import given
from hypothesis import strategies as st


def _event_record(
    *,
    key: bytes | None = b"k",
    value: bytes | None = b"v",
    headers: list[tuple[str, bytes | None]] | None = None,
    offset: int = 7,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "topic": "orders.v1-eu",
        "partition": 3,
        "offset": offset,
        "timestamp": 1750000000050,
        "timestampType": "CREATE_TIME",
        "headers": [
            {name: None if raw is None else [b - 256 if b > 127 else b for b in raw]}
            for name, raw in (headers or [])
        ],
    }
    if key is not None:
        out["key"] = base64.b64encode(key).decode()
    if value is not None:
        out["value"] = base64.b64encode(value).decode()
    return out


def _round_trip(record: ArchivedRecord, max_record_bytes: int = FIREHOSE_MAX_RECORD_BYTES) -> ArchivedRecord:
    lines = encode_lines(record, max_record_bytes)
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    assert all(len(line) <= max_record_bytes for line in lines)
    (decoded,) = decode_lines(lines)
    return decoded


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b'{"status":"paid","amount":12.5}', id="compact-json"),
        pytest.param(b'{ "a" : 1.0e5,\n "a": [1, 2] }', id="json-whitespace-dup-keys-float"),
        pytest.param("caf\u00e9 \u2603 \U0001f600".encode(), id="non-ascii-text"),
        pytest.param(b"\x00\x01\xff\xfe binary", id="binary"),
        pytest.param(b"\xc3\x28 invalid utf8", id="non-utf8"),
        pytest.param(b"\xef\xbb\xbfbom", id="utf8-bom"),
        pytest.param(b'line1\nline2\r\n"quoted"\\', id="newlines-and-escapes"),
        pytest.param(b"", id="empty"),
        pytest.param(None, id="tombstone"),
    ],
)
def test_value_round_trips_byte_exact(value: bytes | None) -> None:
    record = record_from_event(_event_record(value=value))
    decoded = _round_trip(record)
    assert decoded == record
    assert decoded.value == value


@pytest.mark.parametrize("key", [None, b"", b"order-42", b"\x80\x81", "\u00fcber".encode()])
def test_key_null_empty_text_and_binary_are_distinct(key: bytes | None) -> None:
    record = record_from_event(_event_record(key=key))
    assert record.key == key
    assert _round_trip(record).key == key


def test_null_and_empty_are_different_in_the_line() -> None:
    null_line = json.loads(encode_lines(record_from_event(_event_record(key=None, value=None)))[0])
    empty_line = json.loads(encode_lines(record_from_event(_event_record(key=b"", value=b"")))[0])
    assert null_line["key"] is None
    assert "keyEncoding" not in null_line
    assert null_line["value"] is None
    assert "valueEncoding" not in null_line
    assert empty_line["key"] == ""
    assert empty_line["keyEncoding"] == "utf8"
    assert empty_line["value"] == ""
    assert empty_line["valueEncoding"] == "utf8"


def test_utf8_value_is_stored_as_its_exact_text_and_binary_as_base64() -> None:
    text_line = json.loads(encode_lines(record_from_event(_event_record(value=b'{"a": 1}')))[0])
    assert text_line["value"] == '{"a": 1}'
    assert text_line["valueEncoding"] == "utf8"
    binary_line = json.loads(encode_lines(record_from_event(_event_record(value=b"\xff\x00")))[0])
    assert binary_line["value"] == "/wA="
    assert binary_line["valueEncoding"] == "base64"


def test_headers_keep_order_duplicates_signed_bytes_and_null() -> None:
    headers = [
        ("h", b"\x01"),
        ("h", b"\x02"),
        ("label", "caf\u00e9".encode()),
        ("n\u00e4me", b"\xff\x80\x7f"),
        ("empty", b""),
        ("null", None),
    ]
    event_record = _event_record(headers=headers)
    assert event_record["headers"][2] == {"label": [99, 97, 102, -61, -87]}
    record = record_from_event(event_record)
    assert list(record.headers) == headers
    decoded = _round_trip(record)
    assert list(decoded.headers) == headers
    assert record_to_event(decoded) == event_record


def test_line_carries_version_and_coordinates_for_athena() -> None:
    obj = json.loads(encode_lines(record_from_event(_event_record()))[0])
    assert obj["v"] == 1
    assert (obj["topic"], obj["partition"], obj["offset"]) == ("orders.v1-eu", 3, 7)
    assert (obj["timestamp"], obj["timestampType"]) == (1750000000050, "CREATE_TIME")
    assert list(obj)[:6] == ["v", "topic", "partition", "offset", "timestamp", "timestampType"]


def test_schema_metadata_is_kept() -> None:
    event_record = _event_record()
    event_record["valueSchemaMetadata"] = {"dataFormat": "AVRO", "schemaId": "value-schema-002"}
    decoded = _round_trip(record_from_event(event_record))
    assert decoded.value_schema_metadata == {"dataFormat": "AVRO", "schemaId": "value-schema-002"}
    assert record_to_event(decoded) == event_record


def test_spec_example_event_round_trips() -> None:
    event = {
        "eventSource": "aws:kafka",
        "records": {
            "orders-0": [
                _event_record(offset=41, value=b'{"status":"paid","amount":12.5}'),
                _event_record(offset=43, headers=[("h", b"\x01"), ("h", b"\x02")]),
            ],
            "orders-3": [_event_record(offset=8, key=None, value=None), _event_record(offset=9, value=b"")],
        },
    }
    records = records_from_event(event)
    assert [r.offset for r in records] == [41, 43, 8, 9]
    body = b"".join(line for r in records for line in encode_lines(r))
    assert decode_object(body) == records


def test_huge_record_splits_into_ordered_parts_and_reassembles() -> None:
    rng = random.Random(7)
    value = rng.randbytes(2_500_000)  # base64 in the line: ~3.3 MB, four parts at the real limit
    record = record_from_event(_event_record(value=value))
    full = encode_record_line(record)
    lines = encode_lines(record)
    assert all(len(line) <= FIREHOSE_MAX_RECORD_BYTES for line in lines)
    parts = [p for p in map(decode_line, lines) if isinstance(p, RecordPart)]
    assert len(parts) == len(lines) == math.ceil(len(full) / len(parts[0].chunk))
    assert [p.part for p in parts] == list(range(len(lines)))
    assert {p.parts for p in parts} == {len(lines)}
    assert b"".join(p.chunk for p in parts) == full
    # parts are nearly full: no more Firehose records than needed
    assert len(lines) == math.ceil(len(full) / (FIREHOSE_MAX_RECORD_BYTES * 3 // 4 - 200))
    assert _round_trip(record).value == value


def test_line_exactly_at_the_limit_is_not_split_and_one_byte_more_is() -> None:
    record = record_from_event(_event_record(value=b""))
    base = len(encode_lines(record)[0])
    fits = record_from_event(_event_record(value=b"x" * (FIREHOSE_MAX_RECORD_BYTES - base)))
    (line,) = encode_lines(fits)
    assert len(line) == FIREHOSE_MAX_RECORD_BYTES
    over = record_from_event(_event_record(value=b"x" * (FIREHOSE_MAX_RECORD_BYTES - base + 1)))
    assert len(encode_lines(over)) == 2
    assert _round_trip(over) == over


def test_parts_reassemble_out_of_order_with_duplicates_across_objects() -> None:
    record = record_from_event(_event_record(value=random.Random(1).randbytes(20_000)))
    other = record_from_event(_event_record(offset=8, value=b"small"))
    lines = encode_lines(record, max_record_bytes=4_096)
    assert len(lines) > 5
    shuffled = list(lines)
    random.Random(2).shuffle(shuffled)
    stream = [*shuffled[:3], *encode_lines(other), shuffled[0], *shuffled[3:], shuffled[-1]]
    assert list(decode_lines(stream)) == [other, record]


def test_missing_part_is_reported_not_ignored() -> None:
    lines = encode_lines(record_from_event(_event_record(value=bytes(10_000))), max_record_bytes=2_048)
    with pytest.raises(IncompleteRecordError, match=r"1 split record\(s\) missing parts"):
        list(decode_lines(lines[:-1]))
    assert list(decode_lines(lines[:-1], strict=False)) == []


def test_stray_duplicate_part_after_completion_is_not_an_incomplete_record() -> None:
    record = record_from_event(_event_record(value=bytes(10_000)))
    lines = encode_lines(record, max_record_bytes=2_048)
    assert list(decode_lines([*lines, lines[1]])) == [record]


def test_corrupted_part_fails_crc() -> None:
    lines = encode_lines(record_from_event(_event_record(value=bytes(10_000))), max_record_bytes=2_048)
    obj = json.loads(lines[1])
    chunk = bytearray(base64.b64decode(obj["chunk"]))
    chunk[0] ^= 0xFF
    obj["chunk"] = base64.b64encode(bytes(chunk)).decode()
    with pytest.raises(ArchiveFormatError, match="crc32"):
        list(decode_lines([lines[0], json.dumps(obj).encode(), *lines[2:]]))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "not a JSON line"),
        (b"[1]", "must be a JSON object"),
        (b'{"v":2,"topic":"t"}', "unsupported archive format version 2"),
        (b'{"v":1,"topic":"t","partition":0,"offset":1,"headers":[]}', "missing field 'timestamp'"),
        (
            b'{"v":1,"topic":"t","partition":0,"offset":1,"timestamp":1,"timestampType":"CREATE_TIME",'
            b'"key":"x","keyEncoding":"rot13","headers":[],"value":null}',
            "keyEncoding must be 'utf8' or 'base64'",
        ),
    ],
)
def test_bad_lines_raise_clear_errors(line: bytes, message: str) -> None:
    with pytest.raises(ArchiveFormatError, match=message):
        decode_line(line)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"partition": "3"}, "'partition' must be a int"),
        ({"offset": True}, "'offset' must be a int"),
        ({"value": "not base64!"}, "'value' is not standard base64"),
        ({"headers": [{"a": [1], "b": [2]}]}, "one-key object"),
        ({"headers": [{"a": [300]}]}, "bytes -128..255"),
    ],
)
def test_malformed_event_records_raise_clear_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ArchiveFormatError, match=message):
        record_from_event({**_event_record(), **change})


def test_event_without_records_is_rejected() -> None:
    with pytest.raises(ArchiveFormatError, match="not a Lambda Kafka"):
        records_from_event({"Records": []})


_header_names = st.text(min_size=0, max_size=8).filter(
    lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)
)


@given(
    key=st.none()
    | st.binary(max_size=64)
    | st.text(max_size=32).map(lambda s: s.encode("utf-8", "surrogatepass")),
    value=st.none()
    | st.binary(max_size=256)
    | st.text(max_size=64).map(lambda s: s.encode("utf-8", "surrogatepass")),
    headers=st.lists(st.tuples(_header_names, st.none() | st.binary(max_size=16)), max_size=5),
    limit=st.sampled_from([FIREHOSE_MAX_RECORD_BYTES, 1_024]),
)
def test_any_record_round_trips(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes | None]], limit: int
) -> None:
    record = record_from_event(_event_record(key=key, value=value, headers=headers))
    assert _round_trip(record, limit) == record


def _generic_record_line(record: ArchivedRecord) -> bytes:
    """The record line as the format defines it: one compact JSON object, non-ASCII unescaped."""
    obj: dict[str, Any] = {
        "v": 1,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestampType": record.timestamp_type,
    }

    def put(target: dict[str, Any], name: str, raw: bytes | None) -> None:
        if raw is None:
            target[name] = None
            return
        try:
            target[name], target[f"{name}Encoding"] = raw.decode("utf-8"), "utf8"
        except UnicodeDecodeError:
            target[name], target[f"{name}Encoding"] = base64.b64encode(raw).decode(), "base64"

    put(obj, "key", record.key)
    headers = []
    for name, raw in record.headers:
        header: dict[str, Any] = {"name": name}
        put(header, "value", raw)
        headers.append(header)
    obj["headers"] = headers
    put(obj, "value", record.value)
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _maybe_bytes(size: int) -> st.SearchStrategy[bytes | None]:
    text = st.text(max_size=size).map(lambda s: s.encode("utf-8", "replace"))
    return st.none() | st.binary(max_size=size) | text


@given(
    topic=_header_names.filter(bool),
    timestamp_type=_header_names,
    key=_maybe_bytes(32),
    value=_maybe_bytes(64),
    headers=st.lists(st.tuples(_header_names, st.none() | st.binary(max_size=16)), max_size=4),
    numbers=st.tuples(st.integers(0, 2**31), st.integers(0, 2**63), st.integers(-1, 2**63)),
)
def test_record_line_is_exactly_the_compact_json_object(
    topic: str,
    timestamp_type: str,
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes | None]],
    numbers: tuple[int, int, int],
) -> None:
    partition, offset, timestamp = numbers
    record = ArchivedRecord(topic, partition, offset, timestamp, timestamp_type, key, value, tuple(headers))
    assert encode_record_line(record) == _generic_record_line(record)


@given(st.text(alphabet="AQBw+/=", max_size=12))
def test_event_base64_is_accepted_and_refused_exactly_like_b64decode_validate(text: str) -> None:
    try:
        expected: bytes | None = base64.b64decode(text, validate=True)
    except ValueError:
        expected = None
    record = _event_record()
    record["value"] = text
    if expected is None:
        with pytest.raises(ArchiveFormatError, match="not standard base64"):
            record_from_event(record)
    else:
        assert record_from_event(record).value == expected
