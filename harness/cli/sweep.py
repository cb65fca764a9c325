"""`msk-harness sweep SCENARIO --grid KEY=V1,V2 ...`: run every variant, report freshness, usage and cost.

Exit codes: 0 swept (and, with --freshness, a variant meets the target), 1 every variant failed or none meets
the target, 2 bad input (scenario, grid value, region, target), 130 interrupted by Ctrl-C / SIGTERM (the
current run stops everything; the reports of the variants finished so far are written).

Example::

    msk-harness sweep scenarios/sizing/archive-sweep.yaml --grid batch_size=100,1000 \\
        --grid interval_s=60,300 --freshness 'p99<=400s' --region eu-west-1
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from harness.clock import Clock, SystemClock
from harness.exits import ExitCode, interrupts_as_keyboard_interrupt
from harness.sizing.cost import ARCHITECTURES, HOURS_PER_MONTH

if TYPE_CHECKING:
    from harness.run.result import RunResult
    from harness.sizing.grid import Variant
    from harness.sizing.prices import RegionPrices
    from harness.sizing.recommend import FreshnessTarget
    from harness.sizing.sweep import SweepResult

COST_NOTES = (
    f"Per-record usage (Lambda requests and GB-seconds, Firehose billed GB, archive GB) is scaled to "
    f"{HOURS_PER_MONTH:g} hours at the scenario's mean rate; S3 PUTs per clock hour of the measured window.",
    "Lambda GB-seconds = sum over invocations of ceil((duration + init) / clock speed) ms / 1000 "
    "x memory MB / 1024; the harness does not scale CPU with memory, so memory_mb changes the price, "
    "not the duration.",
    "Firehose Direct PUT ingestion is billed per record rounded up to 5 KB (5,120 bytes).",
    "S3 storage: one month's archive kept for one month; S3 PUTs include failed attempts and error output.",
    "First price tier only, no free tier. MSK does not vary with these knobs and is not priced.",
    "Freshness is produce -> delivery in scenario-clock seconds; a fast clock multiplies the pipeline's own "
    "real delays by its speed.",
)


def register(commands: Any) -> None:
    """Add the `sweep` subcommand to the CLI's subparsers."""
    sweep = commands.add_parser(
        "sweep",
        help="run scenario variants over a grid; report freshness, usage and monthly cost",
        description="Run SCENARIO once per point of the --grid product and compare the variants.",
    )
    sweep.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="values to try: batch_size, batch_window_s, buffer_mb, interval_s, memory_mb, compression, "
        "or a dotted scenario path (repeatable; variants are the product)",
    )
    sweep.add_argument(
        "--speed", type=float, default=None, help="clock speed for every variant (default: the scenario's)"
    )
    sweep.add_argument(
        "--freshness",
        metavar="PCT<=SECONDS",
        default=None,
        help="recommend the cheapest passing variant within this target, e.g. 'p99<=120s'",
    )
    sweep.add_argument("--region", default=None, help="price region (default: the scenario's S3 region)")
    sweep.add_argument(
        "--architecture", choices=ARCHITECTURES, default="x86_64", help="Lambda price (default x86_64)"
    )
    sweep.add_argument(
        "--prices", metavar="FILE", default=None, help="a price file instead of the shipped one"
    )
    sweep.add_argument(
        "--backend", choices=("embedded", "docker", "external"), default=None, help="as for `run`"
    )
    sweep.add_argument(
        "--report-dir", metavar="DIR", default=None, help="default reports/sweep-<name>-<time>/"
    )
    sweep.set_defaults(handler=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    return sweep_command(
        Path(args.scenario),
        grid=args.grid,
        speed=args.speed,
        freshness=args.freshness,
        region=args.region,
        architecture=args.architecture,
        prices_path=Path(args.prices) if args.prices else None,
        backend=args.backend,
        report_dir=Path(args.report_dir) if args.report_dir else None,
        environ=os.environ,
    )


def sweep_command(
    path: Path,
    *,
    grid: list[str],
    speed: float | None = None,
    freshness: str | None = None,
    region: str | None = None,
    architecture: str = "x86_64",
    prices_path: Path | None = None,
    backend: str | None = None,
    report_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    console: Console | None = None,
    clock: Clock | None = None,
) -> int:
    """Run the sweep as the CLI does; returns the exit code."""
    # Heavy imports here, so `msk-harness --help` stays fast.
    from harness.run.pipeline import PipelineConfigError  # noqa: PLC0415
    from harness.scenario import ScenarioError  # noqa: PLC0415
    from harness.sizing.grid import GridError  # noqa: PLC0415
    from harness.sizing.prices import PriceError  # noqa: PLC0415
    from harness.sizing.report import print_sweep, write_sweep_reports  # noqa: PLC0415
    from harness.sizing.sweep import run_sweep  # noqa: PLC0415

    out = console or Console()
    try:
        plan = _plan(
            path,
            grid,
            speed=speed,
            freshness=freshness,
            region=region,
            prices_path=prices_path,
            backend=backend,
        )
    except (ScenarioError, GridError, PriceError, PipelineConfigError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return ExitCode.BAD_INPUT
    env = environ if environ is not None else {}
    with interrupts_as_keyboard_interrupt():
        result = run_sweep(
            plan.variants,
            run=_variant_runner(out, backend, ci=bool(env.get("CI"))),
            prices=plan.prices,
            rate=plan.rate,
            clock=clock or SystemClock(),
            architecture=architecture,
            target=plan.target,
            on_start=lambda variant, total: out.print(
                f"[bold]variant {variant.index + 1}/{total}[/]: {variant.name}", highlight=False
            ),
            notes=COST_NOTES,
        )
    print_sweep(result, out)
    directory = (
        report_dir or Path("reports") / f"sweep-{result.scenario_name}-{result.started_at:%Y%m%dT%H%M%SZ}"
    )
    written = write_sweep_reports(result, directory)
    out.print("reports: " + ", ".join(str(p) for p in written), highlight=False)
    return _exit_code(result)


@dataclass(frozen=True)
class _SweepPlan:
    """The validated input of a sweep: its variants, the region's prices, the one load rate, the target."""

    variants: list[Variant]
    prices: RegionPrices
    rate: float
    target: FreshnessTarget | None


def _plan(
    path: Path,
    grid: list[str],
    *,
    speed: float | None,
    freshness: str | None,
    region: str | None,
    prices_path: Path | None,
    backend: str | None,
) -> _SweepPlan:
    """Load and check everything a sweep needs before anything starts (bad input raises)."""
    from harness.run.pipeline import choose_backends  # noqa: PLC0415
    from harness.scenario import load_scenario  # noqa: PLC0415
    from harness.sizing.grid import GridError, build_variants, parse_grid, scenario_rate  # noqa: PLC0415
    from harness.sizing.prices import load_prices  # noqa: PLC0415
    from harness.sizing.recommend import parse_target  # noqa: PLC0415

    if speed is not None and speed <= 0:
        raise ValueError(f"--speed must be positive, got {speed:g}")
    target = parse_target(freshness) if freshness is not None else None
    base = load_scenario(path)
    prices = load_prices(prices_path).region(region or base.pipeline.backends.s3.region)
    variants = build_variants(path, parse_grid(grid), speed=speed)
    choose_backends(variants[0].scenario.pipeline, backend)
    rates = {scenario_rate(v.scenario) for v in variants}
    if len(rates) != 1:
        raise GridError("the grid changes the load's rate; costs compare variants at one rate")
    return _SweepPlan(variants, prices, rates.pop(), target)


def _variant_runner(out: Console, backend: str | None, *, ci: bool) -> Callable[[Variant], RunResult]:
    """Runs one variant's scenario with its own progress display."""
    from harness.progress import make_progress  # noqa: PLC0415
    from harness.run.session import RunOptions, run_scenario  # noqa: PLC0415

    def run(variant: Variant) -> RunResult:
        progress = make_progress(out, f"{variant.scenario.name} [{variant.name}]", ci=ci)
        return run_scenario(variant.scenario, RunOptions(backend=backend, progress=progress))

    return run


def _exit_code(result: SweepResult) -> ExitCode:
    """Interrupted 130; failed 1 when no variant is eligible or none meets the target; else 0."""
    if result.interrupted:
        return ExitCode.INTERRUPTED
    if not any(o.reason is None for o in result.outcomes):
        return ExitCode.FAILED
    if result.recommendation is not None and result.recommendation.chosen is None:
        return ExitCode.FAILED
    return ExitCode.OK
