"""`run --backend external` against what `msk-harness up` started: endpoints from up's variables.

`up` prints (and with `--env-file` writes) `export KAFKA_BOOTSTRAP_SERVERS=... AWS_ENDPOINT_URL_S3=...`
lines. When a run uses external Kafka or S3 and the scenario names no endpoint, these variables fill it in;
an endpoint written in the scenario wins.

Example::

    env = {**os.environ, **read_env_file(Path(".msk.env"))}
    scenario = with_external_endpoints(load_scenario(path), "external", env)
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from harness.scenario.model import Scenario

__all__ = ["EnvFileError", "read_env_file", "with_external_endpoints"]


class EnvFileError(ValueError):
    """An env file line is not `[export ]KEY=VALUE`; the message says `file:line`."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE pairs of an env file as `up --env-file` writes it (`export` and shell quoting allowed)."""
    out: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip().isidentifier():
            raise EnvFileError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        words = shlex.split(value) if value else [""]
        out[key.strip()] = words[0] if words else ""
    return out


def with_external_endpoints(scenario: Scenario, backend: str | None, environ: Mapping[str, str]) -> Scenario:
    """The scenario with external endpoints it leaves open taken from KAFKA_BOOTSTRAP_SERVERS /
    AWS_ENDPOINT_URL_S3 (and AWS_REGION)."""
    backends = scenario.pipeline.backends
    kafka, s3 = backends.kafka, backends.s3
    if (backend or kafka.kind) == "external" and not kafka.bootstrap_servers:
        servers = environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
        kafka = replace(kafka, bootstrap_servers=tuple(s for s in servers.split(",") if s))
    if (backend or s3.kind) == "external" and not s3.endpoint:
        endpoint = environ.get("AWS_ENDPOINT_URL_S3") or None
        s3 = replace(s3, endpoint=endpoint, region=environ.get("AWS_REGION", s3.region))
    if (kafka, s3) == (backends.kafka, backends.s3):
        return scenario
    pipeline = replace(scenario.pipeline, backends=replace(backends, kafka=kafka, s3=s3))
    return replace(scenario, pipeline=pipeline)
