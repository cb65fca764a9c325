"""The pytest plugin as a project would use it: a separate pytest run (the plugin loads through its entry
point) whose tests use `run_scenario` and `msk_pipeline`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.procs import child_env

ROOT = Path(__file__).resolve().parents[2]

PROJECT_TESTS = """
import gzip
import time
from pathlib import Path

from kafka import KafkaProducer

SMOKE = Path({smoke!r})


def test_gate(run_scenario):
    result = run_scenario(SMOKE)
    assert result.passed, [c for c in result.verification.checks if not c.passed]
    assert result.verification.produced == 3000


def test_own_records_reach_the_archive(msk_pipeline):
    pipeline = msk_pipeline(SMOKE)
    producer = KafkaProducer(bootstrap_servers=pipeline.bootstrap_servers, acks="all")
    for i in range(5):
        producer.send(pipeline.topic, key=b"k", value=b'{{"n": %d}}' % i)
    producer.flush(timeout=30)
    producer.close()
    s3 = pipeline.s3_client()
    deadline = time.monotonic() + 60
    keys = []
    while not keys and time.monotonic() < deadline:
        time.sleep(0.2)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=pipeline.bucket).get("Contents", [])]
    assert keys, "the archiver should have delivered an object within the 5 s buffer interval"
    body = gzip.decompress(s3.get_object(Bucket=pipeline.bucket, Key=keys[0])["Body"].read())
    assert body.count(b"\\n") == 5
"""


def test_project_suite_uses_the_plugin_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_project.py").write_text(
        PROJECT_TESTS.format(smoke=str(ROOT / "scenarios" / "smoke.yaml")), encoding="utf-8"
    )
    env = child_env()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--msk-report-dir",
            str(tmp_path / "reports"),
            str(tmp_path / "test_project.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert (tmp_path / "reports" / "smoke" / "report.json").is_file()
    assert (tmp_path / "reports" / "smoke" / "junit.xml").is_file()
