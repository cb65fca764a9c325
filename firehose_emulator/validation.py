"""Server-side validation: modelled constraints from botocore's Firehose model (spec §3.1) and semantic rules.

The shape rules (required, lengths, ranges, patterns, enums) are read from botocore's `service-2.json`,
which the
spec names as authoritative, so every modelled constraint maps to one `ValidationException` text. Patterns are
Java regexes matched in full (`re.fullmatch`). The semantic rules S7-S18 live in `validation_rules.py`.

Known deviations from AWS:

* Java's `\\p{L}`, `\\p{N}`, `\\p{Z}` classes are translated to Python's `\\w` / `\\s` (close, not identical).
* A member of the wrong JSON type gives `SerializationException` at once instead of being collected.
* List values in messages render as `[…]` rather than Java's `toString` of every element.

Example::

    validator = ShapeValidator()
    validator.validate("CreateDeliveryStream", {"DeliveryStreamName": "x" * 65})  # raises ValidationException
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from firehose_emulator.errors import SerializationException, ValidationException

# Java regex constructs that Python's `re` does not know, mapped to near equivalents.
_JAVA_CLASS_TRANSLATIONS = (("\\p{L}", "\\w"), ("\\p{N}", "\\d"), ("\\p{Z}", "\\s"))


@functools.cache
def compile_java_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a model pattern (Java syntax) for full-match use."""
    for java, python in _JAVA_CLASS_TRANSLATIONS:
        pattern = pattern.replace(java, python)
    return re.compile(pattern)


def blob_repr(length: int) -> str:
    """How AWS (Java) renders a blob value in a validation message."""
    return f"java.nio.HeapByteBuffer[pos=0 lim={length} cap={length}]"


def lower_camel(member: str) -> str:
    """`ExtendedS3DestinationConfiguration` -> `extendedS3DestinationConfiguration` (paths in messages)."""
    return member[:1].lower() + member[1:]


def violation(value: str | None, path: str, constraint: str) -> str:
    """One item of a ValidationException message."""
    rendered = "null" if value is None else f"'{value}'"
    return f"Value {rendered} at '{path}' failed to satisfy constraint: {constraint}"


def validation_error(violations: list[str]) -> ValidationException:
    """Join violations the way AWS does: `N validation error(s) detected: a; b`."""
    noun = "error" if len(violations) == 1 else "errors"
    return ValidationException(f"{len(violations)} validation {noun} detected: " + "; ".join(violations))


@dataclass(frozen=True)
class ValidationSettings:
    """Knobs that change validation messages (spec Appendix A)."""

    position_base: int = 1


class ShapeValidator:
    """Checks request members against the Firehose service model and collects every violation."""

    def __init__(self, settings: ValidationSettings | None = None) -> None:
        session = botocore.session.get_session()
        self._model = session.get_service_model("firehose")
        self._settings = settings or ValidationSettings()

    def validate(self, operation: str, params: dict[str, Any]) -> None:
        """Raise ValidationException (all violations) or SerializationException (wrong JSON type)."""
        shape = self._model.operation_model(operation).input_shape
        if shape is None:
            return
        found: list[str] = []
        self._structure(shape, params, "", found)
        if found:
            raise validation_error(found)

    def _check(self, shape: Shape, value: Any, path: str, found: list[str]) -> None:
        if isinstance(shape, StructureShape):
            if not isinstance(value, dict):
                raise SerializationException(f"Expected an object at '{path}'")
            self._structure(shape, value, path, found)
        elif isinstance(shape, ListShape):
            self._list(shape, value, path, found)
        elif isinstance(shape, MapShape):
            if not isinstance(value, dict):
                raise SerializationException(f"Expected an object at '{path}'")
        else:
            self._scalar(shape, value, path, found)

    def _structure(self, shape: StructureShape, value: dict[str, Any], path: str, found: list[str]) -> None:
        required = shape.metadata.get("required", [])
        for name, member in shape.members.items():
            member_path = f"{path}.{lower_camel(name)}" if path else lower_camel(name)
            member_value = value.get(name)
            if member_value is None:
                if name in required:
                    found.append(violation(None, member_path, "Member must not be null"))
                continue
            self._check(member, member_value, member_path, found)

    def _list(self, shape: ListShape, value: Any, path: str, found: list[str]) -> None:
        if not isinstance(value, list):
            raise SerializationException(f"Expected a list at '{path}'")
        meta = shape.metadata
        if "min" in meta and len(value) < meta["min"]:
            found.append(
                violation("[…]", path, f"Member must have length greater than or equal to {meta['min']}")
            )
        if "max" in meta and len(value) > meta["max"]:
            found.append(
                violation("[…]", path, f"Member must have length less than or equal to {meta['max']}")
            )
        base = self._settings.position_base
        for index, item in enumerate(value):
            item_path = f"{path}.{index + base}.member"
            if item is None:
                found.append(violation(None, item_path, "Member must not be null"))
                continue
            self._check(shape.member, item, item_path, found)

    def _scalar(self, shape: Shape, value: Any, path: str, found: list[str]) -> None:
        kind = shape.type_name
        meta = shape.metadata
        if kind == "string":
            if not isinstance(value, str):
                raise SerializationException(f"Expected a string at '{path}'")
            self._string(meta, value, path, found)
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise SerializationException(f"Expected an integer at '{path}'")
            self._integer(meta, value, path, found)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise SerializationException(f"Expected a boolean at '{path}'")
        elif kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SerializationException(f"Expected epoch seconds at '{path}'")
        elif kind == "blob":
            self._blob(meta, value, path, found)

    @staticmethod
    def _integer(meta: dict[str, Any], value: int, path: str, found: list[str]) -> None:
        if "min" in meta and value < meta["min"]:
            found.append(
                violation(str(value), path, f"Member must have value greater than or equal to {meta['min']}")
            )
        if "max" in meta and value > meta["max"]:
            found.append(
                violation(str(value), path, f"Member must have value less than or equal to {meta['max']}")
            )

    @staticmethod
    def _blob(meta: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
        length = len(value) if isinstance(value, bytes | str) else 0
        if "max" in meta and length > meta["max"]:
            found.append(
                violation(
                    blob_repr(length), path, f"Member must have length less than or equal to {meta['max']}"
                )
            )

    @staticmethod
    def _string(meta: dict[str, Any], value: str, path: str, found: list[str]) -> None:
        if "enum" in meta and value not in meta["enum"]:
            found.append(
                violation(
                    value, path, "Member must satisfy enum value set: [" + ", ".join(meta["enum"]) + "]"
                )
            )
            return
        if "min" in meta and len(value) < meta["min"]:
            found.append(
                violation(value, path, f"Member must have length greater than or equal to {meta['min']}")
            )
        if "max" in meta and len(value) > meta["max"]:
            found.append(
                violation(value, path, f"Member must have length less than or equal to {meta['max']}")
            )
        pattern = meta.get("pattern")
        if pattern and compile_java_pattern(pattern).fullmatch(value) is None:
            found.append(violation(value, path, f"Member must satisfy regular expression pattern: {pattern}"))


STREAM_NAME_PATTERN = "[a-zA-Z0-9_.-]+"
MAX_RECORD_BYTES = 1_024_000
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4_194_304


def stream_name_violations(name: Any) -> list[str]:
    """The violations of `deliveryStreamName` (the put fast path checks only this and the records)."""
    if name is None:
        return [violation(None, "deliveryStreamName", "Member must not be null")]
    if not isinstance(name, str):
        raise SerializationException("Expected a string at 'deliveryStreamName'")
    found: list[str] = []
    if len(name) < 1:
        found.append(
            violation(name, "deliveryStreamName", "Member must have length greater than or equal to 1")
        )
    if len(name) > 64:
        found.append(
            violation(name, "deliveryStreamName", "Member must have length less than or equal to 64")
        )
    if re.fullmatch(STREAM_NAME_PATTERN, name) is None:
        found.append(
            violation(
                name,
                "deliveryStreamName",
                f"Member must satisfy regular expression pattern: {STREAM_NAME_PATTERN}",
            )
        )
    return found


def record_size_violations(sizes: list[int], list_path: str | None, base: int, single_path: str) -> list[str]:
    """Violations for records over 1,024,000 decoded bytes (`records.<i>.member.data` or `record.data`)."""
    found: list[str] = []
    for index, size in enumerate(sizes):
        if size > MAX_RECORD_BYTES:
            path = f"{list_path}.{index + base}.member.data" if list_path else single_path
            found.append(
                violation(
                    blob_repr(size), path, f"Member must have length less than or equal to {MAX_RECORD_BYTES}"
                )
            )
    return found
