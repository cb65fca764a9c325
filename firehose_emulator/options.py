"""The emulator's knobs (spec Appendix A) that concern the API: one frozen dataclass, built once at the edge.

Delivery knobs live in `delivery.DeliveryOptions` and are carried here as `delivery`.

Known deviations from AWS:

* `verify_signatures=True` is refused (not implemented); `lambda_invoker`, `msk_mode` and the DP knobs
  belong to the later dynamic-partitioning/Lambda/MSK issue and are not here yet.
* New streams are CREATING for `create_delay_seconds` = 2 clock seconds (AWS: usually tens of seconds);
  callers poll DescribeDeliveryStream until ACTIVE, and 0 makes streams ACTIVE at once.

Example::

    options = ServiceOptions(create_delay_seconds=0, enforce_throughput_quota=True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from firehose_emulator.delivery import DeliveryOptions
from firehose_emulator.faults import ThroughputQuota

DEFAULT_RECORDS_LIMIT_MESSAGE = (
    "1 validation error detected: Value '[…]' at 'records' failed to satisfy constraint: "
    "Member must have length less than or equal to 500"
)


@dataclass(frozen=True)
class ServiceOptions:
    """API-side knobs; every default is the spec's."""

    account_id: str = "123456789012"
    default_region: str = "us-east-1"
    verify_signatures: bool = False
    create_delay_seconds: float = 2.0  # clock seconds in CREATING before ACTIVE (AWS: asynchronous create)
    delete_delay_seconds: float = 0.0
    duplicate_name_message: str = "Firehose {name} under account {account} already exists."
    resource_in_use_message: str = (
        "Firehose {name} under account {account} is not in a state that allows this operation."
    )
    not_found_message: str = "Firehose {name} under account {account} not found."
    concurrent_modification_message: str = (
        "Another modification has already happened. "
        "Fetch VersionId again and use it to update the destination."
    )
    unknown_destination_id_error_code: str = "InvalidArgumentException"
    non_direct_put_error_code: str = "InvalidArgumentException"
    batch_size_error_code: str = "InvalidArgumentException"
    lifecycle_change_error_code: str = "InvalidArgumentException"
    records_limit_message: str = DEFAULT_RECORDS_LIMIT_MESSAGE
    validation_position_base: int = 1
    put_record_data_path: str = "record.data"
    control_plane_rate_limit: float | None = None
    enforce_throughput_quota: bool = False
    throughput_quota: ThroughputQuota | None = None
    max_streams_per_region: int = 5000
    min_nonzero_buffer_interval_seconds: int = 1
    unknown_time_zone: str = "reject"
    dp_require_key_count_match: bool = False
    describe_unset_prefix_as_empty: bool = True
    describe_include_direct_put_source: bool = False
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)

    def __post_init__(self) -> None:
        if self.verify_signatures:
            raise ValueError(
                "verify_signatures=True is not supported yet: the emulator reads only the SigV4 scope"
            )
        if self.validation_position_base not in (0, 1):
            raise ValueError("validation_position_base must be 0 or 1")
        if self.unknown_time_zone not in ("reject", "utc"):
            raise ValueError("unknown_time_zone must be 'reject' or 'utc'")
        if self.create_delay_seconds < 0 or self.delete_delay_seconds < 0:
            raise ValueError("create/delete delays cannot be negative")
        if self.max_streams_per_region < 1:
            raise ValueError("max_streams_per_region must be >= 1")
