"""Shared integration fixtures: embedded Kafka clusters shared by the session (1 broker; 3 on demand).

Tests that need a topic create their own with a unique name (`unique_topic`) so they can share a cluster.
Tests that break brokers (kill, pause, restart) start their own cluster instead of using these.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from harness.backends.kafka.embedded import EmbeddedKafka


@pytest.fixture(scope="session")
def kafka() -> Iterator[EmbeddedKafka]:
    """A running 1-broker embedded Kafka (RF 1), shared by the whole session."""
    with EmbeddedKafka(brokers=1) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def kafka3() -> Iterator[EmbeddedKafka]:
    """A running 3-broker embedded Kafka (RF 3, min.insync.replicas 2), shared by the whole session."""
    with EmbeddedKafka(brokers=3) as cluster:
        yield cluster


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Returns a function making topic names unique to this test (valid Kafka topic characters only)."""
    counter = itertools.count()
    base = "".join(c if c.isalnum() or c in "._-" else "-" for c in request.node.name)[:150]

    def make(suffix: str = "t") -> str:
        return f"{base}.{suffix}.{next(counter)}"

    return make
