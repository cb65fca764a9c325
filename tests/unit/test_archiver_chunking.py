"""PutRecordBatch chunking limits, retry policy maths and the archiver's environment parsing."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import pytest
from firehose_writer import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, RetryPolicy, chunk_records

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "harness" / "reference_archiver"
_counter = itertools.count()


def test_501_small_records_make_two_calls_500_and_1() -> None:
    chunks = chunk_records([b"x\n"] * 501)
    assert [len(c) for c in chunks] == [500, 1]
    assert list(itertools.chain.from_iterable(chunks)) == list(range(501))


def test_exactly_500_records_make_one_call() -> None:
    assert [len(c) for c in chunk_records([b"x"] * 500)] == [500]


def test_four_mib_boundary_is_inclusive() -> None:
    # 4 x 1,024,000 + 98,304 = 4,194,304 bytes exactly: one call (spec firehose G11); one byte more: two.
    exact = [b"a" * 1_024_000] * 4 + [b"b" * 98_304]
    assert sum(map(len, exact)) == MAX_BATCH_BYTES
    assert [len(c) for c in chunk_records(exact)] == [5]
    over = [*exact[:4], b"b" * 98_305]
    assert [len(c) for c in chunk_records(over)] == [4, 1]


def test_chunks_keep_order_and_respect_both_limits() -> None:
    sizes = [1, 900_000, 3, 1_024_000, 1_024_000, 1_024_000, 1_024_000, 10, *([50] * 700)]
    records = [b"x" * n for n in sizes]
    chunks = chunk_records(records)
    assert list(itertools.chain.from_iterable(chunks)) == list(range(len(records)))
    for chunk in chunks:
        assert len(chunk) <= MAX_BATCH_RECORDS
        assert sum(len(records[i]) for i in chunk) <= MAX_BATCH_BYTES


def test_record_larger_than_a_call_is_refused() -> None:
    with pytest.raises(ValueError, match="more than one call carries"):
        chunk_records([b"x" * (MAX_BATCH_BYTES + 1)])


def test_backoff_cap_doubles_until_the_maximum() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=1.0)
    assert [policy.backoff_cap(n) for n in range(1, 7)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="base_delay_s <= max_delay_s"):
        RetryPolicy(base_delay_s=2, max_delay_s=1)


def _load_handler(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> object:
    for name in list(sys.modules):
        if name.startswith("archiver_handler_under_test"):
            del sys.modules[name]
    monkeypatch.delenv("DELIVERY_STREAM_NAME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location(
        f"archiver_handler_under_test_{next(_counter)}", LAMBDA_DIR / "handler.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_AWS_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def test_init_fails_clearly_without_delivery_stream_name(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="DELIVERY_STREAM_NAME is not set"):
        _load_handler(monkeypatch, _AWS_ENV)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ARCHIVER_MAX_ATTEMPTS", "ten", "ARCHIVER_MAX_ATTEMPTS must be an integer"),
        ("ARCHIVER_MAX_ATTEMPTS", "0", "ARCHIVER_MAX_ATTEMPTS must be between 1 and 1000"),
        ("ARCHIVER_MAX_RECORD_BYTES", "1024001", "ARCHIVER_MAX_RECORD_BYTES must be between"),
        ("ARCHIVER_BACKOFF_MAX_MS", "10", "ARCHIVER_BACKOFF_MAX_MS .* must be >= ARCHIVER_BACKOFF_BASE_MS"),
    ],
)
def test_bad_knobs_fail_init_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _load_handler(monkeypatch, {**_AWS_ENV, "DELIVERY_STREAM_NAME": "orders", name: value})


def test_knobs_are_parsed_into_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _load_handler(
        monkeypatch,
        {
            **_AWS_ENV,
            "DELIVERY_STREAM_NAME": "orders",
            "ARCHIVER_MAX_ATTEMPTS": "4",
            "ARCHIVER_BACKOFF_BASE_MS": "20",
            "ARCHIVER_BACKOFF_MAX_MS": "400",
            "ARCHIVER_TIME_MARGIN_MS": "1500",
            "ARCHIVER_SDK_MAX_ATTEMPTS": "1",
        },
    )
    config = module.ARCHIVER.config  # type: ignore[attr-defined]
    assert config.delivery_stream_name == "orders"
    assert config.retry == RetryPolicy(
        max_attempts=4, base_delay_s=0.02, max_delay_s=0.4, safety_margin_ms=1500
    )
    assert config.sdk_max_attempts == 1
    assert config.max_record_bytes == 1_024_000
