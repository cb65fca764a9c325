"""Ctrl-C at any moment of `msk-harness` (while it imports, or while it works) exits 130, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.procs import ROOT, child_env

pytestmark = pytest.mark.timeout(60)


def _console_script() -> list[str]:
    """The command pip's generated `msk-harness` script runs, from the entry point in pyproject.toml."""
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["msk-harness"]
    module, function = entry.split(":")
    return [sys.executable, "-c", f"import sys; from {module} import {function}; sys.exit({function}())"]


def _wait_until(check: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if check():
            return
        time.sleep(0.002)
    proc.kill()
    raise AssertionError(
        f"never saw the child {what}; rc={proc.wait()} stderr={proc.stderr and proc.stderr.read()}"
    )


def _start(fifo: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*_console_script(), "validate", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=ROOT,
    )


def _importing_site_packages(pid: int) -> bool:
    """True once a compiled module from site-packages is mapped: the CLI's imports have begun."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return any("site-packages" in line and ".so" in line for line in maps.splitlines())


def _blocked_on_fifo(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/wchan").read_text() in ("wait_for_partner", "fifo_open")
    except OSError:
        return False


def _interrupt(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def test_ctrl_c_while_importing_exits_130_quietly(tmp_path: Path) -> None:
    fifo = tmp_path / "never-written.yaml"
    os.mkfifo(fifo)
    proc = _start(fifo)
    _wait_until(lambda: _importing_site_packages(proc.pid), proc, "import the CLI")
    assert not _blocked_on_fifo(proc.pid)
    code, err = _interrupt(proc)
    assert "Traceback" not in err, err
    assert code == 130, err


def test_ctrl_c_while_working_exits_130_quietly(tmp_path: Path) -> None:
    fifo = tmp_path / "never-written.yaml"
    os.mkfifo(fifo)
    proc = _start(fifo)
    _wait_until(lambda: _blocked_on_fifo(proc.pid), proc, "block reading the scenario")
    code, err = _interrupt(proc)
    assert "Traceback" not in err, err
    assert code == 130, err
