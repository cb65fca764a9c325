"""`msk-harness run SCENARIO`: load, run, show, report; exit 0 (every expectation held), 1 (one failed or the
run broke), 2 (bad input), 130 (interrupted by Ctrl-C or SIGTERM, everything stopped).

Example::

    code = run_command(Path("scenarios/smoke.yaml"), junit=Path("reports/junit.xml"))
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console

from harness.exits import ExitCode, interrupts_as_keyboard_interrupt
from harness.progress import make_progress
from harness.run.external_env import with_external_endpoints
from harness.run.pipeline import PipelineConfigError, choose_backends
from harness.run.session import (
    RunInterruptedError,
    RunOptions,
    default_report_dir,
    run_scenario_with_diagnostics,
)
from harness.scenario import ScenarioError, load_scenario


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
    try:
        with interrupts_as_keyboard_interrupt():
            result, diagnostics = run_scenario_with_diagnostics(
                scenario, RunOptions(backend=backend, progress=progress, keep_archive=keep_archive)
            )
    except RunInterruptedError as exc:
        err.print(f"interrupted ({exc}): everything was stopped", highlight=False)
        return ExitCode.INTERRUPTED
    except PipelineConfigError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
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
    if diagnostics.kept_objects is not None:
        kept_in = keep_archive or scenario.keep_archive
        out.print(f"archive kept: {diagnostics.kept_objects} objects under {kept_in}/", highlight=False)
    directory = report_dir or default_report_dir(scenario, result.started_at)
    written = write_reports(result, directory, junit_path=junit)
    out.print("reports: " + ", ".join(str(p) for p in written), highlight=False)
    return ExitCode.OK if result.passed else ExitCode.FAILED
