"""The `msk-harness` console script: imports the CLI inside a guard so Ctrl-C at any moment exits 130 quietly.

The generated script imports this module, which imports nothing heavy itself; `harness.cli` (rich, boto3,
the backends: over a second on a busy machine) is imported inside `main`, where a KeyboardInterrupt is caught.
"""

from __future__ import annotations

from harness.exits import ExitCode  # standard library only: cheap to import before the guard


def main() -> int:
    """Run the CLI; a Ctrl-C while importing or running it exits 130 without a traceback."""
    try:
        from harness.cli import main as cli_main  # noqa: PLC0415 - the import itself must be interruptible

        return cli_main()
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
