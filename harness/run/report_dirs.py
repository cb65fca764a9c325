"""Where a run's reports go: a directory no other run uses, created exclusively, never overwritten.

Two runs of one scenario started in the same second (parallel CI jobs from one checkout) used to share
`reports/<name>-<second>/`, and one report silently replaced the other. A default directory now carries a
random suffix from the run's own RNG and is made with an exclusive `mkdir`; an explicit `--report-dir` must be
new or empty.

Example::

    directory = claim_report_dir(Path("reports"), "smoke", started_at, random.Random())
    # reports/smoke-20260101T120000Z-3f9a1c/, created by this call and by no other
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

_ATTEMPTS = 20


class ReportDirError(Exception):
    """No fresh report directory could be had (or the one asked for is in use)."""


def report_dir_problem(directory: Path) -> str | None:
    """Why an explicit report directory may not be used (it holds files already), or None."""
    if directory.exists() and not directory.is_dir():
        return f"report directory {directory} exists and is not a directory"
    if directory.is_dir() and any(directory.iterdir()):
        return f"report directory {directory} is not empty; choose a new one (reports are never overwritten)"
    return None


def claim_report_dir(root: Path, scenario_name: str, started_at: datetime, rng: random.Random) -> Path:
    """Create and return `root/<scenario>-<UTC second>-<6 hex>/`, a directory no other run has."""
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(_ATTEMPTS):
        candidate = root / f"{scenario_name}-{started_at:%Y%m%dT%H%M%SZ}-{rng.getrandbits(24):06x}"
        try:
            candidate.mkdir()  # exclusive: fails if any other run made it first
        except FileExistsError:
            continue
        return candidate
    raise ReportDirError(f"no free report directory under {root} after {_ATTEMPTS} tries")


def claim_explicit_dir(directory: Path) -> Path:
    """Create `directory` (parents too) for this run; refuse it if it holds files already."""
    problem = report_dir_problem(directory)
    if problem is not None:
        raise ReportDirError(problem)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
