"""Retries, bisect and partial batch responses (spec §4.2-§4.4; checklist 26, 29-36; gotchas 4-10, 27)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness.clock import FakeClock
from harness.esm.batcher import Batch, Batcher
from harness.esm.event_builder import EventSource, KafkaRecord
from harness.esm.invoker import LocalResult
from harness.esm.knobs import EsmKnobs
from harness.esm.responses import parse_batch_response
from harness.esm.retry import AttemptLog, BatchRunner, FailureReport
from harness.esm.settings import EsmConfig

SOURCE = EventSource(None, ("127.0.0.1:9092",))
KNOBS = EsmKnobs()
Handler = Callable[[dict[str, Any]], Any]


def rec(offset: int, partition: int = 0, topic: str = "t") -> KafkaRecord:
    return KafkaRecord(topic, partition, offset, 1750000000000, "CREATE_TIME", None, b"v", ())


def config(**extra: Any) -> EsmConfig:
    params: dict[str, Any] = {
        "FunctionName": "f",
        "Topics": ["t"],
        "StartingPosition": "TRIM_HORIZON",
        "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["h:9092"]}},
    }
    if extra:
        params["ProvisionedPollerConfig"] = {"MinimumPollers": 1}
    params.update(extra)
    return EsmConfig.from_aws(params)


class Scripted:
    """An invoker whose handler decides per event; records every event it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: bytes) -> LocalResult:
        decoded = json.loads(event)
        self.events.append(decoded)
        rid = f"req-{len(self.events)}"
        try:
            value = self.handler(decoded)
        except RuntimeError as exc:
            return LocalResult(rid, False, json.dumps({"errorMessage": str(exc)}).encode(), "Unhandled", 1.0)
        return LocalResult(rid, True, json.dumps(value).encode(), None, 1.0)

    def offsets(self, index: int) -> list[tuple[int, int]]:
        return [(r["partition"], r["offset"]) for rs in self.events[index]["records"].values() for r in rs]


class Harness:
    def __init__(
        self, cfg: EsmConfig, handler: Handler, stop_after: int = 1000, knobs: EsmKnobs = KNOBS
    ) -> None:
        self.invoker = Scripted(handler)
        self.commits: list[tuple[tuple[str, int], int]] = []
        self.reports: list[FailureReport] = []
        self.log: list[AttemptLog] = []
        self.clock = FakeClock()
        self.runner = BatchRunner(
            config=cfg,
            knobs=knobs,
            invoker=self.invoker,
            clock=self.clock,
            commit=lambda tp, o: self.commits.append((tp, o)),
            report=self.reports.append,
            log=self.log.append,
            stopping=lambda: len(self.invoker.events) >= stop_after,
        )

    def committed(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for (_, p), o in self.commits:
            out[p] = max(o, out.get(p, o))
        return out


def batch_of(records: list[KafkaRecord], delivered: Callable[[KafkaRecord], bool] = lambda r: True) -> Batch:
    batcher = Batcher(source=SOURCE, batch_size=10_000, window_s=0)
    for r in records:
        batcher.add(r, delivered=delivered(r), now=0.0)
    batch = batcher.take(0.0)
    assert batch is not None
    return batch


def fail(_: dict[str, Any]) -> Any:
    raise RuntimeError("boom")


def test_default_mode_retries_whole_batch_unchanged_and_commits_nothing() -> None:
    h = Harness(config(), fail, stop_after=25)
    result = h.runner.run(batch_of([rec(0), rec(1), rec(2)]))
    assert result.abandoned
    assert h.commits == []
    assert len(h.invoker.events) == 25
    assert all(e == h.invoker.events[0] for e in h.invoker.events)  # records before the failure replayed


def test_success_commits_last_plus_one_filtered_included() -> None:
    h = Harness(config(), lambda e: None)
    h.runner.run(batch_of([rec(i) for i in range(10)], delivered=lambda r: r.offset in (2, 5, 6)))
    assert h.invoker.offsets(0) == [(0, 2), (0, 5), (0, 6)]
    assert h.committed() == {0: 10}


def test_retries_bound_then_report_and_skip() -> None:
    h = Harness(config(MaximumRetryAttempts=2), fail)
    h.runner.run(batch_of([rec(0), rec(1)]))
    assert len(h.invoker.events) == 3
    assert h.committed() == {0: 2}
    assert h.reports == []  # no destination: skipped silently (exhausted_without_destination=skip)


def test_minus_one_with_destination_gives_eleven_attempts() -> None:
    h = Harness(config(DestinationConfig={"OnFailure": {"Destination": "kafka://dlq"}}), fail)
    h.runner.run(batch_of([rec(0)]))
    assert len(h.invoker.events) == 11
    assert len(h.reports) == 1
    assert h.reports[0].attempts == 11
    assert h.reports[0].condition == "RetriesExhausted"
    assert h.reports[0].request_id == "req-11"
    assert h.committed() == {0: 1}


def test_exhausted_without_destination_block_mode() -> None:
    h = Harness(config(MaximumRetryAttempts=0), fail, knobs=EsmKnobs(exhausted_without_destination="block"))
    result = h.runner.run(batch_of([rec(0)]))
    assert result.blocked == {("t", 0)}
    assert h.commits == []


def test_bisect_splits_first_half_first() -> None:
    def handler(event: dict[str, Any]) -> None:
        if any(r["offset"] == 3 for rs in event["records"].values() for r in rs):
            raise RuntimeError("poison")

    h = Harness(config(BisectBatchOnFunctionError=True, MaximumRetryAttempts=0), handler)
    h.runner.run(batch_of([rec(i) for i in range(5)]))
    sizes = [h.invoker.offsets(i) for i in range(len(h.invoker.events))]
    assert sizes[0] == [(0, i) for i in range(5)]
    assert sizes[1] == [(0, 0), (0, 1)]  # floor(5/2) first
    assert sizes[2] == [(0, 2), (0, 3), (0, 4)]
    assert [(0, 3)] in sizes
    assert h.committed() == {0: 5}


def test_partial_response_commits_prefix_and_redelivers_from_lowest_failed() -> None:
    calls = {"n": 0}

    def handler(event: dict[str, Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return {
                "batchItemFailures": [
                    {"itemIdentifier": {"partition": "t-0", "offset": 2}},
                    {"itemIdentifier": {"partition": "t-0", "offset": 4}},
                ]
            }
        return {"batchItemFailures": []}

    h = Harness(config(FunctionResponseTypes=["ReportBatchItemFailures"]), handler)
    h.runner.run(batch_of([rec(i) for i in range(5)] + [rec(0, 1), rec(1, 1)]))
    assert ((("t", 0), 2)) in h.commits
    assert (("t", 1), 2) in h.commits
    assert h.invoker.offsets(1) == [(0, 2), (0, 3), (0, 4)]
    assert h.committed() == {0: 5, 1: 2}


def test_partial_response_with_hyphenated_topic_matches() -> None:
    rs = [rec(i, 2, topic="a-b.c-1") for i in range(3)]
    parsed = parse_batch_response(
        json.dumps(
            {"batchItemFailures": [{"itemIdentifier": {"partition": "a-b.c-1-2", "offset": 1}}]}
        ).encode(),
        rs,
        KNOBS,
    )
    assert parsed.kind == "partial"
    assert parsed.lowest_failed == {"a-b.c-1-2": 1}


def test_success_shapes() -> None:
    rs = [rec(0)]
    for body in (b"null", b"{}", b'{"batchItemFailures": []}', b""):
        assert parse_batch_response(body, rs, KNOBS).kind == "success"


def test_invalid_shapes_fail_the_whole_batch() -> None:
    rs = [rec(0), rec(1)]
    for body in (
        {"batchItemFailures": [{"itemIdentifier": "t-0-1"}]},  # SQS/middy string identifier
        {"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": "1"}}]},  # string offset
        {"batchItemFailures": [{"itemIdentifier": {"partition": "t-9", "offset": 1}}]},  # unknown key
        {"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": 7}}]},  # unknown offset
        {"batchItemFailures": "nope"},
        [1, 2],
        {"other": 1},
    ):
        assert parse_batch_response(json.dumps(body).encode(), rs, KNOBS).kind == "invalid", body
    assert parse_batch_response(b"not json", rs, KNOBS).kind == "invalid"
    relaxed = EsmKnobs(strict_item_identifier_types=False)
    string_offset = json.dumps(
        {"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": "1"}}]}
    ).encode()
    assert parse_batch_response(string_offset, rs, relaxed).kind == "partial"


def test_invalid_response_is_retried_as_a_whole() -> None:
    calls = {"n": 0}

    def handler(event: dict[str, Any]) -> Any:
        calls["n"] += 1
        return {"batchItemFailures": [{"itemIdentifier": "t-0-0"}]} if calls["n"] < 3 else None

    h = Harness(config(FunctionResponseTypes=["ReportBatchItemFailures"]), handler)
    h.runner.run(batch_of([rec(0), rec(1)]))
    assert len(h.invoker.events) == 3
    assert h.invoker.offsets(2) == [(0, 0), (0, 1)]
    assert h.committed() == {0: 2}


def test_without_rbif_a_returned_failure_list_is_ignored() -> None:
    h = Harness(
        config(), lambda e: {"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": 0}}]}
    )
    h.runner.run(batch_of([rec(0), rec(1)]))
    assert len(h.invoker.events) == 1
    assert h.committed() == {0: 2}


def test_partial_commit_with_offset_gaps() -> None:
    h_calls = {"n": 0}

    def handler(event: dict[str, Any]) -> Any:
        h_calls["n"] += 1
        if h_calls["n"] == 1:
            return {"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": 20}}]}
        return None

    h = Harness(config(FunctionResponseTypes=["ReportBatchItemFailures"]), handler)
    h.runner.run(batch_of([rec(3), rec(10), rec(20), rec(31)]))  # a compacted log
    assert (("t", 0), 20) in h.commits
    assert h.invoker.offsets(1) == [(0, 20), (0, 31)]
    assert h.committed() == {0: 32}


def test_old_records_are_dropped_before_every_attempt_and_reported() -> None:
    h = Harness(config(MaximumRecordAgeInSeconds=60, MaximumRetryAttempts=5), fail)
    now_ms = int(h.clock.now().timestamp() * 1000)
    old = KafkaRecord("t", 0, 0, now_ms - 120_000, "CREATE_TIME", None, b"v", ())
    young = KafkaRecord("t", 0, 1, now_ms - 30_000, "CREATE_TIME", None, b"v", ())

    def aging(e: dict[str, Any]) -> Any:
        h.clock.advance(40)
        return fail(e)

    h.invoker.handler = aging
    h.runner.run(batch_of([old, young]))
    assert h.invoker.offsets(0) == [(0, 1)]
    assert [r.condition for r in h.reports] == ["RecordAgeExceeded", "RecordAgeExceeded"]
    assert len(h.invoker.events) == 1
    assert h.committed() == {0: 2}


def test_oversized_batch_reported_with_destination_and_blocks_without() -> None:
    knobs = EsmKnobs(max_payload_bytes=2048)
    batcher = Batcher(source=SOURCE, batch_size=10, window_s=0, knobs=knobs)
    batcher.add(KafkaRecord("t", 0, 0, 0, "CREATE_TIME", None, b"x" * 4000, ()), delivered=True, now=0.0)
    batch = batcher.take(0.0)
    assert batch is not None
    assert batch.oversized
    with_dest = Harness(
        config(DestinationConfig={"OnFailure": {"Destination": "kafka://dlq"}}), fail, knobs=knobs
    )
    with_dest.runner.run(batch)
    assert with_dest.invoker.events == []
    assert with_dest.committed() == {0: 1}
    report = with_dest.reports[0]
    assert report.condition == "MaximumPayloadSizeExceeded"
    assert report.function_error is None
    blocked = Harness(config(), fail, knobs=knobs)
    assert blocked.runner.run(batch).blocked == {("t", 0)}
    assert blocked.commits == []
