"""The terminal summary: verdict, checks table, named lost records, faults, figures; plain when piped."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from harness.report import print_summary
from harness.run.result import RunResult
from harness.verify.result import CheckResult, RecordRef
from tests.unit.test_report_data import TRICKY_CHECK, empty_result, make_report, make_result


def _render(result: RunResult) -> str:
    console = Console(record=True, width=100)
    print_summary(result, console)
    return console.export_text()


def test_passing_run_shows_passed_and_every_check_row() -> None:
    text = _render(make_result(passed=True))
    first = text.splitlines()[0]
    assert "smoke: PASSED" in first
    assert "wall 1m 2.0s" in first
    assert "clock 10m 0.0s at 10x" in first
    for name in ("no_loss", "duplicates", "latency_p99", TRICKY_CHECK):
        row = next(line for line in text.splitlines() if name in line)
        assert "pass" in row
    assert "FAIL" not in text
    assert "lost records" not in text


def test_failing_run_shows_failed_rows_lost_records_faults_and_figures() -> None:
    text = _render(make_result(passed=False))
    assert "smoke: FAILED" in text.splitlines()[0]
    no_loss = next(line for line in text.splitlines() if line.startswith("│ no_loss"))
    assert "0 lost" in no_loss
    assert "3 lost" in no_loss
    assert "FAIL" in no_loss
    assert "orders-2@1417 (key=k17, sha256=ab12cd34ef56…)" in text
    assert "orders-0@88 (key=clé-<&>, sha256=ff00ff00ff00…)" in text
    assert text.count("orders-2@1417") == 1  # named once though the check and the report both carry it
    assert "   120.0s  broker 0 kill (line 31)  ok" in text
    assert "broker 0 restart (line 33)  failed" in text
    assert "412 (3 failed)" in text
    assert "Runtime.ExitError x2" in text
    assert "10 in 2 hour prefix(es)" in text
    assert text.rstrip().endswith("report verdict: FAILED")


def test_lost_records_not_in_any_check_are_named_with_a_count() -> None:
    lost = tuple(RecordRef("orders", 0, offset, b"k", "ab" * 32) for offset in range(14))
    checks = (CheckResult("no_loss", False, "0 lost", "14 lost"),)
    report = replace(make_report(passed=False), lost=lost, checks=checks)
    text = _render(replace(make_result(), verification=report))
    assert "lost records (14):" in text
    assert "orders-0@9 (key=k" in text
    assert "orders-0@10 (key=k" not in text
    assert "… and 4 more" in text


def test_run_error_is_shown_with_the_error_verdict() -> None:
    text = _render(empty_result("Kafka broker 0 did not start: [ERROR] <tail> & more"))
    assert "smoke: ERROR" in text.splitlines()[0]
    # text that looks like rich markup is printed as it is
    assert "run error: Kafka broker 0 did not start: [ERROR] <tail> & more" in text
    assert "no expectations were checked" in text


def test_long_text_folds_within_100_columns() -> None:
    long_check = CheckResult("key_pattern_" + "x" * 80, False, "matches " + "y" * 90, "z" * 120)
    report = replace(make_report(passed=True), checks=(long_check,))
    text = _render(replace(make_result(), verification=report))
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "z" * 20 in text


def test_no_colour_codes_when_not_a_terminal() -> None:
    out = io.StringIO()
    print_summary(make_result(passed=False), Console(file=out, width=100))
    assert "\x1b[" not in out.getvalue()
    assert "FAILED" in out.getvalue()
    coloured = io.StringIO()
    print_summary(make_result(passed=False), Console(file=coloured, width=100, force_terminal=True))
    assert "\x1b[" in coloured.getvalue()


def test_undecodable_bytes_in_an_error_print_to_a_strict_utf8_stream(tmp_path: Path) -> None:
    error = b"broker log: \xff tail".decode("utf-8", "surrogateescape")
    with (tmp_path / "out.txt").open("w", encoding="utf-8", errors="strict") as out:
        print_summary(empty_result(error), Console(file=out, width=100))
    assert "run error: broker log: \\udcff tail" in (tmp_path / "out.txt").read_text(encoding="utf-8")
