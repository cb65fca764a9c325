"""The ESM's side of the broker: a librdkafka consumer with manual assignment, start positions, commits.

Only the mapping's poll thread touches a `KafkaLog` (Kafka consumers are not thread-safe). confluent-kafka
(librdkafka) fetches in its own C threads, so records flow while the harness's Python threads hold the GIL.

Known deviations from AWS:
- Partitions are assigned to the ESM directly (no group rebalancing), so other members of the same consumer
  group do not share the topic with the ESM; the group is used for committed offsets only.
- Partitions added to the topic after start are not picked up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from confluent_kafka import OFFSET_STORED, Consumer, KafkaError, KafkaException, TopicPartition

from harness.esm.event_builder import KafkaRecord

_TIMESTAMP_TYPES = {1: "CREATE_TIME", 2: "LOG_APPEND_TIME"}  # librdkafka: 0 = not available
_MAX_RECORDS_PER_POLL = 2000
_REQUEST_TIMEOUT_S = 30.0
_RETRIES = 100
_RETRY_BACKOFF_S = 0.1
_T = TypeVar("_T")
# Coordinator moves and loads, timeouts and lost connections: kafka-python retried these inside its calls.
_RETRIABLE = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._WAIT_COORD,
        KafkaError.NOT_LEADER_FOR_PARTITION,
    }
)


def to_kafka_record(message: Any) -> KafkaRecord:
    """Convert a confluent-kafka `Message` (no timestamp type -> NO_TIMESTAMP_TYPE, timestamp -1)."""
    kind, timestamp = message.timestamp()
    timestamp_type = _TIMESTAMP_TYPES.get(kind)
    if timestamp_type is None or timestamp < 0:
        timestamp_type, timestamp = "NO_TIMESTAMP_TYPE", -1
    headers = tuple((str(name), value) for name, value in (message.headers() or ()))
    return KafkaRecord(
        message.topic(),
        message.partition(),
        message.offset(),
        timestamp,
        timestamp_type,
        message.key(),
        message.value(),
        headers,
    )


class KafkaLog:
    """Consumer for one topic: resolve starting positions, poll records, narrow fetching, commit offsets."""

    def __init__(self, *, bootstrap_servers: str, topic: str, group_id: str, client_id: str) -> None:
        self.topic = topic
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": group_id,
                "client.id": client_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                # 1 MiB per partition spreads each fetch over every partition; the prefetch queue is bounded
                # so backpressure (narrowing the assignment) takes effect within a few MiB per partition.
                "fetch.max.bytes": 16 * 1024 * 1024,
                "max.partition.fetch.bytes": 1024 * 1024,
                "queued.min.messages": 20_000,
                "queued.max.messages.kbytes": 16 * 1024,
                "fetch.wait.max.ms": 100,
            }
        )
        self._assigned: set[int] = set()

    def _tp(self, partition: int, offset: int = OFFSET_STORED) -> TopicPartition:
        return TopicPartition(self.topic, partition, offset)

    def partitions(self, timeout_s: float = 30.0) -> list[int]:
        """The topic's partitions (waits for metadata; raises if the topic does not exist)."""
        try:
            metadata = self._consumer.list_topics(self.topic, timeout=timeout_s)
        except KafkaException:
            metadata = None
        topic = None if metadata is None else metadata.topics.get(self.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            raise RuntimeError(f"topic {self.topic!r} does not exist or has no partitions")
        return sorted(topic.partitions)

    def assign(self, partitions: Iterable[int]) -> None:
        """Own these partitions (manual assignment)."""
        self._assigned = set(partitions)
        self._consumer.assign([self._tp(p) for p in sorted(self._assigned)])

    def committed(self) -> dict[int, int | None]:
        """The group's committed offset per owned partition (None = no commit yet)."""
        tps = [self._tp(p) for p in sorted(self._assigned)]
        found = self._retrying(lambda: self._consumer.committed(tps, timeout=_REQUEST_TIMEOUT_S))
        return {tp.partition: (None if tp.offset < 0 else tp.offset) for tp in found}

    def position_at(self, starting_position: str, timestamp_s: float | None) -> dict[int, int]:
        """Offsets where `TRIM_HORIZON` / `LATEST` / `AT_TIMESTAMP` start, per owned partition."""
        marks = {p: self._watermarks(p) for p in sorted(self._assigned)}
        if starting_position == "TRIM_HORIZON":
            return {p: low for p, (low, _) in marks.items()}
        if starting_position == "LATEST":
            return {p: high for p, (_, high) in marks.items()}
        assert timestamp_s is not None
        wanted = [self._tp(p, int(timestamp_s * 1000)) for p in marks]
        found = self._consumer.offsets_for_times(wanted, timeout=_REQUEST_TIMEOUT_S)
        # No record at or after the timestamp: start at the end, like Kafka's ListOffsets answer (-1).
        return {tp.partition: (tp.offset if tp.offset >= 0 else marks[tp.partition][1]) for tp in found}

    def _watermarks(self, partition: int) -> tuple[int, int]:
        low, high = self._consumer.get_watermark_offsets(
            self._tp(partition), timeout=_REQUEST_TIMEOUT_S, cached=False
        )
        return int(low), int(high)

    def end_offsets(self) -> dict[int, int]:
        """The log-end offset (next offset to be written) per owned partition, for lag."""
        return {p: self._watermarks(p)[1] for p in sorted(self._assigned)}

    def fetching(self) -> set[int]:
        """Partitions currently assigned for fetching (backpressure and rebalances narrow this)."""
        return {tp.partition for tp in self._consumer.assignment()}

    def seek(self, partition: int, offset: int) -> None:
        """Read `partition` from `offset` next (prefetched records of it are dropped)."""
        if partition not in self.fetching():
            raise ValueError(f"partition {partition} is not being fetched")
        # Re-assigning one partition at an offset is librdkafka's reliable seek: it works before the first
        # fetch too, and its version barrier discards whatever was already queued for the partition.
        self._consumer.incremental_unassign([self._tp(partition)])
        self._consumer.incremental_assign([self._tp(partition, offset)])

    def poll(self, timeout_ms: int) -> list[KafkaRecord]:
        """Records fetched for the partitions being fetched, per partition in offset order."""
        messages = self._consumer.consume(_MAX_RECORDS_PER_POLL, timeout_ms / 1000)
        records = []
        for message in messages:
            error = message.error()
            if error is None:
                records.append(to_kafka_record(message))
            elif error.fatal() or error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise KafkaException(error)
            # Anything else (a broker going away, a retriable fetch error) librdkafka retries by itself.
        return records

    def fetch_only(self, partitions: Iterable[int], positions: dict[int, int]) -> None:
        """Fetch just these partitions, re-added ones from `positions` (backpressure for full partitions).

        Narrowing the assignment (rather than pause/resume) drops what was prefetched for a held-back
        partition, so memory stays bounded, and re-added partitions start exactly where the ESM stopped
        queueing (else at the group's committed offset).
        """
        wanted = set(partitions)
        current = self.fetching()
        removed = sorted(current - wanted)
        added = sorted(wanted - current)
        if removed:
            self._consumer.incremental_unassign([self._tp(p) for p in removed])
        if added:
            self._consumer.incremental_assign([self._tp(p, positions.get(p, OFFSET_STORED)) for p in added])

    def commit(self, offsets: dict[int, int]) -> None:
        """Synchronously commit `offsets` (partition -> offset to read next) for the group."""
        if offsets:
            tps = [self._tp(p, o) for p, o in sorted(offsets.items())]
            done = self._retrying(lambda: self._consumer.commit(offsets=tps, asynchronous=False))
            for tp in done or ():
                if tp.error is not None:
                    raise KafkaException(tp.error)

    def _retrying(self, call: Callable[[], _T]) -> _T:
        """`call()`, again while the broker answers with a retriable error (e.g. the group coordinator is
        still loading on a fresh broker) — kafka-python retried these itself, librdkafka leaves them to us."""
        attempts = 0
        while True:
            try:
                return call()
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                attempts += 1
                retriable = isinstance(error, KafkaError) and (
                    error.retriable() or error.code() in _RETRIABLE
                )
                if not retriable or attempts >= _RETRIES:
                    raise
                # Real time: a broker recovers on the wall clock, not on the scenario's.
                time.sleep(_RETRY_BACKOFF_S)

    def close(self) -> None:
        """Leave without committing anything more."""
        self._consumer.close()
