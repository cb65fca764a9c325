"""Verification: read the archive from S3 and hold it against what was produced (the ledger).

Example::

    reading = format_choice(scenario.verify, scenario.path.parent, ledger.records)
    snapshot = read_archive(s3_client, "archive", error_prefix="errors/!{firehose:error-output-type}/",
                            reading=reading)
    report = verify(ledger.records(), snapshot, scenario.expect, identity=reading.identity,
                    delivery_log=firehose.hooks.attempts("archive"))
    assert report.passed, [c for c in report.checks if not c.passed]
"""

from harness.verify.archive import FormatChoice, load_archive_format, read_archive
from harness.verify.checks import HIVE_KEY_PATTERN, hive_key_pattern
from harness.verify.ledger import verify
from harness.verify.produced import Ledger
from harness.verify.result import (
    ArchivedDigest,
    ArchivedObject,
    ArchiveObjectInfo,
    ArchiveSnapshot,
    CheckResult,
    RecordRef,
    VerificationReport,
)
from harness.verify.scenario import format_choice

__all__ = [
    "HIVE_KEY_PATTERN",
    "ArchiveObjectInfo",
    "ArchiveSnapshot",
    "ArchivedDigest",
    "ArchivedObject",
    "CheckResult",
    "FormatChoice",
    "Ledger",
    "RecordRef",
    "VerificationReport",
    "format_choice",
    "hive_key_pattern",
    "load_archive_format",
    "read_archive",
    "verify",
]
