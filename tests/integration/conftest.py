"""Shared integration fixtures: embedded Kafka clusters (1 broker; 3 on demand) shared by the session, and a
moto server shared by each test module.

Tests that need a topic create their own with a unique name (`unique_topic`), and tests that need a bucket
their own empty one (`fresh_bucket`), so they can share the servers and stay independent. Tests that break
brokers (kill, pause, restart) or inject S3 faults into a server start their own instead of using these.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.s3 import MotoServer


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


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    """A real moto server (S3, SQS, SNS) on 127.0.0.1, shared by one test module.

    Module scope, not session: moto keeps its state per process, and it is reset when the last server of the
    process stops; a server alive for the whole session would leak its state into the modules that prove each
    new server starts empty (test_s3_moto_isolation).
    """
    with MotoServer() as server:
        yield server


@pytest.fixture
def fresh_bucket(moto_server: MotoServer, request: pytest.FixtureRequest) -> str:
    """A new, empty S3 bucket on the shared moto server, named after this test."""
    stem = "".join(c if c.isalnum() else "-" for c in request.node.name.lower()).strip("-")
    name = f"t-{stem[:40].strip('-')}-{next(_bucket_numbers)}"
    moto_server.create_bucket(name)
    return name


_bucket_numbers = itertools.count()
