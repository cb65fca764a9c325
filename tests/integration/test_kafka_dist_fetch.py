"""The Maven fetch of the Kafka jars: a fresh cache, interrupted leftovers, concurrency, failures.

Maven resolves from the local ~/.m2 repository after the first CI fetch, so these stay quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.backends.kafka.dist import KafkaDistError, fetch_jars, is_complete_cache, resolve_distribution

REPO = Path(__file__).resolve().parents[2]


def test_fetch_fills_a_fresh_cache_and_clears_interrupted_leftovers(tmp_path: Path) -> None:
    env = {**os.environ, "MSK_HARNESS_CACHE": str(tmp_path)}
    env.pop("KAFKA_HOME", None)
    # What a Ctrl-C mid-fetch could have left: a temp dir and a dist dir without the completion marker.
    (tmp_path / ".kafka-4.1.1.tmp-12345" / "lib").mkdir(parents=True)
    (tmp_path / "kafka-4.1.1" / "lib").mkdir(parents=True)
    (tmp_path / "kafka-4.1.1" / "lib" / "half.jar").write_bytes(b"")

    lib = fetch_jars(env)

    assert lib == tmp_path / "kafka-4.1.1" / "lib"
    assert is_complete_cache(tmp_path / "kafka-4.1.1")
    assert (lib / "kafka_2.13-4.1.1.jar").is_file()
    assert (lib / "log4j-slf4j-impl-2.24.3.jar").is_file()
    assert not (lib / "half.jar").exists()
    assert not list(tmp_path.glob(".kafka-4.1.1.tmp-*"))
    dist = resolve_distribution(env, fetch=False)
    assert (dist.source, dist.version, dist.lib_dir) == ("cache", "4.1.1", lib)


def test_concurrent_fetchers_share_one_complete_cache(tmp_path: Path) -> None:
    env = {**os.environ, "MSK_HARNESS_CACHE": str(tmp_path), "PYTHONPATH": str(REPO)}
    env.pop("KAFKA_HOME", None)
    argv = [sys.executable, "-m", "harness.backends.kafka.dist", "fetch"]
    procs = [
        subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert {out.strip() for out, _ in outputs} == {str(tmp_path / "kafka-4.1.1" / "lib")}
    assert is_complete_cache(tmp_path / "kafka-4.1.1")
    assert not list(tmp_path.glob(".kafka-4.1.1.tmp-*"))


def test_a_maven_failure_carries_the_tail_of_mavens_output(tmp_path: Path) -> None:
    broken_pom = tmp_path / "pom.xml"
    broken_pom.write_text("<project><modelVersion>4.0.0</modelVersion><groupId>x</groupId>")  # not closed
    env = {**os.environ, "MSK_HARNESS_CACHE": str(tmp_path / "cache")}
    with pytest.raises(
        KafkaDistError, match=r"(?s)Maven could not fetch the Kafka jars.*last output lines:\n.*pom"
    ):
        fetch_jars(env, pom=broken_pom)
    assert not (tmp_path / "cache" / "kafka-4.1.1").exists()
    assert not list((tmp_path / "cache").glob(".kafka-4.1.1.tmp-*"))
