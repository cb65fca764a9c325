"""Load generation: rate profiles (pure), seeded payloads, and a producer process that writes them to Kafka.

* `RateProfile` (profile.py) — records/s as a piecewise-linear function of clock seconds.
* `PayloadGenerator` (payload.py) — keys, values and headers drawn from one seeded `random.Random`.
* `LoadGenerator` (generator.py) — produces the payloads with librdkafka from its own process
  (producer_process.py) at the profile's rate on an injected `Clock` (rates are per clock second: a clock
  running 10x fast sends 10x the real rate), hands every acknowledged record to a ledger callback, and
  reports the rate it achieved per second beside the one asked (rate.py: the `rate_held` check).

Example::

    profile = RateProfile.constant(1000)
    payloads = PayloadGenerator(PayloadSpec(), random.Random(7))
    with LoadGenerator(servers, "orders", profile, payloads, clock, ledger=records.append) as gen:
        summary = gen.run(duration=5.0)
"""

from harness.load.generator import LoadGenerator
from harness.load.payload import (
    Header,
    Payload,
    PayloadGenerator,
    PayloadSpec,
    SizeDistribution,
    json_document,
    value_sha256,
)
from harness.load.profile import RateProfile, Segment
from harness.load.rate import RateSecond, RateShortfall, rate_series, rate_shortfall
from harness.load.records import LoadProgress, LoadSummary, ProducedRecord

__all__ = [
    "Header",
    "LoadGenerator",
    "LoadProgress",
    "LoadSummary",
    "Payload",
    "PayloadGenerator",
    "PayloadSpec",
    "ProducedRecord",
    "RateProfile",
    "RateSecond",
    "RateShortfall",
    "Segment",
    "SizeDistribution",
    "json_document",
    "rate_series",
    "rate_shortfall",
    "value_sha256",
]
