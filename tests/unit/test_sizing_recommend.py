"""Freshness targets and the recommendation: cheapest passing variant within the target, else the closest."""

from __future__ import annotations

import pytest

from harness.sizing.recommend import Candidate, parse_target, recommend


@pytest.mark.parametrize(
    ("text", "percentile", "quantile", "seconds"),
    [
        ("p99<=120s", "p99", 0.99, 120.0),
        ("p50 <= 90", "p50", 0.50, 90.0),
        ("max<=15m", "max", 1.0, 900.0),
        ("p99.9<=500ms", "p99.9", 0.999, 0.5),
        ("p90<=1h", "p90", 0.90, 3600.0),
    ],
)
def test_targets_parse(text: str, percentile: str, quantile: float, seconds: float) -> None:
    target = parse_target(text)
    assert target.percentile == percentile
    assert target.quantile == pytest.approx(quantile)
    assert target.seconds == seconds


@pytest.mark.parametrize("text", ["p99<120", "p99>=120s", "99<=120", "p99<=fast", "p100<=5", "p99<=5d"])
def test_bad_targets_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="p"):
        parse_target(text)


TARGET = parse_target("p99<=120s")


def test_the_cheapest_variant_meeting_the_target_wins() -> None:
    chosen = recommend(
        [
            Candidate("a", True, 100.0, 30.0),
            Candidate("b", True, 119.0, 10.0),
            Candidate("c", True, 200.0, 1.0),  # cheapest, too stale
            Candidate("d", False, 50.0, 5.0),  # cheap and fresh, but failed its expectations
        ],
        TARGET,
    )
    assert chosen.chosen == "b"
    assert chosen.closest is None
    assert "cheapest of 2 variant(s) meeting p99 <= 120 s" in chosen.reason


def test_ties_on_cost_go_to_the_fresher_then_the_first_listed() -> None:
    assert recommend([Candidate("a", True, 90.0, 5.0), Candidate("b", True, 60.0, 5.0)], TARGET).chosen == "b"
    assert recommend([Candidate("a", True, 60.0, 5.0), Candidate("b", True, 60.0, 5.0)], TARGET).chosen == "a"


def test_none_meeting_names_the_freshest_passing_variant() -> None:
    result = recommend(
        [
            Candidate("slow", True, 300.0, 1.0),
            Candidate("less-slow", True, 150.0, 2.0),
            Candidate("x", False, 1.0, 1.0),
        ],
        TARGET,
    )
    assert result.chosen is None
    assert result.closest == "less-slow"
    assert result.reason.startswith("no variant meets p99 <= 120 s; the freshest is less-slow")


def test_no_eligible_variant_at_all() -> None:
    result = recommend(
        [Candidate("a", False, 1.0, 1.0), Candidate("b", True, None, 1.0), Candidate("c", True, 1.0, None)],
        TARGET,
    )
    assert (result.chosen, result.closest) == (None, None)
    assert result.reason == "no variant passed with a measured latency and cost"
