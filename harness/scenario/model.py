"""The scenario model: frozen dataclasses, snake_case, built once from a validated YAML file.

The ESM and Firehose settings stay AWS-cased read-only mappings (`event_source.settings`,
`firehose.settings`): the emulators own their parsing and validate them again, so the model does not
duplicate that knowledge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from harness.load import PayloadSpec, RateProfile
from harness.resources import REFERENCE_ARCHIVER_DIR


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class TopicSpec:
    """The source topic."""

    name: str
    partitions: int = 3
    replication: int = 1


@dataclass(frozen=True)
class EventSourceSpec:
    """The event source mapping: MSK or self-managed, with its AWS-cased settings."""

    source: Literal["msk", "self_managed"] = "msk"
    settings: Mapping[str, Any] = field(
        default_factory=_empty
    )  # e.g. {"BatchSize": 100, "StartingPosition": "TRIM_HORIZON"}

    @property
    def provisioned(self) -> bool:
        """True when ProvisionedPollerConfig is set (error controls need it)."""
        return bool(self.settings.get("ProvisionedPollerConfig"))

    @property
    def on_failure_destination(self) -> str | None:
        """DestinationConfig.OnFailure.Destination, if configured."""
        config = self.settings.get("DestinationConfig") or {}
        destination = (config.get("OnFailure") or {}).get("Destination")
        return str(destination) if destination else None


@dataclass(frozen=True)
class FunctionSpec:
    """The function under test."""

    name: str = "archiver"
    runtime: str = "python3.12"
    code_dir: Path = REFERENCE_ARCHIVER_DIR
    handler: str = "handler.lambda_handler"
    environment: Mapping[str, str] = field(default_factory=_empty)
    timeout_seconds: int = 3
    memory_mb: int = 128
    aws_endpoints: str = "both"  # variables | intercept | both (harness/intercept)
    layers: tuple[Path, ...] = ()  # directories or .zip files, laid out as /opt in this order
    ephemeral_storage_mb: int = 512


@dataclass(frozen=True)
class FirehoseSpec:
    """The delivery stream: name, bucket and AWS-cased ExtendedS3DestinationConfiguration members."""

    stream_name: str = "archive"
    bucket: str = "archive"
    settings: Mapping[str, Any] = field(
        default_factory=_empty
    )  # BufferingHints, CompressionFormat, Prefix, ...


@dataclass(frozen=True)
class BackendSpec:
    """Where one real part runs: embedded, docker or external (with its endpoint)."""

    kind: Literal["embedded", "docker", "external"] = "embedded"
    endpoint: str | None = None  # S3 / Firehose URL for external
    bootstrap_servers: tuple[str, ...] = ()  # Kafka, external only
    region: str = "us-east-1"


@dataclass(frozen=True)
class BackendsSpec:
    """Backends for Kafka, S3 and Firehose."""

    kafka: BackendSpec = field(default_factory=BackendSpec)
    s3: BackendSpec = field(default_factory=BackendSpec)
    firehose: BackendSpec = field(default_factory=BackendSpec)


@dataclass(frozen=True)
class PipelineSpec:
    """What runs."""

    topic: TopicSpec
    brokers: Literal[1, 3] = 1
    event_source: EventSourceSpec = field(default_factory=EventSourceSpec)
    function: FunctionSpec = field(default_factory=FunctionSpec)
    firehose: FirehoseSpec = field(default_factory=FirehoseSpec)
    backends: BackendsSpec = field(default_factory=BackendsSpec)


@dataclass(frozen=True)
class LoadSpec:
    """The load: rate profile, stop condition, payload shape, seed."""

    profile: RateProfile
    payload: PayloadSpec
    seed: int
    duration_seconds: float | None = None
    records: int | None = None

    @property
    def send_seconds(self) -> float:
        """Clock seconds until the last record is sent."""
        if self.records is None:
            assert self.duration_seconds is not None
            return self.duration_seconds
        needed = self.profile.time_for_records(self.records)
        return needed if self.duration_seconds is None else min(needed, self.duration_seconds)

    @property
    def expected_records(self) -> int:
        """How many records the schedule sends."""
        if self.records is not None and self.duration_seconds is None:
            return self.records
        assert self.duration_seconds is not None
        count = int(-(-self.profile.count_until(self.duration_seconds) // 1))  # ceil: record 0 goes at t=0
        return count if self.records is None else min(count, self.records)


@dataclass(frozen=True)
class RecordMatch:
    """Which records a function fault hits; all given conditions must hold."""

    key: str | None = None
    partition: int | None = None
    offset: int | None = None
    value_regex: str | None = None
    json_field: str | None = None
    equals: Any = None
    has_equals: bool = False
    seq: int | None = None


@dataclass(frozen=True)
class BrokerFault:
    """Stop, kill, pause, resume, restart or rolling-restart broker(s)."""

    action: Literal["stop", "kill", "pause", "resume", "restart", "rolling_restart"]
    broker: int = 0
    down_seconds: float = 0.0


@dataclass(frozen=True)
class FunctionFault:
    """Make the function error, time out or crash on matching records (every call without `match`)."""

    action: Literal["error", "timeout", "crash"]
    match: RecordMatch | None = None
    times: int | None = None  # None = always
    message: str = "injected failure"


@dataclass(frozen=True)
class FirehoseFault:
    """Firehose API partial failures, throttling, 5xx or latency."""

    action: Literal["partial_failure", "throttling", "server_error", "latency"]
    share: float = 1.0
    latency_seconds: float = 0.0


@dataclass(frozen=True)
class S3Fault:
    """S3 writer outage, latency or access denied."""

    action: Literal["outage", "latency", "access_denied"]
    latency_seconds: float = 0.0


FaultAction = BrokerFault | FunctionFault | FirehoseFault | S3Fault


@dataclass(frozen=True)
class Fault:
    """A fault on the timeline: from `at_seconds` or after `after_records`; windows end at `until_seconds`."""

    action: FaultAction
    at_seconds: float | None = None
    after_records: int | None = None
    until_seconds: float | None = None  # None = until the run ends
    line: int = 0  # where it is written, for messages

    @property
    def target(self) -> Literal["broker", "function", "firehose", "s3"]:
        """Which part the fault hits."""
        if isinstance(self.action, BrokerFault):
            return "broker"
        if isinstance(self.action, FunctionFault):
            return "function"
        if isinstance(self.action, FirehoseFault):
            return "firehose"
        return "s3"


@dataclass(frozen=True)
class ClockSpec:
    """Start instant (None = now) and speed factor."""

    start: datetime | None = None
    speed: float = 1.0


@dataclass(frozen=True)
class CountRange:
    """An inclusive range; None means unbounded."""

    minimum: float | None = None
    maximum: float | None = None

    def contains(self, value: float) -> bool:
        """True when `value` lies in the range."""
        return (self.minimum is None or value >= self.minimum) and (
            self.maximum is None or value <= self.maximum
        )


@dataclass(frozen=True)
class Expectations:
    """What must hold after the run."""

    no_loss: bool = True
    max_duplicates_percent: float = 0.0
    order_per_partition: bool = False
    latency_percentiles: Mapping[str, float] = field(
        default_factory=_empty
    )  # "p50" | "p90" | "p99" | "max" -> seconds
    object_count: CountRange | None = None
    object_size_bytes: CountRange | None = None
    key_pattern: str | None = None
    error_prefix_empty: bool | None = None
    on_failure_records: CountRange | None = None
    on_failure_keys: tuple[str, ...] = ()
    settle_seconds: float = 600.0
    rate_held: bool | None = None  # within 1 % per 10 s; None: on at speed 1, no faults


@dataclass(frozen=True)
class VerifySpec:
    """How the archive is read back (harness/verify/formats.py): format name and optional identity."""

    archive_format: str = "auto"  # a built-in name, "auto" or "python:MODULE:FUNCTION"
    identity: str | None = None  # JMESPath into the archived JSON yielding the load's seq


@dataclass(frozen=True)
class ReplaySpec:
    """After verification: replay a selection of the archive into a fresh cluster and verify it."""

    topics: tuple[str, ...] = ()
    partitions: tuple[int, ...] = ()
    keys: tuple[str, ...] = ()
    where: str | None = None  # JMESPath over the JSON value
    since_seconds: float | None = None  # relative to the earliest archived record timestamp
    until_seconds: float | None = None
    to_topic: str = ""  # "" = "<source topic>-replay"
    preserve_partition: bool = True
    selected: CountRange | None = None  # expected number of records selected
    duplicates_removed: CountRange | None = None  # expected archive duplicates removed


@dataclass(frozen=True)
class Scenario:
    """One validated scenario file."""

    name: str
    path: Path
    pipeline: PipelineSpec
    load: LoadSpec
    description: str = ""
    seed: int = 0
    deterministic_ids: bool = False  # `ids: deterministic`: request ids, ESM UUID, object names from the seed
    clock: ClockSpec = field(default_factory=ClockSpec)
    faults: tuple[Fault, ...] = ()
    expect: Expectations = field(default_factory=Expectations)
    replay: ReplaySpec | None = None
    verify: VerifySpec = field(default_factory=VerifySpec)
    keep_archive: Path | None = None  # copy the bucket here after verification

    @property
    def run_seconds(self) -> float:
        """Clock seconds from the start to the end of the fault timeline (sending plus settling)."""
        return self.load.send_seconds + self.expect.settle_seconds
