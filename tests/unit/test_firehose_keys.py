"""Pure tests of the prefix language and object naming (spec §6, every row of §6.7, G4, G14)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from firehose_emulator.keys import (
    S1_MESSAGE,
    PrefixError,
    evaluate_error_prefix,
    evaluate_prefix,
    format_java_pattern,
    object_name,
    random_string,
    to_time_zone,
    validate_prefixes,
)
from harness.clock import random_uuid

OLDEST = datetime(2026, 7, 13, 14, 5, 9, tzinfo=UTC)
UUID = "959487e4-754a-46e0-9b2d-f8cf1ce8a226"
SUFFIX = f"orders-1-2026-07-13-14-05-09-{UUID}"


def randoms(*values: str) -> Callable[[], str]:
    """The §6.7 random strings, in order."""
    source: Iterator[str] = iter(values or ("5abf82daaa5", "046b6c7f0b1"))
    return lambda: next(source)


def data_key(
    prefix: str | None,
    *,
    instant: datetime = OLDEST,
    zone: str = "",
    version: int = 1,
    extension: str = "",
    partition_keys: dict[str, str] | None = None,
) -> str:
    """Evaluate a full data key the way delivery.py does (prefix and suffix from the oldest arrival)."""
    local = to_time_zone(instant, zone)
    evaluated = evaluate_prefix(prefix, local, random_string=randoms(), partition_keys=partition_keys)
    return evaluated + object_name("orders", version, local, UUID, extension)


def error_key(error_output_prefix: str | None, error_type: str = "processing-failed") -> str:
    """Evaluate a full error-output key."""
    evaluated = evaluate_error_prefix(
        error_output_prefix, OLDEST, error_output_type=error_type, random_string=randoms()
    )
    return evaluated + object_name("orders", 1, OLDEST, UUID, "")


@pytest.mark.parametrize(
    ("row", "prefix", "expected"),
    [
        (1, None, f"2026/07/13/14/{SUFFIX}"),
        (1, "", f"2026/07/13/14/{SUFFIX}"),
        (2, "logs/", f"logs/2026/07/13/14/{SUFFIX}"),
        (3, "logs", f"logs2026/07/13/14/{SUFFIX}"),
        (4, "dt=!{timestamp:yyyy'-'MM'-'dd}/h=!{timestamp:HH}/", f"dt=2026-07-13/h=14/{SUFFIX}"),
        (5, "raw/!{timestamp:yyyy/MM/dd}", f"raw/2026/07/13{SUFFIX}"),
        (6, "!{firehose:random-string}/events/", f"5abf82daaa5/events/{SUFFIX}"),
        (7, "a/!{firehose:random-string}/!{firehose:random-string}/", f"a/5abf82daaa5/046b6c7f0b1/{SUFFIX}"),
        (8, "doy=!{timestamp:DDD}/", f"doy=194/{SUFFIX}"),
    ],
)
def test_worked_example_rows_1_to_8(row: int, prefix: str | None, expected: str) -> None:
    assert data_key(prefix) == expected, f"§6.7 row {row}"


def test_row_9_custom_time_zone_moves_prefix_and_suffix() -> None:
    assert data_key(None, zone="Asia/Tokyo") == f"2026/07/13/23/orders-1-2026-07-13-23-05-09-{UUID}"


def test_row_10_time_zone_in_timestamp_expression() -> None:
    key = data_key("h=!{timestamp:HH}/", zone="America/New_York")
    assert key == f"h=10/orders-1-2026-07-13-10-05-09-{UUID}"


@pytest.mark.parametrize(
    ("row", "extension", "expected"),
    [(11, ".gz", f"2026/07/13/14/{SUFFIX}.gz"), (12, ".json.gz", f"2026/07/13/14/{SUFFIX}.json.gz")],
)
def test_rows_11_12_extensions(row: int, extension: str, expected: str) -> None:
    assert data_key(None, extension=extension) == expected, f"§6.7 row {row}"


def test_row_14_version_in_name() -> None:
    assert data_key(None, version=3) == f"2026/07/13/14/orders-3-2026-07-13-14-05-09-{UUID}"


def test_row_15_partition_keys() -> None:
    prefix = "customer_id=!{partitionKeyFromQuery:customer_id}/year=!{timestamp:yyyy}/"
    assert data_key(prefix, partition_keys={"customer_id": "c42"}) == f"customer_id=c42/year=2026/{SUFFIX}"


def test_missing_partition_key_is_an_error() -> None:
    with pytest.raises(PrefixError, match="customer_id"):
        data_key("c=!{partitionKeyFromQuery:customer_id}/", partition_keys={})


@pytest.mark.parametrize(
    ("row", "error_prefix", "expected"),
    [
        (16, "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
         f"errors/processing-failed/2026/07/13/{SUFFIX}"),
        (17, "myFirehoseFailures/!{firehose:error-output-type}/",
         f"myFirehoseFailures/processing-failed/{SUFFIX}"),
        (18, None, f"processing-failed/2026/07/13/14/{SUFFIX}"),
        (19, "failed/", f"failed/processing-failed/2026/07/13/14/{SUFFIX}"),
    ],
)  # fmt: skip
def test_error_prefix_rows_16_to_19(row: int, error_prefix: str | None, expected: str) -> None:
    assert error_key(error_prefix) == expected, f"§6.7 row {row}"


def test_row_20_week_based_year_and_day_of_year_g14() -> None:
    instant = datetime(2024, 12, 31, 10, 0, tzinfo=UTC)
    key = data_key("!{timestamp:YYYY}/!{timestamp:yyyy}/!{timestamp:DDD}/", instant=instant)
    assert key == f"2025/2024/366/orders-1-2024-12-31-10-00-00-{UUID}"


def test_row_21_expressions_need_error_output_prefix_s1_exact_message() -> None:
    with pytest.raises(PrefixError) as caught:
        validate_prefixes("!{timestamp:yyyy}/", None, dynamic_partitioning=False)
    assert caught.value.message == S1_MESSAGE
    assert caught.value.message.startswith("Ths supplied prefix(es) do not satisfy the following constraint:")
    with pytest.raises(PrefixError, match="ErrorOutputPrefix cannot be null or empty"):
        validate_prefixes("!{timestamp:yyyy}/", "", dynamic_partitioning=False)


def test_row_22_error_output_type_in_prefix_is_rejected_s3() -> None:
    with pytest.raises(PrefixError, match=r"Prefix cannot contain !\{firehose:error-output-type\}"):
        validate_prefixes("x/!{firehose:error-output-type}/", None, dynamic_partitioning=False)


def test_row_23_error_prefix_expressions_need_error_output_type_s2() -> None:
    with pytest.raises(PrefixError, match="must contain"):
        validate_prefixes(None, "e/!{timestamp:yyyy}/", dynamic_partitioning=False)


@pytest.mark.parametrize(
    "prefix",
    [
        "a/!{timestamp:yyyy",  # not closed
        "a/!{time:yyyy}/",  # unknown namespace
        "a/!{firehose:uuid}/",  # unknown firehose value
        "a/!{timestamp:qqqq}/",  # unsupported letter
        "a/!{timestamp:ddd}/",  # too many letters
        "a/!{timestamp:yyyy'x}/",  # unterminated quote
        "a/!{timestamp:}/",  # empty pattern
        "a/!{timestamp:yyyy[MM]}/",  # optional sections are not supported
        "a/!{nothing}/",  # no namespace
    ],
)
def test_malformed_expressions_are_rejected_s4(prefix: str) -> None:
    with pytest.raises(PrefixError, match="do not satisfy the following constraint"):
        validate_prefixes(prefix, "e/!{firehose:error-output-type}/", dynamic_partitioning=False)


def test_partition_keys_in_error_prefix_are_rejected_s5() -> None:
    with pytest.raises(PrefixError, match="ErrorOutputPrefix cannot contain partitionKey"):
        validate_prefixes(
            None, "e/!{firehose:error-output-type}/!{partitionKeyFromQuery:k}/", dynamic_partitioning=False
        )


def test_prefix_longer_than_512_after_evaluation_is_rejected_s6() -> None:
    validate_prefixes("a" * 512, None, dynamic_partitioning=False)  # the implicit time does not count
    with pytest.raises(PrefixError, match="512"):
        validate_prefixes("a" * 513, None, dynamic_partitioning=False)
    # 500 literal characters + an 11-character random string + "/" + "2026" = 516 after evaluation
    with pytest.raises(PrefixError, match="512"):
        validate_prefixes(
            "a" * 500 + "!{firehose:random-string}/!{timestamp:yyyy}",
            "e/!{firehose:error-output-type}/",
            dynamic_partitioning=False,
        )
    with pytest.raises(PrefixError, match="ErrorOutputPrefix cannot be longer"):
        validate_prefixes(None, "e" * 513, dynamic_partitioning=False)


def test_dynamic_partitioning_needs_partition_keys_and_error_prefix_s10() -> None:
    with pytest.raises(PrefixError, match="Dynamic Partitioning"):
        validate_prefixes(
            "data/!{timestamp:yyyy}/", "e/!{firehose:error-output-type}/", dynamic_partitioning=True
        )
    validate_prefixes(
        "c=!{partitionKeyFromQuery:c}/", "e/!{firehose:error-output-type}/", dynamic_partitioning=True
    )


def test_valid_prefixes_pass() -> None:
    validate_prefixes(None, None, dynamic_partitioning=False)
    validate_prefixes("logs", "failed/", dynamic_partitioning=False)
    validate_prefixes(
        "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
        "errors/!{firehose:error-output-type}/",
        dynamic_partitioning=False,
    )


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy", "2026"), ("yy", "26"), ("uuuu", "2026"), ("y", "2026"), ("MM", "07"), ("M", "7"),
        ("MMM", "Jul"), ("MMMM", "July"), ("dd", "13"), ("d", "13"), ("HH", "14"), ("mm", "05"),
        ("ss", "09"), ("hh", "02"),
        ("a", "PM"), ("EEE", "Mon"), ("EEEE", "Monday"), ("D", "194"), ("DDD", "194"), ("YYYY", "2026"),
        ("k", "14"), ("K", "2"), ("SSS", "000"), ("w", "29"),
        ("yyyy'/'MM", "2026/07"), ("'It''s' HH", "It's 14"), ("''", "'"), ("HH-mm", "14-05"),
    ],
)  # fmt: skip
def test_timestamp_letters_at_spec_instant(pattern: str, expected: str) -> None:
    assert format_java_pattern(pattern, OLDEST) == expected


def test_week_based_year_differs_from_year_at_year_ends() -> None:
    assert format_java_pattern("YYYY", datetime(2024, 12, 31, tzinfo=UTC)) == "2025"
    assert format_java_pattern("YYYY", datetime(2024, 12, 28, tzinfo=UTC)) == "2024"  # Saturday, week 52
    assert (
        format_java_pattern("YYYY", datetime(2021, 1, 1, tzinfo=UTC)) == "2021"
    )  # Locale.US: week 1 holds 1 Jan
    assert format_java_pattern("D", datetime(2026, 1, 1, tzinfo=UTC)) == "1"
    assert format_java_pattern("DDD", datetime(2026, 1, 1, tzinfo=UTC)) == "001"
    assert format_java_pattern("hh a", datetime(2026, 1, 1, 0, 30, tzinfo=UTC)) == "12 AM"


def test_g4_literal_prefix_without_slash() -> None:
    assert data_key("logs").startswith("logs2026/07/13/14/orders-1-")


def test_no_time_appended_when_prefix_has_only_non_timestamp_expressions() -> None:
    assert data_key("!{firehose:random-string}/") == f"5abf82daaa5/{SUFFIX}"
    appended = evaluate_prefix(
        "!{firehose:random-string}/",
        OLDEST,
        random_string=randoms(),
        time_append_mode="no_timestamp_expression",
    )
    assert appended == "5abf82daaa5/2026/07/13/14/"


def test_project_target_layout() -> None:
    prefix = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    key = data_key(prefix, extension=".gz")
    assert key == f"data/year=2026/month=07/day=13/hour=14/{SUFFIX}.gz"


def test_default_key_matches_checklist_13_pattern() -> None:
    rng = random.Random(3)
    key = evaluate_prefix(None, OLDEST, random_string=randoms()) + object_name(
        "orders", 1, OLDEST, random_uuid(rng), ""
    )
    pattern = r"^\d{4}/\d{2}/\d{2}/\d{2}/orders-1-\d{4}(-\d{2}){5}-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$"
    assert re.match(pattern, key), key


def test_error_type_separator_knob() -> None:
    evaluated = evaluate_error_prefix(
        None, OLDEST, error_output_type="processing-failed", random_string=randoms(), separator=""
    )
    assert evaluated == "processing-failed2026/07/13/14/"


@pytest.mark.parametrize(
    ("style", "shape"),
    [("hex", r"[0-9a-f]{11}"), ("uuid_prefix", r"[0-9a-f]{8}-[0-9a-f]{2}"), ("alnum", r"[0-9a-z]{11}")],
)
def test_random_string_styles(style: str, shape: str) -> None:
    rng = random.Random(11)
    values = {random_string(rng, style) for _ in range(50)}
    assert all(re.fullmatch(shape, value) for value in values)
    assert len(values) == 50


def test_random_string_is_new_for_each_occurrence() -> None:
    rng = random.Random(5)
    evaluated = evaluate_prefix(
        "!{firehose:random-string}/!{firehose:random-string}/",
        OLDEST,
        random_string=lambda: random_string(rng),
    )
    first, second, _ = evaluated.split("/")
    assert first != second


def test_unknown_time_zone_is_an_error() -> None:
    with pytest.raises(PrefixError, match="Mars/Olympus"):
        to_time_zone(OLDEST, "Mars/Olympus")
