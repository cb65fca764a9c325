"""CloudWatch-named metrics for one delivery stream (spec §10), kept in memory and read through a hook.

Known deviations from AWS:

* Nothing is published to CloudWatch; `StreamMetrics.snapshot()` is the hook (spec §10 "SHOULD expose these
  through a hook").
* Counters are running totals since the stream was created, not per-minute datapoints; a gauge keeps its last
  value. `DeliveryToS3.Success` is kept as a gauge (successful PUTs / all PUTs so far), like AWS's average.
* `IncomingBilledBytes` is not a CloudWatch metric: it is what ingestion is billed on, each accepted record
  rounded up to a 5 KB (5,120-byte) multiple (`billed_record_bytes`), counted by `add_ingested`.

Example::

    metrics = StreamMetrics()
    metrics.add("IncomingRecords", 500)
    metrics.set("DeliveryToS3.DataFreshness", 12.0)
    metrics.snapshot()  # {"IncomingRecords": 500.0, "DeliveryToS3.DataFreshness": 12.0}
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

BILLING_INCREMENT_BYTES = 5120  # Firehose bills ingestion per record rounded up to 5 KB = 5,120 bytes
BILLED_BYTES = "IncomingBilledBytes"


def billed_record_bytes(size: int) -> int:
    """The bytes Firehose bills for ingesting one record of `size` bytes: rounded up to a 5,120 multiple."""
    if size < 0:
        raise ValueError(f"a record size cannot be negative, got {size}")
    return -(-size // BILLING_INCREMENT_BYTES) * BILLING_INCREMENT_BYTES


class StreamMetrics:
    """Thread-safe CloudWatch-named counters/gauges for one stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, float] = {}

    def add(self, name: str, value: float = 1.0) -> None:
        """Add `value` to the counter `name` (created at 0)."""
        with self._lock:
            self._values[name] = self._values.get(name, 0.0) + value

    def add_ingested(self, sizes: Iterable[int]) -> None:
        """Add the billed bytes of accepted records of these sizes to `IncomingBilledBytes`."""
        billed = sum(billed_record_bytes(size) for size in sizes)
        with self._lock:
            self._values[BILLED_BYTES] = self._values.get(BILLED_BYTES, 0.0) + billed

    def set(self, name: str, value: float) -> None:
        """Set the gauge `name` to `value`."""
        with self._lock:
            self._values[name] = float(value)

    def get(self, name: str, default: float = 0.0) -> float:
        """The current value of `name`, or `default` when it was never written."""
        with self._lock:
            return self._values.get(name, default)

    def snapshot(self) -> dict[str, float]:
        """A copy of every counter and gauge."""
        with self._lock:
            return dict(self._values)
