"""FilterCriteria (§5): EventBridge-pattern matching on a Kafka record's `value` (JSON fields or a string).

A record is kept when any filter matches; inside a filter every field must match. Numbers compare by their
text for equality (``300`` ≠ ``300.0``) and by value for ``numeric``.

Known deviations from AWS:
- Operators implemented: literal (string, number, true/false, null, ""), ``prefix``, ``suffix``,
  ``anything-but`` (list, single value or ``{"prefix": ...}``), ``numeric`` (one or two comparisons),
  ``exists``, ``equals-ignore-case`` and ``$or``. Others (``wildcard``, ``cidr``) are rejected as invalid.
- Where the value's format and the pattern disagree (§5, `value_format_mismatch_mode`): the value criterion is
  ignored by default, so a filter made only of it matches; `drop` makes the filter fail instead.

Example::

    keep = RecordFilter(['{"value": {"status": ["paid"]}}']).keep(record)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from harness.esm.errors import InvalidParameterValueException
from harness.esm.event_builder import KafkaRecord
from harness.esm.knobs import EsmKnobs

_OPERATORS = frozenset({"prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case"})
_MISSING = object()


class NumberText(str):
    """A JSON number kept as its source text (equality compares text, `numeric` compares value)."""

    __slots__ = ()


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=NumberText, parse_float=NumberText)


def _invalid(message: str) -> InvalidParameterValueException:
    return InvalidParameterValueException(f"Invalid filter pattern definition: {message}")


class RecordFilter:
    """Compiled FilterCriteria: `keep(record)` says whether a record reaches the function."""

    def __init__(self, patterns: Sequence[str], knobs: EsmKnobs | None = None) -> None:
        self._knobs = knobs or EsmKnobs()
        if len(patterns) > self._knobs.max_filters:
            raise InvalidParameterValueException(
                f"FilterCriteria allows at most {self._knobs.max_filters} filters, got {len(patterns)}."
            )
        self._patterns = [self._compile(p) for p in patterns]

    @property
    def active(self) -> bool:
        """True when at least one filter is configured (otherwise every record is kept)."""
        return bool(self._patterns)

    def _compile(self, text: str) -> dict[str, Any]:
        try:
            pattern = _loads(text)
        except json.JSONDecodeError as exc:
            raise _invalid(f"pattern is not valid JSON ({exc.msg})") from exc
        if not isinstance(pattern, dict) or not pattern:
            raise _invalid("a pattern must be a non-empty JSON object")
        for field in pattern:
            if field == "$or":
                continue
            if field not in self._knobs.filterable_fields:
                raise _invalid(
                    f"Kafka event source mappings only support filtering on "
                    f"{', '.join(self._knobs.filterable_fields)}; got '{field}'"
                )
        _check_node(pattern)
        return pattern

    def keep(self, record: KafkaRecord) -> bool:
        """True if any filter matches the record (or no filter is configured)."""
        if not self._patterns:
            return True
        fields = self._fields(record)
        return any(self._matches(pattern, fields) for pattern in self._patterns)

    def _fields(self, record: KafkaRecord) -> dict[str, Any]:
        return {
            "topic": record.topic,
            "partition": NumberText(record.partition),
            "offset": NumberText(record.offset),
            "timestamp": NumberText(record.timestamp_ms),
            "timestampType": record.timestamp_type,
            "key": self._decode(record.key),
            "value": self._decode(record.value),
        }

    def _decode(self, raw: bytes | None) -> Any:
        """(kind, data): kind is "json", "string" or "unusable" (null / non-UTF-8)."""
        if raw is None:
            return ("unusable", None)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return ("unusable", None)
        stripped = text.lstrip()
        if self._knobs.json_value_detection == "object_or_array" and not stripped.startswith(("{", "[")):
            return ("string", text)
        try:
            return ("json", _loads(text))
        except json.JSONDecodeError:
            return ("string", text)

    def _matches(self, pattern: Mapping[str, Any], fields: dict[str, Any]) -> bool:
        for name, criterion in pattern.items():
            if name == "$or":
                if not any(self._matches(alt, fields) for alt in criterion):
                    return False
                continue
            value = fields[name]
            if name in ("key", "value"):
                kind, data = value
                usable = (kind == "json" and isinstance(criterion, dict)) or (
                    kind == "string" and isinstance(criterion, list)
                )
                if not usable:
                    if self._knobs.value_format_mismatch_mode == "drop":
                        return False
                    continue  # ignore_value_criterion: the rest of the filter decides
                value = data
            if not _match_node(criterion, value):
                return False
        return True


def _check_node(node: Any) -> None:
    if isinstance(node, dict):
        for key, child in node.items():
            if key == "$or":
                if (
                    not isinstance(child, list)
                    or len(child) < 2
                    or not all(isinstance(c, dict) for c in child)
                ):
                    raise _invalid("$or needs a list of at least two patterns")
                for alternative in child:
                    _check_node(alternative)
            else:
                _check_node(child)
        return
    if not isinstance(node, list) or not node:
        raise _invalid("leaf values must be non-empty arrays of matchers")
    for matcher in node:
        if isinstance(matcher, dict):
            _check_operator(matcher)
        elif isinstance(matcher, list):
            raise _invalid("matchers cannot be nested arrays")


def _check_operator(matcher: Mapping[str, Any]) -> None:
    if len(matcher) != 1:
        raise _invalid("a matcher object holds exactly one operator")
    ((op, arg),) = matcher.items()
    if op not in _OPERATORS:
        raise _invalid(f"unsupported operator '{op}'")
    if op == "numeric":
        _numeric_terms(arg)
    elif op == "exists" and not isinstance(arg, bool):
        raise _invalid("exists takes true or false")
    elif op in ("prefix", "suffix", "equals-ignore-case") and not isinstance(arg, str | dict):
        raise _invalid(f"{op} takes a string")


def _numeric_terms(arg: Any) -> list[tuple[str, float]]:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise _invalid("numeric takes [op, number] or [op, number, op, number]")
    terms = []
    for i in range(0, len(arg), 2):
        op, number = arg[i], arg[i + 1]
        if op not in ("=", "<", "<=", ">", ">=") or not isinstance(number, NumberText):
            raise _invalid("numeric comparisons are =, <, <=, >, >= followed by a number")
        terms.append((op, float(number)))
    return terms


def _match_node(criterion: Any, value: Any) -> bool:
    if isinstance(criterion, dict):
        obj = value if isinstance(value, dict) else {}  # a non-object has no nested fields
        for key, child in criterion.items():
            if key == "$or":
                if not any(_match_node(alternative, obj) for alternative in child):
                    return False
            elif not _match_node(child, obj.get(key, _MISSING)):
                return False
        return True
    values = value if isinstance(value, list) else [value]
    return any(_match_one(m, criterion_values=values) for m in criterion)


def _match_one(matcher: Any, *, criterion_values: list[Any]) -> bool:
    if isinstance(matcher, dict):
        ((op, arg),) = matcher.items()
        if op == "exists":
            present = criterion_values != [_MISSING]
            return present if arg else not present
        return any(v is not _MISSING and _operator(op, arg, v) for v in criterion_values)
    return any(v is not _MISSING and _equal(matcher, v) for v in criterion_values)


def _equal(expected: Any, actual: Any) -> bool:
    if expected is None or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, NumberText):
        return isinstance(actual, NumberText) and str(actual) == str(expected)
    return isinstance(actual, str) and not isinstance(actual, NumberText) and actual == expected


def _operator(op: str, arg: Any, value: Any) -> bool:
    is_text = isinstance(value, str) and not isinstance(value, NumberText)
    if op == "prefix":
        return is_text and value.startswith(arg)
    if op == "suffix":
        return is_text and value.endswith(arg)
    if op == "equals-ignore-case":
        return is_text and value.lower() == str(arg).lower()
    if op == "numeric":
        if not isinstance(value, NumberText):
            return False
        number = float(value)
        return all(_compare(number, cmp, bound) for cmp, bound in _numeric_terms(arg))
    # anything-but
    if isinstance(arg, dict):
        ((inner, inner_arg),) = arg.items()
        return not _operator(inner, inner_arg, value)
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_equal(e, value) for e in excluded)


def _compare(number: float, op: str, bound: float) -> bool:
    return {
        "=": number == bound,
        "<": number < bound,
        "<=": number <= bound,
        ">": number > bound,
        ">=": number >= bound,
    }[op]
