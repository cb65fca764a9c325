"""Poller model and simulated autoscaling (§6): pollers, their partitions, the concurrency bound.

On-demand mode starts `on_demand_initial_pollers` pollers and may run 1 to partition-count pollers;
provisioned mode starts at `MinimumPollers` and stays within [MinimumPollers, MaximumPollers]; every bound is
capped at the partition count. Partitions are dealt to pollers round-robin in ascending order
(recomputed on each change); each poller forms its own events (`partition_grouping=poller`) and the
whole ESM runs at most min(partitions, invocations_per_poller * pollers) invocations at once, never two
for one partition.

With `simulate_autoscaling`, an `Autoscaler` evaluates offset lag every `autoscale_eval_interval_s` of the
injected clock and applies the poller count it chose `autoscale_apply_delay_s` later.

Known deviations from AWS:
- AWS does not document how lag maps to a poller count. Emulator choice (no knob): the target is
  ceil(lag / LAG_RECORDS_PER_POLLER) pollers clamped to the mode's bounds, so zero lag scales down to the
  minimum. Lag is the sum over partitions of log-end offset minus the next offset after the last commit.
- While a change is pending (decided, not yet applied) evaluations are skipped: at most one change is pending,
  and evaluations resume on the cadence after it applies.
- Throttling does not reduce pollers, and the 5 MB/s per-poller throughput limit is not modelled.

Example::

    model = PollerModel.for_config(config, knobs, partitions=[0, 1, 2, 3])
    model.pollers, model.max_concurrency, model.owner(3)
    scaler = Autoscaler(model, knobs, now=clock.monotonic())
    change = scaler.tick(clock.monotonic(), lag=lambda: 1234)   # None, or the poller count to apply now
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from harness.esm.knobs import EsmKnobs
from harness.esm.settings import EsmConfig

LAG_RECORDS_PER_POLLER = 100  # emulator choice: one poller per this many records of offset lag


@dataclass(frozen=True)
class PollerModel:
    """Pollers, their partitions and the invocation bound for one ESM."""

    partitions: tuple[int, ...]
    pollers: int
    max_pollers: int
    invocations_per_poller: int
    min_pollers: int = 1

    @staticmethod
    def for_config(config: EsmConfig, knobs: EsmKnobs, partitions: Sequence[int]) -> PollerModel:
        """The model for a config and the topic's partitions (at least one)."""
        if not partitions:
            raise ValueError(f"topic {config.topic} has no partitions")
        count = len(partitions)
        if config.provisioned is None:
            wanted, minimum, maximum = knobs.on_demand_initial_pollers, 1, count
        else:
            wanted = minimum = config.provisioned.minimum_pollers
            maximum = config.provisioned.maximum_pollers
        maximum = min(maximum, count)  # MaximumPollers is capped at the partition count
        minimum = min(minimum, maximum)
        return PollerModel(
            tuple(sorted(partitions)), min(wanted, maximum), maximum, knobs.invocations_per_poller, minimum
        )

    @property
    def max_concurrency(self) -> int:
        """At most one invocation per partition and `invocations_per_poller` per poller."""
        return min(len(self.partitions), self.invocations_per_poller * self.pollers)

    @property
    def peak_concurrency(self) -> int:
        """The concurrency bound at the largest poller count this model can scale to."""
        return min(len(self.partitions), self.invocations_per_poller * self.max_pollers)

    @property
    def scalable(self) -> bool:
        """False when the bounds pin the poller count (MinimumPollers = MaximumPollers, or one partition)."""
        return self.min_pollers < self.max_pollers

    def with_pollers(self, pollers: int) -> PollerModel:
        """The same model with another poller count (must lie within the bounds)."""
        if not self.min_pollers <= pollers <= self.max_pollers:
            raise ValueError(f"pollers {pollers} outside [{self.min_pollers}, {self.max_pollers}]")
        return dataclasses.replace(self, pollers=pollers)

    def target_for_lag(self, lag: int) -> int:
        """Poller count the autoscaler wants for `lag` records of offset lag (see Known deviations)."""
        wanted = math.ceil(max(0, lag) / LAG_RECORDS_PER_POLLER)
        return max(self.min_pollers, min(self.max_pollers, wanted))

    def owner(self, partition: int) -> int:
        """Index of the poller that owns `partition`."""
        return self.partitions.index(partition) % self.pollers

    def owned(self, poller: int) -> tuple[int, ...]:
        """Partitions of one poller, ascending."""
        return tuple(p for p in self.partitions if self.owner(p) == poller)


@dataclass(frozen=True)
class ScaleEvent:
    """An applied poller change: partitions in flight then, and those whose batch is redelivered."""

    at: datetime
    pollers_before: int
    pollers_after: int
    lag: int  # records behind at the evaluation that chose the change
    in_flight: tuple[int, ...]
    rebalanced: tuple[int, ...]  # in-flight partitions re-read from their last commit (rebalance_on_scale)


@dataclass(frozen=True)
class PendingChange:
    """A poller count decided at one evaluation and applied at `apply_at` (monotonic seconds)."""

    decided_at: float
    apply_at: float
    lag: int
    pollers: int


class Autoscaler:
    """Evaluates lag on a fixed cadence and applies poller changes after a delay; pure (time comes in)."""

    def __init__(self, model: PollerModel, knobs: EsmKnobs, *, now: float) -> None:
        self.enabled = knobs.simulate_autoscaling and model.scalable
        self._interval = float(knobs.autoscale_eval_interval_s)
        self._delay = float(knobs.autoscale_apply_delay_s)
        self._model = model
        self._next_eval = now + self._interval
        self._pending: PendingChange | None = None
        self.last_applied: PendingChange | None = None

    @property
    def pollers(self) -> int:
        """The poller count in effect."""
        return self._model.pollers

    @property
    def pending(self) -> PendingChange | None:
        """The change decided but not applied yet, if any."""
        return self._pending

    def next_due(self) -> float | None:
        """When `tick` next has something to do (monotonic seconds); None when scaling is off."""
        if not self.enabled:
            return None
        return self._pending.apply_at if self._pending is not None else self._next_eval

    def tick(self, now: float, lag: Callable[[], int]) -> int | None:
        """Advance to `now`: returns the new poller count when a change applies now, else None.

        `lag` (records behind, summed over partitions) is only called at an evaluation.
        """
        if not self.enabled:
            return None
        if self._pending is None and now >= self._next_eval:
            # catch up on missed evaluations without replaying them: the next one is on the cadence
            missed = math.floor((now - self._next_eval) / self._interval)
            evaluated_at = self._next_eval + missed * self._interval
            self._next_eval = evaluated_at + self._interval
            measured = lag()
            target = self._model.target_for_lag(measured)
            if target != self._model.pollers:
                self._pending = PendingChange(evaluated_at, evaluated_at + self._delay, measured, target)
        if self._pending is not None and now >= self._pending.apply_at:
            change, self._pending = self._pending, None
            self._model = self._model.with_pollers(change.pollers)
            self.last_applied = change
            if self._next_eval <= change.apply_at:  # evaluations skipped while pending resume after it
                skipped = math.floor((change.apply_at - self._next_eval) / self._interval) + 1
                self._next_eval += skipped * self._interval
            return change.pollers
        return None
