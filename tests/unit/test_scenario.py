"""Scenario files: the schema accepts every shipped scenario and each kind of mistake names its file:line."""

from __future__ import annotations

import io
import json
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.resources import REFERENCE_ARCHIVER_DIR
from harness.scenario import (
    SCHEMA_PATH,
    BrokerFault,
    FunctionFault,
    ScenarioError,
    check_scenario,
    load_scenario,
    scenario_schema,
    validate_text,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([ROOT / "scenarios" / "smoke.yaml", *(ROOT / "scenarios").glob("*/*.yaml")])

BASE = """\
name: t
pipeline:
  topic:
    name: orders
    partitions: 3
  event_source:
    StartingPosition: TRIM_HORIZON
    BatchSize: 100
load:
  profile:
    kind: constant
    rate: 100
  duration: 10
"""


def problems_of(text: str) -> list[tuple[int, str]]:
    scenario, problems = validate_text(textwrap.dedent(text), "s.yaml")
    assert scenario is None, "expected the scenario to be rejected"
    return [(p.line, p.message) for p in problems]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_schema_is_valid_draft_2020_12_and_closed() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, node.get("description")
                assert node.get("description")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_scenario_is_valid(path: Path) -> None:
    jsonschema.Draft202012Validator(scenario_schema()).validate(yaml.safe_load(path.read_text()))
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert check_scenario(path) == 0


def test_shipped_scenarios_cover_the_issue_list() -> None:
    names = {p.stem for p in SHIPPED}
    assert names >= {
        "smoke",
        "steady-5k",
        "bursts",
        "rolling-restart",
        "function-timeout",
        "poison-pill-no-destination",
        "poison-pill-s3-destination",
        "firehose-throttling",
        "firehose-partial-failures",
        "s3-outage",
        "hour-rollover",
        "buffer-900s",
    }


def test_smoke_model_is_snake_case_with_aws_cased_settings() -> None:
    s = load_scenario(ROOT / "scenarios" / "smoke.yaml")
    assert s.pipeline.brokers == 1
    assert (s.pipeline.topic.name, s.pipeline.topic.partitions) == ("orders", 3)
    assert s.pipeline.event_source.source == "msk"
    assert s.pipeline.event_source.settings["BatchSize"] == 500
    assert s.pipeline.firehose.settings["CompressionFormat"] == "GZIP"
    assert s.pipeline.firehose.settings["Prefix"] == (
        "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    )
    assert s.pipeline.function.code_dir == REFERENCE_ARCHIVER_DIR
    assert s.pipeline.backends.kafka.kind == "embedded"
    assert s.load.records == 3000
    assert s.load.expected_records == 3000
    assert s.expect.no_loss
    assert s.expect.order_per_partition
    with pytest.raises(TypeError):
        s.pipeline.event_source.settings["BatchSize"] = 1  # type: ignore[index]


def test_hour_rollover_clock_is_aware_and_fast() -> None:
    s = load_scenario(ROOT / "scenarios" / "failure" / "hour-rollover.yaml")
    assert s.clock.start == datetime(2026, 12, 31, 23, 59, 0, tzinfo=UTC)
    assert s.clock.speed == 10


def test_faults_are_typed() -> None:
    s = load_scenario(ROOT / "scenarios" / "failure" / "poison-pill-s3-destination.yaml")
    (fault,) = s.faults
    assert isinstance(fault.action, FunctionFault)
    assert fault.action.match is not None
    assert (fault.action.match.partition, fault.action.match.offset) == (1, 42)
    assert fault.target == "function"
    assert s.pipeline.event_source.on_failure_destination == "arn:aws:s3:::failed-records"
    restart = load_scenario(ROOT / "scenarios" / "failure" / "rolling-restart.yaml").faults[0]
    assert restart.action == BrokerFault("rolling_restart", 0, 2.0)
    assert restart.at_seconds == 3


def test_unknown_key_names_its_line_and_suggests() -> None:
    text = BASE.replace("    BatchSize: 100\n", "    BatchSize: 100\n    BatchSiz: 5\n")
    assert problems_of(text) == [
        (9, "pipeline.event_source.BatchSiz: unknown key 'BatchSiz' (did you mean 'BatchSize'?)")
    ]


def test_unknown_top_level_key() -> None:
    assert problems_of(BASE + "expectations:\n  no_loss: true\n") == [
        (14, "expectations: unknown key 'expectations' (did you mean 'expect'?)")
    ]


def test_wrong_type() -> None:
    text = BASE.replace("    partitions: 3", "    partitions: three")
    assert problems_of(text) == [(5, "pipeline.topic.partitions: 'three' is not of type 'integer'")]


def test_out_of_range_batch_size() -> None:
    text = BASE.replace("BatchSize: 100", "BatchSize: 20000")
    assert problems_of(text) == [
        (8, "pipeline.event_source.BatchSize: 20000 is greater than the maximum of 10000")
    ]


def test_several_errors_are_reported_together_sorted_by_line(tmp_path: Path) -> None:
    text = BASE.replace("BatchSize: 100", "BatchSize: 0").replace("name: t", "name: t\nseed: x")
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).splitlines() == [
        f"{path}:2: seed: 'x' is not of type 'integer'",
        f"{path}:9: pipeline.event_source.BatchSize: 0 is less than the minimum of 1",
    ]
    assert [p.line for p in caught.value.problems] == [2, 9]


def test_bad_yaml_indentation_is_a_line_numbered_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\npipeline:\n  topic:\n    name: a\n   partitions: 3\n")
    err = io.StringIO()
    assert check_scenario(path, stderr=err) == 2
    (line,) = err.getvalue().splitlines()
    assert line.startswith(f"{path}:5: YAML syntax error: expected <block end>")
    assert line.endswith("check the indentation")


def test_bad_iso_time() -> None:
    assert problems_of(BASE + "clock:\n  start: 2026-13-01T00:00:00Z\n") == [
        (15, "clock.start: '2026-13-01T00:00:00Z' is not an ISO 8601 instant (e.g. 2026-12-31T23:59:50Z)")
    ]


def test_naive_time_is_rejected() -> None:
    assert problems_of(BASE + "clock:\n  start: '2026-12-31T23:59:50'\n") == [
        (15, "clock.start: '2026-12-31T23:59:50' has no UTC offset (add Z or +00:00)")
    ]


def test_fault_after_the_end() -> None:
    text = BASE + "faults:\n  - at: 700\n    broker: {action: stop}\nexpect:\n  settle_seconds: 60\n"
    assert problems_of(text) == [
        (15, "faults.0.at: 700 s is after the run ends (10 s of load + 60 s settle = 70 s)")
    ]


def test_fault_window_must_end_after_it_starts_and_after_records_within_load() -> None:
    text = BASE + (
        "faults:\n"
        "  - at: 5\n    until: 3\n    s3: {action: outage}\n"
        "  - after_records: 5000\n    firehose: {action: throttling}\n"
    )
    assert problems_of(text) == [
        (16, "faults.0.until: 3 s must be later than at (5 s)"),
        (18, "faults.1.after_records: 5000 but the load sends only 1000 records"),
    ]


def test_fault_needs_exactly_one_target_and_one_trigger() -> None:
    text = BASE + "faults:\n  - at: 1\n  - at: 1\n    after_records: 3\n    s3: {action: outage}\n"
    assert problems_of(text) == [
        (15, "faults.0: a fault needs exactly one of broker, function, firehose, s3"),
        (16, "faults.1: give either at or after_records, not both"),
    ]


def test_poison_pill_on_a_key_the_load_never_produces() -> None:
    text = BASE + (
        "  keys: {cardinality: 10, prefix: order-}\n"
        "faults:\n  - at: 0\n    function:\n      action: error\n      match: {key: order-10}\n"
    )
    assert problems_of(text) == [
        (
            19,
            "faults.0.function.match.key: the load never produces key 'order-10' (keys are order-0..order-9)",
        )
    ]


def test_poison_pill_key_is_fine_when_keys_are_unique_per_record() -> None:
    text = (
        BASE
        + "  keys: {cardinality: 0}\nfaults:\n  - at: 0\n    function: {action: crash, match: {key: zz}}\n"
    )
    scenario, problems = validate_text(text)
    assert problems == []
    assert scenario is not None


def test_expected_destination_must_be_configured() -> None:
    text = BASE + "expect:\n  on_failure_destination:\n    records: {min: 1}\n"
    assert problems_of(text) == [
        (
            15,
            "expect.on_failure_destination: no on-failure destination is configured "
            "(pipeline.event_source.DestinationConfig)",
        ),
    ]


def test_error_controls_need_provisioned_mode() -> None:
    text = BASE.replace("BatchSize: 100", "BatchSize: 100\n    BisectBatchOnFunctionError: true")
    assert problems_of(text) == [
        (
            9,
            "pipeline.event_source.BisectBatchOnFunctionError: "
            "needs provisioned mode (set ProvisionedPollerConfig)",
        )
    ]


def test_ramp_needs_different_rates_and_fields_of_its_kind() -> None:
    text = BASE.replace(
        "    kind: constant\n    rate: 100", "    kind: ramp\n    start_rate: 5\n    end_rate: 5\n    rate: 1"
    )
    assert problems_of(text) == [
        (13, "load.profile.end_rate: equals start_rate: use a constant profile"),
        (14, "load.profile.rate: does not apply to a ramp profile"),
    ]


def test_missing_required_key_points_at_the_parent() -> None:
    text = BASE.replace("  topic:\n    name: orders\n", "  topic:\n")
    assert problems_of(text) == [(4, "pipeline.topic: missing required key 'name'")]


def test_duplicate_key_is_reported() -> None:
    text = BASE.replace("    BatchSize: 100\n", "    BatchSize: 100\n    BatchSize: 200\n")
    assert problems_of(text) == [(9, "duplicate key 'BatchSize' (first at line 8)")]


def test_prefix_with_expressions_needs_error_output_prefix() -> None:
    text = BASE.replace("load:\n", "  firehose:\n    Prefix: 'data/!{timestamp:yyyy}/'\nload:\n")
    assert problems_of(text) == [
        (10, "pipeline.firehose.Prefix: ErrorOutputPrefix cannot be empty when Prefix contains expressions")
    ]


def test_replication_above_broker_count() -> None:
    text = BASE.replace("    partitions: 3", "    partitions: 3\n    replication: 3")
    assert problems_of(text) == [(6, "pipeline.topic.replication: 3 is more than the 1 broker(s)")]


def test_check_scenario_exit_codes(tmp_path: Path) -> None:
    good = write(tmp_path, BASE)
    err = io.StringIO()
    assert check_scenario(good, stderr=err) == 0
    assert err.getvalue() == ""
    assert check_scenario(tmp_path / "missing.yaml", stderr=err) == 2
    assert err.getvalue().startswith(f"{tmp_path / 'missing.yaml'}:1: cannot read the file")


def test_top_level_must_be_a_mapping() -> None:
    assert problems_of("- a\n- b\n") == [
        (1, "a scenario must be a YAML mapping (name:, pipeline:, load:, ...)")
    ]


def test_the_annotated_example_in_the_docs_is_valid_and_complete() -> None:
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert block is not None
    scenario, problems = validate_text(block.group(1), "docs/scenarios.md")
    assert problems == []
    assert scenario is not None
    data = yaml.safe_load(block.group(1))
    assert set(data) == set(scenario_schema()["properties"])
    assert {f.target for f in scenario.faults} == {"broker", "function", "firehose", "s3"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  topic:\n",
            "  function:\n    timeout: 900\n  topic:\n",
            (4, "pipeline.function.timeout: 900 s: Kafka ESMs allow at most 840 s"),
        ),
        (
            "    BatchSize: 100\n",
            "    BatchSize: 100\n    ProvisionedPollerConfig: {MinimumPollers: 5, MaximumPollers: 2}\n",
            (
                9,
                "pipeline.event_source.ProvisionedPollerConfig: "
                "MinimumPollers is greater than MaximumPollers",
            ),
        ),
        (
            "    BatchSize: 100\n",
            "    BatchSize: 100\n    ProvisionedPollerConfig: {MinimumPollers: 1}\n"
            "    DestinationConfig: {OnFailure: {Destination: 'kafka://orders'}}\n",
            (
                10,
                "pipeline.event_source.DestinationConfig.OnFailure.Destination: must not be the source topic",
            ),
        ),
        (
            "load:\n",
            "  firehose:\n    Prefix: data/\n    ErrorOutputPrefix: 'err/!{timestamp:yyyy}/'\nload:\n",
            (
                11,
                "pipeline.firehose.ErrorOutputPrefix: "
                "an expression here needs !{firehose:error-output-type} too",
            ),
        ),
        (
            "load:\n",
            "  firehose:\n    Prefix: 'd/!{firehose:error-output-type}/'\n    ErrorOutputPrefix: e/\nload:\n",
            (
                10,
                "pipeline.firehose.Prefix: "
                "!{firehose:error-output-type} is only allowed in ErrorOutputPrefix",
            ),
        ),
        (
            "    BatchSize: 100\n",
            "    BatchSize: 100\n    MaximumBatchingWindowInSeconds: 301\n",
            (
                9,
                "pipeline.event_source.MaximumBatchingWindowInSeconds: "
                "301 is greater than the maximum of 300",
            ),
        ),
    ],
    ids=["timeout-840", "poller-range", "kafka-destination-is-source", "S2", "S3", "window-range"],
)
def test_pipeline_pre_checks(old: str, new: str, expected: tuple[int, str]) -> None:
    assert expected in problems_of(BASE.replace(old, new, 1))


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (
            "    layers: [layers/a, layers/b.tar.gz]\n",
            (4, "pipeline.function.layers.1: layers/b.tar.gz: a layer is a directory or a .zip file"),
        ),
        (
            "    layers: [layers/a, layers/a]\n",
            (4, "pipeline.function.layers.1: layer layers/a is listed twice"),
        ),
        (
            "    ephemeral_storage: 256\n",
            (4, "pipeline.function.ephemeral_storage: 256 is less than the minimum of 512"),
        ),
    ],
    ids=["not-a-zip", "twice", "tmp-too-small"],
)
def test_function_layers_and_ephemeral_storage_are_checked_with_their_line(
    function: str, expected: tuple[int, str]
) -> None:
    assert expected in problems_of(BASE.replace("  topic:\n", f"  function:\n{function}  topic:\n", 1))


def test_function_layers_and_ephemeral_storage_reach_the_model() -> None:
    text = BASE.replace(
        "  topic:\n", "  function:\n    layers: [a, b.zip]\n    ephemeral_storage: 1024\n  topic:\n"
    )
    scenario, problems = validate_text(textwrap.dedent(text), "s.yaml")
    assert problems == []
    assert scenario is not None
    assert scenario.pipeline.function.layers == (Path("a"), Path("b.zip"))
    assert scenario.pipeline.function.ephemeral_storage_mb == 1024


def test_consumer_group_id_is_accepted_nested_as_aws_takes_it() -> None:
    msk = BASE.replace(
        "    BatchSize: 100\n",
        "    BatchSize: 100\n    AmazonManagedKafkaEventSourceConfig: {ConsumerGroupId: g1}\n",
    )
    scenario, problems = validate_text(msk, "s.yaml")
    assert problems == []
    assert scenario is not None
    assert scenario.pipeline.event_source.settings["AmazonManagedKafkaEventSourceConfig"] == {
        "ConsumerGroupId": "g1"
    }
    self_managed = BASE.replace(
        "    StartingPosition", "    source: self_managed\n    StartingPosition"
    ).replace(
        "    BatchSize: 100\n",
        "    BatchSize: 100\n    SelfManagedKafkaEventSourceConfig: {ConsumerGroupId: g2}\n",
    )
    assert validate_text(self_managed, "s.yaml")[1] == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("    ConsumerGroupId: g1\n", "pipeline.event_source.ConsumerGroupId: unknown key 'ConsumerGroupId'"),
        (
            "    SelfManagedKafkaEventSourceConfig: {ConsumerGroupId: g1}\n",
            "pipeline.event_source.SelfManagedKafkaEventSourceConfig: needs source: self_managed "
            "(AWS takes it only there)",
        ),
        (
            "    AmazonManagedKafkaEventSourceConfig: {GroupId: g1}\n",
            "pipeline.event_source.AmazonManagedKafkaEventSourceConfig.GroupId: unknown key 'GroupId'",
        ),
    ],
)
def test_consumer_group_id_elsewhere_is_rejected_at_its_line(extra: str, expected: str) -> None:
    found = problems_of(BASE.replace("    BatchSize: 100\n", "    BatchSize: 100\n" + extra))
    assert len(found) == 1
    assert found[0][0] == 9
    assert found[0][1].startswith(expected)
