"""ESM configuration validation (spec §0.1; checklist 12, 18, 19, 28, 49, 55; gotchas 11, 13, 20, 23)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.esm.errors import InvalidParameterValueException
from harness.esm.knobs import EsmKnobs
from harness.esm.scaling import PollerModel
from harness.esm.settings import ConsumerGroupRegistry, EsmConfig

ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1"


def params(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "FunctionName": "archiver",
        "EventSourceArn": ARN,
        "Topics": ["orders"],
        "StartingPosition": "TRIM_HORIZON",
    }
    base.update(extra)
    return base


PROVISIONED = {"ProvisionedPollerConfig": {"MinimumPollers": 1, "MaximumPollers": 4}}


def rejected(p: dict[str, Any], match: str, **kw: Any) -> None:
    with pytest.raises(InvalidParameterValueException, match=match) as info:
        EsmConfig.from_aws(p, **kw)
    assert info.value.to_aws()["__type"] == "InvalidParameterValueException"
    assert info.value.status == 400


def test_defaults() -> None:
    c = EsmConfig.from_aws(params())
    assert (c.batch_size, c.window_seconds, c.enabled, c.is_msk, c.provisioned_mode) == (
        100,
        0.5,
        True,
        True,
        False,
    )
    assert c.maximum_retry_attempts == -1
    assert c.effective_retry_attempts == -1


def test_self_managed_source() -> None:
    p = params(SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["h1:9092", "h2:9092"]}})
    del p["EventSourceArn"]
    c = EsmConfig.from_aws(p)
    assert not c.is_msk
    assert c.bootstrap_servers == ("h1:9092", "h2:9092")
    rejected({**p, "EventSourceArn": ARN}, "Exactly one")


def test_starting_position_required_and_at_timestamp_needs_timestamp() -> None:
    p = params()
    del p["StartingPosition"]
    rejected(p, "StartingPosition is required")
    rejected(params(StartingPosition="AT_TIMESTAMP"), "StartingPositionTimestamp")
    rejected(params(StartingPosition="EARLIEST"), "must be one of")
    assert (
        EsmConfig.from_aws(
            params(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1750000000)
        ).starting_position_timestamp
        == 1750000000.0
    )


@pytest.mark.parametrize("size", [0, 10_001, -5])
def test_batch_size_range(size: int) -> None:
    rejected(params(BatchSize=size), "BatchSize")


@pytest.mark.parametrize("window", [-1, 301])
def test_window_range(window: int) -> None:
    rejected(params(MaximumBatchingWindowInSeconds=window), "MaximumBatchingWindowInSeconds")


def test_window_zero_needs_provisioned_mode() -> None:
    rejected(params(MaximumBatchingWindowInSeconds=0), "requires ProvisionedPollerConfig")
    assert EsmConfig.from_aws(params(MaximumBatchingWindowInSeconds=0, **PROVISIONED)).window_seconds == 0.0
    assert (
        EsmConfig.from_aws(
            params(MaximumBatchingWindowInSeconds=0), knobs=EsmKnobs(allow_zero_window_on_demand=True)
        ).window_seconds
        == 0.0
    )


def test_500ms_cannot_be_restored_after_a_window_was_set() -> None:
    c = EsmConfig.from_aws(params()).updated({"MaximumBatchingWindowInSeconds": 5})
    assert c.window_seconds == 5.0
    for update in ({}, {"BatchSize": 10}, {"MaximumBatchingWindowInSeconds": 1}, {"Enabled": False}):
        c = c.updated(update)
        assert c.window_seconds != 0.5
    assert c.updated({}).window_seconds == 1.0  # omitted = unchanged


def test_create_only_fields_cannot_be_updated() -> None:
    c = EsmConfig.from_aws(params())
    for name, value in (("Topics", ["x"]), ("StartingPosition", "LATEST"), ("EventSourceArn", ARN)):
        with pytest.raises(InvalidParameterValueException, match="cannot be updated"):
            c.updated({name: value})


@pytest.mark.parametrize(
    "control",
    [
        {"BisectBatchOnFunctionError": True},
        {"MaximumRetryAttempts": 3},
        {"MaximumRecordAgeInSeconds": 60},
        {"FunctionResponseTypes": ["ReportBatchItemFailures"]},
        {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:dlq"}}},
    ],
)
def test_error_controls_need_provisioned_mode(control: dict[str, Any]) -> None:
    rejected(params(**control), "require ProvisionedPollerConfig")
    EsmConfig.from_aws(params(**control, **PROVISIONED))
    ignored = EsmConfig.from_aws(params(**control), knobs=EsmKnobs(on_demand_error_controls="ignore"))
    assert not ignored.bisect_on_error
    assert ignored.on_failure_destination is None


def test_retry_and_age_ranges() -> None:
    rejected(params(MaximumRetryAttempts=10_001, **PROVISIONED), "MaximumRetryAttempts")
    rejected(params(MaximumRetryAttempts=-2, **PROVISIONED), "MaximumRetryAttempts")
    rejected(params(MaximumRecordAgeInSeconds=59, **PROVISIONED), "MaximumRecordAgeInSeconds")
    rejected(params(MaximumRecordAgeInSeconds=604_801, **PROVISIONED), "MaximumRecordAgeInSeconds")
    EsmConfig.from_aws(
        params(MaximumRecordAgeInSeconds=30, **PROVISIONED), knobs=EsmKnobs(min_record_age_s=0)
    )


def test_minus_one_retries_with_destination_means_ten() -> None:
    c = EsmConfig.from_aws(
        params(DestinationConfig={"OnFailure": {"Destination": "kafka://failed"}}, **PROVISIONED)
    )
    assert c.effective_retry_attempts == 10


def test_kafka_destination_cannot_be_the_source_topic() -> None:
    rejected(
        params(DestinationConfig={"OnFailure": {"Destination": "kafka://orders"}}, **PROVISIONED),
        "must not be a source topic",
    )
    rejected(
        params(DestinationConfig={"OnFailure": {"Destination": "http://x"}}, **PROVISIONED), "must be an"
    )
    rejected(
        params(DestinationConfig={"OnSuccess": {"Destination": "kafka://x"}}, **PROVISIONED), "OnFailure"
    )


def test_topic_and_group_rules() -> None:
    rejected(params(Topics=["a", "b"]), "exactly one")
    rejected(params(Topics=[".hidden"]), "not valid")
    rejected(params(Topics=["x" * 250]), "not valid")
    rejected(params(AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": "bad group"}), "ConsumerGroupId")
    c = EsmConfig.from_aws(params(AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": "team-a/orders@1"}))
    assert c.consumer_group_id == "team-a/orders@1"


def test_duplicate_group_ids_rejected() -> None:
    registry = ConsumerGroupRegistry()
    registry.claim("g", "esm-1")
    registry.claim("g", "esm-1")
    with pytest.raises(InvalidParameterValueException, match="already used"):
        registry.claim("g", "esm-2")
    registry.release("esm-1")
    registry.claim("g", "esm-2")


def test_more_than_five_filters_rejected() -> None:
    filters = {"Filters": [{"Pattern": '{"value": ["a"]}'}] * 6}
    rejected(params(FilterCriteria=filters), "at most 5")


def test_schema_registry_needs_provisioned_mode() -> None:
    cfg = {
        "SchemaRegistryConfig": {"SchemaRegistryURI": "https://registry:8081", "EventRecordFormat": "SOURCE"}
    }
    rejected(params(AmazonManagedKafkaEventSourceConfig=cfg), "SchemaRegistryConfig requires")
    assert EsmConfig.from_aws(params(AmazonManagedKafkaEventSourceConfig=cfg, **PROVISIONED)).schema_registry


def test_poller_ranges_and_cap_at_partition_count() -> None:
    rejected(params(ProvisionedPollerConfig={"MinimumPollers": 0}), "MinimumPollers")
    rejected(params(ProvisionedPollerConfig={"MinimumPollers": 201}), "MinimumPollers")
    rejected(params(ProvisionedPollerConfig={"MaximumPollers": 2001}), "MaximumPollers")
    rejected(
        params(ProvisionedPollerConfig={"MinimumPollers": 5, "MaximumPollers": 4}), "greater than or equal"
    )
    c = EsmConfig.from_aws(params(ProvisionedPollerConfig={"MinimumPollers": 10, "MaximumPollers": 100}))
    model = PollerModel.for_config(c, EsmKnobs(), [0, 1, 2])
    assert (model.pollers, model.max_pollers, model.max_concurrency) == (3, 3, 3)
    on_demand = PollerModel.for_config(EsmConfig.from_aws(params()), EsmKnobs(), list(range(12)))
    assert (on_demand.pollers, on_demand.max_concurrency) == (1, 5)
    assert (
        EsmConfig.from_aws(params(**PROVISIONED)).updated({"ProvisionedPollerConfig": {}}).provisioned is None
    )


def test_timeout_cap_840_seconds() -> None:
    rejected(params(), "840", function_timeout_s=900)
    EsmConfig.from_aws(params(), function_timeout_s=840)
    EsmConfig.from_aws(params(), function_timeout_s=900, knobs=EsmKnobs(kafka_timeout_cap_mode="ignore"))


def test_unknown_parameters_and_knobs_rejected() -> None:
    rejected(params(Bogus=1), "Unsupported parameter")
    with pytest.raises(ValueError, match="unknown ESM knob"):
        EsmKnobs.from_mapping({"nope": 1})
    with pytest.raises(ValueError, match="must be one of"):
        EsmKnobs(null_key_mode="maybe")
