"""Invocation fault hooks: make chosen invocations raise, time out or crash their environment.

A rule pairs a selector (which invocations) with an action (what happens). Selectors look at the invocation's
index (0-based, per `FunctionRuntime`), its raw event bytes, the parsed event, or the decoded Kafka records it
carries. `FunctionRuntime` asks `InvocationFaults.decide()` once per invocation; the first matching rule wins.

How each action reaches the real environment:

* ``crash`` — the event is delivered, and once the runtime has taken it from ``/invocation/next`` its process
  group is SIGKILLed; the attempt fails as ``Runtime.ExitError`` and the next invoke cold-starts.
* ``timeout`` — the event is held back as if the handler hung; at the deadline the environment is killed and
  the attempt fails as ``Sandbox.Timedout`` (the handler never sees the event, so it has no side effects).
* ``raise`` — the attempt fails with the chosen ``errorType``/``errorMessage`` without running the handler;
  the environment is kept (as AWS keeps it after a handled exception).

Example::

    runtime.faults.crash(OnRecord(lambda r: r.value == b"poison"), times=2)
    runtime.faults.raise_error(OnIndex({0, 1}), message="downstream unavailable")
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol


class FaultAction(Enum):
    """What a matching rule does to the invocation."""

    RAISE = "raise"
    TIMEOUT = "timeout"
    CRASH = "crash"


@dataclass(frozen=True)
class DecodedRecord:
    """One Kafka record of an `aws:kafka` event with key/value/header bytes decoded."""

    topic: str
    partition: int
    offset: int
    timestamp: int | None
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


class InvocationView:
    """What selectors see of one invocation; parsing and decoding happen lazily, at most once."""

    def __init__(self, index: int, event: bytes) -> None:
        self.index = index
        self.event = event
        self._parsed: Any = None
        self._parsed_done = False
        self._records: list[DecodedRecord] | None = None

    def parsed(self) -> Any:
        """The event as JSON (None when it is not valid JSON)."""
        if not self._parsed_done:
            try:
                self._parsed = json.loads(self.event)
            except (ValueError, UnicodeDecodeError):
                self._parsed = None
            self._parsed_done = True
        return self._parsed

    def records(self) -> list[DecodedRecord]:
        """The Kafka records in the event, in map order ([] when it is not a Kafka event)."""
        if self._records is None:
            self._records = decode_kafka_records(self.parsed())
        return self._records


def _b64(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_kafka_records(event: Any) -> list[DecodedRecord]:
    """Flatten an `aws:kafka`/`SelfManagedKafka` event's records map into decoded records."""
    if not isinstance(event, dict) or not isinstance(event.get("records"), dict):
        return []
    out: list[DecodedRecord] = []
    for batch in event["records"].values():
        if not isinstance(batch, list):
            continue
        for rec in batch:
            if not isinstance(rec, dict):
                continue
            headers: list[tuple[str, bytes]] = []
            for header in rec.get("headers") or []:
                if isinstance(header, dict):
                    for name, ints in header.items():
                        if isinstance(ints, list):
                            headers.append((str(name), bytes(int(b) & 0xFF for b in ints)))
            out.append(
                DecodedRecord(
                    topic=str(rec.get("topic", "")),
                    partition=int(rec.get("partition", -1)),
                    offset=int(rec.get("offset", -1)),
                    timestamp=rec.get("timestamp") if isinstance(rec.get("timestamp"), int) else None,
                    key=_b64(rec.get("key")),
                    value=_b64(rec.get("value")),
                    headers=tuple(headers),
                )
            )
    return out


class Selector(Protocol):
    """Chooses invocations."""

    def matches(self, view: InvocationView) -> bool:
        """True if the rule applies to this invocation."""
        ...


@dataclass(frozen=True)
class OnIndex:
    """Invocations by 0-based index (counted per FunctionRuntime, every invoke() call counts)."""

    indexes: frozenset[int]

    def __init__(self, indexes: Iterable[int]) -> None:
        object.__setattr__(self, "indexes", frozenset(indexes))

    def matches(self, view: InvocationView) -> bool:
        """True if the invocation's index is listed."""
        return view.index in self.indexes


@dataclass(frozen=True)
class OnEvent:
    """Invocations whose raw event bytes satisfy a predicate."""

    predicate: Callable[[bytes], bool]

    def matches(self, view: InvocationView) -> bool:
        """Apply the predicate to the raw bytes."""
        return bool(self.predicate(view.event))


@dataclass(frozen=True)
class OnParsedEvent:
    """Invocations whose JSON-parsed event satisfies a predicate."""

    predicate: Callable[[Any], bool]

    def matches(self, view: InvocationView) -> bool:
        """Apply the predicate to the parsed event."""
        return bool(self.predicate(view.parsed()))


@dataclass(frozen=True)
class OnRecord:
    """Invocations that contain at least one Kafka record satisfying a predicate."""

    predicate: Callable[[DecodedRecord], bool]

    def matches(self, view: InvocationView) -> bool:
        """True if any decoded record matches."""
        return any(self.predicate(rec) for rec in view.records())


@dataclass(eq=False)
class FaultRule:
    """One rule: selector, action, and how many more times it may fire (None = unlimited)."""

    when: Selector
    action: FaultAction
    message: str = "Injected fault"
    error_type: str = "InjectedFault"
    times: int | None = None
    fired: int = field(default=0)


class InvocationFaults:
    """A thread-safe list of fault rules consulted once per invocation."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        """Append a rule and return it (for `remove`)."""
        if rule.times is not None and rule.times < 1:
            raise ValueError(f"times must be >= 1 or None, got {rule.times}")
        with self._lock:
            self._rules.append(rule)
        return rule

    def raise_error(
        self,
        when: Selector,
        *,
        message: str = "Injected fault",
        error_type: str = "InjectedFault",
        times: int | None = None,
    ) -> FaultRule:
        """Matching invocations fail as if the handler raised `error_type(message)`."""
        return self.add(FaultRule(when, FaultAction.RAISE, message, error_type, times))

    def timeout(self, when: Selector, *, times: int | None = None) -> FaultRule:
        """Matching invocations hang until the deadline; the environment is then killed."""
        return self.add(FaultRule(when, FaultAction.TIMEOUT, times=times))

    def crash(self, when: Selector, *, times: int | None = None) -> FaultRule:
        """Matching invocations kill the environment process once it has taken the event."""
        return self.add(FaultRule(when, FaultAction.CRASH, times=times))

    def remove(self, rule: FaultRule) -> None:
        """Drop a rule (no error if it is already gone)."""
        with self._lock:
            self._rules = [r for r in self._rules if r is not rule]

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self._rules.clear()

    def decide(self, index: int, event: bytes) -> FaultRule | None:
        """The first rule that matches and still has firings left (its count is consumed)."""
        view = InvocationView(index, event)
        with self._lock:
            for rule in self._rules:
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.when.matches(view):
                    rule.fired += 1
                    return rule
        return None
