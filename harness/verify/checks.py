"""One CheckResult per expectation of a scenario (harness/scenario/model.py `Expectations`).

* `no_loss` (if `no_loss`): every acknowledged record is archived or named by the on-failure destination,
  judged on what could be read.
* `archive_readable` (always): every object and line read in the archive format; what did not is named
  (`key line N: reason`) and is not counted as lost.
* `no_corruption` (always): every archived copy has the produced key, headers, value hash and size, and
  nothing archived is missing from the ledger. Values are compared by SHA-256, not byte for byte.
* `duplicates`: extra copies / unique archived records <= `max_duplicates_percent`.
* `order_per_partition` (if true): within each object, offsets ascend per partition. Across objects order is
  not defined by Firehose, so it is not checked.
* `latency_<p50|p90|p99|max|pNN>`: the nearest-rank percentile of produce -> delivery is within the limit.
  Without a delivery log, S3 LastModified (1 s resolution, wall clock) is the delivery time.
* `object_count` / `object_size_bytes`: the data object count / every data object's size lies in the range
  (error objects are not counted).
* `key_pattern` (always): every data key fully matches `key_pattern` (default: the project's hive layout).
* `error_prefix_empty`: true means no error objects, false means at least one.
* `on_failure_records`: the destination's record count (sum of batchSize) lies in the range, every entry
  readable.
* `on_failure_keys`: every listed key is among the destination's records (for SQS/SNS, which carry only
  offsets, keys come from the ledger).

Lost and corrupted records are named in the details, `topic-partition@offset (key=..., sha256=...)`, the first
`MAX_DETAILS` of them and a count of the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from harness.scenario.model import CountRange, Expectations
from harness.verify.destination import FailureSummary
from harness.verify.latency import percentile, quantile_for
from harness.verify.result import ArchiveObjectInfo, CheckResult, LedgerMatch, RecordRef

MAX_DETAILS = 20
DEFAULT_SMALL_OBJECT_BYTES = 1_048_576
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_HIVE = re.compile(r"(?:^|/)year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/")
_PLAIN = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/")


def hive_key_pattern(stream_name: str | None = None, extension: str = ".gz", prefix: str = "data/") -> str:
    """Regex for `<prefix>year=YYYY/month=MM/day=DD/hour=HH/<stream>-<version>-<time>-<uuid><extension>`."""
    stream = re.escape(stream_name) if stream_name else r"[A-Za-z0-9_.-]+"
    return (
        re.escape(prefix)
        + r"year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/"
        + stream
        + r"-\d+-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-"
        + _UUID
        + re.escape(extension)
    )


HIVE_KEY_PATTERN = hive_key_pattern()


def hour_prefix(key: str) -> str | None:
    """The hour as "2026/07/13/14" from a hive (`year=2026/...`) or default (`2026/07/13/14/`) key."""
    found = _HIVE.search(key) or _PLAIN.search(key)
    return "/".join(found.groups()) if found else None


@dataclass(frozen=True)
class CheckInputs:
    """What the checks read: the ledger match plus the archive's objects and the destination summary."""

    produced: int
    match: LedgerMatch
    lost: tuple[RecordRef, ...]
    diverted: tuple[RecordRef, ...]
    objects: tuple[ArchiveObjectInfo, ...]
    error_objects: tuple[ArchiveObjectInfo, ...]
    unreadable: tuple[str, ...]
    failures: FailureSummary
    default_key_pattern: str | None = None


def _first(items: Iterable[str], total: int) -> tuple[str, ...]:
    shown: list[str] = []
    for item in items:
        if len(shown) == MAX_DETAILS:
            break
        shown.append(item)
    if total > len(shown):
        shown.append(f"... and {total - len(shown)} more")
    return tuple(shown)


def describe_range(bounds: CountRange, unit: str = "") -> str:
    """`1..100`, `>= 1` or `<= 100` (with an optional unit)."""
    suffix = f" {unit}" if unit else ""
    low, high = bounds.minimum, bounds.maximum
    if low is not None and high is not None:
        return f"{low:g}..{high:g}{suffix}"
    if low is not None:
        return f">= {low:g}{suffix}"
    if high is not None:
        return f"<= {high:g}{suffix}"
    return "any"


def check_no_loss(inputs: CheckInputs) -> CheckResult:
    """Every acknowledged record archived (or diverted to the destination), judged on what was readable."""
    lost, unreadable = inputs.lost, inputs.unreadable
    actual = f"{len(lost)} lost of {inputs.produced} produced"
    if inputs.diverted:
        actual += f", {len(inputs.diverted)} in the on-failure destination"
    if unreadable:
        actual += f" (of what was readable; {len(unreadable)} unreadable, see archive_readable)"
    details = _first((f"lost {r.describe()}" for r in lost), len(lost))
    return CheckResult("no_loss", not lost, "0 lost", actual, details)


def check_readable(inputs: CheckInputs) -> CheckResult:
    """Every archived object and line read in its format (unreadable is not counted as lost)."""
    unreadable = inputs.unreadable
    details = _first((f"unreadable {u}" for u in unreadable), len(unreadable))
    actual = f"{len(unreadable)} unreadable object(s)/line(s)"
    return CheckResult("archive_readable", not unreadable, "0 unreadable", actual, details)


def check_no_corruption(inputs: CheckInputs) -> CheckResult:
    """Archived content equals what was produced; nothing archived that was never produced."""
    corrupted, unexpected = inputs.match.corrupted, inputs.match.unexpected
    details = _first((f"corrupted {r.describe()}: {why}" for r, why in corrupted), len(corrupted))
    details += _first((f"unexpected {r.describe()}" for r in unexpected), len(unexpected))
    actual = f"{len(corrupted)} corrupted, {len(unexpected)} unexpected"
    return CheckResult(
        "no_corruption", not corrupted and not unexpected, "0 corrupted, 0 unexpected", actual, details
    )


def check_duplicates(inputs: CheckInputs, max_percent: float) -> CheckResult:
    """Extra copies as a share of unique archived records."""
    unique, extra = inputs.match.unique_archived, inputs.match.duplicates
    percent = 100.0 * extra / unique if unique else 0.0
    actual = f"{percent:.3f} % ({extra} extra copies of {unique} records)"
    return CheckResult("duplicates", percent <= max_percent, f"<= {max_percent:g} %", actual)


def check_order(inputs: CheckInputs) -> CheckResult:
    """Offsets ascend per partition within each object."""
    violations = inputs.match.order_violations
    return CheckResult(
        "order_per_partition",
        not violations,
        "offsets ascending per partition within each object",
        f"{len(violations)} violation(s)",
        _first(violations, len(violations)),
    )


def check_latency(inputs: CheckInputs, name: str, limit_seconds: float) -> CheckResult:
    """Percentile `name` of end-to-end latency within `limit_seconds`."""
    latencies = inputs.match.latencies_ms
    value = percentile(latencies, quantile_for(name))
    expected = f"<= {limit_seconds:g} s"
    if value is None:
        return CheckResult(f"latency_{name}", False, expected, "no archived record has a delivery time")
    actual = f"{value / 1000:.3f} s over {len(latencies)} records"
    details: tuple[str, ...] = ()
    if inputs.match.undelivered_time:
        details = (f"{inputs.match.undelivered_time} archived records had no delivery time",)
    return CheckResult(f"latency_{name}", value <= limit_seconds * 1000, expected, actual, details)


def check_object_count(inputs: CheckInputs, bounds: CountRange) -> CheckResult:
    """Data object count in range."""
    count = len(inputs.objects)
    return CheckResult("object_count", bounds.contains(count), describe_range(bounds), str(count))


def check_object_sizes(inputs: CheckInputs, bounds: CountRange) -> CheckResult:
    """Every data object's size in range."""
    sizes = [o.size_bytes for o in inputs.objects]
    outside = [o for o in inputs.objects if not bounds.contains(o.size_bytes)]
    actual = f"{min(sizes)}..{max(sizes)} bytes over {len(sizes)} objects" if sizes else "no objects"
    details = _first((f"{o.key}: {o.size_bytes} bytes" for o in outside), len(outside))
    return CheckResult("object_size_bytes", not outside, describe_range(bounds, "bytes"), actual, details)


def check_key_pattern(inputs: CheckInputs, pattern: str) -> tuple[CheckResult, tuple[str, ...]]:
    """Every data object key fully matches `pattern`; also returns the keys that do not."""
    compiled = re.compile(pattern)
    bad = tuple(o.key for o in inputs.objects if not compiled.fullmatch(o.key))
    actual = f"{len(bad)} of {len(inputs.objects)} keys do not match"
    return CheckResult(
        "key_pattern", not bad, f"every key matches {pattern}", actual, _first(bad, len(bad))
    ), bad


def check_error_prefix(inputs: CheckInputs, empty: bool) -> CheckResult:
    """Nothing (or something) under the error output prefix."""
    count = len(inputs.error_objects)
    passed = count == 0 if empty else count > 0
    details = _first((o.key for o in inputs.error_objects), count)
    expected = "no error objects" if empty else "at least one error object"
    return CheckResult("error_prefix_empty", passed, expected, f"{count} error object(s)", details)


def check_on_failure_records(inputs: CheckInputs, bounds: CountRange) -> CheckResult:
    """The destination's record count in range, and every entry readable."""
    failures = inputs.failures
    passed = bounds.contains(failures.records) and not failures.problems
    actual = f"{failures.records} records in {len(failures.identities)} identities"
    details = _first(failures.problems, len(failures.problems))
    return CheckResult("on_failure_records", passed, describe_range(bounds, "records"), actual, details)


def check_on_failure_keys(inputs: CheckInputs, keys: tuple[str, ...]) -> CheckResult:
    """Every listed key appears among the destination's records."""
    missing = [k for k in keys if k.encode("utf-8") not in inputs.failures.keys]
    actual = f"{len(keys) - len(missing)} of {len(keys)} keys found"
    details = tuple(f"missing key {k}" for k in missing)
    return CheckResult("on_failure_keys", not missing, f"keys {', '.join(keys)}", actual, details)


def build_checks(
    inputs: CheckInputs, expect: Expectations
) -> tuple[tuple[CheckResult, ...], tuple[str, ...]]:
    """The checks for `expect` (in Expectations order) and the keys that break the key pattern."""
    checks: list[CheckResult] = []
    if expect.no_loss:
        checks.append(check_no_loss(inputs))
    checks.append(check_readable(inputs))
    checks.append(check_no_corruption(inputs))
    checks.append(check_duplicates(inputs, expect.max_duplicates_percent))
    if expect.order_per_partition:
        checks.append(check_order(inputs))
    for name, limit in expect.latency_percentiles.items():
        checks.append(check_latency(inputs, name, float(limit)))
    if expect.object_count is not None:
        checks.append(check_object_count(inputs, expect.object_count))
    if expect.object_size_bytes is not None:
        checks.append(check_object_sizes(inputs, expect.object_size_bytes))
    pattern = expect.key_pattern or inputs.default_key_pattern or HIVE_KEY_PATTERN
    key_check, bad_keys = check_key_pattern(inputs, pattern)
    checks.append(key_check)
    if expect.error_prefix_empty is not None:
        checks.append(check_error_prefix(inputs, expect.error_prefix_empty))
    if expect.on_failure_records is not None:
        checks.append(check_on_failure_records(inputs, expect.on_failure_records))
    if expect.on_failure_keys:
        checks.append(check_on_failure_keys(inputs, expect.on_failure_keys))
    return tuple(checks), bad_keys
