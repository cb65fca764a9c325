"""What a load run reports: the acknowledged records (the verifier's ledger), progress and the summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harness.load.payload import Header
from harness.load.rate import RateSecond


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
