"""`up --env-file F` then `run --backend external --env-file F`: the run uses up's Kafka and S3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3

from harness.backends.kafka.admin import TopicAdmin
from harness.run.external_env import read_env_file
from tests.integration.procs import child_env
from tests.integration.test_run_keep_archive import PREFIX, SCENARIO
from tests.integration.test_up_live import Up

CLI = [sys.executable, "-m", "harness.cli"]


def test_run_against_ups_stack_through_its_env_file(tmp_path: Path) -> None:
    scenario = tmp_path / "ext.yaml"
    scenario.write_text(SCENARIO.format(scenario_dir=tmp_path / "kept", prefix=PREFIX), encoding="utf-8")
    up = Up("--env-file", str(tmp_path / "up.env"))
    try:
        up.wait_for("# msk-harness stack is up")
        done = subprocess.run(
            [*CLI, "run", str(scenario), "--backend", "external", "--env-file", str(tmp_path / "up.env")],
            capture_output=True,
            text=True,
            timeout=240,
            env=child_env(CI="1"),
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        env = read_env_file(tmp_path / "up.env")
        with TopicAdmin(env["KAFKA_BOOTSTRAP_SERVERS"]) as admin:
            assert "kept" in admin.list_topics()  # the run's topic lives on up's broker
        s3 = boto3.session.Session().client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL_S3"],
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        listed = s3.list_objects_v2(Bucket="archive", Prefix="data/")
        assert listed["KeyCount"] > 0  # ...and its archive in up's S3, after the run stopped
        code, err = up.stop()
        assert code == 0, err
    finally:
        up.kill()
