"""Text shared by every report format: record names, sizes, durations, summary figures.

One home for how a lost record or a byte count reads, so the terminal, JUnit and HTML reports agree.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from harness.run.result import RunResult
from harness.verify.latency import percentile
from harness.verify.result import ArchiveObjectInfo, RecordRef, VerificationReport

MAX_NAMED_RECORDS = 20  # lost/corrupted records named in a report; the JSON keeps all of them


def named_records(refs: tuple[RecordRef, ...], limit: int = MAX_NAMED_RECORDS) -> list[str]:
    """The first `limit` records described, plus a line saying how many more there are."""
    lines = [ref.describe() for ref in refs[:limit]]
    if len(refs) > limit:
        lines.append(f"… and {len(refs) - limit} more")
    return lines


def named_in(refs: tuple[RecordRef, ...], details: Iterable[str]) -> bool:
    """True when `details` (a check's lines, e.g. "lost orders-2@1417 (…)") already name the first record."""
    return bool(refs) and any(refs[0].describe() in line for line in details)


def human_bytes(size: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def human_seconds(seconds: float) -> str:
    """75.5 -> '1m 15.5s'; 0.25 -> '0.25s'."""
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)}m {rest:.1f}s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)}h {int(minutes)}m {rest:.0f}s"


def status_word(result: RunResult) -> str:
    """PASSED, FAILED, or ERROR when the run could not complete."""
    if result.error is not None:
        return "ERROR"
    return "PASSED" if result.passed else "FAILED"


def header_line(result: RunResult) -> str:
    """Scenario, verdict, wall and clock time on one line."""
    speed = f" at {result.speed:g}x" if result.speed != 1 else ""
    return (
        f"{result.scenario_name}: {status_word(result)} — wall {human_seconds(result.wall_seconds)}, "
        f"clock {human_seconds(result.clock_seconds)}{speed}"
    )


@dataclass(frozen=True)
class ObjectStats:
    """Count and size figures of the archived objects."""

    count: int
    total_bytes: int
    min_bytes: int
    median_bytes: float
    max_bytes: int
    compressions: tuple[str, ...]
    hours: int


def object_stats(objects: tuple[ArchiveObjectInfo, ...]) -> ObjectStats:
    """Summarise the archive's objects (all zero for an empty archive)."""
    sizes = [obj.size_bytes for obj in objects]
    return ObjectStats(
        count=len(objects),
        total_bytes=sum(sizes),
        min_bytes=min(sizes, default=0),
        median_bytes=statistics.median(sizes) if sizes else 0.0,
        max_bytes=max(sizes, default=0),
        compressions=tuple(sorted({obj.compression for obj in objects})),
        hours=len({obj.hour_prefix for obj in objects if obj.hour_prefix is not None}),
    )


def summary_rows(result: RunResult) -> list[tuple[str, str]]:
    """The headline figures as (label, value) rows, in reading order."""
    report = result.verification
    stats = object_stats(report.objects)
    errors = ", ".join(f"{name} x{count}" for name, count in sorted(result.function_errors.items()))
    rows = [
        ("produced (acked by Kafka)", f"{report.produced:,}"),
        ("archived lines", f"{report.archived_records:,}"),
        ("unique archived", f"{report.unique_archived:,}"),
        ("lost", f"{len(report.lost):,}"),
        ("duplicates", f"{report.duplicates:,}"),
        ("corrupted", f"{len(report.corrupted):,}"),
        ("unexpected", f"{len(report.unexpected):,}"),
        ("order violations", f"{len(report.order_violations):,}"),
        ("invocations", f"{result.invocations:,} ({result.failed_invocations:,} failed)"),
        ("function errors", errors or "none"),
        *([("AWS endpoints", result.aws_endpoints.describe())] if result.aws_endpoints is not None else []),
        *([("function ran on", result.function_runs_on)] if result.function_runs_on else []),
        (
            "objects",
            f"{stats.count:,} in {stats.hours} hour prefix(es), {human_bytes(stats.total_bytes)} total"
            + (f", {'/'.join(stats.compressions)}" if stats.compressions else ""),
        ),
    ]
    if stats.count:
        rows.append(
            (
                "object size",
                f"min {human_bytes(stats.min_bytes)}, median {human_bytes(stats.median_bytes)}, "
                f"max {human_bytes(stats.max_bytes)}",
            )
        )
    if report.latencies_ms:
        rows.append(("end-to-end latency", latency_line(report)))
    if report.diverted:
        rows.append(("diverted to on-failure", f"{len(report.diverted):,}"))
    if report.objects:
        small = f"{len(report.small_objects):,} below {human_bytes(report.small_object_bytes)}"
        rows.append(("small objects", small))
    if report.error_objects:
        rows.append(("error-output objects", f"{len(report.error_objects):,}"))
    if report.bad_keys:
        rows.append(("keys off pattern", f"{len(report.bad_keys):,}"))
    if report.unreadable:
        rows.append(("unreadable", f"{len(report.unreadable):,}"))
    if report.archive_formats:
        rows.append(("archive read as", formats_line(report)))
    return rows


def formats_line(report: VerificationReport) -> str:
    """The formats the archive was read as, objects counted over every prefix: `value-lines (12 objects)`."""
    totals: dict[str, int] = {}
    for line in report.archive_formats:  # "prefix/: name (N objects)"
        name, _, count = line.rpartition(": ")[2].partition(" (")
        totals[name] = totals.get(name, 0) + int(count.split()[0])
    return ", ".join(f"{name} ({n} object{'s' * (n != 1)})" for name, n in sorted(totals.items()))


LATENCY_MARKS: tuple[tuple[str, float], ...] = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0))


def latency_marks(report: VerificationReport) -> list[tuple[str, float]]:
    """(label, milliseconds) for p50, p90, p99 and max; empty without latencies."""
    ordered = sorted(report.latencies_ms)  # sorted once: percentile's own sort of sorted data is linear
    marks = [(label, percentile(ordered, quantile)) for label, quantile in LATENCY_MARKS]
    return [(label, ms) for label, ms in marks if ms is not None]


def latency_line(report: VerificationReport) -> str:
    """'p50 1.20 s, p90 …, max …' in seconds."""
    return ", ".join(f"{label} {ms / 1000:.2f} s" for label, ms in latency_marks(report))
