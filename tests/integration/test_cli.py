"""`msk-harness` end to end as a subprocess: up --check, up + Ctrl-C/SIGTERM, doctor, bad arguments."""

from __future__ import annotations

import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import boto3
import pytest
from kafka import KafkaConsumer, KafkaProducer

from harness.backends.kafka.admin import TopicAdmin
from tests.integration.procs import alive, child_env, cmdline, descendants

CLI = [sys.executable, "-m", "harness.cli"]
READY_LINE = "# msk-harness stack is up"


def _run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=child_env(), check=False
    )


def test_up_check_proves_every_part_and_exits_0() -> None:
    done = _run("up", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all parts work" in done.stdout
    for part in ("kafka", "s3", "firehose", "lambda runtime"):
        assert part in done.stdout
    assert "FAILED" not in done.stdout


def test_bad_flag_exits_2() -> None:
    done = _run("up", "--no-such-flag")
    assert done.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in done.stderr


def test_contradicting_flags_exit_2_with_reason() -> None:
    done = _run("up", "--kafka", "external")
    assert done.returncode == 2
    assert "bootstrap servers" in done.stderr


def test_unreachable_external_s3_is_one_clear_error() -> None:
    done = _run("up", "--s3", "external", "--s3-endpoint-url", "http://127.0.0.1:9", "--no-firehose")
    assert done.returncode == 1
    assert "error: S3 endpoint http://127.0.0.1:9 did not start" in done.stderr
    assert "Traceback" not in done.stderr


def test_docker_backend_without_engine_fails_fast() -> None:
    env = child_env() | {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    done = subprocess.run(
        [*CLI, "up", "--kafka", "docker"], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 1
    assert "Docker engine not reachable" in done.stderr
    assert "Traceback" not in done.stderr


def test_doctor_exits_0_here_and_names_each_part() -> None:
    done = _run("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("java", "maven", "kafka jars", "node.js", "docker"):
        assert name in done.stdout


def test_console_script_is_installed() -> None:
    script = shutil.which("msk-harness")
    if script is None:
        pytest.skip("msk-harness console script not on PATH (package not installed with pip install -e)")
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    assert "up" in done.stdout
    assert "doctor" in done.stdout


@pytest.fixture
def running_up() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc = subprocess.Popen(
        [*CLI, "up"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    exports: dict[str, str] = {}
    try:
        while True:
            line = lines.get(timeout=120)
            if line.startswith(READY_LINE):
                break
            assert line.startswith("export "), line
            key, _, value = line[len("export ") :].rstrip("\n").partition("=")
            exports[key] = shlex.split(value)[0]
        yield proc, exports
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_up_prints_usable_exports_and_stops_cleanly_on_signal(
    running_up: tuple[subprocess.Popen[str], dict[str, str]], stop_signal: signal.Signals
) -> None:
    proc, exports = running_up
    expected = {
        "KAFKA_BOOTSTRAP_SERVERS",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_FIREHOSE",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_SNS",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    assert expected <= exports.keys()
    jvms = {p for p in descendants(proc.pid) if "java" in cmdline(p)}
    assert jvms, "the embedded broker is a JVM child of msk-harness"

    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=exports["AWS_ENDPOINT_URL_S3"],
        region_name=exports["AWS_REGION"],
        aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket="cli-up")
    s3.put_object(Bucket="cli-up", Key="k", Body=b"via exports")
    assert s3.get_object(Bucket="cli-up", Key="k")["Body"].read() == b"via exports"

    servers = exports["KAFKA_BOOTSTRAP_SERVERS"]
    producer = KafkaProducer(bootstrap_servers=servers)
    # auto.create.topics is off, like MSK: the topic comes from the admin API.
    with TopicAdmin(servers) as admin:
        admin.create_topic("cli-up", partitions=1)
    producer.send("cli-up", b"via exports").get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        "cli-up", bootstrap_servers=servers, auto_offset_reset="earliest", consumer_timeout_ms=15_000
    )
    assert [r.value for r in consumer] == [b"via exports"]
    consumer.close()

    proc.send_signal(stop_signal)
    assert proc.wait(timeout=60) == 0
    deadline = time.monotonic() + 20
    while alive(jvms) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive(jvms) == set()
