"""`LoadGenerator`: runs the producer child process and feeds what it acknowledged to the ledger.

The child (harness/load/producer_process.py) produces with librdkafka at the profile's rate on the injected
clock (pickled to it: ScaledClock and SystemClock are arithmetic on the OS monotonic clock, which parent and
child share). The parent thread that calls `run()` turns the child's batches into `ProducedRecord`s for the
ledger and `LoadProgress` snapshots, and returns a `LoadSummary` with the per-second sent counts.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from harness.clock import Clock, ScaledClock, SystemClock
from harness.load.payload import PayloadGenerator
from harness.load.producer_process import AckRow, Go, ProducerJob, run_producer
from harness.load.profile import RateProfile
from harness.load.rate import rate_series
from harness.load.records import LoadProgress, LoadSummary, ProducedRecord

START_SECONDS = 60.0  # real seconds a child may take to connect and send its first batch
JOIN_SECONDS = 10.0


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
        servers = bootstrap_servers
        self._servers = servers if isinstance(servers, str) else ",".join(servers)
        self._payloads = payloads
        self._ledger = ledger
        self._progress = progress
        self._progress_every = progress_every
        self._config = dict(producer_config or {})
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._process: Any = None
        self._conn: Any = None

    def start(self) -> Self:
        """Start the producer process and wait until it is connected and has its producer id.

        Getting ready takes real seconds (a spawned interpreter, a fresh broker's coordinator); doing it
        here, before the run's clock starts, keeps that out of the schedule.
        """
        child_clock(self.clock)
        job = ProducerJob(self._servers, self.topic, self.profile, self._payloads, self._config)
        conn, child_conn = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=run_producer,
            # A clock that leaves out our stalls shares them: the child's schedule stands still with it.
            args=(job, child_conn, self._stop, getattr(self.clock, "stall_share", None)),
            name="msk-harness-producer",
            daemon=True,
        )
        process.start()
        child_conn.close()
        self._process, self._conn = process, conn
        try:
            if not conn.poll(START_SECONDS):
                raise RuntimeError(f"the producer process was not ready in {START_SECONDS:.0f} s")
            message = self._recv(conn, process)
            if message[0] != "ready":
                raise RuntimeError(f"the producer process failed: {message[1]}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the child if it still runs (safe to call twice)."""
        self._stop.set()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        process, self._process = self._process, None
        if process is not None:
            process.join(JOIN_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(JOIN_SECONDS)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def request_stop(self) -> None:
        """Ask a running `run()` to stop soon (the child flushes what it sent and reports it)."""
        self._stop.set()

    def run(self, duration: float | None = None, records: int | None = None) -> LoadSummary:
        """Send on schedule until `duration` clock seconds or `records` records; flush; return the totals."""
        conn, process = self._conn, self._process
        if conn is None or process is None:
            raise RuntimeError("start() the LoadGenerator before run()")
        try:
            conn.send(Go(child_clock(self.clock), duration, records))
            return self._receive(conn, process, duration, records)
        finally:
            self.stop()

    @staticmethod
    def _recv(conn: Any, process: Any) -> Any:
        try:
            return conn.recv()
        except EOFError:  # the child died without a word (killed, or failed before it could report)
            process.join(JOIN_SECONDS)
            raise RuntimeError(f"the producer process exited with code {process.exitcode}") from None

    def _receive(
        self, receiver: Any, process: Any, duration: float | None, records: int | None
    ) -> LoadSummary:
        acked = 0
        sent_per_second: tuple[int, ...] = ()
        origin = self.clock.monotonic()
        next_report = 0.0
        waited = 0.0
        while True:
            if not receiver.poll(1.0):
                waited += 1.0
                if not process.is_alive() and not receiver.poll(0):
                    raise RuntimeError(f"the producer process exited with code {process.exitcode}")
                if waited > START_SECONDS:
                    raise RuntimeError(f"the producer process said nothing for {START_SECONDS:.0f} s")
                continue
            waited = 0.0
            message = self._recv(receiver, process)
            kind = message[0]
            if kind == "acks":
                acked += self._record(message[1])
                sent_per_second = message[2]
                elapsed = self.clock.monotonic() - origin
                if self._progress is not None and elapsed >= next_report:
                    next_report = elapsed + self._progress_every
                    self._progress(self._snapshot(sum(sent_per_second), acked, 0, elapsed))
            elif kind == "done":
                _, sent, failed, elapsed, errors, sent_per_second = message
                if self._progress is not None:
                    self._progress(self._snapshot(sent, acked, failed, elapsed))
                send_seconds = _send_seconds(self.profile, duration, records)
                series = rate_series(self.profile, list(sent_per_second), send_seconds)
                return LoadSummary(sent, acked, failed, elapsed, errors, series)
            else:
                raise RuntimeError(f"the producer process failed: {message[1]}")

    def _record(self, rows: list[AckRow]) -> int:
        ledger, topic = self._ledger, self.topic
        for seq, partition, offset, key, digest, size, headers, sent_at in rows:
            produced_at = datetime.fromtimestamp(sent_at, UTC)
            ledger(ProducedRecord(seq, topic, partition, offset, key, digest, size, headers, produced_at))
        return len(rows)

    def _snapshot(self, sent: int, acked: int, failed: int, elapsed: float) -> LoadProgress:
        return LoadProgress(sent, acked, failed, elapsed, self.profile.rate_at(elapsed))


def child_clock(clock: Clock) -> Clock:
    """The clock a child process follows: the clock itself or what it `portable()`s to; else a clear error."""
    portable = getattr(clock, "portable", None)
    candidate = portable() if callable(portable) else clock
    if not isinstance(candidate, ScaledClock | SystemClock):
        raise TypeError(
            f"the load generator runs in a child process and needs a clock it can follow there "
            f"(ScaledClock or SystemClock), not {type(clock).__name__}"
        )
    return candidate


def _send_seconds(profile: RateProfile, duration: float | None, records: int | None) -> float:
    if records is None:
        assert duration is not None
        return duration
    needed = profile.time_for_records(records)
    return needed if duration is None else min(needed, duration)
