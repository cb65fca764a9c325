"""A local Amazon Data Firehose (Direct PUT -> S3) emulator that speaks the real JSON 1.1 API.

Build one with `build_service` and serve it with `server.FirehoseServer`, or run
``python -m firehose_emulator --port 0 --s3-endpoint-url URL``. In tests, use
`harness.backends.firehose.FirehoseBackend`.

Modules: protocol (the wire), errors, models/models_wire/models_describe (domain and its wire mapping),
validation/validation_rules (spec §3), service + stream (domain), faults, options (knobs), server + admin
(HTTP);
buffering, keys, compression, delivery, object_store, metrics (delivery side).
"""

from __future__ import annotations

import os
import random

from firehose_emulator.clock import Clock, RealClock
from firehose_emulator.object_store import S3ObjectStore
from firehose_emulator.options import ServiceOptions
from firehose_emulator.service import FirehoseService

__all__ = ["FirehoseService", "ServiceOptions", "build_service"]


def build_service(
    s3_endpoint_url: str | None,
    *,
    region: str = "us-east-1",
    clock: Clock | None = None,
    rng_seed: int | None = None,
    options: ServiceOptions | None = None,
    s3_credentials: tuple[str, str] | None = None,
) -> FirehoseService:
    """A FirehoseService writing to S3 at `s3_endpoint_url` (not started); credentials default to boto3's.

    Without `rng_seed` object name suffixes and record ids are seeded from the OS: unique per process, as on
    AWS.
    """
    options = options or ServiceOptions(default_region=region)
    key_id, secret = s3_credentials or (None, None)
    store = S3ObjectStore(s3_endpoint_url, region, access_key_id=key_id, secret_access_key=secret)
    return FirehoseService(store, clock=clock or RealClock(), rng=_rng(rng_seed), options=options)


def _rng(seed: int | None) -> random.Random:
    return random.Random(int.from_bytes(os.urandom(16)) if seed is None else seed)
