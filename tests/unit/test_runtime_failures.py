"""The function's distinct error reasons, the fail-fast rule, and the per-environment log files and tails."""

from __future__ import annotations

import json
from pathlib import Path

from harness.runtime.failures import FailFastRule, FunctionErrors, describe_error
from harness.runtime.log_sink import MAX_LINE_CHARS, TAIL_LINES, FunctionLog

IMPORT_ERROR = json.dumps(
    {
        "errorMessage": "Unable to import module 'handler': No module named 'nope'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
).encode()
RID = "0b6bb5b4-1f0c-4a8e-9d2e-1c7b0a7c9f11"


def fail(
    errors: FunctionErrors,
    *,
    payload: bytes = IMPORT_ERROR,
    outcome: str = "init_error",
    at: float = 0.0,
    injected: bool = False,
    request_id: str = RID,
) -> None:
    errors.failed(
        outcome=outcome,
        payload=payload,
        lambda_error_type="Runtime.ImportModuleError" if outcome == "init_error" else "Unhandled",
        request_id=request_id,
        environment_id=1,
        log_file="reports/x/functions/archiver-1.log",
        log_tail=(
            "START RequestId: x Version: $LATEST",
            "Traceback: boom",
            "END RequestId: x",
            "REPORT RequestId: x\tDuration: 0.00 ms",
        ),
        injected=injected,
        at=at,
    )


def handler_error(message: str) -> bytes:
    return json.dumps({"errorType": "URLError", "errorMessage": message, "stackTrace": []}).encode()


def test_the_reason_is_the_payloads_type_and_message_without_request_ids() -> None:
    assert describe_error(IMPORT_ERROR, "Runtime.ImportModuleError", "init_error") == (
        "Runtime.ImportModuleError",
        "Unable to import module 'handler': No module named 'nope'",
    )
    timeout = json.dumps(
        {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {RID} Error: Task timed out after 3.00 seconds",
        }
    ).encode()
    assert describe_error(timeout, "Sandbox.Timedout", "timeout") == (
        "Sandbox.Timedout",
        "Error: Task timed out after 3.00 seconds",
    )
    assert describe_error(b"not json", "Unhandled", "error") == ("Unhandled", "not json")
    assert describe_error(b"", None, "crash") == ("crash", "")


def test_distinct_errors_are_counted_with_the_first_occurrences_log_lines() -> None:
    errors = FunctionErrors()
    fail(errors)
    fail(errors, request_id="other")
    fail(errors, payload=handler_error("<urlopen error [Errno 111] Connection refused>"), outcome="error")
    first, second = errors.reasons()
    assert (first.headline, first.count, first.first_request_id) == (
        "Runtime.ImportModuleError: Unable to import module 'handler': No module named 'nope'",
        2,
        RID,
    )
    assert first.log_tail == ("Traceback: boom",)  # START/END/REPORT dropped
    assert (second.headline, second.count) == ("URLError: <urlopen error [Errno 111] Connection refused>", 1)


def test_three_identical_init_errors_and_no_success_give_up_at_once() -> None:
    errors = FunctionErrors()
    fail(errors)
    fail(errors)
    assert errors.give_up(0.0) is None
    fail(errors)
    reason = errors.give_up(0.0)
    assert reason is not None
    assert reason.startswith("stopped early: every invocation init failed")
    assert "3 in a row" in reason
    assert "Runtime.ImportModuleError: Unable to import module 'handler'" in reason
    assert "reports/x/functions/archiver-1.log" in reason


def test_handler_errors_need_ten_in_a_row_over_thirty_clock_seconds() -> None:
    errors = FunctionErrors(FailFastRule(errors=10, min_clock_seconds=30))
    payload = handler_error("connection refused")
    for i in range(10):
        fail(errors, payload=payload, outcome="error", at=float(i))
    assert errors.give_up(20.0) is None  # ten, but only 20 s since the first
    reason = errors.give_up(31.0)
    assert reason is not None
    assert "10 in a row over 31 clock s" in reason


def test_one_success_disarms_the_rule_for_good() -> None:
    errors = FunctionErrors()
    errors.succeeded()
    for _ in range(20):
        fail(errors)
    assert errors.give_up(1000.0) is None


def test_injected_failures_neither_count_nor_break_a_streak() -> None:
    errors = FunctionErrors()
    poison = handler_error("poison pill")
    for _ in range(20):
        fail(errors, payload=poison, outcome="error", injected=True)
    assert errors.give_up(1000.0) is None
    fail(errors)
    fail(errors, payload=poison, outcome="error", injected=True)
    fail(errors)
    fail(errors)
    assert errors.give_up(0.0) is not None
    assert [r.injected for r in errors.reasons()] == [True, False]


def test_a_different_error_restarts_the_streak() -> None:
    errors = FunctionErrors()
    fail(errors)
    fail(errors)
    fail(errors, payload=handler_error("something else"), outcome="init_error")
    fail(errors)
    assert errors.give_up(0.0) is None


def test_each_environment_has_its_own_file_and_a_bounded_tail(tmp_path: Path) -> None:
    log = FunctionLog(tmp_path / "functions", "archiver")
    one = log.open_environment(1, "2026/12/03/[$LATEST]ab")
    two = log.open_environment(2, "2026/12/03/[$LATEST]cd")
    with one.lock:
        one.write(b"first\nsecond line, unfinished")
    with two.lock:
        two.write(b"other environment\n")
    with one.lock:
        one.write(b" now done\n" + b"x" * (MAX_LINE_CHARS * 3) + b"\n")
        for i in range(TAIL_LINES + 5):
            one.write(f"line {i}\n".encode())
    log.close()
    assert log.files() == [
        tmp_path / "functions" / "archiver-1.log",
        tmp_path / "functions" / "archiver-2.log",
    ]
    text = log.files()[0].read_text()
    assert text.startswith("first\nsecond line, unfinished now done\n")  # the file keeps everything
    assert len(text.splitlines()[2]) == MAX_LINE_CHARS * 3
    assert log.files()[1].read_text() == "other environment\n"
    tail = one.tail()
    assert len(tail) == TAIL_LINES
    assert tail[-1] == f"line {TAIL_LINES + 4}"
    assert one.tail(2) == (f"line {TAIL_LINES + 3}", f"line {TAIL_LINES + 4}")


def test_an_unfinished_last_line_is_in_the_tail_and_long_lines_are_clipped(tmp_path: Path) -> None:
    log = FunctionLog(tmp_path, "fn")
    env = log.open_environment(1, "s")
    with env.lock:
        env.write(b"y" * (MAX_LINE_CHARS + 50) + b"\nTraceback (most recent call last):")
    long_line, last = env.tail()
    assert len(long_line) == MAX_LINE_CHARS
    assert long_line.endswith("…")
    assert last == "Traceback (most recent call last):"
    log.close()


def test_a_traceback_joined_with_carriage_returns_is_split_into_lines(tmp_path: Path) -> None:
    log = FunctionLog(tmp_path, "fn")
    env = log.open_environment(1, "s")
    with env.lock:
        env.write(b"[ERROR] KeyError: 'x'\rTraceback (most recent call last):\r  File \"h.py\", line 3\r\n")
    assert env.tail() == (
        "[ERROR] KeyError: 'x'",
        "Traceback (most recent call last):",
        '  File "h.py", line 3',
    )
    log.close()


def test_a_handler_errors_lines_are_those_after_its_own_start_line() -> None:
    errors = FunctionErrors()
    errors.failed(
        outcome="error",
        payload=handler_error("boom"),
        lambda_error_type="Unhandled",
        request_id=RID,
        environment_id=1,
        log_file="",
        log_tail=(
            "START RequestId: earlier Version: $LATEST",
            "an earlier invocation's line",
            "END RequestId: earlier",
            f"START RequestId: {RID} Version: $LATEST",
            "[ERROR] URLError: boom",
            f"END RequestId: {RID}",
        ),
        injected=False,
        at=0.0,
    )
    assert errors.reasons()[0].log_tail == ("[ERROR] URLError: boom",)
