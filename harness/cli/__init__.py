"""The `msk-harness` command: argument parsing only; the work lives in the modules it calls.

Examples::

    msk-harness up            # start Kafka + S3 (+ Firehose), print `export` lines, run until Ctrl-C
    msk-harness up --check    # start, prove each part works, report, stop; exit 0/1
    msk-harness doctor        # what this machine has, and how to fix what is missing
    msk-harness validate scenarios/smoke.yaml   # check a scenario file; exit 2 with file:line errors
    msk-harness run scenarios/smoke.yaml        # run it; exit 0 passed, 1 failed, 2 bad input
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.backends.stack import KAFKA_KINDS, MAX_EMBEDDED_BROKERS, S3_KINDS, Stack, StackConfig
from harness.cli import replay as replay_command
from harness.cli import sweep as sizing_command
from harness.lifecycle import BackendError

EXIT_OK = 0
EXIT_FAILED = 1


def _brokers(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= count <= MAX_EMBEDDED_BROKERS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_EMBEDDED_BROKERS}, got {count}")
    return count


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (`up`, `validate`, `run`, `doctor`; `replay`, `sweep` join later)."""
    parser = argparse.ArgumentParser(
        prog="msk-harness",
        description="Local emulation and test harness for MSK -> Lambda (Kafka ESM) -> Firehose -> S3.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start Kafka + S3 (+ Firehose) and print the environment to use them")
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
    up.set_defaults(handler=_cmd_up)

    validate = commands.add_parser("validate", help="check scenario files; exit 2 with file:line errors")
    validate.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML files")
    validate.set_defaults(handler=_cmd_validate)

    run = commands.add_parser("run", help="run a scenario; exit 0 passed, 1 failed, 2 bad input")
    run.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    run.add_argument(
        "--backend",
        choices=KAFKA_KINDS,
        default=None,
        help="run Kafka and S3 embedded, in Docker or external (default: the scenario's backends)",
    )
    run.add_argument("--junit", metavar="FILE", default=None, help="write JUnit XML here")
    run.add_argument(
        "--report-dir",
        metavar="DIR",
        default=None,
        help="JSON + HTML reports (default reports/<name>-<time>/)",
    )
    run.set_defaults(handler=_cmd_run)

    sizing_command.register(commands)

    doctor = commands.add_parser("doctor", help="check Java, Maven, Node.js, Docker and the Kafka jars")
    doctor.set_defaults(handler=_cmd_doctor)
    replay_command.register(commands)
    return parser


def _stack_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> StackConfig:
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


class _InterruptedError(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise _InterruptedError(signal.Signals(signum).name)


def _cmd_up(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    config = _stack_config(args, parser)
    err = Console(stderr=True)
    stack = Stack(config)
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with err.status("starting the stack..."):
            stack.start()
        if args.check:
            return _report_check(stack)
        for key, value in stack.env().items():
            print(f"export {key}={shlex.quote(value)}")
        print("# msk-harness stack is up; it runs until Ctrl-C (SIGINT) or SIGTERM", flush=True)
        threading.Event().wait()  # until a signal raises _InterruptedError
        return EXIT_OK
    except _InterruptedError as exc:
        err.print(f"{exc}: stopping the stack")
        return EXIT_OK
    finally:
        # A second Ctrl-C must not cut the cleanup short and leave a JVM behind.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report_check(stack: Stack) -> int:
    from harness.backends.stack_check import check_stack  # noqa: PLC0415 - loads kafka clients; only --check

    results = check_stack(stack, random.Random())  # fresh names per run; nothing else depends on it
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
    return EXIT_OK if ok else EXIT_FAILED


def _cmd_validate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from harness.scenario import check_scenario  # noqa: PLC0415 - loads the schema; only this command

    codes = [check_scenario(path) for path in args.scenarios]
    return max(codes)


def _cmd_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from harness.run.command import run_command  # noqa: PLC0415 - loads the whole pipeline

    return run_command(
        Path(args.scenario),
        backend=args.backend,
        junit=Path(args.junit) if args.junit else None,
        report_dir=Path(args.report_dir) if args.report_dir else None,
        environ=os.environ,
    )


def _cmd_doctor(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from harness.doctor import diagnose, embedded_stack_can_run  # noqa: PLC0415 - runs java/mvn/node probes

    findings = diagnose()
    table = Table(title="msk-harness doctor")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    table.add_column("how to fix", overflow="fold")
    for f in findings:
        status = "[green]ok[/]" if f.ok else ("[red]MISSING[/]" if f.required else "[yellow]optional[/]")
        table.add_row(f.name, status, f.detail, f.fix if not f.ok else "")
    console = Console()
    console.print(table)
    if embedded_stack_can_run(findings):
        console.print("the embedded stack can run here")
        return EXIT_OK
    console.print("[red]the embedded stack cannot run here yet[/]: fix the MISSING rows")
    return EXIT_FAILED


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
        return EXIT_FAILED
    return code
