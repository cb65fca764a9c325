"""Topic administration and cluster health over kafka-python's `KafkaAdminClient`.

Works against any Kafka-API cluster (embedded Apache Kafka, Redpanda, a real MSK cluster).

Example::

    with TopicAdmin("127.0.0.1:9092") as admin:
        admin.create_topic("orders", partitions=3)
        print(admin.describe_topic("orders").partitions[0].leader)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kafka.errors
from kafka import KafkaAdminClient

from harness.closing import Closing
from harness.lifecycle import BackendError


class TopicAdminError(BackendError):
    """A topic operation failed; the message names the topic and the broker's reason."""


class TopicExistsError(TopicAdminError):
    """The topic to create exists already."""


class UnknownTopicError(TopicAdminError):
    """The topic does not exist."""


@dataclass(frozen=True)
class PartitionDescription:
    """One partition: its leader (-1 when none), replicas and in-sync replicas (broker ids)."""

    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def under_replicated(self) -> bool:
        """True when some replica has fallen out of the in-sync set."""
        return len(self.isr) < len(self.replicas)


@dataclass(frozen=True)
class TopicDescription:
    """A topic and its partitions, ordered by partition number."""

    name: str
    partitions: tuple[PartitionDescription, ...]
    internal: bool = False


def _partition(raw: Mapping[str, Any]) -> PartitionDescription:
    return PartitionDescription(
        partition=int(raw["partition_index"]),
        leader=int(raw["leader_id"]),
        replicas=tuple(int(b) for b in raw["replica_nodes"]),
        isr=tuple(int(b) for b in raw["isr_nodes"]),
    )


def _topic(raw: Mapping[str, Any]) -> TopicDescription:
    parts = sorted((_partition(p) for p in raw["partitions"]), key=lambda p: p.partition)
    return TopicDescription(name=str(raw["name"]), partitions=tuple(parts), internal=bool(raw["is_internal"]))


class TopicAdmin(Closing):
    """Create, describe, list and delete topics; also answers cluster-health questions."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        request_timeout_ms: int = 15_000,
        bootstrap_timeout_ms: int | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._request_timeout_ms = request_timeout_ms
        try:
            self._client = KafkaAdminClient(
                bootstrap_servers=bootstrap_servers,
                request_timeout_ms=request_timeout_ms,
                bootstrap_timeout_ms=bootstrap_timeout_ms or request_timeout_ms,
                client_id="msk-harness-admin",
            )
        except kafka.errors.KafkaError as exc:
            raise TopicAdminError(f"cannot reach Kafka at {bootstrap_servers}: {exc}") from exc

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int | None = None,
        configs: Mapping[str, str] | None = None,
        *,
        wait: bool = True,
        timeout: float = 30.0,
    ) -> TopicDescription | None:
        """Create a topic (RF None = cluster default); `wait` returns once every partition has a leader."""
        if partitions < 1:
            raise ValueError(f"a topic needs at least one partition, got {partitions}")
        spec: dict[str, Any] = {
            "num_partitions": partitions,
            "replication_factor": -1 if replication_factor is None else replication_factor,
            "configs": dict(configs or {}),
        }
        try:
            self._client.create_topics({name: spec}, timeout_ms=self._request_timeout_ms)
        except kafka.errors.TopicAlreadyExistsError as exc:
            raise TopicExistsError(f"topic {name!r} already exists on {self.bootstrap_servers}") from exc
        except kafka.errors.KafkaError as exc:
            raise TopicAdminError(f"cannot create topic {name!r} on {self.bootstrap_servers}: {exc}") from exc
        if not wait:
            return None
        return self.wait_for_leaders(name, partitions, timeout=timeout)

    def wait_for_leaders(self, name: str, partitions: int, *, timeout: float = 30.0) -> TopicDescription:
        """Poll metadata until `name` shows `partitions` partitions, each with a leader."""
        deadline = time.monotonic() + timeout  # real time: waits for a real cluster
        last: TopicDescription | str = "no metadata yet"
        while True:
            try:
                described = self.describe_topic(name)
            except UnknownTopicError:
                described = None
            if described is not None:
                last = described
                if len(described.partitions) == partitions and all(
                    p.leader >= 0 for p in described.partitions
                ):
                    return described
            if time.monotonic() >= deadline:
                raise TopicAdminError(
                    f"topic {name!r} has no leader for every partition after {timeout:.0f} s: {last}"
                )
            time.sleep(0.1)

    def describe_topic(self, name: str) -> TopicDescription:
        """Partitions, leaders, replicas and ISR of one topic."""
        try:
            raw = self._client.describe_topics([name])
        except kafka.errors.KafkaError as exc:
            raise TopicAdminError(f"cannot describe topic {name!r}: {exc}") from exc
        entry = raw[0]
        error = kafka.errors.for_code(int(entry["error_code"]))
        if error is kafka.errors.UnknownTopicOrPartitionError:
            raise UnknownTopicError(f"topic {name!r} does not exist on {self.bootstrap_servers}")
        if error is not kafka.errors.NoError:
            raise TopicAdminError(f"cannot describe topic {name!r}: {error.__name__}")
        return _topic(entry)

    def describe_all(self) -> list[TopicDescription]:
        """Every topic, internal ones (e.g. __consumer_offsets) included."""
        try:
            raw = self._client.describe_topics(None)
        except kafka.errors.KafkaError as exc:
            raise TopicAdminError(f"cannot describe topics: {exc}") from exc
        return [_topic(t) for t in raw if int(t["error_code"]) == 0]

    def delete_topic(self, name: str) -> None:
        """Delete a topic."""
        try:
            self._client.delete_topics([name], timeout_ms=self._request_timeout_ms)
        except kafka.errors.UnknownTopicOrPartitionError as exc:
            raise UnknownTopicError(f"topic {name!r} does not exist on {self.bootstrap_servers}") from exc
        except kafka.errors.KafkaError as exc:
            raise TopicAdminError(f"cannot delete topic {name!r}: {exc}") from exc

    def list_topics(self) -> list[str]:
        """Names of all topics (sorted)."""
        try:
            return sorted(self._client.list_topics())
        except kafka.errors.KafkaError as exc:
            raise TopicAdminError(f"cannot list topics on {self.bootstrap_servers}: {exc}") from exc

    def live_broker_ids(self) -> list[int]:
        """Ids of the registered, unfenced brokers."""
        cluster = self._client.describe_cluster()
        return sorted(int(b["broker_id"]) for b in cluster["brokers"] if not b.get("is_fenced", False))

    def under_replicated_partitions(self) -> int:
        """How many partitions (all topics) have fewer in-sync replicas than replicas."""
        return sum(p.under_replicated for t in self.describe_all() for p in t.partitions)

    def close(self) -> None:
        """Close the connections."""
        self._client.close()


class MetadataProbe:
    """One admin connection reused across readiness polls (reconnecting only when it failed)."""

    def __init__(self, servers: str) -> None:
        self._servers = servers
        self._admin: TopicAdmin | None = None

    def live_brokers(self) -> list[int]:
        """Unfenced broker ids, or [] while the cluster does not answer."""
        try:
            return self._connected().live_broker_ids()
        except Exception:  # noqa: BLE001 - any failure means "not ready yet"; the caller's timeout reports it
            self.close()
            return []

    def under_replicated(self) -> int:
        """Under-replicated partitions, or -1 while the cluster does not answer."""
        try:
            return self._connected().under_replicated_partitions()
        except Exception:  # noqa: BLE001 - as above: "not ready yet"
            self.close()
            return -1

    def _connected(self) -> TopicAdmin:
        if self._admin is None:
            self._admin = TopicAdmin(self._servers, request_timeout_ms=3000, bootstrap_timeout_ms=2000)
        return self._admin

    def close(self) -> None:
        """Close the connection (the next poll reconnects)."""
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
