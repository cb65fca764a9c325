"""Archive formats: how one decompressed object body becomes archived records, per format, and `auto`.

Built in (docs/archive-formats.md says what each can prove):

* `harness-v1` — the project's own line format (lambda/archive_format.py), split records included.
* `kafka-record-json` — one JSON object per record in the Lambda Kafka event record shape (`topic`,
  `partition`, `offset`, `timestamp`, base64 `key`/`value`, `headers`), newline-delimited or back to back.
* `value-lines` — each record's value bytes as produced, newline-delimited (values holding a newline byte
  cannot be told apart from two values; use another format for binary values).
* `value-concatenated` — values back to back with no delimiter: JSON values are split with a raw JSON decoder,
  anything else by matching the produced values (sizes and digests, `KnownValues`).
* `python:MODULE:FUNCTION` — a user decoder, `MODULE.py` beside the scenario file:
  `FUNCTION(body: bytes) -> Iterable[bytes | Mapping]`, called once per object with its decompressed bytes.
  A `bytes` item (or a mapping without coordinates) is a value matched by content; a mapping with `topic`,
  `partition` and `offset` (and optional `key`, `value` as bytes, `headers` as (name, bytes) pairs,
  `timestamp`) is a record matched by coordinates.
* `auto` — per object, from its first record: harness-v1, kafka-record-json, value-concatenated (a line that
  holds more than one JSON value), else value-lines.

Every reader yields `Item`s: a record (with coordinates), a value (content only) or a problem, each with the
1-based line (value-concatenated: the line where the value starts). Readers never raise on bad input.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.verify.content import KnownValues

AUTO = "auto"
HARNESS_V1 = "harness-v1"
KAFKA_RECORD_JSON = "kafka-record-json"
VALUE_LINES = "value-lines"
VALUE_CONCATENATED = "value-concatenated"
BUILT_IN = (HARNESS_V1, KAFKA_RECORD_JSON, VALUE_LINES, VALUE_CONCATENATED)
USER_PREFIX = "python:"

RECORD, VALUE, PROBLEM = 0, 1, 2
# (RECORD, ArchivedRecord | RecordPart, line) | (VALUE, bytes, line) | (PROBLEM, reason, line)
Item = tuple[int, Any, int]
UserDecoder = Callable[[bytes], Iterable[Any]]
_DECODER = json.JSONDecoder()
_JSON_SPACE = " \t\n\r"


class FormatError(ValueError):
    """An archive format that cannot be used (unknown name, decoder that does not import); says why."""


@dataclass(frozen=True)
class ReadContext:
    """What readers need besides the body: the v1 reference module and the produced values."""

    v1: ModuleType  # lambda/archive_format.py
    known: KnownValues | None = None


def check_format_name(text: str) -> str | None:
    """Why `text` is not an archive format name (None when it is one)."""
    if text == AUTO or text in BUILT_IN:
        return None
    if text.startswith(USER_PREFIX):
        parts = text[len(USER_PREFIX) :].split(":")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            return f"{text!r}: a user decoder is written python:MODULE:FUNCTION"
        return None
    names = ", ".join((AUTO, *BUILT_IN, "python:MODULE:FUNCTION"))
    return f"unknown archive format {text!r} (one of {names})"


def load_user_decoder(text: str, base_dir: Path) -> UserDecoder:
    """FUNCTION of `python:MODULE:FUNCTION`, MODULE.py loaded from `base_dir`; FormatError says why not."""
    module_name, function_name = text[len(USER_PREFIX) :].split(":")
    path = base_dir.joinpath(*module_name.split(".")).with_suffix(".py")
    if not path.is_file():
        raise FormatError(f"decoder module {module_name!r}: no file {path}")
    spec = importlib.util.spec_from_file_location(f"_archive_decoder_{module_name}", path)
    if spec is None or spec.loader is None:
        raise FormatError(f"decoder module {module_name!r}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(base_dir))  # so the decoder can import its own helpers beside it
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # any import-time failure of user code is reported, not raised
        raise FormatError(
            f"decoder module {module_name!r} does not import: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        sys.path.remove(str(base_dir))
    function = getattr(module, function_name, None)
    if not callable(function):
        raise FormatError(f"decoder module {module_name!r} has no function {function_name!r}")
    return function  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------- readers


def _lines(body: bytes) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(body.split(b"\n"), start=1):
        if line.strip():
            yield number, line


def read_harness_v1(body: bytes, ctx: ReadContext) -> Iterator[Item]:
    """harness-v1 lines: records and part lines (the caller reassembles parts)."""
    fmt = ctx.v1
    for number, line in _lines(body):
        try:
            yield RECORD, fmt.decode_line(line), number
        except fmt.ArchiveFormatError as exc:
            yield PROBLEM, str(exc), number


def _json_stream(text: str) -> Iterator[tuple[Any, int, int, str | None]]:
    """(value, start, end, error) for JSON values back to back; after an error, resume at the next line."""
    at, size = 0, len(text)
    while True:
        while at < size and text[at] in _JSON_SPACE:
            at += 1
        if at >= size:
            return
        try:
            value, end = _DECODER.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            newline = text.find("\n", at)
            end = size if newline < 0 else newline + 1
            yield None, at, end, f"not JSON: {exc.msg} (column {exc.pos - text.rfind(chr(10), 0, at)})"
            at = end
            continue
        yield value, at, end, None
        at = end


def read_kafka_record_json(body: bytes, ctx: ReadContext) -> Iterator[Item]:
    """Lambda Kafka event records as JSON, newline-delimited or back to back."""
    fmt = ctx.v1
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield PROBLEM, f"not UTF-8 text: {exc}", 1
        return
    line, counted = 1, 0
    for value, start, _end, error in _json_stream(text):
        line += text.count("\n", counted, start)
        counted = start
        if error is not None:
            yield PROBLEM, error, line
            continue
        if not isinstance(value, dict):
            yield PROBLEM, f"not a Kafka record object: {json.dumps(value)[:60]}", line
            continue
        try:
            yield RECORD, fmt.record_from_event(value), line
        except fmt.ArchiveFormatError as exc:
            yield PROBLEM, f"not a Kafka record: {exc}", line


def read_value_lines(body: bytes, _ctx: ReadContext) -> Iterator[Item]:
    """Each non-blank line is one value, byte for byte."""
    for number, line in _lines(body):
        yield VALUE, line, number


def read_value_concatenated(body: bytes, ctx: ReadContext) -> Iterator[Item]:
    """Values back to back: JSON split by a raw decoder, other bytes by matching produced values."""
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        at = 0
        line = 1
        for _value, start, end, error in _json_stream(text):
            line += text.count("\n", at, start)
            at = start
            if error is not None:
                # Not JSON from here on: hand the rest (in bytes) to the known-values splitter.
                yield from _known_values(body, len(text[:start].encode("utf-8")), line, ctx)
                return
            yield VALUE, text[start:end].encode("utf-8"), line
        return
    yield from _known_values(body, 0, 1, ctx)


def _known_values(body: bytes, start: int, line: int, ctx: ReadContext) -> Iterator[Item]:
    at = start
    while at < len(body):
        end = None if ctx.known is None else ctx.known.match_at(body, at)
        if end is None:
            reason = "bytes match no JSON value and no produced value"
            yield PROBLEM, f"{reason} at byte {at} ({len(body) - at} bytes left unread)", line
            return
        yield VALUE, body[at:end], line
        line += body.count(b"\n", at, end)
        at = end


def read_user(decoder: UserDecoder, name: str) -> Callable[[bytes, ReadContext], Iterator[Item]]:
    """A reader around a user decoder: its items checked, its errors reported as problems."""

    def read(body: bytes, ctx: ReadContext) -> Iterator[Item]:
        try:
            items = list(decoder(body))
        except Exception as exc:  # noqa: BLE001 - a user's decoder may raise anything: report, do not raise
            yield PROBLEM, f"decoder {name} raised {type(exc).__name__}: {exc}", 0
            return
        for index, item in enumerate(items, start=1):
            try:
                yield _user_item(item, ctx)
            except (TypeError, ValueError, KeyError) as exc:
                yield PROBLEM, f"decoder {name} item {index}: {exc}", 0  # items have no line

    return read


def _bytes(value: Any, name: str) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"{name} must be bytes, str or None, got {type(value).__name__}")


def _user_item(item: Any, ctx: ReadContext) -> Item:
    if isinstance(item, (bytes, str)):
        return VALUE, _bytes(item, "value"), 0
    if not isinstance(item, Mapping):
        raise TypeError(f"expected bytes or a mapping, got {type(item).__name__}")
    if not {"topic", "partition", "offset"} <= item.keys():
        value = _bytes(item.get("value"), "value")
        if value is None:
            raise ValueError("a record without coordinates needs a value")
        return VALUE, value, 0
    headers = tuple((str(n), _bytes(v, f"header {n}")) for n, v in item.get("headers", ()))
    record = ctx.v1.ArchivedRecord(
        str(item["topic"]),
        int(item["partition"]),
        int(item["offset"]),
        int(item.get("timestamp", 0)),
        "CREATE_TIME",
        _bytes(item.get("key"), "key"),
        _bytes(item.get("value"), "value"),
        headers,
    )
    return RECORD, record, 0


READERS: dict[str, Callable[[bytes, ReadContext], Iterator[Item]]] = {
    HARNESS_V1: read_harness_v1,
    KAFKA_RECORD_JSON: read_kafka_record_json,
    VALUE_LINES: read_value_lines,
    VALUE_CONCATENATED: read_value_concatenated,
}


def detect(body: bytes, ctx: ReadContext) -> str:
    """The built-in format an object body is in, judged by its first record."""
    first = next((line for _, line in _lines(body)), b"")
    try:
        text = first.decode("utf-8")
        value, end = _DECODER.raw_decode(text, len(text) - len(text.lstrip(_JSON_SPACE)))
    except (UnicodeDecodeError, json.JSONDecodeError):
        known = ctx.known
        if known is not None and first and not known.is_known(first) and known.match_at(body, 0) is not None:
            return VALUE_CONCATENATED
        return VALUE_LINES
    if isinstance(value, dict) and {"topic", "partition", "offset"} <= value.keys():
        return HARNESS_V1 if "v" in value else KAFKA_RECORD_JSON
    return VALUE_CONCATENATED if text[end:].strip() else VALUE_LINES
