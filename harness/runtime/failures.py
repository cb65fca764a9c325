"""Why a function fails: its distinct errors with counts and log lines, and when to stop trying.

`FunctionErrors` is fed every invocation's outcome by `FunctionRuntime`. It keeps the first `MAX_DISTINCT`
distinct errors (error type and message as the function reported them, e.g. ``Runtime.ImportModuleError:
Unable to import module 'handler': ...`` or ``Error: connect ECONNREFUSED 127.0.0.1:9``) with a count, the
first occurrence's request id, environment log file and its last log lines.

The fail-fast rule (`FailFastRule`), for a run whose function cannot work at all: stop when **no invocation
has succeeded yet** and the last invocations all failed with the **same error** (type and message, request
ids removed), at least

- `init_errors` (3) in a row for an init error (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``,
  any error the runtime posts to ``/init/error``): init is deterministic, so three cold starts failing alike
  are enough;
- `errors` (10) in a row spanning at least `min_clock_seconds` (30) of clock time for any other failure (the
  handler raised, timed out, crashed), so a transient outage at the start does not end the run.

Failures injected by a fault rule neither count nor break a streak; one success disarms the rule for good
(a function that has worked once is failing for a reason the scenario should see through to the end).

Known deviations from AWS:
- Lambda has no such rule (an event source mapping retries a failing batch until the record expires); it is
  the harness's, to end hopeless runs with the reason instead of after the settle timeout.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace

from harness.runtime.log_sink import clip

MAX_DISTINCT = 10  # distinct errors kept; later distinct ones are only counted
MAX_MESSAGE_CHARS = 1000
REASON_TAIL_LINES = 8  # log lines kept with each distinct error
_REQUEST_ID = re.compile(r"RequestId: [0-9a-fA-F-]{36}:?\s*")
_PLATFORM_LINE = re.compile(r"^(START|END|REPORT) RequestId: ")
INIT_OUTCOMES = frozenset({"init_error"})


@dataclass(frozen=True)
class FunctionErrorReason:
    """One distinct function error: what it said, how often, and where to read its first occurrence."""

    error_type: str  # the error's own type ("Runtime.ImportModuleError", "TypeError", "Sandbox.Timedout")
    message: str  # its message, request ids removed, at most MAX_MESSAGE_CHARS
    count: int
    outcome: str  # "error" | "timeout" | "crash" | "init_error" | "too_large"
    injected: bool  # raised by a scenario fault rule, not by the function
    first_request_id: str
    environment_id: int
    log_file: str  # the environment's log file holding the first occurrence ("" when unknown)
    log_tail: tuple[str, ...]  # the last lines that environment wrote up to the first occurrence

    @property
    def headline(self) -> str:
        """``<type>: <message>`` (just the type when there is no message)."""
        return f"{self.error_type}: {self.message}" if self.message else self.error_type


@dataclass(frozen=True)
class FailFastRule:
    """When `FunctionErrors.give_up` says a run is hopeless (see the module docstring)."""

    init_errors: int = 3
    errors: int = 10
    min_clock_seconds: float = 30.0


def describe_error(payload: bytes, fallback_type: str | None, outcome: str) -> tuple[str, str]:
    """(error type, message) from an error payload; Lambda's own type when the payload says nothing."""
    try:
        document = json.loads(payload) if payload else None
    except ValueError:
        document = None
    error_type = fallback_type or outcome
    message = ""
    if isinstance(document, dict):
        if isinstance(document.get("errorType"), str) and document["errorType"]:
            error_type = document["errorType"]
        if isinstance(document.get("errorMessage"), str):
            message = document["errorMessage"]
    elif payload:
        message = payload.decode("utf-8", "replace")
    return error_type, clip(_REQUEST_ID.sub("", message).strip(), MAX_MESSAGE_CHARS)


@dataclass
class _Entry:
    reason: FunctionErrorReason
    count: int


class FunctionErrors:
    """The distinct errors of one function and the fail-fast streak (thread-safe)."""

    def __init__(self, rule: FailFastRule | None = None) -> None:
        self.rule = rule or FailFastRule()
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._other = 0  # failures whose distinct error came after MAX_DISTINCT others
        self._successes = 0
        self._streak_key: tuple[str, str] | None = None
        self._streak_init = False
        self._streak = 0
        self._streak_since = 0.0

    def succeeded(self) -> None:
        """An invocation succeeded: the function works, the fail-fast rule is off."""
        with self._lock:
            self._successes += 1
            self._streak_key, self._streak = None, 0

    def failed(
        self,
        *,
        outcome: str,
        payload: bytes,
        lambda_error_type: str | None,
        request_id: str,
        environment_id: int,
        log_file: str,
        log_tail: tuple[str, ...],
        injected: bool,
        at: float,
    ) -> None:
        """Record one failed invocation that ended at clock second `at`."""
        error_type, message = describe_error(payload, lambda_error_type, outcome)
        key = (error_type, message)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.count += 1
            elif len(self._entries) < MAX_DISTINCT:
                lines = _own_lines(log_tail, request_id)
                reason = FunctionErrorReason(
                    error_type=error_type,
                    message=message,
                    count=1,
                    outcome=outcome,
                    injected=injected,
                    first_request_id=request_id,
                    environment_id=environment_id,
                    log_file=log_file,
                    log_tail=lines[-REASON_TAIL_LINES:],
                )
                self._entries[key] = _Entry(reason, 1)
            else:
                self._other += 1
            if injected:
                return
            if key == self._streak_key:
                self._streak += 1
            else:
                self._streak_key, self._streak, self._streak_since = key, 1, at
                self._streak_init = outcome in INIT_OUTCOMES

    def reasons(self) -> tuple[FunctionErrorReason, ...]:
        """The distinct errors in order of first occurrence, with their counts."""
        with self._lock:
            return tuple(replace(entry.reason, count=entry.count) for entry in self._entries.values())

    def uncategorised(self) -> int:
        """Failures not itemised because `MAX_DISTINCT` distinct errors came first."""
        with self._lock:
            return self._other

    def give_up(self, now: float) -> str | None:
        """Why the run should stop now (clock second `now`), or None while the rule does not hold."""
        with self._lock:
            if self._successes or self._streak_key is None:
                return None
            streak, since, init = self._streak, self._streak_since, self._streak_init
            entry = self._entries.get(self._streak_key)
            error_type, message = self._streak_key
        rule = self.rule
        if init:
            if streak < rule.init_errors:
                return None
        elif streak < rule.errors or now - since < rule.min_clock_seconds:
            return None
        headline = f"{error_type}: {message}" if message else error_type
        where = f" (log: {entry.reason.log_file})" if entry is not None and entry.reason.log_file else ""
        kind = "init failed" if init else "failed"
        return (
            f"stopped early: every invocation {kind} with the same error, {streak} in a row over "
            f"{max(0.0, now - since):.0f} clock s and none succeeded: {headline}{where}"
        )


def _own_lines(tail: tuple[str, ...], request_id: str) -> tuple[str, ...]:
    """The lines after this invocation's START (all for an init error), without platform lines."""
    start = f"START RequestId: {request_id} "
    marks = [i for i, line in enumerate(tail) if line.startswith(start)]
    after = tail[marks[-1] + 1 :] if marks else tail
    own = tuple(line for line in after if not _PLATFORM_LINE.match(line))
    return own or tuple(line for line in tail if not _PLATFORM_LINE.match(line))
