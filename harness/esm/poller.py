"""The ESM's side of the broker: a kafka-python consumer with manual assignment, start positions, commits.

Only the mapping's poll thread touches a `KafkaLog` (kafka-python consumers are not thread-safe).

Known deviations from AWS:
- Partitions are assigned to the ESM directly (no group rebalancing), so other members of the same consumer
  group do not share the topic with the ESM; the group is used for committed offsets only.
- Partitions added to the topic after start are not picked up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaTimeoutError
from kafka.structs import OffsetAndMetadata

from harness.esm.event_builder import KafkaRecord

_TIMESTAMP_TYPES = {0: "CREATE_TIME", 1: "LOG_APPEND_TIME"}


def to_kafka_record(message: Any) -> KafkaRecord:
    """Convert a kafka-python `ConsumerRecord` (timestamp -1 = no timestamp type)."""
    if message.timestamp is None or message.timestamp < 0:
        timestamp_type, timestamp = "NO_TIMESTAMP_TYPE", -1
    else:
        timestamp_type, timestamp = (
            _TIMESTAMP_TYPES.get(message.timestamp_type, "CREATE_TIME"),
            message.timestamp,
        )
    headers = tuple((str(name), value) for name, value in (message.headers or []))
    return KafkaRecord(
        message.topic,
        message.partition,
        message.offset,
        timestamp,
        timestamp_type,
        message.key,
        message.value,
        headers,
    )


class KafkaLog:
    """Consumer for one topic: resolve starting positions, poll records, narrow fetching, commit offsets."""

    def __init__(self, *, bootstrap_servers: str, topic: str, group_id: str, client_id: str) -> None:
        self.topic = topic
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=2000,
            # 1 MiB per partition spreads each fetch over every partition (8 MiB filled one partition's
            # backlog before the next got records): ~5% more pipeline throughput, fewer idle invocation slots.
            fetch_max_bytes=16 * 1024 * 1024,
            max_partition_fetch_bytes=1024 * 1024,
        )
        self._tps: dict[int, Any] = {}

    def partitions(self, timeout_s: float = 30.0) -> list[int]:
        """The topic's partitions (waits for metadata; raises if the topic does not exist)."""
        ids: set[int] | None = None
        try:
            ids = self._consumer.partitions_for_topic(self.topic)
        except KafkaTimeoutError:
            ids = None
        if not ids:
            raise RuntimeError(f"topic {self.topic!r} does not exist or has no partitions")
        return sorted(ids)

    def assign(self, partitions: Iterable[int]) -> None:
        """Own these partitions (manual assignment)."""
        self._tps = {p: TopicPartition(self.topic, p) for p in partitions}
        self._consumer.assign(list(self._tps.values()))

    def committed(self) -> dict[int, int | None]:
        """The group's committed offset per owned partition (None = no commit yet)."""
        return {p: self._consumer.committed(tp) for p, tp in self._tps.items()}

    def position_at(self, starting_position: str, timestamp_s: float | None) -> dict[int, int]:
        """Offsets where `TRIM_HORIZON` / `LATEST` / `AT_TIMESTAMP` start, per owned partition."""
        tps = list(self._tps.values())
        if starting_position == "TRIM_HORIZON":
            offsets = self._consumer.beginning_offsets(tps)
        elif starting_position == "LATEST":
            offsets = self._consumer.end_offsets(tps)
        else:
            assert timestamp_s is not None
            found = self._consumer.offsets_for_times({tp: int(timestamp_s * 1000) for tp in tps})
            ends = self._consumer.end_offsets(tps)
            offsets = {tp: (found[tp].offset if found.get(tp) is not None else ends[tp]) for tp in tps}
        return {tp.partition: int(offset) for tp, offset in offsets.items()}

    def end_offsets(self) -> dict[int, int]:
        """The log-end offset (next offset to be written) per owned partition, for lag."""
        ends = self._consumer.end_offsets(list(self._tps.values()))
        return {tp.partition: int(offset) for tp, offset in ends.items()}

    def fetching(self) -> set[int]:
        """Partitions currently assigned for fetching (backpressure and rebalances narrow this)."""
        return {tp.partition for tp in self._consumer.assignment()}

    def seek(self, partition: int, offset: int) -> None:
        """Read `partition` from `offset` next."""
        self._consumer.seek(self._tps[partition], offset)

    def poll(self, timeout_ms: int) -> list[KafkaRecord]:
        """Records fetched for the partitions being fetched, per partition in offset order."""
        batches = self._consumer.poll(timeout_ms=timeout_ms)
        return [to_kafka_record(m) for messages in batches.values() for m in messages]

    def fetch_only(self, partitions: Iterable[int], positions: dict[int, int]) -> None:
        """Fetch just these partitions, re-added ones from `positions` (backpressure for full partitions).

        kafka-python 3.0.12 can leave a resumed partition parked forever after `pause()` (its KAFKA-7548
        parking waits for an empty in-line slot that never comes), so backpressure narrows the assignment
        instead and seeks re-added partitions to where the ESM stopped queueing.
        """
        wanted = sorted(set(partitions))
        current = {tp.partition for tp in self._consumer.assignment()}
        self._consumer.assign([self._tps[p] for p in wanted])
        for partition in wanted:
            if partition not in current and partition in positions:
                self._consumer.seek(self._tps[partition], positions[partition])

    def commit(self, offsets: dict[int, int]) -> None:
        """Synchronously commit `offsets` (partition -> offset to read next) for the group."""
        if offsets:
            self._consumer.commit({self._tps[p]: OffsetAndMetadata(o, "", -1) for p, o in offsets.items()})

    def close(self) -> None:
        """Leave without committing anything more."""
        self._consumer.close(autocommit=False)
