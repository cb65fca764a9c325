"""JUnit XML for CI: one testcase per expectation check, a run error as an <error> testcase.

Layout (what Jenkins, GitLab and GitHub test reporters read)::

    <testsuites name="msk-harness" tests failures errors time>
      <testsuite name="msk-harness:<scenario>" tests failures errors skipped="0" time timestamp>
        <properties>scenario path, clock start, speed, clock seconds</properties>
        <testcase classname="<scenario>" name="<check>" time="0"/>
        <testcase classname="<scenario>" name="<check>"><failure message="expected .., actual ..">details
        </failure></testcase>
        <testcase classname="<scenario>" name="run"><error message="<run error>">..</error></testcase>
        <testcase classname="<scenario>" name="function"><failure message="stopped early: ..">..</failure>
        </testcase>
      </testsuite>
    </testsuites>

Checks have no duration of their own, so each testcase says time="0"; the suite carries the run's wall time.

Example::

    write_junit(result, Path("reports/junit.xml"))
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report.format import MAX_NAMED_RECORDS, named_in, named_records, summary_rows
from harness.run.result import RunResult
from harness.verify.result import CheckResult

RUN_ERROR_TESTCASE = "run"
STOPPED_EARLY_TESTCASE = "function"  # the fail-fast rule stopped the run: a failure, with the reasons

# Characters XML 1.0 cannot carry even escaped (ElementTree would write them and produce a broken file).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 forbids replaced by a visible `\\xNN` escape."""
    return _XML_ILLEGAL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def render_junit(result: RunResult) -> str:
    """The JUnit XML document for `result` as text (UTF-8 declared)."""
    report = result.verification
    scenario = xml_text(result.scenario_name)
    stopped = 1 if result.stopped_early is not None else 0
    failures = len(report.failed_checks) + stopped
    errors = 1 if result.error is not None else 0
    tests = len(report.checks) + errors + stopped
    totals = {
        "tests": str(tests),
        "failures": str(failures),
        "errors": str(errors),
        "time": f"{result.wall_seconds:.3f}",
    }
    root = ET.Element("testsuites", {"name": "msk-harness", **totals})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": f"msk-harness:{scenario}",
            **totals,
            "skipped": "0",
            "timestamp": result.started_at.isoformat(timespec="seconds"),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("scenario_path", result.scenario_path),
        ("clock_start", result.clock_start.isoformat()),
        ("speed", f"{result.speed:g}"),
        ("clock_seconds", f"{result.clock_seconds:.3f}"),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    if result.error is not None:
        case = ET.SubElement(
            suite, "testcase", {"classname": scenario, "name": RUN_ERROR_TESTCASE, "time": "0"}
        )
        error = ET.SubElement(case, "error", {"message": xml_text(result.error), "type": "RunError"})
        error.text = xml_text(result.error)
    if result.stopped_early is not None:
        case = ET.SubElement(
            suite, "testcase", {"classname": scenario, "name": STOPPED_EARLY_TESTCASE, "time": "0"}
        )
        failure = ET.SubElement(
            case, "failure", {"message": xml_text(result.stopped_early), "type": "StoppedEarly"}
        )
        failure.text = xml_text(
            "\n".join([result.stopped_early, *(r.headline for r in result.function_error_reasons)])
        )
    for check in report.checks:
        _add_check(suite, scenario, check, result)
    out = ET.SubElement(suite, "system-out")
    out.text = xml_text("\n".join(f"{label}: {value}" for label, value in summary_rows(result)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=False).join(
        ('<?xml version="1.0" encoding="UTF-8"?>\n', "\n")
    )


def write_junit(result: RunResult, path: Path) -> Path:
    """Write the JUnit XML to `path` (parent directories created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(result), encoding="utf-8")
    return path


def _add_check(suite: ET.Element, scenario: str, check: CheckResult, result: RunResult) -> None:
    case = ET.SubElement(
        suite, "testcase", {"classname": scenario, "name": xml_text(check.name), "time": "0"}
    )
    if check.passed:
        return
    message = f"expected {check.expected}, actual {check.actual}"
    failure = ET.SubElement(case, "failure", {"message": xml_text(message), "type": "ExpectationFailed"})
    lines = [f"check: {check.name}", f"expected: {check.expected}", f"actual: {check.actual}"]
    lines.extend(check.details)
    lines.extend(_findings_not_in(check, result))
    failure.text = xml_text("\n".join(lines))


def _findings_not_in(check: CheckResult, result: RunResult) -> list[str]:
    """Lost/corrupted records for the loss or corruption check, when its details do not name them."""
    report = result.verification
    name = check.name.lower()
    extra: list[str] = []
    for word, refs, matches in (
        ("lost", report.lost, "loss" in name or "lost" in name),
        ("corrupted", report.corrupted, "corrupt" in name),
    ):
        if matches and refs and not named_in(refs, check.details):
            extra.append(f"{word} records ({len(refs)}):")
            extra.extend(f"  {line}" for line in named_records(refs, MAX_NAMED_RECORDS))
    return extra
