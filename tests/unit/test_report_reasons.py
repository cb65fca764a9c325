"""Function error reasons and function logs in the terminal summary, report.json and report.html."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

from rich.console import Console

from harness.report import print_summary, render_html, render_junit, run_result_from_json, write_reports
from harness.run.result import RunResult
from harness.runtime.failures import FunctionErrorReason
from tests.unit.test_report_data import make_result

STOP = "stopped early: every invocation init failed with the same error, 3 in a row over 0 clock s"
IMPORT = FunctionErrorReason(
    error_type="Runtime.ImportModuleError",
    message="Unable to import module 'handler': No module named 'settings'",
    count=3,
    outcome="init_error",
    injected=False,
    first_request_id="7d0c2f1e-0000-4000-8000-000000000001",
    environment_id=1,
    log_file="REPORT_DIR/functions/archiver-1.log",
    log_tail=("reading <settings>", "[ERROR] Runtime.ImportModuleError: Unable to import module 'handler'"),
)
POISON = replace(
    IMPORT,
    error_type="ValueError",
    message="poison pill",
    count=40,
    outcome="error",
    injected=True,
    log_tail=(),
)


def failing(report_dir: Path) -> RunResult:
    reasons = tuple(
        replace(r, log_file=r.log_file.replace("REPORT_DIR", str(report_dir))) for r in (IMPORT, POISON)
    )
    logs = (
        str(report_dir / "functions" / "archiver-1.log"),
        str(report_dir / "functions" / "archiver-2.log"),
    )
    return replace(
        make_result(passed=False), stopped_early=STOP, function_error_reasons=reasons, function_logs=logs
    )


def test_the_terminal_puts_the_stop_reason_first_then_each_error_with_its_lines(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    print_summary(failing(tmp_path), console)
    lines = console.export_text().splitlines()
    assert "smoke: FAILED" in lines[0]
    assert lines[1] == STOP
    assert lines[2] == "function errors (2 distinct):"
    assert (
        lines[3].strip()
        == "Runtime.ImportModuleError: Unable to import module 'handler': No module named 'settings'  x3"
    )
    assert lines[4].strip() == "| reading <settings>"
    assert "first: request 7d0c2f1e-0000-4000-8000-000000000001, environment 1" in lines[6]
    assert lines[7].strip() == "ValueError: poison pill  x40 (injected by a fault rule)"
    assert f"function logs: {tmp_path / 'functions'} (2 environments)" in lines[9]


def test_a_run_without_function_errors_prints_no_error_section() -> None:
    console = Console(record=True, width=200)
    print_summary(make_result(passed=True), console)
    assert "function errors (" not in console.export_text()


def test_json_names_the_reasons_and_the_log_files_and_reads_back(tmp_path: Path) -> None:
    result = failing(tmp_path)
    write_reports(result, tmp_path)
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    summary = document["summary"]
    assert summary["status"] == "FAILED"
    assert summary["stopped_early"] == STOP
    assert summary["function_errors"][0] == {
        "error": "Runtime.ImportModuleError: Unable to import module 'handler': No module named 'settings'",
        "count": 3,
        "log_file": str(tmp_path / "functions" / "archiver-1.log"),
    }
    assert summary["function_logs"] == list(result.function_logs)
    assert run_result_from_json(document) == result


def test_html_shows_the_reasons_escaped_and_links_the_logs_relative_to_the_report(tmp_path: Path) -> None:
    page = render_html(failing(tmp_path), plots=(), report_dir=tmp_path)
    assert STOP in page
    assert "reading &lt;settings&gt;" in page
    assert "reading <settings>" not in page
    assert page.count('href="functions/archiver-1.log"') == 3  # both errors' first occurrence, the list
    assert 'href="functions/archiver-2.log"' in page
    assert page.index(STOP) < page.index("<h2>Summary</h2>")


def test_a_stopped_run_has_not_passed() -> None:
    assert make_result(passed=True).passed
    assert not replace(make_result(passed=True), stopped_early=STOP).passed


def test_junit_counts_the_early_stop_as_a_failure_with_the_reasons(tmp_path: Path) -> None:
    result = failing(tmp_path)
    root = ElementTree.fromstring(render_junit(result))
    suite = root.find("testsuite")
    assert suite is not None
    case = suite.find("testcase[@name='function']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == STOP
    assert "Runtime.ImportModuleError: Unable to import module 'handler'" in (failure.text or "")
    assert suite.get("failures") == str(len(result.verification.failed_checks) + 1)
