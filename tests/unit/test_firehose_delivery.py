"""StreamDelivery and DeliveryTicker with a FakeClock and an in-memory store (spec §5, §7, §9.1, §10)."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import random
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from firehose_emulator.delivery import (
    DeliveryOptions,
    DeliveryTicker,
    DestinationSettings,
    FailedRecord,
    StreamDelivery,
)
from firehose_emulator.metrics import StreamMetrics
from firehose_emulator.object_store import FaultyObjectStore, MemoryObjectStore, ObjectStoreError
from harness.clock import FakeClock

MIB = 1_048_576
START = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)
HIVE = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"


def settings(**changes: object) -> DestinationSettings:
    base = DestinationSettings(
        stream_name="orders",
        version_id=1,
        bucket="my-bucket",
        prefix="",
        error_output_prefix="",
        compression="UNCOMPRESSED",
        file_extension=None,
        custom_time_zone="",
        buffer_size_bytes=5 * MIB,
        buffer_interval_seconds=300,
        append_delimiter=False,
        kms_key_arn=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class Rig:
    """One stream's delivery over a FakeClock and a MemoryObjectStore."""

    def __init__(
        self,
        destination: DestinationSettings | None = None,
        options: DeliveryOptions | None = None,
        bucket: bool = True,
    ) -> None:
        self.clock = FakeClock(START)
        self.store = MemoryObjectStore(("my-bucket",) if bucket else ())
        self.faulty = FaultyObjectStore(self.store, self.clock)
        self.metrics = StreamMetrics()
        self.delivery = StreamDelivery(
            destination or settings(),
            self.faulty,
            self.clock,
            random.Random(42),
            self.metrics,
            options or DeliveryOptions(),
        )

    def objects(self) -> dict[str, bytes]:
        return {key: stored.body for key, stored in self.store.objects("my-bucket").items()}


@pytest.fixture
def make() -> Iterator[type[Rig]]:
    """Build rigs whose worker threads are stopped after the test, even when it fails."""
    made: list[Rig] = []

    class Tracked(Rig):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    yield Tracked
    for rig in made:
        rig.delivery.close()


def test_size_crossing_seals_exactly_one_object_gzip(make: type[Rig]) -> None:
    rig = make(settings(buffer_size_bytes=MIB, buffer_interval_seconds=900, compression="GZIP"))
    record = b"r" * 1000
    rig.delivery.accept([record] * 1048)
    rig.delivery.run_due()
    assert rig.objects() == {}
    rig.delivery.accept([record, b"next"])  # the 1049th crosses 1 MiB; "next" starts a new buffer
    rig.delivery.run_due()
    objects = rig.objects()
    assert len(objects) == 1
    (key, body), = objects.items()  # fmt: skip
    assert key.endswith(".gz")
    assert gzip.decompress(body) == record * 1049
    assert rig.delivery.pending_records() == 1
    rig.clock.advance(900)
    rig.delivery.run_due()
    assert len(rig.objects()) == 2
    assert sorted(len(gzip.decompress(b)) for b in rig.objects().values()) == [4, 1049 * 1000]


def test_large_buffer_delivers_everything_as_one_object_after_interval(make: type[Rig]) -> None:
    rig = make(settings(buffer_size_bytes=128 * MIB, buffer_interval_seconds=60))
    for i in range(100):
        rig.delivery.accept([b"%d," % i])
        rig.clock.advance(0.5)  # 50 s of arrivals
    rig.delivery.run_due()
    assert rig.objects() == {}
    rig.clock.advance(10)  # 60 s after the oldest record
    rig.delivery.run_due()
    assert list(rig.objects().values()) == [b"".join(b"%d," % i for i in range(100))]


def test_interval_zero_delivers_on_next_tick(make: type[Rig]) -> None:
    rig = make(settings(buffer_interval_seconds=0))
    ticker = DeliveryTicker(rig.clock, tick_seconds=1)
    ticker.register(rig.delivery)
    rig.delivery.accept([b"a"])
    assert rig.objects() == {}
    ticker.tick()
    rig.delivery.run_due()  # wait for the worker the tick woke
    assert list(rig.objects().values()) == [b"a"]


def test_g1_records_concatenated_without_delimiter(make: type[Rig]) -> None:
    rig = make()
    rig.delivery.accept([b'{"a":1}', b'{"a":2}'])
    rig.delivery.flush()
    assert list(rig.objects().values()) == [b'{"a":1}{"a":2}']


def test_g2_append_delimiter_only_between_records(make: type[Rig]) -> None:
    rig = make(settings(append_delimiter=True))
    rig.delivery.accept([b'{"a":1}', b'{"a":2}'])
    rig.delivery.flush()
    assert list(rig.objects().values()) == [b'{"a":1}\n{"a":2}']
    assert rig.metrics.get("DeliveryToS3.Bytes") == 14  # original record sizes, no delimiter


def test_trailing_delimiter_knob(make: type[Rig]) -> None:
    rig = make(settings(append_delimiter=True), DeliveryOptions(append_delimiter_trailing=True))
    rig.delivery.accept([b"a", b"b"])
    rig.delivery.flush()
    assert list(rig.objects().values()) == [b"a\nb\n"]


def test_g3_prefix_time_is_the_oldest_arrival(make: type[Rig]) -> None:
    rig = make(settings(buffer_interval_seconds=60))
    rig.clock.set(datetime(2026, 7, 13, 14, 59, 50, tzinfo=UTC))
    rig.delivery.accept([b"a"])
    rig.clock.advance(20)  # 15:00:10
    rig.delivery.accept([b"b"])
    rig.clock.advance(50)
    rig.delivery.run_due()
    (key,) = rig.objects()
    assert key.startswith("2026/07/13/14/orders-1-2026-07-13-14-59-50-")
    entry = rig.delivery.delivery_log[0]
    assert entry.oldest_arrival == datetime(2026, 7, 13, 14, 59, 50, tzinfo=UTC)
    assert entry.newest_arrival == datetime(2026, 7, 13, 15, 0, 10, tzinfo=UTC)
    assert entry.delivered_at == datetime(2026, 7, 13, 15, 1, 0, tzinfo=UTC)


def test_write_time_suffix_knob(make: type[Rig]) -> None:
    rig = make(options=DeliveryOptions(suffix_timestamp_source="write_time"))
    rig.delivery.accept([b"a"])
    rig.clock.advance(300)
    rig.delivery.run_due()
    (key,) = rig.objects()
    assert key.startswith("2026/07/13/14/orders-1-2026-07-13-14-10-09-")


def test_project_hive_layout_with_gzip(make: type[Rig]) -> None:
    rig = make(
        settings(prefix=HIVE, error_output_prefix="errors/!{firehose:error-output-type}/", compression="GZIP")
    )
    rig.delivery.accept([b"x"])
    rig.delivery.flush()
    (key,) = rig.objects()
    assert key.startswith("data/year=2026/month=07/day=13/hour=14/orders-1-2026-07-13-14-05-09-")
    assert key.endswith(".gz")
    stored = rig.store.objects("my-bucket")[key]
    assert stored.content_type == "application/octet-stream"
    assert stored.content_encoding == "gzip"


def test_g16_file_extension_replaces_extension_body_stays_gzip(make: type[Rig]) -> None:
    rig = make(settings(compression="GZIP", file_extension=".log"))
    rig.delivery.accept([b"hello"])
    rig.delivery.flush()
    ((key, body),) = rig.objects().items()
    assert key.endswith(".log")
    assert not key.endswith(".gz.log")
    assert gzip.decompress(body) == b"hello"


def test_g17_version_in_keys_after_update(make: type[Rig]) -> None:
    rig = make()
    rig.delivery.accept([b"old"])
    rig.delivery.flush()
    rig.delivery.update_settings(settings(version_id=2, compression="GZIP"))
    rig.delivery.accept([b"new"])
    rig.delivery.flush()
    keys = sorted(rig.objects())
    assert [k.split("/")[-1].split("-")[1] for k in keys] == ["1", "2"]
    assert any(k.endswith(".gz") and "-2-" in k for k in keys)


def test_settings_are_read_when_the_buffer_is_sealed(make: type[Rig]) -> None:
    rig = make()
    rig.delivery.accept([b"buffered before the update"])
    rig.delivery.update_settings(settings(version_id=2, prefix="after/"))
    rig.delivery.flush()
    (key,) = rig.objects()
    assert key.startswith("after/2026/07/13/14/orders-2-")


def test_kms_key_and_encoding_reach_the_store(make: type[Rig]) -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    rig = make(settings(compression="HADOOP_SNAPPY", kms_key_arn=arn))
    rig.delivery.accept([b"x"])
    rig.delivery.flush()
    ((key, stored),) = rig.store.objects("my-bucket").items()
    assert key.endswith(".snappy")
    assert stored.kms_key_arn == arn
    assert stored.content_encoding == "hadoop-snappy"


def test_g13_missing_bucket_retries_then_delivers_once(make: type[Rig]) -> None:
    rig = make(settings(compression="GZIP"), bucket=False)
    rig.delivery.accept([b"a", b"b"])
    rig.delivery.flush()
    assert rig.store.objects("my-bucket") == {}
    assert rig.delivery.pending_records() == 2
    rig.delivery.accept([b"c"])  # the stream keeps accepting
    rig.clock.advance(1)
    rig.delivery.run_due()  # retry due after 1 s, still failing
    rig.store.create_bucket("my-bucket")
    rig.delivery.run_due()  # backoff not over yet (2 s after the 2nd failure)
    assert rig.objects() == {}
    rig.clock.advance(2)
    rig.delivery.run_due()
    assert [gzip.decompress(b) for b in rig.objects().values()] == [b"ab"]
    rig.clock.advance(300)
    rig.delivery.run_due()
    rig.clock.advance(3600)
    rig.delivery.run_due()
    assert sorted(gzip.decompress(b) for b in rig.objects().values()) == [b"ab", b"c"]
    log = rig.delivery.delivery_log
    assert len(log) == 2
    assert log[0].attempts == 3
    assert rig.metrics.get("DeliveryToS3.ObjectCount") == 2
    assert rig.metrics.get("DeliveryToS3.Success") == pytest.approx(
        2 / 4
    )  # two failed PUTs of "ab", then two successes


def test_retries_reuse_the_key_so_objects_are_never_duplicated(make: type[Rig]) -> None:
    rig = make()
    rig.faulty.fail_between(
        START, START + timedelta(seconds=30), code="S3.AccessDenied", message="Access Denied"
    )
    rig.delivery.accept([b"a"])
    rig.delivery.flush()
    rig.delivery.flush()
    rig.clock.advance(40)
    rig.delivery.flush()
    rig.delivery.flush()
    assert len(rig.objects()) == 1
    assert rig.delivery.delivery_log[0].attempts == 3


def test_backoff_doubles_up_to_the_maximum(make: type[Rig]) -> None:
    rig = make(options=DeliveryOptions(delivery_retry_base_seconds=1, delivery_retry_max_seconds=4))
    calls: list[datetime] = []
    inner_put = rig.store.put_object

    def counting_put(*args: object, **kwargs: object) -> None:
        calls.append(rig.clock.now())
        raise ObjectStoreError("InternalError", "down")

    rig.store.put_object = counting_put  # type: ignore[method-assign]
    rig.delivery.accept([b"a"])
    rig.delivery.flush()
    for _ in range(30):
        rig.clock.advance(0.5)
        rig.delivery.run_due()
    offsets = [(t - START).total_seconds() for t in calls]
    assert offsets == [0, 1, 3, 7, 11, 15]  # waits 1, 2, 4, 4, 4
    rig.store.put_object = inner_put  # type: ignore[method-assign]


def test_data_past_retention_is_dropped_counted_and_logged(
    make: type[Rig], caplog: pytest.LogCaptureFixture
) -> None:
    rig = make(options=DeliveryOptions(retention_seconds=120, delivery_retry_max_seconds=30), bucket=False)
    rig.delivery.accept([b"abc", b"de"])
    rig.delivery.flush()
    for _ in range(13):
        rig.clock.advance(10)
        rig.delivery.run_due()
    (dropped,) = rig.delivery.dropped
    assert (dropped.record_count, dropped.bytes, dropped.error_code) == (2, 5, "S3.NoSuchBucket")
    assert dropped.oldest_arrival == START
    assert rig.delivery.pending_records() == 0
    assert rig.metrics.get("DeliveryToS3.DroppedRecords") == 2
    assert any("dropped 2 records" in r.getMessage() for r in caplog.records)
    rig.store.create_bucket("my-bucket")
    rig.delivery.flush()
    assert rig.objects() == {}


def test_metrics_count_original_sizes_and_freshness(make: type[Rig]) -> None:
    rig = make(settings(compression="GZIP", buffer_interval_seconds=60))
    rig.delivery.accept([b"1234", b"56"])
    rig.clock.advance(30)
    rig.delivery.run_due()
    assert rig.metrics.get("DeliveryToS3.DataFreshness") == 30
    rig.clock.advance(30)
    rig.delivery.run_due()
    snapshot = rig.metrics.snapshot()
    assert snapshot["DeliveryToS3.Records"] == 2
    assert snapshot["DeliveryToS3.Bytes"] == 6
    assert snapshot["DeliveryToS3.ObjectCount"] == 1
    assert snapshot["DeliveryToS3.Success"] == 1.0
    assert snapshot["DeliveryToS3.DataFreshness"] == 0
    entry = rig.delivery.delivery_log[0]
    assert (entry.record_count, entry.uncompressed_bytes) == (2, 6)
    assert entry.object_bytes == len(next(iter(rig.objects().values())))


def test_discard_drops_everything_and_nothing_is_delivered(make: type[Rig]) -> None:
    rig = make(bucket=False)
    rig.delivery.accept([b"sealed"])
    rig.delivery.flush()
    rig.delivery.accept([b"buffered"])
    rig.delivery.discard()
    rig.store.create_bucket("my-bucket")
    rig.clock.advance(1000)
    rig.delivery.run_due()
    rig.delivery.flush()
    rig.delivery.accept([b"after"])
    rig.delivery.flush()
    assert rig.objects() == {}
    assert rig.delivery.pending_records() == 0


def test_accept_does_no_io_on_the_caller_thread(make: type[Rig]) -> None:
    rig = make(settings(buffer_size_bytes=10))
    threads: list[str] = []
    inner = rig.store.put_object

    def recording_put(*args: object, **kwargs: object) -> None:
        threads.append(threading.current_thread().name)
        inner(*args, **kwargs)  # type: ignore[arg-type]

    rig.store.put_object = recording_put  # type: ignore[method-assign]
    rig.delivery.accept([b"x" * 20])
    rig.delivery.run_due()
    assert threads == ["firehose-delivery-orders"]


def test_latency_window_delays_puts_in_clock_time() -> None:
    clock = FakeClock(START, auto_advance=True)
    store = MemoryObjectStore(("my-bucket",))
    faulty = FaultyObjectStore(store, clock)
    faulty.add_latency(5)
    delivery = StreamDelivery(settings(), faulty, clock, random.Random(1), StreamMetrics())
    try:
        delivery.accept([b"a"])
        delivery.flush()
        assert delivery.delivery_log[0].delivered_at == START + timedelta(seconds=5)
    finally:
        delivery.close()


def test_ticker_thread_delivers_with_a_running_clock(make: type[Rig]) -> None:
    rig = make(settings(buffer_interval_seconds=0))
    ticker = DeliveryTicker(rig.clock, tick_seconds=1)
    ticker.register(rig.delivery)
    ticker.start()
    try:
        rig.delivery.accept([b"a"])
        for _ in range(200):
            rig.clock.advance(1)
            if rig.objects():
                break
            threading.Event().wait(0.01)
        assert list(rig.objects().values()) == [b"a"]
    finally:
        ticker.stop()
    ticker.unregister(rig.delivery)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="suffix_timestamp_source"):
        DeliveryOptions(suffix_timestamp_source="flush")
    with pytest.raises(ValueError, match="delivery_retry_max_seconds"):
        DeliveryOptions(delivery_retry_base_seconds=10, delivery_retry_max_seconds=5)


def test_error_output_object_shape_and_key_row_16(make: type[Rig]) -> None:
    eop = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
    rig = make(settings(compression="GZIP", prefix="logs/", error_output_prefix=eop))
    arn = "arn:aws:lambda:us-east-1:123456789012:function:xform:$LATEST"
    failure = FailedRecord(
        data=b'{"id":1}\n',
        arrival=START,
        error_code="Lambda.FunctionError",
        error_message="boom",
        attempts_made=4,
        attempt_ending=START + timedelta(seconds=61),
        lambda_arn=arn,
    )
    rig.delivery.accept_failed([failure, dataclasses.replace(failure, data=b"x")], "processing-failed")
    rig.delivery.run_due()
    ((key, stored),) = rig.store.objects("my-bucket").items()
    assert re.fullmatch(
        r"errors/processing-failed/2026/07/13/orders-1-2026-07-13-14-05-09-[0-9a-f-]{36}", key
    )
    assert stored.content_encoding is None  # error objects are uncompressed by default
    lines = stored.body.decode().splitlines()
    assert json.loads(lines[0]) == {
        "attemptsMade": 4,
        "arrivalTimestamp": 1783951509000,
        "errorCode": "Lambda.FunctionError",
        "errorMessage": "boom",
        "attemptEndingTimestamp": 1783951570000,
        "rawData": "eyJpZCI6MX0K",
        "lambdaArn": arn,
    }
    assert base64.b64decode(json.loads(lines[1])["rawData"]) == b"x"
    assert rig.delivery.delivery_log[0].error_output_type == "processing-failed"
    assert rig.metrics.get("DeliveryToS3.Records") == 0  # error lines are not delivered data


def test_error_output_default_prefix_rows_18_19(make: type[Rig]) -> None:
    failure = FailedRecord(b"r", START, "Lambda.FunctionError", "e", 1, START)
    cases = (("", "processing-failed/2026/07/13/14/"), ("failed/", "failed/processing-failed/2026/07/13/14/"))
    for eop, expected in cases:
        rig = make(settings(prefix="logs/", error_output_prefix=eop))
        rig.delivery.accept_failed([failure], "processing-failed")
        rig.delivery.run_due()
        (key,) = rig.objects()
        assert key.startswith(expected + "orders-1-2026-07-13-14-05-09-")


def test_compress_error_objects_knob_and_arn_field_name(make: type[Rig]) -> None:
    rig = make(
        settings(compression="GZIP"),
        DeliveryOptions(compress_error_objects=True, lambda_arn_field_name="lambdaARN"),
    )
    failure = FailedRecord(b"r", START, "Lambda.FunctionError", "e", 1, START, lambda_arn="arn:x")
    rig.delivery.accept_failed([failure], "processing-failed")
    rig.delivery.run_due()
    ((key, stored),) = rig.store.objects("my-bucket").items()
    assert not key.endswith(".gz")
    assert stored.content_encoding == "gzip"
    assert json.loads(gzip.decompress(stored.body))["lambdaARN"] == "arn:x"


def test_unexpected_store_error_is_retried_and_the_worker_survives(make: type[Rig]) -> None:
    rig = make()
    inner = rig.store.put_object
    calls: list[int] = []

    def broken_once(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("socket exploded")
        inner(*args, **kwargs)

    rig.store.put_object = broken_once  # type: ignore[method-assign]
    rig.delivery.accept([b"a"])
    rig.delivery.flush()
    assert rig.objects() == {}
    rig.clock.advance(1)
    rig.delivery.run_due()
    assert list(rig.objects().values()) == [b"a"]
    assert rig.delivery.delivery_log[0].attempts == 2
