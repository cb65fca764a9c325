"""`msk-harness doctor`: what this machine has (Java, Maven, Node.js, Docker, Kafka jars) and what to fix.

Example::

    msk-harness doctor    # exit 0 when the embedded stack can run here, 1 otherwise
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.exits import ExitCode


def register(commands: Any) -> None:
    """Add the `doctor` subcommand to the CLI's subparsers."""
    doctor = commands.add_parser("doctor", help="check Java, Maven, Node.js, Docker and the Kafka jars")
    doctor.set_defaults(handler=doctor_command)


def doctor_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run `msk-harness doctor`; returns the exit code."""
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
        return ExitCode.OK
    console.print("[red]the embedded stack cannot run here yet[/]: fix the MISSING rows")
    return ExitCode.FAILED
