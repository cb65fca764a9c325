"""Semantic rules of spec §3.2 (InvalidArgumentException), applied at Create and to the merged result of
Update.

Prefix rules S1-S6 are keys.py's `validate_prefixes` (one home for the prefix language); this module adds the
buffering, dynamic-partitioning, conversion, time-zone and backup rules.

Known deviations from AWS:

* AWS's texts for S2-S6 and S9-S17 are not documented; the messages here are ours and say what is wrong.
* S12 counts query keys by the top-level `key:` entries of the jq object literal, not by running jq.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

from firehose_emulator.errors import InvalidArgumentException
from firehose_emulator.keys import PrefixError, validate_prefixes
from firehose_emulator.models import S3Destination

S7_MESSAGE = "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled."
S8_MESSAGE = "BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled."
S13_MESSAGE = "Exactly one destination configuration is supported for a Firehose"
S14_MESSAGE = "BufferingHints must specify both SizeInMBs and IntervalInSeconds, or neither."
MAX_QUERY_KEYS = 50
_PARTITION_KEY = re.compile(r"!\{partitionKeyFrom(Query|Lambda):([^}]*)\}")


@dataclass(frozen=True)
class RuleSettings:
    """Knobs of the semantic rules (spec Appendix A)."""

    min_nonzero_buffer_interval_seconds: int = 1
    unknown_time_zone: str = "reject"  # reject | utc
    dp_require_key_count_match: bool = False


def check_destination(dest: S3Destination, settings: RuleSettings) -> None:
    """Raise InvalidArgumentException for the first broken rule of §3.2 (S1-S18)."""
    dp = dest.dynamic_partitioning_enabled
    try:
        validate_prefixes(dest.prefix, dest.error_output_prefix, dp)
    except PrefixError as exc:
        raise InvalidArgumentException(str(exc)) from None
    size = dest.buffering.size_in_mbs
    interval = dest.buffering.interval_in_seconds
    if dp and size < 64:
        raise InvalidArgumentException(S7_MESSAGE)
    if dest.format_conversion_enabled and size < 64:
        raise InvalidArgumentException(S8_MESSAGE)
    if dp and interval == 0:
        raise InvalidArgumentException(
            "BufferingHints.IntervalInSeconds must be greater than 0 when Dynamic Partitioning is enabled."
        )
    if 0 < interval < settings.min_nonzero_buffer_interval_seconds:
        raise InvalidArgumentException(
            "BufferingHints.IntervalInSeconds must be 0 or at least "
            f"{settings.min_nonzero_buffer_interval_seconds} seconds."
        )
    _check_dynamic_partitioning(dest, dp, settings)
    if dest.format_conversion_enabled and dest.compression != "UNCOMPRESSED":
        raise InvalidArgumentException(
            "CompressionFormat must be UNCOMPRESSED when data format conversion is enabled."
        )
    _check_time_zone(dest.custom_time_zone, settings)
    _check_backup(dest)


def _check_dynamic_partitioning(dest: S3Destination, dp: bool, settings: RuleSettings) -> None:
    prefix = dest.prefix or ""
    keys = _PARTITION_KEY.findall(prefix)
    if dp and not keys:
        raise InvalidArgumentException(
            "When dynamic partitioning is enabled, the Prefix must contain at least one "
            "!{partitionKeyFromQuery:...} or !{partitionKeyFromLambda:...} expression."
        )
    if dp and not dest.error_output_prefix:
        raise InvalidArgumentException("ErrorOutputPrefix is required when dynamic partitioning is enabled.")
    extraction = [
        p for p in (dest.processing.processors if dest.processing else ()) if p.type == "MetadataExtraction"
    ]
    uses_query = any(kind == "Query" for kind, _ in keys)
    if uses_query and not (dp and extraction and dest.processing and dest.processing.enabled):
        raise InvalidArgumentException(
            "partitionKeyFromQuery requires dynamic partitioning and an enabled MetadataExtraction processor."
        )
    for processor in extraction:
        engine = processor.parameter("JsonParsingEngine")
        if engine is not None and engine != "JQ-1.6":
            raise InvalidArgumentException(f"JsonParsingEngine {engine} is not supported; use JQ-1.6.")
        query = processor.parameter("MetadataExtractionQuery") or ""
        if _count_query_keys(query) > MAX_QUERY_KEYS:
            raise InvalidArgumentException(
                f"MetadataExtractionQuery may define at most {MAX_QUERY_KEYS} partition keys."
            )
        if settings.dp_require_key_count_match:
            query_keys = _count_query_keys(query)
            if query_keys != sum(1 for kind, _ in keys if kind == "Query"):
                raise InvalidArgumentException(
                    "The number of the S3 bucket prefixes must be identical to the number of the specified "
                    "partitioning keys."
                )


def _count_query_keys(query: str) -> int:
    """Top-level `key:` entries of a jq object literal such as `{a:.a,b:.b}`."""
    body = query.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return 0
    depth, count, in_string, entry_has_colon = 0, 0, False, False
    for char in body[1:-1]:
        if char == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif char == ":" and depth == 0 and not entry_has_colon:
            count += 1
            entry_has_colon = True
        elif char == "," and depth == 0:
            entry_has_colon = False
    return count


def _check_time_zone(zone: str | None, settings: RuleSettings) -> None:
    if not zone or settings.unknown_time_zone == "utc":
        return
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidArgumentException(f"CustomTimeZone {zone} is not supported.") from None


def _check_backup(dest: S3Destination) -> None:
    if dest.s3_backup_mode != "Enabled":
        return
    if dest.s3_backup is None:
        raise InvalidArgumentException("S3BackupConfiguration is required when S3BackupMode is Enabled.")
    if dest.s3_backup.buffering.interval_in_seconds < 60:
        raise InvalidArgumentException(
            "Zero buffering (IntervalInSeconds below 60) is not available for Amazon S3 backup destination."
        )
