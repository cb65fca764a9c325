"""The cost model against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from harness.run.result import Usage
from harness.run.usage import lambda_billed_ms, window_seconds
from harness.runtime.logs import InvocationRecord
from harness.sizing.cost import CostModelError, estimate_cost, monthly_usage
from harness.sizing.prices import UNITS, Price, RegionPrices

PRICES = {
    "lambda_requests": 0.20,
    "lambda_duration_x86_64": 0.0000166667,
    "lambda_duration_arm64": 0.0000133334,
    "firehose_direct_put_ingest": 0.029,
    "s3_standard_put": 0.005,
    "s3_standard_storage": 0.023,
}


def _region(names: tuple[str, ...] = tuple(PRICES)) -> RegionPrices:
    return RegionPrices(
        "test-1",
        {n: Price(n, PRICES[n], UNITS[n], "https://example.invalid/", date(2026, 11, 24)) for n in names},
    )


# 1,000 records in a 1-hour clock window; 10 invocations of 200 billed ms at 512 MB; 1,000 records billed at
# 5,120 bytes; 4 objects (5 PUTs: one retried) totalling 2 MiB.
USAGE = Usage(
    produced_records=1000,
    invocations=10,
    billed_duration_ms=2000,
    memory_mb=512,
    firehose_records=1000,
    firehose_bytes=1000 * 1100,
    firehose_billed_bytes=1000 * 5120,
    s3_puts=5,
    s3_objects=4,
    s3_bytes=2 * 2**20,
    window_seconds=3600.0,
)


def test_monthly_usage_scales_per_record_and_per_clock_hour() -> None:
    month = monthly_usage(USAGE, rate=10.0)
    records = 10.0 * 730 * 3600  # 26,280,000
    assert month.records == pytest.approx(records)
    assert month.invocations == pytest.approx(10 * records / 1000)  # 262,800
    assert month.gb_seconds == pytest.approx(2.0 * 0.5 * records / 1000)  # 26,280 GB-s
    assert month.firehose_billed_gb == pytest.approx(5120 * records / 2**30)
    assert month.s3_puts == pytest.approx(5 * 730)  # per clock hour, not per record
    assert month.objects_per_hour == pytest.approx(4.0)
    assert month.archive_gb == pytest.approx(2 * 2**20 * records / 1000 / 2**30)


def test_monthly_bill_by_hand() -> None:
    estimate = estimate_cost(USAGE, _region(), rate=10.0)
    by_item = {(line.service, line.item): line.monthly_usd for line in estimate.lines}
    assert by_item[("lambda", "requests")] == pytest.approx(262_800 * 0.20 / 1e6)  # $0.05256
    assert by_item[("lambda", "duration")] == pytest.approx(26_280 * 0.0000166667)  # $0.438
    assert by_item[("firehose", "ingestion (5 KB rounding)")] == pytest.approx(125.317 * 0.029, rel=1e-4)
    assert by_item[("s3", "PUT requests")] == pytest.approx(3650 * 0.005 / 1000)  # $0.01825
    assert by_item[("s3", "storage (a month's archive, one month)")] == pytest.approx(
        51.328 * 0.023, rel=1e-4
    )
    assert estimate.total_usd == pytest.approx(sum(v for v in by_item.values() if v is not None))
    assert estimate.unpriced == ()
    assert estimate.service_usd("lambda") == pytest.approx(0.05256 + 26_280 * 0.0000166667)


def test_arm64_uses_the_arm_duration_price() -> None:
    estimate = estimate_cost(USAGE, _region(), rate=10.0, architecture="arm64")
    duration = next(line for line in estimate.lines if line.item == "duration")
    assert duration.monthly_usd == pytest.approx(26_280 * 0.0000133334)


def test_missing_prices_are_unpriced_and_left_out_of_the_total() -> None:
    estimate = estimate_cost(USAGE, _region(("lambda_requests",)), rate=10.0)
    assert estimate.total_usd == pytest.approx(262_800 * 0.20 / 1e6)
    assert "firehose ingestion (5 KB rounding)" in estimate.unpriced
    assert "lambda duration" in estimate.unpriced


def test_unmeasured_billed_bytes_leave_firehose_unpriced() -> None:
    usage = Usage(**{**USAGE.__dict__, "firehose_billed_bytes": None})
    estimate = estimate_cost(usage, _region(), rate=10.0)
    assert estimate.unpriced == ("firehose ingestion (5 KB rounding)",)


@pytest.mark.parametrize(
    ("usage", "rate", "message"),
    [
        (USAGE, 0.0, "rate must be positive"),
        (Usage(window_seconds=10.0), 1.0, "produced no records"),
        (Usage(produced_records=5), 1.0, "no measured clock window"),
    ],
)
def test_usage_that_cannot_be_scaled_is_an_error(usage: Usage, rate: float, message: str) -> None:
    with pytest.raises(CostModelError, match=message):
        monthly_usage(usage, rate)


def test_unknown_architecture_is_an_error() -> None:
    with pytest.raises(CostModelError, match="architecture must be one of"):
        estimate_cost(USAGE, _region(), rate=1.0, architecture="riscv")


def _record(duration_ms: float, init_ms: float | None = None) -> InvocationRecord:
    return InvocationRecord(0, "r", 1, "success", None, duration_ms, init_ms, init_ms is not None, 100, None)


def test_lambda_billed_ms_is_real_time_rounded_up_per_invocation_with_init() -> None:
    records = [_record(1000.0), _record(61.0), _record(6000.0, init_ms=3000.0)]
    # at 10x: 100 ms, ceil(6.1) = 7 ms, (6000 + 3000) / 10 = 900 ms
    assert lambda_billed_ms(records, speed=10.0) == 100 + 7 + 900
    assert lambda_billed_ms([_record(0.0)], speed=1.0) == 1  # Lambda bills at least 1 ms


def test_window_runs_from_the_load_start_to_the_last_delivery() -> None:
    start = datetime(2026, 7, 13, 14, tzinfo=UTC)
    deliveries = [start + timedelta(seconds=s) for s in (300, 900, 610)]
    assert window_seconds(start, deliveries, fallback=5.0) == 900.0
    assert window_seconds(start, [], fallback=5.0) == 5.0
