"""What each Lambda runtime provides (SDK pins, layer paths, limits), read from ``runtime_facts.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FACTS_FILE = Path(__file__).with_name("runtime_facts.json")


@dataclass(frozen=True)
class PythonRuntimeFacts:
    """A ``pythonX.Y`` runtime: its language version and the packages Lambda puts beside the stdlib."""

    runtime: str
    version: str  # "3.12"
    packages: tuple[str, ...]  # pip requirement strings, runtime client first


@dataclass(frozen=True)
class NodeRuntimeFacts:
    """A ``nodejsNN.x`` runtime: its Node.js major and the AWS SDK v3 packages it ships."""

    runtime: str
    major: int
    sdk_release: str
    sdk_packages: tuple[str, ...]  # npm specs, e.g. "@aws-sdk/client-s3@<=3.1169.0"


@cache
def _facts() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FACTS_FILE.read_text(encoding="utf-8"))
    return data


def python_facts(runtime: str) -> PythonRuntimeFacts:
    """Facts for a ``pythonX.Y`` runtime id (KeyError if the data file does not know it)."""
    py = _facts()["python"]
    entry = py["runtimes"][runtime]
    pins = {**py["runtime_packages"], **py["sdk_packages"]}
    packages = tuple(f"{name}=={ver}" for name, ver in pins.items())
    return PythonRuntimeFacts(runtime, entry["version"], packages)


def node_facts(runtime: str) -> NodeRuntimeFacts:
    """Facts for a ``nodejsNN.x`` runtime id (KeyError if the data file does not know it)."""
    node = _facts()["nodejs"]
    release = node["sdk_release"]
    return NodeRuntimeFacts(
        runtime,
        int(node["runtimes"][runtime]["major"]),
        release,
        tuple(f"{name}@<={release}" for name in node["sdk_packages"]),
    )


def limits(name: str) -> tuple[int, int, int]:
    """``(default, min, max)`` of a sandbox limit in MB: ``ephemeral_storage_mb`` or ``memory_mb``."""
    entry = _facts()["sandbox"][name]
    return int(entry["default"]), int(entry["min"]), int(entry["max"])
