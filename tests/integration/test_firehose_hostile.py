"""The emulator's HTTP front door under hostile clients: AWS-shaped answers, bounded time and threads."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from firehose_emulator.http_bounded import Answer, BoundedHTTPServer, Limits
from firehose_emulator.object_store import MemoryObjectStore
from firehose_emulator.server import FirehoseServer
from firehose_emulator.service import FirehoseService
from harness.clock import FakeClock

pytestmark = pytest.mark.timeout(60)
TARGET = "Firehose_20150804.ListDeliveryStreams"


@pytest.fixture(scope="module")
def server() -> Iterator[FirehoseServer]:
    """The emulator (default engine) with short time limits so the timeout cases stay fast."""
    service = FirehoseService(MemoryObjectStore(("b",)), clock=FakeClock(), rng=random.Random(0))
    limits = Limits(head_timeout_s=1.0, body_timeout_s=1.0, idle_timeout_s=2.0)
    with FirehoseServer(service, limits=limits) as running:
        yield running


def _port(server: FirehoseServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _exchange(port: int, raw: bytes, *, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send `raw`, read one response until the server closes or the body is complete."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(lines[0].split(" ")[1]), headers, body


def _post(length_header: str | None, body: bytes = b"", target: str = TARGET) -> bytes:
    head = f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {target}\r\n"
    if length_header is not None:
        head += f"Content-Length: {length_header}\r\n"
    return head.encode() + b"\r\n" + body


def _error(body: bytes) -> dict[str, str]:
    parsed: dict[str, str] = json.loads(body)
    assert set(parsed) == {"__type", "message"}
    return parsed


def test_a_100_mb_claim_is_refused_before_the_body_is_read(server: FirehoseServer) -> None:
    started = time.monotonic()
    status, headers, body = _exchange(_port(server), _post(str(100 * 1024 * 1024), b"{" * 1000))
    assert status == 413
    assert _error(body)["__type"] == "SerializationException"
    assert headers["connection"] == "close"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("value", ["-1", "abc", "1e3", ""])
def test_a_bad_content_length_is_a_400_not_a_hang(server: FirehoseServer, value: str) -> None:
    status, _, body = _exchange(_port(server), _post(value))
    assert status == 400
    assert _error(body) == {"__type": "SerializationException", "message": f"Invalid Content-Length {value}"}


def test_a_post_without_content_length_is_a_400(server: FirehoseServer) -> None:
    status, _, body = _exchange(_port(server), _post(None))
    assert status == 400
    assert _error(body) == {"__type": "SerializationException", "message": "Missing Content-Length"}


def test_deep_json_is_a_400_serialization_error_not_a_500(server: FirehoseServer) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    status, _, body = _exchange(_port(server), _post(str(len(deep)), deep))
    assert status == 400
    assert _error(body)["__type"] == "SerializationException"


def test_a_slow_head_and_a_slow_body_time_out(server: FirehoseServer) -> None:
    status, _, body = _exchange(_port(server), b"POST / HTTP/1.1\r\nHost: x\r\n")  # never finishes the head
    assert (status, _error(body)["message"]) == (408, "Request timed out")
    status, _, body = _exchange(_port(server), _post("1000", b"{}"))  # 2 of 1,000 body bytes
    assert (status, _error(body)["message"]) == (408, "Request timed out")


def test_an_idle_keep_alive_connection_is_closed(server: FirehoseServer) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(_post("2", b"{}"))
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert sock.recv(1) == b""  # the server closes it after the idle timeout
        assert time.monotonic() - started < 8


def test_a_thousand_slow_connections_take_no_threads(server: FirehoseServer) -> None:
    before = threading.active_count()
    socks = [socket.create_connection(("127.0.0.1", _port(server)), timeout=10) for _ in range(1000)]
    try:
        for sock in socks:
            sock.sendall(b"POST / HTTP/1.1\r\n")
        assert threading.active_count() == before
        status, _, body = _exchange(_port(server), _post("2", b"{}"))  # others are still served
        assert status == 200
        assert json.loads(body)["DeliveryStreamNames"] == []
    finally:
        for sock in socks:
            sock.close()


def test_a_full_worker_queue_answers_503_service_unavailable() -> None:
    release, entered = threading.Event(), threading.Event()

    def slow(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        entered.set()
        release.wait(20)
        return 200, b"{}", "application/x-amz-json-1.1", "rid"

    http = BoundedHTTPServer(("127.0.0.1", 0), slow, Limits(workers=1, queue_size=1))
    loop = threading.Thread(target=http.serve_forever, daemon=True)
    loop.start()
    socks: list[socket.socket] = []
    try:
        for _ in range(2):  # the first runs (the worker is inside it), the second fills the queue
            sock = socket.create_connection(("127.0.0.1", http.server_port), timeout=10)
            sock.sendall(_post("2", b"{}"))
            socks.append(sock)
            assert entered.wait(10)
        time.sleep(0.3)
        status, _, body = _exchange(http.server_port, _post("2", b"{}"))
        assert status == 503
        assert _error(body)["__type"] == "ServiceUnavailableException"
        release.set()
        for sock in socks:
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    finally:
        release.set()
        for sock in socks:
            sock.close()
        http.shutdown()
        http.server_close()
