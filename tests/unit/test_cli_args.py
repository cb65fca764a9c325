"""Argument parsing of `msk-harness`: defaults, choices, exit code 2 for bad input (no backends started)."""

from __future__ import annotations

import pytest

from harness.backends.stack import StackConfig
from harness.cli import build_parser, main
from harness.cli.up import stack_config


def _config(*argv: str) -> StackConfig:
    parser = build_parser()
    return stack_config(parser.parse_args(["up", *argv]), parser)


def test_up_defaults_to_embedded_one_broker_with_firehose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert _config() == StackConfig()


def test_up_flags_build_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(
        "--brokers",
        "3",
        "--s3",
        "external",
        "--s3-endpoint-url",
        "http://127.0.0.1:9000",
        "--region",
        "eu-west-1",
        "--no-firehose",
    )
    assert config == StackConfig(
        brokers=3, s3="external", s3_endpoint_url="http://127.0.0.1:9000", region="eu-west-1", firehose=False
    )


def test_external_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "b-1.example:9092")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    config = _config("--kafka", "external", "--s3", "external")
    assert config.bootstrap_servers == "b-1.example:9092"
    assert config.s3_endpoint_url == "http://127.0.0.1:4566"
    assert config.region == "ap-south-1"
    # Embedded backends ignore those variables (they may be left over from an earlier `up`).
    assert _config().bootstrap_servers is None
    assert _config().s3_endpoint_url is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["up", "--brokers", "0"], "must be between 1 and"),
        (["up", "--brokers", "two"], "not a number"),
        (["up", "--kafka", "kinesis"], "invalid choice"),
        (["up", "--s3", "external", "--bootstrap-servers", "x:1"], "only used with the external Kafka"),
        (["up", "--kafka", "docker", "--brokers", "3"], "one broker"),
        (["fly"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_exit_2_with_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
