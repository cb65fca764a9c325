"""Find the Apache Kafka jars the embedded broker runs on, fetching them through Maven once per user.

Resolution order:

1. ``KAFKA_HOME`` when set: it must be an unpacked Kafka distribution (``libs/kafka_*.jar``); anything
   else is an error rather than a silent fallback, so a typo never runs a Kafka the user did not ask for.
2. The per-user cache ``<cache>/kafka-<version>/lib/*.jar`` where ``<cache>`` is ``$MSK_HARNESS_CACHE``,
   else ``$XDG_CACHE_HOME/msk-harness``, else ``~/.cache/msk-harness``. A missing cache is filled with
   ``mvn dependency:copy-dependencies`` over the pom.xml beside this module, into a temp dir that is renamed
   into place only when complete (a Ctrl-C never leaves half a cache), under a lock file (concurrent
   fetchers wait for the first).

Example::

    python -m harness.backends.kafka.dist fetch   # prints the lib dir
    python -m harness.backends.kafka.dist info    # what `msk-harness doctor` shows
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.lifecycle import BackendError

KAFKA_VERSION = "4.1.1"
MIN_JAVA_MAJOR = 17
POM_PATH = Path(__file__).with_name("pom.xml")
_COMPLETE_MARKER = "COMPLETE"
_INSTALL_JAVA = "install a Java 17+ JDK (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
_INSTALL_MAVEN = "install Apache Maven (e.g. apt-get install maven) or set KAFKA_HOME to a Kafka distribution"


class KafkaDistError(BackendError):
    """The Kafka jars, Java or Maven are missing or broken; the message says what to install or fix."""


@dataclass(frozen=True)
class KafkaDistribution:
    """Where the Kafka jars are and which java runs them."""

    version: str
    lib_dir: Path
    java: str
    source: str  # "KAFKA_HOME" or "cache"

    @property
    def classpath(self) -> str:
        """A JVM classpath covering every jar in `lib_dir`."""
        return str(self.lib_dir / "*")


def cache_root(env: Mapping[str, str]) -> Path:
    """The per-user msk-harness cache directory (not created)."""
    if env.get("MSK_HARNESS_CACHE"):
        return Path(env["MSK_HARNESS_CACHE"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "msk-harness"
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".cache" / "msk-harness"


def cached_dist_dir(env: Mapping[str, str], version: str = KAFKA_VERSION) -> Path:
    """The cache directory for one Kafka version (its jars live in ``lib/``)."""
    return cache_root(env) / f"kafka-{version}"


def find_java(env: Mapping[str, str]) -> str:
    """The java executable: ``$JAVA_HOME/bin/java`` if set, else ``java`` on ``$PATH``."""
    if env.get("JAVA_HOME"):
        candidate = Path(env["JAVA_HOME"]) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise KafkaDistError(f"JAVA_HOME={env['JAVA_HOME']} has no bin/java: {_INSTALL_JAVA}")
    found = shutil.which("java", path=env.get("PATH", ""))
    if not found:
        raise KafkaDistError(f"java was not found on PATH: {_INSTALL_JAVA}")
    return found


def java_major_version(java: str) -> int:
    """The major version of a java executable (``java -version`` prints it on stderr)."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError as exc:
        raise KafkaDistError(f"cannot run {java}: {exc}; {_INSTALL_JAVA}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise KafkaDistError(f"cannot read the version of {java}: {out.stderr.strip()[:200]}")
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_x".
    return int(match.group(2) or 0) if major == 1 else major


def _kafka_home_libs(kafka_home: str) -> Path:
    home = Path(kafka_home).expanduser()
    libs = home / "libs"
    if not home.is_dir():
        raise KafkaDistError(f"KAFKA_HOME={kafka_home} does not exist; unset KAFKA_HOME or fix the path")
    if not libs.is_dir() or not any(libs.glob("kafka_*.jar")):
        raise KafkaDistError(
            f"KAFKA_HOME={kafka_home} is not a Kafka distribution (no libs/kafka_*.jar); "
            "point it at an unpacked kafka_2.13-<version> directory or unset it to use the Maven-fetched jars"
        )
    return libs


def _kafka_home_version(libs: Path) -> str:
    for jar in sorted(libs.glob("kafka_*.jar")):
        match = re.fullmatch(r"kafka_[\d.]+-(\d[\w.\-]*?)\.jar", jar.name)
        if match:
            return match.group(1)
    return "unknown"


def is_complete_cache(dist_dir: Path) -> bool:
    """True if `dist_dir` holds a finished fetch (the marker is written last, before the atomic rename)."""
    return (dist_dir / _COMPLETE_MARKER).is_file() and any((dist_dir / "lib").glob("kafka_*.jar"))


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def fetch_jars(
    env: Mapping[str, str], *, version: str = KAFKA_VERSION, pom: Path = POM_PATH, mvn: str | None = None
) -> Path:
    """Fill the per-user cache with the Kafka jars through Maven (no-op when cached); returns the lib dir."""
    dist_dir = cached_dist_dir(env, version)
    if is_complete_cache(dist_dir):
        return dist_dir / "lib"
    mvn_exe = mvn or shutil.which("mvn", path=env.get("PATH", ""))
    if not mvn_exe:
        raise KafkaDistError(f"mvn was not found on PATH and Kafka {version} is not cached: {_INSTALL_MAVEN}")
    find_java(env)  # Maven needs a JDK too; say so before Maven fails less clearly
    root = dist_dir.parent
    with _exclusive_lock(root / f"kafka-{version}.lock"):
        if is_complete_cache(dist_dir):  # another process fetched while we waited
            return dist_dir / "lib"
        # Under the lock nobody else is fetching: leftovers are from interrupted fetches.
        for stale in root.glob(f".kafka-{version}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if dist_dir.exists():
            shutil.rmtree(dist_dir)  # incomplete (no marker): start over
        tmp = root / f".kafka-{version}.tmp-{os.getpid()}"
        try:
            _run_maven(mvn_exe, pom, tmp / "lib", env)
            if not any((tmp / "lib").glob("kafka_*.jar")):
                raise KafkaDistError(f"Maven finished but left no kafka_*.jar in {tmp / 'lib'}")
            (tmp / _COMPLETE_MARKER).write_text(f"kafka {version}\n")
            tmp.rename(dist_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dist_dir / "lib"


def _run_maven(mvn: str, pom: Path, out_dir: Path, env: Mapping[str, str]) -> None:
    argv = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={out_dir}",
        "-DincludeScope=runtime",
    ]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=dict(env), check=False, timeout=1800)
    except OSError as exc:
        raise KafkaDistError(f"cannot run {mvn}: {exc}; {_INSTALL_MAVEN}") from exc
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip().splitlines()
        raise KafkaDistError(
            f"Maven could not fetch the Kafka jars (exit {proc.returncode}); last output lines:\n"
            + "\n".join(output[-25:])
        )


def resolve_distribution(env: Mapping[str, str] | None = None, *, fetch: bool = True) -> KafkaDistribution:
    """The Kafka to run: ``KAFKA_HOME`` if set, else the Maven-fetched cache (fetched if `fetch`)."""
    env = os.environ if env is None else env
    java = find_java(env)
    if env.get("KAFKA_HOME"):
        libs = _kafka_home_libs(env["KAFKA_HOME"])
        return KafkaDistribution(_kafka_home_version(libs), libs, java, "KAFKA_HOME")
    dist_dir = cached_dist_dir(env)
    if is_complete_cache(dist_dir):
        return KafkaDistribution(KAFKA_VERSION, dist_dir / "lib", java, "cache")
    if not fetch:
        raise KafkaDistError(
            f"Kafka {KAFKA_VERSION} jars are not cached in {dist_dir}; "
            "run `python -m harness.backends.kafka.dist fetch` (needs Maven) or set KAFKA_HOME"
        )
    return KafkaDistribution(KAFKA_VERSION, fetch_jars(env), java, "cache")


def cds_archive_path(dist: KafkaDistribution, env: Mapping[str, str], jvm_flags: Sequence[str]) -> Path:
    """Where the JVM class-data-sharing archive for this java, jar set and flag set lives (may not exist yet).

    The archive (a snapshot of the broker's loaded classes) is only valid for the exact JVM and classpath that
    wrote it, so the name is a digest of both; a stale archive is never reused under a new name.
    """
    digest = hashlib.sha256()
    digest.update(os.path.realpath(dist.java).encode())
    for jar in sorted(dist.lib_dir.glob("*.jar")):
        stat = jar.stat()
        digest.update(f"{jar.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update("\0".join(jvm_flags).encode())
    return cache_root(env) / "cds" / f"kafka-{dist.version}-{digest.hexdigest()[:16]}.jsa"


def sweep_stale_dumps(cds_dir: Path) -> None:
    """Remove `*.tmp-<pid>-*` archive dumps whose writer process is gone (killed mid-write)."""
    for dump in cds_dir.glob("*.jsa.tmp-*"):
        writer = dump.name.rsplit(".tmp-", 1)[1].split("-", 1)[0]
        if writer.isdigit() and not _process_alive(int(writer)):
            dump.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def kafka_dist_status(env: Mapping[str, str] | None = None) -> str:
    """A few lines for `msk-harness doctor`: java, Maven and where the Kafka jars are (never fetches)."""
    env = os.environ if env is None else env
    lines: list[str] = []
    try:
        java = find_java(env)
        major = java_major_version(java)
        verdict = "ok" if major >= MIN_JAVA_MAJOR else f"too old: {_INSTALL_JAVA}"
        lines.append(f"java: {java} (Java {major}, {verdict})")
    except KafkaDistError as exc:
        lines.append(f"java: MISSING - {exc}")
    mvn = shutil.which("mvn", path=env.get("PATH", ""))
    lines.append(f"maven: {mvn}" if mvn else f"maven: not found ({_INSTALL_MAVEN}; needed only to fetch)")
    try:
        dist = resolve_distribution(env, fetch=False)
        jars = len(list(dist.lib_dir.glob("*.jar")))
        lines.append(f"kafka: {dist.version} from {dist.source} at {dist.lib_dir} ({jars} jars)")
    except KafkaDistError as exc:
        lines.append(f"kafka: NOT READY - {exc}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``fetch`` prints the jar directory (fetching once), ``info`` prints the status."""
    parser = argparse.ArgumentParser(prog="python -m harness.backends.kafka.dist", description=__doc__)
    parser.add_argument("command", choices=["fetch", "info"])
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            dist = resolve_distribution()
            print(dist.lib_dir)
        else:
            print(kafka_dist_status())
    except KafkaDistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
