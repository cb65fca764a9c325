"""The fault timeline and record matching (pure: FakeClock, a recording injector; no processes).

The injectors themselves run against the real pipeline in tests/scenarios (broker, function, Firehose, S3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.clock import FakeClock
from harness.faults import FaultTimeline, describe, record_predicate
from harness.runtime.faults import DecodedRecord
from harness.scenario.model import BrokerFault, Fault, FirehoseFault, FunctionFault, RecordMatch, S3Fault


@dataclass
class Recorder:
    """Injectors that log calls; `fail` names faults whose start raises."""

    calls: list[str] = field(default_factory=list)
    fail: set[int] = field(default_factory=set)

    def start(self, fault: Fault, elapsed: float) -> None:
        self.calls.append(f"start {fault.line} at {elapsed:g}")
        if fault.line in self.fail:
            raise RuntimeError("injector broke")

    def end(self, fault: Fault) -> None:
        self.calls.append(f"end {fault.line}")


def timeline(*faults: Fault, fail: set[int] | None = None) -> tuple[FaultTimeline, Recorder, FakeClock]:
    clock = FakeClock()
    recorder = Recorder(fail=fail or set())
    return FaultTimeline(faults, recorder, clock, origin=clock.monotonic()), recorder, clock


def test_faults_fire_at_their_time_and_windows_end_at_until() -> None:
    window = Fault(FirehoseFault("throttling"), at_seconds=5, until_seconds=10, line=3)
    line, recorder, clock = timeline(window)
    line.tick(produced=0)
    assert recorder.calls == []
    assert line.pending()
    clock.advance(5)
    line.tick(produced=0)
    assert recorder.calls == ["start 3 at 5"]
    assert not line.pending()  # an open window does not hold the run
    clock.advance(5)
    line.tick(produced=0)
    line.tick(produced=0)
    assert recorder.calls == ["start 3 at 5", "end 3"]
    assert [(e.t_seconds, e.description, e.ok) for e in line.events()] == [
        (5, "firehose throttling 100% (line 3)", True),
        (10, "end: firehose throttling 100% (line 3)", True),
    ]


def test_after_records_fires_once_the_ledger_reaches_the_count() -> None:
    fault = Fault(FunctionFault("error", times=2), after_records=100, line=7)
    line, recorder, _ = timeline(fault)
    line.tick(produced=99)
    assert recorder.calls == []
    assert not line.pending()  # record-count faults never hold the run
    line.tick(produced=100)
    line.tick(produced=200)
    assert recorder.calls == ["start 7 at 0"]


def test_a_failing_injection_is_an_event_with_the_reason() -> None:
    line, _, _ = timeline(Fault(S3Fault("outage"), at_seconds=0, line=9), fail={9})
    line.tick(produced=0)
    (event,) = line.events()
    assert not event.ok
    assert "RuntimeError: injector broke" in event.description


def test_finish_ends_open_windows_but_does_not_restart_brokers() -> None:
    s3 = Fault(S3Fault("latency", latency_seconds=2), at_seconds=0, line=1)
    kill = Fault(BrokerFault("kill", broker=0), at_seconds=0, line=2)
    line, recorder, _ = timeline(s3, kill)
    line.tick(produced=0)
    line.finish()
    assert recorder.calls == ["start 1 at 0", "start 2 at 0", "end 1"]
    assert {e.description for e in line.events()} >= {"end: broker 0 kill (line 2) (run over)"}


def test_describe_names_the_action_and_line() -> None:
    poison = Fault(FunctionFault("error", match=RecordMatch(partition=1, offset=42)), at_seconds=0, line=27)
    assert describe(poison) == "function error on partition=1,offset=42 (line 27)"
    restart = Fault(BrokerFault("rolling_restart", down_seconds=2), at_seconds=3, line=20)
    assert describe(restart) == "brokers rolling_restart (2 s down each) (line 20)"


def record(partition: int, offset: int, key: bytes | None, value: bytes | None) -> DecodedRecord:
    return DecodedRecord("orders", partition, offset, None, key, value, ())


def test_record_predicate_requires_every_given_condition() -> None:
    match = RecordMatch(key="order-7", partition=1)
    hit = record_predicate(match, lambda p, o: None)
    assert hit(record(1, 5, b"order-7", b"{}"))
    assert not hit(record(2, 5, b"order-7", b"{}"))
    assert not hit(record(1, 5, b"order-70", b"{}"))


def test_record_predicate_json_field_regex_and_seq() -> None:
    by_field = record_predicate(
        RecordMatch(json_field="status", equals="poison", has_equals=True), lambda p, o: None
    )
    assert by_field(record(0, 0, None, b'{"status": "poison"}'))
    assert not by_field(record(0, 0, None, b'{"status": "paid"}'))
    assert not by_field(record(0, 0, None, b"not json"))
    assert not by_field(record(0, 0, None, None))
    by_regex = record_predicate(RecordMatch(value_regex='amount":9\\d\\d'), lambda p, o: None)
    assert by_regex(record(0, 0, None, b'{"amount":950}'))
    by_seq = record_predicate(RecordMatch(seq=12), lambda p, o: 12 if (p, o) == (2, 4) else None)
    assert by_seq(record(2, 4, None, b"x"))
    assert not by_seq(record(2, 5, None, b"x"))
