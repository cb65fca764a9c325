"""Process-tree helpers for leak checks: which processes a pid started, and whether they are gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the ")" that closes the command name: state, ppid, ...
    return int(stat.rsplit(")", 1)[1].split()[1])


def _is_zombie_or_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, grandchildren, ...)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent_of(int(entry))
            if parent is not None:
                parents[int(entry)] = parent
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p for p in found if not _is_zombie_or_gone(p)}


def alive(pids: set[int]) -> set[int]:
    """The pids of `pids` that still run (zombies count as gone)."""
    return {p for p in pids if not _is_zombie_or_gone(p)}


def still_alive_after(pids: set[int], seconds: float = 10.0) -> set[int]:
    """The pids of `pids` still running after waiting up to `seconds` for them to finish exiting.

    A child that is already on its way out when the harness returns (multiprocessing's resource tracker
    notices its parent's exit a moment later) is gone by then; a stray process is not.
    """
    deadline = time.monotonic() + seconds
    while (left := alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def cmdline(pid: int) -> str:
    """A process's command line with spaces between arguments ('' if it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def pids_with_cmdline_containing(text: str) -> set[int]:
    """Live processes whose command line contains `text`."""
    return {
        int(e)
        for e in os.listdir("/proc")
        if e.isdigit() and text in cmdline(int(e)) and not _is_zombie_or_gone(int(e))
    }


CLI = (sys.executable, "-m", "harness.cli")
ROOT = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    """This environment without Kafka/AWS endpoints (left by an earlier `up`), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "KAFKA_BOOTSTRAP"))}
    env.update(extra)
    return env


def start_cli(*args: str) -> subprocess.Popen[str]:
    """`msk-harness ARGS` as a child with plain progress lines (CI=1), output merged and piped as text."""
    return subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env(CI="1"),
        cwd=ROOT,
    )


def wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float) -> list[str]:
    """Read `proc`'s output until a line contains `text`; the lines read (AssertionError on timeout/EOF)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"no line with {text!r} within {timeout} s; output:\n{''.join(seen)}")


def interrupt_mid_run(proc: subprocess.Popen[str], marker: str, timeout: float = 120) -> tuple[str, set[int]]:
    """Ctrl-C `proc` once it prints `marker` with the broker up; its remaining output and what it had started.

    `proc` is killed if anything fails on the way, so a broken test leaves no process behind.
    """
    try:
        wait_for_line(proc, marker, timeout)
        started = descendants(proc.pid)
        assert any("kafka" in cmdline(p) for p in started), "the broker JVM should be running by now"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out, started
