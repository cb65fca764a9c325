"""The state an `EventSourceMapping` keeps, grouped by who owns it.

* `Observed`: what the mapping has done so far (attempts, commits, failure reports, scale events, stuck
  partitions); written by workers and the poll thread, read by observers, always under the mapping's lock.
* `PartitionProgress`: per-partition read and commit positions and scaling bookkeeping; owned by the poll
  thread alone, so it needs no lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from harness.esm.retry import AttemptLog, FailureReport
from harness.esm.scaling import ScaleEvent


@dataclass(frozen=True)
class CommitEvent:
    """An offset committed for the mapping's group (offset = next record to read)."""

    at: datetime
    partition: int
    offset: int


@dataclass
class Observed:
    """Everything the mapping exposes for inspection; guarded by the mapping's lock."""

    invocations: list[AttemptLog] = field(default_factory=list)
    commits: list[CommitEvent] = field(default_factory=list)
    committed: dict[int, int] = field(default_factory=dict)  # latest committed offset per partition
    reports: list[FailureReport] = field(default_factory=list)
    stuck: set[int] = field(default_factory=set)  # a blocked batch holds them
    failing: set[int] = field(default_factory=set)  # their latest attempt failed
    scale_events: list[ScaleEvent] = field(default_factory=list)


@dataclass
class PartitionProgress:
    """Per-partition positions and scaling bookkeeping of the poll thread."""

    next_offset: dict[int, int] = field(default_factory=dict)  # next offset to queue (skips re-fetched ones)
    resume: dict[int, int] = field(default_factory=dict)  # next offset to read as of the last commit
    epoch: dict[int, int] = field(
        default_factory=dict
    )  # bumped when a rebalance takes a partition from its batch
    in_flight: set[int] = field(default_factory=set)
    parked: set[int] = field(default_factory=set)  # not fetched until their pre-scale batch resolves
    unpark: set[int] = field(default_factory=set)  # parked partitions whose batch resolved

    @classmethod
    def starting_at(cls, positions: dict[int, int], partitions: list[int]) -> PartitionProgress:
        """Progress of a mapping that starts reading each partition at `positions`."""
        return cls(next_offset=dict(positions), resume=dict(positions), epoch=dict.fromkeys(partitions, 0))
