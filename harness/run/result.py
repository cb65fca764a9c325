"""What one `msk-harness run` produced: the timeline, the faults fired and the verification report.

The runner builds a `RunResult`; harness/report renders it (terminal, JSON, JUnit, HTML).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harness.intercept.session import EndpointUse
from harness.load.rate import RateSecond
from harness.runtime.failures import FunctionErrorReason
from harness.verify.result import VerificationReport


@dataclass(frozen=True)
class TimePoint:
    """One sample of the pipeline's counters, taken by the runner's sampler."""

    t_seconds: float  # clock seconds since the run started
    produced: int  # records acknowledged by Kafka
    invoked_records: int  # records handed to the function (retries counted again)
    archived_records: int  # records in objects Firehose delivered to S3
    lag: int  # end offsets minus the ESM's committed offsets, summed over partitions
    objects: int  # objects Firehose delivered to S3


@dataclass(frozen=True)
class FaultEvent:
    """One fault the timeline fired (or ended), and whether the injection itself worked."""

    t_seconds: float  # clock seconds since the run started
    description: str  # e.g. "broker 0 kill (line 31)" or "end: firehose throttling (line 40)"
    ok: bool  # False when the injector raised; the description then carries the reason


@dataclass(frozen=True)
class Usage:
    """What one run consumed, in AWS's billing units: the input of the sizing cost model (harness/sizing).

    Lambda durations are real-time equivalents: the runtime measures on the scenario clock, so each
    invocation's duration (plus its init, which Lambda bills too) is divided by the clock speed before it is
    rounded up to the millisecond. Everything else is a count, independent of the clock.
    """

    produced_records: int = 0  # records acknowledged by Kafka
    invocations: int = 0  # function invocations, failed ones and retries included
    billed_duration_ms: int = 0  # sum over invocations of ceil((duration + init) / speed), ms
    memory_mb: int = 0  # the function's configured memory
    firehose_records: int = 0  # records Firehose accepted (IncomingRecords)
    firehose_bytes: int = 0  # their bytes (IncomingBytes)
    firehose_billed_bytes: int | None = None  # each record rounded up to 5,120 bytes; None: not measured
    s3_puts: int = 0  # PUT requests Firehose made, failed attempts and error-output objects included
    s3_objects: int = 0  # objects delivered (data and error output)
    s3_bytes: int = 0  # bytes of the objects delivered
    window_seconds: float = 0.0  # clock seconds from the start of the load to the last delivery


@dataclass(frozen=True)
class RunResult:
    """Everything one run of a scenario produced."""

    scenario_name: str
    scenario_path: str
    started_at: datetime  # wall-clock UTC instant the run started
    clock_start: datetime  # the scenario clock's instant at the start
    speed: float  # the scenario clock's speed factor
    wall_seconds: float
    clock_seconds: float
    timeline: tuple[TimePoint, ...]
    faults: tuple[FaultEvent, ...]
    invocations: int
    failed_invocations: int
    function_errors: dict[str, int]  # errorType -> count
    verification: VerificationReport  # empty (nothing produced or read) when the run failed before verifying
    error: str | None = None  # set when the run could not complete (a backend failed, interrupted, ...)
    usage: Usage | None = None  # what the run consumed (None when the pipeline never came up)
    aws_endpoints: EndpointUse | None = None  # which path the function's AWS calls took (harness/intercept)
    function_runs_on: str | None = None  # which interpreter ran the function ("python3.12 on CPython 3.12.1")
    stopped_early: str | None = None  # why the run was cut short (the function's fail-fast rule held)
    function_error_reasons: tuple[FunctionErrorReason, ...] = ()  # distinct errors, first occurrence first
    function_logs: tuple[str, ...] = ()  # the per-environment function log files kept with the report
    load_rate: tuple[RateSecond, ...] = ()  # per clock second of the load: records asked for and sent

    @property
    def passed(self) -> bool:
        """True when the run completed, was not stopped early, and every expectation held."""
        return self.error is None and self.stopped_early is None and self.verification.passed

    def failures(self) -> list[str]:
        """Why the run did not pass, one line each (empty when it passed)."""
        lines = [f"run did not complete: {self.error}"] if self.error is not None else []
        for check in self.verification.checks:
            if not check.passed:
                line = f"{check.name}: expected {check.expected}, got {check.actual}"
                if check.details:
                    line += f" (e.g. {'; '.join(check.details[:3])})"
                lines.append(line)
        return lines

    def summary(self) -> str:
        """A few lines for an assertion message: verdict, counts, failures and the function's errors."""
        report = self.verification
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"scenario {self.scenario_name} {verdict}: {report.produced} produced, "
            f"{report.unique_archived} archived, {len(report.lost)} lost, {report.duplicates} duplicates; "
            f"{self.invocations} invocations, {self.failed_invocations} failed",
            *(f"  {failure}" for failure in self.failures()),
        ]
        if self.function_errors:
            errors = ", ".join(f"{kind} x{count}" for kind, count in sorted(self.function_errors.items()))
            lines.append(f"  function errors: {errors}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RunDiagnostics:
    """What the runner saw beyond the RunResult contract: did the pipeline settle, what held it."""

    settled: bool  # False: settle_seconds passed with records uncommitted or still in Firehose
    stuck_partitions: tuple[int, ...] = ()  # partitions a failing batch held when the run ended
    lag: int = 0  # produced but uncommitted records when the run ended
    firehose_pending: int = 0  # records buffered or undelivered in Firehose when the run ended
    kept_objects: int | None = None  # objects copied to the keep_archive directory (None: not kept)
