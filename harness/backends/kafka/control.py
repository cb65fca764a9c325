"""What the harness asks of a Kafka backend: `KafkaCluster` (connect, admin), `BrokerControl` (faults).

Only a cluster the harness runs itself (`EmbeddedKafka`) can stop, kill or pause its brokers; the others
answer `broker_control()` with None, so callers ask once instead of checking the backend's class.

Example::

    control = kafka.broker_control()
    if control is not None:
        control.kill_broker(control.broker_ids[0])
"""

from __future__ import annotations

from typing import Protocol

from harness.backends.kafka.admin import TopicAdmin


class BrokerControl(Protocol):
    """Broker fault hooks of a cluster the harness runs (stop, kill, pause, resume, start one broker)."""

    @property
    def broker_ids(self) -> list[int]:
        """Node ids (1..n)."""
        ...

    def stop_broker(self, broker_id: int, timeout: float = ...) -> None:
        """Graceful stop."""
        ...

    def kill_broker(self, broker_id: int) -> None:
        """SIGKILL."""
        ...

    def pause_broker(self, broker_id: int) -> None:
        """SIGSTOP."""
        ...

    def resume_broker(self, broker_id: int) -> None:
        """SIGCONT."""
        ...

    def start_broker(self, broker_id: int, timeout: float | None = None) -> None:
        """Start a stopped broker."""
        ...

    def wait_healthy(self, timeout: float = ...) -> None:
        """Every broker up, nothing under-replicated."""
        ...


class KafkaCluster(Protocol):
    """What every Kafka backend offers: where to connect, a topic admin, broker control when it has one."""

    @property
    def bootstrap_servers(self) -> str:
        """Comma-separated host:port list for clients."""
        ...

    def admin(self) -> TopicAdmin:
        """A new TopicAdmin connected to this cluster (close it, or use it as a context manager)."""
        ...

    def broker_control(self) -> BrokerControl | None:
        """The broker fault hooks, or None when the harness does not run the brokers (external, Docker)."""
        ...
