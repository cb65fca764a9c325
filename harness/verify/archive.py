"""Read an archive back from any S3 endpoint: list, download, decompress, decode the archive lines.

`read_archive(s3_client, bucket, prefix)` lists every object under `prefix` (paginated), downloads them with a
bounded thread pool (objects are decoded in key order as they arrive, so at most a window of bodies is held),
undoes each object's compression (harness/verify/codec.py) and reads its records in the scenario's archive
format (harness/verify/formats.py; `auto` by default, judged per object). harness-v1 lines are decoded by the
archiver's own reference decoder, lambda/archive_format.py, loaded by path (lambda/ is a code root, not a
package). Split records are reassembled across objects with one `Reassembler`; a rebuilt record belongs to
the object holding its last missing part. `ArchiveDecoder` is the one decoding path: it yields whole records
located by (object key, line number) and the values of records without coordinates; the verifier digests
them (`decode_archive`), replay keeps the records (harness/replay) and skips content-only values.

Nothing stops the read: an object that cannot be downloaded or decompressed is reported as `"key: reason"`,
a line that does not decode as `"key line N: reason"`, a split record that never got all its parts as
`"key: split record t-p@o missing parts"`, and every other object and line is still read.

Objects under the error output prefix hold Firehose error records, not archive lines: they are listed in
`error_objects` with their line count and are not decoded. Values are hashed on read (`ArchivedDigest`), not
kept.
"""

from __future__ import annotations

import importlib.util
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.resources import REFERENCE_ARCHIVER_DIR
from harness.verify.codec import UndecodableObjectError, decompress, detect_compression
from harness.verify.content import IdentityError, IdentityExpression, KnownValues, content_key_function
from harness.verify.formats import (
    AUTO,
    PROBLEM,
    READERS,
    VALUE,
    Item,
    ReadContext,
    UserDecoder,
    detect,
    read_user,
)
from harness.verify.result import ArchivedDigest, ArchivedObject, ArchiveSnapshot

ARCHIVE_FORMAT_PATH = REFERENCE_ARCHIVER_DIR / "archive_format.py"
# Error-output types Firehose writes for S3 destinations (spec firehose §6.6); with an unset or
# expression-led ErrorOutputPrefix, error objects start with one of these.
ERROR_OUTPUT_TYPES = (
    "processing-failed",
    "format-conversion-failed",
    "activePartitionExceeded",
    "decompression-failed",
    "metadata-extraction-failed",
)
DEFAULT_MAX_WORKERS = 8

ProgressCallback = Callable[[int, int], None]  # (objects read, objects listed)
Reader = Callable[[bytes, ReadContext], Iterator[Item]]


def load_archive_format(path: Path = ARCHIVE_FORMAT_PATH) -> ModuleType:
    """The archiver's archive_format.py as a module (reused when already imported from the same file)."""
    resolved = path.resolve()
    loaded = sys.modules.get("archive_format")
    if loaded is not None and Path(str(getattr(loaded, "__file__", ""))).resolve() == resolved:
        return loaded
    if loaded is not None:
        raise ImportError(f"another 'archive_format' module is already imported from {loaded.__file__}")
    spec = importlib.util.spec_from_file_location("archive_format", resolved)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the archive format from {resolved}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["archive_format"] = module  # dataclasses need the module registered
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["archive_format"]
        raise
    return module


def error_roots(error_output_prefix: str | None) -> tuple[str, ...]:
    """Key prefixes under which error objects land for a stream's ErrorOutputPrefix (None: not known)."""
    literal = (error_output_prefix or "").split("!{", 1)[0]
    if literal:
        return (literal,)
    return tuple(f"{kind}/" for kind in ERROR_OUTPUT_TYPES)


@dataclass(frozen=True)
class FetchedObject:
    """One downloaded object (or why it could not be downloaded)."""

    key: str
    size_bytes: int
    last_modified: datetime | None
    content_encoding: str | None
    body: bytes | None
    error: str | None = None


def decode_archive(
    fetched: Iterable[FetchedObject],
    *,
    bucket: str,
    prefix: str = "",
    error_prefixes: tuple[str, ...] = (),
    archive_format: ModuleType | None = None,
    reading: FormatChoice | None = None,
) -> ArchiveSnapshot:
    """Decompress and decode downloaded objects, in the order given, into a snapshot (pure)."""
    choice = reading or FormatChoice()
    decoder = ArchiveDecoder(archive_format or load_archive_format(), error_prefixes, choice)
    content_key = content_key_function(choice.identity)
    objects: list[ArchivedObject] = []
    error_objects: list[ArchivedObject] = []
    for item in fetched:
        decoded = decoder.decode(item)
        keys, lines = bytearray(), array("I")
        for value, line in decoded.values:
            try:
                keys += content_key(value)
            except IdentityError as exc:
                decoder.unreadable.append(Unreadable(item.key, str(exc), line or None))
                continue
            lines.append(line)
        obj = ArchivedObject(
            item.key,
            item.size_bytes,
            decoded.compression,
            item.last_modified,
            tuple(_digest(located.record) for located in decoded.records),
            decoded.lines,
            error_output=decoded.error_output,
            archive_format=decoded.archive_format,
            content_keys=bytes(keys),
            content_lines=lines,
        )
        (error_objects if obj.error_output else objects).append(obj)
    decoder.finish()
    return ArchiveSnapshot(
        bucket, prefix, tuple(objects), tuple(error_objects), tuple(str(u) for u in decoder.unreadable)
    )


def _digest(record: Any) -> ArchivedDigest:
    return ArchivedDigest.of(
        record.topic,
        record.partition,
        record.offset,
        key=record.key,
        value=record.value,
        headers=record.headers,
    )


@dataclass(frozen=True)
class Unreadable:
    """Something that could not be read: an object (`line` None) or one line of it (1-based)."""

    key: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.key if self.line is None else f"{self.key} line {self.line}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class LocatedRecord:
    """A whole archived record (an `archive_format.ArchivedRecord`) and where its (last) line was read."""

    record: Any  # archive_format.ArchivedRecord; the module is loaded by path, so typed loosely
    key: str
    line: int


@dataclass(frozen=True)
class FormatChoice:
    """How to read the archive: format name (default `auto`), user decoder, identity, produced values."""

    name: str = AUTO
    user_decoder: UserDecoder | None = None  # set when `name` is python:MODULE:FUNCTION
    identity: IdentityExpression | None = None
    known: KnownValues | None = None


@dataclass(frozen=True)
class DecodedObject:
    """One object decoded: its compression, format, line count, the records it completed and its values."""

    compression: str  # UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY ("unknown" when not downloaded)
    lines: int
    records: tuple[LocatedRecord, ...]
    error_output: bool = False
    archive_format: str = ""  # the format it was read as ("" when not read)
    values: tuple[tuple[bytes, int], ...] = ()  # content-only records: (value, line)


class ArchiveDecoder:
    """The one decoding path of the archive (verifier and replay): objects in, whole located records out.

    Objects are decoded one after another with one shared Reassembler, so split records can span objects;
    a rebuilt record is located at its last part. Records without coordinates come out as `values`.
    Problems collect in `unreadable`; nothing raises.
    """

    def __init__(
        self, fmt: ModuleType, error_prefixes: tuple[str, ...] = (), choice: FormatChoice | None = None
    ) -> None:
        self._fmt = fmt
        self._error_prefixes = error_prefixes
        self._choice = choice or FormatChoice()
        self._context = ReadContext(fmt, self._choice.known)
        self._reassembler = fmt.Reassembler()
        self._part_seen_in: dict[tuple[str, int, int], tuple[str, int]] = {}
        self.unreadable: list[Unreadable] = []
        self._finished = False

    def is_error_output(self, key: str) -> bool:
        """True when `key` lies under the error output prefix (error records, not archive lines)."""
        return bool(self._error_prefixes) and key.startswith(self._error_prefixes)

    def decode(self, item: FetchedObject) -> DecodedObject:
        """Decode one object (its unreadable parts go to `unreadable`)."""
        is_error = self.is_error_output(item.key)
        if item.body is None:
            self.unreadable.append(Unreadable(item.key, item.error or "no body"))
            return DecodedObject("unknown", 0, (), error_output=is_error)
        compression = detect_compression(item.key, item.content_encoding, item.body)
        try:
            body = decompress(compression, item.body)
        except UndecodableObjectError as exc:
            self.unreadable.append(Unreadable(item.key, str(exc)))
            return DecodedObject(compression, 0, (), error_output=is_error)
        if is_error:
            lines = sum(1 for line in body.split(b"\n") if line.strip())
            return DecodedObject(compression, lines, (), error_output=True)
        name, reader = self._reader(body)
        records, values, lines = self._read(item.key, body, reader)
        return DecodedObject(compression, lines, tuple(records), False, name, tuple(values))

    def _reader(self, body: bytes) -> tuple[str, Reader]:
        choice = self._choice
        if choice.user_decoder is not None:
            return choice.name, read_user(choice.user_decoder, choice.name)
        name = detect(body, self._context) if choice.name == AUTO else choice.name
        return name, READERS[name]

    def _read(
        self, key: str, body: bytes, reader: Reader
    ) -> tuple[list[LocatedRecord], list[tuple[bytes, int]], int]:
        fmt = self._fmt
        records: list[LocatedRecord] = []
        values: list[tuple[bytes, int]] = []
        lines = 0
        for kind, payload, number in reader(body, self._context):
            lines += 1
            if kind == VALUE:
                values.append((payload, number))
                continue
            if kind == PROBLEM:
                self.unreadable.append(Unreadable(key, payload, number or None))
                continue
            if isinstance(payload, fmt.RecordPart):
                self._part_seen_in[(payload.topic, payload.partition, payload.offset)] = (key, number)
            try:
                record = self._reassembler.add(payload)
            except fmt.ArchiveFormatError as exc:
                self.unreadable.append(Unreadable(key, str(exc), number))
                continue
            if record is not None:
                records.append(LocatedRecord(record, key, number))
        return records, values, lines

    def finish(self) -> tuple[Unreadable, ...]:
        """Report split records still missing parts (once); returns everything unreadable."""
        if self._finished:
            return tuple(self.unreadable)
        self._finished = True
        for topic, partition, offset in self._reassembler.incomplete():
            where, _ = self._part_seen_in.pop((topic, partition, offset), ("?", 0))
            self.unreadable.append(
                Unreadable(where, f"split record {topic}-{partition}@{offset} missing parts")
            )
        return tuple(self.unreadable)


def list_objects(
    s3_client: Any, bucket: str, prefix: str = "", *, page_size: int = 1000
) -> list[dict[str, Any]]:
    """Every object under `prefix` (all pages), sorted by key: dicts with Key, Size, LastModified."""
    found: list[dict[str, Any]] = []
    pages = s3_client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        found.extend(page.get("Contents", ()))
    return sorted(found, key=lambda entry: str(entry["Key"]))


def _fetch(s3_client: Any, bucket: str, entry: dict[str, Any]) -> FetchedObject:
    key = str(entry["Key"])
    size = int(entry.get("Size", 0))
    modified = entry.get("LastModified")
    try:
        response = s3_client.get_object(Bucket=bucket, Key=key)
        body = response["Body"].read()
    except (BotoCoreError, ClientError, OSError) as exc:  # reported with the key, not raised
        return FetchedObject(key, size, modified, None, None, f"download failed: {type(exc).__name__}: {exc}")
    return FetchedObject(key, size, modified, response.get("ContentEncoding"), bytes(body))


def fetch_objects(
    s3_client: Any,
    bucket: str,
    entries: list[dict[str, Any]],
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
    on_progress: ProgressCallback | None = None,
) -> Iterator[FetchedObject]:
    """Download `entries` with up to `max_workers` threads, yielding them in the given order."""
    if max_workers < 1:
        raise ValueError(f"max_workers must be >= 1, got {max_workers}")
    window = 2 * max_workers
    total = len(entries)
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="archive-read") as pool:
        pending: list[Future[FetchedObject]] = []
        upcoming = iter(entries)
        done = 0
        for entry in upcoming:
            pending.append(pool.submit(_fetch, s3_client, bucket, entry))
            if len(pending) >= window:
                break
        while pending:
            result = pending.pop(0).result()
            next_entry = next(upcoming, None)
            if next_entry is not None:
                pending.append(pool.submit(_fetch, s3_client, bucket, next_entry))
            done += 1
            if on_progress is not None:
                on_progress(done, total)
            yield result


def read_archive(
    s3_client: Any,
    bucket: str,
    prefix: str = "",
    *,
    error_prefix: str | None = None,
    on_progress: ProgressCallback | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    page_size: int = 1000,
    archive_format_path: Path = ARCHIVE_FORMAT_PATH,
    reading: FormatChoice | None = None,
) -> ArchiveSnapshot:
    """Everything under s3://bucket/prefix, decoded; `error_prefix`: the stream's ErrorOutputPrefix.

    Error objects are only seen when `prefix` covers them: read the whole bucket (`prefix=""`) when the
    error_prefix_empty expectation matters.
    """
    fmt = load_archive_format(archive_format_path)
    entries = list_objects(s3_client, bucket, prefix, page_size=page_size)
    if on_progress is not None:
        on_progress(0, len(entries))
    fetched = fetch_objects(s3_client, bucket, entries, max_workers=max_workers, on_progress=on_progress)
    return decode_archive(
        fetched,
        bucket=bucket,
        prefix=prefix,
        error_prefixes=error_roots(error_prefix),
        archive_format=fmt,
        reading=reading,
    )
