"""Replay from the archive: select archived records, produce them to a Kafka topic, verify them byte for byte.

Example::

    request = ReplayRequest(parse_s3_uri("s3://archive/data/"), Selection(keys=frozenset({b"k1"})), "debug")
    report = run_replay(s3_client, "127.0.0.1:9092", request, clock=SystemClock())
"""

from harness.replay.engine import ReplayRequest, read_plan, run_replay
from harness.replay.report import ReplayReport
from harness.replay.selection import S3Location, Selection, TimeRange, parse_s3_uri

__all__ = [
    "ReplayReport",
    "ReplayRequest",
    "S3Location",
    "Selection",
    "TimeRange",
    "parse_s3_uri",
    "read_plan",
    "run_replay",
]
