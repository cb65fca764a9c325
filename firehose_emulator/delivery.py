"""Delivery of one stream's records to the object store (spec §5, §7, §9.1, §10), clocked by a Clock.

`StreamDelivery.accept` buffers records on the caller's thread (no compression, no I/O). Sealed buffers go
to a per-stream worker thread that names the object (from the oldest arrival and the settings at seal time),
compresses the body and PUTs it. A failed PUT keeps the object (same key and body, so retries never duplicate)
and retries with exponential backoff in clock time; data older than `retention_seconds` is dropped, counted
and logged. A `DeliveryTicker` calls `run_due()` on every stream once per tick; tests call `run_due()` and
`flush()` directly, which wait for the worker, so a FakeClock test never sleeps.

Known deviations from AWS:

* Retries happen on ticks: a retry falls due base*2^(n-1) seconds (capped) after the n-th failure and runs
  on the next `run_due()`/tick after that. AWS's schedule is not documented.
* `flush()` retries every pending object at once, ignoring the backoff (a test hook, Appendix B).
* The retention horizon is measured from the oldest record's arrival (AWS: "more than 24 hours").
* Delivery failures are logged with `logging` (logger ``firehose_emulator.delivery``), not to CloudWatch Logs.
* DeliveryToS3.Records/.Bytes count the original record bytes (delimiters excluded), after the PUT succeeds.
* Error-output objects (`accept_failed`) are not buffered: each call becomes one object, delivered and retried
  like data objects, with no extension and uncompressed by default (``compress_error_objects``).

Example::

    delivery = StreamDelivery(settings, store, clock, random.Random(7), StreamMetrics())
    delivery.accept([b'{"a":1}', b'{"a":2}'])
    delivery.flush()                      # one object written, synchronously
    delivery.delivery_log[0].key          # "2026/07/13/14/orders-1-2026-07-13-14-05-09-<uuid>"
    delivery.close()
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from firehose_emulator.buffering import DeliveryBuffer, Flush
from firehose_emulator.clock import Clock, random_uuid
from firehose_emulator.compression import compress, content_encoding_for, object_extension
from firehose_emulator.delivery_types import (
    DeliveredObject,
    DeliveryOptions,
    DestinationSettings,
    DroppedBatch,
)
from firehose_emulator.error_output import FailedRecord, error_lines
from firehose_emulator.keys import (
    evaluate_error_prefix,
    evaluate_prefix,
    object_name,
    random_string,
    to_time_zone,
)
from firehose_emulator.metrics import StreamMetrics
from firehose_emulator.object_store import OBJECT_CONTENT_TYPE, ObjectStore, ObjectStoreError
from firehose_emulator.ticker import DeliveryTicker

__all__ = [
    "DeliveredObject",
    "DeliveryOptions",
    "DeliveryTicker",
    "DestinationSettings",
    "DroppedBatch",
    "FailedRecord",
    "StreamDelivery",
]

logger = logging.getLogger("firehose_emulator.delivery")


@dataclass
class _PendingObject:
    """A sealed buffer awaiting (re)delivery; key and body are fixed on first use so retries are identical."""

    flush: Flush
    settings: DestinationSettings
    next_attempt: datetime
    attempts: int = 0
    key: str | None = None
    body: bytes | None = None
    last_error: ObjectStoreError | None = None
    in_flight: bool = field(default=False)
    error_output_type: str | None = None  # set for error-output objects (spec §9.2)


class StreamDelivery:
    """Buffers one stream's records and delivers sealed buffers to the object store (thread-safe)."""

    def __init__(  # noqa: PLR0917 - the contract's positional order
        self,
        settings: DestinationSettings,
        store: ObjectStore,
        clock: Clock,
        rng: random.Random,
        metrics: StreamMetrics,
        options: DeliveryOptions = DeliveryOptions(),  # noqa: B008 - frozen, so one shared default is safe
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._rng = rng
        self._metrics = metrics
        self._options = options
        self._lock = threading.Condition()
        self._buffer = DeliveryBuffer(settings.buffer_size_bytes, settings.buffer_interval_seconds)
        self._pending: list[_PendingObject] = []
        self._log: list[DeliveredObject] = []
        self._dropped: list[DroppedBatch] = []
        self._requested = 0
        self._completed = 0
        self._puts = 0
        self._successful_puts = 0
        self._discarded = False
        self._closed = False
        self._worker = threading.Thread(
            target=self._work, name=f"firehose-delivery-{settings.stream_name}", daemon=True
        )
        self._worker.start()

    # --- caller side -------------------------------------------------------------------------------------

    def accept(self, records: Sequence[bytes]) -> None:
        """Buffer records arriving now; a buffer that reaches the size hint is handed to the worker."""
        now = self._clock.now()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"delivery for stream {self._settings.stream_name} is closed")
            if self._discarded:
                logger.debug(
                    "stream %s deleted: %d records not buffered", self._settings.stream_name, len(records)
                )
                return
            sealed = False
            for record in records:
                flush = self._buffer.add(bytes(record), now)
                if flush is not None:
                    self._enqueue(flush, now)
                    sealed = True
            if sealed:
                self._request()
            self._update_freshness(now)

    def accept_failed(self, failures: Sequence[FailedRecord], error_output_type: str) -> None:
        """Queue one error-output object (spec §9.2) holding a JSON line per failed record."""
        if not failures:
            return
        now = self._clock.now()
        lines = tuple(error_lines(failures, lambda_arn_field_name=self._options.lambda_arn_field_name))
        arrivals = [failure.arrival for failure in failures]
        flush = Flush(lines, min(arrivals), max(arrivals), sum(len(f.data) for f in failures))
        with self._lock:
            if self._closed or self._discarded:
                return
            self._pending.append(
                _PendingObject(flush, self._settings, next_attempt=now, error_output_type=error_output_type)
            )
            self._request()

    def run_due(self, *, wait: bool = True) -> None:
        """Seal a buffer whose interval elapsed and attempt every object that is due; wait for the worker."""
        now = self._clock.now()
        with self._lock:
            if self._closed or self._discarded:
                return
            flush = self._buffer.due(now)
            if flush is not None:
                self._enqueue(flush, now)
            if any(item.next_attempt <= now and not item.in_flight for item in self._pending):
                ticket = self._request()
            else:
                self._update_freshness(now)
                ticket = self._requested  # still wait for work already handed to the worker
            if wait:
                self._wait_for(ticket)

    def flush(self) -> None:
        """Seal now and attempt every pending object once, synchronously (ignores retry backoff)."""
        now = self._clock.now()
        with self._lock:
            if self._closed or self._discarded:
                return
            flush = self._buffer.drain()
            if flush is not None:
                self._enqueue(flush, now)
            for item in self._pending:
                item.next_attempt = min(item.next_attempt, now)
            if not self._pending:
                return
            self._wait_for(self._request())

    def update_settings(self, settings: DestinationSettings) -> None:
        """Use `settings` (a new version) for every buffer sealed from now on."""
        with self._lock:
            self._settings = settings
            self._buffer.set_limits(settings.buffer_size_bytes, settings.buffer_interval_seconds)

    def discard(self) -> None:
        """Drop everything buffered or pending (the stream was deleted); nothing is delivered afterwards."""
        with self._lock:
            self._discarded = True
            self._buffer.drain()
            self._pending.clear()
            self._metrics.set("DeliveryToS3.DataFreshness", 0.0)
            self._lock.notify_all()

    def close(self) -> None:
        """Stop the worker thread (call flush or discard first; pending data stays undelivered)."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._worker is not threading.current_thread():
            self._worker.join()

    @property
    def settings(self) -> DestinationSettings:
        """The settings that the next sealed buffer will use."""
        with self._lock:
            return self._settings

    @property
    def delivery_log(self) -> list[DeliveredObject]:
        """Every object delivered so far, in delivery order."""
        with self._lock:
            return list(self._log)

    @property
    def dropped(self) -> list[DroppedBatch]:
        """Every batch dropped past the retention horizon."""
        with self._lock:
            return list(self._dropped)

    def pending_records(self) -> int:
        """Records buffered or sealed but not yet delivered."""
        with self._lock:
            return self._buffer.record_count + sum(len(item.flush.records) for item in self._pending)

    # --- internals (the lock is held unless noted) ----------------------------------------------------------

    def _enqueue(self, flush: Flush, now: datetime) -> None:
        self._pending.append(_PendingObject(flush, self._settings, next_attempt=now))

    def _request(self) -> int:
        self._requested += 1
        self._lock.notify_all()
        return self._requested

    def _wait_for(self, ticket: int) -> None:
        while self._completed < ticket and not self._closed and not self._discarded:
            self._lock.wait()

    def _update_freshness(self, now: datetime) -> None:
        arrivals = [item.flush.oldest_arrival for item in self._pending]
        if self._buffer.oldest_arrival is not None:
            arrivals.append(self._buffer.oldest_arrival)
        age = (now - min(arrivals)).total_seconds() if arrivals else 0.0
        self._metrics.set("DeliveryToS3.DataFreshness", max(0.0, age))

    def _work(self) -> None:
        """Worker loop: on each request, attempt every object that is due at the current clock time."""
        while True:
            with self._lock:
                while self._requested == self._completed and not self._closed:
                    self._lock.wait()
                if self._closed:
                    self._completed = self._requested
                    self._lock.notify_all()
                    return
                ticket = self._requested
                now = self._clock.now()
                due = [item for item in self._pending if item.next_attempt <= now and not item.in_flight]
                for item in due:
                    item.in_flight = True
            for item in due:
                try:
                    self._attempt(item)
                except (
                    Exception
                ) as error:  # a bug or a broken store must not kill the worker and hang waiters
                    logger.exception("stream %s: unexpected delivery failure", item.settings.stream_name)
                    self._failed(item, ObjectStoreError("InternalError", f"{type(error).__name__}: {error}"))
            with self._lock:
                self._update_freshness(self._clock.now())
                self._completed = max(self._completed, ticket)
                self._lock.notify_all()

    def _attempt(self, item: _PendingObject) -> None:
        """Deliver one object (lock not held during naming, compression and the PUT)."""
        now = self._clock.now()
        with self._lock:
            if self._discarded or item not in self._pending:
                return
            if (now - item.flush.oldest_arrival).total_seconds() >= self._options.retention_seconds:
                self._drop(item)
                return
            if item.key is None:
                item.key = self._object_key(item, now)
        if item.body is None:
            item.body = self._body(item, now)
        settings = item.settings
        try:
            self._store.put_object(
                settings.bucket,
                item.key,
                item.body,
                content_type=OBJECT_CONTENT_TYPE,
                content_encoding=content_encoding_for(self._compression_of(item)),
                kms_key_arn=settings.kms_key_arn,
            )
        except ObjectStoreError as error:
            self._failed(item, error)
            return
        self._succeeded(item)

    def _compression_of(self, item: _PendingObject) -> str:
        """Error objects are uncompressed unless ``compress_error_objects`` (spec §9.2)."""
        if item.error_output_type is not None and not self._options.compress_error_objects:
            return "UNCOMPRESSED"
        return item.settings.compression

    def _object_key(self, item: _PendingObject, now: datetime) -> str:
        settings = item.settings
        options = self._options
        prefix_time = to_time_zone(item.flush.oldest_arrival, settings.custom_time_zone)
        suffix_source = (
            item.flush.oldest_arrival if options.suffix_timestamp_source == "oldest_arrival" else now
        )

        def draw() -> str:
            return random_string(self._rng, options.random_string_style)

        if item.error_output_type is None:
            prefix = evaluate_prefix(
                settings.prefix,
                prefix_time,
                random_string=draw,
                time_append_mode=options.default_time_append_mode,
            )
            extension = object_extension(
                settings.compression,
                settings.file_extension,
                hadoop_snappy_extension=options.hadoop_snappy_extension,
            )
        else:
            prefix = evaluate_error_prefix(
                settings.error_output_prefix,
                prefix_time,
                error_output_type=item.error_output_type,
                random_string=draw,
                time_append_mode=options.default_time_append_mode,
                separator=options.error_type_separator,
            )
            extension = ""  # error objects have no extension [E]
        name = object_name(
            settings.stream_name,
            settings.version_id,
            to_time_zone(suffix_source, settings.custom_time_zone),
            random_uuid(self._rng),
            extension,
        )
        return prefix + name

    def _body(self, item: _PendingObject, now: datetime) -> bytes:
        records = item.flush.records
        if item.error_output_type is not None:
            raw = b"".join(records)  # each error line ends with its newline
        elif item.settings.append_delimiter:
            raw = b"\n".join(records) + (b"\n" if self._options.append_delimiter_trailing else b"")
        else:
            raw = b"".join(records)
        with self._lock:
            zip_entry = random_uuid(self._rng)
        return compress(
            self._compression_of(item),
            raw,
            modified=now,
            zip_entry_name=zip_entry,
            gzip_single_member=self._options.gzip_single_member,
            gzip_level=self._options.gzip_level,
        )

    def _succeeded(self, item: _PendingObject) -> None:
        delivered_at = self._clock.now()
        assert item.key is not None
        assert item.body is not None
        with self._lock:
            item.in_flight = False
            item.attempts += 1
            self._puts += 1
            self._successful_puts += 1
            if item in self._pending:
                self._pending.remove(item)
            flush = item.flush
            self._log.append(
                DeliveredObject(
                    stream_name=item.settings.stream_name,
                    bucket=item.settings.bucket,
                    key=item.key,
                    record_count=len(flush.records),
                    uncompressed_bytes=flush.size_bytes,
                    object_bytes=len(item.body),
                    oldest_arrival=flush.oldest_arrival,
                    newest_arrival=flush.newest_arrival,
                    delivered_at=delivered_at,
                    attempts=item.attempts,
                    error_output_type=item.error_output_type,
                )
            )
            if item.error_output_type is None:
                self._metrics.add("DeliveryToS3.Records", len(flush.records))
                self._metrics.add("DeliveryToS3.Bytes", flush.size_bytes)
                self._metrics.add("DeliveryToS3.ObjectCount", 1)
            self._metrics.set("DeliveryToS3.Success", self._successful_puts / self._puts)

    def _failed(self, item: _PendingObject, error: ObjectStoreError) -> None:
        now = self._clock.now()
        with self._lock:
            item.in_flight = False
            item.attempts += 1
            item.last_error = error
            self._puts += 1
            self._metrics.set("DeliveryToS3.Success", self._successful_puts / self._puts)
            delay = min(
                self._options.delivery_retry_base_seconds * 2 ** (item.attempts - 1),
                self._options.delivery_retry_max_seconds,
            )
            item.next_attempt = now + timedelta(seconds=delay)
            logger.warning(
                "stream %s: PUT s3://%s/%s failed (attempt %d): %s %s; retrying in %.0f s",
                item.settings.stream_name,
                item.settings.bucket,
                item.key,
                item.attempts,
                error.code,
                error.message,
                delay,
            )
            if (now - item.flush.oldest_arrival).total_seconds() >= self._options.retention_seconds:
                self._drop(item)

    def _drop(self, item: _PendingObject) -> None:
        flush = item.flush
        code = item.last_error.code if item.last_error else "InternalError"
        reason = (
            f"undelivered for more than {self._options.retention_seconds:g} s "
            f"(last error: {item.last_error.message if item.last_error else 'none'})"
        )
        if item in self._pending:
            self._pending.remove(item)
        self._dropped.append(
            DroppedBatch(
                stream_name=item.settings.stream_name,
                record_count=len(flush.records),
                bytes=flush.size_bytes,
                oldest_arrival=flush.oldest_arrival,
                reason=reason,
                error_code=code,
            )
        )
        self._metrics.add("DeliveryToS3.DroppedRecords", len(flush.records))
        self._metrics.add("DeliveryToS3.DroppedBytes", flush.size_bytes)
        logger.error(
            "stream %s: dropped %d records (%d bytes) past the retention horizon: %s %s",
            item.settings.stream_name,
            len(flush.records),
            flush.size_bytes,
            code,
            reason,
        )
