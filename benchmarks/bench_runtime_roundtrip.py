"""Per-invocation overhead of the Runtime API round trip with a no-op Python handler (awslambdaric).

Measures, in one run: the median and p95 of warm invokes (harness invoke() -> GET /next -> handler -> POST
/response -> result), and the median cold start (spawn to first result) over fresh runtimes.
Writes benchmarks/results/runtime_roundtrip.json. Records; asserts nothing.

    python benchmarks/bench_runtime_roundtrip.py [--warm 500] [--cold 10]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.clock import SystemClock  # noqa: E402
from harness.runtime.function import FunctionConfig, FunctionRuntime  # noqa: E402

NOOP = "def handler(event, context):\n    return None\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warm", type=int, default=500)
    parser.add_argument("--cold", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "noop.py").write_text(NOOP)
        config = FunctionConfig("noop", "python3.12", "noop.handler", code)
        warm: list[float] = []
        with FunctionRuntime(config, clock=SystemClock(), rng=random.Random(0), log_dir=Path(tmp)) as fn:
            fn.invoke(b"{}")  # cold start, not counted
            for _ in range(args.warm):
                began = time.perf_counter()
                result = fn.invoke(b'{"k": 1}')
                warm.append((time.perf_counter() - began) * 1000)
                assert result.ok
        cold: list[float] = []
        init: list[float] = []
        for i in range(args.cold):
            with FunctionRuntime(config, clock=SystemClock(), rng=random.Random(i), log_dir=Path(tmp)) as fn:
                began = time.perf_counter()
                result = fn.invoke(b"{}")
                cold.append((time.perf_counter() - began) * 1000)
                init.append(result.init_duration_ms or 0.0)
    out = {
        "benchmark": "runtime_roundtrip",
        "handler": "python no-op via awslambdaric",
        "python": platform.python_version(),
        "warm_invokes": args.warm,
        "warm_median_ms": round(statistics.median(warm), 3),
        "warm_p95_ms": round(percentile(warm, 0.95), 3),
        "cold_starts": args.cold,
        "cold_start_median_ms": round(statistics.median(cold), 1),
        "init_duration_median_ms": round(statistics.median(init), 1),
    }
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "runtime_roundtrip.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
