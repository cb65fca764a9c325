"""The machine-readable report: the whole RunResult as JSON, and back.

Keys are the dataclass field names (snake_case), in declaration order, so the layout follows the
dataclasses and changes only when they do (`SCHEMA_VERSION` says which layout a file has). Datetimes are
ISO 8601 strings, bytes are base64, tuples are arrays, non-finite floats are the strings "NaN",
"Infinity" and "-Infinity". Figures derived from the result (verdict, percentiles, objects per hour) sit
under "summary" so a reader need not recompute them; `run_result_from_json` rebuilds the RunResult from
"result" alone.

Example::

    path = write_json_report(result, Path("reports/smoke"))
    again = run_result_from_json(json.loads(path.read_text()))
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.report.format import LATENCY_MARKS, latency_marks, object_stats, status_word
from harness.run.result import RunResult

SCHEMA = "msk-harness/run-report"
SCHEMA_VERSION = 1
JSON_NAME = "report.json"

_PLAIN = frozenset({int, float, str})
INDENT_LIMIT = 20_000  # list items beyond which report.json is written compact (indenting is 5x slower)
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class ReportFormatError(ValueError):
    """A report.json that does not match the RunResult layout; the message names the path that broke."""


def to_jsonable(value: object) -> Any:
    """A dataclass tree as JSON-ready values (dicts in field order, ISO datetimes, base64 bytes)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        if all(type(item) in _PLAIN for item in value) and all(map(math.isfinite, _floats(value))):
            return list(value)  # fast path for the long number lists (latencies)
        return [to_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _floats(values: list[Any] | tuple[Any, ...]) -> list[float]:
    return [item for item in values if type(item) is float]


def report_document(result: RunResult) -> dict[str, Any]:
    """The JSON document: schema tag, derived summary, then the whole result."""
    report = result.verification
    stats = object_stats(report.objects)
    marks = dict(latency_marks(report))
    latency = {label: marks.get(label) for label, _ in LATENCY_MARKS}
    summary = {
        "status": status_word(result),
        "passed": result.passed,
        "stopped_early": result.stopped_early,
        "function_errors": [
            {"error": reason.headline, "count": reason.count, "log_file": reason.log_file}
            for reason in result.function_error_reasons
        ],
        "function_logs": list(result.function_logs),
        "checks_total": len(report.checks),
        "checks_failed": len(report.failed_checks),
        "lost": len(report.lost),
        "corrupted": len(report.corrupted),
        "duplicates_percent": report.duplicates_percent,
        "latency_ms": latency,
        "objects": stats.count,
        "object_bytes_total": stats.total_bytes,
        "objects_per_hour": dict(report.objects_per_hour),
    }
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "summary": to_jsonable(summary),
        "result": to_jsonable(result),
    }


def render_json(result: RunResult) -> str:
    """The report as JSON text (UTF-8, valid JSON: no NaN literals; indented unless the run is large)."""
    report = result.verification
    size = len(report.latencies_ms) + len(report.objects) + len(result.timeline)
    indent = 2 if size <= INDENT_LIMIT else None
    return json.dumps(report_document(result), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def write_json_report(result: RunResult, report_dir: Path) -> Path:
    """Write `<report_dir>/report.json` (the directory must exist) and return its path."""
    path = report_dir / JSON_NAME
    # A lone surrogate (undecodable bytes in an error) becomes a \udcxx JSON escape and reads back the same.
    path.write_text(render_json(result), encoding="utf-8", errors="backslashreplace")
    return path


def run_result_from_json(document: Mapping[str, Any]) -> RunResult:
    """Rebuild the RunResult from a report document (as `json.loads` returns it)."""
    if document.get("schema") != SCHEMA:
        raise ReportFormatError(f"not an msk-harness run report (schema={document.get('schema')!r})")
    if document.get("schema_version") != SCHEMA_VERSION:
        raise ReportFormatError(
            f"report schema_version {document.get('schema_version')!r} is not {SCHEMA_VERSION}"
        )
    rebuilt = _from_jsonable(document.get("result"), RunResult, "result")
    assert isinstance(rebuilt, RunResult)
    return rebuilt


def _from_jsonable(value: Any, hint: Any, where: str) -> Any:
    """Convert `value` to the type `hint` names; `where` is the JSON path for error messages."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        concrete = [option for option in options if option is not type(None)]
        if len(concrete) != 1:
            raise ReportFormatError(f"{where}: unsupported union {hint}")
        return _from_jsonable(value, concrete[0], where)
    if origin is tuple:
        args = typing.get_args(hint)
        _expect(value, list, where)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise ReportFormatError(f"{where}: unsupported tuple type {hint}")
        return tuple(_from_jsonable(item, args[0], f"{where}[{i}]") for i, item in enumerate(value))
    if origin in (dict, Mapping):
        _, item_hint = typing.get_args(hint)
        _expect(value, dict, where)
        return {key: _from_jsonable(item, item_hint, f"{where}.{key}") for key, item in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_from_jsonable(value, hint, where)
    return _scalar_from_jsonable(value, hint, where)


def _dataclass_from_jsonable(value: Any, cls: type[Any], where: str) -> Any:
    _expect(value, dict, where)
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in value:
            kwargs[field.name] = _from_jsonable(value[field.name], hints[field.name], f"{where}.{field.name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ReportFormatError(f"{where}: missing key {field.name!r}")
    return cls(**kwargs)


def _scalar_from_jsonable(value: Any, hint: Any, where: str) -> Any:
    if hint is datetime:
        return _datetime_from_jsonable(value, where)
    if hint is bytes:
        return _bytes_from_jsonable(value, where)
    if hint is float:
        return _float_from_jsonable(value, where)
    if hint is bool:
        _expect(value, bool, where)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ReportFormatError(f"{where}: expected an integer, got {type(value).__name__}")
        return value
    if hint is str:
        _expect(value, str, where)
        return value
    raise ReportFormatError(f"{where}: unsupported type {hint}")


def _datetime_from_jsonable(value: Any, where: str) -> datetime:
    _expect(value, str, where)
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ReportFormatError(f"{where}: {exc}") from None


def _bytes_from_jsonable(value: Any, where: str) -> bytes:
    _expect(value, str, where)
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ReportFormatError(f"{where}: not base64 ({exc})") from None


def _float_from_jsonable(value: Any, where: str) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportFormatError(f"{where}: expected a number, got {type(value).__name__}")
    return float(value)


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind):
        raise ReportFormatError(f"{where}: expected {kind.__name__}, got {type(value).__name__}")
