"""Poller model (§6): how many pollers an ESM runs, which partitions each owns, and the concurrency bound.

The model is static (`simulate_autoscaling` is not implemented): on-demand mode starts
`on_demand_initial_pollers` pollers, provisioned mode `MinimumPollers`; both are capped at the partition
count, and so is `MaximumPollers`.
Partitions are dealt to pollers round-robin in ascending order; each poller forms its own events
(`partition_grouping=poller`) and the whole ESM runs at most min(partitions, invocations_per_poller * pollers)
invocations at once, never two for one partition.

Example::

    model = PollerModel.for_config(config, knobs, partitions=[0, 1, 2, 3])
    model.pollers, model.max_concurrency, model.owner(3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.esm.knobs import EsmKnobs
from harness.esm.settings import EsmConfig


@dataclass(frozen=True)
class PollerModel:
    """Pollers, their partitions and the invocation bound for one ESM."""

    partitions: tuple[int, ...]
    pollers: int
    max_pollers: int
    invocations_per_poller: int

    @staticmethod
    def for_config(config: EsmConfig, knobs: EsmKnobs, partitions: Sequence[int]) -> PollerModel:
        """The model for a config and the topic's partitions (at least one)."""
        if not partitions:
            raise ValueError(f"topic {config.topic} has no partitions")
        count = len(partitions)
        if config.provisioned is None:
            wanted, maximum = knobs.on_demand_initial_pollers, count
        else:
            wanted, maximum = config.provisioned.minimum_pollers, config.provisioned.maximum_pollers
        maximum = min(maximum, count)  # MaximumPollers is capped at the partition count
        return PollerModel(
            tuple(sorted(partitions)), min(wanted, maximum), maximum, knobs.invocations_per_poller
        )

    @property
    def max_concurrency(self) -> int:
        """At most one invocation per partition and `invocations_per_poller` per poller."""
        return min(len(self.partitions), self.invocations_per_poller * self.pollers)

    def owner(self, partition: int) -> int:
        """Index of the poller that owns `partition`."""
        return self.partitions.index(partition) % self.pollers

    def owned(self, poller: int) -> tuple[int, ...]:
        """Partitions of one poller, ascending."""
        return tuple(p for p in self.partitions if self.owner(p) == poller)
