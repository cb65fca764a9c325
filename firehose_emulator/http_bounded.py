"""A bounded HTTP/1.1 server for the emulator: hostile clients cost bytes and file descriptors, never threads.

One event-loop thread accepts every connection and reads requests without blocking; a fixed pool of workers
runs complete requests. So a slow or idle client holds no thread, a body is judged by its `Content-Length`
before a byte of it is read, and when the workers' queue is full the call is answered at once with
`ServiceUnavailableException` instead of a reset or an endless wait.

Limits (class `Limits`): a request head of 16 KiB, a body of the largest legal PutRecordBatch (4 MiB of data,
base64 in JSON), 10 s to send a head, 30 s to send a body, 60 s idle on a keep-alive connection, 16 workers
with a queue of 1,024 requests, 10,000 open connections (beyond that, new ones wait in the listen backlog).

Known deviations from AWS:

* An over-size body is answered with HTTP 413 and `SerializationException` in the AWS JSON error shape; AWS
  does not document the answer of its front end for it.
* A missing, negative or non-numeric `Content-Length` on POST is HTTP 400 `SerializationException`;
  `Transfer-Encoding: chunked` is refused with HTTP 411 (no AWS SDK sends it for the JSON protocol).
* Load shedding answers HTTP 503 `ServiceUnavailableException` (the API's own throttling error uses 500).
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

from firehose_emulator.validation import MAX_BATCH_BYTES

Answer = tuple[int, bytes, str, str | None]
"""(status, body, content type, request id or None)."""
Route = Callable[[str, str, dict[str, str], bytes], Answer]
"""(method, path, lower-cased headers, body) -> the answer."""

_JSON_ERROR_TYPE = "application/x-amz-json-1.1"


@dataclass(frozen=True)
class Limits:
    """What one client may make the server hold, and for how long."""

    max_head_bytes: int = 16 * 1024
    max_body_bytes: int = (MAX_BATCH_BYTES * 4 + 2) // 3 + 64 * 1024  # base64 of 4 MiB + JSON framing
    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    idle_timeout_s: float = 60.0
    drain_timeout_s: float = 2.0
    workers: int = 16
    queue_size: int = 1024
    max_connections: int = 10_000
    backlog: int = 4096


def aws_error(status: int, code: str, message: str) -> Answer:
    """An AWS JSON 1.1 error response (no request id: the request never reached the API)."""
    body = ('{"__type":"%s","message":"%s"}' % (code, message.replace('"', "'"))).encode()  # noqa: UP031
    return status, body, _JSON_ERROR_TYPE, None


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    deadline: float
    buf: bytearray = field(default_factory=bytearray)
    body: bytearray = field(default_factory=bytearray)  # the request body being read (Content-Length long)
    got: int = 0
    out: bytearray = field(default_factory=bytearray)
    state: str = "head"  # head -> body -> busy -> head ...; or closing / draining
    method: str = ""
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    length: int = 0
    keep_alive: bool = True


class BoundedHTTPServer:
    """Serves `route` on `(host, port)`; `serve_forever` on one thread, `shutdown` from another."""

    def __init__(self, address: tuple[str, int], route: Route, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._route = route
        self._listener = socket.create_server(address, backlog=self.limits.backlog)
        self._listener.setblocking(False)
        self.server_port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._done: deque[tuple[_Conn, bytes, bool]] = deque()
        self._jobs: queue.Queue[tuple[_Conn, str, str, dict[str, str], bytearray] | None] = queue.Queue(
            self.limits.queue_size
        )
        self._conns: set[_Conn] = set()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._accepting = True
        self._workers = [
            threading.Thread(target=self._work, name=f"firehose-worker-{i}", daemon=True)
            for i in range(self.limits.workers)
        ]

    # --- loop -------------------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Run the event loop until `shutdown()`."""
        for worker in self._workers:
            worker.start()
        self._selector.register(self._listener, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        next_sweep = time.monotonic()
        try:
            while not self._stopping.is_set():
                for key, mask in self._selector.select(timeout=0.25):
                    if key.data == "listen":
                        self._accept()
                    elif key.data == "wake":
                        self._deliver()
                    else:
                        self._on_ready(key.data, mask)
                now = time.monotonic()
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + 0.25
        finally:
            self._close_all()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop the loop and the workers; returns once the loop has ended."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._stopped.wait(timeout=10)

    def server_close(self) -> None:
        """Close the listening socket (after `shutdown`)."""
        self._listener.close()

    def _close_all(self) -> None:
        for _ in self._workers:
            with contextlib.suppress(queue.Full):
                self._jobs.put_nowait(None)
        for conn in list(self._conns):
            self._close(conn)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _accept(self) -> None:
        while len(self._conns) < self.limits.max_connections:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # EMFILE and friends: leave the rest in the backlog for now
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(sock, time.monotonic() + self.limits.head_timeout_s)
            self._conns.add(conn)
            self._selector.register(sock, selectors.EVENT_READ, conn)
        if self._accepting:  # full: stop accepting until a connection closes; new ones wait in the backlog
            self._selector.unregister(self._listener)
            self._accepting = False

    def _on_ready(self, conn: _Conn, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._flush(conn)
        if mask & selectors.EVENT_READ and conn in self._conns:
            self._read(conn)

    def _read(self, conn: _Conn) -> None:
        if conn.state == "body":
            self._read_body(conn)
            return
        try:
            data = conn.sock.recv(262_144)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if not data:
            self._close(conn)
            return
        if conn.state in ("draining", "closing"):
            return  # the answer is out; swallow what the client still sends so closing never resets
        conn.buf += data
        if conn.state == "busy":
            if len(conn.buf) > self.limits.max_head_bytes:  # pipelining far ahead: refuse to buffer it
                self._close(conn)
            return
        self._advance(conn)

    def _read_body(self, conn: _Conn) -> None:
        # Straight into the body's own buffer, sized once from Content-Length: no regrowth, no extra copy.
        try:
            count = conn.sock.recv_into(memoryview(conn.body)[conn.got :])
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if count == 0:
            self._close(conn)
            return
        conn.got += count
        self._advance(conn)

    def _advance(self, conn: _Conn) -> None:
        if conn.state == "head":
            end = conn.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.buf) > self.limits.max_head_bytes:
                    self._reject(conn, aws_error(431, "SerializationException", "Request header too large"))
                return
            if not self._parse_head(conn, bytes(conn.buf[:end])):
                return
            del conn.buf[: end + 4]
            conn.state = "body"
            conn.deadline = time.monotonic() + self.limits.body_timeout_s
            conn.body = bytearray(conn.length)
            conn.got = min(len(conn.buf), conn.length)
            conn.body[: conn.got] = conn.buf[: conn.got]
            del conn.buf[: conn.got]
        if conn.state == "body" and conn.got >= conn.length:
            body, conn.body, conn.got = conn.body, bytearray(), 0
            conn.state = "busy"
            try:
                self._jobs.put_nowait((conn, conn.method, conn.path, conn.headers, body))
            except queue.Full:
                status, payload, ctype, rid = aws_error(
                    503, "ServiceUnavailableException", "Slow down: the emulator is at capacity"
                )
                self._respond(conn, _render(status, payload, ctype, rid, conn.keep_alive), conn.keep_alive)

    def _parse_head(self, conn: _Conn, head: bytes) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._reject(conn, aws_error(400, "SerializationException", "Malformed request line"))
            return False
        conn.method, conn.path, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                self._reject(conn, aws_error(400, "SerializationException", "Malformed header line"))
                return False
            headers[name.strip().lower()] = value.strip()
        conn.headers = headers
        connection = headers.get("connection", "").lower()
        conn.keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._reject(conn, aws_error(411, "SerializationException", "Chunked bodies are not supported"))
            return False
        raw = headers.get("content-length")
        if raw is None:
            if conn.method == "POST":
                self._reject(conn, aws_error(400, "SerializationException", "Missing Content-Length"))
                return False
            raw = "0"
        if not raw.isdigit():  # rejects "-1", "abc", "1e3", " "
            self._reject(conn, aws_error(400, "SerializationException", f"Invalid Content-Length {raw[:40]}"))
            return False
        conn.length = int(raw)
        if conn.length > self.limits.max_body_bytes:
            message = f"Request body of {conn.length} bytes exceeds the limit of {self.limits.max_body_bytes}"
            self._reject(conn, aws_error(413, "SerializationException", message))
            return False
        return True

    def _reject(self, conn: _Conn, answer: Answer) -> None:
        """Answer and close; read and discard what the client still sends until then, so it sees no reset."""
        status, payload, ctype, rid = answer
        conn.buf.clear()
        conn.state = "draining"
        conn.deadline = time.monotonic() + self.limits.drain_timeout_s
        self._respond(conn, _render(status, payload, ctype, rid, keep_alive=False), keep_alive=False)

    # --- workers ----------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            conn, method, path, headers, body = job
            try:
                status, payload, ctype, rid = self._route(method, path, headers, bytes(body))
            except Exception as exc:  # noqa: BLE001 - the route never raises by contract; answer anyway
                status, payload, ctype, rid = aws_error(500, "InternalFailure", type(exc).__name__)
            self._done.append((conn, _render(status, payload, ctype, rid, conn.keep_alive), conn.keep_alive))
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")

    def _deliver(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass
        while self._done:
            conn, response, keep_alive = self._done.popleft()
            if conn in self._conns:
                self._respond(conn, response, keep_alive)

    # --- writing and closing ----------------------------------------------------------------------------
    def _respond(self, conn: _Conn, response: bytes, keep_alive: bool) -> None:
        conn.out += response
        if conn.state != "draining":
            conn.keep_alive = keep_alive
            conn.state = "head" if keep_alive else "closing"
            conn.deadline = time.monotonic() + (
                self.limits.idle_timeout_s if keep_alive else self.limits.drain_timeout_s
            )
        self._flush(conn)

    def _flush(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out) if conn.out else 0
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(conn)
            return
        del conn.out[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0)
        self._selector.modify(conn.sock, events, conn)
        if conn.out:
            return
        if conn.state in ("closing", "draining"):
            with contextlib.suppress(OSError):
                conn.sock.shutdown(
                    socket.SHUT_WR
                )  # FIN after the answer; the close follows on EOF or timeout
        elif conn.state == "head" and conn.buf:
            self._advance(conn)  # a pipelined request already waits

    def _sweep(self, now: float) -> None:
        for conn in [c for c in self._conns if c.state != "busy" and c.deadline <= now]:
            if conn.state == "head" and not conn.buf and not conn.out:
                self._close(conn)  # idle keep-alive connection: a quiet close, as any HTTP server does
            elif conn.state in ("head", "body"):
                self._reject(conn, aws_error(408, "SerializationException", "Request timed out"))
            else:
                self._close(conn)

    def _close(self, conn: _Conn) -> None:
        if conn not in self._conns:
            return
        self._conns.discard(conn)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn.sock)
        conn.sock.close()
        if not self._accepting and not self._stopping.is_set():
            self._selector.register(self._listener, selectors.EVENT_READ, "listen")
            self._accepting = True


def _render(status: int, body: bytes, content_type: str, request_id: str | None, keep_alive: bool) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}"]
    if request_id is not None:
        head.append(f"x-amzn-RequestId: {request_id}")
    head.append(f"Content-Length: {len(body)}")
    if not keep_alive:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
