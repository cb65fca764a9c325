"""One delivery stream's state inside the service: spec, destination versions, lifecycle, delivery, metrics,
faults.

Lifecycle (spec §2.8) is derived from the injected clock on every read, so `create_delay_seconds` and
`delete_delay_seconds` pass with a FakeClock as they do with real time.

Known deviations from AWS:

* `*_FAILED` states exist only when forced through the `set_state` test hook.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from firehose_emulator.delivery import DestinationSettings, StreamDelivery
from firehose_emulator.faults import StreamFaults, ThroughputWindow
from firehose_emulator.metrics import StreamMetrics
from firehose_emulator.models import Encryption, S3Destination, StreamSpec

CREATING = "CREATING"
ACTIVE = "ACTIVE"
DELETING = "DELETING"
CREATING_FAILED = "CREATING_FAILED"
DELETING_FAILED = "DELETING_FAILED"
STATES = (CREATING, ACTIVE, DELETING, CREATING_FAILED, DELETING_FAILED)


@dataclass
class StreamRecord:
    """The mutable state of one stream (guarded by `lock`)."""

    spec: StreamSpec
    region: str
    arn: str
    destination: S3Destination | None
    created_at: datetime
    created_monotonic: float
    ready_monotonic: float
    delivery: StreamDelivery | None
    metrics: StreamMetrics = field(default_factory=StreamMetrics)
    faults: StreamFaults = field(default_factory=StreamFaults)
    window: ThroughputWindow = field(default_factory=ThroughputWindow)
    version: int = 1
    encryption: Encryption = field(default_factory=Encryption)
    tags: dict[str, str] = field(default_factory=dict)
    last_update: datetime | None = None
    forced_state: str | None = None
    failure: tuple[str, str] | None = None
    deleting_until: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        """The stream name."""
        return self.spec.name

    def status(self, now_monotonic: float) -> str:
        """The lifecycle state at `now_monotonic` of the service clock."""
        if self.deleting_until is not None:
            return DELETING
        if self.forced_state is not None:
            return self.forced_state
        return CREATING if now_monotonic < self.ready_monotonic else ACTIVE

    def gone(self, now_monotonic: float) -> bool:
        """True once a delete has finished."""
        return self.deleting_until is not None and now_monotonic >= self.deleting_until

    @property
    def dynamic_partitioning(self) -> bool:
        """DP is on (delivery not yet supported)."""
        return self.destination is not None and self.destination.dynamic_partitioning_enabled

    @property
    def lambda_processing(self) -> bool:
        """An enabled Lambda processor is configured (delivery not yet supported)."""
        dest = self.destination
        return dest is not None and dest.processing is not None and dest.processing.active("Lambda")


def delivery_settings(name: str, version: int, dest: S3Destination) -> DestinationSettings:
    """What delivery needs from a destination version (the contract's `DestinationSettings`)."""
    processing = dest.processing
    return DestinationSettings(
        stream_name=name,
        version_id=version,
        bucket=dest.bucket,
        prefix=dest.prefix or "",
        error_output_prefix=dest.error_output_prefix or "",
        compression=dest.compression,
        file_extension=dest.file_extension,
        custom_time_zone=dest.custom_time_zone or "",
        buffer_size_bytes=dest.buffering.size_in_mbs * 1_048_576,
        buffer_interval_seconds=dest.buffering.interval_in_seconds,
        append_delimiter=processing is not None and processing.active("AppendDelimiterToRecord"),
        kms_key_arn=dest.kms_key_arn,
    )
