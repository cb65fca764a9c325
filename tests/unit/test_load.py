"""Rate profiles and payload generation: deterministic under a seed and true to their declared shapes."""

from __future__ import annotations

import itertools
import json
import random
import statistics

import pytest

from harness.load import (
    PayloadGenerator,
    PayloadSpec,
    RateProfile,
    SizeDistribution,
    json_document,
    value_sha256,
)


def count_in(times: list[float], start: float, end: float) -> int:
    return sum(1 for t in times if start <= t < end)


def test_constant_schedule_is_evenly_spaced() -> None:
    times = list(RateProfile.constant(250).schedule(4.0))
    assert len(times) == 1000
    assert times[0] == 0.0
    assert times[1] == pytest.approx(0.004)
    assert all(b > a for a, b in itertools.pairwise(times))
    assert RateProfile.constant(250).rate_at(3.9) == 250


def test_records_limit_stops_first() -> None:
    profile = RateProfile.constant(100)
    assert len(list(profile.schedule(duration=60, records=42))) == 42
    assert len(list(profile.schedule(records=42))) == 42
    assert profile.time_for_records(101) == pytest.approx(1.0)


def test_schedule_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="duration, a record count or both"):
        list(RateProfile.constant(1).schedule())


def test_ramp_rate_and_count_follow_the_line() -> None:
    profile = RateProfile.ramp(100, 1100, 10)
    assert profile.rate_at(0) == 100
    assert profile.rate_at(5) == pytest.approx(600)
    assert profile.rate_at(20) == 1100  # holds after the ramp
    times = list(profile.schedule(10))
    assert len(times) == 6000  # integral of 100 -> 1100 over 10 s
    assert count_in(times, 0, 1) == pytest.approx(150, abs=1)  # 100..200 over the first second
    assert count_in(times, 9, 10) == pytest.approx(1050, abs=1)


def test_ramp_down_and_from_zero() -> None:
    assert len(list(RateProfile.ramp(1000, 0, 10).schedule(10))) == 5000
    times = list(RateProfile.ramp(0, 200, 4).schedule(4))
    assert len(times) == 400
    assert times[0] == 0.0
    assert times[1] == pytest.approx((2 / 50) ** 0.5)  # 25 t^2 = 1


def test_step_profile() -> None:
    profile = RateProfile.step([(0, 10), (2, 0), (3, 100)])
    times = list(profile.schedule(4))
    assert count_in(times, 0, 2) == 20
    assert count_in(times, 2, 3) == 0
    assert count_in(times, 3, 4) == 100
    assert profile.rate_at(2.5) == 0
    with pytest.raises(ValueError, match="first step must be at 0"):
        RateProfile.step([(1, 10)])
    with pytest.raises(ValueError, match="must increase"):
        RateProfile.step([(0, 10), (5, 1), (5, 2)])


def test_burst_profile_repeats() -> None:
    profile = RateProfile.burst(base_rate=10, burst_rate=1000, every=10, length=2, first_at=3)
    assert [profile.rate_at(t) for t in (0, 3.5, 5.5, 13.1, 15, 23.9)] == [10, 1000, 10, 1000, 10, 1000]
    times = list(profile.schedule(30))
    assert count_in(times, 3, 5) == 2000
    assert count_in(times, 13, 15) == 2000
    assert count_in(times, 5, 13) == 80
    assert len(times) == round(profile.count_until(30)) == 3 * 2000 + 24 * 10
    with pytest.raises(ValueError, match="burst length"):
        RateProfile.burst(1, 10, every=5, length=5)


def test_zero_rate_tail_ends_the_schedule() -> None:
    assert list(RateProfile.step([(0, 2), (1, 0)]).schedule(records=10)) == [0.0, 0.5]
    assert RateProfile.step([(0, 2), (1, 0)]).time_for_records(10) == float("inf")
    assert RateProfile.step([(0, 2), (1, 0)]).time_for_records(2) == 0.5


def test_payloads_are_deterministic_under_a_seed() -> None:
    spec = PayloadSpec(
        json_share=0.6,
        binary_share=0.2,
        tombstone_share=0.2,
        null_key_share=0.1,
        header_count=3,
        non_ascii_headers=True,
        duplicate_header_names=True,
        size=SizeDistribution("uniform", minimum=50, maximum=500),
    )
    first = [PayloadGenerator(spec, random.Random(99)).next() for _ in range(1)]
    a = PayloadGenerator(spec, random.Random(99))
    b = PayloadGenerator(spec, random.Random(99))
    c = PayloadGenerator(spec, random.Random(100))
    run_a = [a.next() for _ in range(500)]
    assert run_a == [b.next() for _ in range(500)]
    assert run_a != [c.next() for _ in range(500)]
    assert run_a[0] == first[0]
    assert [p.seq for p in run_a] == list(range(500))


def test_value_mix_and_null_keys_match_their_shares() -> None:
    spec = PayloadSpec(json_share=0.7, binary_share=0.2, tombstone_share=0.1, null_key_share=0.25)
    gen = PayloadGenerator(spec, random.Random(1))
    payloads = [gen.next() for _ in range(20_000)]
    tombstones = sum(p.value is None for p in payloads)
    jsons = sum(p.value is not None and p.value.startswith(b'{"seq":') for p in payloads)
    null_keys = sum(p.key is None for p in payloads)
    assert tombstones / 20_000 == pytest.approx(0.1, abs=0.01)
    assert jsons / 20_000 == pytest.approx(0.7, abs=0.015)
    assert null_keys / 20_000 == pytest.approx(0.25 * 0.9, abs=0.015)  # tombstones always carry a key
    assert all(p.key is not None for p in payloads if p.value is None)


def test_key_cardinality() -> None:
    spec = PayloadSpec(key_cardinality=7, key_prefix="k-")
    gen = PayloadGenerator(spec, random.Random(3))
    keys = {gen.next().key for _ in range(2000)}
    assert keys == {f"k-{i}".encode() for i in range(7)}
    assert spec.key_names() == frozenset(f"k-{i}" for i in range(7))
    unique = PayloadGenerator(PayloadSpec(key_cardinality=0), random.Random(3))
    assert [unique.next().key for _ in range(3)] == [b"key-0", b"key-1", b"key-2"]
    assert PayloadSpec(key_cardinality=0).key_names() is None


@pytest.mark.parametrize("size", [100, 101, 200, 1000, 65_536])
def test_json_documents_hit_their_size_exactly(size: int) -> None:
    doc = json_document(12, size, random.Random(size))
    assert len(doc) == size
    assert json.loads(doc)["seq"] == 12


def test_json_document_smaller_than_its_fields_is_the_minimal_document() -> None:
    doc = json_document(1, 5, random.Random(0))
    assert "pad" not in json.loads(doc)
    assert len(doc) > 5


@pytest.mark.parametrize(
    ("dist", "mean", "stdev"),
    [
        (SizeDistribution("uniform", minimum=100, maximum=300), 200, (200**2 / 12) ** 0.5),
        (SizeDistribution("normal", mean=1000, stddev=100, minimum=1, maximum=10_000), 1000, 100),
        (SizeDistribution("fixed", size=321), 321, 0),
    ],
)
def test_size_distributions_match_their_parameters(dist: SizeDistribution, mean: float, stdev: float) -> None:
    rng = random.Random(5)
    sizes = [dist.draw(rng) for _ in range(20_000)]
    assert statistics.fmean(sizes) == pytest.approx(mean, rel=0.02)
    assert statistics.pstdev(sizes) == pytest.approx(stdev, rel=0.05, abs=0.5)


def test_lognormal_median_and_clipping() -> None:
    dist = SizeDistribution("lognormal", mean=800, stddev=0.5, minimum=100, maximum=2000)
    rng = random.Random(6)
    sizes = [dist.draw(rng) for _ in range(20_000)]
    assert statistics.median(sizes) == pytest.approx(800, rel=0.03)
    assert min(sizes) >= 100
    assert max(sizes) == 2000


def test_json_values_follow_the_size_distribution() -> None:
    spec = PayloadSpec(size=SizeDistribution("uniform", minimum=200, maximum=400))
    gen = PayloadGenerator(spec, random.Random(8))
    sizes = [len(gen.next().value or b"") for _ in range(5000)]
    assert min(sizes) >= 200
    assert max(sizes) <= 400
    assert statistics.fmean(sizes) == pytest.approx(300, rel=0.02)


def test_headers_have_non_ascii_bytes_and_repeated_names() -> None:
    spec = PayloadSpec(header_count=4, non_ascii_headers=True, duplicate_header_names=True)
    payload = PayloadGenerator(spec, random.Random(2)).next()
    names = [name for name, _ in payload.headers]
    assert len(names) == 4
    assert len(set(names)) < len(names)
    assert any(any(byte >= 0x80 for byte in value) for _, value in payload.headers)
    assert any("ü".encode() in value for _, value in payload.headers)


def test_value_hash() -> None:
    assert value_sha256(None) is None
    assert value_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    "profile",
    [
        RateProfile.constant(333),
        RateProfile.ramp(10, 500, 7),
        RateProfile.ramp(500, 0, 7),
        RateProfile.step([(0, 50), (1.5, 0), (2, 400)]),
        RateProfile.burst(5, 900, every=4, length=1, first_at=2),
    ],
    ids=["constant", "ramp-up", "ramp-down", "step", "burst"],
)
def test_time_for_records_is_the_last_scheduled_time(profile: RateProfile) -> None:
    for records in (1, 2, 17, 1000):
        times = list(profile.schedule(records=records))
        assert len(times) == records
        assert profile.time_for_records(records) == pytest.approx(times[-1])


def test_time_for_records_never_reached() -> None:
    assert RateProfile.ramp(100, 0, 2).time_for_records(101) == float("inf")
