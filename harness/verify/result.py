"""The verification ledger's data: what was read from the archive and what the checks found.

Pure frozen dataclasses shared by the verifier (harness/verify), the runner and the reports. The archive
side (`ArchiveSnapshot`) is what `read_archive` returns; the outcome (`VerificationReport`) is what `verify`
returns.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from harness.verify.content import CONTENT_KEY_BYTES
from harness.verify.latency import percentile


@dataclass(frozen=True)
class ArchivedDigest:
    """One archived record as the verifier keeps it: coordinates, key, headers and the value's hash and size.

    Values are hashed on read instead of kept, so a snapshot of millions of records stays small.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value_sha256: str | None  # None for a tombstone
    value_size: int
    headers: tuple[tuple[str, bytes | None], ...] = ()

    @property
    def identity(self) -> tuple[str, int, int]:
        """(topic, partition, offset)."""
        return (self.topic, self.partition, self.offset)

    @classmethod
    def of(
        cls,
        topic: str,
        partition: int,
        offset: int,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: tuple[tuple[str, bytes | None], ...] = (),
    ) -> ArchivedDigest:
        """The digest of a record with these fields (the value is hashed here)."""
        digest = None if value is None else hashlib.sha256(value).hexdigest()
        return cls(topic, partition, offset, key, digest, 0 if value is None else len(value), tuple(headers))


@dataclass(frozen=True)
class ArchivedObject:
    """One S3 object as read: its metadata and the whole records it completed, in line order."""

    key: str
    size_bytes: int
    compression: str  # UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY (or "unknown" when undecodable)
    last_modified: datetime | None
    records: tuple[ArchivedDigest, ...] = ()
    lines: int = 0  # non-blank lines decoded (part lines included)
    error_output: bool = False  # under the error output prefix
    archive_format: str = ""  # the format it was read as (harness/verify/formats.py)
    content_keys: bytes = b""  # records without coordinates: 16-byte content keys back to back
    content_lines: Sequence[int] = ()  # the line of each content key (0: not known)

    @property
    def content_count(self) -> int:
        """Records read without coordinates."""
        return len(self.content_keys) // CONTENT_KEY_BYTES

    @property
    def record_count(self) -> int:
        """Every record read from the object, with or without coordinates."""
        return len(self.records) + self.content_count


@dataclass(frozen=True)
class ArchiveSnapshot:
    """Everything under a bucket/prefix: data objects, error-output objects, what failed to decode."""

    bucket: str
    prefix: str
    objects: tuple[ArchivedObject, ...]  # data objects, in key order
    error_objects: tuple[ArchivedObject, ...] = ()  # objects under the error output prefix (not decoded)
    unreadable: tuple[str, ...] = ()  # "key: reason" or "key line N: reason"


@dataclass(frozen=True)
class RecordRef:
    """A record named in a finding: its coordinates, key and value hash."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value_sha256: str | None  # None for a tombstone
    where: str | None = None  # archived content without coordinates: "object key line N"

    def describe(self) -> str:
        """`orders-2@1417 (key=k17, sha256=ab12cd34…)`; without coordinates `<key> line 3 (content 0a1b…)`."""
        if self.where is not None:
            return f"{self.where} (content {(self.value_sha256 or '')[:12]}…)"
        key = "null" if self.key is None else self.key.decode("utf-8", "backslashreplace")[:40]
        digest = "tombstone" if self.value_sha256 is None else self.value_sha256[:12] + "…"
        return f"{self.topic}-{self.partition}@{self.offset} (key={key}, sha256={digest})"


@dataclass(frozen=True)
class LedgerMatch:
    """Produced vs archived, before any expectation is applied (harness/verify/ledger.py builds it)."""

    archived_records: int
    unique_archived: int
    lost: tuple[RecordRef, ...]
    duplicates: int
    corrupted: tuple[tuple[RecordRef, str], ...]  # (record as produced, what differs)
    unexpected: tuple[RecordRef, ...]
    order_violations: tuple[str, ...]
    latencies_ms: tuple[float, ...]
    undelivered_time: int  # archived produced records whose object has no delivery time


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation."""

    name: str  # "no_loss", "duplicates", "order_per_partition", "latency_p99", "object_count", ...
    passed: bool
    expected: str  # human text of the expectation, e.g. "<= 1.0 %"
    actual: str  # human text of what was measured
    details: tuple[str, ...] = ()  # e.g. the first lost records


@dataclass(frozen=True)
class ArchiveObjectInfo:
    """One archive object as the reports show it."""

    key: str
    size_bytes: int
    record_count: int
    compression: str
    last_modified: datetime | None
    hour_prefix: str | None  # "2026/07/13/14" from the hive/default key, None if the key breaks the pattern


@dataclass(frozen=True)
class VerificationReport:
    """What the ledger found: produced vs archived, and one CheckResult per expectation."""

    produced: int  # records acknowledged by Kafka (the ledger)
    archived_records: int  # records decoded from the archive (duplicates included)
    unique_archived: int
    lost: tuple[RecordRef, ...]  # produced but never archived
    duplicates: int  # extra copies of (topic, partition, offset)
    corrupted: tuple[RecordRef, ...]  # archived content differs from what was produced (hash/key/headers)
    unexpected: tuple[RecordRef, ...]  # archived but never produced
    order_violations: tuple[str, ...]  # per partition, within each object: offsets not ascending
    latencies_ms: tuple[float, ...]  # per unique record: object delivery time - produce time
    objects: tuple[ArchiveObjectInfo, ...]
    bad_keys: tuple[str, ...]  # keys that break the expected pattern
    unreadable: tuple[str, ...]  # "key: reason" for objects/lines that failed to decode
    checks: tuple[CheckResult, ...]  # one per expectation in the scenario
    error_objects: tuple[ArchiveObjectInfo, ...] = ()  # objects under the error output prefix
    diverted: tuple[RecordRef, ...] = ()  # not archived, but named by the on-failure destination
    small_object_bytes: int = 1_048_576  # objects below this size count as small files
    archive_formats: tuple[str, ...] = ()  # "prefix/: format (N objects)", per key prefix and format

    @property
    def small_objects(self) -> tuple[ArchiveObjectInfo, ...]:
        """Data objects smaller than `small_object_bytes` (the small-file problem for Athena/Glue)."""
        return tuple(o for o in self.objects if o.size_bytes < self.small_object_bytes)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if not check.passed)

    @property
    def duplicates_percent(self) -> float:
        """Extra copies as a percentage of the unique records archived (0 when nothing was archived)."""
        return 100.0 * self.duplicates / self.unique_archived if self.unique_archived else 0.0

    @property
    def objects_per_hour(self) -> Mapping[str, int]:
        """Object count per hour prefix ("2026/07/13/14"); keys outside the pattern count under "?"."""
        return dict(sorted(Counter(o.hour_prefix or "?" for o in self.objects).items()))

    def latency_ms(self, quantile: float) -> float | None:
        """End-to-end latency at `quantile` (0..1, nearest rank), None without latencies."""
        return percentile(self.latencies_ms, quantile)
