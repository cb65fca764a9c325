"""Host routing of the interception: which hosts are taken over, what service/region/bucket they name, where
each request goes (signing service first), and the environment each mode gives a function."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest

from harness.intercept.environment import (
    NODE_PRELOAD,
    PYTHON_PRELOAD_DIR,
    AwsEndpoints,
    function_environment,
)
from harness.intercept.errors import error_response, not_emulated_message
from harness.intercept.hosts import AwsHost, is_intercepted, parse_host, signing_service
from harness.intercept.session import EndpointUse, routes_from_env
from harness.report.format import summary_rows
from harness.report.json_report import render_json, run_result_from_json
from harness.runtime.env_vars import environment_for
from harness.scenario import validate_text
from tests.unit.test_report_data import make_result


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (
            "firehose.us-east-1.amazonaws.com",
            AwsHost("firehose.us-east-1.amazonaws.com", "firehose", "us-east-1"),
        ),
        ("firehose-fips.us-gov-west-1.amazonaws.com", AwsHost("", "firehose", "us-gov-west-1")),
        ("firehose.eu-west-1.api.aws", AwsHost("", "firehose", "eu-west-1")),
        ("firehose-fips.us-east-2.api.aws", AwsHost("", "firehose", "us-east-2")),
        ("firehose.cn-north-1.amazonaws.com.cn", AwsHost("", "firehose", "cn-north-1")),
        ("sts.amazonaws.com", AwsHost("", "sts", None)),
        ("sqs.ap-southeast-2.amazonaws.com", AwsHost("", "sqs", "ap-southeast-2")),
        ("queue.amazonaws.com", AwsHost("", "sqs", "us-east-1")),
        ("eu-west-1.queue.amazonaws.com", AwsHost("", "sqs", "eu-west-1")),
        ("streams.dynamodb.us-east-1.amazonaws.com", AwsHost("", "dynamodb", "us-east-1")),
        ("dynamodb.us-east-1.amazonaws.com:443", AwsHost("", "dynamodb", "us-east-1")),
        ("123456789012.s3-control.us-east-1.amazonaws.com", AwsHost("", "s3-control", "us-east-1")),
        ("FIREHOSE.US-EAST-1.AMAZONAWS.COM.", AwsHost("", "firehose", "us-east-1")),
        # S3: path-style, virtual-hosted (dots in bucket names too), legacy, dual-stack, FIPS, accelerate.
        ("s3.amazonaws.com", AwsHost("", "s3", None, None)),
        ("s3.us-west-2.amazonaws.com", AwsHost("", "s3", "us-west-2", None)),
        ("archive.s3.amazonaws.com", AwsHost("", "s3", None, "archive")),
        (
            "my.dotted.bucket.s3.eu-central-1.amazonaws.com",
            AwsHost("", "s3", "eu-central-1", "my.dotted.bucket"),
        ),
        ("archive.s3-us-west-2.amazonaws.com", AwsHost("", "s3", "us-west-2", "archive")),
        ("s3-external-1.amazonaws.com", AwsHost("", "s3", "us-east-1", None)),
        ("archive.s3-external-1.amazonaws.com", AwsHost("", "s3", "us-east-1", "archive")),
        ("archive.s3.dualstack.us-east-1.amazonaws.com", AwsHost("", "s3", "us-east-1", "archive")),
        ("archive.s3-fips.us-east-1.amazonaws.com", AwsHost("", "s3", "us-east-1", "archive")),
        ("archive.s3-accelerate.amazonaws.com", AwsHost("", "s3", None, "archive")),
    ],
)
def test_host_forms_name_their_service_region_and_bucket(host: str, expected: AwsHost) -> None:
    parsed = parse_host(host)
    assert parsed is not None
    assert (parsed.service, parsed.region, parsed.bucket) == (
        expected.service,
        expected.region,
        expected.bucket,
    )
    assert is_intercepted(parsed.host)


@pytest.mark.parametrize(
    "host", ["example.com", "amazonaws.com", "127.0.0.1", "localhost", "notamazonaws.com", "s3.amazonaws.co"]
)
def test_hosts_outside_aws_domains_are_left_alone(host: str) -> None:
    assert parse_host(host) is None
    assert not is_intercepted(host)


def test_signing_service_comes_from_the_credential_scope_or_a_presigned_query() -> None:
    header = (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/firehose/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    assert signing_service(header) == "firehose"
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
    )
    assert signing_service(None, query) == "s3"
    assert signing_service("Bearer token") is None
    assert signing_service(None, "") is None


def test_routes_come_from_the_stack_endpoint_variables_and_moto_answers_sts() -> None:
    env = {
        "AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:4001",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000",
        "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:5000",
        "AWS_ENDPOINT_URL_SNS": "http://127.0.0.1:5000",
        "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:9",  # not a service the front routes
        "AWS_REGION": "us-east-1",
    }
    routes = routes_from_env(env, moto_url="http://127.0.0.1:5000")
    assert routes == {
        "firehose": "http://127.0.0.1:4001",
        "s3": "http://127.0.0.1:5000",
        "sqs": "http://127.0.0.1:5000",
        "sns": "http://127.0.0.1:5000",
        "sts": "http://127.0.0.1:5000",
    }
    assert "sts" not in routes_from_env(env, moto_url=None)  # an external S3 does not answer STS


class _Authority:
    cert_path = Path("/ca/ca.pem")
    bundle_path = Path("/ca/bundle.pem")


STACK = {"AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:4001", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000"}


def env_for(mode: AwsEndpoints, runtime: str, variables: dict[str, str] | None = None) -> dict[str, str]:
    return function_environment(
        mode=mode,
        runtime=runtime,
        code_dir=Path("/code"),
        front_port=4443,
        front_plain_port=4080,
        authority=_Authority(),  # type: ignore[arg-type]  # only the two paths are read
        stack_env=STACK,
        function_variables=variables or {},
    )


def test_variables_mode_is_the_stack_env_unchanged() -> None:
    assert env_for(AwsEndpoints.VARIABLES, "python3.12") == STACK


def test_intercept_mode_drops_endpoint_variables_and_adds_front_trust_and_preload() -> None:
    env = env_for(AwsEndpoints.INTERCEPT, "python3.12")
    assert not any(k.startswith("AWS_ENDPOINT_URL") for k in env)
    assert env["MSK_HARNESS_AWS_FRONT"] == "127.0.0.1:4443"
    assert env["MSK_HARNESS_AWS_FRONT_HTTP"] == "127.0.0.1:4080"
    assert env["MSK_HARNESS_AWS_SUFFIXES"] == ".amazonaws.com,.api.aws,.amazonaws.com.cn"
    assert env["PYTHONPATH"] == str(PYTHON_PRELOAD_DIR)
    assert env["NODE_EXTRA_CA_CERTS"] == env["MSK_HARNESS_CA_CERT"] == "/ca/ca.pem"
    assert env["AWS_CA_BUNDLE"] == env["REQUESTS_CA_BUNDLE"] == env["SSL_CERT_FILE"] == "/ca/bundle.pem"


def test_both_mode_keeps_endpoint_variables_and_preloads_node_before_the_functions_own_options() -> None:
    env = env_for(AwsEndpoints.BOTH, "nodejs20.x", {"NODE_OPTIONS": "--enable-source-maps"})
    assert env["AWS_ENDPOINT_URL_FIREHOSE"] == "http://127.0.0.1:4001"
    assert env["NODE_OPTIONS"] == f'--require "{NODE_PRELOAD}" --enable-source-maps'
    assert "PYTHONPATH" not in env
    custom = env_for(AwsEndpoints.BOTH, "provided.al2023")
    assert custom["MSK_HARNESS_CA_CERT"] == "/ca/ca.pem"
    assert "NODE_OPTIONS" not in custom
    assert "PYTHONPATH" not in custom


def _process_env(paths: dict[str, str], function_variables: dict[str, str]) -> dict[str, str]:
    return environment_for(
        function_name="f",
        runtime="python3.12",
        handler="h.handler",
        memory_mb=128,
        region="us-east-1",
        task_root="/task",
        runtime_dir="/runtime",
        runtime_api="127.0.0.1:9001",
        log_stream="s",
        paths=paths,
        tmp_dir="/tmp/x",
        function_variables=function_variables,
        extra_env=env_for(AwsEndpoints.BOTH, "python3.12", function_variables),
    )


def test_the_preload_goes_before_the_task_root_and_layers_not_instead() -> None:
    env = _process_env({"PYTHONPATH": "/task:/opt/python"}, {})
    assert env["PYTHONPATH"] == f"{PYTHON_PRELOAD_DIR}:/task:/opt/python"


def test_a_function_pythonpath_follows_the_preload() -> None:
    env = _process_env({"PYTHONPATH": "/task:/opt/python"}, {"PYTHONPATH": "/code/src"})
    assert env["PYTHONPATH"] == f"{PYTHON_PRELOAD_DIR}:/code/src"


def test_not_emulated_errors_speak_each_protocol() -> None:
    message = not_emulated_message("dynamodb", "dynamodb.us-east-1.amazonaws.com", ["sqs", "firehose"])
    assert "this run answers firehose, sqs." in message
    common = {"status": 400, "code": "HarnessServiceNotEmulated", "message": message, "request_id": "r-1"}
    as_json = error_response(service="dynamodb", json_target=True, form_body=False, **common)  # type: ignore[arg-type]
    assert json.loads(as_json.body)["__type"] == "HarnessServiceNotEmulated"
    assert as_json.headers["x-amzn-ErrorType"] == "HarnessServiceNotEmulated"
    query = error_response(service="sqs", json_target=False, form_body=True, **common)  # type: ignore[arg-type]
    assert b"<ErrorResponse><Error><Type>Sender</Type><Code>HarnessServiceNotEmulated</Code>" in query.body
    s3 = error_response(service="s3", json_target=False, form_body=False, **common)  # type: ignore[arg-type]
    assert b"<Error><Code>HarnessServiceNotEmulated</Code><Message>msk-harness does not emulate" in s3.body
    rest = error_response(service="lambda", json_target=False, form_body=False, **common)  # type: ignore[arg-type]
    assert json.loads(rest.body)["message"] == message
    assert "dynamodb.us-east-1.amazonaws.com" in message


def test_endpoint_use_says_which_path_the_function_took() -> None:
    assert EndpointUse("variables").describe().startswith("variables")
    assert "used AWS_ENDPOINT_URL_*" in EndpointUse("both").describe()
    both = EndpointUse("both", {"s3": 2, "firehose": 7}, {"dynamodb at dynamodb.us-east-1.amazonaws.com": 1})
    assert both.describe() == (
        "both: intercepted firehose x7, s3 x2; NOT EMULATED dynamodb at dynamodb.us-east-1.amazonaws.com x1"
    )


def test_the_scenario_knob_rejects_unknown_modes_at_its_line() -> None:
    text = textwrap.dedent(
        """\
        name: t
        pipeline:
          topic: {name: orders}
          event_source: {StartingPosition: TRIM_HORIZON}
          function:
            aws_endpoints: dns
        load:
          profile: {kind: constant, rate: 10}
          duration: 1
        """
    )
    scenario, problems = validate_text(text, "s.yaml")
    assert scenario is None
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [(6, "pipeline.function.aws_endpoints")]
    ok, _ = validate_text(text.replace("dns", "intercept"), "s.yaml")
    assert ok is not None
    assert ok.pipeline.function.aws_endpoints == "intercept"


def test_the_endpoint_use_round_trips_through_the_json_report() -> None:
    use = EndpointUse("intercept", {"firehose": 12}, {"dynamodb at dynamodb.us-east-1.amazonaws.com": 1})
    result = dataclasses.replace(make_result(passed=True), aws_endpoints=use)
    document = json.loads(render_json(result))
    assert document["result"]["aws_endpoints"]["intercepted"] == {"firehose": 12}
    assert run_result_from_json(document) == result
    assert ("AWS endpoints", use.describe()) in summary_rows(result)
