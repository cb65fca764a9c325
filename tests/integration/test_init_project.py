"""`msk-harness init` output runs green unchanged, and fails saying why when the archiver loses a record."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    # The generated project imports the harness as an installed package would be: from this tree, not from it.
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _pytest(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=reports/junit.xml"],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("user-repo")
    subprocess.run([sys.executable, "-m", "harness.cli", "init", str(root)], env=_env(), check=True)
    return root


def test_the_generated_project_passes_unchanged(project: Path) -> None:
    done = _pytest(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    junit = (project / "reports" / "junit.xml").read_text()
    assert 'failures="0"' in junit
    assert "test_archive_conforms" in junit


def test_a_lossy_archiver_fails_the_gate_with_a_useful_message(project: Path) -> None:
    app = project / "archiver" / "app.py"
    source = app.read_text()
    lossy = source.replace(
        "    put_all(lines)\n", "    put_all([line for line in lines if b'\"offset\":17,' not in line])\n"
    )
    assert lossy != source
    app.write_text(lossy)
    done = _pytest(project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "scenario ci-gate FAILED" in done.stdout
    assert "no_loss: expected" in done.stdout
    assert "AssertionError: []" not in done.stdout
