"""Object bodies back to archive lines: which compression an object uses, and undoing it.

Covers every format firehose_emulator/compression.py writes (spec firehose §7.2): UNCOMPRESSED, GZIP (one or
several members), ZIP (every entry, in order), Snappy (xerial snappy-java stream) and HADOOP_SNAPPY (Hadoop
block framing). The format is taken from the object's Content-Encoding when it names one, else from the key's
extension, else from the body's magic bytes; `.snappy` objects without a Content-Encoding are told apart by
the xerial header. Limits: a HADOOP_SNAPPY object renamed by FileExtension and stripped of its
Content-Encoding cannot be recognised (it has no magic) and is read as UNCOMPRESSED, which then fails to
decode and is reported.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib

import cramjam

XERIAL_MAGIC = b"\x82SNAPPY\x00"
XERIAL_HEADER_BYTES = 16
_BY_ENCODING = {"gzip": "GZIP", "zip": "ZIP", "snappy-java": "Snappy", "hadoop-snappy": "HADOOP_SNAPPY"}
_INT32 = struct.Struct(">i")


class UndecodableObjectError(ValueError):
    """An object body that does not decompress as its format says; the message says why."""


def detect_compression(key: str, content_encoding: str | None, body: bytes) -> str:
    """The CompressionFormat of an object: Content-Encoding first, then extension, then magic bytes."""
    if content_encoding:
        fmt = _BY_ENCODING.get(content_encoding.strip().lower())
        if fmt is not None:
            return fmt
    name = key.rsplit("/", 1)[-1].lower()
    if name.endswith(".gz"):
        return "GZIP"
    if name.endswith(".zip"):
        return "ZIP"
    if name.endswith((".snappy", ".hsnappy")):
        return "Snappy" if body.startswith(XERIAL_MAGIC) else "HADOOP_SNAPPY"
    if body.startswith(b"\x1f\x8b"):
        return "GZIP"
    if body.startswith(b"PK\x03\x04"):
        return "ZIP"
    if body.startswith(XERIAL_MAGIC):
        return "Snappy"
    return "UNCOMPRESSED"


def decompress(fmt: str, body: bytes) -> bytes:
    """The uncompressed body; UndecodableObjectError when `body` is not valid `fmt`."""
    try:
        if fmt == "UNCOMPRESSED":
            return body
        if fmt == "GZIP":
            return gzip.decompress(body)  # reads every member
        if fmt == "ZIP":
            return _unzip(body)
        if fmt == "Snappy":
            return _xerial(body)
        if fmt == "HADOOP_SNAPPY":
            return _hadoop(body)
    except UndecodableObjectError:
        raise
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, cramjam.DecompressionError, ValueError) as exc:
        raise UndecodableObjectError(f"not valid {fmt}: {type(exc).__name__}: {exc}") from exc
    raise UndecodableObjectError(f"unknown compression format {fmt!r}")


def _unzip(body: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        if not names:
            raise UndecodableObjectError("ZIP archive has no entries")
        return b"".join(archive.read(name) for name in names)


def _int32(body: bytes, at: int, what: str) -> int:
    if at + 4 > len(body):
        raise UndecodableObjectError(f"truncated at byte {at}: expected the {what}")
    (value,) = _INT32.unpack_from(body, at)
    if value < 0:
        raise UndecodableObjectError(f"negative {what} {value} at byte {at}")
    return int(value)


def _raw_block(body: bytes, at: int, length: int) -> bytes:
    if at + length > len(body):
        raise UndecodableObjectError(f"truncated block at byte {at}: {length} bytes announced")
    return bytes(cramjam.snappy.decompress_raw(body[at : at + length]))


def _xerial(body: bytes) -> bytes:
    """snappy-java stream: 16-byte header, then [int32 BE length][raw snappy block] repeated."""
    if not body.startswith(XERIAL_MAGIC) or len(body) < XERIAL_HEADER_BYTES:
        raise UndecodableObjectError("no snappy-java (xerial) stream header")
    out: list[bytes] = []
    at = XERIAL_HEADER_BYTES
    while at < len(body):
        length = _int32(body, at, "block length")
        out.append(_raw_block(body, at + 4, length))
        at += 4 + length
    return b"".join(out)


def _hadoop(body: bytes) -> bytes:
    """Hadoop framing: per chunk an int32 BE raw length, then [int32 BE length][raw block] until full."""
    out: list[bytes] = []
    at = 0
    while at < len(body):
        expected = _int32(body, at, "chunk length")
        at += 4
        got = 0
        while got < expected:
            length = _int32(body, at, "block length")
            block = _raw_block(body, at + 4, length)
            if not block:
                raise UndecodableObjectError(f"empty block at byte {at} inside a chunk")
            at += 4 + length
            got += len(block)
            out.append(block)
        if got != expected:
            raise UndecodableObjectError(f"chunk holds {got} bytes, its header says {expected}")
    return b"".join(out)
