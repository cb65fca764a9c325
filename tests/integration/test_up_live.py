"""`msk-harness up SCENARIO`: a live pipeline to produce to by hand; `--data-dir` keeps S3 across restarts."""

from __future__ import annotations

import gzip
import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import boto3
from kafka import KafkaProducer

from harness.backends.kafka.admin import TopicAdmin
from tests.integration.procs import child_env

CLI = [sys.executable, "-m", "harness.cli"]
PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
SCENARIO = f"""
name: live
pipeline:
  topic: {{name: live-orders, partitions: 2}}
  event_source: {{source: msk, StartingPosition: TRIM_HORIZON, BatchSize: 50}}
  function: {{runtime: python3.12, handler: handler.lambda_handler, env: {{DELIVERY_STREAM_NAME: archive}}}}
  firehose:
    stream_name: archive
    bucket: archive
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 1}}
    CompressionFormat: GZIP
    Prefix: "{PREFIX}"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 1}}
  records: 1
"""


class Up:
    """`msk-harness up ...` as a child process, its stdout lines read as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*CLI, "up", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, start: str, timeout: float = 120) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            if line.startswith(start):
                return line

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=60)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        out[key] = value.strip("'")
    return out


def test_produce_by_hand_see_objects_and_keep_them_across_restarts(tmp_path: Path) -> None:
    scenario = tmp_path / "live.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    data = tmp_path / "data"
    up = Up(str(scenario), "--env-file", str(tmp_path / "up.env"), "--data-dir", str(data))
    try:
        up.wait_for("# msk-harness pipeline live is up")
        env = _env_file(tmp_path / "up.env")
        assert env["MSK_HARNESS_TOPIC"] == "live-orders"
        producer = KafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
        for i in range(20):  # as a user's app would
            producer.send("live-orders", key=f"k{i}".encode(), value=json.dumps({"n": i}).encode())
        producer.flush()
        producer.close()
        assert "invocation " in up.wait_for("invocation ")
        key = up.wait_for("object s3://archive/data/year=").removeprefix("object s3://archive/")
        code, err = up.stop()
        assert code == 0, err
        assert "saved " in err
    finally:
        up.kill()
    saved = data / "archive" / key
    assert saved.is_file()
    archived = [json.loads(line) for line in gzip.decompress(saved.read_bytes()).splitlines()]
    assert {line["topic"] for line in archived} == {"live-orders"}

    again = Up("--data-dir", str(data), "--json", "--env-file", str(tmp_path / "again.env"))
    try:
        env = json.loads(_read_json(again))
        s3 = boto3.session.Session().client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL_S3"],
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        body = s3.get_object(Bucket="archive", Key=key)["Body"].read()
        assert body == saved.read_bytes()
        code, err = again.stop()
        assert code == 0, err
    finally:
        again.kill()


def _read_json(up: Up) -> str:
    # The JSON object spans lines from "{" to "}".
    lines = [up.wait_for("{")]
    while not lines[-1].startswith("}"):
        lines.append(up.lines.get(timeout=60))
    return "\n".join(lines)


def test_an_existing_topic_is_used_and_its_records_are_archived(tmp_path: Path) -> None:
    # A stack whose Kafka already has the topic (and records in it), then
    # `up SCENARIO` against that Kafka: the topic is used, not an error, and its records reach S3.
    stack = Up("--env-file", str(tmp_path / "stack.env"), "--no-firehose")
    try:
        stack.wait_for("# msk-harness stack is up")
        servers = _env_file(tmp_path / "stack.env")["KAFKA_BOOTSTRAP_SERVERS"]
        with TopicAdmin(servers) as admin:
            admin.create_topic("live-orders", partitions=2)
        producer = KafkaProducer(bootstrap_servers=servers)
        for i in range(5):
            producer.send("live-orders", key=f"k{i}".encode(), value=json.dumps({"n": i}).encode())
        producer.flush()
        producer.close()
        external = SCENARIO.replace(
            "  firehose:\n",
            f"  backends: {{kafka: {{kind: external, bootstrap_servers: ['{servers}']}}}}\n  firehose:\n",
            1,
        )
        scenario = tmp_path / "external.yaml"
        scenario.write_text(external, encoding="utf-8")
        live = Up(str(scenario))
        try:
            live.wait_for("# msk-harness pipeline live is up")
            key = live.wait_for("object s3://archive/data/").removeprefix("object s3://archive/")
            assert key.endswith(".gz")
            code, err = live.stop()
            assert code == 0, err
        finally:
            live.kill()
        code, err = stack.stop()
        assert code == 0, err
    finally:
        stack.kill()
