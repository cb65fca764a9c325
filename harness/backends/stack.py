"""The default stack: Kafka + S3 (+ the Firehose emulator pointed at that S3), started together.

Kafka (a JVM, the long pole) starts in the calling thread while S3 and then Firehose start in a helper thread;
parts stop in reverse order, and a failed start stops whatever did come up before the error propagates.
Kafka is started from the calling thread on purpose: `spawn_child` ties the broker's life to the thread that
forked it, so a short-lived helper thread must never start the JVM.

Example::

    with Stack(StackConfig(brokers=1)).start() as stack:
        env = stack.env()      # KAFKA_BOOTSTRAP_SERVERS, AWS_ENDPOINT_URL_S3, ... for a Lambda or an SDK
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal, get_args

from harness.backends.docker import LocalStackS3
from harness.backends.firehose import FirehoseBackend
from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.kafka.external import ExternalKafka
from harness.backends.kafka.redpanda import RedpandaKafka
from harness.backends.s3 import DEFAULT_REGION, ExternalS3, MotoServer, S3Backend
from harness.clock import Clock, SystemClock
from harness.lifecycle import Backend, BackendError

KafkaKind = Literal["embedded", "docker", "external"]
S3Kind = Literal["embedded", "docker", "external"]
KAFKA_KINDS: tuple[str, ...] = get_args(KafkaKind)
S3_KINDS: tuple[str, ...] = get_args(S3Kind)
MAX_EMBEDDED_BROKERS = 5
KafkaBackend = EmbeddedKafka | ExternalKafka | RedpandaKafka  # each satisfies kafka.control.KafkaCluster


@dataclass(frozen=True)
class StackConfig:
    """What to run: Kafka and S3 backend kinds, broker count, external endpoints, whether to run Firehose."""

    brokers: int = 1
    kafka: KafkaKind = "embedded"
    s3: S3Kind = "embedded"
    bootstrap_servers: str | None = None
    s3_endpoint_url: str | None = None
    region: str = DEFAULT_REGION
    firehose: bool = True
    firehose_seed: int | None = None  # None: request ids and object names unique per run (AWS makes them so)

    def __post_init__(self) -> None:
        if self.kafka not in KAFKA_KINDS:
            raise ValueError(f"kafka backend must be one of {', '.join(KAFKA_KINDS)}, got {self.kafka!r}")
        if self.s3 not in S3_KINDS:
            raise ValueError(f"s3 backend must be one of {', '.join(S3_KINDS)}, got {self.s3!r}")
        if not 1 <= self.brokers <= MAX_EMBEDDED_BROKERS:
            raise ValueError(f"brokers must be between 1 and {MAX_EMBEDDED_BROKERS}, got {self.brokers}")
        if self.kafka == "external" and not self.bootstrap_servers:
            raise ValueError("the external Kafka backend needs bootstrap servers (--bootstrap-servers)")
        if self.kafka != "external" and self.bootstrap_servers:
            raise ValueError(
                "bootstrap servers are only used with the external Kafka backend (--kafka external)"
            )
        if self.kafka == "docker" and self.brokers != 1:
            raise ValueError("the Docker Kafka backend (Redpanda) runs one broker; use --brokers 1")
        if self.s3 != "external" and self.s3_endpoint_url:
            raise ValueError("an S3 endpoint URL is only used with the external S3 backend (--s3 external)")


@dataclass
class PartTiming:
    """How long one part took to become ready, in seconds of the stack's clock."""

    name: str
    seconds: float


@dataclass
class _Started:
    # The parts that came up, in start order, so stop() can undo exactly those.
    parts: list[tuple[str, Backend]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, part: Backend) -> None:
        with self.lock:
            self.parts.append((name, part))


def make_kafka(config: StackConfig) -> KafkaBackend:
    """The Kafka backend the config names (not started)."""
    if config.kafka == "embedded":
        return EmbeddedKafka(brokers=config.brokers)
    if config.kafka == "external":
        assert config.bootstrap_servers is not None  # checked by StackConfig
        return ExternalKafka(config.bootstrap_servers)
    return RedpandaKafka()


def make_s3(config: StackConfig) -> S3Backend:
    """The S3 backend the config names (not started)."""
    if config.s3 == "embedded":
        return MotoServer(region=config.region)
    if config.s3 == "external":
        return ExternalS3(config.s3_endpoint_url, region=config.region)
    return LocalStackS3.from_env(region=config.region)


def make_firehose(config: StackConfig, s3: S3Backend, clock: Clock | None = None) -> FirehoseBackend | None:
    """The in-process Firehose emulator writing to `s3` (not started), or None when switched off."""
    if not config.firehose:
        return None
    return FirehoseBackend(s3.endpoint_url, region=config.region, clock=clock, rng_seed=config.firehose_seed)


class Stack(Backend):
    """Kafka + S3 (+ Firehose) as one backend: `start()`, `env()`, `stop()`.

    `clock` drives the Firehose emulator (buffer intervals, key hours) and times the start of each part.
    """

    name = "stack"

    def __init__(self, config: StackConfig | None = None, *, clock: Clock | None = None) -> None:
        super().__init__()
        self.config = config or StackConfig()
        self.clock: Clock = clock or SystemClock()
        self.timings: list[PartTiming] = []
        self._up = _Started()
        self._kafka: KafkaBackend | None = None
        self._s3: S3Backend | None = None
        self._firehose: FirehoseBackend | None = None

    @property
    def kafka(self) -> KafkaBackend:
        """The running Kafka cluster."""
        if self._kafka is None:
            raise BackendError("the stack is not running")
        return self._kafka

    @property
    def s3(self) -> S3Backend:
        """The running S3 endpoint."""
        if self._s3 is None:
            raise BackendError("the stack is not running")
        return self._s3

    @property
    def firehose(self) -> FirehoseBackend | None:
        """The running Firehose emulator, or None when the stack runs without one."""
        return self._firehose

    @property
    def firehose_endpoint_url(self) -> str | None:
        """The Firehose emulator's endpoint, or None."""
        return None if self._firehose is None else self._firehose.endpoint_url

    def env(self) -> dict[str, str]:
        """The environment a Lambda or SDK needs to reach this stack (endpoints, region, credentials)."""
        out = {"KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers}
        out.update(self.s3.env())
        out.setdefault("AWS_REGION", self.config.region)
        out.setdefault("AWS_DEFAULT_REGION", self.config.region)
        if self.firehose_endpoint_url:
            out["AWS_ENDPOINT_URL_FIREHOSE"] = self.firehose_endpoint_url
        return out

    def _timed_start(self, name: str, part: Backend) -> None:
        began = self.clock.monotonic()
        part.start()
        self._up.add(name, part)
        self.timings.append(PartTiming(name, self.clock.monotonic() - began))

    def _start_storage(self, errors: list[BaseException]) -> None:
        # Helper thread: S3, then Firehose pointed at it, while the caller's thread starts Kafka.
        try:
            self._s3 = make_s3(self.config)
            self._timed_start("s3", self._s3)
            self._firehose = make_firehose(self.config, self._s3, self.clock)
            if self._firehose is not None:
                self._timed_start("firehose", self._firehose)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which re-raises it
            errors.append(exc)

    def _start(self) -> None:
        self.timings = []
        self._up = _Started()
        began = self.clock.monotonic()
        errors: list[BaseException] = []
        storage = threading.Thread(target=self._start_storage, args=(errors,), name="stack-storage-start")
        storage.start()
        try:
            self._kafka = make_kafka(self.config)
            self._timed_start("kafka", self._kafka)
        finally:
            storage.join()
        if errors:
            raise errors[0]
        self.timings.append(PartTiming("total", self.clock.monotonic() - began))

    def _stop(self) -> None:
        with self._up.lock:
            parts = list(reversed(self._up.parts))
            self._up.parts.clear()
        first_error: Exception | None = None
        for _name, part in parts:
            try:
                part.stop()
            except Exception as exc:  # noqa: BLE001 - keep stopping the rest; report the first failure
                first_error = first_error or exc
        self._kafka = self._s3 = self._firehose = None
        if first_error is not None:
            raise first_error

    def __repr__(self) -> str:
        return f"Stack({self.config!r}, running={self.running})"
