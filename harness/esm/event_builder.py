"""Pure event builder: Kafka records -> the exact `aws:kafka` / `SelfManagedKafka` event (§1), and its size.

Known deviations from AWS:
- Choices AWS does not document follow the knobs (`null_key_mode`, `null_value_mode`, header modes, ...).
- Schema-registry records: the wire prefix (Confluent or Glue) is stripped and `*SchemaMetadata`
  added with the id read from the prefix; converting Avro/Protobuf to JSON (`EventRecordFormat: JSON`) is not
  implemented, only JSON-schema payloads and `SOURCE` pass through (base64 of the bytes after the prefix).

Example::

    source = EventSource(event_source_arn=None, bootstrap_servers=("127.0.0.1:9092",))
    event = build_event([KafkaRecord("orders", 0, 41, 1750000000000, "CREATE_TIME", b"k", b"v", [])], source)
    body = serialize_event(event)   # compact JSON bytes; the 6 MB limit is measured on exactly these
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.esm.knobs import EsmKnobs

JsonObject = dict[str, Any]
_DEFAULT_KNOBS = EsmKnobs()


@dataclass(frozen=True)
class KafkaRecord:
    """One record as read from the broker (bytes, not yet encoded for Lambda)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    timestamp_type: str  # CREATE_TIME | LOG_APPEND_TIME | NO_TIMESTAMP_TYPE
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = field(default_factory=tuple)

    @property
    def map_key(self) -> str:
        """The event's map key for this record: ``f"{topic}-{partition}"``."""
        return map_key(self.topic, self.partition)


@dataclass(frozen=True)
class EventSource:
    """Top-level event fields that do not depend on records: MSK ARN (None = self-managed) and brokers."""

    event_source_arn: str | None
    bootstrap_servers: tuple[str, ...]


@dataclass(frozen=True)
class SchemaFormats:
    """Schema-registry data formats for keys and values (None = that part is not registry-encoded)."""

    key_format: str | None = None  # AVRO | PROTOBUF | JSON
    value_format: str | None = None


def map_key(topic: str, partition: int) -> str:
    """``"<topic>-<partition>"`` with the partition in unpadded decimal (§1.2)."""
    return f"{topic}-{partition}"


def signed_bytes(raw: bytes) -> list[int]:
    """Java signed bytes (-128..127), as Lambda sends header values (§1.4)."""
    return [b - 256 if b > 127 else b for b in raw]


def unsigned_bytes(values: Iterable[int]) -> bytes:
    """Inverse of `signed_bytes` (what a consumer does to decode a header value)."""
    return bytes(v & 0xFF for v in values)


def b64(raw: bytes) -> str:
    """Standard padded base64 (RFC 4648 §4)."""
    return base64.b64encode(raw).decode("ascii")


def strip_schema_prefix(raw: bytes) -> tuple[str, bytes] | None:
    """Split a Confluent (0x00 + int32 id) or Glue (0x03, compression, 16-byte UUID) prefix: (id, rest)."""
    if len(raw) >= 5 and raw[0] == 0x00:
        return str(int.from_bytes(raw[1:5], "big")), raw[5:]
    if len(raw) >= 18 and raw[0] == 0x03 and raw[1] in (0x00, 0x05):
        return str(uuid.UUID(bytes=raw[2:18])), raw[18:]
    return None


def _headers(record: KafkaRecord, knobs: EsmKnobs) -> list[JsonObject]:
    pairs = list(record.headers)
    if knobs.header_duplicates_mode == "last_wins":
        last = {name: index for index, (name, _) in enumerate(pairs)}
        pairs = [pair for index, pair in enumerate(pairs) if last[pair[0]] == index]
    out: list[JsonObject] = []
    for name, raw in pairs:
        if raw is None:
            out.append({name: [] if knobs.null_header_value_mode == "empty_list" else None})
        else:
            out.append({name: list(raw) if knobs.unsigned_header_bytes else signed_bytes(raw)})
    return out


def _put_bytes(out: JsonObject, name: str, raw: bytes | None, null_mode: str, empty_mode: str) -> None:
    if raw is None:
        if null_mode == "null":
            out[name] = None
    elif raw:
        out[name] = b64(raw)
    elif empty_mode == "empty_string":
        out[name] = ""


def record_json(
    record: KafkaRecord, knobs: EsmKnobs = _DEFAULT_KNOBS, schema: SchemaFormats | None = None
) -> JsonObject:
    """One record in Lambda's shape (§1.3), field order as in AWS's example."""
    timestamp_type, timestamp = record.timestamp_type, record.timestamp_ms
    if timestamp_type == "NO_TIMESTAMP_TYPE" and knobs.no_timestamp_type_mode == "create_time":
        timestamp_type = "CREATE_TIME"
    out: JsonObject = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": timestamp,
        "timestampType": timestamp_type,
    }
    key, value = record.key, record.value
    metadata: JsonObject = {}
    if schema is not None:
        key, key_meta = _registry_part(key, schema.key_format, knobs)
        value, value_meta = _registry_part(value, schema.value_format, knobs)
        metadata = {
            k: v for k, v in (("keySchemaMetadata", key_meta), ("valueSchemaMetadata", value_meta)) if v
        }
    _put_bytes(out, "key", key, knobs.null_key_mode, knobs.empty_key_mode)
    _put_bytes(out, "value", value, knobs.null_value_mode, knobs.empty_value_mode)
    out["headers"] = _headers(record, knobs)
    out.update(metadata)
    return out


def _bytes_member(name: bytes, raw: bytes | None, null_mode: str, empty_mode: str) -> bytes:
    """`,"name":...` for a key/value exactly as `_put_bytes` + compact `json.dumps` would write it."""
    if raw is None:
        return b',"' + name + b'":null' if null_mode == "null" else b""
    if raw:
        return b',"' + name + b'":"' + binascii.b2a_base64(raw, newline=False) + b'"'
    return b',"' + name + b'":""' if empty_mode == "empty_string" else b""


_encode_json_string = json.encoder.encode_basestring_ascii  # what json.dumps uses for str (ensure_ascii)


def record_json_bytes(
    record: KafkaRecord, knobs: EsmKnobs = _DEFAULT_KNOBS, schema: SchemaFormats | None = None
) -> bytes:
    """`serialize_event(record_json(...))` byte for byte, built without the dict (the per-record hot path)."""
    if schema is not None:
        return serialize_event(record_json(record, knobs, schema))
    timestamp_type = record.timestamp_type
    if timestamp_type == "NO_TIMESTAMP_TYPE" and knobs.no_timestamp_type_mode == "create_time":
        timestamp_type = "CREATE_TIME"
    headers = json.dumps(_headers(record, knobs), separators=(",", ":")).encode() if record.headers else b"[]"
    return b'{"topic":%s,"partition":%d,"offset":%d,"timestamp":%d,"timestampType":%s%s%s,"headers":%s}' % (
        _encode_json_string(record.topic).encode("ascii"),
        record.partition,
        record.offset,
        record.timestamp_ms,
        _encode_json_string(timestamp_type).encode("ascii"),
        _bytes_member(b"key", record.key, knobs.null_key_mode, knobs.empty_key_mode),
        _bytes_member(b"value", record.value, knobs.null_value_mode, knobs.empty_value_mode),
        headers,
    )


def _registry_part(
    raw: bytes | None, data_format: str | None, knobs: EsmKnobs
) -> tuple[bytes | None, JsonObject]:
    if raw is None or data_format is None:
        return raw, {}
    split = strip_schema_prefix(raw)
    if split is None:
        return raw, {}
    schema_id, rest = split
    return (rest if knobs.schema_registry_strip_prefix else raw), {
        "dataFormat": data_format,
        "schemaId": schema_id,
    }


def group_by_partition(records: Iterable[KafkaRecord]) -> dict[tuple[str, int], list[KafkaRecord]]:
    """Records grouped per (topic, partition), each group in ascending offset order."""
    groups: dict[tuple[str, int], list[KafkaRecord]] = {}
    for record in records:
        groups.setdefault((record.topic, record.partition), []).append(record)
    for group in groups.values():
        group.sort(key=lambda r: r.offset)
    return groups


def build_event(
    records: Iterable[KafkaRecord],
    source: EventSource,
    knobs: EsmKnobs = _DEFAULT_KNOBS,
    *,
    schema: SchemaFormats | None = None,
    rng: random.Random | None = None,
) -> JsonObject:
    """The event dict for `records` (§1.1): keys in ascending partition order, arrays in offset order."""
    groups = group_by_partition(records)
    topics = {topic for topic, _ in groups}
    if len(topics) > 1 and not knobs.allow_multi_topic:
        raise ValueError(f"one event holds one topic (allow_multi_topic=false), got {sorted(topics)}")
    order = sorted(groups)
    shuffle_rng = rng or random.Random(knobs.random_seed)
    if knobs.partition_iteration_order == "shuffled":
        shuffle_rng.shuffle(order)
    event = event_header(source, knobs)
    partitions: JsonObject = {}
    for topic, partition in order:
        group = list(groups[(topic, partition)])
        if not knobs.strict_partition_order:
            shuffle_rng.shuffle(group)
        partitions[map_key(topic, partition)] = [record_json(r, knobs, schema) for r in group]
    event["records"] = partitions
    return event


def event_header(source: EventSource, knobs: EsmKnobs = _DEFAULT_KNOBS) -> JsonObject:
    """Top-level fields before `records`: eventSource, eventSourceArn (MSK only), bootstrapServers, extras."""
    event: JsonObject = {"eventSource": "aws:kafka" if source.event_source_arn else "SelfManagedKafka"}
    if source.event_source_arn:
        event["eventSourceArn"] = source.event_source_arn
    if knobs.include_bootstrap_servers:
        event["bootstrapServers"] = ",".join(source.bootstrap_servers)
    event.update(dict(knobs.extra_event_fields))
    return event


def serialize_event(event: JsonObject) -> bytes:
    """Compact JSON bytes: what the function receives and what the 6 MB limit measures."""
    return json.dumps(event, separators=(",", ":")).encode("utf-8")


class EventSizer:
    """Exact serialized size of an event as records are added, without re-serializing the whole event.

    The compact form is ``{<header>,"records":{"t-0":[r,r],"t-1":[r]}}``; each record adds its own JSON plus a
    comma, each new map key adds ``"key":[]`` plus a comma.
    """

    def __init__(
        self, source: EventSource, knobs: EsmKnobs = _DEFAULT_KNOBS, schema: SchemaFormats | None = None
    ) -> None:
        self._knobs = knobs
        self._schema = schema
        self._empty = len(serialize_event({**event_header(source, knobs), "records": {}}))
        self._size = self._empty
        self._counts: dict[tuple[str, int], int] = {}  # records per (topic, partition), i.e. per map key
        self._key_costs: dict[tuple[str, int], int] = {}  # bytes of ``"key":[]`` per (topic, partition)

    @property
    def size(self) -> int:
        """Bytes of the serialized event holding every record added so far."""
        return self._size

    def record_size(self, record: KafkaRecord) -> int:
        """Bytes this record's JSON takes in the event."""
        return len(record_json_bytes(record, self._knobs, self._schema))

    def _key_cost(self, tp: tuple[str, int]) -> int:
        cost = self._key_costs.get(tp)
        if cost is None:
            cost = self._key_costs[tp] = len(json.dumps(map_key(*tp))) + 3  # "key":[ ]
        return cost

    def cost(self, record: KafkaRecord, record_bytes: int) -> int:
        """Bytes the event would grow by if `record` (whose JSON is `record_bytes` long) were added now."""
        tp = (record.topic, record.partition)
        if tp in self._counts:
            return record_bytes + 1  # a comma inside the partition array
        return record_bytes + self._key_cost(tp) + (1 if self._counts else 0)

    def alone_size(self, record: KafkaRecord, record_bytes: int) -> int:
        """Bytes of an event holding only this record (decides whether it can ever be delivered)."""
        return self._empty + record_bytes + self._key_cost((record.topic, record.partition))

    def add(self, record: KafkaRecord, record_bytes: int) -> None:
        """Account for `record` being added."""
        self._size += self.cost(record, record_bytes)
        tp = (record.topic, record.partition)
        self._counts[tp] = self._counts.get(tp, 0) + 1

    def reset(self) -> None:
        """Back to an event with no records."""
        self._size = self._empty
        self._counts.clear()


def assemble_event(header: JsonObject, partitions: Sequence[tuple[str, Sequence[bytes]]]) -> bytes:
    """Serialize an event from pre-serialized record JSON (byte-identical to serializing `build_event`)."""
    head = serialize_event({**header, "records": {}})[:-2]  # drop the closing "}}" of the empty records map
    body = b",".join(
        json.dumps(key).encode("utf-8") + b":[" + b",".join(items) + b"]" for key, items in partitions
    )
    return head + body + b"}}"
