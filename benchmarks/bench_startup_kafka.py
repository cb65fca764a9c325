"""Time to ready of embedded Kafka (1 and 3 brokers); JSON to benchmarks/results/startup_kafka.json.

Run: ``python benchmarks/bench_startup_kafka.py [--repeats 5]`` after the one-time jar fetch
(``python -m harness.backends.kafka.dist fetch``). For each JVM variant and cluster size it records the
median of `repeats` cold starts (format storage, spawn JVMs, wait until metadata lists every broker
unfenced) and the stop time. The JVM variants (plain, tuned flags, tuned flags + class-data-sharing archive)
are measured in the same run, interleaved, so machine load hits them alike.
Targets: 1 broker well under 5 s, 3 brokers <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from harness.backends.kafka.dist import resolve_distribution
from harness.backends.kafka.embedded import DEFAULT_JVM_FLAGS, EmbeddedKafka

RESULTS = Path(__file__).parent / "results" / "startup_kafka.json"
# label -> (JVM flags, class-data-sharing archive on)
VARIANTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "plain JVM (G1, no CDS archive)": ((), False),
    "harness flags, no CDS archive": (DEFAULT_JVM_FLAGS, False),
    "harness default (flags + CDS archive)": (DEFAULT_JVM_FLAGS, True),
}


def time_start(brokers: int, flags: tuple[str, ...], cds: bool) -> tuple[float, float]:
    """(seconds to ready, seconds to stop) for one cold start."""
    began = time.perf_counter()
    cluster = EmbeddedKafka(brokers=brokers, jvm_flags=flags, class_data_sharing=cds).start()
    ready = time.perf_counter() - began
    began = time.perf_counter()
    cluster.stop()
    return ready, time.perf_counter() - began


def summary(samples: list[float]) -> dict[str, object]:
    """Median, min, max and the raw samples (seconds, 3 decimals)."""
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "samples_s": [round(s, 3) for s in samples],
    }


def main() -> None:
    """Run the benchmark and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()
    dist = resolve_distribution()
    # Warm-up: page cache, and the one-time class-data-sharing archive (written when the first broker exits).
    time_start(1, DEFAULT_JVM_FLAGS, True)
    ready: dict[str, list[float]] = {}
    stop: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for brokers in args.sizes:
            for label, (flags, cds) in VARIANTS.items():
                key = f"{brokers} broker(s), {label}"
                r, s = time_start(brokers, flags, cds)
                ready.setdefault(key, []).append(r)
                stop.setdefault(key, []).append(s)
                print(f"{key}: ready {r:.2f} s, stop {s:.2f} s", flush=True)
    result = {
        "benchmark": "embedded Kafka time to ready",
        "kafka": dist.version,
        "kafka_source": dist.source,
        "default_jvm_flags": list(DEFAULT_JVM_FLAGS),
        "repeats": args.repeats,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "targets_s": {"1 broker": 5.0, "3 brokers": 10.0},
        "ready": {key: summary(samples) for key, samples in ready.items()},
        "stop": {key: summary(samples) for key, samples in stop.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for key, samples in ready.items():
        print(f"median ready {key}: {statistics.median(samples):.2f} s")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
