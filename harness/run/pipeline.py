"""The running pipeline of one scenario: stack, topic, bucket, Firehose stream, function runtime and ESM.

`Pipeline` is a Backend: `start()` brings the parts up in data-flow order (a failed start stops what came
up), `stop()` takes them down in reverse. The runner and the pytest plugin's `msk_pipeline` fixture use it.

Known deviations from AWS (what the harness adds around the emulators):
- The function's init limit is scaled by the clock speed: process start-up is real time, so under a 60x clock
  a 10-second init limit would be 0.17 real seconds.
- The Firehose IAM role is a fixed dummy ARN; nothing checks it.

Example::

    scenario = load_scenario("scenarios/smoke.yaml")
    with Pipeline(scenario, clock=ScaledClock(speed=1), work_dir=Path("/tmp/run")) as pipeline:
        pipeline.bootstrap_servers   # produce here; the archive lands in pipeline.bucket
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firehose_emulator.hooks import EmulatorHooks
from harness.backends.kafka.admin import TopicExistsError
from harness.backends.kafka.reaper import Reaper
from harness.backends.stack import Stack, StackConfig
from harness.clock import Clock, SystemClock, identity_rng
from harness.esm.mapping import EventSourceMapping
from harness.esm.settings import EsmConfig
from harness.intercept.environment import AwsEndpoints
from harness.intercept.session import Interception, routes_from_env
from harness.lifecycle import Backend, BackendError
from harness.runtime import FunctionConfig, FunctionRuntime, RuntimeOptions
from harness.runtime.env_vars import CREDENTIAL_KEYS, RESERVED_KEYS
from harness.scenario.model import PipelineSpec, Scenario

ROLE_ARN = "arn:aws:iam::123456789012:role/msk-harness-firehose"
MSK_ARN = "arn:aws:kafka:{region}:123456789012:cluster/msk-harness/0b1c2d3e-4f5a-6b7c-8d9e-0a1b2c3d4e5f-1"
BACKEND_KINDS = ("embedded", "docker", "external")
DEFAULT_INIT_LIMIT_SECONDS = 10.0


class PipelineConfigError(ValueError):
    """The scenario asks for something this pipeline cannot run (bad input: exit 2)."""


@dataclass(frozen=True)
class BackendChoice:
    """Where Kafka and S3 run, after a --backend override."""

    kafka: str
    s3: str
    bootstrap_servers: str | None
    s3_endpoint_url: str | None
    region: str


def choose_backends(spec: PipelineSpec, override: str | None = None) -> BackendChoice:
    """The backend kinds for this run: the scenario's, or `override` for both Kafka and S3."""
    backends = spec.backends
    if backends.firehose.kind != "embedded":
        raise PipelineConfigError(
            "pipeline.backends.firehose: only the embedded Firehose emulator is supported by `run` so far"
        )
    if override is not None and override not in BACKEND_KINDS:
        raise PipelineConfigError(f"--backend must be one of {', '.join(BACKEND_KINDS)}, got {override!r}")
    kafka = override or backends.kafka.kind
    s3 = override or backends.s3.kind
    bootstrap = ",".join(backends.kafka.bootstrap_servers) or None
    if kafka == "external" and not bootstrap:
        raise PipelineConfigError("an external Kafka backend needs pipeline.backends.kafka.bootstrap_servers")
    endpoint = backends.s3.endpoint if s3 == "external" else None
    return BackendChoice(kafka, s3, bootstrap if kafka == "external" else None, endpoint, backends.s3.region)


def resolve_code_dir(
    code_dir: Path, scenario_path: Path, cwd: Path, what: str = "pipeline.function.code_dir"
) -> Path:
    """A relative `code_dir` (or layer, when `what` says so) is relative to the repository root: the working
    directory or an ancestor of the scenario file, whichever holds it."""
    if code_dir.is_absolute():
        candidates = [code_dir]
    else:
        here = scenario_path.resolve().parent
        candidates = [cwd / code_dir] + [parent / code_dir for parent in (here, *here.parents)]
    for candidate in candidates:
        if candidate.is_dir() or (what != "pipeline.function.code_dir" and candidate.is_file()):
            return candidate.resolve()
    raise PipelineConfigError(f"{what}: {code_dir} not found (looked in {cwd} and above {scenario_path})")


def thaw(value: Any) -> Any:
    """Plain dicts and lists from the scenario's read-only mappings and tuples (boto3 wants real dicts)."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def firehose_destination(spec: PipelineSpec) -> dict[str, Any]:
    """ExtendedS3DestinationConfiguration for CreateDeliveryStream from the scenario's AWS-cased settings."""
    config: dict[str, Any] = {"RoleARN": ROLE_ARN, "BucketARN": f"arn:aws:s3:::{spec.firehose.bucket}"}
    config.update(thaw(spec.firehose.settings))
    return config


def esm_parameters(spec: PipelineSpec, function_name: str, region: str, servers: str) -> dict[str, Any]:
    """CreateEventSourceMapping parameters from the scenario's AWS-cased settings."""
    params: dict[str, Any] = {"FunctionName": function_name, "Topics": [spec.topic.name]}
    if spec.event_source.source == "msk":
        params["EventSourceArn"] = MSK_ARN.format(region=region)
    else:
        params["SelfManagedEventSource"] = {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": servers.split(",")}}
    params.update(thaw(spec.event_source.settings))
    return params


class Pipeline(Backend):
    """Stack + topic + bucket + Firehose stream + function runtime + ESM for one scenario."""

    name = "pipeline"

    def __init__(
        self,
        scenario: Scenario,
        *,
        clock: Clock,
        work_dir: Path | None = None,
        backend: str | None = None,
        speed: float = 1.0,
        cwd: Path | None = None,
        code_dir: Path | None = None,
        max_environments: int = 10,
        function_log_dir: Path | None = None,
        live: bool = False,
    ) -> None:
        super().__init__()
        self.live = live  # `up SCENARIO`: use an existing topic and a non-empty bucket instead of failing
        self.scenario = scenario
        self.spec = scenario.pipeline
        self.clock = clock
        self.speed = speed
        self.backends = choose_backends(self.spec, backend)
        self.code_dir = code_dir or resolve_code_dir(
            self.spec.function.code_dir, scenario.path, cwd or Path.cwd()
        )
        self.layers = tuple(
            resolve_code_dir(layer, scenario.path, cwd or Path.cwd(), f"pipeline.function.layers[{i}]")
            for i, layer in enumerate(self.spec.function.layers)
        )
        self._own_work_dir = work_dir is None
        self._reaper: Reaper | None = None
        self._work_dir_arg = work_dir
        self.work_dir = work_dir or Path(".")
        self._max_environments = max_environments
        self._function_log_dir = function_log_dir  # None: inside the work dir (removed with it)
        self._id_seed = scenario.seed if scenario.deterministic_ids else None
        self._rng = identity_rng(self._id_seed)  # request ids, ESM UUID: unique per run unless asked
        self.stack: Stack | None = None
        self.runtime: FunctionRuntime | None = None
        self.esm: EventSourceMapping | None = None
        self.interception: Interception | None = None

    # --- what the runner reads ------------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        """Kafka bootstrap servers."""
        return self._stack().kafka.bootstrap_servers

    @property
    def topic(self) -> str:
        """The source topic."""
        return self.spec.topic.name

    @property
    def bucket(self) -> str:
        """The archive bucket."""
        return self.spec.firehose.bucket

    @property
    def stream_name(self) -> str:
        """The Firehose delivery stream."""
        return self.spec.firehose.stream_name

    def s3_client(self) -> Any:
        """A boto3 S3 client on the stack's S3 endpoint."""
        return self._stack().s3.s3_client()

    def _stack(self) -> Stack:
        if self.stack is None:
            raise BackendError("the pipeline is not running")
        return self.stack

    def firehose_hooks(self) -> EmulatorHooks:
        """Test hooks on the in-process Firehose emulator (faults, delivery log, metrics)."""
        firehose = self._stack().firehose
        if firehose is None:
            raise BackendError("the pipeline runs without the Firehose emulator")
        return firehose.hooks

    # --- lifecycle ------------------------------------------------------------------------------------
    def _start(self) -> None:
        if self._own_work_dir:
            self.work_dir = Path(tempfile.mkdtemp(prefix=f"msk-harness-{self.scenario.name}-"))
            self._reaper = Reaper(self.work_dir, remove_dir=True)  # removes it even after a kill -9
        choice = self.backends
        self.stack = Stack(
            StackConfig(
                brokers=self.spec.brokers,
                kafka=choice.kafka,  # type: ignore[arg-type]  # checked by choose_backends
                s3=choice.s3,  # type: ignore[arg-type]
                bootstrap_servers=choice.bootstrap_servers,
                s3_endpoint_url=choice.s3_endpoint_url,
                region=choice.region,
                firehose_seed=self._id_seed,
            ),
            clock=self.clock,
        ).start()
        self._create_resources()
        self.interception = self._make_interception().start()
        self.runtime = self._make_runtime().start()
        if self._reaper is not None and self.runtime.sandbox_dir is not None:
            self._reaper.own(self.runtime.sandbox_dir)  # the code copy and /tmp dirs go even after a kill -9
        # Refused AWS calls are noted beside the environments' logs (the function's own error names them too).
        self.interception.notice_path = self.runtime.log_dir / f"{self.runtime.config.name}-aws-front.log"
        self.esm = EventSourceMapping(
            self._esm_config(),
            self.runtime,
            bootstrap_servers=self.bootstrap_servers,
            clock=self.clock,
            rng=random.Random(self._rng.getrandbits(64)),
            region=choice.region,
            destination_endpoint_url=self._stack().s3.endpoint_url,
        ).start()

    def _create_resources(self) -> None:
        stack = self._stack()
        with stack.kafka.admin() as admin:
            try:
                admin.create_topic(
                    self.spec.topic.name,
                    partitions=self.spec.topic.partitions,
                    replication_factor=self.spec.topic.replication,
                )
            except TopicExistsError:
                if not self.live:
                    raise
            destination = self.spec.event_source.on_failure_destination
            if destination is not None and destination.startswith("kafka://"):
                admin.create_topic(destination.removeprefix("kafka://"), partitions=1)
        stack.s3.create_bucket(self.bucket)
        if not self.live:
            self._require_empty(self.bucket)
        if destination is not None:
            self._create_destination(destination)
        firehose = stack.firehose
        assert firehose is not None  # the stack always runs the emulator here
        firehose.client().create_delivery_stream(
            DeliveryStreamName=self.stream_name,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration=firehose_destination(self.spec),
        )
        firehose.wait_until_active(self.stream_name)

    def _create_destination(self, destination: str) -> None:
        stack = self._stack()
        name = destination.rsplit(":", maxsplit=1)[-1]
        if destination.startswith("arn:aws:s3:::"):
            stack.s3.create_bucket(name)
            self._require_empty(name)
        elif destination.startswith("arn:aws:sqs:"):
            sqs = stack.s3.client("sqs")
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            if self.backends.s3 == "embedded":
                sqs.purge_queue(QueueUrl=url)
        elif destination.startswith("arn:aws:sns:"):
            stack.s3.client("sns").create_topic(Name=name)

    def _require_empty(self, bucket: str) -> None:
        # moto's state is per process: the last MotoServer to stop clears it, but another one still running in
        # this process (a user's own fixture) shares it, so the embedded bucket is emptied; anywhere else a
        # non-empty bucket would spoil the verification, so it is an error.
        s3 = self._stack().s3.s3_client()
        keys = [
            {"Key": entry["Key"]}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for entry in page.get("Contents", [])
        ]
        if not keys:
            return
        if self.backends.s3 != "embedded":
            raise PipelineConfigError(
                f"bucket {bucket!r} is not empty ({len(keys)}+ objects): the run verifies everything in it"
            )
        for start in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[start : start + 1000]})

    def _make_interception(self) -> Interception:
        stack = self._stack()
        moto = stack.s3.endpoint_url if self.backends.s3 == "embedded" else None
        return Interception(
            AwsEndpoints(self.spec.function.aws_endpoints),
            routes_from_env(stack.env(), moto_url=moto),
            rng=random.Random(self._rng.getrandbits(64)),
            now=SystemClock().now,  # TLS clients check certificate validity against the real wall clock
        )

    def _make_runtime(self) -> FunctionRuntime:
        fn = self.spec.function
        region = self.backends.region
        assert self.interception is not None
        extra = self.interception.function_env(
            runtime=fn.runtime,
            code_dir=self.code_dir,
            stack_env={
                k: v for k, v in self._stack().env().items() if k not in RESERVED_KEYS or k in CREDENTIAL_KEYS
            },
            function_variables=fn.environment,
        )
        config = FunctionConfig(
            name=fn.name,
            runtime=fn.runtime,
            handler=fn.handler,
            code_dir=self.code_dir,
            timeout_seconds=fn.timeout_seconds,
            memory_mb=fn.memory_mb,
            environment=dict(fn.environment),
            region=region,
            layers=self.layers,
            ephemeral_storage_mb=fn.ephemeral_storage_mb,
        )
        return FunctionRuntime(
            config,
            clock=self.clock,
            rng=random.Random(self._rng.getrandbits(64)),
            log_dir=self._function_log_dir or self.work_dir / "logs",
            extra_env=extra,
            max_environments=self._max_environments,
            options=RuntimeOptions(
                init_timeout_seconds=DEFAULT_INIT_LIMIT_SECONDS * max(1.0, self.speed), clock_speed=self.speed
            ),
        )

    def _esm_config(self) -> EsmConfig:
        return EsmConfig.from_aws(
            esm_parameters(self.spec, self.spec.function.name, self.backends.region, self.bootstrap_servers),
            function_timeout_s=self.spec.function.timeout_seconds,
        )

    def _stop(self) -> None:
        # Reverse data-flow order; keep going when one part fails to stop, report the first error.
        first: Exception | None = None
        for part in (self.esm, self.runtime, self.interception, self.stack):
            if part is None:
                continue
            try:
                part.stop()
            except Exception as exc:  # noqa: BLE001 - stop every part; the first error is raised after
                first = first or exc
        self.esm = self.runtime = self.stack = None
        self.interception = None
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        if self._reaper is not None:
            self._reaper.release()
            self._reaper = None
        if first is not None:
            raise first
