"""Docker backends (Redpanda, LocalStack): they run where a Docker engine answers and skip with the probe's
reason elsewhere. The fail-fast path without Docker is tested everywhere."""

from __future__ import annotations

import os
import socket

import pytest
from kafka import KafkaConsumer, KafkaProducer

from harness.backends.docker import (
    LocalStackS3,
    docker_unreachable_reason,
    require_docker,
)
from harness.backends.kafka.redpanda import RedpandaKafka
from harness.lifecycle import BackendError


@pytest.fixture
def docker_engine() -> None:
    reason = docker_unreachable_reason()
    if reason is not None:
        pytest.skip(f"Docker engine not reachable ({reason})")


def test_probe_of_closed_tcp_host_gives_reason_quickly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        host = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
        reason = docker_unreachable_reason(host, timeout=2.0)
    assert reason is not None
    assert host in reason


def test_probe_of_missing_socket_names_it(tmp_path: os.PathLike[str]) -> None:
    missing = os.path.join(os.fspath(tmp_path), "docker.sock")
    assert docker_unreachable_reason(f"unix://{missing}") == f"no Docker socket at {missing}"


def test_selected_docker_backend_fails_fast_without_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(BackendError, match=r"Docker engine not reachable .*use the embedded backend"):
        require_docker()
    with pytest.raises(BackendError, match="Docker engine not reachable"):
        RedpandaKafka().start()
    with pytest.raises(BackendError, match="Docker engine not reachable"):
        LocalStackS3().start()


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_redpanda_produce_and_consume() -> None:
    with RedpandaKafka() as kafka:
        admin = kafka.admin()
        try:
            admin.create_topic("docker-smoke", partitions=1)
        finally:
            admin.close()
        producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
        producer.send("docker-smoke", b"hello").get(timeout=30)
        producer.close()
        consumer = KafkaConsumer(
            "docker-smoke",
            bootstrap_servers=kafka.bootstrap_servers,
            auto_offset_reset="earliest",
            consumer_timeout_ms=20_000,
        )
        values = [record.value for record in consumer]
        consumer.close()
    assert values == [b"hello"]


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_localstack_s3_put_get() -> None:
    if not os.environ.get("LOCALSTACK_AUTH_TOKEN"):
        pytest.skip("LOCALSTACK_AUTH_TOKEN not set; current LocalStack images need one")
    with LocalStackS3.from_env() as s3:
        s3.create_bucket("docker-archive")
        s3.s3_client().put_object(Bucket="docker-archive", Key="a/b", Body=b"x")
        assert s3.list_keys("docker-archive") == ["a/b"]
        assert s3.get_object_bytes("docker-archive", "a/b") == b"x"
        queue = s3.sqs_client().create_queue(QueueName="docker-q")["QueueUrl"]
        s3.sqs_client().send_message(QueueUrl=queue, MessageBody="m")
        assert (
            s3.sqs_client().receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"][0]["Body"] == "m"
        )
