"""`msk-harness run SCENARIO`: the arguments; the command itself is `harness.run.command.run_command`.

Example::

    msk-harness run scenarios/smoke.yaml --junit reports/junit.xml   # exit 0 passed, 1 failed, 2 bad input
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.backends.stack import KAFKA_KINDS


def register(commands: Any) -> None:
    """Add the `run` subcommand to the CLI's subparsers."""
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
    run.add_argument(
        "--keep-archive",
        metavar="DIR",
        default=None,
        help="after verifying, copy every archived and error object to DIR/<S3 key>",
    )
    run.add_argument(
        "--env-file",
        metavar="FILE",
        default=None,
        help="variables `up --env-file` wrote (endpoints for --backend external)",
    )
    run.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from harness.run.command import run_command  # noqa: PLC0415 - loads the whole pipeline
    from harness.run.external_env import EnvFileError, read_env_file  # noqa: PLC0415

    environ = dict(os.environ)
    if args.env_file:
        try:
            environ.update(read_env_file(Path(args.env_file)))
        except (OSError, EnvFileError) as exc:
            parser.exit(2, f"{exc}\n")

    return run_command(
        Path(args.scenario),
        backend=args.backend,
        junit=Path(args.junit) if args.junit else None,
        report_dir=Path(args.report_dir) if args.report_dir else None,
        keep_archive=Path(args.keep_archive) if args.keep_archive else None,
        environ=environ,
    )
