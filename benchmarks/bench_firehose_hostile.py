"""Firehose emulator under a connection storm: 10,000 concurrent calls, before (stdlib) vs after (bounded).

Each call opens its own loopback connection and sends one small PutRecordBatch (10 x 100 B) at the same moment
as all the others; every call waits at most `--call-timeout` seconds. Counted per engine: answered 200,
answered 503 (ServiceUnavailableException: shed by the bounded engine's full queue), other statuses,
connection resets, timeouts, and the slowest answer. Both engines run as subprocesses on one moto S3;
rounds alternate between them and the medians of `--repeats` rounds are written.

Run: python benchmarks/bench_firehose_hostile.py [--calls 10000] [--repeats 2]
Writes benchmarks/results/firehose_hostile.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

from benchmarks.bench_firehose_ingest import (  # the ingest benchmark's process helpers
    AUTH,
    _creds,
    create_stream,
    host_port,
    peak_rss_mib,
    start_emulator,
    start_process,
)
from harness.processes import free_port, port_open, stop_child, wait_until

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "firehose_hostile.json"
ENGINES = ("stdlib", "bounded")  # before, after


def request_bytes(stream: str) -> bytes:
    records = [{"Data": base64.b64encode(f"record-{i:03d}-".encode() * 8).decode()} for i in range(10)]
    body = json.dumps({"DeliveryStreamName": stream, "Records": records}).encode()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: Firehose_20150804.PutRecordBatch\r\n"
        f"Content-Type: application/x-amz-json-1.1\r\nAuthorization: {AUTH}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def one_call(host: str, port: int, raw: bytes, timeout: float) -> tuple[str, float]:
    """('200' | '503' | other status | 'reset' | 'timeout' | 'refused', seconds)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(raw)
                await writer.drain()
                status_line = await reader.readline()
                await reader.read()  # Connection: close - the rest until EOF
            finally:
                writer.close()
    except TimeoutError:
        return "timeout", time.perf_counter() - started
    except ConnectionRefusedError:
        return "refused", time.perf_counter() - started
    except (ConnectionResetError, BrokenPipeError):
        return "reset", time.perf_counter() - started
    except OSError as exc:
        return f"oserror-{exc.errno}", time.perf_counter() - started
    parts = status_line.split(b" ")
    outcome = parts[1].decode() if len(parts) > 1 else "reset"  # EOF before any answer counts as a reset
    return outcome, time.perf_counter() - started


async def storm(url: str, calls: int, timeout: float) -> dict[str, Any]:
    host, port = host_port(url)
    raw = request_bytes("storm")
    started = time.perf_counter()
    results = await asyncio.gather(*(one_call(host, port, raw, timeout) for _ in range(calls)))
    wall = time.perf_counter() - started
    outcomes = Counter(outcome for outcome, _ in results)
    latencies = sorted(seconds for _, seconds in results)
    answered = outcomes["200"] + outcomes["503"]
    return {
        "calls": calls,
        "answered_200": outcomes["200"],
        "answered_503": outcomes["503"],
        "resets": outcomes["reset"],
        "timeouts": outcomes["timeout"],
        "other": {k: v for k, v in outcomes.items() if k not in ("200", "503", "reset", "timeout")},
        "unanswered": calls - answered,
        "p50_s": statistics.median(latencies),
        "slowest_s": latencies[-1],
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--call-timeout", type=float, default=60.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.calls + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.calls + 1024), hard))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-firehose-hostile-") as tmp:
        results = run(args, Path(tmp))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def run(args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """Start moto and both engines, storm them in alternating rounds, return the medians."""
    moto_port = free_port()
    moto = start_process(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], logs / "moto.log"
    )
    samples: dict[str, list[dict[str, Any]]] = {engine: [] for engine in ENGINES}
    rss: dict[str, float] = {}
    try:
        wait_until(lambda: port_open("127.0.0.1", moto_port), timeout=60, what="moto")
        s3_url = f"http://127.0.0.1:{moto_port}"
        boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", **_creds()).create_bucket(
            Bucket="bench"
        )
        procs = {}
        try:
            for engine in ENGINES:
                proc, url = start_emulator(s3_url, engine, logs / f"emulator-{engine}.log")
                procs[engine] = (proc, url)
                create_stream(url, "storm", "bench", 64)
            for round_index in range(args.repeats):
                for engine, (_, url) in procs.items():
                    sample = asyncio.run(storm(url, args.calls, args.call_timeout))
                    samples[engine].append(sample)
                    print(round_index, engine, json.dumps(sample), flush=True)
            rss = {engine: peak_rss_mib(proc.pid) for engine, (proc, _) in procs.items()}
        finally:
            for proc, _ in procs.values():
                stop_child(proc)
    finally:
        stop_child(moto)
    results: dict[str, Any] = {
        "workload": f"{args.calls} concurrent calls, one loopback connection each, PutRecordBatch 10 x 100 B",
        "call_timeout_s": args.call_timeout,
        "before": "stdlib engine (thread per connection, no limits)",
        "after": "bounded engine (event loop, 16 workers, queue 1,024, 503 when full)",
        "cpu_count": os.cpu_count(),
    }
    for engine, runs in samples.items():
        numeric = [k for k, v in runs[0].items() if isinstance(v, int | float)]
        results[engine] = {k: statistics.median(run[k] for run in runs) for k in numeric}
        results[engine]["other"] = [run["other"] for run in runs]
        results[engine]["repeats"] = len(runs)
        results[engine]["peak_rss_mib"] = rss.get(engine)
    return results


if __name__ == "__main__":
    main()
