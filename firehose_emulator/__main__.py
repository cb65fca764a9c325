"""Run the emulator standalone: prints the URL it listens on as its first stdout line, serves until
SIGINT/SIGTERM.

Example::

    python -m firehose_emulator --port 0 --s3-endpoint-url http://127.0.0.1:5000
    # http://127.0.0.1:41234
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import signal
import sys
import threading
from datetime import datetime
from types import FrameType

from firehose_emulator import build_service
from firehose_emulator.clock import RealClock
from firehose_emulator.options import ServiceOptions
from firehose_emulator.server import ENGINES, FirehoseServer


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"--start-time needs a time zone (e.g. {text}Z): {text}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m firehose_emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--s3-endpoint-url", default=None, help="S3 endpoint (default: real AWS S3)")
    parser.add_argument("--region", default="us-east-1", help="default Region when requests are unsigned")
    parser.add_argument("--account-id", default="123456789012")
    parser.add_argument("--start-time", type=_instant, default=None, help="clock start, ISO-8601 with zone")
    parser.add_argument("--speed", type=float, default=1.0, help="clock speed (1.0 = real time)")
    parser.add_argument("--create-delay-seconds", type=float, default=ServiceOptions.create_delay_seconds)
    parser.add_argument("--enforce-throughput-quota", action="store_true")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="RNG seed for ids and object names (default: unique per process)",
    )
    parser.add_argument("--engine", choices=ENGINES, default="bounded")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start, announce the URL, wait for a signal, stop cleanly."""
    args = parse_args(argv)
    if args.speed <= 0:
        print("--speed must be > 0", file=sys.stderr)
        return 2
    clock = RealClock(args.start_time, args.speed)
    options = dataclasses.replace(
        ServiceOptions(),
        account_id=args.account_id,
        default_region=args.region,
        create_delay_seconds=args.create_delay_seconds,
        enforce_throughput_quota=args.enforce_throughput_quota,
    )
    # A local S3 endpoint (moto) accepts any credentials: use dummy ones when the environment has none.
    local_creds = (
        ("testing", "testing") if args.s3_endpoint_url and "AWS_ACCESS_KEY_ID" not in os.environ else None
    )
    service = build_service(
        args.s3_endpoint_url,
        region=args.region,
        clock=clock,
        rng_seed=args.seed,
        options=options,
        s3_credentials=local_creds,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    service.start()
    server = FirehoseServer(
        service,
        host=args.host,
        port=args.port,
        engine=args.engine,
        rng=random.Random(None if args.seed is None else args.seed + 1),
    )
    try:
        server.start()
        print(server.url, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
