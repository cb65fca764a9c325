"""Sweep reports: `sweep.json` (the whole SweepResult plus a per-variant summary) and the terminal table.

The HTML report with plots lives in harness/sizing/report_html.py.

Example::

    print_sweep(result, Console())
    write_sweep_reports(result, Path("reports/sweep-archive-sweep-20260713T140000Z"))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report.format import human_bytes
from harness.report.json_report import to_jsonable
from harness.sizing.summary import variant_summary
from harness.sizing.sweep import SweepResult

SCHEMA = "msk-harness/sweep-report"
SCHEMA_VERSION = 1
JSON_NAME = "sweep.json"
HTML_NAME = "sweep.html"


def sweep_document(result: SweepResult) -> dict[str, Any]:
    """The JSON document: schema tag, recommendation, per-variant summary, then the whole result."""
    recommendation = result.recommendation
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "summary": {
            "scenario": result.scenario_name,
            "region": result.region,
            "architecture": result.architecture,
            "rate_records_per_second": result.rate,
            "variants_run": len(result.outcomes),
            "variants_total": result.total_variants,
            "interrupted": result.interrupted,
            "target": result.target.describe() if result.target else None,
            "recommended": recommendation.chosen if recommendation else None,
            "closest": recommendation.closest if recommendation else None,
            "recommendation": recommendation.reason if recommendation else None,
            "variants": [variant_summary(o) for o in result.outcomes],
        },
        "result": to_jsonable(result),
    }


def render_sweep_json(result: SweepResult) -> str:
    """The report as JSON text."""
    return json.dumps(sweep_document(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_sweep_reports(result: SweepResult, directory: Path) -> list[Path]:
    """Write sweep.json and sweep.html into `directory` (created); returns the paths."""
    from harness.sizing.report_html import render_sweep_html  # noqa: PLC0415 - matplotlib loads slowly

    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / JSON_NAME
    json_path.write_text(render_sweep_json(result), encoding="utf-8", errors="backslashreplace")
    html_path = directory / HTML_NAME
    html_path.write_text(render_sweep_html(result), encoding="utf-8", errors="backslashreplace")
    return [json_path, html_path]


def _num(value: float | None, fmt: str = "{:,.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def print_sweep(result: SweepResult, console: Console) -> None:
    """The per-variant table, the recommendation and what could not be priced."""
    table = Table(title=f"sweep {result.scenario_name}: {result.region}, {result.rate:g} rec/s")
    table.add_column("#", justify="right")
    table.add_column("variant", overflow="fold")
    table.add_column("ok")
    for name in ("p50", "p99", "max"):
        table.add_column(f"{name} s", justify="right")
    for header in ("invoc.", "obj/h", "avg obj", "$/month"):
        table.add_column(header, justify="right")
    for outcome in result.outcomes:
        summary = variant_summary(outcome)
        status = Text("yes", style="green") if summary["eligible"] else Text("NO", style="red")
        monthly = summary["monthly_usd"]
        average = summary["average_object_bytes"]
        table.add_row(
            str(outcome.index + 1),
            Text(outcome.name),
            status,
            *(_num(outcome.freshness_s.get(name)) for name in ("p50", "p99", "max")),
            _num(summary["lambda_invocations"], "{:,}"),
            _num(summary["objects_per_hour"]),
            human_bytes(average) if average is not None else "-",
            _num(monthly["total"] if monthly else None, "{:,.2f}"),
        )
    console.print(table)
    console.print(
        "figures per run (clock time); $/month scaled to the scenario rate over 730 h, "
        "priced lines only (MSK excluded)",
        highlight=False,
    )
    for outcome in result.outcomes:
        if outcome.reason is not None:
            console.print(Text(f"{outcome.name}: ") + Text(outcome.reason, style="red"), highlight=False)
    unpriced = sorted({item for o in result.outcomes if o.cost for item in o.cost.unpriced})
    if unpriced:
        console.print(
            f"unpriced in {result.region} (no sourced price): {', '.join(unpriced)}", highlight=False
        )
    if result.interrupted:
        console.print(
            f"[yellow]interrupted[/] after {len(result.outcomes)} of {result.total_variants} variants",
            highlight=False,
        )
    if result.recommendation is not None:
        rec = result.recommendation
        style = "green" if rec.chosen else "red"
        head = f"recommended: {rec.chosen}" if rec.chosen else "no recommendation"
        console.print(Text(head, style=style) + Text(f" ({rec.reason})"), highlight=False)
