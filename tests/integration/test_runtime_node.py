"""Node.js (CommonJS, ES module, callback) and provided.* functions through our bootstraps."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.clock import SystemClock
from harness.runtime.function import FunctionConfig, FunctionRuntime

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "functions"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

MakeRuntime = Callable[[str, str, str], FunctionRuntime]


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[MakeRuntime]:
    """Started runtimes, stopped after the test whatever happens."""
    started: list[FunctionRuntime] = []

    def make(code: str, handler: str, runtime: str) -> FunctionRuntime:
        config = FunctionConfig(
            name=code.replace("_", "-"), runtime=runtime, handler=handler, code_dir=FIXTURES / code
        )
        fn = FunctionRuntime(config, clock=SystemClock(), rng=random.Random(3), log_dir=tmp_path)
        started.append(fn)
        return fn.start()

    try:
        yield make
    finally:
        for fn in started:
            fn.stop()


def call(fn: FunctionRuntime, event: Any) -> tuple[Any, Any]:
    result = fn.invoke(json.dumps(event).encode())
    return result, json.loads(result.payload)


def test_commonjs_async_handler_gets_event_context_and_inits_once(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("node_cjs", "index.handler", "nodejs20.x")
    first, b1 = call(fn, {"n": 1})
    second, b2 = call(fn, {"n": 2})
    assert first.ok
    assert second.ok
    assert first.cold_start
    assert not second.cold_start
    assert b1["kind"] == "cjs"
    assert b1["event"] == {"n": 1}
    assert (b1["initCount"], b1["invokes"], b2["initCount"], b2["invokes"]) == (1, 1, 1, 2)
    assert b1["pid"] == b2["pid"]
    assert b1["functionName"] == "node-cjs"
    assert b1["memoryLimitInMB"] == "128"
    assert b1["awsRequestId"] == first.request_id
    assert b1["invokedFunctionArn"] == fn.config.function_arn
    assert 0 < b1["remaining"] <= 3000
    assert b1["traceId"].startswith("Root=1-")
    assert b1["traceId"] != b2["traceId"]
    assert b1["region"] == "us-east-1"
    # console.log lines carry the AWS prefix: time, request id, level.
    log = "".join(p.read_text() for p in fn.log_files())
    assert re.search(rf"\S+Z\t{first.request_id}\tINFO\thandling 1", log)


def test_commonjs_error_has_node_error_shape(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("node_cjs", "index.handler", "nodejs22.x")
    result, err = call(fn, {"action": "raise"})
    assert not result.ok
    assert result.error_type == "Unhandled"
    assert err["errorType"] == "TypeError"
    assert err["errorMessage"] == "bad record"
    assert isinstance(err["trace"], list)
    assert err["trace"][0] == "TypeError: bad record"


def test_es_module_handler(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("node_esm", "index.handler", "nodejs20.x")
    result, body = call(fn, {"esm": True})
    assert result.ok
    assert body["kind"] == "esm"
    assert body["event"] == {"esm": True}
    assert body["awsRequestId"] == result.request_id


def test_callback_handler_success_and_error(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("node_callback", "index.handler", "nodejs20.x")
    ok, body = call(fn, {"x": 1})
    assert ok.ok
    assert body == {"kind": "callback", "event": {"x": 1}, "awsRequestId": ok.request_id}
    failed, err = call(fn, {"action": "raise"})
    assert not failed.ok
    assert err["errorType"] == "Error"
    assert err["errorMessage"] == "callback failure"


def test_missing_node_handler_is_an_init_error(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("node_cjs", "index.nothere", "nodejs20.x")
    result, err = call(fn, {})
    assert not result.ok
    assert result.error_type == "Runtime.HandlerNotFound"
    assert err["errorType"] == "Runtime.HandlerNotFound"


def test_provided_bootstrap_gets_the_same_event_bytes(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("provided_bootstrap", "anything.here", "provided.al2023")
    event = b'{"records":{"t-0":[{"value":"aGk=","offset":7}]},  "spacing" : "kept"}'
    result = fn.invoke(event)
    assert result.ok
    body = json.loads(result.payload)
    assert body["received"].encode() == event
    assert body["handler"] == "anything.here"
    assert "custom runtime got" in "".join(p.read_text() for p in fn.log_files())
