"""`msk-harness validate FILE...`: check scenario files; exit 2 with `file:line: problem` lines.

Example::

    msk-harness validate scenarios/smoke.yaml scenarios/load/*.yaml
"""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    """Add the `validate` subcommand to the CLI's subparsers."""
    validate = commands.add_parser("validate", help="check scenario files; exit 2 with file:line errors")
    validate.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML files")
    validate.set_defaults(handler=validate_command)


def validate_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run `msk-harness validate`; returns the worst exit code of the files."""
    from harness.scenario import check_scenario  # noqa: PLC0415 - loads the schema; only this command

    codes = [check_scenario(path) for path in args.scenarios]
    return max(codes)
