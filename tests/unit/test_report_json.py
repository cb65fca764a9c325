"""report.json: the whole RunResult, stable keys, ISO datetimes, base64 bytes, and back again."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from harness.report import write_reports
from harness.report.json_report import (
    SCHEMA,
    SCHEMA_VERSION,
    ReportFormatError,
    render_json,
    run_result_from_json,
    write_json_report,
)
from tests.unit.test_report_data import LOST, TRICKY_CHECK, empty_result, make_result

RUN_RESULT_KEYS = [
    "scenario_name", "scenario_path", "started_at", "clock_start", "speed", "wall_seconds", "clock_seconds",
    "timeline", "faults", "invocations", "failed_invocations", "function_errors", "verification", "error",
    "usage", "aws_endpoints", "function_runs_on", "stopped_early", "function_error_reasons", "function_logs",
    "load_rate",
]  # fmt: skip


def test_json_has_the_schema_and_the_result_keys_in_field_order(tmp_path: Path) -> None:
    path = write_json_report(make_result(passed=False), tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert path.name == "report.json"
    assert list(document) == ["schema", "schema_version", "summary", "result"]
    assert document["schema"] == SCHEMA
    assert document["schema_version"] == SCHEMA_VERSION
    assert list(document["result"]) == RUN_RESULT_KEYS
    assert document["summary"]["status"] == "FAILED"
    assert document["summary"]["lost"] == 3
    assert set(document["summary"]["latency_ms"]) == {"p50", "p90", "p99", "max"}
    assert document["summary"]["objects_per_hour"] == {"2026/07/13/13": 4, "2026/07/13/14": 6}
    verification = document["result"]["verification"]
    assert verification["lost"][0] == {
        "topic": "orders",
        "partition": 2,
        "offset": 1417,
        "key": "azE3",  # base64 of b"k17"
        "value_sha256": LOST[0].value_sha256,
        "where": None,
    }
    assert verification["lost"][2]["key"] is None
    assert document["result"]["started_at"] == "2026-11-24T21:00:05+00:00"
    assert verification["objects"][0]["last_modified"] == "2026-11-24T21:00:13+00:00"


@pytest.mark.parametrize("passed", [True, False])
def test_json_round_trips_to_an_equal_result(passed: bool) -> None:
    result = make_result(passed=passed)
    again = run_result_from_json(json.loads(render_json(result)))
    assert again == result
    assert again.started_at.tzinfo is not None
    assert [ref.key for ref in again.verification.lost] == [ref.key for ref in result.verification.lost]


def test_json_round_trips_a_run_error_and_non_ascii_text() -> None:
    result = replace(empty_result("S3 endpoint refused: <Error>&amp; ünï"), scenario_name="smøke <&>")
    text = render_json(result)
    assert "smøke <&>" in text  # written as UTF-8, not \u escapes
    assert run_result_from_json(json.loads(text)) == result
    assert json.loads(text)["summary"]["status"] == "ERROR"


def test_non_finite_floats_stay_valid_json() -> None:
    result = replace(make_result(), speed=math.inf)
    text = render_json(result)
    json.loads(text, parse_constant=lambda name: pytest.fail(f"invalid JSON constant {name}"))
    assert run_result_from_json(json.loads(text)).speed == math.inf


def test_reading_a_broken_report_names_the_path() -> None:
    document = json.loads(render_json(make_result(passed=False)))
    document["result"]["verification"]["lost"][0]["offset"] = "1417"
    where = r"result\.verification\.lost\[0\]\.offset"
    with pytest.raises(ReportFormatError, match=where + ": expected an integer"):
        run_result_from_json(document)
    del document["result"]["timeline"]
    with pytest.raises(ReportFormatError, match="missing key 'timeline'"):
        run_result_from_json(document)
    with pytest.raises(ReportFormatError, match="schema_version"):
        run_result_from_json({**document, "schema_version": 99})
    with pytest.raises(ReportFormatError, match="not an msk-harness run report"):
        run_result_from_json({"result": {}})


def test_write_reports_creates_the_directory_and_every_file(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports" / "smoke"
    junit = tmp_path / "ci" / "junit.xml"
    paths = write_reports(make_result(passed=False), report_dir, junit_path=junit)
    assert paths == [report_dir / "report.json", report_dir / "report.html", junit]
    assert all(path.stat().st_size > 0 for path in paths)
    checks = json.loads(paths[0].read_text(encoding="utf-8"))["result"]["verification"]["checks"]
    assert checks[3]["name"] == TRICKY_CHECK
    assert write_reports(make_result(), tmp_path / "again") == [
        tmp_path / "again" / "report.json",
        tmp_path / "again" / "report.html",
    ]


def test_large_runs_are_written_compact_and_still_round_trip() -> None:
    small = make_result(passed=False)
    latencies = tuple(float(i) for i in range(30_000))
    big = replace(small, verification=replace(small.verification, latencies_ms=latencies))
    text = render_json(big)
    assert text.count("\n") == 1
    assert run_result_from_json(json.loads(text)) == big
    assert render_json(make_result()).count("\n") > 100  # small runs stay readable


def test_undecodable_bytes_in_an_error_are_written_and_read_back(tmp_path: Path) -> None:
    error = b"broker log: \xff\xfe tail".decode("utf-8", "surrogateescape")
    result = empty_result(error)
    paths = write_reports(result, tmp_path, junit_path=tmp_path / "junit.xml")
    assert run_result_from_json(json.loads(paths[0].read_text(encoding="utf-8"))).error == error
    assert "broker log: \\udcff\\udcfe tail" in paths[1].read_text(encoding="utf-8")
    assert "broker log: \\udcff" not in paths[2].read_text(encoding="utf-8")  # junit replaced them
