"""The archiver Lambda in-process against the real Firehose emulator (HTTP, boto3) and the real moto S3.

Faults are injected in the emulator (per-entry failures, whole-call errors); the handler's backoff sleep is
replaced by a recorder so no test sleeps, and the invocation's remaining time comes from a small context
object.
Every test reads the gzip objects back from S3 and decodes them with the archive format's reference decoder.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import itertools
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from archive_format import ArchivedRecord, decode_lines, records_from_event

from firehose_emulator.options import ServiceOptions
from harness.backends.firehose import FirehoseBackend
from harness.backends.s3 import MotoServer
from harness.clock import FakeClock

# The FakeClock moves only when a test says so: streams skip CREATING (test_firehose_api covers it).
NO_CREATING_PERIOD = ServiceOptions(create_delay_seconds=0)

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "harness" / "reference_archiver"
START = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)
HOUR_PREFIX = "data/year=2026/month=07/day=13/hour=14/"
_names = itertools.count()


@dataclass
class LambdaContext:
    """The context fields a Python handler reads; remaining time shrinks by the (fake) time slept."""

    budget_ms: int = 900_000
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    function_name: str = "msk-archiver"
    memory_limit_in_mb: int = 512
    slept: list[float] = field(default_factory=list)

    def get_remaining_time_in_millis(self) -> int:
        """Budget minus the backoff the handler has 'slept'."""
        return self.budget_ms - int(sum(self.slept) * 1000)


@dataclass
class Stack:
    """Running S3 + Firehose emulator for one test module."""

    s3: MotoServer
    firehose: FirehoseBackend


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as mp:
        # The emulator's S3 writer and the handler's boto3 client both take credentials from the environment.
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }.items():
            mp.setenv(key, value)
        with (
            MotoServer().start() as s3,
            FirehoseBackend(
                s3.endpoint_url, clock=FakeClock(START), rng_seed=7, options=NO_CREATING_PERIOD
            ).start() as firehose,
        ):
            yield Stack(s3, firehose)


@dataclass
class Archive:
    """One test's bucket + delivery stream, and the handler module loaded against it."""

    stack: Stack
    bucket: str
    stream: str
    handler: ModuleType
    context: LambdaContext
    logs: list[dict[str, Any]]

    def invoke(self, event: dict[str, Any]) -> None:
        """Call the deployed entry point exactly as Lambda would."""
        self.handler.lambda_handler(event, self.context)

    def faults(self) -> Any:
        """The emulator's fault hooks for this stream."""
        return self.stack.firehose.hooks.faults(self.stream)

    def objects(self) -> dict[str, bytes]:
        """Flush the stream and return every object body, gunzipped, by key."""
        self.stack.firehose.hooks.flush(self.stream)
        keys = self.stack.s3.list_keys(self.bucket)
        return {key: gzip.decompress(self.stack.s3.get_object_bytes(self.bucket, key)) for key in keys}

    def archived(self) -> list[ArchivedRecord]:
        """Every record in the bucket, decoded (split records reassembled across objects)."""
        bodies = self.objects()
        for body in bodies.values():
            assert body.endswith(b"\n"), "every archive line must be newline-terminated"
        return list(decode_lines(line for body in bodies.values() for line in body.split(b"\n")))


def _load_handler(env: dict[str, str], mp: pytest.MonkeyPatch) -> ModuleType:
    for key, value in env.items():
        mp.setenv(key, value)
    name = f"archiver_handler_it_{next(_names)}"
    spec = importlib.util.spec_from_file_location(name, LAMBDA_DIR / "handler.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture
def make_archive(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Any:
    def make(*, create_stream: bool = True, budget_ms: int = 900_000, **knobs: str) -> Archive:
        n = next(_names)
        bucket, stream = f"archive-{n}", f"orders-{n}"
        stack.s3.create_bucket(bucket)
        if create_stream:
            stack.firehose.client().create_delivery_stream(
                DeliveryStreamName=stream,
                ExtendedS3DestinationConfiguration={
                    "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                    "BucketARN": f"arn:aws:s3:::{bucket}",
                    "Prefix": "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
                    "hour=!{timestamp:HH}/",
                    "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
                    "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900},
                    "CompressionFormat": "GZIP",
                },
            )
        env = {**stack.firehose.env(), "DELIVERY_STREAM_NAME": stream, **knobs}
        handler = _load_handler(env, monkeypatch)
        context = LambdaContext(budget_ms=budget_ms)
        logs: list[dict[str, Any]] = []
        handler.ARCHIVER.writer.sleep = context.slept.append
        handler.ARCHIVER.writer.uniform = random.Random(3).random
        handler.ARCHIVER.log = lambda line: logs.append(json.loads(line))
        return Archive(stack, bucket, stream, handler, context, logs)

    return make


def _record(partition: int, offset: int, value: bytes | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "topic": "orders",
        "partition": partition,
        "offset": offset,
        "timestamp": 1783951509000 + offset,
        "timestampType": "CREATE_TIME",
        "key": base64.b64encode(f"key-{offset}".encode()).decode(),
        "headers": [],
    }
    if value is not None:
        out["value"] = base64.b64encode(value).decode()
    out.update(extra)
    return out


def _event(records: list[dict[str, Any]]) -> dict[str, Any]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_key.setdefault(f"{record['topic']}-{record['partition']}", []).append(record)
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1",
        "bootstrapServers": "b-1.demo:9098",
        "records": by_key,
    }


def _small_event(count: int, partitions: int = 2) -> dict[str, Any]:
    return _event([_record(i % partitions, i, f'{{"n":{i}}}'.encode()) for i in range(count)])


def _assert_exactly_once(archived: list[ArchivedRecord], event: dict[str, Any]) -> None:
    expected = records_from_event(event)
    counts = Counter(r.identity for r in archived)
    assert sorted(counts.items()) == sorted((r.identity, 1) for r in expected)
    by_identity = {r.identity: r for r in archived}
    assert all(by_identity[r.identity] == r for r in expected), "archived record differs from the original"


def test_mixed_records_are_archived_once_and_rebuild_byte_exact(make_archive: Any) -> None:
    archive = make_archive()
    rng = random.Random(11)
    event = _event(
        [
            _record(0, 41, b'{"status": "paid", "amount": 12.50}'),
            _record(0, 42, rng.randbytes(300)),
            _record(
                0,
                43,
                b"\xc3\x28 not utf-8",
                headers=[{"h": [1]}, {"h": [2]}, {"label": [99, 97, 102, -61, -87]}],
            ),
            {**_record(3, 7, None), "key": None},  # keyless tombstone (null, as some payloads carry it)
            {k: v for k, v in _record(3, 8, b"").items() if k != "key"},  # no key at all, empty value
            _record(3, 9, b"", key=""),  # empty key, empty value
            _record(3, 10, rng.randbytes(1_500_000)),  # too big for one Firehose record: split into parts
        ]
    )
    archive.invoke(event)
    objects = archive.objects()
    assert objects
    assert all(key.startswith(HOUR_PREFIX) and key.endswith(".gz") for key in objects)
    _assert_exactly_once(archive.archived(), event)
    (summary,) = archive.logs
    assert summary["outcome"] == "delivered"
    assert summary["records"] == 7
    assert summary["splitRecords"] == 1
    assert summary["lines"] > 7
    assert summary["requestId"] == archive.context.aws_request_id
    assert summary["offsets"] == {"orders-0": [41, 43], "orders-3": [7, 10]}


def test_calls_respect_500_records_and_4_mib_against_the_emulator(make_archive: Any) -> None:
    archive = make_archive()
    # 4 x ~1,000,000-byte lines + one 200,000-byte line: over 4 MiB, so two calls; the emulator rejects more.
    big = [_record(0, i, b"x" * (1_000_000 if i < 4 else 200_000)) for i in range(5)]
    event = _event(big)
    archive.invoke(event)
    assert archive.logs[-1]["puts"] == 2
    _assert_exactly_once(archive.archived(), event)

    archive = make_archive()
    event = _small_event(1_001)
    archive.invoke(event)
    assert archive.logs[-1]["puts"] == 3
    _assert_exactly_once(archive.archived(), event)


@pytest.mark.parametrize("code", ["ServiceUnavailableException", "InternalFailure"])
def test_failed_entries_are_retried_exactly(make_archive: Any, code: str) -> None:
    archive = make_archive()
    archive.faults().inject_put_failures(positions=[0, 7, 499], code=code, calls=1)
    event = _small_event(600)
    archive.invoke(event)
    _assert_exactly_once(archive.archived(), event)
    summary = archive.logs[-1]
    assert summary["outcome"] == "delivered"
    assert summary["attempts"] == 2
    assert summary["puts"] == 3  # 500 + 100, then one call with the 3 failed entries
    assert summary["retriedLines"] == 3
    assert summary["failures"] == {code: 3}
    assert len(archive.context.slept) == 1
    assert 0 <= archive.context.slept[0] <= 0.1  # full jitter under the first cap (base 100 ms)


def test_failed_parts_of_a_split_record_are_retried_and_reassemble(make_archive: Any) -> None:
    archive = make_archive(ARCHIVER_MAX_RECORD_BYTES="4096")
    event = _event(
        [_record(0, 1, b"a"), _record(0, 2, random.Random(5).randbytes(30_000)), _record(0, 3, b"c")]
    )
    archive.faults().inject_put_failures(positions=[2, 5], calls=1)  # two middle parts of the split record
    archive.invoke(event)
    _assert_exactly_once(archive.archived(), event)
    summary = archive.logs[-1]
    assert summary["splitRecords"] == 1
    assert summary["lines"] > 8
    assert summary["attempts"] == 2
    assert summary["retriedLines"] == 2


def test_whole_call_errors_are_retried_by_the_handler(make_archive: Any) -> None:
    archive = make_archive(ARCHIVER_SDK_MAX_ATTEMPTS="1")
    archive.faults().inject_call_failure("ServiceUnavailableException", times=2)
    event = _small_event(20)
    archive.invoke(event)
    _assert_exactly_once(archive.archived(), event)
    summary = archive.logs[-1]
    assert summary["attempts"] == 3
    assert summary["failures"] == {"ServiceUnavailableException": 40}
    assert summary["sdkRetries"] == 0
    assert len(archive.context.slept) == 2


def test_sdk_retry_of_a_stored_500_duplicates_identifiably(make_archive: Any) -> None:
    # Spec firehose G8: Firehose stored the records, then answered 500; botocore's standard mode retries.
    archive = make_archive()
    archive.faults().inject_call_failure("ServiceUnavailableException", times=1, store=True)
    event = _small_event(10)
    archive.invoke(event)
    summary = archive.logs[-1]
    assert summary["sdkRetries"] == 1
    assert summary["attempts"] == 1
    archived = archive.archived()
    assert Counter(Counter(r.identity for r in archived).values()) == {2: 10}
    _assert_exactly_once(list({r.identity: r for r in archived}.values()), event)


def test_exhausted_retries_raise_and_a_redelivery_completes_the_archive(make_archive: Any) -> None:
    archive = make_archive(ARCHIVER_MAX_ATTEMPTS="3")
    event = _small_event(5)
    # Offsets 1 and 2 fail every time they are sent, wherever they sit in the call.
    archive.faults().inject_put_failures(
        predicate=lambda _i, data: b'"offset":1,' in data or b'"offset":2,' in data, calls=None
    )
    with pytest.raises(
        RuntimeError, match=r"2 of 5 Kafka records not archived.*ServiceUnavailableException x2"
    ):
        archive.invoke(event)
    summary = archive.logs[-1]
    assert summary["outcome"] == "failed"
    assert summary["failedRecords"] == 2
    assert summary["attempts"] == 3
    assert len(archive.context.slept) == 2
    delivered = archive.archived()
    assert sorted(r.offset for r in delivered) == [0, 3, 4]

    # The event source mapping redelivers the same batch; now Firehose accepts everything.
    archive.faults().clear()
    archive.invoke(event)
    assert archive.logs[-1]["outcome"] == "delivered"
    archived = archive.archived()
    assert Counter(r.offset for r in archived) == {0: 2, 1: 1, 2: 1, 3: 2, 4: 2}
    _assert_exactly_once(list({r.identity: r for r in archived}.values()), event)


def test_retries_stop_when_the_invocation_runs_out_of_time(make_archive: Any) -> None:
    archive = make_archive(
        budget_ms=6_000,
        ARCHIVER_TIME_MARGIN_MS="5000",
        ARCHIVER_BACKOFF_BASE_MS="2000",
        ARCHIVER_BACKOFF_MAX_MS="2000",
    )
    archive.handler.ARCHIVER.writer.uniform = lambda: 1.0
    archive.faults().inject_put_failures(predicate=lambda _i, data: b'"offset":0,' in data, calls=None)
    with pytest.raises(
        RuntimeError, match=r"1 of 3 Kafka records not archived.*invocation time nearly used up"
    ):
        archive.invoke(_small_event(3))
    assert archive.context.slept == []
    assert archive.logs[-1]["attempts"] == 1


def test_missing_stream_raises_at_once(make_archive: Any) -> None:
    archive = make_archive(create_stream=False)
    with pytest.raises(RuntimeError, match=r"3 of 3 Kafka records not archived.*ResourceNotFoundException"):
        archive.invoke(_small_event(3))
    assert archive.context.slept == []
    assert archive.logs[-1]["attempts"] == 1
    assert archive.logs[-1]["puts"] == 1


def test_injected_invalid_argument_is_not_retried(make_archive: Any) -> None:
    archive = make_archive()
    archive.faults().inject_call_failure("InvalidArgumentException", times=1)
    with pytest.raises(RuntimeError, match="InvalidArgumentException"):
        archive.invoke(_small_event(4))
    assert archive.context.slept == []
    assert archive.archived() == []


def test_empty_event_logs_and_puts_nothing(make_archive: Any) -> None:
    archive = make_archive()
    archive.invoke({"eventSource": "aws:kafka", "records": {}})
    assert archive.logs[-1]["outcome"] == "empty"
    assert archive.objects() == {}
