"""End-to-end records/s of 1 KiB JSON through the whole pipeline vs a raw consumer -> gzip -> S3 baseline.

Run: ``python benchmarks/bench_pipeline.py [--records 100000] [--repeats 3] [--batch-size 2000]``.

One `Pipeline` (embedded Kafka, moto S3, Firehose emulator, the production archiver in real function
processes) is started with its own mapping disabled, and the topic is filled once. Then, alternating:

* pipeline round: a fresh ESM (new consumer group) on the same function runtime delivers every record to the
  archiver, which PutRecordBatches to Firehose, which gzips objects into S3. Time = ESM start until every
  record is committed and Firehose holds nothing (the last partial buffer is flushed: the benchmark measures
  throughput, not the buffer interval);
* baseline round: a raw librdkafka consumer (confluent-kafka, new group) gzips (level 1) the values as lines
  into 5 MiB objects and PUTs them to the same moto S3 (the least work an archiver can do).

One discarded pipeline round (``--warmup``) runs first: it pays the function environments' cold starts,
which are a one-time cost of the stack, not throughput. Each round also records the harness process's CPU
per record (`time.process_time`: ESM, Firehose emulator, moto and the baseline consumer all run in it).

Where the time goes: per round, the summed invocation time and the share of wall time a function was busy;
for a profile of every thread and the function processes run it under
``py-spy record --subprocesses --format raw -o prof.raw -- python benchmarks/bench_pipeline.py``.
Also measures the wall time of scenarios/failure/buffer-900s.yaml (target <= 10 s). Medians; JSON to
benchmarks/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer

from harness.clock import SystemClock
from harness.esm.mapping import EventSourceMapping
from harness.esm.settings import EsmConfig
from harness.run.pipeline import Pipeline, esm_parameters
from harness.run.session import RunOptions, run_scenario
from harness.scenario import load_scenario, validate_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "pipeline.json"
PARTITIONS = 6
VALUE_BYTES = 1024
OBJECT_BYTES = 5 * 1024 * 1024

SCENARIO = """
name: bench-pipeline
seed: 1
pipeline:
  topic: {{name: bench, partitions: {partitions}}}
  event_source:
    StartingPosition: TRIM_HORIZON
    BatchSize: {batch_size}
    MaximumBatchingWindowInSeconds: 1
    Enabled: false
  function: {{timeout: 120, memory: 1024, env: {{DELIVERY_STREAM_NAME: archive}}}}
  firehose:
    BufferingHints: {{SizeInMBs: 5, IntervalInSeconds: 60}}
    CompressionFormat: GZIP
    Prefix: "data/!{{timestamp:yyyy}}/!{{timestamp:MM}}/!{{timestamp:dd}}/!{{timestamp:HH}}/"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 1}}
  records: 1
"""


def json_value(i: int, rng: random.Random) -> bytes:
    """A JSON document of exactly VALUE_BYTES bytes."""
    head = json.dumps({"i": i, "status": "paid", "pad": ""}, separators=(",", ":"))
    pad = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=VALUE_BYTES - len(head)))
    return json.dumps({"i": i, "status": "paid", "pad": pad}, separators=(",", ":")).encode()


def fill(servers: str, topic: str, records: int) -> None:
    """Write `records` 1 KiB JSON records, spread over the partitions."""
    producer = Producer({"bootstrap.servers": servers, "acks": 1, "linger.ms": 20})
    rng = random.Random(1)
    for i in range(records):
        while True:
            try:
                producer.produce(topic, json_value(i, rng), key=b"k%d" % (i % 97), partition=i % PARTITIONS)
                break
            except BufferError:  # librdkafka's queue is full
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(300) > 0:
        raise RuntimeError("fill: records still unacknowledged after 300 s")


def _cpu_us_per_record(cpu_before: float, records: int) -> float:
    return (time.process_time() - cpu_before) / records * 1e6


def baseline(pipeline: Pipeline, records: int, group: str, bucket: str) -> dict[str, float]:
    """Raw librdkafka consumer: value lines, gzip level 1, 5 MiB objects PUT to S3; commit after each PUT."""
    consumer = Consumer(
        {
            "bootstrap.servers": pipeline.bootstrap_servers,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([pipeline.topic])
    s3 = pipeline.s3_client()
    started, cpu = time.perf_counter(), time.process_time()
    seen, buffered, chunk, objects = 0, 0, [], 0
    while seen < records:
        for message in consumer.consume(10_000, 0.5):
            if message.error() is not None:
                continue
            value = message.value() or b""
            chunk.append(value)
            buffered += len(value) + 1
            seen += 1
        if chunk and (buffered >= OBJECT_BYTES or seen >= records):
            body = gzip.compress(b"\n".join(chunk) + b"\n", compresslevel=1)
            s3.put_object(Bucket=bucket, Key=f"{group}/{objects:06d}.gz", Body=body)
            consumer.commit(asynchronous=False)
            chunk, buffered, objects = [], 0, objects + 1
        if time.perf_counter() - started > 900:
            raise RuntimeError(f"baseline saw only {seen} of {records} records")
    elapsed = time.perf_counter() - started
    harness_cpu = _cpu_us_per_record(cpu, records)
    consumer.close()
    return {
        "seconds": elapsed,
        "records_per_second": records / elapsed,
        "objects": objects,
        "harness_process_cpu_us_per_record": harness_cpu,
    }


def pipeline_round(pipeline: Pipeline, records: int, group: str, seed: int) -> dict[str, float]:
    """A fresh ESM (new group) through the archiver and Firehose; time until committed and delivered."""
    assert pipeline.runtime is not None
    hooks = pipeline.firehose_hooks()
    assert hooks.service.stream(pipeline.stream_name).delivery is not None
    params = esm_parameters(
        pipeline.spec, pipeline.spec.function.name, "us-east-1", pipeline.bootstrap_servers
    )
    params.update(Enabled=True, AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": group})
    before_archived = sum(o.record_count for o in hooks.attempts(pipeline.stream_name))
    esm = EventSourceMapping(
        EsmConfig.from_aws(params, function_timeout_s=pipeline.spec.function.timeout_seconds),
        pipeline.runtime,
        bootstrap_servers=pipeline.bootstrap_servers,
        clock=SystemClock(),
        rng=random.Random(seed),
    )
    started, cpu = time.perf_counter(), time.process_time()
    esm.start()
    try:
        while sum(esm.committed_offsets().values()) < records:
            if time.perf_counter() - started > 900:
                raise RuntimeError(f"pipeline committed only {esm.committed_offsets()} of {records}")
            time.sleep(0.02)
        hooks.flush(pipeline.stream_name)
        elapsed = time.perf_counter() - started
        harness_cpu = _cpu_us_per_record(cpu, records)
    finally:
        esm.stop()
    archived = sum(o.record_count for o in hooks.attempts(pipeline.stream_name)) - before_archived
    attempts = esm.invocations()
    return {
        "seconds": elapsed,
        "records_per_second": records / elapsed,
        "archived": archived,
        "invocations": len(attempts),
        "function_seconds_summed": sum(a.duration_ms for a in attempts) / 1000,
        "function_busy_share_of_wall": sum(a.duration_ms for a in attempts) / 1000 / elapsed,
        "harness_process_cpu_us_per_record": harness_cpu,
        "firehose_put_latency_ms_last": hooks.metrics(pipeline.stream_name).get(
            "PutRecordBatch.Latency", 0.0
        ),
    }


def buffer_900s_wall() -> dict[str, Any]:
    """Wall time of the 900-second-buffer scenario through the runner."""
    result = run_scenario(load_scenario(ROOT / "scenarios/failure/buffer-900s.yaml"), RunOptions(cwd=ROOT))
    return {
        "wall_seconds": result.wall_seconds,
        "passed": result.passed,
        "clock_seconds": result.clock_seconds,
    }


def main() -> None:
    """Run the comparison and the buffer-900s timing; print and write the JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=1, help="discarded pipeline rounds before measuring")
    args = parser.parse_args()
    text = SCENARIO.format(partitions=PARTITIONS, batch_size=args.batch_size)
    scenario, problems = validate_text(text, ROOT / "benchmarks" / "bench-pipeline.yaml")
    assert scenario is not None, problems
    pipeline_rounds: list[dict[str, float]] = []
    baseline_rounds: list[dict[str, float]] = []
    with Pipeline(scenario, clock=SystemClock(), cwd=ROOT, max_environments=10) as pipeline:
        pipeline.stack.s3.create_bucket("baseline")  # type: ignore[union-attr]
        began = time.perf_counter()
        fill(pipeline.bootstrap_servers, pipeline.topic, args.records)
        fill_seconds = time.perf_counter() - began
        warmup_rounds = [
            pipeline_round(pipeline, args.records, f"warmup-{i}", 1000 + i) for i in range(args.warmup)
        ]
        for i in range(args.repeats):
            baseline_rounds.append(baseline(pipeline, args.records, f"baseline-{i}", "baseline"))
            pipeline_rounds.append(pipeline_round(pipeline, args.records, f"pipeline-{i}", i))
            print(
                f"round {i}: pipeline {pipeline_rounds[-1]['records_per_second']:,.0f} rec/s, "
                f"baseline {baseline_rounds[-1]['records_per_second']:,.0f} rec/s",
                flush=True,
            )
    pipe = statistics.median(r["records_per_second"] for r in pipeline_rounds)
    base = statistics.median(r["records_per_second"] for r in baseline_rounds)
    buffer = buffer_900s_wall()
    result = {
        "records": args.records,
        "value_bytes": VALUE_BYTES,
        "partitions": PARTITIONS,
        "batch_size": args.batch_size,
        "fill_seconds": fill_seconds,
        "pipeline_records_per_second_median": pipe,
        "baseline_records_per_second_median": base,
        "ratio_pipeline_to_baseline": pipe / base,
        "pipeline_rounds": pipeline_rounds,
        "warmup_rounds": warmup_rounds,
        "baseline_rounds": baseline_rounds,
        "buffer_900s": buffer,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if not k.endswith("rounds")}, indent=2))


if __name__ == "__main__":
    main()
