"""The emulator's HTTP server: `POST /` for the Firehose API, `/_emulator/...` for the test hooks.

Three engines share one request path (`FirehoseProtocol` / `AdminApi`): the bounded event-loop server of
http_bounded.py (default: request size, time and worker limits, 503 when full), the stdlib
`ThreadingHTTPServer` (a thread per connection, no limits) and werkzeug's threaded WSGI server; the last two
are kept for the side-by-side measurements (benchmarks/bench_firehose_ingest.py, bench_firehose_hostile.py).

Known deviations from AWS:

* Plain HTTP on 127.0.0.1 only; no TLS.

Example::

    with FirehoseServer(service, port=0) as server:
        boto3.client("firehose", endpoint_url=server.url, ...)
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from firehose_emulator.admin import ADMIN_PREFIX, AdminApi
from firehose_emulator.http_bounded import Answer, BoundedHTTPServer, Limits, Route
from firehose_emulator.protocol import CONTENT_TYPE, FirehoseProtocol
from firehose_emulator.service import FirehoseService

ENGINES = ("bounded", "stdlib", "werkzeug")


class _Handler(BaseHTTPRequestHandler):
    """Moves bytes between the socket and the protocol; one instance per connection."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (it costs throughput and fills test output)."""

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str, request_id: str | None = None) -> None:
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}", f"Content-Type: {content_type}"]
        if request_id is not None:
            head.append(f"x-amzn-RequestId: {request_id}")
        head.append(f"Content-Length: {len(body)}")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def do_POST(self) -> None:
        """Firehose API at `/`, admin hooks under `/_emulator/`."""
        body = self._body()
        if self.path.startswith(ADMIN_PREFIX):
            status, payload = self.server.admin.handle("POST", self.path, body)
            self._send(status, payload, "application/json")
            return
        response = self.server.protocol.handle(
            self.headers.get("X-Amz-Target"), body, self.headers.get("Authorization")
        )
        self._send(response.status, response.body, CONTENT_TYPE, response.request_id)

    def do_GET(self) -> None:
        """Admin reads (metrics, deliveries, health)."""
        self._body()
        if self.path.startswith(ADMIN_PREFIX):
            status, payload = self.server.admin.handle("GET", self.path, b"")
        else:
            status, payload = 404, b'{"error": "the Firehose API is POST /"}'
        self._send(status, payload, "application/json")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], protocol: FirehoseProtocol, admin: AdminApi) -> None:
        self.protocol = protocol
        self.admin = admin
        super().__init__(address, _Handler)


def bounded_route(protocol: FirehoseProtocol, admin: AdminApi) -> Route:
    """The same routes for the bounded engine (http_bounded.py)."""

    def route(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if path.startswith(ADMIN_PREFIX):
            status, payload = admin.handle(method, path, body if method == "POST" else b"")
            return status, payload, "application/json", None
        if method != "POST":
            return 404, b'{"error": "the Firehose API is POST /"}', "application/json", None
        response = protocol.handle(headers.get("x-amz-target"), body, headers.get("authorization"))
        return response.status, response.body, CONTENT_TYPE, response.request_id

    return route


def wsgi_app(protocol: FirehoseProtocol, admin: AdminApi) -> Callable[..., Iterable[bytes]]:
    """The same routes as a WSGI application (for the werkzeug engine)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        method = environ["REQUEST_METHOD"]
        if path.startswith(ADMIN_PREFIX):
            status, payload = admin.handle(method, path, body)
            start_response(
                f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
            )
            return [payload]
        response = protocol.handle(environ.get("HTTP_X_AMZ_TARGET"), body, environ.get("HTTP_AUTHORIZATION"))
        start_response(
            f"{response.status} X",
            [
                ("Content-Type", CONTENT_TYPE),
                ("x-amzn-RequestId", response.request_id),
                ("Content-Length", str(len(response.body))),
            ],
        )
        return [response.body]

    return app


class FirehoseServer:
    """Serves one `FirehoseService` over HTTP on a background thread (context manager)."""

    def __init__(
        self,
        service: FirehoseService,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        engine: str = "bounded",
        rng: random.Random | None = None,
        limits: Limits | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.service = service
        self.protocol = FirehoseProtocol(service, rng)
        self.admin = AdminApi(service)
        self._host, self._port, self._engine = host, port, engine
        self._limits = limits  # the bounded engine's (None: its defaults)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """`http://host:port` once started."""
        if self._server is None:
            raise RuntimeError("server not started")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> Self:
        """Bind and serve on a daemon thread."""
        if self._engine == "bounded":
            self._server = BoundedHTTPServer(
                (self._host, self._port), bounded_route(self.protocol, self.admin), self._limits
            )
        elif self._engine == "stdlib":
            self._server = _HTTPServer((self._host, self._port), self.protocol, self.admin)
        else:
            from werkzeug.serving import make_server  # noqa: PLC0415 - only the werkzeug engine needs it

            self._server = make_server(
                self._host, self._port, wsgi_app(self.protocol, self.admin), threaded=True
            )
        self._thread = threading.Thread(target=self._server.serve_forever, name="firehose-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._server is None:
            return
        self._server.shutdown()
        with contextlib.suppress(OSError):
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
