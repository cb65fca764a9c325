"""Redpanda in Docker (testcontainers) as the Kafka backend, for laptops with Docker.

Known deviations from AWS:

* Redpanda speaks the Kafka protocol but is not Apache Kafka: group coordination and some admin APIs differ in
  detail from MSK. Use the embedded broker when fidelity matters.
* One node only; no broker faults.

Example::

    require_docker()
    with RedpandaKafka().start() as kafka:
        kafka.admin().create_topic("orders", partitions=3)
"""

from __future__ import annotations

import contextlib
from typing import Any

from harness.backends.docker import container_logs, require_docker
from harness.backends.kafka.admin import TopicAdmin
from harness.backends.kafka.control import BrokerControl
from harness.lifecycle import Backend, BackendError, BackendStartError

DEFAULT_REDPANDA_IMAGE = "docker.redpanda.com/redpandadata/redpanda:v23.1.13"


class RedpandaKafka(Backend):
    """A one-node Redpanda container (Kafka API) via testcontainers; satisfies the KafkaCluster protocol."""

    name = "redpanda"

    def __init__(self, *, image: str = DEFAULT_REDPANDA_IMAGE, start_timeout: float = 60.0) -> None:
        super().__init__()
        self.image = image
        self.start_timeout = start_timeout
        self._container: Any = None
        self._bootstrap: str | None = None

    @property
    def bootstrap_servers(self) -> str:
        """host:port of the container's Kafka listener as seen from this machine."""
        if self._bootstrap is None:
            raise BackendError("RedpandaKafka is not running")
        return self._bootstrap

    def admin(self) -> TopicAdmin:
        """A TopicAdmin on this cluster (close it when done)."""
        return TopicAdmin(self.bootstrap_servers)

    def broker_control(self) -> BrokerControl | None:
        """None: the container's broker is not faulted by the harness."""
        return None

    def _start(self) -> None:
        require_docker()
        from testcontainers.community.kafka import RedpandaContainer  # noqa: PLC0415 - optional [docker] extra

        self._container = RedpandaContainer(image=self.image)
        try:
            self._container.start(timeout=self.start_timeout)
        except Exception as exc:
            raise BackendStartError(
                f"Redpanda container {self.image}", str(exc), container_logs(self._container)
            ) from exc
        self._bootstrap = str(self._container.get_bootstrap_server())

    def _stop(self) -> None:
        container, self._container, self._bootstrap = self._container, None, None
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop()
