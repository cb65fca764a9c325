"""Per-user cached runtime environments: what a Lambda runtime has installed, built once from the registries.

A ``pythonX.Y`` runtime gets a virtualenv (no system site-packages, no user site) on an interpreter of that
version when one is installed, holding only the runtime interface client and the pinned boto3/botocore. A
``nodejsNN.x`` runtime gets a ``node_modules`` with the pinned AWS SDK v3 clients. Both live under
``~/.cache/msk-harness/runtimes/`` (``MSK_HARNESS_RUNTIME_CACHE`` moves it), keyed by everything that goes
into them; builds happen in a scratch directory under a file lock and are renamed into place, so concurrent
harnesses share one build and an interrupted build leaves nothing half-made behind.

Interpreter choice for ``pythonX.Y``: ``MSK_HARNESS_PYTHON_X_Y`` (a path), then pyenv's ``versions/X.Y*``,
then ``uv python find X.Y``, then ``pythonX.Y`` on PATH; otherwise the harness's own interpreter, and the
environment says so (`PythonEnvironment.matches_runtime`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.runtime.runtime_facts import node_facts, python_facts

READY = "READY"


class ProvisionError(RuntimeError):
    """A runtime environment could not be built (the message says which command failed and why)."""


def cache_root() -> Path:
    """Where runtime environments are cached."""
    override = os.environ.get("MSK_HARNESS_RUNTIME_CACHE")
    return Path(override) if override else Path.home() / ".cache" / "msk-harness" / "runtimes"


@dataclass(frozen=True)
class PythonEnvironment:
    """A built ``pythonX.Y`` environment."""

    runtime: str
    python: Path  # the virtualenv's interpreter
    interpreter_version: str  # "3.12.1"
    base_interpreter: Path
    matches_runtime: bool

    def describe(self) -> str:
        """One line for run summaries: which interpreter ran the runtime."""
        note = (
            "" if self.matches_runtime else f" (no Python {self.runtime[6:]} installed; using the harness's)"
        )
        return f"{self.runtime} on CPython {self.interpreter_version} ({self.base_interpreter}){note}"


@dataclass(frozen=True)
class NodeEnvironment:
    """The AWS SDK v3 for a ``nodejsNN.x`` runtime, and the ``node`` that runs it."""

    runtime: str
    node_modules: Path
    node: Path
    node_version: str  # "20.20.2"
    matches_runtime: bool
    permission_flags: tuple[str, ...] = ()  # how this node turns on its permission model; () when it cannot

    def describe(self) -> str:
        """One line for run summaries: which Node.js ran the runtime."""
        note = "" if self.matches_runtime else f" (no Node.js {self.runtime[6:8]} installed; using this one)"
        return f"{self.runtime} on Node.js {self.node_version} ({self.node}){note}"


def _run(argv: list[str], what: str, timeout: float = 900.0) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"{what}: {' '.join(argv)}: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ProvisionError(f"{what} failed (exit {done.returncode}): {' '.join(argv)}\n{tail}")
    return done.stdout.strip()


def _version_of(python: Path) -> str | None:
    try:
        stamp = python.stat().st_mtime_ns
    except OSError:
        return None
    return _asked_version(str(python), stamp)


@cache
def _asked_version(python: str, stamp: int) -> str | None:
    # Asked once per interpreter file (and modification time) per process: it costs a process start.
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _candidates(version: str, env: Mapping[str, str]) -> Iterator[Path]:
    override = env.get(f"MSK_HARNESS_PYTHON_{version.replace('.', '_')}")
    if override:
        yield Path(override)
    pyenv_root = env.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    versions = Path(pyenv_root) / "versions"
    if versions.is_dir():
        for entry in sorted(versions.glob(f"{version}.*"), reverse=True):
            yield entry / "bin" / f"python{version}"
    uv = shutil.which("uv", path=env.get("PATH", ""))
    if uv:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            found = subprocess.run(
                [uv, "python", "find", version], capture_output=True, text=True, timeout=30, check=False
            )
            if found.returncode == 0 and found.stdout.strip():
                yield Path(found.stdout.strip())
    on_path = shutil.which(f"python{version}", path=env.get("PATH", ""))
    if on_path:
        yield Path(on_path)


def find_interpreter(version: str, env: Mapping[str, str] | None = None) -> tuple[Path, str, bool]:
    """``(interpreter, full version, matches)`` for Python `version` ("3.12"), else the harness's own."""
    for candidate in _candidates(version, os.environ if env is None else env):
        full = _version_of(candidate)
        if full is not None and full.rsplit(".", 1)[0] == version:
            return candidate, full, True
    own = Path(getattr(sys, "_base_executable", sys.executable))
    return own, "{}.{}.{}".format(*sys.version_info[:3]), False


@contextlib.contextmanager
def _locked(root: Path, name: str) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_once(root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """``root/name``, built by `build` into a scratch dir and renamed into place unless already there."""
    target = root / name
    if (target / READY).exists():
        return target
    with _locked(root, name):
        if (target / READY).exists():
            return target
        shutil.rmtree(target, ignore_errors=True)  # an older build without its READY mark
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
        try:
            build(scratch)
            (scratch / READY).write_text("ok\n")
            os.rename(scratch, target)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    return target


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:12]


def python_environment(runtime: str, root: Path | None = None) -> PythonEnvironment:
    """The cached environment for `runtime`, built now if missing (may take a minute the first time)."""
    facts = python_facts(runtime)
    base, full_version, matches = find_interpreter(facts.version)
    root = root or cache_root()
    name = f"{runtime}-cpython{full_version}-{_key(base.resolve(), full_version, facts.packages)}"

    def build(into: Path) -> None:
        _run([str(base), "-m", "venv", "--without-pip", str(into)], f"creating the {runtime} virtualenv")
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(into / "bin" / "python"),
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                *facts.packages,
            ],
            f"installing the {runtime} runtime packages from PyPI",
        )

    target = build_once(root, name, build)
    return PythonEnvironment(runtime, target / "bin" / "python", full_version, base, matches)


def node_environment(runtime: str, root: Path | None = None) -> NodeEnvironment:
    """The cached AWS SDK v3 for `runtime`, installed with npm now if missing."""
    facts = node_facts(runtime)
    node = shutil.which("node")
    if node is None:
        raise ProvisionError(f"runtime {runtime} needs `node` on PATH")
    version = _node_version(node, Path(node).stat().st_mtime_ns)
    root = root or cache_root()
    name = f"nodejs-sdk-{facts.sdk_release}-{_key(facts.sdk_packages)}"

    def build(into: Path) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise ProvisionError(f"installing the AWS SDK v3 for {runtime} needs `npm` on PATH (once)")
        (into / "package.json").write_text('{"private": true, "name": "lambda-runtime-sdk"}\n')
        _run(
            [
                npm,
                "install",
                "--prefix",
                str(into),
                "--no-audit",
                "--no-fund",
                "--omit=dev",
                *facts.sdk_packages,
            ],
            f"installing the AWS SDK v3 for {runtime} from npm",
        )

    target = build_once(root, name, build)
    matches = version.split(".")[0] == str(facts.major)
    flags = node_permission_flags(node)
    return NodeEnvironment(runtime, target / "node_modules", Path(node), version, matches, flags)


@cache
def _node_version(node: str, stamp: int) -> str:
    # Asked once per node binary (and modification time) per process.
    return _run([node, "--version"], "asking node for its version").lstrip("v")


_QUIET = ("--disable-warning=ExperimentalWarning", "--disable-warning=SecurityWarning")


@cache
def node_permission_flags(node: str) -> tuple[str, ...]:
    """The flags that turn on `node`'s permission model (file writes confined), or () if it has none.

    Child processes, workers and addons stay allowed (Lambda allows them); the warnings those flags print
    would otherwise land in every function log.
    """
    allow = ("--allow-fs-read=*", "--allow-child-process", "--allow-worker")
    for switch in ("--permission", "--experimental-permission"):
        for extra in (("--allow-addons", *_QUIET), _QUIET, ()):
            flags = (switch, *allow, *extra)
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                probe = subprocess.run(
                    [node, *flags, "-e", "0"], capture_output=True, timeout=30, check=False
                )
                if probe.returncode == 0:
                    return flags
    return ()


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.runtime [RUNTIME ...]``: build runtime environments ahead of time (CI)."""
    runtimes = (argv if argv is not None else sys.argv[1:]) or [
        "python3.11",
        "python3.12",
        "python3.13",
        "nodejs20.x",
    ]
    for runtime in runtimes:
        try:
            if runtime.startswith("python"):
                print(python_environment(runtime).describe())
            elif runtime.startswith("nodejs"):
                print(node_environment(runtime).describe())
            else:
                print(f"{runtime}: nothing to build", file=sys.stderr)
                return 2
        except (ProvisionError, KeyError) as exc:
            print(f"{runtime}: {exc}", file=sys.stderr)
            return 1
    return 0
