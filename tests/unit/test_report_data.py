"""RunResults built by hand for the report tests, and tests of the shared report text (format.py)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from harness.report.format import (
    human_bytes,
    human_seconds,
    latency_marks,
    named_records,
    object_stats,
    status_word,
    summary_rows,
)
from harness.run.result import FaultEvent, RunResult, TimePoint
from harness.verify.result import ArchiveObjectInfo, CheckResult, RecordRef, VerificationReport

CLOCK_START = datetime(2026, 7, 13, 13, 55, 0, tzinfo=UTC)
STARTED_AT = datetime(2026, 11, 24, 21, 0, 5, tzinfo=UTC)
SPEED = 10.0
STARTUP = 2.0  # wall seconds the backends took to start before the timeline's t=0
TRICKY_CHECK = 'keys <&> "quoted" ünïcødé'

LOST = (
    RecordRef("orders", 2, 1417, b"k17", "ab12cd34ef56" + "0" * 52),
    RecordRef("orders", 0, 88, "clé-<&>".encode(), "ff00" * 16),
    RecordRef("orders", 1, 5, None, None),
)


def realistic_timeline(seconds: int = 600, step: int = 5, rate: float = 200.0) -> tuple[TimePoint, ...]:
    """Counters of a run that sends for 300 s with a broker outage from 120 to 150 s, then settles."""
    points: list[TimePoint] = []
    produced = invoked = archived = objects = 0
    rng = random.Random(3)
    for t in range(0, seconds + 1, step):
        if t > 0:
            sending = t <= 300
            outage = 120 < t <= 150
            if sending and not outage:
                produced += int(rate * step * (0.9 + 0.2 * rng.random()))
            if not outage:  # the function keeps up with 0.8x the send rate, so lag builds and drains
                invoked = min(produced, invoked + int(rate * step * 0.8))
            if t % 60 == 0:
                archived, objects = invoked, objects + 1
        points.append(TimePoint(float(t), produced, invoked, archived, produced - invoked, objects))
    return tuple(points)


def realistic_objects(count: int = 10) -> tuple[ArchiveObjectInfo, ...]:
    """Objects delivered once a minute across an hour boundary."""
    objects = []
    for index in range(count):
        delivered = CLOCK_START + timedelta(seconds=60 * (index + 1))  # clock time, as in the key
        hour = delivered.strftime("%Y/%m/%d/%H")
        # S3 stamps its own wall clock in whole seconds; the timeline starts STARTUP wall seconds after
        # STARTED_AT and runs at SPEED x
        last_modified = STARTED_AT + timedelta(seconds=int(STARTUP + 60 * (index + 1) / SPEED))
        objects.append(
            ArchiveObjectInfo(
                key=f"data/year={hour[:4]}/month={hour[5:7]}/day={hour[8:10]}/hour={hour[11:]}/obj-{index}.gz",
                size_bytes=40_000 + 9_000 * (index % 4),
                record_count=12_000 + index,
                compression="GZIP",
                last_modified=last_modified,
                hour_prefix=hour,
            )
        )
    return tuple(objects)


def make_report(*, passed: bool, checks: tuple[CheckResult, ...] | None = None) -> VerificationReport:
    """A verification report; a failing one has lost records and a failing loss check."""
    rng = random.Random(11)
    latencies = tuple(1000 * (5 + rng.expovariate(1 / 20)) for _ in range(2000))
    lost = () if passed else LOST
    if checks is None:
        named = tuple(f"lost {ref.describe()}" for ref in lost)  # as harness.verify.checks words them
        checks = (
            CheckResult("no_loss", passed, "0 lost", f"{len(lost)} lost", named),
            CheckResult("duplicates", True, "<= 1.0 %", "0.20 %"),
            CheckResult("latency_p99", True, "<= 300 s", "97.1 s"),
            CheckResult(TRICKY_CHECK, passed, "key matches <data/…>", "all" if passed else "1 key & more"),
        )
    return VerificationReport(
        produced=60_000,
        archived_records=60_120 - len(lost),
        unique_archived=60_000 - len(lost),
        lost=lost,
        duplicates=120,
        corrupted=(),
        unexpected=(),
        order_violations=(),
        latencies_ms=latencies,
        objects=realistic_objects(),
        bad_keys=() if passed else ("weird/<key>&.gz",),
        unreadable=(),
        checks=checks,
    )


def make_result(*, passed: bool = True, error: str | None = None, name: str = "smoke") -> RunResult:
    """A realistic RunResult: 600 clock seconds at 10x, one broker kill, objects every minute."""
    return RunResult(
        scenario_name=name,
        scenario_path=f"scenarios/{name}.yaml",
        started_at=STARTED_AT,
        clock_start=CLOCK_START,
        speed=SPEED,
        wall_seconds=STARTUP + 600.0 / SPEED,
        clock_seconds=600.0,
        timeline=realistic_timeline(),
        faults=(
            FaultEvent(120.0, "broker 0 kill (line 31)", True),
            FaultEvent(150.0, "broker 0 restart (line 33)", passed),
        ),
        invocations=412,
        failed_invocations=3,
        function_errors={"Runtime.ExitError": 2, "Sandbox.Timedout": 1},
        verification=make_report(passed=passed),
        error=error,
    )


def empty_result(error: str) -> RunResult:
    """A run that failed before anything was produced or verified."""
    report = VerificationReport(0, 0, 0, (), 0, (), (), (), (), (), (), (), ())
    return replace(
        make_result(),
        timeline=(),
        faults=(),
        invocations=0,
        failed_invocations=0,
        function_errors={},
        verification=report,
        error=error,
    )


def test_status_word_tells_passed_failed_and_error() -> None:
    assert status_word(make_result(passed=True)) == "PASSED"
    assert status_word(make_result(passed=False)) == "FAILED"
    assert status_word(make_result(passed=True, error="kafka did not start")) == "ERROR"


def test_named_records_lists_the_first_and_counts_the_rest() -> None:
    refs = tuple(RecordRef("t", 0, offset, b"k", "aa" * 32) for offset in range(25))
    lines = named_records(refs, limit=20)
    assert len(lines) == 21
    assert lines[0].startswith("t-0@0 (key=k")
    assert lines[-1] == "… and 5 more"
    assert named_records(LOST)[2] == "orders-1@5 (key=null, sha256=tombstone)"


def test_human_units() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"
    assert human_seconds(0.25) == "0.25s"
    assert human_seconds(75.5) == "1m 15.5s"
    assert human_seconds(3 * 3600 + 62) == "3h 1m 2s"


def test_object_stats_and_latency_marks() -> None:
    report = make_report(passed=True)
    stats = object_stats(report.objects)
    assert stats.count == 10
    assert stats.min_bytes == 40_000
    assert stats.max_bytes == 67_000
    assert stats.hours == 2  # 13:56 .. 14:05 crosses the hour
    assert stats.compressions == ("GZIP",)
    marks = dict(latency_marks(report))
    assert list(marks) == ["p50", "p90", "p99", "max"]
    assert marks["p50"] <= marks["p90"] <= marks["p99"] <= marks["max"]
    assert marks["max"] == max(report.latencies_ms)
    assert object_stats(()).count == 0
    assert latency_marks(replace(report, latencies_ms=())) == []


def test_summary_rows_carry_the_figures() -> None:
    rows = dict(summary_rows(make_result(passed=False)))
    assert rows["lost"] == "3"
    assert rows["produced (acked by Kafka)"] == "60,000"
    assert rows["function errors"] == "Runtime.ExitError x2, Sandbox.Timedout x1"
    assert rows["keys off pattern"] == "1"
    assert "p99" in rows["end-to-end latency"]


def test_summary_says_which_interpreter_ran_the_function() -> None:
    assert "function ran on" not in dict(summary_rows(make_result()))  # not known: no line
    ran = "python3.12 on CPython 3.11.7 (/usr/bin/python3.11) (no Python 3.12 installed; using the harness's)"
    rows = dict(summary_rows(replace(make_result(), function_runs_on=ran)))
    assert rows["function ran on"] == ran
