"""A scenario's `replay:` section: after the archive is verified, replay a selection of it into a FRESH
embedded Kafka (its own JVM, so nothing of the source cluster can leak into the result); outcome -> checks.

Times in the section are relative: `since_seconds`/`until_seconds` count from the earliest archived record
timestamp, since a run's absolute instants are not known when the scenario is written.

Checks added to the run's report: `replay_complete` (every selected record produced; nothing unreadable,
conflicting or unreplayable), `replay_byte_identical`, `replay_order`, and `replay_selected` /
`replay_duplicates_removed` when the section expects counts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.clock import Clock
from harness.replay.engine import ReplayRequest, read_plan, run_replay
from harness.replay.report import ReplayReport
from harness.replay.selection import S3Location, Selection, TimeRange
from harness.scenario.model import CountRange, ReplaySpec
from harness.verify.result import CheckResult

FIRST = 5  # details named per failed check


def _range_text(expected: CountRange) -> str:
    low = "" if expected.minimum is None else f">= {expected.minimum:g}"
    high = "" if expected.maximum is None else f"<= {expected.maximum:g}"
    return " and ".join(x for x in (low, high) if x)


def _time_range(spec: ReplaySpec, s3_client: Any, request: ReplayRequest) -> TimeRange:
    if spec.since_seconds is None and spec.until_seconds is None:
        return TimeRange()
    everything, _ = read_plan(s3_client, replace(request, selection=Selection()))
    first = min((located.record.timestamp for located in everything.records), default=0)
    origin = datetime.fromtimestamp(first / 1000, UTC)
    since = None if spec.since_seconds is None else origin + timedelta(seconds=spec.since_seconds)
    until = None if spec.until_seconds is None else origin + timedelta(seconds=spec.until_seconds)
    return TimeRange(since, until)


def replay_request(spec: ReplaySpec, s3_client: Any, bucket: str, error_prefix: str | None) -> ReplayRequest:
    """The request a scenario's replay section describes (times resolved against the archive)."""
    request = ReplayRequest(
        S3Location(bucket, ""),
        Selection(),
        target_topic=spec.to_topic,
        preserve_partition=spec.preserve_partition,
        error_prefix=error_prefix,
    )
    selection = Selection(
        topics=frozenset(spec.topics),
        partitions=frozenset(spec.partitions),
        keys=frozenset(k.encode("utf-8") for k in spec.keys),
        where=spec.where,
        time=_time_range(spec, s3_client, request),
    )
    return replace(request, selection=selection)


def replay_checks(report: ReplayReport, spec: ReplaySpec) -> tuple[CheckResult, ...]:
    """The checks a finished replay gives (pure)."""
    plan, check = report.plan, report.check
    problems = [
        *(f"unreadable {u}" for u in report.read.unreadable),
        *(f"conflict {c.describe()}" for c in plan.conflicts),
        *(f"unreplayable {u}" for u in report.unreplayable),
    ]
    complete = report.produced == plan.selected and not problems
    checks = [
        CheckResult(
            "replay_complete",
            complete,
            f"all {plan.selected} selected produced, nothing unreadable",
            f"{report.produced} produced, {len(problems)} problem(s)",
            tuple(problems[:FIRST]),
        )
    ]
    if check is None:
        checks.append(CheckResult("replay_byte_identical", False, "verified", "no verification ran"))
    else:
        wrong = (*check.mismatches, *check.unexpected)
        checks.append(
            CheckResult(
                "replay_byte_identical",
                check.verified == check.sent and not check.unexpected,
                f"{check.sent} identical, nothing else in the target",
                f"{check.verified} identical, {len(check.mismatches)} differ, "
                f"{len(check.unexpected)} unexpected",
                tuple(wrong[:FIRST]),
            )
        )
        checks.append(
            CheckResult(
                "replay_order",
                not check.order_violations,
                "source offset order in each target partition",
                f"{len(check.order_violations)} violation(s)",
                check.order_violations[:FIRST],
            )
        )
    for name, expected, actual in (
        ("replay_selected", spec.selected, plan.selected),
        ("replay_duplicates_removed", spec.duplicates_removed, plan.duplicates_removed),
    ):
        if expected is not None:
            checks.append(CheckResult(name, expected.contains(actual), _range_text(expected), str(actual)))
    return tuple(checks)


def run_scenario_replay(
    spec: ReplaySpec, s3_client: Any, bucket: str, error_prefix: str | None, clock: Clock
) -> tuple[CheckResult, ...]:
    """Replay into a fresh 1-broker embedded Kafka (started and stopped here) and return the checks."""
    try:
        request = replay_request(spec, s3_client, bucket, error_prefix)
        with EmbeddedKafka(brokers=1) as kafka:
            report = run_replay(s3_client, kafka.bootstrap_servers, request, clock=clock, target_name="fresh")
    except Exception as exc:  # noqa: BLE001 - a failed replay is a failed check, not a crashed run
        error = f"{type(exc).__name__}: {exc}"
        return (CheckResult("replay_complete", False, "the replay runs", "failed", (error,)),)
    return replay_checks(report, spec)
