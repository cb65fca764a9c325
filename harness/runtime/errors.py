"""The error payloads Lambda itself produces for an invocation (not the handler's own errors).

Known deviations from AWS:
- The timeout shape is not documented by AWS; we use the spec default (§7.3) ``Sandbox.Timedout`` form.
- ``Runtime.OutOfMemory`` carries the same message as an exit (``Runtime exited with error: signal: killed``),
  which is what AWS logs for a memory kill; its exact invoke-response body is not documented.
- Injected ``raise`` faults carry an empty ``stackTrace`` (no handler frame ran).
"""

from __future__ import annotations

import json
import signal

from harness.runtime.api_server import Answer


def exit_reason(code: int) -> str:
    """Go-style wording AWS uses: ``exit status 1`` or ``signal: killed``."""
    if code < 0:
        names = {signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGSEGV: "segmentation fault"}
        sig = signal.Signals(-code)
        return f"signal: {names.get(sig, sig.name.lower())}"
    return f"exit status {code}"


def timeout_error(request_id: str, timeout_seconds: float) -> Answer:
    """``Sandbox.Timedout``: ``RequestId: <id> Error: Task timed out after <t>.00 seconds``."""
    message = f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds"
    body = json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}).encode()
    return Answer("timeout", body, "Sandbox.Timedout")


def exit_error(request_id: str, exit_code: int) -> Answer:
    """``Runtime.ExitError``: the runtime process ended while it owed an answer."""
    message = f"RequestId: {request_id} Error: Runtime exited with error: {exit_reason(exit_code)}"
    body = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode()
    return Answer("exit", body, "Runtime.ExitError")


def out_of_memory_error(request_id: str, exit_code: int) -> Answer:
    """``Runtime.OutOfMemory``: the process was killed for using more than ``MemorySize``."""
    message = f"RequestId: {request_id} Error: Runtime exited with error: {exit_reason(exit_code)}"
    body = json.dumps({"errorType": "Runtime.OutOfMemory", "errorMessage": message}).encode()
    return Answer("exit", body, "Runtime.OutOfMemory")


def exit_log_line(answer: Answer) -> str | None:
    """The platform line AWS logs when the runtime died (``<errorMessage>\\n<errorType>``), else None."""
    if answer.kind != "exit":
        return None
    message = json.loads(answer.body).get("errorMessage", "")
    return f"{message}\n{answer.error_type}"


def injected_error(request_id: str, error_type: str, message: str) -> Answer:
    """A handler error injected by a fault rule, in the Python runtime's shape."""
    body = {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}
    return Answer("error", json.dumps(body).encode(), "Unhandled")
