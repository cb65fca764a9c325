"""Prove the Lambda runtime works on this machine: start a real no-op Python function and invoke it once.

`doctor` and `up --check` run this, so a missing `awslambdaric` (or a broken interpreter) is reported with
the runtime's own words instead of as every invocation failing with `Runtime.ExitError` later.

Example::

    ok, detail = check_python_runtime()    # (True, "python3.12 no-op function answered in 412 ms (cold)")
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Mapping
from pathlib import Path

from harness.clock import SystemClock
from harness.runtime.config import FunctionConfig
from harness.runtime.function import FunctionRuntime

NOOP_HANDLER = 'def handler(event, context):\n    return {"echo": event}\n'
PROBE_RUNTIME = "python3.12"
LOG_TAIL_LINES = 8


def check_python_runtime(
    timeout_seconds: int = 10, code_files: Mapping[str, str] | None = None
) -> tuple[bool, str]:
    """Start a no-op python function through awslambdaric, invoke it once; (ok, what happened).

    `code_files` (relative path -> text) goes into the code root beside the handler."""
    with tempfile.TemporaryDirectory(prefix="msk-harness-runtime-check-") as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "noop.py").write_text(NOOP_HANDLER, encoding="utf-8")
        for relative, text in (code_files or {}).items():
            (code / relative).parent.mkdir(parents=True, exist_ok=True)
            (code / relative).write_text(text, encoding="utf-8")
        config = FunctionConfig(
            name="msk-harness-runtime-check",
            runtime=PROBE_RUNTIME,
            handler="noop.handler",
            code_dir=code,
            timeout_seconds=timeout_seconds,
        )
        fn = FunctionRuntime(config, clock=SystemClock(), rng=random.Random(), log_dir=Path(tmp) / "logs")
        try:
            with fn:
                result = fn.invoke(json.dumps({"probe": True}).encode())
                log_tail = _tail(fn.log_text())
        except Exception as exc:  # noqa: BLE001 - any failure to start is the finding itself
            return False, f"cannot start a {PROBE_RUNTIME} function: {exc}"
    if result.ok and json.loads(result.payload).get("echo") == {"probe": True}:
        cold = " (cold)" if result.cold_start else ""
        return True, f"{PROBE_RUNTIME} no-op function answered in {result.duration_ms:.0f} ms{cold}"
    reason = result.payload.decode("utf-8", "replace")[:300]
    return False, f"no-op function failed ({result.error_type}): {reason}; last log lines: {log_tail}"


def _tail(text: str) -> str:
    # The runtime's own words (e.g. "No module named awslambdaric") are the useful part of a failure.
    lines = text.splitlines()
    return " | ".join(lines[-LOG_TAIL_LINES:]) or "(empty log)"
