"""Pure, clocked batcher (§2): BatchSize, window from the first record, 6 MB accounting, one batch/partition.

The poller feeds it every record it reads, marking the ones the filter dropped (`delivered=False`): those
count toward neither BatchSize nor 6 MB but belong to the batch's covered offset range, so they are committed
with it.
`take(now)` returns the next ready `Batch` (or None); its partitions stay in flight until `release`.

Known deviations from AWS:
- The window starts at the arrival of the first record of the next batch (AWS: "when the first record
  arrives"); a partition that was held back by an in-flight batch is therefore due at once when released.
- A record too big to fit an event alone is returned as its own `Batch` with `oversized` set; what happens
  next is the mapping's `oversized_record_mode` decision (§2.7).

Example::

    batcher = Batcher(source=source, batch_size=100, window_s=0.5)
    batcher.add(record, delivered=True, now=clock.monotonic())
    batch = batcher.take(clock.monotonic() + 0.5)   # the window has elapsed -> one batch
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from harness.esm.event_builder import (
    EventSizer,
    EventSource,
    JsonObject,
    KafkaRecord,
    SchemaFormats,
    assemble_event,
    event_header,
    map_key,
    record_json_bytes,
)
from harness.esm.knobs import EsmKnobs

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class Entry:
    """A record waiting in the batcher; `json` is its serialized event form (b"" when filtered out)."""

    record: KafkaRecord
    delivered: bool
    json: bytes
    arrived: float


@dataclass(frozen=True)
class Batch:
    """Records for one event plus the offsets it covers (filtered ones included), grouped by partition."""

    entries: tuple[Entry, ...]
    header: JsonObject
    payload_bytes: int
    oversized: bool = False

    @property
    def records(self) -> tuple[KafkaRecord, ...]:
        """The records the function receives, in event order."""
        return tuple(e.record for e in self.entries if e.delivered)

    @cached_property
    def partitions(self) -> tuple[TopicPartition, ...]:
        """The partitions this batch covers (in flight until released); computed once per batch."""
        return tuple(dict.fromkeys((e.record.topic, e.record.partition) for e in self.entries))

    def covered(self) -> dict[TopicPartition, tuple[int, int]]:
        """First and last offset covered per partition, filtered records included."""
        spans: dict[TopicPartition, tuple[int, int]] = {}
        for e in self.entries:
            tp = (e.record.topic, e.record.partition)
            first, _ = spans.get(tp, (e.record.offset, e.record.offset))
            spans[tp] = (first, e.record.offset)
        return spans

    def event_bytes(self) -> bytes:
        """The serialized event (exactly what is measured against 6 MB and sent to the function)."""
        return assemble_event(self.header, _grouped(e for e in self.entries if e.delivered))


def _grouped(entries: Iterable[Entry]) -> list[tuple[str, list[bytes]]]:
    groups: dict[tuple[str, int], list[bytes]] = {}  # (topic, partition) names the map key one-to-one
    for e in entries:
        groups.setdefault((e.record.topic, e.record.partition), []).append(e.json)
    return [(map_key(*tp), items) for tp, items in groups.items()]


def subset_event_bytes(
    header: JsonObject, records: Iterable[KafkaRecord], knobs: EsmKnobs, schema: SchemaFormats | None = None
) -> bytes:
    """Serialized event for a subset of a batch (retry of a remainder, a bisected half)."""
    entries = [Entry(r, True, record_json_bytes(r, knobs, schema), 0.0) for r in records]
    return assemble_event(header, _grouped(entries))


class Batcher:
    """Forms batches from per-partition queues; pure: time comes in as `now` (monotonic seconds)."""

    def __init__(
        self,
        *,
        source: EventSource,
        batch_size: int,
        window_s: float,
        knobs: EsmKnobs | None = None,
        schema: SchemaFormats | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._knobs = knobs or EsmKnobs()
        self._schema = schema
        self._header = event_header(source, self._knobs)
        self._sizer = EventSizer(source, self._knobs, schema)
        self._batch_size = batch_size
        self._window_s = window_s
        self._rng = rng or random.Random(self._knobs.random_seed)
        self._queues: dict[TopicPartition, deque[Entry]] = {}
        self._in_flight: set[TopicPartition] = set()

    def reconfigure(self, *, batch_size: int, window_s: float) -> None:
        """New BatchSize and window for batches formed from now on (UpdateEventSourceMapping)."""
        self._batch_size = batch_size
        self._window_s = window_s

    def add(self, record: KafkaRecord, *, delivered: bool, now: float) -> None:
        """Queue a record read from the log; filtered-out records come with `delivered=False`."""
        data = record_json_bytes(record, self._knobs, self._schema) if delivered else b""
        tp = (record.topic, record.partition)
        queue = self._queues.get(tp)
        if queue is None:
            queue = self._queues[tp] = deque()
        queue.append(Entry(record, delivered, data, now))

    def pending(self, tp: TopicPartition) -> int:
        """Records queued for a partition (in flight or not)."""
        return len(self._queues.get(tp, ()))

    def in_flight(self) -> frozenset[TopicPartition]:
        """Partitions whose batch has not been released yet."""
        return frozenset(self._in_flight)

    def release(self, tp: TopicPartition) -> None:
        """The partition's batch resolved (committed, skipped or abandoned): it may batch again."""
        self._in_flight.discard(tp)

    def discard(self, tp: TopicPartition) -> None:
        """Forget a partition's queue (revoked, or rewound by a seek)."""
        self._queues.pop(tp, None)
        self._in_flight.discard(tp)

    def _ready_partitions(self) -> list[TopicPartition]:
        ready = [tp for tp, q in self._queues.items() if q and tp not in self._in_flight]
        ready.sort()
        if self._knobs.partition_iteration_order == "shuffled":
            self._rng.shuffle(ready)
        return ready

    def _too_big(self, entry: Entry) -> bool:
        limit = self._knobs.max_payload_bytes
        return entry.delivered and self._sizer.alone_size(entry.record, len(entry.json)) > limit

    def next_due(self, now: float) -> float | None:
        """When the next window expires (monotonic seconds), for the poll timeout; None if nothing waits."""
        arrivals = [q[0].arrived for tp, q in self._queues.items() if q and tp not in self._in_flight]
        if not arrivals:
            return None
        return max(now, min(arrivals) + self._window_s)

    def take(self, now: float) -> Batch | None:
        """The next ready batch (its partitions become in flight), or None if nothing is due yet."""
        ready = self._ready_partitions()
        if not ready:
            return None
        for tp in ready:
            head = self._queues[tp][0]
            if self._too_big(head):
                self._queues[tp].popleft()
                self._in_flight.add(tp)
                return Batch(
                    (head,), self._header, self._sizer.alone_size(head.record, len(head.json)), oversized=True
                )
        if not self._due(ready, now):
            return None
        return self._build(ready)

    def _due(self, ready: list[TopicPartition], now: float) -> bool:
        first_arrival: float | None = None
        self._sizer.reset()
        count = 0
        for tp in ready:
            per_partition = 0
            for entry in self._queues[tp]:
                if first_arrival is None or entry.arrived < first_arrival:
                    first_arrival = entry.arrived
                if not entry.delivered:
                    continue
                if self._too_big(entry):
                    break
                cost = self._sizer.cost(entry.record, len(entry.json))
                if self._sizer.size + cost > self._knobs.max_payload_bytes:
                    return True
                self._sizer.add(entry.record, len(entry.json))
                count += 1
                per_partition += 1
                if self._full(count, per_partition):
                    return True
        return first_arrival is not None and now - first_arrival >= self._window_s

    def _full(self, count: int, per_partition: int) -> bool:
        if self._knobs.batch_size_scope == "partition":
            return per_partition >= self._batch_size
        return count >= self._batch_size

    def _build(self, ready: list[TopicPartition]) -> Batch:
        self._sizer.reset()
        taken: list[Entry] = []
        count = 0
        closed = False
        for tp in ready:
            queue = self._queues[tp]
            per_partition = 0
            while queue and not closed:
                entry = queue[0]
                if entry.delivered:
                    if self._too_big(entry) or self._full(count, per_partition):
                        break
                    cost = self._sizer.cost(entry.record, len(entry.json))
                    if self._sizer.size + cost > self._knobs.max_payload_bytes:
                        closed = True  # the event is full: close it before this record
                        break
                    self._sizer.add(entry.record, len(entry.json))
                    count += 1
                    per_partition += 1
                taken.append(queue.popleft())
            if closed or (self._knobs.batch_size_scope == "event" and count >= self._batch_size):
                break
            if self._knobs.partition_grouping == "single_partition" and taken:
                break
        for e in taken:
            self._in_flight.add((e.record.topic, e.record.partition))
        return Batch(tuple(taken), self._header, self._sizer.size)
