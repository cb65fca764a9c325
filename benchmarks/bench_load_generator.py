"""Records/s of the load generator vs a raw librdkafka producer, and whether it holds 100k rec/s (same run).

Run: ``python benchmarks/bench_load_generator.py [--records 200000] [--repeats 3] [--size 1024]``.
Starts an embedded broker and alternates, each round on a fresh 6-partition topic:
* raw: a confluent-kafka producer sends pre-built 1 KiB values as fast as it can (acks=all, idempotent,
  linger 5 ms: the generator's settings), polling delivery reports in bulk — the box's limit;
* generator: `LoadGenerator` asked for an unreachable rate (10M rec/s), so it sends as fast as it can with
  its seeded payloads, its own process, the acks it ships back and the ledger it feeds;
then once: the generator asked for 100,000 rec/s for `--hold-seconds`, with the `rate_held` verdict.
Reports medians; the ratio generator/raw is the figure of merit (target >= 0.8). JSON: benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.clock import SystemClock
from harness.load import (
    LoadGenerator,
    PayloadGenerator,
    PayloadSpec,
    ProducedRecord,
    RateProfile,
    SizeDistribution,
    rate_shortfall,
)

RESULTS = Path(__file__).parent / "results" / "load_generator.json"
PARTITIONS = 6


def raw_producer(servers: str, topic: str, records: int, size: int) -> float:
    """Records/s of a bare librdkafka producer sending pre-built values."""
    producer = Producer(
        {"bootstrap.servers": servers, "acks": "all", "enable.idempotence": True, "linger.ms": 5,
         "queue.buffering.max.messages": 500_000}
    )  # fmt: skip
    rng = random.Random(1)
    values = [rng.randbytes(size // 2).hex().encode() for _ in range(1024)]
    delivered = 0

    def report(err: Any, _msg: Any) -> None:
        nonlocal delivered
        delivered += err is None

    started = time.perf_counter()
    for i in range(records):
        while True:
            try:
                producer.produce(topic, values[i & 1023], key=b"k%d" % (i % 1000), on_delivery=report)
                break
            except BufferError:
                producer.poll(0.01)
        if i & 511 == 0:
            producer.poll(0)
    producer.flush(120)
    elapsed = time.perf_counter() - started
    if delivered != records:
        raise RuntimeError(f"raw producer: {delivered} of {records} delivered")
    return records / elapsed


def generator(servers: str, topic: str, records: int, size: int, rate: float) -> tuple[float, Any]:
    """Records/s the LoadGenerator acknowledged into its ledger (from `run()`: the producer process is
    started and ready before, as the runner does before its clock starts), and its summary."""
    spec = PayloadSpec(size=SizeDistribution("fixed", size=size), key_cardinality=1000)
    ledger: list[ProducedRecord] = []
    with LoadGenerator(
        servers, topic, RateProfile.constant(rate), PayloadGenerator(spec, random.Random(7)), SystemClock(),
        ledger=ledger.append,
    ) as gen:  # fmt: skip
        started = time.perf_counter()
        summary = gen.run(records=records)
        elapsed = time.perf_counter() - started
    if len(ledger) != records:
        raise RuntimeError(f"generator: {len(ledger)} of {records} in the ledger ({summary.errors[:3]})")
    return records / elapsed, summary


def main() -> None:
    """Alternate raw and generator rounds; write medians and the 100k hold check to JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--hold-seconds", type=float, default=5.0)
    args = parser.parse_args()
    raw: list[float] = []
    gen: list[float] = []
    with EmbeddedKafka(brokers=1) as kafka:
        servers = kafka.bootstrap_servers

        def topic(name: str) -> str:
            with kafka.admin() as admin:
                admin.create_topic(name, partitions=PARTITIONS)
            return name

        for round_ in range(args.repeats):
            raw.append(raw_producer(servers, topic(f"raw-{round_}"), args.records, args.size))
            gen.append(generator(servers, topic(f"gen-{round_}"), args.records, args.size, 10_000_000)[0])
            print(f"round {round_}: raw {raw[-1]:,.0f}/s  generator {gen[-1]:,.0f}/s", flush=True)
        hold_records = int(100_000 * args.hold_seconds)
        _, summary = generator(servers, topic("hold"), hold_records, args.size, 100_000)
    shortfall = rate_shortfall(summary.rate)
    result = {
        "records": args.records,
        "value_bytes": args.size,
        "partitions": PARTITIONS,
        "repeats": args.repeats,
        "raw_producer_rps": raw,
        "generator_rps": gen,
        "raw_producer_median_rps": statistics.median(raw),
        "generator_median_rps": statistics.median(gen),
        "ratio_generator_to_raw": statistics.median(gen) / statistics.median(raw),
        "hold_100k": {
            "records": hold_records,
            "sent_per_second": [s.sent for s in summary.rate],
            "asked_per_second": [round(s.asked) for s in summary.rate],
            "rate_held": shortfall is None,
            "shortfall": None if shortfall is None else shortfall.describe(),
        },
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
