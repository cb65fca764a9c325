"""The verification ledger: every produced record held against what the archive holds, then the checks.

`match_archive(produced, snapshot, delivered_at, identity)` matches records read with coordinates by
identity `(topic, partition, offset)`, and records read without them (value-lines, value-concatenated, ...)
by content key as a multiset (harness/verify/content.py); lost and duplicated records are named by
coordinates either way:

* **lost** — produced (acknowledged by Kafka) and never archived. Records the on-failure destination names are
  split off as **diverted**: not archived, but not silently gone either.
* **duplicates** — every archived copy beyond the first of an identity (redelivered batches, retried calls).
* **corrupted** — an identity whose archived key, headers, value hash or value size differs from what was
  produced (any copy); named once, with what differs.
* **unexpected** — archived identities the ledger does not hold (named once).
* **order violations** — within one object and one partition, a record whose offset is below one seen earlier
  in that object (later copies of an offset already in the object are duplicates, not order problems). Order
  across objects is not checked: Firehose does not keep it (spec firehose §7.1).
* **latency** — per produced record archived: the earliest delivery time of an object holding it minus its
  produce time (see harness/verify/latency.py).

Limits: content-matched records cannot be corrupted (a changed value is one lost record plus one
unexpected value) and carry no order. A record missing from the ledger (the producer never saw its
acknowledgement) but present in Kafka shows up as unexpected. Content is compared through SHA-256 of the
value, not byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from firehose_emulator.delivery_types import DeliveredObject
from harness.load import ProducedRecord
from harness.scenario.model import Expectations
from harness.verify.checks import (
    DEFAULT_SMALL_OBJECT_BYTES,
    CheckInputs,
    build_checks,
    hour_prefix,
)
from harness.verify.content import CONTENT_KEY_BYTES, IdentityExpression, produced_key_function
from harness.verify.destination import summarize_failures
from harness.verify.result import (
    ArchivedDigest,
    ArchivedObject,
    ArchiveObjectInfo,
    ArchiveSnapshot,
    LedgerMatch,
    RecordRef,
    VerificationReport,
)

Identity = tuple[str, int, int]


def _ref(record: ProducedRecord | ArchivedDigest) -> RecordRef:
    return RecordRef(record.topic, record.partition, record.offset, record.key, record.value_sha256)


def _difference(produced: ProducedRecord, archived: ArchivedDigest) -> str | None:
    problems = []
    if archived.key != produced.key:
        problems.append(f"key {archived.key!r:.60} != produced {produced.key!r:.60}")
    if archived.value_sha256 != produced.value_sha256:
        problems.append(f"value sha256 {archived.value_sha256} != produced {produced.value_sha256}")
    elif archived.value_size != produced.value_size:
        problems.append(f"value size {archived.value_size} != produced {produced.value_size}")
    if archived.headers != tuple(produced.headers):
        problems.append(f"headers {archived.headers!r:.120} != produced {tuple(produced.headers)!r:.120}")
    return "; ".join(problems) or None


def _utc(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def match_archive(
    produced: Sequence[ProducedRecord],
    snapshot: ArchiveSnapshot,
    delivered_at: Mapping[str, datetime] | None = None,
    identity: IdentityExpression | None = None,
) -> LedgerMatch:
    """Match the ledger against the snapshot (delivery times by key; default: each object's LastModified).

    Records with coordinates match by (topic, partition, offset); records without match by content key
    (harness/verify/content.py), `identity` saying how the archive's content keys were made.
    """
    by_id: dict[Identity, ProducedRecord] = {(p.topic, p.partition, p.offset): p for p in produced}
    copies: dict[Identity, int] = {}
    first_delivery: dict[Identity, datetime] = {}
    corrupted: dict[Identity, tuple[RecordRef, str]] = {}
    unexpected: dict[Identity, RecordRef] = {}
    order: list[str] = []
    archived = duplicates = 0
    times = delivered_at or {}
    for obj in snapshot.objects:
        when = times.get(obj.key, obj.last_modified)
        when = None if when is None else _utc(when)
        highest: dict[tuple[str, int], int] = {}
        in_object: set[Identity] = set()
        for record in obj.records:
            ident = record.identity
            archived += 1
            seen = copies.get(ident, 0)
            copies[ident] = seen + 1
            duplicates += seen > 0
            if ident not in in_object:
                in_object.add(ident)
                partition = (record.topic, record.partition)
                top = highest.get(partition)
                if top is not None and record.offset < top:
                    order.append(
                        f"{obj.key}: {record.topic}-{record.partition}@{record.offset} after offset {top}"
                    )
                highest[partition] = record.offset if top is None else max(top, record.offset)
            source = by_id.get(ident)
            if source is None:
                unexpected.setdefault(ident, _ref(record))
                continue
            if ident not in corrupted:
                difference = _difference(source, record)
                if difference is not None:
                    corrupted[ident] = (_ref(source), difference)
            if when is not None:
                earlier = first_delivery.get(ident)
                first_delivery[ident] = when if earlier is None else min(earlier, when)
    content = _match_content(
        produced, snapshot, times, identity, copies=copies, first_delivery=first_delivery
    )
    archived += content.archived
    duplicates += content.duplicates
    lost = tuple(_ref(by_id[i]) for i in sorted(by_id) if i not in copies)
    latencies = tuple(
        (first_delivery[i] - _utc(by_id[i].produced_at)).total_seconds() * 1000.0
        for i in sorted(first_delivery)
    )
    undelivered = sum(1 for i in copies if i in by_id and i not in first_delivery)
    return LedgerMatch(
        archived_records=archived,
        unique_archived=len(copies) + len(content.unexpected),
        lost=lost,
        duplicates=duplicates,
        corrupted=tuple(corrupted[i] for i in sorted(corrupted)),
        unexpected=(*(unexpected[i] for i in sorted(unexpected)), *content.unexpected),
        order_violations=tuple(order),
        latencies_ms=latencies,
        undelivered_time=undelivered,
    )


@dataclass(frozen=True)
class _ContentMatch:
    archived: int  # content records read
    duplicates: int  # content copies beyond one per produced record (or per unexpected key)
    unexpected: tuple[RecordRef, ...]  # one per content key no produced record has


def _content_keys(obj: ArchivedObject) -> Iterator[bytes]:
    keys = obj.content_keys
    for at in range(0, len(keys), CONTENT_KEY_BYTES):
        yield keys[at : at + CONTENT_KEY_BYTES]


def _match_content(
    produced: Sequence[ProducedRecord],
    snapshot: ArchiveSnapshot,
    times: Mapping[str, datetime],
    identity: IdentityExpression | None,
    *,
    copies: dict[Identity, int],
    first_delivery: dict[Identity, datetime],
) -> _ContentMatch:
    """Match content-only records as a multiset of content keys; updates `copies` and `first_delivery`."""
    counts, earliest = _count_content_keys(snapshot, times)
    if not counts:
        return _ContentMatch(0, 0, ())
    archived = sum(counts.values())
    key_of = produced_key_function(identity)
    for record in sorted(produced, key=lambda p: (p.topic, p.partition, p.offset)):
        wanted = key_of(record)
        ident = (record.topic, record.partition, record.offset)
        if wanted is None or ident in copies or not counts.get(wanted):
            continue  # content copies of records archived with coordinates are counted as duplicates below
        copies[ident] = 1
        counts[wanted] -= 1
        when = earliest.get(wanted)
        if when is not None:
            first_delivery[ident] = when
    produced_keys = {key_of(p) for p in produced}
    duplicates, unexpected = _unmatched_keys(snapshot, counts, produced_keys)
    duplicates += sum(n for k, n in counts.items() if k in produced_keys)
    return _ContentMatch(archived, duplicates, tuple(unexpected))


def _count_content_keys(
    snapshot: ArchiveSnapshot, times: Mapping[str, datetime]
) -> tuple[dict[bytes, int], dict[bytes, datetime]]:
    """How often each content key was archived, and the earliest delivery time seen for it."""
    counts: dict[bytes, int] = {}
    earliest: dict[bytes, datetime] = {}
    for obj in snapshot.objects:
        if not obj.content_keys:
            continue
        when = times.get(obj.key, obj.last_modified)
        for key in _content_keys(obj):
            counts[key] = counts.get(key, 0) + 1
            if when is not None:
                when = _utc(when)
                earlier = earliest.get(key)
                earliest[key] = when if earlier is None or when < earlier else earlier
    return counts, earliest


def _unmatched_keys(
    snapshot: ArchiveSnapshot, counts: dict[bytes, int], produced_keys: set[bytes | None]
) -> tuple[int, list[RecordRef]]:
    """Pop content keys no produced record has from `counts`: copies beyond one, and a RecordRef for each."""
    duplicates = 0
    unexpected: list[RecordRef] = []
    for obj in snapshot.objects:
        for index, key in enumerate(_content_keys(obj)):
            if key in produced_keys:
                continue
            left = counts.pop(key, 0)
            if left:
                duplicates += left - 1
                line = obj.content_lines[index] if index < len(obj.content_lines) else 0
                where = f"{obj.key} line {line}" if line else f"{obj.key} record {index + 1}"
                unexpected.append(RecordRef("", -1, -1, None, key.hex(), where=where))
    return duplicates, unexpected


def object_infos(snapshot: ArchiveSnapshot, *, errors: bool = False) -> tuple[ArchiveObjectInfo, ...]:
    """The snapshot's data objects (or error objects) as report rows."""
    source = snapshot.error_objects if errors else snapshot.objects
    return tuple(
        ArchiveObjectInfo(
            key=o.key,
            size_bytes=o.size_bytes,
            record_count=o.lines if errors else o.record_count,
            compression=o.compression,
            last_modified=o.last_modified,
            hour_prefix=hour_prefix(o.key),
        )
        for o in source
    )


def verify(
    produced: Sequence[ProducedRecord],
    archive: ArchiveSnapshot,
    expect: Expectations,
    *,
    delivery_log: Sequence[DeliveredObject] = (),
    destination_records: Sequence[Mapping[str, Any]] = (),
    default_key_pattern: str | None = None,
    small_object_bytes: int = DEFAULT_SMALL_OBJECT_BYTES,
    identity: IdentityExpression | None = None,
) -> VerificationReport:
    """Hold the ledger against the archive and apply every expectation (one CheckResult each).

    `delivery_log` gives exact delivery times (else S3 LastModified); `destination_records` are the parsed
    on-failure records; `default_key_pattern` replaces the hive layout when the scenario sets no key_pattern;
    `identity` is the scenario's `verify.identity` the snapshot was read with.
    """
    delivered = {entry.key: entry.delivered_at for entry in delivery_log if entry.bucket == archive.bucket}
    matched = match_archive(produced, archive, delivered, identity)
    by_id = {(p.topic, p.partition, p.offset): p for p in produced}
    failures = summarize_failures(destination_records, by_id)
    diverted = tuple(r for r in matched.lost if (r.topic, r.partition, r.offset) in failures.identities)
    lost = tuple(r for r in matched.lost if (r.topic, r.partition, r.offset) not in failures.identities)
    objects = object_infos(archive)
    inputs = CheckInputs(
        produced=len(produced),
        match=matched,
        lost=lost,
        diverted=diverted,
        objects=objects,
        error_objects=object_infos(archive, errors=True),
        unreadable=archive.unreadable,
        failures=failures,
        default_key_pattern=default_key_pattern,
    )
    checks, bad_keys = build_checks(inputs, expect)
    return VerificationReport(
        produced=len(produced),
        archived_records=matched.archived_records,
        unique_archived=matched.unique_archived,
        lost=lost,
        duplicates=matched.duplicates,
        corrupted=tuple(ref for ref, _ in matched.corrupted),
        unexpected=matched.unexpected,
        order_violations=matched.order_violations,
        latencies_ms=matched.latencies_ms,
        objects=objects,
        bad_keys=bad_keys,
        unreadable=archive.unreadable,
        checks=checks,
        error_objects=inputs.error_objects,
        diverted=diverted,
        small_object_bytes=small_object_bytes,
        archive_formats=formats_by_prefix(archive),
    )


def formats_by_prefix(snapshot: ArchiveSnapshot) -> tuple[str, ...]:
    """Which format each key prefix (the key up to its last `/`) was read as: `prefix: format (N objects)`."""
    counts: dict[tuple[str, str], int] = {}
    for obj in snapshot.objects:
        if obj.archive_format:
            at = (obj.key.rpartition("/")[0] + "/", obj.archive_format)
            counts[at] = counts.get(at, 0) + 1
    return tuple(
        f"{prefix}: {name} ({n} object{'s' * (n != 1)})" for (prefix, name), n in sorted(counts.items())
    )
