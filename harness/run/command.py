"""`msk-harness run SCENARIO`: load, run, show, report; exit 0 (every expectation held), 1 (one failed or the
run broke), 2 (bad input), 130 (interrupted by Ctrl-C or SIGTERM, everything stopped).

Example::

    code = run_command(Path("scenarios/smoke.yaml"), junit=Path("reports/junit.xml"))
"""

from __future__ import annotations

import random
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console

from harness.backends.kafka.reaper import Reaper
from harness.clock import SystemClock
from harness.exits import ExitCode, interrupts_as_keyboard_interrupt
from harness.progress import make_progress
from harness.run.external_env import with_external_endpoints
from harness.run.pipeline import PipelineConfigError, choose_backends
from harness.run.report_dirs import ReportDirError, claim_explicit_dir, claim_report_dir
from harness.run.result import RunDiagnostics, RunResult
from harness.run.session import (
    FUNCTION_LOG_DIR,
    RunInterruptedError,
    RunOptions,
    run_scenario_with_diagnostics,
)
from harness.scenario import Scenario, ScenarioError, load_scenario

REPORTS_ROOT = Path("reports")


def run_command(
    path: Path,
    *,
    backend: str | None = None,
    junit: Path | None = None,
    report_dir: Path | None = None,
    keep_archive: Path | None = None,
    environ: Mapping[str, str] | None = None,
    console: Console | None = None,
) -> int:
    """Run the scenario at `path` as the CLI does; returns the exit code."""
    out = console or Console()
    err = Console(stderr=True, soft_wrap=True)
    env = environ if environ is not None else {}
    try:
        scenario = with_external_endpoints(load_scenario(path), backend, env)
        choose_backends(scenario.pipeline, backend)  # bad backend input fails before anything starts
    except (ScenarioError, PipelineConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return ExitCode.BAD_INPUT
    progress = make_progress(out, scenario.name, ci=bool(env.get("CI")))
    wall = SystemClock()
    fresh = report_dir is None or not report_dir.exists()  # removed again if the run does not finish
    try:
        # Claimed before anything starts (an explicit directory in use is refused), so each environment's
        # function log streams straight into it; the suffix comes from random.Random() seeded by the OS (this
        # run's own RNG), so two runs never pick the same one.
        directory = (
            claim_explicit_dir(report_dir)
            if report_dir is not None
            else claim_report_dir(REPORTS_ROOT, scenario.name, wall.now(), random.Random())
        )
    except ReportDirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    options = RunOptions(
        backend=backend,
        progress=progress,
        wall_clock=wall,
        function_log_dir=directory / FUNCTION_LOG_DIR,
        keep_archive=keep_archive,
    )
    # A fresh report directory fills while the run goes; a killed harness must not leave it half written.
    reaper = Reaper(directory, remove_dir=True) if fresh else None
    try:
        try:
            with interrupts_as_keyboard_interrupt():
                result, diagnostics = run_scenario_with_diagnostics(scenario, options)
        except (RunInterruptedError, PipelineConfigError) as exc:
            if fresh:
                shutil.rmtree(directory, ignore_errors=True)
            if isinstance(exc, RunInterruptedError):
                err.print(f"interrupted ({exc}): everything was stopped", highlight=False)
                return ExitCode.INTERRUPTED
            print(f"{path}: {exc}", file=sys.stderr)
            return ExitCode.BAD_INPUT
        _print_notes(out, scenario, result, diagnostics, keep_archive)
        from harness.report import write_reports  # noqa: PLC0415 - matplotlib loads slowly

        written = write_reports(result, directory, junit_path=junit)
        out.print("reports: " + ", ".join(str(p) for p in written), highlight=False)
        return ExitCode.OK if result.passed else ExitCode.FAILED
    finally:
        if reaper is not None:
            reaper.release()


def _print_notes(
    out: Console,
    scenario: Scenario,
    result: RunResult,
    diagnostics: RunDiagnostics,
    keep_archive: Path | None,
) -> None:
    """The summary, then what it cannot say: unsettled work, stuck partitions, where the archive was kept."""
    from harness.report import print_summary  # noqa: PLC0415 - matplotlib loads slowly

    print_summary(result, out)
    if not diagnostics.settled and result.error is None and result.stopped_early is None:
        out.print(
            f"[yellow]not settled[/] {scenario.expect.settle_seconds:g} clock seconds after the last send: "
            f"{diagnostics.lag} records uncommitted, {diagnostics.firehose_pending} still in Firehose",
            highlight=False,
        )
    if diagnostics.stuck_partitions:
        stuck = ", ".join(f"{scenario.pipeline.topic.name}-{p}" for p in diagnostics.stuck_partitions)
        out.print(f"[yellow]stuck partitions[/] (a failing batch holds them): {stuck}", highlight=False)
    if diagnostics.kept_objects is not None:
        kept_in = keep_archive or scenario.keep_archive
        out.print(f"archive kept: {diagnostics.kept_objects} objects under {kept_in}/", highlight=False)
