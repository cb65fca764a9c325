"""The achieved-rate series and the `rate_held` expectation: windows, shortfalls, defaults, errors."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace

from harness.load import RateProfile, RateSecond, rate_series, rate_shortfall
from harness.report.json_report import render_json, run_result_from_json
from harness.scenario import validate_text
from harness.verify.rate_check import check_rate_held, rate_held_enabled
from tests.unit.test_report_data import make_result
from tests.unit.test_scenario import BASE


def test_series_sets_each_second_asked_beside_sent() -> None:
    profile = RateProfile.step([(0, 100), (2, 300)])
    series = rate_series(profile, [100, 90, 300], send_seconds=3.5)
    assert [(s.t_seconds, s.asked, s.sent) for s in series] == [
        (0, 100, 100),
        (1, 100, 90),
        (2, 300, 300),
        (3, 150, 0),  # half a second asked, nothing sent in it
    ]


def test_series_keeps_seconds_a_late_generator_ran_into() -> None:
    series = rate_series(RateProfile.constant(10), [5, 5, 5, 5], send_seconds=2.0)
    assert [s.asked for s in series] == [10, 10, 0, 0]
    assert [s.sent for s in series] == [5, 5, 5, 5]


def test_a_held_rate_passes_and_one_percent_is_tolerated() -> None:
    series = tuple(RateSecond(t, 1000.0, 991) for t in range(30))
    assert rate_shortfall(series) is None
    assert check_rate_held(series).passed


def test_the_worst_window_is_named_with_when_and_how_much() -> None:
    sent = [1000] * 40
    for t in range(20, 25):
        sent[t] = 200  # 5 s at a fifth of the rate
    series = tuple(RateSecond(t, 1000.0, n) for t, n in enumerate(sent))
    shortfall = rate_shortfall(series)
    assert shortfall is not None
    assert shortfall.end - shortfall.start == 10
    assert shortfall.start <= 20
    assert shortfall.end >= 25
    assert shortfall.sent == 10_000 - 5 * 800
    assert round(shortfall.short_percent, 1) == 40.0
    check = check_rate_held(series)
    assert not check.passed
    assert check.details == (
        f"from {shortfall.start} s to {shortfall.end} s the load sent 6,000 records of 10,000 asked "
        "(40.0 % short)",
    )


def test_catching_up_later_does_not_hide_a_slow_window() -> None:
    sent = [500] * 10 + [1500] * 10  # right total, but the first 10 s ran at half the rate
    series = tuple(RateSecond(t, 1000.0, n) for t, n in enumerate(sent))
    shortfall = rate_shortfall(series)
    assert shortfall is not None
    assert (shortfall.start, shortfall.end) == (0, 10)


def test_a_run_shorter_than_the_window_is_one_window() -> None:
    series = (RateSecond(0, 1000.0, 900), RateSecond(1, 500.0, 500))
    shortfall = rate_shortfall(series)
    assert shortfall is not None
    assert (shortfall.start, shortfall.end, shortfall.sent) == (0, 2, 1400)


def test_records_sent_after_the_schedule_make_up_for_nothing() -> None:
    series = (RateSecond(0, 60_000.0, 58_880), RateSecond(1, 0.0, 1_120))  # 60k asked in 0.6 s, took 1.02 s
    shortfall = rate_shortfall(series)
    assert shortfall is not None
    assert (shortfall.start, shortfall.end, shortfall.sent) == (0, 1, 58_880)


def test_no_series_fails_with_the_reason() -> None:
    check = check_rate_held((), "the load failed: boom")
    assert not check.passed
    assert check.details == ("the load failed: boom",)


def test_rate_held_defaults_on_for_real_time_load_without_faults() -> None:
    assert rate_held_enabled(None, has_faults=False, speed=1.0)
    assert not rate_held_enabled(None, has_faults=True, speed=1.0)
    assert not rate_held_enabled(None, has_faults=False, speed=400.0)
    assert rate_held_enabled(True, has_faults=True, speed=400.0)
    assert not rate_held_enabled(False, has_faults=False, speed=1.0)


def test_scenario_reads_rate_held_and_rejects_a_non_boolean_at_its_line() -> None:
    text = textwrap.dedent(BASE) + "expect:\n  rate_held: false\n"
    scenario, problems = validate_text(text, "s.yaml")
    assert not problems
    assert scenario is not None
    assert scenario.expect.rate_held is False
    default, _ = validate_text(textwrap.dedent(BASE), "s.yaml")
    assert default is not None
    assert default.expect.rate_held is None
    bad = textwrap.dedent(BASE) + "expect:\n  rate_held: often\n"
    scenario, problems = validate_text(bad, "s.yaml")
    assert scenario is None
    line = bad.splitlines().index("  rate_held: often") + 1
    assert [(p.line, "rate_held" in p.message) for p in problems] == [(line, True)]


def test_the_rate_series_survives_the_json_report() -> None:
    result = replace(make_result(), load_rate=(RateSecond(0, 1000.0, 998), RateSecond(1, 500.5, 400)))
    again = run_result_from_json(json.loads(render_json(result)))
    assert again.load_rate == result.load_rate
