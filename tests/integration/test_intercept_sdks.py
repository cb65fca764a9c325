"""Old SDKs that ignore AWS_ENDPOINT_URL_* reach the emulators through host interception, with no variables.

Real clients installed from the registries by CI (see the skip reasons for the install lines): the AWS SDK for
JavaScript v3 at 3.382.0 with @smithy/middleware-endpoint 2.0.1, the AWS SDK for JavaScript v2, and boto3 1.27
vendored in a Python function's own directory. Each runs in a real function process behind the harness's HTTPS
front and moto: S3 virtual-hosted and path-style round trips, and a call to DynamoDB (not emulated) that must
fail at once with an error naming the service and host.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.backends.s3 import MotoServer
from harness.clock import SystemClock
from harness.intercept.environment import AwsEndpoints
from harness.intercept.session import Interception, routes_from_env
from harness.runtime.env_vars import CREDENTIAL_KEYS, RESERVED_KEYS
from harness.runtime.function import FunctionConfig, FunctionRuntime

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "functions"
BUCKET = "probe-bucket"

COMMON_LAYER = ROOT / "tests" / "fixtures" / "layers" / "intercept_common"


@dataclass(frozen=True)
class Sdk:
    """One fixture function and what proves its SDK is installed."""

    code: str
    runtime: str
    handler: str
    installed: Path
    install: str
    layers: tuple[Path, ...] = ()  # the Node fixtures share their archive-line code through a layer


SDKS = {
    "js-v3": Sdk(
        "intercept_node_sdk_v3",
        "nodejs20.x",
        "index.handler",
        FIXTURES / "intercept_node_sdk_v3" / "node_modules" / "@aws-sdk" / "client-firehose",
        "npm ci --prefix tests/fixtures/functions/intercept_node_sdk_v3",
        (COMMON_LAYER,),
    ),
    "js-v2": Sdk(
        "intercept_node_sdk_v2",
        "nodejs20.x",
        "index.handler",
        FIXTURES / "intercept_node_sdk_v2" / "node_modules" / "aws-sdk",
        "npm ci --prefix tests/fixtures/functions/intercept_node_sdk_v2",
        (COMMON_LAYER,),
    ),
    "boto3-1.27": Sdk(
        "intercept_python_boto3_old",
        "python3.12",
        "vendored_archiver.lambda_handler",
        FIXTURES / "intercept_python_boto3_old" / "boto3",
        "pip install --target tests/fixtures/functions/intercept_python_boto3_old "
        "-r tests/fixtures/functions/intercept_python_boto3_old/requirements.txt",
    ),
}


def require_sdk(sdk: Sdk) -> None:
    """Skip, naming the install line, when CI has not installed this SDK."""
    if sdk.runtime.startswith("nodejs") and shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not sdk.installed.exists():
        pytest.skip(f"{sdk.installed.relative_to(ROOT)} is missing: run `{sdk.install}`")


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        server.s3_client().create_bucket(Bucket=BUCKET)
        yield server


@pytest.fixture
def interception(moto: MotoServer) -> Iterator[Interception]:
    routes = routes_from_env(moto.env(), moto_url=moto.endpoint_url)
    with Interception(
        AwsEndpoints.INTERCEPT, routes, rng=random.Random(11), now=SystemClock().now
    ) as started:
        yield started


def start_function(sdk: Sdk, interception: Interception, moto: MotoServer, log_dir: Path) -> FunctionRuntime:
    code_dir = FIXTURES / sdk.code
    variables = {
        "DELIVERY_STREAM_NAME": "archive",
        "ARCHIVER_CODE_ROOT": str(ROOT / "harness" / "reference_archiver"),
    }
    stack_env = {k: v for k, v in moto.env().items() if k not in RESERVED_KEYS or k in CREDENTIAL_KEYS}
    extra = interception.function_env(
        runtime=sdk.runtime, code_dir=code_dir, stack_env=stack_env, function_variables=variables
    )
    assert not any(key.startswith("AWS_ENDPOINT_URL") for key in extra)  # the SDK gets no endpoint at all
    config = FunctionConfig(
        sdk.code.replace("_", "-"),
        sdk.runtime,
        sdk.handler,
        code_dir,
        timeout_seconds=30,
        environment=variables,
        layers=sdk.layers,
    )
    runtime = FunctionRuntime(
        config, clock=SystemClock(), rng=random.Random(5), log_dir=log_dir, extra_env=extra
    )
    interception.notice_path = runtime.log_dir / f"{config.name}-aws-front.log"
    return runtime.start()


def invoke(runtime: FunctionRuntime, event: dict[str, Any]) -> tuple[bool, Any]:
    result = runtime.invoke(json.dumps(event).encode())
    return result.ok, json.loads(result.payload)


@pytest.mark.parametrize("name", sorted(SDKS))
def test_s3_virtual_hosted_and_path_style_reach_moto_without_endpoint_variables(
    name: str, interception: Interception, moto: MotoServer, tmp_path: Path
) -> None:
    sdk = SDKS[name]
    require_sdk(sdk)
    with start_function(sdk, interception, moto, tmp_path) as runtime:
        ok, body = invoke(runtime, {"probe": "s3", "bucket": BUCKET})
        log = runtime.log_text()
    assert ok, (body, log[-2000:])
    assert "virtual" in body["virtual"]
    assert "path" in body["path"]
    # The objects are really in moto, and each addressing style really went over its own host form.
    s3 = moto.s3_client()
    for style, key in (("virtual", body["virtual"]), ("path", body["path"])):
        stored = [k["Key"] for k in s3.list_objects_v2(Bucket=BUCKET, Prefix="probe/")["Contents"]]
        assert any(style in k for k in stored), stored
        assert key.startswith("written")
    hosts = interception.front.snapshot().hosts if interception.front else {}
    assert any(h.startswith(f"{BUCKET}.s3.") for h in hosts), hosts
    assert any(h.startswith("s3.") for h in hosts), hosts
    if name == "boto3-1.27":
        assert "vendored boto3 1.27.1" in log


@pytest.mark.parametrize("name", sorted(SDKS))
def test_an_unemulated_service_fails_at_once_naming_service_and_host(
    name: str, interception: Interception, moto: MotoServer, tmp_path: Path
) -> None:
    sdk = SDKS[name]
    require_sdk(sdk)
    with start_function(sdk, interception, moto, tmp_path) as runtime:
        ok, body = invoke(runtime, {"probe": "dynamodb"})
        notices = interception.notice_path
    assert not ok
    message = json.dumps(body)
    assert "HarnessServiceNotEmulated" in message or "does not emulate" in message, body
    assert "dynamodb.us-east-1.amazonaws.com" in message, body
    # One refused request: the SDK did not retry it (which is what makes it fail fast), and nothing left here.
    use = interception.use()
    assert use.refused == {"dynamodb at dynamodb.us-east-1.amazonaws.com": 1}, use
    assert notices is not None
    assert "refused a call to dynamodb.us-east-1.amazonaws.com" in notices.read_text()


@pytest.mark.parametrize("name", sorted(SDKS))
def test_sqs_round_trip_follows_the_queue_url_moto_returns(
    name: str, interception: Interception, moto: MotoServer, tmp_path: Path
) -> None:
    sdk = SDKS[name]
    require_sdk(sdk)
    queue = f"probe-{name.replace('.', '-')}"
    with start_function(sdk, interception, moto, tmp_path) as runtime:
        ok, body = invoke(runtime, {"probe": "sqs", "queue": queue})
        log = runtime.log_text()
    assert ok, (body, log[-2000:])
    assert body["body"].startswith("hello from")
    assert body["queueUrl"].endswith(f"/123456789012/{queue}")
    assert interception.use().intercepted.get("sqs", 0) >= 3
    # The message really went through moto's queue (and was received from it).
    attributes = moto.sqs_client().get_queue_attributes(
        QueueUrl=moto.sqs_client().get_queue_url(QueueName=queue)["QueueUrl"],
        AttributeNames=["ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
