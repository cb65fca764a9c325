"""Shipped failure scenarios pass on a loaded machine: each runs while busy-loop processes hog the CPUs.

The hog is what a shared CI runner looks like (issue 16 saw buffer-900s fail at load 4.6-7.4): HOGS processes
spinning for at most HOG_SECONDS each, killed in a `finally` whatever happens.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.run.session import RunOptions, run_scenario
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
FAILURE_SCENARIOS = sorted((ROOT / "scenarios" / "failure").glob("*.yaml"))
HOGS = 3
HOG_SECONDS = 1800  # an upper bound: the fixture kills them as soon as the module is done
_SPIN = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end: pass\n"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def cpu_hog() -> Iterator[list[subprocess.Popen[bytes]]]:
    """HOGS busy-loop processes for the whole module."""
    hogs = [subprocess.Popen([sys.executable, "-c", _SPIN, str(HOG_SECONDS)]) for _ in range(HOGS)]
    try:
        yield hogs
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


@pytest.mark.parametrize("path", FAILURE_SCENARIOS, ids=[p.stem for p in FAILURE_SCENARIOS])
def test_failure_scenario_passes_under_cpu_hog(cpu_hog: list[subprocess.Popen[bytes]], path: Path) -> None:
    assert all(hog.poll() is None for hog in cpu_hog), "the hog must still be running"
    result = run_scenario(load_scenario(path), RunOptions(cwd=ROOT))
    checks = result.verification.checks
    failed = [f"{c.name}: expected {c.expected}, got {c.actual}" for c in checks if not c.passed]
    assert result.error is None, result.error
    assert result.passed, failed
