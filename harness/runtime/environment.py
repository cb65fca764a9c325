"""One execution environment: a runtime process speaking the Runtime API, its log pump and its exit watcher.

Known deviations from AWS:
- ``MemorySize`` is enforced by polling the runtime process's resident memory every few milliseconds and
  SIGKILLing it past the limit (AWS: a cgroup limit); a spike shorter than one poll can slip through.
- Memory is the runtime processes' resident set; AWS also counts page cache and the runtime's own agent.
- The runtime process keeps running between invocations (AWS freezes it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import select
import signal
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from harness.processes import spawn_child, stop_child
from harness.runtime.api_server import Answer, EnvironmentChannel, Invocation
from harness.runtime.errors import exit_error, out_of_memory_error

MEMORY_POLL_SECONDS = 0.02


def resident_mb(pid: int) -> int | None:
    """Current resident memory (VmRSS) of a live process in MB, rounded up; None if it is gone."""
    return _status_mb(pid, "VmRSS:")


def max_memory_used_mb(pid: int) -> int | None:
    """Peak resident memory (VmHWM) of a live process in MB, rounded up; None if it is gone."""
    return _status_mb(pid, "VmHWM:")


def _status_mb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(field):
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
        memory_limit_mb: int | None = None,
        file_size_limit_bytes: int | None = None,
    ) -> None:
        self.env_id = env_id
        self.channel = channel
        self.log_stream = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        # PR_SET_PDEATHSIG follows the forking thread, so every spawn runs on the runtime's long-lived thread.
        self.proc: subprocess.Popen[bytes] = spawner.submit(
            spawn_child, argv, log=subprocess.PIPE, env=env, cwd=cwd
        ).result()
        assert self.proc.stdout is not None
        if file_size_limit_bytes is not None:  # EphemeralStorage, per file (see harness.runtime.sandbox)
            with contextlib.suppress(OSError):
                resource.prlimit(self.proc.pid, resource.RLIMIT_FSIZE, (file_size_limit_bytes,) * 2)
        self._pump = LogPump(self.proc.stdout.fileno(), write_log, log_lock)
        self.exit_code: int | None = None
        self.out_of_memory = False
        self.memory_limit_mb = memory_limit_mb
        self._watcher = threading.Thread(target=self._watch, name=f"lambda-env-{env_id}-exit", daemon=True)
        self._watcher.start()
        if memory_limit_mb is not None:
            threading.Thread(
                target=self._police_memory, name=f"lambda-env-{env_id}-memory", daemon=True
            ).start()

    def _police_memory(self) -> None:
        assert self.memory_limit_mb is not None
        while not self.channel.gone.wait(MEMORY_POLL_SECONDS):
            used = resident_mb(self.proc.pid)
            if used is None:
                return
            if used > self.memory_limit_mb:
                self.out_of_memory = True
                self.kill()
                return

    def exit_answer(self, request_id: str, code: int) -> Answer:
        """How an invocation ends when the process exits with `code` (out of memory, or a plain exit)."""
        if self.out_of_memory:
            return out_of_memory_error(request_id, code)
        return exit_error(request_id, code)

    def _watch(self) -> None:
        code = self.proc.wait()
        self.exit_code = code
        inv = self.channel.current
        if inv is not None:
            inv.answer(self.exit_answer(inv.request_id, code))
        self.channel.mark_gone()

    @property
    def alive(self) -> bool:
        """True while the process runs and has not reported an init error."""
        return self.proc.poll() is None and not self.channel.gone.is_set()

    def assign(self, invocation: Invocation) -> None:
        """Give the environment its next invocation."""
        self.channel.assign(invocation)

    def max_memory_mb(self) -> int | None:
        """Peak memory of the runtime process so far (the limit once it was killed for exceeding it)."""
        if self.out_of_memory:
            return self.memory_limit_mb
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
