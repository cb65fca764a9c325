"""`msk-harness validate`: shipped scenarios pass; a broken file exits 2 with file:line messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_every_shipped_scenario_validates(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").rglob("*.yaml"))
    assert files, "no shipped scenarios found"
    assert main(["validate", *files]) == 0
    assert capsys.readouterr().err == ""


def test_broken_scenario_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npipeline:\n  topic:\n    name: t\n    partitions: 0\n  bogus: 1\n")
    assert main(["validate", str(ROOT / "scenarios" / "smoke.yaml"), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:5: pipeline.topic.partitions: 0 is less than the minimum of 1" in err
    assert f"{bad}:6: pipeline.bogus: unknown key 'bogus'" in err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 2
    assert f"{missing}:1: cannot read the file" in capsys.readouterr().err


def test_top_level_consumer_group_id_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "scenarios" / "smoke.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("event_source:"))
    lines.insert(at + 1, "    ConsumerGroupId: orders-archiver")
    bad = tmp_path / "group.yaml"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["validate", str(bad)]) == 2
    assert f"{bad}:{at + 2}: pipeline.event_source.ConsumerGroupId: unknown key" in capsys.readouterr().err
