"""On-failure destinations (§4.5): AWS's record shapes (pure) and senders for SQS, SNS, S3 and `kafka://<topic>`.

Known deviations from AWS:
- `RecordAgeExceeded` records carry `responseContext: null` like `MaximumPayloadSizeExceeded` (no invocation
  produced a response); for conditions without an invocation, `requestId` is a fresh id drawn from the RNG.
- An SNS record above 256 KB (only possible with very many partitions) is split into several messages, each
  with a subset of `recordsInfo`; AWS only says it drops payloads above the limit.
- The S3 key uses the first map key of the batch when a batch spans several partitions.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from kafka import KafkaProducer

from harness.clock import random_uuid
from harness.esm.event_builder import EventSource, JsonObject, KafkaRecord, build_event, serialize_event
from harness.esm.knobs import EsmKnobs
from harness.esm.retry import FailureReport

SNS_MAX_MESSAGE_BYTES = 262_144


def iso_ms(instant: datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z` (``2019-11-14T00:38:06.021Z``)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def _epoch_ms_iso(ms: int) -> str:
    return iso_ms(datetime.fromtimestamp(ms / 1000, tz=UTC))


def destination_kind(destination: str) -> str:
    """ "sqs", "sns", "s3" or "kafka" for an OnFailure destination string."""
    if destination.startswith("kafka://"):
        return "kafka"
    return destination.split(":")[2]


@dataclass(frozen=True)
class RecordContext:
    """What every failure record shares: the function, the source, the clock reading and knobs."""

    function_arn: str  # unqualified
    source: EventSource
    knobs: EsmKnobs
    now: datetime
    request_id: str  # used when the report has none (no invocation happened)


def _condition(report: FailureReport, kind: str, knobs: EsmKnobs) -> str:
    if (
        report.condition == "RetriesExhausted"
        and kind != "kafka"
        and knobs.retry_exhausted_condition == "as_documented"
    ):
        return "RetryAttemptsExhausted"
    return report.condition


def _function_arn(ctx: RecordContext, kind: str) -> str:
    mode = ctx.knobs.failure_record_function_arn
    qualified = mode == "qualified" or (mode == "as_documented" and kind == "kafka")
    return f"{ctx.function_arn}:$LATEST" if qualified else ctx.function_arn


def _head(report: FailureReport, kind: str, ctx: RecordContext) -> JsonObject:
    response = None
    if report.function_error is not None:
        response = {"statusCode": 200, "executedVersion": "$LATEST", "functionError": report.function_error}
    return {
        "requestContext": {
            "requestId": report.request_id or ctx.request_id,
            "functionArn": _function_arn(ctx, kind),
            "condition": _condition(report, kind, ctx.knobs),
            "approximateInvokeCount": report.attempts,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": iso_ms(ctx.now),
    }


def _batch_info(ctx: RecordContext, batch_size: int, payload_size: int) -> JsonObject:
    info: JsonObject = {"batchSize": batch_size}
    if ctx.source.event_source_arn is not None:
        info["eventSourceArn"] = ctx.source.event_source_arn
    elif ctx.knobs.failure_record_self_managed_arn == "null":
        info["eventSourceArn"] = None
    info["bootstrapServers"] = ",".join(ctx.source.bootstrap_servers)
    info["payloadSize"] = payload_size
    return info


def records_info(records: Sequence[KafkaRecord]) -> dict[str, dict[str, str]]:
    """`recordsInfo`: first/last offset (strings) and timestamps (ISO) per map key."""
    info: dict[str, dict[str, str]] = {}
    groups: dict[str, list[KafkaRecord]] = {}
    for r in records:
        groups.setdefault(r.map_key, []).append(r)
    for key in sorted(groups, key=lambda k: (groups[k][0].topic, groups[k][0].partition)):
        ordered = sorted(groups[key], key=lambda r: r.offset)
        info[key] = {
            "firstRecordOffset": str(ordered[0].offset),
            "lastRecordOffset": str(ordered[-1].offset),
            "firstRecordTimestamp": _epoch_ms_iso(ordered[0].timestamp_ms),
            "lastRecordTimestamp": _epoch_ms_iso(ordered[-1].timestamp_ms),
        }
    return info


def batch_failure_record(report: FailureReport, kind: str, ctx: RecordContext) -> JsonObject:
    """The SQS/SNS record, or for S3 the same plus `payload` (the original event as a JSON string)."""
    record = _head(report, kind, ctx)
    info = _batch_info(ctx, len(report.records), len(report.event))
    info["recordsInfo"] = records_info(report.records)
    record["KafkaBatchInfo"] = info
    if kind == "s3":
        record["payload"] = report.event.decode("utf-8")
    return record


def kafka_failure_messages(
    report: FailureReport, ctx: RecordContext
) -> list[tuple[bytes | None, JsonObject]]:
    """One (key, message) per failed record for `kafka://`: singular `recordInfo`, an object `payload`."""
    messages = []
    for r in report.records:
        payload = build_event([r], ctx.source, ctx.knobs)
        record = _head(report, "kafka", ctx)
        info = _batch_info(ctx, 1, len(serialize_event(payload)))
        info["recordInfo"] = {"offset": str(r.offset), "timestamp": _epoch_ms_iso(r.timestamp_ms)}
        record["KafkaBatchInfo"] = info
        record["payload"] = payload
        messages.append((r.key, record))
    return messages


def sns_messages(record: JsonObject) -> list[str]:
    """The record as SNS message bodies of at most 256 KB (split by `recordsInfo` partitions if needed)."""
    body = json.dumps(record, separators=(",", ":"))
    if len(body.encode("utf-8")) <= SNS_MAX_MESSAGE_BYTES:
        return [body]
    partitions = list(record["KafkaBatchInfo"]["recordsInfo"].items())
    if len(partitions) < 2:
        raise ValueError("an SNS failure record for a single partition cannot exceed 256 KB")
    half = len(partitions) // 2
    out = []
    for part in (partitions[:half], partitions[half:]):
        piece = {**record, "KafkaBatchInfo": {**record["KafkaBatchInfo"], "recordsInfo": dict(part)}}
        out.extend(sns_messages(piece))
    return out


def s3_key(template: str, esm_uuid: str, report: FailureReport, now: datetime, rng: random.Random) -> str:
    """Object key of an S3 failure record (default ``aws/lambda/<esm-uuid>/<map-key>/YYYY/MM/DD/...``)."""
    first = report.records[0].map_key if report.records else "unknown"
    return template.format(
        esm_uuid=esm_uuid,
        map_key=first,
        yyyy=f"{now.year:04d}",
        mm=f"{now.month:02d}",
        dd=f"{now.day:02d}",
        timestamp=now.strftime("%Y-%m-%dT%H.%M.%S"),
        uuid=random_uuid(rng),
    )


class FailureDestination:
    """Sends failure reports to one destination through boto3 (SQS/SNS/S3) or a Kafka producer."""

    def __init__(
        self,
        destination: str,
        *,
        esm_uuid: str,
        rng: random.Random,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        kafka_bootstrap_servers: str | None = None,
    ) -> None:
        self.destination = destination
        self.kind = destination_kind(destination)
        self._esm_uuid = esm_uuid
        self._rng = rng
        self._client: Any = None
        self._producer: Any = None
        self._round_robin = itertools.count()
        if self.kind == "kafka":
            if kafka_bootstrap_servers is None:
                raise ValueError("a kafka:// destination needs the cluster's bootstrap servers")
            self._producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
        else:
            self._client = boto3.client(
                self.kind,
                region_name=region,
                endpoint_url=endpoint_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106 - dummy credentials for the emulated account
            )

    def send(self, report: FailureReport, ctx: RecordContext) -> None:
        """Deliver one report in the destination's record shape."""
        if self.kind == "kafka":
            self._send_kafka(report, ctx)
            return
        record = batch_failure_record(report, self.kind, ctx)
        name = self.destination.split(":")[-1]
        if self.kind == "sqs":
            account = self.destination.split(":")[4]
            url = self._client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            self._client.send_message(QueueUrl=url, MessageBody=json.dumps(record, separators=(",", ":")))
        elif self.kind == "sns":
            for message in sns_messages(record):
                self._client.publish(TopicArn=self.destination, Message=message)
        else:
            key = s3_key(ctx.knobs.s3_failure_key_template, self._esm_uuid, report, ctx.now, self._rng)
            self._client.put_object(
                Bucket=name, Key=key, Body=json.dumps(record, separators=(",", ":")).encode()
            )

    def _send_kafka(self, report: FailureReport, ctx: RecordContext) -> None:
        topic = self.destination.removeprefix("kafka://")
        partitions = sorted(self._producer.partitions_for(topic) or [0])
        for key, message in kafka_failure_messages(report, ctx):
            body = json.dumps(message, separators=(",", ":")).encode("utf-8")
            if key is None:  # keyless records are spread round-robin
                partition = partitions[next(self._round_robin) % len(partitions)]
                self._producer.send(topic, value=body, partition=partition)
            else:
                self._producer.send(topic, key=key, value=body)
        self._producer.flush(timeout=30)

    def close(self) -> None:
        """Release the client or producer."""
        if self._producer is not None:
            self._producer.close(timeout=5)
        if self._client is not None:
            self._client.close()
