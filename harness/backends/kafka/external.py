"""A Kafka cluster the harness does not run (e.g. a real MSK cluster): connect, check, never inject faults.

Example::

    with ExternalKafka("b-1.example:9092") as kafka, kafka.admin() as admin:
        print(admin.list_topics())
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from harness.backends.kafka.admin import TopicAdmin
from harness.backends.kafka.control import BrokerControl
from harness.lifecycle import Backend, BackendError


def parse_bootstrap_servers(value: str) -> str:
    """Validate a ``host:port[,host:port...]`` list and return it normalised (no spaces)."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ValueError("bootstrap servers are empty; expected host:port[,host:port...]")
    for item in items:
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"bad bootstrap server {item!r}; expected host:port")
    return ",".join(items)


class ExternalKafka(Backend):
    """A Kafka cluster someone else runs (e.g. a real MSK cluster); `start()` only checks it answers."""

    name = "external-kafka"

    def __init__(
        self,
        bootstrap_servers: str | None = None,
        *,
        connect_timeout: float = 10.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        source = bootstrap_servers or (os.environ if env is None else env).get("KAFKA_BOOTSTRAP_SERVERS", "")
        if not source:
            raise ValueError(
                "ExternalKafka needs bootstrap servers: pass them or set KAFKA_BOOTSTRAP_SERVERS"
            )
        self._servers = parse_bootstrap_servers(source)
        self._connect_timeout = connect_timeout

    @property
    def bootstrap_servers(self) -> str:
        """The configured bootstrap servers."""
        return self._servers

    def admin(self) -> TopicAdmin:
        """A new TopicAdmin for this cluster."""
        return TopicAdmin(self._servers)

    def broker_control(self) -> BrokerControl | None:
        """None: the harness does not run an external cluster's brokers, so it cannot fault them."""
        return None

    def _start(self) -> None:
        result: list[list[int]] = []
        errors: list[BaseException] = []

        ms = int(self._connect_timeout * 1000)

        def probe() -> None:
            try:
                admin = TopicAdmin(self._servers, request_timeout_ms=ms, bootstrap_timeout_ms=ms)
                with admin:
                    result.append(admin.live_broker_ids())
            except BaseException as exc:  # noqa: BLE001 - the start error below reports it
                errors.append(exc)

        # A daemon thread bounds the wait whatever the client library does with an unreachable address.
        worker = threading.Thread(target=probe, name="external-kafka-probe", daemon=True)
        worker.start()
        worker.join(self._connect_timeout)
        if result and result[0]:
            return
        reason = f"{errors[0]}" if errors else f"no metadata answer within {self._connect_timeout:.0f} s"
        raise BackendError(
            f"Kafka at {self._servers} is not reachable: {reason}. "
            "Check KAFKA_BOOTSTRAP_SERVERS, the network path and that the listener is plaintext."
        )

    def _stop(self) -> None:
        """Nothing to stop: the cluster is not ours."""
