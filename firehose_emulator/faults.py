"""Per-stream injected API faults and the Direct PUT throughput quota (spec §4, Appendix B).

* per-record failures in PutRecordBatch: chosen 0-based positions, a fraction (drawn from the service RNG)
or a
  predicate, answered as `ServiceUnavailableException` / `Slow down.` (or any code) under HTTP 200;
* whole-call failures (`inject_call_failure(code, times, store=False)`): HTTP 500 for ServiceUnavailable; with
  `store=True` the records are kept although the call fails, which is how SDK retries duplicate data (G8);
* added latency per call (in clock time) and a per-stream throughput quota (`throttle`).

S3 write faults are not here: they are windows on the service's `FaultyObjectStore` (object_store.py).

Known deviations from AWS:

* The throughput window is the current whole second of the injected clock, not a sliding window.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_MESSAGES = {
    "ServiceUnavailableException": "Slow down.",
    "InternalFailure": "Internal service failure.",
}
RecordPredicate = Callable[[int, bytes], bool]


def default_message(code: str) -> str:
    """The emulator's message for an injected code (`Slow down.` for throttling)."""
    return DEFAULT_MESSAGES.get(code, f"Injected {code}.")


@dataclass(frozen=True)
class ThroughputQuota:
    """Direct PUT limits per stream per second (PutRecord and PutRecordBatch combined)."""

    records_per_second: int
    requests_per_second: int
    bytes_per_second: int


HIGH_QUOTA_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})
MIB = 1_048_576


def region_quota(region: str) -> ThroughputQuota:
    """AWS's default Direct PUT quota for `region` (spec §4)."""
    if region in HIGH_QUOTA_REGIONS:
        return ThroughputQuota(500_000, 2_000, 5 * MIB)
    return ThroughputQuota(100_000, 1_000, 1 * MIB)


class ThroughputWindow:
    """Counts one stream's requests, records and bytes in the current second of clock time."""

    def __init__(self) -> None:
        self._second = -1
        self._requests = 0
        self._records = 0
        self._bytes = 0

    def admit(self, now_seconds: float, quota: ThroughputQuota, sizes: Sequence[int]) -> int | None:
        """None if the request itself is over quota; else how many leading records fit (and count them)."""
        second = math.floor(now_seconds)
        if second != self._second:
            self._second, self._requests, self._records, self._bytes = second, 0, 0, 0
        if self._requests >= quota.requests_per_second:
            return None
        self._requests += 1
        fit = 0
        for size in sizes:
            if self._records + 1 > quota.records_per_second or self._bytes + size > quota.bytes_per_second:
                break
            self._records += 1
            self._bytes += size
            fit += 1
        return fit


@dataclass
class PutFailureRule:
    """Fail records of the next `calls` PutRecordBatch calls (None = every call until cleared)."""

    code: str
    message: str
    positions: frozenset[int] | None = None
    fraction: float | None = None
    predicate: RecordPredicate | None = None
    calls: int | None = 1


@dataclass
class CallFailureRule:
    """Fail the next `times` put calls as a whole; with `store` the records are kept anyway."""

    code: str
    message: str
    times: int
    store: bool


class StreamFaults:
    """The faults injected into one stream's put path (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._put_rules: list[PutFailureRule] = []
        self._call_rules: list[CallFailureRule] = []
        self._latency_seconds = 0.0
        self.quota: ThroughputQuota | None = None

    def inject_put_failures(
        self,
        *,
        positions: Sequence[int] | None = None,
        fraction: float | None = None,
        predicate: RecordPredicate | None = None,
        code: str = "ServiceUnavailableException",
        message: str | None = None,
        calls: int | None = 1,
    ) -> None:
        """Fail chosen 0-based positions, a fraction or predicate matches in the next `calls` batches."""
        if positions is None and fraction is None and predicate is None:
            raise ValueError("give positions, fraction or predicate")
        if fraction is not None and not 0 <= fraction <= 1:
            raise ValueError(f"fraction must be within [0, 1], got {fraction}")
        if calls is not None and calls < 1:
            raise ValueError(f"calls must be >= 1 or None, got {calls}")
        rule = PutFailureRule(
            code,
            message if message is not None else default_message(code),
            frozenset(positions) if positions is not None else None,
            fraction,
            predicate,
            calls,
        )
        with self._lock:
            self._put_rules.append(rule)

    def inject_call_failure(
        self,
        code: str = "ServiceUnavailableException",
        times: int = 1,
        store: bool = False,
        message: str | None = None,
    ) -> None:
        """Fail the next `times` put calls with `code` (HTTP 500 for ServiceUnavailable)."""
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        with self._lock:
            self._call_rules.append(
                CallFailureRule(code, message if message is not None else default_message(code), times, store)
            )

    def add_latency(self, seconds: float) -> None:
        """Delay every put call by `seconds` of clock time (0 removes it)."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        with self._lock:
            self._latency_seconds = seconds

    def throttle(self, quota: ThroughputQuota | None) -> None:
        """Enforce `quota` on this stream (None: back to the service default)."""
        with self._lock:
            self.quota = quota

    def clear(self) -> None:
        """Remove every injected fault and quota override."""
        with self._lock:
            self._put_rules.clear()
            self._call_rules.clear()
            self._latency_seconds = 0.0
            self.quota = None

    @property
    def latency_seconds(self) -> float:
        """The latency added to each call."""
        return self._latency_seconds

    @property
    def armed(self) -> bool:
        """True when any per-call or per-record fault is pending (the put fast path skips the rest)."""
        return bool(self._put_rules or self._call_rules)

    def take_call_failure(self) -> CallFailureRule | None:
        """The whole-call failure for this call, if any (consumes one of its `times`)."""
        with self._lock:
            if not self._call_rules:
                return None
            rule = self._call_rules[0]
            rule.times -= 1
            if rule.times == 0:
                self._call_rules.pop(0)
            return rule

    def record_failures(
        self, records: Sequence[bytes], rng: random.Random
    ) -> list[tuple[str, str] | None] | None:
        """Per-record (code, message) or None for each record of this call; None when nothing is injected."""
        with self._lock:
            if not self._put_rules:
                return None
            rules = list(self._put_rules)
            for rule in rules:
                if rule.calls is not None:
                    rule.calls -= 1
                    if rule.calls == 0:
                        self._put_rules.remove(rule)
            outcome: list[tuple[str, str] | None] = [None] * len(records)
            for index, data in enumerate(records):
                for rule in rules:
                    if _matches(rule, index, data, rng):
                        outcome[index] = (rule.code, rule.message)
                        break
            return outcome


def _matches(rule: PutFailureRule, index: int, data: bytes, rng: random.Random) -> bool:
    if rule.positions is not None and index in rule.positions:
        return True
    if rule.predicate is not None and rule.predicate(index, data):
        return True
    return rule.fraction is not None and rng.random() < rule.fraction
