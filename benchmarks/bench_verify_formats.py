"""Verification records/s per archive format on the same records, side by side with harness-v1 (one run).

Run: ``python benchmarks/bench_verify_formats.py [--records 100000] [--repeats 3] [--per-object 5000]``.
Generates one ledger with the load generator (JSON values, default size), writes the same records as GZIP
objects in every format, then alternates rounds over the formats: decompress + decode (`decode_archive`)
+ match and check (`verify`), timed together, as the runner does after a run. No Kafka, no S3: the figure is
the verifier's own cost. Reports the median records/s per format and its ratio to harness-v1, plus the
snapshot's bytes of content keys per record. JSON goes to benchmarks/results/verify_formats.json.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from archive_format import ArchivedRecord, encode_lines

from harness.load import PayloadGenerator, PayloadSpec, ProducedRecord
from harness.scenario.model import Expectations
from harness.verify import verify
from harness.verify.archive import FetchedObject, FormatChoice, decode_archive
from harness.verify.content import IdentityExpression, KnownValues

RESULTS = Path(__file__).parent / "results" / "verify_formats.json"
T0 = datetime(2026, 7, 13, 14, 5, tzinfo=UTC)
PARTITIONS = 6
KEY = (
    "data/year=2026/month=07/day=13/hour=14/archive-1-2026-07-13-14-05-09-959487e4-754a-46e0-9b2d-{:012x}.gz"
)


def generate(count: int) -> tuple[list[ProducedRecord], list[bytes]]:
    generator = PayloadGenerator(PayloadSpec(), random.Random(5))
    records, values = [], []
    for seq in range(count):
        payload = generator.next()
        assert payload.value is not None
        values.append(payload.value)
        records.append(
            ProducedRecord(
                seq,
                "orders",
                seq % PARTITIONS,
                seq // PARTITIONS,
                payload.key,
                hashlib.sha256(payload.value).hexdigest(),
                len(payload.value),
                payload.headers,
                T0,
            )
        )
    return records, values


def encoders(records: list[ProducedRecord], values: list[bytes]) -> dict[str, Callable[[int], bytes]]:
    def v1(i: int) -> bytes:
        r = records[i]
        rec = ArchivedRecord(r.topic, r.partition, r.offset, 0, "CREATE_TIME", r.key, values[i], r.headers)
        return b"".join(line + b"\n" for line in encode_lines(rec))

    def event(i: int) -> bytes:
        r = records[i]
        doc = {
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
            "timestamp": 1_750_000_000_000,
            "timestampType": "CREATE_TIME",
            "key": None if r.key is None else base64.b64encode(r.key).decode(),
            "value": base64.b64encode(values[i]).decode(),
            "headers": [],
        }
        return json.dumps(doc, separators=(",", ":")).encode() + b"\n"

    def wrapped(i: int) -> bytes:
        return json.dumps({"order": json.loads(values[i]), "archived_by": "bench"}).encode() + b"\n"

    return {
        "harness-v1": v1,
        "kafka-record-json": event,
        "value-lines": lambda i: values[i] + b"\n",
        "value-concatenated": lambda i: values[i],
        "value-lines+identity": wrapped,
    }


def objects(encode: Callable[[int], bytes], count: int, per_object: int) -> list[FetchedObject]:
    out = []
    for n, start in enumerate(range(0, count, per_object)):
        body = gzip.compress(b"".join(encode(i) for i in range(start, min(count, start + per_object))), 1)
        out.append(FetchedObject(KEY.format(n), len(body), T0, None, body))
    return out


def choice(name: str, records: list[ProducedRecord]) -> FormatChoice:
    if name == "value-lines+identity":
        return FormatChoice("value-lines", identity=IdentityExpression.compile("order.seq"))
    return FormatChoice(name, known=KnownValues(lambda: records))


def one_round(name: str, fetched: list[FetchedObject], records: list[ProducedRecord]) -> tuple[float, int]:
    reading = choice(name, records)
    started = time.perf_counter()
    snapshot = decode_archive(fetched, bucket="archive", reading=reading)
    report = verify(records, snapshot, Expectations(), identity=reading.identity)
    elapsed = time.perf_counter() - started
    if not report.passed:
        raise RuntimeError(f"{name}: verification failed: {report.failed_checks}")
    key_bytes = sum(len(o.content_keys) for o in snapshot.objects)
    return len(records) / elapsed, key_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--per-object", type=int, default=5000)
    args = parser.parse_args()
    records, values = generate(args.records)
    archives = {
        name: objects(encode, args.records, args.per_object)
        for name, encode in encoders(records, values).items()
    }
    rates: dict[str, list[float]] = {name: [] for name in archives}
    key_bytes: dict[str, int] = {}
    for repeat in range(args.repeats):
        order = list(archives) if repeat % 2 == 0 else list(reversed(archives))  # alternate the order
        for name in order:
            rate, keys = one_round(name, archives[name], records)
            rates[name].append(rate)
            key_bytes[name] = keys
            print(f"round {repeat + 1} {name:22} {rate:>10,.0f} records/s")
    base = statistics.median(rates["harness-v1"])
    formats = {
        name: {
            "median_records_per_s": round(statistics.median(r)),
            "rounds_records_per_s": [round(x) for x in r],
            "vs_harness_v1": round(statistics.median(r) / base, 3),
            "archive_gzip_bytes": sum(o.size_bytes for o in archives[name]),
            "content_key_bytes_per_record": round(key_bytes[name] / args.records, 2),
        }
        for name, r in rates.items()
    }
    result = {
        "benchmark": "verify_formats",
        "what": "decode_archive + verify over the same records per archive format (no S3 download)",
        "records": args.records,
        "records_per_object": args.per_object,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "formats": formats,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, figures in formats.items():
        print(f"{name:22} {figures['median_records_per_s']:>10,} records/s  x{figures['vs_harness_v1']}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
