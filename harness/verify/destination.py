"""What the ESM's on-failure destination says was discarded: record count, identities and keys.

`destination_records` are the failure records as AWS delivers them, already parsed from JSON: an SQS message
body, an SNS message, an S3 object, or a `kafka://` destination message value (spec lambda-kafka-esm §4.5).
Records are counted by `KafkaBatchInfo.batchSize`. Identities come from the `payload` event when there is
one (S3 and Kafka destinations carry the records), else from `recordsInfo` first/last offsets (SQS/SNS carry
only the range: every offset in it counts as discarded). Keys come from the payload, else from the produced
ledger for those identities. Entries that are not failure records are reported as problems, not skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.load import ProducedRecord

Identity = tuple[str, int, int]
# A recordsInfo range wider than this is not a Lambda batch (BatchSize is at most 10,000).
_MAX_RANGE = 1_000_000


@dataclass(frozen=True)
class FailureSummary:
    """The on-failure destination's content as the checks need it."""

    records: int  # Kafka records reported (sum of batchSize)
    identities: frozenset[Identity]
    keys: frozenset[bytes]
    problems: tuple[str, ...]  # entries that do not read as failure records


def summarize_failures(
    destination_records: Sequence[Mapping[str, Any]], produced: Mapping[Identity, ProducedRecord]
) -> FailureSummary:
    """Count, identify and key the records the destination names."""
    count = 0
    identities: set[Identity] = set()
    keys: set[bytes] = set()
    problems: list[str] = []
    for index, entry in enumerate(destination_records):
        info = entry.get("KafkaBatchInfo") if isinstance(entry, Mapping) else None
        if not isinstance(info, Mapping) or not isinstance(info.get("batchSize"), int):
            problems.append(f"destination record {index}: no KafkaBatchInfo.batchSize")
            continue
        count += int(info["batchSize"])
        payload = _payload_event(entry.get("payload"))
        if payload is not None:
            for ident, key in _event_records(payload, index, problems):
                identities.add(ident)
                if key is not None:
                    keys.add(key)
            continue
        for ident in _range_identities(info.get("recordsInfo"), index, problems):
            identities.add(ident)
            record = produced.get(ident)
            if record is not None and record.key is not None:
                keys.add(record.key)
    return FailureSummary(count, frozenset(identities), frozenset(keys), tuple(problems))


def _payload_event(payload: Any) -> Mapping[str, Any] | None:
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError:
            return None
    return payload if isinstance(payload, Mapping) and isinstance(payload.get("records"), Mapping) else None


def _event_records(
    event: Mapping[str, Any], index: int, problems: list[str]
) -> list[tuple[Identity, bytes | None]]:
    out: list[tuple[Identity, bytes | None]] = []
    for records in event["records"].values():
        for record in records if isinstance(records, list) else ():
            try:
                ident = (str(record["topic"]), int(record["partition"]), int(record["offset"]))
                key = None if record.get("key") is None else base64.b64decode(record["key"], validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error) as exc:
                problems.append(f"destination record {index}: payload record unreadable: {exc!r}")
                continue
            out.append((ident, key))
    return out


def _range_identities(info: Any, index: int, problems: list[str]) -> list[Identity]:
    if not isinstance(info, Mapping):
        problems.append(f"destination record {index}: no recordsInfo and no payload")
        return []
    out: list[Identity] = []
    for map_key, span in info.items():
        topic, _, partition = str(map_key).rpartition("-")
        try:
            first, last = int(span["firstRecordOffset"]), int(span["lastRecordOffset"])
            part = int(partition)
        except (KeyError, TypeError, ValueError):
            problems.append(f"destination record {index}: recordsInfo[{map_key!r}] unreadable")
            continue
        if not topic or last < first or last - first > _MAX_RANGE:
            problems.append(f"destination record {index}: recordsInfo[{map_key!r}] is not a batch range")
            continue
        out.extend((topic, part, offset) for offset in range(first, last + 1))
    return out
