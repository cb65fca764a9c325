"""Turn schema-valid scenario data into the model, checking what a JSON Schema cannot express.

Every problem carries the line of the offending key or value, taken from the YAML node tree.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.load import PayloadSpec, RateProfile, SizeDistribution
from harness.resources import REFERENCE_ARCHIVER_DIR
from harness.scenario.model import (
    BackendSpec,
    BackendsSpec,
    BrokerFault,
    ClockSpec,
    CountRange,
    EventSourceSpec,
    Expectations,
    Fault,
    FaultAction,
    FirehoseFault,
    FirehoseSpec,
    FunctionFault,
    FunctionSpec,
    LoadSpec,
    PipelineSpec,
    RecordMatch,
    ReplaySpec,
    S3Fault,
    Scenario,
    TopicSpec,
    VerifySpec,
)
from harness.scenario.source import PathItem, Problem, YamlDocument

_PROFILE_FIELDS = {
    "constant": {"rate"},
    "ramp": {"start_rate", "end_rate", "ramp_seconds"},
    "step": {"steps"},
    "burst": {"base_rate", "burst_rate", "burst_every", "burst_seconds", "first_burst_at"},
}
_SIZE_FIELDS = {
    "fixed": {"bytes"},
    "uniform": {"min", "max"},
    "normal": {"mean", "stddev", "min", "max"},
    "lognormal": {"mean", "stddev", "min", "max"},
}
_ERROR_CONTROLS = (
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "FunctionResponseTypes",
    "DestinationConfig",
)
_KAFKA_MAX_TIMEOUT = 840
# AWS takes ConsumerGroupId nested in the source's own config block, and each block only for its source.
_KAFKA_SOURCE_CONFIGS = {
    "AmazonManagedKafkaEventSourceConfig": "msk",
    "SelfManagedKafkaEventSourceConfig": "self_managed",
}
_EXPRESSION = re.compile(r"!\{")


def _frozen(value: Any) -> Any:
    """Deep read-only copy of YAML data (mappings become MappingProxyType, lists tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


class ScenarioBuilder:
    """Builds a `Scenario` from validated data, collecting semantic problems with their lines."""

    def __init__(self, doc: YamlDocument, path: Path) -> None:
        self.doc = doc
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, path: Sequence[PathItem], message: str, *, key: bool = False) -> None:
        """Record a problem at the node `path` names."""
        where = ".".join(str(p) for p in path)
        self.problems.append(Problem(self.doc.line_of(path, key=key), f"{where}: {message}"))

    def build(self) -> Scenario | None:
        """The model, or None when problems were found."""
        data: Mapping[str, Any] = self.doc.data
        seed = int(data.get("seed", 0))
        pipeline = self._pipeline(data["pipeline"])
        load = self._load(data["load"], seed)
        expect = self._expect(data.get("expect", {}), pipeline)
        clock = self._clock(data.get("clock", {}))
        replay = self._replay(data.get("replay"), pipeline)
        verify = self._verify(data.get("verify", {}))
        if load is None:
            return None
        faults = tuple(
            self._fault(i, f, pipeline, load, expect) for i, f in enumerate(data.get("faults", []))
        )
        if self.problems:
            return None
        return Scenario(
            name=data["name"],
            path=self.path,
            pipeline=pipeline,
            load=load,
            description=data.get("description", ""),
            seed=seed,
            deterministic_ids=data.get("ids", "unique") == "deterministic",
            clock=clock,
            faults=faults,
            expect=expect,
            replay=replay,
            verify=verify,
            keep_archive=Path(data["keep_archive"]) if "keep_archive" in data else None,
        )

    # --- pipeline -------------------------------------------------------------------------------------------
    def _pipeline(self, raw: Mapping[str, Any]) -> PipelineSpec:
        brokers = raw.get("brokers", 1)
        topic_raw = raw["topic"]
        topic = TopicSpec(topic_raw["name"], topic_raw.get("partitions", 3), topic_raw.get("replication", 1))
        if topic.replication > brokers:
            self.problem(
                ["pipeline", "topic", "replication"],
                f"{topic.replication} is more than the {brokers} broker(s)",
            )
        esm_raw = dict(raw.get("event_source", {}))
        source = esm_raw.pop("source", "msk")
        esm = EventSourceSpec(source, _frozen(esm_raw))
        self._check_esm(esm, topic)
        function = self._function(raw.get("function", {}))
        fh_raw = dict(raw.get("firehose", {}))
        firehose = FirehoseSpec(
            fh_raw.pop("stream_name", "archive"), fh_raw.pop("bucket", "archive"), _frozen(fh_raw)
        )
        self._check_firehose(firehose)
        backends = self._backends(raw.get("backends", {}))
        return PipelineSpec(topic, brokers, esm, function, firehose, backends)

    def _check_esm(self, esm: EventSourceSpec, topic: TopicSpec) -> None:
        at = ["pipeline", "event_source"]
        settings = esm.settings
        if not esm.provisioned:
            self._check_on_demand(esm)
        age = settings.get("MaximumRecordAgeInSeconds", -1)
        if 0 <= age < 60:
            self.problem([*at, "MaximumRecordAgeInSeconds"], f"{age} is not allowed: use -1 or 60..604800")
        if settings.get("StartingPosition") == "AT_TIMESTAMP" and "StartingPositionTimestamp" not in settings:
            self.problem([*at, "StartingPosition"], "AT_TIMESTAMP needs StartingPositionTimestamp")
        pollers = settings.get("ProvisionedPollerConfig") or {}
        if pollers.get("MinimumPollers", 1) > pollers.get("MaximumPollers", 200):
            self.problem([*at, "ProvisionedPollerConfig"], "MinimumPollers is greater than MaximumPollers")
        for nested, wanted in _KAFKA_SOURCE_CONFIGS.items():
            if nested in settings and esm.source != wanted:
                self.problem([*at, nested], f"needs source: {wanted} (AWS takes it only there)", key=True)
        destination = esm.on_failure_destination or ""
        if destination == f"kafka://{topic.name}":
            self.problem(
                [*at, "DestinationConfig", "OnFailure", "Destination"], "must not be the source topic"
            )

    def _check_on_demand(self, esm: EventSourceSpec) -> None:
        """Settings AWS takes only in provisioned mode."""
        at = ["pipeline", "event_source"]
        for name in _ERROR_CONTROLS:
            if name in esm.settings:
                self.problem([*at, name], "needs provisioned mode (set ProvisionedPollerConfig)", key=True)
        if esm.settings.get("MaximumBatchingWindowInSeconds") == 0:
            self.problem([*at, "MaximumBatchingWindowInSeconds"], "0 needs provisioned mode")

    def _function(self, raw: Mapping[str, Any]) -> FunctionSpec:
        timeout = raw.get("timeout", 3)
        if timeout > _KAFKA_MAX_TIMEOUT:
            self.problem(["pipeline", "function", "timeout"], f"{timeout} s: Kafka ESMs allow at most 840 s")
        return FunctionSpec(
            name=raw.get("name", "archiver"),
            runtime=raw.get("runtime", "python3.12"),
            code_dir=Path(raw["code_dir"]) if "code_dir" in raw else REFERENCE_ARCHIVER_DIR,
            handler=raw.get("handler", "handler.lambda_handler"),
            environment=MappingProxyType(dict(raw.get("env", {}))),
            timeout_seconds=timeout,
            memory_mb=raw.get("memory", 128),
            aws_endpoints=raw.get("aws_endpoints", "both"),
            layers=self._layers(raw.get("layers", [])),
            ephemeral_storage_mb=raw.get("ephemeral_storage", 512),
        )

    def _layers(self, raw: Sequence[str]) -> tuple[Path, ...]:
        for index, entry in enumerate(raw):
            at: list[PathItem] = ["pipeline", "function", "layers", index]
            if raw.index(entry) != index:
                self.problem(at, f"layer {entry} is listed twice")
            if Path(entry).suffix not in ("", ".zip"):
                self.problem(at, f"{entry}: a layer is a directory or a .zip file")
        return tuple(Path(entry) for entry in raw)

    def _check_firehose(self, firehose: FirehoseSpec) -> None:
        at = ["pipeline", "firehose"]
        prefix = str(firehose.settings.get("Prefix", ""))
        error_prefix = str(firehose.settings.get("ErrorOutputPrefix", ""))
        if _EXPRESSION.search(prefix) and not error_prefix:
            self.problem(
                [*at, "Prefix"], "ErrorOutputPrefix cannot be empty when Prefix contains expressions"
            )
        if "!{firehose:error-output-type}" in prefix:
            self.problem(
                [*at, "Prefix"], "!{firehose:error-output-type} is only allowed in ErrorOutputPrefix"
            )
        if _EXPRESSION.search(error_prefix) and "!{firehose:error-output-type}" not in error_prefix:
            self.problem(
                [*at, "ErrorOutputPrefix"], "an expression here needs !{firehose:error-output-type} too"
            )

    def _backends(self, raw: Mapping[str, Any]) -> BackendsSpec:
        built: dict[str, BackendSpec] = {}
        for part, needs in (("kafka", "bootstrap_servers"), ("s3", "endpoint"), ("firehose", "endpoint")):
            spec = raw.get(part, {})
            kind = spec.get("kind", "embedded")
            at = ["pipeline", "backends", part]
            if kind == "external" and needs not in spec:
                self.problem([*at, "kind"], f"external needs {needs}")
            if kind != "external" and needs in spec:
                self.problem([*at, needs], f"only used with kind: external (kind is {kind})", key=True)
            built[part] = BackendSpec(
                kind=kind,
                endpoint=spec.get("endpoint"),
                bootstrap_servers=tuple(spec.get("bootstrap_servers", ())),
                region=spec.get("region", "us-east-1"),
            )
        return BackendsSpec(**built)

    # --- load -----------------------------------------------------------------------------------------------
    def _load(self, raw: Mapping[str, Any], seed: int) -> LoadSpec | None:
        duration = raw.get("duration")
        records = raw.get("records")
        profile = self._profile(raw["profile"], duration, records)
        payload = self._payload(raw.get("payload", {}), raw.get("keys", {}), raw.get("headers", {}))
        if profile is None or payload is None:
            return None
        load = LoadSpec(profile, payload, int(raw.get("seed", seed)), duration, records)
        if duration is None and load.send_seconds == float("inf"):
            self.problem(["load", "records"], f"the profile never reaches {records} records")
            return None
        return load

    def _profile(
        self, raw: Mapping[str, Any], duration: float | None, records: int | None
    ) -> RateProfile | None:
        at = ["load", "profile"]
        kind = raw["kind"]
        for name in sorted(set(raw) - _PROFILE_FIELDS[kind] - {"kind"}):
            self.problem([*at, name], f"does not apply to a {kind} profile", key=True)
        try:
            if kind == "constant":
                return RateProfile.constant(raw["rate"])
            if kind == "ramp":
                if raw["start_rate"] == raw["end_rate"]:
                    self.problem([*at, "end_rate"], "equals start_rate: use a constant profile")
                    return None
                ramp_seconds = raw.get("ramp_seconds", duration)
                if ramp_seconds is None:
                    self.problem([*at, "kind"], "a ramp limited by records only needs ramp_seconds")
                    return None
                return RateProfile.ramp(raw["start_rate"], raw["end_rate"], ramp_seconds)
            if kind == "step":
                return self._steps(raw["steps"])
            if raw["burst_seconds"] >= raw["burst_every"]:
                self.problem([*at, "burst_seconds"], "must be shorter than burst_every")
                return None
            return RateProfile.burst(
                raw["base_rate"],
                raw["burst_rate"],
                raw["burst_every"],
                raw["burst_seconds"],
                raw.get("first_burst_at", 0.0),
            )
        except ValueError as exc:
            self.problem([*at, "kind"], str(exc))
            return None

    def _steps(self, steps: Sequence[Mapping[str, float]]) -> RateProfile | None:
        at = ["load", "profile", "steps"]
        if steps[0]["at"] != 0:
            self.problem([*at, 0, "at"], "the first step must be at 0")
            return None
        for i in range(1, len(steps)):
            if steps[i]["at"] <= steps[i - 1]["at"]:
                self.problem([*at, i, "at"], f"must be later than the previous step ({steps[i - 1]['at']})")
                return None
        if not any(s["rate"] > 0 for s in steps):
            self.problem(at, "every step has rate 0: nothing would be sent")
            return None
        return RateProfile.step([(s["at"], s["rate"]) for s in steps])

    def _payload(
        self, raw: Mapping[str, Any], keys: Mapping[str, Any], headers: Mapping[str, Any]
    ) -> PayloadSpec | None:
        at = ["load", "payload"]
        shares = [raw.get(name) for name in ("json", "binary", "tombstone")]
        given = [s for s in shares if s is not None]
        if given and abs(sum(given) - 1.0) > 1e-9:
            self.problem(at, f"json + binary + tombstone shares add up to {sum(given):g}, not 1")
            return None
        json_share, binary_share, tombstone_share = (s or 0.0 for s in shares) if given else (1.0, 0.0, 0.0)
        size = self._size(raw.get("size", {"distribution": "fixed", "bytes": 200}))
        if size is None:
            return None
        return PayloadSpec(
            json_share=json_share,
            binary_share=binary_share,
            tombstone_share=tombstone_share,
            size=size,
            key_cardinality=keys.get("cardinality", 100),
            key_prefix=keys.get("prefix", "key-"),
            null_key_share=keys.get("null_share", 0.0),
            header_count=headers.get("count", 0),
            non_ascii_headers=headers.get("non_ascii", False),
            duplicate_header_names=headers.get("duplicate_names", False),
        )

    def _size(self, raw: Mapping[str, Any]) -> SizeDistribution | None:
        at = ["load", "payload", "size"]
        kind = raw["distribution"]
        for name in sorted(set(raw) - _SIZE_FIELDS[kind] - {"distribution"}):
            self.problem([*at, name], f"does not apply to a {kind} distribution", key=True)
        low, high = raw.get("min", 1), raw.get("max", 1_048_576)
        if low > high:
            self.problem([*at, "max"], f"{high} is smaller than min {low}")
            return None
        return SizeDistribution(
            distribution=kind,
            size=raw.get("bytes", 200),
            minimum=low,
            maximum=high,
            mean=raw.get("mean", 200.0),
            stddev=raw.get("stddev", 0.0),
        )

    # --- clock and expectations -----------------------------------------------------------------------------
    def _clock(self, raw: Mapping[str, Any]) -> ClockSpec:
        start: datetime | None = None
        text = raw.get("start")
        if text is not None:
            try:
                start = datetime.fromisoformat(str(text))
            except ValueError:
                self.problem(
                    ["clock", "start"], f"{text!r} is not an ISO 8601 instant (e.g. 2026-12-31T23:59:50Z)"
                )
            else:
                if start.tzinfo is None:
                    self.problem(["clock", "start"], f"{text!r} has no UTC offset (add Z or +00:00)")
                    start = None
        return ClockSpec(start, float(raw.get("speed", 1.0)))

    def _expect(self, raw: Mapping[str, Any], pipeline: PipelineSpec) -> Expectations:
        at = ["expect"]
        pattern = raw.get("key_pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                self.problem([*at, "key_pattern"], f"not a valid regex: {exc}")
        latency = dict(raw.get("latency_seconds", {}))
        ordered = [(n, latency[n]) for n in ("p50", "p90", "p99", "max") if n in latency]
        for (low_name, low), (high_name, high) in itertools.pairwise(ordered):
            if high < low:
                self.problem([*at, "latency_seconds", high_name], f"{high} is less than {low_name} ({low})")
        failure = raw.get("on_failure_destination")
        if failure is not None and pipeline.event_source.on_failure_destination is None:
            self.problem(
                [*at, "on_failure_destination"],
                "no on-failure destination is configured (pipeline.event_source.DestinationConfig)",
                key=True,
            )
        failure = failure or {}
        objects = raw.get("objects", {})
        return Expectations(
            no_loss=raw.get("no_loss", True),
            max_duplicates_percent=raw.get("max_duplicates_percent", 0.0),
            order_per_partition=raw.get("order_per_partition", False),
            latency_percentiles=MappingProxyType(latency),
            object_count=self._range(objects.get("count"), [*at, "objects", "count"]),
            object_size_bytes=self._range(objects.get("size_bytes"), [*at, "objects", "size_bytes"]),
            key_pattern=pattern,
            error_prefix_empty=raw.get("error_prefix_empty"),
            on_failure_records=self._range(
                failure.get("records"), [*at, "on_failure_destination", "records"]
            ),
            on_failure_keys=tuple(failure.get("keys", ())),
            settle_seconds=raw.get("settle_seconds", 600.0),
            rate_held=raw.get("rate_held"),
        )

    def _range(self, raw: Mapping[str, float] | None, path: list[PathItem]) -> CountRange | None:
        if raw is None:
            return None
        low, high = raw.get("min"), raw.get("max")
        if low is not None and high is not None and low > high:
            self.problem([*path, "max"], f"{high} is smaller than min {low}")
        return CountRange(low, high)

    def _verify(self, raw: Mapping[str, Any]) -> VerifySpec:
        from harness.verify.scenario import verify_problems  # noqa: PLC0415 - verify sits above the model

        spec = VerifySpec(raw.get("archive_format", "auto"), raw.get("identity"))
        for field_name, message in verify_problems(spec, self.path.parent):
            self.problem(["verify", field_name], message)
        return spec

    # --- replay ---------------------------------------------------------------------------------------------
    def _replay(self, raw: Mapping[str, Any] | None, pipeline: PipelineSpec) -> ReplaySpec | None:
        if raw is None:
            return None
        at: list[PathItem] = ["replay"]
        where = raw.get("where")
        if where is not None:
            from harness.replay.selection import SelectionError, compile_where  # noqa: PLC0415

            try:
                compile_where(where)
            except SelectionError as exc:
                self.problem([*at, "where"], str(exc).removeprefix("--where "))
        for i, partition in enumerate(raw.get("partitions", ())):
            if partition >= pipeline.topic.partitions:
                self.problem(
                    [*at, "partitions", i],
                    f"{partition} but the topic has {pipeline.topic.partitions} partitions",
                )
        since, until = raw.get("since_seconds"), raw.get("until_seconds")
        if since is not None and until is not None and until <= since:
            self.problem([*at, "until_seconds"], f"{until:g} must be greater than since_seconds ({since:g})")
        to_topic = raw.get("to_topic", f"{pipeline.topic.name}-replay")
        expect = raw.get("expect", {})
        return ReplaySpec(
            topics=tuple(raw.get("topics", ())),
            partitions=tuple(raw.get("partitions", ())),
            keys=tuple(raw.get("keys", ())),
            where=where,
            since_seconds=since,
            until_seconds=until,
            to_topic=to_topic,
            preserve_partition=raw.get("preserve_partition", True),
            selected=self._range(expect.get("selected"), [*at, "expect", "selected"]),
            duplicates_removed=self._range(
                expect.get("duplicates_removed"), [*at, "expect", "duplicates_removed"]
            ),
        )

    # --- faults ---------------------------------------------------------------------------------------------
    def _fault(
        self, index: int, raw: Mapping[str, Any], pipeline: PipelineSpec, load: LoadSpec, expect: Expectations
    ) -> Fault:
        at: list[PathItem] = ["faults", index]
        end = load.send_seconds + expect.settle_seconds
        start = raw.get("at")
        if start is not None and start >= end:
            self.problem(
                [*at, "at"],
                f"{start:g} s is after the run ends ({load.send_seconds:g} s of load + "
                f"{expect.settle_seconds:g} s settle = {end:g} s)",
            )
        after = raw.get("after_records")
        if after is not None and after >= load.expected_records:
            self.problem(
                [*at, "after_records"], f"{after} but the load sends only {load.expected_records} records"
            )
        until = raw.get("until")
        if until is not None:
            if start is not None and until <= start:
                self.problem([*at, "until"], f"{until:g} s must be later than at ({start:g} s)")
            if until > end:
                self.problem([*at, "until"], f"{until:g} s is after the run ends ({end:g} s)")
        action = self._fault_action(at, raw, pipeline, load)
        return Fault(action, start, after, until, self.doc.line_of(at))

    def _fault_action(
        self, at: list[PathItem], raw: Mapping[str, Any], pipeline: PipelineSpec, load: LoadSpec
    ) -> FaultAction:
        if "broker" in raw:
            spec = raw["broker"]
            if "until" in raw:
                self.problem(
                    [*at, "until"], "broker faults have no window: use a later resume/restart", key=True
                )
            if pipeline.backends.kafka.kind == "external":
                self.problem([*at, "broker"], "cannot stop brokers of an external Kafka", key=True)
            if spec.get("broker", 0) >= pipeline.brokers:
                self.problem(
                    [*at, "broker", "broker"],
                    f"index {spec['broker']} but there are {pipeline.brokers} broker(s)",
                )
            if "down_seconds" in spec and spec["action"] not in ("restart", "rolling_restart"):
                self.problem([*at, "broker", "down_seconds"], f"does not apply to {spec['action']}", key=True)
            return BrokerFault(spec["action"], spec.get("broker", 0), float(spec.get("down_seconds", 0.0)))
        if "function" in raw:
            spec = raw["function"]
            match = self._match([*at, "function", "match"], spec.get("match"), pipeline, load)
            return FunctionFault(
                spec["action"], match, spec.get("times"), spec.get("message", "injected failure")
            )
        if "firehose" in raw:
            spec = raw["firehose"]
            self._latency_field([*at, "firehose"], spec)
            return FirehoseFault(
                spec["action"], float(spec.get("share", 1.0)), float(spec.get("latency_seconds", 0.0))
            )
        spec = raw["s3"]
        self._latency_field([*at, "s3"], spec)
        return S3Fault(spec["action"], float(spec.get("latency_seconds", 0.0)))

    def _latency_field(self, at: list[PathItem], spec: Mapping[str, Any]) -> None:
        if spec["action"] == "latency" and "latency_seconds" not in spec:
            self.problem([*at, "action"], "latency needs latency_seconds")
        if spec["action"] != "latency" and "latency_seconds" in spec:
            self.problem([*at, "latency_seconds"], f"does not apply to {spec['action']}", key=True)

    def _match(
        self, at: list[PathItem], raw: Mapping[str, Any] | None, pipeline: PipelineSpec, load: LoadSpec
    ) -> RecordMatch | None:
        if raw is None:
            return None
        keys = load.payload.key_names()
        if "key" in raw and keys is not None and raw["key"] not in keys:
            self.problem(
                [*at, "key"],
                f"the load never produces key {raw['key']!r} (keys are {load.payload.key_prefix}0.."
                f"{load.payload.key_prefix}{load.payload.key_cardinality - 1})",
            )
        if "partition" in raw and raw["partition"] >= pipeline.topic.partitions:
            self.problem(
                [*at, "partition"],
                f"{raw['partition']} but the topic has {pipeline.topic.partitions} partitions",
            )
        if "partition" in raw and "offset" not in raw:
            self.problem([*at, "partition"], "only used together with offset", key=True)
        if ("json_field" in raw) != ("equals" in raw):
            self.problem(at, "json_field and equals go together")
        if "value_regex" in raw:
            try:
                re.compile(raw["value_regex"])
            except re.error as exc:
                self.problem([*at, "value_regex"], f"not a valid regex: {exc}")
        if "seq" in raw and raw["seq"] >= load.expected_records:
            self.problem(
                [*at, "seq"], f"{raw['seq']} but the load sends only {load.expected_records} records"
            )
        return RecordMatch(
            key=raw.get("key"),
            partition=raw.get("partition", 0 if "offset" in raw else None),
            offset=raw.get("offset"),
            value_regex=raw.get("value_regex"),
            json_field=raw.get("json_field"),
            equals=_frozen(raw.get("equals")),
            has_equals="equals" in raw,
            seq=raw.get("seq"),
        )


def build_scenario(doc: YamlDocument, path: Path) -> tuple[Scenario | None, list[Problem]]:
    """Build the model from schema-valid data; (None, problems) when semantic checks fail."""
    builder = ScenarioBuilder(doc, path)
    scenario = builder.build()
    return scenario, builder.problems
