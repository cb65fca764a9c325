"""StreamDelivery against the real moto S3 server over HTTP (spec §6, §7.2, §9.1; checklist #12-#16)."""

from __future__ import annotations

import gzip
import io
import random
import re
import struct
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import cramjam
import pytest
from botocore.config import Config

from firehose_emulator.delivery import DeliveryOptions, DestinationSettings, StreamDelivery
from firehose_emulator.metrics import StreamMetrics
from firehose_emulator.object_store import ObjectStoreError, S3ObjectStore
from harness.backends.s3 import MotoServer
from harness.clock import FakeClock
from harness.processes import free_port

REGION = "us-east-1"
HIVE = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
EOP = "errors/!{firehose:error-output-type}/"
UUID_RE = r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint(moto_server: MotoServer) -> str:
    """The session's real moto S3 server on 127.0.0.1."""
    return moto_server.endpoint_url


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    """A plain boto3 client for checking what was written."""
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}),
        **CREDENTIALS,
    )


@pytest.fixture
def store(s3_endpoint: str) -> Iterator[S3ObjectStore]:
    object_store = S3ObjectStore(
        s3_endpoint, REGION, access_key_id="testing", secret_access_key="testing", read_timeout=10
    )
    yield object_store
    object_store.close()


@pytest.fixture
def bucket(request: pytest.FixtureRequest) -> str:
    """A bucket name unique to the test (moto's state is shared by the module's server)."""
    return re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")


def destination(bucket: str, **changes: Any) -> DestinationSettings:
    values: dict[str, Any] = {
        "stream_name": "orders",
        "version_id": 1,
        "bucket": bucket,
        "prefix": HIVE,
        "error_output_prefix": EOP,
        "compression": "GZIP",
        "file_extension": None,
        "custom_time_zone": "",
        "buffer_size_bytes": 5 * 1_048_576,
        "buffer_interval_seconds": 300,
        "append_delimiter": False,
        "kms_key_arn": None,
    }
    values.update(changes)
    return DestinationSettings(**values)


@pytest.fixture
def deliveries() -> Iterator[list[StreamDelivery]]:
    """Collects deliveries so their worker threads stop after the test."""
    made: list[StreamDelivery] = []
    yield made
    for delivery in made:
        delivery.close()


def start(
    made: list[StreamDelivery],
    settings: DestinationSettings,
    store: S3ObjectStore,
    clock: FakeClock,
    options: DeliveryOptions | None = None,
) -> tuple[StreamDelivery, StreamMetrics]:
    metrics = StreamMetrics()
    delivery = StreamDelivery(settings, store, clock, random.Random(7), metrics, options or DeliveryOptions())
    made.append(delivery)
    return delivery, metrics


def list_keys(s3: Any, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_gzip_under_hive_prefix_round_trips_with_headers(
    s3: Any, store: S3ObjectStore, bucket: str, deliveries: list[StreamDelivery]
) -> None:
    s3.create_bucket(Bucket=bucket)
    clock = FakeClock()
    delivery, metrics = start(deliveries, destination(bucket), store, clock)
    records = [b'{"id":%d,"name":"order-%d"}' % (i, i) for i in range(2000)]
    delivery.accept(records[:1000])
    clock.advance(120)
    delivery.accept(records[1000:])
    clock.advance(180)  # 300 s after the oldest record
    delivery.run_due()
    (key,) = list_keys(s3, bucket)
    assert re.fullmatch(
        rf"data/year=2026/month=07/day=13/hour=14/orders-1-2026-07-13-14-05-09-{UUID_RE}\.gz", key
    ), key
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["ContentType"] == "application/octet-stream"
    assert got["ContentEncoding"] == "gzip"
    body = got["Body"].read()
    assert gzip.decompress(body) == b"".join(records)
    assert metrics.get("DeliveryToS3.Records") == 2000
    assert metrics.get("DeliveryToS3.Bytes") == sum(len(r) for r in records)
    assert delivery.delivery_log[0].object_bytes == len(body)


def decode(fmt: str, body: bytes) -> bytes:
    """Independent decoders per format."""
    if fmt == "GZIP":
        return gzip.decompress(body)
    if fmt == "ZIP":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            (name,) = archive.namelist()
            assert re.fullmatch(UUID_RE, name)
            return archive.read(name)
    out = bytearray()
    position = 16 if fmt == "Snappy" else 0
    if fmt == "Snappy":
        assert body[:8] == b"\x82SNAPPY\x00"
    while position < len(body):
        if fmt == "HADOOP_SNAPPY":
            position += 4  # the chunk's uncompressed length
        (length,) = struct.unpack(">i", body[position : position + 4])
        out += bytes(cramjam.snappy.decompress_raw(body[position + 4 : position + 4 + length]))
        position += 4 + length
    return bytes(out)


@pytest.mark.parametrize(
    ("fmt", "suffix", "encoding"),
    [
        ("UNCOMPRESSED", "", None),
        ("GZIP", ".gz", "gzip"),
        ("ZIP", ".zip", "zip"),
        ("Snappy", ".snappy", "snappy-java"),
        ("HADOOP_SNAPPY", ".snappy", "hadoop-snappy"),
    ],
)
def test_every_compression_format_on_real_s3(
    s3: Any,
    store: S3ObjectStore,
    bucket: str,
    deliveries: list[StreamDelivery],
    fmt: str,
    suffix: str,
    encoding: str | None,
) -> None:
    s3.create_bucket(Bucket=bucket)
    delivery, _ = start(deliveries, destination(bucket, compression=fmt, prefix=""), store, FakeClock())
    records = [b'{"a":%d}' % i for i in range(50_000)]
    delivery.accept(records)
    delivery.flush()
    (key,) = list_keys(s3, bucket)
    assert re.fullmatch(rf"2026/07/13/14/orders-1-2026-07-13-14-05-09-{UUID_RE}{re.escape(suffix)}", key)
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["ContentType"] == "application/octet-stream"
    assert got.get("ContentEncoding") == encoding
    body = got["Body"].read()
    if fmt == "UNCOMPRESSED":
        assert body == b"".join(records)
    else:
        assert decode(fmt, body) == b"".join(records)


def test_kms_headers_and_file_extension(
    s3: Any, store: S3ObjectStore, bucket: str, deliveries: list[StreamDelivery]
) -> None:
    s3.create_bucket(Bucket=bucket)
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    settings = destination(bucket, file_extension=".json.gz", kms_key_arn=arn)
    delivery, _ = start(deliveries, settings, store, FakeClock())
    delivery.accept([b"{}"])
    delivery.flush()
    (key,) = list_keys(s3, bucket)
    assert key.endswith(".json.gz")
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == arn


def test_missing_bucket_then_created_delivers_exactly_once(
    s3: Any, store: S3ObjectStore, bucket: str, deliveries: list[StreamDelivery]
) -> None:
    clock = FakeClock()
    delivery, metrics = start(deliveries, destination(bucket), store, clock)
    delivery.accept([b"a", b"b"])
    delivery.flush()
    for _ in range(5):
        clock.advance(1)
        delivery.run_due()
    assert delivery.delivery_log == []
    assert delivery.pending_records() == 2
    s3.create_bucket(Bucket=bucket)
    for _ in range(70):  # longer than the 60 s maximum backoff
        clock.advance(1)
        delivery.run_due()
    delivery.flush()
    keys = list_keys(s3, bucket)
    assert len(keys) == 1
    assert gzip.decompress(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()) == b"ab"
    assert metrics.get("DeliveryToS3.ObjectCount") == 1
    assert delivery.delivery_log[0].attempts > 1


def test_retention_horizon_drop_is_counted(
    s3: Any, store: S3ObjectStore, bucket: str, deliveries: list[StreamDelivery]
) -> None:
    clock = FakeClock()
    options = DeliveryOptions(retention_seconds=30, delivery_retry_max_seconds=8)
    delivery, metrics = start(deliveries, destination(bucket), store, clock, options)
    delivery.accept([b"lost", b"too"])
    delivery.flush()
    for _ in range(8):
        clock.advance(5)
        delivery.run_due()
    (dropped,) = delivery.dropped
    assert dropped.error_code == "S3.NoSuchBucket"
    assert (dropped.record_count, dropped.bytes) == (2, 7)
    assert metrics.get("DeliveryToS3.DroppedRecords") == 2
    s3.create_bucket(Bucket=bucket)
    delivery.flush()
    assert list_keys(s3, bucket) == []


def test_connection_failure_maps_to_internal_error() -> None:
    dead = S3ObjectStore(f"http://127.0.0.1:{free_port()}", REGION, access_key_id="x", secret_access_key="x")
    try:
        with pytest.raises(ObjectStoreError) as caught:
            dead.put_object(
                "b",
                "k",
                b"x",
                content_type="application/octet-stream",
                content_encoding=None,
                kms_key_arn=None,
            )
        assert caught.value.code == "InternalError"
    finally:
        dead.close()


def test_no_such_bucket_maps_to_firehose_code(store: S3ObjectStore) -> None:
    with pytest.raises(ObjectStoreError) as caught:
        store.put_object(
            "no-such-bucket-here",
            "k",
            b"x",
            content_type="application/octet-stream",
            content_encoding=None,
            kms_key_arn=None,
        )
    assert caught.value.code == "S3.NoSuchBucket"
    assert caught.value.message.startswith("The specified bucket does not exist.")
