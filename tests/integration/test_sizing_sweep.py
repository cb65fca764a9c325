"""`msk-harness sweep` against the real pipeline (embedded Kafka + moto + Firehose emulator + the archiver).

One 2-variant sweep (buffer 1 MB vs 64 MB) checks that each variant's usage agrees with what the run saw and
that the reports are written; a 1-variant sweep with an impossible freshness target checks exit code 1; a
sweep interrupted with SIGINT checks exit 130, the partial report and that nothing is left running.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.sweep import COST_NOTES, sweep_command
from harness.clock import SystemClock
from harness.run.result import RunResult
from harness.run.session import RunOptions, run_scenario
from harness.sizing.grid import Variant, build_variants, parse_grid, scenario_rate
from harness.sizing.prices import load_prices
from harness.sizing.recommend import parse_target
from harness.sizing.report import write_sweep_reports
from harness.sizing.sweep import SweepResult, run_sweep
from tests.integration.procs import cmdline, interrupt_mid_run, start_cli, still_alive_after

ROOT = Path(__file__).resolve().parents[2]

# 20 records/s of ~1 KiB for 2 clock minutes at 40x (3 s of load); the archive lines stay under 5,120 bytes.
SCENARIO = """
name: sizing-it
seed: 3
clock: {{start: "2026-07-13T14:00:00Z", speed: 40}}
pipeline:
  topic: {{name: orders, partitions: 2}}
  event_source: {{StartingPosition: TRIM_HORIZON, BatchSize: 200, MaximumBatchingWindowInSeconds: 2}}
  function: {{code_dir: {code_dir}, timeout: 300, memory: 256, env: {{DELIVERY_STREAM_NAME: archive}}}}
  firehose:
    BufferingHints: {{SizeInMBs: 5, IntervalInSeconds: 60}}
    CompressionFormat: GZIP
    Prefix: "data/year=!{{timestamp:yyyy}}/month=!{{timestamp:MM}}/day=!{{timestamp:dd}}/\
hour=!{{timestamp:HH}}/"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 20}}
  duration: 120
  payload: {{json: 1.0, size: {{distribution: uniform, min: 800, max: 1200}}}}
expect:
  no_loss: true
  error_prefix_empty: true
  settle_seconds: 600
"""


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sizing") / "sizing-it.yaml"
    path.write_text(SCENARIO.format(code_dir=ROOT / "harness" / "reference_archiver"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def swept(
    scenario_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SweepResult, dict[str, RunResult], Path]:
    variants = build_variants(scenario_file, parse_grid(["buffer_mb=1,64"]))
    runs: dict[str, RunResult] = {}

    def run(variant: Variant) -> RunResult:
        result = run_scenario(variant.scenario, RunOptions())
        runs[variant.name] = result
        return result

    sweep = run_sweep(
        variants,
        run=run,
        prices=load_prices().region("eu-west-1"),
        rate=scenario_rate(variants[0].scenario),
        clock=SystemClock(),
        target=parse_target("p99<=100000s"),
        notes=COST_NOTES,
    )
    report_dir = tmp_path_factory.mktemp("sweep-report")
    write_sweep_reports(sweep, report_dir)
    return sweep, runs, report_dir


def test_both_variants_pass_and_the_cheaper_one_is_recommended(
    swept: tuple[SweepResult, dict[str, RunResult], Path],
) -> None:
    sweep, runs, _ = swept
    assert [o.name for o in sweep.outcomes] == ["buffer_mb=1", "buffer_mb=64"]
    assert all(r.passed for r in runs.values()), [r.verification.failed_checks for r in runs.values()]
    assert sweep.recommendation is not None
    costs = {o.name: o.cost.total_usd for o in sweep.outcomes if o.cost is not None}
    assert sweep.recommendation.chosen == min(costs, key=lambda name: costs[name])


def test_usage_agrees_with_what_the_run_saw(swept: tuple[SweepResult, dict[str, RunResult], Path]) -> None:
    sweep, runs, _ = swept
    for outcome in sweep.outcomes:
        usage = outcome.usage
        run = runs[outcome.name]
        assert usage is not None
        assert usage.invocations == run.invocations  # the runner's own count of the runtime's log
        assert usage.produced_records == run.verification.produced == 2400
        # no throttling or retries here: Firehose took each record once, and each archive line < 5,120 bytes
        assert usage.firehose_records == run.verification.archived_records
        assert usage.firehose_billed_bytes == usage.firehose_records * 5120
        assert usage.s3_objects == len(run.verification.objects) + len(run.verification.error_objects)
        assert usage.s3_puts == usage.s3_objects
        assert usage.s3_bytes == sum(o.size_bytes for o in run.verification.objects)
        assert usage.memory_mb == 256
        assert usage.billed_duration_ms > 0
        # the window ends at the last delivery, at or after the last send (120 clock seconds in)
        assert 120 <= usage.window_seconds <= run.clock_seconds
        assert outcome.freshness_s["p99"] is not None


def test_a_bigger_buffer_gives_no_more_objects(swept: tuple[SweepResult, dict[str, RunResult], Path]) -> None:
    sweep, _, _ = swept
    small, big = (o.usage for o in sweep.outcomes)
    assert small is not None
    assert big is not None
    assert big.s3_objects <= small.s3_objects
    assert small.s3_objects >= 3  # ~3 MB of lines through a 1 MB buffer


def test_reports_are_written(swept: tuple[SweepResult, dict[str, RunResult], Path]) -> None:
    sweep, _, report_dir = swept
    document = json.loads((report_dir / "sweep.json").read_text(encoding="utf-8"))
    assert document["schema"] == "msk-harness/sweep-report"
    summary = document["summary"]
    assert summary["recommended"] == sweep.recommendation.chosen if sweep.recommendation else None
    assert [v["variant"] for v in summary["variants"]] == ["buffer_mb=1", "buffer_mb=64"]
    first = summary["variants"][0]
    assert first["s3_objects"] == sweep.outcomes[0].usage.s3_objects  # type: ignore[union-attr]
    assert "lambda requests" in first["unpriced"]  # no sourced eu-west-1 Lambda figure
    html = (report_dir / "sweep.html").read_text(encoding="utf-8")
    assert html.count('<img src="data:image/png;base64,') == 3
    assert "Recommended: " in html


def test_cli_exits_1_when_no_variant_meets_the_target(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = sweep_command(
        scenario_file, grid=[], freshness="p99<=1ms", region="eu-west-1", report_dir=tmp_path / "r"
    )
    assert code == 1
    assert "no variant meets p99 <= 0.001 s" in capsys.readouterr().out
    assert (tmp_path / "r" / "sweep.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "buffer_mb=1,200"], "--grid buffer_mb=200: pipeline.firehose.BufferingHints.SizeInMBs"),
        (["--region", "mars-1"], "unknown region 'mars-1'"),
        (["--freshness", "p99<120"], "expected PERCENTILE<=SECONDS"),
        (["--speed", "0"], "--speed must be positive"),
    ],
)
def test_cli_bad_input_exits_2(
    scenario_file: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", str(scenario_file), *args]) == 2
    assert message in capsys.readouterr().err


def test_ctrl_c_stops_the_current_run_writes_the_partial_report_and_exits_130(
    scenario_file: Path, tmp_path: Path
) -> None:
    report = tmp_path / "r"
    proc = start_cli(
        *("sweep", str(scenario_file), "--grid", "buffer_mb=1,64"),
        *("--region", "eu-west-1", "--report-dir", str(report)),
    )
    out, started = interrupt_mid_run(proc, "[buffer_mb=1]] load")
    assert proc.returncode == 130, out
    assert "interrupted after 0 of 2 variants" in out
    stray = still_alive_after(started)
    assert stray == set(), [cmdline(p) for p in stray]
    document = json.loads((report / "sweep.json").read_text(encoding="utf-8"))
    assert document["summary"]["interrupted"] is True
    assert document["summary"]["variants_total"] == 2
