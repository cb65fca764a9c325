"""One run's interception: the CA, the HTTPS front routed to the stack's emulators, what the function used.

`Interception` is a Backend the pipeline starts after the stack; `function_env()` gives the runtime its extra
variables and `use()` says afterwards which path the function's AWS calls took.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from harness.intercept.ca import CertificateAuthority
from harness.intercept.environment import ENDPOINT_PREFIX, AwsEndpoints, function_environment
from harness.intercept.front import AwsFront, Unemulated
from harness.lifecycle import Backend

_ENDPOINT_SERVICES = {"FIREHOSE": "firehose", "S3": "s3", "SQS": "sqs", "SNS": "sns", "STS": "sts"}


@dataclass(frozen=True)
class EndpointUse:
    """Which path a function's AWS calls took: requests the front forwarded per service, and refused calls."""

    mode: str  # variables | intercept | both
    intercepted: dict[str, int] = field(default_factory=dict)  # service -> requests through the front
    refused: dict[str, int] = field(default_factory=dict)  # "service at host" -> calls answered not-emulated

    def describe(self) -> str:
        """One line for the run report."""
        if self.mode == AwsEndpoints.VARIABLES.value:
            return "variables (AWS_ENDPOINT_URL_*; interception off)"
        parts = [f"{service} x{count}" for service, count in sorted(self.intercepted.items())]
        text = f"{self.mode}: intercepted " + (", ".join(parts) if parts else "none")
        if not parts and self.mode == AwsEndpoints.BOTH.value:
            text += " (the function used AWS_ENDPOINT_URL_* or made no AWS calls)"
        if self.refused:
            text += "; NOT EMULATED " + ", ".join(f"{k} x{v}" for k, v in sorted(self.refused.items()))
        return text


def routes_from_env(stack_env: Mapping[str, str], *, moto_url: str | None) -> dict[str, str]:
    """Service -> emulator URL, from the stack's endpoint variables (moto also answers STS)."""
    routes: dict[str, str] = {}
    for key, value in stack_env.items():
        suffix = key.removeprefix(ENDPOINT_PREFIX + "_")
        if (
            key.startswith(ENDPOINT_PREFIX + "_")
            and suffix in _ENDPOINT_SERVICES
            and value.startswith("http://")
        ):
            routes[_ENDPOINT_SERVICES[suffix]] = value
    if moto_url is not None:
        routes.setdefault("sts", moto_url)
    return routes


class Interception(Backend):
    """The front and CA for one run; a no-op in `variables` mode."""

    name = "aws-interception"

    def __init__(
        self,
        mode: AwsEndpoints,
        routes: Mapping[str, str],
        *,
        rng: random.Random,
        now: Callable[[], datetime],
        ca_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self._routes = dict(routes)
        self._rng = rng
        self._now = now
        self._ca_dir = ca_dir
        self.front: AwsFront | None = None
        self.authority: CertificateAuthority | None = None
        self.notice_path: Path | None = None  # refused calls are also written here (the function's log)
        self._notice_lock = threading.Lock()

    def _start(self) -> None:
        if self.mode is AwsEndpoints.VARIABLES:
            return
        self.authority = CertificateAuthority(self._ca_dir, now=self._now)
        self.front = AwsFront(self.authority, self._routes, rng=self._rng, on_refused=self._notice).start()

    def _stop(self) -> None:
        if self.front is not None:
            self.front.stop()

    def _notice(self, call: Unemulated) -> None:
        path = self.notice_path
        if path is None:
            return
        line = (
            f"msk-harness: refused a call to {call.host}: the AWS service '{call.service}' is not emulated "
            "(the function got HarnessServiceNotEmulated)\n"
        )
        with self._notice_lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)

    def function_env(
        self,
        *,
        runtime: str,
        code_dir: Path,
        stack_env: Mapping[str, str],
        function_variables: Mapping[str, str],
    ) -> dict[str, str]:
        """The harness variables for the function (endpoint variables and/or interception)."""
        return function_environment(
            mode=self.mode,
            runtime=runtime,
            code_dir=code_dir,
            front_port=self.front.port if self.front is not None else None,
            front_plain_port=self.front.plain_port if self.front is not None else None,
            authority=self.authority,
            stack_env=stack_env,
            function_variables=function_variables,
        )

    def use(self) -> EndpointUse:
        """What the function's calls used so far."""
        if self.front is None:
            return EndpointUse(self.mode.value)
        stats = self.front.snapshot()
        return EndpointUse(
            self.mode.value,
            dict(stats.forwarded),
            {f"{call.service} at {call.host}": n for call, n in stats.refused.items()},
        )
