"""`msk-harness doctor` on a machine with nothing installed: exit 1 and a fix for each missing thing."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.doctor import Finding, diagnose, embedded_stack_can_run


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    for var in ("JAVA_HOME", "KAFKA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.setenv("MSK_HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    return {"PATH": str(empty_bin), "MSK_HARNESS_CACHE": str(tmp_path / "cache"), "HOME": str(tmp_path)}


def _by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {f.name: f for f in findings}


def test_bare_machine_cannot_run_the_embedded_stack(bare_machine: dict[str, str]) -> None:
    findings = _by_name(diagnose(bare_machine))
    assert not findings["java"].ok
    assert "apt-get install openjdk-17-jdk-headless" in findings["java"].fix
    assert not findings["maven"].ok
    assert findings["maven"].required  # no cached jars, so Maven is needed once
    assert "apt-get install maven" in findings["kafka jars"].fix
    assert not findings["node.js"].ok
    assert not findings["node.js"].required
    assert not findings["docker"].ok
    assert not findings["docker"].required
    assert not embedded_stack_can_run(list(findings.values()))


def test_kafka_home_pointing_nowhere_is_reported(bare_machine: dict[str, str], tmp_path: Path) -> None:
    env = bare_machine | {"KAFKA_HOME": str(tmp_path / "no-kafka")}
    findings = _by_name(diagnose(env))
    assert findings["KAFKA_HOME"].ok is False
    assert findings["KAFKA_HOME"].detail == env["KAFKA_HOME"]
    assert findings["KAFKA_HOME"].fix


def test_doctor_command_exits_1_and_prints_fixes(
    bare_machine: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "cannot run here yet" in out
    assert "apt-get install" in out
