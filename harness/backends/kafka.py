"""Kafka backends: an embedded Apache Kafka KRaft cluster (JVM subprocesses) and an external cluster.

Known deviations from Amazon MSK:

* Plaintext listeners on 127.0.0.1 only (MSK also offers TLS, IAM and SASL/SCRAM).
* Every node is a combined broker+controller (MSK runs controllers on separate hidden nodes).
* ``group.initial.rebalance.delay.ms=0`` (MSK/Kafka default 3000) so a first group join is immediate, and
  ``offsets.topic.num.partitions`` / ``transaction.state.log.num.partitions`` are 10 (default 50) so the
  internal topics appear fast; pass ``broker_configs`` to restore the defaults.
* ``log.message.timestamp.after.max.ms`` is unbounded (Kafka 4 default: one hour) so records stamped by a
  scenario clock set ahead of the wall clock are accepted.
* Like MSK: ``auto.create.topics.enable=false``; 3 brokers get default RF 3 and ``min.insync.replicas=2``.

Example::

    with EmbeddedKafka(brokers=3) as kafka, kafka.admin() as admin:
        admin.create_topic("orders", partitions=3)
        kafka.kill_broker(2)
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from harness.backends.base import (
    Backend,
    BackendError,
    BackendStartError,
    free_port,
    port_open,
    spawn_child,
    tail,
    wait_until,
)
from harness.backends.kafka_admin import MetadataProbe, TopicAdmin
from harness.backends.kafka_dist import KafkaDistribution, cds_archive_path, resolve_distribution
from harness.backends.kafka_external import ExternalKafka, parse_bootstrap_servers
from harness.backends.kafka_reaper import Reaper

# Tuned on 2 cores (benchmarks/bench_startup_kafka.py): SerialGC starts fastest, CDS shares the JDK classes.
DEFAULT_JVM_FLAGS = ("-XX:+UseSerialGC", "-Xshare:auto", "-XX:-UsePerfData", "-XX:+ExitOnOutOfMemoryError")
_RESERVED_KEYS = frozenset(
    {"process.roles", "node.id", "controller.quorum.voters", "listeners", "advertised.listeners", "log.dirs"}
)
_BIND_FAILURE = re.compile(r"BindException|Address already in use")
__all__ = [
    "DEFAULT_JVM_FLAGS",
    "EmbeddedKafka",
    "ExternalKafka",
    "KafkaCluster",
    "kafka_uuid",
    "parse_bootstrap_servers",
]
_HINT = "read the broker log below; check the jars with `python -m harness.backends.kafka_dist info`"


class KafkaCluster(Protocol):
    """What every Kafka backend offers: where to connect and a topic admin."""

    @property
    def bootstrap_servers(self) -> str:
        """Comma-separated host:port list for clients."""
        ...

    def admin(self) -> TopicAdmin:
        """A new TopicAdmin connected to this cluster (close it, or use it as a context manager)."""
        ...


@dataclass
class _Node:
    node_id: int
    home: Path
    broker_port: int = 0
    controller_port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = field(default=None, repr=False)
    paused: bool = False
    cds_dump: Path | None = None  # this JVM writes the class-data-sharing archive here when it exits

    @property
    def log_path(self) -> Path:
        return self.home / "broker.log"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def kafka_uuid(rng: random.Random) -> str:
    """A Kafka-style Uuid (16 random bytes, URL-safe base64 without padding) drawn from `rng`."""
    while True:
        raw = rng.getrandbits(128).to_bytes(16, "big")
        text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        # Kafka reserves the all-zero and ...01 ids and avoids a leading '-' (it reads like a CLI flag).
        if int.from_bytes(raw, "big") > 1 and not text.startswith("-"):
            return text


class EmbeddedKafka(Backend):
    """An Apache Kafka KRaft cluster of `brokers` combined broker+controller JVMs on 127.0.0.1."""

    name = "embedded-kafka"

    def __init__(
        self,
        brokers: int = 1,
        *,
        workdir: Path | None = None,
        heap_mb: int = 512,
        startup_timeout: float = 90.0,
        broker_configs: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
        jvm_flags: tuple[str, ...] = DEFAULT_JVM_FLAGS,
        class_data_sharing: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        if brokers < 1:
            raise ValueError(f"brokers must be >= 1, got {brokers}")
        if heap_mb < 128:
            raise ValueError(f"heap_mb must be >= 128, got {heap_mb}")
        configs = dict(broker_configs or {})
        reserved = sorted(_RESERVED_KEYS & configs.keys())
        if reserved:
            raise ValueError(f"broker_configs may not set {', '.join(reserved)}: the harness manages them")
        self._configs = configs
        self._brokers = brokers
        self._user_workdir = workdir
        self._heap_mb = heap_mb
        self._startup_timeout = startup_timeout
        self._rng = rng or random.Random(f"msk-harness-kafka-{brokers}")
        self._jvm_flags = jvm_flags
        self._class_data_sharing = class_data_sharing
        self._cds_archive: Path | None = None  # set in start(): exists, or the first broker's exit writes it
        self._env = dict(os.environ if env is None else env)
        self._workdir: Path | None = None
        self._dist: KafkaDistribution | None = None
        self._nodes: dict[int, _Node] = {}
        self._reaper: Reaper | None = None
        self._spawner: ThreadPoolExecutor | None = None

    # ----------------------------------------------------------------- public attributes
    @property
    def broker_ids(self) -> list[int]:
        """Node ids of the brokers (1..n)."""
        return list(range(1, self._brokers + 1))

    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:p1,127.0.0.1:p2,...`` for every broker."""
        self._require_started()
        return ",".join(f"127.0.0.1:{n.broker_port}" for n in self._nodes.values())

    @property
    def workdir(self) -> Path:
        """The directory holding each broker's config, log and data."""
        self._require_started()
        assert self._workdir is not None
        return self._workdir

    def log_path(self, broker_id: int) -> Path:
        """The log file of one broker (log4j output and JVM stdout/stderr)."""
        return self._node(broker_id).log_path

    def admin(self) -> TopicAdmin:
        """A new TopicAdmin for this cluster."""
        return TopicAdmin(self.bootstrap_servers)

    # ----------------------------------------------------------------- lifecycle
    def _start(self) -> None:
        self._dist = resolve_distribution(self._env)
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kafka-spawner-{id(self):x}")
        if self._class_data_sharing:
            self._cds_archive = cds_archive_path(self._dist, self._env, self._jvm_flags)
        if self._user_workdir is not None:
            self._user_workdir.mkdir(parents=True, exist_ok=True)
            self._workdir = self._user_workdir
        else:
            self._workdir = Path(tempfile.mkdtemp(prefix="msk-harness-kafka-"))
        # If this process dies without stop(), the reaper kills the JVMs and removes the temp dir.
        self._reaper = Reaper(self._workdir, remove_dir=self._user_workdir is None)
        self._nodes = {i: _Node(i, self._workdir / f"broker-{i}") for i in self.broker_ids}
        for attempt in range(3):
            self._assign_ports()
            for node in self._nodes.values():
                node.home.mkdir(parents=True, exist_ok=True)
                (node.home / "server.properties").write_text(self._server_properties(node))
                (node.home / "log4j2.properties").write_text(_LOG4J2)
            self._format_storage()
            for node in self._nodes.values():  # all JVMs start before we wait for any: they boot in parallel
                self._spawn(node)
            try:
                self._wait_ready(self._startup_timeout)
                return
            except BackendStartError:
                bind_failed = any(_BIND_FAILURE.search(tail(n.log_path, 200)) for n in self._nodes.values())
                if not bind_failed or attempt == 2:
                    raise
                self._kill_all()  # a port was taken between choosing and binding: choose again
                for node in self._nodes.values():  # so the next attempt's log shows only its own errors
                    node.log_path.unlink(missing_ok=True)

    def _stop(self) -> None:
        self._stop_all(graceful=self._user_workdir is not None)
        if self._user_workdir is None and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None
        if self._reaper is not None:
            self._reaper.release()
            self._reaper = None
        if self._spawner is not None:
            self._spawner.shutdown(wait=True)
            self._spawner = None

    # ----------------------------------------------------------------- faults
    def stop_broker(self, broker_id: int, timeout: float = 60.0) -> None:
        """Stop one broker gracefully (SIGTERM, controlled shutdown) and wait for it to exit."""
        self._terminate(self._node(broker_id), graceful=True, timeout=timeout)

    def kill_broker(self, broker_id: int) -> None:
        """SIGKILL one broker (a crash: no controlled shutdown, no flush)."""
        self._terminate(self._node(broker_id), graceful=False, timeout=10.0)

    def pause_broker(self, broker_id: int) -> None:
        """SIGSTOP one broker: it keeps its sockets but answers nothing (a hung or partitioned node)."""
        node = self._running_node(broker_id)
        assert node.proc is not None
        os.killpg(node.proc.pid, signal.SIGSTOP)
        node.paused = True
        _wait_for_stop_state(node.proc.pid, stopped=True)

    def resume_broker(self, broker_id: int) -> None:
        """SIGCONT a paused broker."""
        node = self._running_node(broker_id)
        assert node.proc is not None
        os.killpg(node.proc.pid, signal.SIGCONT)
        node.paused = False
        _wait_for_stop_state(node.proc.pid, stopped=False)

    def start_broker(self, broker_id: int, timeout: float | None = None) -> None:
        """Start a stopped or killed broker again (same ports, same data) and wait until it serves."""
        node = self._node(broker_id)
        self._require_started()
        if node.alive():
            raise BackendError(f"broker {broker_id} is already running")
        self._close_log(node)
        self._spawn(node)
        self._wait_ready(self._startup_timeout if timeout is None else timeout, only=node)

    def restart_broker(self, broker_id: int, timeout: float | None = None) -> None:
        """Gracefully stop one broker and start it again on the same ports and data."""
        self.stop_broker(broker_id)
        self.start_broker(broker_id, timeout)

    def rolling_restart(self, timeout: float = 120.0) -> None:
        """Restart brokers one by one, waiting for 0 under-replicated partitions in between (MSK patching)."""
        for broker_id in self.broker_ids:
            self.restart_broker(broker_id)
            self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float = 120.0) -> None:
        """Wait until every broker is registered and no partition is under-replicated."""
        node = self._nodes[self.broker_ids[0]]
        probe = MetadataProbe(self.bootstrap_servers)

        def healthy() -> bool:
            return probe.live_brokers() == self.broker_ids and probe.under_replicated() == 0

        try:
            wait_until(
                healthy, timeout=timeout, what="Kafka cluster health", log_path=node.log_path, interval=0.25
            )
        finally:
            probe.close()

    # ----------------------------------------------------------------- internals
    def _require_started(self) -> None:
        if not self._nodes or self._workdir is None:
            raise BackendError("EmbeddedKafka is not started; call start() or use it as a context manager")

    def _node(self, broker_id: int) -> _Node:
        self._require_started()
        if broker_id not in self._nodes:
            raise ValueError(f"no broker {broker_id}; brokers are {self.broker_ids}")
        return self._nodes[broker_id]

    def _running_node(self, broker_id: int) -> _Node:
        node = self._node(broker_id)
        if not node.alive():
            raise BackendError(f"broker {broker_id} is not running")
        return node

    def _assign_ports(self) -> None:
        taken: set[int] = set()
        for node in self._nodes.values():
            node.broker_port = _distinct_free_port(taken)
            node.controller_port = _distinct_free_port(taken)

    def _server_properties(self, node: _Node) -> str:
        n = self._brokers
        rf = min(3, n)
        min_isr = 2 if n >= 3 else 1
        voters = ",".join(f"{m.node_id}@127.0.0.1:{m.controller_port}" for m in self._nodes.values())
        props: dict[str, str] = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{node.broker_port},CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.broker_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(node.home / "data"),
            "num.partitions": "1",
            "default.replication.factor": str(rf),
            "min.insync.replicas": str(min_isr),
            "offsets.topic.replication.factor": str(rf),
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": str(rf),
            "transaction.state.log.min.isr": str(min_isr),
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": str(rf),
            "share.coordinator.state.topic.min.isr": str(min_isr),
            "auto.create.topics.enable": "false",
            "unclean.leader.election.enable": "false",
            "group.initial.rebalance.delay.ms": "0",
            # Records carry the scenario clock's time, which may run ahead of the wall clock.
            "log.message.timestamp.after.max.ms": str(2**63 - 1),
            "num.io.threads": "4",
            "num.network.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
        }
        props.update(self._configs)
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def _java_argv(self, node: _Node, main: str, *args: str) -> list[str]:
        assert self._dist is not None
        cds: list[str] = []
        if self._cds_archive is not None and self._cds_archive.is_file():
            cds = [f"-XX:SharedArchiveFile={self._cds_archive}"]
        elif node.cds_dump is not None:
            cds = [f"-XX:ArchiveClassesAtExit={node.cds_dump}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
        return [
            self._dist.java,
            f"-Xmx{self._heap_mb}m",
            f"-Xms{min(256, self._heap_mb)}m",
            *self._jvm_flags,
            *cds,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={node.home / 'log4j2.properties'}",
            "-cp",
            self._dist.classpath,
            main,
            *args,
        ]

    def _format_storage(self) -> None:
        """Format node 1 with Kafka's StorageTool, then clone its storage for the others (one JVM, not n)."""
        first = self._nodes[1]
        meta = first.home / "data" / "meta.properties"
        if meta.exists():
            return  # a user workdir formatted by an earlier run: keep its data
        argv = self._java_argv(first, "kafka.tools.StorageTool", "format", "-t", kafka_uuid(self._rng), "-c")
        argv.append(str(first.home / "server.properties"))
        proc = subprocess.run(argv, capture_output=True, text=True, env=self._env, timeout=120, check=False)
        if proc.returncode != 0:
            output = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
            raise BackendStartError("Kafka storage format", f"exit {proc.returncode}", output, _HINT)
        text = meta.read_text()
        for node in list(self._nodes.values())[1:]:
            shutil.copytree(first.home / "data", node.home / "data")
            cloned = re.sub(r"(?m)^node\.id=.*$", f"node.id={node.node_id}", text)
            cloned = re.sub(r"(?m)^directory\.id=.*$", f"directory.id={kafka_uuid(self._rng)}", cloned)
            (node.home / "data" / "meta.properties").write_text(cloned)

    def _spawn(self, node: _Node) -> None:
        node.log = node.log_path.open("ab")
        archive = self._cds_archive
        if archive is not None and not archive.is_file() and self._brokers == 1:
            # No archive yet: this broker records its loaded classes at exit; later starts map them (about
            # 0.4 s less per JVM). Only 1-broker clusters do it: their graceful exit never waits on a quorum.
            archive.parent.mkdir(parents=True, exist_ok=True)
            node.cds_dump = archive.with_name(f"{archive.name}.tmp-{os.getpid()}-{id(self)}")
        argv = self._java_argv(node, "kafka.Kafka", str(node.home / "server.properties"))
        # PR_SET_PDEATHSIG fires when the forking *thread* ends, so every JVM is forked by one thread that
        # lives as long as this backend, whichever (possibly short-lived) thread asked for the start.
        assert self._spawner is not None
        node.proc = self._spawner.submit(
            spawn_child, argv, log=node.log, env=self._env, cwd=node.home
        ).result()
        if self._reaper is not None:
            self._reaper.watch(node.proc.pid)
        node.paused = False

    def _wait_ready(self, timeout: float, only: _Node | None = None) -> None:
        """Wait until the brokers' ports answer and metadata shows every broker registered and unfenced."""
        deadline = time.monotonic() + timeout  # real time: waits for real JVMs
        waiting = [only] if only else list(self._nodes.values())
        for node in waiting:
            wait_until(
                lambda n=node: port_open("127.0.0.1", n.broker_port, 0.2),  # type: ignore[misc]
                timeout=max(0.1, deadline - time.monotonic()),
                what=f"Kafka broker {node.node_id}",
                alive=node.alive,
                log_path=node.log_path,
                hint=_HINT,
                interval=0.05,
            )
        # Ask the new broker itself: it only serves once it has caught up and been unfenced.
        servers = f"127.0.0.1:{only.broker_port}" if only else self.bootstrap_servers
        probe = MetadataProbe(servers)
        first = waiting[0]
        try:
            wait_until(
                lambda: (
                    probe.live_brokers() == self.broker_ids
                    if not only
                    else only.node_id in probe.live_brokers()
                ),
                timeout=max(0.1, deadline - time.monotonic()),
                what=f"Kafka cluster ({len(self._nodes)} broker(s))",
                alive=lambda: all(n.alive() for n in waiting),
                log_path=first.log_path,
                hint=_HINT,
                interval=0.1,
            )
        finally:
            probe.close()

    def _terminate(self, node: _Node, *, graceful: bool, timeout: float) -> None:
        if node.proc is not None and node.proc.poll() is None:
            pid = node.proc.pid
            with contextlib.suppress(ProcessLookupError):
                if node.paused:
                    os.killpg(pid, signal.SIGCONT)  # a stopped JVM cannot act on SIGTERM
                os.killpg(pid, signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                node.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                node.proc.wait(timeout=10)
        node.paused = False
        self._close_log(node)
        self._publish_cds_archive(node)

    def _publish_cds_archive(self, node: _Node) -> None:
        if node.cds_dump is None or self._cds_archive is None:
            return
        dump, node.cds_dump = node.cds_dump, None
        if dump.is_file() and dump.stat().st_size > 0:
            os.replace(
                dump, self._cds_archive
            )  # atomic: concurrent users see the old state or a whole archive
        else:
            dump.unlink(missing_ok=True)

    def _stop_all(self, *, graceful: bool) -> None:
        live = [n for n in self._nodes.values() if n.alive()]
        for node in live:  # signal all first so they shut down in parallel
            assert node.proc is not None
            # A JVM writing the class-data archive must exit normally (SIGTERM) for the archive to be written.
            gentle = graceful or node.cds_dump is not None
            with contextlib.suppress(ProcessLookupError):
                if node.paused:
                    os.killpg(node.proc.pid, signal.SIGCONT)
                os.killpg(node.proc.pid, signal.SIGTERM if gentle else signal.SIGKILL)
        for node in self._nodes.values():
            self._terminate(node, graceful=graceful or node.cds_dump is not None, timeout=30.0)

    def _kill_all(self) -> None:
        self._stop_all(graceful=False)

    @staticmethod
    def _close_log(node: _Node) -> None:
        if node.log is not None:
            with contextlib.suppress(OSError):
                node.log.close()
            node.log = None


def _wait_for_stop_state(pid: int, *, stopped: bool, timeout: float = 5.0) -> None:
    """Signals arrive asynchronously: return once /proc shows the process stopped (T) or running again."""
    deadline = time.monotonic() + timeout  # real time: waits for the kernel
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return  # gone (or no /proc): nothing to wait for
        state = stat[stat.rindex(")") + 2]
        if (state == "T") == stopped:
            return
        time.sleep(0.01)


def _distinct_free_port(taken: set[int]) -> int:
    while True:
        port = free_port()
        if port not in taken:
            taken.add(port)
            return port


_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
"""
