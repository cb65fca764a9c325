"""Pure checks of the Lambda environment variables, reserved keys and function configuration validation."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.runtime.env_vars import (
    RESERVED_KEYS,
    InvalidParameterValueException,
    check_extra_variables,
    check_function_variables,
    environment_for,
    log_stream_name,
    trace_id,
)
from harness.runtime.function import FunctionConfig


def build(**overrides: object) -> dict[str, str]:
    args: dict[str, object] = {
        "function_name": "archiver",
        "runtime": "python3.12",
        "handler": "handler.lambda_handler",
        "memory_mb": 1024,
        "region": "eu-west-1",
        "task_root": "/code",
        "runtime_dir": "/rt",
        "runtime_api": "127.0.0.1:9001",
        "log_stream": "2026/01/31/[$LATEST]" + "a" * 32,
        "paths": {"PATH": "/usr/bin", "PYTHONPATH": "/code:/opt/python", "LD_LIBRARY_PATH": "/code/lib"},
        "tmp_dir": "/tmp/env-1",
        "function_variables": {"STREAM": "s"},
        "extra_env": {},
    }
    args.update(overrides)
    return environment_for(**args)  # type: ignore[arg-type]


def test_environment_has_every_spec_variable() -> None:
    env = build()
    assert env["_HANDLER"] == "handler.lambda_handler"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "archiver"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/archiver"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].startswith("2026/01/31/[$LATEST]")
    assert env["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001"
    assert env["LAMBDA_TASK_ROOT"] == "/code"
    assert env["LAMBDA_RUNTIME_DIR"] == "/rt"
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    assert env["PATH"] == "/usr/bin"
    assert env["STREAM"] == "s"
    assert {env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")} == {
        "testing"
    }
    assert "_X_AMZN_TRACE_ID" not in env  # set per invocation by the runtime


def test_environment_is_exactly_the_set_aws_sets() -> None:
    """AWS's runtime variables (configuration-envvars.html), plus only TMPDIR (our private /tmp) and the
    function's own; no X-Ray daemon address since no daemon runs."""
    env = build()
    aws = {
        "_HANDLER", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR", "TZ", "LANG",
        "PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "AWS_XRAY_CONTEXT_MISSING",
    }  # fmt: skip
    assert set(env) == aws | {"TMPDIR", "STREAM"}
    assert env["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"
    assert env["TMPDIR"] == "/tmp/env-1"
    assert build(function_variables={"LANG": "C"})["LANG"] == "C"  # unreserved: the function may override


def test_provided_runtime_has_no_execution_env_and_extra_env_wins() -> None:
    env = build(
        runtime="provided.al2023", extra_env={"AWS_ACCESS_KEY_ID": "real", "AWS_ENDPOINT_URL_S3": "u"}
    )
    assert "AWS_EXECUTION_ENV" not in env
    assert env["AWS_ACCESS_KEY_ID"] == "real"
    assert env["AWS_ENDPOINT_URL_S3"] == "u"


def test_function_variables_cannot_override_reserved_keys() -> None:
    for key in sorted(RESERVED_KEYS):
        with pytest.raises(
            InvalidParameterValueException, match=f"Reserved keys used in this request: {key}"
        ):
            check_function_variables({key: "x"})
    check_function_variables({"LANG": "C", "PATH": "/x", "PYTHONPATH": "/y"})  # unreserved
    with pytest.raises(InvalidParameterValueException, match="must be strings"):
        check_function_variables({"N": 1})  # type: ignore[dict-item]


def test_extra_env_may_set_credentials_only_among_reserved_keys() -> None:
    check_extra_variables({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_SESSION_TOKEN": "c"})
    with pytest.raises(ValueError, match="AWS_REGION"):
        check_extra_variables({"AWS_REGION": "x"})


def test_log_stream_and_trace_id_shapes_are_reproducible() -> None:
    when = datetime(2026, 1, 31, 23, 59, tzinfo=UTC)
    assert log_stream_name(when, random.Random(1)) == log_stream_name(when, random.Random(1))
    assert re.fullmatch(r"2026/01/31/\[\$LATEST\][0-9a-f]{32}", log_stream_name(when, random.Random(1)))
    trace = trace_id(int(when.timestamp()), random.Random(2))
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", trace)
    assert trace.startswith(f"Root=1-{int(when.timestamp()):08x}-")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timeout_seconds", 0, "Timeout must be between 1 and 900"),
        ("timeout_seconds", 901, "Timeout must be between 1 and 900"),
        ("memory_mb", 127, "MemorySize must be between 128 and 10240"),
        ("memory_mb", 10241, "MemorySize must be between 128 and 10240"),
        ("runtime", "python2.7", "Unsupported runtime"),
        ("ephemeral_storage_mb", 511, "EphemeralStorage Size must be between 512 and 10240"),
        ("ephemeral_storage_mb", 10241, "EphemeralStorage Size must be between 512 and 10240"),
        ("layers", (Path("/no/such/layer"),), "layer /no/such/layer does not exist"),
        ("layers", (Path(__file__),), "neither a directory nor a zip file"),
        ("layers", (Path(__file__).parent,) * 6, "at most 5 layers"),
        ("name", "bad name", "Invalid function name"),
        ("handler", "nodot", "Handler must look like"),
    ],
)
def test_function_config_rejects_invalid_values(field: str, value: object, message: str) -> None:
    args: dict[str, object] = {"name": "fn", "runtime": "python3.12", "handler": "h.f", "code_dir": Path(".")}
    args[field] = value
    with pytest.raises(InvalidParameterValueException, match=message):
        FunctionConfig(**args)  # type: ignore[arg-type]


def test_function_config_arn_and_frozen_environment() -> None:
    cfg = FunctionConfig(
        "fn", "nodejs20.x", "index.handler", Path("."), region="eu-west-1", environment={"A": "1"}
    )
    assert cfg.function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:fn"
    with pytest.raises(TypeError):
        cfg.environment["B"] = "2"  # type: ignore[index]
