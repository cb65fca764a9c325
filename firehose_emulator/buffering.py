"""The pure buffering core of one stream (spec §5): records in, sealed buffers (`Flush`) out.

A buffer seals at whichever comes first: buffered uncompressed record bytes >= the size hint (the record that
crosses the threshold goes into the sealed buffer), or `interval_seconds` since its oldest record arrived. A
scheduler pulls it: `add` may return a `Flush` on size, `due(now)` returns one on time.

Known deviations from AWS:

* The size counts record bytes only; a delimiter added by AppendDelimiterToRecord does not count.
* AWS adds up to "1.5 times" the interval of delay; here a buffer is due exactly `interval_seconds` after its
  oldest record, and delivered on the scheduler's next tick.

Example::

    buffer = DeliveryBuffer(size_bytes=1_048_576, interval_seconds=900)
    flush = buffer.add(b'{"a":1}', arrival=clock.now())   # None until the size is crossed
    flush = buffer.due(clock.now())                       # a Flush once 900 s passed since the oldest record
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Flush:
    """One sealed buffer: its records in arrival order and the arrivals of its oldest and newest record."""

    records: tuple[bytes, ...]
    oldest_arrival: datetime
    newest_arrival: datetime
    size_bytes: int


class DeliveryBuffer:
    """Buffers records until the size or interval hint seals them into a `Flush` (not thread-safe)."""

    def __init__(self, size_bytes: int, interval_seconds: float) -> None:
        self._check_limits(size_bytes, interval_seconds)
        self.size_bytes = size_bytes
        self.interval_seconds = interval_seconds
        self._records: list[bytes] = []
        self._bytes = 0
        self._oldest: datetime | None = None
        self._newest: datetime | None = None

    @staticmethod
    def _check_limits(size_bytes: int, interval_seconds: float) -> None:
        if size_bytes <= 0:
            raise ValueError(f"buffer size must be > 0 bytes, got {size_bytes}")
        if interval_seconds < 0:
            raise ValueError(f"buffer interval must be >= 0 seconds, got {interval_seconds}")

    def set_limits(self, size_bytes: int, interval_seconds: float) -> None:
        """Change the hints; what is buffered stays and is judged by the new hints from now on."""
        self._check_limits(size_bytes, interval_seconds)
        self.size_bytes = size_bytes
        self.interval_seconds = interval_seconds

    @property
    def record_count(self) -> int:
        """Records currently buffered."""
        return len(self._records)

    @property
    def buffered_bytes(self) -> int:
        """Uncompressed record bytes currently buffered."""
        return self._bytes

    @property
    def oldest_arrival(self) -> datetime | None:
        """Arrival of the oldest buffered record, or None when empty."""
        return self._oldest

    def add(self, data: bytes, arrival: datetime) -> Flush | None:
        """Buffer one record; return the sealed buffer if this record reached the size hint."""
        if self._oldest is None:
            self._oldest = arrival
        self._newest = arrival
        self._records.append(data)
        self._bytes += len(data)
        if self._bytes >= self.size_bytes:
            return self.drain()
        return None

    def due(self, now: datetime) -> Flush | None:
        """Seal and return the buffer once its oldest record is `interval_seconds` old (or size reached)."""
        if self._oldest is None:
            return None
        age = (now - self._oldest).total_seconds()
        if age >= self.interval_seconds or self._bytes >= self.size_bytes:
            return self.drain()
        return None

    def next_due(self) -> datetime | None:
        """When the current buffer falls due by time, or None when empty."""
        if self._oldest is None:
            return None
        return self._oldest + timedelta(seconds=self.interval_seconds)

    def drain(self) -> Flush | None:
        """Seal whatever is buffered now (None when empty) and start a new buffer."""
        if self._oldest is None or self._newest is None:
            return None
        flush = Flush(tuple(self._records), self._oldest, self._newest, self._bytes)
        self._records = []
        self._bytes = 0
        self._oldest = None
        self._newest = None
        return flush
