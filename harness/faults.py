"""The fault timeline: fires a scenario's faults at clock times or record counts, ends windows, logs events.

`FaultTimeline` is pulled by the runner: `due(t, produced)` (pure) says which faults start or end now; `tick`
fires them through an `Injectors` object that knows the running pipeline. Every start and end becomes a
`FaultEvent` (with `ok=False` and the reason when an injection raised). Broker actions take real seconds
(JVM stop/start), so they run on their own threads and never hold up the rest of the timeline.

How scenario actions map onto the emulators' hooks:
- broker stop/kill/pause: until `until`, then started/resumed again; restart: stop, `down_seconds`, start;
  rolling_restart: each broker in turn (stop, `down_seconds`, start, wait until healthy).
- function error/timeout/crash: a rule on the runtime's `InvocationFaults` (selector from `match`, `times`),
  removed at `until`.
- firehose partial_failure: `share` of the records of each PutRecordBatch fail with
  ServiceUnavailableException (HTTP 200, FailedPutCount > 0); throttling: whole calls fail with
  ServiceUnavailableException "Slow down." (HTTP 500) -- with `share` < 1, that share of records fails with
  "Slow down." instead, as partial throttling shows in AWS; server_error: whole calls fail with
  InternalFailure (HTTP 500), or `share` of the records with `share` < 1; latency: every call is delayed.
- s3 outage/access_denied/latency: a window on Firehose's object store (InternalError / AccessDenied /
  delay), i.e. the S3 writes Firehose makes.

Known deviations from AWS: none of these are AWS behaviours; they are the harness's fault model.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from firehose_emulator.faults import StreamFaults
from firehose_emulator.object_store import FaultyObjectStore
from harness.backends.kafka.control import BrokerControl
from harness.clock import Clock
from harness.run.result import FaultEvent
from harness.runtime.faults import DecodedRecord, FaultRule, InvocationView, OnRecord
from harness.scenario.model import (
    BrokerFault,
    Fault,
    FirehoseFault,
    FunctionFault,
    RecordMatch,
    S3Fault,
)

WHOLE_CALL_TIMES = 1_000_000_000  # "every call until the window ends" for the emulator's counted call rules


def describe(fault: Fault) -> str:
    """A short human description: `broker 0 kill (line 31)`."""
    action = fault.action
    if isinstance(action, BrokerFault):
        what = f"broker {action.broker} {action.action}"
        if action.action == "rolling_restart":
            what = f"brokers rolling_restart ({action.down_seconds:g} s down each)"
        elif action.action == "restart":
            what += f" ({action.down_seconds:g} s down)"
    elif isinstance(action, FunctionFault):
        what = f"function {action.action}" + (f" on {_match_text(action.match)}" if action.match else "")
        what += f" x{action.times}" if action.times is not None else ""
    elif isinstance(action, FirehoseFault):
        what = f"firehose {action.action}"
        what += f" {action.latency_seconds:g} s" if action.action == "latency" else f" {action.share:.0%}"
    else:
        what = f"s3 {action.action}" + (
            f" {action.latency_seconds:g} s" if action.action == "latency" else ""
        )
    return f"{what} (line {fault.line})" if fault.line else what


def _match_text(match: RecordMatch) -> str:
    parts = [
        f"{name}={value}"
        for name, value in (
            ("key", match.key),
            ("partition", match.partition),
            ("offset", match.offset),
            ("value~", match.value_regex),
            ("seq", match.seq),
        )
        if value is not None
    ]
    if match.json_field is not None:
        parts.append(f"{match.json_field}=={match.equals!r}")
    return ",".join(parts)


def record_predicate(
    match: RecordMatch, seq_of: Callable[[int, int], int | None]
) -> Callable[[DecodedRecord], bool]:
    """A predicate over decoded event records for a scenario's `match` (all given conditions must hold).

    `seq_of(partition, offset)` looks up the load's sequence number of a produced record (the ledger).
    """
    pattern = re.compile(match.value_regex.encode()) if match.value_regex is not None else None
    key = match.key.encode() if match.key is not None else None

    def matches(record: DecodedRecord) -> bool:
        if key is not None and record.key != key:
            return False
        if match.partition is not None and record.partition != match.partition:
            return False
        if match.offset is not None and record.offset != match.offset:
            return False
        if pattern is not None and (record.value is None or not pattern.search(record.value)):
            return False
        if match.json_field is not None and not _json_field_equals(record.value, match):
            return False
        return match.seq is None or seq_of(record.partition, record.offset) == match.seq

    return matches


def _json_field_equals(value: bytes | None, match: RecordMatch) -> bool:
    if value is None:
        return False
    try:
        doc = json.loads(value)
    except ValueError:
        return False
    if not isinstance(doc, dict) or match.json_field not in doc:
        return False
    return not match.has_equals or doc[match.json_field] == match.equals


@dataclass(frozen=True)
class _Always:
    """Every invocation."""

    def matches(self, view: InvocationView) -> bool:
        """True."""
        return True


class Injectors(Protocol):
    """What the timeline needs from the running pipeline: start and end each kind of fault."""

    def start(self, fault: Fault, elapsed: float) -> None:
        """Inject `fault` now, `elapsed` clock seconds after the run start (may block for broker actions)."""
        ...

    def end(self, fault: Fault) -> None:
        """End `fault`'s window now."""
        ...


@dataclass
class _State:
    fault: Fault
    started: bool = False
    ended: bool = False
    start_t: float | None = None


@dataclass
class FaultTimeline:
    """The scenario's faults in order; `tick()` fires what is due and records a FaultEvent for each."""

    faults: tuple[Fault, ...]
    injectors: Injectors
    clock: Clock
    origin: float = 0.0  # clock.monotonic() at the run start
    _states: list[_State] = field(init=False)
    _events: list[FaultEvent] = field(init=False, default_factory=list)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._states = [_State(f) for f in self.faults]

    def events(self) -> tuple[FaultEvent, ...]:
        """Every event so far, in the order they were recorded."""
        with self._lock:
            return tuple(self._events)

    def due(self, t: float, produced: int) -> tuple[list[Fault], list[Fault]]:
        """(faults to start, faults whose window ends) at clock second `t` with `produced` records acked."""
        starting, ending = [], []
        for state in self._states:
            fault = state.fault
            if not state.started:
                if (fault.at_seconds is not None and t >= fault.at_seconds) or (
                    fault.after_records is not None and produced >= fault.after_records
                ):
                    starting.append(fault)
            elif not state.ended and fault.until_seconds is not None and t >= fault.until_seconds:
                ending.append(fault)
        return starting, ending

    def pending(self) -> bool:
        """True while a timed fault has yet to start or a broker action is still running.

        An open window does not hold the run: once the pipeline has drained, the run may end inside it.
        """
        if any(not s.started and s.fault.at_seconds is not None for s in self._states):
            return True
        return any(thread.is_alive() for thread in self._threads)

    def disturbing(self) -> bool:
        """True while a broker, Firehose or S3 fault is on: the function's failures now may be the fault's.

        Function faults do not count: the failures they inject are marked as injected where they are counted.
        """
        on = [s.fault for s in self._states if s.started and not s.ended and _has_window(s.fault)]
        if any(not isinstance(fault.action, FunctionFault) for fault in on):
            return True
        return any(thread.is_alive() for thread in self._threads)

    def elapsed(self) -> float:
        """Clock seconds since the run started."""
        return self.clock.monotonic() - self.origin

    def tick(self, produced: int) -> None:
        """Start and end whatever is due now."""
        t = self.elapsed()
        starting, ending = self.due(t, produced)
        for fault in ending:
            self._state(fault).ended = True
            self._fire(fault, t, ending=True)
        for fault in starting:
            state = self._state(fault)
            state.started, state.start_t = True, t
            self._fire(fault, t, ending=False)

    def finish(self) -> None:
        """End every open window (the run is over) and wait for broker actions still running."""
        for thread in list(self._threads):
            thread.join()
        t = self.elapsed()
        for state in self._states:
            if state.started and not state.ended and _has_window(state.fault):
                state.ended = True
                if isinstance(state.fault.action, BrokerFault):
                    # Starting a broker only to stop it with the stack would add seconds for nothing.
                    self._record(FaultEvent(t, f"end: {describe(state.fault)} (run over)", ok=True))
                else:
                    self._fire(state.fault, t, ending=True, threaded=False)
        for thread in list(self._threads):
            thread.join()

    def _state(self, fault: Fault) -> _State:
        return next(s for s in self._states if s.fault is fault)

    def _fire(self, fault: Fault, t: float, *, ending: bool, threaded: bool = True) -> None:
        label = ("end: " if ending else "") + describe(fault)

        def run() -> None:
            try:
                if ending:
                    self.injectors.end(fault)
                else:
                    self.injectors.start(fault, t)
            except Exception as exc:  # noqa: BLE001 - the run goes on; the event says what failed
                self._record(FaultEvent(t, f"{label}: failed: {type(exc).__name__}: {exc}", ok=False))
            else:
                self._record(FaultEvent(t, label, ok=True))

        if threaded and isinstance(fault.action, BrokerFault):
            thread = threading.Thread(target=run, name=f"fault-{fault.line}", daemon=True)
            self._threads.append(thread)
            thread.start()
        else:
            run()

    def _record(self, event: FaultEvent) -> None:
        with self._lock:
            self._events.append(event)


def _has_window(fault: Fault) -> bool:
    action = fault.action
    if isinstance(action, BrokerFault):
        return action.action in ("stop", "kill", "pause")
    return True


@dataclass
class PipelineInjectors:
    """Injects faults into a running pipeline's Kafka, function runtime, Firehose stream and object store."""

    kafka: BrokerControl | None  # None when the Kafka backend has no broker hooks (docker, external)
    function_faults: Any  # harness.runtime.InvocationFaults
    stream_faults: StreamFaults  # of the delivery stream
    object_store: FaultyObjectStore
    clock: Clock
    seq_of: Callable[[int, int], int | None]
    _rules: dict[int, FaultRule] = field(default_factory=dict)
    _active_firehose: list[Fault] = field(default_factory=list)

    def start(self, fault: Fault, elapsed: float) -> None:
        """Inject `fault` now, `elapsed` clock seconds after the run start."""
        action = fault.action
        if isinstance(action, BrokerFault):
            self._broker(action)
        elif isinstance(action, FunctionFault):
            self._rules[id(fault)] = self._function_rule(action)
        elif isinstance(action, FirehoseFault):
            self._active_firehose.append(fault)
            self._arm_firehose(action)
        else:
            self._s3(fault, action, elapsed)

    def end(self, fault: Fault) -> None:
        """End `fault`'s window now."""
        action = fault.action
        if isinstance(action, BrokerFault):
            kafka = self._kafka()
            broker_id = self._broker_id(kafka, action.broker)
            if action.action == "pause":
                kafka.resume_broker(broker_id)
            else:
                kafka.start_broker(broker_id)
        elif isinstance(action, FunctionFault):
            rule = self._rules.pop(id(fault), None)
            if rule is not None:
                self.function_faults.remove(rule)
        elif isinstance(action, FirehoseFault):
            # The emulator clears all stream faults at once: clear, then re-arm the windows still open.
            self._active_firehose = [f for f in self._active_firehose if f is not fault]
            self.stream_faults.clear()
            for other in self._active_firehose:
                assert isinstance(other.action, FirehoseFault)
                self._arm_firehose(other.action)
        # S3 windows are registered with their end instant; nothing to undo.

    def _kafka(self) -> BrokerControl:
        if self.kafka is None:
            raise RuntimeError("broker faults need the embedded Kafka backend")
        return self.kafka

    @staticmethod
    def _broker_id(kafka: BrokerControl, index: int) -> int:
        ids = kafka.broker_ids
        if not 0 <= index < len(ids):
            raise ValueError(f"broker {index} does not exist (the cluster has {len(ids)})")
        return ids[index]

    def _broker(self, action: BrokerFault) -> None:
        kafka = self._kafka()
        if action.action == "rolling_restart":
            for broker_id in kafka.broker_ids:
                kafka.stop_broker(broker_id)
                self.clock.sleep(action.down_seconds)
                kafka.start_broker(broker_id)
                kafka.wait_healthy()
            return
        broker_id = self._broker_id(kafka, action.broker)
        if action.action == "stop":
            kafka.stop_broker(broker_id)
        elif action.action == "kill":
            kafka.kill_broker(broker_id)
        elif action.action == "pause":
            kafka.pause_broker(broker_id)
        elif action.action == "resume":
            kafka.resume_broker(broker_id)
        else:  # restart
            kafka.stop_broker(broker_id)
            self.clock.sleep(action.down_seconds)
            kafka.start_broker(broker_id)

    def _function_rule(self, action: FunctionFault) -> FaultRule:
        when: Any = (
            _Always() if action.match is None else OnRecord(record_predicate(action.match, self.seq_of))
        )
        faults = self.function_faults
        if action.action == "error":
            rule: FaultRule = faults.raise_error(
                when, message=action.message, error_type="InjectedFault", times=action.times
            )
        elif action.action == "timeout":
            rule = faults.timeout(when, times=action.times)
        else:
            rule = faults.crash(when, times=action.times)
        return rule

    def _arm_firehose(self, action: FirehoseFault) -> None:
        faults = self.stream_faults
        if action.action == "latency":
            faults.add_latency(action.latency_seconds)
        elif action.action == "partial_failure":
            faults.inject_put_failures(fraction=action.share, code="ServiceUnavailableException", calls=None)
        else:
            code = "ServiceUnavailableException" if action.action == "throttling" else "InternalFailure"
            if action.share >= 1.0:
                faults.inject_call_failure(code, times=WHOLE_CALL_TIMES)
            else:
                faults.inject_put_failures(fraction=action.share, code=code, calls=None)

    def _s3(self, fault: Fault, action: S3Fault, elapsed: float) -> None:
        now = self.clock.now()
        end: datetime | None = None
        if fault.until_seconds is not None:
            # The window's end in clock time: `until` is measured from the run start, like `at`.
            end = now + timedelta(seconds=max(0.0, fault.until_seconds - elapsed))
        store = self.object_store
        if action.action == "latency":
            store.add_latency(action.latency_seconds, now, end)
        elif action.action == "access_denied":
            store.fail_between(now, end, code="AccessDenied", message="Access Denied")
        else:
            store.fail_between(now, end, code="InternalError", message="We encountered an internal error.")
