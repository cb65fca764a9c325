"""verify() on hand-built ledgers and archive snapshots: every check passes and fails when it should."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from firehose_emulator.delivery_types import DeliveredObject
from harness.load import ProducedRecord
from harness.scenario.model import CountRange, Expectations
from harness.verify import (
    ArchivedDigest,
    ArchivedObject,
    ArchiveSnapshot,
    CheckResult,
    VerificationReport,
    hive_key_pattern,
    verify,
)
from harness.verify.checks import hour_prefix
from harness.verify.latency import percentile, quantile_for

T0 = datetime(2026, 7, 13, 14, 5, 0, tzinfo=UTC)
UUIDS = [f"959487e4-754a-46e0-9b2d-f8cf1ce8a2{i:02d}" for i in range(100)]


def hive_key(n: int, hour: int = 14, stream: str = "archive") -> str:
    return (
        f"data/year=2026/month=07/day=13/hour={hour:02d}/{stream}-1-2026-07-13-{hour:02d}-05-09-{UUIDS[n]}.gz"
    )


def produced(topic: str, partition: int, offset: int, *, at: float = 0.0) -> ProducedRecord:
    value = f'{{"id":{offset},"p":{partition}}}'.encode()
    return ProducedRecord(
        seq=offset,
        topic=topic,
        partition=partition,
        offset=offset,
        key=f"k{partition}-{offset}".encode(),
        value_sha256=hashlib.sha256(value).hexdigest(),
        value_size=len(value),
        headers=(("trace", b"t%d" % offset),),
        produced_at=T0 + timedelta(seconds=at),
    )


def digest(record: ProducedRecord, **changes: object) -> ArchivedDigest:
    base = ArchivedDigest(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value_sha256,
        record.value_size,
        tuple(record.headers),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def obj(n: int, records: list[ArchivedDigest], *, at: float = 60.0, size: int = 2_000_000) -> ArchivedObject:
    return ArchivedObject(hive_key(n), size, "GZIP", T0 + timedelta(seconds=at), tuple(records), len(records))


def snapshot(*objects: ArchivedObject, errors: tuple[ArchivedObject, ...] = ()) -> ArchiveSnapshot:
    return ArchiveSnapshot("archive", "", tuple(objects), errors)


def ledger(partitions: int = 3, per_partition: int = 10) -> list[ProducedRecord]:
    return [produced("orders", p, o, at=o * 0.5) for p in range(partitions) for o in range(per_partition)]


def check(report: VerificationReport, name: str) -> CheckResult:
    (found,) = [c for c in report.checks if c.name == name]
    return found


def full_archive(records: list[ProducedRecord]) -> ArchiveSnapshot:
    half = len(records) // 2
    return snapshot(
        obj(0, [digest(r) for r in records[:half]]), obj(1, [digest(r) for r in records[half:]], at=70)
    )


def test_complete_archive_passes_every_default_check() -> None:
    records = ledger()
    report = verify(records, full_archive(records), Expectations())
    assert report.passed, report.failed_checks
    assert [c.name for c in report.checks] == [
        "no_loss",
        "archive_readable",
        "no_corruption",
        "duplicates",
        "key_pattern",
    ]
    assert (report.produced, report.archived_records, report.unique_archived) == (30, 30, 30)
    assert report.lost == ()
    assert report.duplicates == 0
    assert report.bad_keys == ()


def test_one_dropped_record_fails_no_loss_and_is_named() -> None:
    records = ledger()
    dropped = records[17]
    archive = full_archive([r for r in records if r is not dropped])
    report = verify(records, archive, Expectations())
    assert not report.passed
    loss = check(report, "no_loss")
    assert not loss.passed
    assert [(r.topic, r.partition, r.offset) for r in report.lost] == [("orders", 1, 7)]
    assert loss.actual == "1 lost of 30 produced"
    assert loss.details[0].startswith("lost orders-1@7 (key=k1-7, sha256=")
    assert dropped.value_sha256 is not None
    assert dropped.value_sha256[:12] in loss.details[0]


def test_loss_details_name_the_first_twenty_and_count_the_rest() -> None:
    records = ledger(partitions=1, per_partition=50)
    report = verify(records, full_archive(records[:5]), Expectations())
    details = check(report, "no_loss").details
    assert len(report.lost) == 45
    assert len(details) == 21
    assert details[-1] == "... and 25 more"
    assert details[0].startswith("lost orders-0@5 ")


def test_loss_allowed_when_no_loss_is_false() -> None:
    records = ledger()
    report = verify(records, full_archive(records[:-1]), Expectations(no_loss=False))
    assert report.passed
    assert len(report.lost) == 1
    assert "no_loss" not in [c.name for c in report.checks]


def test_unreadable_lines_fail_readable_not_no_loss() -> None:
    records = ledger()
    archive = replace(full_archive(records), unreadable=("data/x.gz line 3: not a JSON line",))
    report = verify(records, archive, Expectations())
    loss, readable = check(report, "no_loss"), check(report, "archive_readable")
    assert loss.passed, "unreadable is not lost: every produced record was read"
    assert "1 unreadable" in loss.actual
    assert not readable.passed
    assert "unreadable data/x.gz line 3: not a JSON line" in readable.details


@pytest.mark.parametrize(("allowed", "passes"), [(0.0, False), (10.0, True), (9.9, False)])
def test_duplicates_percent(allowed: float, passes: bool) -> None:
    records = ledger(partitions=2, per_partition=10)  # 20 records; 2 redelivered = 10 %
    archive = snapshot(
        obj(0, [digest(r) for r in records]), obj(1, [digest(records[3]), digest(records[4])], at=90)
    )
    report = verify(records, archive, Expectations(max_duplicates_percent=allowed))
    result = check(report, "duplicates")
    assert result.passed is passes
    assert report.duplicates == 2
    assert report.duplicates_percent == pytest.approx(10.0)
    assert result.actual.startswith("10.000 % (2 extra copies of 20 records)")
    assert report.lost == ()


def test_corrupted_value_key_and_headers_are_named() -> None:
    records = ledger(partitions=1, per_partition=5)
    archived = [digest(r) for r in records]
    archived[1] = replace(archived[1], value_sha256="0" * 64)
    archived[2] = replace(archived[2], key=b"other")
    archived[3] = replace(archived[3], headers=(("trace", None),))
    report = verify(records, snapshot(obj(0, archived)), Expectations())
    result = check(report, "no_corruption")
    assert not result.passed
    assert [r.offset for r in report.corrupted] == [1, 2, 3]
    assert "value sha256 000000" in result.details[0]
    assert result.details[0].startswith("corrupted orders-0@1")
    assert "key b'other'" in result.details[1]
    assert "headers" in result.details[2]
    assert check(report, "no_loss").passed  # corrupted records are archived, just wrong


def test_corruption_in_one_duplicate_copy_is_caught() -> None:
    records = ledger(partitions=1, per_partition=3)
    good = [digest(r) for r in records]
    report = verify(
        records,
        snapshot(obj(0, good), obj(1, [replace(good[0], value_size=999)], at=80)),
        Expectations(max_duplicates_percent=100),
    )
    assert [r.offset for r in report.corrupted] == [0]
    assert "value size 999" in check(report, "no_corruption").details[0]


def test_unexpected_records_fail_no_corruption() -> None:
    records = ledger(partitions=1, per_partition=3)
    stranger = produced("orders", 0, 99)
    archive = snapshot(obj(0, [*(digest(r) for r in records), digest(stranger)]))
    report = verify(records, archive, Expectations())
    assert [r.offset for r in report.unexpected] == [99]
    result = check(report, "no_corruption")
    assert not result.passed
    assert result.details == (f"unexpected {report.unexpected[0].describe()}",)


def test_order_violation_within_an_object() -> None:
    records = ledger(partitions=2, per_partition=4)
    p0 = [digest(r) for r in records if r.partition == 0]
    p1 = [digest(r) for r in records if r.partition == 1]
    swapped = [p0[0], p1[0], p0[2], p1[1], p0[1], p0[3], p1[2], p1[3]]
    report = verify(records, snapshot(obj(0, swapped)), Expectations(order_per_partition=True))
    result = check(report, "order_per_partition")
    assert not result.passed
    assert report.order_violations == (f"{hive_key(0)}: orders-0@1 after offset 2",)


def test_order_holds_per_partition_and_ignores_duplicates_and_other_objects() -> None:
    records = ledger(partitions=2, per_partition=4)
    p0 = [digest(r) for r in records if r.partition == 0]
    p1 = [digest(r) for r in records if r.partition == 1]
    interleaved = [p1[0], p0[0], p1[1], p0[1], p0[2], p0[0], p0[1], p0[3]]  # redelivery of 0..1 inside
    later = [p1[2], p1[3], p0[0]]  # a later object may start lower: cross-object order is not defined
    archive = snapshot(obj(0, interleaved), obj(1, later, at=80))
    report = verify(records, archive, Expectations(order_per_partition=True, max_duplicates_percent=50))
    assert check(report, "order_per_partition").passed, report.order_violations
    assert report.duplicates == 3


def test_latency_percentiles_from_the_delivery_log() -> None:
    records = [produced("orders", 0, o, at=float(o)) for o in range(100)]
    archive = snapshot(obj(0, [digest(r) for r in records], at=999))  # LastModified is ignored below
    log = [
        DeliveredObject("archive", "archive", hive_key(0), 100, 1, 1, T0, T0, T0 + timedelta(seconds=100), 1)
    ]
    expect = Expectations(latency_percentiles=MappingProxyType({"p50": 50.0, "p99": 99.0, "max": 99.5}))
    report = verify(records, archive, expect, delivery_log=log)
    # latencies are 100 - k seconds for k = 0..99: 1..100 s
    assert sorted(report.latencies_ms) == [float(s * 1000) for s in range(1, 101)]
    assert check(report, "latency_p50").passed
    assert check(report, "latency_p50").actual.startswith("50.000 s")
    assert check(report, "latency_p99").passed
    assert not check(report, "latency_max").passed
    assert check(report, "latency_max").actual == "100.000 s over 100 records"
    assert report.latency_ms(0.5) == 50_000.0


def test_latency_uses_last_modified_and_the_first_copy() -> None:
    records = [produced("orders", 0, 0, at=0.0)]
    archive = snapshot(obj(0, [digest(records[0])], at=30), obj(1, [digest(records[0])], at=10))
    expect = Expectations(max_duplicates_percent=100, latency_percentiles=MappingProxyType({"p50": 10.0}))
    report = verify(records, archive, expect)
    assert report.latencies_ms == (10_000.0,)
    assert check(report, "latency_p50").passed


def test_latency_fails_without_any_archived_record() -> None:
    expect = Expectations(no_loss=False, latency_percentiles=MappingProxyType({"p99": 1000.0}))
    result = check(verify(ledger(), snapshot(), expect), "latency_p99")
    assert not result.passed
    assert result.actual == "no archived record has a delivery time"


def test_object_count_and_sizes() -> None:
    records = ledger()
    archive = snapshot(
        obj(0, [digest(r) for r in records[:10]], size=500),
        obj(1, [digest(r) for r in records[10:]], size=5000),
    )
    expect = Expectations(object_count=CountRange(1, 1), object_size_bytes=CountRange(1000, None))
    report = verify(records, archive, expect)
    count = check(report, "object_count")
    assert not count.passed
    assert (count.expected, count.actual) == ("1..1", "2")
    sizes = check(report, "object_size_bytes")
    assert not sizes.passed
    assert sizes.details == (f"{hive_key(0)}: 500 bytes",)
    assert sizes.expected == ">= 1000 bytes"
    assert sizes.actual == "500..5000 bytes over 2 objects"
    assert [o.key for o in report.small_objects] == [hive_key(0), hive_key(1)]
    ok = verify(records, archive, Expectations(object_count=CountRange(2, 10)))
    assert check(ok, "object_count").passed


def test_objects_per_hour() -> None:
    records = ledger(partitions=1, per_partition=3)
    archive = snapshot(
        obj(0, [digest(records[0])]),
        obj(1, [digest(records[1])]),
        replace(obj(2, [digest(records[2])]), key=hive_key(2, hour=15)),
    )
    report = verify(records, archive, Expectations())
    assert report.objects_per_hour == {"2026/07/13/14": 2, "2026/07/13/15": 1}
    assert [o.record_count for o in report.objects] == [1, 1, 1]


def test_key_pattern_default_and_custom() -> None:
    records = ledger(partitions=1, per_partition=2)
    bad = "data/2026/07/13/14/archive-1-2026-07-13-14-05-09-" + UUIDS[5] + ".gz"
    archive = snapshot(obj(0, [digest(records[0])]), replace(obj(1, [digest(records[1])]), key=bad))
    report = verify(records, archive, Expectations())
    assert not check(report, "key_pattern").passed
    assert report.bad_keys == (bad,)
    custom = Expectations(key_pattern=r"data/.*\.gz")
    assert check(verify(records, archive, custom), "key_pattern").passed
    strict = verify(records, archive, Expectations(), default_key_pattern=hive_key_pattern("other"))
    assert len(strict.bad_keys) == 2


def test_hive_pattern_matches_the_emulator_layout() -> None:
    assert hour_prefix(hive_key(0)) == "2026/07/13/14"
    assert hour_prefix("logs/2026/07/13/09/orders-1-x.gz") == "2026/07/13/09"
    assert hour_prefix("flat/orders.gz") is None
    assert re.fullmatch(hive_key_pattern("archive"), hive_key(3))
    assert not re.fullmatch(hive_key_pattern("archive"), hive_key(3).replace(".gz", ".snappy"))
    assert re.fullmatch(hive_key_pattern("archive", ".snappy"), hive_key(3).replace(".gz", ".snappy"))


def test_error_prefix_expectation() -> None:
    records = ledger(partitions=1, per_partition=1)
    error = ArchivedObject(
        "errors/processing-failed/2026/07/13/14/archive-1-x", 10, "UNCOMPRESSED", T0, lines=2
    )
    with_error = snapshot(obj(0, [digest(records[0])]), errors=(replace(error, error_output=True),))
    clean = snapshot(obj(0, [digest(records[0])]))
    assert not check(
        verify(records, with_error, Expectations(error_prefix_empty=True)), "error_prefix_empty"
    ).passed
    assert check(verify(records, clean, Expectations(error_prefix_empty=True)), "error_prefix_empty").passed
    assert check(
        verify(records, with_error, Expectations(error_prefix_empty=False)), "error_prefix_empty"
    ).passed
    report = verify(records, with_error, Expectations())
    assert [o.record_count for o in report.error_objects] == [2]
    assert len(report.objects) == 1


def sqs_failure(topic: str, partition: int, first: int, last: int) -> dict[str, object]:
    return {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "KafkaBatchInfo": {
            "batchSize": last - first + 1,
            "recordsInfo": {
                f"{topic}-{partition}": {"firstRecordOffset": str(first), "lastRecordOffset": str(last)}
            },
        },
    }


def test_records_in_the_on_failure_destination_are_diverted_not_lost() -> None:
    records = ledger(partitions=1, per_partition=10)
    archive = full_archive([r for r in records if not 3 <= r.offset <= 5])
    expect = Expectations(on_failure_records=CountRange(3, 3), on_failure_keys=("k0-4",))
    report = verify(records, archive, expect, destination_records=[sqs_failure("orders", 0, 3, 5)])
    assert report.passed, report.failed_checks
    assert [r.offset for r in report.diverted] == [3, 4, 5]
    assert report.lost == ()
    assert "3 in the on-failure destination" in check(report, "no_loss").actual


def test_on_failure_expectations_fail() -> None:
    records = ledger(partitions=1, per_partition=10)
    archive = full_archive(records[1:])
    expect = Expectations(on_failure_records=CountRange(2, None), on_failure_keys=("k0-0", "k0-9"))
    report = verify(records, archive, expect, destination_records=[sqs_failure("orders", 0, 0, 0), {"x": 1}])
    assert not check(report, "on_failure_records").passed
    assert check(report, "on_failure_records").details == (
        "destination record 1: no KafkaBatchInfo.batchSize",
    )
    keys = check(report, "on_failure_keys")
    assert not keys.passed
    assert keys.details == ("missing key k0-9",)


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([3.0, 1.0, 2.0], 1.0) == 3.0
    assert percentile([5.0], 0.0) == 5.0
    assert quantile_for("p99") == 0.99
    assert quantile_for("max") == 1.0
    assert quantile_for("p75") == 0.75
    with pytest.raises(ValueError, match="unknown latency percentile"):
        quantile_for("median")
    with pytest.raises(ValueError, match="quantile"):
        percentile([1.0], 1.5)
