"""`msk-harness replay` end to end through `main([...])`: moto S3 in, real embedded Kafka out, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from archive_format import ArchivedRecord, encode_lines

from harness.backends.kafka.embedded import EmbeddedKafka
from harness.backends.s3 import MotoServer
from harness.cli import main
from tests.integration.credentials import set_test_credentials

BUCKET = "cli-archive"
HOUR = "data/year=2026/month=07/day=13/hour=10/"
T0 = 1_783_937_000_000  # 2026-07-13T10:03:20Z


@pytest.fixture(scope="module")
def s3() -> Iterator[MotoServer]:
    with pytest.MonkeyPatch.context() as mp:
        set_test_credentials(mp)
        with MotoServer().start() as server:
            server.create_bucket(BUCKET)
            records = [
                ArchivedRecord(
                    "orders",
                    i % 2,
                    i // 2,
                    T0 + i,
                    "CREATE_TIME",
                    f"k{i % 3}".encode(),
                    f'{{"i":{i}}}'.encode(),
                )
                for i in range(12)
            ]
            body = b"".join(line for r in records for line in encode_lines(r))
            server.s3_client().put_object(Bucket=BUCKET, Key=f"{HOUR}a.json", Body=body + b"not json\n")
            yield server


def cli(s3: MotoServer, *args: str) -> int:
    return main(["replay", "--from", f"s3://{BUCKET}/data/", "--s3-endpoint-url", s3.endpoint_url, *args])


def test_replay_verifies_and_writes_the_report(
    s3: MotoServer, kafka: EmbeddedKafka, unique_topic: Callable[[str], str], tmp_path: Path
) -> None:
    report = tmp_path / "replay.json"
    topic = unique_topic("t")
    code = cli(
        s3,
        *("--since", "2026-07-13T10:00:00Z", "--until", "2026-07-13"),
        *("--key", "k1", "--where", "i > `2`"),
        *(
            "--to",
            kafka.bootstrap_servers,
            "--to-topic",
            topic,
            "--preserve-partition",
            "--report",
            str(report),
        ),
    )
    assert code == 0
    data = json.loads(report.read_text())
    assert data["records"]["selected"] == 3  # i = 4, 7, 10
    assert data["records"]["verified"] == 3
    assert data["records"]["filtered_out"] == {"key": 8, "where": 1}
    (unreadable,) = data["objects"]["unreadable_first"]
    assert unreadable.startswith(f"{HOUR}a.json line 13: not a JSON line")


def test_a_target_that_rewrites_timestamps_fails_verification(
    s3: MotoServer,
    kafka: EmbeddedKafka,
    unique_topic: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = unique_topic("lat")
    with kafka.admin() as admin:
        admin.create_topic(topic, partitions=2, configs={"message.timestamp.type": "LogAppendTime"})
    assert cli(s3, "--to", kafka.bootstrap_servers, "--to-topic", topic) == 1
    out = capsys.readouterr().out
    assert "timestamp differs" in out
    assert "orders-0@0" in out
    assert "VERIFICATION FAILED" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--where", "status ==", "--dry-run"), "not valid JMESPath"),
        (("--since", "yesterday", "--dry-run"), "not an ISO-8601 instant"),
        (("--since", "2026-07-13T10:00:00", "--dry-run"), "has no time zone"),
        (("--to", "127.0.0.1:1"), "--to and --to-topic are required"),
        (("--key-time-zone", "Mars/Olympus", "--dry-run"), "not a known time zone"),
    ],
)
def test_bad_arguments_exit_2(
    s3: MotoServer, args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(s3, *args)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_bucket_and_strict_exit_2(
    s3: MotoServer,
    kafka: EmbeddedKafka,
    unique_topic: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = main(
        ["replay", "--from", "s3://no-such-bucket/", "--s3-endpoint-url", s3.endpoint_url, "--dry-run"]
    )
    assert missing == 2
    assert "NoSuchBucket" in capsys.readouterr().err
    topic = unique_topic("strict")
    assert cli(s3, "--strict", "--to", kafka.bootstrap_servers, "--to-topic", topic) == 2
    assert "refused (--strict)" in capsys.readouterr().out
    with kafka.admin() as admin:
        assert topic not in admin.list_topics()


def test_dry_run_exits_0_without_a_target(s3: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(s3, "--dry-run", "--partition", "1") == 0
    out = capsys.readouterr().out
    assert "dry run" in out
    assert "filtered out by partition" in out


def test_dry_run_that_selects_nothing_says_why(s3: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    # The archive's records are dated 10:03:20-10:03:20.011 on 2026-07-13; this window starts later that hour.
    assert cli(s3, "--dry-run", "--since", "2026-07-13T10:30:00Z", "--until", "2026-07-13T11:00:00Z") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "note: nothing selected: all 12 unique records were filtered out (12 by --since/--until); the "
        "archived records' timestamps run from 2026-07-13T10:03:20.000+00:00 to "
        "2026-07-13T10:03:20.011+00:00, the window --since/--until is "
        "[2026-07-13T10:30:00+00:00, 2026-07-13T11:00:00+00:00)"
    ) in out
    # A window on another day prunes every key prefix: nothing is even read.
    assert cli(s3, "--dry-run", "--since", "2026-12-03T17:00:00Z", "--until", "2026-12-03T18:00:00Z") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        f"note: nothing selected: no archive objects to read under s3://{BUCKET}/data/; "
        "the time range skipped" in out
    )
