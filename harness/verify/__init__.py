"""Verification: read the archive from S3 and hold it against what was produced (the ledger).

Example::

    snapshot = read_archive(s3_client, "archive", error_prefix="errors/!{firehose:error-output-type}/")
    report = verify(ledger, snapshot, scenario.expect, delivery_log=firehose.hooks.attempts("archive"))
    assert report.passed, [c for c in report.checks if not c.passed]
"""

from harness.verify.archive import load_archive_format, read_archive
from harness.verify.checks import HIVE_KEY_PATTERN, hive_key_pattern
from harness.verify.ledger import verify
from harness.verify.result import (
    ArchivedDigest,
    ArchivedObject,
    ArchiveObjectInfo,
    ArchiveSnapshot,
    CheckResult,
    RecordRef,
    VerificationReport,
)

__all__ = [
    "HIVE_KEY_PATTERN",
    "ArchiveObjectInfo",
    "ArchiveSnapshot",
    "ArchivedDigest",
    "ArchivedObject",
    "CheckResult",
    "RecordRef",
    "VerificationReport",
    "hive_key_pattern",
    "load_archive_format",
    "read_archive",
    "verify",
]
