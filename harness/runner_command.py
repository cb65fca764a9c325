"""`msk-harness run SCENARIO`: load, run, show, report; exit 0 (every expectation held), 1 (one failed or the
run broke), 2 (bad input), 130 (interrupted by Ctrl-C or SIGTERM, everything stopped).

Example::

    code = run_command(Path("scenarios/smoke.yaml"), junit=Path("reports/junit.xml"))
"""

from __future__ import annotations

import random
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from harness.progress import make_progress
from harness.report_dirs import ReportDirError, claim_explicit_dir, claim_report_dir, report_dir_problem
from harness.runner import (
    RunInterruptedError,
    RunOptions,
    run_scenario_with_diagnostics,
)
from harness.runner_pipeline import PipelineConfigError, choose_backends
from harness.scenario import ScenarioError, load_scenario

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
REPORTS_ROOT = Path("reports")


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt once; further signals are ignored while everything stops."""

    def handler(signum: int, frame: FrameType | None) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {
        sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_command(
    path: Path,
    *,
    backend: str | None = None,
    junit: Path | None = None,
    report_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    console: Console | None = None,
) -> int:
    """Run the scenario at `path` as the CLI does; returns the exit code."""
    out = console or Console()
    err = Console(stderr=True, soft_wrap=True)
    try:
        scenario = load_scenario(path)
        choose_backends(scenario.pipeline, backend)  # bad backend input fails before anything starts
    except (ScenarioError, PipelineConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    in_use = report_dir_problem(report_dir) if report_dir is not None else None
    if in_use is not None:  # refused before anything starts, not after the run
        print(f"error: {in_use}", file=sys.stderr)
        return EXIT_BAD_INPUT
    env = environ if environ is not None else {}
    progress = make_progress(out, scenario.name, ci=bool(env.get("CI")))
    try:
        with interrupts_as_keyboard_interrupt():
            result, diagnostics = run_scenario_with_diagnostics(
                scenario, RunOptions(backend=backend, progress=progress)
            )
    except RunInterruptedError as exc:
        err.print(f"interrupted ({exc}): everything was stopped", highlight=False)
        return EXIT_INTERRUPTED
    except PipelineConfigError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from harness.report import print_summary, write_reports  # noqa: PLC0415 - matplotlib loads slowly

    print_summary(result, out)
    if not diagnostics.settled and result.error is None:
        out.print(
            f"[yellow]not settled[/] {scenario.expect.settle_seconds:g} clock seconds after the last send: "
            f"{diagnostics.lag} records uncommitted, {diagnostics.firehose_pending} still in Firehose",
            highlight=False,
        )
    if diagnostics.stuck_partitions:
        stuck = ", ".join(f"{scenario.pipeline.topic.name}-{p}" for p in diagnostics.stuck_partitions)
        out.print(f"[yellow]stuck partitions[/] (a failing batch holds them): {stuck}", highlight=False)
    try:
        directory = (
            claim_explicit_dir(report_dir)
            if report_dir is not None
            else claim_report_dir(REPORTS_ROOT, scenario.name, result.started_at, random.Random())
        )  # random.Random() seeds from the OS: this run's own RNG, so two runs never pick the same suffix
    except ReportDirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    written = write_reports(result, directory, junit_path=junit)
    out.print("reports: " + ", ".join(str(p) for p in written), highlight=False)
    return EXIT_PASSED if result.passed else EXIT_FAILED
