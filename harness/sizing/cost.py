"""The cost model: one run's `Usage` scaled to a month at the scenario's rate, priced per service.

Pure functions; docs/sizing.md states the formulas. In short, with R the scenario's mean rate (records/s),
N the records the run produced and M = 730 h:

* per-record quantities scale as  q / N * R * M * 3600:  Lambda requests, Lambda GB-seconds
  (billed ms / 1000 * memory MB / 1024), Firehose billed GB (bytes rounded up to 5,120 per record / 2^30),
  archive GB written (S3 storage);
* S3 PUTs scale per clock hour:  puts / window hours * M, because Firehose's buffer interval is clock time
  (the window runs from the start of the load to the last delivery).

Storage is priced as one month's archive kept for one month (each further month kept costs the same again).
MSK does not vary with these knobs and is not priced; neither are free tiers nor lower tiers.

Example::

    estimate = estimate_cost(usage, book.region("us-east-1"), rate=1000.0)
    estimate.total_usd, estimate.unpriced
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.run.result import Usage
from harness.sizing.prices import RegionPrices

HOURS_PER_MONTH = 730.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
GIB = float(2**30)  # AWS bills data in GB of 2^30 bytes
ARCHITECTURES = ("x86_64", "arm64")


class CostModelError(ValueError):
    """The usage cannot be scaled (nothing produced, no window) or an argument is out of range."""


@dataclass(frozen=True)
class MonthlyUsage:
    """The run's usage scaled to a month at the scenario's rate."""

    records: float
    invocations: float
    gb_seconds: float
    firehose_billed_gb: float | None  # None when the run did not measure billed bytes
    s3_puts: float
    archive_gb: float  # object bytes written per month
    objects_per_hour: float  # per clock hour


@dataclass(frozen=True)
class CostLine:
    """One priced (or unpriced) item of the monthly bill."""

    service: str  # "lambda" | "firehose" | "s3"
    item: str
    quantity: float
    unit: str
    unit_price: float | None  # USD per unit; None when not sourced for the region
    monthly_usd: float | None  # None when unpriced


@dataclass(frozen=True)
class CostEstimate:
    """The monthly bill of one variant: lines, total of the priced lines, and what could not be priced."""

    region: str
    architecture: str
    rate: float  # records/s
    monthly: MonthlyUsage
    lines: tuple[CostLine, ...]

    @property
    def total_usd(self) -> float:
        """Sum of the priced lines."""
        return sum(line.monthly_usd for line in self.lines if line.monthly_usd is not None)

    @property
    def unpriced(self) -> tuple[str, ...]:
        """`service item` of each line without a sourced price."""
        return tuple(f"{line.service} {line.item}" for line in self.lines if line.monthly_usd is None)

    def service_usd(self, service: str) -> float:
        """Monthly USD of one service's priced lines."""
        return sum(
            line.monthly_usd
            for line in self.lines
            if line.service == service and line.monthly_usd is not None
        )


@dataclass(frozen=True)
class BillItem:
    """One line of the bill: which price it uses and how many units that price is quoted per."""

    service: str
    item: str
    unit: str
    price_name: str  # a key of prices.UNITS; {architecture} is filled in
    per: float  # the price is quoted per this many units


BILL_ITEMS = (
    BillItem("lambda", "requests", "requests", "lambda_requests", 1e6),
    BillItem("lambda", "duration", "GB-s", "lambda_duration_{architecture}", 1.0),
    BillItem("firehose", "ingestion (5 KB rounding)", "GB", "firehose_direct_put_ingest", 1.0),
    BillItem("s3", "PUT requests", "requests", "s3_standard_put", 1000.0),
    BillItem("s3", "storage (a month's archive, one month)", "GB-month", "s3_standard_storage", 1.0),
)


def monthly_usage(usage: Usage, rate: float) -> MonthlyUsage:
    """Scale `usage` to a 730-hour month at `rate` records/s (see the module docstring)."""
    if rate <= 0:
        raise CostModelError(f"the rate must be positive, got {rate}")
    if usage.produced_records <= 0:
        raise CostModelError("the run produced no records: nothing to scale")
    if usage.window_seconds <= 0:
        raise CostModelError("the run has no measured clock window: objects per hour are unknown")
    records = rate * SECONDS_PER_MONTH
    per_record = records / usage.produced_records
    window_hours = usage.window_seconds / 3600.0
    gb_seconds = usage.billed_duration_ms / 1000.0 * usage.memory_mb / 1024.0
    billed = usage.firehose_billed_bytes
    return MonthlyUsage(
        records=records,
        invocations=usage.invocations * per_record,
        gb_seconds=gb_seconds * per_record,
        firehose_billed_gb=None if billed is None else billed * per_record / GIB,
        s3_puts=usage.s3_puts / window_hours * HOURS_PER_MONTH,
        archive_gb=usage.s3_bytes * per_record / GIB,
        objects_per_hour=usage.s3_objects / window_hours,
    )


def estimate_cost(
    usage: Usage, prices: RegionPrices, *, rate: float, architecture: str = "x86_64"
) -> CostEstimate:
    """The monthly bill of a variant whose run consumed `usage`, at `rate` records/s, in `prices`' region."""
    if architecture not in ARCHITECTURES:
        raise CostModelError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
    month = monthly_usage(usage, rate)
    quantities = (
        month.invocations,
        month.gb_seconds,
        month.firehose_billed_gb,
        month.s3_puts,
        month.archive_gb,
    )
    lines = tuple(
        _line(prices, item, quantity, architecture)
        for item, quantity in zip(BILL_ITEMS, quantities, strict=True)
    )
    return CostEstimate(prices.region, architecture, rate, month, lines)


def _line(prices: RegionPrices, item: BillItem, quantity: float | None, architecture: str) -> CostLine:
    price = prices.get(item.price_name.format(architecture=architecture))
    unit_price = price.price / item.per if price is not None else None
    if unit_price is None or quantity is None:
        return CostLine(item.service, item.item, quantity or 0.0, item.unit, unit_price, None)
    return CostLine(item.service, item.item, quantity, item.unit, unit_price, quantity * unit_price)
