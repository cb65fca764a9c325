"""Firehose round two (spec checklist 20-24): what moto's and LocalStack's suites found, checked with boto3
against the emulator over HTTP and a real moto S3 server."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from firehose_emulator.options import ServiceOptions
from harness.backends.firehose import FirehoseBackend, wait_until_active
from harness.backends.s3 import MotoServer
from harness.clock import FakeClock, ScaledClock
from harness.lifecycle import BackendError
from tests.integration.credentials import set_test_credentials
from tests.integration.firehose_settings import DP_SETTINGS

ROLE = "arn:aws:iam::123456789012:role/firehose"
BUCKET_ARN = "arn:aws:s3:::round-two"
START = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)
DEST_ID = "destinationId-000000000001"
EXACTLY_ONE = "Exactly one destination configuration is supported for a Firehose"


@pytest.fixture(scope="module")
def s3() -> Iterator[MotoServer]:
    """A real moto S3 server with the bucket."""
    with pytest.MonkeyPatch.context() as mp:
        set_test_credentials(mp)
        with MotoServer().start() as server:
            server.create_bucket("round-two")
            yield server


@pytest.fixture
def firehose(s3: MotoServer) -> Iterator[FirehoseBackend]:
    """The emulator on a FakeClock that stands still, so new streams skip CREATING."""
    options = ServiceOptions(create_delay_seconds=0)
    with FirehoseBackend(s3.endpoint_url, clock=FakeClock(START), options=options) as backend:
        yield backend


def create(client: Any, name: str, **extra: Any) -> None:
    client.create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": BUCKET_ARN, **extra},
    )


def describe(client: Any, name: str) -> dict[str, Any]:
    description: dict[str, Any] = client.describe_delivery_stream(DeliveryStreamName=name)[
        "DeliveryStreamDescription"
    ]
    return description


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def update(client: Any, name: str, version: str, **members: Any) -> None:
    client.update_destination(
        DeliveryStreamName=name, CurrentDeliveryStreamVersionId=version, DestinationId=DEST_ID, **members
    )


# --- 20: what UpdateDestination rejects -----------------------------------------------------------------


def test_update_without_an_s3_destination_update_is_rejected_like_create(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client, "upd")
    with pytest.raises(ClientError) as exc:
        update(client, "upd", "1")
    assert error_of(exc) == ("InvalidArgumentException", EXACTLY_ONE)
    http = {"EndpointConfiguration": {"Url": "https://example.com/ingest"}}
    with pytest.raises(ClientError) as exc:
        update(client, "upd", "1", HttpEndpointDestinationUpdate=http)
    assert error_of(exc) == (
        "InvalidArgumentException",
        "Only S3 destinations are supported by this emulator; got HttpEndpointDestinationUpdate.",
    )
    with pytest.raises(ClientError) as exc:
        update(client, "upd", "1", SplunkDestinationUpdate={"HECEndpoint": "https://splunk.example.com"})
    assert error_of(exc)[0] == "InvalidArgumentException"
    assert describe(client, "upd")["VersionId"] == "1"


def test_update_with_both_s3_updates_is_rejected(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client, "both", Prefix="kept/")
    with pytest.raises(ClientError) as exc:
        update(
            client,
            "both",
            "1",
            S3DestinationUpdate={"Prefix": "basic/"},
            ExtendedS3DestinationUpdate={"Prefix": "extended/"},
        )
    assert error_of(exc) == ("InvalidArgumentException", EXACTLY_ONE)
    description = describe(client, "both")
    assert description["VersionId"] == "1"
    assert description["Destinations"][0]["ExtendedS3DestinationDescription"]["Prefix"] == "kept/"


# --- 21: every accepted update is a new version ---------------------------------------------------------


def test_every_successful_update_bumps_version_and_last_update(s3: MotoServer) -> None:
    clock = FakeClock(START)
    with FirehoseBackend(s3.endpoint_url, clock=clock, options=ServiceOptions(create_delay_seconds=0)) as fh:
        client = fh.client()
        create(client, "versions", CompressionFormat="GZIP")
        assert "LastUpdateTimestamp" not in describe(client, "versions")
        stamps = []
        for version in ("1", "2", "3"):
            clock.advance(60)
            update(client, "versions", version, ExtendedS3DestinationUpdate={"CompressionFormat": "GZIP"})
            description = describe(client, "versions")
            assert description["VersionId"] == str(int(version) + 1)
            stamps.append(description["LastUpdateTimestamp"])
    assert [stamp.timestamp() - START.timestamp() for stamp in stamps] == [60.0, 120.0, 180.0]


# --- 22: what Describe fills in -------------------------------------------------------------------------


def test_describe_fills_dp_retry_options_and_lambda_defaults_in_aws_order(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client, "dp", BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60}, **DP_SETTINGS)
    extended = describe(client, "dp")["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert extended["DynamicPartitioningConfiguration"] == {
        "Enabled": True,
        "RetryOptions": {"DurationInSeconds": 300},
    }
    lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:transform:$LATEST"
    processing = {
        "Enabled": True,
        "Processors": [
            {"Type": "Lambda", "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": lambda_arn}]}
        ],
    }
    create(client, "lam", ProcessingConfiguration=processing)
    processor = describe(client, "lam")["Destinations"][0]["ExtendedS3DestinationDescription"][
        "ProcessingConfiguration"
    ]["Processors"][0]
    assert [(p["ParameterName"], p["ParameterValue"]) for p in processor["Parameters"]] == [
        ("LambdaArn", lambda_arn),
        ("NumberOfRetries", "3"),
        ("RoleArn", ROLE),
        ("BufferSizeInMBs", "1"),
        ("BufferIntervalInSeconds", "60"),
    ]


def test_kinesis_source_describe_has_start_timestamp_and_no_encryption_block(
    firehose: FirehoseBackend,
) -> None:
    client = firehose.client()
    kinesis = {"KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/src", "RoleARN": ROLE}
    client.create_delivery_stream(
        DeliveryStreamName="fromkinesis",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration=kinesis,
        ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": BUCKET_ARN},
    )
    description = describe(client, "fromkinesis")
    assert "DeliveryStreamEncryptionConfiguration" not in description
    source = description["Source"]["KinesisStreamSourceDescription"]
    assert source == {**kinesis, "DeliveryStartTimestamp": source["DeliveryStartTimestamp"]}
    assert source["DeliveryStartTimestamp"] == description["CreateTimestamp"]
    create(client, "direct")
    assert describe(client, "direct")["DeliveryStreamEncryptionConfiguration"] == {"Status": "DISABLED"}


# --- 23: the 64 MiB minimum is for an explicit SizeInMBs ------------------------------------------------


def test_64_mib_minimum_applies_only_to_an_explicit_size(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client, "dp-default", **DP_SETTINGS)
    hints = describe(client, "dp-default")["Destinations"][0]["ExtendedS3DestinationDescription"][
        "BufferingHints"
    ]
    assert hints == {"SizeInMBs": 64, "IntervalInSeconds": 300}
    conversion = {"Enabled": True, "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}}}
    create(client, "conv-default", DataFormatConversionConfiguration=conversion)
    hints = describe(client, "conv-default")["Destinations"][0]["ExtendedS3DestinationDescription"][
        "BufferingHints"
    ]
    assert hints["SizeInMBs"] == 128
    with pytest.raises(ClientError) as exc:
        create(client, "dp-small", BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 60}, **DP_SETTINGS)
    assert error_of(exc) == (
        "InvalidArgumentException",
        "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled.",
    )


# --- 24: CREATING before ACTIVE -------------------------------------------------------------------------


def test_new_stream_is_creating_until_the_clock_passes_the_delay(s3: MotoServer) -> None:
    clock = FakeClock(START)
    with FirehoseBackend(s3.endpoint_url, clock=clock) as fh:  # the default knob: a few clock seconds
        client = fh.client()
        create(client, "slow")
        assert describe(client, "slow")["DeliveryStreamStatus"] == "CREATING"
        with pytest.raises(ClientError) as exc:
            client.put_record(DeliveryStreamName="slow", Record={"Data": b"x"})
        assert error_of(exc)[0] == "ResourceNotFoundException"
        clock.advance(ServiceOptions.create_delay_seconds - 0.5)
        assert describe(client, "slow")["DeliveryStreamStatus"] == "CREATING"
        clock.advance(0.5)
        assert describe(client, "slow")["DeliveryStreamStatus"] == "ACTIVE"
        client.put_record(DeliveryStreamName="slow", Record={"Data": b"x"})


def test_a_polling_client_sees_creating_then_active_on_a_scaled_clock(s3: MotoServer) -> None:
    clock = ScaledClock(START, speed=4.0)
    options = ServiceOptions(create_delay_seconds=4.0)  # one real second
    with FirehoseBackend(s3.endpoint_url, clock=clock, options=options) as fh:
        client = fh.client()
        create(client, "polled")
        seen = [describe(client, "polled")["DeliveryStreamStatus"]]
        wait_until_active(client, "polled", clock=clock, timeout_seconds=30)
        seen.append(describe(client, "polled")["DeliveryStreamStatus"])
        assert seen == ["CREATING", "ACTIVE"]
        assert client.put_record(DeliveryStreamName="polled", Record={"Data": b"x"})["RecordId"]
        create(client, "never")
        with pytest.raises(BackendError, match="still CREATING"):
            wait_until_active(client, "never", clock=clock, timeout_seconds=0.5)


# --- 25: identities unique across processes -------------------------------------------------------------


@contextlib.contextmanager
def emulator_process(s3_url: str, *extra: str) -> Iterator[str]:
    """`python -m firehose_emulator` as its own process (fixed start instant, no CREATING period); its URL."""
    argv = [
        sys.executable,
        "-m",
        "firehose_emulator",
        "--s3-endpoint-url",
        s3_url,
        "--create-delay-seconds",
        "0",
    ]
    argv += ["--start-time", "2026-07-13T14:05:09Z", *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:"), "the emulator printed no URL"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def ids_of_one_process(s3: MotoServer, stream: str, *extra: str) -> tuple[str, str, str]:
    """Create `stream`, put one record and flush: (first request id, record id, object name suffix)."""
    with emulator_process(s3.endpoint_url, *extra) as url:
        client = boto3.client(
            "firehose",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        )
        request_id = client.create_delivery_stream(
            DeliveryStreamName=stream,
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE,
                "BucketARN": BUCKET_ARN,
                "Prefix": f"{stream}/",
            },
        )["ResponseMetadata"]["RequestId"]
        record_id = client.put_record(DeliveryStreamName=stream, Record={"Data": b"x"})["RecordId"]
        flush = urllib.request.Request(f"{url}/_emulator/flush", data=json.dumps({"stream": stream}).encode())
        urllib.request.urlopen(flush, timeout=30).close()
    listing = s3.s3_client().list_objects_v2(Bucket="round-two", Prefix=f"{stream}/").get("Contents", [])
    assert len(listing) == 1
    return request_id, record_id, listing[0]["Key"][-36:]


def test_two_processes_get_different_ids_unless_seeded(s3: MotoServer) -> None:
    first, second = ids_of_one_process(s3, "p1"), ids_of_one_process(s3, "p2")
    assert all(a != b for a, b in zip(first, second, strict=True)), (first, second)
    seeded = ids_of_one_process(s3, "p3", "--seed", "7"), ids_of_one_process(s3, "p4", "--seed", "7")
    assert seeded[0] == seeded[1]
