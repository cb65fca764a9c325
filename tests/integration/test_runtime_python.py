"""Python functions end to end through the unmodified awslambdaric against our Runtime API."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.clock import Clock, FakeClock, ScaledClock, SystemClock
from harness.runtime.env_vars import InvalidParameterValueException
from harness.runtime.function import (
    FunctionConfig,
    FunctionRuntime,
    RequestTooLargeError,
    RuntimeOptions,
)
from tests.integration.procs import descendants

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "functions"
MB6 = 6 * 1024 * 1024

MakeRuntime = Callable[..., FunctionRuntime]


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[MakeRuntime]:
    """Builds started runtimes for this test and stops them all (and checks no process is left) afterwards."""
    started: list[FunctionRuntime] = []

    def make(
        code: str = "python_basic",
        handler: str = "basic_handler.lambda_handler",
        *,
        clock: Clock | None = None,
        runtime: str = "python3.12",
        **kwargs: Any,
    ) -> FunctionRuntime:
        config_keys = {"timeout_seconds", "memory_mb", "environment"}
        config = FunctionConfig(
            name="fn",
            runtime=runtime,
            handler=handler,
            code_dir=FIXTURES / code,
            **{k: v for k, v in kwargs.items() if k in config_keys},
        )
        fn = FunctionRuntime(
            config,
            clock=clock or SystemClock(),
            rng=random.Random(42),
            log_dir=tmp_path / "logs",
            **{k: v for k, v in kwargs.items() if k not in config_keys},
        )
        started.append(fn)
        return fn.start()

    try:
        yield make
    finally:
        for fn in started:
            fn.stop()
        assert runtime_processes() == set()


def runtime_processes() -> set[int]:
    """Live processes below us that run a Lambda runtime (awslambdaric, our node bootstrap, a fixture)."""
    found = set()
    for pid in descendants(os.getpid()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"awslambdaric" in cmdline or b"node_runtime.mjs" in cmdline or str(FIXTURES).encode() in cmdline:
            found.add(pid)
    return found


def invoke_json(fn: FunctionRuntime, event: Any) -> tuple[Any, Any]:
    result = fn.invoke(json.dumps(event).encode())
    return result, json.loads(result.payload)


def test_awslambdaric_runs_handler_end_to_end_with_context(make_runtime: MakeRuntime) -> None:
    fn = make_runtime()
    result, body = invoke_json(fn, {"hello": "world"})
    assert result.ok
    assert result.error_type is None
    assert body["event"] == {"hello": "world"}
    ctx = body["context"]
    assert ctx["function_name"] == "fn"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert ctx["memory_limit_in_mb"] == "128"
    assert ctx["aws_request_id"] == result.request_id
    assert ctx["log_group_name"] == "/aws/lambda/fn"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", ctx["log_stream_name"])
    assert 0 < ctx["remaining_ms"] <= 3000
    assert ctx["identity_pool"] is None
    assert ctx["client_context"] is None
    second, body2 = invoke_json(fn, {})
    assert body2["context"]["aws_request_id"] == second.request_id != result.request_id


def test_environment_variables_are_set_before_import(make_runtime: MakeRuntime) -> None:
    fn = make_runtime(
        environment={"MY_VAR": "mine"}, memory_mb=256, extra_env={"AWS_ENDPOINT_URL_S3": "http://x"}
    )
    _, body = invoke_json(fn, {})
    assert body["env_at_import"] == {
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "MY_VAR": "mine",
        "TZ": ":UTC",
    }
    env = body["env"]
    expected = {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "_HANDLER": "basic_handler.lambda_handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL_S3": "http://x",
        "MY_VAR": "mine",
    }
    assert {k: env.get(k) for k in expected} == expected
    task_root = Path(env["LAMBDA_TASK_ROOT"])  # a read-only copy of the code directory, like /var/task
    assert task_root != FIXTURES / "python_basic"
    original = FIXTURES / "python_basic" / "basic_handler.py"
    assert (task_root / "basic_handler.py").read_bytes() == original.read_bytes()
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == body["context"]["log_stream_name"]
    assert "LAMBDA_RUNTIME_DIR" in env
    assert env["PATH"]
    _, again = invoke_json(fn, {})
    trace1, trace2 = env["_X_AMZN_TRACE_ID"], again["env"]["_X_AMZN_TRACE_ID"]
    assert trace1.startswith("Root=1-")
    assert trace1 != trace2


def test_reserved_keys_are_rejected() -> None:
    with pytest.raises(
        InvalidParameterValueException, match="Reserved keys used in this request: AWS_REGION"
    ):
        FunctionConfig("fn", "python3.12", "h.f", FIXTURES / "python_basic", environment={"AWS_REGION": "eu"})
    with pytest.raises(ValueError, match="extra_env may not set reserved"):
        FunctionRuntime(
            FunctionConfig("fn", "python3.12", "h.f", FIXTURES / "python_basic"),
            clock=SystemClock(),
            rng=random.Random(1),
            log_dir=Path("/tmp"),
            extra_env={"_HANDLER": "x.y"},
        )


def test_init_runs_once_and_again_after_a_timeout_reset(make_runtime: MakeRuntime) -> None:
    fn = make_runtime(timeout_seconds=1)
    first, b1 = invoke_json(fn, {})
    second, b2 = invoke_json(fn, {})
    assert first.cold_start
    assert first.init_duration_ms is not None
    assert not second.cold_start
    assert second.init_duration_ms is None
    assert (b1["init_count"], b1["invokes"], b2["init_count"], b2["invokes"]) == (1, 1, 1, 2)
    assert b1["pid"] == b2["pid"]

    timed_out = fn.invoke(json.dumps({"action": "sleep", "seconds": 30}).encode())
    assert not timed_out.ok
    assert timed_out.error_type == "Sandbox.Timedout"
    assert json.loads(timed_out.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {timed_out.request_id} Error: Task timed out after 1.00 seconds",
    }
    third, b3 = invoke_json(fn, {})
    assert third.cold_start
    assert (b3["init_count"], b3["invokes"]) == (1, 1)
    assert b3["pid"] != b1["pid"]
    assert not Path(f"/proc/{b1['pid']}").exists() or "Z" in Path(f"/proc/{b1['pid']}/stat").read_text()


def test_timeout_runs_on_the_injected_scaled_clock(make_runtime: MakeRuntime) -> None:
    # 0.8 real seconds of sleep is 4 s on a 5x clock: past a 2 s timeout (it would pass on real time).
    fn = make_runtime(
        timeout_seconds=2, clock=ScaledClock(speed=5.0), options=RuntimeOptions(init_timeout_seconds=60)
    )
    result = fn.invoke(json.dumps({"action": "sleep", "seconds": 0.8}).encode())
    assert result.error_type == "Sandbox.Timedout"
    assert b"after 2.00 seconds" in result.payload


def test_deadline_header_is_start_plus_timeout_in_the_runtimes_time(make_runtime: MakeRuntime) -> None:
    # The clock starts months back and stands still: the header is still real now + timeout, because the
    # runtime subtracts its own wall clock (AWS: deadline = invocation start + timeout, epoch ms).
    start = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    fn = make_runtime(
        "provided_bootstrap", "ignored", runtime="provided.al2023", clock=FakeClock(start), timeout_seconds=7
    )
    before = SystemClock().now().timestamp() * 1000
    result = fn.invoke(b'{"k": 1}')
    after = SystemClock().now().timestamp() * 1000
    assert result.ok
    assert before + 7000 - 1 <= int(json.loads(result.payload)["deadline"]) <= after + 7000


def test_remaining_time_runs_out_when_the_scaled_clock_times_out(make_runtime: MakeRuntime) -> None:
    # A 20 s timeout on a 10x clock a year ahead is 2 real seconds: a handler that works until 300 ms are
    # left must see its time run out then, and finish before the kill.
    clock = ScaledClock(start=datetime(2027, 7, 13, 14, 59, 58, tzinfo=UTC), speed=10.0)
    options = RuntimeOptions(init_timeout_seconds=60, clock_speed=10.0)
    fn = make_runtime(timeout_seconds=20, clock=clock, options=options)
    result, body = invoke_json(fn, {"action": "until_deadline"})
    assert result.ok, result.payload
    assert 1000 < body["first"] <= 2000
    assert 0 <= body["last"] <= 300


def test_remaining_time_decreases_and_is_never_negative(make_runtime: MakeRuntime) -> None:
    fn = make_runtime()
    _, body = invoke_json(fn, {"action": "twice"})
    first, second = body["remaining"]
    assert 3000 >= first >= second >= 0


def test_handler_exception_has_lambda_error_shape_and_keeps_environment(make_runtime: MakeRuntime) -> None:
    fn = make_runtime()
    _, before = invoke_json(fn, {})
    result, err = invoke_json(fn, {"action": "raise"})
    assert not result.ok
    assert result.error_type == "Unhandled"
    assert err["errorType"] == "KeyError"
    assert err["errorMessage"] == "'value'"
    assert err["requestId"] == result.request_id
    assert isinstance(err["stackTrace"], list)
    assert all(isinstance(line, str) for line in err["stackTrace"])
    assert "lambda_handler" in "".join(err["stackTrace"])
    _, after = invoke_json(fn, {})
    assert after["pid"] == before["pid"]


def test_process_exit_mid_invoke_is_runtime_exit_error(make_runtime: MakeRuntime) -> None:
    fn = make_runtime()
    result, err = invoke_json(fn, {"action": "exit"})
    assert result.error_type == "Runtime.ExitError"
    assert err == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 3",
    }
    again, _ = invoke_json(fn, {})
    assert again.ok
    assert again.cold_start


def test_response_over_6mb_is_a_function_error(make_runtime: MakeRuntime) -> None:
    fn = make_runtime()
    result, err = invoke_json(fn, {"action": "big", "size": MB6})
    assert not result.ok
    assert result.error_type == "Function.ResponseSizeTooLarge"
    assert err["errorType"] == "Function.ResponseSizeTooLarge"
    ok, _ = invoke_json(fn, {"action": "big", "size": MB6 - 2})  # exactly 6 MB with the JSON quotes
    assert ok.ok


def test_request_over_6mb_is_rejected_before_sending(make_runtime: MakeRuntime) -> None:
    fn = make_runtime()
    with pytest.raises(RequestTooLargeError, match="6291456 bytes"):
        fn.invoke(b"x" * (MB6 + 1))
    assert fn.invocations() == []
    assert fn.environment_count() == 0


def test_init_error_fails_the_attempt_and_discards_the_environment(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("python_init_error", "broken_init.lambda_handler")
    first, err = invoke_json(fn, {})
    assert not first.ok
    assert first.cold_start
    # awslambdaric reports an exception raised at import under its own class name (ImportError would be
    # Runtime.ImportModuleError); the error type header is what the runtime sent.
    assert first.error_type == "RuntimeError"
    assert err["errorType"] == "RuntimeError"
    assert err["errorMessage"] == "init exploded"
    second, _ = invoke_json(fn, {})
    assert second.cold_start
    assert [r.outcome for r in fn.invocations()] == ["init_error", "init_error"]
    assert fn.invocations()[0].environment_id != fn.invocations()[1].environment_id


def test_init_over_the_limit_is_retried_inside_the_first_invoke(make_runtime: MakeRuntime) -> None:
    fn = make_runtime(
        "python_slow_init",
        "slow_init.lambda_handler",
        timeout_seconds=10,
        environment={"SLOW_INIT_SECONDS": "1.0"},
        options=RuntimeOptions(init_timeout_seconds=0.3),
    )
    result, _ = invoke_json(fn, {})
    assert result.ok
    assert result.cold_start
    records = fn.invocations()
    assert len(records) == 1
    # The first environment was abandoned: the answering one is the second.
    assert records[0].environment_id == 2


def test_concurrent_invokes_use_separate_environments(make_runtime: MakeRuntime) -> None:
    fn = make_runtime(max_environments=3)
    results: list[Any] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            res = fn.invoke(json.dumps({"action": "sleep", "seconds": 0.2}).encode())
            with lock:
                results.append(res)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 15
    assert all(r.ok for r in results)
    records = fn.invocations()
    envs = {r.environment_id for r in records}
    # Five callers keep more than three invocations waiting: every allowed environment is made, no more.
    assert len(envs) == 3
    assert sum(r.cold_start for r in records) == 3
    assert fn.environment_count() == 3


def test_one_invocation_at_a_time_per_environment(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("python_basic", max_environments=2)
    spans: list[tuple[int, float, float]] = []
    lock = threading.Lock()
    together = threading.Barrier(4)

    def worker() -> None:
        together.wait(timeout=30)
        for _ in range(4):
            res = fn.invoke(json.dumps({"action": "span", "seconds": 0.05}).encode())
            body = json.loads(res.payload)
            with lock:
                spans.append((body["pid"], body["span"][0], body["span"][1]))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by_pid: dict[int, list[tuple[float, float]]] = {}
    for pid, begin, end in spans:
        by_pid.setdefault(pid, []).append((begin, end))
    assert len(by_pid) == 2
    for intervals in by_pid.values():
        intervals.sort()
        for (_, end), (begin, _) in itertools.pairwise(intervals):
            assert end <= begin


def test_log_file_has_start_end_report_lines(make_runtime: MakeRuntime) -> None:
    fn = make_runtime()
    first, _ = invoke_json(fn, {})
    second, _ = invoke_json(fn, {})
    lines = "".join(p.read_text() for p in fn.log_files()).splitlines()
    assert f"START RequestId: {first.request_id} Version: $LATEST" in lines
    assert f"END RequestId: {second.request_id}" in lines
    reports = [line for line in lines if line.startswith("REPORT ")]
    assert len(reports) == 2
    pattern = (
        r"REPORT RequestId: {id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t"
        r"Max Memory Used: [1-9]\d* MB\t{init}"
    )
    assert re.fullmatch(
        pattern.format(id=first.request_id, init=r"Init Duration: \d+\.\d\d ms\t"), reports[0]
    )
    assert re.fullmatch(pattern.format(id=second.request_id, init=""), reports[1])
    # The function's own output sits between its START and END.
    start = lines.index(f"START RequestId: {first.request_id} Version: $LATEST")
    end = lines.index(f"END RequestId: {first.request_id}")
    assert "handling echo invoke 1" in lines[start:end]
    record = fn.invocations()[0]
    assert (record.request_id, record.outcome, record.cold_start) == (first.request_id, "success", True)
    assert record.max_memory_used_mb is not None
    assert record.max_memory_used_mb > 0
