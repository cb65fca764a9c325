"""Summarising runs into sweep outcomes, and the three report renderings (terminal, JSON, HTML)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console

from harness.run.result import RunResult, Usage
from harness.run.session import empty_report
from harness.sizing.grid import build_variants, parse_grid
from harness.sizing.prices import UNITS, Price, RegionPrices
from harness.sizing.recommend import parse_target
from harness.sizing.report import print_sweep, render_sweep_json
from harness.sizing.report_html import render_sweep_html
from harness.sizing.sweep import SweepResult, choose, summarize
from harness.verify.result import ArchiveObjectInfo, CheckResult

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 7, 13, 14, tzinfo=UTC)
PRICES = RegionPrices(
    "test-1",
    {
        "lambda_requests": Price(
            "lambda_requests", 0.2, UNITS["lambda_requests"], "https://x.invalid/", date(2026, 1, 1)
        ),
        "s3_standard_put": Price(
            "s3_standard_put", 0.005, UNITS["s3_standard_put"], "https://x.invalid/", date(2026, 1, 1)
        ),
    },
)
USAGE = Usage(
    produced_records=100,
    invocations=4,
    billed_duration_ms=400,
    memory_mb=256,
    firehose_records=100,
    firehose_bytes=100_000,
    firehose_billed_bytes=512_000,
    s3_puts=2,
    s3_objects=2,
    s3_bytes=30_000,
    window_seconds=1800.0,
)


def _result(latencies: tuple[float, ...], *, failed: bool = False, error: str | None = None) -> RunResult:
    objects = tuple(
        ArchiveObjectInfo(f"data/k{i}.gz", size, 50, "GZIP", None, "2026/07/13/14")
        for i, size in enumerate((10_000, 20_000))
    )
    checks = (CheckResult("no_loss", not failed, "no record lost", "3 lost" if failed else "none lost"),)
    report = dataclasses.replace(empty_report(100), latencies_ms=latencies, objects=objects, checks=checks)
    return RunResult(
        scenario_name="archive-sweep",
        scenario_path="scenarios/sizing/archive-sweep.yaml",
        started_at=START,
        clock_start=START,
        speed=60.0,
        wall_seconds=20.0,
        clock_seconds=1200.0,
        timeline=(),
        faults=(),
        invocations=4,
        failed_invocations=0,
        function_errors={},
        verification=report,
        error=error,
        usage=USAGE,
    )


def _sweep() -> SweepResult:
    target = parse_target("p99<=120s")
    variants = build_variants(
        ROOT / "scenarios" / "sizing" / "archive-sweep.yaml", parse_grid(["buffer_mb=1,5,64"])
    )
    results = [_result((50_000.0, 90_000.0)), _result((10_000.0,), failed=True), _result((), error="boom")]
    outcomes = tuple(
        summarize(v, r, prices=PRICES, rate=20.0, architecture="x86_64", target=target)
        for v, r in zip(variants, results, strict=True)
    )
    return SweepResult(
        scenario_name="archive-sweep",
        scenario_path="scenarios/sizing/archive-sweep.yaml",
        started_at=START,
        region="test-1",
        architecture="x86_64",
        rate=20.0,
        total_variants=3,
        outcomes=outcomes,
        target=target,
        recommendation=choose(outcomes, target),
        notes=("a note",),
    )


def test_summarize_takes_clock_second_percentiles_and_says_why_a_variant_failed() -> None:
    ok, failed, broken = _sweep().outcomes
    assert ok.freshness_s == {"p50": 50.0, "p90": 90.0, "p99": 90.0, "max": 90.0}
    assert ok.target_latency_s == 90.0
    assert ok.reason is None
    assert ok.objects_per_hour == 4.0
    assert ok.average_object_bytes == 15_000.0
    assert failed.reason == "failed: no_loss (expected no record lost, got 3 lost)"
    assert broken.reason == "run error: boom"
    assert broken.freshness_s["p99"] is None


def test_failed_variants_are_not_recommended_even_when_fresher() -> None:
    recommendation = _sweep().recommendation
    assert recommendation is not None
    assert recommendation.chosen == "buffer_mb=1"


def test_terminal_table_names_failures_unpriced_items_and_the_choice() -> None:
    console = Console(record=True, width=120)
    print_sweep(_sweep(), console)
    text = console.export_text()
    assert "buffer_mb=5: failed: no_loss" in text
    assert "buffer_mb=64: run error: boom" in text
    assert "unpriced in test-1 (no sourced price): firehose ingestion" in text
    assert "recommended: buffer_mb=1" in text


def test_json_and_html_reports() -> None:
    sweep = _sweep()
    document = json.loads(render_sweep_json(sweep))
    assert document["summary"]["recommended"] == "buffer_mb=1"
    assert [v["eligible"] for v in document["summary"]["variants"]] == [True, False, False]
    assert document["summary"]["variants"][0]["monthly_usd"]["total"] > 0
    html = render_sweep_html(sweep)
    assert html.count('<img src="data:image/png;base64,') == 3
    assert "Recommended: buffer_mb=1" in html
    assert "run error: boom" in html
