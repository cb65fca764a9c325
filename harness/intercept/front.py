"""The HTTPS front: AWS host names in function environments land here and go on to the emulator owning them.

It listens on 127.0.0.1 (a free port), presents a certificate for whatever name the client asked for (SNI)
from the local CA, picks the service from the SigV4 credential scope (or the host name when the request is
unsigned), and forwards the request as plain HTTP to that service's emulator with the Host header unchanged
(moto reads virtual-hosted bucket names from it). Bodies stream both ways; ``Expect: 100-continue`` is
answered here. A service without an emulator gets an immediate error in its own protocol's shape
(`errors.py`), never a call to AWS.

Known deviations from AWS:
- HTTP/1.1 only (ALPN offers ``http/1.1``): HTTP/2-only APIs (Kinesis SubscribeToShard, Transcribe streaming)
  cannot be reached through the front.
- Emulators see plain HTTP, so URLs they build from the request (moto's SQS ``QueueUrl``) say ``http://``;
  the front answers on port 80 too, so a client that follows such a URL still lands here.
- Unemulated services answer HTTP 400 ``HarnessServiceNotEmulated``, a code AWS does not have.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import random
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from harness.clock import random_uuid
from harness.intercept.ca import CertificateAuthority
from harness.intercept.errors import (
    NOT_EMULATED_CODE,
    NOT_EMULATED_STATUS,
    UPSTREAM_DOWN_CODE,
    UPSTREAM_DOWN_STATUS,
    ErrorResponse,
    error_response,
    not_emulated_message,
)
from harness.intercept.hosts import parse_host, signing_service
from harness.lifecycle import Backend

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
CHUNK = 65536
CLIENT_IDLE_SECONDS = 120.0


@dataclass(frozen=True)
class Unemulated:
    """A call the front refused: the service and the host it was sent to."""

    service: str
    host: str


@dataclass
class FrontStats:
    """What the front saw: requests forwarded per service, and refused (unemulated) calls."""

    forwarded: Counter[str] = field(default_factory=Counter)
    refused: Counter[Unemulated] = field(default_factory=Counter)
    hosts: Counter[str] = field(default_factory=Counter)  # Host header of every forwarded request


class _NoDelayConnection(http.client.HTTPConnection):
    """An upstream connection that sends each write at once (headers and body are separate writes)."""

    def connect(self) -> None:
        """Connect with TCP_NODELAY."""
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    front: AwsFront
    tls: bool  # False: the plain-HTTP listener for port 80 in the function (http:// AWS URLs)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        front = self.server.front
        raw: socket.socket = self.request
        raw.settimeout(CLIENT_IDLE_SECONDS)
        # Headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK add ~40 ms.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection = raw
        if self.server.tls:
            self.request = self.connection = front.tls.wrap_socket(raw, server_side=True)
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        self.wfile = self.connection.makefile("wb", 0)
        self._upstreams: dict[str, http.client.HTTPConnection] = {}

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        for conn in self._upstreams.values():
            conn.close()

    def handle(self) -> None:
        with contextlib.suppress(ssl.SSLError, ConnectionError, TimeoutError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the stats and the function's own log say what happened; no access log on stderr

    def do_request(self) -> None:
        """Route one request to its emulator, or answer that the service is not emulated."""
        front = self.server.front
        host = (self.headers.get("Host") or getattr(self.connection, "server_name_seen", None) or "").strip()
        parsed = parse_host(host)
        query = urlsplit(self.path).query
        service = signing_service(self.headers.get("Authorization"), query) or (
            parsed.service if parsed is not None else ""
        )
        upstream = front.routes.get(service)
        if upstream is None:
            self._refuse(service or "unknown", host)
            return
        front.count(service, host)
        try:
            self._forward(upstream, service)
        except (ConnectionRefusedError, http.client.RemoteDisconnected, OSError) as exc:
            if self.wfile.closed:
                raise
            message = f"the {service} emulator at {upstream} failed: {exc}"
            self.close_connection = True  # the request body may be half read
            self._send_error(UPSTREAM_DOWN_STATUS, UPSTREAM_DOWN_CODE, message, service)

    def do_GET(self) -> None:
        """Forward a GET."""
        self.do_request()

    def do_PUT(self) -> None:
        """Forward a PUT."""
        self.do_request()

    def do_POST(self) -> None:
        """Forward a POST."""
        self.do_request()

    def do_HEAD(self) -> None:
        """Forward a HEAD."""
        self.do_request()

    def do_DELETE(self) -> None:
        """Forward a DELETE."""
        self.do_request()

    def do_PATCH(self) -> None:
        """Forward a PATCH."""
        self.do_request()

    def do_OPTIONS(self) -> None:
        """Forward an OPTIONS (CORS preflight)."""
        self.do_request()

    def _refuse(self, service: str, host: str) -> None:
        self.server.front.refuse(Unemulated(service, host))
        self._drain_body()
        message = not_emulated_message(service, host, self.server.front.routes)
        self._send_error(NOT_EMULATED_STATUS, NOT_EMULATED_CODE, message, service)

    def _send_error(self, status: int, code: str, message: str, service: str) -> None:
        content_type = self.headers.get("Content-Type", "")
        error: ErrorResponse = error_response(
            status=status,
            code=code,
            message=message,
            service=service,
            request_id=self.server.front.request_id(),
            json_target="X-Amz-Target" in self.headers,
            form_body=content_type.startswith("application/x-www-form-urlencoded"),
        )
        self.send_response_only(error.status)
        for name, value in error.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(error.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(error.body)

    def _drain_body(self) -> None:
        for _ in self._body_chunks():
            pass

    def _body_chunks(self) -> Iterator[bytes]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield self.rfile.read(size)
                self.rfile.readline(8)
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            data = self.rfile.read(min(CHUNK, remaining))
            if not data:
                raise ConnectionError("client closed the connection mid-body")
            remaining -= len(data)
            yield data

    def _upstream(self, base: str) -> http.client.HTTPConnection:
        conn = self._upstreams.get(base)
        if conn is None:
            parts = urlsplit(base)
            conn = _NoDelayConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=300)
            self._upstreams[base] = conn
        return conn

    def _forward(self, upstream: str, service: str) -> None:
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        for attempt in (1, 2):
            conn = self._upstream(upstream)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        conn.putheader(name, value)
                if chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                break
            except (http.client.HTTPException, OSError):
                conn.close()  # a kept-alive upstream connection the emulator had closed: reconnect once
                self._upstreams.pop(upstream, None)
                if attempt == 2:
                    raise
        for data in self._body_chunks():
            conn.send(b"%x\r\n%b\r\n" % (len(data), data) if chunked else data)
        if chunked:
            conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        self._relay(response)
        if response.will_close:
            conn.close()
            self._upstreams.pop(upstream, None)

    def _relay(self, response: http.client.HTTPResponse) -> None:
        body_allowed = self.command != "HEAD" and response.status not in (204, 304) and response.status >= 200
        length = response.getheader("Content-Length")
        rechunk = body_allowed and length is None
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if rechunk:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            data = response.read(CHUNK)
            if not data or not body_allowed:
                break
            self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data) if rechunk else data)
        if rechunk:
            self.wfile.write(b"0\r\n\r\n")


class AwsFront(Backend):
    """HTTPS server for AWS host names, routing each request by signing service to an emulator URL."""

    name = "aws-front"

    def __init__(
        self,
        authority: CertificateAuthority,
        routes: Mapping[str, str],
        *,
        rng: random.Random,
        on_refused: Callable[[Unemulated], None] | None = None,
    ) -> None:
        super().__init__()
        self.authority = authority
        self.routes = dict(routes)
        self._rng = rng
        self._on_refused = on_refused
        self._lock = threading.Lock()
        self.stats = FrontStats()
        # The context that accepts connections; its SNI callback swaps in the leaf for the asked-for name.
        self.tls = authority.make_context(None)
        self.tls.sni_callback = self._on_sni
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []

    def _on_sni(
        self, sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext
    ) -> None:
        sock.context = self.authority.server_context(server_name)
        with contextlib.suppress(AttributeError):
            sock.server_name_seen = server_name  # type: ignore[union-attr]  # Host-less HTTP/1.0 requests

    @property
    def port(self) -> int:
        """The HTTPS port on 127.0.0.1 (where the function's port 443 goes)."""
        return self._port(tls=True)

    @property
    def plain_port(self) -> int:
        """The plain-HTTP port on 127.0.0.1 (where the function's port 80 goes)."""
        return self._port(tls=False)

    def _port(self, *, tls: bool) -> int:
        for server in self._servers:
            if server.tls == tls:
                return int(server.server_address[1])
        raise RuntimeError("the AWS front is not started")

    def _start(self) -> None:
        for tls in (True, False):
            server = _Server(("127.0.0.1", 0), _Handler, bind_and_activate=True)
            server.front = self
            server.tls = tls
            self._servers.append(server)
            name = "aws-front-https" if tls else "aws-front-http"
            thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def _stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def count(self, service: str, host: str) -> None:
        """Record one forwarded request."""
        with self._lock:
            self.stats.forwarded[service] += 1
            self.stats.hosts[host] += 1

    def snapshot(self) -> FrontStats:
        """A copy of the counters so far."""
        with self._lock:
            return FrontStats(
                Counter(self.stats.forwarded), Counter(self.stats.refused), Counter(self.stats.hosts)
            )

    def refuse(self, call: Unemulated) -> None:
        """Record (and report) one call to a service without an emulator."""
        with self._lock:
            self.stats.refused[call] += 1
        log.warning("refused a call to unemulated AWS service %s at %s", call.service, call.host)
        if self._on_refused is not None:
            self._on_refused(call)

    def request_id(self) -> str:
        """A fresh request id for a response the front makes itself."""
        with self._lock:
            return random_uuid(self._rng)
