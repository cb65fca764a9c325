"""One Lambda function: configuration, invocation results, and the runtime that runs its environments.

Skeleton of the interface agreed with harness/esm; the implementation follows.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from harness.backends.base import Backend
from harness.clock import Clock
from harness.runtime.env_vars import InvalidParameterValueException, check_function_variables
from harness.runtime.faults import InvocationFaults

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

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InvalidParameterValueException(f"Invalid function name: {self.name!r}")
        if self.runtime not in SUPPORTED_RUNTIMES:
            raise InvalidParameterValueException(
                f"Unsupported runtime {self.runtime!r}; supported: {', '.join(sorted(SUPPORTED_RUNTIMES))}"
            )
        if not 1 <= self.timeout_seconds <= 900:
            raise InvalidParameterValueException(
                f"Timeout must be between 1 and 900 seconds, got {self.timeout_seconds}"
            )
        if not 128 <= self.memory_mb <= 10240:
            raise InvalidParameterValueException(f"MemorySize must be between 128 and 10240, got {self.memory_mb}")
        check_function_variables(self.environment)
        object.__setattr__(self, "environment", MappingProxyType(dict(self.environment)))
        object.__setattr__(self, "code_dir", Path(self.code_dir))

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


class FunctionRuntime(Backend):
    """Runs one function's execution environments behind a Runtime API server (thread-safe invoke)."""

    name = "lambda-runtime"

    def __init__(
        self,
        config: FunctionConfig,
        *,
        clock: Clock,
        rng: random.Random,
        log_dir: Path,
        extra_env: Mapping[str, str] = MappingProxyType({}),
        max_environments: int = 10,
    ) -> None:
        super().__init__()
        self.config = config
        self.faults = InvocationFaults()
        raise NotImplementedError("in progress")

    def invoke(self, event: bytes) -> InvocationResult:
        """Invoke synchronously; blocks until the handler answers, fails, times out or crashes."""
        raise NotImplementedError("in progress")
