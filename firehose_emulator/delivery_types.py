"""The value types of delivery (settings, knobs, delivery-log and drop entries), re-exported by delivery.py.

Known deviations from AWS: see delivery.py; these are plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from firehose_emulator.compression import DEFAULT_GZIP_LEVEL


@dataclass(frozen=True)
class DestinationSettings:
    """What delivery needs from a stream's S3 destination, read when a buffer is sealed."""

    stream_name: str
    version_id: int
    bucket: str
    prefix: str
    error_output_prefix: str
    compression: str
    file_extension: str | None
    custom_time_zone: str
    buffer_size_bytes: int
    buffer_interval_seconds: int
    append_delimiter: bool
    kms_key_arn: str | None


@dataclass(frozen=True)
class DeliveryOptions:
    """Emulator knobs (spec Appendix A) that concern delivery."""

    retention_seconds: float = 86400
    delivery_retry_base_seconds: float = 1
    delivery_retry_max_seconds: float = 60
    suffix_timestamp_source: str = "oldest_arrival"
    default_time_append_mode: str = "no_expressions"
    random_string_style: str = "hex"
    error_type_separator: str = "/"
    append_delimiter_trailing: bool = False
    gzip_single_member: bool = True
    gzip_level: int = DEFAULT_GZIP_LEVEL
    hadoop_snappy_extension: str = ".snappy"
    flush_tick_seconds: float = 1
    compress_error_objects: bool = False
    lambda_arn_field_name: str = "lambdaArn"

    def __post_init__(self) -> None:
        if self.suffix_timestamp_source not in ("oldest_arrival", "write_time"):
            raise ValueError(
                "suffix_timestamp_source must be oldest_arrival or write_time, "
                f"got {self.suffix_timestamp_source!r}"
            )
        if (
            self.retention_seconds <= 0
            or self.delivery_retry_base_seconds <= 0
            or self.flush_tick_seconds <= 0
        ):
            raise ValueError(
                "retention_seconds, delivery_retry_base_seconds and flush_tick_seconds must be > 0"
            )
        if self.default_time_append_mode not in ("no_expressions", "no_timestamp_expression"):
            raise ValueError(
                "default_time_append_mode must be no_expressions or no_timestamp_expression, "
                f"got {self.default_time_append_mode!r}"
            )
        if self.random_string_style not in ("hex", "uuid_prefix", "alnum"):
            raise ValueError(
                f"random_string_style must be hex, uuid_prefix or alnum, got {self.random_string_style!r}"
            )
        if not 1 <= self.gzip_level <= 9:
            raise ValueError(f"gzip_level must be 1..9, got {self.gzip_level}")
        if self.delivery_retry_max_seconds < self.delivery_retry_base_seconds:
            raise ValueError("delivery_retry_max_seconds must be >= delivery_retry_base_seconds")


@dataclass(frozen=True)
class DeliveredObject:
    """One entry of the delivery log (the verifier reads it)."""

    stream_name: str
    bucket: str
    key: str
    record_count: int
    uncompressed_bytes: int
    object_bytes: int
    oldest_arrival: datetime
    newest_arrival: datetime
    delivered_at: datetime
    attempts: int
    error_output_type: str | None = None  # set for error-output objects (spec §9.2)


@dataclass(frozen=True)
class DroppedBatch:
    """Data dropped past the retry horizon: counted and logged, never silent."""

    stream_name: str
    record_count: int
    bytes: int
    oldest_arrival: datetime
    reason: str
    error_code: str
