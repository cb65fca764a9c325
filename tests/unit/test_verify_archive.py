"""Decompression of every emulator format and decoding of archive lines, on bodies built in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from archive_format import ArchivedRecord, encode_lines
from botocore.config import Config

from firehose_emulator.compression import COMPRESSION_FORMATS, compress, content_encoding_for, extension_for
from harness.verify.archive import (
    FetchedObject,
    decode_archive,
    error_roots,
    fetch_objects,
    load_archive_format,
)
from harness.verify.codec import UndecodableObjectError, decompress, detect_compression
from harness.verify.result import ArchivedDigest

T0 = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)


def record(offset: int, value: bytes | None = b'{"a":1}', partition: int = 0) -> ArchivedRecord:
    return ArchivedRecord(
        topic="orders",
        partition=partition,
        offset=offset,
        timestamp=1_783_951_509_000,
        timestamp_type="CREATE_TIME",
        key=f"k{offset}".encode(),
        value=value,
        headers=(("h", b"\xff\x00"), ("h", None)),
    )


def lines(*records: ArchivedRecord, max_record_bytes: int = 1_024_000) -> bytes:
    return b"".join(line for r in records for line in encode_lines(r, max_record_bytes))


def fetched(key: str, body: bytes, encoding: str | None = None) -> FetchedObject:
    return FetchedObject(key, len(body), T0, encoding, body)


def test_archive_format_is_the_archivers_module() -> None:
    module = load_archive_format()
    assert module.ArchivedRecord is ArchivedRecord  # reused, not loaded twice under another identity


@pytest.mark.parametrize("fmt", COMPRESSION_FORMATS)
def test_every_emulator_format_round_trips(fmt: str) -> None:
    body = lines(*(record(i, b"x" * 5000 + bytes([i])) for i in range(200)))  # > 1 snappy block
    compressed = compress(fmt, body, modified=T0)
    key = f"data/archive-1-2026-07-13-14-05-09-x{extension_for(fmt)}"
    assert detect_compression(key, content_encoding_for(fmt), compressed) == fmt
    assert decompress(fmt, compressed) == body
    snapshot = decode_archive([fetched(key, compressed, content_encoding_for(fmt))], bucket="b")
    (obj,) = snapshot.objects
    assert (obj.compression, obj.lines, len(obj.records), snapshot.unreadable) == (fmt, 200, 200, ())
    assert obj.records[7] == ArchivedDigest.of(
        "orders", 0, 7, key=b"k7", value=b"x" * 5000 + b"\x07", headers=(("h", b"\xff\x00"), ("h", None))
    )


@pytest.mark.parametrize("fmt", ["GZIP", "ZIP", "Snappy"])
def test_format_found_without_content_encoding(fmt: str) -> None:
    compressed = compress(fmt, lines(record(1)), modified=T0)
    assert detect_compression(f"k{extension_for(fmt)}", None, compressed) == fmt
    assert detect_compression("renamed.custom.log", None, compressed) == fmt  # by magic bytes


def test_snappy_extension_tells_hadoop_from_xerial() -> None:
    hadoop = compress("HADOOP_SNAPPY", lines(record(1)))
    assert detect_compression("k.snappy", None, hadoop) == "HADOOP_SNAPPY"
    assert detect_compression("k", None, b'{"v":1}\n') == "UNCOMPRESSED"


def test_several_gzip_members_are_read() -> None:
    body = lines(*(record(i) for i in range(10)))
    two = compress("GZIP", body[:300], modified=T0) + compress("GZIP", body[300:], modified=T0)
    assert decompress("GZIP", two) == body


@pytest.mark.parametrize(
    ("fmt", "body", "message"),
    [
        ("GZIP", b"\x1f\x8bgarbage", "not valid GZIP"),
        ("ZIP", b"PK\x03\x04garbage", "not valid ZIP"),
        ("Snappy", b"garbage", "no snappy-java"),
        ("Snappy", compress("Snappy", b"x" * 1000)[:-3], "truncated block"),
        ("HADOOP_SNAPPY", compress("HADOOP_SNAPPY", b"x" * 1000)[:-3], "truncated block"),
        ("HADOOP_SNAPPY", b"\x00\x00", "truncated at byte 0"),
        ("Parquet", b"", "unknown compression format"),
    ],
)
def test_undecodable_bodies_raise_with_a_reason(fmt: str, body: bytes, message: str) -> None:
    with pytest.raises(UndecodableObjectError, match=message):
        decompress(fmt, body)


def test_garbage_object_and_bad_line_are_reported_and_the_rest_is_read() -> None:
    good = compress("GZIP", lines(record(0), record(1)), modified=T0)
    with_bad_line = lines(record(2)) + b'{"v":1,"topic":"orders"\n' + b'{"v":2}\n' + lines(record(3))
    snapshot = decode_archive(
        [
            fetched("data/a.gz", good, "gzip"),
            fetched("data/b.gz", b"\x1f\x8b\x08\x00 definitely not deflate", "gzip"),
            fetched("data/c.gz", compress("GZIP", with_bad_line, modified=T0), "gzip"),
            FetchedObject("data/d.gz", 10, T0, None, None, "download failed: AccessDenied"),
        ],
        bucket="b",
    )
    offsets = [r.offset for o in snapshot.objects for r in o.records]
    assert offsets == [0, 1, 2, 3]
    assert len(snapshot.unreadable) == 4
    assert snapshot.unreadable[0].startswith("data/b.gz: not valid GZIP")
    assert snapshot.unreadable[1].startswith("data/c.gz line 2: not a JSON line")
    assert snapshot.unreadable[2].startswith("data/c.gz line 3: unsupported archive format version 2")
    assert snapshot.unreadable[3] == "data/d.gz: download failed: AccessDenied"
    assert [o.compression for o in snapshot.objects] == ["GZIP", "GZIP", "GZIP", "unknown"]


def test_split_record_is_reassembled_across_objects() -> None:
    big = record(5, b"v" * 5000)
    parts = encode_lines(big, max_record_bytes=2048)
    assert len(parts) >= 3
    first = b"".join(parts[:2]) + lines(record(6))
    second = b"".join(parts[2:])
    snapshot = decode_archive([fetched("a", first), fetched("b", second)], bucket="b")
    assert [[r.offset for r in o.records] for o in snapshot.objects] == [[6], [5]]
    assert snapshot.objects[1].records[0].value_size == 5000
    assert snapshot.unreadable == ()


def test_split_record_missing_a_part_is_reported() -> None:
    parts = encode_lines(record(5, b"v" * 5000), max_record_bytes=2048)
    snapshot = decode_archive([fetched("a", b"".join(parts[:-1]) + lines(record(6)))], bucket="b")
    assert [r.offset for r in snapshot.objects[0].records] == [6]
    assert snapshot.unreadable == ("a: split record orders-0@5 missing parts",)


def test_error_objects_are_counted_not_decoded() -> None:
    error_body = b'{"attemptsMade":4,"errorCode":"Lambda.FunctionError"}\n{"attemptsMade":4}\n'
    snapshot = decode_archive(
        [fetched("data/x", lines(record(1))), fetched("errors/processing-failed/2026/x", error_body)],
        bucket="b",
        error_prefixes=error_roots("errors/!{firehose:error-output-type}/"),
    )
    assert [o.key for o in snapshot.objects] == ["data/x"]
    (error,) = snapshot.error_objects
    assert (error.error_output, error.lines, error.records) == (True, 2, ())
    assert snapshot.unreadable == ()


def test_error_roots() -> None:
    assert error_roots("errors/!{firehose:error-output-type}/") == ("errors/",)
    assert error_roots("failed/") == ("failed/",)
    assert "processing-failed/" in error_roots(None)
    assert error_roots("!{firehose:error-output-type}/") == error_roots("")


def test_a_download_that_cannot_connect_is_reported_with_its_key() -> None:
    # Nothing listens on port 9 of localhost: botocore raises EndpointConnectionError at once.
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    entry = {"Key": "data/a.gz", "Size": 3, "LastModified": T0}
    (fetched,) = fetch_objects(client, "archive", [entry], max_workers=1)
    assert fetched.key == "data/a.gz"
    assert fetched.body is None
    assert fetched.error is not None
    assert fetched.error.startswith("download failed: EndpointConnectionError")
