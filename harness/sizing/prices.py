"""AWS list prices per region, read from the shipped data file `prices.json` (or a file of the same layout).

Every figure carries its unit, where it was read and when; a region lists only the figures that could be
sourced, and the cost model reports a missing one as unpriced rather than guessing it. Reading uses
importlib.resources, so it works from an installed package (pyproject must ship `sizing/prices.json`).

Example::

    book = load_prices()
    book.region("us-east-1").get("lambda_requests").price   # 0.2 (USD per 1M requests)
    book.region("mars-1")   # PriceError: unknown region 'mars-1'; known: eu-west-1, us-east-1
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA = "msk-harness-prices"
SCHEMA_VERSION = 1

# Every price the cost model knows, with the one unit it must be given in.
UNITS: Mapping[str, str] = {
    "lambda_requests": "USD per 1M requests",
    "lambda_duration_x86_64": "USD per GB-second",
    "lambda_duration_arm64": "USD per GB-second",
    "firehose_direct_put_ingest": "USD per GB",
    "s3_standard_put": "USD per 1,000 requests",
    "s3_standard_storage": "USD per GB-month",
}


class PriceError(ValueError):
    """The price file is malformed, or a region/price is not in it."""


@dataclass(frozen=True)
class Price:
    """One list price: the figure, its unit, the tier it belongs to, where and when it was read."""

    name: str
    price: float
    unit: str
    source: str
    taken: date
    tier: str | None = None


@dataclass(frozen=True)
class RegionPrices:
    """The sourced prices of one region."""

    region: str
    prices: Mapping[str, Price]

    def get(self, name: str) -> Price | None:
        """The price `name` (a key of UNITS), None when it was not sourced for this region."""
        if name not in UNITS:
            raise PriceError(f"unknown price {name!r}; known: {', '.join(UNITS)}")
        return self.prices.get(name)

    def missing(self) -> tuple[str, ...]:
        """The known prices this region does not list."""
        return tuple(name for name in UNITS if name not in self.prices)


@dataclass(frozen=True)
class PriceBook:
    """Every region of a price file."""

    currency: str
    regions: Mapping[str, RegionPrices]
    notes: tuple[str, ...] = ()

    def region(self, name: str) -> RegionPrices:
        """The prices of region `name`; a clear error listing the known regions otherwise."""
        if name not in self.regions:
            raise PriceError(f"unknown region {name!r}; known: {', '.join(sorted(self.regions))}")
        return self.regions[name]


def parse_prices(document: Any) -> PriceBook:
    """Validate a decoded price document and build the PriceBook; PriceError names the first bad path."""
    if not isinstance(document, Mapping):
        raise PriceError("the price file must hold a JSON object")
    if document.get("schema") != SCHEMA or document.get("schema_version") != SCHEMA_VERSION:
        raise PriceError(f"not a {SCHEMA} v{SCHEMA_VERSION} file (schema={document.get('schema')!r})")
    currency = document.get("currency")
    if currency != "USD":
        raise PriceError(f"currency: only USD is supported, got {currency!r}")
    regions = document.get("regions")
    if not isinstance(regions, Mapping) or not regions:
        raise PriceError("regions: expected a non-empty object of region -> prices")
    notes = document.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise PriceError("notes: expected a list of strings")
    return PriceBook(
        currency=currency,
        regions={str(name): _region(str(name), entries) for name, entries in regions.items()},
        notes=tuple(notes),
    )


def _region(region: str, entries: Any) -> RegionPrices:
    if not isinstance(entries, Mapping):
        raise PriceError(f"regions.{region}: expected an object of price name -> price")
    return RegionPrices(
        region, {str(n): _price(f"regions.{region}.{n}", str(n), e) for n, e in entries.items()}
    )


def _price(where: str, name: str, entry: Any) -> Price:
    if name not in UNITS:
        raise PriceError(f"{where}: unknown price {name!r}; known: {', '.join(UNITS)}")
    if not isinstance(entry, Mapping):
        raise PriceError(f"{where}: expected an object with price, unit, source, taken")
    figure = entry.get("price")
    if isinstance(figure, bool) or not isinstance(figure, int | float) or figure < 0:
        raise PriceError(f"{where}.price: expected a non-negative number, got {figure!r}")
    unit = entry.get("unit")
    if unit != UNITS[name]:
        raise PriceError(f"{where}.unit: expected {UNITS[name]!r}, got {unit!r}")
    source = entry.get("source")
    if not isinstance(source, str) or not source.startswith("https://"):
        raise PriceError(f"{where}.source: expected the https:// address the figure was read from")
    try:
        taken = date.fromisoformat(str(entry.get("taken")))
    except ValueError:
        raise PriceError(f"{where}.taken: expected a YYYY-MM-DD date, got {entry.get('taken')!r}") from None
    tier = entry.get("tier")
    if tier is not None and not isinstance(tier, str):
        raise PriceError(f"{where}.tier: expected text")
    return Price(name, float(figure), unit, source, taken, tier)


def load_prices(path: Path | None = None) -> PriceBook:
    """The shipped price file (package data), or the file at `path`."""
    try:
        if path is None:
            text = resources.files("harness.sizing").joinpath("prices.json").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PriceError(f"cannot read the price file {path or 'harness/sizing/prices.json'}: {exc}") from exc
    return parse_prices(document)
