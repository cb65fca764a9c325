"""Parsing a function's `ReportBatchItemFailures` response for a Kafka batch (§4.4).

Known deviations from AWS:
- ``{"batchItemFailures": null}`` counts as success, as AWS documents for stream sources (Kafka: silent).
- Item identifiers must name a record delivered in this event (map key + offset); others fail the batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.esm.event_builder import KafkaRecord
from harness.esm.knobs import EsmKnobs


@dataclass(frozen=True)
class BatchResponse:
    """Verdict on a response: success, partial (lowest failed offset per map key) or invalid (whole batch)."""

    kind: str  # success | partial | invalid
    lowest_failed: dict[str, int] = field(default_factory=dict)
    reason: str = ""


SUCCESS = BatchResponse("success")


def _invalid(reason: str, knobs: EsmKnobs, malformed: bool) -> BatchResponse:
    if malformed and knobs.malformed_response_mode == "success":
        return SUCCESS
    return BatchResponse("invalid", reason=reason)


def parse_batch_response(payload: bytes, records: Iterable[KafkaRecord], knobs: EsmKnobs) -> BatchResponse:
    """Classify a successful invocation's response body against the records of the event it answered."""
    try:
        body = json.loads(payload) if payload.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _invalid("the response is not JSON", knobs, malformed=True)
    if body is None or body == {}:
        return SUCCESS
    if not isinstance(body, dict) or "batchItemFailures" not in body:
        return _invalid("the response is not an object with batchItemFailures", knobs, malformed=True)
    failures = body["batchItemFailures"]
    if failures is None or failures == []:
        return SUCCESS
    if not isinstance(failures, list):
        return _invalid("batchItemFailures is not a list", knobs, malformed=True)
    return _partial(failures, {(r.map_key, r.offset) for r in records}, knobs)


def _partial(failures: list[Any], present: set[tuple[str, int]], knobs: EsmKnobs) -> BatchResponse:
    """The lowest failed offset per partition, or `invalid` when an item names no record of the event."""
    lowest: dict[str, int] = {}
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, dict):
            return _invalid("itemIdentifier is not an object", knobs, malformed=True)
        partition, offset = identifier.get("partition"), identifier.get("offset")
        if isinstance(offset, str) and not knobs.strict_item_identifier_types and offset.isdigit():
            offset = int(offset)
        if not isinstance(partition, str) or isinstance(offset, bool) or not isinstance(offset, int):
            return BatchResponse("invalid", reason=f"itemIdentifier {identifier!r} has wrong types")
        if (partition, offset) not in present:
            return BatchResponse("invalid", reason=f"itemIdentifier {identifier!r} is not in this event")
        lowest[partition] = min(offset, lowest.get(partition, offset))
    return BatchResponse("partial", lowest_failed=lowest)
