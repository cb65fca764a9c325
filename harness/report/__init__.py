"""Run reports: terminal summary, JSON, JUnit XML and a self-contained HTML page with plots.

Example::

    paths = write_reports(result, Path("reports/smoke"), junit_path=Path("reports/junit.xml"))
    print_summary(result, Console())
"""

from __future__ import annotations

from pathlib import Path

from harness.report.html import HTML_NAME, render_html
from harness.report.json_report import JSON_NAME, render_json, run_result_from_json, write_json_report
from harness.report.junit import render_junit, write_junit
from harness.report.terminal import print_summary
from harness.run.result import RunResult

__all__ = [
    "HTML_NAME",
    "JSON_NAME",
    "print_summary",
    "render_html",
    "render_json",
    "render_junit",
    "run_result_from_json",
    "write_json_report",
    "write_junit",
    "write_reports",
]


def write_reports(result: RunResult, report_dir: Path, *, junit_path: Path | None = None) -> list[Path]:
    """Write report.json and report.html under `report_dir` (created), and JUnit XML when asked."""
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = [write_json_report(result, report_dir)]
    html_path = report_dir / HTML_NAME
    # Lone surrogates (undecodable bytes in a captured error) are written as visible \udcxx escapes.
    page = render_html(result, report_dir=report_dir)
    html_path.write_text(page, encoding="utf-8", errors="backslashreplace")
    paths.append(html_path)
    if junit_path is not None:
        paths.append(write_junit(result, junit_path))
    return paths
