"""The load generator's child process: paces payloads onto a topic with librdkafka, reports back in batches.

Runs in its own interpreter (multiprocessing spawn) so the harness's other threads cannot starve it of the
GIL. It imports nothing heavier than confluent-kafka. Acknowledgements are not tracked with per-record
futures: the child picks each record's partition itself (CRC-32 of the key, librdkafka's "consistent"
partitioner; null keys stick to one partition per batch of records), keeps one FIFO of sequence numbers per
partition, and librdkafka's delivery reports (in produce order per partition, the producer being idempotent)
pop them. Acknowledged records go to the parent as compact tuples, a batch at a time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import threading
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

from harness.clock import Clock, ScaledClock
from harness.clock_stalls import StallAwareClock, stalls_in
from harness.load.payload import Payload, PayloadGenerator
from harness.load.profile import RateProfile
from harness.load.records import create_time_ms

BATCH_SECONDS = 0.05  # real seconds between batches sent to the parent
READY_SECONDS = 60  # real seconds for the cluster to hand the producer its id
FLUSH_SECONDS = 60  # real seconds to wait for the last acknowledgements
NULL_KEY_STICKY = 1000  # null-key records go to one partition for this many records, then the next

# (seq, partition, offset, key, value sha256 hex | None, value size, headers, send instant as epoch seconds)
Headers = tuple[tuple[str, bytes], ...]
AckRow = tuple[int, int, int, bytes | None, str | None, int, Headers, float]


def record_create_time_ms(sent_at: float) -> int:
    """CreateTime for a record sent at epoch `sent_at`, from the same datetime the ledger records."""
    return create_time_ms(datetime.fromtimestamp(sent_at, UTC))


@dataclass(frozen=True)
class Go:
    """Start sending: the clock to pace on (one a child can follow: ScaledClock or SystemClock, pure
    arithmetic on the OS clock) and the stop condition. Sent when the run starts, after the child is ready,
    so the clock is the one in force then."""

    clock: Clock
    duration: float | None
    records: int | None


@dataclass(frozen=True)
class ProducerJob:
    """What the child needs to get ready; pickled to it by multiprocessing spawn."""

    bootstrap_servers: str
    topic: str
    profile: RateProfile
    payloads: PayloadGenerator
    config: dict[str, Any]


def run_producer(job: ProducerJob, conn: Connection, stop: Event, stall_share: Any = None) -> None:
    """Child entry point: connect, say "ready", wait for `Go`, produce on schedule; send ("acks", rows,
    sent_per_second) batches, then "done" (or "error"). With `stall_share` (the parent's stall total) the
    schedule's clock also stands still while the parent stalls, so both sides keep one time."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it sets `stop`
    try:
        producer = _Producer(job, conn, stop)
        producer.wait_until_ready()
        conn.send(("ready",))
        go = _wait_for_go(conn, stop)
        if go is not None:
            producer.run(_following(go, stall_share))
    except BaseException as exc:  # noqa: BLE001 - the child reports any failure to its parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class _Producer:
    def __init__(self, job: ProducerJob, conn: Connection, stop: Event) -> None:
        from confluent_kafka import Producer  # noqa: PLC0415 - only the child needs librdkafka

        self.job = job
        self.conn = conn
        self.stop = stop
        config = {
            "bootstrap.servers": job.bootstrap_servers,
            "acks": "all",
            "enable.idempotence": True,  # keeps per-partition order: the FIFOs below rely on it
            "linger.ms": 5,
            "queue.buffering.max.messages": 500_000,
            "message.timeout.ms": 120_000,
        }
        config.update(job.config)
        self._ready = threading.Event()
        if config.get("enable.idempotence"):
            config["statistics.interval.ms"] = 50  # only to learn when the producer id is assigned
            config["stats_cb"] = self._on_stats
        else:
            self._ready.set()
        self.producer = Producer(config)
        metadata = self.producer.list_topics(job.topic, timeout=30)
        topic = metadata.topics[job.topic]
        if topic.error is not None:
            raise RuntimeError(f"topic {job.topic!r}: {topic.error}")
        self.partitions = len(topic.partitions)
        # Per partition, in produce order: (seq, send instant, headers); delivery reports carry no headers.
        self.fifos: list[deque[tuple[int, float, Headers]]] = [deque() for _ in range(self.partitions)]
        self.rows: list[AckRow] = []
        self.failed = 0
        self.errors: list[str] = []
        self.parent = os.getppid()

    def _on_stats(self, stats: str) -> None:
        if not self._ready.is_set() and json.loads(stats).get("eos", {}).get("idemp_state") == "Assigned":
            self._ready.set()

    def wait_until_ready(self) -> None:
        """Serve librdkafka until the idempotent producer has its id: sends before that would wait unseen
        (a fresh broker answers "coordinator load in progress" for a while) and arrive late in a burst."""
        for _ in range(int(READY_SECONDS / 0.05)):
            if self._ready.is_set() or self.stop.is_set():
                return
            self.producer.poll(0.05)
        raise RuntimeError(f"the producer got no producer id from the cluster in {READY_SECONDS:.0f} s")

    def _on_delivery(self, err: Any, msg: Any) -> None:
        seq, sent_at, headers = self.fifos[msg.partition()].popleft()
        if err is not None:
            self.failed += 1
            if len(self.errors) < 100:
                self.errors.append(f"seq {seq}: {err}")
            return
        value = msg.value()
        digest = None if value is None else hashlib.sha256(value).hexdigest()
        size = 0 if value is None else len(value)
        self.rows.append((seq, msg.partition(), msg.offset(), msg.key(), digest, size, headers, sent_at))

    def run(self, go: Go) -> None:
        job, clock, poll, send = self.job, go.clock, self.producer.poll, self._send
        payloads = job.payloads
        origin = clock.monotonic()
        epoch = clock.now().timestamp() - origin  # epoch seconds = epoch + clock.monotonic()
        sent_per_second: list[int] = []
        sent = 0
        ahead = 0.001 * _speed(clock)
        next_batch = origin + BATCH_SECONDS * _speed(clock)
        for due in job.profile.schedule(duration=go.duration, records=go.records):
            now = clock.monotonic()
            if due > now - origin + ahead:  # sleeps shorter than ~1 ms overshoot: send a little early instead
                if now >= next_batch:
                    next_batch = now + BATCH_SECONDS * _speed(clock)
                    if self._flush_batch(sent_per_second):
                        break
                clock.sleep(due - (now - origin))
                now = clock.monotonic()
            send(payloads.next(), epoch + now)
            second = int(now - origin)
            while len(sent_per_second) <= second:
                sent_per_second.append(0)
            sent_per_second[second] += 1
            sent += 1
            if sent % 512 == 0:
                poll(0)
                if now >= next_batch:
                    next_batch = now + BATCH_SECONDS * _speed(clock)
                    if self._flush_batch(sent_per_second):
                        break
        self._drain(sent_per_second)
        elapsed = clock.monotonic() - origin
        self.conn.send(("done", sent, self.failed, elapsed, tuple(self.errors), tuple(sent_per_second)))

    def _send(self, payload: Payload, sent_at: float) -> None:
        """Queue one record on its partition (key hash; sticky runs for null keys), waiting for queue room."""
        key = payload.key
        if key is None:
            partition = (payload.seq // NULL_KEY_STICKY) % self.partitions
        else:
            partition = zlib.crc32(key) % self.partitions
        self.fifos[partition].append((payload.seq, sent_at, payload.headers))
        while True:
            try:
                self.producer.produce(
                    self.job.topic,
                    value=payload.value,
                    key=key,
                    partition=partition,
                    headers=list(payload.headers) or None,
                    timestamp=record_create_time_ms(sent_at),
                    on_delivery=self._on_delivery,
                )
                return
            except BufferError:  # librdkafka's queue is full: serve reports until there is room
                self.producer.poll(0.01)

    def _drain(self, sent_per_second: list[int]) -> None:
        """Wait for outstanding acknowledgements, passing them on as they come, then send the last rows."""
        for _ in range(FLUSH_SECONDS):  # bounded: a dead broker must not hold the run forever
            if self.producer.flush(1.0) == 0:
                break
            self._flush_batch(sent_per_second)
        self._flush_batch(sent_per_second)

    def _flush_batch(self, sent_per_second: list[int]) -> bool:
        """Send the acknowledged rows to the parent; True when the parent asked to stop or went away."""
        rows, self.rows = self.rows, []
        self.conn.send(("acks", rows, tuple(sent_per_second)))
        return self.stop.is_set() or os.getppid() != self.parent


def _following(go: Go, stall_share: Any) -> Go:
    """`go` with its clock made to stand still while the parent stalls (when the parent shares that)."""
    clock = go.clock
    if stall_share is None or not isinstance(clock, ScaledClock):
        return go
    follower = StallAwareClock(start=clock.now(), speed=clock.speed, stalled=stalls_in(stall_share))
    return dataclasses.replace(go, clock=follower)


def _wait_for_go(conn: Connection, stop: Event) -> Go | None:
    """The parent's `Go`, or None when it asked to stop or went away first."""
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent:
        if conn.poll(0.1):
            go = conn.recv()
            assert isinstance(go, Go)
            return go
    return None


def _speed(clock: Clock) -> float:
    """Clock seconds per real second (1 for a real-time clock)."""
    return float(getattr(clock, "speed", 1.0))
