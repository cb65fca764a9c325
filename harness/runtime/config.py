"""Function configuration, invocation results and runtime knobs (the values `FunctionRuntime` works with)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from harness.runtime.api_server import RuntimeApiStatuses
from harness.runtime.env_vars import InvalidParameterValueException, check_function_variables
from harness.runtime.sandbox import LayerError, check_layers

SUPPORTED_RUNTIMES: frozenset[str] = frozenset(
    {"python3.11", "python3.12", "python3.13", "nodejs20.x", "nodejs22.x", "provided.al2023", "provided.al2"}
)
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class FunctionConfig:
    """A function as Lambda's CreateFunction would hold it (validated on construction)."""

    name: str
    runtime: str
    handler: str
    code_dir: Path
    timeout_seconds: int = 3
    memory_mb: int = 128
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    region: str = "us-east-1"
    account_id: str = "123456789012"
    layers: tuple[Path, ...] = ()  # directories or zip files, laid out as /opt in this order
    ephemeral_storage_mb: int = 512

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InvalidParameterValueException(f"Invalid function name: {self.name!r}")
        if self.runtime not in SUPPORTED_RUNTIMES:
            supported = ", ".join(sorted(SUPPORTED_RUNTIMES))
            raise InvalidParameterValueException(
                f"Unsupported runtime {self.runtime!r}; supported: {supported}"
            )
        if not self.runtime.startswith("provided") and "." not in self.handler:
            raise InvalidParameterValueException(
                f"Handler must look like 'file.function', got {self.handler!r}"
            )
        if not 1 <= self.timeout_seconds <= 900:
            raise InvalidParameterValueException(
                f"Timeout must be between 1 and 900 seconds, got {self.timeout_seconds}"
            )
        if not 128 <= self.memory_mb <= 10240:
            raise InvalidParameterValueException(
                f"MemorySize must be between 128 and 10240 MB, got {self.memory_mb}"
            )
        if not 512 <= self.ephemeral_storage_mb <= 10240:
            raise InvalidParameterValueException(
                f"EphemeralStorage Size must be between 512 and 10240 MB, got {self.ephemeral_storage_mb}"
            )
        try:
            check_layers([Path(p) for p in self.layers])
        except LayerError as exc:
            raise InvalidParameterValueException(str(exc)) from exc
        object.__setattr__(self, "layers", tuple(Path(p).resolve() for p in self.layers))
        check_function_variables(self.environment)
        object.__setattr__(self, "environment", MappingProxyType(dict(self.environment)))
        object.__setattr__(self, "code_dir", Path(self.code_dir).resolve())

    @property
    def function_arn(self) -> str:
        """The unqualified function ARN."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"


@dataclass(frozen=True)
class InvocationResult:
    """The outcome of one synchronous invocation."""

    request_id: str
    ok: bool
    payload: bytes
    error_type: str | None
    duration_ms: float
    init_duration_ms: float | None
    cold_start: bool


@dataclass(frozen=True)
class RuntimeOptions:
    """The §7 knobs that shape the runtime (defaults as in the spec's Appendix A)."""

    init_timeout_seconds: float = 10.0
    max_request_bytes: int = MAX_PAYLOAD_BYTES
    max_response_bytes: int = MAX_PAYLOAD_BYTES
    reuse_environments: bool = True
    reset_on_handler_error: bool = False
    statuses: RuntimeApiStatuses = field(default_factory=RuntimeApiStatuses)
    stop_grace_seconds: float = 2.0
    clock_speed: float = 1.0  # injected-clock seconds per real second (runtime processes live in real time)


class RequestTooLargeError(ValueError):
    """Lambda's RequestEntityTooLargeException: the event is over the synchronous 6 MB limit."""

    code = "RequestEntityTooLargeException"
    status = 413
