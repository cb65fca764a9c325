"""Per-request cost of host interception: the HTTPS front vs calling the emulator's endpoint directly.

Run: ``python benchmarks/bench_intercept.py [--calls 300] [--rounds 5]``.
Starts moto and our Firehose emulator in this process, an `Interception` front before them, and one client
process set up like a function environment in ``both`` mode (preload, trust variables). In that process one
boto3 client per path and call kind alternates rounds: ``direct`` (``endpoint_url`` = the emulator, plain
HTTP) and ``intercepted`` (no endpoint: the real AWS host name, resolved to the front, TLS, forwarded). Calls
are Firehose PutRecordBatch (10 small records) and S3 GetObject (1 KiB), on kept-alive connections. Reports
the median per-call milliseconds of each path and the overhead. JSON goes to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.backends.firehose import FirehoseBackend
from harness.backends.s3 import MotoServer
from harness.clock import SystemClock
from harness.intercept.environment import AwsEndpoints
from harness.intercept.session import Interception, routes_from_env

RESULTS = Path(__file__).parent / "results" / "intercept.json"

CLIENT = r"""
import json, sys, time
import boto3
calls, rounds, direct = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
clients = {
    "direct": {
        "firehose": boto3.client("firehose", endpoint_url=direct["firehose"]),
        "s3": boto3.client("s3", endpoint_url=direct["s3"]),
    },
    "intercepted": {"firehose": boto3.client("firehose"), "s3": boto3.client("s3")},
}
records = [{"Data": b"x" * 200 + b"\n"} for _ in range(10)]
ops = {
    "firehose": lambda c: c.put_record_batch(DeliveryStreamName="bench", Records=records),
    "s3": lambda c: c.get_object(Bucket="bench", Key="one-kib")["Body"].read(),
}
for path in clients.values():  # warm up: connections, TLS sessions, leaf certificates
    for kind, client in path.items():
        for _ in range(5):
            ops[kind](client)
out = {path: {kind: [] for kind in ops} for path in clients}
for r in range(rounds):
    order = ["direct", "intercepted"] if r % 2 == 0 else ["intercepted", "direct"]
    for path in order:
        for kind, client in clients[path].items():
            began = time.perf_counter()
            for _ in range(calls):
                ops[kind](client)
            out[path][kind].append((time.perf_counter() - began) / calls * 1000)
print(json.dumps(out))
"""


def main() -> None:
    """Run the comparison and write benchmarks/results/intercept.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per path, kind and round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    args = parser.parse_args()
    with (
        MotoServer() as moto,
        FirehoseBackend(moto.endpoint_url, clock=SystemClock()) as firehose,
        tempfile.TemporaryDirectory() as work,
    ):
        moto.s3_client().create_bucket(Bucket="bench")
        moto.s3_client().put_object(Bucket="bench", Key="one-kib", Body=b"k" * 1024)
        firehose.client().create_delivery_stream(
            DeliveryStreamName="bench",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/bench",
                "BucketARN": "arn:aws:s3:::bench",
                "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900},
            },
        )
        stack_env = {**moto.env(), "AWS_ENDPOINT_URL_FIREHOSE": firehose.endpoint_url}
        routes = routes_from_env(stack_env, moto_url=moto.endpoint_url)
        with Interception(AwsEndpoints.BOTH, routes, rng=random.Random(1), now=SystemClock().now) as front:
            extra = front.function_env(
                runtime="python3.12", code_dir=Path(work), stack_env={}, function_variables={}
            )
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                **extra,
                "PYTHONPATH": os.pathsep.join([extra["PYTHONPATH"], os.environ.get("PYTHONPATH", "")]),
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
            }
            direct = {"firehose": firehose.endpoint_url, "s3": moto.endpoint_url}
            done = subprocess.run(
                [sys.executable, "-c", CLIENT, str(args.calls), str(args.rounds), json.dumps(direct)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=1800,
            )
            if done.returncode != 0:
                raise SystemExit(f"client failed:\n{done.stderr[-3000:]}")
            use = front.use()
    samples = json.loads(done.stdout)
    figures = {}
    for kind in ("firehose", "s3"):
        direct_ms = statistics.median(samples["direct"][kind])
        front_ms = statistics.median(samples["intercepted"][kind])
        figures[kind] = {
            "direct_ms_per_call": round(direct_ms, 3),
            "intercepted_ms_per_call": round(front_ms, 3),
            "overhead_ms_per_call": round(front_ms - direct_ms, 3),
            "ratio": round(front_ms / direct_ms, 2),
        }
    document = {
        "benchmark": "intercept",
        "calls_per_round": args.calls,
        "rounds": args.rounds,
        "client": "boto3 (the harness's), one kept-alive connection per client",
        "front_requests": use.intercepted,
        "figures": figures,
        "samples_ms_per_call": samples,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
