"""`msk-harness init [DIR]`: write an archive-gate project skeleton into a repository.

The skeleton (package data under harness/cli/init_template/, also checked in as examples/ci-gate/) holds a
small archiver, a scenario for it, a pytest test through the plugin and a GitHub Actions workflow (Java,
Maven, a cache of the Kafka jars). It runs green unchanged; point the scenario at your own function.

Example::

    msk-harness init .                                   # then: python -m pytest
    msk-harness init ci --code-dir src/archiver --handler main.handler
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from harness.exits import ExitCode

TEMPLATE = "init_template"
EXAMPLE_CODE_DIR = "archiver/"
EXAMPLE_HANDLER = "app.handler"


def register(commands: Any) -> None:
    """Add the `init` subcommand to the CLI's subparsers."""
    init = commands.add_parser("init", help="write an archive-gate project (scenario, test, CI workflow)")
    init.add_argument("directory", nargs="?", default=".", metavar="DIR", help="where to write (default .)")
    init.add_argument(
        "--code-dir",
        metavar="DIR",
        help="your function's code root, relative to DIR (default: write the example archiver/)",
    )
    init.add_argument(
        "--handler",
        dest="handler_name",
        metavar="FILE.FUNCTION",
        help="your function's handler (with --code-dir)",
    )
    init.add_argument("--force", action="store_true", help="overwrite files that already exist")
    init.set_defaults(handler=init_command)


def template_files() -> dict[str, str]:
    """Every file of the skeleton: relative path -> text."""
    out: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            relative = f"{prefix}{child.name}"
            if child.is_dir():
                if child.name != "__pycache__":
                    walk(child, relative + "/")
            else:
                out[relative] = child.read_text(encoding="utf-8")

    walk(files("harness.cli").joinpath(TEMPLATE), "")
    return out


def skeleton(code_dir: str | None = None, handler: str | None = None) -> dict[str, str]:
    """The files `init` writes: the template, pointed at `code_dir`/`handler` when given."""
    out = template_files()
    if code_dir is None:
        return out
    out = {path: text for path, text in out.items() if not path.startswith(EXAMPLE_CODE_DIR)}
    scenario = out["scenarios/gate.yaml"]
    scenario = re.sub(r"(?m)^(    code_dir: ).*$", lambda m: m.group(1) + code_dir, scenario)
    scenario = re.sub(r"(?m)^(    handler: ).*$", lambda m: m.group(1) + str(handler), scenario)
    out["scenarios/gate.yaml"] = scenario
    return out


def init_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run `msk-harness init`; exit 2 (nothing written) when a file exists and --force is not given."""
    if (args.handler_name is None) != (args.code_dir is None):
        parser.error("--code-dir and --handler go together")
    root = Path(args.directory)
    planned = skeleton(args.code_dir, args.handler_name)
    existing = sorted(path for path in planned if (root / path).exists())
    if existing and not args.force:
        for path in existing:
            print(f"{root / path}: exists (use --force to overwrite)", file=sys.stderr)
        return ExitCode.BAD_INPUT
    for path, text in sorted(planned.items()):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    print(f"next: cd {root} && msk-harness doctor && python -m pytest --junitxml=reports/junit.xml")
    return ExitCode.OK
