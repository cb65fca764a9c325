"""Embedded Kafka leaves no JVM and no temp dir behind: after a crash, a signal, or a failed start.

Each case runs a child Python process with its own TMPDIR, so "nothing left" means: that TMPDIR is empty and
no process mentions it on its command line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.lifecycle import BackendError

REPO = Path(__file__).resolve().parents[2]

_CHILD = r"""
import json, sys, time
from harness.backends.kafka.embedded import EmbeddedKafka
from harness.lifecycle import BackendStartError
mode = sys.argv[1]
if mode == "bogus-config":
    try:
        EmbeddedKafka(broker_configs={"num.network.threads": "not-a-number"}).start()
    except BackendStartError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        sys.exit(0)
    sys.exit("start unexpectedly succeeded")
if mode == "too-slow":
    try:
        EmbeddedKafka(startup_timeout=0.01).start()
    except BackendStartError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        sys.exit(0)
    sys.exit("start unexpectedly succeeded")
kafka = EmbeddedKafka().start()
print(json.dumps({"workdir": str(kafka.workdir), "bootstrap": kafka.bootstrap_servers}), flush=True)
if mode == "raise":
    raise RuntimeError("the test body failed")
time.sleep(600)  # wait for the parent's signal
"""


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and "kafka" in cmdline:
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    # Processes die and directories vanish asynchronously after a signal: poll, do not time.
    pause = threading.Event()
    for _ in range(int(timeout / 0.1)):
        if condition():
            return True
        pause.wait(0.1)
    return condition()


def _run_child(mode: str, tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, mode],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(30)
        assert proc.stderr is not None
        pytest.fail(f"child printed nothing; stderr:\n{proc.stderr.read()[-3000:]}")
    return proc, json.loads(line)


def _assert_nothing_left(tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    assert _wait_for(lambda: not _processes_mentioning(str(tmpdir))), _processes_mentioning(str(tmpdir))
    assert _wait_for(lambda: not any(tmpdir.iterdir())), list(tmpdir.iterdir())


def test_an_exception_in_the_harness_stops_the_broker(tmp_path: Path) -> None:
    proc, info = _run_child("raise", tmp_path)
    assert Path(info["workdir"]).is_relative_to(tmp_path / "tmp")
    assert proc.wait(60) != 0
    _assert_nothing_left(tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_signalled_harness_leaves_no_jvm_or_temp_dir(tmp_path: Path, sig: signal.Signals) -> None:
    proc, info = _run_child("sleep", tmp_path)
    assert _processes_mentioning(info["workdir"]), "the broker JVM should be running before the signal"
    proc.send_signal(sig)
    proc.wait(60)
    _assert_nothing_left(tmp_path)


def test_a_bogus_broker_config_fails_with_log_lines_and_leaves_nothing(tmp_path: Path) -> None:
    proc, info = _run_child("bogus-config", tmp_path)
    assert proc.wait(60) == 0
    assert "did not start" in info["error"]
    assert "num.network.threads" in info["error"]  # Kafka's own complaint, quoted from its output
    _assert_nothing_left(tmp_path)


def test_a_start_timeout_kills_the_jvm_and_removes_the_temp_dir(tmp_path: Path) -> None:
    proc, info = _run_child("too-slow", tmp_path)
    assert proc.wait(60) == 0
    assert "not ready after" in info["error"]
    _assert_nothing_left(tmp_path)


def test_stop_after_pause_or_kill_leaves_nothing() -> None:
    cluster = EmbeddedKafka().start()
    workdir = cluster.workdir
    try:
        cluster.pause_broker(1)  # a SIGSTOPped JVM ignores SIGTERM until continued: stop() must SIGCONT it
    finally:
        cluster.stop()
    assert not workdir.exists()
    assert _wait_for(lambda: not _processes_mentioning(str(workdir))), _processes_mentioning(str(workdir))

    cluster = EmbeddedKafka().start()
    workdir = cluster.workdir
    try:
        cluster.kill_broker(1)
        with pytest.raises(BackendError, match="broker 1 is not running"):
            cluster.pause_broker(1)
    finally:
        cluster.stop()
    assert not workdir.exists()
    cluster.stop()  # idempotent
