"""The default stack: starts (1 broker + S3 + Firehose when present), env() works for boto3 and kafka-python,
and nothing is left running afterwards, also when a start fails or the owning process dies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import cast

import boto3
import pytest
from kafka import KafkaConsumer, KafkaProducer

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.stack import Stack, StackConfig
from harness.lifecycle import BackendError
from tests.integration.procs import alive, descendants, pids_with_cmdline_containing


def _java_children() -> set[int]:
    return {p for p in descendants(os.getpid()) if "java" in open(f"/proc/{p}/comm").read()}


def _wait_gone(pids: set[int], seconds: float = 20.0) -> set[int]:
    # Bounded wait for processes to disappear (a leak check, not a timing assertion).
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


@pytest.fixture
def stack() -> Iterator[Stack]:
    with Stack(StackConfig(brokers=1)) as running:
        yield running


def test_env_reaches_s3_and_kafka_through_standard_settings(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = stack.env()
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        assert env[key]
    assert env["AWS_ENDPOINT_URL_SQS"] == env["AWS_ENDPOINT_URL_S3"]
    if stack.firehose is not None:
        assert env["AWS_ENDPOINT_URL_FIREHOSE"].startswith("http://127.0.0.1:")
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    s3 = boto3.session.Session().client("s3")  # endpoint, region and credentials all from the environment
    s3.create_bucket(Bucket="stack-env")
    s3.put_object(Bucket="stack-env", Key="data/k", Body=b"from env")
    assert stack.s3.get_object_bytes("stack-env", "data/k") == b"from env"

    with stack.kafka.admin() as admin:
        admin.create_topic("stack-env", partitions=1)
    producer = KafkaProducer(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"])
    producer.send("stack-env", b"record").get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        "stack-env",
        bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        consumer_timeout_ms=15_000,
    )
    values = [r.value for r in consumer]
    consumer.close()
    assert values == [b"record"]


def test_stop_leaves_no_process_thread_or_port() -> None:
    stack = Stack(StackConfig(brokers=1)).start()
    workdir = cast(EmbeddedKafka, stack.kafka).workdir
    jvms = pids_with_cmdline_containing(str(workdir))
    assert jvms, "the embedded broker runs as a JVM whose command line names its workdir"
    s3_port = int(stack.env()["AWS_ENDPOINT_URL_S3"].rsplit(":", 1)[1])
    assert [t.name for t in stack.timings][-1] == "total"

    stack.stop()

    assert _wait_gone(jvms) == set()
    assert not workdir.exists()
    assert not any(t.name == f"moto-server-{s3_port}" for t in threading.enumerate())
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", s3_port)) != 0
    with pytest.raises(BackendError):
        stack.env()


def test_failed_start_stops_the_parts_that_came_up() -> None:
    before = _java_children()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        config = StackConfig(brokers=1, s3="external", s3_endpoint_url=url)
        with pytest.raises(BackendError, match=url):
            Stack(config).start()
    assert _wait_gone(_java_children() - before) == set()


def test_config_rejects_contradictions() -> None:
    with pytest.raises(ValueError, match="bootstrap servers"):
        StackConfig(kafka="external")
    with pytest.raises(ValueError, match="only used with the external Kafka"):
        StackConfig(bootstrap_servers="127.0.0.1:9092")
    with pytest.raises(ValueError, match="brokers"):
        StackConfig(brokers=0)
    with pytest.raises(ValueError, match="one broker"):
        StackConfig(kafka="docker", brokers=3)


_CHILD_RAISES = """
import sys
from harness.backends.stack import Stack, StackConfig
stack = Stack(StackConfig(brokers=1)).start()
print(stack.kafka.workdir, flush=True)
raise RuntimeError("scenario failed on purpose")
"""

_CHILD_WAITS = """
import sys, time
from harness.backends.stack import Stack, StackConfig
stack = Stack(StackConfig(brokers=1)).start()
print(stack.kafka.workdir, flush=True)
time.sleep(120)
"""


def _spawn_child(code: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    workdir = proc.stdout.readline().strip()
    return proc, workdir


def test_child_that_raises_after_start_leaves_nothing_behind() -> None:
    proc, workdir = _spawn_child(_CHILD_RAISES)
    try:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 1
        assert "scenario failed on purpose" in stderr
        assert workdir, stderr
        assert pids_with_cmdline_containing(workdir) == set()
        assert not os.path.exists(workdir)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_killed_owner_takes_its_broker_with_it() -> None:
    proc, workdir = _spawn_child(_CHILD_WAITS)
    try:
        assert workdir, proc.stderr.read() if proc.stderr else ""
        jvms = pids_with_cmdline_containing(workdir)
        assert jvms
        proc.send_signal(signal.SIGKILL)  # no atexit, no cleanup code: only PR_SET_PDEATHSIG can help
        proc.wait(timeout=30)
        assert _wait_gone(jvms) == set()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # The JVM died with its owner; its temp dir could not be removed by the killed process.
        if workdir.startswith("/tmp/msk-harness-kafka-"):
            subprocess.run(["rm", "-rf", workdir], check=False)
