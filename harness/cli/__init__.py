"""The `msk-harness` command: argument parsing only; each subcommand lives in its own module here.

Examples::

    msk-harness up            # start Kafka + S3 (+ Firehose), print `export` lines, run until Ctrl-C
    msk-harness up --check    # start, prove each part works, report, stop; exit 0/1
    msk-harness doctor        # what this machine has, and how to fix what is missing
    msk-harness init ci/      # write an archive-gate project: scenario, pytest test, GitHub Actions workflow
    msk-harness validate scenarios/smoke.yaml   # check a scenario file; exit 2 with file:line errors
    msk-harness run scenarios/smoke.yaml        # run it; exit 0 passed, 1 failed, 2 bad input
    msk-harness sweep scenarios/smoke.yaml --grid batch_size=100,1000
    msk-harness replay --from s3://archive/data/ --key order-42 --to embedded --to-topic debug

Exit codes are `harness.exits.ExitCode`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from harness.cli import doctor, init, replay, run, sweep, up, validate
from harness.exits import ExitCode
from harness.lifecycle import BackendError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand (up, validate, run, sweep, doctor, replay, init)."""
    parser = argparse.ArgumentParser(
        prog="msk-harness",
        description="Local emulation and test harness for MSK -> Lambda (Kafka ESM) -> Firehose -> S3.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (up, validate, run, sweep, doctor, replay, init):
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `msk-harness` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args, parser)
    except BackendError as exc:
        Console(stderr=True, soft_wrap=True).print(
            Text("error: ", style="red") + Text(str(exc)), highlight=False
        )
        return ExitCode.FAILED
    return int(code)
