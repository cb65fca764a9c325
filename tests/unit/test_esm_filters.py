"""Event filtering (spec §5; checklist 42-46; gotchas 15-17)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from harness.esm.errors import InvalidParameterValueException
from harness.esm.event_builder import KafkaRecord
from harness.esm.filters import RecordFilter
from harness.esm.knobs import EsmKnobs


def rec(value: bytes | None, key: bytes | None = None) -> KafkaRecord:
    return KafkaRecord("t", 0, 0, 0, "CREATE_TIME", key, value, ())


def keeps(patterns: Sequence[object], value: bytes | None, knobs: EsmKnobs | None = None) -> bool:
    return RecordFilter([json.dumps(p) for p in patterns], knobs).keep(rec(value))


def test_json_value_nested_fields_and_all_fields_must_match() -> None:
    pattern = {"value": {"status": ["paid"], "amount": [{"numeric": [">=", 10]}]}}
    assert keeps([pattern], b'{"status":"paid","amount":12.5}')
    assert not keeps([pattern], b'{"status":"paid","amount":9}')
    assert not keeps([pattern], b'{"status":"open","amount":12.5}')
    assert keeps([{"value": {"device": {"id": [{"prefix": "AB"}]}}}], b'{"device":{"id":"AB-7"}}')


def test_any_filter_matching_keeps_the_record() -> None:
    patterns = [{"value": {"s": ["a"]}}, {"value": {"s": ["b"]}}]
    assert keeps(patterns, b'{"s":"b"}')
    assert not keeps(patterns, b'{"s":"c"}')


def test_plain_string_values_match_the_string_itself() -> None:
    assert keeps([{"value": [{"anything-but": ["error"]}]}], b"ok")
    assert not keeps([{"value": [{"anything-but": ["error"]}]}], b"error")
    assert keeps([{"value": [{"prefix": "INFO"}]}], b"INFO started")


def test_number_equality_compares_text() -> None:
    assert keeps([{"value": {"n": [300]}}], b'{"n":300}')
    assert not keeps([{"value": {"n": [300]}}], b'{"n":300.0}')
    assert keeps([{"value": {"n": [{"numeric": ["=", 300]}]}}], b'{"n":3.0e2}')


def test_operators_exists_null_empty_and_or() -> None:
    assert keeps([{"value": {"a": [{"exists": True}]}}], b'{"a":1}')
    assert keeps([{"value": {"a": [{"exists": False}]}}], b'{"b":1}')
    assert keeps([{"value": {"a": [None]}}], b'{"a":null}')
    assert keeps([{"value": {"a": [""]}}], b'{"a":""}')
    assert keeps([{"value": {"a": [{"numeric": [">", 0, "<=", 5]}]}}], b'{"a":5}')
    assert not keeps([{"value": {"a": [{"numeric": [">", 0, "<=", 5]}]}}], b'{"a":6}')
    either = {"value": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}}
    assert keeps([either], b'{"b":"y"}')
    assert not keeps([either], b'{"a":"y"}')
    assert keeps([{"value": {"tags": ["red"]}}], b'{"tags":["blue","red"]}')  # arrays match any element


def test_format_mismatch_follows_the_mode() -> None:
    json_pattern = [{"value": {"status": ["paid"]}}]
    # default ignore_value_criterion: the value criterion is dropped and the (empty) rest matches
    assert keeps(json_pattern, b"plain text")
    assert keeps(json_pattern, b"\xff\xfe")  # not UTF-8
    assert keeps(json_pattern, None)  # tombstone
    assert keeps([{"value": ["paid"]}], b'{"status":"paid"}')
    drop = EsmKnobs(value_format_mismatch_mode="drop")
    assert not keeps(json_pattern, b"plain text", drop)
    assert not keeps(json_pattern, b"\xff\xfe", drop)
    assert not keeps([{"value": ["paid"]}], b'{"status":"paid"}', drop)


def test_json_detection_object_or_array_by_default() -> None:
    assert keeps([{"value": ["42"]}], b"42")  # a bare number is a plain string by default
    assert not keeps(
        [{"value": ["42"]}],
        b"42",
        EsmKnobs(json_value_detection="any_json", value_format_mismatch_mode="drop"),
    )


def test_key_filtering_and_other_fields_rejected_by_default() -> None:
    with pytest.raises(InvalidParameterValueException, match="only support filtering on value"):
        RecordFilter(['{"key": ["a"]}'])
    with pytest.raises(InvalidParameterValueException, match="only support filtering"):
        RecordFilter(['{"partition": [0]}'])
    allowed = RecordFilter(['{"key": ["a"]}'], EsmKnobs(filterable_fields=("value", "key")))
    assert allowed.keep(rec(b"x", key=b"a"))
    assert not allowed.keep(rec(b"x", key=b"b"))


def test_invalid_patterns_and_filter_count() -> None:
    for bad in (
        "not json",
        "[]",
        '{"value": "x"}',
        '{"value": {"a": [{"wildcard": "*"}]}}',
        '{"value": {"a": [{"numeric": ["~", 1]}]}}',
    ):
        with pytest.raises(InvalidParameterValueException, match="Invalid filter pattern"):
            RecordFilter([bad])
    with pytest.raises(InvalidParameterValueException, match="at most 5"):
        RecordFilter(['{"value": ["a"]}'] * 6)
    RecordFilter(['{"value": ["a"]}'] * 10, EsmKnobs(max_filters=10))


def test_no_filters_keeps_everything() -> None:
    f = RecordFilter([])
    assert not f.active
    assert f.keep(rec(None))
