"""Lambda execution environments: the Runtime API server, runtime processes, logs and fault hooks.

Example::

    from harness.runtime import FunctionConfig, FunctionRuntime, OnRecord

    with FunctionRuntime(config, clock=clock, rng=rng, log_dir=logs) as fn:
        fn.faults.crash(OnRecord(lambda r: r.value == b"poison"), times=1)
        result = fn.invoke(event_bytes)
"""

from harness.runtime.config import FunctionConfig, InvocationResult, RequestTooLargeError, RuntimeOptions
from harness.runtime.faults import FaultAction, InvocationFaults, OnEvent, OnIndex, OnParsedEvent, OnRecord
from harness.runtime.function import FunctionRuntime

__all__ = [
    "FaultAction",
    "FunctionConfig",
    "FunctionRuntime",
    "InvocationFaults",
    "InvocationResult",
    "OnEvent",
    "OnIndex",
    "OnParsedEvent",
    "OnRecord",
    "RequestTooLargeError",
    "RuntimeOptions",
]
