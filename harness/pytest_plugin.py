"""pytest plugin (entry point `msk_harness`): run scenarios or start a pipeline inside a project's own tests.

Fixtures:

* `run_scenario` — a function: `run_scenario("scenarios/smoke.yaml") -> RunResult` (the same run as
  `msk-harness run`, without the live display). Reports go to `--msk-report-dir` when given.
* `msk_pipeline` — a factory: `msk_pipeline("scenarios/smoke.yaml") -> Pipeline`, started (Kafka, S3, the
  Firehose stream, the function runtime, the ESM) and stopped when the test ends, for tests that produce
  their own records and read the archive themselves.

Example (a CI conformance gate)::

    def test_archive_conforms(run_scenario):
        result = run_scenario("scenarios/smoke.yaml")
        assert result.passed, result.summary()  # verdict, counts, each failed check, function errors

The plugin imports nothing heavy until a fixture is used, so installing it costs other test runs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.run.pipeline import Pipeline
    from harness.run.result import RunResult
    from harness.scenario.model import Scenario

RunScenario = Callable[..., "RunResult"]
StartPipeline = Callable[..., "Pipeline"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """--msk-report-dir and --msk-backend."""
    group = parser.getgroup("msk-harness")
    group.addoption(
        "--msk-report-dir",
        default=None,
        metavar="DIR",
        help="msk-harness: write each run_scenario report (JSON, HTML, JUnit) under DIR/<scenario>",
    )
    group.addoption(
        "--msk-backend",
        default=None,
        choices=("embedded", "docker", "external"),
        help="msk-harness: run Kafka and S3 with this backend (default: each scenario's own)",
    )


def _load(scenario: str | Path | Scenario) -> Scenario:
    from harness.scenario import load_scenario  # noqa: PLC0415 - imported only when a fixture is used

    return scenario if not isinstance(scenario, (str, Path)) else load_scenario(scenario)


@pytest.fixture
def run_scenario(request: pytest.FixtureRequest) -> RunScenario:
    """Run a scenario end to end; returns its RunResult: `run_scenario(path, code_dir=..., backend=...)`."""
    from harness.run.session import RunOptions  # noqa: PLC0415
    from harness.run.session import run_scenario as run  # noqa: PLC0415

    report_root = request.config.getoption("--msk-report-dir")
    default_backend = request.config.getoption("--msk-backend")

    def runner(
        scenario: str | Path | Scenario, *, code_dir: Path | None = None, backend: str | None = None
    ) -> RunResult:
        loaded = _load(scenario)
        result = run(loaded, RunOptions(backend=backend or default_backend, code_dir=code_dir))
        if report_root:
            from harness.report import write_reports  # noqa: PLC0415 - matplotlib loads slowly

            directory = Path(report_root) / loaded.name
            write_reports(result, directory, junit_path=directory / "junit.xml")
        return result

    return runner


@pytest.fixture
def msk_pipeline(request: pytest.FixtureRequest) -> Iterator[StartPipeline]:
    """Start a scenario's pipeline (no load, no faults); every pipeline started is stopped after the test."""
    from harness.run.pipeline import Pipeline  # noqa: PLC0415
    from harness.run.session import scenario_clock  # noqa: PLC0415

    default_backend = request.config.getoption("--msk-backend")
    started: list[Pipeline] = []

    def start(scenario: str | Path | Scenario, **options: Any) -> Pipeline:
        loaded = _load(scenario)
        options.setdefault("backend", default_backend)
        pipeline = Pipeline(loaded, clock=scenario_clock(loaded), speed=loaded.clock.speed, **options)
        started.append(pipeline)
        return pipeline.start()

    try:
        yield start
    finally:
        for pipeline in reversed(started):
            pipeline.stop()
