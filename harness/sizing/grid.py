"""Sweep grids: `--grid KEY=V1,V2,...` axes, and the scenario variants they make.

A KEY is a friendly alias (ALIASES) or a dotted path into the scenario file (`pipeline.topic.partitions`);
list items cannot be addressed. Values are read as YAML scalars (`100` is a number, `GZIP` text). Each variant
is the scenario file's data with the overrides applied, validated by the same code as `msk-harness run`
(schema + semantic checks), so a value AWS or the schema rejects fails the sweep before anything runs, naming
the grid value: `--grid buffer_mb=200: pipeline.firehose.BufferingHints.SizeInMBs: 200 is greater than ...`.

Example::

    axes = parse_grid(["batch_size=100,500", "buffer_mb=1,5"])
    variants = build_variants(Path("scenarios/sizing/archive-sweep.yaml"), axes)   # 4 variants
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.scenario import validate_text
from harness.scenario.model import Scenario
from harness.scenario.source import parse_yaml

ALIASES: Mapping[str, tuple[str, ...]] = {
    "batch_size": ("pipeline", "event_source", "BatchSize"),
    "batch_window_s": ("pipeline", "event_source", "MaximumBatchingWindowInSeconds"),
    "buffer_mb": ("pipeline", "firehose", "BufferingHints", "SizeInMBs"),
    "interval_s": ("pipeline", "firehose", "BufferingHints", "IntervalInSeconds"),
    "memory_mb": ("pipeline", "function", "memory"),
    "compression": ("pipeline", "firehose", "CompressionFormat"),
}
MAX_VARIANTS = 256


class GridError(ValueError):
    """A bad --grid argument, or a variant the scenario validation rejects (bad input: exit 2)."""


@dataclass(frozen=True)
class GridAxis:
    """One --grid argument: its key as given, the scenario path it sets and the values to try."""

    key: str
    path: tuple[str, ...]
    values: tuple[Any, ...]
    texts: tuple[str, ...]  # the values as typed, for names and messages


@dataclass(frozen=True)
class Variant:
    """One point of the grid: its overrides (key, value text) and the validated scenario."""

    index: int
    overrides: tuple[tuple[str, str], ...]
    scenario: Scenario

    @property
    def name(self) -> str:
        """`batch_size=100 buffer_mb=1` (or `base` for an empty grid)."""
        return " ".join(f"{key}={text}" for key, text in self.overrides) or "base"


def parse_axis(spec: str) -> GridAxis:
    """One `KEY=V1,V2,...` argument."""
    key, sep, values = spec.partition("=")
    key = key.strip()
    if not sep or not key:
        raise GridError(
            f"--grid {spec}: expected KEY=V1,V2,... (keys: {', '.join(ALIASES)} or a dotted path)"
        )
    if key in ALIASES:
        path = ALIASES[key]
    elif "." in key and all(part.strip() for part in key.split(".")):
        path = tuple(part.strip() for part in key.split("."))
    else:
        raise GridError(
            f"--grid {spec}: unknown key {key!r}; use one of {', '.join(ALIASES)} or a dotted path"
        )
    texts = tuple(text.strip() for text in values.split(","))
    if not texts or any(not text for text in texts):
        raise GridError(f"--grid {spec}: empty value in {values!r}")
    if len(set(texts)) != len(texts):
        raise GridError(f"--grid {spec}: a value is listed twice")
    try:
        parsed = tuple(yaml.safe_load(text) for text in texts)
    except yaml.YAMLError as exc:
        raise GridError(f"--grid {spec}: {exc}") from None
    return GridAxis(key, path, parsed, texts)


def parse_grid(specs: Sequence[str]) -> tuple[GridAxis, ...]:
    """Every --grid argument; a key (or path) given twice is an error."""
    axes = tuple(parse_axis(spec) for spec in specs)
    seen: dict[tuple[str, ...], str] = {}
    for axis in axes:
        if axis.path in seen:
            raise GridError(f"--grid {axis.key}: sets the same setting as --grid {seen[axis.path]}")
        seen[axis.path] = axis.key
    count = 1
    for axis in axes:
        count *= len(axis.values)
    if count > MAX_VARIANTS:
        raise GridError(f"the grid makes {count} variants, more than {MAX_VARIANTS}")
    return axes


def set_path(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set `data[path[0]]...[path[-1]] = value`, creating missing mappings; a non-mapping on the way fails."""
    node = data
    for depth, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise GridError(f"{'.'.join(path[: depth + 1])} is not a mapping, cannot set {'.'.join(path)}")
        node = child
    node[path[-1]] = value


def build_variants(
    path: Path, axes: Sequence[GridAxis], *, speed: float | None = None, text: str | None = None
) -> list[Variant]:
    """Every combination of the axes' values applied to the scenario file at `path`, each validated."""
    source = path.read_text(encoding="utf-8") if text is None else text
    doc, problems = parse_yaml(source)
    if doc is None or problems or not isinstance(doc.data, dict):
        raise GridError(f"{path}: " + "; ".join(f"line {p.line}: {p.message}" for p in problems))
    base: dict[str, Any] = doc.data
    if speed is not None:
        base = _with(base, [(("clock", "speed"), speed)], path, f"--speed {speed:g}")
        _validated(base, path, f"--speed {speed:g}")
    for axis in axes:  # each value alone first, so an error names the grid value that caused it
        for value, text_value in zip(axis.values, axis.texts, strict=True):
            _validated(
                _with(base, [(axis.path, value)], path, f"--grid {axis.key}={text_value}"),
                path,
                f"--grid {axis.key}={text_value}",
            )
    variants = []
    for index, combo in enumerate(itertools.product(*(range(len(axis.values)) for axis in axes))):
        overrides = [(axis.path, axis.values[i]) for axis, i in zip(axes, combo, strict=True)]
        shown = tuple((axis.key, axis.texts[i]) for axis, i in zip(axes, combo, strict=True))
        label = "variant " + (" ".join(f"{k}={v}" for k, v in shown) or "base")
        scenario = _validated(_with(base, overrides, path, label), path, label)
        variants.append(Variant(index, shown, scenario))
    return variants


def _with(
    base: dict[str, Any], overrides: Sequence[tuple[Sequence[str], Any]], path: Path, label: str
) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for where, value in overrides:
        try:
            set_path(data, where, value)
        except GridError as exc:
            raise GridError(f"{label}: {exc}") from None
    return data


def _validated(data: dict[str, Any], path: Path, label: str) -> Scenario:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    scenario, problems = validate_text(text, path)
    if scenario is None or problems:
        raise GridError(f"{label}: " + "; ".join(p.message for p in problems))
    return scenario


def scenario_rate(scenario: Scenario) -> float:
    """The scenario's mean send rate in records per clock second (expected records / send seconds)."""
    seconds = scenario.load.send_seconds
    if seconds <= 0:
        raise GridError(
            f"{scenario.path}: the load sends for {seconds:g} s; a rate needs a positive duration"
        )
    return scenario.load.expected_records / seconds
