"""The `Invoker` seam: how the ESM calls a function (`harness.runtime.FunctionRuntime` satisfies it).

`InProcessInvoker` calls a Python handler in this process. It exists for fast tests of the mapping
itself; production paths use the runtime's execution environments.

Known deviations from AWS (InProcessInvoker only):
- No timeout enforcement, no process isolation and a minimal context; use `FunctionRuntime` for fidelity.
"""

from __future__ import annotations

import json
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from harness.clock import Clock, random_uuid


class InvocationOutcome(Protocol):
    """What the ESM reads from an invocation (the fields of `harness.runtime.InvocationResult`)."""

    @property
    def request_id(self) -> str:
        """The attempt's request id."""
        ...

    @property
    def ok(self) -> bool:
        """False for a function error (raised, timed out, crashed, response too big)."""
        ...

    @property
    def payload(self) -> bytes:
        """The response body (ok) or the error JSON."""
        ...

    @property
    def error_type(self) -> str | None:
        """e.g. "Unhandled", "Sandbox.Timedout"."""
        ...

    @property
    def duration_ms(self) -> float:
        """How long the invocation took."""
        ...


class Invoker(Protocol):
    """Synchronous invoke of one function with the serialized event bytes."""

    def invoke(self, event: bytes) -> InvocationOutcome:
        """Run the function once on `event` and report the outcome."""
        ...


@dataclass(frozen=True)
class LocalResult:
    """An `InvocationOutcome` produced by `InProcessInvoker`."""

    request_id: str
    ok: bool
    payload: bytes
    error_type: str | None
    duration_ms: float


@dataclass(frozen=True)
class _Context:
    aws_request_id: str
    function_name: str
    memory_limit_in_mb: str = "128"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


class InProcessInvoker:
    """Calls `handler(event_dict, context)` in this process (temporary stand-in; no isolation or timeout)."""

    def __init__(
        self,
        handler: Callable[[dict[str, Any], Any], Any],
        *,
        clock: Clock,
        rng: random.Random,
        function_name: str = "function",
    ) -> None:
        self._handler = handler
        self._clock = clock
        self._rng = rng
        self._function_name = function_name

    def invoke(self, event: bytes) -> LocalResult:
        """Decode the event, call the handler, and encode its return value or error like Lambda does."""
        request_id = random_uuid(self._rng)
        started = self._clock.monotonic()
        context = _Context(request_id, self._function_name)
        try:
            value = self._handler(json.loads(event), context)
            payload = json.dumps(value).encode("utf-8")
            ok, error_type = True, None
        except Exception as exc:  # noqa: BLE001 - the user's handler may raise anything; Lambda reports it
            payload = json.dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            ).encode("utf-8")
            ok, error_type = False, "Unhandled"
        return LocalResult(request_id, ok, payload, error_type, (self._clock.monotonic() - started) * 1000)
