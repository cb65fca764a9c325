"""What to replay (pure): the S3 location, the time range, and the record filters.

`--since` is inclusive and `--until` exclusive, both on the Kafka record timestamp (epoch ms). A date alone
means its midnight for `--since` and the end of that day for `--until` (so `--since 2026-07-13 --until
2026-07-13` is that whole day). `--where` is a JMESPath expression over the record value parsed as JSON; a
value that is not JSON (binary, tombstone, invalid) never matches and is counted as `where_not_json`.

Example::

    selection = Selection(topics=frozenset({"orders"}), where="status == 'paid'")
    record_filter = RecordFilter(selection)
    reason = record_filter.reject_reason(record)  # None = selected
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jmespath  # type: ignore[import-untyped]  # ships with boto3; no stubs
import jmespath.exceptions  # type: ignore[import-untyped]

FILTER_NAMES = ("topic", "partition", "key", "time", "where", "where_not_json")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class SelectionError(ValueError):
    """A bad selection argument; the message says which and why."""


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix ("" = the whole bucket)."""

    bucket: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse_s3_uri(text: str) -> S3Location:
    """`s3://bucket/prefix` (prefix optional) as an S3Location."""
    if not text.startswith("s3://"):
        raise SelectionError(f"{text!r} is not an s3://bucket/prefix URI")
    bucket, _, prefix = text[len("s3://") :].partition("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
        raise SelectionError(f"{bucket!r} in {text!r} is not a valid S3 bucket name")
    return S3Location(bucket, prefix)


def parse_instant(text: str, *, end_of_day: bool = False) -> datetime:
    """An aware UTC instant from ISO-8601 (`Z` or offset) or a date (its midnight; `end_of_day`: the next)."""
    raw = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError as exc:
            raise SelectionError(f"{text!r} is not a date: {exc}") from None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise SelectionError(
            f"{text!r} is not an ISO-8601 instant (e.g. 2026-07-13T14:00:00Z) or a date (2026-07-13)"
        ) from None
    if instant.tzinfo is None:
        raise SelectionError(f"{text!r} has no time zone: add Z or an offset such as +02:00")
    return instant.astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    """`90m`, `1h`, `30s`, `250ms`, `2d` or bare seconds, as a non-negative timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise SelectionError(f"{text!r} is not a duration (e.g. 1h, 90m, 30s)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"])


def epoch_ms(instant: datetime) -> int:
    """Epoch milliseconds of an aware instant."""
    return int(instant.timestamp() * 1000)


@dataclass(frozen=True)
class TimeRange:
    """[since, until) on the record timestamp; None = unbounded."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise SelectionError(
                f"--until {self.until.isoformat()} is not after --since {self.since.isoformat()}"
            )

    @property
    def bounded(self) -> bool:
        """True when either end is set."""
        return self.since is not None or self.until is not None

    def contains(self, timestamp_ms: int) -> bool:
        """True when a record timestamp (epoch ms) lies in the range."""
        if self.since is not None and timestamp_ms < epoch_ms(self.since):
            return False
        return self.until is None or timestamp_ms < epoch_ms(self.until)


@dataclass(frozen=True)
class Selection:
    """Every filter: empty sets and None mean "no filter"."""

    topics: frozenset[str] = frozenset()
    partitions: frozenset[int] = frozenset()
    keys: frozenset[bytes] = frozenset()
    where: str | None = None
    time: TimeRange = field(default_factory=TimeRange)

    def describe(self) -> dict[str, Any]:
        """The selection as JSON-friendly data for the report."""
        return {
            "topics": sorted(self.topics),
            "partitions": sorted(self.partitions),
            "keys": sorted(k.decode("utf-8", "backslashreplace") for k in self.keys),
            "where": self.where,
            "since": None if self.time.since is None else self.time.since.isoformat(),
            "until": None if self.time.until is None else self.time.until.isoformat(),
        }


def compile_where(expression: str) -> Any:
    """The compiled JMESPath expression; SelectionError with the parser's message when invalid."""
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise SelectionError(f"--where {expression!r} is not valid JMESPath: {exc}") from None


class RecordFilter:
    """Applies a Selection to archived records; the first filter that rejects a record names the reason."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self._where = None if selection.where is None else compile_where(selection.where)

    def reject_reason(self, record: Any) -> str | None:
        """None when `record` (an archive_format.ArchivedRecord) is selected, else one of FILTER_NAMES."""
        s = self.selection
        if s.topics and record.topic not in s.topics:
            return "topic"
        if s.partitions and record.partition not in s.partitions:
            return "partition"
        if s.keys and record.key not in s.keys:
            return "key"
        if s.time.bounded and not s.time.contains(record.timestamp):
            return "time"
        if self._where is None:
            return None
        document = _json_value(record.value)
        if document is _NOT_JSON:
            return "where_not_json"
        try:
            matched = self._where.search(document)
        except jmespath.exceptions.JMESPathError:  # e.g. a type error inside a function call
            return "where"
        return None if _truthy(matched) else "where"


_NOT_JSON = object()


def _json_value(value: bytes | None) -> Any:
    if value is None:
        return _NOT_JSON
    try:
        return json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _truthy(result: Any) -> bool:
    """JMESPath truthiness: false, null, empty string/list/object are false (0 is true)."""
    if result is None or result is False:
        return False
    if isinstance(result, (str, list, dict)):
        return len(result) > 0
    return True
