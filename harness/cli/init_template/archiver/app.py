"""A team's own Kafka-to-Firehose archiver: one archive line (format v1) per record, PutRecordBatch in 500s.

Deliberately small and independent of msk-harness: it is the production code a CI gate checks. Each line
keeps the record's coordinates and its exact bytes (UTF-8 text when valid, base64 otherwise), so the
harness can prove nothing was lost, duplicated or reordered on the way to S3.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3

STREAM = os.environ["DELIVERY_STREAM_NAME"]
MAX_BATCH = 500
MAX_ATTEMPTS = 5
FIREHOSE = boto3.client("firehose")


def _bytes_field(line: dict[str, Any], name: str, b64: str | None) -> None:
    if b64 is None:
        line[name] = None
        return
    raw = base64.b64decode(b64)
    try:
        line[name], line[f"{name}Encoding"] = raw.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        line[name], line[f"{name}Encoding"] = b64, "base64"


def archive_line(record: dict[str, Any]) -> bytes:
    """The archive line of one event record (fields in the documented order)."""
    line: dict[str, Any] = {"v": 1}
    for field in ("topic", "partition", "offset", "timestamp", "timestampType"):
        line[field] = record[field]
    _bytes_field(line, "key", record.get("key"))
    line["headers"] = []
    for header in record.get("headers") or []:
        ((name, values),) = header.items()  # Lambda sends header values as (signed) byte lists
        raw = None if values is None else base64.b64encode(bytes(b & 0xFF for b in values)).decode()
        entry: dict[str, Any] = {"name": name}
        _bytes_field(entry, "value", raw)
        line["headers"].append(entry)
    _bytes_field(line, "value", record.get("value"))
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def put_all(lines: list[bytes]) -> None:
    """PutRecordBatch in batches of 500, resending only the entries Firehose refused."""
    for start in range(0, len(lines), MAX_BATCH):
        pending = lines[start : start + MAX_BATCH]
        for _ in range(MAX_ATTEMPTS):
            response = FIREHOSE.put_record_batch(
                DeliveryStreamName=STREAM, Records=[{"Data": data} for data in pending]
            )
            if response["FailedPutCount"] == 0:
                break
            pending = [
                d for d, r in zip(pending, response["RequestResponses"], strict=True) if "ErrorCode" in r
            ]
        else:
            raise RuntimeError(
                f"{len(pending)} records still refused by Firehose after {MAX_ATTEMPTS} attempts"
            )


def handler(event: dict[str, Any], context: Any) -> None:
    """Lambda entry point for a Kafka event source mapping."""
    lines = [archive_line(record) for records in event["records"].values() for record in records]
    put_all(lines)
