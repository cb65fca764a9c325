"""Fault hooks acting on real execution environments: raise, time out or crash chosen invocations."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.clock import SystemClock
from harness.runtime.faults import OnEvent, OnIndex, OnParsedEvent, OnRecord
from harness.runtime.function import FunctionConfig, FunctionRuntime

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "functions"


@pytest.fixture
def fn(tmp_path: Path) -> Iterator[FunctionRuntime]:
    """A started Python function with a 1 s timeout, stopped after the test."""
    config = FunctionConfig(
        "faulty", "python3.12", "basic_handler.lambda_handler", FIXTURES / "python_basic", timeout_seconds=1
    )
    runtime = FunctionRuntime(config, clock=SystemClock(), rng=random.Random(5), log_dir=tmp_path)
    with runtime:
        yield runtime


def kafka_event(*values: bytes) -> bytes:
    records = [
        {"topic": "t", "partition": 0, "offset": i, "timestamp": 0, "timestampType": "CREATE_TIME",
         "value": base64.b64encode(v).decode(), "headers": []}
        for i, v in enumerate(values)
    ]  # fmt: skip
    return json.dumps({"eventSource": "aws:kafka", "records": {"t-0": records}}).encode()


def pid_of(runtime: FunctionRuntime) -> Any:
    result = runtime.invoke(b"{}")
    assert result.ok
    return json.loads(result.payload)["pid"]


def test_raise_by_index_keeps_the_environment(fn: FunctionRuntime) -> None:
    fn.faults.raise_error(OnIndex({1}), message="downstream unavailable", error_type="ConnectionError")
    pid = pid_of(fn)
    failed = fn.invoke(b"{}")
    assert not failed.ok
    assert failed.error_type == "Unhandled"
    assert json.loads(failed.payload) == {
        "errorMessage": "downstream unavailable",
        "errorType": "ConnectionError",
        "requestId": failed.request_id,
        "stackTrace": [],
    }
    assert pid_of(fn) == pid
    assert [r.fault for r in fn.invocations()] == [None, "raise", None]


def test_timeout_on_event_predicate_kills_at_the_deadline(fn: FunctionRuntime) -> None:
    fn.faults.timeout(OnEvent(lambda raw: b"hang" in raw))
    pid = pid_of(fn)
    result = fn.invoke(b'{"note": "hang"}')
    assert result.error_type == "Sandbox.Timedout"
    assert b"Task timed out after 1.00 seconds" in result.payload
    after = fn.invoke(b"{}")
    assert after.cold_start
    assert json.loads(after.payload)["pid"] != pid


def test_crash_on_record_kills_the_real_process(fn: FunctionRuntime) -> None:
    rule = fn.faults.crash(OnRecord(lambda r: r.value == b"poison"), times=1)
    pid = pid_of(fn)
    assert fn.invoke(kafka_event(b"fine", b"ok")).ok
    crashed = fn.invoke(kafka_event(b"fine", b"poison"))
    assert crashed.error_type == "Runtime.ExitError"
    assert json.loads(crashed.payload)["errorMessage"] == (
        f"RequestId: {crashed.request_id} Error: Runtime exited with error: signal: killed"
    )
    assert not Path(f"/proc/{pid}").exists() or " Z " in Path(f"/proc/{pid}/stat").read_text()
    # times=1: the retry of the same batch succeeds on a fresh environment.
    retry = fn.invoke(kafka_event(b"fine", b"poison"))
    assert retry.ok
    assert retry.cold_start
    assert rule.fired == 1
    log = "".join(p.read_text() for p in fn.log_files())
    assert f"REPORT RequestId: {crashed.request_id}" in log
    assert "Status: error\tError Type: Runtime.ExitError" in log


def test_parsed_event_predicate(fn: FunctionRuntime) -> None:
    fn.faults.raise_error(OnParsedEvent(lambda e: isinstance(e, dict) and e.get("bad") is True))
    assert fn.invoke(b'{"bad": false}').ok
    failed = fn.invoke(b'{"bad": true}')
    assert json.loads(failed.payload)["errorType"] == "InjectedFault"
