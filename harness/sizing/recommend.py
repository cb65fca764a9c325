"""Freshness targets (`--freshness p99<=120s`) and the choice of the cheapest variant that meets one.

Freshness is the end-to-end latency (produce -> the archive object's delivery) in scenario-clock seconds, the
time AWS would see. A variant is eligible when its run passed every expectation and it has a latency and a
cost; the recommendation is the cheapest eligible variant whose percentile is within the target (ties: the
fresher, then the first listed). When none meets it, the freshest eligible variant is named as the closest.

Example::

    target = parse_target("p99<=120s")
    recommend([Candidate("buffer_mb=1", True, 95.0, 12.5), ...], target).chosen
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.verify.latency import quantile_for

_TARGET = re.compile(r"^\s*(p\d+(?:\.\d+)?|max)\s*<=\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class FreshnessTarget:
    """A latency percentile and its bound in clock seconds."""

    percentile: str  # "p99", "p50", "max", ...
    quantile: float  # 0..1
    seconds: float

    def describe(self) -> str:
        """`p99 <= 120 s`."""
        return f"{self.percentile} <= {self.seconds:g} s"


def parse_target(text: str) -> FreshnessTarget:
    """`p99<=120s`, `p50<=90`, `max<=15m`, `p99.9<=500ms` (no unit = seconds); ValueError otherwise."""
    match = _TARGET.match(text)
    if match is None:
        raise ValueError(
            f"--freshness {text!r}: expected PERCENTILE<=SECONDS, e.g. p99<=120s, p50<=90, max<=15m"
        )
    name, bound, unit = match.groups()
    quantile = quantile_for(name)
    return FreshnessTarget(name, quantile, float(bound) * _UNIT_SECONDS[unit or "s"])


@dataclass(frozen=True)
class Candidate:
    """What the recommendation needs of one variant."""

    name: str
    passed: bool
    latency_seconds: float | None  # at the target's percentile
    cost_usd: float | None  # monthly total of the priced lines


@dataclass(frozen=True)
class Recommendation:
    """The choice: the variant meeting the target at least cost, else the closest, and why."""

    target: FreshnessTarget
    chosen: str | None
    closest: str | None
    reason: str


def recommend(candidates: Sequence[Candidate], target: FreshnessTarget) -> Recommendation:
    """The cheapest eligible candidate within `target` (see the module docstring)."""
    order = {c.name: i for i, c in enumerate(candidates)}
    eligible = [
        c for c in candidates if c.passed and c.latency_seconds is not None and c.cost_usd is not None
    ]
    if not eligible:
        return Recommendation(target, None, None, "no variant passed with a measured latency and cost")
    meeting = [c for c in eligible if _latency(c) <= target.seconds]
    if meeting:
        best = min(meeting, key=lambda c: (_cost(c), _latency(c), order[c.name]))
        return Recommendation(
            target,
            best.name,
            None,
            f"cheapest of {len(meeting)} variant(s) meeting {target.describe()}: "
            f"${_cost(best):,.2f}/month, {target.percentile} {_latency(best):.1f} s",
        )
    closest = min(eligible, key=lambda c: (_latency(c), _cost(c), order[c.name]))
    return Recommendation(
        target,
        None,
        closest.name,
        f"no variant meets {target.describe()}; the freshest is {closest.name} with "
        f"{target.percentile} {_latency(closest):.1f} s at ${_cost(closest):,.2f}/month",
    )


def _latency(candidate: Candidate) -> float:
    assert candidate.latency_seconds is not None
    return candidate.latency_seconds


def _cost(candidate: Candidate) -> float:
    assert candidate.cost_usd is not None
    return candidate.cost_usd
