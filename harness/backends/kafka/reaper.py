"""A watchdog process that cleans up after a harness that died without stopping its backends.

PR_SET_PDEATHSIG (see `base.spawn_child`) kills the JVMs when the harness dies, but nobody then removes the
temp dir. The reaper is a tiny Python process in its own session reading a pipe only the harness writes to:
the harness tells it each child process group it starts and says ``done`` after a clean stop. If the pipe
closes without ``done`` (the harness was SIGKILLed, SIGTERMed or crashed), the reaper SIGKILLs the groups,
waits for them to go, and removes the directory and every other path it was told to own.

Example::

    reaper = Reaper(workdir, remove_dir=True)
    reaper.watch(proc.pid)
    ...
    reaper.release()   # clean stop: the reaper exits and touches nothing
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

_REAPER_CODE = r"""
import os, shutil, signal, sys, time
target, remove = sys.argv[1], sys.argv[2] == "1"
groups, paths = [], []
for line in sys.stdin:
    cmd, _, arg = line.rstrip("\n").partition(" ")
    if cmd == "pgid":
        groups.append(int(arg))
    elif cmd == "path":
        paths.append(arg)
    elif cmd == "done":
        sys.exit(0)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
deadline = time.monotonic() + 15
for pgid in groups:
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except OSError:
            break
        time.sleep(0.05)
if remove:
    shutil.rmtree(target, ignore_errors=True)
for path in paths:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass
"""


class Reaper:
    """Kills watched process groups and removes `directory` if this process dies without `release()`."""

    def __init__(self, directory: Path, *, remove_dir: bool) -> None:
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-c", _REAPER_CODE, str(directory), "1" if remove_dir else "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # outlives us and ignores the terminal's Ctrl-C
        )

    def watch(self, pgid: int) -> None:
        """Add a process group to kill if we die."""
        self._send(f"pgid {pgid}\n")

    def own(self, path: Path) -> None:
        """Also remove `path` (a file or a directory) if we die; one run's temp paths all go with it."""
        self._send(f"path {path}\n")

    def release(self) -> None:
        """We stopped cleanly: let the reaper exit without touching anything."""
        if self._proc is None:
            return
        self._send("done\n")
        with contextlib.suppress(OSError):
            assert self._proc.stdin is not None
            self._proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=10)
        self._proc = None

    def _send(self, line: str) -> None:
        if self._proc is None or self._proc.stdin is None:
            return
        with contextlib.suppress(OSError):
            self._proc.stdin.write(line.encode())
            self._proc.stdin.flush()
