"""--grid parsing and variants: aliases, dotted paths, the run validation on every value, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.sizing.grid import GridError, build_variants, parse_axis, parse_grid, scenario_rate

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "sizing" / "archive-sweep.yaml"


def test_aliases_map_to_the_aws_settings() -> None:
    assert parse_axis("buffer_mb=1,5").path == ("pipeline", "firehose", "BufferingHints", "SizeInMBs")
    assert parse_axis("batch_window_s=0").path == (
        "pipeline",
        "event_source",
        "MaximumBatchingWindowInSeconds",
    )
    assert parse_axis("memory_mb=512").path == ("pipeline", "function", "memory")


def test_values_are_yaml_scalars_and_dotted_paths_work() -> None:
    axis = parse_axis("pipeline.topic.partitions=3, 6")
    assert axis.path == ("pipeline", "topic", "partitions")
    assert axis.values == (3, 6)
    assert parse_axis("compression=GZIP,UNCOMPRESSED").values == ("GZIP", "UNCOMPRESSED")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("buffer_mb", "expected KEY=V1,V2"),
        ("=1", "expected KEY=V1,V2"),
        ("buffersize=1", "unknown key 'buffersize'"),
        ("buffer_mb=1,,5", "empty value"),
        ("buffer_mb=1,1", "listed twice"),
    ],
)
def test_malformed_axes_name_the_argument(spec: str, message: str) -> None:
    with pytest.raises(GridError, match=message) as info:
        parse_axis(spec)
    assert str(info.value).startswith(f"--grid {spec}:")


def test_the_same_setting_twice_is_an_error() -> None:
    with pytest.raises(GridError, match="sets the same setting as --grid buffer_mb"):
        parse_grid(["buffer_mb=1", "pipeline.firehose.BufferingHints.SizeInMBs=5"])


def test_too_many_variants_is_an_error() -> None:
    values = ",".join(str(v) for v in range(1, 18))
    with pytest.raises(GridError, match="289 variants"):
        parse_grid([f"batch_size={values}", f"interval_s={values}"])


def test_variants_are_the_product_with_overrides_applied() -> None:
    variants = build_variants(SCENARIO, parse_grid(["batch_size=100,1000", "interval_s=60,300"]), speed=30)
    assert [v.name for v in variants] == [
        "batch_size=100 interval_s=60",
        "batch_size=100 interval_s=300",
        "batch_size=1000 interval_s=60",
        "batch_size=1000 interval_s=300",
    ]
    last = variants[3].scenario
    assert last.pipeline.event_source.settings["BatchSize"] == 1000
    assert last.pipeline.firehose.settings["BufferingHints"]["IntervalInSeconds"] == 300
    assert last.pipeline.firehose.settings["BufferingHints"]["SizeInMBs"] == 5  # untouched sibling kept
    assert last.clock.speed == 30
    assert last.path == SCENARIO  # relative code_dir still resolves as for `run`


def test_an_empty_grid_is_the_scenario_itself() -> None:
    [variant] = build_variants(SCENARIO, ())
    assert variant.name == "base"
    assert variant.scenario.clock.speed == 60


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "buffer_mb=5,200",
            "--grid buffer_mb=200: pipeline.firehose.BufferingHints.SizeInMBs: 200 is greater",
        ),
        (
            "interval_s=901",
            "--grid interval_s=901: pipeline.firehose.BufferingHints.IntervalInSeconds: 901 is greater",
        ),
        ("batch_size=0", "--grid batch_size=0: pipeline.event_source.BatchSize"),
        ("compression=BROTLI", "--grid compression=BROTLI: pipeline.firehose.CompressionFormat"),
        ("pipeline.topic.name.x=1", "--grid pipeline.topic.name.x=1: pipeline.topic.name is not a mapping"),
    ],
)
def test_values_the_run_validation_rejects_name_the_grid_value(spec: str, message: str) -> None:
    with pytest.raises(GridError) as info:
        build_variants(SCENARIO, parse_grid([spec]))
    assert str(info.value).startswith(message)


def test_speed_goes_through_the_same_validation() -> None:
    with pytest.raises(GridError, match=r"--speed -1: clock\.speed"):
        build_variants(SCENARIO, (), speed=-1)


def test_scenario_rate_is_the_mean_send_rate() -> None:
    [variant] = build_variants(SCENARIO, ())
    assert scenario_rate(variant.scenario) == pytest.approx(20.0)
