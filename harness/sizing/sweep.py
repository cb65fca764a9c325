"""Run a sweep's variants one after another and summarise each: freshness, usage, objects, monthly cost.

`summarize` (pure) turns one variant's RunResult into a `VariantOutcome`; `run_sweep` runs the variants with
the given runner and stops cleanly on Ctrl-C (the current run stops everything, the outcomes so far are kept
and `SweepResult.interrupted` is set). A variant that fails its expectations is kept and marked ineligible
for the recommendation, with the failed checks or the run error as the reason.

Example::

    result = run_sweep(variants, run=lambda v: run_scenario(v.scenario, options),
                       prices=book.region("us-east-1"), rate=1000.0, target=parse_target("p99<=120s"),
                       clock=SystemClock())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from harness.clock import Clock
from harness.run.result import RunResult, Usage
from harness.run.session import RunInterruptedError
from harness.sizing.cost import CostEstimate, CostModelError, estimate_cost
from harness.sizing.grid import Variant
from harness.sizing.prices import RegionPrices
from harness.sizing.recommend import Candidate, FreshnessTarget, Recommendation, recommend
from harness.verify.latency import percentile

FRESHNESS_MARKS: tuple[tuple[str, float], ...] = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0))


@dataclass(frozen=True)
class VariantOutcome:
    """One variant's figures, as the sweep reports show them."""

    index: int
    name: str
    overrides: tuple[tuple[str, str], ...]
    passed: bool
    reason: str | None  # why it failed (failed checks, run error, no usage); None when it passed
    freshness_s: Mapping[str, float | None]  # p50/p90/p99/max end-to-end latency, clock seconds
    target_latency_s: float | None  # at the --freshness percentile, when one was given
    usage: Usage | None
    cost: CostEstimate | None
    cost_error: str | None
    object_sizes: tuple[int, ...]  # bytes of each data object
    wall_seconds: float
    clock_seconds: float
    speed: float

    @property
    def objects_per_hour(self) -> float | None:
        """S3 objects per clock hour over the measured window."""
        return self.cost.monthly.objects_per_hour if self.cost is not None else None

    @property
    def average_object_bytes(self) -> float | None:
        """Mean size of the data objects."""
        return sum(self.object_sizes) / len(self.object_sizes) if self.object_sizes else None


@dataclass(frozen=True)
class SweepResult:
    """The whole sweep: settings, each variant's outcome, the recommendation."""

    scenario_name: str
    scenario_path: str
    started_at: datetime
    region: str
    architecture: str
    rate: float  # records/s the costs are scaled to
    total_variants: int
    outcomes: tuple[VariantOutcome, ...]
    target: FreshnessTarget | None = None
    recommendation: Recommendation | None = None
    interrupted: bool = False
    notes: tuple[str, ...] = field(default=())


def summarize(
    variant: Variant,
    result: RunResult,
    *,
    prices: RegionPrices,
    rate: float,
    architecture: str,
    target: FreshnessTarget | None,
) -> VariantOutcome:
    """The outcome of one variant from its run (pure)."""
    report = result.verification
    latencies = report.latencies_ms
    freshness = {name: _seconds(percentile(latencies, q)) for name, q in FRESHNESS_MARKS}
    cost: CostEstimate | None = None
    cost_error: str | None = None
    if result.usage is None:
        cost_error = "the run's usage was not measured"
    else:
        try:
            cost = estimate_cost(result.usage, prices, rate=rate, architecture=architecture)
        except CostModelError as exc:
            cost_error = str(exc)
    reason = None
    if result.error is not None:
        reason = f"run error: {result.error}"
    elif not report.passed:
        reason = "failed: " + "; ".join(
            f"{c.name} (expected {c.expected}, got {c.actual})" for c in report.failed_checks
        )
    elif cost_error is not None:
        reason = f"no cost: {cost_error}"
    return VariantOutcome(
        index=variant.index,
        name=variant.name,
        overrides=variant.overrides,
        passed=result.passed,
        reason=reason,
        freshness_s=freshness,
        target_latency_s=_seconds(percentile(latencies, target.quantile)) if target is not None else None,
        usage=result.usage,
        cost=cost,
        cost_error=cost_error,
        object_sizes=tuple(o.size_bytes for o in report.objects),
        wall_seconds=result.wall_seconds,
        clock_seconds=result.clock_seconds,
        speed=result.speed,
    )


def choose(outcomes: Sequence[VariantOutcome], target: FreshnessTarget) -> Recommendation:
    """The recommendation over these outcomes."""
    return recommend(
        [
            Candidate(
                o.name,
                o.passed and o.reason is None,
                o.target_latency_s,
                o.cost.total_usd if o.cost is not None else None,
            )
            for o in outcomes
        ],
        target,
    )


def run_sweep(
    variants: Sequence[Variant],
    *,
    run: Callable[[Variant], RunResult],
    prices: RegionPrices,
    rate: float,
    clock: Clock,
    architecture: str = "x86_64",
    target: FreshnessTarget | None = None,
    on_start: Callable[[Variant, int], None] | None = None,
    notes: Sequence[str] = (),
) -> SweepResult:
    """Run each variant with `run`, in order; Ctrl-C ends the sweep with the outcomes so far."""
    if not variants:
        raise ValueError("a sweep needs at least one variant")
    started_at = clock.now()
    outcomes: list[VariantOutcome] = []
    interrupted = False
    for variant in variants:
        if on_start is not None:
            on_start(variant, len(variants))
        try:
            result = run(variant)
            outcomes.append(
                summarize(variant, result, prices=prices, rate=rate, architecture=architecture, target=target)
            )
        except (RunInterruptedError, KeyboardInterrupt):
            interrupted = True
            break
    first = variants[0].scenario
    return SweepResult(
        scenario_name=first.name,
        scenario_path=str(first.path),
        started_at=started_at,
        region=prices.region,
        architecture=architecture,
        rate=rate,
        total_variants=len(variants),
        outcomes=tuple(outcomes),
        target=target,
        recommendation=choose(outcomes, target) if target is not None else None,
        interrupted=interrupted,
        notes=tuple(notes),
    )


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000.0
