"""Time to ready of the embedded S3 (moto) alone and of the whole default stack; JSON to benchmarks/results/.

Run: ``python benchmarks/bench_startup_stack.py [--repeats 5]`` (after the one-time Kafka jar fetch). Reports
the median of `repeats` cold starts for: the moto server alone, and the stack (1 embedded broker + moto +
Firehose emulator), plus the median ready time of each part inside the stack and the stop time.
Target: stack <= 5 s.
Both are measured in the same run, alternating, so machine load hits them alike.
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
from harness.backends.s3 import MotoServer
from harness.backends.stack import Stack, StackConfig

RESULTS = Path(__file__).parent / "results" / "startup_stack.json"
TARGET_STACK_SECONDS = 5.0


def time_moto() -> float:
    """Seconds from constructing a MotoServer to it answering (then stopped)."""
    began = time.perf_counter()
    server = MotoServer().start()
    ready = time.perf_counter() - began
    server.stop()
    return ready


def time_stack() -> tuple[float, dict[str, float], float]:
    """(seconds to ready, ready seconds per part, seconds to stop) for one default-stack start."""
    began = time.perf_counter()
    stack = Stack(StackConfig(brokers=1)).start()
    ready = time.perf_counter() - began
    parts = {t.name: t.seconds for t in stack.timings if t.name != "total"}
    began = time.perf_counter()
    stack.stop()
    return ready, parts, time.perf_counter() - began


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
    args = parser.parse_args()
    resolve_distribution()  # the one-time jar fetch is not part of what we measure

    load_before = os.getloadavg()
    time_moto()  # warm imports (moto's service models) so the first sample is not an import benchmark
    moto: list[float] = []
    stack: list[float] = []
    stops: list[float] = []
    parts: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        moto.append(time_moto())
        ready, part_times, stopped = time_stack()
        stack.append(ready)
        stops.append(stopped)
        for name, seconds in part_times.items():
            parts.setdefault(name, []).append(seconds)

    result = {
        "benchmark": "startup_stack",
        "repeats": args.repeats,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        },
        "moto_alone": summary(moto),
        "stack_1_broker_s3_firehose": summary(stack),
        "stack_parts": {name: summary(values) for name, values in parts.items()},
        "stack_stop": summary(stops),
        "target_stack_s": TARGET_STACK_SECONDS,
        "meets_target": statistics.median(stack) <= TARGET_STACK_SECONDS,
        "note": "imports are warm (same process); each start is a fresh JVM and a fresh moto/Firehose server",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
