"""`msk-harness up SCENARIO`: the scenario's whole pipeline, kept running to develop against; and what `up`
shares with it: the environment as export lines, an env file or JSON, and S3 saved in a data directory.

Produce by hand (kafka-console-producer.sh, kcat, your app) to the printed bootstrap servers; invocations
and new S3 objects are printed as they happen, until Ctrl-C.

Example::

    msk-harness up scenarios/smoke.yaml --env-file .msk.env --data-dir .msk-data
    kafka-console-producer.sh --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" --topic orders
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.backends.s3_files import restore_buckets, save_buckets
from harness.clock import SystemClock
from harness.exits import ExitCode, interrupts_as_keyboard_interrupt

POLL_SECONDS = 0.5


def environment_text(env: Mapping[str, str], *, as_json: bool) -> str:
    """The environment as `export K=V` lines (for eval / `source`) or one JSON object."""
    if as_json:
        return json.dumps(dict(env), indent=2, sort_keys=True)
    return "\n".join(f"export {key}={shlex.quote(value)}" for key, value in env.items())


def publish_environment(env: Mapping[str, str], args: argparse.Namespace) -> None:
    """Print the environment and, with --env-file, write it there too (the file `run` reads back)."""
    text = environment_text(env, as_json=args.json)
    print(text, flush=True)
    if args.env_file:
        Path(args.env_file).write_text(environment_text(env, as_json=False) + "\n", encoding="utf-8")


def ready(line: str, args: argparse.Namespace) -> None:
    """The ready line: on stdout after export lines (scripts wait for it), on stderr when stdout is JSON."""
    print(line, file=sys.stderr if args.json else sys.stdout, flush=True)


def restore_data(s3: Any, data_dir: str | None, err: Console) -> None:
    """Upload what an earlier `up --data-dir` saved (no-op without --data-dir)."""
    if data_dir:
        count = restore_buckets(s3, Path(data_dir))
        err.print(f"restored {count} S3 objects from {data_dir}", highlight=False)


def save_data(s3: Any, data_dir: str | None, err: Console) -> None:
    """Save every bucket to --data-dir before the embedded S3 goes away (no-op without it)."""
    if data_dir:
        count = save_buckets(s3, Path(data_dir))
        err.print(f"saved {count} S3 objects to {data_dir}", highlight=False)


def live_pipeline_command(args: argparse.Namespace) -> int:
    """Start the scenario's pipeline without load; print invocations and objects until Ctrl-C."""
    from harness.run.pipeline import Pipeline, PipelineConfigError  # noqa: PLC0415 - loads the pipeline
    from harness.scenario import ScenarioError, load_scenario  # noqa: PLC0415

    err = Console(stderr=True, soft_wrap=True)
    try:
        scenario = load_scenario(args.scenario)
        pipeline = Pipeline(scenario, clock=SystemClock(), live=True)
    except (ScenarioError, PipelineConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return ExitCode.BAD_INPUT
    with interrupts_as_keyboard_interrupt():
        try:
            with err.status(f"starting the {scenario.name} pipeline..."):
                pipeline.start()
            stack = pipeline.stack
            assert stack is not None
            restore_data(pipeline.s3_client(), args.data_dir, err)
            env = {**stack.env(), "MSK_HARNESS_TOPIC": pipeline.topic, "MSK_HARNESS_BUCKET": pipeline.bucket}
            publish_environment(env, args)
            ready(
                f"# msk-harness pipeline {scenario.name} is up: produce to topic {pipeline.topic!r} at "
                f"{pipeline.bootstrap_servers}; objects land in s3://{pipeline.bucket}/. Ctrl-C stops it.",
                args,
            )
            _watch(pipeline, err)
            return ExitCode.OK
        except KeyboardInterrupt as exc:
            err.print(f"{exc or 'interrupted'}: stopping the pipeline", highlight=False)
            return ExitCode.OK
        finally:
            if pipeline.stack is not None:
                save_data(pipeline.s3_client(), args.data_dir, err)
            pipeline.stop()


def _watch(pipeline: Any, err: Console) -> None:
    # Until a signal raises KeyboardInterrupt: print each new invocation and each new object once.
    seen_invocations = 0
    seen_keys: set[str] = set(pipeline.stack.s3.list_keys(pipeline.bucket))
    stop = threading.Event()
    while not stop.wait(POLL_SECONDS):
        invocations = pipeline.runtime.invocations()
        for record in invocations[seen_invocations:]:
            error = f" {record.error_type}" if record.error_type else ""
            print(
                f"invocation {record.request_id}: {record.outcome}{error} in {record.duration_ms:.0f} ms",
                flush=True,
            )
        seen_invocations = len(invocations)
        for key in pipeline.stack.s3.list_keys(pipeline.bucket):
            if key not in seen_keys:
                seen_keys.add(key)
                print(f"object s3://{pipeline.bucket}/{key}", flush=True)
