"""The verifier against the real moto S3 server and the real Firehose emulator over HTTP (boto3).

Archive lines are built from records with the archiver's own archive_format.py, put through Firehose
with each compression format, flushed to S3, read back with read_archive and verified against a produced
ledger. A run that drops one record before archiving must fail and name that record.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from archive_format import ArchivedRecord, encode_lines

from firehose_emulator.compression import COMPRESSION_FORMATS, extension_for
from firehose_emulator.options import ServiceOptions
from harness.backends.firehose import FirehoseBackend
from harness.backends.s3 import MotoServer
from harness.clock import FakeClock
from harness.load import ProducedRecord
from harness.scenario.model import CountRange, Expectations
from harness.verify import VerificationReport, hive_key_pattern, read_archive, verify
from tests.integration.credentials import set_test_credentials

# The FakeClock moves only when a test says so: streams skip CREATING (test_firehose_api covers it).
NO_CREATING_PERIOD = ServiceOptions(create_delay_seconds=0)

START = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)
HIVE_PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
ERROR_PREFIX = "errors/!{firehose:error-output-type}/"
_names = itertools.count()


@dataclass
class Stack:
    """moto S3 + Firehose emulator (fake clock) for this module."""

    s3: MotoServer
    firehose: FirehoseBackend
    clock: FakeClock


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as mp:
        set_test_credentials(mp)
        clock = FakeClock(START)
        with (
            MotoServer().start() as s3,
            FirehoseBackend(
                s3.endpoint_url, clock=clock, rng_seed=11, options=NO_CREATING_PERIOD
            ).start() as firehose,
        ):
            yield Stack(s3, firehose, clock)


def kafka_records(count: int, partitions: int = 3) -> list[ArchivedRecord]:
    """Records with text, binary and null values/keys/headers, plus one too big for a Firehose record."""
    out = []
    for i in range(count):
        value: bytes | None = f'{{"n":{i}}}'.encode()
        if i % 7 == 3:
            value = bytes([0xFF, i % 256, 0])  # not UTF-8: base64 in the line
        if i % 11 == 5:
            value = None  # tombstone
        if i == count // 2:
            value = b"z" * 6000  # split into part lines below
        out.append(
            ArchivedRecord(
                topic="orders",
                partition=i % partitions,
                offset=i // partitions,
                timestamp=1_783_951_509_000 + i,
                timestamp_type="CREATE_TIME",
                key=None if i % 13 == 0 else f"key-{i}".encode(),
                value=value,
                headers=(("trace", f"t{i}".encode()), ("bin", b"\xc3\x28")),
            )
        )
    return out


def ledger_entry(seq: int, record: ArchivedRecord, produced_at: datetime) -> ProducedRecord:
    value = record.value
    return ProducedRecord(
        seq=seq,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value_sha256=None if value is None else hashlib.sha256(value).hexdigest(),
        value_size=0 if value is None else len(value),
        headers=tuple((name, raw) for name, raw in record.headers if raw is not None),
        produced_at=produced_at,
    )


@dataclass
class Delivery:
    """One bucket + stream in a given compression format."""

    stack: Stack
    bucket: str
    stream: str
    fmt: str

    def put(self, records: list[ArchivedRecord]) -> None:
        self.put_lines([line for r in records for line in encode_lines(r, max_record_bytes=2048)])

    def put_lines(self, lines: list[bytes]) -> None:
        client = self.stack.firehose.client()
        for start in range(0, len(lines), 500):
            batch = [{"Data": line} for line in lines[start : start + 500]]
            response = client.put_record_batch(DeliveryStreamName=self.stream, Records=batch)
            assert response["FailedPutCount"] == 0

    def read_and_verify(
        self, ledger: list[ProducedRecord], expect: Expectations
    ) -> tuple[VerificationReport, Any]:
        self.stack.firehose.hooks.flush(self.stream)
        snapshot = read_archive(self.stack.s3.s3_client(), self.bucket, error_prefix=ERROR_PREFIX)
        report = verify(
            ledger,
            snapshot,
            expect,
            delivery_log=self.stack.firehose.hooks.attempts(self.stream),
            default_key_pattern=hive_key_pattern(self.stream, extension_for(self.fmt)),
        )
        return report, snapshot


def make_delivery(stack: Stack, fmt: str, file_extension: str | None = None) -> Delivery:
    n = next(_names)
    bucket, stream = f"verify-{n}", f"archive-{n}"
    stack.s3.create_bucket(bucket)
    stack.firehose.client().create_delivery_stream(
        DeliveryStreamName=stream,
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": HIVE_PREFIX,
            "ErrorOutputPrefix": ERROR_PREFIX,
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 900},
            "CompressionFormat": fmt,
            **({"FileExtension": file_extension} if file_extension else {}),
        },
    )
    return Delivery(stack, bucket, stream, fmt)


EXPECT = Expectations(
    order_per_partition=True,
    latency_percentiles=MappingProxyType({"p50": 5.0, "max": 5.0}),
    object_count=CountRange(1, None),
    object_size_bytes=CountRange(1, 16 * 1024 * 1024),
    error_prefix_empty=True,
)


@pytest.mark.parametrize("fmt", COMPRESSION_FORMATS)
def test_every_format_archived_completely_passes_every_check(stack: Stack, fmt: str) -> None:
    delivery = make_delivery(stack, fmt)
    records = kafka_records(400)
    produced_at = stack.clock.now() - timedelta(seconds=5)
    ledger = [ledger_entry(i, r, produced_at) for i, r in enumerate(records)]
    records = [
        ArchivedRecord(**{**r.__dict__, "headers": p.headers}) for r, p in zip(records, ledger, strict=True)
    ]
    lines = [line for r in records for line in encode_lines(r, max_record_bytes=2048)]
    first_part = next(i for i, line in enumerate(lines) if b'"part":0' in line)
    delivery.put_lines(lines[: first_part + 1])
    stack.firehose.hooks.flush(delivery.stream)  # two objects, the split record spanning them
    delivery.put_lines(lines[first_part + 1 :])
    report, snapshot = delivery.read_and_verify(ledger, EXPECT)
    assert report.passed, [c for c in report.checks if not c.passed]
    assert {o.compression for o in snapshot.objects} == {fmt}
    assert len(report.objects) == 2
    assert (report.produced, report.unique_archived, report.duplicates) == (400, 400, 0)
    assert set(report.latencies_ms) == {5000.0}
    assert report.objects_per_hour == {"2026/07/13/14": 2}
    assert [c.name for c in report.checks] == [
        "no_loss",
        "archive_readable",
        "no_corruption",
        "duplicates",
        "order_per_partition",
        "latency_p50",
        "latency_max",
        "object_count",
        "object_size_bytes",
        "key_pattern",
        "error_prefix_empty",
    ]


@pytest.mark.parametrize("fmt", ["GZIP", "Snappy"])
def test_a_record_dropped_before_archiving_fails_the_run_naming_it(stack: Stack, fmt: str) -> None:
    delivery = make_delivery(stack, fmt)
    records = kafka_records(300)
    produced_at = stack.clock.now() - timedelta(seconds=2)
    ledger = [ledger_entry(i, r, produced_at) for i, r in enumerate(records)]
    records = [
        ArchivedRecord(**{**r.__dict__, "headers": p.headers}) for r, p in zip(records, ledger, strict=True)
    ]
    dropped = records[212]  # partition 2, offset 70
    delivery.put([r for r in records if r is not dropped])
    report, _ = delivery.read_and_verify(ledger, Expectations())
    assert not report.passed
    (loss,) = [c for c in report.checks if c.name == "no_loss"]
    assert not loss.passed
    assert loss.actual == "1 lost of 300 produced"
    assert loss.details == (
        f"lost orders-2@70 (key=key-212, sha256={(ledger[212].value_sha256 or '')[:12]}…)",
    )
    assert [(r.topic, r.partition, r.offset, r.key) for r in report.lost] == [("orders", 2, 70, b"key-212")]
    assert all(c.passed for c in report.checks if c.name != "no_loss")


def test_garbage_object_and_bad_line_are_reported_and_the_rest_is_read(stack: Stack) -> None:
    delivery = make_delivery(stack, "GZIP")
    records = kafka_records(30)
    produced_at = stack.clock.now()
    ledger = [ledger_entry(i, r, produced_at) for i, r in enumerate(records)]
    records = [
        ArchivedRecord(**{**r.__dict__, "headers": p.headers}) for r, p in zip(records, ledger, strict=True)
    ]
    delivery.put(records)
    s3 = stack.s3.s3_client()
    garbage_key = "data/year=2026/month=07/day=13/hour=14/garbage.gz"
    s3.put_object(Bucket=delivery.bucket, Key=garbage_key, Body=b"\x1f\x8b\x08\x00not deflate at all")
    bad_line_key = "data/year=2026/month=07/day=13/hour=14/plain"
    body = b"".join(encode_lines(records[0])) + b"{broken\n" + b"".join(encode_lines(records[1]))
    s3.put_object(Bucket=delivery.bucket, Key=bad_line_key, Body=body)
    report, snapshot = delivery.read_and_verify(ledger, Expectations(max_duplicates_percent=100))
    assert len(snapshot.unreadable) == 2
    assert snapshot.unreadable[0].startswith(f"{garbage_key}: not valid GZIP")
    assert snapshot.unreadable[1].startswith(f"{bad_line_key} line 2: not a JSON line")
    assert report.unique_archived == 30
    assert report.duplicates == 2
    assert report.lost == ()
    (loss,) = [c for c in report.checks if c.name == "no_loss"]
    assert loss.passed  # every produced record was read: unreadable is not lost ...
    (readable,) = [c for c in report.checks if c.name == "archive_readable"]
    assert not readable.passed  # ... but it fails the run on its own, naming what could not be read
    assert readable.details[1].startswith(f"unreadable {bad_line_key} line 2: not a JSON line")
    assert set(report.bad_keys) == {garbage_key, bad_line_key}


def test_paginated_listing_reads_every_object(stack: Stack) -> None:
    delivery = make_delivery(stack, "UNCOMPRESSED")
    records = kafka_records(30)
    ledger = [ledger_entry(i, r, stack.clock.now()) for i, r in enumerate(records)]
    records = [
        ArchivedRecord(**{**r.__dict__, "headers": p.headers}) for r, p in zip(records, ledger, strict=True)
    ]
    for record in records:  # 30 objects
        delivery.put([record])
        stack.firehose.hooks.flush(delivery.stream)
    s3 = stack.s3.s3_client()
    list_calls: list[str] = []
    s3.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: list_calls.append("list"))
    progress: list[tuple[int, int]] = []
    snapshot = read_archive(
        s3,
        delivery.bucket,
        "data/",
        on_progress=lambda done, total: progress.append((done, total)),
        max_workers=3,
        page_size=7,
    )
    assert len(snapshot.objects) == 30
    assert len(list_calls) == 5  # pages of 7
    assert progress[0] == (0, 30)
    assert progress[-1] == (30, 30)
    report = verify(
        ledger, snapshot, Expectations(), default_key_pattern=hive_key_pattern(delivery.stream, "")
    )
    assert report.passed, report.failed_checks


@pytest.mark.parametrize(("fmt", "extension"), [("GZIP", ".log"), ("HADOOP_SNAPPY", ".data")])
def test_file_extension_replacing_the_format_extension_is_read_by_content_encoding(
    stack: Stack, fmt: str, extension: str
) -> None:
    delivery = make_delivery(stack, fmt, extension)
    records = kafka_records(40)
    ledger = [ledger_entry(i, r, stack.clock.now()) for i, r in enumerate(records)]
    delivery.put(records)
    stack.firehose.hooks.flush(delivery.stream)
    snapshot = read_archive(stack.s3.s3_client(), delivery.bucket)
    assert [(o.key.endswith(extension), o.compression) for o in snapshot.objects] == [(True, fmt)]
    pattern = hive_key_pattern(delivery.stream, extension)
    assert verify(ledger, snapshot, Expectations(), default_key_pattern=pattern).passed
