"""DescribeDeliveryStream's wire shape (spec §2.2), built from the service's stream state.

Known deviations from AWS:

* `Destinations` always holds the one S3 destination; `Limit`/`ExclusiveStartDestinationId` only shorten it.
"""

from __future__ import annotations

from typing import Any

from firehose_emulator.models import DESTINATION_ID, LoggingOptions, Processing, S3Destination
from firehose_emulator.options import ServiceOptions
from firehose_emulator.stream import StreamRecord

# AWS lists a Lambda processor's parameters in this order, defaults filled in (RoleArn is the stream's role).
LAMBDA_PARAMETER_ORDER = (
    "LambdaArn",
    "NumberOfRetries",
    "RoleArn",
    "BufferSizeInMBs",
    "BufferIntervalInSeconds",
)
LAMBDA_DEFAULTS = {"NumberOfRetries": "3", "BufferSizeInMBs": "1", "BufferIntervalInSeconds": "60"}
DP_DEFAULT_RETRY_SECONDS = 300


def _epoch(stream_time: Any) -> float:
    return float(stream_time.timestamp())


def _logging(options: LoggingOptions) -> dict[str, Any]:
    out: dict[str, Any] = {"Enabled": options.enabled}
    if options.log_group_name is not None:
        out["LogGroupName"] = options.log_group_name
    if options.log_stream_name is not None:
        out["LogStreamName"] = options.log_stream_name
    return out


def _processing(processing: Processing, role_arn: str) -> dict[str, Any]:
    processors = []
    for processor in processing.processors:
        params = list(processor.parameters)
        if processor.type == "Lambda":
            params = _lambda_parameters(params, role_arn)
        processors.append(
            {
                "Type": processor.type,
                "Parameters": [{"ParameterName": n, "ParameterValue": v} for n, v in params],
            }
        )
    out: dict[str, Any] = {"Processors": processors}
    if processing.enabled is not None:
        out = {"Enabled": processing.enabled, **out}
    return out


def _lambda_parameters(given: list[tuple[str, str]], role_arn: str) -> list[tuple[str, str]]:
    values = {**LAMBDA_DEFAULTS, "RoleArn": role_arn, **dict(given)}
    ordered = [(name, values[name]) for name in LAMBDA_PARAMETER_ORDER if name in values]
    return ordered + [(name, value) for name, value in given if name not in LAMBDA_PARAMETER_ORDER]


def basic_description(dest: S3Destination, options: ServiceOptions) -> dict[str, Any]:
    """`S3DestinationDescription`: the basic members."""
    out: dict[str, Any] = {"RoleARN": dest.role_arn, "BucketARN": dest.bucket_arn}
    if dest.prefix is not None or options.describe_unset_prefix_as_empty:
        out["Prefix"] = dest.prefix or ""
    if dest.error_output_prefix is not None:
        out["ErrorOutputPrefix"] = dest.error_output_prefix
    out["BufferingHints"] = {
        "SizeInMBs": dest.buffering.size_in_mbs,
        "IntervalInSeconds": dest.buffering.interval_in_seconds,
    }
    out["CompressionFormat"] = dest.compression
    out["EncryptionConfiguration"] = (
        {"KMSEncryptionConfig": {"AWSKMSKeyARN": dest.kms_key_arn}}
        if dest.kms_key_arn
        else {"NoEncryptionConfig": "NoEncryption"}
    )
    out["CloudWatchLoggingOptions"] = _logging(dest.logging)
    return out


def extended_description(dest: S3Destination, options: ServiceOptions) -> dict[str, Any]:
    """`ExtendedS3DestinationDescription`: basic members plus the extended ones that were set."""
    out = basic_description(dest, options)
    if dest.processing is not None:
        out["ProcessingConfiguration"] = _processing(dest.processing, dest.role_arn)
    out["S3BackupMode"] = dest.s3_backup_mode
    if dest.s3_backup is not None:
        out["S3BackupDescription"] = basic_description(dest.s3_backup, options)
    if dest.data_format_conversion is not None:
        out["DataFormatConversionConfiguration"] = dest.data_format_conversion
    if dest.dynamic_partitioning is not None:
        retry = dest.dynamic_partitioning.retry_duration_seconds
        out["DynamicPartitioningConfiguration"] = {
            "Enabled": dest.dynamic_partitioning.enabled,
            "RetryOptions": {"DurationInSeconds": DP_DEFAULT_RETRY_SECONDS if retry is None else retry},
        }
    if dest.file_extension is not None:
        out["FileExtension"] = dest.file_extension
    if dest.custom_time_zone is not None:
        out["CustomTimeZone"] = dest.custom_time_zone
    return out


def describe_stream(
    stream: StreamRecord, status: str, options: ServiceOptions, limit: int | None, exclusive_start: str | None
) -> dict[str, Any]:
    """The `DeliveryStreamDescription` member of the DescribeDeliveryStream output."""
    encryption: dict[str, Any] = {}
    if stream.encryption.key_arn is not None:
        encryption["KeyARN"] = stream.encryption.key_arn
    if stream.encryption.key_type is not None:
        encryption["KeyType"] = stream.encryption.key_type
    encryption["Status"] = stream.encryption.status
    out: dict[str, Any] = {
        "DeliveryStreamName": stream.name,
        "DeliveryStreamARN": stream.arn,
        "DeliveryStreamStatus": status,
    }
    if stream.failure is not None:
        out["FailureDescription"] = {"Type": stream.failure[0], "Details": stream.failure[1]}
    if stream.spec.stream_type != "KinesisStreamAsSource":  # AWS leaves it out for Kinesis sources
        out["DeliveryStreamEncryptionConfiguration"] = encryption
    out["DeliveryStreamType"] = stream.spec.stream_type
    out["VersionId"] = str(stream.version)
    out["CreateTimestamp"] = _epoch(stream.created_at)
    if stream.last_update is not None:
        out["LastUpdateTimestamp"] = _epoch(stream.last_update)
    source = _source(stream, options)
    if source is not None:
        out["Source"] = source
    destinations = []
    if stream.destination is not None and (exclusive_start is None or exclusive_start < DESTINATION_ID):
        destinations.append(
            {
                "DestinationId": DESTINATION_ID,
                "S3DestinationDescription": basic_description(stream.destination, options),
                "ExtendedS3DestinationDescription": extended_description(stream.destination, options),
            }
        )
    out["Destinations"] = destinations[: limit or None]
    out["HasMoreDestinations"] = False
    return out


def _source(stream: StreamRecord, options: ServiceOptions) -> dict[str, Any] | None:
    spec = stream.spec
    if spec.msk_source is not None:
        msk = spec.msk_source
        return {
            "MSKSourceDescription": {
                "MSKClusterARN": msk.cluster_arn,
                "TopicName": msk.topic_name,
                "AuthenticationConfiguration": {"RoleARN": msk.role_arn, "Connectivity": msk.connectivity},
                "DeliveryStartTimestamp": _epoch(stream.created_at),
            }
        }
    if spec.kinesis_source is not None:
        return {
            "KinesisStreamSourceDescription": {
                **spec.kinesis_source,
                "DeliveryStartTimestamp": _epoch(stream.created_at),
            }
        }
    if spec.throughput_hint_mbs is not None:
        return {"DirectPutSourceDescription": {"ThroughputHintInMBs": spec.throughput_hint_mbs}}
    if spec.stream_type == "DirectPut" and options.describe_include_direct_put_source:
        return {"DirectPutSourceDescription": {}}
    return None
