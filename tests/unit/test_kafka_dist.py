"""Kafka distribution resolution: KAFKA_HOME, cache location, missing java/maven (no JVM is started)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.backends.kafka.admin import PartitionDescription
from harness.backends.kafka.dist import (
    KafkaDistError,
    cache_root,
    cached_dist_dir,
    fetch_jars,
    find_java,
    resolve_distribution,
)
from harness.backends.kafka.embedded import EmbeddedKafka, kafka_uuid
from harness.backends.kafka.external import parse_bootstrap_servers


def _fake_java(bin_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    java = bin_dir / "java"
    java.write_text("#!/bin/sh\necho 'openjdk version \"17.0.9\" 2023-10-17' >&2\n")
    java.chmod(0o755)
    return java


def test_cache_root_precedence(tmp_path: Path) -> None:
    assert cache_root({"HOME": "/home/u"}) == Path("/home/u/.cache/msk-harness")
    assert cache_root({"HOME": "/home/u", "XDG_CACHE_HOME": "/x"}) == Path("/x/msk-harness")
    assert cache_root({"HOME": "/home/u", "XDG_CACHE_HOME": "/x", "MSK_HARNESS_CACHE": "/m"}) == Path("/m")
    assert cached_dist_dir({"MSK_HARNESS_CACHE": "/m"}) == Path("/m/kafka-4.1.1")


def test_kafka_home_that_is_not_kafka_is_a_clear_error(tmp_path: Path) -> None:
    java = _fake_java(tmp_path / "jdk" / "bin")
    not_kafka = tmp_path / "not-kafka"
    (not_kafka / "libs").mkdir(parents=True)
    (not_kafka / "libs" / "guava.jar").write_bytes(b"")
    env = {"PATH": str(java.parent), "KAFKA_HOME": str(not_kafka)}
    with pytest.raises(KafkaDistError, match=r"is not a Kafka distribution \(no libs/kafka_\*\.jar\)"):
        resolve_distribution(env)
    with pytest.raises(KafkaDistError, match="does not exist"):
        resolve_distribution({**env, "KAFKA_HOME": str(tmp_path / "missing")})
    # The backend surfaces the same error from start(), before any process runs.
    with pytest.raises(KafkaDistError, match="is not a Kafka distribution"):
        EmbeddedKafka(env=env).start()


def test_kafka_home_with_kafka_jars_wins_over_the_cache(tmp_path: Path) -> None:
    java = _fake_java(tmp_path / "jdk" / "bin")
    home = tmp_path / "kafka_2.13-4.1.1"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / "kafka_2.13-4.1.1.jar").write_bytes(b"")
    dist = resolve_distribution({"PATH": str(java.parent), "KAFKA_HOME": str(home)})
    assert dist.source == "KAFKA_HOME"
    assert dist.version == "4.1.1"
    assert dist.classpath == f"{home / 'libs'}/*"


def test_missing_java_names_what_to_install(tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    with pytest.raises(KafkaDistError, match=r"java was not found on PATH: install a Java 17\+ JDK"):
        find_java({"PATH": str(empty_bin)})
    with pytest.raises(KafkaDistError, match="has no bin/java"):
        find_java({"JAVA_HOME": str(tmp_path / "nojdk"), "PATH": str(empty_bin)})
    with pytest.raises(KafkaDistError, match="install a Java 17"):
        EmbeddedKafka(env={"PATH": str(empty_bin), "MSK_HARNESS_CACHE": str(tmp_path / "c")}).start()


def test_missing_maven_with_an_empty_cache_names_what_to_install(tmp_path: Path) -> None:
    java = _fake_java(tmp_path / "bin")
    env = {"PATH": str(java.parent), "MSK_HARNESS_CACHE": str(tmp_path / "cache")}
    with pytest.raises(KafkaDistError, match=r"mvn was not found on PATH.*install Apache Maven"):
        fetch_jars(env)
    with pytest.raises(KafkaDistError, match="not cached"):
        resolve_distribution(env, fetch=False)


def test_kafka_uuid_is_reproducible_and_well_formed() -> None:
    first = kafka_uuid(random.Random(7))
    assert first == kafka_uuid(random.Random(7))
    assert first != kafka_uuid(random.Random(8))
    assert len(first) == 22
    assert not first.startswith("-")
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_parse_bootstrap_servers() -> None:
    assert parse_bootstrap_servers(" a:9092, b:9093 ") == "a:9092,b:9093"
    for bad in ["", "nohost", "h:", "h:0", "h:70000", ":9092", "h:x"]:
        with pytest.raises(ValueError, match="bootstrap server"):
            parse_bootstrap_servers(bad)


def test_embedded_kafka_refuses_settings_it_manages() -> None:
    with pytest.raises(ValueError, match=r"may not set listeners, node\.id"):
        EmbeddedKafka(broker_configs={"node.id": "7", "listeners": "PLAINTEXT://:1"})
    with pytest.raises(ValueError, match="brokers must be >= 1"):
        EmbeddedKafka(brokers=0)


def test_partition_under_replicated() -> None:
    assert PartitionDescription(0, 1, (1, 2, 3), (1, 2)).under_replicated
    assert not PartitionDescription(0, 1, (1, 2, 3), (3, 1, 2)).under_replicated
