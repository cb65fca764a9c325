"""Scenario files: model (`model`), YAML positions (`source`), semantic checks (`build`), schema (`loader`).

Example::

    from harness.scenario import load_scenario
    scenario = load_scenario("scenarios/smoke.yaml")
"""

from harness.scenario.loader import (
    SCHEMA_PATH,
    BrokerFault,
    ClockSpec,
    CountRange,
    EventSourceSpec,
    Expectations,
    Fault,
    FirehoseFault,
    FirehoseSpec,
    FunctionFault,
    FunctionSpec,
    LoadSpec,
    PipelineSpec,
    RecordMatch,
    S3Fault,
    Scenario,
    ScenarioError,
    TopicSpec,
    check_scenario,
    load_scenario,
    scenario_schema,
    validate_text,
)

__all__ = [
    "SCHEMA_PATH",
    "BrokerFault",
    "ClockSpec",
    "CountRange",
    "EventSourceSpec",
    "Expectations",
    "Fault",
    "FirehoseFault",
    "FirehoseSpec",
    "FunctionFault",
    "FunctionSpec",
    "LoadSpec",
    "PipelineSpec",
    "RecordMatch",
    "S3Fault",
    "Scenario",
    "ScenarioError",
    "TopicSpec",
    "check_scenario",
    "load_scenario",
    "scenario_schema",
    "validate_text",
]
