"""Why the function failed, for every report: its distinct errors with counts and the log lines around them.

Example::

    for line in reason_lines(result.function_error_reasons[0]):
        print(line)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from harness.runtime.failures import FunctionErrorReason

MAX_TERMINAL_REASONS = 3  # distinct errors the terminal shows; JSON and HTML carry all of them
TERMINAL_TAIL_LINES = 5
TERMINAL_LINE_CHARS = 200  # a log line on the terminal is cut here (report.html shows it as kept)


def reason_title(reason: FunctionErrorReason) -> str:
    """``<type>: <message>  x<count>`` with ``(injected)`` for a scenario fault's error."""
    injected = " (injected by a fault rule)" if reason.injected else ""
    return f"{reason.headline}  x{reason.count:,}{injected}"


def reason_where(reason: FunctionErrorReason) -> str:
    """Where the first occurrence is: request id, environment and log file."""
    where = f"first: request {reason.first_request_id}, environment {reason.environment_id}"
    return where + (f", log {reason.log_file}" if reason.log_file else "")


def log_directory(logs: Sequence[str]) -> str | None:
    """The directory holding the function log files (None when none were kept)."""
    return str(Path(logs[0]).parent) if logs else None


def link_target(path: str, report_dir: Path | None) -> str:
    """`path` relative to the report directory (as an HTML link from report.html), else as given."""
    if report_dir is None:
        return path
    return Path(os.path.relpath(path, report_dir)).as_posix()
