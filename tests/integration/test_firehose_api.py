"""The Firehose emulator over HTTP with boto3, delivering into a real moto S3 server (spec §1-§4, §12)."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError

from firehose_emulator.options import ServiceOptions
from harness.backends.firehose import FirehoseBackend
from harness.backends.s3 import MotoServer
from harness.clock import FakeClock
from tests.integration.firehose_settings import DP_SETTINGS

PROJECT_PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
ROLE = "arn:aws:iam::123456789012:role/firehose"
BUCKET = "my-bucket"
START = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)
FROZEN = ServiceOptions(create_delay_seconds=0)  # a FakeClock that nobody advances never leaves CREATING


@pytest.fixture(scope="module")
def s3_url(moto_server: MotoServer) -> str:
    """The session's moto server (S3), with this module's bucket."""
    s3_client(moto_server.endpoint_url).create_bucket(Bucket=BUCKET)
    return moto_server.endpoint_url


def s3_client(url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def firehose(s3_url: str) -> Iterator[FirehoseBackend]:
    """The emulator on a FakeClock at the spec's example instant; the clock stands still, so streams skip
    CREATING (`test_new_stream_is_creating_until_the_clock_passes_the_delay` covers it)."""
    with FirehoseBackend(s3_url, clock=FakeClock(START), options=FROZEN) as backend:
        yield backend


def destination(**extra: Any) -> dict[str, Any]:
    return {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{BUCKET}", **extra}


def create(client: Any, name: str = "orders", **extra: Any) -> str:
    arn: str = client.create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=destination(**extra)
    )["DeliveryStreamARN"]
    return arn


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def admin(backend: FirehoseBackend, route: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body or {}).encode() if body is not None else None
    request = urllib.request.Request(
        f"{backend.endpoint_url}/_emulator/{route}", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def objects(s3_url: str, prefix: str = "") -> dict[str, bytes]:
    client = s3_client(s3_url)
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read() for item in listing}


def test_gzip_project_prefix_round_trip_through_real_s3(firehose: FirehoseBackend, s3_url: str) -> None:
    client = firehose.client()
    create(
        client,
        "roundtrip",
        Prefix=PROJECT_PREFIX,
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
        CompressionFormat="GZIP",
    )
    records = [json.dumps({"id": i, "pad": "x" * (i % 50)}).encode() for i in range(1200)]
    for start in range(0, len(records), 500):
        response = client.put_record_batch(
            DeliveryStreamName="roundtrip", Records=[{"Data": r} for r in records[start : start + 500]]
        )
        assert response["FailedPutCount"] == 0
        assert all(len(entry["RecordId"]) == 220 for entry in response["RequestResponses"])
    admin(firehose, "flush", {"stream": "roundtrip"})
    found = objects(s3_url, "data/year=2026/month=07/day=13/hour=14/roundtrip-1-2026-07-13-14-05-09-")
    assert len(found) == 1
    key, body = next(iter(found.items()))
    assert key.endswith(".gz")
    assert gzip.decompress(body) == b"".join(records)
    deliveries = admin(firehose, "deliveries?stream=roundtrip")["deliveries"]
    assert [d["key"] for d in deliveries] == [key]
    assert deliveries[0]["record_count"] == 1200
    metrics = admin(firehose, "metrics?stream=roundtrip")
    assert metrics["IncomingRecords"] == 1200
    assert metrics["IncomingBytes"] == sum(map(len, records))
    assert metrics["DeliveryToS3.Records"] == 1200


def test_describe_minimal_stream_equals_spec_example(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    arn = create(client)
    assert arn == "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders"
    raw = urllib.request.Request(
        firehose.endpoint_url,
        data=b'{"DeliveryStreamName":"orders"}',
        headers={
            "X-Amz-Target": "Firehose_20150804.DescribeDeliveryStream",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    with urllib.request.urlopen(raw, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
        assert response.headers["x-amzn-RequestId"]
        body = json.loads(response.read())
    extended = {
        "RoleARN": ROLE,
        "BucketARN": "arn:aws:s3:::my-bucket",
        "Prefix": "",
        "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
        "CompressionFormat": "UNCOMPRESSED",
        "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
        "CloudWatchLoggingOptions": {"Enabled": False},
        "S3BackupMode": "Disabled",
    }
    basic = {k: v for k, v in extended.items() if k != "S3BackupMode"}
    assert body == {
        "DeliveryStreamDescription": {
            "DeliveryStreamName": "orders",
            "DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders",
            "DeliveryStreamStatus": "ACTIVE",
            "DeliveryStreamEncryptionConfiguration": {"Status": "DISABLED"},
            "DeliveryStreamType": "DirectPut",
            "VersionId": "1",
            "CreateTimestamp": 1783951509.0,
            "Destinations": [
                {
                    "DestinationId": "destinationId-000000000001",
                    "S3DestinationDescription": basic,
                    "ExtendedS3DestinationDescription": extended,
                }
            ],
            "HasMoreDestinations": False,
        }
    }


def test_unknown_stream_and_unknown_target(firehose: FirehoseBackend) -> None:
    with pytest.raises(ClientError) as exc:
        firehose.client().describe_delivery_stream(DeliveryStreamName="nope")
    assert error_of(exc) == (
        "ResourceNotFoundException",
        "Firehose nope under account 123456789012 not found.",
        400,
    )
    raw = urllib.request.Request(
        firehose.endpoint_url, data=b"{}", headers={"X-Amz-Target": "Firehose_20150804.Frobnicate"}
    )
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(raw, timeout=30)
    assert http.value.code == 400
    assert json.loads(http.value.read())["__type"] == "UnknownOperationException"


def test_region_comes_from_the_signature(firehose: FirehoseBackend) -> None:
    west = boto3.client(
        "firehose",
        endpoint_url=firehose.endpoint_url,
        region_name="eu-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert create(west, "regional") == "arn:aws:firehose:eu-central-1:123456789012:deliverystream/regional"
    assert firehose.client().list_delivery_streams()["DeliveryStreamNames"] == []


def test_duplicate_name_and_destination_count(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client)
    with pytest.raises(ClientError) as exc:
        create(client)
    assert error_of(exc) == (
        "ResourceInUseException",
        "Firehose orders under account 123456789012 already exists.",
        400,
    )
    with pytest.raises(ClientError) as exc:
        client.create_delivery_stream(
            DeliveryStreamName="two",
            ExtendedS3DestinationConfiguration=destination(),
            S3DestinationConfiguration=destination(),
        )
    assert error_of(exc)[:2] == (
        "InvalidArgumentException",
        "Exactly one destination configuration is supported for a Firehose",
    )
    with pytest.raises(ClientError) as exc:
        client.create_delivery_stream(DeliveryStreamName="zero")
    assert error_of(exc)[0] == "InvalidArgumentException"


def test_list_sorted_paged_and_filtered(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    names = [f"s{i:02d}" for i in range(12)]
    for name in reversed(names):
        create(client, name)
    first = client.list_delivery_streams()
    assert first["DeliveryStreamNames"] == names[:10]
    assert first["HasMoreDeliveryStreams"] is True
    rest = client.list_delivery_streams(ExclusiveStartDeliveryStreamName="s09")
    assert rest == {**rest, "DeliveryStreamNames": ["s10", "s11"], "HasMoreDeliveryStreams": False}
    assert (
        client.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"] == []
    )
    assert (
        len(client.list_delivery_streams(DeliveryStreamType="DirectPut", Limit=100)["DeliveryStreamNames"])
        == 12
    )


def test_lifecycle_create_delay_and_delete(s3_url: str) -> None:
    clock = FakeClock(START)
    options = ServiceOptions(create_delay_seconds=5, delete_delay_seconds=2)
    with FirehoseBackend(s3_url, clock=clock, options=options) as backend:
        client = backend.client()
        create(client)
        assert (
            client.describe_delivery_stream(DeliveryStreamName="orders")["DeliveryStreamDescription"][
                "DeliveryStreamStatus"
            ]
            == "CREATING"
        )
        with pytest.raises(ClientError) as exc:
            client.put_record(DeliveryStreamName="orders", Record={"Data": b"x"})
        assert error_of(exc)[0] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as exc:
            client.delete_delivery_stream(DeliveryStreamName="orders")
        assert error_of(exc) == (
            "ResourceInUseException",
            "Firehose orders under account 123456789012 is not in a state that allows this operation.",
            400,
        )
        admin(backend, "advance_clock", {"seconds": 5})
        description = client.describe_delivery_stream(DeliveryStreamName="orders")[
            "DeliveryStreamDescription"
        ]
        assert description["DeliveryStreamStatus"] == "ACTIVE"
        client.put_record(DeliveryStreamName="orders", Record={"Data": b"buffered"})
        client.delete_delivery_stream(DeliveryStreamName="orders")
        status = client.describe_delivery_stream(DeliveryStreamName="orders")["DeliveryStreamDescription"]
        assert status["DeliveryStreamStatus"] == "DELETING"
        client.delete_delivery_stream(DeliveryStreamName="orders")  # a repeat delete succeeds
        client.put_record(DeliveryStreamName="orders", Record={"Data": b"dropped"})  # accepted, dropped
        backend.hooks.advance_clock(2)
        with pytest.raises(ClientError) as exc:
            client.describe_delivery_stream(DeliveryStreamName="orders")
        assert error_of(exc)[0] == "ResourceNotFoundException"
        assert not [
            key for key in objects(s3_url) if "/orders-" in key or key.startswith("2026/07/13/14/orders")
        ]


def test_put_record_limits_and_empty_data(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client)
    first = client.put_record(DeliveryStreamName="orders", Record={"Data": b""})
    second = client.put_record(DeliveryStreamName="orders", Record={"Data": b"a" * 1_024_000})
    assert first["Encrypted"] is False
    assert first["RecordId"] != second["RecordId"]
    with pytest.raises(ClientError) as exc:
        client.put_record(DeliveryStreamName="orders", Record={"Data": b"a" * 1_024_001})
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at "
        "'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000",
        400,
    )


def test_batch_limits_g10_g11_g18(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client)
    with pytest.raises(ClientError) as exc:
        client.put_record_batch(DeliveryStreamName="orders", Records=[{"Data": b"x"}] * 501)
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value '[…]' at 'records' failed to satisfy constraint: "
        "Member must have length less than or equal to 500",
        400,
    )
    big = [{"Data": b"a"}, {"Data": b"b"}, {"Data": b"c" * 1_024_001}]
    with pytest.raises(ClientError) as exc:
        client.put_record_batch(DeliveryStreamName="orders", Records=big)
    assert error_of(exc)[1] == (
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at "
        "'records.3.member.data' failed to satisfy constraint: "
        "Member must have length less than or equal to 1024000"
    )
    fits = [{"Data": b"d" * 1_024_000}] * 4 + [{"Data": b"e" * 98_304}]
    assert client.put_record_batch(DeliveryStreamName="orders", Records=fits)["FailedPutCount"] == 0
    over = [{"Data": b"d" * 1_024_000}] * 4 + [{"Data": b"e" * 98_305}]
    with pytest.raises(ClientError) as exc:
        client.put_record_batch(DeliveryStreamName="orders", Records=over)
    assert error_of(exc) == ("InvalidArgumentException", "Records size exceeds 4 MB limit", 400)
    with pytest.raises(ParamValidationError, match="Invalid length for parameter Records, value: 0"):
        client.put_record_batch(DeliveryStreamName="orders", Records=[])


def test_g7_injected_partial_failure_is_silent_and_not_delivered(
    firehose: FirehoseBackend, s3_url: str
) -> None:
    client = firehose.client()
    create(client, "partial", Prefix="g7/")
    admin(firehose, "faults/put_failures", {"stream": "partial", "positions": [1]})
    response = client.put_record_batch(
        DeliveryStreamName="partial", Records=[{"Data": b"r0;"}, {"Data": b"r1;"}, {"Data": b"r2;"}]
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["FailedPutCount"] == 1
    entries = response["RequestResponses"]
    assert set(entries[0]) == {"RecordId"}
    assert entries[1] == {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
    assert set(entries[2]) == {"RecordId"}
    firehose.hooks.flush("partial")
    assert list(objects(s3_url, "g7/").values()) == [b"r0;r2;"]


def test_g8_sdk_retry_of_a_stored_500_duplicates_the_record(firehose: FirehoseBackend, s3_url: str) -> None:
    client = firehose.client()
    create(client, "retry", Prefix="g8/")
    admin(firehose, "faults/call_failure", {"stream": "retry", "times": 1, "store": True})
    client.put_record(DeliveryStreamName="retry", Record={"Data": b"once;"})
    firehose.hooks.flush("retry")
    assert list(objects(s3_url, "g8/").values()) == [b"once;once;"]


def test_whole_call_fault_is_http_500(firehose: FirehoseBackend) -> None:
    create(firehose.client(), "fault")
    firehose.hooks.faults("fault").inject_call_failure("ServiceUnavailableException", times=1)
    no_retry = firehose.client(retries={"max_attempts": 0, "mode": "standard"})
    with pytest.raises(ClientError) as exc:
        no_retry.put_record_batch(DeliveryStreamName="fault", Records=[{"Data": b"x"}])
    assert error_of(exc) == ("ServiceUnavailableException", "Slow down.", 500)
    assert firehose.hooks.metrics("fault").get("IncomingRecords", 0) == 0


@pytest.mark.parametrize(("region", "allowed"), [("eu-central-1", 1000), ("us-east-1", 2000)])
def test_throughput_quota_throttles_the_next_request(s3_url: str, region: str, allowed: int) -> None:
    options = ServiceOptions(enforce_throughput_quota=True, default_region=region, create_delay_seconds=0)
    with FirehoseBackend(s3_url, region=region, clock=FakeClock(START), options=options) as backend:
        service = backend.service
        create(backend.client(), "quota")
        for _ in range(allowed):
            service.put_record_batch(region, "quota", [b"x"])
        client = backend.client(retries={"max_attempts": 0, "mode": "standard"})
        with pytest.raises(ClientError) as exc:
            client.put_record(DeliveryStreamName="quota", Record={"Data": b"x"})
        assert error_of(exc) == ("ServiceUnavailableException", "Slow down.", 500)
        backend.hooks.advance_clock(1)
        client.put_record(DeliveryStreamName="quota", Record={"Data": b"x"})


def test_records_over_the_byte_quota_fail_per_record(firehose: FirehoseBackend) -> None:
    create(firehose.client(), "bytes")
    admin(
        firehose,
        "faults/throttle",
        {"stream": "bytes", "records_per_second": 1000, "requests_per_second": 100, "bytes_per_second": 10},
    )
    response = firehose.client().put_record_batch(
        DeliveryStreamName="bytes", Records=[{"Data": b"1234"}, {"Data": b"5678"}, {"Data": b"9abc"}]
    )
    assert response["FailedPutCount"] == 1
    assert response["RequestResponses"][2] == {
        "ErrorCode": "ServiceUnavailableException",
        "ErrorMessage": "Slow down.",
    }
    metrics = firehose.hooks.metrics("bytes")
    assert (metrics["IncomingRecords"], metrics["ThrottledRecords"]) == (2, 1)


def test_update_destination_versions_and_conflicts(firehose: FirehoseBackend, s3_url: str) -> None:
    client = firehose.client()
    create(client, "upd", Prefix="upd/", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60})
    dest_id = "destinationId-000000000001"
    client.update_destination(
        DeliveryStreamName="upd",
        CurrentDeliveryStreamVersionId="1",
        DestinationId=dest_id,
        ExtendedS3DestinationUpdate={"CompressionFormat": "GZIP"},
    )
    description = client.describe_delivery_stream(DeliveryStreamName="upd")["DeliveryStreamDescription"]
    extended = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert description["VersionId"] == "2"
    assert (extended["CompressionFormat"], extended["Prefix"], extended["BufferingHints"]["SizeInMBs"]) == (
        "GZIP",
        "upd/",
        1,
    )
    client.update_destination(  # identical values: still a new version (spec item 21)
        DeliveryStreamName="upd",
        CurrentDeliveryStreamVersionId="2",
        DestinationId=dest_id,
        ExtendedS3DestinationUpdate={"CompressionFormat": "GZIP"},
    )
    assert (
        client.describe_delivery_stream(DeliveryStreamName="upd")["DeliveryStreamDescription"]["VersionId"]
        == "3"
    )
    with pytest.raises(ClientError) as exc:
        client.update_destination(
            DeliveryStreamName="upd",
            CurrentDeliveryStreamVersionId="1",
            DestinationId=dest_id,
            ExtendedS3DestinationUpdate={"Prefix": "x/"},
        )
    assert error_of(exc) == (
        "ConcurrentModificationException",
        "Another modification has already happened. "
        "Fetch VersionId again and use it to update the destination.",
        400,
    )
    with pytest.raises(ClientError) as exc:  # merged result breaks S1: nothing changes
        client.update_destination(
            DeliveryStreamName="upd",
            CurrentDeliveryStreamVersionId="3",
            DestinationId=dest_id,
            ExtendedS3DestinationUpdate={"Prefix": "t/!{timestamp:yyyy}/"},
        )
    assert error_of(exc)[0] == "InvalidArgumentException"
    assert "ErrorOutputPrefix cannot be null or empty" in error_of(exc)[1]
    client.put_record(DeliveryStreamName="upd", Record={"Data": b"v2"})
    firehose.hooks.flush("upd")
    assert [key for key in objects(s3_url, "upd/") if "-3-" in key and key.endswith(".gz")]


def test_update_processing_replaced_as_a_block_and_lifecycle_changes(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    processors = [{"Type": "AppendDelimiterToRecord"}]
    create(client, "blocks", ProcessingConfiguration={"Enabled": True, "Processors": processors})
    client.update_destination(
        DeliveryStreamName="blocks",
        CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        ExtendedS3DestinationUpdate={"ProcessingConfiguration": {}},
    )
    extended = client.describe_delivery_stream(DeliveryStreamName="blocks")["DeliveryStreamDescription"][
        "Destinations"
    ][0]["ExtendedS3DestinationDescription"]
    assert extended["ProcessingConfiguration"] == {"Enabled": True, "Processors": []}
    with pytest.raises(ClientError) as exc:
        client.update_destination(
            DeliveryStreamName="blocks",
            CurrentDeliveryStreamVersionId="2",
            DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"DynamicPartitioningConfiguration": {"Enabled": True}},
        )
    assert error_of(exc)[0] == "InvalidArgumentException"


def test_tags_round_trip(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    client.create_delivery_stream(
        DeliveryStreamName="tagged",
        ExtendedS3DestinationConfiguration=destination(),
        Tags=[{"Key": "team", "Value": "a"}],
    )
    client.tag_delivery_stream(DeliveryStreamName="tagged", Tags=[{"Key": "env", "Value": "dev"}])
    client.untag_delivery_stream(DeliveryStreamName="tagged", TagKeys=["team"])
    tags = client.list_tags_for_delivery_stream(DeliveryStreamName="tagged")
    assert (tags["Tags"], tags["HasMoreTags"]) == ([{"Key": "env", "Value": "dev"}], False)
    with pytest.raises(ClientError) as exc:
        client.tag_delivery_stream(DeliveryStreamName="tagged", Tags=[{"Key": "aws:x", "Value": "v"}])
    assert error_of(exc)[0] == "ValidationException"


def test_encryption_start_makes_puts_encrypted(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client, "sse")
    client.start_delivery_stream_encryption(
        DeliveryStreamName="sse", DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"}
    )
    assert client.put_record(DeliveryStreamName="sse", Record={"Data": b"x"})["Encrypted"] is True
    status = client.describe_delivery_stream(DeliveryStreamName="sse")["DeliveryStreamDescription"]
    assert status["DeliveryStreamEncryptionConfiguration"] == {
        "KeyType": "AWS_OWNED_CMK",
        "Status": "ENABLED",
    }
    client.stop_delivery_stream_encryption(DeliveryStreamName="sse")
    assert client.put_record(DeliveryStreamName="sse", Record={"Data": b"x"})["Encrypted"] is False


def test_non_direct_put_stream_rejects_puts(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    client.create_delivery_stream(
        DeliveryStreamName="fromkinesis",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={
            "KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/src",
            "RoleARN": ROLE,
        },
        ExtendedS3DestinationConfiguration=destination(),
    )
    with pytest.raises(ClientError) as exc:
        client.put_record(DeliveryStreamName="fromkinesis", Record={"Data": b"x"})
    assert error_of(exc)[:2] == (
        "InvalidArgumentException",
        "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
    )


def test_set_state_failed_shows_failure_description(firehose: FirehoseBackend) -> None:
    client = firehose.client()
    create(client, "broken")
    admin(
        firehose,
        "state",
        {
            "stream": "broken",
            "state": "CREATING_FAILED",
            "failure_type": "RETIRE_KMS_GRANT_FAILED",
            "details": "x",
        },
    )
    description = client.describe_delivery_stream(DeliveryStreamName="broken")["DeliveryStreamDescription"]
    assert description["DeliveryStreamStatus"] == "CREATING_FAILED"
    assert description["FailureDescription"] == {"Type": "RETIRE_KMS_GRANT_FAILED", "Details": "x"}
    with pytest.raises(ClientError) as exc:
        client.put_record(DeliveryStreamName="broken", Record={"Data": b"x"})
    assert error_of(exc)[0] == "ResourceNotFoundException"
    client.delete_delivery_stream(DeliveryStreamName="broken")


def test_raw_base64_and_serialization_errors(firehose: FirehoseBackend) -> None:
    create(firehose.client(), "raw")
    payload = {
        "DeliveryStreamName": "raw",
        "Records": [{"Data": base64.b64encode(b"ok").decode()}, {"Data": "%%%"}],
    }
    raw = urllib.request.Request(
        firehose.endpoint_url,
        data=json.dumps(payload).encode(),
        headers={"X-Amz-Target": "Firehose_20150804.PutRecordBatch"},
    )
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(raw, timeout=30)
    assert json.loads(http.value.read())["__type"] == "SerializationException"
    missing = urllib.request.Request(
        firehose.endpoint_url, data=b"{}", headers={"X-Amz-Target": "Firehose_20150804.CreateDeliveryStream"}
    )
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(missing, timeout=30)
    assert json.loads(http.value.read()) == {
        "__type": "ValidationException",
        "message": "1 validation error detected: Value null at 'deliveryStreamName' "
        "failed to satisfy constraint: "
        "Member must not be null",
    }


def test_stream_quota_and_control_plane_rate_limit(s3_url: str) -> None:
    options = ServiceOptions(max_streams_per_region=2, control_plane_rate_limit=3, create_delay_seconds=0)
    with FirehoseBackend(s3_url, clock=FakeClock(START), options=options) as backend:
        client = backend.client()
        create(client, "a")
        create(client, "b")
        with pytest.raises(ClientError) as exc:
            create(client, "c")
        assert error_of(exc)[0] == "LimitExceededException"
        backend.hooks.advance_clock(1)
        for _ in range(3):
            client.list_delivery_streams()
        with pytest.raises(ClientError) as exc:
            client.list_delivery_streams()
        assert error_of(exc)[0] == "LimitExceededException"
        backend.hooks.advance_clock(1)
        assert client.list_delivery_streams()["DeliveryStreamNames"] == ["a", "b"]


def test_s3_outage_window_through_the_admin_api(firehose: FirehoseBackend, s3_url: str) -> None:
    create(firehose.client(), "outage", Prefix="outage/")
    admin(firehose, "faults/s3", {"code": "S3.AccessDenied", "message": "Access Denied"})
    firehose.client().put_record(DeliveryStreamName="outage", Record={"Data": b"kept"})
    admin(firehose, "flush", {"stream": "outage"})
    assert objects(s3_url, "outage/") == {}
    description = firehose.client().describe_delivery_stream(DeliveryStreamName="outage")
    assert description["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE"
    admin(firehose, "faults/clear", {})
    admin(firehose, "flush", {"stream": "outage"})
    assert list(objects(s3_url, "outage/").values()) == [b"kept"]


def test_dynamic_partitioning_is_validated_and_described_but_not_yet_delivered(
    firehose: FirehoseBackend,
) -> None:
    client = firehose.client()
    dp = DP_SETTINGS
    with pytest.raises(ClientError) as exc:  # G6
        create(client, "dp", BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 60}, **dp)
    assert error_of(exc)[:2] == (
        "InvalidArgumentException",
        "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled.",
    )
    create(client, "dp", BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60}, **dp)
    extended = client.describe_delivery_stream(DeliveryStreamName="dp")["DeliveryStreamDescription"][
        "Destinations"
    ][0]["ExtendedS3DestinationDescription"]
    assert extended["DynamicPartitioningConfiguration"] == {
        "Enabled": True,
        "RetryOptions": {"DurationInSeconds": 300},
    }
    with pytest.raises(ClientError) as exc:
        client.put_record(DeliveryStreamName="dp", Record={"Data": b'{"customer_id":"c42"}'})
    assert error_of(exc)[0] == "InvalidArgumentException"
    assert "not" in error_of(exc)[1]


def test_g20_json_array_record_is_not_deaggregated(firehose: FirehoseBackend, s3_url: str) -> None:
    client = firehose.client()
    create(client, "arrays", Prefix="arrays/")
    array_record = b'[{"a":1},{"a":2}]'
    client.put_record(DeliveryStreamName="arrays", Record={"Data": array_record})
    client.put_record(DeliveryStreamName="arrays", Record={"Data": b'{"a":3}'})
    admin(firehose, "flush", {"stream": "arrays"})
    found = objects(s3_url, "arrays/")
    assert list(found.values()) == [b'[{"a":1},{"a":2}]{"a":3}']
    deliveries = admin(firehose, "deliveries?stream=arrays")["deliveries"]
    assert [d["record_count"] for d in deliveries] == [2]
