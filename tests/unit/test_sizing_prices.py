"""The price file: the shipped one loads from package data, every figure is sourced, bad files are named."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from firehose_emulator.metrics import BILLED_BYTES, StreamMetrics, billed_record_bytes
from harness.sizing.prices import UNITS, PriceError, load_prices, parse_prices


def _document() -> dict[str, Any]:
    return {
        "schema": "msk-harness-prices",
        "schema_version": 1,
        "currency": "USD",
        "regions": {
            "us-east-1": {
                "lambda_requests": {
                    "price": 0.2,
                    "unit": "USD per 1M requests",
                    "source": "https://aws.amazon.com/lambda/pricing/",
                    "taken": "2026-11-24",
                }
            }
        },
    }


def test_the_shipped_file_loads_and_every_figure_names_its_source_and_date() -> None:
    book = load_prices()
    assert {"us-east-1", "eu-west-1"} <= set(book.regions)
    for region in book.regions.values():
        for price in region.prices.values():
            assert price.source.startswith("https://")
            assert price.taken <= date(2026, 11, 24)
            assert price.unit == UNITS[price.name]
    us = book.region("us-east-1")
    requests = us.get("lambda_requests")
    assert requests is not None
    assert requests.price == 0.2


def test_a_price_not_sourced_for_a_region_is_absent_not_guessed() -> None:
    us = load_prices().region("us-east-1")
    assert us.get("firehose_direct_put_ingest") is None
    assert "firehose_direct_put_ingest" in us.missing()


def test_unknown_region_lists_the_known_ones() -> None:
    with pytest.raises(PriceError, match=r"unknown region 'mars-1'; known: eu-west-1, us-east-1"):
        load_prices().region("mars-1")


def test_unknown_price_name_in_a_lookup_is_an_error() -> None:
    with pytest.raises(PriceError, match="unknown price 'lambda_cpu'"):
        load_prices().region("us-east-1").get("lambda_cpu")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema="other"), "not a msk-harness-prices v1 file"),
        (lambda d: d.update(currency="EUR"), "only USD"),
        (lambda d: d.update(regions={}), "regions: expected a non-empty object"),
        (lambda d: d["regions"]["us-east-1"].update(lambda_cpu={}), "unknown price 'lambda_cpu'"),
        (
            lambda d: _entry(d).update(price=-1),
            r"regions.us-east-1.lambda_requests.price: expected a non-negative",
        ),
        (lambda d: _entry(d).update(price=True), "price: expected a non-negative number"),
        (lambda d: _entry(d).update(unit="USD per request"), "unit: expected 'USD per 1M requests'"),
        (lambda d: _entry(d).pop("source"), "source: expected the https:// address"),
        (lambda d: _entry(d).update(taken="last week"), "taken: expected a YYYY-MM-DD date"),
    ],
)
def test_malformed_price_files_are_rejected_naming_the_path(change: Any, message: str) -> None:
    document = copy.deepcopy(_document())
    change(document)
    with pytest.raises(PriceError, match=message):
        parse_prices(document)


def _entry(document: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = document["regions"]["us-east-1"]["lambda_requests"]
    return entry


def test_a_price_file_path_can_replace_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(_document()), encoding="utf-8")
    assert set(load_prices(path).regions) == {"us-east-1"}
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PriceError, match="cannot read the price file"):
        load_prices(path)


@pytest.mark.parametrize(
    ("size", "billed"), [(0, 0), (1, 5120), (5119, 5120), (5120, 5120), (5121, 10240), (12 * 1024, 15360)]
)
def test_firehose_bills_each_record_rounded_up_to_5120_bytes(size: int, billed: int) -> None:
    assert billed_record_bytes(size) == billed


def test_negative_record_size_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        billed_record_bytes(-1)


def test_stream_metrics_count_billed_bytes_per_record_not_per_call() -> None:
    metrics = StreamMetrics()
    metrics.add_ingested([1024, 1024])  # AWS: two 1 KB records in one call bill 10 KB
    metrics.add_ingested([5121])
    assert metrics.snapshot()[BILLED_BYTES] == 2 * 5120 + 10240
