"""Archive Kafka records from an MSK event source mapping into Amazon Data Firehose, as raw value lines.

Written the way many teams write it: each Kafka record's value (base64 in the event) is decoded and sent as
its own line (`value + "\\n"`), with boto3's PutRecordBatch in chunks of 500. Entries Firehose rejects are
retried up to MAX_RETRIES times; after that the function logs how many it could not send and returns
success -- so under throttling it drops records. The archive holds only values: no topic, partition or
offset. msk-harness matches such records by content and still names the dropped ones by coordinates.
"""

import base64
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import boto3

MAX_RETRIES = 3
BATCH_RECORDS = 500
BATCH_BYTES = 4 * 1024 * 1024

logger = logging.getLogger()
logger.setLevel(logging.INFO)
firehose = boto3.client("firehose")
STREAM = os.environ["DELIVERY_STREAM_NAME"]


def chunks(entries: list[dict[str, bytes]]) -> Iterator[list[dict[str, bytes]]]:
    """Batches of at most 500 entries and 4 MiB, in order."""
    batch: list[dict[str, bytes]] = []
    size = 0
    for entry in entries:
        if batch and (len(batch) == BATCH_RECORDS or size + len(entry["Data"]) > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += len(entry["Data"])
    if batch:
        yield batch


def put_with_retries(entries: list[dict[str, bytes]]) -> int:
    """Send `entries`, resending failed ones up to MAX_RETRIES times; returns how many were never accepted."""
    pending = entries
    for attempt in range(MAX_RETRIES + 1):
        if attempt:
            time.sleep(0.1 * 2 ** (attempt - 1))
        response = firehose.put_record_batch(DeliveryStreamName=STREAM, Records=pending)
        if not response["FailedPutCount"]:
            return 0
        outcomes = response["RequestResponses"]  # one per entry, in order
        pending = [e for e, r in zip(pending, outcomes, strict=True) if r.get("ErrorCode")]
        logger.info("PutRecordBatch attempt %d: %d record(s) failed", attempt + 1, len(pending))
    return len(pending)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Write every record's value as one line; give up on entries still failing after the retries."""
    entries = [
        {"Data": base64.b64decode(record["value"]) + b"\n"}
        for records in event.get("records", {}).values()
        for record in records
        if record.get("value") is not None
    ]
    dropped = sum(put_with_retries(batch) for batch in chunks(entries))
    if dropped:
        logger.error("All retries exceeded: could not send %d record(s)", dropped)
    return {"records": len(entries), "dropped": dropped}
