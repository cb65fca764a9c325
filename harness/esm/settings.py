"""ESM configuration: the frozen `EsmConfig`, built from AWS-cased parameters at the edge, validated (§0.1).

Known deviations from AWS:
- Messages of `InvalidParameterValueException` are ours in AWS's style; AWS's exact wording is unknown.
- `Topics` must match ``[a-zA-Z0-9_-][a-zA-Z0-9_.-]*`` (AWS's pattern ``^[^.]([a-zA-Z0-9\\-_.]+)`` is
  anchored only at the start; we read it as "no leading dot, then the legal Kafka topic characters").
- Duplicate `ConsumerGroupId` detection is per `ConsumerGroupRegistry` instance (one emulated account).

Example::

    config = EsmConfig.from_aws({"FunctionName": "archiver", "Topics": ["orders"],
                                 "StartingPosition": "TRIM_HORIZON",
                                 "EventSourceArn": MSK_CLUSTER_ARN})
    config.window_seconds   # 0.5
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.esm.errors import InvalidParameterValueException
from harness.esm.knobs import EsmKnobs

KAFKA_TIMEOUT_CAP_S = 840
DEFAULT_WINDOW_S = 0.5
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
_TOPIC = re.compile(r"[a-zA-Z0-9_\-][a-zA-Z0-9_.\-]*")
_GROUP = re.compile(r"[a-zA-Z0-9\-/*:_+=.@]*")
_MSK_ARN = re.compile(r"arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster/[^/]+/[^/]+")
_HOST_PORT = re.compile(r"[^\s:,]+:\d{1,5}")
_DEST_ARN = re.compile(r"arn:aws[a-z-]*:(sqs|sns|s3):[^\s]*")
_CREATE_ONLY = (
    "EventSourceArn",
    "Topics",
    "StartingPosition",
    "StartingPositionTimestamp",
    "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
)
_KNOWN = frozenset(
    {
        "FunctionName",
        "EventSourceArn",
        "SelfManagedEventSource",
        "Topics",
        "StartingPosition",
        "StartingPositionTimestamp",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "Enabled",
        "FilterCriteria",
        "KMSKeyArn",
        "AmazonManagedKafkaEventSourceConfig",
        "SelfManagedKafkaEventSourceConfig",
        "ProvisionedPollerConfig",
        "MaximumRetryAttempts",
        "MaximumRecordAgeInSeconds",
        "BisectBatchOnFunctionError",
        "FunctionResponseTypes",
        "DestinationConfig",
    }
)


def _invalid(message: str) -> InvalidParameterValueException:
    return InvalidParameterValueException(message)


@dataclass(frozen=True)
class ProvisionedPollers:
    """`ProvisionedPollerConfig`: the poller range of a provisioned-mode ESM (§6)."""

    minimum_pollers: int = 1
    maximum_pollers: int = 200
    poller_group_name: str | None = None


@dataclass(frozen=True)
class SchemaRegistry:
    """`KafkaEventSourceConfig.SchemaRegistryConfig` (§1.6)."""

    uri: str
    event_record_format: str  # JSON | SOURCE
    access_config_count: int = 0
    validate_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EsmConfig:
    """A validated Kafka ESM configuration in snake_case (AWS names live only in `from_aws`/`updated`)."""

    function_name: str
    topic: str
    starting_position: str
    event_source_arn: str | None = None  # MSK; None for self-managed
    bootstrap_servers: tuple[str, ...] = ()  # self-managed endpoints (MSK: filled from the cluster)
    starting_position_timestamp: float | None = None
    batch_size: int = 100
    batching_window_s: int | None = None  # None = never set = 500 ms
    enabled: bool = True
    filter_patterns: tuple[str, ...] = ()
    kms_key_arn: str | None = None
    consumer_group_id: str | None = None
    schema_registry: SchemaRegistry | None = None
    provisioned: ProvisionedPollers | None = None
    maximum_retry_attempts: int = -1
    maximum_record_age_s: int = -1
    bisect_on_error: bool = False
    report_batch_item_failures: bool = False
    on_failure_destination: str | None = None

    @property
    def is_msk(self) -> bool:
        """True for an MSK ESM (`aws:kafka`), False for self-managed Kafka."""
        return self.event_source_arn is not None

    @property
    def provisioned_mode(self) -> bool:
        """True when `ProvisionedPollerConfig` is set (error controls, window 0 and registries allowed)."""
        return self.provisioned is not None

    @property
    def window_seconds(self) -> float:
        """The batching window in seconds: 0.5 until a window was ever set."""
        return DEFAULT_WINDOW_S if self.batching_window_s is None else float(self.batching_window_s)

    @property
    def effective_retry_attempts(self) -> int:
        """Retries the batch gets: -1 plus a destination means 10 (§4.3); -1 alone means unbounded."""
        if self.maximum_retry_attempts == -1 and self.on_failure_destination is not None:
            return 10
        return self.maximum_retry_attempts

    @staticmethod
    def from_aws(
        params: Mapping[str, Any], *, knobs: EsmKnobs | None = None, function_timeout_s: int | None = None
    ) -> EsmConfig:
        """Validate CreateEventSourceMapping parameters (AWS casing) and build the config."""
        knobs = knobs or EsmKnobs()
        _reject_unknown(params)
        function_name = params.get("FunctionName")
        if not isinstance(function_name, str) or not function_name:
            raise _invalid("FunctionName is required.")
        arn, servers = _source(params)
        config = EsmConfig(
            function_name=function_name,
            topic=_topic(params.get("Topics")),
            starting_position=_starting_position(params),
            event_source_arn=arn,
            bootstrap_servers=servers,
            starting_position_timestamp=_timestamp(params),
            consumer_group_id=_group_id(params),
            schema_registry=_schema_registry(params),
        )
        config = _apply_mutable(config, params)
        return config.validated(knobs, function_timeout_s=function_timeout_s)

    def updated(
        self,
        params: Mapping[str, Any],
        *,
        knobs: EsmKnobs | None = None,
        function_timeout_s: int | None = None,
    ) -> EsmConfig:
        """UpdateEventSourceMapping: omitted fields stay; create-only fields are rejected (§0.1, §2.3)."""
        knobs = knobs or EsmKnobs()
        _reject_unknown(params)
        for name in _CREATE_ONLY:
            if name in params:
                raise _invalid(f"{name} cannot be updated; create a new event source mapping.")
        if "FunctionName" in params and params["FunctionName"] != self.function_name:
            raise _invalid("FunctionName cannot be changed by this emulator; create a new mapping.")
        return _apply_mutable(self, params).validated(knobs, function_timeout_s=function_timeout_s)

    def validated(self, knobs: EsmKnobs, *, function_timeout_s: int | None = None) -> EsmConfig:
        """Cross-field rules of §0.1 that depend on the mode and knobs."""
        if not 1 <= self.batch_size <= 10_000:
            raise _invalid(f"BatchSize must be between 1 and 10000 for Kafka, got {self.batch_size}.")
        window = self.batching_window_s
        if window is not None and not 0 <= window <= 300:
            raise _invalid(f"MaximumBatchingWindowInSeconds must be between 0 and 300, got {window}.")
        if window == 0 and not self.provisioned_mode and not knobs.allow_zero_window_on_demand:
            raise _invalid(
                "MaximumBatchingWindowInSeconds 0 requires ProvisionedPollerConfig (provisioned mode)."
            )
        if len(self.filter_patterns) > knobs.max_filters:
            raise _invalid(
                f"FilterCriteria allows at most {knobs.max_filters} filters, got {len(self.filter_patterns)}."
            )
        if self.schema_registry is not None and not self.provisioned_mode:
            raise _invalid("SchemaRegistryConfig requires ProvisionedPollerConfig (provisioned mode).")
        config = self._validated_error_controls(knobs)
        _validate_destination(config)
        _validate_pollers(config.provisioned)
        return _validate_timeout(config, knobs, function_timeout_s)

    def _validated_error_controls(self, knobs: EsmKnobs) -> EsmConfig:
        if not -1 <= self.maximum_retry_attempts <= 10_000:
            raise _invalid(
                f"MaximumRetryAttempts must be -1 or between 0 and 10000, got {self.maximum_retry_attempts}."
            )
        age = self.maximum_record_age_s
        if age != -1 and not knobs.min_record_age_s <= age <= 604_800:
            raise _invalid(
                f"MaximumRecordAgeInSeconds must be -1 or between {knobs.min_record_age_s} and "
                f"604800, got {age}."
            )
        used = [
            name
            for name, on in (
                ("MaximumRetryAttempts", self.maximum_retry_attempts != -1),
                ("MaximumRecordAgeInSeconds", age != -1),
                ("BisectBatchOnFunctionError", self.bisect_on_error),
                ("FunctionResponseTypes", self.report_batch_item_failures),
                ("DestinationConfig", self.on_failure_destination is not None),
            )
            if on
        ]
        if not used or self.provisioned_mode or knobs.on_demand_error_controls == "honor":
            return self
        if knobs.on_demand_error_controls == "reject":
            raise _invalid(
                f"{', '.join(used)} require ProvisionedPollerConfig (provisioned mode) for Kafka "
                "event source mappings."
            )
        return replace(
            self,
            maximum_retry_attempts=-1,
            maximum_record_age_s=-1,
            bisect_on_error=False,
            report_batch_item_failures=False,
            on_failure_destination=None,
        )


class ConsumerGroupRegistry:
    """Custom consumer group ids in use in one emulated account; a second claim is rejected (§3.2)."""

    def __init__(self) -> None:
        self._claimed: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, group_id: str, esm_uuid: str) -> None:
        """Reserve `group_id` for `esm_uuid` or raise InvalidParameterValueException if another ESM has it."""
        with self._lock:
            owner = self._claimed.setdefault(group_id, esm_uuid)
        if owner != esm_uuid:
            raise _invalid(f"ConsumerGroupId {group_id} is already used by event source mapping {owner}.")

    def release(self, esm_uuid: str) -> None:
        """Free every group id held by `esm_uuid` (on delete)."""
        with self._lock:
            for group, owner in list(self._claimed.items()):
                if owner == esm_uuid:
                    del self._claimed[group]


def _reject_unknown(params: Mapping[str, Any]) -> None:
    unknown = sorted(set(params) - _KNOWN)
    if unknown:
        raise _invalid(f"Unsupported parameter(s) for a Kafka event source mapping: {', '.join(unknown)}.")


def _source(params: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    arn = params.get("EventSourceArn")
    self_managed = params.get("SelfManagedEventSource")
    if (arn is None) == (self_managed is None):
        raise _invalid("Exactly one of EventSourceArn (MSK) or SelfManagedEventSource must be given.")
    if arn is not None:
        if not isinstance(arn, str) or not _MSK_ARN.fullmatch(arn):
            raise _invalid(f"EventSourceArn {arn!r} is not an MSK cluster ARN.")
        return arn, ()
    endpoints = self_managed.get("Endpoints", {}) if isinstance(self_managed, Mapping) else {}
    servers = endpoints.get("KAFKA_BOOTSTRAP_SERVERS") if isinstance(endpoints, Mapping) else None
    if (
        not isinstance(servers, list)
        or not servers
        or not all(isinstance(s, str) and _HOST_PORT.fullmatch(s) for s in servers)
    ):
        raise _invalid(
            "SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS must be a list of host:port."
        )
    return None, tuple(servers)


def _topic(topics: object) -> str:
    if not isinstance(topics, list) or len(topics) != 1:
        raise _invalid("Topics must contain exactly one topic.")
    topic = topics[0]
    if not isinstance(topic, str) or not 1 <= len(topic) <= 249 or not _TOPIC.fullmatch(topic):
        raise _invalid(
            f"Topic name {topic!r} is not valid (1-249 characters of [a-zA-Z0-9._-], no leading dot)."
        )
    return topic


def _starting_position(params: Mapping[str, Any]) -> str:
    position = params.get("StartingPosition")
    if position is None:
        raise _invalid("StartingPosition is required for Kafka event source mappings.")
    if position not in STARTING_POSITIONS:
        raise _invalid(f"StartingPosition must be one of {', '.join(STARTING_POSITIONS)}, got {position!r}.")
    return str(position)


def _timestamp(params: Mapping[str, Any]) -> float | None:
    stamp = params.get("StartingPositionTimestamp")
    if params.get("StartingPosition") == "AT_TIMESTAMP":
        if isinstance(stamp, bool) or not isinstance(stamp, int | float) or stamp < 0:
            raise _invalid("StartingPositionTimestamp (Unix seconds) is required with AT_TIMESTAMP.")
        return float(stamp)
    if stamp is not None:
        raise _invalid("StartingPositionTimestamp is only allowed with StartingPosition AT_TIMESTAMP.")
    return None


def _kafka_source_config(params: Mapping[str, Any]) -> Mapping[str, Any]:
    key = (
        "AmazonManagedKafkaEventSourceConfig"
        if "EventSourceArn" in params
        else "SelfManagedKafkaEventSourceConfig"
    )
    value = params.get(key, {})
    if not isinstance(value, Mapping):
        raise _invalid(f"{key} must be an object.")
    return value


def _group_id(params: Mapping[str, Any]) -> str | None:
    group = _kafka_source_config(params).get("ConsumerGroupId")
    if group is None:
        return None
    if not isinstance(group, str) or not 1 <= len(group) <= 200 or not _GROUP.fullmatch(group):
        raise _invalid(f"ConsumerGroupId {group!r} must be 1-200 characters of [a-zA-Z0-9-/*:_+=.@].")
    return group


def _schema_registry(params: Mapping[str, Any]) -> SchemaRegistry | None:
    raw = _kafka_source_config(params).get("SchemaRegistryConfig")
    if raw is None:
        return None
    uri, fmt = raw.get("SchemaRegistryURI"), raw.get("EventRecordFormat")
    if not isinstance(uri, str) or not uri:
        raise _invalid("SchemaRegistryConfig.SchemaRegistryURI is required.")
    if fmt not in ("JSON", "SOURCE"):
        raise _invalid("SchemaRegistryConfig.EventRecordFormat must be JSON or SOURCE.")
    access = raw.get("AccessConfigs", [])
    if not isinstance(access, list) or len(access) > 2:
        raise _invalid("SchemaRegistryConfig.AccessConfigs allows at most 2 entries.")
    attributes = tuple(str(v.get("Attribute")) for v in raw.get("SchemaValidationConfigs", []))
    if any(a not in ("KEY", "VALUE") for a in attributes):
        raise _invalid("SchemaValidationConfigs Attribute must be KEY or VALUE.")
    return SchemaRegistry(
        uri=uri, event_record_format=fmt, access_config_count=len(access), validate_attributes=attributes
    )


def _int(params: Mapping[str, Any], name: str, current: int) -> int:
    value = params.get(name, current)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{name} must be an integer, got {value!r}.")
    return value


def _bool(params: Mapping[str, Any], name: str, current: bool) -> bool:
    value = params.get(name, current)
    if not isinstance(value, bool):
        raise _invalid(f"{name} must be a boolean, got {value!r}.")
    return value


def _apply_mutable(config: EsmConfig, params: Mapping[str, Any]) -> EsmConfig:
    window = config.batching_window_s
    if "MaximumBatchingWindowInSeconds" in params:
        window = _int(params, "MaximumBatchingWindowInSeconds", 0)  # once set, 500 ms is gone for good
    filters = config.filter_patterns
    if "FilterCriteria" in params:
        filters = _filters(params["FilterCriteria"])
    provisioned = config.provisioned
    if "ProvisionedPollerConfig" in params:
        provisioned = _pollers(params["ProvisionedPollerConfig"])
    responses = params.get(
        "FunctionResponseTypes", ["ReportBatchItemFailures"] if config.report_batch_item_failures else []
    )
    if not isinstance(responses, list) or any(r != "ReportBatchItemFailures" for r in responses):
        raise _invalid('FunctionResponseTypes must be [] or ["ReportBatchItemFailures"].')
    destination = config.on_failure_destination
    if "DestinationConfig" in params:
        destination = _destination(params["DestinationConfig"])
    kms = params.get("KMSKeyArn", config.kms_key_arn)
    return replace(
        config,
        batch_size=_int(params, "BatchSize", config.batch_size),
        batching_window_s=window,
        enabled=_bool(params, "Enabled", config.enabled),
        filter_patterns=filters,
        kms_key_arn=kms if kms else None,
        provisioned=provisioned,
        maximum_retry_attempts=_int(params, "MaximumRetryAttempts", config.maximum_retry_attempts),
        maximum_record_age_s=_int(params, "MaximumRecordAgeInSeconds", config.maximum_record_age_s),
        bisect_on_error=_bool(params, "BisectBatchOnFunctionError", config.bisect_on_error),
        report_batch_item_failures=bool(responses),
        on_failure_destination=destination,
    )


def _filters(raw: object) -> tuple[str, ...]:
    filters = raw.get("Filters", []) if isinstance(raw, Mapping) else None
    if not isinstance(filters, list) or not all(
        isinstance(f, Mapping) and isinstance(f.get("Pattern"), str) for f in filters
    ):
        raise _invalid('FilterCriteria must be {"Filters": [{"Pattern": "<json>"}, ...]}.')
    return tuple(str(f["Pattern"]) for f in filters)


def _pollers(raw: object) -> ProvisionedPollers | None:
    if not isinstance(raw, Mapping):
        raise _invalid("ProvisionedPollerConfig must be an object.")
    if not raw:
        return None  # '{}' returns the ESM to on-demand mode
    minimum = _int(raw, "MinimumPollers", 1)
    maximum = _int(raw, "MaximumPollers", 200)
    group = raw.get("PollerGroupName")
    return ProvisionedPollers(minimum, maximum, str(group) if group is not None else None)


def _validate_pollers(pollers: ProvisionedPollers | None) -> None:
    if pollers is None:
        return
    if not 1 <= pollers.minimum_pollers <= 200:
        raise _invalid(f"MinimumPollers must be between 1 and 200, got {pollers.minimum_pollers}.")
    if not 1 <= pollers.maximum_pollers <= 2000:
        raise _invalid(f"MaximumPollers must be between 1 and 2000, got {pollers.maximum_pollers}.")
    if pollers.maximum_pollers < pollers.minimum_pollers:
        raise _invalid("MaximumPollers must be greater than or equal to MinimumPollers.")


def _destination(raw: object) -> str | None:
    if not isinstance(raw, Mapping):
        raise _invalid("DestinationConfig must be an object.")
    if set(raw) - {"OnFailure"}:
        raise _invalid("Event source mappings only support the OnFailure destination condition.")
    on_failure = raw.get("OnFailure") or {}
    destination = on_failure.get("Destination") if isinstance(on_failure, Mapping) else None
    if destination in (None, ""):
        return None
    if not isinstance(destination, str):
        raise _invalid("DestinationConfig.OnFailure.Destination must be a string.")
    return destination


def _validate_destination(config: EsmConfig) -> None:
    destination = config.on_failure_destination
    if destination is None:
        return
    if destination.startswith("kafka://"):
        topic = destination.removeprefix("kafka://")
        if not topic or not _TOPIC.fullmatch(topic):
            raise _invalid(f"Kafka on-failure destination {destination!r} must be kafka://<topic>.")
        if topic == config.topic:
            raise _invalid(
                "The Kafka on-failure destination topic must not be a source topic of the mapping."
            )
        return
    if not _DEST_ARN.fullmatch(destination):
        raise _invalid(f"Destination {destination!r} must be an SQS, SNS or S3 ARN or kafka://<topic>.")


def _validate_timeout(config: EsmConfig, knobs: EsmKnobs, function_timeout_s: int | None) -> EsmConfig:
    if function_timeout_s is None or function_timeout_s <= KAFKA_TIMEOUT_CAP_S:
        return config
    if knobs.kafka_timeout_cap_mode == "reject":
        raise _invalid(
            f"Kafka event source mappings support function timeouts up to {KAFKA_TIMEOUT_CAP_S} "
            f"seconds (14 minutes); the function timeout is {function_timeout_s} seconds."
        )
    return config


def effective_function_timeout(timeout_s: int, knobs: EsmKnobs) -> int:
    """The timeout the ESM applies to a function: clamped to 840 s under `kafka_timeout_cap_mode=clamp`."""
    if knobs.kafka_timeout_cap_mode == "clamp":
        return min(timeout_s, KAFKA_TIMEOUT_CAP_S)
    return timeout_s
