"""RunResult.failures()/summary(): the plugin's assertion message says what failed, not `[]`."""

from __future__ import annotations

from tests.unit.test_report_data import empty_result, make_result


def test_a_passing_run_has_no_failures_and_a_one_line_verdict() -> None:
    result = make_result(passed=True)
    assert result.failures() == []
    summary = result.summary()
    assert summary.splitlines()[0].startswith("scenario smoke PASSED: 60000 produced, 60000 archived, 0 lost")
    assert "function errors: Runtime.ExitError x2, Sandbox.Timedout x1" in summary


def test_a_failing_run_names_each_failed_check_with_what_was_measured() -> None:
    result = make_result(passed=False)
    failures = result.failures()
    assert len(failures) == 2
    assert failures[0].startswith("no_loss: expected 0 lost, got 3 lost (e.g. lost orders-2@1417")
    assert "FAILED" in result.summary().splitlines()[0]
    assert all(f"  {failure}" in result.summary() for failure in failures)


def test_a_run_that_did_not_complete_says_why_first() -> None:
    result = empty_result("kafka: broker 0 did not start (port 9092 in use)")
    assert result.failures() == ["run did not complete: kafka: broker 0 did not start (port 9092 in use)"]
    assert "FAILED" in result.summary()
