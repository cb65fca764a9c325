"""Simulated autoscaling (spec §6; checklist 48-50): evaluation cadence, apply delay, bounds, Min = Max."""

from __future__ import annotations

from typing import Any

import pytest

from harness.clock import FakeClock
from harness.esm.knobs import EsmKnobs
from harness.esm.scaling import LAG_RECORDS_PER_POLLER, Autoscaler, PollerModel
from harness.esm.settings import EsmConfig

ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1"
SCALING = EsmKnobs(simulate_autoscaling=True, autoscale_eval_interval_s=60, autoscale_apply_delay_s=180)


def config(**extra: Any) -> EsmConfig:
    params: dict[str, Any] = {
        "FunctionName": "archiver",
        "EventSourceArn": ARN,
        "Topics": ["orders"],
        "StartingPosition": "TRIM_HORIZON",
    }
    params.update(extra)
    return EsmConfig.from_aws(params)


def provisioned(minimum: int, maximum: int) -> EsmConfig:
    return config(ProvisionedPollerConfig={"MinimumPollers": minimum, "MaximumPollers": maximum})


class LagProbe:
    """A lag source that counts how often the autoscaler asks (it should only ask at evaluations)."""

    def __init__(self, lag: int) -> None:
        self.lag = lag
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.lag


def run(scaler: Autoscaler, clock: FakeClock, probe: LagProbe, seconds: int) -> list[tuple[float, int]]:
    """Tick once per clock second; the (time, pollers) of every applied change."""
    applied = []
    for _ in range(seconds):
        clock.advance(1)
        change = scaler.tick(clock.monotonic(), probe)
        if change is not None:
            applied.append((clock.monotonic(), change))
    return applied


def test_on_demand_evaluates_every_interval_and_applies_after_the_delay() -> None:
    clock = FakeClock()
    model = PollerModel.for_config(config(), SCALING, partitions=range(8))
    scaler = Autoscaler(model, SCALING, now=clock.monotonic())
    probe = LagProbe(3 * LAG_RECORDS_PER_POLLER)
    assert (model.pollers, model.min_pollers, model.max_pollers) == (1, 1, 8)
    assert run(scaler, clock, probe, 59) == []
    assert probe.calls == 0  # nothing is evaluated before the first interval
    assert run(scaler, clock, probe, 1) == []
    assert probe.calls == 1
    pending = scaler.pending
    assert pending is not None
    assert (pending.decided_at, pending.apply_at, pending.pollers) == (60.0, 240.0, 3)
    assert run(scaler, clock, probe, 179) == []
    assert probe.calls == 1  # evaluations are skipped while a change is pending
    assert run(scaler, clock, probe, 1) == [(240.0, 3)]
    assert scaler.pollers == 3
    probe.lag = 0
    assert run(scaler, clock, probe, 239) == []  # next evaluation at 300, applied at 480
    assert probe.calls == 2
    assert run(scaler, clock, probe, 1) == [(480.0, 1)]  # no lag: back to one poller


def test_bounds_cap_at_maximum_pollers_and_partition_count() -> None:
    clock = FakeClock()
    probe = LagProbe(100 * LAG_RECORDS_PER_POLLER)
    knobs = EsmKnobs(simulate_autoscaling=True, autoscale_eval_interval_s=10, autoscale_apply_delay_s=5)
    model = PollerModel.for_config(provisioned(2, 6), knobs, partitions=range(4))
    assert (model.pollers, model.min_pollers, model.max_pollers) == (2, 2, 4)
    scaler = Autoscaler(model, knobs, now=clock.monotonic())
    assert run(scaler, clock, probe, 15) == [(15.0, 4)]  # MaximumPollers 6 is capped at 4 partitions
    assert model.with_pollers(4).max_concurrency == 4  # never more than one invocation per partition
    probe.lag = 0
    assert run(scaler, clock, probe, 20) == [(25.0, 2)]  # eval at 20, no lag: MinimumPollers, not 1
    with pytest.raises(ValueError, match="outside"):
        model.with_pollers(5)


def test_concurrency_follows_the_poller_count() -> None:
    model = PollerModel.for_config(config(), SCALING, partitions=range(20))
    assert model.max_concurrency == 5  # 5 x 1 poller
    assert model.with_pollers(3).max_concurrency == 15
    assert model.with_pollers(5).max_concurrency == 20  # capped at the partitions
    assert model.peak_concurrency == 20
    assert model.with_pollers(3).owned(0) == (0, 3, 6, 9, 12, 15, 18)  # round-robin by ascending partition


def test_minimum_equal_to_maximum_disables_scaling() -> None:
    clock = FakeClock()
    probe = LagProbe(50 * LAG_RECORDS_PER_POLLER)
    scaler = Autoscaler(PollerModel.for_config(provisioned(3, 3), SCALING, range(8)), SCALING, now=0.0)
    assert not scaler.enabled
    assert run(scaler, clock, probe, 1000) == []
    assert probe.calls == 0
    assert scaler.next_due() is None


def test_scaling_is_off_by_default() -> None:
    clock = FakeClock()
    probe = LagProbe(50 * LAG_RECORDS_PER_POLLER)
    knobs = EsmKnobs()
    scaler = Autoscaler(PollerModel.for_config(config(), knobs, range(8)), knobs, now=0.0)
    assert not scaler.enabled
    assert run(scaler, clock, probe, 1000) == []
    assert probe.calls == 0


def test_missed_evaluations_are_not_replayed() -> None:
    knobs = EsmKnobs(simulate_autoscaling=True, autoscale_eval_interval_s=60, autoscale_apply_delay_s=0)
    scaler = Autoscaler(PollerModel.for_config(config(), knobs, range(4)), knobs, now=0.0)
    probe = LagProbe(2 * LAG_RECORDS_PER_POLLER)
    assert scaler.tick(250.0, probe) == 2  # one evaluation (at 240), applied at once
    assert probe.calls == 1
    assert scaler.next_due() == 300.0


def test_target_rule_rounds_lag_up_to_whole_pollers() -> None:
    model = PollerModel.for_config(config(), SCALING, partitions=range(10))
    assert [model.target_for_lag(n) for n in (0, 1, LAG_RECORDS_PER_POLLER, LAG_RECORDS_PER_POLLER + 1)] == [
        1,
        1,
        1,
        2,
    ]
    assert model.target_for_lag(10**9) == 10


def test_knobs_accept_autoscaling_and_reject_bad_intervals() -> None:
    knobs = EsmKnobs.from_mapping({"simulate_autoscaling": True, "rebalance_on_scale": True})
    assert (knobs.simulate_autoscaling, knobs.rebalance_on_scale) == (True, True)
    with pytest.raises(ValueError, match="autoscale_eval_interval_s"):
        EsmKnobs(autoscale_eval_interval_s=0)
    with pytest.raises(ValueError, match="autoscale_apply_delay_s"):
        EsmKnobs(autoscale_apply_delay_s=-1)
