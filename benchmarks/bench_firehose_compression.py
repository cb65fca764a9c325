"""Measure Firehose body encoding per format and the delivery path end to end; JSON to benchmarks/results/.

Run: ``python benchmarks/bench_firehose_compression.py [--mib 32] [--repeats 5]``. Reports medians (MiB/s of
uncompressed input). gzip candidates (stdlib zlib vs cramjam, level 6 and 1) are measured side by side in the
same run, on the same body, so the choice in compression.py can be checked on any machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import cramjam

from firehose_emulator.compression import COMPRESSION_FORMATS, compress
from firehose_emulator.delivery import DeliveryOptions, DestinationSettings, StreamDelivery
from firehose_emulator.metrics import StreamMetrics
from firehose_emulator.object_store import MemoryObjectStore
from harness.clock import FakeClock

MIB = 1_048_576
RESULTS = Path(__file__).parent / "results" / "firehose_compression.json"


def json_records(total_bytes: int, seed: int = 1, *, high_entropy: bool = True) -> list[bytes]:
    """Order-event JSON records; `high_entropy` adds a 60-500 byte random hex note (hard for deflate)."""
    rng = random.Random(seed)
    records: list[bytes] = []
    size = 0
    i = 0
    while size < total_bytes:
        event: dict[str, object] = {
            "order_id": f"o-{i:09d}",
            "customer_id": f"c{rng.randint(0, 99_999)}",
            "event": rng.choice(["created", "paid", "shipped", "delivered", "cancelled"]),
            "amount_cents": rng.randint(100, 500_000),
            "ts": 1_783_951_509_000 + i * 17,
            "sku": f"SKU-{rng.randint(0, 5000)}",
        }
        if high_entropy:
            event["note"] = rng.randbytes(rng.randint(30, 250)).hex()
        record = json.dumps(event).encode()
        records.append(record)
        size += len(record)
        i += 1
    return records


def median_mib_s(func: Callable[[], object], input_bytes: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return input_bytes / MIB / statistics.median(times)


def bench_formats(body: bytes, repeats: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    when = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)
    for fmt in COMPRESSION_FORMATS:
        encoded = compress(fmt, body, modified=when, zip_entry_name="x")
        if fmt == "UNCOMPRESSED":
            continue  # the body is passed through without a copy; there is nothing to time
        speed = median_mib_s(partial(compress, fmt, body, zip_entry_name="x"), len(body), repeats)
        out[fmt] = {"mib_per_s": round(speed, 1), "ratio": round(len(encoded) / len(body), 4)}
    candidates: dict[str, Callable[[], object]] = {
        "stdlib_gzip_level6": lambda: gzip.compress(body, compresslevel=6, mtime=0),
        "stdlib_gzip_level1": lambda: gzip.compress(body, compresslevel=1, mtime=0),
        "cramjam_gzip_level6": lambda: cramjam.gzip.compress(body, level=6),
        "cramjam_gzip_level1": lambda: cramjam.gzip.compress(body, level=1),
    }
    for name, func in candidates.items():
        encoded_len = len(bytes(func()))  # type: ignore[call-overload]
        out[name] = {
            "mib_per_s": round(median_mib_s(func, len(body), repeats), 1),
            "ratio": round(encoded_len / len(body), 4),
        }
    return out


def bench_delivery(records: list[bytes], repeats: int) -> dict[str, float]:
    """accept() in 500-record batches into 5 MiB GZIP buffers, then flush(); input MiB/s end to end."""
    total = sum(len(r) for r in records)
    settings = DestinationSettings("bench", 1, "b", "", "", "GZIP", None, "", 5 * MIB, 300, False, None)

    def run() -> None:
        clock = FakeClock()
        delivery = StreamDelivery(
            settings, MemoryObjectStore(("b",)), clock, random.Random(1), StreamMetrics(), DeliveryOptions()
        )
        try:
            for start in range(0, len(records), 500):
                delivery.accept(records[start : start + 500])
            delivery.flush()
            assert delivery.pending_records() == 0
        finally:
            delivery.close()

    accept_only: list[float] = []
    for _ in range(repeats):
        clock = FakeClock()
        delivery = StreamDelivery(
            settings, MemoryObjectStore(("b",)), clock, random.Random(1), StreamMetrics(), DeliveryOptions()
        )
        start = time.perf_counter()
        for offset in range(0, len(records), 500):
            delivery.accept(records[offset : offset + 500])
        accept_only.append(time.perf_counter() - start)
        delivery.flush()
        delivery.close()
    return {
        "end_to_end_gzip_mib_per_s": round(median_mib_s(run, total, repeats), 1),
        "accept_only_mib_per_s": round(total / MIB / statistics.median(accept_only), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=32, help="input size in MiB")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    records = json_records(args.mib * MIB)
    compact = json_records(args.mib * MIB, high_entropy=False)
    result = {
        "input_mib": args.mib,
        "repeats": args.repeats,
        "statistic": "median",
        "cpu_note": "2 shared cores, other jobs running: compare rows of one run, not across runs",
        "formats_high_entropy_json": bench_formats(b"".join(records), args.repeats),
        "formats_compact_json": bench_formats(b"".join(compact), args.repeats),
        "delivery_high_entropy_json": bench_delivery(records, args.repeats),
        "delivery_compact_json": bench_delivery(compact, args.repeats),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
