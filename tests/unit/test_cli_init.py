"""`msk-harness init`: the skeleton it writes, and that examples/ci-gate is exactly that skeleton."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.init import skeleton
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ci-gate"


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and "reports" not in p.parts
    }


def test_examples_ci_gate_is_the_init_skeleton() -> None:
    # One home: the template is package data; the example in the repository must not drift from it.
    assert _tree(EXAMPLE) == skeleton()


def test_init_writes_scenario_test_workflow_and_archiver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "repo")]) == 0
    written = _tree(tmp_path / "repo")
    assert set(written) >= {
        "scenarios/gate.yaml",
        "tests/test_archive_gate.py",
        ".github/workflows/archive-gate.yml",
        "archiver/app.py",
        "pytest.ini",
    }
    workflow = written[".github/workflows/archive-gate.yml"]
    for needed in ("actions/setup-java", "setup-maven", "~/.cache/msk-harness", "--junitxml"):
        assert needed in workflow
    scenario = load_scenario(tmp_path / "repo" / "scenarios" / "gate.yaml")
    assert scenario.pipeline.function.handler == "app.handler"
    assert "next: cd" in capsys.readouterr().out


def test_init_points_the_scenario_at_your_function(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path), "--code-dir", "src/fn", "--handler", "main.handle"]) == 0
    assert not (tmp_path / "archiver").exists()
    text = (tmp_path / "scenarios" / "gate.yaml").read_text()
    assert "    code_dir: src/fn\n" in text
    assert "    handler: main.handle\n" in text


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n# mine\n")
    assert main(["init", str(tmp_path)]) == 2
    assert "pytest.ini: exists (use --force to overwrite)" in capsys.readouterr().err
    assert (tmp_path / "pytest.ini").read_text() == "[pytest]\n# mine\n"
    assert not (tmp_path / "scenarios").exists()  # nothing written
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert "# mine" not in (tmp_path / "pytest.ini").read_text()
