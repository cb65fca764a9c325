"""Stale class-data archive dumps (writer killed mid-write) are swept; live writers' dumps are kept."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.backends.kafka.dist import sweep_stale_dumps


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_dumps_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / f"kafka-4.1.1-abc.jsa.tmp-{_dead_pid()}-1407"
    stale.write_bytes(b"\0" * 1024)
    live = tmp_path / f"kafka-4.1.1-abc.jsa.tmp-{os.getpid()}-99"
    live.write_bytes(b"\0" * 1024)
    archive = tmp_path / "kafka-4.1.1-abc.jsa"
    archive.write_bytes(b"archive")
    sweep_stale_dumps(tmp_path)
    assert not stale.exists()
    assert live.exists()
    assert archive.read_bytes() == b"archive"
