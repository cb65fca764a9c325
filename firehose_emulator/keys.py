"""Pure S3 key naming (spec §6): the custom prefix language, its validation (S1-S6, S10) and object names.

``key = <evaluated prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>``; prefixes may hold
``!{timestamp:<Java DateTimeFormatter pattern>}``, ``!{firehose:random-string}``,
``!{firehose:error-output-type}`` and ``!{partitionKeyFromQuery|Lambda:<key>}``. A prefix with no ``!{`` at
all gets ``yyyy/MM/dd/HH/`` appended literally (no ``/`` inserted); an unset prefix is just that time.

Known deviations from AWS:

* Timestamp patterns support the letters y u Y M L d D H h k K m s S a E w (Java semantics, English names,
  week fields as Java's Locale.US: weeks start on Sunday, week 1 holds 1 January). Other letters, ``[``/``]``
  optional sections and ``#`` are rejected at Create/Update (S4, an emulator choice).
* Only the S1 message is AWS's documented text; the S2-S6/S10 messages are the emulator's own wording.
* S6 (512 characters after evaluation) is checked by evaluating at a sample instant chosen for long names
  (Wednesday 30 September 2026 23:59:59) with 11-character random strings and 1-character partition keys.
* Random strings are 11 lowercase hex characters by default (knob ``random_string_style``).

Example::

    evaluate_prefix("data/year=!{timestamp:yyyy}/", instant, random_string=lambda: "5abf82daaa5")
    # "data/year=2026/"
    object_name("orders", 1, instant, "959487e4-754a-46e0-9b2d-f8cf1ce8a226", ".gz")
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firehose_emulator.clock import random_uuid

DEFAULT_TIME_PATTERN = "yyyy/MM/dd/HH/"
MAX_PREFIX_CHARS = 512
RANDOM_STRING_CHARS = 11
S1_MESSAGE = (
    "Ths supplied prefix(es) do not satisfy the following constraint: "
    "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"
)
_CONSTRAINT = "The supplied prefix(es) do not satisfy the following constraint: "
_NAMESPACES = ("timestamp", "firehose", "partitionKeyFromQuery", "partitionKeyFromLambda")
_FIREHOSE_VALUES = ("random-string", "error-output-type")
_SAMPLE_INSTANT = datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=UTC)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Most letters a field may repeat, as Java's DateTimeFormatterBuilder enforces ("Too many pattern letters").
_MAX_LETTERS = {
    "y": 19, "u": 19, "Y": 19, "M": 5, "L": 5, "d": 2, "D": 3, "H": 2, "h": 2, "k": 2, "K": 2,
    "m": 2, "s": 2, "S": 9, "a": 1, "E": 5, "w": 2,
}  # fmt: skip


class PrefixError(ValueError):
    """An invalid Prefix/ErrorOutputPrefix; `message` is the text for InvalidArgumentException."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Literal:
    """Literal prefix text."""

    text: str


@dataclass(frozen=True)
class Expression:
    """One ``!{namespace:value}`` expression (timestamp patterns pre-compiled into `fields`)."""

    namespace: str
    value: str
    fields: tuple[tuple[str, int] | str, ...] = ()


Part = Literal | Expression


def parse_prefix(prefix: str) -> tuple[Part, ...]:
    """Split a prefix into literals and expressions; PrefixError (S4) when an expression is malformed."""
    parts: list[Part] = []
    position = 0
    while True:
        start = prefix.find("!{", position)
        if start < 0:
            if position < len(prefix):
                parts.append(Literal(prefix[position:]))
            return tuple(parts)
        if start > position:
            parts.append(Literal(prefix[position:start]))
        end = prefix.find("}", start + 2)
        if end < 0:
            raise PrefixError(f"{_CONSTRAINT}expression starting at index {start} is not closed with '}}'")
        parts.append(_parse_expression(prefix[start + 2 : end]))
        position = end + 1


def _parse_expression(body: str) -> Expression:
    namespace, colon, value = body.partition(":")
    if not colon or namespace not in _NAMESPACES:
        raise PrefixError(
            f"{_CONSTRAINT}unsupported expression '!{{{body}}}'; the namespace must be one of "
            + ", ".join(_NAMESPACES)
        )
    if namespace == "firehose" and value not in _FIREHOSE_VALUES:
        raise PrefixError(
            f"{_CONSTRAINT}unsupported expression '!{{{body}}}'; firehose: takes "
            + " or ".join(_FIREHOSE_VALUES)
        )
    if namespace == "timestamp":
        return Expression(namespace, value, compile_timestamp_pattern(value))
    if namespace.startswith("partitionKeyFrom") and not value:
        raise PrefixError(f"{_CONSTRAINT}'!{{{body}}}' needs a partition key name")
    return Expression(namespace, value)


def compile_timestamp_pattern(pattern: str) -> tuple[tuple[str, int] | str, ...]:
    """Tokenise a Java DateTimeFormatter pattern into (letter, count) fields and literal strings."""
    if not pattern:
        raise PrefixError(f"{_CONSTRAINT}'!{{timestamp:}}' needs a pattern")
    tokens: list[tuple[str, int] | str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            text, i = _quoted(pattern, i)
            tokens.append(text)
        elif char.isascii() and char.isalpha():
            run = i
            while run < len(pattern) and pattern[run] == char:
                run += 1
            count = run - i
            if char not in _MAX_LETTERS:
                raise PrefixError(
                    f"{_CONSTRAINT}unsupported timestamp pattern letter '{char}' in '{pattern}'"
                )
            if count > _MAX_LETTERS[char]:
                raise PrefixError(f"{_CONSTRAINT}too many pattern letters '{char * count}' in '{pattern}'")
            tokens.append((char, count))
            i = run
        elif char in "[]{}#":
            raise PrefixError(f"{_CONSTRAINT}unsupported character '{char}' in timestamp pattern '{pattern}'")
        else:
            tokens.append(char)
            i += 1
    return tuple(tokens)


def _quoted(pattern: str, start: int) -> tuple[str, int]:
    """Read quoted text at `start` (a quote); '' is one quote. Returns (text, index after it)."""
    if pattern.startswith("''", start):
        return "'", start + 2
    text: list[str] = []
    i = start + 1
    while i < len(pattern):
        if pattern[i] == "'":
            if pattern.startswith("''", i):
                text.append("'")
                i += 2
                continue
            return "".join(text), i + 1
        text.append(pattern[i])
        i += 1
    raise PrefixError(f"{_CONSTRAINT}unterminated quote in timestamp pattern '{pattern}'")


def _week_start(year: int) -> date:
    """Sunday on or before 1 January of `year` (start of week 1 under Locale.US week rules)."""
    first = date(year, 1, 1)
    return first - timedelta(days=(first.weekday() + 1) % 7)


def _week_based(day: date) -> tuple[int, int]:
    """(week-based-year, week-of-week-based-year) with Sunday-start weeks and week 1 holding 1 January."""
    year = day.year + 1 if day >= _week_start(day.year + 1) else day.year
    return year, (day - _week_start(year)).days // 7 + 1


def _year(value: int, count: int) -> str:
    if count == 2:
        return f"{value % 100:02d}"
    return str(value).zfill(count)


def _field(letter: str, count: int, instant: datetime) -> str:
    if letter in "yu":
        return _year(instant.year, count)
    if letter == "Y":
        return _year(_week_based(instant.date())[0], count)
    if letter == "w":
        return str(_week_based(instant.date())[1]).zfill(count)
    if letter in "ML":
        month = _MONTHS[instant.month - 1]
        return {3: month[:3], 4: month, 5: month[0]}.get(count, str(instant.month).zfill(count))
    if letter == "E":
        day = _DAYS[instant.weekday()]
        return {4: day, 5: day[0]}.get(count, day[:3])
    if letter == "a":
        return "AM" if instant.hour < 12 else "PM"
    if letter == "S":
        return f"{instant.microsecond:06d}000"[:count]
    numbers = {
        "d": instant.day,
        "D": instant.timetuple().tm_yday,
        "H": instant.hour,
        "h": instant.hour % 12 or 12,
        "k": instant.hour or 24,
        "K": instant.hour % 12,
        "m": instant.minute,
        "s": instant.second,
    }
    return str(numbers[letter]).zfill(count)


def format_timestamp(fields: tuple[tuple[str, int] | str, ...], instant: datetime) -> str:
    """Render compiled pattern fields for `instant` (already in the target time zone)."""
    return "".join(token if isinstance(token, str) else _field(*token, instant) for token in fields)


def format_java_pattern(pattern: str, instant: datetime) -> str:
    """Format `instant` with a Java DateTimeFormatter pattern, e.g. ``yyyy/MM/dd/HH/``."""
    return format_timestamp(compile_timestamp_pattern(pattern), instant)


def _expressions(parts: tuple[Part, ...]) -> list[Expression]:
    return [part for part in parts if isinstance(part, Expression)]


def _needs_default_time(parts: tuple[Part, ...], mode: str) -> bool:
    expressions = _expressions(parts)
    if mode == "no_expressions":
        return not expressions
    if mode == "no_timestamp_expression":
        return not any(e.namespace == "timestamp" for e in expressions)
    raise ValueError(
        f"default_time_append_mode must be no_expressions or no_timestamp_expression, got {mode!r}"
    )


def _render(
    parts: tuple[Part, ...],
    instant: datetime,
    random_string: Callable[[], str],
    partition_keys: Mapping[str, str] | None,
    error_output_type: str | None,
) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, Literal):
            out.append(part.text)
        elif part.namespace == "timestamp":
            out.append(format_timestamp(part.fields, instant))
        elif part.value == "random-string":
            out.append(random_string())
        elif part.value == "error-output-type" and part.namespace == "firehose":
            if error_output_type is None:
                raise PrefixError(f"{_CONSTRAINT}Prefix cannot contain !{{firehose:error-output-type}}")
            out.append(error_output_type)
        else:
            if partition_keys is None or part.value not in partition_keys:
                raise PrefixError(f"partition key '{part.value}' has no value for this record")
            out.append(partition_keys[part.value])
    return "".join(out)


def evaluate_prefix(
    prefix: str | None,
    instant: datetime,
    *,
    random_string: Callable[[], str],
    partition_keys: Mapping[str, str] | None = None,
    time_append_mode: str = "no_expressions",
) -> str:
    """The evaluated data prefix for the oldest-arrival `instant` (already in the target time zone)."""
    parts = parse_prefix(prefix or "")
    text = _render(parts, instant, random_string, partition_keys, None)
    if _needs_default_time(parts, time_append_mode):
        text += format_java_pattern(DEFAULT_TIME_PATTERN, instant)
    return text


def evaluate_error_prefix(
    error_output_prefix: str | None,
    instant: datetime,
    *,
    error_output_type: str,
    random_string: Callable[[], str],
    time_append_mode: str = "no_expressions",
    separator: str = "/",
) -> str:
    """The evaluated ErrorOutputPrefix; expression-free ones become ``<literal><type><sep>yyyy/MM/dd/HH/``."""
    parts = parse_prefix(error_output_prefix or "")
    if not _expressions(parts):
        return (
            (error_output_prefix or "")
            + error_output_type
            + separator
            + format_java_pattern(DEFAULT_TIME_PATTERN, instant)
        )
    text = _render(parts, instant, random_string, None, error_output_type)
    if _needs_default_time(parts, time_append_mode):
        text += format_java_pattern(DEFAULT_TIME_PATTERN, instant)
    return text


def object_name(
    stream_name: str, version_id: int, instant: datetime, object_uuid: str, extension: str
) -> str:
    """``<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>`` (spec §6.1)."""
    return f"{stream_name}-{version_id}-{instant:%Y-%m-%d-%H-%M-%S}-{object_uuid}{extension}"


def to_time_zone(instant: datetime, custom_time_zone: str) -> datetime:
    """`instant` in CustomTimeZone ("" = UTC); an unknown zone raises PrefixError."""
    if not custom_time_zone:
        return instant.astimezone(UTC)
    try:
        return instant.astimezone(ZoneInfo(custom_time_zone))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise PrefixError(f"CustomTimeZone '{custom_time_zone}' is not a supported time zone") from error


def random_string(rng: random.Random, style: str = "hex") -> str:
    """An 11-character random string for ``!{firehose:random-string}`` (spec §6.5)."""
    if style == "hex":
        return f"{rng.getrandbits(4 * RANDOM_STRING_CHARS):011x}"
    if style == "uuid_prefix":
        return random_uuid(rng)[:RANDOM_STRING_CHARS]
    if style == "alnum":
        return "".join(rng.choices("0123456789abcdefghijklmnopqrstuvwxyz", k=RANDOM_STRING_CHARS))
    raise ValueError(f"random_string_style must be hex, uuid_prefix or alnum, got {style!r}")


def _check_length(name: str, parts: tuple[Part, ...]) -> None:
    sample = _render(parts, _SAMPLE_INSTANT, lambda: "x" * RANDOM_STRING_CHARS, _OneCharKeys(), "x")
    if len(sample) > MAX_PREFIX_CHARS:
        raise PrefixError(
            f"{_CONSTRAINT}{name} cannot be longer than {MAX_PREFIX_CHARS} characters after evaluation"
        )


class _OneCharKeys(dict[str, str]):
    """Partition keys that evaluate to one character each (for the S6 length check)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "x"


def validate_prefixes(
    prefix: str | None, error_output_prefix: str | None, dynamic_partitioning: bool
) -> None:
    """Check S1-S6 and S10 for Create/Update; PrefixError carries the InvalidArgumentException message."""
    data_parts = parse_prefix(prefix or "")
    error_parts = parse_prefix(error_output_prefix or "")
    data_expressions = _expressions(data_parts)
    error_expressions = _expressions(error_parts)
    if any(e.namespace == "firehose" and e.value == "error-output-type" for e in data_expressions):
        raise PrefixError(f"{_CONSTRAINT}Prefix cannot contain !{{firehose:error-output-type}}")
    if any(e.namespace.startswith("partitionKeyFrom") for e in error_expressions):
        raise PrefixError(f"{_CONSTRAINT}ErrorOutputPrefix cannot contain partitionKeyFromQuery or "
                          "partitionKeyFromLambda expressions")  # fmt: skip
    if error_expressions and not any(
        e.namespace == "firehose" and e.value == "error-output-type" for e in error_expressions
    ):
        raise PrefixError(
            f"{_CONSTRAINT}ErrorOutputPrefix must contain !{{firehose:error-output-type}} when it contains "
            "expressions"
        )
    if data_expressions and not error_output_prefix:
        raise PrefixError(S1_MESSAGE)
    has_partition_keys = any(e.namespace.startswith("partitionKeyFrom") for e in data_expressions)
    if dynamic_partitioning and not has_partition_keys:
        raise PrefixError(
            f"{_CONSTRAINT}Prefix must contain partitionKeyFromQuery or partitionKeyFromLambda expressions "
            "when Dynamic Partitioning is enabled"
        )
    if dynamic_partitioning and not error_output_prefix:
        raise PrefixError(
            f"{_CONSTRAINT}ErrorOutputPrefix cannot be null or empty when Dynamic Partitioning is enabled"
        )
    _check_length("Prefix", data_parts)
    _check_length("ErrorOutputPrefix", error_parts)
