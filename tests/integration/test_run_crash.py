"""`kill -9` of a real `msk-harness run` leaves no temp dir or process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.backends.kafka.reaper import Reaper
from tests.integration.procs import CLI, ROOT, alive, child_env, cmdline, descendants, wait_for_line

pytestmark = pytest.mark.timeout(240)


def _eventually(check: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


def test_kill_9_mid_run_leaves_no_temp_dir_and_no_process(tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = child_env(CI="1", TMPDIR=str(tmpdir))
    proc = subprocess.Popen(
        [*CLI, "run", str(ROOT / "scenarios" / "smoke.yaml"), "--report-dir", str(tmp_path / "r")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    started: set[int] = set()
    try:
        wait_for_line(proc, "[smoke] load", 180)
        started = descendants(proc.pid)
        assert any("kafka" in cmdline(p) for p in started), "the broker JVM should be running by now"
        assert any(p.name.startswith("msk-harness-smoke-") for p in tmpdir.iterdir()), list(tmpdir.iterdir())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _eventually(lambda: not alive(started)), [cmdline(p) for p in alive(started)]
    assert _eventually(lambda: not any(tmpdir.iterdir())), list(tmpdir.iterdir())
    assert not (tmp_path / "r").exists()


def test_reaper_removes_the_paths_it_owns_when_its_owner_dies(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    partial = tmp_path / "archive.jsa.tmp-1-2"
    partial.write_bytes(b"partial")
    owned_dir = tmp_path / "scratch"
    owned_dir.mkdir()
    (owned_dir / "f").write_text("x")
    # The owner is a child process that starts a reaper, registers the paths, then dies by SIGKILL.
    code = (
        "import os, signal, sys, pathlib\n"
        "from harness.backends.kafka.reaper import Reaper\n"
        f"r = Reaper(pathlib.Path({str(workdir)!r}), remove_dir=True)\n"
        f"r.own(pathlib.Path({str(partial)!r})); r.own(pathlib.Path({str(owned_dir)!r}))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert _eventually(lambda: not workdir.exists() and not partial.exists() and not owned_dir.exists())


def test_a_released_reaper_touches_nothing(tmp_path: Path) -> None:
    kept = tmp_path / "kept.tmp"
    kept.write_text("x")
    reaper = Reaper(tmp_path, remove_dir=True)
    reaper.own(kept)
    reaper.release()
    assert kept.exists()
