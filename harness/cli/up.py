"""`msk-harness up`: start Kafka + S3 (+ Firehose), print `export` lines, run until Ctrl-C; or `--check`.

Example::

    msk-harness up --brokers 3            # eval "$(msk-harness up)" in another shell gives the environment
    msk-harness up --check                # start, prove each part works, report, stop; exit 0/1
"""

from __future__ import annotations

import argparse
import os
import random
import threading
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from harness.backends.stack import KAFKA_KINDS, MAX_EMBEDDED_BROKERS, S3_KINDS, Stack, StackConfig
from harness.cli.up_live import live_pipeline_command, publish_environment, ready, restore_data, save_data
from harness.exits import ExitCode, interrupts_as_keyboard_interrupt

if TYPE_CHECKING:
    from harness.backends.stack_check import PartCheck


def _brokers(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= count <= MAX_EMBEDDED_BROKERS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_EMBEDDED_BROKERS}, got {count}")
    return count


def register(commands: Any) -> None:
    """Add the `up` subcommand to the CLI's subparsers."""
    up = commands.add_parser("up", help="start Kafka + S3 (+ Firehose) and print the environment to use them")
    up.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="start this scenario's whole pipeline (topic, function, ESM, Firehose) without load",
    )
    up.add_argument("--brokers", type=_brokers, default=1, help="embedded Kafka brokers (default 1)")
    up.add_argument(
        "--kafka", choices=KAFKA_KINDS, default="embedded", help="Kafka backend (default embedded)"
    )
    up.add_argument("--s3", choices=S3_KINDS, default="embedded", help="S3 backend (default embedded)")
    up.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT,...",
        help="Kafka to use with --kafka external (default: $KAFKA_BOOTSTRAP_SERVERS)",
    )
    up.add_argument(
        "--s3-endpoint-url",
        metavar="URL",
        help="S3 endpoint with --s3 external (default: $AWS_ENDPOINT_URL_S3; unset = real AWS)",
    )
    up.add_argument("--region", default=None, help="AWS region (default: $AWS_REGION or us-east-1)")
    up.add_argument("--no-firehose", action="store_true", help="do not start the Firehose emulator")
    up.add_argument("--check", action="store_true", help="prove each part works, report, stop, exit 0/1")
    up.add_argument("--env-file", metavar="FILE", help="also write the export lines here (run reads it)")
    up.add_argument("--json", action="store_true", help="print the environment as one JSON object")
    up.add_argument(
        "--data-dir", metavar="DIR", help="restore S3 from DIR at start, save it there at stop (embedded S3)"
    )
    up.set_defaults(handler=up_command)


def stack_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> StackConfig:
    """The stack `up` starts, from its arguments and (for external backends) the environment."""
    # Environment defaults are read here, at the edge, and only for the backend that uses them.
    bootstrap = args.bootstrap_servers
    if args.kafka == "external" and not bootstrap:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None
    endpoint = args.s3_endpoint_url
    if args.s3 == "external" and not endpoint:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or None
    region = args.region or os.environ.get("AWS_REGION") or "us-east-1"
    try:
        return StackConfig(
            brokers=args.brokers,
            kafka=args.kafka,
            s3=args.s3,
            bootstrap_servers=bootstrap,
            s3_endpoint_url=endpoint,
            region=region,
            firehose=not args.no_firehose,
        )
    except ValueError as exc:
        parser.error(str(exc))  # exits 2, like any other bad argument


def up_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run `msk-harness up`; returns the exit code."""
    if args.data_dir and args.s3 != "embedded":
        parser.error("--data-dir keeps the embedded S3; an external S3 keeps its own state")
    if args.scenario:
        if args.check:
            parser.error("--check starts the stack only; give no SCENARIO with it")
        return live_pipeline_command(args)
    config = stack_config(args, parser)
    err = Console(stderr=True)
    stack = Stack(config)
    with interrupts_as_keyboard_interrupt():
        try:
            with err.status("starting the stack..."):
                stack.start()
            if args.check:
                return _report_check(stack)
            restore_data(stack.s3.s3_client(), args.data_dir, err)
            publish_environment(stack.env(), args)
            ready("# msk-harness stack is up; it runs until Ctrl-C (SIGINT) or SIGTERM", args)
            threading.Event().wait()  # until a signal raises KeyboardInterrupt
            return ExitCode.OK
        except KeyboardInterrupt as exc:
            err.print(f"{exc}: stopping the stack")
            return ExitCode.OK
        finally:
            if not args.check and stack.running:
                save_data(stack.s3.s3_client(), args.data_dir, err)
            stack.stop()


def _check_lambda_runtime() -> PartCheck:
    from harness.backends.stack_check import PartCheck  # noqa: PLC0415 - loads kafka clients; only --check
    from harness.runtime.selfcheck import check_python_runtime  # noqa: PLC0415 - starts a function; only --check

    ok, detail = check_python_runtime()
    return PartCheck("lambda runtime", ok, detail)


def _report_check(stack: Stack) -> int:
    from harness.backends.stack_check import check_stack  # noqa: PLC0415 - loads kafka clients; only --check

    results = check_stack(stack, random.Random())  # fresh names per run; nothing else depends on it
    results.append(_check_lambda_runtime())
    total = next((t.seconds for t in stack.timings if t.name == "total"), None)
    table = Table(title="msk-harness up --check")
    table.add_column("part")
    table.add_column("startup", justify="right")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for r in results:
        startup = "-" if r.startup_seconds is None else f"{r.startup_seconds:.2f} s"
        table.add_row(r.part, startup, "[green]ok[/]" if r.ok else "[red]FAILED[/]", r.detail)
    if stack.firehose is None:
        table.add_row("firehose", "-", "[yellow]skipped[/]", "Firehose emulator not started")
    console = Console()
    console.print(table)
    ok = all(r.ok for r in results)
    console.print(f"stack ready in {total:.2f} s; " if total is not None else "", end="")
    console.print("all parts work" if ok else "[red]some parts failed[/]")
    return ExitCode.OK if ok else ExitCode.FAILED
