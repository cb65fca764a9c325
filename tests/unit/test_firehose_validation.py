"""Pure tests of the Firehose validation catalogue (spec §3): model shape rules and semantic rules S1-S18."""

from __future__ import annotations

from typing import Any

import pytest

from firehose_emulator.errors import InvalidArgumentException, SerializationException, ValidationException
from firehose_emulator.models import (
    BufferingHints,
    DynamicPartitioning,
    Processing,
    Processor,
    S3Destination,
    S3DestinationUpdate,
    merge_update,
)
from firehose_emulator.models_wire import destination_from_wire, stream_spec_from_wire, update_from_wire
from firehose_emulator.validation import ShapeValidator, ValidationSettings
from firehose_emulator.validation_rules import RuleSettings, check_destination

ROLE = "arn:aws:iam::123456789012:role/firehose"
BUCKET = "arn:aws:s3:::my-bucket"
VALIDATOR = ShapeValidator()


def create_params(**dest: Any) -> dict[str, Any]:
    return {
        "DeliveryStreamName": "orders",
        "ExtendedS3DestinationConfiguration": {"RoleARN": ROLE, "BucketARN": BUCKET, **dest},
    }


def shape_error(params: dict[str, Any], operation: str = "CreateDeliveryStream") -> str:
    with pytest.raises(ValidationException) as exc:
        VALIDATOR.validate(operation, params)
    return exc.value.message


def test_valid_minimal_create_passes() -> None:
    VALIDATOR.validate("CreateDeliveryStream", create_params())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {**create_params(), "DeliveryStreamName": "x" * 65},
            "1 validation error detected: Value '" + "x" * 65 + "' at 'deliveryStreamName' failed to satisfy "
            "constraint: Member must have length less than or equal to 64",
        ),
        (
            {**create_params(), "DeliveryStreamName": "a/b"},
            "1 validation error detected: Value 'a/b' at 'deliveryStreamName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (
            create_params(BufferingHints={"SizeInMBs": 129, "IntervalInSeconds": 60}),
            "1 validation error detected: Value '129' at "
            "'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' "
            "failed to satisfy constraint: Member must have value less than or equal to 128",
        ),
        (
            create_params(BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 901}),
            "1 validation error detected: Value '901' at "
            "'extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds' failed to satisfy "
            "constraint: "
            "Member must have value less than or equal to 900",
        ),
        (
            create_params(CompressionFormat="SNAPPY"),
            "1 validation error detected: Value 'SNAPPY' at "
            "'extendedS3DestinationConfiguration.compressionFormat' "
            "failed to satisfy constraint: Member must satisfy enum value set: "
            "[UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]",
        ),
        (
            create_params(FileExtension=".GZ"),
            "1 validation error detected: Value '.GZ' at "
            "'extendedS3DestinationConfiguration.fileExtension' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: "
            "^$|\\.[0-9a-z!\\-_.*'()]+",
        ),
        (
            create_params(Prefix="p" * 1025),
            "1 validation error detected: Value '"
            + "p" * 1025
            + "' at 'extendedS3DestinationConfiguration.prefix' "
            "failed to satisfy constraint: Member must have length less than or equal to 1024",
        ),
        (
            {"DeliveryStreamName": "orders", "ExtendedS3DestinationConfiguration": {"BucketARN": BUCKET}},
            "1 validation error detected: Value null at 'extendedS3DestinationConfiguration.roleARN' "
            "failed to "
            "satisfy constraint: Member must not be null",
        ),
    ],
    ids=[
        "name-65",
        "name-slash",
        "size-129",
        "interval-901",
        "snappy-case-g15",
        "ext-upper",
        "prefix-1025",
        "no-role",
    ],
)
def test_shape_rules_give_aws_texts(params: dict[str, Any], message: str) -> None:
    assert shape_error(params) == message


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("FileExtension", "gz"),
        ("CustomTimeZone", "Etc/GMT+9"),
        ("BucketARN", "s3://my-bucket"),
        ("RoleARN", "arn:aws:iam::12345:role/x"),
    ],
)
def test_patterns_are_full_matches(member: str, value: str) -> None:
    assert "failed to satisfy constraint: Member must satisfy regular expression pattern" in shape_error(
        create_params(**{member: value})
    )


def test_several_violations_are_joined() -> None:
    message = shape_error({**create_params(CompressionFormat="gzip"), "DeliveryStreamName": ""})
    assert message.startswith("3 validation errors detected: Value '' at 'deliveryStreamName'")
    assert "; Value 'gzip' at" in message


def test_tag_key_may_not_start_with_aws() -> None:
    message = shape_error({**create_params(), "Tags": [{"Key": "aws:owner", "Value": "x"}]})
    assert (
        "at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression"
        in message
    )
    VALIDATOR.validate("CreateDeliveryStream", {**create_params(), "Tags": [{"Key": "owner", "Value": ""}]})


def test_tags_limit_and_position_base_knob() -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert (
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
        in shape_error({**create_params(), "Tags": tags})
    )
    zero_based = ShapeValidator(ValidationSettings(position_base=0))
    with pytest.raises(ValidationException, match=r"'tags\.0\.member\.key'"):
        zero_based.validate("CreateDeliveryStream", {**create_params(), "Tags": [{"Key": "aws:x"}]})


def test_list_limit_range_and_wrong_type() -> None:
    assert "Member must have value less than or equal to 10000" in shape_error(
        {"Limit": 10001}, "ListDeliveryStreams"
    )
    with pytest.raises(SerializationException):
        VALIDATOR.validate("ListDeliveryStreams", {"Limit": "ten"})


def dest(**fields: Any) -> S3Destination:
    return S3Destination(role_arn=ROLE, bucket_arn=BUCKET, **fields)


def rule_error(destination: S3Destination, settings: RuleSettings | None = None) -> str:
    with pytest.raises(InvalidArgumentException) as exc:
        check_destination(destination, settings or RuleSettings())
    return exc.value.message


def test_s1_expressions_need_an_error_output_prefix_exact_text_g5() -> None:
    assert rule_error(dest(prefix="data/!{timestamp:yyyy}/")) == (
        "Ths supplied prefix(es) do not satisfy the following constraint: "
        "ErrorOutputPrefix cannot be null or empty "
        "when Prefix contains expressions"
    )
    check_destination(dest(prefix="data/!{timestamp:yyyy}/", error_output_prefix="e/"), RuleSettings())


@pytest.mark.parametrize(
    ("prefix", "error_prefix"),
    [
        ("x/", "e/!{timestamp:yyyy}/"),  # S2
        ("x/!{firehose:error-output-type}/", "e/"),  # S3
        ("x/!{nope:value}/", "e/"),  # S4 namespace
        ("x/!{timestamp:qqqq}/", "e/"),  # S4 pattern letter
        ("x/", "e/!{partitionKeyFromQuery:k}/!{firehose:error-output-type}/"),  # S5
        ("x/" + "!{firehose:random-string}" * 50, "e/"),  # S6: > 512 after evaluation
    ],
    ids=["S2", "S3", "S4-namespace", "S4-pattern", "S5", "S6"],
)
def test_prefix_rules_s2_to_s6(prefix: str, error_prefix: str) -> None:
    assert rule_error(dest(prefix=prefix, error_output_prefix=error_prefix))


def dp_dest(size: int = 64, interval: int = 60, **fields: Any) -> S3Destination:
    extraction = Processor(
        "MetadataExtraction", (("MetadataExtractionQuery", "{k:.k}"), ("JsonParsingEngine", "JQ-1.6"))
    )
    base: dict[str, Any] = {
        "prefix": "k=!{partitionKeyFromQuery:k}/",
        "error_output_prefix": "e/!{firehose:error-output-type}/",
        "buffering": BufferingHints(size, interval),
        "dynamic_partitioning": DynamicPartitioning(True),
        "processing": Processing(True, (extraction,)),
    }
    base.update(fields)
    return dest(**base)


def test_dynamic_partitioning_rules_s7_s9_s10_s12() -> None:
    check_destination(dp_dest(), RuleSettings())
    assert (
        rule_error(dp_dest(size=5))
        == "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled."
    )
    assert "IntervalInSeconds" in rule_error(dp_dest(interval=0))
    assert rule_error(dp_dest(prefix="plain/"))
    many = "{" + ",".join(f"k{i}:.k{i}" for i in range(51)) + "}"
    too_many = Processing(True, (Processor("MetadataExtraction", (("MetadataExtractionQuery", many),)),))
    assert "at most 50" in rule_error(dp_dest(processing=too_many))
    bad_engine = Processing(True, (Processor("MetadataExtraction", (("JsonParsingEngine", "JQ-1.5"),)),))
    assert "JQ-1.6" in rule_error(dp_dest(processing=bad_engine))


def test_s11_query_keys_without_dynamic_partitioning() -> None:
    assert "partitionKeyFromQuery" in rule_error(
        dest(prefix="k=!{partitionKeyFromQuery:k}/", error_output_prefix="e/!{firehose:error-output-type}/")
    )


def test_format_conversion_rules_s8_s15() -> None:
    conversion = {"Enabled": True}
    assert rule_error(dest(data_format_conversion=conversion)) == (
        "BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled."
    )
    assert "UNCOMPRESSED" in rule_error(
        dest(data_format_conversion=conversion, buffering=BufferingHints(128, 300), compression="GZIP")
    )


def test_time_zone_s16_and_interval_knob_g19_and_backup_s17() -> None:
    assert "Mars/Olympus" in rule_error(dest(custom_time_zone="Mars/Olympus"))
    check_destination(dest(custom_time_zone="Mars/Olympus"), RuleSettings(unknown_time_zone="utc"))
    check_destination(dest(custom_time_zone="Asia/Tokyo"), RuleSettings())
    thirty = dest(buffering=BufferingHints(5, 30))
    check_destination(thirty, RuleSettings())
    assert rule_error(thirty, RuleSettings(min_nonzero_buffer_interval_seconds=60))
    backup = dest(buffering=BufferingHints(5, 0))
    assert "backup" in rule_error(dest(s3_backup_mode="Enabled", s3_backup=backup))


def test_s13_and_s14_at_the_wire_edge() -> None:
    with pytest.raises(InvalidArgumentException, match="Exactly one destination configuration"):
        stream_spec_from_wire({"DeliveryStreamName": "x"})
    with pytest.raises(InvalidArgumentException, match="BufferingHints"):
        destination_from_wire({"RoleARN": ROLE, "BucketARN": BUCKET, "BufferingHints": {"SizeInMBs": 5}})


def test_merge_keeps_omitted_members_and_restores_file_extension() -> None:
    current = dest(prefix="p/", file_extension=".log", buffering=BufferingHints(1, 60))
    merged = merge_update(
        current,
        update_from_wire(
            {"CompressionFormat": "GZIP", "FileExtension": "", "BufferingHints": {"IntervalInSeconds": 90}}
        ),
    )
    assert (merged.prefix, merged.compression, merged.file_extension, merged.buffering) == (
        "p/",
        "GZIP",
        None,
        BufferingHints(1, 90),
    )
    assert merge_update(current, S3DestinationUpdate()) == current
    assert merge_update(current, update_from_wire({"Prefix": ""})).prefix == ""
