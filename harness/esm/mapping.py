"""`EventSourceMapping`: one Kafka ESM running against a real broker and an `Invoker` (a Backend).

One poll thread owns the consumer: it reads records, filters them, feeds one `Batcher` per poller, hands ready
batches to a worker pool bounded by the §6 concurrency, and applies the commits and releases the workers queue
back. A worker runs one batch through `BatchRunner` (retries, bisect, partial responses, destinations).

Observable: `invocations()` (request id, partition spans, attempt, outcome, duration), `commits()` (offsets
committed over time), `committed_offsets()`, `stuck_partitions()`, `failure_reports()`, `scale_events()`.

Scaling (§6, `simulate_autoscaling`): an applied poller change re-deals partitions to new batchers. Queued,
undelivered records are dropped and re-read from each partition's last commit; a partition whose batch is in
flight stops fetching until that batch resolves, so no two in-flight events ever share a partition. With
`rebalance_on_scale` the in-flight batch's commits are discarded (its partitions' epoch moves on), so the new
owner re-reads it from the last commit: the records are delivered again.

Known deviations from AWS:
- Polling starts at once (`startup_delay_ms` 0); a disabled mapping stops taking new batches but lets an
  in-flight batch finish and commit (`disable_aborts_inflight` false).
- `stop()` abandons batches still retrying: nothing more is committed, so they are redelivered on restart.
- Updates apply to batches formed afterwards (`Enabled`, `BatchSize`, window, filters, error controls).
- On a rebalancing scale event the new owner waits for the old owner's invocation to return before it
  redelivers (AWS may overlap them); that keeps one in-flight event per partition.

Example::

    config = EsmConfig.from_aws({...})
    with EventSourceMapping(config, runtime, bootstrap_servers=kafka.bootstrap_servers,
                            clock=SystemClock(), rng=random.Random(7)) as esm:
        ...
        esm.committed_offsets()   # {0: 120, 1: 97}
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.clock import Clock, random_uuid
from harness.esm.batcher import Batch, Batcher, TopicPartition
from harness.esm.destinations import FailureDestination, RecordContext
from harness.esm.event_builder import EventSource, KafkaRecord, SchemaFormats
from harness.esm.filters import RecordFilter
from harness.esm.invoker import Invoker
from harness.esm.knobs import EsmKnobs
from harness.esm.mapping_state import CommitEvent, Observed, PartitionProgress
from harness.esm.poller import KafkaLog
from harness.esm.retry import AttemptLog, BatchRunner, FailureReport, RunResult
from harness.esm.scaling import Autoscaler, PollerModel, ScaleEvent
from harness.esm.settings import ConsumerGroupRegistry, EsmConfig
from harness.lifecycle import Backend

_BACKLOG_BATCHES = 4  # stop fetching a partition once this many batches' worth of records wait
_MAX_POLL_MS = 100  # the longest the poll thread blocks at a time
# A finishing worker releases its partitions (often with a due backlog) but cannot interrupt a Kafka poll:
# while any worker is busy, Kafka is polled in slices this short.
_BUSY_POLL_MS = 10


class EventSourceMapping(Backend):
    """A running Kafka ESM: consumer group, batching, invocations, retries, commits (start/stop)."""

    name = "event-source-mapping"

    def __init__(
        self,
        config: EsmConfig,
        invoker: Invoker,
        *,
        bootstrap_servers: str,
        clock: Clock,
        rng: random.Random,
        knobs: EsmKnobs | None = None,
        function_arn: str | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        destination_endpoint_url: str | None = None,
        group_registry: ConsumerGroupRegistry | None = None,
        advertised_bootstrap_servers: tuple[str, ...] | None = None,
        schema: SchemaFormats | None = None,
    ) -> None:
        super().__init__()
        self._knobs = knobs or EsmKnobs()
        self._config = config.validated(self._knobs)
        self._invoker = invoker
        self._bootstrap = bootstrap_servers
        self._clock = clock
        self._rng = rng
        self.uuid = random_uuid(rng)
        self.group_id = config.consumer_group_id or self.uuid
        if config.consumer_group_id and group_registry is not None:
            group_registry.claim(config.consumer_group_id, self.uuid)
        self.function_arn = (
            function_arn or f"arn:aws:lambda:{region}:{account_id}:function:{config.function_name}"
        )
        servers = (
            advertised_bootstrap_servers or config.bootstrap_servers or tuple(bootstrap_servers.split(","))
        )
        self.source = EventSource(config.event_source_arn, tuple(servers))
        self._region = region
        self._endpoint = destination_endpoint_url
        self._schema = schema
        self._filter = RecordFilter(self._config.filter_patterns, self._knobs)
        self._lock = threading.Lock()
        self._seen = Observed()  # under _lock
        self._progress = PartitionProgress()  # the poll thread's alone
        self._done: queue.SimpleQueue[tuple[Batch, dict[int, int], RunResult | BaseException]] = (
            queue.SimpleQueue()
        )
        self._pending_commits: queue.SimpleQueue[tuple[int, int, int]] = queue.SimpleQueue()
        self._autoscaler: Autoscaler | None = None
        self._stopping = threading.Event()
        self._worker_done = threading.Event()  # set after a worker queued its result on `_done`
        self._log: KafkaLog | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._destination: FailureDestination | None = None
        self._batchers: list[Batcher] = []
        self.model: PollerModel | None = None
        self._error: BaseException | None = None

    # --- observation -------------------------------------------------------------------------------------
    @property
    def config(self) -> EsmConfig:
        """The current configuration."""
        return self._config

    def invocations(self) -> list[AttemptLog]:
        """Every attempt so far, in completion order."""
        with self._lock:
            return list(self._seen.invocations)

    def commits(self) -> list[CommitEvent]:
        """Every commit so far, in order."""
        with self._lock:
            return list(self._seen.commits)

    def committed_offsets(self) -> dict[int, int]:
        """Latest committed offset (next to read) per partition."""
        with self._lock:
            return dict(self._seen.committed)

    def failure_reports(self) -> list[FailureReport]:
        """Reports sent (or, without a destination, that would have been sent)."""
        with self._lock:
            return list(self._seen.reports)

    def stuck_partitions(self) -> set[int]:
        """Partitions whose batch is blocked or whose latest attempt failed (a poison pill holds them)."""
        with self._lock:
            return set(self._seen.stuck) | set(self._seen.failing)

    def scale_events(self) -> list[ScaleEvent]:
        """Every applied poller change (`simulate_autoscaling`), in order."""
        with self._lock:
            return list(self._seen.scale_events)

    def poll_error(self) -> BaseException | None:
        """The exception that stopped the poll thread, if any."""
        return self._error

    # --- lifecycle ---------------------------------------------------------------------------------------
    def _start(self) -> None:
        self._stopping.clear()
        log = self._log = KafkaLog(
            bootstrap_servers=self._bootstrap,
            topic=self._config.topic,
            group_id=self.group_id,
            client_id=f"esm-{self.uuid[:8]}",
        )
        partitions = log.partitions()
        log.assign(partitions)
        if self._config.starting_position == "LATEST" and self._knobs.startup_delay_ms:
            self._clock.sleep(self._knobs.startup_delay_ms / 1000)
        start = log.position_at(self._config.starting_position, self._config.starting_position_timestamp)
        positions: dict[int, int] = {}
        for partition, committed in log.committed().items():
            position = committed if committed is not None else start[partition]  # existing commits win
            log.seek(partition, position)
            positions[partition] = position
        self._progress = PartitionProgress.starting_at(positions, partitions)
        model = self.model = PollerModel.for_config(self._config, self._knobs, partitions)
        self._autoscaler = Autoscaler(model, self._knobs, now=self._clock.monotonic())
        self._batchers = [self._new_batcher() for _ in range(model.pollers)]
        if self._config.on_failure_destination is not None:
            self._destination = FailureDestination(
                self._config.on_failure_destination,
                esm_uuid=self.uuid,
                rng=self._rng,
                region=self._region,
                endpoint_url=self._endpoint,
                kafka_bootstrap_servers=self._bootstrap,
            )
        workers = model.peak_concurrency if self._autoscaler.enabled else model.max_concurrency
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="esm-invoke")
        self._thread = threading.Thread(target=self._poll_loop, name=f"esm-poll-{self.uuid[:8]}", daemon=True)
        self._thread.start()

    def _new_batcher(self) -> Batcher:
        return Batcher(
            source=self.source,
            batch_size=self._config.batch_size,
            window_s=self._config.window_seconds,
            knobs=self._knobs,
            schema=self._schema,
            rng=random.Random(self._knobs.random_seed),
        )

    def _stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._log is not None:
            self._flush_commits()
            with contextlib.suppress(Exception):
                self._log.close()
        if self._destination is not None:
            self._destination.close()
        self._thread = self._pool = self._log = self._destination = None

    def update(self, params: Mapping[str, Any], *, function_timeout_s: int | None = None) -> EsmConfig:
        """UpdateEventSourceMapping on a running mapping: validated like AWS, applied to new batches."""
        config = self._config.updated(params, knobs=self._knobs, function_timeout_s=function_timeout_s)
        if config.filter_patterns != self._config.filter_patterns:
            self._filter = RecordFilter(config.filter_patterns, self._knobs)
        for batcher in self._batchers:
            batcher.reconfigure(batch_size=config.batch_size, window_s=config.window_seconds)
        self._config = config
        return config

    # --- poll thread -------------------------------------------------------------------------------------
    def _batcher_for(self, partition: int) -> Batcher:
        assert self.model is not None
        return self._batchers[self.model.owner(partition)]

    def _poll_loop(self) -> None:
        try:
            self._poll_until_stopped()
        except BaseException as exc:  # noqa: BLE001 - the thread's error is exposed through poll_error()
            self._error = exc

    def _poll_until_stopped(self) -> None:
        assert self._log is not None
        assert self._pool is not None
        log, pool = self._log, self._pool
        busy = 0
        held_back: set[int] = set()
        while not self._stopping.is_set():
            self._worker_done.clear()  # before draining: a result queued after this wakes the wait below
            busy -= self._drain_done()
            self._flush_commits()
            self._resume_unparked()
            self._autoscale()
            wait_ms = self._wait_ms(self._clock.monotonic(), busy)
            if self._log_fetching(held_back):
                records = log.poll(timeout_ms=min(wait_ms, _BUSY_POLL_MS) if busy else wait_ms)
            else:  # Kafka has nothing to deliver: wait for a worker to finish or the next window (real time)
                self._worker_done.wait(wait_ms / 1000)
                records = []
            if records:
                self._queue_records(records)
            if self._config.enabled:
                busy += self._dispatch(pool, busy)
            held_back = self._apply_backpressure(held_back)  # after dispatching, which shrank the queues

    def _queue_records(self, records: list[KafkaRecord]) -> None:
        """Filter and queue one poll's records (they arrived together: one arrival time)."""
        now = self._clock.monotonic()
        parked, next_offset, keep = self._progress.parked, self._progress.next_offset, self._filter.keep
        batchers: dict[int, Batcher] = {}
        for record in records:
            partition = record.partition
            if partition in parked:
                continue  # its pre-scale batch is still in flight; re-read once it resolves
            if record.offset < next_offset.get(partition, -1):
                continue  # already queued (a fetch that raced a narrowed assignment)
            next_offset[partition] = record.offset + 1
            batcher = batchers.get(partition)
            if batcher is None:
                batcher = batchers[partition] = self._batcher_for(partition)
            batcher.add(record, delivered=keep(record), now=now)

    def _dispatch(self, pool: ThreadPoolExecutor, busy: int) -> int:
        """Hand every due batch to a worker while slots are free; returns how many were dispatched."""
        dispatched = 0
        for batcher in self._batchers:
            while busy + dispatched < self._max_concurrency():
                batch = batcher.take(self._clock.monotonic())
                if batch is None:
                    break
                dispatched += 1
                partitions = {tp[1] for tp in batch.partitions}
                self._progress.in_flight.update(partitions)
                pool.submit(self._run_batch, batch, {p: self._progress.epoch[p] for p in partitions})
        return dispatched

    def _max_concurrency(self) -> int:
        assert self.model is not None
        return self.model.max_concurrency

    def _autoscale(self) -> None:
        """Apply a poller change the autoscaler decided, re-dealing partitions (and maybe rebalancing)."""
        assert self._autoscaler is not None
        assert self.model is not None
        assert self._log is not None
        pollers = self._autoscaler.tick(self._clock.monotonic(), self._lag)
        if pollers is None:
            return
        change = self._autoscaler.last_applied
        assert change is not None
        before, self.model = self.model.pollers, self.model.with_pollers(pollers)
        in_flight = tuple(sorted(self._progress.in_flight))
        rebalanced = in_flight if self._knobs.rebalance_on_scale else ()
        for partition in rebalanced:
            self._progress.epoch[partition] += 1  # the old owner's commits for this batch are now void
        with self._lock:
            stuck = set(self._seen.stuck)
        fetching = self._log.fetching()
        for partition in self.model.partitions:
            if partition in self._progress.in_flight or partition in stuck:
                self._progress.parked.add(partition)
                continue
            self._progress.next_offset[partition] = self._progress.resume[
                partition
            ]  # queued records are re-read
            if partition in fetching:
                self._log.seek(partition, self._progress.resume[partition])
        self._batchers = [self._new_batcher() for _ in range(pollers)]
        event = ScaleEvent(self._clock.now(), before, pollers, change.lag, in_flight, rebalanced)
        with self._lock:
            self._seen.scale_events.append(event)

    def _lag(self) -> int:
        assert self._log is not None
        ends = self._log.end_offsets()
        return sum(max(0, end - self._progress.resume.get(p, end)) for p, end in ends.items())

    def _resume_unparked(self) -> None:
        """Partitions whose pre-scale batch resolved fetch again from their last commit."""
        assert self._log is not None
        if not self._progress.unpark:
            return
        fetching = self._log.fetching()
        for partition in sorted(self._progress.unpark & self._progress.parked):
            self._progress.parked.discard(partition)
            self._progress.next_offset[partition] = self._progress.resume[partition]
            if partition in fetching:
                self._log.seek(partition, self._progress.resume[partition])
        self._progress.unpark.clear()

    def _wait_ms(self, now: float, busy: int) -> int:
        """How long the poll thread may block: until the next batch window is due, at most 100 ms.

        Due windows count only when a batch could be dispatched: a disabled mapping, or one whose
        invocation slots are all busy, must not spin on them (the GIL is shared with the function runtime,
        the Firehose emulator and moto).
        """
        if not self._config.enabled or busy >= self._max_concurrency():
            return _MAX_POLL_MS
        dues = [d for b in self._batchers if (d := b.next_due(now)) is not None]
        if not dues:
            return _MAX_POLL_MS
        return max(0, min(_MAX_POLL_MS, int((min(dues) - now) * 1000)))

    def _log_fetching(self, held_back: set[int]) -> bool:
        """Whether any partition is being fetched (backpressure and parking hold back the rest)."""
        assert self.model is not None
        return any(p not in held_back for p in self.model.partitions)

    def _apply_backpressure(self, held_back: set[int]) -> set[int]:
        assert self._log is not None
        assert self.model is not None
        limit = max(1, self._config.batch_size) * _BACKLOG_BATCHES
        wanted = {
            p for p in self.model.partitions if self._batcher_for(p).pending((self._config.topic, p)) >= limit
        } | self._progress.parked
        if wanted != held_back:
            self._log.fetch_only(set(self.model.partitions) - wanted, self._progress.next_offset)
        return wanted

    def _drain_done(self) -> int:
        finished = 0
        while True:
            try:
                batch, epochs, result = self._done.get_nowait()
            except queue.Empty:
                return finished
            finished += 1
            if isinstance(result, BaseException):
                raise result
            self._progress.in_flight.difference_update(epochs)
            stale = {p for p, epoch in epochs.items() if epoch != self._progress.epoch[p]}
            self._progress.unpark.update(
                p for p in epochs if p in stale or (self._topic(), p) not in result.blocked
            )
            if result.abandoned:
                continue
            for tp in batch.partitions:
                if tp in result.blocked and tp[1] not in stale:
                    with self._lock:
                        self._seen.stuck.add(tp[1])
                else:
                    self._batcher_for(tp[1]).release(tp)

    def _topic(self) -> str:
        return self._config.topic

    def _flush_commits(self) -> None:
        assert self._log is not None
        offsets: dict[int, int] = {}
        while True:
            try:
                partition, offset, epoch = self._pending_commits.get_nowait()
            except queue.Empty:
                break
            if epoch != self._progress.epoch[partition]:
                continue  # a rebalance took the partition from this batch: the new owner redelivers it
            offsets[partition] = max(offset, offsets.get(partition, offset))
        for partition, offset in offsets.items():
            self._progress.resume[partition] = max(offset, self._progress.resume.get(partition, offset))
        if self._knobs.commit_offset_convention == "last_processed":
            offsets = {p: o - 1 for p, o in offsets.items()}
        with self._lock:
            offsets = {p: o for p, o in offsets.items() if o > self._seen.committed.get(p, -1)}
        if not offsets:
            return
        self._log.commit(offsets)
        now = self._clock.now()
        with self._lock:
            for partition, offset in sorted(offsets.items()):
                self._seen.committed[partition] = offset
                self._seen.commits.append(CommitEvent(now, partition, offset))

    # --- workers -----------------------------------------------------------------------------------------
    def _run_batch(self, batch: Batch, epochs: dict[int, int]) -> None:
        def commit(tp: TopicPartition, offset: int) -> None:
            self._pending_commits.put((tp[1], offset, epochs[tp[1]]))

        runner = BatchRunner(
            config=self._config,
            knobs=self._knobs,
            invoker=self._invoker,
            clock=self._clock,
            commit=commit,
            report=self._report,
            log=self._record_attempt,
            stopping=self._stopping.is_set,
            schema=self._schema,
        )
        try:
            result: RunResult | BaseException = runner.run(batch)
        except BaseException as exc:  # noqa: BLE001 - the worker thread hands any error to the poll thread
            result = exc
        with self._lock:
            self._seen.failing.difference_update(tp[1] for tp in batch.partitions)
        self._done.put((batch, epochs, result))
        self._worker_done.set()

    def _record_attempt(self, attempt: AttemptLog) -> None:
        partitions = {int(key.rsplit("-", 1)[1]) for key in attempt.spans}
        with self._lock:
            self._seen.invocations.append(attempt)
            if attempt.outcome in ("ok",):
                self._seen.failing.difference_update(partitions)
            else:
                self._seen.failing.update(partitions)

    def _report(self, report: FailureReport) -> None:
        with self._lock:
            self._seen.reports.append(report)
        if self._destination is not None:
            ctx = RecordContext(
                self.function_arn, self.source, self._knobs, self._clock.now(), random_uuid(self._rng)
            )
            self._destination.send(report, ctx)
