"""`run --backend external` takes up's endpoints from its env file or variables when the scenario has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run.external_env import EnvFileError, read_env_file, with_external_endpoints
from harness.run.pipeline import choose_backends
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
UP_ENV = (
    "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:41001\n"
    "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:41002\n"
    "export AWS_REGION=eu-west-1\n"
    "export AWS_SECRET_ACCESS_KEY='a b'\n"
)


def test_the_env_file_up_writes_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "up.env"
    path.write_text(UP_ENV)
    env = read_env_file(path)
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:41001"
    assert env["AWS_SECRET_ACCESS_KEY"] == "a b"


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "up.env"
    path.write_text("# comment\nexport OK=1\nnot a pair\n")
    with pytest.raises(EnvFileError, match=r"up.env:3: expected KEY=VALUE"):
        read_env_file(path)


def test_external_backends_take_ups_endpoints(tmp_path: Path) -> None:
    path = tmp_path / "up.env"
    path.write_text(UP_ENV)
    scenario = load_scenario(ROOT / "scenarios" / "smoke.yaml")
    with pytest.raises(Exception, match="bootstrap_servers"):
        choose_backends(scenario.pipeline, "external")  # without up's variables: a clear error
    filled = with_external_endpoints(scenario, "external", read_env_file(path))
    choice = choose_backends(filled.pipeline, "external")
    assert choice.bootstrap_servers == "127.0.0.1:41001"
    assert choice.s3_endpoint_url == "http://127.0.0.1:41002"
    assert choice.region == "eu-west-1"


def test_embedded_runs_ignore_the_variables() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "smoke.yaml")
    assert with_external_endpoints(scenario, None, {"KAFKA_BOOTSTRAP_SERVERS": "x:1"}) is scenario
