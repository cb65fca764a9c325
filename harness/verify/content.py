"""Identity without coordinates: fixed-width content keys for archived values and for produced records.

An archive that holds only values (`value-lines`, `value-concatenated`, a user decoder returning bytes) is
matched against the produce ledger by a 16-byte *content key* per record, counted as a multiset:

* by default the key is the first 16 bytes of the value's SHA-256 (`value_key`); the ledger side takes the
  same bytes from `ProducedRecord.value_sha256` (`produced_value_key`), so no value is ever kept. The load
  generator makes values unique: every JSON document carries its `seq`, and binary values are random bytes.
* with `verify.identity` (a JMESPath into the archived JSON) the key is the load's sequence number the
  expression yields (`seq_key`), for archivers that transform values; the ledger side is `ProducedRecord.seq`.

`KnownValues` lets a reader split a body of back-to-back non-JSON values by trying the produced value sizes
and keeping the slice whose digest the ledger holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jmespath  # type: ignore[import-untyped]  # ships with boto3; no stubs
import jmespath.exceptions  # type: ignore[import-untyped]

from harness.load import ProducedRecord

CONTENT_KEY_BYTES = 16
_SEQ_TAG = b"seq:"  # keeps sequence keys apart from value digests
_SEQ_BYTES = CONTENT_KEY_BYTES - len(_SEQ_TAG)


class IdentityError(ValueError):
    """An identity expression that does not compile, or a value it cannot name; the message says why."""


def value_key(value: bytes) -> bytes:
    """The content key of an archived value: SHA-256, first 16 bytes."""
    return hashlib.sha256(value).digest()[:CONTENT_KEY_BYTES]


def produced_value_key(record: ProducedRecord) -> bytes | None:
    """The content key of a produced record's value (None for a tombstone: it has no content)."""
    if record.value_sha256 is None:
        return None
    return bytes.fromhex(record.value_sha256[: 2 * CONTENT_KEY_BYTES])


def seq_key(seq: int) -> bytes:
    """The content key of a load sequence number."""
    return _SEQ_TAG + seq.to_bytes(_SEQ_BYTES, "big", signed=True)


@dataclass(frozen=True)
class IdentityExpression:
    """A compiled `verify.identity`: a JMESPath into the archived JSON that yields the load's `seq`."""

    text: str
    _compiled: Any

    @classmethod
    def compile(cls, text: str) -> IdentityExpression:
        """Compile `text`; IdentityError when it is not JMESPath."""
        try:
            return cls(text, jmespath.compile(text))
        except jmespath.exceptions.JMESPathError as exc:
            reason = str(exc).splitlines()[0].rstrip(":").removeprefix("Invalid jmespath expression: ")
            column = getattr(exc, "lex_position", None)
            at = f" at column {column + 1}" if isinstance(column, int) else ""
            raise IdentityError(f"not a valid JMESPath expression ({reason}{at})") from exc

    def key_of(self, value: bytes) -> bytes:
        """The content key of one archived value; IdentityError when it names no sequence number."""
        try:
            document = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IdentityError(f"value is not JSON ({exc})") from exc
        try:
            found = self._compiled.search(document)
        except jmespath.exceptions.JMESPathError as exc:
            raise IdentityError(f"identity {self.text!r} failed: {exc}") from exc
        if isinstance(found, str) and found.strip().lstrip("-").isdigit():
            found = int(found)
        if not isinstance(found, int) or isinstance(found, bool):
            raise IdentityError(f"identity {self.text!r} gave {found!r:.60}, not a sequence number")
        return seq_key(found)


def content_key_function(identity: IdentityExpression | None) -> Callable[[bytes], bytes]:
    """How an archived value becomes its content key (value digest, or the identity's sequence number)."""
    return value_key if identity is None else identity.key_of


def produced_key_function(identity: IdentityExpression | None) -> Callable[[ProducedRecord], bytes | None]:
    """How a produced record becomes its content key, matching `content_key_function(identity)`."""
    if identity is None:
        return produced_value_key
    return lambda record: seq_key(record.seq)


class KnownValues:
    """The produced values' sizes and digests, built on first use (only bodies of binary values need it)."""

    def __init__(self, produced: Callable[[], Sequence[ProducedRecord]]) -> None:
        self._produced = produced
        self._sizes: tuple[int, ...] | None = None
        self._keys: frozenset[bytes] = frozenset()

    def _build(self) -> tuple[int, ...]:
        if self._sizes is None:
            records = self._produced()
            keys = (produced_value_key(r) for r in records)
            self._keys = frozenset(k for k in keys if k is not None)
            sizes = {r.value_size for r in records if r.value_sha256 is not None and r.value_size > 0}
            self._sizes = tuple(sorted(sizes, reverse=True))
        return self._sizes

    def is_known(self, value: bytes) -> bool:
        """True when some produced record has exactly this value (by digest)."""
        self._build()
        return value_key(value) in self._keys

    def match_at(self, body: bytes, start: int) -> int | None:
        """The end of a produced value that starts at `start` in `body` (longest first), else None."""
        for size in self._build():
            end = start + size
            if end <= len(body) and value_key(body[start:end]) in self._keys:
                return end
        return None
