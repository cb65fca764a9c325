"""Hostile scenario files: alias bombs, absurd nesting and huge files exit 2 with `file:line`, fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.scenario import check_scenario
from harness.scenario.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_MESSAGE_CHARS, clip

pytestmark = pytest.mark.timeout(30)


def _bomb(levels: int) -> str:
    lines = ["name: bomb", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    lines.append(f"pipeline: *l{levels}")
    return "\n".join(lines) + "\n"


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    file = tmp_path / "hostile.yaml"
    file.write_text(text)
    code = check_scenario(file)
    return code, capsys.readouterr().err, file


@pytest.mark.parametrize("levels", [7, 9])
def test_alias_bomb_exits_2_at_the_line_that_explodes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], levels: int
) -> None:
    code, err, file = _check(tmp_path, _bomb(levels), capsys)
    assert code == 2
    assert err.startswith(f"{file}:"), err[:500]
    assert "alias bomb" in err
    assert len(err) < 2000  # the expanded value is never printed
    line = int(err.split(":")[1])
    assert 2 <= line <= levels + 3


def test_a_few_honest_aliases_still_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, _ = _check(tmp_path, _bomb(2), capsys)
    assert code == 2  # the bomb shape is not a scenario, but it is judged by the schema, not refused
    assert "alias bomb" not in err
    assert "YAML refused" not in err


def test_fifty_thousand_deep_sequence_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, file = _check(tmp_path, "name: deep\npipeline: " + "[" * 50_000 + "]" * 50_000 + "\n", capsys)
    assert code == 2
    assert err.startswith(f"{file}:2: YAML refused: nesting deeper than {MAX_DEPTH} levels"), err[:500]
    assert "Traceback" not in err
    assert "RecursionError" not in err


def test_deep_block_mapping_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "v\n"
    code, err, file = _check(tmp_path, text, capsys)
    assert code == 2
    assert err.startswith(f"{file}:{MAX_DEPTH}: YAML refused: nesting deeper"), err[:500]


def test_self_referencing_alias_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, file = _check(tmp_path, "name: loop\npipeline: &p\n  topic: *p\n", capsys)
    assert code == 2
    assert f"{file}:3: YAML refused: alias *p refers to a node that contains it" in err


def test_oversized_file_is_refused_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "huge.yaml"
    with file.open("wb") as out:  # sparse: the size is there, the bytes are never read
        out.truncate(MAX_FILE_BYTES * 1024)
    assert check_scenario(file) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{file}:1: the file is {MAX_FILE_BYTES * 1024} bytes; scenario files are limited")


def test_long_schema_messages_are_clipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_list = "[" + ", ".join(['"' + "x" * 50 + '"'] * 2000) + "]"
    code, err, file = _check(tmp_path, f"name: long\npipeline: {long_list}\n", capsys)
    assert code == 2
    assert f"{file}:2: pipeline: " in err
    assert all(len(line) < len(str(file)) + 20 + MAX_MESSAGE_CHARS + 40 for line in err.splitlines())
    assert "more characters)" in err


def test_clip_leaves_short_messages_alone() -> None:
    assert clip("short") == "short"
    assert clip("a" * 10, limit=4) == "aaaa... (6 more characters)"
