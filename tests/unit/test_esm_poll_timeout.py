"""How long the poll thread blocks: never a busy loop when nothing can be dispatched."""

from __future__ import annotations

import random
from typing import Any

from harness.clock import FakeClock
from harness.esm.event_builder import KafkaRecord
from harness.esm.invoker import InProcessInvoker
from harness.esm.knobs import EsmKnobs
from harness.esm.mapping import EventSourceMapping
from harness.esm.scaling import PollerModel
from harness.esm.settings import EsmConfig

ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1"


def _mapping_with_queued_record(*, enabled: bool, window_s: int = 1) -> EventSourceMapping:
    clock = FakeClock()
    config = EsmConfig.from_aws(
        {
            "FunctionName": "probe",
            "EventSourceArn": ARN,
            "Topics": ["orders"],
            "StartingPosition": "TRIM_HORIZON",
            "Enabled": enabled,
            "BatchSize": 10,
            "MaximumBatchingWindowInSeconds": window_s,
        }
    )

    def handler(event: dict[str, Any], context: Any) -> None:
        return None

    esm = EventSourceMapping(
        config,
        InProcessInvoker(handler, clock=clock, rng=random.Random(1)),
        bootstrap_servers="127.0.0.1:9",
        clock=clock,
        rng=random.Random(2),
    )
    batcher = esm._new_batcher()
    batcher.add(
        KafkaRecord("orders", 0, 0, 1750000000000, "CREATE_TIME", b"k", b"v"), delivered=True, now=0.0
    )
    esm._batchers = [batcher]
    esm.model = PollerModel.for_config(esm.config, EsmKnobs(), [0])
    return esm


def test_enabled_mapping_polls_without_waiting_once_a_window_is_due() -> None:
    assert _mapping_with_queued_record(enabled=True)._wait_ms(5.0, busy=0) == 0


def test_enabled_mapping_waits_until_the_window_is_due() -> None:
    esm = _mapping_with_queued_record(enabled=True, window_s=1)
    assert esm._wait_ms(0.95, busy=0) == 50


def test_disabled_mapping_never_busy_polls_on_a_due_batch() -> None:
    assert _mapping_with_queued_record(enabled=False)._wait_ms(5.0, busy=0) == 100


def test_mapping_with_every_slot_busy_does_not_busy_poll_on_a_due_batch() -> None:
    esm = _mapping_with_queued_record(enabled=True)
    assert esm.model is not None
    assert esm._wait_ms(5.0, busy=esm.model.max_concurrency) == 100
    assert esm._wait_ms(5.0, busy=esm.model.max_concurrency - 1) == 0
