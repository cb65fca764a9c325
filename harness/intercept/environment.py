"""What a function environment needs to use the interception: the variables to add, per runtime.

This is the one hook the runtime side calls (`function_environment`); everything else stays in this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from harness.intercept.ca import CertificateAuthority
from harness.intercept.hosts import INTERCEPTED_SUFFIXES

PRELOAD_DIR = Path(__file__).parent / "preload"
PYTHON_PRELOAD_DIR = PRELOAD_DIR  # holds sitecustomize.py
NODE_PRELOAD = PRELOAD_DIR / "aws_hosts.cjs"
ENDPOINT_PREFIX = "AWS_ENDPOINT_URL"


class AwsEndpoints(StrEnum):
    """How a function reaches the emulators: SDK endpoint variables, host interception, or both."""

    VARIABLES = "variables"
    INTERCEPT = "intercept"
    BOTH = "both"


def trust_variables(authority: CertificateAuthority) -> dict[str, str]:
    """The variables that make each runtime's TLS trust the harness CA (and still the system's CAs)."""
    bundle = str(authority.bundle_path)
    return {
        "NODE_EXTRA_CA_CERTS": str(authority.cert_path),
        "AWS_CA_BUNDLE": bundle,
        "REQUESTS_CA_BUNDLE": bundle,
        "SSL_CERT_FILE": bundle,
        "MSK_HARNESS_CA_CERT": str(authority.cert_path),
    }


def function_environment(
    *,
    mode: AwsEndpoints,
    runtime: str,
    code_dir: Path,
    front_port: int | None,
    front_plain_port: int | None = None,
    authority: CertificateAuthority | None,
    stack_env: Mapping[str, str],
    function_variables: Mapping[str, str],
) -> dict[str, str]:
    """The harness variables for one function: `stack_env` minus or plus the interception's, by `mode`."""
    if mode is AwsEndpoints.INTERCEPT:
        out = {k: v for k, v in stack_env.items() if not k.startswith(ENDPOINT_PREFIX)}
    else:
        out = dict(stack_env)
    if mode is AwsEndpoints.VARIABLES:
        return out
    if front_port is None or authority is None:
        raise ValueError(f"aws_endpoints {mode.value} needs a running front and its CA")
    out.update(trust_variables(authority))
    out["MSK_HARNESS_AWS_FRONT"] = f"127.0.0.1:{front_port}"
    if front_plain_port is not None:
        out["MSK_HARNESS_AWS_FRONT_HTTP"] = f"127.0.0.1:{front_plain_port}"
    out["MSK_HARNESS_AWS_SUFFIXES"] = ",".join(INTERCEPTED_SUFFIXES)
    if runtime.startswith("python"):
        # Our sitecustomize goes first and chains to any other; the runtime puts the task root, the layers and
        # the function's own PYTHONPATH after it (harness/runtime/env_vars.py).
        out["PYTHONPATH"] = str(PYTHON_PRELOAD_DIR)
    elif runtime.startswith("nodejs"):
        own = function_variables.get("NODE_OPTIONS", "")
        out["NODE_OPTIONS"] = f'--require "{NODE_PRELOAD}" {own}'.strip()
    return out
