"""The lines Lambda writes around a function's own output (START/END/REPORT) and the invocation record.

The files they go to are in `harness.runtime.log_sink` (one per execution environment).

Known deviations from AWS:
- Lines carry no CloudWatch ingestion timestamp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class InvocationRecord:
    """One invocation as the harness saw it (the programmatic invocation log)."""

    index: int
    request_id: str
    environment_id: int
    outcome: str  # "success" | "error" | "timeout" | "crash" | "init_error" | "too_large"
    error_type: str | None
    duration_ms: float
    init_duration_ms: float | None
    cold_start: bool
    max_memory_used_mb: int | None
    fault: str | None  # the injected fault action, if any


def start_line(request_id: str) -> str:
    """``START RequestId: <id> Version: $LATEST``."""
    return f"START RequestId: {request_id} Version: $LATEST"


def end_line(request_id: str) -> str:
    """``END RequestId: <id>``."""
    return f"END RequestId: {request_id}"


def billed_duration_ms(duration_ms: float) -> int:
    """Lambda's Billed Duration for `duration_ms`: rounded up to the next whole millisecond, at least 1."""
    return max(1, math.ceil(duration_ms))


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    memory_mb: int,
    max_memory_used_mb: int | None,
    init_duration_ms: float | None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """The tab-separated REPORT line (Billed Duration rounds up to the millisecond)."""
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_duration_ms(duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_used_mb if max_memory_used_mb is not None else 0} MB",
    ]
    if init_duration_ms is not None:
        parts.append(f"Init Duration: {init_duration_ms:.2f} ms")
    if status is not None:
        parts.append(f"Status: {status}")
    if error_type is not None:
        parts.append(f"Error Type: {error_type}")
    return "\t".join(parts) + "\t"
