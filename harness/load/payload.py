"""Seeded payloads: keys, values and headers drawn from one `random.Random`.

JSON documents with a size distribution, binary values, tombstones, finite or unique keys with a share of
null keys, headers with non-ASCII bytes and repeated names. The same seed gives the same records.
"""

from __future__ import annotations

import binascii
import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class SizeDistribution:
    """Value sizes in bytes: fixed, uniform(min, max), normal(mean, sd), lognormal(median, sigma)."""

    distribution: Literal["fixed", "uniform", "normal", "lognormal"] = "fixed"
    size: int = 200
    minimum: int = 1
    maximum: int = 1_048_576
    mean: float = 200.0
    stddev: float = 0.0

    def draw(self, rng: random.Random) -> int:
        """One size."""
        if self.distribution == "fixed":
            return self.size
        if self.distribution == "uniform":
            return rng.randint(self.minimum, self.maximum)
        if self.distribution == "normal":
            value = rng.gauss(self.mean, self.stddev)
        else:
            value = rng.lognormvariate(math.log(self.mean), self.stddev)
        return max(self.minimum, min(self.maximum, round(value)))


@dataclass(frozen=True)
class PayloadSpec:
    """What records look like: value mix, size distribution, keys and headers."""

    json_share: float = 1.0
    binary_share: float = 0.0
    tombstone_share: float = 0.0
    size: SizeDistribution = field(default_factory=SizeDistribution)
    key_cardinality: int = 100  # 0 = a unique key per record
    key_prefix: str = "key-"
    null_key_share: float = 0.0
    header_count: int = 0
    non_ascii_headers: bool = False
    duplicate_header_names: bool = False

    def key_names(self) -> frozenset[str] | None:
        """Every non-null key the load can produce, or None when keys are unique per record."""
        if self.key_cardinality == 0:
            return None
        return frozenset(f"{self.key_prefix}{i}" for i in range(self.key_cardinality))


Header = tuple[str, bytes]
_HEADER_NAMES = ("trace-id", "source", "content-type", "tenant", "retry")
_NON_ASCII_TEXT = "grüße-東京-ß"


@dataclass(frozen=True)
class Payload:
    """One record to send: sequence number, key, value (None = tombstone) and headers."""

    seq: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]


class PayloadGenerator:
    """Draws payloads from one seeded RNG; the same seed gives the same sequence of records."""

    def __init__(self, spec: PayloadSpec, rng: random.Random) -> None:
        total = spec.json_share + spec.binary_share + spec.tombstone_share
        if total <= 0:
            raise ValueError("payload shares must add up to more than 0")
        self.spec = spec
        self._rng = rng
        self._weights = (spec.json_share / total, spec.binary_share / total, spec.tombstone_share / total)
        self._seq = 0

    def next(self) -> Payload:
        """The next record."""
        rng, spec, seq = self._rng, self.spec, self._seq
        self._seq += 1
        kind = rng.choices(("json", "binary", "tombstone"), weights=self._weights)[0]
        value: bytes | None
        if kind == "tombstone":
            value = None
        elif kind == "binary":
            value = rng.randbytes(spec.size.draw(rng))
        else:
            value = json_document(seq, spec.size.draw(rng), rng)
        # A tombstone always has a key: compaction needs one, and Kafka clients refuse a record with neither.
        return Payload(seq, self._key(seq, allow_null=value is not None), value, self._headers(seq))

    def _key(self, seq: int, *, allow_null: bool) -> bytes | None:
        spec = self.spec
        if allow_null and spec.null_key_share and self._rng.random() < spec.null_key_share:
            return None
        index = seq if spec.key_cardinality == 0 else self._rng.randrange(spec.key_cardinality)
        return f"{spec.key_prefix}{index}".encode()

    def _headers(self, seq: int) -> tuple[Header, ...]:
        spec, rng = self.spec, self._rng
        headers: list[Header] = []
        for i in range(spec.header_count):
            name = _HEADER_NAMES[i % len(_HEADER_NAMES)]
            if spec.duplicate_header_names and i > 0 and i % 2 == 1:
                name = headers[i - 1][0]
            value = f"{name}-{seq}-{rng.randrange(1_000_000)}".encode()
            if spec.non_ascii_headers and i % 2 == 0:
                value = _NON_ASCII_TEXT.encode() + bytes([0x80 + rng.randrange(0x80), 0xFF])
            headers.append((name, value))
        return tuple(headers)


_STATUSES = (b"paid", b"pending", b"refunded")


def json_document(seq: int, size: int, rng: random.Random) -> bytes:
    """A compact JSON object of exactly `size` bytes when `size` allows (else the smallest such document)."""
    ident, amount = rng.getrandbits(64), rng.randrange(100_000)
    status = rng.choice(_STATUSES)
    # What json.dumps(..., separators=(",", ":")) writes for these fields, at a tenth of its cost.
    base = b'{"seq":%d,"id":"%016x","amount":%d,"status":"%s"}' % (seq, ident, amount, status)
    pad = size - len(base) - len(',"pad":""')
    if pad < 0:
        return base
    # Base64 of random bytes: letters, digits, '+' and '/' need no JSON escaping, and one randbytes call
    # costs ~1/40 of drawing each character (the load generator's hot path at 100k records/s).
    text = binascii.b2a_base64(rng.randbytes(-(-pad * 3 // 4)), newline=False)[:pad]
    return b"".join((base[:-1], b',"pad":"', text, b'"}'))


def value_sha256(value: bytes | None) -> str | None:
    """Hex SHA-256 of a value (None for a tombstone), as recorded in the ledger."""
    return None if value is None else hashlib.sha256(value).hexdigest()
