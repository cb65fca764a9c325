"""ExternalKafka: connects to a cluster it does not own, and fails fast and clearly when there is none."""

from __future__ import annotations

import pytest

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.kafka.external import ExternalKafka
from harness.lifecycle import BackendError
from harness.processes import free_port


@pytest.mark.timeout(60)
def test_an_unreachable_cluster_fails_with_the_servers_named() -> None:
    servers = f"127.0.0.1:{free_port()}"  # nothing listens here
    backend = ExternalKafka(servers, connect_timeout=3.0)
    with pytest.raises(BackendError, match=rf"Kafka at {servers} is not reachable"):
        backend.start()
    assert not backend.running


def test_an_external_cluster_from_the_env_answers_and_offers_no_broker_control(
    kafka: EmbeddedKafka,
) -> None:
    with ExternalKafka(env={"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers}) as external:
        assert external.bootstrap_servers == kafka.bootstrap_servers
        with external.admin() as admin:
            assert admin.live_broker_ids() == [1]
        assert external.broker_control() is None
    assert kafka.broker_control() is kafka


def test_external_kafka_needs_servers() -> None:
    with pytest.raises(ValueError, match="needs bootstrap servers"):
        ExternalKafka(env={})
    with pytest.raises(ValueError, match="bad bootstrap server"):
        ExternalKafka("localhost")
