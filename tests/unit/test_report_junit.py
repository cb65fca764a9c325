"""JUnit XML: a testcase per check, failures with expected/actual and the lost records, errors, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from harness.report.junit import render_junit, write_junit, xml_text
from harness.verify.result import CheckResult
from tests.unit.test_report_data import LOST, TRICKY_CHECK, empty_result, make_report, make_result


def _suite(xml: str) -> ET.Element:
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def test_passing_run_has_one_passing_testcase_per_check() -> None:
    result = make_result(passed=True)
    suite = _suite(render_junit(result))
    assert suite.get("name") == "msk-harness:smoke"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "0", "0")
    assert suite.get("time") == "62.000"
    assert suite.get("timestamp") == "2026-11-24T21:00:05+00:00"
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == ["no_loss", "duplicates", "latency_p99", TRICKY_CHECK]
    assert {case.get("classname") for case in cases} == {"smoke"}
    assert all(len(case) == 0 for case in cases)
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["scenario_path"] == "scenarios/smoke.yaml"
    assert properties["speed"] == "10"


def test_failed_checks_carry_expected_actual_and_name_the_lost_records(tmp_path: Path) -> None:
    path = write_junit(make_result(passed=False), tmp_path / "nested" / "junit.xml")
    suite = _suite(path.read_text(encoding="utf-8"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "0")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    failure = cases["no_loss"].find("failure")
    assert failure is not None
    assert failure.get("message") == "expected 0 lost, actual 3 lost"
    assert "orders-2@1417 (key=k17, sha256=ab12cd34ef56…)" in (failure.text or "")
    assert "orders-0@88 (key=clé-<&>" in (failure.text or "")
    assert (failure.text or "").count("orders-2@1417") == 1  # the check named it; not listed again
    tricky = cases[TRICKY_CHECK].find("failure")
    assert tricky is not None
    assert tricky.get("message") == "expected key matches <data/…>, actual 1 key & more"
    assert cases["duplicates"].find("failure") is None


def test_loss_check_without_details_still_names_the_lost_records() -> None:
    checks = (CheckResult("no_loss", False, "0 lost", "3 lost"),)
    result = replace(make_result(), verification=replace(make_report(passed=False), checks=checks))
    failure = _suite(render_junit(result)).find("testcase/failure")
    assert failure is not None
    text = failure.text or ""
    assert "lost records (3):" in text
    assert all(ref.describe() in text for ref in LOST)


def test_run_error_becomes_an_error_testcase() -> None:
    result = replace(empty_result('broker 0 did not start:\n  <log> & "tail"'), scenario_name="smøke")
    suite = _suite(render_junit(result))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "1")
    case = suite.find("testcase")
    assert case is not None
    assert (case.get("classname"), case.get("name")) == ("smøke", "run")
    error = case.find("error")
    assert error is not None
    assert error.get("message") == 'broker 0 did not start:\n  <log> & "tail"'


def test_run_error_and_checks_are_counted_together() -> None:
    result = make_result(passed=False, error="interrupted")
    suite = _suite(render_junit(result))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "1")


def test_control_characters_do_not_break_the_xml() -> None:
    checks = (CheckResult("bell\x07 check", False, "nul\x00", "esc\x1b[0m"),)
    result = replace(make_result(), verification=replace(make_report(passed=True), checks=checks))
    case = _suite(render_junit(result)).find("testcase")
    assert case is not None
    assert case.get("name") == "bell\\x07 check"
    assert xml_text("tab\tand\nnewline") == "tab\tand\nnewline"
