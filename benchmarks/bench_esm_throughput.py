"""Records/s the Kafka ESM delivers to a no-op Python function vs a raw librdkafka consumer (same run).

Run: ``python benchmarks/bench_esm_throughput.py [--records 200000] [--repeats 3] [--batch-size 2000]``.
Starts an embedded broker, fills one topic, then alternates: a raw librdkafka consumer (new group) reads
every record; an ESM (new group) delivers every record to a real no-op Python function through the Runtime
API and commits.
Reports medians; the ratio ESM/plain is the figure of merit (target >= 0.5). JSON goes to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.clock import SystemClock
from harness.esm.mapping import EventSourceMapping
from harness.esm.settings import EsmConfig
from harness.runtime.function import FunctionConfig, FunctionRuntime

RESULTS = Path(__file__).parent / "results" / "esm_throughput.json"
PARTITIONS = 4


def fill(servers: str, topic: str, records: int, size: int) -> None:
    producer = Producer({"bootstrap.servers": servers, "acks": 1, "linger.ms": 20})
    rng = random.Random(1)
    for i in range(records):
        value = json.dumps({"i": i, "pad": rng.randbytes(size // 2).hex()}).encode()
        while True:
            try:
                producer.produce(topic, value, key=b"k%d" % (i % 97), partition=i % PARTITIONS)
                break
            except BufferError:  # librdkafka's queue is full
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(120) > 0:
        raise RuntimeError("fill: records still unacknowledged after 120 s")


def plain_consumer(servers: str, topic: str, records: int, group: str) -> float:
    """Records/s of a raw librdkafka consumer (confluent-kafka) reading every record once."""
    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    started = time.perf_counter()
    seen = 0
    while seen < records:
        seen += sum(1 for m in consumer.consume(10_000, 0.5) if m.error() is None)
        if time.perf_counter() - started > 600:
            raise RuntimeError(f"plain consumer saw only {seen} of {records} records")
    elapsed = time.perf_counter() - started
    consumer.close()
    return records / elapsed


def esm_run(
    servers: str, topic: str, records: int, runtime: FunctionRuntime, batch_size: int, seed: int
) -> float:
    config = EsmConfig.from_aws(
        {
            "FunctionName": "noop",
            "Topics": [topic],
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": batch_size,
            "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": servers.split(",")}},
        }
    )
    expected = {p: records // PARTITIONS for p in range(PARTITIONS)}
    started = time.perf_counter()
    with EventSourceMapping(
        config, runtime, bootstrap_servers=servers, clock=SystemClock(), rng=random.Random(seed)
    ) as esm:
        while esm.committed_offsets() != expected:
            if esm.poll_error() is not None:
                raise RuntimeError("ESM poll loop failed") from esm.poll_error()
            if time.perf_counter() - started > 600:
                committed = esm.committed_offsets()
                raise RuntimeError(f"ESM did not finish: committed {committed}, expected {expected}")
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        invocations = len(esm.invocations())
    print(f"  esm: {invocations} invocations")
    return records / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--record-bytes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()
    records = args.records - args.records % PARTITIONS
    plain: list[float] = []
    esm: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, EmbeddedKafka(brokers=1) as kafka:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "noop.py").write_text("def handler(event, context):\n    return None\n")
        with kafka.admin() as admin:
            admin.create_topic("bench", partitions=PARTITIONS)
        fill(kafka.bootstrap_servers, "bench", records, args.record_bytes)
        function = FunctionConfig(
            name="noop",
            runtime="python3.11",
            handler="noop.handler",
            code_dir=code,
            timeout_seconds=60,
            memory_mb=1024,
        )
        with FunctionRuntime(
            function,
            clock=SystemClock(),
            rng=random.Random(2),
            log_dir=Path(tmp) / "logs",
            max_environments=PARTITIONS,
        ) as runtime:
            for repeat in range(args.repeats):
                plain.append(plain_consumer(kafka.bootstrap_servers, "bench", records, f"plain-{repeat}"))
                esm.append(
                    esm_run(kafka.bootstrap_servers, "bench", records, runtime, args.batch_size, repeat)
                )
                print(f"repeat {repeat}: plain {plain[-1]:,.0f} rec/s, esm {esm[-1]:,.0f} rec/s")
    result = {
        "benchmark": "esm_throughput",
        "records": records,
        "record_bytes": args.record_bytes,
        "partitions": PARTITIONS,
        "batch_size": args.batch_size,
        "plain_consumer_records_per_s": plain,
        "esm_records_per_s": esm,
        "median_plain": statistics.median(plain),
        "median_esm": statistics.median(esm),
        "ratio_median": statistics.median(esm) / statistics.median(plain),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k.startswith(("median", "ratio"))}, indent=2))


if __name__ == "__main__":
    main()
