"""The domain model of a delivery stream (snake_case, frozen) and the UpdateDestination merge rules (spec
§2.7).

Known deviations from AWS:

* `DataFormatConversionConfiguration` is kept as opaque JSON (echoed by Describe, checked by S8/S15 only).
* An omitted `ProcessingConfiguration.Enabled` counts as disabled for delivery (it is echoed as given).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_SIZE_IN_MBS = 5
DEFAULT_INTERVAL_IN_SECONDS = 300
CONVERSION_DEFAULT_SIZE_IN_MBS = 128  # format conversion without BufferingHints (spec §5)
DP_DEFAULT_SIZE_IN_MBS = 64  # dynamic partitioning without BufferingHints: the minimum it allows
DESTINATION_ID = "destinationId-000000000001"


@dataclass(frozen=True)
class BufferingHints:
    """Buffer size (MiB) and interval (s); the defaults are AWS's 5 / 300."""

    size_in_mbs: int = DEFAULT_SIZE_IN_MBS
    interval_in_seconds: int = DEFAULT_INTERVAL_IN_SECONDS


@dataclass(frozen=True)
class LoggingOptions:
    """CloudWatchLoggingOptions."""

    enabled: bool = False
    log_group_name: str | None = None
    log_stream_name: str | None = None


@dataclass(frozen=True)
class Processor:
    """One processor: its type and (name, value) parameters in the given order."""

    type: str
    parameters: tuple[tuple[str, str], ...] = ()

    def parameter(self, name: str) -> str | None:
        """The value of parameter `name`, or None."""
        return next((value for key, value in self.parameters if key == name), None)


@dataclass(frozen=True)
class Processing:
    """ProcessingConfiguration: `enabled` None means the member was omitted."""

    enabled: bool | None = None
    processors: tuple[Processor, ...] = ()

    def active(self, processor_type: str) -> bool:
        """True if processing is enabled and a processor of this type is configured."""
        return bool(self.enabled) and any(p.type == processor_type for p in self.processors)


@dataclass(frozen=True)
class DynamicPartitioning:
    """DynamicPartitioningConfiguration."""

    enabled: bool = False
    retry_duration_seconds: int | None = None


@dataclass(frozen=True)
class S3Destination:
    """An (extended) S3 destination; the backup destination uses the basic members only."""

    role_arn: str
    bucket_arn: str
    prefix: str | None = None
    error_output_prefix: str | None = None
    buffering: BufferingHints = field(default_factory=BufferingHints)
    compression: str = "UNCOMPRESSED"
    kms_key_arn: str | None = None
    logging: LoggingOptions = field(default_factory=LoggingOptions)
    processing: Processing | None = None
    s3_backup_mode: str = "Disabled"
    s3_backup: S3Destination | None = None
    dynamic_partitioning: DynamicPartitioning | None = None
    file_extension: str | None = None
    custom_time_zone: str | None = None
    data_format_conversion: dict[str, Any] | None = field(default=None, hash=False, compare=True)

    @property
    def bucket(self) -> str:
        """The bucket name from `arn:...:s3:::<bucket>`."""
        return self.bucket_arn.split(":::", 1)[1]

    @property
    def dynamic_partitioning_enabled(self) -> bool:
        """True when DP is on."""
        return self.dynamic_partitioning is not None and self.dynamic_partitioning.enabled

    @property
    def format_conversion_enabled(self) -> bool:
        """True when data format conversion is on (it defaults to on when the block is given)."""
        return self.data_format_conversion is not None and bool(
            self.data_format_conversion.get("Enabled", True)
        )


@dataclass(frozen=True)
class Encryption:
    """Server-side encryption of the stream (DeliveryStreamEncryptionConfiguration)."""

    status: str = "DISABLED"  # ENABLED | DISABLED
    key_type: str | None = None
    key_arn: str | None = None


@dataclass(frozen=True)
class MSKSource:
    """MSKSourceConfiguration (config only, spec §11)."""

    cluster_arn: str
    topic_name: str
    role_arn: str
    connectivity: str
    read_from_timestamp: datetime | None = None


@dataclass(frozen=True)
class StreamSpec:
    """Everything CreateDeliveryStream asks for, validated."""

    name: str
    stream_type: str = "DirectPut"
    destination: S3Destination | None = None
    other_destinations: tuple[str, ...] = ()  # names of non-S3 destination members given (out of scope)
    throughput_hint_mbs: int | None = None
    encryption: Encryption = field(default_factory=Encryption)
    kinesis_source: dict[str, Any] | None = field(default=None, compare=False)
    msk_source: MSKSource | None = None
    tags: tuple[tuple[str, str], ...] = ()


# --- UpdateDestination (spec §2.7): None means "omitted"
# ------------------------------------------------------


@dataclass(frozen=True)
class BufferingHintsUpdate:
    """Buffering members supplied in an update."""

    size_in_mbs: int | None = None
    interval_in_seconds: int | None = None


@dataclass(frozen=True)
class LoggingUpdate:
    """CloudWatchLoggingOptions members supplied in an update."""

    enabled: bool | None = None
    log_group_name: str | None = None
    log_stream_name: str | None = None


@dataclass(frozen=True)
class EncryptionUpdate:
    """EncryptionConfiguration supplied in an update: NoEncryption or a KMS key."""

    no_encryption: bool = False
    kms_key_arn: str | None = None


@dataclass(frozen=True)
class S3DestinationUpdate:
    """An (Extended)S3DestinationUpdate; every member optional."""

    role_arn: str | None = None
    bucket_arn: str | None = None
    prefix: str | None = None
    error_output_prefix: str | None = None
    buffering: BufferingHintsUpdate | None = None
    compression: str | None = None
    encryption: EncryptionUpdate | None = None
    logging: LoggingUpdate | None = None
    processing: Processing | None = None
    processing_processors_given: bool = False
    s3_backup_mode: str | None = None
    s3_backup: S3DestinationUpdate | None = None
    dynamic_partitioning: DynamicPartitioning | None = None
    dynamic_partitioning_enabled_given: bool = False
    file_extension: str | None = None
    custom_time_zone: str | None = None
    data_format_conversion: dict[str, Any] | None = field(default=None, compare=False)


class LifecycleChangeError(ValueError):
    """The update tries to switch DP on/off or S3 backup Enabled -> Disabled."""


def merge_update(current: S3Destination, update: S3DestinationUpdate) -> S3Destination:
    """Apply the §2.7 merge rules: omitted members are kept, blocks are merged or replaced as AWS does."""
    changes = _scalar_changes(update)
    if update.buffering is not None:
        changes["buffering"] = _merge_buffering(current.buffering, update.buffering)
    if update.encryption is not None:
        changes.update(_encryption_change(update.encryption))
    if update.logging is not None:
        changes["logging"] = _merge_logging(current.logging, update.logging)
    if update.processing is not None:
        changes["processing"] = _merge_processing(
            current.processing, update.processing, update.processing_processors_given
        )
    changes.update(_backup_changes(current, update))
    if update.dynamic_partitioning is not None:
        changes.update(
            _dynamic_partitioning_change(
                current, update.dynamic_partitioning, update.dynamic_partitioning_enabled_given
            )
        )
    if update.data_format_conversion is not None:
        merged = dict(current.data_format_conversion or {})
        merged.update(update.data_format_conversion)
        changes["data_format_conversion"] = merged
    return dataclasses.replace(current, **changes)


def _scalar_changes(update: S3DestinationUpdate) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in (
        "role_arn",
        "bucket_arn",
        "prefix",
        "error_output_prefix",
        "compression",
        "custom_time_zone",
    ):
        value = getattr(update, name)
        if value is not None:
            changes[name] = value
    if update.file_extension is not None:
        changes["file_extension"] = update.file_extension or None  # "" restores the default
    return changes


def _merge_buffering(current: BufferingHints, update: BufferingHintsUpdate) -> BufferingHints:
    return BufferingHints(
        update.size_in_mbs if update.size_in_mbs is not None else current.size_in_mbs,
        update.interval_in_seconds if update.interval_in_seconds is not None else current.interval_in_seconds,
    )


def _encryption_change(update: EncryptionUpdate) -> dict[str, Any]:
    if update.kms_key_arn is not None:
        return {"kms_key_arn": update.kms_key_arn}
    if update.no_encryption:
        return {"kms_key_arn": None}
    return {}


def _merge_processing(current: Processing | None, update: Processing, processors_given: bool) -> Processing:
    old_enabled = current.enabled if current else None
    return Processing(
        update.enabled if update.enabled is not None else old_enabled,
        update.processors if processors_given else (),
    )


def _backup_changes(current: S3Destination, update: S3DestinationUpdate) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if update.s3_backup_mode is not None:
        if current.s3_backup_mode == "Enabled" and update.s3_backup_mode == "Disabled":
            raise LifecycleChangeError("S3BackupMode cannot be changed from Enabled to Disabled.")
        changes["s3_backup_mode"] = update.s3_backup_mode
    if update.s3_backup is not None:
        base = current.s3_backup or S3Destination(role_arn="", bucket_arn="")
        changes["s3_backup"] = merge_update(base, update.s3_backup)
    return changes


def _dynamic_partitioning_change(
    current: S3Destination, dp: DynamicPartitioning, enabled_given: bool
) -> dict[str, Any]:
    if enabled_given and dp.enabled != current.dynamic_partitioning_enabled:
        raise LifecycleChangeError("Dynamic partitioning cannot be enabled or disabled after creation.")
    if current.dynamic_partitioning is None:
        return {}
    return {
        "dynamic_partitioning": dataclasses.replace(
            current.dynamic_partitioning, retry_duration_seconds=dp.retry_duration_seconds
        )
    }


def _merge_logging(current: LoggingOptions, update: LoggingUpdate) -> LoggingOptions:
    return LoggingOptions(
        update.enabled if update.enabled is not None else current.enabled,
        update.log_group_name if update.log_group_name is not None else current.log_group_name,
        update.log_stream_name if update.log_stream_name is not None else current.log_stream_name,
    )
