"""Runs one scenario end to end: start the pipeline, drive the load and the fault timeline, settle, verify.

Sequence: start `Pipeline` (stack, topic, bucket, Firehose stream, function runtime, ESM) -> send the load on
the scenario's clock while the fault timeline fires and a probe samples the counters -> wait until settled
(every produced record committed, nothing left in Firehose, no timed fault still to come) or until
`expect.settle_seconds` of clock time after the last send -> read the archive and verify -> stop everything
in reverse order (also on Ctrl-C / SIGTERM, which arrive here as exceptions from the CLI's handlers).

The buffer interval is never cut short: Firehose delivers when the scenario's clock says the interval has
passed, so a 900-second interval is fast only because the scenario runs its clock fast.

Example::

    scenario = load_scenario("scenarios/smoke.yaml")
    result = run_scenario(scenario, RunOptions())
    print(result.passed, result.verification.lost)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.backends.s3_files import download_bucket
from harness.clock import Clock, ScaledClock, SystemClock
from harness.clock_stalls import StallAwareClock, process_meter
from harness.faults import FaultTimeline, PipelineInjectors
from harness.intercept.session import EndpointUse
from harness.load import LoadGenerator, LoadSummary, PayloadGenerator
from harness.progress import NullProgress, Progress, Snapshot
from harness.run.pipeline import Pipeline
from harness.run.probe import PipelineProbe
from harness.run.result import RunDiagnostics, RunResult, TimePoint, Usage
from harness.run.settle import SettleWatch, firehose_grace
from harness.run.usage import collect_usage
from harness.runtime.failures import FunctionErrorReason
from harness.scenario.model import Scenario
from harness.verify.archive import read_archive
from harness.verify.ledger import verify
from harness.verify.produced import Ledger
from harness.verify.rate_check import check_rate_held, rate_held_enabled
from harness.verify.result import ArchiveSnapshot, VerificationReport
from harness.verify.scenario import format_choice

TICK_WALL_SECONDS = 0.1  # how often the timeline and the settle check look (real time)
SAMPLE_WALL_SECONDS = 0.5  # how often a TimePoint is recorded (real time)
MAX_TIMELINE_POINTS = 2000
FUNCTION_LOG_DIR = "functions"  # under the report directory: one log file per execution environment


@dataclass(frozen=True)
class RunOptions:
    """How to run: backend override, progress display, wall clock, where relative code dirs resolve."""

    backend: str | None = None  # embedded | docker | external for Kafka and S3; None = the scenario's
    progress: Progress = field(default_factory=NullProgress)
    wall_clock: Clock = field(default_factory=SystemClock)
    cwd: Path | None = None
    code_dir: Path | None = None  # replaces the scenario's function code_dir (tests, the pytest plugin)
    function_log_dir: Path | None = None  # keep each environment's log here (None: removed after the run)
    keep_archive: Path | None = None  # replaces the scenario's keep_archive directory


class RunInterruptedError(Exception):
    """The run was interrupted (Ctrl-C / SIGTERM); everything was stopped."""


class _StoppedEarlyError(Exception):
    """The function's fail-fast rule held (harness.runtime.failures): stop sending and settling."""


def scenario_clock(scenario: Scenario) -> ScaledClock:
    """The scenario's clock: its start instant (default now) at its speed."""
    return ScaledClock(start=scenario.clock.start, speed=scenario.clock.speed)


class RunClock:
    """The scenario's clock, which `begin()` sets back to the scenario's start instant once the stack is up.

    Starting the stack takes real seconds, which a fast clock multiplies (3 s at 20x is a minute): without the
    reset, a run meant to start at 23:59:50 would send its first record after midnight. `monotonic()` keeps
    counting through the reset, so deadlines and intervals are never disturbed; only `now()` jumps back.
    """

    def __init__(self, start: datetime | None, speed: float) -> None:
        self.speed = speed
        self._start = start
        self._state = (0.0, StallAwareClock(start=start, speed=speed))  # (monotonic offset, current clock)

    def begin(self) -> None:
        """Restart `now()` at the scenario's start instant (or real now when it has none)."""
        offset, clock = self._state
        self._state = (offset + clock.monotonic(), StallAwareClock(start=self._start, speed=self.speed))

    @property
    def stall_share(self) -> Any:
        """This process's stall total in shared memory, for a child that follows this clock (`portable`)."""
        return process_meter().shared

    def portable(self) -> ScaledClock:
        """The current clock as a plain `ScaledClock` a child process can follow (same `now()` from here on).

        A child given `stall_share` too stands still while this process stalls, as this clock does.
        """
        _, clock = self._state
        return ScaledClock(start=clock.now(), speed=self.speed)

    def monotonic(self) -> float:
        """Scaled seconds since the clock was made (continuous across `begin`)."""
        offset, clock = self._state
        return offset + clock.monotonic()

    def now(self) -> datetime:
        """The scenario instant."""
        return self._state[1].now()

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of scaled time."""
        self._state[1].sleep(seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait with a scaled timeout."""
        return self._state[1].wait(event, timeout)


def empty_report(produced: int) -> VerificationReport:
    """The report of a run that never got to verification."""
    return VerificationReport(
        produced=produced,
        archived_records=0,
        unique_archived=0,
        lost=(),
        duplicates=0,
        corrupted=(),
        unexpected=(),
        order_violations=(),
        latencies_ms=(),
        objects=(),
        bad_keys=(),
        unreadable=(),
        checks=(),
    )


def run_scenario(scenario: Scenario, options: RunOptions | None = None) -> RunResult:
    """Run `scenario` and return its result; backends that fail are reported in `RunResult.error`.

    Raises RunInterruptedError (after stopping everything) when a KeyboardInterrupt arrives.
    """
    return run_scenario_with_diagnostics(scenario, options)[0]


def run_scenario_with_diagnostics(
    scenario: Scenario, options: RunOptions | None = None
) -> tuple[RunResult, RunDiagnostics]:
    """`run_scenario`, plus whether the pipeline settled and which partitions were stuck."""
    run = _Run(scenario, options or RunOptions())
    result = run.execute()
    return result, replace(run.diagnostics, kept_objects=run.kept_objects)


class _Run:
    """One run's state: the pipeline, the ledger, the timeline, the samples."""

    def __init__(self, scenario: Scenario, options: RunOptions) -> None:
        self.scenario = scenario
        self.options = options
        self.wall = options.wall_clock
        self.clock = RunClock(scenario.clock.start, scenario.clock.speed)
        self.speed = scenario.clock.speed
        self.ledger = Ledger()
        self.timeline_points: list[TimePoint] = []
        self.origin = 0.0
        self.wall_origin = self.wall.monotonic()
        self.phase = "starting"
        self.timeline: FaultTimeline | None = None
        self.probe: PipelineProbe | None = None
        self.load_error: BaseException | None = None
        self.load_summary: LoadSummary | None = None
        self._generator: LoadGenerator | None = None
        self.diagnostics = RunDiagnostics(settled=False)
        self.stats: tuple[int, int, dict[str, int]] = (0, 0, {})
        self.runs_on: str | None = None
        self.usage: Usage | None = None
        self.stop_reason: str | None = None
        self.reasons: tuple[FunctionErrorReason, ...] = ()
        self.function_logs: tuple[str, ...] = ()
        self._pipeline: Pipeline | None = None
        self._progress: Progress | None = None
        self._last_sample_wall = -1e9
        self.kept_objects: int | None = None  # objects copied to keep_archive, once done

    # --- the whole run ----------------------------------------------------------------------------------
    def execute(self) -> RunResult:
        started_at = self.wall.now()
        clock_start = self.clock.now()
        error: str | None = None
        report: VerificationReport | None = None
        pipeline = Pipeline(
            self.scenario,
            clock=self.clock,
            backend=self.options.backend,
            speed=self.speed,
            cwd=self.options.cwd,
            code_dir=self.options.code_dir,
            function_log_dir=self.options.function_log_dir,
        )
        endpoint_use: EndpointUse | None = None
        self._pipeline = pipeline
        with self.options.progress as progress:
            self._progress = progress
            self._show()
            try:
                pipeline.start()
                self._generator = self._start_generator(pipeline)  # before the clock starts: it takes real s
                self.clock.begin()
                clock_start = self.clock.now()
                self.origin = self.clock.monotonic()
                report, error = self._drive(pipeline)
            except KeyboardInterrupt as exc:
                self.phase = "stopping"
                self._show()
                _stop_quietly(pipeline)
                raise RunInterruptedError(str(exc) or "interrupted") from exc
            except Exception as exc:  # noqa: BLE001 - a failed run still stops, settles and reports why
                error = f"{type(exc).__name__}: {exc}"
            finally:
                self.phase = "stopping"
                self._show()
                if self._generator is not None:
                    self._generator.stop()  # a no-op once the load ran; else no stray producer process
                self.stats = _invocation_stats(pipeline)
                self.runs_on = pipeline.runtime.runs_on if pipeline.runtime is not None else None
                self._collect_function_output(pipeline)
                self.usage = self._usage(pipeline, clock_start)
                endpoint_use = pipeline.interception.use() if pipeline.interception is not None else None
                stop_error = _stop_quietly(pipeline)
                error = error or stop_error
        invocations, failed, errors = self.stats
        return RunResult(
            scenario_name=self.scenario.name,
            scenario_path=str(self.scenario.path),
            started_at=started_at,
            clock_start=clock_start,
            speed=self.speed,
            wall_seconds=self.wall.monotonic() - self.wall_origin,
            clock_seconds=self.clock.monotonic() - self.origin if self.origin else 0.0,
            timeline=tuple(self.timeline_points),
            faults=self.timeline.events() if self.timeline is not None else (),
            invocations=invocations,
            failed_invocations=failed,
            function_errors=errors,
            verification=report if report is not None else empty_report(len(self.ledger)),
            error=error,
            usage=self.usage,
            aws_endpoints=endpoint_use,
            function_runs_on=self.runs_on,
            stopped_early=self.stop_reason,
            function_error_reasons=self.reasons,
            function_logs=self.function_logs,
            load_rate=self.load_summary.rate if self.load_summary is not None else (),
        )

    def _drive(self, pipeline: Pipeline) -> tuple[VerificationReport | None, str | None]:
        assert pipeline.esm is not None
        assert pipeline.runtime is not None
        assert pipeline.stack is not None
        hooks = pipeline.firehose_hooks()
        stream = pipeline.stream_name
        self.probe = PipelineProbe(
            self.ledger,
            pipeline.esm,
            delivery_log=lambda: hooks.attempts(stream),
            pending_records=lambda: hooks.pending_records(stream),
        )
        injectors = PipelineInjectors(
            kafka=pipeline.stack.kafka.broker_control(),
            function_faults=pipeline.runtime.faults,
            stream_faults=hooks.faults(stream),
            object_store=hooks.object_store,
            clock=self.clock,
            seq_of=self.ledger.seq_of,
        )
        self.timeline = FaultTimeline(self.scenario.faults, injectors, self.clock, origin=self.origin)
        try:
            self._load(pipeline)
            settled = self._settle()
        except _StoppedEarlyError as stop:  # verify what got through: the records are counted as they stand
            self.stop_reason, settled = str(stop), False
        self.timeline.finish()
        self._sample(force=True)
        error = None
        if self.load_error is not None:
            error = f"the load generator failed: {type(self.load_error).__name__}: {self.load_error}"
        poll_error = pipeline.esm.poll_error()
        if poll_error is not None:
            error = f"the event source mapping stopped: {type(poll_error).__name__}: {poll_error}"
        self.phase = "verifying"
        self._show()
        self.diagnostics = RunDiagnostics(
            settled=settled,
            stuck_partitions=tuple(sorted(pipeline.esm.stuck_partitions())),
            lag=self.probe.lag(),
            firehose_pending=hooks.pending_records(stream),
        )
        return self._verify(pipeline), error

    # --- phases -------------------------------------------------------------------------------------------
    def _start_generator(self, pipeline: Pipeline) -> LoadGenerator:
        load = self.scenario.load
        payloads = PayloadGenerator(load.payload, random.Random(load.seed))
        generator = LoadGenerator(
            pipeline.bootstrap_servers, pipeline.topic, load.profile, payloads, self.clock, ledger=self.ledger
        )
        return generator.start()

    def _load(self, pipeline: Pipeline) -> None:
        load = self.scenario.load
        generator = self._generator
        assert generator is not None

        def send() -> None:
            try:
                self.load_summary = generator.run(duration=load.duration_seconds, records=load.records)
            except BaseException as exc:  # noqa: BLE001 - reported in the result; the run still settles and verifies
                self.load_error = exc

        self.phase = "load"
        thread = threading.Thread(target=send, name="msk-harness-load", daemon=True)
        thread.start()
        try:
            while thread.is_alive():
                self._tick()
                thread.join(TICK_WALL_SECONDS)
        except BaseException:
            generator.request_stop()
            thread.join(30)
            raise
        finally:
            generator.stop()

    def _settle(self) -> bool:
        """Tick until settled or `settle_seconds` of clock time have passed; True if settled."""
        assert self.probe is not None
        assert self.timeline is not None
        self.phase = "settling"
        watch = SettleWatch(
            deadline=self.clock.monotonic() + self.scenario.expect.settle_seconds,
            grace=firehose_grace(self.scenario.pipeline.firehose.settings),
        )
        while True:
            self._tick()
            settled = self.probe.settled() and not self.timeline.pending()
            verdict = watch.verdict(
                self.clock.monotonic(), self.wall.monotonic(), settled, self.probe.pending_records()
            )
            if verdict != "wait":
                return verdict == "settled"
            self.clock.sleep(TICK_WALL_SECONDS * self.speed)

    def _tick(self) -> None:
        assert self.timeline is not None
        self.timeline.tick(len(self.ledger))
        self._sample()
        self._give_up_if_hopeless()

    def _give_up_if_hopeless(self) -> None:
        """Stop the run when the function's fail-fast rule holds and no fault explains the failures."""
        runtime = self._pipeline.runtime if self._pipeline is not None else None
        if runtime is None or self.timeline is None or self.timeline.disturbing():
            return
        reason = runtime.errors.give_up(self.clock.monotonic())
        if reason is not None:
            raise _StoppedEarlyError(reason)

    def _collect_function_output(self, pipeline: Pipeline) -> None:
        """The function's distinct errors, and its log files when they are kept."""
        runtime = pipeline.runtime
        if runtime is None:
            return
        self.reasons = runtime.errors.reasons()
        if self.options.function_log_dir is not None:
            self.function_logs = tuple(str(path) for path in runtime.log_files())

    def _sample(self, *, force: bool = False) -> None:
        assert self.probe is not None
        now = self.wall.monotonic()
        if not force and now - self._last_sample_wall < SAMPLE_WALL_SECONDS:
            return
        self._last_sample_wall = now
        point = self.probe.sample(self.clock.monotonic() - self.origin)
        if len(self.timeline_points) >= MAX_TIMELINE_POINTS:
            self.timeline_points = self.timeline_points[::2]  # keep the whole run at half resolution
        self.timeline_points.append(point)
        self._show(point)

    def _show(self, point: TimePoint | None = None) -> None:
        progress = self._progress
        if progress is None:
            return
        if point is None and self.timeline_points:
            point = self.timeline_points[-1]
        progress.update(
            Snapshot(
                phase=self.phase,
                wall_seconds=self.wall.monotonic() - self.wall_origin,
                clock_seconds=self.clock.monotonic() - self.origin if self.origin else 0.0,
                point=point,
                faults=self.timeline.events() if self.timeline is not None else (),
            )
        )

    # --- usage (harness/sizing's cost model) -------------------------------------------------------------
    def _usage(self, pipeline: Pipeline, load_start: datetime) -> Usage | None:
        if pipeline.stack is None or not self.origin:
            return None  # never came up: nothing was consumed
        try:
            return collect_usage(
                pipeline,
                speed=self.speed,
                produced=len(self.ledger),
                load_start=load_start,
                clock_seconds=self.clock.monotonic() - self.origin,
            )
        except Exception:  # a by-product: a broken read must not fail the run, but is never silent
            logging.getLogger(__name__).warning("could not measure the run's usage", exc_info=True)
            return None

    # --- verification -------------------------------------------------------------------------------------
    def _verify(self, pipeline: Pipeline) -> VerificationReport:
        settings = self.scenario.pipeline.firehose.settings
        error_prefix = settings.get("ErrorOutputPrefix")
        s3 = pipeline.s3_client()
        reading = format_choice(self.scenario.verify, self.scenario.path.parent, self.ledger.records)
        archive: ArchiveSnapshot = read_archive(
            s3, pipeline.bucket, error_prefix=str(error_prefix) if error_prefix else None, reading=reading
        )
        report = verify(
            self.ledger.records(),
            archive,
            self.scenario.expect,
            delivery_log=pipeline.firehose_hooks().attempts(pipeline.stream_name),
            destination_records=destination_records(pipeline),
            identity=reading.identity,
        )
        expect, faults = self.scenario.expect, bool(self.scenario.faults)
        if rate_held_enabled(expect.rate_held, has_faults=faults, speed=self.speed):
            rate = self.load_summary.rate if self.load_summary is not None else ()
            load_error = None if self.load_error is None else f"the load failed: {self.load_error}"
            report = dataclasses.replace(report, checks=(*report.checks, check_rate_held(rate, load_error)))
        report = self._replay(report, s3, pipeline.bucket, str(error_prefix) if error_prefix else None)
        keep_dir = self.options.keep_archive or self.scenario.keep_archive
        if keep_dir is not None:
            self.kept_objects = download_bucket(s3, pipeline.bucket, keep_dir)
        return report

    # --- replay (the scenario's optional `replay:` section) -----------------------------------------------
    def _replay(
        self, report: VerificationReport, s3: Any, bucket: str, error_prefix: str | None
    ) -> VerificationReport:
        spec = self.scenario.replay
        if spec is None:
            return report
        from harness.replay.scenario import run_scenario_replay  # noqa: PLC0415 - only scenarios that replay

        self.phase = "replaying"
        self._show()
        checks = run_scenario_replay(spec, s3, bucket, error_prefix, self.clock)
        return dataclasses.replace(report, checks=(*report.checks, *checks))


def destination_records(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The on-failure records the ESM sent to an S3 bucket or SQS queue (parsed JSON), else []."""
    destination = pipeline.spec.event_source.on_failure_destination
    if destination is None or pipeline.stack is None:
        return []
    name = destination.rsplit(":", maxsplit=1)[-1]
    if destination.startswith("arn:aws:s3:::"):
        s3 = pipeline.s3_client()
        records = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=name, Key=entry["Key"])["Body"].read()
                records.append(json.loads(body))
        return records
    if destination.startswith("arn:aws:sqs:"):
        sqs = pipeline.stack.s3.client("sqs")
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        records = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return records
            records.extend(json.loads(m["Body"]) for m in messages)
            for m in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return []


def _invocation_stats(pipeline: Pipeline) -> tuple[int, int, dict[str, int]]:
    runtime = pipeline.runtime
    if runtime is None:
        return 0, 0, {}
    records = runtime.invocations()
    failed = [r for r in records if r.outcome != "success"]
    errors = Counter(r.error_type or r.outcome for r in failed)
    return len(records), len(failed), dict(errors)


def _stop_quietly(pipeline: Pipeline) -> str | None:
    try:
        pipeline.stop()
    except Exception as exc:  # noqa: BLE001 - a stop failure is reported, never raised over the run's outcome
        return f"stopping the pipeline failed: {type(exc).__name__}: {exc}"
    return None
