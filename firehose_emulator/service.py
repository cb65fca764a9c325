"""The Firehose domain: streams per account/Region, lifecycle, puts, updates, tags. No HTTP here; the test
hooks (flush, advance_clock, set_state, faults, delivery log) are `firehose_emulator.hooks.EmulatorHooks`.

Known deviations from AWS:

* One account per service (`account_id`); Regions are separate registries.
* Puts to streams with dynamic partitioning or an enabled Lambda processor are rejected with
  InvalidArgumentException: their delivery is not implemented yet (configuration is validated and described).
* `*_FAILED` states are reached only through `EmulatorHooks.set_state` (fault injection).
* Per-call latency (`PutRecordBatch.Latency`) is measured on the injected clock.
* The service RNG (record ids, object name suffixes, fractional put-failure faults) is OS-seeded unless a seed
  is given, so ids are unique per process as on AWS, and which records a fractional fault hits varies per run.

Example::

    service = FirehoseService(store, clock=SystemClock(), rng=random.Random(0)).start()
    arn = service.create_delivery_stream("us-east-1", spec)
    service.put_record_batch("us-east-1", "orders", [b'{"a":1}'])
"""

from __future__ import annotations

import base64
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Self

from firehose_emulator.clock import Clock
from firehose_emulator.delivery import DeliveryTicker, StreamDelivery
from firehose_emulator.errors import (
    ConcurrentModificationException,
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    error_for_code,
)
from firehose_emulator.faults import ThroughputQuota, default_message, region_quota
from firehose_emulator.models import (
    DESTINATION_ID,
    Encryption,
    LifecycleChangeError,
    S3DestinationUpdate,
    StreamSpec,
    merge_update,
)
from firehose_emulator.object_store import FaultyObjectStore, ObjectStore
from firehose_emulator.options import ServiceOptions
from firehose_emulator.stream import (
    ACTIVE,
    CREATING,
    DELETING,
    DELETING_FAILED,
    StreamRecord,
    delivery_settings,
)
from firehose_emulator.validation import MAX_BATCH_BYTES
from firehose_emulator.validation_rules import RuleSettings, check_destination

RECORD_ID_RANDOM_BYTES = 157  # + 8 counter bytes = 165 bytes = 220 base64 characters, like AWS's ids
RECORD_ID_CHARS = 220
SLOW_DOWN = "Slow down."

# Per record of one call: the (ErrorCode, ErrorMessage) it fails with, or None when it is stored.
RecordFailures = list[tuple[str, str] | None]


class RecordOutcome(NamedTuple):
    """One PutRecordBatch entry: a record id, or an error code and message."""

    record_id: str | None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class BatchResult:
    """The outcome of PutRecordBatch."""

    outcomes: list[RecordOutcome]
    failed: int
    encrypted: bool


class FirehoseService:
    """Delivery streams of one account, keyed by Region and name, with their delivery and test hooks."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        clock: Clock,
        rng: random.Random,
        options: ServiceOptions | None = None,
    ) -> None:
        self.options = options or ServiceOptions()
        self.clock = clock
        self.object_store = FaultyObjectStore(store, clock)
        self._rng = rng
        self._rng_lock = threading.Lock()
        self._next_id = 1
        self._streams: dict[tuple[str, str], StreamRecord] = {}
        self._lock = threading.RLock()
        self._ticker = DeliveryTicker(clock, self.options.delivery.flush_tick_seconds)
        self._rules = RuleSettings(
            self.options.min_nonzero_buffer_interval_seconds,
            self.options.unknown_time_zone,
            self.options.dp_require_key_count_match,
        )
        self._control_calls: dict[tuple[str, str, int], int] = {}

    # --- lifecycle of the service itself
    # ---------------------------------------------------------------------

    def start(self) -> Self:
        """Start the delivery ticker."""
        self._ticker.start()
        return self

    def close(self) -> None:
        """Stop the ticker and every stream's delivery workers (buffered data is not flushed)."""
        self._ticker.stop()
        with self._lock:
            streams = list(self._streams.values())
        for stream in streams:
            if stream.delivery is not None:
                stream.delivery.close()

    # --- helpers
    # ---------------------------------------------------------------------------------------------

    def _message(self, template: str, name: str) -> str:
        return template.format(name=name, account=self.options.account_id)

    def _get(self, region: str, name: str) -> StreamRecord:
        now = self.clock.monotonic()
        with self._lock:
            stream = self._streams.get((region, name))
            if stream is not None and stream.gone(now):
                self._remove(stream)
                stream = None
        if stream is None:
            raise ResourceNotFoundException(self._message(self.options.not_found_message, name))
        return stream

    def _remove(self, stream: StreamRecord) -> None:
        self._streams.pop((stream.region, stream.name), None)
        if stream.delivery is not None:
            self._ticker.unregister(stream.delivery)
            stream.delivery.discard()
            stream.delivery.close()

    def control_plane_call(self, region: str, operation: str) -> None:
        """Count a control-plane call; LimitExceededException past `control_plane_rate_limit` calls/s."""
        limit = self.options.control_plane_rate_limit
        if limit is None:
            return
        second = int(self.clock.monotonic())
        key = (region, operation, second)
        with self._lock:
            self._control_calls = {k: v for k, v in self._control_calls.items() if k[2] == second}
            count = self._control_calls.get(key, 0) + 1
            self._control_calls[key] = count
        if count > limit:
            raise LimitExceededException(f"Rate exceeded for operation {operation}.")

    def _record_ids(self, count: int) -> list[str]:
        """`count` unique ids: a sequence number plus RNG noise, base64 (220 characters, like AWS's)."""
        with self._rng_lock:
            noise = self._rng.randbytes(RECORD_ID_RANDOM_BYTES * count)
            first = self._next_id
            self._next_id += count
        parts: list[bytes] = []
        for index in range(count):
            parts.append((first + index).to_bytes(8, "big"))
            parts.append(noise[index * RECORD_ID_RANDOM_BYTES : (index + 1) * RECORD_ID_RANDOM_BYTES])
        # 165-byte chunks encode to 220 characters without padding, so one encode can be sliced per id.
        text = base64.b64encode(b"".join(parts)).decode("ascii")
        return [text[index * RECORD_ID_CHARS : (index + 1) * RECORD_ID_CHARS] for index in range(count)]

    def arn(self, region: str, name: str) -> str:
        """`arn:aws:firehose:<region>:<account>:deliverystream/<name>`."""
        return f"arn:aws:firehose:{region}:{self.options.account_id}:deliverystream/{name}"

    # --- control plane
    # ---------------------------------------------------------------------------------------

    def create_delivery_stream(self, region: str, spec: StreamSpec) -> str:
        """Create a stream (CREATING, then ACTIVE after `create_delay_seconds`); returns its ARN."""
        if spec.destination is None:
            raise InvalidArgumentException(
                "Only S3 destinations are supported by this emulator; got "
                f"{', '.join(spec.other_destinations)}."
            )
        check_destination(spec.destination, self._rules)
        if spec.destination.s3_backup is not None:
            check_destination(spec.destination.s3_backup, self._rules)
        now = self.clock.monotonic()
        with self._lock:
            existing = self._streams.get((region, spec.name))
            if existing is not None and existing.gone(now):
                self._remove(existing)
                existing = None
            if existing is not None:
                raise ResourceInUseException(self._message(self.options.duplicate_name_message, spec.name))
            in_region = sum(1 for (r, _n), s in self._streams.items() if r == region and not s.gone(now))
            if in_region >= self.options.max_streams_per_region:
                raise LimitExceededException(
                    f"You have already consumed your firehose quota of {self.options.max_streams_per_region} "
                    "hoses. Firehose names: [...]"
                )
            stream = StreamRecord(
                spec=spec,
                region=region,
                arn=self.arn(region, spec.name),
                destination=spec.destination,
                created_at=self.clock.now(),
                created_monotonic=now,
                ready_monotonic=now + self.options.create_delay_seconds,
                delivery=None,
                encryption=spec.encryption,
                tags=dict(spec.tags),
            )
            if spec.stream_type == "DirectPut" or spec.msk_source is not None:
                stream.delivery = StreamDelivery(
                    delivery_settings(spec.name, 1, spec.destination),
                    self.object_store,
                    self.clock,
                    random.Random(self._rng.getrandbits(64)),
                    stream.metrics,
                    self.options.delivery,
                )
                self._ticker.register(stream.delivery)
            self._set_limit_gauges(stream)
            self._streams[(region, spec.name)] = stream
        return stream.arn

    def _set_limit_gauges(self, stream: StreamRecord) -> None:
        quota = self._quota(stream)
        stream.metrics.set("BytesPerSecondLimit", quota.bytes_per_second)
        stream.metrics.set("RecordsPerSecondLimit", quota.records_per_second)
        stream.metrics.set("PutRequestsPerSecondLimit", quota.requests_per_second)

    def _quota(self, stream: StreamRecord) -> ThroughputQuota:
        return stream.faults.quota or self.options.throughput_quota or region_quota(stream.region)

    def describe(self, region: str, name: str) -> tuple[StreamRecord, str]:
        """The stream and its current status (works in every state)."""
        stream = self._get(region, name)
        return stream, stream.status(self.clock.monotonic())

    def delete_delivery_stream(self, region: str, name: str, allow_force_delete: bool = False) -> None:
        """Start deleting: buffered data is discarded; the stream is gone after `delete_delay_seconds`."""
        stream = self._get(region, name)
        now = self.clock.monotonic()
        with self._lock:
            status = stream.status(now)
            if status == CREATING or (status == DELETING_FAILED and not allow_force_delete):
                raise ResourceInUseException(self._message(self.options.resource_in_use_message, name))
            if stream.deleting_until is None:
                stream.deleting_until = now + self.options.delete_delay_seconds
                if stream.delivery is not None:
                    stream.delivery.discard()
            if stream.gone(now):
                self._remove(stream)

    def list_delivery_streams(
        self, region: str, limit: int = 10, stream_type: str | None = None, exclusive_start: str | None = None
    ) -> tuple[list[str], bool]:
        """Names sorted alphabetically after `exclusive_start`, filtered by type; and whether more exist."""
        now = self.clock.monotonic()
        with self._lock:
            for stream in [s for s in self._streams.values() if s.gone(now)]:
                self._remove(stream)
            names = sorted(
                name
                for (r, name), stream in self._streams.items()
                if r == region and (stream_type is None or stream.spec.stream_type == stream_type)
            )
        if exclusive_start is not None:
            names = [name for name in names if name > exclusive_start]
        return names[:limit], len(names) > limit

    def update_destination(
        self, region: str, name: str, current_version: str, destination_id: str, update: S3DestinationUpdate
    ) -> None:
        """Merge `update` into the destination (§2.7); every accepted update bumps the version."""
        stream = self._get(region, name)
        with stream.lock:
            status = stream.status(self.clock.monotonic())
            if status != ACTIVE:
                raise ResourceInUseException(self._message(self.options.resource_in_use_message, name))
            if current_version != str(stream.version):
                raise ConcurrentModificationException(self.options.concurrent_modification_message)
            if destination_id != DESTINATION_ID:
                raise error_for_code(
                    self.options.unknown_destination_id_error_code,
                    f"Destination Id {destination_id} not found.",
                )
            if stream.destination is None:
                raise InvalidArgumentException("Only S3 destinations can be updated by this emulator.")
            try:
                merged = merge_update(stream.destination, update)
            except LifecycleChangeError as exc:
                raise error_for_code(self.options.lifecycle_change_error_code, str(exc)) from None
            check_destination(merged, self._rules)
            if merged.s3_backup is not None and merged.s3_backup_mode == "Enabled":
                check_destination(merged.s3_backup, self._rules)
            # AWS bumps the version on every accepted update, even one that changes no value.
            stream.destination = merged
            stream.version += 1
            stream.last_update = self.clock.now()
            if stream.delivery is not None:
                stream.delivery.update_settings(delivery_settings(name, stream.version, merged))

    def tag(self, region: str, name: str, tags: Sequence[tuple[str, str]]) -> None:
        """Add or overwrite tags (at most 50 in all)."""
        stream = self._get(region, name)
        with stream.lock:
            merged = dict(stream.tags)
            merged.update(tags)
            if len(merged) > 50:
                raise LimitExceededException("A delivery stream cannot have more than 50 tags.")
            stream.tags = merged

    def untag(self, region: str, name: str, keys: Sequence[str]) -> None:
        """Remove tags by key (unknown keys are ignored)."""
        stream = self._get(region, name)
        with stream.lock:
            for key in keys:
                stream.tags.pop(key, None)

    def list_tags(
        self, region: str, name: str, exclusive_start: str | None = None, limit: int = 50
    ) -> tuple[list[tuple[str, str]], bool]:
        """Tags sorted by key after `exclusive_start`, and whether more exist."""
        stream = self._get(region, name)
        with stream.lock:
            items = sorted(stream.tags.items())
        if exclusive_start is not None:
            items = [item for item in items if item[0] > exclusive_start]
        return items[:limit], len(items) > limit

    def set_encryption(self, region: str, name: str, encryption: Encryption) -> None:
        """Start/StopDeliveryStreamEncryption (takes effect at once)."""
        stream = self._get(region, name)
        with stream.lock:
            if stream.status(self.clock.monotonic()) != ACTIVE:
                raise ResourceInUseException(self._message(self.options.resource_in_use_message, name))
            stream.encryption = encryption

    # --- data plane
    # ------------------------------------------------------------------------------------------

    def _writable(self, region: str, name: str) -> tuple[StreamRecord, bool]:
        """The stream if puts are allowed, and whether the records must be dropped (DELETING)."""
        stream = self._get(region, name)
        status = stream.status(self.clock.monotonic())
        if status not in (ACTIVE, DELETING):
            raise ResourceNotFoundException(self._message(self.options.not_found_message, name))
        if stream.spec.stream_type != "DirectPut":
            raise error_for_code(
                self.options.non_direct_put_error_code,
                f"This operation is not permitted on {stream.spec.stream_type} delivery stream type.",
            )
        if stream.dynamic_partitioning or stream.lambda_processing:
            raise InvalidArgumentException(
                "This emulator does not deliver records for streams with dynamic partitioning or a Lambda "
                "processor yet."
            )
        return stream, status == DELETING

    def put_record(self, region: str, name: str, data: bytes) -> tuple[str, bool]:
        """PutRecord: the record id and whether the stream encrypts at rest."""
        result = self._put(region, name, [data], "PutRecord")
        outcome = result.outcomes[0]
        if outcome.record_id is None:
            # A single record that does not fit the quota is a whole-call throttle for PutRecord.
            raise error_for_code(
                outcome.error_code or "ServiceUnavailableException", outcome.error_message or SLOW_DOWN
            )
        return outcome.record_id, result.encrypted

    def put_record_batch(self, region: str, name: str, records: Sequence[bytes]) -> BatchResult:
        """PutRecordBatch: one outcome per record, in order; failed records are not stored."""
        return self._put(region, name, records, "PutRecordBatch")

    def _put(self, region: str, name: str, records: Sequence[bytes], api: str) -> BatchResult:
        started = self.clock.monotonic()
        stream, dropping = self._writable(region, name)
        sizes = [len(data) for data in records]
        if sum(sizes) > MAX_BATCH_BYTES:
            raise error_for_code(self.options.batch_size_error_code, "Records size exceeds 4 MB limit")
        if stream.faults.latency_seconds:
            self.clock.sleep(stream.faults.latency_seconds)
        failures = self._injected_failures(stream, records, dropping, api, started)
        if self.options.enforce_throughput_quota or stream.faults.quota is not None:
            failures = self._throttle(stream, sizes, failures)
        return self._store_outcomes(stream, records, failures, dropping=dropping, api=api, started=started)

    def _injected_failures(
        self, stream: StreamRecord, records: Sequence[bytes], dropping: bool, api: str, started: float
    ) -> RecordFailures | None:
        """Apply armed faults: raise an injected call error, or pick the records that fail (None: none)."""
        faults = stream.faults
        if not faults.armed:
            return None
        call_failure = faults.take_call_failure()
        if call_failure is not None:
            if call_failure.store:
                self._accept(stream, records, dropping, api, started)
            raise error_for_code(call_failure.code, call_failure.message)
        with self._rng_lock:
            return faults.record_failures(records, self._rng)

    def _throttle(
        self, stream: StreamRecord, sizes: list[int], failures: RecordFailures | None
    ) -> RecordFailures | None:
        """Apply the throughput quota: throttle the whole call, or fail the records past what fits."""
        with stream.lock:
            fit = stream.window.admit(self.clock.monotonic(), self._quota(stream), sizes)
        if fit is None:
            stream.metrics.add("ThrottledRecords", len(sizes))
            raise error_for_code("ServiceUnavailableException", SLOW_DOWN)
        if fit == len(sizes):
            return failures
        failures = list(failures) if failures is not None else [None] * len(sizes)
        for index in range(fit, len(sizes)):
            if failures[index] is None:
                failures[index] = ("ServiceUnavailableException", SLOW_DOWN)
        stream.metrics.add("ThrottledRecords", len(sizes) - fit)
        return failures

    def _store_outcomes(
        self,
        stream: StreamRecord,
        records: Sequence[bytes],
        failures: RecordFailures | None,
        *,
        dropping: bool,
        api: str,
        started: float,
    ) -> BatchResult:
        """Store the records that did not fail and answer one outcome per record."""
        encrypted = stream.encryption.status == "ENABLED"
        if failures is None:
            outcomes = [RecordOutcome(record_id) for record_id in self._record_ids(len(records))]
            self._accept(stream, records, dropping, api, started)
            return BatchResult(outcomes, 0, encrypted)
        accepted: list[bytes] = []
        outcomes = []
        ids = iter(self._record_ids(sum(1 for failure in failures if failure is None)))
        for data, failure in zip(records, failures, strict=True):
            if failure is None:
                accepted.append(data)
                outcomes.append(RecordOutcome(next(ids)))
            else:
                outcomes.append(RecordOutcome(None, failure[0], failure[1]))
        self._accept(stream, accepted, dropping, api, started)
        return BatchResult(outcomes, len(records) - len(accepted), encrypted)

    def _accept(
        self, stream: StreamRecord, records: Sequence[bytes], dropping: bool, api: str, started: float
    ) -> None:
        sizes = [len(data) for data in records]
        size = sum(sizes)
        metrics = stream.metrics
        metrics.add_ingested(sizes)
        metrics.add("IncomingRecords", len(records))
        metrics.add("IncomingBytes", size)
        metrics.add("IncomingPutRequests")
        metrics.add(f"{api}.Requests")
        metrics.add(f"{api}.Bytes", size)
        if api == "PutRecordBatch":
            metrics.add("PutRecordBatch.Records", len(records))
        metrics.set(f"{api}.Latency", (self.clock.monotonic() - started) * 1000.0)
        if records and not dropping and stream.delivery is not None:
            stream.delivery.accept(records if isinstance(records, list) else list(records))

    # --- lookup (the test hooks in firehose_emulator.hooks build on it)
    # ------------------------------------------------------------------------

    def streams(self, region: str | None = None) -> list[StreamRecord]:
        """Every live stream (of one Region, or all)."""
        with self._lock:
            return [s for (r, _n), s in self._streams.items() if region is None or r == region]

    def stream(self, name: str, region: str | None = None) -> StreamRecord:
        """One stream by name (Region defaults to `default_region`)."""
        return self._get(region or self.options.default_region, name)


__all__ = ["BatchResult", "FirehoseService", "RecordOutcome", "default_message"]
