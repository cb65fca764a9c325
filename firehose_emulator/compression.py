"""Pure object-body encoding (spec §7.2): compression formats, their extensions and Content-Encoding headers.

| CompressionFormat | extension | Content-Encoding | body |
| UNCOMPRESSED      | ""        | none             | the bytes as given |
| GZIP              | .gz       | gzip             | one gzip member, deflate level 1 (knob) |
| ZIP               | .zip      | zip              | one deflated entry named with a fresh UUID |
| Snappy            | .snappy   | snappy-java      | xerial snappy-java stream (16-byte header, 32 KiB) |
| HADOOP_SNAPPY     | .snappy   | hadoop-snappy    | Hadoop block framing (256 KiB chunks) |

Known deviations from AWS:

* The gzip header's MTIME and the ZIP entry's date come from the caller (the delivery time), OS byte is 255;
  AWS's values are not documented. AWS does not document its deflate level either: the default here is 1
  (cramjam's deflate, measured by benchmarks/bench_firehose_compression.py at 4-5x the speed of level 6 for a
  similar size), configurable as ``gzip_level`` so the throughput target holds on high-entropy records.
* Block sizes (xerial 32 KiB, Hadoop 256 KiB of input per chunk) follow the libraries' defaults; AWS's are not
  documented. Any conforming reader decodes either.
* Several gzip members per object (knob ``gzip_single_member=False``) are written as one member per 8 MiB of
  input; when AWS writes several is not documented.

Example::

    body = compress("GZIP", b'{"a":1}{"a":2}')
    extension_for("GZIP"), content_encoding_for("GZIP")   # (".gz", "gzip")
"""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import UTC, datetime

import cramjam

COMPRESSION_FORMATS = ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY")
DEFAULT_GZIP_LEVEL = 1
XERIAL_MAGIC = b"\x82SNAPPY\x00"
XERIAL_HEADER = XERIAL_MAGIC + struct.pack(">ii", 1, 1)
XERIAL_BLOCK_BYTES = 32 * 1024
HADOOP_CHUNK_BYTES = 256 * 1024
GZIP_MEMBER_BYTES = 8 * 1024 * 1024

_EXTENSIONS = {
    "UNCOMPRESSED": "",
    "GZIP": ".gz",
    "ZIP": ".zip",
    "Snappy": ".snappy",
    "HADOOP_SNAPPY": ".snappy",
}
_ENCODINGS: dict[str, str | None] = {
    "UNCOMPRESSED": None,
    "GZIP": "gzip",
    "ZIP": "zip",
    "Snappy": "snappy-java",
    "HADOOP_SNAPPY": "hadoop-snappy",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnknownCompressionError(ValueError):
    """A CompressionFormat that is not one of COMPRESSION_FORMATS (validation should have caught it)."""


def _check(fmt: str) -> None:
    if fmt not in _EXTENSIONS:
        raise UnknownCompressionError(
            f"unknown CompressionFormat {fmt!r}; expected one of {', '.join(COMPRESSION_FORMATS)}"
        )


def extension_for(fmt: str, *, hadoop_snappy_extension: str = ".snappy") -> str:
    """The default file extension for a CompressionFormat (spec §7.2)."""
    _check(fmt)
    if fmt == "HADOOP_SNAPPY":
        return hadoop_snappy_extension
    return _EXTENSIONS[fmt]


def content_encoding_for(fmt: str) -> str | None:
    """The Content-Encoding header for a CompressionFormat, or None for UNCOMPRESSED."""
    _check(fmt)
    return _ENCODINGS[fmt]


def object_extension(
    fmt: str, file_extension: str | None, *, hadoop_snappy_extension: str = ".snappy"
) -> str:
    """The object's extension: a non-empty FileExtension replaces the format's; None or "" restores it."""
    if file_extension:
        return file_extension
    return extension_for(fmt, hadoop_snappy_extension=hadoop_snappy_extension)


def compress(
    fmt: str,
    body: bytes,
    *,
    modified: datetime | None = None,
    zip_entry_name: str = "data",
    gzip_single_member: bool = True,
    gzip_level: int = DEFAULT_GZIP_LEVEL,
) -> bytes:
    """Encode `body` in CompressionFormat `fmt`; `modified` stamps gzip/ZIP headers (default: the epoch)."""
    if not 1 <= gzip_level <= 9:
        raise ValueError(f"gzip_level must be 1..9, got {gzip_level}")
    _check(fmt)
    stamp = modified or _EPOCH
    if fmt == "UNCOMPRESSED":
        return bytes(body)
    if fmt == "GZIP":
        return gzip_compress(body, stamp, single_member=gzip_single_member, level=gzip_level)
    if fmt == "ZIP":
        return zip_compress(body, zip_entry_name, stamp, level=gzip_level)
    if fmt == "Snappy":
        return xerial_snappy_compress(body)
    return hadoop_snappy_compress(body)


def gzip_compress(
    body: bytes, modified: datetime, *, single_member: bool = True, level: int = DEFAULT_GZIP_LEVEL
) -> bytes:
    """gzip via cramjam; one member, or one per GZIP_MEMBER_BYTES of input when not `single_member`."""
    mtime = struct.pack("<I", int(modified.timestamp()) & 0xFFFFFFFF)
    if single_member or len(body) <= GZIP_MEMBER_BYTES:
        return _gzip_member(body, mtime, level)
    return b"".join(
        _gzip_member(body[start : start + GZIP_MEMBER_BYTES], mtime, level)
        for start in range(0, len(body), GZIP_MEMBER_BYTES)
    )


def _gzip_member(body: bytes, mtime: bytes, level: int) -> bytes:
    member = bytearray(cramjam.gzip.compress(body, level=level))
    member[4:8] = mtime  # MTIME (RFC 1952); no header CRC is written, so nothing else changes
    return bytes(member)


def zip_compress(
    body: bytes, entry_name: str, modified: datetime, *, level: int = DEFAULT_GZIP_LEVEL
) -> bytes:
    """A ZIP archive with one deflated entry `entry_name` holding `body`."""
    if not entry_name:
        raise ValueError("a ZIP entry needs a name")
    stamp = max(modified.astimezone(UTC), datetime(1980, 1, 1, tzinfo=UTC))
    info = zipfile.ZipInfo(entry_name, date_time=stamp.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return out.getvalue()


def _snappy_raw(chunk: memoryview) -> bytes:
    return bytes(cramjam.snappy.compress_raw(bytes(chunk)))


def xerial_snappy_compress(body: bytes) -> bytes:
    """The snappy-java (xerial) stream: header, then [int32 BE length][raw snappy block] per 32 KiB."""
    parts = [XERIAL_HEADER]
    view = memoryview(body)
    for start in range(0, len(body), XERIAL_BLOCK_BYTES):
        block = _snappy_raw(view[start : start + XERIAL_BLOCK_BYTES])
        parts.append(struct.pack(">i", len(block)))
        parts.append(block)
    return b"".join(parts)


def hadoop_snappy_compress(body: bytes) -> bytes:
    """Hadoop block framing: per 256 KiB chunk, [int32 BE raw length][int32 BE compressed length][block]."""
    parts: list[bytes] = []
    view = memoryview(body)
    for start in range(0, len(body), HADOOP_CHUNK_BYTES):
        chunk = view[start : start + HADOOP_CHUNK_BYTES]
        block = _snappy_raw(chunk)
        parts.append(struct.pack(">ii", len(chunk), len(block)))
        parts.append(block)
    return b"".join(parts)
