"""The Runtime API server over real HTTP: the test plays the runtime with http.client (spec §7.6)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator

import pytest

from harness.runtime.api_server import EnvironmentChannel, Invocation, RuntimeApiServer

MB6 = 6 * 1024 * 1024
BASE = "/2018-06-01/runtime"


@pytest.fixture
def served() -> Iterator[tuple[EnvironmentChannel, str, RuntimeApiServer]]:
    """A server with one environment channel; closed after the test."""
    server = RuntimeApiServer()
    channel = EnvironmentChannel(1)
    address = server.open(channel)
    try:
        yield channel, address, server
    finally:
        server.close(channel)
        server.close_all()


def request(
    address: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, BASE + path, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def make_invocation(request_id: str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd") -> Invocation:
    return Invocation(
        request_id=request_id,
        event=b'{"a": 1}',
        deadline_ms=1542409706888,
        function_arn="arn:aws:lambda:us-east-2:123456789012:function:custom-runtime",
        trace_id="Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
    )


def next_in_background(address: str) -> tuple[threading.Thread, list[tuple[int, dict[str, str], bytes]]]:
    out: list[tuple[int, dict[str, str], bytes]] = []
    thread = threading.Thread(target=lambda: out.append(request(address, "GET", "/invocation/next")))
    thread.start()
    return thread, out


def test_next_blocks_until_assigned_and_returns_the_four_headers(
    served: tuple[EnvironmentChannel, str, RuntimeApiServer],
) -> None:
    channel, address, _ = served
    thread, out = next_in_background(address)
    assert channel.ready.wait(10)  # the GET arrived and is waiting
    assert not out
    inv = make_invocation()
    channel.assign(inv)
    thread.join(10)
    status, headers, body = out[0]
    assert status == 200
    assert body == b'{"a": 1}'
    assert headers["Lambda-Runtime-Aws-Request-Id"] == inv.request_id
    assert headers["Lambda-Runtime-Deadline-Ms"] == "1542409706888"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == inv.function_arn
    assert headers["Lambda-Runtime-Trace-Id"] == inv.trace_id
    assert "Lambda-Runtime-Client-Context" not in headers
    assert "Lambda-Runtime-Cognito-Identity" not in headers
    assert inv.delivered.is_set()


def deliver(channel: EnvironmentChannel, address: str, inv: Invocation) -> None:
    thread, out = next_in_background(address)
    channel.assign(inv)
    thread.join(10)
    assert out[0][0] == 200


def test_response_is_202_then_403_on_repeat(served: tuple[EnvironmentChannel, str, RuntimeApiServer]) -> None:
    channel, address, _ = served
    inv = make_invocation()
    deliver(channel, address, inv)
    status, _, _ = request(address, "POST", f"/invocation/{inv.request_id}/response", b'{"ok": true}')
    assert status == 202
    assert inv.result is not None
    assert (inv.result.kind, inv.result.body) == ("response", b'{"ok": true}')
    again, _, _ = request(address, "POST", f"/invocation/{inv.request_id}/response", b"{}")
    assert again == 403
    unknown, _, _ = request(address, "POST", "/invocation/not-a-request/response", b"{}")
    assert unknown == 403


def test_response_over_6mb_is_413_and_fails_the_invocation(
    served: tuple[EnvironmentChannel, str, RuntimeApiServer],
) -> None:
    channel, address, _ = served
    inv = make_invocation()
    deliver(channel, address, inv)
    status, _, _ = request(address, "POST", f"/invocation/{inv.request_id}/response", b"x" * (MB6 + 1))
    assert status == 413
    assert inv.result is not None
    assert inv.result.error_type == "Function.ResponseSizeTooLarge"


def test_error_is_202_and_fails_the_attempt_bad_body_is_400(
    served: tuple[EnvironmentChannel, str, RuntimeApiServer],
) -> None:
    channel, address, _ = served
    inv = make_invocation()
    deliver(channel, address, inv)
    bad, _, _ = request(address, "POST", f"/invocation/{inv.request_id}/error", b"not json")
    assert bad == 400
    assert not inv.done.is_set()
    body = json.dumps({"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}).encode()
    headers = {"Lambda-Runtime-Function-Error-Type": "Unhandled"}
    status, _, _ = request(address, "POST", f"/invocation/{inv.request_id}/error", body, headers)
    assert status == 202
    assert inv.result is not None
    assert (inv.result.kind, inv.result.body) == ("error", body)
    assert request(address, "POST", f"/invocation/{inv.request_id}/error", body, headers)[0] == 403


def test_init_error_is_202_and_discards_the_environment(
    served: tuple[EnvironmentChannel, str, RuntimeApiServer],
) -> None:
    channel, address, _ = served
    body = json.dumps({"errorMessage": "no handler", "errorType": "Runtime.NoSuchHandler"}).encode()
    headers = {"Lambda-Runtime-Function-Error-Type": "Runtime.NoSuchHandler"}
    status, _, _ = request(address, "POST", "/init/error", body, headers)
    assert status == 202
    assert channel.gone.is_set()
    assert channel.init_error is not None
    assert channel.init_error.error_type == "Runtime.NoSuchHandler"
    assert channel.init_error.body == body


def test_init_error_after_init_is_403(served: tuple[EnvironmentChannel, str, RuntimeApiServer]) -> None:
    channel, address, _ = served
    deliver(channel, address, make_invocation())
    assert (
        request(address, "POST", "/init/error", b"{}", {"Lambda-Runtime-Function-Error-Type": "X"})[0] == 403
    )


def test_unknown_endpoint_is_404(served: tuple[EnvironmentChannel, str, RuntimeApiServer]) -> None:
    _, address, _ = served
    assert request(address, "GET", "/invocation/other")[0] == 404
    assert request(address, "POST", "/invocation/abc/other", b"{}")[0] == 404
