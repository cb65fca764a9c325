"""Firehose ingest throughput: our emulator vs moto's Firehose, same workload, same run.

Workload: PutRecordBatch calls of 500 x 1 KiB records over HTTP/1.1 keep-alive (raw `http.client` with a
pre-built JSON body, so the figure is the server's, not boto3's), GZIP stream with the project prefix, S3 on a
moto server. Both servers run as subprocesses (no GIL sharing with the client). Reported, as medians of
`--repeats` interleaved rounds: records/s, MiB/s, p50/p99 call latency (sequential, one connection) and
aggregate throughput with `--threads` connections, for our three HTTP engines (bounded, stdlib, werkzeug)
and moto; the
ratios to moto; peak RSS of our emulator while it buffers ~150 MiB in a 128 MiB buffer. `--profile` runs the
request path in-process under cProfile and prints the top functions.

Run: python benchmarks/bench_firehose_ingest.py [--calls 200] [--moto-calls 60] [--threads 4]
Writes benchmarks/results/firehose_ingest.json.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import cProfile
import http.client
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

from firehose_emulator.hooks import EmulatorHooks
from firehose_emulator.models_wire import stream_spec_from_wire
from firehose_emulator.object_store import MemoryObjectStore
from firehose_emulator.options import ServiceOptions
from firehose_emulator.protocol import FirehoseProtocol
from firehose_emulator.service import FirehoseService
from harness.backends.firehose import wait_until_active
from harness.clock import SystemClock
from harness.processes import free_port, port_open, spawn_child, stop_child, wait_until

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "firehose_ingest.json"
PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
RECORDS_PER_CALL = 500
RECORD_BYTES = 1024
MIB = 1_048_576
ENGINES_MEASURED = ("bounded", "stdlib", "werkzeug")  # bounded: the default since the hardening (issue 16)
AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260713/us-east-1/firehose/aws4_request, "
    "SignedHeaders=host;x-amz-target, Signature=0"
)
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def batch_body(stream: str, seed: int) -> bytes:
    rng = random.Random(seed)
    records = [
        {"Data": base64.b64encode(rng.randbytes(RECORD_BYTES // 2).hex().encode()).decode()}
        for _ in range(RECORDS_PER_CALL)
    ]
    return json.dumps({"DeliveryStreamName": stream, "Records": records}).encode()


def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[float, dict[str, Any]]:
    headers = {
        "X-Amz-Target": "Firehose_20150804.PutRecordBatch",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": AUTH,
    }
    started = time.perf_counter()
    conn.request("POST", "/", body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
    result: dict[str, Any] = json.loads(payload)
    if result.get("FailedPutCount"):
        raise RuntimeError(f"{result['FailedPutCount']} records failed")
    return elapsed, result


def host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def run_workload(url: str, stream: str, calls: int, threads: int) -> dict[str, float]:
    bodies = [batch_body(stream, seed) for seed in range(8)]
    host, port = host_port(url)
    conn = http.client.HTTPConnection(host, port, timeout=120)
    post(conn, bodies[0])  # warm-up
    latencies = []
    started = time.perf_counter()
    for i in range(calls):
        latencies.append(post(conn, bodies[i % len(bodies)])[0])
    sequential = time.perf_counter() - started
    conn.close()

    def worker(index: int) -> None:
        own = http.client.HTTPConnection(host, port, timeout=120)
        for i in range(calls // threads):
            post(own, bodies[(i + index) % len(bodies)])
        own.close()

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    concurrent_seconds = time.perf_counter() - started
    records = calls * RECORDS_PER_CALL
    concurrent_records = (calls // threads) * threads * RECORDS_PER_CALL
    latencies.sort()
    return {
        "calls": calls,
        "records_per_s": records / sequential,
        "mib_per_s": records * RECORD_BYTES / MIB / sequential,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "concurrent_threads": threads,
        "concurrent_records_per_s": concurrent_records / concurrent_seconds,
        "concurrent_mib_per_s": concurrent_records * RECORD_BYTES / MIB / concurrent_seconds,
    }


def start_process(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return spawn_child(argv, log=out, env={**os.environ, **ENV})


def firehose_client(url: str) -> Any:
    return boto3.client("firehose", endpoint_url=url, region_name="us-east-1", **_creds())


def _creds() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def create_stream(url: str, name: str, bucket: str, size_mb: int) -> None:
    firehose_client(url).create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": PREFIX,
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "CompressionFormat": "GZIP",
            "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": 300},
        },
    )
    wait_until_active(firehose_client(url), name, clock=SystemClock())


def start_emulator(s3_url: str, engine: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = start_process(
        [
            sys.executable,
            "-m",
            "firehose_emulator",
            "--port",
            str(port),
            "--s3-endpoint-url",
            s3_url,
            "--engine",
            engine,
        ],
        log,
    )
    wait_until(
        lambda: port_open("127.0.0.1", port),
        timeout=60,
        what="firehose emulator",
        alive=lambda: proc.poll() is None,
        log_path=log,
    )
    return proc, f"http://127.0.0.1:{port}"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_memory(s3_url: str, log: Path) -> dict[str, float]:
    proc, url = start_emulator(s3_url, "bounded", log)
    try:
        create_stream(url, "memory", "bench", 128)
        host, port = host_port(url)
        conn = http.client.HTTPConnection(host, port, timeout=120)
        body = batch_body("memory", 99)
        idle = peak_rss_mib(proc.pid)
        calls = 300  # 150 MiB: one 128 MiB buffer sealed, the rest buffered
        for _ in range(calls):
            post(conn, body)
        conn.close()
        return {
            "buffer_size_mib": 128,
            "ingested_mib": calls * RECORDS_PER_CALL * RECORD_BYTES / MIB,
            "idle_peak_rss_mib": idle,
            "peak_rss_mib": peak_rss_mib(proc.pid),
        }
    finally:
        stop_child(proc)


def profile_in_process() -> None:
    store = MemoryObjectStore(("bench",))
    service = FirehoseService(
        store, clock=SystemClock(), rng=random.Random(0), options=ServiceOptions(create_delay_seconds=0)
    ).start()
    spec = {
        "DeliveryStreamName": "p",
        "ExtendedS3DestinationConfiguration": {
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::bench",
            "Prefix": PREFIX,
            "ErrorOutputPrefix": "e/!{firehose:error-output-type}/",
            "CompressionFormat": "GZIP",
        },
    }
    service.create_delivery_stream("us-east-1", stream_spec_from_wire(spec))  # type: ignore[arg-type]
    protocol = FirehoseProtocol(service)
    body = batch_body("p", 1)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(200):
        protocol.handle("Firehose_20150804.PutRecordBatch", body, AUTH)
    profiler.disable()
    EmulatorHooks(service).flush()
    service.close()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--moto-calls", type=int, default=60)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        profile_in_process()
        return
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-firehose-") as tmp:
        run(args, Path(tmp))


def run(args: argparse.Namespace, logs: Path) -> None:
    """Start moto and both emulator engines (logs under `logs`), measure, write the JSON."""
    moto_port = free_port()
    moto = start_process(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], logs / "moto.log"
    )
    results: dict[str, Any] = {
        "workload": f"PutRecordBatch {RECORDS_PER_CALL} x {RECORD_BYTES} B, raw HTTP/1.1 keep-alive, "
        "GZIP, project prefix",
        "client": "http.client, pre-built JSON bodies; sequential on one connection, then N connections",
    }
    try:
        wait_until(
            lambda: port_open("127.0.0.1", moto_port),
            timeout=60,
            what="moto",
            alive=lambda: moto.poll() is None,
        )
        s3_url = f"http://127.0.0.1:{moto_port}"
        boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", **_creds()).create_bucket(
            Bucket="bench"
        )
        targets: dict[str, tuple[str, int]] = {}
        procs = []
        for engine in ENGINES_MEASURED:
            proc, url = start_emulator(s3_url, engine, logs / f"emulator-{engine}.log")
            procs.append(proc)
            create_stream(url, "bench", "bench", 5)
            targets[f"emulator_{engine}"] = (url, args.calls)
        create_stream(s3_url, "bench", "bench", 5)
        targets["moto_firehose"] = (s3_url, args.moto_calls)
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        try:
            # Interleave the targets each round: the machine is shared, so load drifts during a run.
            for round_index in range(args.repeats):
                for name, (url, calls) in targets.items():
                    samples[name].append(run_workload(url, "bench", calls, args.threads))
                    print(round_index, name, json.dumps(samples[name][-1]), flush=True)
            for proc, engine in zip(procs, ENGINES_MEASURED, strict=True):
                results.setdefault("peak_rss_mib_after_runs", {})[engine] = peak_rss_mib(proc.pid)
        finally:
            for proc in procs:
                stop_child(proc)
        for name, runs in samples.items():
            results[name] = {
                key: statistics.median(run[key] for run in runs)
                for key in runs[0]
                if key != "concurrent_threads"
            }
            results[name]["repeats"] = len(runs)
            results[name]["concurrent_threads"] = args.threads
        results["memory_128mib_buffer"] = measure_memory(s3_url, logs / "emulator-memory.log")
    finally:
        stop_child(moto)
    moto_figures = results["moto_firehose"]
    results["ratio_vs_moto"] = {
        engine: {
            "sequential_records_per_s": results[f"emulator_{engine}"]["records_per_s"]
            / moto_figures["records_per_s"],
            "concurrent_records_per_s": results[f"emulator_{engine}"]["concurrent_records_per_s"]
            / moto_figures["concurrent_records_per_s"],
        }
        for engine in ENGINES_MEASURED
    }
    results["cpu_count"] = os.cpu_count()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
