"""What Lambda's world costs: first-run environment builds, and per-invocation overhead against the old setup.

Measures, in one run:
- build: the first build of the python3.12 environment (venv + awslambdaric/boto3 from PyPI) and of the
  Node.js SDK (npm), each into a fresh scratch cache (pip's and npm's own download caches stay warm, so this
  is the install cost, not a cold network fetch);
- per invocation, alternating rounds of two set-ups for the same no-op handler: "lambda-world" (the
  runtime's own interpreter and packages, the read-only audit hook) and "harness-env" (the previous set-up:
  ``sys.executable -m awslambdaric`` on the harness's site-packages, no audit hook). Both copy the code and
  police memory, so the difference is the interpreter and the hook. Warm invoke median/p95, and cold start
  (runtime start + first invoke) medians.
Writes benchmarks/results/runtime_env.json. Records; asserts nothing.

    python benchmarks/bench_runtime_env.py [--rounds 5] [--warm 200] [--skip-build]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.clock import SystemClock  # noqa: E402
from harness.runtime import function as function_module  # noqa: E402
from harness.runtime.function import FunctionConfig, FunctionRuntime  # noqa: E402
from harness.runtime.provision import node_environment, python_environment  # noqa: E402
from harness.runtime.sandbox import FunctionFiles  # noqa: E402
from harness.runtime.world import FunctionWorld, prepare_world  # noqa: E402

NOOP = "def handler(event, context):\n    return None\n"


def harness_env_world(
    name: str,
    runtime: str,
    handler: str,
    code_dir: Path,
    *,
    layers: Sequence[Path] = (),
    function_variables: Mapping[str, str] = MappingProxyType({}),
) -> FunctionWorld:
    """The set-up before Lambda's world: the harness's interpreter and site-packages, no sandbox."""
    files = FunctionFiles(name, code_dir, layers)
    return FunctionWorld(
        files,
        [sys.executable, "-m", "awslambdaric", handler],
        f"{runtime} on the harness's interpreter",
        {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(files.task_root)},
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def build_times() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        python_ms = timed(lambda: python_environment("python3.12", root / "py"))
        node_ms = timed(lambda: node_environment("nodejs20.x", root / "node"))
        cached_ms = timed(lambda: python_environment("python3.12", root / "py"))
    return {
        "python3.12_first_build_s": round(python_ms / 1000, 1),
        "nodejs20.x_sdk_first_build_s": round(node_ms / 1000, 1),
        "python3.12_cached_lookup_ms": round(cached_ms, 1),
    }


def one_round(config: FunctionConfig, tmp: Path, warm: int, seed: int) -> tuple[float, list[float]]:
    samples: list[float] = []
    fn = FunctionRuntime(config, clock=SystemClock(), rng=random.Random(seed), log_dir=tmp)
    try:
        cold = timed(lambda: fn.start().invoke(b"{}"))  # provisioning lookup, file copy, spawn, init, invoke
        for _ in range(warm):
            samples.append(timed(lambda: fn.invoke(b'{"k": 1}')))
    finally:
        fn.stop()
    return cold, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--skip-build", action="store_true", help="do not time the first-run builds")
    args = parser.parse_args()
    out: dict[str, object] = {"benchmark": "runtime_env", "python": platform.python_version()}
    if not args.skip_build:
        out.update(build_times())
    worlds = {"lambda-world": prepare_world, "harness-env": harness_env_world}
    cold: dict[str, list[float]] = {name: [] for name in worlds}
    warm: dict[str, list[float]] = {name: [] for name in worlds}
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "noop.py").write_text(NOOP)
        config = FunctionConfig("noop", "python3.12", "noop.handler", code)
        for round_index in range(args.rounds):
            for name, world in worlds.items():  # alternate the set-ups round by round
                with mock.patch.object(function_module, "prepare_world", world):
                    cold_ms, samples = one_round(config, Path(tmp), args.warm, round_index)
                cold[name].append(cold_ms)
                warm[name].extend(samples)
    for name in worlds:
        out[name] = {
            "cold_start_median_ms": round(statistics.median(cold[name]), 1),
            "warm_median_ms": round(statistics.median(warm[name]), 3),
            "warm_p95_ms": round(percentile(warm[name], 0.95), 3),
        }
    out["rounds"] = args.rounds
    out["warm_invokes_per_round"] = args.warm
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "runtime_env.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
