"""Scenario files: load, validate against schema.json, check semantics, report `file:line: problem`.

Example::

    scenario = load_scenario("scenarios/smoke.yaml")   # raises ScenarioError listing every problem
    scenario.pipeline.event_source.settings["BatchSize"]

    sys.exit(check_scenario("scenarios/smoke.yaml"))   # what `msk-harness validate FILE` runs

The model lives in `harness.scenario.model` (re-exported here); YAML positions in `harness.scenario.source`;
semantic checks in `harness.scenario.build`.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TextIO

import jsonschema
from jsonschema.exceptions import ValidationError

from harness.exits import ExitCode
from harness.resources import shipped_path
from harness.scenario.build import build_scenario
from harness.scenario.limits import clip, size_problem
from harness.scenario.model import (
    BrokerFault,
    ClockSpec,
    CountRange,
    EventSourceSpec,
    Expectations,
    Fault,
    FirehoseFault,
    FirehoseSpec,
    FunctionFault,
    FunctionSpec,
    LoadSpec,
    PipelineSpec,
    RecordMatch,
    S3Fault,
    Scenario,
    TopicSpec,
)
from harness.scenario.source import PathItem, Problem, YamlDocument, parse_yaml

__all__ = [
    "SCHEMA_PATH",
    "BrokerFault",
    "ClockSpec",
    "CountRange",
    "EventSourceSpec",
    "Expectations",
    "Fault",
    "FirehoseFault",
    "FirehoseSpec",
    "FunctionFault",
    "FunctionSpec",
    "LoadSpec",
    "PipelineSpec",
    "RecordMatch",
    "S3Fault",
    "Scenario",
    "ScenarioError",
    "TopicSpec",
    "check_scenario",
    "load_scenario",
    "scenario_schema",
    "validate_text",
]

SCHEMA_PATH = shipped_path("harness.scenario", "schema.json")


class ScenarioError(ValueError):
    """A scenario file is invalid; `problems` holds every `(line, message)` found, sorted by line."""

    def __init__(self, path: Path | str, problems: Iterable[Problem]) -> None:
        self.path = str(path)
        self.problems = sorted(problems)
        super().__init__("\n".join(f"{self.path}:{p.line}: {clip(p.message)}" for p in self.problems))


@cache
def scenario_schema(path: Path = SCHEMA_PATH) -> Mapping[str, Any]:
    """The published JSON Schema (draft 2020-12)."""
    schema: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _where(path: Iterable[PathItem]) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _unknown_keys(error: ValidationError) -> list[str]:
    """Keys of `error.instance` the schema does not list (for additionalProperties errors)."""
    allowed = set(error.schema.get("properties", {})) if isinstance(error.schema, Mapping) else set()
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    return sorted(str(k) for k in instance if k not in allowed)


def _schema_problems(doc: YamlDocument) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(scenario_schema())
    problems: list[Problem] = []
    for error in validator.iter_errors(doc.data):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for name in _unknown_keys(error):
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
                problems.append(
                    Problem(doc.key_line(path, name), f"{_where([*path, name])}: unknown key {name!r}{hint}")
                )
            continue
        message = error.message
        custom = error.schema.get("x-message") if isinstance(error.schema, Mapping) else None
        if custom and error.validator in ("oneOf", "anyOf", "not"):
            message = str(
                custom
            )  # the schema's own words beat "... is not valid under any of the given schemas"
        elif error.validator == "required" and isinstance(error.validator_value, list):
            missing = [n for n in error.validator_value if n not in (error.instance or {})]
            message = f"missing required key {missing[0]!r}" if missing else message
        problems.append(Problem(doc.line_of(path), f"{_where(path)}: {message}"))
    return problems


def validate_text(text: str, path: Path | str = "<scenario>") -> tuple[Scenario | None, list[Problem]]:
    """Parse, schema-validate and build; returns the scenario or the problems (sorted by line)."""
    doc, problems = parse_yaml(text)
    if doc is None:
        return None, problems
    if not isinstance(doc.data, Mapping):
        return None, sorted(
            [*problems, Problem(1, "a scenario must be a YAML mapping (name:, pipeline:, load:, ...)")]
        )
    problems += _schema_problems(doc)
    if problems:
        return None, sorted(problems)
    scenario, semantic = build_scenario(doc, Path(path))
    return scenario, sorted(semantic)


def load_scenario(path: Path | str) -> Scenario:
    """Load and validate a scenario file; raise `ScenarioError` with every `file:line: problem`."""
    file = Path(path)
    try:
        too_big = size_problem(file.stat().st_size) if file.is_file() else None
        if too_big is not None:  # judged before reading: a huge file is never loaded into memory
            raise ScenarioError(file, [Problem(1, too_big)])
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, [Problem(1, f"cannot read the file: {exc}")]) from exc
    scenario, problems = validate_text(text, file)
    if scenario is None or problems:
        raise ScenarioError(file, problems)
    return scenario


def check_scenario(path: Path | str, stderr: TextIO | None = None) -> int:
    """CLI entry: print each problem to stderr as `file:line: message`; return 0 when valid, 2 otherwise."""
    out = stderr if stderr is not None else sys.stderr
    try:
        load_scenario(path)
    except ScenarioError as exc:
        print(str(exc), file=out)
        return ExitCode.BAD_INPUT
    return ExitCode.OK
