"""Child processes and ports: spawn in an own process group that dies with the harness, stop, poll readiness.

Child processes are started through `spawn_child`, which puts them in their own process group (so a stop kills
the JVM and anything it forked) and asks Linux to SIGKILL them if the harness itself dies (PR_SET_PDEATHSIG),
so a crashed harness never leaves a stray broker behind.

Example::

    proc = spawn_child(["bin/server", "--port", str(port)], log=log_file)
    wait_until(lambda: port_open("127.0.0.1", port), timeout=30, what="server")
    stop_child(proc)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time  # real time, only for readiness polling of real processes (wait_until)
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from harness.lifecycle import BackendStartError


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
