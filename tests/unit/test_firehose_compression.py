"""Compression formats decoded with independent decoders (spec §7.2, checklist #14, G9, G16)."""

from __future__ import annotations

import gzip
import io
import random
import struct
import zipfile
import zlib
from datetime import UTC, datetime

import cramjam
import pytest

from firehose_emulator.compression import (
    COMPRESSION_FORMATS,
    UnknownCompressionError,
    compress,
    content_encoding_for,
    extension_for,
    object_extension,
)

WHEN = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)


def sample_body(size: int, seed: int = 1) -> bytes:
    """JSON-ish records with some randomness so blocks do not compress to nothing."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    total = 0
    i = 0
    while total < size:
        record = b'{"id":%d,"v":"%s"}' % (i, rng.randbytes(rng.randint(5, 60)).hex().encode())
        parts.append(record)
        total += len(record)
        i += 1
    return b"".join(parts)[:size]


BODIES = [b"", b'{"a":1}{"a":2}', sample_body(100_000), sample_body(700_000, seed=2)]


def read_xerial(stream: bytes) -> bytes:
    """Decode a snappy-java stream by hand: check the 16-byte header, then [int32 BE length][raw block]*."""
    assert stream[:8] == b"\x82SNAPPY\x00"
    assert struct.unpack(">ii", stream[8:16]) == (1, 1)
    out = bytearray()
    position = 16
    while position < len(stream):
        (length,) = struct.unpack(">i", stream[position : position + 4])
        position += 4
        out += bytes(cramjam.snappy.decompress_raw(stream[position : position + length]))
        position += length
    assert position == len(stream)
    return bytes(out)


def read_hadoop(stream: bytes) -> bytes:
    """Decode Hadoop framing: per chunk [int32 BE raw length] then [int32 BE compressed length][block]*."""
    out = bytearray()
    position = 0
    while position < len(stream):
        (raw_length,) = struct.unpack(">i", stream[position : position + 4])
        position += 4
        chunk = bytearray()
        while len(chunk) < raw_length:
            (length,) = struct.unpack(">i", stream[position : position + 4])
            position += 4
            chunk += bytes(cramjam.snappy.decompress_raw(stream[position : position + length]))
            position += length
        assert len(chunk) == raw_length
        out += chunk
    return bytes(out)


@pytest.mark.parametrize("body", BODIES, ids=lambda b: f"{len(b)}B")
def test_uncompressed_is_the_exact_concatenation(body: bytes) -> None:
    assert compress("UNCOMPRESSED", body) == body


@pytest.mark.parametrize("body", BODIES, ids=lambda b: f"{len(b)}B")
def test_gzip_round_trips_through_the_gzip_module_as_one_member(body: bytes) -> None:
    encoded = compress("GZIP", body, modified=WHEN)
    assert gzip.decompress(encoded) == body
    assert encoded[:2] == b"\x1f\x8b"
    assert struct.unpack("<I", encoded[4:8])[0] == int(WHEN.timestamp())
    first_member = zlib.decompressobj(wbits=31)  # stops at the end of the first gzip member
    assert first_member.decompress(encoded) == body
    assert first_member.eof
    assert first_member.unused_data == b""


def test_gzip_level_knob_changes_encoding_not_content() -> None:
    body = sample_body(200_000)
    fast, slow = compress("GZIP", body, gzip_level=1), compress("GZIP", body, gzip_level=9)
    assert gzip.decompress(fast) == gzip.decompress(slow) == body
    assert fast != slow  # the level reaches the encoder (sizes vary by data: miniz's level 1 is its own mode)
    with pytest.raises(ValueError, match="gzip_level"):
        compress("GZIP", body, gzip_level=0)


def test_gzip_several_members_when_knob_is_off() -> None:
    body = sample_body(9 * 1024 * 1024, seed=3)
    encoded = compress("GZIP", body, gzip_single_member=False)
    assert gzip.decompress(encoded) == body
    assert encoded.count(b"\x1f\x8b\x08") >= 2


@pytest.mark.parametrize("body", BODIES, ids=lambda b: f"{len(b)}B")
def test_zip_has_one_deflated_entry_named_as_given(body: bytes) -> None:
    name = "b7d1a2c4-9f7e-4e0a-8f61-2f1d3c4b5a69"
    encoded = compress("ZIP", body, zip_entry_name=name, modified=WHEN)
    with zipfile.ZipFile(io.BytesIO(encoded)) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == [name]
        assert infos[0].compress_type == zipfile.ZIP_DEFLATED
        assert infos[0].date_time == (2026, 7, 13, 14, 5, 8)  # ZIP stores even seconds
        assert archive.read(name) == body


@pytest.mark.parametrize("body", BODIES, ids=lambda b: f"{len(b)}B")
def test_snappy_is_xerial_framing_not_google_framing(body: bytes) -> None:
    encoded = compress("Snappy", body)
    assert read_xerial(encoded) == body
    assert not encoded.startswith(b"\xff\x06\x00\x00sNaPpY")  # Google's framing stream identifier
    if body:
        with pytest.raises(Exception):  # noqa: B017, PT011 - cramjam raises its own DecompressionError
            cramjam.snappy.decompress(encoded)  # the framed (Google) decoder cannot read it


def test_xerial_blocks_are_32_kib_of_input() -> None:
    body = sample_body(100_000)
    encoded = compress("Snappy", body)
    (first_length,) = struct.unpack(">i", encoded[16:20])
    first_block = bytes(cramjam.snappy.decompress_raw(encoded[20 : 20 + first_length]))
    assert len(first_block) == 32 * 1024


@pytest.mark.parametrize("body", BODIES, ids=lambda b: f"{len(b)}B")
def test_hadoop_snappy_block_layout_g9(body: bytes) -> None:
    encoded = compress("HADOOP_SNAPPY", body)
    assert read_hadoop(encoded) == body
    if len(body) > 256 * 1024:
        assert struct.unpack(">i", encoded[:4])[0] == 256 * 1024


def test_hadoop_snappy_first_chunk_hand_checked() -> None:
    body = b"hello hello hello hello"
    encoded = compress("HADOOP_SNAPPY", body)
    raw_length, compressed_length = struct.unpack(">ii", encoded[:8])
    assert raw_length == len(body)
    assert compressed_length == len(encoded) - 8
    assert bytes(cramjam.snappy.decompress_raw(encoded[8:])) == body


@pytest.mark.parametrize(
    ("fmt", "extension", "encoding"),
    [
        ("UNCOMPRESSED", "", None),
        ("GZIP", ".gz", "gzip"),
        ("ZIP", ".zip", "zip"),
        ("Snappy", ".snappy", "snappy-java"),
        ("HADOOP_SNAPPY", ".snappy", "hadoop-snappy"),
    ],
)
def test_extension_and_content_encoding_per_format(fmt: str, extension: str, encoding: str | None) -> None:
    assert extension_for(fmt) == extension
    assert content_encoding_for(fmt) == encoding
    assert object_extension(fmt, None) == extension


def test_hadoop_snappy_extension_knob() -> None:
    assert extension_for("HADOOP_SNAPPY", hadoop_snappy_extension=".hsnappy") == ".hsnappy"


def test_file_extension_replaces_and_empty_restores_g16() -> None:
    assert object_extension("GZIP", ".log") == ".log"
    assert object_extension("GZIP", ".custom.log") == ".custom.log"
    assert object_extension("GZIP", "") == ".gz"
    assert object_extension("UNCOMPRESSED", ".json") == ".json"


def test_unknown_format_is_a_clear_error() -> None:
    for call in (lambda: compress("SNAPPY", b"x"), lambda: extension_for("gzip")):
        with pytest.raises(UnknownCompressionError, match="unknown CompressionFormat"):
            call()
    assert set(COMPRESSION_FORMATS) == {"UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"}
