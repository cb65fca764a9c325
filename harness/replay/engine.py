"""Replay orchestration: list (with key pruning) -> fetch -> decode -> select/dedupe -> produce -> verify.

The selected records are held in memory (one `ArchivedRecord` each, plus a 32-byte digest per identity seen)
so that duplicates and conflicts are settled before anything is produced and `--strict` can refuse without
side effects. That bounds a replay by memory: roughly the selected bytes plus ~150 bytes per archived record.

Example::

    request = ReplayRequest(parse_s3_uri("s3://archive/data/"), Selection(), target_topic="orders-replay")
    report = run_replay(s3_client, "127.0.0.1:9092", request, clock=SystemClock())
    sys.exit(report.exit_code)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, timedelta, tzinfo
from typing import Any

from harness.clock import Clock
from harness.replay.compare import compare
from harness.replay.keyspace import KeyWindow
from harness.replay.listing import Listing, list_archive
from harness.replay.plan import Planner, ReplayPlan, describe_record
from harness.replay.report import ReadSummary, ReplayReport
from harness.replay.selection import RecordFilter, S3Location, Selection
from harness.replay.target import TargetTopic, record_size, source_partition_count, unreplayable_reason
from harness.replay.why import nothing_selected
from harness.verify.archive import (
    ArchiveDecoder,
    Unreadable,
    error_roots,
    fetch_objects,
    load_archive_format,
)

DEFAULT_LATE_ARRIVAL = timedelta(hours=1)
PhaseProgress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class ReplayRequest:
    """Everything a replay needs to know besides the clients."""

    source: S3Location
    selection: Selection
    target_topic: str
    preserve_partition: bool = False
    late_arrival: timedelta = DEFAULT_LATE_ARRIVAL
    key_time_zone: tzinfo = UTC
    error_prefix: str | None = None  # the stream's ErrorOutputPrefix; None = Firehose's default error roots
    strict: bool = False
    dry_run: bool = False
    max_workers: int = 8
    notes: tuple[str, ...] = field(default=())


def key_window(request: ReplayRequest) -> KeyWindow | None:
    """The arrival window keys may fall in, or None without a time range (no pruning)."""
    time = request.selection.time
    if not time.bounded:
        return None
    latest = None if time.until is None else time.until + request.late_arrival
    return KeyWindow(time.since, latest, request.key_time_zone)


def _pruning_words(listing: Listing, window: KeyWindow | None, request: ReplayRequest) -> str:
    if window is None:
        return "off (no --since/--until): every object under the prefix was listed"
    layouts = " and ".join(sorted(listing.layouts)) or "none"
    words = (
        f"on: time layouts seen: {layouts}; {len(listing.pruned_prefixes)} prefix(es) skipped; "
        f"late-arrival slack {request.late_arrival}; key time zone {request.key_time_zone}"
    )
    if listing.unpatterned_objects:
        words += (
            f"; {listing.unpatterned_objects} object(s) have no year=/month=/day=/hour= or YYYY/MM/DD/HH "
            "prefix: read them all and filtered by record timestamp"
        )
    return words


def read_plan(
    s3_client: Any, request: ReplayRequest, on_progress: PhaseProgress | None = None
) -> tuple[ReplayPlan, ReadSummary]:
    """List, fetch, decode and select: the plan and what reading the archive found. Raises ListingError."""
    fmt = load_archive_format()
    roots = error_roots(request.error_prefix)
    window = key_window(request)
    listing = list_archive(
        s3_client, request.source.bucket, request.source.prefix, window, error_prefixes=roots
    )
    entries = listing.entries
    decoder = ArchiveDecoder(fmt, roots)
    planner = Planner(RecordFilter(request.selection), fmt)

    def fetched(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress("reading", done, total)

    for item in fetch_objects(
        s3_client, request.source.bucket, entries, max_workers=request.max_workers, on_progress=fetched
    ):
        decoded = decoder.decode(item)
        for located in decoded.records:
            planner.add(located)
        if decoded.values:  # content-only formats (value-lines, ...) carry no topic/partition/offset
            reason = f"read as {decoded.archive_format}: {len(decoded.values)} record(s) without coordinates"
            decoder.unreadable.append(Unreadable(item.key, reason + " cannot be replayed"))
    unreadable = decoder.finish()
    summary = ReadSummary(
        pruning=_pruning_words(listing, window, request),
        objects_listed=len(entries) + listing.error_objects,
        objects_read=len(entries),
        pruned_prefixes=tuple(listing.pruned_prefixes),
        error_objects_skipped=listing.error_objects,
        unpatterned_objects=listing.unpatterned_objects,
        unreadable=tuple(str(u) for u in unreadable),
    )
    return planner.plan(), summary


def run_replay(
    s3_client: Any,
    bootstrap_servers: str,
    request: ReplayRequest,
    *,
    clock: Clock,
    target_name: str | None = None,
    on_progress: PhaseProgress | None = None,
) -> ReplayReport:
    """Replay the selection into `request.target_topic` on `bootstrap_servers` and verify it."""
    started_at, origin = clock.now(), clock.monotonic()
    plan, summary = read_plan(s3_client, request, on_progress)
    unreplayable = []
    records = []
    for located in plan.records:
        reason = unreplayable_reason(located.record)
        if reason is None:
            records.append(located)
        else:
            unreplayable.append(
                f"{describe_record(located.record)} ({located.key} line {located.line}): {reason}"
            )
    report = ReplayReport(
        source=str(request.source),
        target=target_name or bootstrap_servers,
        target_topic=request.target_topic,
        selection=request.selection.describe(),
        preserve_partition=request.preserve_partition,
        dry_run=request.dry_run,
        strict=request.strict,
        started_at=started_at,
        read=summary,
        plan=plan,
        unreplayable=tuple(unreplayable),
        notes=request.notes + nothing_selected(plan, summary, request.selection, str(request.source)),
    )
    if request.dry_run or (request.strict and report.problems):
        return _finished(report, clock, origin)
    sources = [located.record for located in records]
    with TargetTopic(
        bootstrap_servers, request.target_topic, preserve_partition=request.preserve_partition
    ) as target:
        before = target.prepare(
            source_partitions=source_partition_count(sources),
            largest_record=max((record_size(r) for r in sources), default=0),
        )

        def sent(done: int, total: int) -> None:
            if on_progress is not None:
                on_progress("producing", done, total)

        placements = target.produce(sources, on_progress=sent)
        if on_progress is not None:
            on_progress("verifying", 0, len(sources))
        consumed = target.read_range(before, target.end_offsets())
    check = compare(
        records,
        placements,
        consumed,
        preserve_partition=request.preserve_partition,
        target_topic=request.target_topic,
    )
    return _finished(replace(report, produced=len(placements), check=check), clock, origin)


def _finished(report: ReplayReport, clock: Clock, origin: float) -> ReplayReport:
    return replace(report, seconds=clock.monotonic() - origin)
