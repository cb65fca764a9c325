"""`msk-harness doctor`: what this machine has for the harness, and how to fix what is missing.

The embedded stack needs Python packages (boto3, moto, kafka-python), Java 17+ and either the cached Kafka
jars, ``KAFKA_HOME`` or Maven to fetch the jars once. Node.js (JavaScript Lambdas), a Python of each
``pythonX.Y`` runtime's version, and Docker (Docker backends) are optional and reported as such.

Example::

    findings = diagnose()
    print(render_plain(findings)); exit(0 if embedded_stack_can_run(findings) else 1)
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from harness.backends.docker import docker_unreachable_reason
from harness.backends.kafka.dist import (
    KAFKA_VERSION,
    MIN_JAVA_MAJOR,
    KafkaDistError,
    cached_dist_dir,
    find_java,
    java_major_version,
    resolve_distribution,
)
from harness.runtime import selfcheck
from harness.runtime.provision import find_interpreter

_REQUIRED_MODULES = {
    "boto3": "boto3",
    "moto": "moto[server]",
    "kafka": "kafka-python",
    "werkzeug": "moto[server]",
    "awslambdaric": "awslambdaric",
}


@dataclass(frozen=True)
class Finding:
    """One checked thing: whether it is fine, what was seen, how to fix it, and whether the stack needs it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _version_of(argv: list[str], env: Mapping[str, str]) -> str | None:
    # First line of `tool --version`, or None when the tool does not run.
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False, env=dict(env))
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if out.returncode == 0 and text else None


def check_python_packages() -> Finding:
    """The Python packages the embedded stack imports."""
    missing = sorted(
        {pip for module, pip in _REQUIRED_MODULES.items() if importlib.util.find_spec(module) is None}
    )
    version = ".".join(map(str, sys.version_info[:3]))
    if missing:
        return Finding(
            "python",
            False,
            f"Python {version}; missing {', '.join(missing)}",
            f"pip install {' '.join(repr(m) if '[' in m else m for m in missing)}",
        )
    return Finding("python", True, f"Python {version} with boto3, moto, kafka-python")


def check_python_runtime(runtime: str, env: Mapping[str, str]) -> Finding:
    """Whether a `runtime` function will run on an interpreter of its own version."""
    version = runtime.removeprefix("python")
    interpreter, full, matches = find_interpreter(version, env)
    if matches:
        return Finding(runtime, True, f"CPython {full} ({interpreter})", required=False)
    return Finding(
        runtime,
        False,
        f"no Python {version}: {runtime} functions run on the harness's Python {full}",
        f"pyenv install {version} (or set MSK_HARNESS_PYTHON_{version.replace('.', '_')} to an interpreter)",
        required=False,
    )


def check_lambda_runtime() -> Finding:
    """A real no-op Python function started through awslambdaric and invoked once."""
    if importlib.util.find_spec("awslambdaric") is None:
        return Finding("lambda runtime", False, "awslambdaric is not installed", "pip install awslambdaric")
    ok, detail = selfcheck.check_python_runtime()
    return Finding("lambda runtime", ok, detail, "" if ok else "see the runtime's log lines above")


def check_java(env: Mapping[str, str]) -> Finding:
    """Java 17+ for the embedded broker."""
    fix = "apt-get install openjdk-17-jdk-headless (or set JAVA_HOME to a JDK 17+)"
    try:
        java = find_java(env)
        major = java_major_version(java)
    except KafkaDistError as exc:
        return Finding("java", False, str(exc), fix)
    if major < MIN_JAVA_MAJOR:
        return Finding("java", False, f"{java} is Java {major}; the broker needs {MIN_JAVA_MAJOR}+", fix)
    return Finding("java", True, f"Java {major} at {java}")


def check_kafka_jars(env: Mapping[str, str], maven_ok: bool) -> Finding:
    """Kafka jars: KAFKA_HOME, the per-user cache, or Maven to fetch them on first use."""
    try:
        dist = resolve_distribution(env, fetch=False)
    except KafkaDistError as exc:
        if env.get("KAFKA_HOME"):
            return Finding("kafka jars", False, str(exc), "fix or unset KAFKA_HOME")
        where = cached_dist_dir(env)
        if maven_ok:
            return Finding(
                "kafka jars",
                True,
                f"Kafka {KAFKA_VERSION}: not cached yet; will be fetched on first "
                f"use into {where} (or now: python -m harness.backends.kafka.dist fetch)",
            )
        return Finding(
            "kafka jars",
            False,
            f"Kafka {KAFKA_VERSION} not cached in {where} and Maven is missing",
            "apt-get install maven (to fetch the jars once), or set KAFKA_HOME to a Kafka distribution",
        )
    except Exception as exc:  # noqa: BLE001 - e.g. no java: resolve_distribution looks for it first
        return Finding("kafka jars", False, f"cannot tell: {exc}", "fix the Java finding first")
    return Finding("kafka jars", True, f"Kafka {dist.version} from {dist.source} at {dist.lib_dir}")


def diagnose(env: Mapping[str, str] | None = None) -> list[Finding]:
    """Every check, in the order a person would fix them."""
    env = os.environ if env is None else env
    findings = [check_python_packages(), check_lambda_runtime(), check_java(env)]
    findings += check_maven_and_jars(env)
    findings += [check_node(env)]
    findings += [check_python_runtime(runtime, env) for runtime in ("python3.11", "python3.12", "python3.13")]
    findings += [check_docker(), check_testcontainers()]
    return findings


def check_maven_and_jars(env: Mapping[str, str]) -> list[Finding]:
    """Maven (required only while the Kafka jars are missing), the jars, and KAFKA_HOME when set."""
    mvn = shutil.which("mvn", path=env.get("PATH", ""))
    mvn_version = _version_of([mvn, "--version"], env) if mvn else None
    maven_ok = mvn_version is not None
    jars = check_kafka_jars(env, maven_ok)
    jars_present = jars.ok and "will be fetched" not in jars.detail
    maven_detail = re.sub(r"\x1b\[[0-9;]*m", "", mvn_version) if mvn_version else "not found"
    findings = [
        Finding(
            "maven",
            maven_ok,
            maven_detail,
            "" if maven_ok else "apt-get install maven (needed once, to fetch the Kafka jars)",
            required=not jars_present,
        ),
        jars,
    ]
    if env.get("KAFKA_HOME"):
        findings.append(Finding("KAFKA_HOME", jars.ok, env["KAFKA_HOME"], "" if jars.ok else jars.fix))
    return findings


def check_node(env: Mapping[str, str]) -> Finding:
    """Node.js, needed only for JavaScript Lambdas."""
    node_version = (
        _version_of(["node", "--version"], env) if shutil.which("node", path=env.get("PATH", "")) else None
    )
    return Finding(
        "node.js",
        node_version is not None,
        node_version or "not found",
        "" if node_version else "apt-get install nodejs (only for JavaScript Lambdas)",
        required=False,
    )


def check_docker() -> Finding:
    """A reachable Docker engine, needed only for the Docker backends."""
    docker_problem = docker_unreachable_reason()
    return Finding(
        "docker",
        docker_problem is None,
        "engine reachable" if docker_problem is None else docker_problem,
        ""
        if docker_problem is None
        else "start Docker (only for --kafka docker / --s3 docker); the embedded backends need none",
        required=False,
    )


def check_testcontainers() -> Finding:
    """The optional testcontainers package behind the Docker backends."""
    has_testcontainers = importlib.util.find_spec("testcontainers") is not None
    return Finding(
        "testcontainers",
        has_testcontainers,
        "installed" if has_testcontainers else "not installed",
        "" if has_testcontainers else "pip install 'msk-harness[docker]' (only for the Docker backends)",
        required=False,
    )


def embedded_stack_can_run(findings: list[Finding]) -> bool:
    """True when every required finding is fine."""
    return all(f.ok for f in findings if f.required)


def render_plain(findings: list[Finding]) -> str:
    """The findings as plain text lines (status, name, detail, fix)."""
    lines = []
    for f in findings:
        status = "ok" if f.ok else ("MISSING" if f.required else "absent (optional)")
        lines.append(f"{f.name}: {status} - {f.detail}")
        if f.fix and not f.ok:
            lines.append(f"  fix: {f.fix}")
    return "\n".join(lines)
