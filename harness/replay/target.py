"""The target cluster side of a replay: prepare the topic, produce in order, read back the new range.

Producing uses kafka-python with `acks=all`, idempotence and one request in flight per connection, so the
records of each target partition land in send order without gaps or retry duplicates. Key, value, headers
and timestamp are sent as archived; `preserve_partition` pins each record to its source partition number.

Known limits (kafka-python's producer, not Kafka): a header with a null value cannot be sent (`send` accepts
only bytes header values), so such records are withheld and reported as unreplayable; a record with a null
key *and* a null value is sent through a key serializer that maps a sentinel to null, since `send` refuses
both arguments being None.

Example::

    with TargetTopic("127.0.0.1:9092", "orders-replay", preserve_partition=True) as target:
        before = target.prepare(source_partitions=3, largest_record=1024)
        placements = target.produce(records)
        consumed = target.read_range(before, target.end_offsets())
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.serializer import Serializer

from harness.backends.kafka.admin import TopicAdmin, TopicAdminError
from harness.closing import Closing

DEFAULT_MESSAGE_MAX_BYTES = 1_048_588  # Kafka's default max.message.bytes
_SIZE_ROOM = 64 * 1024  # record batch and request overhead above the largest record
ProduceProgress = Callable[[int, int], None]  # (sent, total)


class TargetError(Exception):
    """The target cannot take the replay (too few partitions, unreachable, a send failed)."""

    def __init__(self, message: str, *, bad_input: bool = False) -> None:
        super().__init__(message)
        self.bad_input = bad_input  # the target was unusable from the start (nothing was produced)


@dataclass(frozen=True)
class ConsumedRecord:
    """A record read back from the target."""

    partition: int
    offset: int
    timestamp: int
    timestamp_type: int  # 0 CreateTime, 1 LogAppendTime
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


class _NullKey:
    """Stands for a null key when the value is null too (see the module docstring)."""


NULL_KEY = _NullKey()


class _KeySerializer(Serializer):  # type: ignore[misc]  # kafka-python has no type hints
    """Bytes pass through; NULL_KEY becomes a null key."""

    def serialize(self, topic: str, headers: Any, data: Any) -> bytes | None:
        """kafka-python's Serializer interface."""
        return None if data is None or data is NULL_KEY else bytes(data)


def unreplayable_reason(record: Any) -> str | None:
    """Why kafka-python cannot send `record` as archived, or None."""
    if any(value is None for _, value in record.headers):
        return "a header with a null value (kafka-python's producer accepts only bytes header values)"
    return None


def record_size(record: Any) -> int:
    """Approximate serialized bytes of a record's key, value and headers."""
    size = len(record.key or b"") + len(record.value or b"")
    return size + sum(len(name.encode()) + len(value or b"") for name, value in record.headers)


class TargetTopic(Closing):
    """One topic on the target cluster, with a producer and a consumer made on demand."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        preserve_partition: bool = False,
        request_timeout_ms: int = 30_000,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.preserve_partition = preserve_partition
        self._timeout_ms = request_timeout_ms
        self._producer: KafkaProducer | None = None
        self._max_request = DEFAULT_MESSAGE_MAX_BYTES
        self.partitions = 0
        self.created = False

    def close(self) -> None:
        """Close the producer (pending sends are abandoned after a short grace)."""
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None

    def prepare(self, *, source_partitions: int, largest_record: int) -> dict[int, int]:
        """Create the topic when missing (`source_partitions` partitions); return its end offsets now."""
        self._max_request = max(DEFAULT_MESSAGE_MAX_BYTES, largest_record + _SIZE_ROOM)
        try:
            with TopicAdmin(self.bootstrap_servers, request_timeout_ms=self._timeout_ms) as admin:
                if self.topic in admin.list_topics():
                    self.partitions = len(admin.describe_topic(self.topic).partitions)
                else:
                    # Replayed history keeps its original timestamps: under time-based retention (7 days by
                    # default) the broker would delete it minutes after it arrived. Keep it until deleted.
                    configs = {"retention.ms": "-1"}
                    if self._max_request > DEFAULT_MESSAGE_MAX_BYTES:
                        configs["max.message.bytes"] = str(self._max_request)
                    admin.create_topic(self.topic, partitions=max(1, source_partitions), configs=configs)
                    self.partitions = max(1, source_partitions)
                    self.created = True
        except TopicAdminError as exc:
            raise TargetError(str(exc), bad_input=True) from exc
        if self.preserve_partition and self.partitions < source_partitions:
            raise TargetError(
                f"--preserve-partition needs {source_partitions} partitions but topic {self.topic!r} on "
                f"{self.bootstrap_servers} has {self.partitions}",
                bad_input=True,
            )
        return self.end_offsets()

    def end_offsets(self) -> dict[int, int]:
        """The log end offset of every partition of the topic."""
        consumer = self._consumer()
        try:
            parts = [TopicPartition(self.topic, p) for p in range(self.partitions)]
            ends = consumer.end_offsets(parts)
        finally:
            consumer.close()
        return {tp.partition: int(offset) for tp, offset in ends.items()}

    def produce(
        self, records: Sequence[Any], on_progress: ProduceProgress | None = None
    ) -> list[tuple[int, int]]:
        """Send `records` in order; returns each one's (partition, offset) in the target."""
        producer = self._make_producer()
        futures = []
        total = len(records)
        for sent, record in enumerate(records, start=1):
            key = NULL_KEY if record.key is None and record.value is None else record.key
            futures.append(
                producer.send(
                    self.topic,
                    value=record.value,
                    key=key,
                    headers=[(name, value) for name, value in record.headers],
                    partition=record.partition if self.preserve_partition else None,
                    timestamp_ms=record.timestamp if record.timestamp >= 0 else None,
                )
            )
            if on_progress is not None and (sent % 500 == 0 or sent == total):
                on_progress(sent, total)
        producer.flush(timeout=self._timeout_ms / 1000)
        placements = []
        for record, future in zip(records, futures, strict=True):
            try:
                metadata = future.get(timeout=self._timeout_ms / 1000)
            except Exception as exc:  # KafkaError subclasses, timeouts
                name = f"{record.topic}-{record.partition}@{record.offset}"
                raise TargetError(f"sending {name} failed: {type(exc).__name__}: {exc}") from exc
            placements.append((int(metadata.partition), int(metadata.offset)))
        return placements

    def read_range(self, start: dict[int, int], end: dict[int, int]) -> dict[tuple[int, int], ConsumedRecord]:
        """Every record in [start, end) of each partition, keyed by (partition, offset)."""
        wanted = {p: (start.get(p, 0), stop) for p, stop in end.items() if stop > start.get(p, 0)}
        found: dict[tuple[int, int], ConsumedRecord] = {}
        if not wanted:
            return found
        consumer = self._consumer()
        try:
            parts = {p: TopicPartition(self.topic, p) for p in wanted}
            consumer.assign(list(parts.values()))
            for p, (first, _) in wanted.items():
                consumer.seek(parts[p], first)
            remaining = set(wanted)
            idle_polls = 0
            while remaining:
                batches = consumer.poll(timeout_ms=1000, max_records=5000)
                idle_polls = 0 if batches else idle_polls + 1
                if idle_polls > self._timeout_ms // 1000:
                    raise TargetError(
                        f"reading back {self.topic} stalled; still waiting for {sorted(remaining)}"
                    )
                for tp, messages in batches.items():
                    for m in messages:
                        if m.offset < wanted[tp.partition][1]:
                            found[(tp.partition, m.offset)] = _consumed(m)
                    if consumer.position(tp) >= wanted[tp.partition][1]:
                        remaining.discard(tp.partition)
        finally:
            consumer.close()
        return found

    def _consumer(self) -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            group_id=None,
            isolation_level="read_uncommitted",
            request_timeout_ms=max(self._timeout_ms, 31_000),
            fetch_max_bytes=max(52_428_800, self._max_request),
            max_partition_fetch_bytes=max(1_048_576, self._max_request),
            client_id="msk-harness-replay-verify",
        )

    def _make_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                max_in_flight_requests_per_connection=1,
                linger_ms=5,
                batch_size=256 * 1024,
                max_request_size=self._max_request,
                request_timeout_ms=self._timeout_ms,
                key_serializer=_KeySerializer(),
                client_id="msk-harness-replay",
            )
        return self._producer


def _consumed(message: Any) -> ConsumedRecord:
    return ConsumedRecord(
        partition=int(message.partition),
        offset=int(message.offset),
        timestamp=int(message.timestamp),
        timestamp_type=int(message.timestamp_type),
        key=message.key,
        value=message.value,
        headers=tuple((name, value) for name, value in message.headers or ()),
    )


def source_partition_count(records: Iterable[Any]) -> int:
    """One more than the highest source partition number (0 without records)."""
    return max((record.partition for record in records), default=-1) + 1
