"""Where a kept archive object lands: its S3 key as a path, never outside the directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends.s3_files import UnsafeKeyError, local_path


def test_a_key_keeps_its_layout(tmp_path: Path) -> None:
    key = "data/year=2026/month=12/day=03/hour=19/archive-1-2026-12-03-19-00-00-x.gz"
    assert local_path(
        tmp_path, key
    ) == tmp_path / "data" / "year=2026" / "month=12" / "day=03" / "hour=19" / (
        "archive-1-2026-12-03-19-00-00-x.gz"
    )


@pytest.mark.parametrize("key", ["../outside.gz", "data/../../x", "/etc/passwd", "", "a/./b"])
def test_keys_that_would_escape_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(UnsafeKeyError, match="cannot be kept"):
        local_path(tmp_path, key)
