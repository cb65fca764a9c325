"""Other SDKs against the standalone emulator (`python -m firehose_emulator`): AWS CLI v1 and JS SDK v3."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.backends.firehose import wait_until_active
from harness.backends.s3 import MotoServer
from harness.clock import SystemClock

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
BUCKET = "sdk-bucket"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_url(moto_server: MotoServer) -> str:
    """The session's moto server (S3), with this module's bucket."""
    url = moto_server.endpoint_url
    boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    ).create_bucket(Bucket=BUCKET)
    return url


@pytest.fixture(scope="module")
def emulator_url(s3_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator as a subprocess; its first stdout line is its URL; stopped with SIGTERM."""
    log = tmp_path_factory.mktemp("emulator") / "stderr.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "firehose_emulator",
                "--port",
                "0",
                "--s3-endpoint-url",
                s3_url,
                "--start-time",
                "2026-07-13T14:05:09Z",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, **CREDENTIALS},
            start_new_session=True,
        )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:"), f"no URL on stdout; stderr: {log.read_text()}"
        yield url
    finally:
        proc.terminate()
        try:
            assert proc.wait(timeout=20) == 0, "the emulator did not exit cleanly on SIGTERM"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def client(url: str) -> Any:
    return boto3.client(
        "firehose",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )


def create_stream(url: str, name: str) -> None:
    client(url).create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "Prefix": f"{name}/",
        },
    )
    wait_until_active(client(url), name, clock=SystemClock())  # CREATING first, as on AWS


def flush_and_read(emulator: str, s3_url: str, name: str) -> bytes:
    request = urllib.request.Request(
        f"{emulator}/_emulator/flush", data=json.dumps({"stream": name}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30):
        pass
    s3 = boto3.client(
        "s3", endpoint_url=s3_url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{name}/").get("Contents", [])]
    assert len(keys) == 1, keys
    assert keys[0].startswith(f"{name}/2026/07/13/14/{name}-1-2026-07-13-14-0"), (
        keys
    )  # the --start-time clock
    body: bytes = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    return body


def test_aws_cli_puts_records(emulator_url: str, s3_url: str) -> None:
    create_stream(emulator_url, "cli")
    env = {
        **os.environ,
        **CREDENTIALS,
        "AWS_ENDPOINT_URL_FIREHOSE": emulator_url,
        "AWS_CONFIG_FILE": os.devnull,
    }
    cli = [sys.executable, "-m", "awscli", "firehose"]
    single = subprocess.run(
        [*cli, "put-record", "--delivery-stream-name", "cli", "--record", json.dumps({"Data": "one;"})],
        env=env, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    assert len(json.loads(single.stdout)["RecordId"]) == 220
    # AWS CLI v1 sends blob arguments as given (it base64-encodes the text itself).
    records = [{"Data": "two;"}, {"Data": "three;"}]
    batch = subprocess.run(
        [*cli, "put-record-batch", "--delivery-stream-name", "cli", "--records", json.dumps(records)],
        env=env, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    assert json.loads(batch.stdout)["FailedPutCount"] == 0
    missing = subprocess.run(  # noqa: PLW1510 - the failure is the point
        [*cli, "describe-delivery-stream", "--delivery-stream-name", "nope"],
        env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode != 0
    assert b"ResourceNotFoundException" in missing.stderr
    assert flush_and_read(emulator_url, s3_url, "cli") == b"one;two;three;"


def test_node_sdk_v3_puts_records(emulator_url: str, s3_url: str) -> None:
    if not (NODE_DIR / "node_modules" / "@aws-sdk" / "client-firehose").is_dir():
        pytest.skip("tests/node/node_modules is missing: run `npm ci` in tests/node")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    create_stream(emulator_url, "node")
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL_FIREHOSE": emulator_url}
    done = subprocess.run(
        [node, "put_records.mjs", "node", "a;", "b;", "c;"],
        cwd=NODE_DIR, env=env, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    result = json.loads(done.stdout)
    assert result["failedPutCount"] == 0
    assert len({result["recordId"], *result["batchIds"]}) == 3
    assert result["notFound"] == {
        "name": "ResourceNotFoundException",
        "message": "Firehose missing-stream under account 123456789012 not found.",
        "status": 400,
    }
    assert flush_and_read(emulator_url, s3_url, "node") == b"a;b;c;"
