"""The environment variables Lambda sets for an execution environment (spec §7.2), as pure functions.

Known deviations from AWS:
- ``LAMBDA_TASK_ROOT`` is the function's read-only code copy, not ``/var/task``; ``LAMBDA_RUNTIME_DIR`` is our
  bootstrap directory, not ``/var/runtime``; ``PATH``/``PYTHONPATH``/``NODE_PATH``/``LD_LIBRARY_PATH`` name
  those local directories in AWS's order (see `harness.runtime.world`).
- ``TMPDIR`` is set to the environment's own tmp directory (AWS sets none; its ``/tmp`` is private).
- On a host without the ``en_US.UTF-8`` locale, Python's locale coercion adds ``LC_CTYPE=C.UTF-8`` inside
  Python functions (Lambda has the locale, so it does not).
- ``AWS_XRAY_DAEMON_ADDRESS`` is not set: no X-Ray daemon runs here (``AWS_XRAY_CONTEXT_MISSING`` is).
- Variables the stack passes in ``extra_env`` win over the function's own variables (they point the SDK at the
  emulators); only the credential keys among the reserved names may be set that way.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from datetime import datetime

RESERVED_KEYS: frozenset[str] = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
"""Keys a function's configuration may not set (AWS rejects them with InvalidParameterValueException)."""

CREDENTIAL_KEYS: frozenset[str] = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
)
"""Reserved keys the harness (not the function) may supply, e.g. real credentials."""

DUMMY_CREDENTIALS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class InvalidParameterValueException(ValueError):  # noqa: N818 - named as AWS names it
    """Lambda's InvalidParameterValueException: a function configuration value is not allowed."""

    code = "InvalidParameterValueException"
    status = 400


def check_function_variables(variables: Mapping[str, str]) -> None:
    """Reject reserved keys and non-string values the way Lambda's CreateFunction does."""
    for key, value in variables.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidParameterValueException(
                f"Environment variable keys and values must be strings, got {key!r}={value!r}"
            )
    reserved = sorted(k for k in variables if k in RESERVED_KEYS)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you "
            "have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}"
        )


def check_extra_variables(variables: Mapping[str, str]) -> None:
    """Harness-supplied variables may set credentials but no other reserved key."""
    bad = sorted(k for k in variables if k in RESERVED_KEYS and k not in CREDENTIAL_KEYS)
    if bad:
        raise ValueError(f"extra_env may not set reserved Lambda variables: {', '.join(bad)}")


def log_stream_name(created: datetime, rng: random.Random) -> str:
    """A log stream name like AWS's: ``2026/01/31/[$LATEST]<32 hex>``."""
    return f"{created:%Y/%m/%d}/[$LATEST]{rng.getrandbits(128):032x}"


def trace_id(now_epoch_seconds: int, rng: random.Random) -> str:
    """An X-Ray trace header: ``Root=1-<8 hex time>-<24 hex>;Parent=<16 hex>;Sampled=0``."""
    root = f"1-{now_epoch_seconds & 0xFFFFFFFF:08x}-{rng.getrandbits(96):024x}"
    return f"Root={root};Parent={rng.getrandbits(64):016x};Sampled=0"


def execution_env_name(runtime: str) -> str:
    """``AWS_EXECUTION_ENV`` for a runtime id (``provided.*`` runtimes have none)."""
    return "" if runtime.startswith("provided") else f"AWS_Lambda_{runtime}"


def environment_for(
    *,
    function_name: str,
    runtime: str,
    handler: str,
    memory_mb: int,
    region: str,
    task_root: str,
    runtime_dir: str,
    runtime_api: str,
    log_stream: str,
    paths: Mapping[str, str],
    tmp_dir: str,
    function_variables: Mapping[str, str],
    extra_env: Mapping[str, str],
) -> dict[str, str]:
    """The full environment of one execution environment process (spec §7.2)."""
    # Unreserved variables first: the function's configuration may override them, as on AWS.
    env: dict[str, str] = {"LANG": "en_US.UTF-8", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", **paths}
    env["TMPDIR"] = tmp_dir
    env.update(function_variables)
    env.update(
        {
            "_HANDLER": handler,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": runtime_dir,
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "TZ": ":UTC",
            **DUMMY_CREDENTIALS,
        }
    )
    exec_env = execution_env_name(runtime)
    if exec_env:
        env["AWS_EXECUTION_ENV"] = exec_env
    extra = dict(extra_env)
    if "PYTHONPATH" in extra and env.get("PYTHONPATH"):
        # A harness preload (AWS host interception) goes before the task root and layers, not instead.
        extra["PYTHONPATH"] = os.pathsep.join([extra["PYTHONPATH"], env["PYTHONPATH"]])
    env.update(extra)
    return env
