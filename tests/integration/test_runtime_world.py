"""The function's world is Lambda's: runtime-only packages, the runtime SDK, layers, sandbox edges, errors.

Real handlers in tests/fixtures/functions run in real runtime processes built from the per-user cache.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from harness.clock import SystemClock
from harness.processes import free_port
from harness.runtime.function import FunctionConfig, FunctionRuntime
from harness.runtime.runtime_facts import python_facts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FUNCTIONS = FIXTURES / "functions"
LAYERS = FIXTURES / "layers"

MakeRuntime = Callable[..., FunctionRuntime]
needs_node = pytest.mark.skipif(shutil.which("npm") is None, reason="node/npm are not installed")


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[MakeRuntime]:
    """Started runtimes, stopped after the test whatever happens."""
    started: list[FunctionRuntime] = []

    def make(
        code: str,
        handler: str,
        runtime: str = "python3.12",
        extra_env: dict[str, str] | None = None,
        **cfg: Any,
    ) -> FunctionRuntime:
        config = FunctionConfig(
            name=Path(code).name.replace("_", "-"),
            runtime=runtime,
            handler=handler,
            code_dir=FUNCTIONS / code,
            **cfg,
        )
        fn = FunctionRuntime(
            config, clock=SystemClock(), rng=random.Random(9), log_dir=tmp_path, extra_env=extra_env or {}
        )
        started.append(fn)
        return fn.start()

    try:
        yield make
    finally:
        for fn in started:
            fn.stop()


def call(fn: FunctionRuntime, event: Any) -> tuple[Any, Any]:
    result = fn.invoke(json.dumps(event).encode())
    return result, json.loads(result.payload)


@pytest.mark.parametrize("module", ["rich", "yaml", "moto"])
def test_packages_only_the_harness_has_fail_to_import_as_on_lambda(
    make_runtime: MakeRuntime, module: str
) -> None:
    __import__(module)  # the harness itself has it: the failure below comes from the sandbox
    fn = make_runtime("python_world", f"imports_{module}.handler")
    result, body = call(fn, {})
    assert not result.ok
    assert result.error_type == "Runtime.ImportModuleError"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == f"Unable to import module 'imports_{module}': No module named '{module}'"


def test_python312_runs_on_its_own_interpreter_with_the_pinned_sdk(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("python_world", "world.handler", runtime="python3.12")
    _, about = call(fn, {"action": "about"})
    pins = dict(p.split("==") for p in python_facts("python3.12").packages)
    assert (about["boto3"], about["botocore"]) == (pins["boto3"], pins["botocore"])
    assert fn.runs_on is not None
    if "using the harness's" in fn.runs_on:
        assert about["version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    else:
        assert about["version"] == "3.12"
    # Nothing of the harness's environment is importable: its site-packages are not on the path.
    harness_site = next(p for p in sys.path if p.endswith("site-packages"))
    assert harness_site not in about["path"]
    # Exactly Lambda's variables (configuration-envvars.html) plus TMPDIR (our private /tmp); nothing of ours.
    # LC_CTYPE appears only where the host lacks the en_US.UTF-8 locale: Python's own locale coercion sets it.
    assert set(about["environment"]) - {"LC_CTYPE"} == {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "PATH", "LD_LIBRARY_PATH", "PYTHONPATH",
        "AWS_XRAY_CONTEXT_MISSING", "TMPDIR",
    }  # fmt: skip


def test_code_directory_is_read_only_and_tmp_is_writable(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("python_world", "world.handler")
    _, wrote = call(fn, {"action": "write_code_dir"})
    assert wrote["errno"] == 30  # EROFS, as /var/task on Lambda
    assert "Read-only file system" in wrote["error"]
    assert not (FUNCTIONS / "python_world" / "scribble.txt").exists()
    _, tmp = call(fn, {"action": "write_tmp"})
    assert tmp["text"] == "hello"
    assert not tmp["path"].startswith(str(FUNCTIONS))


def test_ephemeral_storage_bounds_what_a_file_may_grow_to(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("python_world", "world.handler", ephemeral_storage_mb=1024)
    _, limit = call(fn, {"action": "file_size_limit"})
    assert limit["soft"] == str(1024 * 1024 * 1024)


def test_a_layer_directory_or_zip_supplies_a_module(make_runtime: MakeRuntime, tmp_path: Path) -> None:
    missing = make_runtime("python_world", "world.handler")
    result, body = call(missing, {"action": "layer"})
    assert not result.ok
    assert body["errorType"] == "ModuleNotFoundError"
    archive = tmp_path / "greeting.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(LAYERS / "py_greeting" / "python" / "greeting.py", "python/greeting.py")
    for layer in (LAYERS / "py_greeting", archive):
        fn = make_runtime("python_world", "world.handler", layers=(layer,))
        result, body = call(fn, {"action": "layer"})
        assert result.ok, body
        assert body["greeting"] == "hello from a layer"


def test_exceeding_memory_size_is_runtime_out_of_memory(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("python_world", "world.handler", memory_mb=128, timeout_seconds=20)
    ok, _ = call(fn, {"action": "allocate", "mb": 8})
    assert ok.ok
    result, body = call(fn, {"action": "allocate", "mb": 400})
    assert not result.ok
    assert result.error_type == "Runtime.OutOfMemory"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    report = next(
        line for line in fn.log_text().splitlines() if result.request_id in line and "REPORT" in line
    )
    log = fn.log_text()
    assert f"{body['errorMessage']}\nRuntime.OutOfMemory\nEND RequestId: {result.request_id}" in log
    assert "Memory Size: 128 MB\tMax Memory Used: 128 MB" in report
    assert "Status: error\tError Type: Runtime.OutOfMemory" in report


@pytest.fixture(scope="module")
def firehose_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Firehose emulator (over a moto S3) with one delivery stream, as a subprocess."""
    s3_port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()
    log = tmp_path_factory.mktemp("firehose") / "stderr.log"
    creds = {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": "us-east-1"}
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "firehose_emulator",
                "--port",
                "0",
                "--s3-endpoint-url",
                f"http://127.0.0.1:{s3_port}",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, **creds},
            start_new_session=True,
        )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:"), log.read_text()
        boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", **_boto_creds()).create_bucket(
            Bucket="sdk-archive"
        )
        boto3.client("firehose", endpoint_url=url, **_boto_creds()).create_delivery_stream(
            DeliveryStreamName="sdk-check",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": "arn:aws:s3:::sdk-archive",
            },
        )
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        s3.stop()


def _boto_creds() -> dict[str, str]:
    return {"region_name": "us-east-1", "aws_access_key_id": "t", "aws_secret_access_key": "t"}


@needs_node
@pytest.mark.parametrize("handler", ["esm.handler", "cjs.handler"])
def test_node_runtime_sdk_works_unbundled(make_runtime: MakeRuntime, firehose_url: str, handler: str) -> None:
    assert not (FUNCTIONS / "node_sdk" / "node_modules").exists()  # nothing bundled
    fn = make_runtime(
        "node_sdk", handler, runtime="nodejs20.x", extra_env={"AWS_ENDPOINT_URL_FIREHOSE": firehose_url}
    )
    result, body = call(fn, {})
    assert result.ok, body
    assert body["streams"] == ["sdk-check"]


@needs_node
def test_node_layer_supplies_a_module_through_node_path(make_runtime: MakeRuntime) -> None:
    fn = make_runtime("node_sdk", "cjs.handler", runtime="nodejs20.x", layers=(LAYERS / "node_greeting",))
    result, body = call(fn, {"action": "layer"})
    assert result.ok, body
    assert body["greeting"] == "hello from a node layer"


@needs_node
@pytest.mark.parametrize(
    ("module", "error_type", "message"),
    [
        ("missing", "Runtime.ImportModuleError", "Error: Cannot find module 'left-pad'"),
        ("syntax", "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected token ';'"),
        ("throws", "TypeError", "config missing"),
        ("nohandler", "Runtime.HandlerNotFound", "nohandler.handler is undefined or not exported"),
    ],
)
def test_node_init_errors_have_aws_types(
    make_runtime: MakeRuntime, module: str, error_type: str, message: str
) -> None:
    fn = make_runtime("node_init_errors", f"{module}.handler", runtime="nodejs20.x")
    result, body = call(fn, {})
    assert not result.ok
    assert result.error_type == error_type
    assert body["errorType"] == error_type
    assert body["errorMessage"].startswith(message)


def test_python_syntax_error_and_missing_handler_have_aws_types(
    make_runtime: MakeRuntime, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "broken.py").write_text("def handler(event, context)\n    return 1\n")
    syntax = make_runtime(str(code), "broken.handler")
    result, body = call(syntax, {})
    assert result.error_type == body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("Syntax error in module 'broken': ")
    missing = make_runtime("python_world", "world.nothere")
    result, body = call(missing, {})
    assert result.error_type == body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'nothere' missing on module 'world'"


@needs_node
def test_node_crash_and_timeout_have_aws_types(make_runtime: MakeRuntime, tmp_path: Path) -> None:
    code = tmp_path / "node"
    code.mkdir()
    (code / "index.js").write_text(
        "exports.crash = async () => process.exit(3);\n"
        "exports.hang = () => new Promise(() => setInterval(() => {}, 1000));\n"
    )
    crash = make_runtime(str(code), "index.crash", runtime="nodejs20.x")
    result, body = call(crash, {})
    assert result.error_type == body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    hang = make_runtime(str(code), "index.hang", runtime="nodejs20.x", timeout_seconds=1)
    result, body = call(hang, {})
    assert result.error_type == body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")


@needs_node
def test_node_code_directory_is_read_only_and_tmp_is_writable(
    make_runtime: MakeRuntime, tmp_path: Path
) -> None:
    code = tmp_path / "node_writer"
    code.mkdir()
    (code / "index.js").write_text(
        "const fs = require('fs'), os = require('os'), path = require('path');\n"
        "exports.handler = async () => {\n"
        "  let code = null;\n"
        "  try { fs.writeFileSync(path.join(process.env.LAMBDA_TASK_ROOT, 'x'), '1'); }\n"
        "  catch (err) { code = err.code; }\n"
        "  const tmp = path.join(os.tmpdir(), 'scratch');\n"
        "  fs.writeFileSync(tmp, 'hello');\n"
        "  return { code, tmp: fs.readFileSync(tmp, 'utf8') };\n"
        "};\n"
    )
    fn = make_runtime(str(code), "index.handler", runtime="nodejs20.x")
    result, body = call(fn, {})
    assert result.ok, body
    assert body == {"code": "ERR_ACCESS_DENIED", "tmp": "hello"}
    assert not (code / "x").exists()


@needs_node
def test_node_require_of_an_es_module_is_off_as_on_lambda_unless_re_enabled(
    make_runtime: MakeRuntime, tmp_path: Path
) -> None:
    code = tmp_path / "node_require_esm"
    code.mkdir()
    (code / "lib.mjs").write_text("export const answer = 42;\n")
    (code / "index.js").write_text(
        "const lib = require('./lib.mjs');\nexports.handler = async () => lib.answer;\n"
    )
    off = make_runtime(str(code), "index.handler", runtime="nodejs20.x")
    result, body = call(off, {})
    assert not result.ok
    assert "ES Module" in body["errorMessage"], body
    on = make_runtime(
        str(code),
        "index.handler",
        runtime="nodejs20.x",
        environment={"NODE_OPTIONS": "--experimental-require-module"},
    )
    result, body = call(on, {})
    assert result.ok, body
    assert body == 42
