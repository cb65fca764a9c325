"""One execution environment: a runtime process speaking the Runtime API, its log pump and its exit watcher.

Known deviations from AWS:
- Every ``python3.x`` runtime runs on the harness's own Python (with ``awslambdaric``) and every ``nodejs*``
  runtime on the local ``node``; the version in the runtime id only names ``AWS_EXECUTION_ENV``.
- No sandbox: no read-only file system, no ``/tmp`` quota, no memory limit enforcement (memory is reported).
- The runtime process keeps running between invocations (AWS freezes it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from harness.processes import spawn_child, stop_child
from harness.resources import shipped_path
from harness.runtime.api_server import EnvironmentChannel, Invocation
from harness.runtime.errors import exit_error

BOOTSTRAP_DIR = shipped_path("harness.runtime", "bootstraps")
NODE_BOOTSTRAP = BOOTSTRAP_DIR / "node_runtime.mjs"


def runtime_command(runtime: str, handler: str, code_dir: Path) -> list[str]:
    """The argv that starts `runtime` (a provided bootstrap must exist and be executable)."""
    if runtime.startswith("python"):
        return [sys.executable, "-m", "awslambdaric", handler]
    if runtime.startswith("nodejs"):
        return ["node", str(NODE_BOOTSTRAP)]
    bootstrap = code_dir / "bootstrap"
    if not bootstrap.is_file():
        raise FileNotFoundError(f"runtime {runtime} needs an executable {bootstrap}")
    if not os.access(bootstrap, os.X_OK):
        raise PermissionError(f"{bootstrap} is not executable (chmod +x it)")
    return [str(bootstrap)]


def max_memory_used_mb(pid: int) -> int | None:
    """Peak resident memory (VmHWM) of a live process in MB, rounded up; None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    kb = int(line.split()[1])
                    return max(1, -(-kb // 1024))
    except (OSError, ValueError):
        return None
    return None


class LogPump:
    """Copies a process's output into the function log; `mark()` writes a line after all output so far."""

    def __init__(self, fd: int, write: Callable[[bytes], None], lock: threading.Lock) -> None:
        self._fd = fd
        self._write = write
        self._lock = lock
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self._eof = False
        self._thread = threading.Thread(target=self._run, name="lambda-log-pump", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        # Caller holds the lock; reads whatever is buffered without blocking.
        while not self._eof:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                self._eof = True
                return
            if not chunk:
                self._eof = True
                return
            self._write(chunk)

    def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError, ValueError):
                select.select([self._fd], [], [], 0.5)
            with self._lock:
                self._drain()
                if self._eof:
                    return

    def mark(self, line: str) -> None:
        """Write `line` after all output the process has produced so far."""
        with self._lock:
            self._drain()
            self._write(line.encode() + b"\n")

    def join(self, timeout: float) -> None:
        """Wait for the pump to reach end of output."""
        self._thread.join(timeout)


class ExecutionEnvironment:
    """A runtime process bound to one Runtime API channel."""

    def __init__(
        self,
        *,
        env_id: int,
        channel: EnvironmentChannel,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        spawner: Executor,
        write_log: Callable[[bytes], None],
        log_lock: threading.Lock,
    ) -> None:
        self.env_id = env_id
        self.channel = channel
        self.log_stream = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        # PR_SET_PDEATHSIG follows the forking thread, so every spawn runs on the runtime's long-lived thread.
        self.proc: subprocess.Popen[bytes] = spawner.submit(
            spawn_child, argv, log=subprocess.PIPE, env=env, cwd=cwd
        ).result()
        assert self.proc.stdout is not None
        self._pump = LogPump(self.proc.stdout.fileno(), write_log, log_lock)
        self.exit_code: int | None = None
        self._watcher = threading.Thread(target=self._watch, name=f"lambda-env-{env_id}-exit", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        code = self.proc.wait()
        self.exit_code = code
        inv = self.channel.current
        if inv is not None:
            inv.answer(exit_error(inv.request_id, code))
        self.channel.mark_gone()

    @property
    def alive(self) -> bool:
        """True while the process runs and has not reported an init error."""
        return self.proc.poll() is None and not self.channel.gone.is_set()

    def assign(self, invocation: Invocation) -> None:
        """Give the environment its next invocation."""
        self.channel.assign(invocation)

    def max_memory_mb(self) -> int | None:
        """Peak memory of the runtime process so far."""
        return max_memory_used_mb(self.proc.pid)

    def mark(self, line: str) -> None:
        """Write a platform log line (START/END/REPORT) after the process's own output."""
        self._pump.mark(line)

    def kill(self) -> None:
        """SIGKILL the whole process group now (timeouts, crash faults)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def stop(self, grace_seconds: float = 2.0) -> None:
        """Stop the process group and wait for it and its log pump."""
        self.channel.close()
        stop_child(self.proc, grace_seconds=grace_seconds)
        self._watcher.join(timeout=5)
        self._pump.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
