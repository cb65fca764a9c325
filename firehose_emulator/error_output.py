"""Pure error-output records (spec §9.2): one JSON object per line, one line per failed record.

Known deviations from AWS:

* The key order of a line is fixed (attemptsMade, arrivalTimestamp, errorCode, errorMessage,
  attemptEndingTimestamp, rawData, then the Lambda ARN); JSON readers do not depend on it.
* The Lambda ARN key is ``lambdaArn`` as documented (a capture spells it ``lambdaARN``; knob
  ``lambda_arn_field_name``). DP and activePartitionExceeded lines omit it (spec §8.4).

Example::

    line = error_line(FailedRecord(b'{"id":1}\\n', arrival, "Lambda.FunctionError", "boom", 4, ended, arn))
    # b'{"attemptsMade":4,"arrivalTimestamp":1783951509000,...,"rawData":"eyJpZCI6MX0K","lambdaArn":...}\\n'
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

PROCESSING_FAILED = "processing-failed"
DECOMPRESSION_FAILED_CODE = "Decompression failed."


@dataclass(frozen=True)
class FailedRecord:
    """One record that failed processing, with what the error line reports about it."""

    data: bytes
    arrival: datetime
    error_code: str
    error_message: str
    attempts_made: int
    attempt_ending: datetime
    lambda_arn: str | None = None


def epoch_millis(instant: datetime) -> int:
    """Milliseconds since the epoch (error lines use milliseconds, spec §9.2)."""
    return round(instant.timestamp() * 1000)


def error_line(record: FailedRecord, *, lambda_arn_field_name: str = "lambdaArn") -> bytes:
    """The JSON line (with its trailing newline) for one failed record."""
    line: dict[str, object] = {
        "attemptsMade": record.attempts_made,
        "arrivalTimestamp": epoch_millis(record.arrival),
        "errorCode": record.error_code,
        "errorMessage": record.error_message,
        "attemptEndingTimestamp": epoch_millis(record.attempt_ending),
        "rawData": base64.b64encode(record.data).decode("ascii"),
    }
    if record.lambda_arn is not None:
        line[lambda_arn_field_name] = record.lambda_arn
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def error_lines(records: Sequence[FailedRecord], *, lambda_arn_field_name: str = "lambdaArn") -> list[bytes]:
    """One line per failed record, in the given order."""
    return [error_line(record, lambda_arn_field_name=lambda_arn_field_name) for record in records]
