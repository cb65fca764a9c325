"""Report directories: unique per run even within one second, created exclusively, never reused."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.run.report_dirs import ReportDirError, claim_explicit_dir, claim_report_dir

SECOND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_two_runs_in_the_same_second_get_distinct_directories(tmp_path: Path) -> None:
    first = claim_report_dir(tmp_path, "smoke", SECOND, random.Random())
    second = claim_report_dir(tmp_path, "smoke", SECOND, random.Random())
    assert first != second
    assert first.is_dir()
    assert second.is_dir()
    assert first.name.startswith("smoke-20260102T030405Z-")


def test_a_taken_name_is_never_reused_even_when_the_rng_repeats(tmp_path: Path) -> None:
    # Same seed = same first suffix: the exclusive mkdir must notice and pick another name.
    first = claim_report_dir(tmp_path, "smoke", SECOND, random.Random(7))
    (first / "report.json").write_text("{}")
    second = claim_report_dir(tmp_path, "smoke", SECOND, random.Random(7))
    assert second != first
    assert (first / "report.json").read_text() == "{}"
    assert list(second.iterdir()) == []


def test_an_explicit_directory_with_files_is_refused(tmp_path: Path) -> None:
    used = tmp_path / "r"
    used.mkdir()
    (used / "report.json").write_text("{}")
    with pytest.raises(ReportDirError, match="is not empty"):
        claim_explicit_dir(used)
    assert claim_explicit_dir(tmp_path / "new" / "dir").is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert claim_explicit_dir(empty) == empty
