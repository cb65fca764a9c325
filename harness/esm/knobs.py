"""`EsmKnobs`: the emulator's choices where AWS is silent (spec Appendix A), with the spec's defaults.

Every knob here is read by exactly one module of `harness.esm`; the field comment names the spec section.
Knobs listed in Appendix A but not yet acted on are validated to their default only (see `_ONLY_DEFAULT`),
so a scenario asking for an unsupported value fails loudly instead of being silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

MAX_PAYLOAD_BYTES = 6_291_456


@dataclass(frozen=True)
class EsmKnobs:
    """Appendix A knobs for the Kafka ESM (§0.1 to §6, §7.7, §8), defaults as in the spec."""

    # §0.1 validation
    on_demand_error_controls: str = "reject"  # reject|ignore|honor
    min_record_age_s: int = 60
    allow_zero_window_on_demand: bool = False
    kafka_timeout_cap_mode: str = "reject"  # reject|clamp|ignore
    # §1 event format
    include_bootstrap_servers: bool = True
    extra_event_fields: tuple[tuple[str, str], ...] = ()
    allow_multi_topic: bool = False
    partition_iteration_order: str = "ascending"  # ascending|shuffled
    random_seed: int = 0
    strict_partition_order: bool = True
    no_timestamp_type_mode: str = "passthrough"  # passthrough|create_time
    unsigned_header_bytes: bool = False
    header_duplicates_mode: str = "preserve"  # preserve|last_wins
    null_header_value_mode: str = "empty_list"  # empty_list|null
    null_key_mode: str = "omit"  # omit|null
    null_value_mode: str = "omit"  # omit|null
    empty_key_mode: str = "empty_string"  # empty_string|omit
    empty_value_mode: str = "empty_string"  # empty_string|omit
    schema_registry_strip_prefix: bool = True
    schema_registry_json_encoding: str = "base64_json"  # base64_json|raw_json_object
    schema_validation_failure_mode: str = "auto"
    # §2 batching
    batch_size_scope: str = "event"  # event|partition
    partition_grouping: str = "poller"  # poller|single_partition
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    payload_size_accounting: str = "serialized_event"  # serialized_event|raw_record_bytes
    oversized_record_mode: str = "auto"  # auto|block|skip
    # §3 positions and commits
    at_timestamp_resolution: str = "offsets_for_times"
    startup_delay_ms: int = 0
    update_restart_delay_ms: int = 0
    default_consumer_group: str = "esm_uuid"
    commit_offset_convention: str = "next_offset"  # next_offset|last_processed
    duplicate_delivery_rate: float = 0.0
    disable_aborts_inflight: bool = False
    # §4 errors
    throttle_counts_as_retry: bool = False
    retention_ms: int | None = None
    retry_backoff_ms: int = 0
    exhausted_without_destination: str = "skip"  # skip|block
    record_age_basis: str = "record_timestamp"  # record_timestamp|ingest_time
    bisect_counts_as_retry: bool = False
    bisect_strategy: str = "flat_halves"  # flat_halves|per_partition
    partial_failure_counts_as_retry: bool = True
    bisect_on_partial_failure: bool = False
    partial_failure_mode: str = "from_lowest_failed"  # from_lowest_failed|only_listed
    malformed_response_mode: str = "fail_batch"  # fail_batch|success
    strict_item_identifier_types: bool = True
    retry_exhausted_condition: str = "as_documented"  # as_documented|literal
    record_age_condition: str = "RecordAgeExceeded"
    failure_record_function_arn: str = "as_documented"  # as_documented|qualified|unqualified
    failure_record_self_managed_arn: str = "omit"  # omit|null
    s3_failure_key_template: str = "aws/lambda/{esm_uuid}/{map_key}/{yyyy}/{mm}/{dd}/{timestamp}-{uuid}"
    kafka_destination_copy_headers: bool = False
    # §5 filtering
    max_filters: int = 5
    filterable_fields: tuple[str, ...] = ("value",)
    value_format_mismatch_mode: str = "ignore_value_criterion"  # ignore_value_criterion|drop
    json_value_detection: str = "object_or_array"  # object_or_array|any_json
    filter_on_deserialized_value: bool = True
    invoke_on_empty_batch: bool = False
    filter_apply_delay_s: int = 0
    # §6 scaling
    max_inflight_per_partition: int = 1
    invocations_per_poller: int = 5
    on_demand_initial_pollers: int = 1
    simulate_autoscaling: bool = False
    autoscale_eval_interval_s: int = 60
    autoscale_apply_delay_s: int = 180
    rebalance_on_scale: bool = False
    deterministic: bool = True
    # §7.7 / §8 responses
    parse_response_without_rbif: bool = False
    accept_legacy_item_identifier_shapes: bool = False

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"knob {name}={value!r} must be one of {sorted(map(str, allowed))}")
        defaults = EsmKnobs.__dataclass_fields__
        for name in _ONLY_DEFAULT:
            if getattr(self, name) != defaults[name].default:
                raise ValueError(f"knob {name} is not implemented yet; only its default is supported")
        if self.max_payload_bytes < 1024:
            raise ValueError("knob max_payload_bytes must be >= 1024")
        if self.max_filters < 1 or self.invocations_per_poller < 1 or self.on_demand_initial_pollers < 1:
            raise ValueError(
                "knobs max_filters, invocations_per_poller, on_demand_initial_pollers must be >= 1"
            )
        if self.retry_backoff_ms < 0 or self.startup_delay_ms < 0 or self.update_restart_delay_ms < 0:
            raise ValueError("delay knobs must be >= 0")
        if self.autoscale_eval_interval_s < 1 or self.autoscale_apply_delay_s < 0:
            raise ValueError("knob autoscale_eval_interval_s must be >= 1 and autoscale_apply_delay_s >= 0")

    @classmethod
    def from_mapping(cls, values: dict[str, object]) -> EsmKnobs:
        """Build from a plain mapping (a scenario file's `esm.knobs`); unknown names are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown ESM knob(s): {', '.join(unknown)}")
        coerced = dict(values)
        extra = coerced.get("extra_event_fields")
        if isinstance(extra, dict):
            coerced["extra_event_fields"] = tuple(sorted((str(k), str(v)) for k, v in extra.items()))
        if "filterable_fields" in coerced and isinstance(coerced["filterable_fields"], list):
            coerced["filterable_fields"] = tuple(str(v) for v in coerced["filterable_fields"])
        return cls(**coerced)  # type: ignore[arg-type]


_CHOICES: dict[str, frozenset[object]] = {
    "on_demand_error_controls": frozenset({"reject", "ignore", "honor"}),
    "kafka_timeout_cap_mode": frozenset({"reject", "clamp", "ignore"}),
    "partition_iteration_order": frozenset({"ascending", "shuffled"}),
    "no_timestamp_type_mode": frozenset({"passthrough", "create_time"}),
    "header_duplicates_mode": frozenset({"preserve", "last_wins"}),
    "null_header_value_mode": frozenset({"empty_list", "null"}),
    "null_key_mode": frozenset({"omit", "null"}),
    "null_value_mode": frozenset({"omit", "null"}),
    "empty_key_mode": frozenset({"empty_string", "omit"}),
    "empty_value_mode": frozenset({"empty_string", "omit"}),
    "schema_registry_json_encoding": frozenset({"base64_json", "raw_json_object"}),
    "batch_size_scope": frozenset({"event", "partition"}),
    "partition_grouping": frozenset({"poller", "single_partition"}),
    "payload_size_accounting": frozenset({"serialized_event", "raw_record_bytes"}),
    "oversized_record_mode": frozenset({"auto", "block", "skip"}),
    "commit_offset_convention": frozenset({"next_offset", "last_processed"}),
    "exhausted_without_destination": frozenset({"skip", "block"}),
    "record_age_basis": frozenset({"record_timestamp", "ingest_time"}),
    "bisect_strategy": frozenset({"flat_halves", "per_partition"}),
    "partial_failure_mode": frozenset({"from_lowest_failed", "only_listed"}),
    "malformed_response_mode": frozenset({"fail_batch", "success"}),
    "retry_exhausted_condition": frozenset({"as_documented", "literal"}),
    "failure_record_function_arn": frozenset({"as_documented", "qualified", "unqualified"}),
    "failure_record_self_managed_arn": frozenset({"omit", "null"}),
    "value_format_mismatch_mode": frozenset({"ignore_value_criterion", "drop"}),
    "json_value_detection": frozenset({"object_or_array", "any_json"}),
}

# Appendix A knobs whose non-default behaviour is not implemented yet (reported in the conformance doc).
_ONLY_DEFAULT = (
    "schema_validation_failure_mode",
    "at_timestamp_resolution",
    "default_consumer_group",
    "duplicate_delivery_rate",
    "disable_aborts_inflight",
    "throttle_counts_as_retry",
    "retention_ms",
    "record_age_basis",
    "bisect_strategy",
    "partial_failure_mode",
    "filter_on_deserialized_value",
    "filter_apply_delay_s",
    "max_inflight_per_partition",
    "deterministic",
    "accept_legacy_item_identifier_shapes",
    "payload_size_accounting",
    "kafka_destination_copy_headers",
    "update_restart_delay_ms",
    "schema_registry_json_encoding",
    "bisect_counts_as_retry",
    "bisect_on_partial_failure",
)
