"""Shared lifecycle for every backend and server: context manager, cleanup on a failed start, stop at exit.

A backend subclasses `Backend`, implements `_start()` and `_stop()`, and gets:

* ``with backend:`` / ``backend.start()`` returning itself, and `stop()` that is safe to call twice;
* cleanup when `_start()` raises (the half-started parts are stopped before the error propagates);
* registration in a process-wide registry so that Ctrl-C, SIGTERM and interpreter exit stop what is running.

Child processes, ports and readiness polling live in `harness.processes`.

Example::

    with EmbeddedKafka(brokers=1).start() as kafka:
        print(kafka.bootstrap_servers)
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import weakref
from types import TracebackType
from typing import Self


class BackendError(RuntimeError):
    """A backend could not start or stop; the message says what to do about it."""


class BackendStartError(BackendError):
    """A backend did not become ready; carries the last log lines and a hint."""

    def __init__(self, what: str, reason: str, log_tail: str = "", hint: str = "") -> None:
        parts = [f"{what} did not start: {reason}"]
        if hint:
            parts.append(f"hint: {hint}")
        if log_tail:
            parts.append("last log lines:\n" + log_tail)
        super().__init__("\n".join(parts))
        self.what = what
        self.reason = reason
        self.log_tail = log_tail
        self.hint = hint


_live: weakref.WeakSet[Backend] = weakref.WeakSet()
_live_lock = threading.Lock()


def stop_all_backends() -> None:
    """Stop every backend still running (used at exit and on signals)."""
    with _live_lock:
        running = list(_live)
    for backend in running:
        with contextlib.suppress(Exception):
            backend.stop()


atexit.register(stop_all_backends)


class Backend:
    """Base class: `start() -> Self`, `stop()`, context manager, cleanup on a failed start."""

    name = "backend"

    def __init__(self) -> None:
        self._started = False
        self._state_lock = threading.RLock()

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """True between a successful `start()` and `stop()`."""
        return self._started

    def start(self) -> Self:
        """Start and wait until ready; on any failure stop what was started and re-raise."""
        with self._state_lock:
            if self._started:
                return self
            with _live_lock:
                _live.add(self)
            try:
                self._start()
            except BaseException:
                with contextlib.suppress(Exception):
                    self._stop()
                with _live_lock:
                    _live.discard(self)
                raise
            self._started = True
            return self

    def stop(self) -> None:
        """Stop and release everything (processes, ports, temp dirs). Idempotent."""
        with self._state_lock:
            with _live_lock:
                _live.discard(self)
            if not self._started:
                return
            self._started = False
            self._stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
