"""The Lambda Runtime API (2018-06-01) that execution environments poll (spec §7.6).

One `RuntimeApiServer` per function. Each execution environment gets its own listener (a free port on
127.0.0.1) and so its own ``AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>``: the server knows which environment is
calling without any change to the runtime client (``awslambdaric``'s native client only takes ``host:port``).

Known deviations from AWS:
- Which condition yields which status is not documented; we use `RuntimeApiStatuses` (unknown or
  already-answered request id → 403, unparseable error body → 400, body over the limit → 413).
- ``Lambda-Runtime-Client-Context`` and ``Lambda-Runtime-Cognito-Identity`` are never sent (ESM invocations).
- Extensions, telemetry and ``/restore`` endpoints are not served (404).
"""

from __future__ import annotations

import contextlib
import json
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.lifecycle import BackendStartError

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


@dataclass(frozen=True)
class RuntimeApiStatuses:
    """Status codes for the undocumented error cases (knob `runtime_api_status_map`)."""

    unknown_request: int = 403
    already_answered: int = 403
    bad_error_body: int = 400
    too_large: int = 413


@dataclass(frozen=True)
class Answer:
    """How an invocation ended, as the environment (or the harness on its behalf) reported it."""

    kind: str  # "response" | "error" | "too_large" | "timeout" | "exit" | "init_error"
    body: bytes
    error_type: str | None = None


_RUNTIME_ANSWERS = frozenset({"response", "error", "too_large"})  # what the runtime itself posts


@dataclass(eq=False)
class Invocation:
    """One invocation handed to an environment; the first `answer()` wins."""

    request_id: str
    event: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    delivered: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    result: Answer | None = None
    # A crash fault kills the process once the event is delivered. A fast handler could answer before the
    # SIGKILL lands; a killed process's answer never reaches AWS, so the runtime's own answers are dropped.
    doomed: bool = False
    # Lambda-Runtime-Deadline-Ms in the runtime process's own (real) epoch ms, computed when it fetches the
    # event, so its wall-clock remaining time ends when the injected clock's timeout fires; None: deadline_ms.
    runtime_deadline_ms: Callable[[], int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, result: Answer) -> bool:
        """Record the outcome unless one is already recorded; True if this call won."""
        with self._lock:
            if self.result is not None:
                return False
            if self.doomed and result.kind in _RUNTIME_ANSWERS:
                return False
            self.result = result
        self.done.set()
        return True


class EnvironmentChannel:
    """The Runtime API state of one environment: readiness, the invocation queue, init errors, exit."""

    def __init__(self, env_id: int) -> None:
        self.env_id = env_id
        self.ready = threading.Event()  # first GET /next: init finished
        self.init_error: Answer | None = None
        self.gone = threading.Event()  # init error posted, process exited, or environment stopped
        self.settled = threading.Event()  # ready or gone: what a cold start waits for
        self._queue: queue.Queue[Invocation | None] = queue.Queue()
        self._lock = threading.Lock()
        self.current: Invocation | None = None

    def assign(self, invocation: Invocation) -> None:
        """Hand an invocation to the environment's pending (or next) GET /next."""
        with self._lock:
            self.current = invocation
        self._queue.put(invocation)

    def take_next(self) -> Invocation | None:
        """Block until an invocation is assigned (None when the environment is closing)."""
        self.ready.set()
        self.settled.set()
        invocation = self._queue.get()
        if invocation is not None:
            invocation.delivered.set()
        return invocation

    def lookup(self, request_id: str) -> Invocation | None:
        """The current invocation if it has this id and was delivered."""
        with self._lock:
            inv = self.current
        if inv is not None and inv.request_id == request_id and inv.delivered.is_set():
            return inv
        return None

    def fail_init(self, answer: Answer) -> None:
        """The runtime reported an init error: the environment is to be discarded."""
        self.init_error = answer
        self.mark_gone()

    def mark_gone(self) -> None:
        """The environment can take no more invocations (init error, exit or stop)."""
        self.gone.set()
        self.settled.set()

    def close(self) -> None:
        """Release any GET /next blocked on this environment."""
        self.mark_gone()
        self._queue.put(None)


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    """Serves one environment's Runtime API; `_handler_class` binds the channel and limits."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms delayed ACKs
    channel: EnvironmentChannel
    statuses: RuntimeApiStatuses
    max_body: int

    def log_message(self, format: str, *args: Any) -> None:
        return  # the function log records invocations; per-request access logs would only be noise

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _status_body(self, status: int, error_type: str, message: str) -> None:
        self._send(status, json.dumps({"errorType": error_type, "errorMessage": message}).encode())

    def _already_answered(self) -> None:
        self._status_body(
            self.statuses.already_answered, "InvalidStateTransition", "the invocation was already answered"
        )

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self.path != f"{API_PREFIX}/invocation/next":
            self._status_body(404, "NotFound", f"no such endpoint: {self.path}")
            return
        inv = self.channel.take_next()
        if inv is None:
            self._status_body(500, "EnvironmentStopped", "the execution environment is shutting down")
            return
        self._send(
            200,
            inv.event,
            {
                "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                "Lambda-Runtime-Deadline-Ms": str(
                    inv.deadline_ms if inv.runtime_deadline_ms is None else inv.runtime_deadline_ms()
                ),
                "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
                "Lambda-Runtime-Trace-Id": inv.trace_id,
            },
        )

    def do_POST(self) -> None:
        body = self._read_body()
        if self.path == f"{API_PREFIX}/init/error":
            self._post_init_error(body)
            return
        parts = self.path.removeprefix(f"{API_PREFIX}/invocation/").split("/")
        if not self.path.startswith(f"{API_PREFIX}/invocation/") or len(parts) != 2:
            self._status_body(404, "NotFound", f"no such endpoint: {self.path}")
            return
        request_id, verb = parts
        if verb not in ("response", "error"):
            self._status_body(404, "NotFound", f"no such endpoint: {self.path}")
            return
        inv = self.channel.lookup(request_id)
        if inv is None:
            self._status_body(
                self.statuses.unknown_request, "InvalidRequestID", f"unknown request id {request_id}"
            )
        elif inv.done.is_set():
            self._already_answered()
        elif verb == "response":
            self._post_response(inv, body)
        else:
            self._post_error(inv, body)

    def _post_init_error(self, body: bytes) -> None:
        if self.channel.ready.is_set():
            self._status_body(403, "InvalidStateTransition", "init error after init completed")
            return
        error_type = self.headers.get(ERROR_TYPE_HEADER) or "Runtime.Unknown"
        self.channel.fail_init(Answer("init_error", body, error_type))
        self._send(202, b'{"status":"OK"}')

    def _post_response(self, inv: Invocation, body: bytes) -> None:
        if len(body) > self.max_body:
            message = (
                f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size "
                f"({self.max_body} bytes)."
            )
            payload = json.dumps({"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"})
            inv.answer(Answer("too_large", payload.encode(), "Function.ResponseSizeTooLarge"))
            self._status_body(self.statuses.too_large, "RequestEntityTooLarge", message)
        elif inv.answer(Answer("response", body)):
            self._send(202, b'{"status":"OK"}')
        else:
            self._already_answered()

    def _post_error(self, inv: Invocation, body: bytes) -> None:
        if len(body) > self.max_body:
            self._status_body(self.statuses.too_large, "RequestEntityTooLarge", "error payload too large")
            return
        try:
            json.loads(body or b"{}")
        except ValueError:
            self._status_body(self.statuses.bad_error_body, "InvalidErrorShape", "error body is not JSON")
            return
        if inv.answer(Answer("error", body, "Unhandled")):
            self._send(202, b'{"status":"OK"}')
        else:
            self._already_answered()


def _handler_class(
    channel: EnvironmentChannel, statuses: RuntimeApiStatuses, max_body: int
) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one environment's channel."""
    return type(
        "Handler", (_RuntimeApiHandler,), {"channel": channel, "statuses": statuses, "max_body": max_body}
    )


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A killed runtime (timeout, crash, stop) resets its connection: expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class RuntimeApiServer:
    """The Runtime API for one function: one listener per environment, all on 127.0.0.1."""

    def __init__(
        self,
        *,
        statuses: RuntimeApiStatuses = RuntimeApiStatuses(),
        max_response_bytes: int = 6 * 1024 * 1024,
    ) -> None:
        self.statuses = statuses
        self.max_response_bytes = max_response_bytes
        self._listeners: dict[int, tuple[_Listener, threading.Thread]] = {}
        self._lock = threading.Lock()

    def open(self, channel: EnvironmentChannel) -> str:
        """Start serving `channel` on a free port; returns the ``host:port`` for AWS_LAMBDA_RUNTIME_API."""
        handler = _handler_class(channel, self.statuses, self.max_response_bytes)
        try:
            listener = _Listener(("127.0.0.1", 0), handler)
        except OSError as exc:
            raise BackendStartError("Lambda Runtime API", f"cannot listen on 127.0.0.1: {exc}") from exc
        thread = threading.Thread(
            target=listener.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"runtime-api-env-{channel.env_id}",
            daemon=True,
        )
        thread.start()
        with self._lock:
            self._listeners[channel.env_id] = (listener, thread)
        host, port = listener.server_address[:2]
        return f"{host!s}:{port}"

    def close(self, channel: EnvironmentChannel) -> None:
        """Stop serving `channel` (pending GET /next calls are released)."""
        channel.close()
        with self._lock:
            entry = self._listeners.pop(channel.env_id, None)
        if entry is not None:
            listener, thread = entry
            listener.shutdown()
            listener.server_close()
            thread.join(timeout=5)

    def close_all(self) -> None:
        """Stop every listener."""
        with self._lock:
            ids = list(self._listeners)
        for env_id in ids:
            with self._lock:
                entry = self._listeners.pop(env_id, None)
            if entry is not None:
                with contextlib.suppress(Exception):
                    entry[0].shutdown()
                    entry[0].server_close()
