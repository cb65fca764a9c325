"""What a load run reports: the acknowledged records (the verifier's ledger), progress and the summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from harness.load.payload import Header
from harness.load.rate import RateSecond

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def create_time_ms(produced_at: datetime) -> int:
    """Kafka CreateTime for a record produced at `produced_at`: whole epoch ms, truncated as the Java
    producer's `System.currentTimeMillis()` is (integer arithmetic: it always agrees with the ledger)."""
    return ((produced_at - _EPOCH) // _MICROSECOND) // 1000


@dataclass(frozen=True)
class ProducedRecord:
    """What the broker acknowledged, as the verifier needs it."""

    seq: int
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value_sha256: str | None  # None for a tombstone
    value_size: int
    headers: tuple[Header, ...]
    produced_at: datetime  # clock time of the send


@dataclass(frozen=True)
class LoadProgress:
    """A progress snapshot."""

    sent: int
    acked: int
    failed: int
    elapsed: float  # clock seconds since the start
    rate: float  # records/s the profile asks for now


@dataclass(frozen=True)
class LoadSummary:
    """The outcome of a run."""

    sent: int
    acked: int
    failed: int
    elapsed: float
    errors: tuple[str, ...]
    rate: tuple[RateSecond, ...] = ()  # per clock second: records asked for beside records sent
