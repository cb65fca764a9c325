"""Archive line format v1: one JSON object per line, rebuilding the original Kafka record byte for byte.

Pure functions, no AWS calls; the archiver Lambda writes lines with `encode_lines`, and readers (the harness's
verifier and replay tool, Athena users' scripts) decode them with `decode_line` / `decode_lines`.
docs/archive-format.md is the normative description; this module is its reference implementation.

A record line (fields in this order; `key`/`value` are null for a null key / tombstone, and their `*Encoding`
field then is absent)::

    {"v":1,"topic":"orders","partition":0,"offset":41,"timestamp":1750000000000,"timestampType":"CREATE_TIME",
     "key":"order-42","keyEncoding":"utf8","headers":[{"name":"h","value":"AQ==","valueEncoding":"base64"}],
     "value":"{\"status\":\"paid\"}","valueEncoding":"utf8"}

Bytes that are valid UTF-8 are stored as their exact text (`"utf8"`), anything else as standard base64
(`"base64"`). A line longer than one Firehose record (1,024,000 bytes) is cut into ordered part lines::

    {"v":1,"topic":"orders","partition":0,"offset":41,"part":0,"parts":3,"crc32":123,"chunk":"<base64>"}

whose decoded chunks, concatenated in `part` order, are the full record line (without its newline).

Example::

    lines = encode_lines(record_from_event(event_record))
    assert list(decode_lines(lines)) == [record_from_event(event_record)]
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

FORMAT_VERSION = 1
FIREHOSE_MAX_RECORD_BYTES = 1_024_000
# Room kept in a part line for the digits of part/parts/crc32 beyond what the size estimate assumed.
_PART_SLACK_BYTES = 64

Header = tuple[str, bytes | None]


class ArchiveFormatError(ValueError):
    """A line (or an event record) does not follow the archive format; the message says where and why."""


@dataclass(frozen=True)
class ArchivedRecord:
    """One Kafka record as archived: raw key/value/header bytes (None = null) plus its coordinates."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: str
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    key_schema_metadata: Mapping[str, Any] | None = None
    value_schema_metadata: Mapping[str, Any] | None = None

    @property
    def identity(self) -> tuple[str, int, int]:
        """(topic, partition, offset): what makes a redelivered duplicate identifiable."""
        return (self.topic, self.partition, self.offset)


@dataclass(frozen=True)
class RecordPart:
    """One part line of a record whose full line exceeded a Firehose record."""

    topic: str
    partition: int
    offset: int
    part: int
    parts: int
    crc32: int
    chunk: bytes


# ---------------------------------------------------------------------------------------------- event side


def _where(record: Mapping[str, Any]) -> str:
    """Where an event record is, for error messages (built only when there is an error)."""
    return f"record {record.get('topic')!r}-{record.get('partition')!r}@{record.get('offset')!r}"


def _require(record: Mapping[str, Any], name: str, kind: type) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ArchiveFormatError(
            f"{_where(record)}: field {name!r} must be a {kind.__name__}, got {value!r:.80}"
        )
    return value


def _b64_field(record: Mapping[str, Any], name: str) -> bytes | None:
    raw = record.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ArchiveFormatError(
            f"{_where(record)}: field {name!r} must be base64 text or absent, got {raw!r:.80}"
        )
    try:  # strict mode accepts a subset of what b64decode(validate=True) does, with the same bytes
        return binascii.a2b_base64(raw, strict_mode=True)
    except ValueError:
        pass
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ArchiveFormatError(f"{_where(record)}: field {name!r} is not standard base64: {exc}") from exc


def _event_headers(record: Mapping[str, Any]) -> tuple[Header, ...]:
    raw = record.get("headers")
    if raw is None or raw == []:
        return ()
    where = _where(record)  # records with headers are rare enough to name eagerly
    if not isinstance(raw, list):
        raise ArchiveFormatError(f"{where}: 'headers' must be a list, got {raw!r:.80}")
    headers: list[Header] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or len(item) != 1:
            raise ArchiveFormatError(f"{where}: headers[{i}] must be a one-key object, got {item!r:.80}")
        ((name, values),) = item.items()
        if values is None:
            headers.append((name, None))
            continue
        if not isinstance(values, list) or not all(
            isinstance(b, int) and not isinstance(b, bool) and -128 <= b <= 255 for b in values
        ):
            raise ArchiveFormatError(f"{where}: headers[{i}] ({name!r}) must be a list of bytes -128..255")
        # Lambda sends Java signed bytes; & 0xFF also accepts decoders that already made them unsigned.
        headers.append((name, bytes(b & 0xFF for b in values)))
    return tuple(headers)


def _metadata(raw: Any) -> dict[str, Any] | None:
    # `is None` first: the Mapping ABC check is slow and most records carry no schema metadata.
    return dict(raw) if raw is not None and isinstance(raw, Mapping) else None


def record_from_event(record: Mapping[str, Any]) -> ArchivedRecord:
    """Parse one record of a Lambda Kafka event (`event["records"][mapkey][i]`) into raw bytes."""
    if type(record) is not dict and not isinstance(record, Mapping):  # dict first: the ABC check is slow
        raise ArchiveFormatError(f"event record must be an object, got {record!r:.80}")
    key_meta = record.get("keySchemaMetadata")
    value_meta = record.get("valueSchemaMetadata")
    return ArchivedRecord(
        topic=_require(record, "topic", str),
        partition=_require(record, "partition", int),
        offset=_require(record, "offset", int),
        timestamp=_require(record, "timestamp", int),
        timestamp_type=_require(record, "timestampType", str),
        key=_b64_field(record, "key"),
        value=_b64_field(record, "value"),
        headers=_event_headers(record),
        key_schema_metadata=_metadata(key_meta),
        value_schema_metadata=_metadata(value_meta),
    )


def records_from_event(event: Mapping[str, Any]) -> list[ArchivedRecord]:
    """Every record of a Lambda Kafka event, map key by map key, in the order the event lists them."""
    batches = event.get("records") if isinstance(event, Mapping) else None
    if not isinstance(batches, Mapping):
        raise ArchiveFormatError("event has no 'records' object: not a Lambda Kafka (aws:kafka) event")
    out: list[ArchivedRecord] = []
    for map_key, records in batches.items():
        if not isinstance(records, list):
            raise ArchiveFormatError(f"event records[{map_key!r}] must be a list")
        out.extend(record_from_event(r) for r in records)
    return out


# ---------------------------------------------------------------------------------------------- line encoding


def _encode_bytes(raw: bytes) -> tuple[str, str]:
    """(text, encoding): exact UTF-8 text when the bytes are valid UTF-8, else base64."""
    try:
        return raw.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def _put_bytes(obj: dict[str, Any], name: str, raw: bytes | None) -> None:
    if raw is None:
        obj[name] = None
        return
    obj[name], obj[f"{name}Encoding"] = _encode_bytes(raw)


def _dumps(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# What json.dumps(..., ensure_ascii=False) writes for a str (the C encoder when available).
_json_str: Any = json.encoder.encode_basestring


def _bytes_members(name: str, raw: bytes | None) -> str:
    """`,"name":...,"nameEncoding":...` exactly as `_put_bytes` + `_dumps` would write them."""
    if raw is None:
        return f',"{name}":null'
    text, encoding = _encode_bytes(raw)
    return f',"{name}":{_json_str(text)},"{name}Encoding":"{encoding}"'


def encode_record_line(record: ArchivedRecord) -> bytes:
    """The full record line, without its trailing newline (it may exceed a Firehose record)."""
    if record.key_schema_metadata is not None or record.value_schema_metadata is not None:
        return _encode_record_line_generic(record)
    # Byte-identical to the generic path (tests compare them), without building and walking a dict.
    headers = ",".join(
        f'{{"name":{_json_str(name)}{_bytes_members("value", raw)}}}' for name, raw in record.headers
    )
    line = (
        f'{{"v":{FORMAT_VERSION},"topic":{_json_str(record.topic)},"partition":{int(record.partition)},'
        f'"offset":{int(record.offset)},"timestamp":{int(record.timestamp)},'
        f'"timestampType":{_json_str(record.timestamp_type)}{_bytes_members("key", record.key)},'
        f'"headers":[{headers}]{_bytes_members("value", record.value)}}}'
    )
    return line.encode("utf-8")


def _encode_record_line_generic(record: ArchivedRecord) -> bytes:
    obj: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestampType": record.timestamp_type,
    }
    _put_bytes(obj, "key", record.key)
    headers = []
    for name, raw in record.headers:
        header: dict[str, Any] = {"name": name}
        _put_bytes(header, "value", raw)
        headers.append(header)
    obj["headers"] = headers
    if record.key_schema_metadata is not None:
        obj["keySchemaMetadata"] = dict(record.key_schema_metadata)
    if record.value_schema_metadata is not None:
        obj["valueSchemaMetadata"] = dict(record.value_schema_metadata)
    _put_bytes(obj, "value", record.value)
    return _dumps(obj)


def _part_line(record: ArchivedRecord, part: int, parts: int, crc: int, chunk: bytes) -> bytes:
    return _dumps(
        {
            "v": FORMAT_VERSION,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "part": part,
            "parts": parts,
            "crc32": crc,
            "chunk": base64.b64encode(chunk).decode("ascii"),
        }
    )


def encode_lines(record: ArchivedRecord, max_record_bytes: int = FIREHOSE_MAX_RECORD_BYTES) -> list[bytes]:
    """The newline-terminated line(s) for one record, each at most `max_record_bytes` long."""
    full = encode_record_line(record)
    if len(full) + 1 <= max_record_bytes:
        return [full + b"\n"]
    overhead = len(_part_line(record, 0, 0, 0, b"")) + 1 + _PART_SLACK_BYTES
    chunk_size = (max_record_bytes - overhead) // 4 * 3
    if chunk_size <= 0:
        raise ValueError(f"max_record_bytes={max_record_bytes} leaves no room for parts of {record.identity}")
    crc = zlib.crc32(full)
    pieces = [full[i : i + chunk_size] for i in range(0, len(full), chunk_size)]
    lines = [_part_line(record, i, len(pieces), crc, piece) + b"\n" for i, piece in enumerate(pieces)]
    longest = max(len(line) for line in lines)
    if (
        longest > max_record_bytes
    ):  # the slack covers every digit count; reaching here is a bug worth a loud error
        raise AssertionError(f"part line of {longest} bytes exceeds {max_record_bytes}")
    return lines


# ---------------------------------------------------------------------------------------------- decoding


def _get(obj: Mapping[str, Any], name: str, kind: type, where: str, *, nullable: bool = False) -> Any:
    if name not in obj:
        raise ArchiveFormatError(f"{where}: missing field {name!r}")
    value = obj[name]
    if value is None and nullable:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ArchiveFormatError(f"{where}: field {name!r} must be a {kind.__name__}, got {value!r:.80}")
    return value


def _decode_bytes(obj: Mapping[str, Any], name: str, where: str) -> bytes | None:
    text = _get(obj, name, str, where, nullable=True)
    if text is None:
        return None
    encoding = obj.get(f"{name}Encoding")
    if encoding == "utf8":
        return bytes(text.encode("utf-8"))
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ArchiveFormatError(f"{where}: {name!r} is not base64: {exc}") from exc
    raise ArchiveFormatError(f"{where}: {name}Encoding must be 'utf8' or 'base64', got {encoding!r}")


def _record_from_obj(obj: Mapping[str, Any], where: str) -> ArchivedRecord:
    raw_headers = _get(obj, "headers", list, where)
    headers: list[Header] = []
    for i, header in enumerate(raw_headers):
        if not isinstance(header, Mapping):
            raise ArchiveFormatError(f"{where}: headers[{i}] must be an object")
        name = _get(header, "name", str, f"{where} headers[{i}]")
        headers.append((name, _decode_bytes(header, "value", where)))
    key_meta = obj.get("keySchemaMetadata")
    value_meta = obj.get("valueSchemaMetadata")
    return ArchivedRecord(
        topic=_get(obj, "topic", str, where),
        partition=_get(obj, "partition", int, where),
        offset=_get(obj, "offset", int, where),
        timestamp=_get(obj, "timestamp", int, where),
        timestamp_type=_get(obj, "timestampType", str, where),
        key=_decode_bytes(obj, "key", where),
        value=_decode_bytes(obj, "value", where),
        headers=tuple(headers),
        key_schema_metadata=key_meta if isinstance(key_meta, Mapping) else None,
        value_schema_metadata=value_meta if isinstance(value_meta, Mapping) else None,
    )


def decode_line(line: bytes | str) -> ArchivedRecord | RecordPart:
    """Decode one archive line (trailing newline optional): a whole record, or one part of a split record."""
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArchiveFormatError(f"not a JSON line: {exc}") from exc
    if not isinstance(obj, dict):
        raise ArchiveFormatError(f"archive line must be a JSON object, got {type(obj).__name__}")
    version = obj.get("v")
    if version != FORMAT_VERSION:
        raise ArchiveFormatError(f"unsupported archive format version {version!r} (this reader knows 1)")
    where = f"line {obj.get('topic')!r}-{obj.get('partition')!r}@{obj.get('offset')!r}"
    if "part" not in obj:
        return _record_from_obj(obj, where)
    chunk_text = _get(obj, "chunk", str, where)
    try:
        chunk = base64.b64decode(chunk_text, validate=True)
    except binascii.Error as exc:
        raise ArchiveFormatError(f"{where}: chunk is not base64: {exc}") from exc
    part = RecordPart(
        topic=_get(obj, "topic", str, where),
        partition=_get(obj, "partition", int, where),
        offset=_get(obj, "offset", int, where),
        part=_get(obj, "part", int, where),
        parts=_get(obj, "parts", int, where),
        crc32=_get(obj, "crc32", int, where),
        chunk=chunk,
    )
    if not 0 <= part.part < part.parts:
        raise ArchiveFormatError(f"{where}: part {part.part} outside 0..{part.parts - 1}")
    return part


class IncompleteRecordError(ArchiveFormatError):
    """Some split records never got all their parts."""


class Reassembler:
    """Collects part lines (in any order, across objects, duplicates allowed) into whole records."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, int, int], dict[int, RecordPart]] = {}
        self._completed: set[tuple[str, int, int]] = set()

    def add(self, item: ArchivedRecord | RecordPart) -> ArchivedRecord | None:
        """Feed one decoded line; returns a record when it is whole (at once for unsplit lines)."""
        if isinstance(item, ArchivedRecord):
            return item
        ident = (item.topic, item.partition, item.offset)
        parts = self._pending.setdefault(ident, {})
        seen = parts.get(item.part)
        if seen is not None and seen != item:
            raise ArchiveFormatError(f"part {item.part} of {ident} arrived twice with different content")
        parts[item.part] = item
        first = next(iter(parts.values()))
        if any(p.parts != first.parts or p.crc32 != first.crc32 for p in parts.values()):
            raise ArchiveFormatError(f"parts of {ident} disagree on parts count or crc32")
        if len(parts) < first.parts:
            return None
        del self._pending[ident]
        full = b"".join(parts[i].chunk for i in range(first.parts))
        if zlib.crc32(full) != first.crc32:
            raise ArchiveFormatError(f"reassembled {ident} fails its crc32 check")
        record = decode_line(full)
        if not isinstance(record, ArchivedRecord) or record.identity != ident:
            raise ArchiveFormatError(f"reassembled {ident} is not the record its parts name")
        self._completed.add(ident)
        return record

    def incomplete(self) -> list[tuple[str, int, int]]:
        """Split records still missing parts, ignoring stray duplicate parts of records already rebuilt."""
        return sorted(ident for ident in self._pending if ident not in self._completed)


def decode_lines(lines: Iterable[bytes | str], *, strict: bool = True) -> Iterator[ArchivedRecord]:
    """Decode archive lines into records, reassembling split ones; blank lines are skipped.

    With `strict`, raises IncompleteRecordError at the end if a split record is missing parts.
    """
    assembler = Reassembler()
    for line in lines:
        if not line.strip():
            continue
        record = assembler.add(decode_line(line))
        if record is not None:
            yield record
    missing = assembler.incomplete()
    if strict and missing:
        raise IncompleteRecordError(f"{len(missing)} split record(s) missing parts: {missing[:5]}")


def decode_object(body: bytes) -> list[ArchivedRecord]:
    """Every record in one (already decompressed) archive object body."""
    return list(decode_lines(body.split(b"\n")))


def record_to_event(record: ArchivedRecord) -> dict[str, Any]:
    """The Lambda Kafka event record shape again (null key/value omitted, signed header bytes)."""
    out: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestampType": record.timestamp_type,
    }
    if record.key is not None:
        out["key"] = base64.b64encode(record.key).decode("ascii")
    if record.value is not None:
        out["value"] = base64.b64encode(record.value).decode("ascii")
    out["headers"] = [
        {name: None if raw is None else [b - 256 if b > 127 else b for b in raw]}
        for name, raw in record.headers
    ]
    if record.key_schema_metadata is not None:
        out["keySchemaMetadata"] = dict(record.key_schema_metadata)
    if record.value_schema_metadata is not None:
        out["valueSchemaMetadata"] = dict(record.value_schema_metadata)
    return out
