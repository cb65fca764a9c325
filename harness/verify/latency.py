"""End-to-end latency: produce time -> the time the archive object holding the record was delivered.

The delivery time is the Firehose delivery log's `delivered_at` for the object when the log is given (the
emulator's clock, exact), else the object's S3 LastModified (whole seconds on most S3 servers, so latencies
below a second are coarse). A record archived several times counts once, at its first delivery. Produce time
is the load generator's clock time of the send, so both ends use the run's clock; at a clock speed above 1
the figures are clock seconds, not wall seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Scenario names for latency expectations -> quantile.
QUANTILES: dict[str, float] = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p999": 0.999, "max": 1.0}


def percentile(values: Sequence[float], quantile: float) -> float | None:
    """Nearest-rank percentile of `values` (`quantile` in 0..1; 1 is the maximum), None when empty."""
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must be in 0..1, got {quantile}")
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(quantile * len(ordered)))
    return ordered[rank - 1]


def quantile_for(name: str) -> float:
    """The quantile for a scenario latency name ("p50", "p99", "max"; any "pNN" works)."""
    if name in QUANTILES:
        return QUANTILES[name]
    if name.startswith("p") and name[1:].replace(".", "", 1).isdigit():
        value = float(name[1:])
        if 0 < value < 100:
            return value / 100.0
    raise ValueError(f"unknown latency percentile {name!r}; use p50, p90, p99, max or pNN")
