"""The per-user runtime cache (built once, atomically, under a lock), interpreter choice, the code sandbox."""

from __future__ import annotations

import os
import stat
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from harness.doctor import check_python_runtime
from harness.runtime.provision import build_once, find_interpreter
from harness.runtime.runtime_facts import node_facts, python_facts
from harness.runtime.sandbox import FunctionFiles, LayerError
from harness.runtime.world import node_feature_flags


def test_runtime_facts_pin_exact_versions_with_the_runtime_client_first() -> None:
    facts = python_facts("python3.12")
    assert facts.version == "3.12"
    assert facts.packages[0].startswith("awslambdaric==")
    assert {p.split("==")[0] for p in facts.packages} == {"awslambdaric", "boto3", "botocore"}
    node = node_facts("nodejs22.x")
    assert node.major == 22
    assert f"@aws-sdk/client-firehose@<={node.sdk_release}" in node.sdk_packages
    with pytest.raises(KeyError):
        python_facts("python2.7")


def test_concurrent_builds_share_one_build(tmp_path: Path) -> None:
    builds: list[Path] = []
    gate = threading.Barrier(4)

    def build(into: Path) -> None:
        builds.append(into)
        (into / "payload").write_text("built")

    def racer() -> None:
        gate.wait()
        build_once(tmp_path, "env", build)

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert (tmp_path / "env" / "payload").read_text() == "built"
    assert (tmp_path / "env" / "READY").exists()


def test_a_failed_build_leaves_nothing_behind_and_is_retried(tmp_path: Path) -> None:
    def broken(into: Path) -> None:
        (into / "half").write_text("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_once(tmp_path, "env", broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env.lock"]

    def works(into: Path) -> None:
        (into / "ok").write_text("y")

    build_once(tmp_path, "env", works)
    assert (tmp_path / "env" / "ok").exists()


def test_without_a_matching_interpreter_the_harness_one_runs_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))  # no versions/ here
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.X, no uv
    monkeypatch.setenv("MSK_HARNESS_PYTHON_3_99", str(tmp_path / "missing-python"))
    interpreter, version, matches = find_interpreter("3.99")
    assert not matches
    assert version == "{}.{}.{}".format(*sys.version_info[:3])
    assert interpreter.exists()


def test_the_env_knob_names_the_interpreter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    own = "{}.{}".format(*sys.version_info[:2])
    monkeypatch.setenv(f"MSK_HARNESS_PYTHON_{own.replace('.', '_')}", sys.executable)
    interpreter, version, matches = find_interpreter(own)
    assert matches
    assert interpreter == Path(sys.executable)
    assert version.startswith(own)


def test_function_files_copy_code_read_only_and_merge_layers_in_order(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("x = 1\n")
    first = tmp_path / "first"
    (first / "python").mkdir(parents=True)
    (first / "python" / "shared.py").write_text("who = 'first'\n")
    (first / "python" / "only_first.py").write_text("")
    second = tmp_path / "second.zip"
    with zipfile.ZipFile(second, "w") as archive:
        archive.writestr("python/shared.py", "who = 'second'\n")
        archive.writestr("bin/tool", "#!/bin/sh\n")
    files = FunctionFiles("fn", code, [first, second])
    try:
        assert (files.task_root / "app.py").read_text() == "x = 1\n"
        assert (files.opt / "python" / "shared.py").read_text() == "who = 'second'\n"  # later layer wins
        assert (files.opt / "python" / "only_first.py").exists()
        assert (files.opt / "bin" / "tool").exists()
        for path in (files.task_root, files.task_root / "app.py", files.opt / "python" / "shared.py"):
            assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        tmp = files.tmp_dir(1)
        (tmp / "scratch").write_text("writable")
        files.drop_tmp(1)
        assert not tmp.exists()
        assert (code / "app.py").stat().st_mode & stat.S_IWUSR  # the original is untouched
    finally:
        files.close()
    assert not files.root.exists()


def test_bad_layers_are_refused_before_anything_runs(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    not_zip = tmp_path / "layer.zip"
    not_zip.write_text("not a zip")
    with pytest.raises(LayerError, match="neither a directory nor a zip file"):
        FunctionFiles("fn", code, [not_zip])
    with pytest.raises(LayerError, match="at most 5 layers"):
        FunctionFiles("fn", code, [code] * 6)


def test_doctor_says_which_python_a_runtime_without_its_interpreter_runs_on(tmp_path: Path) -> None:
    finding = check_python_runtime("python3.13", {"PYENV_ROOT": str(tmp_path), "PATH": str(tmp_path)})
    if sys.version_info[:2] == (3, 13):
        pytest.skip("the harness itself runs on 3.13")
    assert not finding.ok
    assert not finding.required
    assert finding.detail.startswith("no Python 3.13: python3.13 functions run on the harness's Python 3.")
    assert "pyenv install 3.13" in finding.fix


def test_node_features_lambda_disables_and_the_function_may_re_enable() -> None:
    assert node_feature_flags("20", "") == ("--no-experimental-require-module",)
    assert node_feature_flags("22", "") == (
        "--no-experimental-require-module",
        "--no-experimental-detect-module",
    )
    assert node_feature_flags("22", "--max-old-space-size=100 --experimental-require-module") == (
        "--no-experimental-detect-module",
    )
