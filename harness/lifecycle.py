"""Shared lifecycle for every backend and server: context manager, readiness, child processes, cleanup.

A backend subclasses `Backend`, implements `_start()` and `_stop()`, and gets:

* ``with backend:`` / ``backend.start()`` returning itself, and `stop()` that is safe to call twice;
* cleanup when `_start()` raises (the half-started parts are stopped before the error propagates);
* registration in a process-wide registry so that Ctrl-C, SIGTERM and interpreter exit stop what is running.

Child processes are started through `spawn_child`, which puts them in their own process group (so a stop kills
the JVM and anything it forked) and asks Linux to SIGKILL them if the harness itself dies (PR_SET_PDEATHSIG),
so a crashed harness never leaves a stray broker behind.

Example::

    with EmbeddedKafka(brokers=1).start() as kafka:
        print(kafka.bootstrap_servers)
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import threading
import time  # real time, only for readiness polling of real processes (wait_until)
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self


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


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on `host` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a TCP connection to host:port succeeds within `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a text file ('' if it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: SIGKILL us if the harness dies, and give us our own group.
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn_child(
    argv: Sequence[str],
    *,
    log: IO[bytes] | int,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: int | None = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start a child in its own process group that dies with the harness.

    Note: PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, so spawn long-lived children
    from a long-lived thread (the main thread, or a thread that lives as long as the backend).
    """
    return subprocess.Popen(
        list(argv),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=stdin,
        env=env,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads run Python code in the child before exec
    )


def stop_child(proc: subprocess.Popen[bytes], grace_seconds: float = 10.0) -> None:
    """SIGTERM the child's process group, wait up to `grace_seconds`, then SIGKILL it."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    alive: Callable[[], bool] = lambda: True,
    log_path: Path | None = None,
    hint: str = "",
    interval: float = 0.1,
) -> None:
    """Poll `ready()` until true; raise `BackendStartError` on timeout or when `alive()` turns false.

    Readiness polling uses real time on purpose: it waits for real processes, whatever the scenario clock.
    """
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return
        if not alive():
            raise BackendStartError(what, "the process exited", tail(log_path) if log_path else "", hint)
        if time.monotonic() >= deadline:
            raise BackendStartError(
                what, f"not ready after {timeout:.0f} s", tail(log_path) if log_path else "", hint
            )
        time.sleep(interval)
