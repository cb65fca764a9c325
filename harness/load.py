"""Load generation: rate profiles (pure), seeded payloads, and a producer that writes them to Kafka.

* `RateProfile` — records/s as a piecewise-linear function of clock seconds; `schedule()` gives the send
  times (record k goes out when the integral of the rate reaches k), so a profile is reproducible and
  testable without a broker.
* `PayloadGenerator` — keys, values and headers drawn from one seeded `random.Random`: JSON documents with a
  size distribution, binary values, tombstones, finite or unique keys with a share of null keys, headers with
  non-ASCII bytes and repeated names.
* `LoadGenerator` — sends the payloads with kafka-python at the profile's rate on an injected `Clock`
  (rates are per clock second: a clock running 10x fast sends 10x the real rate) and hands every
  acknowledged record to a ledger callback for the verifier.

Example::

    profile = RateProfile.constant(1000)
    payloads = PayloadGenerator(PayloadSpec(), random.Random(7))
    with LoadGenerator(servers, "orders", profile, payloads, clock, ledger=records.append) as gen:
        summary = gen.run(duration=5.0)
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Self

from harness.clock import Clock

_INF = math.inf


@dataclass(frozen=True)
class Segment:
    """Rate moving linearly from `start_rate` to `end_rate` between clock seconds `start` and `end`."""

    start: float
    end: float
    start_rate: float
    end_rate: float

    def rate_at(self, t: float) -> float:
        """Rate at `t` inside this segment."""
        if self.end == _INF or self.start_rate == self.end_rate:
            return self.start_rate
        return self.start_rate + (self.end_rate - self.start_rate) * (t - self.start) / (
            self.end - self.start
        )

    def count_until(self, t: float) -> float:
        """Records sent from the segment start up to `t` (the integral of the rate)."""
        tau = min(t, self.end) - self.start
        if tau <= 0:
            return 0.0
        if tau == _INF:
            return _INF if self.start_rate > 0 else 0.0
        slope = 0.0 if self.end == _INF else (self.end_rate - self.start_rate) / (self.end - self.start)
        return self.start_rate * tau + slope * tau * tau / 2

    def time_of(self, count: float) -> float:
        """Clock second at which the integral since the segment start reaches `count` (must lie inside)."""
        if count <= 0:
            return self.start
        r0 = self.start_rate
        slope = 0.0 if self.end == _INF else (self.end_rate - r0) / (self.end - self.start)
        if abs(slope) < 1e-12:
            return self.start + count / r0
        # Solve slope/2 * tau^2 + r0 * tau - count = 0 in the numerically stable form.
        root = math.sqrt(max(0.0, r0 * r0 + 2 * slope * count))
        return self.start + 2 * count / (r0 + root)


@dataclass(frozen=True)
class RateProfile:
    """Records per clock second over time; `kind` is constant, ramp, step or burst."""

    kind: Literal["constant", "ramp", "step", "burst"]
    segments: tuple[Segment, ...]
    periodic: tuple[Segment, ...] = ()  # repeated forever after `segments`, each copy `period` long
    period: float = 0.0

    @classmethod
    def constant(cls, rate: float) -> RateProfile:
        """`rate` records/s forever."""
        _check_rate(rate, positive=True)
        return cls("constant", (Segment(0.0, _INF, rate, rate),))

    @classmethod
    def ramp(cls, start_rate: float, end_rate: float, ramp_seconds: float) -> RateProfile:
        """Linear from `start_rate` to `end_rate` over `ramp_seconds`, then `end_rate`."""
        _check_rate(start_rate)
        _check_rate(end_rate)
        if ramp_seconds <= 0:
            raise ValueError(f"ramp_seconds must be > 0, got {ramp_seconds}")
        if start_rate == 0 and end_rate == 0:
            raise ValueError("a ramp from 0 to 0 sends nothing")
        return cls(
            "ramp",
            (
                Segment(0.0, ramp_seconds, start_rate, end_rate),
                Segment(ramp_seconds, _INF, end_rate, end_rate),
            ),
        )

    @classmethod
    def step(cls, steps: list[tuple[float, float]]) -> RateProfile:
        """Rate `r` from time `t` on, for each `(t, r)`; the first step is at 0 and times increase."""
        if not steps or steps[0][0] != 0:
            raise ValueError("the first step must be at 0")
        for (t0, _), (t1, _) in itertools.pairwise(steps):
            if t1 <= t0:
                raise ValueError(f"step times must increase ({t0} then {t1})")
        for _, rate in steps:
            _check_rate(rate)
        ends = [t for t, _ in steps[1:]] + [_INF]
        return cls(
            "step",
            tuple(Segment(float(t), float(end), r, r) for (t, r), end in zip(steps, ends, strict=True)),
        )

    @classmethod
    def burst(
        cls, base_rate: float, burst_rate: float, every: float, length: float, first_at: float = 0.0
    ) -> RateProfile:
        """`base_rate`, with `burst_rate` for `length` seconds every `every` seconds from `first_at` on."""
        _check_rate(base_rate)
        _check_rate(burst_rate, positive=True)
        if not 0 < length < every:
            raise ValueError(f"burst length must be in (0, every={every}), got {length}")
        if first_at < 0:
            raise ValueError("first_at must be >= 0")
        lead = (Segment(0.0, first_at, base_rate, base_rate),) if first_at > 0 else ()
        cycle = (Segment(0.0, length, burst_rate, burst_rate), Segment(length, every, base_rate, base_rate))
        return cls("burst", lead, cycle, every)

    def iter_segments(self) -> Iterator[Segment]:
        """All segments in time order (a burst profile's cycle repeats forever)."""
        yield from self.segments
        if not self.periodic:
            return
        origin = self.segments[-1].end if self.segments else 0.0
        while True:
            for seg in self.periodic:
                yield _shift(seg, origin)
            origin += self.period

    def rate_at(self, t: float) -> float:
        """Records/s at clock second `t` (0 before the start)."""
        if t < 0:
            return 0.0
        for seg in self.iter_segments():
            if seg.start <= t < seg.end:
                return seg.rate_at(t)
        return 0.0  # pragma: no cover - segments cover [0, inf)

    def count_until(self, t: float) -> float:
        """Expected number of records sent in [0, t)."""
        total = 0.0
        for seg in self.iter_segments():
            if seg.start >= t:
                break
            total += seg.count_until(t)
        return total

    def time_for_records(self, records: int) -> float:
        """Clock second at which the last of `records` records is sent (inf if the rate never gets there)."""
        if records <= 0:
            return 0.0
        target = records - 1  # record k goes out when the integral reaches k
        before = 0.0
        for seg in self.iter_segments():
            in_seg = seg.count_until(seg.end)
            if target - before < in_seg - 1e-9:  # the same test `schedule` uses
                return seg.time_of(target - before)
            if in_seg == 0 and seg.end == _INF:
                return _INF
            before += in_seg
        return _INF  # pragma: no cover - the last segment is infinite

    def schedule(self, duration: float | None = None, records: int | None = None) -> Iterator[float]:
        """Send times in [0, duration): record k goes out when the rate's integral reaches k (from 0)."""
        if duration is None and records is None:
            raise ValueError("give a duration, a record count or both")
        horizon = _INF if duration is None else duration
        sent = 0
        before = 0.0  # records due before the current segment
        for seg in self.iter_segments():
            if seg.start >= horizon:
                return
            in_seg = seg.count_until(seg.end)
            while sent - before < in_seg - 1e-9:
                if records is not None and sent >= records:
                    return
                t = seg.time_of(sent - before)
                if t >= horizon:
                    return
                yield t
                sent += 1
            if in_seg == 0 and seg.end == _INF:
                return  # the rate stays 0 from here on
            before += in_seg


def _shift(seg: Segment, by: float) -> Segment:
    return Segment(seg.start + by, seg.end + by, seg.start_rate, seg.end_rate)


def _check_rate(rate: float, *, positive: bool = False) -> None:
    if rate < 0 or (positive and rate == 0) or not math.isfinite(rate):
        raise ValueError(f"rate must be {'> 0' if positive else '>= 0'} and finite, got {rate}")


@dataclass(frozen=True)
class SizeDistribution:
    """Value sizes in bytes: fixed, uniform(min, max), normal(mean, sd), lognormal(median, sigma)."""

    distribution: Literal["fixed", "uniform", "normal", "lognormal"] = "fixed"
    size: int = 200
    minimum: int = 1
    maximum: int = 1_048_576
    mean: float = 200.0
    stddev: float = 0.0

    def draw(self, rng: random.Random) -> int:
        """One size."""
        if self.distribution == "fixed":
            return self.size
        if self.distribution == "uniform":
            return rng.randint(self.minimum, self.maximum)
        if self.distribution == "normal":
            value = rng.gauss(self.mean, self.stddev)
        else:
            value = rng.lognormvariate(math.log(self.mean), self.stddev)
        return max(self.minimum, min(self.maximum, round(value)))


@dataclass(frozen=True)
class PayloadSpec:
    """What records look like: value mix, size distribution, keys and headers."""

    json_share: float = 1.0
    binary_share: float = 0.0
    tombstone_share: float = 0.0
    size: SizeDistribution = field(default_factory=SizeDistribution)
    key_cardinality: int = 100  # 0 = a unique key per record
    key_prefix: str = "key-"
    null_key_share: float = 0.0
    header_count: int = 0
    non_ascii_headers: bool = False
    duplicate_header_names: bool = False

    def key_names(self) -> frozenset[str] | None:
        """Every non-null key the load can produce, or None when keys are unique per record."""
        if self.key_cardinality == 0:
            return None
        return frozenset(f"{self.key_prefix}{i}" for i in range(self.key_cardinality))


Header = tuple[str, bytes]
_HEADER_NAMES = ("trace-id", "source", "content-type", "tenant", "retry")
_NON_ASCII_TEXT = "grüße-東京-ß"


@dataclass(frozen=True)
class Payload:
    """One record to send: sequence number, key, value (None = tombstone) and headers."""

    seq: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]


class PayloadGenerator:
    """Draws payloads from one seeded RNG; the same seed gives the same sequence of records."""

    def __init__(self, spec: PayloadSpec, rng: random.Random) -> None:
        total = spec.json_share + spec.binary_share + spec.tombstone_share
        if total <= 0:
            raise ValueError("payload shares must add up to more than 0")
        self.spec = spec
        self._rng = rng
        self._weights = (spec.json_share / total, spec.binary_share / total, spec.tombstone_share / total)
        self._seq = 0

    def next(self) -> Payload:
        """The next record."""
        rng, spec, seq = self._rng, self.spec, self._seq
        self._seq += 1
        kind = rng.choices(("json", "binary", "tombstone"), weights=self._weights)[0]
        value: bytes | None
        if kind == "tombstone":
            value = None
        elif kind == "binary":
            value = rng.randbytes(spec.size.draw(rng))
        else:
            value = json_document(seq, spec.size.draw(rng), rng)
        # A tombstone always has a key: compaction needs one, and Kafka clients refuse a record with neither.
        return Payload(seq, self._key(seq, allow_null=value is not None), value, self._headers(seq))

    def _key(self, seq: int, *, allow_null: bool) -> bytes | None:
        spec = self.spec
        if allow_null and spec.null_key_share and self._rng.random() < spec.null_key_share:
            return None
        index = seq if spec.key_cardinality == 0 else self._rng.randrange(spec.key_cardinality)
        return f"{spec.key_prefix}{index}".encode()

    def _headers(self, seq: int) -> tuple[Header, ...]:
        spec, rng = self.spec, self._rng
        headers: list[Header] = []
        for i in range(spec.header_count):
            name = _HEADER_NAMES[i % len(_HEADER_NAMES)]
            if spec.duplicate_header_names and i > 0 and i % 2 == 1:
                name = headers[i - 1][0]
            value = f"{name}-{seq}-{rng.randrange(1_000_000)}".encode()
            if spec.non_ascii_headers and i % 2 == 0:
                value = _NON_ASCII_TEXT.encode() + bytes([0x80 + rng.randrange(0x80), 0xFF])
            headers.append((name, value))
        return tuple(headers)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def json_document(seq: int, size: int, rng: random.Random) -> bytes:
    """A compact JSON object of exactly `size` bytes when `size` allows (else the smallest such document)."""
    doc: dict[str, Any] = {"seq": seq, "id": f"{rng.getrandbits(64):016x}", "amount": rng.randrange(100_000)}
    doc["status"] = rng.choice(("paid", "pending", "refunded"))
    base = json.dumps(doc, separators=(",", ":")).encode()
    pad = size - len(base) - len(',"pad":""')
    if pad < 0:
        return base
    doc["pad"] = "".join(rng.choices(_LETTERS, k=pad))
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ProducedRecord:
    """What the broker acknowledged, as the verifier needs it."""

    seq: int
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value_sha256: str | None  # None for a tombstone
    value_size: int
    headers: tuple[Header, ...]
    produced_at: datetime  # clock time of the send


@dataclass(frozen=True)
class LoadProgress:
    """A progress snapshot."""

    sent: int
    acked: int
    failed: int
    elapsed: float  # clock seconds since the start
    rate: float  # records/s the profile asks for now


@dataclass(frozen=True)
class LoadSummary:
    """The outcome of a run."""

    sent: int
    acked: int
    failed: int
    elapsed: float
    errors: tuple[str, ...]


def value_sha256(value: bytes | None) -> str | None:
    """Hex SHA-256 of a value (None for a tombstone), as recorded in the ledger."""
    return None if value is None else hashlib.sha256(value).hexdigest()


class LoadGenerator:
    """Produces payloads to a topic at a profile's rate on an injected clock; records what was acked."""

    def __init__(
        self,
        bootstrap_servers: str | list[str],
        topic: str,
        profile: RateProfile,
        payloads: PayloadGenerator,
        clock: Clock,
        *,
        ledger: Callable[[ProducedRecord], None],
        progress: Callable[[LoadProgress], None] | None = None,
        progress_every: float = 1.0,
        producer_config: dict[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self.profile = profile
        self.clock = clock
        self._payloads = payloads
        self._ledger = ledger
        self._progress = progress
        self._progress_every = progress_every
        # Idempotence keeps per-partition order and avoids duplicates when the producer retries.
        config: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": 5,
            "retries": 2_147_483_647,
            "request_timeout_ms": 30_000,
        }
        config.update(producer_config or {})
        self._config = config
        self._producer: Any = None
        self._lock = threading.Lock()
        self._acked = 0
        self._failed = 0
        self._errors: list[str] = []
        self._stop = threading.Event()

    def start(self) -> Self:
        """Connect the producer."""
        from kafka import KafkaProducer  # noqa: PLC0415 - the pure parts of this module need no client

        self._producer = KafkaProducer(**self._config)
        return self

    def stop(self) -> None:
        """Flush and close the producer (safe to call twice)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.flush(timeout=30)
            finally:
                producer.close(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def request_stop(self) -> None:
        """Ask a running `run()` to stop after the current record."""
        self._stop.set()

    def run(self, duration: float | None = None, records: int | None = None) -> LoadSummary:
        """Send on schedule until `duration` clock seconds or `records` records; flush; return the totals."""
        if self._producer is None:
            raise RuntimeError("start() the LoadGenerator before run()")
        origin = self.clock.monotonic()
        sent = 0
        next_report = self._progress_every
        for due in self.profile.schedule(duration=duration, records=records):
            if self._stop.is_set():
                break
            elapsed = self.clock.monotonic() - origin
            if due > elapsed:
                self.clock.sleep(due - elapsed)
                elapsed = due
            self._send(self._payloads.next())
            sent += 1
            if self._progress is not None and elapsed >= next_report:
                next_report = elapsed + self._progress_every
                self._progress(self._snapshot(sent, elapsed))
        self._producer.flush(timeout=60)
        elapsed = self.clock.monotonic() - origin
        if self._progress is not None:
            self._progress(self._snapshot(sent, elapsed))
        with self._lock:
            return LoadSummary(sent, self._acked, self._failed, elapsed, tuple(self._errors))

    def _snapshot(self, sent: int, elapsed: float) -> LoadProgress:
        with self._lock:
            return LoadProgress(sent, self._acked, self._failed, elapsed, self.profile.rate_at(elapsed))

    def _send(self, payload: Payload) -> None:
        produced_at = self.clock.now()
        future = self._producer.send(  # CreateTime is clock time, like the S3 keys and the ESM's record age
            self.topic,
            key=payload.key,
            value=payload.value,
            headers=list(payload.headers),
            timestamp_ms=round(produced_at.timestamp() * 1000),
        )
        digest = value_sha256(payload.value)
        size = 0 if payload.value is None else len(payload.value)

        def acked(metadata: Any) -> None:
            record = ProducedRecord(
                payload.seq,
                metadata.topic,
                metadata.partition,
                metadata.offset,
                payload.key,
                digest,
                size,
                payload.headers,
                produced_at,
            )
            with self._lock:
                self._acked += 1
                self._ledger(record)

        def failed(exc: BaseException) -> None:
            with self._lock:
                self._failed += 1
                self._errors.append(f"seq {payload.seq}: {type(exc).__name__}: {exc}")

        future.add_callback(acked)
        future.add_errback(failed)
