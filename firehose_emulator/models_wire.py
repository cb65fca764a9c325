"""Wire shapes (TypedDicts named as in the AWS model) and the one mapping between them and the domain model.

Known deviations from AWS:

* Non-S3 destination configurations are accepted only to be counted (S13); they are rejected as out of scope,
  and so are non-S3 destination updates (AWS may accept some type changes; recorded responses reject them).
* Without BufferingHints, dynamic partitioning gets 64 MiB (its minimum; AWS documents no default) and format
  conversion 128 MiB; the 64 MiB minimum is enforced only on an explicit SizeInMBs.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from firehose_emulator.errors import InvalidArgumentException
from firehose_emulator.models import (
    CONVERSION_DEFAULT_SIZE_IN_MBS,
    DP_DEFAULT_SIZE_IN_MBS,
    BufferingHints,
    BufferingHintsUpdate,
    DynamicPartitioning,
    Encryption,
    EncryptionUpdate,
    LoggingOptions,
    LoggingUpdate,
    MSKSource,
    Processing,
    Processor,
    S3Destination,
    S3DestinationUpdate,
    StreamSpec,
)
from firehose_emulator.validation_rules import S13_MESSAGE, S14_MESSAGE


class BufferingHintsWire(TypedDict, total=False):
    """AWS `BufferingHints`."""

    SizeInMBs: int
    IntervalInSeconds: int


class ProcessorParameterWire(TypedDict):
    """AWS `ProcessorParameter`."""

    ParameterName: str
    ParameterValue: str


class ProcessorWire(TypedDict):
    """AWS `Processor`."""

    Type: str
    Parameters: NotRequired[list[ProcessorParameterWire]]


class ProcessingConfigurationWire(TypedDict, total=False):
    """AWS `ProcessingConfiguration`."""

    Enabled: bool
    Processors: list[ProcessorWire]


class CloudWatchLoggingOptionsWire(TypedDict, total=False):
    """AWS `CloudWatchLoggingOptions`."""

    Enabled: bool
    LogGroupName: str
    LogStreamName: str


class ExtendedS3DestinationConfiguration(TypedDict, total=False):
    """AWS `ExtendedS3DestinationConfiguration` (also used for `S3DestinationConfiguration`)."""

    RoleARN: str
    BucketARN: str
    Prefix: str
    ErrorOutputPrefix: str
    BufferingHints: BufferingHintsWire
    CompressionFormat: str
    EncryptionConfiguration: dict[str, Any]
    CloudWatchLoggingOptions: CloudWatchLoggingOptionsWire
    ProcessingConfiguration: ProcessingConfigurationWire
    S3BackupMode: str
    S3BackupConfiguration: ExtendedS3DestinationConfiguration
    S3BackupUpdate: ExtendedS3DestinationConfiguration
    DataFormatConversionConfiguration: dict[str, Any]
    DynamicPartitioningConfiguration: dict[str, Any]
    FileExtension: str
    CustomTimeZone: str


class TagWire(TypedDict):
    """AWS `Tag`."""

    Key: str
    Value: NotRequired[str]


class CreateDeliveryStreamInput(TypedDict, total=False):
    """AWS `CreateDeliveryStreamInput`."""

    DeliveryStreamName: str
    DeliveryStreamType: str
    DirectPutSourceConfiguration: dict[str, Any]
    KinesisStreamSourceConfiguration: dict[str, Any]
    MSKSourceConfiguration: dict[str, Any]
    DeliveryStreamEncryptionConfigurationInput: dict[str, Any]
    ExtendedS3DestinationConfiguration: ExtendedS3DestinationConfiguration
    S3DestinationConfiguration: ExtendedS3DestinationConfiguration
    Tags: list[TagWire]


class UpdateDestinationInput(TypedDict, total=False):
    """AWS `UpdateDestinationInput`."""

    DeliveryStreamName: str
    CurrentDeliveryStreamVersionId: str
    DestinationId: str
    ExtendedS3DestinationUpdate: ExtendedS3DestinationConfiguration
    S3DestinationUpdate: ExtendedS3DestinationConfiguration


class PutRecordBatchResponseEntry(TypedDict, total=False):
    """AWS `PutRecordBatchResponseEntry`: RecordId, or ErrorCode + ErrorMessage."""

    RecordId: str
    ErrorCode: str
    ErrorMessage: str


class PutRecordBatchOutput(TypedDict):
    """AWS `PutRecordBatchOutput`."""

    FailedPutCount: int
    Encrypted: bool
    RequestResponses: list[PutRecordBatchResponseEntry]


DESTINATION_MEMBERS = (
    "S3DestinationConfiguration",
    "ExtendedS3DestinationConfiguration",
    "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration",
    "AmazonopensearchserviceDestinationConfiguration",
    "SplunkDestinationConfiguration",
    "HttpEndpointDestinationConfiguration",
    "AmazonOpenSearchServerlessDestinationConfiguration",
    "SnowflakeDestinationConfiguration",
    "IcebergDestinationConfiguration",
)


UPDATE_MEMBERS = tuple(name.replace("Configuration", "Update") for name in DESTINATION_MEMBERS)
S3_UPDATE_MEMBERS = ("S3DestinationUpdate", "ExtendedS3DestinationUpdate")


def s3_update_member(request: dict[str, Any]) -> ExtendedS3DestinationConfiguration:
    """The one S3 destination update of an UpdateDestination request (InvalidArgument as Create, S13)."""
    given = [name for name in UPDATE_MEMBERS if request.get(name) is not None]
    if len(given) != 1:
        raise InvalidArgumentException(S13_MESSAGE)
    if given[0] not in S3_UPDATE_MEMBERS:
        raise InvalidArgumentException(
            f"Only S3 destinations are supported by this emulator; got {given[0]}."
        )
    update: ExtendedS3DestinationConfiguration = request[given[0]]
    return update


def stream_spec_from_wire(request: CreateDeliveryStreamInput) -> StreamSpec:
    """Map a shape-valid CreateDeliveryStream request to the domain (raises S13 / S14 as InvalidArgument)."""
    raw: dict[str, Any] = dict(request)
    given = [name for name in DESTINATION_MEMBERS if raw.get(name) is not None]
    stream_type = raw.get("DeliveryStreamType") or "DirectPut"
    if len(given) != 1:
        raise InvalidArgumentException(S13_MESSAGE)
    destination = None
    others: tuple[str, ...] = ()
    if given[0] in ("S3DestinationConfiguration", "ExtendedS3DestinationConfiguration"):
        destination = destination_from_wire(raw[given[0]])
    else:
        others = tuple(given)
    encryption = Encryption()
    sse = raw.get("DeliveryStreamEncryptionConfigurationInput")
    if sse is not None:
        encryption = Encryption("ENABLED", sse.get("KeyType"), sse.get("KeyARN"))
    msk = raw.get("MSKSourceConfiguration")
    msk_source = None
    if msk is not None:
        auth = msk.get("AuthenticationConfiguration", {})
        msk_source = MSKSource(
            msk["MSKClusterARN"], msk["TopicName"], auth.get("RoleARN", ""), auth.get("Connectivity", "")
        )
    tags = tuple((tag["Key"], tag.get("Value", "")) for tag in raw.get("Tags") or [])
    hint = (raw.get("DirectPutSourceConfiguration") or {}).get("ThroughputHintInMBs")
    return StreamSpec(
        name=raw["DeliveryStreamName"],
        stream_type=stream_type,
        destination=destination,
        other_destinations=others,
        throughput_hint_mbs=hint,
        encryption=encryption,
        kinesis_source=raw.get("KinesisStreamSourceConfiguration"),
        msk_source=msk_source,
        tags=tags,
    )


def _buffering(raw: BufferingHintsWire | None) -> BufferingHints:
    if raw is None:
        return BufferingHints()
    if ("SizeInMBs" in raw) != ("IntervalInSeconds" in raw):
        raise InvalidArgumentException(S14_MESSAGE)
    if not raw:
        return BufferingHints()
    return BufferingHints(raw["SizeInMBs"], raw["IntervalInSeconds"])


def _processing(raw: ProcessingConfigurationWire) -> Processing:
    processors = tuple(
        Processor(
            p["Type"],
            tuple((param["ParameterName"], param["ParameterValue"]) for param in p.get("Parameters") or []),
        )
        for p in raw.get("Processors") or []
    )
    return Processing(raw.get("Enabled"), processors)


def _logging(raw: CloudWatchLoggingOptionsWire | None) -> LoggingOptions:
    if raw is None:
        return LoggingOptions()
    return LoggingOptions(bool(raw.get("Enabled", False)), raw.get("LogGroupName"), raw.get("LogStreamName"))


def destination_from_wire(raw: ExtendedS3DestinationConfiguration) -> S3Destination:
    """Map an (Extended)S3DestinationConfiguration to an `S3Destination`."""
    kms = (raw.get("EncryptionConfiguration") or {}).get("KMSEncryptionConfig")
    dp_raw = raw.get("DynamicPartitioningConfiguration")
    backup_raw = raw.get("S3BackupConfiguration")
    processing_raw = raw.get("ProcessingConfiguration")
    buffering = _buffering(raw.get("BufferingHints"))
    if not raw.get("BufferingHints"):
        buffering = _implicit_buffering(raw)
    return S3Destination(
        role_arn=raw["RoleARN"],
        bucket_arn=raw["BucketARN"],
        prefix=raw.get("Prefix"),
        error_output_prefix=raw.get("ErrorOutputPrefix"),
        buffering=buffering,
        compression=raw.get("CompressionFormat", "UNCOMPRESSED"),
        kms_key_arn=kms["AWSKMSKeyARN"] if kms else None,
        logging=_logging(raw.get("CloudWatchLoggingOptions")),
        processing=_processing(processing_raw) if processing_raw is not None else None,
        s3_backup_mode=raw.get("S3BackupMode", "Disabled"),
        s3_backup=destination_from_wire(backup_raw) if backup_raw is not None else None,
        dynamic_partitioning=(
            DynamicPartitioning(
                bool(dp_raw.get("Enabled", False)),
                (dp_raw.get("RetryOptions") or {}).get("DurationInSeconds"),
            )
            if dp_raw is not None
            else None
        ),
        file_extension=raw.get("FileExtension") or None,
        custom_time_zone=raw.get("CustomTimeZone"),
        data_format_conversion=raw.get("DataFormatConversionConfiguration"),
    )


def _implicit_buffering(raw: ExtendedS3DestinationConfiguration) -> BufferingHints:
    """Without BufferingHints AWS picks a size that satisfies the 64 MiB minimum (which applies only to an
    explicit SizeInMBs): 128 MiB with format conversion, 64 MiB with dynamic partitioning, else 5 MiB."""
    conversion = raw.get("DataFormatConversionConfiguration")
    if conversion is not None and conversion.get("Enabled", True):
        return BufferingHints(CONVERSION_DEFAULT_SIZE_IN_MBS)
    if (raw.get("DynamicPartitioningConfiguration") or {}).get("Enabled"):
        return BufferingHints(DP_DEFAULT_SIZE_IN_MBS)
    return BufferingHints()


def update_from_wire(raw: ExtendedS3DestinationConfiguration) -> S3DestinationUpdate:
    """Map an (Extended)S3DestinationUpdate to an `S3DestinationUpdate` (absent members stay None)."""
    hints = raw.get("BufferingHints")
    encryption = raw.get("EncryptionConfiguration")
    logging = raw.get("CloudWatchLoggingOptions")
    processing = raw.get("ProcessingConfiguration")
    dp_raw = raw.get("DynamicPartitioningConfiguration")
    backup = raw.get("S3BackupUpdate")
    return S3DestinationUpdate(
        role_arn=raw.get("RoleARN"),
        bucket_arn=raw.get("BucketARN"),
        prefix=raw.get("Prefix"),
        error_output_prefix=raw.get("ErrorOutputPrefix"),
        buffering=(
            BufferingHintsUpdate(hints.get("SizeInMBs"), hints.get("IntervalInSeconds"))
            if hints is not None
            else None
        ),
        compression=raw.get("CompressionFormat"),
        encryption=(
            EncryptionUpdate(
                encryption.get("NoEncryptionConfig") == "NoEncryption",
                (encryption.get("KMSEncryptionConfig") or {}).get("AWSKMSKeyARN"),
            )
            if encryption is not None
            else None
        ),
        logging=(
            LoggingUpdate(logging.get("Enabled"), logging.get("LogGroupName"), logging.get("LogStreamName"))
            if logging is not None
            else None
        ),
        processing=_processing(processing) if processing is not None else None,
        processing_processors_given=processing is not None and "Processors" in processing,
        s3_backup_mode=raw.get("S3BackupMode"),
        s3_backup=update_from_wire(backup) if backup is not None else None,
        dynamic_partitioning=(
            DynamicPartitioning(
                bool(dp_raw.get("Enabled", False)),
                (dp_raw.get("RetryOptions") or {}).get("DurationInSeconds"),
            )
            if dp_raw is not None
            else None
        ),
        dynamic_partitioning_enabled_given=dp_raw is not None and "Enabled" in dp_raw,
        file_extension=raw.get("FileExtension"),
        custom_time_zone=raw.get("CustomTimeZone"),
        data_format_conversion=raw.get("DataFormatConversionConfiguration"),
    )
