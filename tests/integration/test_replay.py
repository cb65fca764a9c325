"""Replay against the real parts: archives written by the Firehose emulator (boto3 over HTTP) into moto S3,
replayed with the real engine into the real embedded Kafka, read back and verified byte for byte.

Archive lines come from the archiver's own archive_format.py. The Firehose emulator's clock is a
FakeClock set to chosen hours before each flush, so objects land under chosen `hour=` prefixes.
"""

from __future__ import annotations

import base64
import gzip
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from archive_format import ArchivedRecord, encode_lines
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from firehose_emulator.compression import COMPRESSION_FORMATS
from firehose_emulator.options import ServiceOptions
from harness.backends.firehose import FirehoseBackend
from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.s3 import MotoServer
from harness.clock import FakeClock
from harness.replay import ReplayRequest, Selection, TimeRange, parse_s3_uri, read_plan, run_replay
from harness.replay.compare import compare
from harness.replay.target import TargetTopic
from tests.integration.credentials import set_test_credentials

# The FakeClock moves only when a test says so: streams skip CREATING (test_firehose_api covers it).
NO_CREATING_PERIOD = ServiceOptions(create_delay_seconds=0)

HOUR_10 = datetime(2026, 7, 13, 10, 20, tzinfo=UTC)
HIVE_PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
ERROR_PREFIX = "errors/!{firehose:error-output-type}/"
_names = itertools.count()


@dataclass
class Archive:
    """One bucket + delivery stream on the module's moto + Firehose."""

    s3: MotoServer
    firehose: FirehoseBackend
    clock: FakeClock
    bucket: str
    stream: str

    def put(self, records: list[ArchivedRecord], *, at: datetime | None = None) -> None:
        """Archive `records` (split at 2 KiB lines) in one object delivered at `at`."""
        self.put_lines([line for r in records for line in encode_lines(r, max_record_bytes=2048)], at=at)

    def put_lines(self, lines: list[bytes], *, at: datetime | None = None) -> None:
        """Send raw lines through Firehose and flush them into one object."""
        if at is not None:
            self.clock.set(at)
        client = self.firehose.client()
        for start in range(0, len(lines), 500):
            response = client.put_record_batch(
                DeliveryStreamName=self.stream,
                Records=[{"Data": line} for line in lines[start : start + 500]],
            )
            assert response["FailedPutCount"] == 0
        self.firehose.hooks.flush(self.stream)

    def s3_client(self) -> Any:
        """A boto3 S3 client on moto."""
        return self.s3.s3_client()

    def request(self, topic: str, **changes: Any) -> ReplayRequest:
        """A replay of the whole archive (ErrorOutputPrefix known) into `topic`."""
        base = ReplayRequest(
            parse_s3_uri(f"s3://{self.bucket}/"), Selection(), target_topic=topic, error_prefix=ERROR_PREFIX
        )
        return replace(base, **changes)


@dataclass
class Parts:
    """moto + Firehose for the module."""

    s3: MotoServer
    firehose: FirehoseBackend
    clock: FakeClock


@pytest.fixture(scope="module")
def moto(moto_server: MotoServer) -> Iterator[MotoServer]:
    """The session's moto server, with dummy credentials in the environment for this module."""
    with pytest.MonkeyPatch.context() as mp:
        set_test_credentials(mp)
        yield moto_server


@pytest.fixture
def parts(moto: MotoServer) -> Iterator[Parts]:
    """A Firehose emulator per test: each test moves its own fake clock from 10:20 forward."""
    clock = FakeClock(HOUR_10)
    with FirehoseBackend(
        moto.endpoint_url, clock=clock, rng_seed=5, options=NO_CREATING_PERIOD
    ).start() as firehose:
        yield Parts(moto, firehose, clock)


@pytest.fixture
def make_archive(parts: Parts) -> Callable[..., Archive]:
    def make(fmt: str = "GZIP", prefix: str = HIVE_PREFIX, **extra: Any) -> Archive:
        n = next(_names)
        bucket, stream = f"replay-{n}", f"archive-{n}"
        parts.s3.create_bucket(bucket)
        parts.firehose.client().create_delivery_stream(
            DeliveryStreamName=stream,
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": f"arn:aws:s3:::{bucket}",
                "Prefix": prefix,
                "ErrorOutputPrefix": ERROR_PREFIX,
                "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900},
                "CompressionFormat": fmt,
                **extra,
            },
        )
        return Archive(parts.s3, parts.firehose, parts.clock, bucket, stream)

    return make


def ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def kafka_records(
    count: int, *, partitions: int = 3, start: datetime = HOUR_10, topic: str = "orders"
) -> list[ArchivedRecord]:
    """Text and binary values, tombstones, null and binary keys, repeated headers, split records."""
    out = []
    for i in range(count):
        value: bytes | None = f'{{"n":{i},"status":"{"paid" if i % 2 else "open"}"}}'.encode()
        key: bytes | None = f"key-{i % 10}".encode()
        if i % 7 == 3:
            value = bytes([0xFF, i % 256, 0])
        if i % 11 == 5:
            value = None
        if i % 13 == 0:
            key = None
        if i % 17 == 4:
            key = b"\x00\xfe" + bytes([i % 256])
        if i == count // 2:
            value = b"z" * 6000  # split into part lines (2 KiB lines)
        out.append(
            ArchivedRecord(
                topic=topic,
                partition=i % partitions,
                offset=i // partitions,
                timestamp=ms(start) + i,
                timestamp_type="CREATE_TIME",
                key=key,
                value=value,
                headers=(("trace", f"t{i}".encode()), ("bin", b"\xc3\x28"), ("trace", b"")),
            )
        )
    out.append(replace(out[0], offset=10_000, key=None, value=None))  # null key and tombstone together
    return out


def replay(archive: Archive, kafka: EmbeddedKafka, request: ReplayRequest) -> Any:
    return run_replay(archive.s3_client(), kafka.bootstrap_servers, request, clock=archive.clock)


@pytest.mark.parametrize("fmt", COMPRESSION_FORMATS)
def test_every_compression_replays_byte_identical(
    make_archive: Callable[..., Archive], kafka: EmbeddedKafka, unique_topic: Callable[[str], str], fmt: str
) -> None:
    archive = make_archive(fmt)
    records = kafka_records(60)
    archive.put(records[:30])
    archive.put(records[30:], at=HOUR_10 + timedelta(hours=1))
    report = replay(archive, kafka, archive.request(unique_topic("r"), preserve_partition=True))
    assert report.exit_code == 0, report.to_dict()
    assert report.check is not None
    assert (report.plan.selected, report.produced, report.check.verified) == (61, 61, 61)
    assert report.check.received == 61
    assert report.read.objects_read == 2
    assert report.read.unreadable == ()


def test_verification_reads_back_every_field(
    make_archive: Callable[..., Archive], kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    archive = make_archive()
    records = kafka_records(30)
    archive.put(records)
    topic = unique_topic("r")
    report = replay(archive, kafka, archive.request(topic, preserve_partition=True))
    assert report.exit_code == 0
    with TargetTopic(kafka.bootstrap_servers, topic) as target:
        target.partitions = 3
        consumed = target.read_range({0: 0, 1: 0, 2: 0}, target.end_offsets())
    assert len(consumed) == len(records)
    split = records[15]
    got = next(c for c in consumed.values() if c.value == split.value)
    assert (got.partition, got.key, got.headers, got.timestamp) == (
        split.partition,
        split.key,
        split.headers,
        split.timestamp,
    )
    tombstone_null_key = [c for c in consumed.values() if c.key is None and c.value is None]
    assert len(tombstone_null_key) == 1


def test_a_created_target_topic_keeps_old_dated_records(
    make_archive: Callable[..., Archive], kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    archive = make_archive()
    archive.put(kafka_records(5))  # dated 2026-07-13: older than the broker's 7-day retention
    topic = unique_topic("r")
    assert replay(archive, kafka, archive.request(topic)).exit_code == 0
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    configs = {name: entry["value"] for name, entry in described["topic"][topic].items()}
    assert configs["retention.ms"] == "-1"  # else the retention check deletes the replay minutes later


def test_time_range_prunes_hours_and_never_fetches_their_objects(
    make_archive: Callable[..., Archive], kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    archive = make_archive()
    hours = [HOUR_10 + timedelta(hours=h) for h in (0, 2, 4)]  # hour=10, hour=12, hour=14
    for n, at in enumerate(hours):
        archive.put(kafka_records(9, start=at - timedelta(minutes=5), topic=f"t{n}"), at=at)
    fetched: list[str] = []
    s3 = archive.s3_client()
    s3.meta.events.register(
        "provide-client-params.s3.GetObject", lambda params, **_: fetched.append(params["Key"])
    )
    since = hours[1].replace(minute=0)
    request = archive.request(
        unique_topic("r"),
        selection=Selection(time=TimeRange(since, since + timedelta(hours=1))),
        late_arrival=timedelta(minutes=30),
    )
    report = run_replay(s3, kafka.bootstrap_servers, request, clock=archive.clock)
    assert report.exit_code == 0
    assert len(fetched) == 1
    assert "/hour=12/" in fetched[0]
    assert [p.rsplit("/", 2)[-2] for p in report.read.pruned_prefixes] == ["hour=10", "hour=14"]
    assert report.plan.selected == 10  # every record archived in hour 12 (stamped 12:15, in the range)
    assert report.plan.filtered_out == {}


def test_late_arrival_slack_reads_the_next_hour(make_archive: Callable[..., Archive]) -> None:
    archive = make_archive()
    stamped = HOUR_10.replace(minute=50)
    late = kafka_records(6, start=stamped)
    archive.put(late, at=stamped + timedelta(minutes=40))  # arrives in hour 11
    since, until = HOUR_10.replace(minute=0), HOUR_10.replace(minute=0) + timedelta(hours=1)
    window = Selection(time=TimeRange(since, until))
    strict_window = archive.request("x", selection=window, late_arrival=timedelta(0))
    plan, summary = read_plan(archive.s3_client(), strict_window)
    assert plan.selected == 0
    assert summary.objects_read == 0
    plan, summary = read_plan(archive.s3_client(), archive.request("x", selection=window))
    assert plan.selected == len(late)
    assert summary.objects_read == 1


def test_default_layout_and_custom_time_zone_are_pruned(make_archive: Callable[..., Archive]) -> None:
    archive = make_archive(prefix="", CustomTimeZone="Asia/Tokyo")  # keys YYYY/MM/DD/HH/ in Tokyo time
    archive.put(kafka_records(3, start=HOUR_10), at=HOUR_10)  # 19h in Tokyo
    archive.put(
        kafka_records(3, start=HOUR_10 + timedelta(hours=3), topic="later"), at=HOUR_10 + timedelta(hours=3)
    )
    keys = [o["Key"] for o in archive.s3_client().list_objects_v2(Bucket=archive.bucket)["Contents"]]
    assert sorted(k[:14] for k in keys) == ["2026/07/13/19/", "2026/07/13/22/"]
    since = HOUR_10 + timedelta(hours=2)
    tokyo = ZoneInfo("Asia/Tokyo")
    request = archive.request("x", selection=Selection(time=TimeRange(since, None)), key_time_zone=tokyo)
    plan, summary = read_plan(archive.s3_client(), request)
    assert summary.objects_read == 1
    assert summary.pruned_prefixes == ("2026/07/13/19/",)
    assert {r.record.topic for r in plan.records} == {"later"}
    assert "default" in summary.pruning


def test_unpatterned_keys_fall_back_to_reading_everything(make_archive: Callable[..., Archive]) -> None:
    archive = make_archive(prefix="flat/!{timestamp:yyyyMMdd}-", ErrorOutputPrefix=ERROR_PREFIX)
    archive.put(kafka_records(4))
    since = HOUR_10 + timedelta(days=1)
    plan, summary = read_plan(
        archive.s3_client(), archive.request("x", selection=Selection(time=TimeRange(since)))
    )
    assert summary.objects_read == 1
    assert summary.unpatterned_objects == 1
    assert "read them all and filtered by record timestamp" in summary.pruning
    assert plan.selected == 0
    assert plan.filtered_out == {"time": 5}


def test_every_filter_counts_what_it_rejects(make_archive: Callable[..., Archive]) -> None:
    archive = make_archive()
    archive.put(kafka_records(40) + kafka_records(5, topic="other"))
    s3 = archive.s3_client()

    def plan(**selection: Any) -> Any:
        return read_plan(s3, archive.request("x", selection=Selection(**selection)))[0]

    assert plan(topics=frozenset({"other"})).selected == 6
    assert plan(topics=frozenset({"orders"}), partitions=frozenset({1})).filtered_out == {
        "topic": 6,
        "partition": 28,
    }
    by_key = plan(keys=frozenset({b"key-3"}))
    assert {r.record.key for r in by_key.records} == {b"key-3"}
    binary = plan(keys=frozenset({base64.b64decode("AP4E")}))
    assert [r.record.identity for r in binary.records] == [("orders", 1, 1), ("other", 1, 1)]  # record 4
    where = plan(topics=frozenset({"orders"}), where="status == 'paid' && n > `30`")
    assert sorted(r.record.value for r in where.records)[0].startswith(b'{"n":3')
    assert where.filtered_out["where_not_json"] > 0
    assert all(b'"paid"' in r.record.value for r in where.records)


def test_duplicates_are_replayed_once_and_conflicts_withheld(
    make_archive: Callable[..., Archive], kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    archive = make_archive()
    records = kafka_records(20)
    archive.put(records)
    archive.put(records[:8])  # a redelivered batch: exact duplicates
    archive.put([replace(records[9], value=b"changed")])  # same identity, different bytes
    report = replay(archive, kafka, archive.request(unique_topic("r"), preserve_partition=True))
    assert report.plan.duplicates_removed == 8
    (conflict,) = report.plan.conflicts
    assert conflict.identity == ("orders", 0, 3)
    assert conflict.selected
    assert len(conflict.locations) == 2
    assert all(" line " in where for where in conflict.locations)
    assert (report.plan.selected, report.produced) == (20, 20)  # 21 records - the withheld conflict
    assert report.exit_code == 0  # reported, not fatal without --strict
    assert report.to_dict()["records"]["conflicts_first"] == [conflict.describe()]
    strict = replay(archive, kafka, archive.request(unique_topic("r"), strict=True))
    assert (strict.exit_code, strict.produced, strict.check) == (2, 0, None)


def test_unreadable_object_and_bad_line_are_named_and_the_rest_replays(
    make_archive: Callable[..., Archive], kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    archive = make_archive("UNCOMPRESSED")
    records = kafka_records(10)
    archive.put_lines([encode_lines(records[0])[0], b'{"v":1,"topic":\n', *encode_lines(records[1])])
    archive.put(records[2:])
    s3 = archive.s3_client()
    s3.put_object(
        Bucket=archive.bucket, Key="data/year=2026/month=07/day=13/hour=10/junk.gz", Body=b"\x1f\x8bnope"
    )
    report = replay(archive, kafka, archive.request(unique_topic("r")))
    unreadable = report.read.unreadable
    assert len(unreadable) == 2
    assert " line 2: not a JSON line" in unreadable[0]
    assert unreadable[0].startswith("data/year=2026/month=07/day=13/hour=10/")
    assert unreadable[1].startswith("data/year=2026/month=07/day=13/hour=10/junk.gz: not valid GZIP")
    assert (report.exit_code, report.produced) == (0, 11)
    assert report.check is not None
    assert report.check.passed
    topic = unique_topic("strict")
    strict = replay(archive, kafka, archive.request(topic, strict=True))
    assert (strict.exit_code, strict.produced) == (2, 0)
    with kafka.admin() as admin:
        assert topic not in admin.list_topics()  # refused before touching the target


def test_a_tampered_target_fails_verification_naming_the_record(
    make_archive: Callable[..., Archive], kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    archive = make_archive()
    archive.put(kafka_records(12))
    plan, _ = read_plan(archive.s3_client(), archive.request("x"))
    topic = unique_topic("r")
    with TargetTopic(kafka.bootstrap_servers, topic, preserve_partition=True) as target:
        before = target.prepare(source_partitions=3, largest_record=10_000)
        sources = [located.record for located in plan.records]
        tampered = sources[4]
        sources[4] = replace(tampered, value=b"tampered")  # what the target holds differs from the archive
        placements = target.produce(sources)
        target.produce([replace(sources[0], partition=2, offset=999)])  # and a record nobody replayed
        consumed = target.read_range(before, target.end_offsets())
    check = compare(plan.records, placements, consumed, preserve_partition=True, target_topic=topic)
    assert not check.passed
    assert check.verified == len(sources) - 1
    (mismatch,) = check.mismatches
    assert mismatch.startswith(f"orders-{tampered.partition}@{tampered.offset} (")
    assert "value differs" in mismatch
    assert len(check.unexpected) == 1


def test_too_few_target_partitions_is_refused(
    make_archive: Callable[..., Archive], kafka: EmbeddedKafka, unique_topic: Callable[[str], str]
) -> None:
    archive = make_archive()
    archive.put(kafka_records(6))
    topic = unique_topic("small")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=2)
    from harness.replay.target import TargetError  # noqa: PLC0415

    with pytest.raises(TargetError, match="needs 3 partitions") as caught:
        replay(archive, kafka, archive.request(topic, preserve_partition=True))
    assert caught.value.bad_input


def test_error_output_objects_are_skipped(make_archive: Callable[..., Archive]) -> None:
    archive = make_archive()
    archive.put(kafka_records(3))
    s3 = archive.s3_client()
    s3.put_object(
        Bucket=archive.bucket, Key="errors/processing-failed/x", Body=gzip.compress(b'{"errorCode":"x"}\n')
    )
    plan, summary = read_plan(s3, archive.request("x"))
    assert (summary.error_objects_skipped, summary.objects_read, plan.selected) == (1, 1, 4)
