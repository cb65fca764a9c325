"""The produce ledger: every record Kafka acknowledged, the truth the verifier holds the archive against.

The load generator calls the ledger once per acknowledgement (from the producer's callback thread); the
runner reads the records after the run, and the pipeline probe reads end offsets for lag while it runs.
"""

from __future__ import annotations

import threading

from harness.load import ProducedRecord


class Ledger:
    """The records Kafka acknowledged, in ack order (thread-safe: the producer's callbacks append)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[ProducedRecord] = []
        self._end: dict[int, int] = {}
        self._seq: dict[tuple[int, int], int] = {}

    def __call__(self, record: ProducedRecord) -> None:
        """Add one acknowledged record (the LoadGenerator's ledger callback)."""
        with self._lock:
            self._records.append(record)
            self._end[record.partition] = max(self._end.get(record.partition, 0), record.offset + 1)
            self._seq[(record.partition, record.offset)] = record.seq

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def records(self) -> list[ProducedRecord]:
        """A copy of every acknowledged record."""
        with self._lock:
            return list(self._records)

    def end_offsets(self) -> dict[int, int]:
        """Per partition: one past the highest acknowledged offset."""
        with self._lock:
            return dict(self._end)

    def seq_of(self, partition: int, offset: int) -> int | None:
        """The load's sequence number of the record at (partition, offset), if it was produced."""
        with self._lock:
            return self._seq.get((partition, offset))
